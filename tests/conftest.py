"""Shared fixtures: the real data bundle (skipped when absent) and the city loaded once."""

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
def city(data_dir):
    """The Manhattan city model (network built once per cache, then loaded from it)."""
    from sim.city import load_city

    return load_city(data_dir)


@pytest.fixture(scope="session")
def default_scenario():
    from sim.scenario import DEFAULT_SCENARIO, load_scenario

    return load_scenario(DEFAULT_SCENARIO)
