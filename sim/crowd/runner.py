"""Running a scenario: one replication from its seed, and every replication in turn."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.crowd.draws import STREAM_UNDERCOUNT, draw_plan, substream, world_key_of
from sim.crowd.engines import simulate
from sim.crowd.model import Plan
from sim.crowd.multisite import draw_sites
from sim.crowd.setup import Setup, streets_of
from sim.crowd.site_area import area_in_view
from sim.crowd.stats import crowd_figures
from sim.crowd.tables import agent_table, timeseries
from sim.crowd.undercount import undercount_counts, with_counts
from sim.crowd.usage import RouteUse, route_use, street_seconds_in_view
from sim.exposure.coverage import Coverage
from sim.exposure.sectors import world_coverage, world_points
from sim.exposure.worlds import World, draw_world

# Run a replication in Amnesty's route-tool geometry, whatever the scenario's [cameras] world.
AMNESTY = "amnesty"

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
    world: dict | None = None  # the camera world's summary per class (None: Amnesty's geometry)
    site_view: dict | None = None  # the share of the site's standing ground in view, this world
    # per edge (the network's, then the virtual ones), what this world's cameras see of it
    # (metres: seen, seen_public, recognition, identification, camera-metres); None: Amnesty's
    street_exposure: dict[str, np.ndarray] | None = None


# The per-edge figures of a world kept with its replication (as :class:`EdgeExposure` names them).
STREET_EXPOSURE = ("seen_m", "seen_public_m", "recognition_m", "identification_m", "camera_m")


def replication_world(
    setup: Setup,
    seed: np.random.SeedSequence,
    world: World | str | None = None,
    count: np.ndarray | None = None,
) -> World | None:
    """The camera world of a replication: ``world`` if given (a :class:`World`, or
    :data:`AMNESTY` for none), else as the scenario says: drawn from the replication's world
    stream (``[cameras] world = "drawn"``; each site holding ``count`` cameras, default its
    count) or none (Amnesty's geometry)."""
    if isinstance(world, World):
        if setup.worlds is None:
            raise ValueError("this set-up was prepared without camera worlds")
        return world
    if world == AMNESTY or setup.worlds is None:
        return None
    return draw_world(setup.worlds.draws, world_key_of(seed), count)


def replication_coverage(
    setup: Setup, seed: np.random.SeedSequence, world: World | str | None = None
) -> tuple[Coverage, World | None, dict[str, float]]:
    """What a replication's cameras see: the coverage of its world (:func:`replication_world`)
    with its counts (Amnesty's undercount drawn, if the scenario asks), the world (None:
    Amnesty's geometry) and the undercount shares drawn."""
    count, shares = None, {}
    if setup.scenario.uncertainty.undercount:
        count, shares = undercount_counts(
            setup.coverage.cameras, substream(seed, STREAM_UNDERCOUNT)
        )
    drawn = replication_world(setup, seed, world, count)
    coverage = setup.coverage
    if drawn is not None:
        coverage = world_coverage(setup.worlds.geometry, drawn, count)
    elif count is not None:
        coverage, shares = with_counts(setup, count, shares)
    return coverage, drawn, shares


def run_replication(
    setup: Setup,
    rep: int,
    seed: np.random.SeedSequence,
    keep_plan: bool = False,
    world: World | str | None = None,
) -> Replication:
    """Draw and simulate one replication; same setup and seed give identical results.

    Its cameras see as its world says (:func:`replication_world`; ``world``: that world
    instead of the scenario's, e.g. :data:`AMNESTY`).
    """
    t0 = time.perf_counter()
    s = setup.scenario
    streets = setup.streets
    coverage, drawn, shares = replication_coverage(setup, seed, world)
    if coverage is not setup.coverage:
        streets = streets_of(setup.inputs, coverage, setup.access)
    pool = site_view = None
    if setup.parts:  # several sites at once: one plan of every site's protesters
        plan, stand = draw_sites(setup, seed, drawn, coverage)
    else:
        if drawn is not None:
            pool = world_points(setup.worlds.geometry, drawn, coverage)
            site_view = area_in_view(pool.seen, pool.recognition, pool.identification)
        plan, stand = draw_plan(setup, seed, coverage, pool)
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
        drawn.summary(setup.coverage.cameras.cls) if drawn is not None else None,
        site_view,
        {k: getattr(coverage.edges, k) for k in STREET_EXPOSURE} if drawn is not None else None,
    )


def amnesty_upper_bound(setup: Setup, seed: np.random.SeedSequence) -> dict | None:
    """Replication 0's crowd (``seed``: its seed) with Amnesty's route-tool geometry: every
    camera all around, working, at its class reach. None when the scenario's cameras are
    already in that geometry. Every drawn world sees at most what it sees."""
    if setup.worlds is None:
        return None
    rep = run_replication(setup, 0, seed, world=AMNESTY)
    return {
        "replication": 0,
        "figures": crowd_figures(rep.agents),
        "what": "the same crowd (replication 0's draws) with every camera omnidirectional, "
        "working, at its class reach ([cameras.classes]; Amnesty's 120 m for public street "
        "cameras), counts as given: Amnesty's route-tool geometry, an upper bound of every "
        "drawn world",
    }


@dataclass
class RunResult:
    """All replications of a scenario."""

    setup: Setup
    agents: pd.DataFrame
    timeseries: pd.DataFrame
    replications: list[Replication]
    seeds: list[int | list[int]]
    wall_s: float
    amnesty: dict | None = None  # replication 0 in Amnesty's geometry (amnesty_upper_bound)


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
    amnesty = amnesty_upper_bound(setup, seeds[0]) if seeds else None
    return RunResult(
        setup,
        agents,
        series,
        reps,
        [sq.spawn_key[0] for sq in seeds],
        time.perf_counter() - t0,
        amnesty,
    )
