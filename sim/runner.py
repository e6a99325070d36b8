"""Running a scenario: set-up shared by replications, the draws of each, and tidy results."""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim import routing
from sim.camera_edits import apply_edits
from sim.cameras import CameraSites
from sim.city import City, cache_dir
from sim.coverage import edge_exposure
from sim.crowding import walking_width_m
from sim.errors import ScenarioError
from sim.exposure import Coverage, PointExposure, build_coverage, point_exposure
from sim.model import Plan, Streets, simulate
from sim.scenario import Scenario
from sim.sites import Site
from sim.tables import agent_table, timeseries
from sim.transit import Exits

log = logging.getLogger(__name__)

# Amnesty's quality review (Decode Surveillance NYC methodology, 2022): the volunteers' count as a
# share of the expert count, 95% interval, by attachment. With [uncertainty] undercount = true a
# replication draws the share uniformly from the interval and divides its classes' counts by it.
UNDERCOUNT_SHARE = {
    "public_street": (0.23, 1.0),
    "nypd_dome": (0.23, 1.0),
    "private_building": (0.24, 0.46),
    "unknown": (0.24, 0.46),
}
# Subway riders reach the street within about a minute of their train (platform to exit);
# with train waves, each protester's exit time is spread uniformly over this after the train.
TRAIN_EGRESS_S = 60.0
# Independent random streams of a replication (protester draws use the replication's own).
STREAM_ROUTES, STREAM_UNDERCOUNT = 1, 2


@dataclass(frozen=True)
class Setup:
    """What every replication of a scenario shares: the site, the origins, coverage, routes."""

    scenario: Scenario
    city: City
    site: Site
    origins: Exits
    origin_weight: np.ndarray
    origin_walk_m: np.ndarray
    coverage: Coverage
    streets: Streets
    edit_log: list[dict[str, Any]]
    out_routes: list[list[np.ndarray]] | None  # per origin, its route(s); None: per replication
    back_routes: list[np.ndarray | None]  # per origin (None: no dispersal)
    march_route: np.ndarray | None
    march_site: Site | None


def prepare(scenario: Scenario, city: City) -> Setup:
    """Resolve a scenario against the city: site, origins, edited cameras, coverage, routes."""
    s = scenario
    net = city.network
    site = city.site(
        s["site"]["id"],
        s["site"]["radius_m"],
        s["site"]["lat"],
        s["site"]["lon"],
        s["site"]["name"],
        where=f"{s.path}: key 'site.id'",
    )
    to_site = routing.shortest_tree(net, net.edge_length_m, site.node, towards=True)
    walk_to_site = to_site.dist
    origins, weights, walk_m = select_origins(scenario, city, site, walk_to_site)
    cameras = city.camera_layers(s.layers)
    coverage_args = _coverage_args(scenario, city)
    ranker = _ranker(scenario, city, site, origins, weights, coverage_args)
    cameras, edit_log = apply_edits(
        cameras, s["cameras"]["edits"], (site.x, site.y), s.path, ranker
    )
    coverage = build_coverage(net, cameras, s.classes, **coverage_args)
    streets = streets_of(city, coverage)
    out_routes = None
    if s["routing"]["choice"] == "shortest":
        out_routes = [[routing.tree_route(net, to_site, int(o))] for o in origins.node]
    elif s["routing"]["choice"] == "least_exposed":
        out_routes = [
            [r]
            for r in routing.least_exposed_routes(
                net,
                origins.node,
                site.node,
                coverage.edges.seen_m,
                s["routing"]["exposure_weight"],
                s["routing"]["max_detour"],
            )
        ]
    march_site = march_route = None
    end_node = site.node
    if s["march"]["to_site"]:
        march_site = city.site(
            s["march"]["to_site"], s["site"]["radius_m"], where=f"{s.path}: key 'march.to_site'"
        )
        tree = routing.shortest_tree(net, net.edge_length_m, site.node, towards=False)
        march_route = routing.tree_route(net, tree, march_site.node)
        end_node = march_site.node
    back_routes: list[np.ndarray | None] = [None] * len(origins)
    if s["dwell"]["disperse"]:
        back_routes = dispersal_routes(scenario, city, end_node, origins, coverage)
    return Setup(
        scenario,
        city,
        site,
        origins,
        weights,
        walk_m,
        coverage,
        streets,
        edit_log,
        out_routes,
        back_routes,
        march_route,
        march_site,
    )


def dispersal_routes(
    scenario: Scenario, city: City, start: int, origins: Exits, coverage: Coverage
) -> list[np.ndarray]:
    """Routes back to an exit after the rally (or march): to each origin's exit, or all to the
    exit nearest ``start``. With ``least_exposed`` routing they avoid cameras as on the way in;
    otherwise (``shortest``, ``stochastic``) they are shortest."""
    net = city.network
    tree = routing.shortest_tree(net, net.edge_length_m, start, towards=False)
    targets = origins.node
    if scenario["dwell"]["disperse_to"] == "nearest":
        targets = np.full(len(origins), city.exits.node[np.argmin(tree.dist[city.exits.node])])
    if scenario["routing"]["choice"] == "least_exposed":
        return routing.least_exposed_routes(
            net,
            targets,
            start,
            coverage.edges.seen_m,
            scenario["routing"]["exposure_weight"],
            scenario["routing"]["max_detour"],
            towards=False,
        )
    return [routing.tree_route(net, tree, int(t)) for t in targets]


def _coverage_args(scenario: Scenario, city: City) -> dict[str, Any]:
    visibility = scenario["cameras"]["visibility"]
    args: dict[str, Any] = {"visibility": visibility, "cache_dir": cache_dir()}
    if visibility == "sightline":
        open_space, key = city.open_space(scenario["cameras"]["buildings"])
        args.update(open_space=open_space, open_space_key=key)
    return args


def _ranker(scenario, city, site, origins, weights, coverage_args):
    """Rank cameras for ``top_k`` edits by their marginal camera-seconds on the expected crowd."""

    def rank(cameras: CameraSites, candidates: np.ndarray, k: int) -> np.ndarray:
        from sim.ranking import expected_contributions, expected_crowd_routes

        coverage = build_coverage(city.network, cameras, scenario.classes, **coverage_args)
        routes, crowd = expected_crowd_routes(
            city.network, origins, weights, site, scenario["crowd"]["protesters"]
        )
        contrib = expected_contributions(
            coverage, city.network, routes, crowd, scenario["walking"]["speed_mean_mps"]
        )
        order = candidates[np.argsort(-contrib[candidates], kind="stable")]
        return order[:k]

    return rank


def select_origins(
    scenario: Scenario, city: City, site: Site, walk_to_site: np.ndarray
) -> tuple[Exits, np.ndarray, np.ndarray]:
    """The exits protesters start from, their weights (summing to 1) and walking distances."""
    o = scenario["origins"]
    exits = city.exits
    walk_m = walk_to_site[exits.node]
    if o["mode"] == "within":
        dist = (
            walk_m if o["distance"] == "walking" else np.hypot(exits.x - site.x, exits.y - site.y)
        )
        idx = np.flatnonzero(dist <= o["max_distance_m"])
        if idx.size == 0:
            raise ScenarioError(
                f"{scenario.path}: key 'origins.max_distance_m': no subway exit "
                f"within {o['max_distance_m']} m of site {site.site_id!r}"
            )
    else:
        names = o["stations"] if o["mode"] == "stations" else o["entrances"]
        found = []
        for name in names:
            match = exits.matching_station(name)
            if match.size == 0:
                raise ScenarioError(
                    f"{scenario.path}: key 'origins.{o['mode']}': unknown "
                    f"{o['mode'][:-1]} {name!r} (see `run_sim.py data` for the "
                    "exits file)"
                )
            found.append(match)
        idx = np.unique(np.concatenate(found))
    idx = idx[np.isfinite(walk_m[idx])]
    origins = exits.subset(idx)
    if o["weights"] == "equal":
        w = np.ones(len(idx))
    elif o["weights"] == "distance":
        w = np.exp(-walk_m[idx] / o["distance_decay_m"])
    else:
        given = {k.lower(): float(v) for k, v in o["given_weights"].items()}
        unknown = set(given) - {s.lower() for s in origins.station}
        if unknown:
            raise ScenarioError(
                f"{scenario.path}: key 'origins.given_weights': unknown station "
                f"{sorted(unknown)[0]!r} among the origins"
            )
        per_station = pd.Series(origins.station).str.lower().map(given).fillna(0.0).to_numpy()
        exits_of = (
            pd.Series(origins.station)
            .str.lower()
            .map(pd.Series(origins.station).str.lower().value_counts())
            .to_numpy()
        )
        w = per_station / exits_of
    if w.sum() <= 0:
        raise ScenarioError(f"{scenario.path}: key 'origins.given_weights': all weights are zero")
    return origins, w / w.sum(), walk_m[idx]


def streets_of(city: City, coverage: Coverage) -> Streets:
    """Per-edge arrays the simulation reads."""
    e = coverage.edges
    net = city.network
    return Streets(
        net.edge_length_m,
        walking_width_m(net.edge_highway),
        e.seen_m,
        e.seen_public_m,
        e.camera_m,
        e.recognition_m,
        e.identification_m,
        coverage.first_seen_m,
    )


def departure_times(arrival: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Times (s) protesters leave their exits, by the scenario's arrival profile."""
    start, duration = arrival["start_s"], arrival["duration_s"]
    shape = arrival["shape"]
    if shape == "uniform":
        t = start + duration * rng.random(n)
    elif shape == "ramp":  # density rising linearly from zero: inverse CDF of t^2
        t = start + duration * np.sqrt(rng.random(n))
    else:  # a Poisson process with rate n / duration
        t = start + np.cumsum(rng.exponential(duration / n if n else 0.0, n))
    headway = arrival["train_headway_s"]
    if headway > 0:
        t = start + np.ceil((t - start) / headway) * headway + TRAIN_EGRESS_S * rng.random(n)
    return t


def walking_speeds(walking: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Free walking speeds (m/s): normal(mean, sd) truncated to [min, max] by redrawing."""
    mean, sd = walking["speed_mean_mps"], walking["speed_sd_mps"]
    lo, hi = walking["speed_min_mps"], walking["speed_max_mps"]
    v = rng.normal(mean, sd, n)
    bad = (v < lo) | (v > hi)
    while bad.any():
        v[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (v < lo) | (v > hi)
    return v


def stand_points(site: Site, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points in the site's disk (metres)."""
    r = site.radius_m * np.sqrt(rng.random(n))
    a = 2 * np.pi * rng.random(n)
    return np.c_[site.x + r * np.cos(a), site.y + r * np.sin(a)]


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


def run_replication(
    setup: Setup, rep: int, seed: np.random.SeedSequence, keep_plan: bool = False
) -> Replication:
    """Draw and simulate one replication; same setup and seed give identical results."""
    t0 = time.perf_counter()
    s = setup.scenario
    coverage, streets, shares = setup.coverage, setup.streets, {}
    if s["uncertainty"]["undercount"]:
        coverage, shares = undercount_coverage(setup, _substream(seed, STREAM_UNDERCOUNT))
        streets = streets_of(setup.city, coverage)
    plan, stand = draw_plan(setup, seed, coverage)
    outcome = simulate(plan, streets, s["walking"]["crowding"])
    agents = agent_table(
        setup.origins,
        setup.site.site_id,
        setup.city.network.edge_length_m,
        coverage,
        plan,
        outcome,
        stand,
        rep,
        seed.entropy,
    )
    series = timeseries(plan, outcome, streets, s["outputs"]["timeseries_step_s"], rep)
    traffic = np.bincount(outcome.trav_edge, minlength=setup.city.network.n_edges)
    return Replication(
        agents,
        series,
        outcome.events,
        time.perf_counter() - t0,
        traffic,
        shares,
        plan if keep_plan else None,
        stand.cameras if keep_plan else None,
    )


def draw_plan(
    setup: Setup, seed: np.random.SeedSequence, coverage: Coverage | None = None
) -> tuple[Plan, PointExposure]:
    """Draw a replication's protesters: origins, departures, speeds, standing points, routes.

    ``coverage`` (default: the setup's) gives each standing point's exposure.
    """
    s = setup.scenario
    rng = np.random.default_rng(seed)
    n = s["crowd"]["protesters"]
    coverage = setup.coverage if coverage is None else coverage
    origin = rng.choice(len(setup.origins), size=n, p=setup.origin_weight)
    depart = departure_times(s["arrival"], n, rng)
    speed = walking_speeds(s["walking"], n, rng)
    points = stand_points(setup.site, n, rng)
    stand = point_exposure(coverage, points)
    if setup.out_routes is None:
        route_rng = _substream(seed, STREAM_ROUTES)
        per_origin = routing.stochastic_routes(
            setup.city.network,
            setup.origins.node,
            setup.site.node,
            route_rng,
            s["routing"]["perturbation_sd"],
            s["routing"]["routes_per_origin"],
        )
        choice = route_rng.integers(0, s["routing"]["routes_per_origin"], n)
    else:
        per_origin, choice = setup.out_routes, np.zeros(n, np.int64)
    pool, out_ids = _route_pool(per_origin)
    out_route = out_ids[origin, choice]
    back_ids = np.full(len(setup.origins), -1)
    for i, r in enumerate(setup.back_routes):
        if r is not None:
            back_ids[i] = len(pool)
            pool.append(r)
    march = -1
    if setup.march_route is not None:
        march = len(pool)
        pool.append(setup.march_route)
    march_start = (
        s["arrival"]["start_s"] + s["arrival"]["duration_s"] + s["dwell"]["duration_s"]
        if march >= 0
        else float("nan")
    )
    plan = Plan(
        depart_s=depart,
        speed_mps=speed,
        dwell_s=np.full(n, float(s["dwell"]["duration_s"])),
        out_route=out_route,
        back_route=back_ids[origin],
        stand_seen=stand.seen,
        stand_public=stand.seen_public,
        stand_camera=stand.camera,
        stand_recognition=stand.recognition,
        stand_identification=stand.identification,
        routes=pool,
        march_route=march,
        march_start_s=march_start,
        march_speed_mps=s["march"]["speed_mps"],
        origin=origin,
    )
    return plan, stand


def _substream(seed: np.random.SeedSequence, stream: int) -> np.random.Generator:
    """An independent generator for one kind of draw, so that switching an option on (route
    perturbation, undercount) leaves every other draw of the replication unchanged."""
    return np.random.default_rng(
        np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, stream))
    )


def _route_pool(per_origin: list[list[np.ndarray]]) -> tuple[list[np.ndarray], np.ndarray]:
    pool: list[np.ndarray] = []
    ids = np.zeros((len(per_origin), max(len(r) for r in per_origin)), np.int64)
    for i, routes in enumerate(per_origin):
        for j, r in enumerate(routes):
            ids[i, j] = len(pool)
            pool.append(r)
    return pool, ids


def undercount_coverage(setup: Setup, rng: np.random.Generator) -> tuple[Coverage, dict]:
    """Coverage with each class's counts divided by a share drawn from Amnesty's interval."""
    cams = setup.coverage.cameras
    shares = {cls: float(rng.uniform(*UNDERCOUNT_SHARE[cls])) for cls in sorted(UNDERCOUNT_SHARE)}
    factor = np.array([1.0 / shares.get(c, 1.0) for c in cams.cls])
    count = cams.count * factor
    n_edges = setup.city.network.n_edges
    cov = setup.coverage
    edges = edge_exposure(cov.pieces, n_edges, count, cov.public)
    return Coverage(
        cams.with_counts(count),
        cov.level_range_m,
        cov.public,
        cov.pieces,
        edges,
        cov.first_seen_m,
        cov.visibility,
        cov.areas,
    ), shares


@dataclass
class RunResult:
    """All replications of a scenario."""

    setup: Setup
    agents: pd.DataFrame
    timeseries: pd.DataFrame
    replications: list[Replication]
    seeds: list[int | list[int]]
    wall_s: float


_WORKER_SETUP: Setup | None = None


def _work(args: tuple[int, np.random.SeedSequence]) -> Replication:
    rep, seed = args
    assert _WORKER_SETUP is not None
    return run_replication(_WORKER_SETUP, rep, seed)


def run_scenario(setup: Setup, workers: int = 1, progress=None) -> RunResult:
    """Run every replication (in ``workers`` processes); results do not depend on ``workers``."""
    global _WORKER_SETUP
    t0 = time.perf_counter()
    s = setup.scenario
    seeds = np.random.SeedSequence(s.seed).spawn(s.replications)
    jobs = list(enumerate(seeds))
    reps: list[Replication] = []
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            reps.append(run_replication(setup, *job))
            if progress:
                progress(1)
    else:
        _WORKER_SETUP = setup
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for rep in pool.map(_work, jobs):
                reps.append(rep)
                if progress:
                    progress(1)
        _WORKER_SETUP = None
    agents = pd.concat([r.agents for r in reps], ignore_index=True)
    series = pd.concat([r.timeseries for r in reps], ignore_index=True)
    return RunResult(
        setup, agents, series, reps, [sq.spawn_key[0] for sq in seeds], time.perf_counter() - t0
    )
