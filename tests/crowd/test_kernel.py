"""The compiled engine against the simpy reference: bit-identical outcomes and tables.

Every comparison is exact (``np.array_equal``, NaN equal to NaN): the kernel performs the
reference's floating-point operations in the reference's event order, so no tolerance is
needed anywhere.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, prepared

from sim.crowd import kernel, model
from sim.crowd.draws import draw_plan
from sim.crowd.engines import with_engine
from sim.crowd.model import Plan, Streets
from sim.crowd.multisite import draw_sites, with_total
from sim.crowd.runner import run_replication
from sim.crowd.tables import agent_table, timeseries
from sim.crowd.usage import street_seconds_in_view
from sim.errors import ScenarioError
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.validation import parse_scenario
from sim.scenario.variants import override

SCENARIO_FILES = sorted(SCENARIOS.glob("*.toml"))
OUTCOME_ARRAYS = [
    f.name for f in dataclasses.fields(model.Outcome) if f.name not in ("events", "flows")
]


def assert_same_outcome(ref: model.Outcome, ker: model.Outcome):
    for name in OUTCOME_ARRAYS:
        a, b = getattr(ref, name), getattr(ker, name)
        assert a.shape == b.shape, name
        assert a.dtype == b.dtype or (a.size == 0 and b.size == 0), name
        if a.dtype == object:
            assert a.tolist() == b.tolist(), name
        else:
            assert np.array_equal(a, b, equal_nan=True), name
    assert ref.events == ker.events


# ------------------------------------------------------------------ hand-made streets


def _streets(length, seen, width):
    length, seen = np.asarray(length, float), np.asarray(seen, float)
    first = np.where(seen > 0, (length - seen) / 2, np.nan)
    return Streets(length, np.asarray(width, float), seen, seen / 2, seen * 2, seen / 3,
                   seen / 5, first)  # fmt: skip


def _plan(depart, speed, out_route, back_route, routes, dwell, origin, stand_seen, **march):
    n = len(depart)
    z = np.zeros(n)
    return Plan(
        depart_s=np.asarray(depart, float),
        speed_mps=np.asarray(speed, float),
        dwell_s=np.asarray(dwell, float),
        out_route=np.asarray(out_route, np.int64),
        back_route=np.asarray(back_route, np.int64),
        stand_seen=np.asarray(stand_seen, float),
        stand_public=np.asarray(stand_seen, float),
        stand_camera=np.asarray(stand_seen, float) * 2,
        stand_recognition=z,
        stand_identification=z,
        routes=[np.asarray(r, np.int64) for r in routes],
        origin=np.asarray(origin, np.int64),
        **march,
    )


def test_three_walkers_on_one_narrow_edge_slow_as_weidmann_says():
    """10 m x 0.1 m: one walker is at 1 person/m2, two at 2, three at 3."""
    streets = _streets([10.0], [4.0], [0.1])
    plan = _plan([0.0, 2.0, 4.0], [1.0] * 3, [0] * 3, [-1] * 3, [[0]], [0.0] * 3, [0] * 3,
                 [0] * 3)  # fmt: skip
    out = kernel.simulate(plan, streets, crowding=True)

    def factor(density):
        return 1 - math.exp(-1.913 * (1 / density - 1 / 5.4))

    expected = [10 / factor(1), 2 + 10 / factor(2), 4 + 10 / factor(3)]
    assert out.arrive_s == pytest.approx(expected, rel=1e-12)
    assert out.trav_speed_mps == pytest.approx([factor(1), factor(2), factor(3)], rel=1e-12)
    assert out.walk_exposure[:, 0] == pytest.approx(4.0 / np.array(out.trav_speed_mps))
    assert out.first_exposure_s == pytest.approx([0, 2, 4] + 3.0 / out.trav_speed_mps)
    assert out.status.tolist() == ["done"] * 3
    # without crowding each takes 10 s
    free = kernel.simulate(plan, streets, crowding=False)
    assert free.arrive_s.tolist() == [10.0, 12.0, 14.0]


def _random_case(seed: int, n: int = 300):
    """A 30-edge network, narrow enough to crowd, departures on whole seconds (ties)."""
    rng = np.random.default_rng(seed)
    n_edges = 30
    length = rng.uniform(5, 80, n_edges)
    length[3] = 1e-15  # so short that leaving it is arriving (no time on the clock, no flow)
    seen = length * rng.uniform(0, 1, n_edges) * (rng.random(n_edges) > 0.4)
    streets = _streets(length, seen, rng.uniform(0.5, 2.0, n_edges))
    routes = [rng.permutation(n_edges)[:12] for _ in range(4)] + [np.zeros(0, np.int64)]
    routes[0][0] = 3
    plan = _plan(
        depart=np.round(rng.uniform(0, 200, n)),
        speed=rng.uniform(0.8, 1.8, n),
        out_route=np.where(rng.random(n) < 0.03, -1, rng.integers(0, 5, n)),
        back_route=rng.integers(-1, 5, n),
        routes=routes,
        dwell=np.where(rng.random(n) < 0.2, 0.0, 60.0),
        origin=rng.integers(0, 6, n),
        stand_seen=rng.random(n) < 0.5,
    )
    return plan, streets


@pytest.mark.parametrize("crowding", [True, False])
@pytest.mark.parametrize("until", [None, 90.0, 250.0])
@pytest.mark.parametrize("march", [False, True])
@pytest.mark.parametrize("dwell", ["equal", "varied"])
def test_kernel_equals_reference_on_random_streets(crowding, until, march, dwell):
    """Equal stays end in the order they start (the kernel's queue); varied ones do not (its
    heap); whole-second departures make ties that only the creation order breaks."""
    plan, streets = _random_case(1)
    if dwell == "varied":
        rng = np.random.default_rng(2)
        plan = dataclasses.replace(plan, dwell_s=np.round(rng.uniform(0, 90, len(plan.dwell_s))))
    if march:
        plan = dataclasses.replace(plan, march_route=2, march_start_s=240.0, march_speed_mps=1.1)
    ref = model.simulate(plan, streets, crowding, until_s=until)
    ker = kernel.simulate(plan, streets, crowding, until_s=until)
    assert_same_outcome(ref, ker)
    if crowding:  # the case exercises crowding and ties
        assert (ker.trav_speed_mps < plan.speed_mps[ker.trav_agent] * 0.9).any()
    assert len(np.unique(plan.depart_s)) < len(plan.depart_s)
    if not crowding and until is None:  # edge by edge, too
        assert_same_outcome(
            model.simulate(plan, streets, False, edge_events=True),
            kernel.simulate(plan, streets, False, edge_events=True),
        )


# ------------------------------------------------------------------ the real city


def _scenario(path: Path, protesters: int, crowding: bool, **sections):
    changes = {"crowd.protesters": protesters, "replications": 1, "walking.crowding": crowding}
    changes.update({f"{sec}.{k}": v for sec, kv in sections.items() for k, v in kv.items()})
    scenario = load_scenario(path)
    if scenario.sites:  # several sites: each site's crowd scaled, the total as for one site
        scenario = with_total(scenario, changes.pop("crowd.protesters"))
    # a sweep's variants differ in cameras only: the file's own values stand for them
    return override(scenario, changes, drop=("sweep",))


@pytest.fixture(scope="module")
def setups(source):
    """Each scenario file prepared once (crowding does not change the set-up)."""
    cache = {}

    def get(path: Path, **sections):
        key = (path, repr(sections))
        if key not in cache:
            cache[key] = prepared(_scenario(path, 400, True, **sections), source)
        return cache[key]

    return get


def _both_engines(setup, crowding: bool, protesters: int | None = None):
    changes = {"walking.crowding": crowding}
    if protesters:
        changes["crowd.protesters"] = protesters
    scenario = override(setup.scenario, changes)
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    reps = [
        run_replication(dataclasses.replace(setup, scenario=with_engine(scenario, e)), 0, seed)
        for e in ("reference", "kernel")
    ]
    return reps, dataclasses.replace(setup, scenario=scenario), seed


def _assert_same_replication(ref, ker):
    assert list(ref.agents.columns) == list(ker.agents.columns)
    for col in ref.agents.columns:  # every agents.csv column, exactly
        a, b = ref.agents[col].to_numpy(), ker.agents[col].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), col
        else:
            assert a.tolist() == b.tolist(), col
    assert ref.timeseries.equals(ker.timeseries)
    assert np.array_equal(ref.edge_traffic, ker.edge_traffic)
    assert np.array_equal(ref.street_seen_s, ker.street_seen_s)
    assert ref.street_seen_s.sum() > 0
    assert ref.events == ker.events


@pytest.mark.realdata
@pytest.mark.parametrize("crowding", [True, False], ids=["crowding", "free"])
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_kernel_equals_reference_on_every_scenario(setups, path, crowding):
    from sim.data.networks import NetworkSpec, spec_from_scenario

    if spec_from_scenario(load_scenario(path).network) != NetworkSpec():
        pytest.skip(f"{path.name} needs a walk network the offline bundle does not have")
    setup = setups(path)
    (ref, ker), scenario_setup, seed = _both_engines(setup, crowding)
    _assert_same_replication(ref, ker)
    assert (ref.agents["status"] == "done").mean() > 0.9
    if not setup.scenario.uncertainty.undercount:  # the Outcome itself, with its log
        draw = draw_sites if setup.parts else draw_plan
        plan, _ = draw(scenario_setup, seed)
        assert_same_outcome(
            model.simulate(plan, setup.streets, crowding),
            kernel.simulate(plan, setup.streets, crowding),
        )


@pytest.mark.realdata
def test_dense_train_waves_and_dispersal_to_the_nearest_exit(setups):
    """600 protesters in 5 minutes of train waves, all leaving by the nearest exit."""
    setup = setups(
        DEFAULT_SCENARIO,
        arrival={"duration_s": 300.0, "train_headway_s": 120.0},
        dwell={"duration_s": 600.0, "disperse_to": "nearest"},
    )
    (ref, ker), scenario_setup, seed = _both_engines(setup, True, protesters=600)
    _assert_same_replication(ref, ker)
    plan, _ = draw_plan(scenario_setup, seed)
    last = {int(plan.routes[r][-1]) for r in set(plan.back_route.tolist())}
    assert len(last) == 1  # everyone ends at the same exit (from their own standing point)
    out = kernel.simulate(plan, setup.streets, True)
    slowed = out.trav_speed_mps < plan.speed_mps[out.trav_agent] * (1 - 1e-3)
    assert slowed.mean() > 0.02  # crowding is doing something here


@pytest.mark.realdata
@pytest.mark.parametrize("until", [600.0, 3000.0, 7300.0])
def test_clock_cut_offs_give_the_reference_tables(setups, until):
    """Mid-arrival, mid-rally and mid-dispersal: the kernel without its log gives the same
    tables (partial walks, standing times, the crowd over time) as the reference."""
    setup = setups(DEFAULT_SCENARIO)
    seed = np.random.SeedSequence(5).spawn(1)[0]
    plan, stand = draw_plan(setup, seed)
    ref = model.simulate(plan, setup.streets, True, until_s=until)
    assert_same_outcome(ref, kernel.simulate(plan, setup.streets, True, until_s=until))
    ker = kernel.simulate(plan, setup.streets, True, until_s=until, log=False)
    assert ker.trav_edge.size == 0 and ker.flows is not None
    assert np.array_equal(
        ker.flows.edge_traffic, np.bincount(ref.trav_edge, minlength=len(setup.streets.length_m))
    )
    street = (setup.streets.length_m, setup.streets.seen_m)
    assert np.array_equal(
        street_seconds_in_view(ref, *street), street_seconds_in_view(ker, *street)
    )
    args = (setup.origins, setup.site.site_id, setup.streets.length_m, setup.coverage)
    a = agent_table(*args, plan, ref, stand, 0, 5)
    b = agent_table(*args, plan, ker, stand, 0, 5)
    assert a.equals(b)
    assert set(a["status"]) - {"done"}  # the clock did cut someone off
    assert timeseries(plan, ref, setup.streets, 30, 0).equals(
        timeseries(plan, ker, setup.streets, 30, 0)
    )


def test_engine_key_is_checked():
    raw = tomllib.loads(DEFAULT_SCENARIO.read_text())
    raw["engine"] = "fast"
    with pytest.raises(ScenarioError, match=r"key 'engine'.*'kernel', 'reference'"):
        parse_scenario(raw, DEFAULT_SCENARIO)
    raw["engine"] = "reference"
    scenario = parse_scenario(raw, DEFAULT_SCENARIO)
    assert with_engine(scenario, "kernel").engine == "kernel"
    assert with_engine(scenario, "kernel").resolved()["engine"] == "kernel"
    assert with_engine(scenario, None) is scenario


@pytest.mark.realdata
def test_run_command_engine_option_writes_the_same_tables(data_dir, tmp_path):
    """``run --engine reference`` and ``run`` (the kernel) write identical agents and series;
    each manifest records the engine that ran."""
    from sim.cli.app import main

    text = DEFAULT_SCENARIO.read_text()
    path = tmp_path / "small.toml"
    path.write_text(text.replace("protesters = 4000", "protesters = 300"))
    assert "protesters = 300" in path.read_text()
    folders = {}
    for engine in ("reference", "kernel"):
        out = tmp_path / engine
        argv = ["--data-dir", str(data_dir), "--outputs", str(out), "-q", "run", str(path)]
        assert main([*argv, "--no-progress", "--engine", engine]) == 0
        (folders[engine],) = (out / "washington_square").iterdir()
    ref, ker = folders["reference"], folders["kernel"]
    assert (ref / "agents.csv").read_bytes() == (ker / "agents.csv").read_bytes()
    assert (ref / "timeseries.csv").read_bytes() == (ker / "timeseries.csv").read_bytes()
    for engine, folder in folders.items():
        manifest = (folder / "manifest.json").read_text()
        assert f'"engine": "{engine}"' in manifest


def test_pairwise_sums_are_numpys():
    """The kernel's route totals add in numpy's pairwise order (blocks of 128, eight lanes)."""
    rng = np.random.default_rng(3)
    for n in [*range(0, 300), 1000, 1023, 1024, 1025, 5000, 40_000]:
        a = rng.random(n + 3) * 10.0 ** rng.uniform(-3, 3, n + 3)
        assert kernel._pairwise_sum(a, 2, n) == a[2 : 2 + n].sum(), n


# ------------------------------------------------------------------ compiling once


def test_numba_caches_in_the_project_cache_where_the_package_is_read_only(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("PROTEST_SIM_CACHE", str(tmp_path / "cache"))
    assert kernel.numba_cache_folder() is None  # the package's __pycache__ can be written

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(kernel.tempfile, "TemporaryFile", read_only)
    assert kernel.numba_cache_folder() == tmp_path / "cache" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert kernel.numba_cache_folder() is None  # the user's choice stands
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("PROTEST_SIM_CACHE", "off")
    assert kernel.numba_cache_folder() is None


_COLD = """
import sys
from sim import progress
from sim.crowd import kernel
progress.configure(True, sys.stdout, tty=False)
print("ready" if kernel.engine_ready() else "cold")
kernel.prepare_engine()
"""


def test_the_engine_compiles_once_saying_so_then_loads_from_numbas_cache(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    runs = [
        subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True,
                       check=True, cwd=Path(kernel.__file__).parents[2]).stdout.splitlines()
        for _ in range(2)
    ]  # fmt: skip
    assert runs[0][0] == "cold" and runs[0][1].startswith("compiling the engine (once per")
    assert runs[0][-1].startswith("compiling the engine: done in")
    assert runs[1] == ["ready"]  # loaded from the cache, nothing said
    assert list((tmp_path / "numba").rglob("*.nbi"))
