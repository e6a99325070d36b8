"""Benchmark inputs: scenario variants, and a replication's Plan drawn as the runner draws it."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from sim.crowd import draws
from sim.crowd.model import Plan
from sim.crowd.setup import Setup, prepare
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.inputs import DataSource, Inputs, scenario_inputs
from sim.scenario.scenario import Scenario
from sim.scenario.variants import override

# the data bundle: $PROTEST_SIM_DATA, else ../shared/data beside the repository
DATA_DIR = Path(
    os.environ.get("PROTEST_SIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
).resolve()


def scenario_variant(
    protesters: int | None = None,
    crowding: bool | None = None,
    replications: int | None = None,
    path: Path = DEFAULT_SCENARIO,
) -> Scenario:
    """The default scenario with some keys changed (None: as in the file)."""
    changes = {
        "crowd.protesters": protesters,
        "walking.crowding": crowding,
        "replications": replications,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    scenario = load_scenario(path)
    return override(scenario, changes) if changes else scenario


def source() -> DataSource:
    """The bundle as a data source (network and coverage from the project's cache)."""
    return DataSource(DATA_DIR)


def inputs_of(scenario: Scenario, data: DataSource | None = None) -> Inputs:
    """A scenario's inputs from the bundle."""
    return scenario_inputs(scenario, data or source())


def prepared(scenario: Scenario, data: DataSource | None = None) -> Setup:
    """A scenario's set-up on the bundle, as the run command prepares it."""
    data = data or source()
    return prepare(scenario, inputs_of(scenario, data), data.store)


def draw_plan(setup: Setup, seed: np.random.SeedSequence) -> Plan:
    """The Plan :func:`sim.crowd.runner.run_replication` draws for ``seed``."""
    if setup.scenario.uncertainty.undercount:
        raise NotImplementedError("benchmarks draw plans without [uncertainty] undercount")
    return draws.draw_plan(setup, seed)[0]


def subset_plan(plan: Plan, idx: np.ndarray) -> Plan:
    """The protesters ``idx`` of ``plan`` (same route pool, march and clock)."""
    per_agent = {f.name for f in fields(Plan)} - {
        "routes",
        "march_route",
        "march_start_s",
        "march_speed_mps",
    }
    changes = {k: getattr(plan, k)[idx] for k in per_agent if getattr(plan, k) is not None}
    return replace(plan, **changes)
