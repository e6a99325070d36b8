"""Benchmark inputs: scenario variants, and a replication's Plan drawn as sim.runner draws it."""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from sim import routing, runner
from sim.exposure import point_exposure
from sim.model import Plan
from sim.scenario import DEFAULT_SCENARIO, Scenario, parse_scenario

DATA_DIR = Path("/work/shared/data")


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
    """The Plan :func:`sim.runner.run_replication` draws for ``seed`` (same draws, same order)."""
    s = setup.scenario
    if s["uncertainty"]["undercount"]:
        raise NotImplementedError("benchmarks draw plans without [uncertainty] undercount")
    rng = np.random.default_rng(seed)
    n = s["crowd"]["protesters"]
    origin = rng.choice(len(setup.origins), size=n, p=setup.origin_weight)
    depart = runner.departure_times(s["arrival"], n, rng)
    speed = runner.walking_speeds(s["walking"], n, rng)
    stand = point_exposure(setup.coverage, runner.stand_points(setup.site, n, rng))
    if setup.out_routes is None:
        per_origin = routing.stochastic_routes(
            setup.city.network, setup.origins.node, setup.site.node, rng,
            s["routing"]["perturbation_sd"], s["routing"]["routes_per_origin"])
        choice = rng.integers(0, s["routing"]["routes_per_origin"], n)
    else:
        per_origin, choice = setup.out_routes, np.zeros(n, np.int64)
    pool, out_ids = runner._route_pool(per_origin)
    back_ids = np.full(len(setup.origins), -1)
    for i, r in enumerate(setup.back_routes):
        if r is not None:
            back_ids[i] = len(pool)
            pool.append(r)
    march = -1
    if setup.march_route is not None:
        march = len(pool)
        pool.append(setup.march_route)
    march_start = (s["arrival"]["start_s"] + s["arrival"]["duration_s"] + s["dwell"]["duration_s"]
                   if march >= 0 else float("nan"))
    return Plan(
        depart_s=depart, speed_mps=speed, dwell_s=np.full(n, float(s["dwell"]["duration_s"])),
        out_route=out_ids[origin, choice], back_route=back_ids[origin], stand_seen=stand.seen,
        stand_public=stand.seen_public, stand_camera=stand.camera,
        stand_recognition=stand.recognition, stand_identification=stand.identification,
        routes=pool, march_route=march, march_start_s=march_start,
        march_speed_mps=s["march"]["speed_mps"], origin=origin,
    )


def subset_plan(plan: Plan, idx: np.ndarray) -> Plan:
    """The protesters ``idx`` of ``plan`` (same route pool, march and clock)."""
    per_agent = {f.name for f in fields(Plan)} - {"routes", "march_route", "march_start_s",
                                                  "march_speed_mps"}
    changes = {k: getattr(plan, k)[idx] for k in per_agent if getattr(plan, k) is not None}
    return replace(plan, **changes)
