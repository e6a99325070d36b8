"""The benchmark cases, each run in its own child process, and the suite of them per mode.

Every case takes ``quick`` and returns result rows (see :meth:`harness.Timing.row`); rows carry
a ``role`` the report uses to attach targets and ratios.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from citywide import citywide_day
from cold_start import cold_start
from harness import repeat
from plans import DATA_DIR, draw_plan, inputs_of, prepared, scenario_variant, source, subset_plan

from sim.crowd import kernel, runner
from sim.crowd.model import simulate
from sim.data import cache, datasets
from sim.data.osm import build_from_osm_xml
from sim.exposure.coverage import build_coverage
from sim.scenario.inputs import DataSource, load_inputs
from sim.scenario.sections import CameraLayer

AMNESTY_RADIUS = Path(__file__).resolve().parents[1] / "scenarios" / "wsp_amnesty_radius.toml"
BIG_PROTESTERS = {False: 100_000, True: 20_000}  # by quick
SCALING_SIZES = {False: (1_000, 10_000, 100_000, 1_000_000), True: (1_000, 5_000, 20_000)}
ENGINE_SIZES = {False: (4_000, 100_000), True: (4_000, 20_000)}  # kernel vs reference
NAIVE_PROTESTERS = {False: 300, True: 120}  # naive model: ~30 ms per protester here
WARMUP_PROTESTERS = 4_000  # big cases warm up on a crowd of the default size
FEWER_REPS_ABOVE = 10_000  # protesters; larger crowds get fewer repetitions
ONE_REP_ABOVE = 300_000  # and the largest one repetition


def _reps(quick: bool, full: int, fast: int) -> int:
    return fast if quick else full


def network_cold(quick: bool) -> list[dict]:
    """Build the Manhattan walk network from the bundle's OSM XML (no cache)."""
    osm = datasets.locate("osm_walk", DATA_DIR, online=False)

    def build():
        return build_from_osm_xml(osm.path, osm.sha256)

    t = repeat(build, _reps(quick, 3, 1), warmup=None if quick else build)
    net = t.last
    return [
        t.row(
            "city",
            "network: cold build from OSM XML",
            role="network_cold",
            edges=net.n_edges,
            nodes=net.n_nodes,
        )
    ]


def coverage_cold_warm(quick: bool) -> list[dict]:
    """Coverage of the default scenario's cameras: built (no cache), then read from a warm cache."""
    scenario = scenario_variant()
    city = inputs_of(scenario).limited_to_reach(scenario.cameras.classes)
    cams = city.cameras

    def build(folder: Path | None):
        store = (lambda kind, key, fn: cache.cached(kind, key, fn, folder)) if folder else None
        return build_coverage(
            city.network, cams, scenario.cameras.classes, visibility="radius", store=store
        )

    cold = repeat(lambda: build(None), _reps(quick, 5, 3), warmup=lambda: build(None))
    with tempfile.TemporaryDirectory(prefix="bench_coverage_") as tmp:
        warm = repeat(
            lambda: build(Path(tmp)), _reps(quick, 5, 3), warmup=lambda: build(Path(tmp))
        )  # the warm-up fills the cache
    extra = {
        "cameras": len(cams),
        "edges": city.network.n_edges,
        "pieces": len(cold.last.pieces.edge),
    }
    return [
        cold.row("city", "coverage: cold build (no cache)", role="coverage_cold", **extra),
        warm.row("city", "coverage: warm cache", role="coverage_warm", **extra),
    ]


def camera_worlds(quick: bool) -> list[dict]:
    """A camera world's coverage of the default scenario's cameras (sightline, isovists in
    the cache) beside the omnidirectional build it is cut from: that build read from a warm
    cache (as every run reads it) and computed cold (isovists and all), the one-time
    preparation of a scenario's worlds, and one world (draw every camera's aim, lens and
    working state; cut the pieces of every street, the first and last metres included; the
    standing points)."""
    from sim.crowd.draws import world_key_of
    from sim.crowd.setup import camera_worlds as prepare_worlds
    from sim.crowd.setup import coverage_options
    from sim.exposure.sectors import world_coverage, world_points
    from sim.exposure.worlds import draw_world

    scenario = scenario_variant()
    data = source()
    setup = prepared(scenario, data)  # fills the caches (network, open space, coverage)
    city = setup.inputs
    args = coverage_options(scenario, city, data.store)

    def omni(store):
        return build_coverage(city.network, city.cameras, scenario.cameras.classes, **{
            **args, "store": store})  # fmt: skip

    warm = repeat(lambda: omni(data.store), _reps(quick, 5, 3), warmup=lambda: omni(data.store))
    cold = repeat(lambda: omni(None), 1)
    net, cov, access = city.network, setup.coverage, setup.access
    prep = repeat(
        lambda: prepare_worlds(scenario, net, cov, access),
        _reps(quick, 5, 3),
        warmup=lambda: prepare_worlds(scenario, net, cov, access),
    )
    worlds = prep.last
    seeds = [np.random.SeedSequence(scenario.seed, spawn_key=(k,)) for k in range(10)]
    counter = iter(range(10**6))

    def one_world():
        seed = seeds[next(counter) % len(seeds)]
        world = draw_world(worlds.draws, world_key_of(seed))
        coverage = world_coverage(worlds.geometry, world)
        world_points(worlds.geometry, world, coverage)
        return coverage

    per_world = repeat(one_world, _reps(quick, 10, 5), warmup=one_world)
    extra = {
        "cameras": len(cov.cameras),
        "edges": net.n_edges + len(access.geom),
        "pieces": len(cov.pieces.edge),
    }
    return [
        cold.row(
            "exposure",
            "omnidirectional coverage, default cameras, sightline: cold",
            role="omni_cold",
            **extra,
        ),  # fmt: skip
        warm.row(
            "exposure",
            "omnidirectional coverage, default cameras, sightline: warm cache",
            role="omni_warm",
            **extra,
        ),  # fmt: skip
        prep.row(
            "exposure",
            "camera worlds: preparation (once per scenario)",
            role="worlds_prepare",
            sub_pieces=len(worlds.geometry.sub.edge),
            **extra,
        ),  # fmt: skip
        per_world.row(
            "exposure",
            "camera world: draw and cut (per replication)",
            role="world_coverage",
            world_pieces=len(per_world.last.pieces.edge),
            **extra,
        ),  # fmt: skip
    ]


def city_cached(quick: bool) -> list[dict]:
    """Load the default scenario's inputs (network from a warm cache, exits, sites, cameras)."""
    scenario = scenario_variant()

    def load():
        return inputs_of(scenario, DataSource(DATA_DIR))

    t = repeat(load, _reps(quick, 5, 3), warmup=load)
    return [
        t.row(
            "city", "city: load with warm cache", role="city_cached", edges=t.last.network.n_edges
        )
    ]


def scenario_run(quick: bool, protesters: int, crowding: bool, role: str) -> list[dict]:
    """One replication of the default scenario with ``protesters`` and crowding on or off."""
    scenario = scenario_variant(protesters=protesters, crowding=crowding)
    setup = prepared(scenario)
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    warm = replace(setup, scenario=scenario_variant(min(protesters, WARMUP_PROTESTERS), crowding))
    big = protesters > FEWER_REPS_ABOVE
    reps = _reps(quick, 3, 2) if big else _reps(quick, 5, 3)
    reps = 1 if protesters > ONE_REP_ABOVE else reps
    t = repeat(
        lambda: runner.run_replication(setup, 0, seed),
        reps,
        warmup=lambda: runner.run_replication(warm, 0, seed),
    )
    rep = t.last
    done = float((rep.agents["status"] == "done").mean())
    name = f"scenario: {protesters:,} protesters, 1 rep, crowding {'on' if crowding else 'off'}"
    return [
        t.row(
            "scenario",
            name,
            role=role,
            protesters=protesters,
            crowding=crowding,
            events=rep.events,
            share_done=done,
        )
    ]


def default_all_replications(quick: bool) -> list[dict]:
    """The whole default scenario as a user runs it: load the city, prepare, all replications."""
    scenario = scenario_variant()

    def run():
        setup = prepared(scenario, DataSource(DATA_DIR))
        return runner.run_replications(setup)

    t = repeat(run, _reps(quick, 3, 1), warmup=run)
    result = t.last
    n = scenario.crowd.protesters * scenario.replications
    return [
        t.row(
            "scenario",
            f"scenario: default, all {scenario.replications} reps (load+prepare+run)",
            role="default_all",
            protesters=n,
            events=sum(r.events for r in result.replications),
        )
    ]


def engines_crowding(quick: bool, protesters: int) -> list[dict]:
    """The two engines on the same plan, crowding on: the simpy reference and the kernel (as
    the runner calls it, no traversal log). Their outcomes must be identical."""
    scenario = scenario_variant(protesters=protesters, crowding=True)
    setup = prepared(scenario)
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    plan = draw_plan(setup, seed)
    warm = subset_plan(plan, np.arange(min(protesters, WARMUP_PROTESTERS)))
    big = protesters > FEWER_REPS_ABOVE
    ref = repeat(
        lambda: simulate(plan, setup.streets, True),
        1 if big else _reps(quick, 3, 2),
        warmup=lambda: simulate(warm, setup.streets, True),
    )
    ker = repeat(
        lambda: kernel.simulate(plan, setup.streets, True, log=False),
        _reps(quick, 3, 2) if big else _reps(quick, 10, 5),
        warmup=lambda: kernel.simulate(warm, setup.streets, True, log=False),
    )
    a, b = ref.last, ker.last
    same = bool(
        a.status.tolist() == b.status.tolist()
        and all(
            np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True)
            for k in (
                "arrive_s",
                "leave_s",
                "end_s",
                "walk_m",
                "walk_s",
                "walk_exposure",
                "dwell_exposure",
                "first_exposure_s",
                "seen_m",
                "seen_public_m",
            )
        )
        and np.array_equal(
            np.bincount(a.trav_edge, minlength=len(setup.streets.length_m)), b.flows.edge_traffic
        )
    )
    extra = {"protesters": protesters, "crowding": True, "events": a.events, "identical": same}
    return [
        ref.row(
            "engines",
            f"reference engine (simpy): {protesters:,} protesters, crowding on",
            role="engine_reference",
            **extra,
        ),
        ker.row(
            "engines",
            f"kernel engine (numba): {protesters:,} protesters, crowding on",
            role="engine_kernel",
            **extra,
        ),
    ]


def _default_plan(crowding: bool = False):
    scenario = scenario_variant(crowding=crowding)
    setup = prepared(scenario)
    city = setup.inputs
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    return city, setup, seed, draw_plan(setup, seed)


def naive_vs_model(quick: bool) -> list[dict]:
    """The naive time-stepped model and the real one on the same protesters (crowding off)."""
    from naive import simulate_naive

    # the naive walker sees cameras by distance: compare on Amnesty's radius geometry
    scenario = scenario_variant(crowding=False, path=AMNESTY_RADIUS)
    setup = prepared(scenario)
    plan = draw_plan(setup, np.random.SeedSequence(scenario.seed).spawn(1)[0])
    geoms = setup.inputs.network.edge_geom
    if setup.access is not None:
        geoms = np.concatenate([geoms, setup.access.geom])
    lengths = setup.streets.length_m
    n = NAIVE_PROTESTERS[quick]
    sub = subset_plan(plan, np.arange(n))
    warm_sub = subset_plan(plan, np.arange(n, n + 5))
    naive = repeat(
        lambda: simulate_naive(sub, geoms, lengths, setup.coverage),
        _reps(quick, 2, 1),
        warmup=lambda: simulate_naive(warm_sub, geoms, lengths, setup.coverage),
    )
    model = repeat(
        lambda: kernel.simulate(sub, setup.streets, False, log=False),
        _reps(quick, 20, 10),
        warmup=lambda: kernel.simulate(sub, setup.streets, False, log=False),
    )
    walk = model.last.walk_exposure
    totals = {
        "model_seen_walk_s": float(walk[:, 0].sum()),
        "naive_seen_walk_s": float(naive.last.seen_s.sum()),
        "model_camera_walk_s": float(walk[:, 2].sum()),
        "naive_camera_walk_s": float(naive.last.camera_s.sum()),
    }
    disagreement = max(
        abs(totals["naive_seen_walk_s"] / totals["model_seen_walk_s"] - 1),
        abs(totals["naive_camera_walk_s"] / totals["model_camera_walk_s"] - 1),
    )
    return [
        naive.row(
            "naive",
            f"naive: 1 s ticks, {n} protesters",
            role="naive",
            protesters=n,
            events=naive.last.queries,
            ticks=naive.last.ticks,
            disagreement=disagreement,
            **totals,
        ),
        model.row(
            "naive",
            f"kernel: same {n} protesters, crowding off",
            role="naive_model",
            protesters=n,
            events=model.last.events,
        ),
    ]


def lower_bound_vs_model(quick: bool) -> list[dict]:
    """The vectorised lower bound and the model on the default scenario's plan (crowding off)."""
    from lower_bound import walk_exposure

    _, setup, seed, plan = _default_plan()
    n = len(plan.depart_s)
    model = repeat(
        lambda: simulate(plan, setup.streets, False),
        _reps(quick, 5, 3),
        warmup=lambda: simulate(plan, setup.streets, False),
    )
    ker = repeat(
        lambda: kernel.simulate(plan, setup.streets, False, log=False),
        _reps(quick, 20, 10),
        warmup=lambda: kernel.simulate(plan, setup.streets, False, log=False),
    )
    bound = repeat(
        lambda: walk_exposure(plan, setup.streets),
        _reps(quick, 50, 20),
        warmup=lambda: walk_exposure(plan, setup.streets),
    )
    walk = model.last.walk_exposure
    kwalk = ker.last.walk_exposure
    mismatch = max(
        _max_rel(bound.last.seen_s, walk[:, 0]),
        _max_rel(bound.last.camera_s, walk[:, 2]),
        _max_rel(bound.last.seen_s, kwalk[:, 0]),
        _max_rel(bound.last.camera_s, kwalk[:, 2]),
    )
    # the Plan drawn here must be the runner's: same seed, same per-protester walk exposure
    agents = runner.run_replication(setup, 0, seed).agents
    same_plan = bool(np.array_equal(agents["seen_walk_s"].to_numpy(), walk[:, 0]))
    return [
        bound.row(
            "lower_bound",
            f"lower bound: numpy pass, {n:,} protesters",
            role="lower_bound",
            protesters=n,
            events=bound.last.traversals,
            mismatch=mismatch,
            plan_matches_runner=same_plan,
        ),
        model.row(
            "lower_bound",
            f"reference: simulate(), {n:,} protesters, crowding off",
            role="lower_bound_reference",
            protesters=n,
            events=model.last.events,
        ),
        ker.row(
            "lower_bound",
            f"kernel: simulate(), {n:,} protesters, crowding off",
            role="lower_bound_model",
            protesters=n,
            events=ker.last.events,
        ),
    ]


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.maximum(np.abs(b), 1e-12)
    both_zero = (a == 0) & (b == 0)
    return float(np.max(np.where(both_zero, 0.0, np.abs(a - b) / scale), initial=0.0))


ALL_LAYERS = (
    CameraLayer("banthescan_all"),  # every Ban the Scan site, public and private-only
    CameraLayer("dot_cameras"),
    CameraLayer("linknyc"),
)


def coverage_all_layers(quick: bool) -> list[dict]:
    """Coverage of every Manhattan camera layer, radius and sightline, cold and cached."""
    data = source()
    classes = scenario_variant().cameras.classes
    city = load_inputs(data, ALL_LAYERS).limited_to_reach(classes)
    cams = city.cameras
    rows = []
    for visibility in ("radius", "sightline"):
        open_space, key = data.open_space(True)[:2] if visibility == "sightline" else (None, "")

        def build(folder: Path | None, visibility=visibility, open_space=open_space, key=key):
            store = (lambda kind, k, fn: cache.cached(kind, k, fn, folder)) if folder else None
            return build_coverage(
                city.network,
                cams,
                classes,
                visibility=visibility,
                open_space=open_space,
                open_space_key=key,
                store=store,
            )

        reps = 1 if visibility == "sightline" else _reps(quick, 3, 2)
        cold = repeat(
            lambda: build(None),
            reps,
            warmup=None if visibility == "sightline" else lambda: build(None),
        )
        with tempfile.TemporaryDirectory(prefix="bench_coverage_") as tmp:
            cached = repeat(
                lambda: build(Path(tmp)), _reps(quick, 5, 3), warmup=lambda: build(Path(tmp))
            )
        extra = {
            "cameras": len(cams),
            "edges": city.network.n_edges,
            "pieces": len(cold.last.pieces.edge),
        }
        rows += [
            cold.row(
                "exposure",
                f"coverage, all layers, {visibility}: cold",
                role=f"coverage_{visibility}_cold",
                **extra,
            ),
            cached.row(
                "exposure",
                f"coverage, all layers, {visibility}: cached",
                role=f"coverage_{visibility}_cached",
                **extra,
            ),
        ]
    return rows


def route_scoring(quick: bool) -> list[dict]:
    """Score every default-scenario origin's shortest route to the site, coverage cached."""
    from sim.city.routing import shortest_routes
    from sim.exposure.coverage import score_route

    setup = prepared(scenario_variant())
    city = setup.inputs

    def score_all():
        routes = shortest_routes(city.network, setup.origins.node, setup.site.node)
        return [score_route(city.network.edge_length_m, setup.coverage, r, 1.34) for r in routes]

    t = repeat(score_all, _reps(quick, 5, 3), warmup=score_all)
    n = len(t.last)
    return [
        t.row(
            "exposure",
            f"route: shortest route + score, {n} routes",
            role="route_score",
            routes=n,
            per_route_s=t.times_s[0] / n,
        )
    ]


ROUTE_PATH_POINTS = 1_000_000  # issue 24: answers within 30 s (quick mode too: one repetition)


def _drawn_path(n: int, path: Path) -> Path:
    """A path file of ``n`` points 'lat,lon': three round trips between Washington Square
    Park and Union Square (about 4.5 km) with GPS-like jitter of ~0.2 m, so every point counts."""
    a, b = np.array([40.7308, -73.9973]), np.array([40.7359, -73.9911])
    t = np.linspace(0.0, 1.0, n)
    pts = a + (b - a) * (1 - np.abs((t * 6) % 2 - 1))[:, None]
    pts += np.random.default_rng(1).normal(0.0, 2e-6, pts.shape)
    path.write_text("\n".join(f"{la:.7f},{lo:.7f}" for la, lo in pts) + "\n")
    return path


def route_path_points(quick: bool) -> list[dict]:
    """``route --path`` on a file of a million points, as a user runs it (the command line in
    this process: read, check it lies in the city, score, write route.json and route.png)."""
    from sim.cli.app import main

    with tempfile.TemporaryDirectory(prefix="bench_route_path_") as tmp:
        small = _drawn_path(1_000, Path(tmp) / "small.txt")
        big = _drawn_path(ROUTE_PATH_POINTS, Path(tmp) / "big.txt")
        argv = ["-q", "--data-dir", str(DATA_DIR), "--outputs", str(Path(tmp) / "out"), "route"]

        def score(path: Path) -> int:
            code = main([*argv, "--path", str(path)])
            if code != 0:
                raise RuntimeError(f"route --path exited {code}")
            return code

        t = repeat(lambda: score(big), _reps(quick, 3, 1), warmup=lambda: score(small))
    return [
        t.row(
            "exposure",
            f"route --path: {ROUTE_PATH_POINTS:,} points, scored and written",
            role="route_path_1m",
            points=ROUTE_PATH_POINTS,
        )
    ]


def rank_cameras(quick: bool) -> list[dict]:
    """rank-cameras on the default scenario: every site within 2 km of Washington Square Park."""
    from sim.crowd.ranking import agent_camera_seconds, greedy_removal_curve, marginal_contributions

    setup = prepared(scenario_variant(crowding=False))
    city = setup.inputs
    cams = setup.coverage.cameras
    within = int((np.hypot(cams.x - setup.site.x, cams.y - setup.site.y) <= 2000).sum())
    seed = np.random.SeedSequence(setup.scenario.seed).spawn(1)[0]

    def rank():
        rep = runner.run_replication(setup, 0, seed, keep_plan=True, world=runner.AMNESTY)
        exposure = agent_camera_seconds(
            setup.coverage,
            city.network.n_edges,
            rep.plan,
            rep.stand_cameras,
            rep.agents["dwell_s"].to_numpy(),
        )
        marginal_contributions(setup.coverage, exposure)
        return greedy_removal_curve(setup.coverage, exposure, within)

    t = repeat(rank, _reps(quick, 3, 2), warmup=rank)
    return [
        t.row(
            "exposure",
            f"rank-cameras: default scenario, {within} sites within 2 km",
            role="rank_cameras",
            cameras=within,
        )
    ]


def suite(quick: bool) -> list[tuple[Callable[..., list[dict]], dict[str, Any]]]:
    """Every case of the mode, in the order they run."""
    default_n = scenario_variant().crowd.protesters
    big = BIG_PROTESTERS[quick]
    cases: list[tuple[Callable[..., list[dict]], dict[str, Any]]] = [
        (network_cold, {}),
        (coverage_cold_warm, {}),
        (camera_worlds, {}),
        (city_cached, {}),
    ]
    for crowding in (True, False):
        cases.append(
            (scenario_run, {"protesters": default_n, "crowding": crowding, "role": "default"})
        )
    for crowding in (True, False):
        cases.append((scenario_run, {"protesters": big, "crowding": crowding, "role": "big"}))
    for size in ENGINE_SIZES[quick]:
        cases.append((engines_crowding, {"protesters": size}))
    for size in SCALING_SIZES[quick]:
        if size != big:  # the largest size is the big case above (crowding on)
            cases.append((scenario_run, {"protesters": size, "crowding": True, "role": "scaling"}))
    if not quick:
        cases.append((default_all_replications, {}))
    cases += [
        (naive_vs_model, {}),
        (lower_bound_vs_model, {}),
        (coverage_all_layers, {}),
        (route_scoring, {}),
        (route_path_points, {}),
        (rank_cameras, {}),
        (citywide_day, {}),
        (cold_start, {}),
    ]
    return cases
