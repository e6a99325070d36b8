"""The report tests' real outputs: one small run of the default scenario with its report, and a
comparison with a counterfactual, made once per test session."""

from __future__ import annotations

import shutil

import pytest
from helpers import SCENARIOS, small_report_scenario

from sim.cli.app import main
from sim.scenario.files import DEFAULT_SCENARIO


@pytest.fixture(scope="session")
def outputs(data_dir, tmp_path_factory):
    """One small real run of the default scenario with its report (written by `run`), and a
    comparison with the no-public-cameras-within-500-m counterfactual (written by `compare
    --report`, reusing the run)."""
    root = tmp_path_factory.mktemp("report")
    base = small_report_scenario(DEFAULT_SCENARIO, root / "washington_square.toml")
    # the counterfactual names its base by file name: beside the small base, it inherits it
    cut = root / "wsp_no_public_500m.toml"
    shutil.copy(SCENARIOS / "wsp_no_public_500m.toml", cut)
    common = ["--data-dir", str(data_dir), "--outputs", str(root / "out"), "-q"]
    assert main([*common, "run", str(base), "--no-progress"]) == 0
    assert main([*common, "compare", str(base), str(cut), "--report"]) == 0
    run = next((root / "out" / "washington_square").iterdir())
    comparison = next((root / "out" / "compare").iterdir())
    return {"run": run, "comparison": comparison}
