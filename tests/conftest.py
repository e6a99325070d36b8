"""Shared fixtures: the real data bundle (skipped when absent) and its inputs, loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
BUNDLE = Path(os.environ.get("PROTEST_SIM_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline data bundle; tests needing it are skipped where it is absent."""
    if not (BUNDLE / "osm").is_dir():
        pytest.skip(f"offline data bundle not found at {BUNDLE}")
    return BUNDLE


@pytest.fixture(scope="session")
def source(data_dir):
    """The bundle as a data source: each file read once per test session."""
    from sim.inputs import DataSource

    return DataSource(data_dir)


@pytest.fixture(scope="session")
def city(source, default_scenario):
    """The default scenario's inputs: the Manhattan network, exits, sites and its cameras."""
    from sim.inputs import scenario_inputs

    return scenario_inputs(default_scenario, source)


def prepared(scenario, source):
    """A scenario's set-up on its own inputs from ``source``."""
    from sim.inputs import scenario_inputs
    from sim.multisite import prepare_run

    return prepare_run(scenario, scenario_inputs(scenario, source), source.store)


@pytest.fixture(scope="session")
def default_scenario():
    from sim.scenario import DEFAULT_SCENARIO, load_scenario

    return load_scenario(DEFAULT_SCENARIO)
