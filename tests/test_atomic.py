"""Files written whole or not at all: the target is replaced only by a finished write."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sim.atomic import remove_stale_parts, replacing, temporary_beside, write_text_atomic


def test_a_failed_write_leaves_the_earlier_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("earlier results")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_finished_write_replaces_the_file_through_a_hidden_name_keeping_its_suffix(tmp_path):
    target = tmp_path / "layers.gpkg"
    with replacing(target) as tmp:
        assert tmp.name == ".layers.part.gpkg" and not target.exists()
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole" and not tmp.exists()
    write_text_atomic(target, "again")
    assert target.read_text() == "again"


def test_only_the_parts_of_writers_that_are_gone_are_removed(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f".entry.npz.{gone.pid}.part"
    alive = tmp_path / f".entry.npz.{os.getppid()}.part"
    mine = temporary_beside(tmp_path / "entry.npz", per_process=True)
    other = tmp_path / f".other.npz.{gone.pid}.part"
    for path in (dead, alive, mine, other):
        path.write_text("x")
    remove_stale_parts(tmp_path, ("entry.npz",))
    assert not dead.exists()
    assert alive.exists() and mine.exists() and other.exists()
