"""Shared fixtures: the real data bundle (skipped when absent) and its inputs, loaded once."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from helpers import BUNDLE

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline data bundle; tests needing it are skipped where it is absent."""
    if not (BUNDLE / "osm").is_dir():
        pytest.skip(f"offline data bundle not found at {BUNDLE}")
    return BUNDLE


@pytest.fixture(scope="session")
def source(data_dir):
    """The bundle as a data source: each file read once per test session."""
    from sim.scenario.inputs import DataSource

    return DataSource(data_dir)


@pytest.fixture(scope="session")
def city(source, default_scenario):
    """The default scenario's inputs: the Manhattan network, exits, sites and its cameras."""
    from sim.scenario.inputs import scenario_inputs

    return scenario_inputs(default_scenario, source)


@pytest.fixture(scope="session")
def default_scenario():
    from sim.scenario.files import DEFAULT_SCENARIO, load_scenario

    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture
def offline(monkeypatch):
    """No download is tried when a test's data folder lacks a file."""
    monkeypatch.setenv("PROTEST_SIM_OFFLINE", "1")
