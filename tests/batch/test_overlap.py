"""A cold start's slow builds beside the run (sim.batch.overlap): jobs that report, fail
harmlessly and end with the run; and a cold run that writes what a warm run writes."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import SCENARIOS, run_cli, small_scenario

from sim import progress
from sim.batch.overlap import OVERLAP_ENV_VAR, Overlap, start_overlap


@pytest.fixture
def said():
    stream = io.StringIO()
    progress.configure(True, stream, tty=False)
    yield stream
    progress.configure(False)


def test_a_job_runs_beside_and_says_when_it_started_and_how_long_it_took(tmp_path, said):
    overlap = Overlap()
    overlap.start("a", "job a", "once", lambda: (tmp_path / "a").write_text("made"))
    assert "a" in overlap
    overlap.wait("a")
    assert (tmp_path / "a").read_text() == "made" and "a" not in overlap
    lines = said.getvalue().splitlines()
    assert lines[0] == "job a (once; beside the steps below) ..."
    assert lines[1].startswith("job a: done in ")
    overlap.wait("never started")  # nothing to wait for: nothing said
    assert len(said.getvalue().splitlines()) == 2


def test_a_failing_job_leaves_the_work_to_the_run(said):
    def fails():
        raise ValueError("no")

    overlap = Overlap()
    overlap.start("b", "job b", "once", fails)
    overlap.wait("b")
    assert (
        said.getvalue().splitlines()[-1] == "job b: not finished beside the run; building it here"
    )


def test_jobs_not_waited_for_end_with_the_run():
    overlap = Overlap()
    overlap.start("c", "job c", "once", lambda: time.sleep(60))
    process = overlap._jobs["c"].process
    t0 = time.perf_counter()
    overlap.close()
    assert not process.is_alive() and time.perf_counter() - t0 < 10


def test_overlap_off_starts_nothing(monkeypatch):
    monkeypatch.setenv(OVERLAP_ENV_VAR, "off")
    from sim.scenario.files import DEFAULT_SCENARIO, load_scenario

    overlap = start_overlap([load_scenario(DEFAULT_SCENARIO)], lambda s: None)
    assert not overlap._jobs


@pytest.mark.realdata
def test_a_cold_run_builds_beside_and_writes_what_a_warm_run_writes(
    data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PROTEST_SIM_CACHE", str(tmp_path / "cache"))
    scenario = small_scenario(SCENARIOS / "washington_square.toml", tmp_path / "wsq.toml", 300, 1)
    tables = []
    for run in ("cold", "warm"):
        out = tmp_path / run
        argv = ["--data-dir", str(data_dir), "--outputs", str(out), "run", str(scenario)]
        assert run_cli([*argv, "--no-report", "--workers", "1"]) == 0
        err = capsys.readouterr().err
        beside = [line for line in err.splitlines() if "beside the steps below" in line]
        if run == "cold":
            assert any(line.startswith("open space for sightlines") for line in beside), err
            assert any(line.startswith("the protest sites' neighbourhoods") for line in beside)
        else:
            assert beside == []
        folder = next(Path(out).glob("*/*/agents.csv")).parent
        tables.append({name: (folder / name).read_bytes() for name in ("agents.csv",
                       "timeseries.csv", "cameras.csv", "site_neighbourhoods.csv")})  # fmt: skip
    assert tables[0] == tables[1]
    assert len(pd.read_csv(io.BytesIO(tables[0]["agents.csv"]))) == 300
