"""Tests of sim.exposure.visibility: corridors, footprint open space, isovists."""

import math

import numpy as np
import pytest
import shapely
from helpers import BUNDLE
from shapely.geometry import LineString, Point, box

from sim.errors import DataError
from sim.exposure import visibility

DATA = BUNDLE
BUILDINGS = DATA / "buildings" / "manhattan_osm_buildings_partial.geojson.gz"


def _sees(isovist: shapely.Geometry, x: float, y: float) -> bool:
    return bool(isovist.contains(Point(x, y)))


@pytest.fixture
def l_corridor() -> shapely.Geometry:
    """Two residential streets (18 m) meeting at a right angle at (200, 0)."""
    edges = np.array([LineString([(0, 0), (200, 0)]), LineString([(200, 0), (200, 200)])])
    return visibility.corridor_open_space(
        edges, np.array(["residential", ["residential"]], dtype=object)
    )


def test_corridor_has_the_tagged_width_and_joined_corners(l_corridor):
    assert l_corridor.contains(Point(100, 8.9))
    assert not l_corridor.contains(Point(100, 9.1))
    assert l_corridor.contains(Point(205, -5))  # outer corner of the bend
    assert not l_corridor.contains(Point(185, 15))  # inner corner: a building


def test_unknown_highway_tag_gets_default_width():
    space = visibility.corridor_open_space(
        np.array([LineString([(0, 0), (100, 0)])]), np.array([None])
    )
    half_m = visibility.DEFAULT_CORRIDOR_WIDTH_M / 2
    assert space.contains(Point(50, half_m - 0.1))
    assert not space.contains(Point(50, half_m + 0.1))


def test_reverse_duplicate_edges_give_the_same_corridor():
    line = LineString([(0, 0), (100, 0), (100, 50)])
    once = visibility.corridor_open_space(np.array([line]), np.array(["footway"]))
    twice = visibility.corridor_open_space(
        np.array([line, line.reverse()]), np.array(["footway"] * 2)
    )
    assert shapely.equals(once, twice)


def test_l_corridor_camera_sees_down_its_street_but_not_around_the_corner(l_corridor):
    (isovist,) = visibility.isovists(np.array([[0.0, 0.0]]), np.array([250.0]), l_corridor)
    assert _sees(isovist, 150, 0)
    assert _sees(isovist, 195, 5)
    assert math.hypot(200, 100) < 250  # within range ...
    assert not _sees(isovist, 200, 100)  # ... but behind the corner


def test_camera_in_open_square_sees_its_full_disk():
    (isovist,) = visibility.isovists(
        np.array([[0.0, 0.0]]), 100.0, box(-1000, -1000, 1000, 1000), n_rays=360
    )
    assert isovist.area == pytest.approx(math.pi * 100**2, rel=0.02)


def test_camera_in_straight_corridor_sees_range_both_ways():
    (isovist,) = visibility.isovists(np.array([[0.0, 0.0]]), 120.0, box(-500, -5, 500, 5))
    min_x, min_y, max_x, max_y = isovist.bounds
    assert min_x == pytest.approx(-120) and max_x == pytest.approx(120)
    assert min_y >= -5 - 1e-9 and max_y <= 5 + 1e-9


def test_camera_5m_off_open_space_is_snapped_and_sees_40m_off_sees_nothing():
    street = box(-500, -5, 500, 5)
    near, far = visibility.isovists(np.array([[0.0, 10.0], [0.0, 45.0]]), 120.0, street)
    assert _sees(near, 100, 0) and _sees(near, -100, 0)
    assert far.is_empty


def test_isovists_of_no_cameras_is_empty():
    assert len(visibility.isovists(np.empty((0, 2)), 120.0, box(0, 0, 10, 10))) == 0


def test_isovists_rejects_too_few_rays():
    with pytest.raises(ValueError, match="n_rays must be at least 3, got 2"):
        visibility.isovists(np.array([[0.0, 0.0]]), 120.0, box(-5, -5, 5, 5), n_rays=2)


@pytest.fixture
def block() -> shapely.Geometry:
    """A 100 m square with known footprints holding one building, and a street crossing it."""
    building = box(40, 40, 60, 60)
    extent = box(0, 0, 100, 100)
    fallback = box(-200, 45, 200, 55)
    return visibility.building_open_space(building, extent, fallback)


def test_building_inside_extent_is_not_open_even_under_a_corridor(block):
    assert not block.contains(Point(50, 50))
    assert block.contains(Point(20, 20))


def test_outside_extent_only_the_fallback_is_open(block):
    assert block.contains(Point(150, 50))
    assert not block.contains(Point(150, 80))


def test_building_blocks_the_sightline(block):
    (isovist,) = visibility.isovists(np.array([[10.0, 50.0]]), 150.0, block)
    assert not _sees(isovist, 90, 50)
    assert _sees(isovist, 90, 10)
    assert _sees(isovist, 150, 50) is False  # hidden behind the building
    assert _sees(isovist, -150, 50) is False  # out of range
    assert _sees(isovist, -100, 50)


def test_unreadable_building_file_raises_data_error(tmp_path):
    path = tmp_path / "broken.geojson.gz"
    path.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="broken.geojson.gz: "):
        visibility.load_building_footprints(path)


@pytest.mark.realdata
def test_building_extent_excludes_washington_square_and_covers_financial_district():
    if not BUILDINGS.exists():
        pytest.skip(f"data bundle not found at {DATA}")
    import geopandas as gpd

    footprints, extent = visibility.load_building_footprints(BUILDINGS)
    assert len(gpd.read_file(f"/vsigzip/{BUILDINGS}")) > 15_000  # footprints before the union
    assert 5e6 < footprints.area < extent.area  # m2: buildings fill part of the covered area
    points = gpd.GeoSeries.from_xy([-73.997646, -74.0110], [40.730965, 40.7075], crs="EPSG:4326")
    washington_square, financial_district = points.to_crs("EPSG:32618")
    assert not extent.contains(washington_square)
    assert extent.contains(financial_district)
    assert not footprints.intersects(washington_square.buffer(100))


def test_the_visibility_registry_names_each_model_once_and_refuses_an_unknown_one():
    from sim.exposure.visibility_models import VISIBILITY_MODELS, visibility_model

    assert all(model.name == name for name, model in VISIBILITY_MODELS.items())
    assert [m.needs_open_space for m in VISIBILITY_MODELS.values()] == [False, True]
    with pytest.raises(ValueError, match=r"'xray' \(allowed: radius, sightline\)"):
        visibility_model("xray")
