"""Camera worlds on the real bundle: parity of the omnidirectional world with Amnesty's
geometry on both engines, the cut checked point by point on the real coverage, and a run of
the default scenario under worlds (below the preset, its range around its value, the same on
one and two workers)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import prepared, small_scenario

from sim.cli.app import main
from sim.crowd.draws import world_key_of
from sim.crowd.engines import with_engine
from sim.crowd.runner import AMNESTY, run_replication
from sim.exposure.sectors import world_coverage
from sim.exposure.worlds import World, draw_world
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.variants import override

pytestmark = pytest.mark.realdata


def _scenario(**changes):
    base = {"crowd.protesters": 500, "replications": 1}
    return override(load_scenario(DEFAULT_SCENARIO), {**base, **changes})


@pytest.fixture(scope="module")
def setup(source):
    return prepared(_scenario(), source)


def _same(a, b):
    assert list(a.agents.columns) == list(b.agents.columns)
    for col in a.agents.columns:
        x, y = a.agents[col].to_numpy(), b.agents[col].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), col
        else:
            assert x.tolist() == y.tolist(), col
    assert a.timeseries.equals(b.timeseries)
    assert np.array_equal(a.edge_traffic, b.edge_traffic)
    assert np.array_equal(a.street_seen_s, b.street_seen_s)


@pytest.mark.parametrize("undercount", [False, True], ids=["counts", "undercount"])
@pytest.mark.parametrize("engine", ["reference", "kernel"])
def test_the_omnidirectional_world_reproduces_amnestys_geometry_bit_for_bit(
    source, setup, engine, undercount
):
    """A world in which every camera is all around, working, at its class reach gives the
    figures of the omnidirectional code path exactly, on both engines (and with Amnesty's
    undercount drawn): the scenario prepared without worlds, run as before."""
    changes = {"engine": engine, "uncertainty.undercount": undercount}
    with_worlds = dataclasses.replace(setup, scenario=override(setup.scenario, changes))
    without = prepared(_scenario(**changes, **{"cameras.world": "amnesty"}), source)
    assert without.worlds is None and with_worlds.worlds is not None
    seed = np.random.SeedSequence(setup.scenario.seed, spawn_key=(0,))
    omni = World.omnidirectional(setup.coverage.level_range_m)
    today = run_replication(without, 0, seed)
    through_worlds = run_replication(with_worlds, 0, seed, world=omni)
    preset = run_replication(with_worlds, 0, seed, world=AMNESTY)
    _same(today, through_worlds)
    _same(today, preset)
    assert today.agents["seen_walk_s"].median() > 0


def test_engines_agree_under_a_drawn_world(setup):
    seed = np.random.SeedSequence(setup.scenario.seed, spawn_key=(0,))
    reps = [
        run_replication(
            dataclasses.replace(setup, scenario=with_engine(setup.scenario, engine)), 0, seed
        )
        for engine in ("reference", "kernel")
    ]
    _same(*reps)
    assert reps[0].world is not None and reps[0].site_view is not None


def test_a_drawn_world_is_cut_exactly_on_the_real_streets(setup):
    """Points every 0.5 m along each camera site's omnidirectional pieces of a level (real
    edges, with their vertices, and the first and last metres), classified directly by
    distance and bearing from the site: in view in the world iff one of the site's cameras
    has it within its reach and sector, iff it lies in the world's pieces of that site."""
    seed = np.random.SeedSequence(setup.scenario.seed, spawn_key=(0,))
    world = draw_world(setup.worlds.draws, world_key_of(seed))
    cov = world_coverage(setup.worlds.geometry, world)
    pieces = setup.coverage.pieces
    rng = np.random.default_rng(1)
    sites = rng.choice(np.unique(pieces.camera), 150, replace=False)
    assert np.bincount(world.site)[sites].max() > 1  # sites of several cameras among them
    geom = np.r_[setup.inputs.network.edge_geom, setup.access.geom]
    xs, ys = setup.coverage.cameras.x, setup.coverage.cameras.y
    checked = agree = 0
    for level in range(3):
        base = pieces.subset(pieces.level == level)
        got = cov.pieces.subset(cov.pieces.level == level)
        for c in sites:
            mine = base.subset(base.camera == c)
            steps = [np.arange(s + 0.25, e, 0.5) for s, e in zip(mine.start_m, mine.end_m)]
            if not sum(len(a) for a in steps):
                continue
            along = np.concatenate(steps)
            edge = np.repeat(mine.edge, [len(a) for a in steps]).astype(np.int64)
            pts = shapely.get_coordinates(shapely.line_interpolate_point(geom[edge], along))
            dx, dy = pts[:, 0] - xs[c], pts[:, 1] - ys[c]
            dist = np.hypot(dx, dy)
            bearing = np.degrees(np.arctan2(dx, dy)) % 360
            expect = np.zeros(len(along), bool)
            near = np.zeros(len(along), bool)  # within 1 mm of a reach or sector boundary
            for m in np.flatnonzero(world.site == c):
                off = np.abs((bearing - world.aim_deg[m] + 180) % 360 - 180)
                reach, half = world.reach_m[m, level], world.sector_deg[m] / 2
                expect |= world.working[m] & (dist <= reach) & (off <= half)
                near |= (np.abs(dist - reach) < 1e-3) | (
                    np.abs(off - half) * np.pi / 180 * dist < 1e-3
                )
            theirs = got.subset(got.camera == c)
            inside = np.zeros(len(along), bool)
            for s, e, k in zip(theirs.start_m, theirs.end_m, theirs.edge):
                inside |= (edge == k) & (along >= s) & (along <= e)
            checked += int((~near).sum())
            agree += int((inside == expect)[~near].sum())
            assert expect.any() or not inside.any()
    assert checked > 10_000
    assert agree == checked


def test_worlds_never_see_more_than_amnestys_geometry(setup):
    base = setup.coverage.edges
    for k in range(3):
        seed = np.random.SeedSequence(setup.scenario.seed, spawn_key=(k,))
        cov = world_coverage(
            setup.worlds.geometry, draw_world(setup.worlds.draws, world_key_of(seed))
        )
        n = len(base.seen_m)
        for name in ("seen_m", "recognition_m", "identification_m", "camera_m"):
            # (unions are summed in bands by edge number: equal lengths differ in the 8th decimal)
            assert (getattr(cov.edges, name)[:n] <= getattr(base, name) + 1e-6).all(), name


def _run(data_dir, scenario, out, workers):
    argv = ["--data-dir", str(data_dir), "--outputs", str(out), "--no-progress", "-q"]
    assert main([*argv, "run", str(scenario), "--workers", str(workers), "--no-report"]) == 0
    (folder,) = (out / "washington_square").iterdir()
    return folder


def test_a_default_run_under_worlds_sits_below_amnestys_geometry_on_any_number_of_workers(
    data_dir, tmp_path
):
    scenario = small_scenario(DEFAULT_SCENARIO, tmp_path / "washington_square.toml", 300, 4)
    one = _run(data_dir, scenario, tmp_path / "one", 1)
    two = _run(data_dir, scenario, tmp_path / "two", 2)
    assert (one / "agents.csv").read_bytes() == (two / "agents.csv").read_bytes()
    summary = json.loads((one / "summary.json").read_text())
    assert summary == json.loads((two / "summary.json").read_text())
    walk = summary["figures"]["seen_walk_s.median"]
    upper = summary["amnesty_geometry"]["figures"]["seen_walk_s.median"]
    assert walk["world_p05"] <= walk["value"] <= walk["world_p95"]
    assert walk["world_p95"] < upper
    for name, fig in summary["figures"].items():
        assert {"world_p05", "world_p95"} <= set(fig), name
        if fig["world_p05"] is not None:
            assert fig["world_p05"] <= fig["world_p95"], name
    # the Amnesty row is replication 0's crowd: every protester of it, in that geometry
    agents = pd.read_parquet(one / "agents.parquet")
    rep0 = agents[agents["replication"] == 0]
    assert (rep0["seen_walk_s"].median()) <= upper
    manifest = json.loads((one / "manifest.json").read_text())
    worlds = manifest["camera_worlds"]
    assert worlds["world"] == "drawn" and worlds["aim"] == "streets"
    assert len(worlds["replications"]) == 4
    assert set(worlds["priors"]) >= {"public_street", "private_building"}
    view = summary["site_area_in_view"]
    assert view["any_camera"]["world_p05"] <= view["any_camera"]["share"]
    assert view["any_camera"]["share"] <= view["amnesty_geometry"]["any_camera"]["share"]
