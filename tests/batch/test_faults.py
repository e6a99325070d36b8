"""Faults: runs killed at any moment, runs at the same moment, a full or unwritable outputs
folder, a machine with no network, a data file changed under us; each in a real process on
the real bundle where it matters, and each leaving no result a later command takes as finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO, RUN_FILES, prepared

from sim.batch import preflight
from sim.cli.app import main
from sim.data import datasets
from sim.errors import OutputError, ScenarioError
from sim.outputs.folders import RunFolder, remove_stale_partials
from sim.scenario.files import load_scenario
from sim.scenario.variants import override

MTA = "transit/MTA_Subway_Entrances_and_Exits_2024.csv"
SMALL = """name = "{name}"
replications = 2
seed = 7
[site]
id = "washington_sq_park"
[crowd]
protesters = 200
[cameras]
visibility = "radius"
"""


def _scenario(folder: Path, name: str = "faulty") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(SMALL.format(name=name))
    return path


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PROTEST_SIM_DATA": str(data_dir), "PROTEST_SIM_OFFLINE": "1", **extra}
    return env


def _cli(args: list[str], env: dict[str, str], prefix: tuple[str, ...] = (), **kw):
    data = ["--data-dir", env["PROTEST_SIM_DATA"]]  # named: a found data folder is said
    return subprocess.Popen(
        [*prefix, sys.executable, str(REPO / "run_sim.py"), *data, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _finished(folder: Path) -> list[Path]:
    """The result folders a later command would read (not hidden)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _kill_when(proc: subprocess.Popen, ready, timeout_s: float = 120.0) -> None:
    """SIGKILL ``proc`` as soon as ``ready(proc)`` holds; fail if it ends first."""
    t0 = time.monotonic()
    while not ready(proc):
        assert proc.poll() is None, ("ended before the moment", proc.communicate())
        assert time.monotonic() - t0 < timeout_s
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def _partials(folder: Path, pid: int | None = None) -> list[Path]:
    found = sorted(folder.glob(".partial-*")) if folder.is_dir() else []
    return [p for p in found if pid is None or p.name.endswith(f"-{pid}")]


def _inside_partial(folder: Path, name: str):
    """Whether the process's own partial folder in ``folder`` holds ``name``."""
    return lambda proc: any((p / name).exists() for p in _partials(folder, proc.pid))


# ------------------------------------------------------------------------------ kill tests


@pytest.mark.realdata
def test_a_run_killed_at_any_moment_leaves_nothing_read_as_finished(data_dir, tmp_path):
    scenario, out = _scenario(tmp_path), tmp_path / "out"
    runs = out / "faulty"
    env = _env(data_dir)
    args = ["--outputs", str(out), "-q", "run", str(scenario), "--no-progress", "--no-report"]
    first = _cli(args, env)
    assert first.wait() == 0, first.communicate()
    (earlier,) = _finished(runs)
    before = _digest(earlier)
    moments = {
        "while loading": lambda proc: time.sleep(1.0) is None,
        "as the folder is made": lambda proc: bool(_partials(runs, proc.pid)),
        "after the tables": _inside_partial(runs, "agents.csv"),
        "after the manifest, before the figures": _inside_partial(runs, "manifest.json"),
    }
    for moment, ready in moments.items():
        proc = _cli(args, env)
        _kill_when(proc, ready)
        assert _finished(runs) == [earlier], moment
        assert _digest(earlier) == before, moment
        # only the killed process's own partial folder is there: the next run removed the one
        # before it, its process being gone
        assert _partials(runs) == ([] if moment == "while loading" else _partials(runs, proc.pid))
    again = _cli(args, env)
    assert again.wait() == 0, again.communicate()
    assert _partials(runs) == []
    finished = _finished(runs)
    assert len(finished) == 2 and earlier in finished
    (new,) = [f for f in finished if f != earlier]
    assert RUN_FILES <= {p.name for p in new.iterdir()}
    assert _digest(earlier) == before
    assert (new / "agents.csv").read_bytes() == (earlier / "agents.csv").read_bytes()


@pytest.mark.realdata
def test_a_comparison_killed_while_writing_leaves_no_comparison(data_dir, tmp_path):
    a, b = _scenario(tmp_path, "base_a"), _scenario(tmp_path, "other_b")
    out = tmp_path / "out"
    env = _env(data_dir)
    args = ["--outputs", str(out), "-q", "compare", str(a), str(b)]
    _kill_when(_cli(args, env), _inside_partial(out / "compare", "comparison.json"))
    assert _finished(out / "compare") == []
    # the runs it finished before the kill are whole and reused by the next comparison
    runs = _finished(out / "base_a") + _finished(out / "other_b")
    assert len(runs) == 2 and all(RUN_FILES <= {p.name for p in r.iterdir()} for r in runs)
    again = _cli(args, env)
    assert again.wait() == 0, again.communicate()
    (comparison,) = _finished(out / "compare")
    assert {"comparison.json", "comparison.csv"} <= {p.name for p in comparison.iterdir()}
    assert _partials(out / "compare") == []
    assert _finished(out / "base_a") + _finished(out / "other_b") == runs  # reused, not rerun


@pytest.mark.realdata
def test_two_runs_started_together_both_finish_into_their_own_folders(data_dir, tmp_path):
    scenario, out = _scenario(tmp_path), tmp_path / "out"
    args = ["--outputs", str(out), "-q", "run", str(scenario), "--no-progress", "--no-report"]
    procs = [_cli(args, _env(data_dir)) for _ in range(2)]
    for proc in procs:
        assert proc.wait() == 0, proc.communicate()
    runs = _finished(out / "faulty")
    assert len(runs) == 2
    assert all(RUN_FILES <= {p.name for p in r.iterdir()} for r in runs)
    first, second = (pd.read_csv(r / "agents.csv") for r in runs)
    pd.testing.assert_frame_equal(first, second)
    assert _partials(out / "faulty") == []


# ------------------------------------------------------------------- run folders, in-process


def test_a_name_taken_between_the_check_and_the_rename_gets_the_next_suffix(tmp_path, monkeypatch):
    for taken in ("20260101T000000Z-seed1", "20260101T000000Z-seed1-2"):
        (tmp_path / taken).mkdir()
        (tmp_path / taken / "manifest.json").write_text("{}")
    # as if another process took both names after this one looked: every check says free
    monkeypatch.setattr("sim.outputs.folders.os.path.lexists", lambda path: False)
    folder = RunFolder(tmp_path, "20260101T000000Z-seed1")
    with folder as tmp:
        (tmp / "manifest.json").write_text('{"mine": true}')
    assert folder.final == tmp_path / "20260101T000000Z-seed1-3"
    assert json.loads((folder.final / "manifest.json").read_text()) == {"mine": True}
    assert (tmp_path / "20260101T000000Z-seed1" / "manifest.json").read_text() == "{}"


def test_stale_partial_folders_are_removed_only_when_their_process_is_gone(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        dead_here = tmp_path / f".partial-20260101T000000Z-seed1-{gone.pid}"
        alive_here = tmp_path / f".partial-20260101T000000Z-seed1-{alive.pid}"
        dead_elsewhere = tmp_path / f".partial-20260101T000001Z-seed1-{gone.pid}"
        for folder in (dead_here, alive_here, dead_elsewhere):
            folder.mkdir()
            (folder / "agents.csv").write_text("half")
        (dead_elsewhere / ".owner.json").write_text('{"pid": 1, "host": "another-machine"}')
        assert remove_stale_partials(tmp_path) == [dead_here]
        assert alive_here.exists() and dead_elsewhere.exists()
    finally:
        alive.kill()
        alive.wait()
    assert remove_stale_partials(tmp_path) == [alive_here]  # a killed, reaped process


def test_a_failed_write_removes_the_partial_folder_and_the_folders_made_for_it(tmp_path):
    parent = tmp_path / "outputs" / "scenario"
    with pytest.raises(OutputError, match="No space left on device"):
        with RunFolder(parent, "20260101T000000Z-seed1"):
            raise OSError(28, "No space left on device", str(parent / "x" / "agents.csv"))
    assert list(tmp_path.iterdir()) == []


def test_a_run_id_is_a_plain_folder_name():
    for bad in ("../up", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            RunFolder(Path("outputs"), bad)


# ------------------------------------------------------------- full disk, unwritable folder


def _file_size_limit(limit_bytes: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


@pytest.mark.realdata
def test_a_disk_that_fills_while_writing_gives_one_line_and_leaves_nothing(source, tmp_path):
    scenario, out = _scenario(tmp_path), tmp_path / "out"
    prepared(load_scenario(scenario), source)  # the caches are warm: the run writes no entry
    # every table fits under 150 kB, the maps do not: the run fails part-way through its folder
    proc = _cli(
        ["--outputs", str(out), "run", str(scenario), "--no-progress"],
        _env(source.data_dir),
        preexec_fn=_file_size_limit(150_000),
    )
    stdout, stderr = proc.communicate()
    assert proc.returncode == 2, stderr
    assert stderr.splitlines() == [stderr.strip()], stderr
    assert stderr.startswith(f"error: {out / 'faulty'}: cannot write results (")
    assert "File too large" in stderr
    assert "nothing was kept" in stderr
    assert not out.exists()


# root writes anywhere; without its capabilities it obeys a folder's mode like anyone else
NO_CAPABILITIES = ("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all")


@pytest.mark.realdata
def test_an_unwritable_outputs_folder_is_refused_before_any_work(data_dir, tmp_path):
    prefix: tuple[str, ...] = ()
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no folder is unwritable")
        prefix = NO_CAPABILITIES
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        proc = _cli(
            ["--outputs", str(out), "run", str(_scenario(tmp_path)), "--no-progress"],
            _env(data_dir),
            prefix,
        )
        _, stderr = proc.communicate()
        assert proc.returncode == 2, stderr
        assert stderr.splitlines() == [
            f"error: {out}: outputs folder cannot be written (Permission denied in {out}); "
            "allowed: --outputs naming a writable folder"
        ]
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_an_outputs_folder_without_room_is_refused(tmp_path, monkeypatch):
    class Usage:
        free = 5_000_000

    monkeypatch.setattr("sim.batch.preflight.shutil.disk_usage", lambda path: Usage)
    with pytest.raises(OutputError, match=r"need about 10 MB, only 5 MB free"):
        preflight.check_outputs(tmp_path / "out", 10e6)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- workers and memory


def test_workers_are_capped_by_replications_cpus_and_memory(tmp_path):
    scenario = load_scenario(_scenario(tmp_path))  # 200 protesters, 2 replications
    assert preflight.workers_to_use(scenario, 10_000, cpus=64, memory_bytes=1e12) == 2
    assert preflight.workers_to_use(scenario, 8, cpus=1, memory_bytes=1e12) == 1
    big = override(scenario, {"crowd.protesters": 200_000})
    one = preflight.memory_needed_bytes(big, 1)
    two = preflight.memory_needed_bytes(big, 2)
    assert two - one == pytest.approx(200_000 * preflight.RUN_BYTES_PER_PROTESTER[True])
    assert preflight.workers_to_use(big, 2, cpus=2, memory_bytes=(one + two) / 2) == 1
    with pytest.raises(ScenarioError, match=r"'crowd.protesters': 200,000 protesters x 2"):
        preflight.workers_to_use(big, 1, cpus=2, memory_bytes=one - 1)


@pytest.mark.realdata
def test_the_memory_estimate_covers_a_measured_run(data_dir, tmp_path):
    path = tmp_path / "mem.toml"
    path.write_text(
        'name = "mem"\nreplications = 1\n[site]\nid = "washington_sq_park"\n'
        "[crowd]\nprotesters = 30000\n[walking]\ncrowding = false\n[outputs]\nfigures = false\n"
        '[cameras]\nvisibility = "radius"\n'
    )
    code = (
        "import resource, sys\nfrom sim.cli.app import main\ncode = main(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)\n"
        "sys.exit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--outputs", str(tmp_path / "o"), "-q", "run", str(path)],
        cwd=REPO,
        env=_env(data_dir),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    measured = float(proc.stderr.split()[-1])
    estimate = preflight.memory_needed_bytes(load_scenario(path), 1)
    assert measured <= estimate <= 3 * measured, (measured / 1e6, estimate / 1e6)


# ------------------------------------------------------------------------------- no network

SITECUSTOMIZE = """
import os, socket

def _blocked(*args, **kwargs):
    with open(os.environ["NET_MARKER"], "a") as marker:
        marker.write(repr(args[:2]) + "\\n")
    raise OSError("network blocked by the test")

socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
"""


@pytest.mark.realdata
@pytest.mark.parametrize("offline", ["1", ""], ids=["PROTEST_SIM_OFFLINE=1", "unset"])
def test_offline_with_a_file_missing_names_it_and_never_connects(data_dir, tmp_path, offline):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    marker = tmp_path / "connections.txt"
    root = tmp_path / "data"
    for rel in (
        "osm/manhattan_walk_2019-10-26.osm.bz2",
        "sites/protest_sites_nyc.csv",
        "cameras/banthescan_public_cameras.json",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(data_dir / rel)  # no MTA file
    env = _env(root, PYTHONPATH=str(hooks), NET_MARKER=str(marker), PROTEST_SIM_OFFLINE=offline)
    argv = ["--outputs", str(tmp_path / "out"), "route", "--from", "washington_sq_park"]
    proc = _cli([*argv, "--to", "union_sq_park"], env)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    (line,) = stderr.splitlines()
    assert line.startswith(f"error: 1 data file(s) missing: {root / MTA} (mta_entrances)")
    assert "--data-dir or PROTEST_SIM_DATA" in line and "go online" in line
    assert not (tmp_path / "out").exists()
    if offline:
        assert not marker.exists()  # not a single connection was attempted
    else:  # the check of this test: without the variable, the one probe is seen (and fails)
        assert "raw.githubusercontent.com" in marker.read_text()


def test_the_online_probe_gives_up_within_its_time_limit(monkeypatch):
    release = threading.Event()

    def hangs(*args, **kwargs):  # a name lookup that never answers
        release.wait(60)
        raise OSError("timed out")

    monkeypatch.delenv("PROTEST_SIM_OFFLINE", raising=False)
    monkeypatch.setattr(datasets.socket, "create_connection", hangs)
    datasets._probe.cache_clear()
    try:
        t0 = time.monotonic()
        assert datasets.is_online() is False
        assert time.monotonic() - t0 < datasets.PROBE_TIMEOUT_S + 2
    finally:
        release.set()
        datasets._probe.cache_clear()


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_protest_sim_offline_refuses_downloads(monkeypatch, value, tmp_path):
    monkeypatch.setenv("PROTEST_SIM_OFFLINE", value)
    assert datasets.is_online() is False
    source = datasets.load_manifest()["banthescan_public"]
    with pytest.raises(datasets.DataError, match="PROTEST_SIM_OFFLINE is set"):
        datasets.download(source, tmp_path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- data changed under us


def _linked(data_dir: Path, root: Path, skip: str) -> None:
    for path in data_dir.rglob("*"):
        rel = path.relative_to(data_dir)
        if path.is_file() and str(rel) != skip:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).symlink_to(path)


@pytest.mark.realdata
def test_a_truncated_mta_file_warns_on_every_run_and_the_manifest_records_it(
    data_dir, tmp_path, caplog, capsys, monkeypatch
):
    monkeypatch.setenv("PROTEST_SIM_OFFLINE", "1")
    root = tmp_path / "data"
    _linked(data_dir, root, MTA)
    lines = (data_dir / MTA).read_text().splitlines(keepends=True)
    (root / MTA).write_text("".join(lines[:1200]))  # cut at a row boundary: still valid CSV
    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    caplog.set_level(logging.WARNING)
    for _ in range(2):  # every run that uses the file says so
        caplog.clear()
        argv = [
            "--data-dir",
            str(root),
            "--outputs",
            str(out),
            "-q",
            "run",
            str(scenario),
            "--no-report",
        ]
        assert main([*argv, "--no-progress"]) == 0
        (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warning.startswith(f"{root / MTA}: SHA-256 ")
        assert "differs from data/sources.toml" in warning and "'mta_entrances'" in warning
    for run in _finished(out / "faulty"):
        files = json.loads((run / "manifest.json").read_text())["data_files"]
        by_source = {f["source"]: f["checksum_warning"] for f in files}
        assert by_source.pop("mta_entrances") == warning
        assert set(by_source.values()) == {""}  # the bundle's own files match


@pytest.mark.realdata
def test_data_lists_every_source_even_when_files_are_corrupt(data_dir, tmp_path, capsys):
    root = tmp_path / "data"
    _linked(data_dir, root, "")
    for rel, content in {
        MTA: b"\x00\x01binary",
        "cameras/banthescan_public_cameras.json": b"[[40.7, -73.9], [40.8",
        "cameras/linknyc_kiosk_locations_2025-04-26.csv": "caf\xe9\n".encode("latin-1"),
    }.items():
        (root / rel).unlink()
        (root / rel).write_bytes(content)
    (root / "sites/protest_sites_nyc.csv").unlink()
    (root / "sites/protest_sites_nyc.csv").mkdir()
    assert main(["--data-dir", str(root), "data"]) == 1  # required sources are unusable
    out, err = capsys.readouterr()
    lines = out.splitlines()
    rows = {line.split()[0]: line for line in lines[3:] if not line.startswith("error:")}
    assert set(rows) == set(datasets.load_manifest())
    assert lines[-1] == (
        "error: required source(s) unreadable: banthescan_public, mta_entrances, "
        "protest_sites (see above)"
    )
    assert "UNREADABLE" in rows["mta_entrances"] and "binary file" in rows["mta_entrances"]
    assert "not valid JSON" in rows["banthescan_public"]
    assert "not UTF-8" in rows["linknyc"]
    assert "is a folder" in rows["protest_sites"]
    assert "UNREADABLE" not in rows["osm_walk"] and "19807" in rows["amnesty_counts"]
    assert "Traceback" not in out + err
