"""Sensitivity analysis: Sobol indices of Ishigami's function through the command's own path,
Morris screening of the real scenario, the [sensitivity] section's checks, count multiplier."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import prepared

from sim.batch.jobs import run_design
from sim.batch.options import RunOptions
from sim.batch.sensitivity import design, parameter_value
from sim.batch.sweep import Variant
from sim.batch.tasks import TaskResult, TaskStore
from sim.cli.app import main
from sim.crowd.runner import run_replication
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.sections import Sensitivity, SensitivityParameter
from sim.scenario.variants import override

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami_task(task) -> TaskResult:
    x = task.payload
    y = (
        math.sin(x["x1"])
        + ISHIGAMI_A * math.sin(x["x2"]) ** 2
        + ISHIGAMI_B * x["x3"] ** 4 * math.sin(x["x1"])
    )
    return TaskResult({"y": y})


def ishigami_indices() -> tuple[list[float], list[float]]:
    """Ishigami's first and total order indices, analytically (Saltelli et al. 2008)."""
    a, b, pi = ISHIGAMI_A, ISHIGAMI_B, math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def _ishigami(tmp_path, workers: int, samples: int):
    params = tuple(SensitivityParameter(f"x{i}", (-math.pi, math.pi)) for i in (1, 2, 3))
    spec = Sensitivity(method="sobol", samples=samples, outcomes=("y",), parameters=params)
    dsn = design(spec, 20200602)
    variants = [Variant(f"p{i:05d}", 1, v) for i, v in enumerate(dsn.values())]
    return run_design(
        dsn,
        variants,
        lambda v: dict(v.params),
        ishigami_task,
        TaskStore(tmp_path),
        RunOptions(workers=workers),
        ["y"],
        20200602,
        "ishigami",
    )


def test_sobol_indices_of_ishigami_lie_within_salibs_intervals_of_the_known_values(tmp_path):
    tasks, table, execution = _ishigami(tmp_path, 1, 512)
    assert execution.total == 512 * (3 + 2) == len(tasks)
    s1, st = ishigami_indices()
    for i, row in enumerate(table.itertuples()):
        assert row.S1_ci95_low <= s1[i] <= row.S1_ci95_high, (row.parameter, row.S1, s1[i])
        assert row.ST_ci95_low <= st[i] <= row.ST_ci95_high, (row.parameter, row.ST, st[i])
    assert table.sort_values("rank")["parameter"].tolist() == ["x1", "x2", "x3"]
    # the design is tidy: one row per task with its parameters and outcome
    assert list(tasks.columns[:6]) == ["variant", "replication", "seed", "x1", "x2", "x3"]


def test_a_design_run_on_two_processes_gives_the_same_table_as_on_one(tmp_path):
    one, a, _ = _ishigami(tmp_path / "one", 1, 64)
    two, b, execution = _ishigami(tmp_path / "two", 2, 64)
    assert execution.workers == 2 and execution.pool == "processes"
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_discrete_and_integer_parameters_map_the_unit_interval_to_their_values():
    flag = SensitivityParameter("walking.crowding", values=(False, True))
    assert [parameter_value(flag, u) for u in (0.0, 0.49, 0.5, 1.0)] == [False, False, True, True]
    n = SensitivityParameter("routing.routes_per_origin", (1, 9), integer=True)
    assert [parameter_value(n, u) for u in (0.0, 0.5, 1.0)] == [1, 5, 9]


SENSITIVITY_TEXT = f"""base = "{DEFAULT_SCENARIO}"
name = "tiny_morris"
replications = 1
[crowd]
protesters = 100
[cameras]
visibility = "radius"
world = "amnesty"   # reach as Amnesty's geometry has it (under camera worlds it is a cap)
[sensitivity]
method = "morris"
samples = 2
outcomes = ["seen_total_s.median", "share_seen_at_all", "camera_s.median"]
[[sensitivity.parameters]]
key = "cameras.classes.public_street.range_m"
bounds = [30.0, 200.0]
name = "public camera reach (m)"
[[sensitivity.parameters]]
key = "routing.exposure_weight"
bounds = [1.0, 10.0]
[[sensitivity.parameters]]
key = "uncertainty.count_multiplier"
bounds = [1.0, 4.3]
"""


@pytest.mark.realdata
def test_morris_on_the_real_city_ranks_reach_first_and_an_unused_parameter_at_zero(
    data_dir, tmp_path
):
    path = tmp_path / "morris.toml"
    path.write_text(SENSITIVITY_TEXT)
    out = tmp_path / "out"
    args = ["--data-dir", str(data_dir), "--outputs", str(out), "-q"]
    assert main([*args, "sensitivity", str(path), "--workers", "1", "--no-progress"]) == 0
    [folder] = (out / "sensitivity").iterdir()
    tasks = pd.read_csv(folder / "tasks.csv")
    assert len(tasks) == 2 * (3 + 1)  # trajectories x (parameters + 1), one replication each
    assert {"cameras.classes.public_street.range_m", "routing.exposure_weight"} <= set(tasks)
    table = pd.read_csv(folder / "indices.csv")
    assert len(table) == 3 * 3
    # with shortest routes the exposure weight changes nothing, and common random numbers
    # make its elementary effects exactly zero
    unused = table[table["key"] == "routing.exposure_weight"]
    assert (unused["mu_star"] == 0).all() and (unused["sigma"] == 0).all()
    seen = table[table["outcome"] == "seen_total_s.median"].set_index("key")
    assert seen.loc["cameras.classes.public_street.range_m", "rank"] == 1
    assert seen.loc["uncertainty.count_multiplier", "mu_star"] == 0  # counts never hide a view
    cams = table[table["outcome"] == "camera_s.median"].set_index("key")
    assert cams.loc["uncertainty.count_multiplier", "mu_star"] > 0
    assert cams.loc["routing.exposure_weight", "rank"] == 3
    assert (folder / "sensitivity_ranking.png").stat().st_size > 10_000
    # a second run of the same command finds every task finished and writes the same indices
    before = (folder / "indices.csv").read_bytes()
    assert main([*args, "sensitivity", str(path), "--workers", "1", "--no-progress"]) == 0
    assert (folder / "indices.csv").read_bytes() == before


@pytest.mark.parametrize(
    "section, message",
    [
        (
            'outcomes = ["seen_total_s.mode"]',
            "key 'sensitivity.outcomes': unknown outcome 'seen_total_s.mode' (allowed: walk_m",
        ),
        (
            '[[sensitivity.parameters]]\nkey = "walking.speed_mean_mps"\nbounds = [1.5, 1.0]',
            "key 'sensitivity.parameters[0].bounds': bad value [1.5, 1.0] (allowed: [low, high]",
        ),
        (
            '[[sensitivity.parameters]]\nkey = "walking.crowding"',
            "key 'sensitivity.parameters[0]': give either 'bounds' = [low, high] or 'values'",
        ),
        (
            '[[sensitivity.parameters]]\nkey = "walking.speed_mean_mps"\nbounds = [1.0, 5.0]',
            "key 'walking.speed_mean_mps': bad value 5.0 (allowed: a number <= 3.0) "
            "(sensitivity.parameters[0] high end)",
        ),
        (
            '[[sensitivity.parameters]]\nkey = "walking.sped"\nbounds = [1.0, 2.0]',
            "unknown key 'walking.sped'",
        ),
        (
            'method = "fast"',
            "key 'sensitivity.method': bad value 'fast' (allowed: one of 'morris', 'sobol')",
        ),
    ],
)
def test_a_bad_sensitivity_section_stops_with_one_line_and_writes_nothing(
    tmp_path, capsys, section, message
):
    path = tmp_path / "bad.toml"
    path.write_text(f'base = "{DEFAULT_SCENARIO}"\nname = "bad"\n[sensitivity]\n{section}\n')
    out = tmp_path / "out"
    assert main(["--outputs", str(out), "sensitivity", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


@pytest.mark.realdata
def test_the_count_multiplier_scales_camera_seconds_and_leaves_time_in_view_alone(source):
    """In Amnesty's geometry a site sees all around whatever its count; in camera worlds a
    site holds its count of cameras, so more cameras see more (never less)."""
    base = override(
        load_scenario(DEFAULT_SCENARIO),
        {
            "crowd.protesters": 150,
            "replications": 1,
            "walking.crowding": False,
            "cameras.visibility": "radius",
            "cameras.world": "amnesty",
        },
    )
    seed = np.random.SeedSequence(base.seed).spawn(1)[0]
    one = run_replication(prepared(base, source), 0, seed).agents
    more = override(base, {"uncertainty.count_multiplier": 2.5})
    scaled = run_replication(prepared(more, source), 0, seed).agents
    np.testing.assert_allclose(scaled["camera_s"], 2.5 * one["camera_s"], rtol=1e-12)
    np.testing.assert_array_equal(scaled["seen_total_s"], one["seen_total_s"])
    assert one["camera_s"].sum() > 0
    drawn = override(base, {"cameras.world": "drawn"})
    few = run_replication(prepared(drawn, source), 0, seed)
    many = run_replication(
        prepared(override(drawn, {"uncertainty.count_multiplier": 2.5}), source), 0, seed
    )
    assert (many.agents["seen_walk_s"] >= few.agents["seen_walk_s"] - 1e-9).all()
    assert many.agents["seen_walk_s"].sum() > few.agents["seen_walk_s"].sum()
    cameras = {k: v["cameras"] for k, v in few.world.items() if k != "world"}
    assert {k: v["cameras"] for k, v in many.world.items() if k != "world"} != cameras
