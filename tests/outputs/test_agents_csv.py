"""agents.parquet is the primary table; agents.csv is written by size (``"auto"``) or as asked."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest
from helpers import small_scenario

from sim.cli.app import main
from sim.errors import ScenarioError
from sim.outputs import run_files as report
from sim.scenario.files import DEFAULT_SCENARIO
from sim.scenario.validation import parse_scenario


def _small(tmp_path, csv):
    return small_scenario(
        DEFAULT_SCENARIO,
        tmp_path / "small.toml",
        protesters=200,
        replications=1,
        replace={
            "[outputs]\n": f"[outputs]\nagents_csv = {csv}\n",
            "figures = true": "figures = false",
        },
    )


@pytest.mark.realdata
@pytest.mark.parametrize(
    "csv,limit,written",
    [('"auto"', 199, False), ('"auto"', 200, True), ("true", 199, True), ("false", 10**6, False)],
)
def test_agents_csv_by_size_or_as_asked(data_dir, tmp_path, monkeypatch, csv, limit, written):
    monkeypatch.setattr(report, "AGENTS_CSV_MAX_ROWS", limit)
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "-q", "run"]
    assert main([*argv, str(_small(tmp_path, csv)), "--no-progress", "--no-report"]) == 0
    (folder,) = (tmp_path / "out" / "washington_square").iterdir()
    agents = pd.read_parquet(folder / "agents.parquet")
    assert len(agents) == 200
    assert (folder / "agents.csv").exists() == written
    if written:
        assert len(pd.read_csv(folder / "agents.csv")) == 200


@pytest.mark.parametrize("bad", ["sometimes", 1, "true"])
def test_agents_csv_takes_a_bool_or_auto(bad):
    raw = tomllib.loads(DEFAULT_SCENARIO.read_text())
    raw["outputs"] = {"agents_csv": bad}
    with pytest.raises(ScenarioError, match=r"agents_csv.*true, false or \"auto\""):
        parse_scenario(raw, DEFAULT_SCENARIO)
