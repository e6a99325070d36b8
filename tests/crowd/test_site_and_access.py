"""The site as an area, standing in it under sightlines, and the first and last metres walked."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import prepared

from sim.city.network import WalkNetwork
from sim.crowd.access import exit_connectors
from sim.crowd.runner import run_replication
from sim.crowd.site_area import sample_points, site_area
from sim.data.footprints import read_footprints
from sim.exposure.coverage import point_exposure
from sim.exposure.pieces import SEEN
from sim.geo import lonlat_to_xy
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.variants import override

# NYC Parks: Washington Square Park is 9.75 acres.
WSP_ACRES = 9.75
M2_PER_ACRE = 4046.856


def _scenario(protesters=300, **changes):
    return override(
        load_scenario(DEFAULT_SCENARIO),
        {"crowd.protesters": protesters, "replications": 1, **changes},
    )


def _line_network() -> WalkNetwork:
    """One street (0,0)-(100,0), both directions."""
    geom = np.array(
        [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (0, 0)])],
        dtype=object,
    )
    return WalkNetwork(
        node_osmid=np.array([1, 2]),
        node_x=np.array([0.0, 100.0]),
        node_y=np.array([0.0, 0.0]),
        edge_u=np.array([0, 1], np.int32),
        edge_v=np.array([1, 0], np.int32),
        edge_length_m=np.array([100.0, 100.0]),
        edge_highway=np.array(["residential"] * 2, dtype=object),
        edge_geom=geom,
        source_sha256="test",
    )


def test_an_exit_walks_straight_to_the_street_then_along_it_to_the_end_nearer_the_site():
    net = _line_network()
    dist_to_site = np.array([0.0, 100.0])  # the site is at node 0
    node, lines = exit_connectors(net, np.array([[70.0, 20.0]]), dist_to_site)
    assert node.tolist() == [0]  # 70 m back along the street beats 30 m on plus 100 m
    assert lines[0].length == pytest.approx(20.0 + 70.0)
    node, lines = exit_connectors(net, np.array([[70.0, 20.0]]))  # no site: the nearer end
    assert node.tolist() == [1] and lines[0].length == pytest.approx(20.0 + 30.0)


def test_standing_points_are_uniform_in_the_area():
    square = shapely.box(0, 0, 100, 100)
    pts = sample_points(square, 20_000, np.random.default_rng(3))
    assert shapely.contains_xy(square, pts[:, 0], pts[:, 1]).all()
    assert np.mean(pts[:, 0] < 25) == pytest.approx(0.25, abs=0.01)


@pytest.mark.realdata
def test_washington_square_area_is_the_park_inside_its_ring_of_streets(city):
    site = city.site("washington_sq_park")
    area = site_area(city.network, site.x, site.y, "streets", 0.0, "test")
    assert area.area_m2 == pytest.approx(WSP_ACRES * M2_PER_ACRE, rel=0.02)
    assert area.polygon.contains(shapely.Point(site.x, site.y))
    # the park's fountain-to-corner extent, not a 120 m disk
    minx, miny, maxx, maxy = area.polygon.bounds
    assert 250 < max(maxx - minx, maxy - miny) < 400


@pytest.mark.realdata
def test_complete_footprints_hold_the_washington_square_strip(data_dir):
    polys = read_footprints(
        data_dir / "buildings/manhattan_building_footprints_doitt_2017.geojson.gz"
    )
    assert len(polys) == 45_107
    _, lat_min = lonlat_to_xy(np.array([-74.0]), np.array([40.730]))
    _, lat_max = lonlat_to_xy(np.array([-74.0]), np.array([40.736]))
    y = shapely.get_y(shapely.centroid(polys))
    # the data README: 2,793 buildings in lat 40.730-40.736, which the OSM file lacks
    assert abs(int(((y >= lat_min[0]) & (y < lat_max[0])).sum()) - 2793) <= 40


@pytest.fixture(scope="module")
def sight_setup(source):
    return prepared(_scenario(**{"walking.crowding": False}), source)


@pytest.mark.realdata
def test_under_sightline_a_standing_point_seen_is_within_reach_of_a_camera(sight_setup):
    setup = sight_setup
    assert setup.coverage.visibility == "sightline"
    pts = setup.access.stand_xy
    sight = point_exposure(setup.coverage, pts)
    cams = setup.coverage.cameras
    reach = setup.coverage.level_range_m[:, SEEN]
    d = np.hypot(cams.x[None, :] - pts[:, :1], cams.y[None, :] - pts[:, 1:])
    in_reach = (d <= reach[None, :]).any(axis=1)
    assert not (sight.seen & ~in_reach).any()  # walls only take away
    # counted cameras in view of a point are at most the cameras within reach of it
    count_reach = (d <= reach[None, :]) @ cams.count
    assert (sight.camera <= count_reach + 1e-9).all()
    assert sight.seen.mean() > 0.5


@pytest.mark.realdata
def test_no_one_stands_inside_a_building_of_the_site(sight_setup, data_dir):
    """The footprints read here, straight from the bundle's file: Washington Square Park holds
    the Arch and one more; no standing point falls in either, and the standing ground is the
    park less exactly their area."""
    setup = sight_setup
    polys = read_footprints(
        data_dir / "buildings/manhattan_building_footprints_doitt_2017.geojson.gz"
    )
    park = setup.site_area.polygon
    inside = polys[shapely.intersects(polys, park)]
    assert len(inside) >= 2
    pts = setup.access.stand_xy
    in_building = shapely.contains_xy(shapely.union_all(inside), pts[:, 0], pts[:, 1])
    assert not in_building.any()
    built = shapely.intersection(shapely.union_all(inside), park).area
    assert setup.site_area.standing_ground.area == pytest.approx(park.area - built, abs=1.0)
    assert setup.site_area.as_dict()["standing_ground"].startswith("open ground")


@pytest.mark.realdata
def test_the_exit_to_street_segment_is_walked_and_its_exposure_counted(sight_setup):
    setup = sight_setup
    access, cov = setup.access, setup.coverage
    n_exit = len(access.exit_out)
    exit_m = access.length_m[:n_exit]
    assert np.median(exit_m) > 5 and exit_m.max() < 150
    # the seen metres of each exit's walk equal an independent intersection with the
    # cameras' visible areas (isovists clipped to reach)
    seen_areas = shapely.union_all(cov.areas[:, SEEN])
    seen = cov.edges.seen_m[access.exit_out]
    independent = shapely.length(shapely.intersection(access.geom[:n_exit], seen_areas))
    np.testing.assert_allclose(seen, independent, rtol=2e-3, atol=0.05)
    assert (seen > 0).sum() >= 10
    # and the walkers walk it: the whole out leg is the exit walk, the route, the last metres
    rep = run_replication(setup, 0, np.random.SeedSequence(3), keep_plan=True)
    plan = rep.plan
    exits = {e: i for i, e in enumerate(setup.origins.exit_id)}
    row = rep.agents.iloc[0]
    i = exits[row.origin_exit]
    out = plan.routes[plan.out_route[0]]
    network_m = setup.inputs.network.edge_length_m[setup.out_routes[i][0]].sum()
    assert row.route_m == pytest.approx(
        exit_m[i] + network_m + setup.streets.length_m[out[-1]], rel=1e-12
    )
