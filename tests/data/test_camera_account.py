"""Camera counts at sites, deduplication across layers, and the sites that see the study area."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely

from sim.data.camera_counts import Intersections, count_sites, read_intersections
from sim.data.cameras import SOURCE_PRIORITY, read_point_csv, read_point_json
from sim.exposure.cameras import make_sites
from sim.exposure.coverage import build_coverage
from sim.exposure.merge import merge_layers
from sim.exposure.scope import can_see_network
from sim.geo import xy_to_lonlat

# ------------------------------------------------------------------ small cases


def _sites_at(xy, source, cls="public_street", count=1.0):
    xy = np.asarray(xy, float).reshape(-1, 2)
    lon, lat = xy_to_lonlat(583_000 + xy[:, 0], 4_507_000 + xy[:, 1])
    return make_sites(lat, lon, np.full(len(xy), cls), np.full(len(xy), count), source, source)


def test_a_dot_camera_5_m_from_a_public_site_is_merged_and_counts_are_not_added():
    public = dataclasses.replace(
        _sites_at([[0, 0], [300, 0]], "banthescan_public"), count=np.array([3.0, 1.0])
    )
    dot = _sites_at([[5, 0], [300, 40]], "dot_cameras", "dot_traffic")
    merged, report = merge_layers(
        [dot, public], SOURCE_PRIORITY
    )  # order given does not decide the winner
    assert report.merged == {"dot_cameras -> banthescan_public": 1}
    assert len(merged) == 3
    assert merged.source.tolist() == ["banthescan_public", "banthescan_public", "dot_cameras"]
    assert merged.count.tolist() == [3.0, 1.0, 1.0]  # max(3, 1), not 4
    assert merged.cls[0] == "public_street"


def test_sites_of_one_layer_are_never_merged_with_each_other():
    public = _sites_at([[0, 0], [3, 0]], "banthescan_public")
    merged, report = merge_layers([public], SOURCE_PRIORITY)
    assert len(merged) == 2 and report.total == 0


def test_a_merged_count_takes_the_larger_and_its_source():
    public = _sites_at([[0, 0]], "banthescan_public")  # a listed site: 1, uncounted
    private = dataclasses.replace(
        _sites_at([[10, 0]], "banthescan_all", "private_building", 4.0),
        count_source=np.array(["amnesty"], dtype=object),
    )
    merged, _ = merge_layers([public, private], SOURCE_PRIORITY)
    assert merged.count.tolist() == [4.0]
    assert merged.count_source.tolist() == ["amnesty"]
    assert merged.camera_id[0].startswith("banthescan_public")


def test_sites_carrying_different_intersections_counts_add_them_when_merged():
    """A public site carrying intersection 0's 3 cameras and a private site 10 m away carrying
    intersection 1's 2: both counts belong to the place (5); carrying the same one: max."""
    public = dataclasses.replace(
        _sites_at([[0, 0]], "banthescan_public", count=3.0),
        count_source=np.array(["amnesty"], dtype=object),
        intersection=np.array([0]),
    )
    private = dataclasses.replace(
        _sites_at([[10, 0]], "banthescan_all", "private_building", 2.0),
        count_source=np.array(["amnesty"], dtype=object),
        intersection=np.array([1]),
    )
    merged, report = merge_layers([public, private], SOURCE_PRIORITY)
    assert merged.count.tolist() == [5.0]
    assert report.added == 1 and report.into == {private.camera_id[0]: public.camera_id[0]}
    same = dataclasses.replace(private, intersection=np.array([0]))
    merged, report = merge_layers([public, same], SOURCE_PRIORITY)
    assert merged.count.tolist() == [3.0] and report.added == 0


def test_each_intersection_count_goes_to_its_nearest_site_once():
    inter = Intersections(
        x=np.array([583_000.0]),
        y=np.array([4_507_000.0]),
        borough=np.array(["Brooklyn"], dtype=object),
        counts={
            "n_cameras_median": np.array([5.0]),
            "attached_street_median": np.array([2.0]),
            "attached_building_median": np.array([3.0]),
            "attached_unknown_median": np.array([0.0]),
        },
    )
    public = _sites_at([[8, 0], [2, 0], [40, 0]], "banthescan_public")
    counted, taken, report = count_sites(public, inter, "banthescan_public")
    assert counted.count.tolist() == [1.0, 2.0, 1.0]  # street median at the nearest site only
    assert counted.count_source.tolist() == ["site", "amnesty", "site"]
    assert report.shared_intersection_sites == 1
    private = _sites_at([[0, 3]], "banthescan_all", "private_building")
    again, _, _ = count_sites(private, inter, "banthescan_all", taken)
    assert again.count.tolist() == [1.0]  # already given to the public site


def test_a_camera_sees_the_study_area_only_with_a_street_within_its_reach():
    street = np.array([shapely.LineString([(0, 0), (100, 0)])], dtype=object)
    cams = np.array([[50, 119.0], [50, 121.0], [220, 0]])
    assert can_see_network(street, cams, np.array([120.0, 120.0, 120.0])).tolist() == [
        True,
        False,
        True,
    ]


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def manhattan_intersections(data_dir):
    inter, _ = read_intersections(data_dir / "cameras/counts_per_intersections_offline.csv")
    man = inter.borough == "Manhattan"
    return inter, dataclasses.replace(
        inter,
        x=inter.x[man],
        y=inter.y[man],
        borough=inter.borough[man],
        counts={k: v[man] for k, v in inter.counts.items()},
    )


@pytest.mark.realdata
def test_public_sites_carry_amnesty_counts_at_523_manhattan_intersections(
    data_dir, manhattan_intersections
):
    inter, man = manhattan_intersections
    assert inter.counts["n_cameras_median"][inter.borough == "Manhattan"].sum() == 4266
    public, _ = read_point_json(data_dir / "cameras/banthescan_public_cameras.json", "p")
    counted, _, report = count_sites(public, man, "banthescan_public")
    assert report.intersections == 523  # the audit's figures: 523 intersections, 1,153 cameras
    assert report.cameras_from_counts == 1153
    assert (counted.count[counted.count_source == "site"] == 1).all()
    assert counted.count.max() >= 8


@pytest.mark.realdata
def test_manhattan_dot_cameras_and_kiosks_within_15_m_of_public_sites_are_merged(data_dir):
    public, _ = read_point_json(
        data_dir / "cameras/banthescan_public_cameras.json", "banthescan_public"
    )
    dot_file = data_dir / "cameras/nyc_dot_traffic_cameras_2026.csv"
    dot, _ = read_point_csv(dot_file, "dot_cameras", "dot_traffic")
    boro = pd.read_csv(dot_file)["boro"].to_numpy()
    merged, report = merge_layers([public, dot.subset(boro == "Manhattan")], SOURCE_PRIORITY)
    assert (boro == "Manhattan").sum() == 378
    assert report.merged == {"dot_cameras -> banthescan_public": 149}
    assert len(merged) == len(public) + 378 - 149
    link_file = data_dir / "cameras/linknyc_kiosk_locations_2025-04-26.csv"
    link, _ = read_point_csv(link_file, "linknyc", "linknyc")
    link_boro = pd.read_csv(link_file)["Borough"].to_numpy()
    _, report = merge_layers([public, link.subset(link_boro == "Manhattan")], SOURCE_PRIORITY)
    assert report.merged == {"linknyc -> banthescan_public": 33}


@pytest.mark.realdata
def test_default_cameras_reconcile_with_amnesty_manhattan_total(city, default_scenario):
    city = city.limited_to_reach(default_scenario.cameras.classes)
    cams, account = city.cameras, city.camera_account
    r = account.reconciliation
    assert r["amnesty_manhattan_total_file"] == 4266
    # every Manhattan camera booked once: at a site in use, at a site out of reach, at none
    booked = (
        r["amnesty_manhattan_carried_by_sites"]
        + r["amnesty_manhattan_carried_out_of_reach"]
        + r["amnesty_manhattan_not_carried"]
    )
    assert booked == 4266
    assert r["amnesty_manhattan_carried_by_sites"] > 0.99 * 4266
    # Manhattan has no attachment medians, so a site's count is its intersections' totals: the
    # counts of the sites in use (after merges) equal the cameras booked at them, none dropped
    assert r["counted_manhattan_sites_cameras"] == r["amnesty_manhattan_carried_by_sites"]
    parts = sum(v for k, v in r.items() if k.startswith(("counted_", "uncounted_")))
    assert parts == pytest.approx(r["cameras_in_use"]) == pytest.approx(cams.count.sum())
    # only sites that can see a street are used; the rest are listed for the manifest
    assert account.in_use_sites == len(cams) < 2500
    assert account.left_out["sites"] + len(cams) + account.merge["merged_sites"] == sum(
        account.read_sites.values()
    )
    reach = 120.0
    far = city.network.edge_geom
    tree = shapely.STRtree(far)
    _, d = tree.query_nearest(shapely.points(np.c_[cams.x, cams.y]), return_distance=True)
    assert d.max() <= reach + 1e-6


@pytest.mark.realdata
def test_a_public_site_counting_3_gives_three_times_the_camera_seconds_of_one_counting_1(
    city, default_scenario
):
    cams = city.limited_to_reach(default_scenario.cameras.classes).cameras
    cov = build_coverage(city.network, cams, default_scenario.cameras.classes, "radius")
    seen = cov.pieces.subset(cov.pieces.level == 0)
    cams_per_edge = np.diff(cov.edges.cam_indptr)
    ratios = {}
    for count in (3.0, 1.0):
        pick = (cams.source == "banthescan_public") & (cams.count_source == "amnesty")
        for cam in np.flatnonzero(pick & (cams.count == count)):
            edges = np.unique(seen.edge[seen.camera == cam])
            alone = edges[cams_per_edge[edges] == 1]  # streets only this site sees
            if alone.size:
                e = alone[0]
                ratios[count] = cov.edges.camera_m[e] / cov.edges.seen_m[e]
                break
    assert ratios == {3.0: pytest.approx(3.0), 1.0: pytest.approx(1.0)}


@pytest.mark.realdata
def test_loading_does_not_depend_on_reach_and_set_up_limits_the_sites_to_it(
    source, default_scenario
):
    from sim.scenario.inputs import scenario_inputs
    from sim.scenario.variants import override

    near = override(default_scenario, {"cameras.classes.public_street.range_m": 30.0})
    loaded_far = scenario_inputs(default_scenario, source)
    loaded_near = scenario_inputs(near, source)
    assert loaded_far.cameras.camera_id.tolist() == loaded_near.cameras.camera_id.tolist()
    far = loaded_far.limited_to_reach(default_scenario.cameras.classes)
    close = loaded_near.limited_to_reach(near.cameras.classes)
    assert far.camera_account.in_use_sites == len(far.cameras) == 2096  # the README's printout
    kept = far.camera_account.in_use_sites + far.camera_account.left_out["sites"]
    assert kept == len(loaded_far.cameras)  # every merged site is either kept or listed
    # public street sites must now have a street within 30 m: fewer of them are kept
    public = "public_street"
    assert (close.cameras.cls == public).sum() < (far.cameras.cls == public).sum()
    assert set(close.cameras.camera_id) < set(far.cameras.camera_id)
    # limiting twice under the same classes changes nothing; under others it is refused
    assert far.limited_to_reach(default_scenario.cameras.classes) is far
    with pytest.raises(ValueError):
        far.limited_to_reach(near.cameras.classes)


def test_every_camera_source_has_one_merge_priority_and_the_order_is_amnestys_first():
    from sim.data.cameras import CAMERA_SOURCES

    ranks = [source.priority for source in CAMERA_SOURCES.values()]
    assert sorted(ranks) == list(range(len(CAMERA_SOURCES)))  # each once, none forgotten
    assert SOURCE_PRIORITY[:2] == ("banthescan_public", "amnesty_counts")
    assert set(SOURCE_PRIORITY) == set(CAMERA_SOURCES)
