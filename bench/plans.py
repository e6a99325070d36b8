"""Benchmark inputs: scenario variants, and a replication's Plan drawn as sim.runner draws it."""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from sim import runner
from sim.model import Plan
from sim.scenario import DEFAULT_SCENARIO, Scenario, parse_scenario

# the data bundle: $PROTEST_SIM_DATA, else ../shared/data beside the repository
DATA_DIR = Path(
    os.environ.get("PROTEST_SIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
).resolve()


def scenario_variant(protesters: int | None = None, crowding: bool | None = None,
                     replications: int | None = None, path: Path = DEFAULT_SCENARIO) -> Scenario:
    """The default scenario with some keys changed (None: as in the file)."""
    text = path.read_text()
    raw = tomllib.loads(text)
    if protesters is not None:
        raw.setdefault("crowd", {})["protesters"] = protesters
    if crowding is not None:
        raw.setdefault("walking", {})["crowding"] = crowding
    if replications is not None:
        raw["replications"] = replications
    return parse_scenario(raw, path, text)


def draw_plan(setup: runner.Setup, seed: np.random.SeedSequence) -> Plan:
    """The Plan :func:`sim.runner.run_replication` draws for ``seed``."""
    if setup.scenario["uncertainty"]["undercount"]:
        raise NotImplementedError("benchmarks draw plans without [uncertainty] undercount")
    return runner.draw_plan(setup, seed)[0]


def subset_plan(plan: Plan, idx: np.ndarray) -> Plan:
    """The protesters ``idx`` of ``plan`` (same route pool, march and clock)."""
    per_agent = {f.name for f in fields(Plan)} - {"routes", "march_route", "march_start_s",
                                                  "march_speed_mps"}
    changes = {k: getattr(plan, k)[idx] for k in per_agent if getattr(plan, k) is not None}
    return replace(plan, **changes)
