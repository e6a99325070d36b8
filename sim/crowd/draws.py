"""The random draws of one replication: who leaves which exit when, how fast, to stand where."""

from __future__ import annotations

import numpy as np

from sim.city import routing
from sim.crowd.access import compose_legs
from sim.crowd.model import Plan
from sim.crowd.setup import Setup
from sim.crowd.site_area import STAND_POINTS
from sim.exposure.coverage import Coverage, PointExposure, point_exposure
from sim.exposure.worlds import world_key
from sim.scenario.sections import Arrival, Walking

# Subway riders reach the street within about a minute of their train (platform to exit);
# with train waves, each protester's exit time is spread uniformly over this after the train.
TRAIN_EGRESS_S = 60.0
# Independent random streams of a replication (protester draws use the replication's own).
STREAM_ROUTES, STREAM_UNDERCOUNT, STREAM_WORLD = 1, 2, 3


def departure_times(arrival: Arrival, n: int, rng: np.random.Generator) -> np.ndarray:
    """Times (s) protesters leave their exits, by the scenario's arrival profile."""
    start, duration = arrival.start_s, arrival.duration_s
    shape = arrival.shape
    if shape == "uniform":
        t = start + duration * rng.random(n)
    elif shape == "ramp":  # density rising linearly from zero: inverse CDF of t^2
        t = start + duration * np.sqrt(rng.random(n))
    else:  # a Poisson process with rate n / duration
        t = start + np.cumsum(rng.exponential(duration / n if n else 0.0, n))
    headway = arrival.train_headway_s
    if headway > 0:
        t = start + np.ceil((t - start) / headway) * headway + TRAIN_EGRESS_S * rng.random(n)
    return t


def walking_speeds(walking: Walking, n: int, rng: np.random.Generator) -> np.ndarray:
    """Free walking speeds (m/s): normal(mean, sd) truncated to [min, max] by redrawing."""
    mean, sd = walking.speed_mean_mps, walking.speed_sd_mps
    lo, hi = walking.speed_min_mps, walking.speed_max_mps
    v = rng.normal(mean, sd, n)
    bad = (v < lo) | (v > hi)
    while bad.any():
        v[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (v < lo) | (v > hi)
    return v


def take_points(points: PointExposure, k: np.ndarray) -> PointExposure:
    """The exposure of standing points ``k`` of a pool (one row per protester)."""
    return PointExposure(
        points.seen[k],
        points.seen_public[k],
        points.camera[k],
        points.recognition[k],
        points.identification[k],
        [points.cameras[i] for i in k.tolist()],
    )


def draw_plan(
    setup: Setup,
    seed: np.random.SeedSequence,
    coverage: Coverage | None = None,
    points: PointExposure | None = None,
) -> tuple[Plan, PointExposure]:
    """Draw a replication's protesters: origins, departures, speeds, standing points, routes.

    ``points`` gives the exposure of each point of the standing pool (default: as
    ``coverage``, default the setup's, sees them).
    """
    s = setup.scenario
    rng = np.random.default_rng(seed)
    n = s.crowd.protesters
    coverage = setup.coverage if coverage is None else coverage
    origin = rng.choice(len(setup.origins), size=n, p=setup.origin_weight)
    depart = departure_times(s.arrival, n, rng)
    speed = walking_speeds(s.walking, n, rng)
    access = setup.access
    k = rng.integers(0, len(access.stand_xy), n)  # each protester's standing point
    pool = point_exposure(coverage, access.stand_xy) if points is None else points
    stand = take_points(pool, k)
    if setup.out_routes is None:
        route_rng = substream(seed, STREAM_ROUTES)
        per_origin = routing.stochastic_routes(
            setup.inputs.network,
            setup.origins.node,
            setup.site.node,
            route_rng,
            s.routing.perturbation_sd,
            s.routing.routes_per_origin,
        )
        choice = route_rng.integers(0, s.routing.routes_per_origin, n)
    else:
        per_origin, choice = setup.out_routes, np.zeros(n, np.int64)
    pool, out_ids = _route_pool(per_origin)
    out_route = out_ids[origin, choice]
    back_ids = np.full(len(setup.origins), -1)
    for i, r in enumerate(setup.back_routes):
        if r is not None:
            back_ids[i] = len(pool)
            pool.append(r)
    # the first and last metres: exit -> route -> standing point, and back
    pool, out_route, back_route = compose_legs(
        pool,
        out_route,
        back_ids[origin],
        origin,
        setup.back_exit[origin],
        k,
        access,
        leave_from_stand=setup.march_route is None,
    )
    march = -1
    if setup.march_route is not None:
        march = len(pool)
        pool.append(setup.march_route)
    march_start = (
        s.arrival.start_s + s.arrival.duration_s + s.dwell.duration_s
        if march >= 0
        else float("nan")
    )
    plan = Plan(
        depart_s=depart,
        speed_mps=speed,
        dwell_s=np.full(n, float(s.dwell.duration_s)),
        out_route=out_route,
        back_route=back_route,
        stand_seen=stand.seen,
        stand_public=stand.seen_public,
        stand_camera=stand.camera,
        stand_recognition=stand.recognition,
        stand_identification=stand.identification,
        routes=pool,
        march_route=march,
        march_start_s=march_start,
        march_speed_mps=s.march.speed_mps,
        origin=origin,
    )
    return plan, stand


def drawn_per_replication(scenario) -> list[str]:
    """What each replication draws anew (:func:`draw_plan`, and the undercount's shares), in
    words for the manifest: the randomness a run's intervals measure, and all of it."""
    drawn = [
        "each protester's exit",
        "departure time",
        "walking speed",
        f"standing point (one of the site's {STAND_POINTS:,})",
    ]
    if scenario.routing.choice == "stochastic":
        drawn.append(
            f"route (one of {scenario.routing.routes_per_origin} near-shortest routes per exit)"
        )
    if scenario.uncertainty.undercount:
        drawn.append("the undercount share of each camera class")
    if scenario.cameras.world == "drawn":
        drawn.append(
            "the camera world: each camera site's aim, lens (field of view, hence reach) and "
            "whether it works"
        )
    return drawn


def world_key_of(seed: np.random.SeedSequence) -> int:
    """The 64-bit key of a replication's camera world: its seed's world stream, so that the
    world is the same on any worker and drawing it changes no other draw."""
    return world_key(seed.entropy, (*seed.spawn_key, STREAM_WORLD))


def substream(seed: np.random.SeedSequence, stream: int) -> np.random.Generator:
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
