"""Coverage: sightline vs radius on a hand-made corner, and parity on real routes."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from sim.city import routing
from sim.city.network import WalkNetwork
from sim.exposure import visibility
from sim.exposure.camera_model import AMNESTY_PRESET, CameraParams
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import build_coverage, point_exposure, score_route
from sim.scenario.inputs import load_inputs
from sim.scenario.sections import CameraLayer

# ---------------------------------------------------------------- a hand-made corner
#
#   (200, 200)
#       |  edge 1 (200 m, north)
#   (200, 0) ---- edge 0 (200 m, west) ---- (0, 0)      camera at (50, 0), reach 250 m
#
# Every point of edge 1 lies within 250 m of the camera (the far end is 250 m away), but
# buildings fill the inside of the bend, so a sightline sees only the first metres of edge 1.

CAMERA_XY = (50.0, 0.0)
REACH_M = 250.0
CLASSES = {"public_street": CameraParams(public=True, range_m=REACH_M)}


@pytest.fixture(scope="module")
def corner() -> WalkNetwork:
    geoms = np.array(
        [LineString([(0, 0), (200, 0)]), LineString([(200, 0), (200, 200)])], dtype=object
    )
    return WalkNetwork(
        node_osmid=np.array([1, 2, 3], np.int64),
        node_x=np.array([0.0, 200.0, 200.0]),
        node_y=np.array([0.0, 0.0, 200.0]),
        edge_u=np.array([0, 1], np.int32),
        edge_v=np.array([1, 2], np.int32),
        edge_length_m=shapely.length(geoms),
        edge_highway=np.array(["residential", "residential"], dtype=object),
        edge_geom=geoms,
        source_sha256="hand-made corner",
    )


@pytest.fixture(scope="module")
def one_camera() -> CameraSites:
    o = np.array(["cam"], dtype=object)
    return CameraSites(
        camera_id=o,
        lat=np.array([0.0]),
        lon=np.array([0.0]),
        x=np.array([CAMERA_XY[0]]),
        y=np.array([CAMERA_XY[1]]),
        cls=np.array(["public_street"], dtype=object),
        count=np.array([2.0]),
        source=np.array(["test"], dtype=object),
    )


def _l_polygon() -> shapely.Geometry:
    """Two 20 m wide streets meeting at (200, 0), drawn by hand."""
    return shapely.union(shapely.box(-10, -10, 210, 10), shapely.box(190, -10, 210, 210))


@pytest.fixture(scope="module", params=["corridors", "hand-made L"])
def open_space(request, corner) -> shapely.Geometry:
    if request.param == "corridors":
        return visibility.corridor_open_space(corner.edge_geom, corner.edge_highway)
    return _l_polygon()


def test_radius_model_sees_the_street_around_the_corner(corner, one_camera):
    coverage = build_coverage(corner, one_camera, CLASSES, visibility="radius")
    assert coverage.edges.seen_m == pytest.approx([200.0, 200.0])
    assert coverage.areas is None


def test_sightline_model_does_not_see_the_street_around_the_corner(corner, one_camera, open_space):
    coverage = build_coverage(
        corner, one_camera, CLASSES, visibility="sightline", open_space=open_space
    )
    seen_m = coverage.edges.seen_m
    assert seen_m[0] == pytest.approx(200.0, abs=1.0)  # straight down its own street
    # the corner opening: a sightline from (50, 0) past (190, 10) reaches about y = 11 m
    assert seen_m[1] < 20.0
    assert coverage.first_seen_m[1] == pytest.approx(0.0, abs=1e-6)


def test_sightline_coverage_is_never_more_than_radius_coverage(corner, one_camera, open_space):
    radius = build_coverage(corner, one_camera, CLASSES, visibility="radius")
    sight = build_coverage(
        corner, one_camera, CLASSES, visibility="sightline", open_space=open_space
    )
    for name in ("seen_m", "recognition_m", "identification_m", "camera_m"):
        assert np.all(getattr(sight.edges, name) <= getattr(radius.edges, name) + 1e-6), name


def test_point_around_the_corner_is_exposed_under_radius_but_not_under_sightline(
    corner, one_camera, open_space
):
    points = np.array([[200.0, 150.0], [150.0, 0.0], [200.0, 260.0]])
    radius = point_exposure(build_coverage(corner, one_camera, CLASSES), points)
    sight = point_exposure(
        build_coverage(corner, one_camera, CLASSES, visibility="sightline", open_space=open_space),
        points,
    )
    # around the corner (212 m away): radius yes, sightline no
    assert radius.seen[0] and not sight.seen[0]
    # down the camera's own street (100 m): both; identification reach is 125 m
    assert radius.seen[1] and sight.seen[1]
    assert radius.identification[1] and sight.identification[1]
    assert radius.camera[1] == sight.camera[1] == 2.0
    assert [c.tolist() for c in sight.cameras] == [[], [0], []]
    # beyond reach (304 m): neither
    assert not radius.seen[2] and not sight.seen[2]


@pytest.mark.parametrize("model", ["radius", "sightline"])
def test_a_drawn_path_scores_segment_by_segment_as_its_line_does(corner, one_camera, model):
    """coverage_of_path, which scores a drawn path segment by segment, equals coverage_of_lines
    on a path that never doubles back (split into many points), and counts a path that walks
    the corner and back twice (where one line's overlay would count the way back once)."""
    from sim.exposure.coverage import coverage_of_lines
    from sim.exposure.lines import coverage_of_path

    coverage = build_coverage(
        corner, one_camera, CLASSES, visibility=model, open_space=_l_polygon()
    )
    there = np.r_[
        np.c_[np.linspace(0, 200, 401), np.zeros(401)], [[200.0, y] for y in range(1, 201)]
    ]
    path = coverage_of_path(coverage, there)
    line = coverage_of_lines(coverage, np.array([LineString(there)], dtype=object))
    for name in ("seen_m", "seen_public_m", "recognition_m", "identification_m", "camera_m"):
        assert getattr(path.edges, name)[0] == pytest.approx(getattr(line.edges, name)[0]), name
    assert path.first_seen_m[0] == pytest.approx(line.first_seen_m[0])
    back = coverage_of_path(coverage, np.r_[there, there[::-1][1:]])
    assert back.edges.seen_m[0] == pytest.approx(2 * path.edges.seen_m[0])
    assert back.edges.camera_m[0] == pytest.approx(2 * path.edges.camera_m[0])


def test_sightline_without_open_space_is_refused(corner, one_camera):
    with pytest.raises(ValueError, match="open_space"):
        build_coverage(corner, one_camera, CLASSES, visibility="sightline")


def test_score_route_walks_both_edges_of_the_corner(corner, one_camera):
    coverage = build_coverage(corner, one_camera, CLASSES)
    score = score_route(corner.edge_length_m, coverage, np.array([0, 1]), speed_mps=2.0)
    assert score.length_m == pytest.approx(400.0)
    assert score.walk_s == pytest.approx(200.0)
    assert score.seen_m == pytest.approx(400.0)
    assert score.camera_s == pytest.approx(400.0 * 2 / 2.0)  # 2 cameras at the site
    assert score.share_surveilled == pytest.approx(1.0)
    assert score.cameras.tolist() == [0]


# ---------------------------------------------------------------- real data

AMNESTY_LAYERS = (CameraLayer("banthescan_public", "public_street"),)


@pytest.fixture(scope="module")
def amnesty(city, source):
    cameras = load_inputs(source, AMNESTY_LAYERS).limited_to_reach(AMNESTY_PRESET).cameras
    return build_coverage(city.network, cameras, AMNESTY_PRESET, "radius")


@pytest.mark.realdata
def test_per_edge_table_matches_a_buffer_union_on_real_routes_near_washington_square(city, amnesty):
    net = city.network
    site = city.site("washington_sq_park")
    exits = city.exits
    nearest = np.argsort(np.hypot(exits.x - site.x, exits.y - site.y))[:25]
    routes = routing.shortest_routes(net, exits.node[nearest], site.node)
    distinct = {tuple(r.tolist()): r for r in routes if len(r)}
    assert len(distinct) >= 5
    cams = amnesty.cameras
    near_xy = np.hypot(cams.x - site.x, cams.y - site.y) < 3000
    buffers = shapely.union_all(
        shapely.buffer(shapely.points(np.c_[cams.x, cams.y][near_xy]), 120.0, quad_segs=64)
    )
    checked = 0
    for route in distinct.values():
        walk = shapely.line_merge(shapely.union_all(net.edge_geom[route]))
        assert walk.length == pytest.approx(net.edge_length_m[route].sum(), rel=1e-6)
        independent_m = shapely.intersection(walk, buffers).length
        table_m = amnesty.edges.seen_m[route].sum()
        assert table_m == pytest.approx(independent_m, rel=5e-3, abs=0.5)
        checked += independent_m > 0
    assert checked >= 5


@pytest.mark.realdata
def test_amnesty_preset_walks_from_christopher_st_to_washington_square_are_95_percent_surveilled(
    city, amnesty
):
    site = city.site("washington_sq_park")
    exits = city.exits.matching_station("Christopher St-Stonewall")
    assert len(exits) >= 3
    routes = routing.shortest_routes(city.network, city.exits.node[exits], site.node)
    for route in routes:
        score = score_route(city.network.edge_length_m, amnesty, route, speed_mps=1.34)
        assert 300.0 < score.length_m < 1000.0  # about 0.5 km across the Village
        assert score.share_surveilled_public >= 0.95
        assert score.seen_public_m == pytest.approx(score.seen_m)  # the preset is all public
        assert len(score.public_cameras) == len(score.cameras) > 0


@pytest.mark.realdata
def test_sightline_on_real_footprints_sees_less_than_radius_near_foley_square(city, source):
    site = city.site("foley_sq")
    cams = load_inputs(source, AMNESTY_LAYERS).limited_to_reach(AMNESTY_PRESET).cameras
    near = np.hypot(cams.x - site.x, cams.y - site.y) < 400
    cams = cams.subset(near)
    open_space, _, _ = source.open_space(use_buildings=True)
    radius = build_coverage(city.network, cams, AMNESTY_PRESET, "radius")
    sight = build_coverage(city.network, cams, AMNESTY_PRESET, "sightline", open_space=open_space)
    assert len(cams) > 10
    assert (sight.edges.seen_m <= radius.edges.seen_m + 1e-6).all()
    # buildings block much of what a 120 m disk would reach, but streets stay in view
    assert (
        0.2 * radius.edges.seen_m.sum()
        < sight.edges.seen_m.sum()
        < 0.9 * (radius.edges.seen_m.sum())
    )


@pytest.mark.realdata
def test_without_the_sites_file_sites_come_by_coordinates(data_dir, tmp_path):
    from sim.errors import ScenarioError
    from sim.scenario.inputs import DataSource

    for rel in (
        "osm/manhattan_walk_2019-10-26.osm.bz2",
        "transit/MTA_Subway_Entrances_and_Exits_2024.csv",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).symlink_to(data_dir / rel)
    city = load_inputs(DataSource(tmp_path), ())
    with pytest.raises(ScenarioError, match="protest_sites_nyc.csv, which is missing"):
        city.site("washington_sq_park")
    site = city.site(lat=40.730965, lon=-73.997646, radius_m=50.0, name="WSP")
    assert site.snap_m < 30


@pytest.mark.realdata
def test_a_route_drawn_as_one_line_scores_like_its_network_edges(city, amnesty):
    from sim.exposure.coverage import coverage_of_lines

    net = city.network
    site = city.site("washington_sq_park")
    start = city.exits.matching_station("Christopher St-Stonewall")[0]
    route = routing.shortest_routes(net, city.exits.node[[start]], site.node)[0]
    coords = np.concatenate([np.asarray(g.coords) for g in net.edge_geom[route]])
    line = np.array([shapely.LineString(coords)], dtype=object)
    drawn = coverage_of_lines(amnesty, line)
    a = score_route(shapely.length(line), drawn, np.array([0]), 1.34)
    b = score_route(net.edge_length_m, amnesty, route, 1.34)
    assert a.length_m == pytest.approx(b.length_m, rel=1e-9)
    assert a.seen_public_m == pytest.approx(b.seen_public_m, rel=1e-6)
    assert a.camera_s == pytest.approx(b.camera_s, rel=1e-6)
    assert set(a.cameras) == set(b.cameras)
