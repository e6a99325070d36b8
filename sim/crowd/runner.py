"""Running a scenario: one replication from its seed, and every replication in turn."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.crowd.draws import STREAM_UNDERCOUNT, draw_plan, substream
from sim.crowd.engines import simulate
from sim.crowd.model import Plan
from sim.crowd.multisite import draw_sites
from sim.crowd.setup import Setup, streets_of
from sim.crowd.tables import agent_table, timeseries
from sim.crowd.undercount import undercount_coverage
from sim.crowd.usage import RouteUse, route_use, street_seconds_in_view

log = logging.getLogger(__name__)


@dataclass
class Replication:
    """One replication's tidy results."""

    agents: pd.DataFrame
    timeseries: pd.DataFrame
    events: int
    wall_s: float
    edge_traffic: np.ndarray  # traversals per edge
    undercount_share: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None  # kept with keep_plan=True (for camera ranking)
    stand_cameras: list[np.ndarray] | None = None
    street_seen_s: np.ndarray | None = None  # protester-seconds in view per edge
    route_use: RouteUse | None = None  # protesters per distinct route


def run_replication(
    setup: Setup, rep: int, seed: np.random.SeedSequence, keep_plan: bool = False
) -> Replication:
    """Draw and simulate one replication; same setup and seed give identical results."""
    t0 = time.perf_counter()
    s = setup.scenario
    coverage, streets, shares = setup.coverage, setup.streets, {}
    if s.uncertainty.undercount:
        coverage, shares = undercount_coverage(setup, substream(seed, STREAM_UNDERCOUNT))
        streets = streets_of(setup.inputs, coverage, setup.access)
    if setup.parts:  # several sites at once: one plan of every site's protesters
        plan, stand = draw_sites(setup, seed)
    else:
        plan, stand = draw_plan(setup, seed, coverage)
    outcome = simulate(s.engine, plan, streets, s.walking.crowding)
    site_id = setup.site.site_id if setup.origin_site is None else setup.origin_site[plan.origin]
    agents = agent_table(
        setup.origins,
        site_id,
        streets.length_m,
        coverage,
        plan,
        outcome,
        stand,
        rep,
        seed.entropy,
    )
    series = timeseries(plan, outcome, streets, s.outputs.timeseries_step_s, rep)
    # per edge: the network's, then the first and last metres (consumers slice what they show)
    traffic = np.bincount(outcome.trav_edge, minlength=len(streets.length_m))
    if outcome.flows is not None:
        traffic = outcome.flows.edge_traffic
    return Replication(
        agents,
        series,
        outcome.events,
        time.perf_counter() - t0,
        traffic,
        shares,
        plan if keep_plan else None,
        stand.cameras if keep_plan else None,
        street_seconds_in_view(outcome, streets.length_m, streets.seen_m),
        route_use(plan),
    )


@dataclass
class RunResult:
    """All replications of a scenario."""

    setup: Setup
    agents: pd.DataFrame
    timeseries: pd.DataFrame
    replications: list[Replication]
    seeds: list[int | list[int]]
    wall_s: float


def run_replications(setup: Setup, progress=None) -> RunResult:
    """Every replication of ``setup``'s scenario, one after the other, in this process.

    Commands run replications as tasks in a pool (:mod:`sim.batch`), where results do not
    depend on the number of workers; this is the plain loop, for tests and benchmarks.
    """
    t0 = time.perf_counter()
    s = setup.scenario
    seeds = np.random.SeedSequence(s.seed).spawn(s.replications)
    reps: list[Replication] = []
    for rep, seed in enumerate(seeds):
        reps.append(run_replication(setup, rep, seed))
        if progress:
            progress(1)
    agents = pd.concat([r.agents for r in reps], ignore_index=True)
    series = pd.concat([r.timeseries for r in reps], ignore_index=True)
    return RunResult(
        setup, agents, series, reps, [sq.spawn_key[0] for sq in seeds], time.perf_counter() - t0
    )
