"""Camera worlds on hand-made streets: sectors, reach from lenses, working state and keyed
draws, each against geometry that can be checked by hand."""

import dataclasses
import math

import numpy as np
import pytest
from shapely.geometry import LineString

from sim.exposure.camera_model import (
    CAMERA_CLASSES,
    DORI_PX_PER_M,
    MAX_LENS_FOV_DEG,
    lens_distance_m,
)
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage, first_seen_per_edge, point_exposure, point_pairs
from sim.exposure.pieces import SEEN, edge_exposure, radius_pieces
from sim.exposure.sectors import (
    in_wedge,
    world_coverage,
    world_geometry,
    world_points,
)
from sim.exposure.worlds import (
    WORLD_PRIORS,
    World,
    WorldSetup,
    camera_keys,
    draw_world,
    keyed_uniforms,
    lens_reach_m,
)

R = 50.0
# a straight street along x from -200 to 200 m (one edge, with a vertex at x = 3 to check
# pieces cut across a vertex), and a camera 10 m north of it at x = 0
STREET = np.array([LineString([(-200, 0), (3, 0), (200, 0)])], dtype=object)
CAMERA = np.array([[0.0, 10.0]])
CHORD = 2 * math.sqrt(R**2 - 10.0**2)


def _coverage(edge_geom, xy, reach_m) -> Coverage:
    n = len(xy)
    ranges = np.array([[r, r, r / 2] for r in reach_m], float)
    cams = CameraSites(
        camera_id=np.array([f"test:{i}" for i in range(n)], dtype=object),
        lat=np.zeros(n),
        lon=np.zeros(n),
        x=xy[:, 0].astype(float),
        y=xy[:, 1].astype(float),
        cls=np.full(n, "public_street", dtype=object),
        count=np.ones(n),
        source=np.full(n, "test", dtype=object),
    )
    public = np.ones(n, bool)
    pieces = radius_pieces(edge_geom, xy, ranges)
    edges = edge_exposure(pieces, len(edge_geom), cams.count, public)
    first = first_seen_per_edge(pieces, len(edge_geom))
    return Coverage(cams, ranges, public, pieces, edges, first, "radius", None)


def _world(aim, sector, reach, working=True, n=1) -> World:
    reach = np.broadcast_to(np.asarray(reach, float).reshape(-1, 3), (n, 3)).copy()
    return World(
        "test",
        np.arange(n),
        np.broadcast_to(np.asarray(aim, float), (n,)).copy(),
        np.broadcast_to(np.asarray(sector, float), (n,)).copy(),
        reach,
        np.broadcast_to(np.asarray(working, bool), (n,)).copy(),
        np.zeros(n, np.int64),
        np.full(n, 1920.0),
        np.broadcast_to(np.asarray(sector, float), (n,)).copy(),
    )


def _seen_intervals(cov: Coverage) -> list[tuple[float, float]]:
    p = cov.pieces.subset(cov.pieces.level == SEEN)
    return sorted(zip(p.start_m.tolist(), p.end_m.tolist()))


def _merged(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


GEOMETRY = world_geometry(_coverage(STREET, CAMERA, [R]), STREET)


def test_a_90_degree_sector_aimed_at_the_street_sees_exactly_the_chord_inside_it():
    """Aimed south (bearing 180) from 10 m off the street, a 90 degree sector sees where the
    street is within 45 degrees of south: x in [-10, 10], i.e. 190-210 m along the edge."""
    cov = world_coverage(GEOMETRY, _world(180.0, 90.0, [R, R, R / 2]))
    assert _merged(_seen_intervals(cov)) == [pytest.approx((190.0, 210.0), abs=1e-9)]
    assert cov.edges.seen_m[0] == pytest.approx(20.0, abs=1e-9)
    # aimed east: bearings 45-135 hold the street from x = 10 to the disk's edge
    cov = world_coverage(GEOMETRY, _world(90.0, 90.0, [R, R, R / 2]))
    assert _merged(_seen_intervals(cov)) == [pytest.approx((210.0, 200.0 + CHORD / 2), abs=1e-9)]
    # aimed north, away from the street: nothing
    cov = world_coverage(GEOMETRY, _world(0.0, 90.0, [R, R, R / 2]))
    assert cov.edges.seen_m[0] == 0.0


def test_a_sector_wider_than_180_degrees_sees_the_chord_less_its_blind_wedge():
    """Aimed north with 270 degrees, the blind wedge is south +- 45: the chord less x in
    [-10, 10], two pieces."""
    cov = world_coverage(GEOMETRY, _world(0.0, 270.0, [R, R, R / 2]))
    got = _merged(_seen_intervals(cov))
    assert got == [
        pytest.approx((200.0 - CHORD / 2, 190.0), abs=1e-9),
        pytest.approx((210.0, 200.0 + CHORD / 2), abs=1e-9),
    ]


def test_reach_cuts_the_chord_to_the_smaller_disk():
    cov = world_coverage(GEOMETRY, _world(0.0, 360.0, [30.0, 20.0, 10.0]))
    seen, rec, ident = (cov.pieces.level == k for k in range(3))
    half = lambda r: math.sqrt(max(r * r - 100.0, 0.0))  # noqa: E731
    assert cov.pieces.length_m[seen].sum() == pytest.approx(2 * half(30.0), abs=1e-9)
    assert cov.pieces.length_m[rec].sum() == pytest.approx(2 * half(20.0), abs=1e-9)
    assert cov.pieces.length_m[ident].sum() == 0.0  # 10 m reach, 10 m off: a point at most


@pytest.mark.parametrize("fov", [45.0, 90.0, 200.0, 300.0])
def test_over_10000_uniform_aims_the_mean_covered_length_is_fov_over_360_of_the_chord(fov):
    aims = (np.arange(10_000) + 0.5) * 360.0 / 10_000
    n = len(aims)
    xy = np.repeat(CAMERA, n, axis=0)
    geometry = world_geometry(_coverage(STREET, xy, np.full(n, R)), STREET)
    cov = world_coverage(geometry, _world(aims, fov, [R, R, R / 2], n=n))
    seen = cov.pieces.level == SEEN
    per_camera = np.bincount(cov.pieces.camera[seen], cov.pieces.length_m[seen], minlength=n)
    assert per_camera.mean() == pytest.approx(fov / 360.0 * CHORD, rel=0.01)


def test_a_camera_not_working_sees_nothing():
    cov = world_coverage(GEOMETRY, _world(180.0, 360.0, [R, R, R / 2], working=False))
    assert len(cov.pieces.edge) == 0 and cov.edges.seen_m.sum() == 0.0
    pairs = point_pairs(GEOMETRY.base, np.array([[0.0, 0.0], [5.0, 2.0]]))
    geometry = world_geometry(GEOMETRY.base, STREET, pairs)
    pts = world_points(geometry, _world(180.0, 360.0, [R, R, R / 2], working=False), cov)
    assert not pts.seen.any() and pts.camera.sum() == 0.0


def test_the_omnidirectional_world_keeps_the_coverage_bit_for_bit():
    base = GEOMETRY.base
    cov = world_coverage(GEOMETRY, World.omnidirectional(base.level_range_m))
    for k in ("edge", "camera", "level", "start_m", "end_m"):
        assert np.array_equal(getattr(cov.pieces, k), getattr(base.pieces, k))
    for k in ("seen_m", "recognition_m", "identification_m", "camera_m", "cam_indices"):
        assert np.array_equal(getattr(cov.edges, k), getattr(base.edges, k))


def test_standing_points_are_in_view_exactly_where_the_pieces_are():
    """Points along the street: in view in a world iff inside that world's pieces."""
    xs = np.linspace(-60, 60, 241)
    pts_xy = np.c_[xs, np.zeros_like(xs)]
    pairs = point_pairs(GEOMETRY.base, pts_xy)
    geometry = world_geometry(GEOMETRY.base, STREET, pairs)
    for aim, sector, reach in ((180.0, 90.0, 40.0), (90.0, 60.0, 45.0), (10.0, 250.0, 30.0)):
        world = _world(aim, sector, [reach, reach, reach / 2])
        cov = world_coverage(geometry, world)
        pts = world_points(geometry, world, cov)
        along = xs + 200.0
        inside = np.zeros(len(xs), bool)
        for a, b in _seen_intervals(cov):
            inside |= (along > a + 1e-6) & (along < b - 1e-6)
        edge = np.zeros(len(xs), bool)
        for a, b in _seen_intervals(cov):
            edge |= (np.abs(along - a) <= 1e-6) | (np.abs(along - b) <= 1e-6)
        assert np.array_equal(pts.seen[~edge], inside[~edge]), (aim, sector)
    # all around at full reach: as point_exposure says
    omni = World.omnidirectional(GEOMETRY.base.level_range_m)
    a = world_points(geometry, omni, GEOMETRY.base)
    b = point_exposure(GEOMETRY.base, pts_xy)
    assert np.array_equal(a.seen, b.seen) and np.array_equal(a.camera, b.camera)


def test_in_wedge_by_hand():
    dx = np.array([0.0, 1.0, 0.0, -1.0, 1.0])  # the last: bearing 26.6 degrees
    dy = np.array([1.0, 0.0, -1.0, 0.0, 2.0])  # north, east, south, west, north-north-east
    assert in_wedge(0.0, 90.0, dx, dy).tolist() == [True, False, False, False, True]
    assert in_wedge(90.0, 140.0, dx, dy).tolist() == [False, True, False, False, True]
    assert in_wedge(0.0, 300.0, dx, dy).tolist() == [True, True, False, True, True]
    assert in_wedge(0.0, 360.0, dx, dy).all()


@pytest.mark.parametrize("h_pixels,fov", [(1920, 7.3), (1920, 90.0), (3840, 9.0), (704, 45.0)])
def test_reach_from_a_lens_is_pixels_over_two_tan_half_fov_times_density(h_pixels, fov):
    reach = lens_reach_m(np.array([float(h_pixels)]), np.array([fov]))[0]
    for level, px in enumerate((DORI_PX_PER_M["observation"], DORI_PX_PER_M["recognition"], 250.0)):
        formula = h_pixels / (2 * math.tan(math.radians(fov) / 2) * px)
        assert reach[level] == pytest.approx(formula, rel=1e-12)
        assert reach[level] == pytest.approx(lens_distance_m(h_pixels, fov, px), rel=1e-12)
    # 1080p at 7.3 degrees: recognition (125 px/m) at about 120 m, the figure
    if (h_pixels, fov) == (1920, 7.3):
        assert reach[1] == pytest.approx(120.0, rel=0.01)
    assert lens_reach_m(np.array([1920.0]), np.array([200.0]))[0, 0] == pytest.approx(
        lens_distance_m(1920, MAX_LENS_FOV_DEG, 62.0)
    )


def _setup(ids, cls, cap=120.0, rule="uniform", bearings=None, cameras=None):
    n = len(ids)
    indptr = np.zeros(n + 1, np.int64)
    deg = np.zeros(0)
    if bearings is not None:
        indptr = np.concatenate(([0], np.cumsum([len(b) for b in bearings]))).astype(np.int64)
        deg = np.concatenate(bearings).astype(float)
    return WorldSetup(
        camera_keys(np.array(ids, dtype=object)),
        np.array(cls, dtype=object),
        np.ones(n, np.int64) if cameras is None else np.asarray(cameras, np.int64),
        np.tile([cap, cap, cap / 2], (n, 1)),
        indptr,
        deg,
        np.zeros((n, 2)),
        rule,
        15.0,
    )


def test_every_camera_class_has_a_prior_and_shares_sum_to_one():
    assert set(WORLD_PRIORS) == set(CAMERA_CLASSES)
    for prior in WORLD_PRIORS.values():
        assert sum(lens.share for lens in prior.lenses) == pytest.approx(1.0)
        assert 0 < prior.working_share <= 1
        assert all(0 < lens.fov_deg[0] <= lens.fov_deg[1] for lens in prior.lenses)


def test_draws_are_keyed_per_camera_removing_one_leaves_the_others():
    ids = [f"cam:{i}" for i in range(50)]
    cls = ["public_street"] * 25 + ["private_building"] * 25
    full = draw_world(_setup(ids, cls), 12345)
    keep = np.array([i for i in range(50) if i % 7 != 3])
    fewer = draw_world(_setup([ids[i] for i in keep], [cls[i] for i in keep]), 12345)
    for k in ("aim_deg", "sector_deg", "reach_m", "working", "fov_deg"):
        assert np.array_equal(getattr(full, k)[keep], getattr(fewer, k))
    other = draw_world(_setup(ids, cls), 12346)
    assert not np.array_equal(full.aim_deg, other.aim_deg)
    # reach never beyond the cap at any level, sectors as the lens drawn
    assert (full.reach_m <= [120.0, 120.0, 60.0]).all() and (full.sector_deg == full.fov_deg).all()


def test_keyed_uniforms_are_uniform():
    u = keyed_uniforms(7, camera_keys(np.array([f"c{i}" for i in range(20000)], dtype=object)), 3)
    assert ((u > 0) & (u < 1)).all()
    assert u.mean(axis=0) == pytest.approx([0.5] * 3, abs=0.01)
    assert np.corrcoef(u.T)[0, 1] == pytest.approx(0.0, abs=0.03)


def test_street_aims_follow_the_streets_with_their_spread():
    ids = [f"cam:{i}" for i in range(4000)]
    setup = _setup(ids, ["public_street"] * 4000, rule="streets", bearings=[[0.0, 90.0]] * 4000)
    world = draw_world(setup, 99)
    off = np.minimum(
        np.abs((world.aim_deg - 0.0 + 180) % 360 - 180),
        np.abs((world.aim_deg - 90.0 + 180) % 360 - 180),
    )
    assert np.std(np.r_[off, -off]) == pytest.approx(15.0, rel=0.1)
    near_north = np.abs((world.aim_deg + 180) % 360 - 180) < 45
    assert near_north.mean() == pytest.approx(0.5, abs=0.03)


def test_a_site_of_several_cameras_sees_the_union_and_weighs_each_camera_by_its_share():
    """A site counting 4 cameras drawn as two: one aimed south-west, one south-east (90 degrees
    each) share the chord between them; camera-metres weigh each camera's stretch by 4 / 2."""
    base = _coverage(STREET, CAMERA, [R])
    base = world_geometry(
        dataclasses.replace(base, cameras=base.cameras.with_counts(np.array([4.0]))),
        STREET,
        point_pairs(base, np.array([[-5.0, 0.0], [5.0, 0.0], [0.0, 30.0]])),
    )
    two = World(
        "test",
        np.array([0, 0]),
        np.array([225.0, 135.0]),
        np.array([90.0, 90.0]),
        np.array([[R, R, R / 2]] * 2),
        np.array([True, True]),
        np.zeros(2, np.int64),
        np.full(2, 1920.0),
        np.array([90.0, 90.0]),
    )
    cov = world_coverage(base, two)
    # south-west sees x in [-CHORD/2, 0] (bearings 180-270), south-east [0, CHORD/2]
    assert cov.edges.seen_m[0] == pytest.approx(CHORD, abs=1e-9)
    assert cov.edges.camera_m[0] == pytest.approx(CHORD * 4 / 2, abs=1e-9)
    assert cov.edges.cameras_on(np.array([0])).tolist() == [0]  # one site seen
    pts = world_points(base, two, cov)
    # (-5, 0) and (5, 0): each seen by one camera (2 of the site's 4); (0, 30) by neither
    assert pts.seen.tolist() == [True, True, False]
    assert pts.camera.tolist() == pytest.approx([2.0, 2.0, 0.0])


def test_a_sites_cameras_are_drawn_each_on_its_own_and_keep_their_draws():
    ids = ["a", "b", "c"]
    cls = ["public_street"] * 3
    three = draw_world(_setup(ids, cls, cameras=[3, 1, 2]), 5)
    assert three.site.tolist() == [0, 0, 0, 1, 2, 2]
    assert len(set(three.aim_deg[:3].round(9).tolist())) == 3  # each camera its own aim
    two = draw_world(_setup(ids, cls, cameras=[2, 1, 2]), 5)
    # a site counting one camera fewer keeps its first cameras' draws; others are untouched
    assert np.array_equal(two.aim_deg, np.delete(three.aim_deg, 2))
    assert np.array_equal(two.reach_m, np.delete(three.reach_m, 2, axis=0))


def test_a_street_aimed_camera_off_its_node_looks_at_the_street_half_its_reach_out():
    """10 m east of a node whose one street runs north, a camera looks at the street's line
    half its lens's reach (before the class cap) north of the node: bearing atan2(-10, r/2)."""
    setup = WorldSetup(
        camera_keys(np.array(["k"], dtype=object)),
        np.array(["public_street"], dtype=object),
        np.array([1]),
        np.array([[40.0, 40.0, 40.0]]),
        np.array([0, 1]),
        np.array([0.0]),
        np.array([[-10.0, 0.0]]),
        "streets",
        0.0,
    )
    world = draw_world(setup, 3)
    half = lens_reach_m(world.h_pixels, world.fov_deg)[0, 0] / 2
    assert world.aim_deg[0] == pytest.approx(math.degrees(math.atan2(-10, half)) % 360)
    # the cap leaves the aim where it was: a longer cap sees at least what a shorter one saw
    longer = draw_world(dataclasses.replace(setup, cap_m=np.array([[120.0, 120.0, 60.0]])), 3)
    assert longer.aim_deg[0] == world.aim_deg[0]
    assert (longer.reach_m >= world.reach_m).all()


@pytest.mark.parametrize("rule", ["streets", "uniform"])
def test_a_world_of_no_cameras(rule):
    assert len(draw_world(_setup([], [], rule=rule), 1)) == 0
    with pytest.raises(ValueError, match="unknown aim rule 'up'"):
        draw_world(_setup(["a"], ["public_street"], rule="up"), 1)
