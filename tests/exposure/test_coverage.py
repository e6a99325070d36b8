"""Coverage pieces on hand-made streets: exact disk coverage, unions, sums, polygons."""

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from sim.exposure.coverage import first_seen_per_edge
from sim.exposure.pieces import (
    IDENTIFICATION,
    RECOGNITION,
    SEEN,
    CoveragePieces,
    edge_exposure,
    polygon_pieces,
    radius_pieces,
    union_length_per_edge,
)

R = 100.0


def _lines(*coords) -> np.ndarray:
    return np.array([LineString(c) for c in coords], dtype=object)


def _ranges(*reach_m: float) -> np.ndarray:
    """Range-mode level table (seen R, recognition R, identification R/2) per camera."""
    return np.array([[r, r, r / 2] for r in reach_m], float)


STREET = _lines([(0, 0), (1000, 0)])
# the same street as one edge with extra vertices, and as three edges end to end
STREET_BENT_VERTICES = _lines([(0, 0), (350, 0), (420, 0), (1000, 0)])
STREET_AS_3_EDGES = _lines([(0, 0), (350, 0)], [(350, 0), (420, 0)], [(420, 0), (1000, 0)])


def _seen(pieces: CoveragePieces, n_edges: int, count=None, public=None):
    n_cam = int(pieces.camera.max()) + 1 if len(pieces.camera) else 1
    count = np.ones(n_cam) if count is None else np.asarray(count, float)
    public = np.ones(n_cam, bool) if public is None else np.asarray(public, bool)
    return edge_exposure(pieces, n_edges, count, public)


# ---------------------------------------------------------------- radius_pieces, one camera


@pytest.mark.parametrize("d", [0.0, 30.0, 60.0, 99.0])
def test_camera_at_distance_d_covers_two_sqrt_r2_minus_d2_of_a_straight_street(d):
    pieces = radius_pieces(STREET, np.array([[400.0, d]]), _ranges(R))
    exposure = _seen(pieces, 1)
    assert exposure.seen_m[0] == pytest.approx(2 * math.sqrt(R**2 - d**2), rel=1e-12)


def test_camera_60_m_off_a_street_sees_from_320_to_480_m():
    pieces = radius_pieces(STREET, np.array([[400.0, 60.0]]), _ranges(R))
    seen = pieces.subset(pieces.level == SEEN)
    assert seen.start_m.tolist() == pytest.approx([320.0])
    assert seen.end_m.tolist() == pytest.approx([480.0])


def test_identification_reach_is_half_the_range():
    pieces = radius_pieces(STREET, np.array([[400.0, 0.0]]), _ranges(R))
    exposure = _seen(pieces, 1)
    assert exposure.seen_m[0] == pytest.approx(200.0)
    assert exposure.recognition_m[0] == pytest.approx(200.0)
    assert exposure.identification_m[0] == pytest.approx(100.0)


def test_identification_misses_a_street_beyond_half_the_range():
    pieces = radius_pieces(STREET, np.array([[400.0, 60.0]]), _ranges(R))
    assert set(pieces.level.tolist()) == {SEEN, RECOGNITION}
    assert _seen(pieces, 1).identification_m[0] == 0.0


@pytest.mark.parametrize("d", [R, 100.5, 250.0])
def test_camera_at_or_beyond_its_range_from_the_street_covers_nothing(d):
    pieces = radius_pieces(STREET, np.array([[400.0, d]]), _ranges(R))
    assert len(pieces.edge) == 0
    assert _seen(pieces, 1).seen_m[0] == 0.0


def test_coverage_is_clipped_at_the_street_end():
    # camera 30 m along, 60 m off: the disk reaches from -50 m to 110 m; the street starts at 0
    pieces = radius_pieces(STREET, np.array([[30.0, 60.0]]), _ranges(R))
    assert _seen(pieces, 1).seen_m[0] == pytest.approx(110.0)
    seen = pieces.subset(pieces.level == SEEN)
    assert (seen.start_m[0], seen.end_m[0]) == pytest.approx((0.0, 110.0))


def test_camera_beyond_the_street_end_sees_only_the_end():
    # camera 40 m past the far end, on the axis: sees the last 60 m
    pieces = radius_pieces(STREET, np.array([[1040.0, 0.0]]), _ranges(R))
    assert _seen(pieces, 1).seen_m[0] == pytest.approx(60.0)


def test_extra_vertices_on_an_edge_do_not_change_its_coverage():
    pieces = radius_pieces(STREET_BENT_VERTICES, np.array([[400.0, 60.0]]), _ranges(R))
    seen = pieces.subset(pieces.level == SEEN)
    # one piece per straight segment, at offsets along the whole edge
    assert np.c_[seen.start_m, seen.end_m] == pytest.approx(
        np.array([[320.0, 350.0], [350.0, 420.0], [420.0, 480.0]])
    )
    assert _seen(pieces, 1).seen_m[0] == pytest.approx(160.0)


def test_a_street_split_into_edges_is_covered_piece_by_piece():
    pieces = radius_pieces(STREET_AS_3_EDGES, np.array([[400.0, 60.0]]), _ranges(R))
    exposure = _seen(pieces, 3)
    assert exposure.seen_m.tolist() == pytest.approx([30.0, 70.0, 60.0])
    assert exposure.seen_m.sum() == pytest.approx(2 * math.sqrt(R**2 - 60.0**2))
    # offsets are metres from each edge's own start
    seen = pieces.subset(pieces.level == SEEN)
    assert seen.edge.tolist() == [0, 1, 2]
    assert np.c_[seen.start_m, seen.end_m] == pytest.approx(
        np.array([[320.0, 350.0], [0.0, 70.0], [0.0, 60.0]])
    )


def test_a_reversed_edge_measures_coverage_from_its_own_start():
    pieces = radius_pieces(_lines([(1000, 0), (0, 0)]), np.array([[400.0, 60.0]]), _ranges(R))
    seen = pieces.subset(pieces.level == SEEN)
    assert (seen.start_m[0], seen.end_m[0]) == pytest.approx((520.0, 680.0))


def test_a_bent_street_sums_the_coverage_of_its_two_legs():
    # L-shaped edge, camera at the corner: 100 m of each leg
    pieces = radius_pieces(
        _lines([(0, 0), (500, 0), (500, 500)]), np.array([[500.0, 0.0]]), _ranges(R)
    )
    assert _seen(pieces, 1).seen_m[0] == pytest.approx(200.0)


def test_no_camera_gives_no_pieces():
    pieces = radius_pieces(STREET, np.zeros((0, 2)), np.zeros((0, 3)))
    assert len(pieces.edge) == 0
    assert edge_exposure(pieces, 1, np.zeros(0), np.zeros(0, bool)).seen_m.tolist() == [0.0]


# ---------------------------------------------------------------- two cameras


def _two_cameras():
    # intervals [320, 480] and [420, 580]: union 260 m, overlap 60 m
    return radius_pieces(STREET, np.array([[400.0, 60.0], [500.0, 60.0]]), _ranges(R, R))


def test_overlapping_cameras_seen_length_is_the_union():
    exposure = _seen(_two_cameras(), 1, count=[1, 3])
    assert exposure.seen_m[0] == pytest.approx(260.0)


def test_camera_metres_sum_each_cameras_length_weighted_by_its_count():
    exposure = _seen(_two_cameras(), 1, count=[1, 3])
    assert exposure.camera_m[0] == pytest.approx(160.0 * 1 + 160.0 * 3)


def test_seen_public_counts_only_public_cameras():
    exposure = _seen(_two_cameras(), 1, count=[1, 3], public=[False, True])
    assert exposure.seen_m[0] == pytest.approx(260.0)
    assert exposure.seen_public_m[0] == pytest.approx(160.0)


def test_inactive_cameras_are_left_out():
    pieces = _two_cameras()
    exposure = edge_exposure(
        pieces, 1, np.array([1.0, 3.0]), np.ones(2, bool), active=np.array([True, False])
    )
    assert exposure.seen_m[0] == pytest.approx(160.0)
    assert exposure.camera_m[0] == pytest.approx(160.0)
    assert exposure.cameras_on(np.array([0])).tolist() == [0]


def test_cameras_on_lists_each_camera_seeing_an_edge_once():
    pieces = radius_pieces(
        STREET_AS_3_EDGES, np.array([[400.0, 60.0], [900.0, 0.0]]), _ranges(R, R)
    )
    exposure = _seen(pieces, 3)
    assert exposure.cameras_on(np.array([0])).tolist() == [0]
    assert exposure.cameras_on(np.array([1])).tolist() == [0]
    assert exposure.cameras_on(np.array([2])).tolist() == [0, 1]
    assert exposure.cameras_on(np.array([0, 1, 2])).tolist() == [0, 1]
    assert exposure.cameras_on(np.array([], int)).tolist() == []


# ---------------------------------------------------------------- union_length_per_edge


def test_union_length_per_edge_of_hand_made_intervals():
    edge = np.array([1, 0, 0, 0, 1, 0])
    start = np.array([2.0, 20.0, 5.0, 0.0, 0.0, 6.0])
    end = np.array([3.0, 30.0, 8.0, 10.0, 1.0, 7.0])
    # edge 0: [0,10] u [5,8] u [6,7] u [20,30] = 20; edge 1: [0,1] u [2,3] = 2; edge 2: none
    assert union_length_per_edge(edge, start, end, 3).tolist() == pytest.approx([20.0, 2.0, 0.0])


def test_touching_intervals_join_without_double_counting():
    out = union_length_per_edge(np.array([0, 0]), np.array([5.0, 0.0]), np.array([10.0, 5.0]), 1)
    assert out.tolist() == pytest.approx([10.0])


def test_an_interval_inside_another_adds_nothing_even_after_a_gap():
    # [0, 100] holds [10, 20] and [40, 50]; [200, 210] adds 10
    out = union_length_per_edge(
        np.zeros(4, int),
        np.array([0.0, 10.0, 40.0, 200.0]),
        np.array([100.0, 20.0, 50.0, 210.0]),
        1,
    )
    assert out.tolist() == pytest.approx([110.0])


def test_intervals_of_one_edge_do_not_hide_those_of_the_next():
    # edge 0 reaches 500 m, edge 1's interval [0, 5] must still count
    out = union_length_per_edge(np.array([0, 1]), np.array([0.0, 0.0]), np.array([500.0, 5.0]), 2)
    assert out.tolist() == pytest.approx([500.0, 5.0])


def test_union_length_of_no_intervals_is_zero_on_every_edge():
    empty = np.zeros(0)
    assert union_length_per_edge(empty.astype(int), empty, empty, 4).tolist() == [0.0] * 4


# ---------------------------------------------------------------- polygon_pieces


@pytest.mark.parametrize("streets", [STREET, STREET_BENT_VERTICES, STREET_AS_3_EDGES])
def test_polygon_pieces_of_disks_agree_with_radius_pieces_within_0_1_percent(streets):
    xy = np.array([[400.0, 60.0], [500.0, 60.0], [30.0, 0.0], [980.0, -90.0]])
    ranges = _ranges(R, R, R, R)
    exact = _seen(radius_pieces(streets, xy, ranges), len(streets), count=[1, 2, 3, 4])
    n = len(xy)
    disks = shapely.buffer(shapely.points(np.repeat(xy, 3, axis=0)), ranges.ravel(), quad_segs=64)
    approx = _seen(
        polygon_pieces(streets, disks, np.repeat(np.arange(n), 3), np.tile(np.arange(3), n)),
        len(streets),
        count=[1, 2, 3, 4],
    )
    for name in ("seen_m", "recognition_m", "identification_m", "camera_m"):
        got, want = getattr(approx, name), getattr(exact, name)
        assert got.sum() == pytest.approx(want.sum(), rel=1e-3), name
        assert got == pytest.approx(want, rel=1e-3, abs=1e-6), name


def test_polygon_pieces_of_a_polygon_crossing_an_edge_twice_gives_two_pieces():
    # a box over the street with a hole (a building) in the middle: [100, 200] and [300, 400]
    holed = shapely.difference(shapely.box(100, -10, 400, 10), shapely.box(200, -5, 300, 5))
    pieces = polygon_pieces(STREET, np.array([holed]), np.array([0]), np.array([SEEN]))
    assert np.c_[pieces.start_m, pieces.end_m] == pytest.approx(
        np.array([[100.0, 200.0], [300.0, 400.0]])
    )
    assert _seen(pieces, 1).seen_m[0] == pytest.approx(200.0)


def test_polygon_pieces_ignore_empty_areas_and_touching_points():
    touching = shapely.box(-10, -10, 0, 10)  # meets the street at its start point only
    pieces = polygon_pieces(
        STREET, np.array([shapely.Polygon(), touching]), np.array([0, 1]), np.array([SEEN, SEEN])
    )
    assert len(pieces.edge) == 0


# ---------------------------------------------------------------- first_seen_per_edge


def test_first_seen_is_the_earliest_seen_piece_and_nan_where_none():
    pieces = CoveragePieces(
        edge=np.array([0, 0, 0, 2], np.int32),
        camera=np.array([0, 1, 2, 0], np.int32),
        level=np.array([SEEN, SEEN, IDENTIFICATION, SEEN], np.int8),
        start_m=np.array([30.0, 10.0, 5.0, 0.0]),
        end_m=np.array([40.0, 20.0, 6.0, 3.0]),
    )
    first = first_seen_per_edge(pieces, 3)
    # edge 0: identification at 5 m is not a "seen" piece; edge 1: never seen
    assert first[0] == 10.0
    assert np.isnan(first[1])
    assert first[2] == 0.0


def test_first_seen_on_a_street_split_into_edges():
    pieces = radius_pieces(STREET_AS_3_EDGES, np.array([[400.0, 60.0]]), _ranges(R))
    assert first_seen_per_edge(pieces, 3).tolist() == pytest.approx([320.0, 0.0, 0.0])
    reversed_street = _lines([(1000, 0), (0, 0)])
    pieces = radius_pieces(reversed_street, np.array([[400.0, 60.0]]), _ranges(R))
    assert first_seen_per_edge(pieces, 1).tolist() == pytest.approx([520.0])
