"""What compare says: matched draws announced and recorded, README units, labels kept apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.cli.app import main
from sim.cli.readout import run_labels
from sim.scenario.files import DEFAULT_SCENARIO


def test_labels_tell_apart_runs_that_share_a_name():
    names = ["a", "b", "a", "a"]
    paths = [Path("x/a.toml"), Path("b.toml"), Path("y/a.toml"), Path("x/a.toml")]
    labels = run_labels(names, paths)
    assert labels[1] == "b"
    assert labels[0] == "a (x/a.toml) #1" and labels[3] == "a (x/a.toml) #2"
    assert labels[2] == "a (y/a.toml)"
    assert len(set(labels)) == len(labels)


@pytest.mark.realdata
def test_compare_announces_and_records_matched_replications_in_readme_units(
    data_dir, tmp_path, capsys
):
    base = DEFAULT_SCENARIO.read_text().replace("protesters = 4000", "protesters = 200")
    base = base.replace("replications = 5", "replications = 2")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = tmp_path / "one" / "s.toml", tmp_path / "two" / "s.toml"
    first.write_text(base)
    # same name, its own replications and a different reach
    second.write_text(
        base.replace("replications = 2", "replications = 3")
        + "\n[cameras.classes.public_street]\nrange_m = 60.0\n"
    )
    out = tmp_path / "out"
    argv = ["--data-dir", str(data_dir), "--outputs", str(out), "--no-progress"]
    assert main([*argv, "compare", str(first), str(second)]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0] == (
        "compare: 2 runs, each with washington_square's seed 20200602 and 2 replications "
        "(matched draws, so differences are paired)"
    )
    assert "its file says seed 20200602 and 3 replications" in lines[1]
    assert str(second) in lines[1]
    # labels keep the two files apart
    assert "[A] washington_square (" in printed and "[B] washington_square (" in printed
    # README units, no raw column names or exponents
    assert "minutes in view while walking" in printed and "camera-minutes" in printed
    assert "seen_total_s" not in printed and not re.search(r"\de[+-]\d", printed)
    folder = next((out / "compare").iterdir())
    record = json.loads((folder / "comparison.json").read_text())
    assert record["replications"] == 2
    assert [m["replications_in_file"] for m in record["matching"]] == [2, 3]
    assert [m["changed"] for m in record["matching"]] == [False, True]
    assert len({s["name"] for s in record["scenarios"]}) == 2
    assert (folder / "comparison_distribution.png").stat().st_size > 20_000
    # the second scenario ran with the first's 2 replications, not its own 3
    run = next(
        p
        for p in (out / "washington_square").iterdir()
        if "60" in p.joinpath("scenario.toml").read_text()
    )
    assert json.loads((run / "summary.json").read_text())["replications"] == 2
