"""The site reported as what a stay there means: the share of its standing ground in view,
the mean minutes in view and the share never in view, never the median of a value that is
either 0 or the whole stay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import prepared, small_scenario
from scipy.spatial import cKDTree

from sim.cli.app import main
from sim.crowd.site_area import area_in_view
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.variants import override

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("reach_m", [120.0, 30.0])
def test_the_share_of_the_ground_in_view_equals_the_standing_points_within_reach(source, reach_m):
    """Under the radius model, a standing point is in view when a camera site lies within its
    class's reach: counted here with a k-d tree over the sites in use."""
    scenario = override(
        load_scenario(DEFAULT_SCENARIO),
        {
            "crowd.protesters": 200,
            "replications": 1,
            "cameras.visibility": "radius",
            "cameras.classes.public_street.range_m": reach_m,
        },
    )
    setup = prepared(scenario, source)
    pts, cams = setup.access.stand_xy, setup.coverage.cameras
    reach = setup.coverage.level_range_m
    tree = cKDTree(np.c_[cams.x, cams.y])
    flags = []
    for level in range(3):
        near = tree.query_ball_point(pts, r=reach.max())
        flags.append(
            np.array(
                [
                    any(np.hypot(*(pts[i] - (cams.x[j], cams.y[j]))) <= reach[j, level] for j in js)
                    for i, js in enumerate(near)
                ]
            )
        )
    from sim.outputs.run_files import site_in_view

    view = site_in_view(setup)
    for level, key in enumerate(("any_camera", "recognition", "identification")):
        assert view[key]["share"] == flags[level].mean()
        lo, hi = view[key]["ci95"]
        assert lo <= view[key]["share"] <= hi
    assert view == area_in_view(*flags)
    if reach_m == 30.0:  # at 30 m a share of the park, not none, is in view (the audit: 19%)
        assert 0.05 < view["any_camera"]["share"] < 0.5


def test_a_run_reports_the_site_by_mean_never_seen_and_ground_in_view(data_dir, tmp_path, capsys):
    scenario = small_scenario(
        DEFAULT_SCENARIO,
        tmp_path / "washington_square.toml",
        300,
        2,
        {'visibility = "sightline"': 'visibility = "radius"'},
    )
    text = scenario.read_text()
    scenario.write_text(
        text.replace("[cameras]", "[cameras]\nclasses.public_street.range_m = 60", 1)
    )
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "--no-progress"]
    assert main([*argv, "run", str(scenario), "--no-report"]) == 0
    out = capsys.readouterr().out
    folder = next((tmp_path / "out" / "washington_square").iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    agents = pd.read_parquet(folder / "agents.parquet")
    stood = agents[agents["dwell_s"] > 0]
    never = stood.groupby("replication")["seen_dwell_s"].apply(lambda v: (v <= 0).mean())
    fig = summary["figures"]["share_never_seen_standing"]
    assert fig["value"] == pytest.approx(never.mean(), abs=1e-12)
    assert 0 < fig["value"] < 1  # at 60 m some protesters stand out of every camera's view
    mean = stood.groupby("replication")["seen_dwell_s"].mean().mean() / 60
    line = next(x for x in out.splitlines() if x.startswith("at the site: mean minutes"))
    assert float(line[52:62]) == pytest.approx(mean, abs=0.05)
    assert f"{fig['value'] * 100:.1f}%" in next(
        x for x in out.splitlines() if x.startswith("at the site: % of protesters never")
    )
    view = summary["site_area_in_view"]
    ground = next(x for x in out.splitlines() if "standing ground in view" in x)
    assert f"any camera {view['any_camera']['share'] * 100:.1f}%" in ground
