"""Drawn routes anywhere in the five boroughs: scored from camera sites, no walk network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from sim.cli.app import main
from sim.geo import lonlat_to_xy
from sim.scenario.files import DEFAULT_SCENARIO

pytestmark = pytest.mark.realdata

# Barclays Center to the Atlantic Terminal entrance, along Atlantic Av and Flatbush Av
BROOKLYN = [
    (40.682818, -73.975541),
    (40.68362, -73.97668),
    (40.68417, -73.97790),
    (40.68470, -73.97740),
]
# Jackson Heights: Roosevelt Av from 74 St to 82 St, then up 82 St
QUEENS = [
    (40.74680, -73.89130),
    (40.74750, -73.88380),
    (40.74830, -73.88390),
    (40.75200, -73.88310),
]
# Lower Manhattan: Foley Square to City Hall Park along Centre St and Chambers St
MANHATTAN = [(40.71456, -74.00287), (40.71330, -74.00380), (40.71380, -74.00560)]


def _geojson(tmp_path: Path, name: str, points: list[tuple[float, float]]) -> Path:
    path = tmp_path / f"{name}.geojson"
    coords = [[lon, lat] for lat, lon in points]
    path.write_text(json.dumps({"type": "LineString", "coordinates": coords}))
    return path


def _score(tmp_path: Path, data_dir: Path, path: Path, *extra: str) -> dict:
    out = tmp_path / "out"
    argv = ["--data-dir", str(data_dir), "--outputs", str(out), "route", "--path", str(path)]
    assert main([*argv, *extra]) == 0
    folder = max((out / "routes").iterdir())
    return json.loads((folder / "route.json").read_text())


@pytest.mark.parametrize("name,points", [("brooklyn", BROOKLYN), ("queens", QUEENS)])
def test_brooklyn_and_queens_routes_are_scored_without_a_walk_network(
    tmp_path, data_dir, capsys, monkeypatch, name, points
):
    from sim.scenario.inputs import DataSource

    def no_network(*args, **kwargs):
        raise AssertionError("a drawn route under the radius model must not load a network")

    monkeypatch.setattr(DataSource, "network", no_network)
    result = _score(tmp_path, data_dir, _geojson(tmp_path, name, points))
    assert result["visibility"] == "radius" and result["walk_network"] is None
    assert 300 < result["length_m"] < 1500
    assert 0 < result["surveilled_share_public"] <= 1
    assert result["distinct_public_camera_sites"] >= 1
    assert {f["source"] for f in result["data_files"]} >= {"banthescan_public", "boroughs"}
    assert "results:" in capsys.readouterr().out


def test_scenario_cameras_score_a_queens_route_with_all_layers(tmp_path, data_dir, capsys):
    radius = DEFAULT_SCENARIO.parent / "wsp_amnesty_radius.toml"  # the default sees by sightline
    result = _score(tmp_path, data_dir, _geojson(tmp_path, "q", QUEENS), "--scenario", str(radius))
    assert result["distinct_camera_sites"] >= result["distinct_public_camera_sites"] >= 1
    assert result["camera_s"] > 0
    assert result["surveilled_share_any"] >= result["surveilled_share_public"]


@pytest.mark.parametrize("points", [BROOKLYN, QUEENS, MANHATTAN], ids=["bk", "qn", "mn"])
def test_amnesty_preset_equals_the_line_cut_by_the_union_of_120_m_buffers(
    tmp_path, data_dir, capsys, points
):
    result = _score(tmp_path, data_dir, _geojson(tmp_path, "r", points))
    sites = json.loads((data_dir / "cameras/banthescan_public_cameras.json").read_text())
    lat, lon = np.array(sites).T
    x, y = lonlat_to_xy(lon[lon < 0], lat[lon < 0])
    pts = np.array(points)
    lx, ly = lonlat_to_xy(pts[:, 1], pts[:, 0])
    line = shapely.LineString(np.c_[lx, ly])
    near = shapely.dwithin(shapely.points(np.c_[x, y]), line, 120.0)
    cover = shapely.unary_union(
        [shapely.Point(a, b).buffer(120.0, quad_segs=64) for a, b in zip(x[near], y[near])]
    )
    share = line.intersection(cover).length / line.length
    assert result["surveilled_share_public"] * 100 == pytest.approx(share * 100, abs=0.5)
    assert result["distinct_public_camera_sites"] == int(near.sum())


def test_city_cameras_are_read_once_and_cover_every_borough(data_dir, monkeypatch):
    import dataclasses

    import sim.data.cameras
    from sim.cli.route_path import AMNESTY_LAYERS, city_cameras
    from sim.scenario.inputs import DataSource

    reads = []
    real = sim.data.cameras.CAMERA_SOURCES["banthescan_public"]

    def counting(path, boroughs):
        reads.append(path.name)
        return real.read(path, boroughs)

    monkeypatch.setitem(
        sim.data.cameras.CAMERA_SOURCES,
        "banthescan_public",
        dataclasses.replace(real, read=counting),
    )
    source = DataSource(data_dir)
    first, files = city_cameras(source, AMNESTY_LAYERS)
    second, _ = city_cameras(source, AMNESTY_LAYERS)
    assert reads == ["banthescan_public_cameras.json"]
    assert [f["source"] for f in files] == ["banthescan_public"]
    assert len(first) == len(second) == 2530  # the whole city, one bad record left out
    # every borough has public sites: nothing is cut to Manhattan's network
    from sim.data.census import load_city_area

    area, _ = load_city_area(data_dir)
    boroughs = set(area.borough_of(first.x, first.y))
    assert boroughs >= {"Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island"}


def test_brooklyn_public_sites_and_attachment_sums_match_the_data_readme(data_dir):
    from sim.data.records import read_csv_columns
    from sim.scenario.inputs import DataSource
    from sim.scenario.sections import CameraLayer

    source = DataSource(data_dir)

    def layer(**kwargs):
        return source.layer(CameraLayer(**kwargs))[0]

    brooklyn = layer(source="amnesty_counts", boroughs=("Brooklyn",))
    sums = {c: brooklyn.count[brooklyn.cls == c].sum() for c in set(brooklyn.cls)}
    assert sums == {"private_building": 8316, "public_street": 869, "unknown": 31}
    assert sum(sums.values()) == 9216
    public = brooklyn.subset(brooklyn.cls == "public_street")
    assert len(public) == 634  # intersections with attached_street_median > 0
    # each of them has one of Ban the Scan's public sites within 15 m
    bts = layer(source="banthescan_all")
    bts_public = bts.subset(bts.cls == "public_street")
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(np.c_[bts_public.x, bts_public.y]).query(np.c_[public.x, public.y])
    assert (dist <= 15.0).all()
    # n_cameras_median per borough: the other boroughs' sites carry it as their count
    expected = {"Manhattan": 4266, "Queens": 8935, "Bronx": 4103, "Staten Island": 1183}
    for borough, total in expected.items():
        sites = layer(source="amnesty_counts", boroughs=(borough,))
        assert sites.count.sum() == total, borough
    raw = read_csv_columns(data_dir / "cameras/counts_per_intersections_offline.csv", [])
    bk = raw[raw["BoroName"] == "Brooklyn"]["n_cameras_median"].astype(float)
    assert bk.sum() == 10448  # Brooklyn's n_cameras_median, above its attachment sums
