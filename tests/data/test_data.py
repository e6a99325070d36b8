"""Tests of the data layer against the bundle README's figures, and of locating and downloading."""

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from sim.city.exits import MAX_EXIT_SNAP_M
from sim.data import datasets
from sim.data.cameras import read_amnesty_counts, read_point_json
from sim.data.datasets import Source, data_status, download, git_blob_sha1, locate, resolve_data_dir
from sim.data.transit import MTA_COLUMNS, read_exits
from sim.errors import DataError

AMNESTY = "cameras/counts_per_intersections_offline.csv"
PUBLIC_JSON = "cameras/banthescan_public_cameras.json"

# ---------------------------------------------------------------- cameras (README figures)


@pytest.mark.realdata
def test_manhattan_amnesty_counts_are_2019_sites_holding_4266_cameras(data_dir):
    sites, report = read_amnesty_counts(data_dir / AMNESTY, boroughs=["Manhattan"])
    assert len(sites) == 2019
    assert sites.count.sum() == 4266
    # Manhattan rows carry no attachment medians: every site is of class "unknown"
    assert set(sites.cls) == {"unknown"}
    assert report.read == 19807 and report.kept == 2019 and report.skipped == {}


@pytest.mark.realdata
def test_brooklyn_attachment_medians_sum_to_8316_building_869_street_31_unknown(data_dir):
    sites, _ = read_amnesty_counts(data_dir / AMNESTY, boroughs=["Brooklyn"])
    by_class = {c: sites.count[sites.cls == c].sum() for c in np.unique(sites.cls)}
    assert by_class == {"private_building": 8316, "public_street": 869, "unknown": 31}
    assert sum(by_class.values()) == 9216


@pytest.mark.realdata
def test_banthescan_public_keeps_2530_sites_and_reports_the_flipped_longitude(data_dir):
    sites, report = read_point_json(data_dir / PUBLIC_JSON, "banthescan_public")
    assert len(sites) == report.kept == 2530
    assert report.read == 2531
    assert report.skipped == {"coordinates outside New York City": 1}
    (example,) = report.examples["coordinates outside New York City"]
    assert "73.98578" in example and "40.75732" in example
    assert set(sites.cls) == {"public_street"}
    assert (sites.lon < 0).all()


# ---------------------------------------------------------------- network, sites, exits


@pytest.mark.realdata
def test_walk_network_has_the_bundle_node_and_edge_counts(city):
    assert (city.network.n_nodes, city.network.n_edges) == (16231, 52116)
    assert np.all(city.network.edge_length_m >= 0)


@pytest.mark.realdata
def test_washington_square_park_snaps_within_30_m(city):
    site = city.site("washington_sq_park")
    assert site.snap_m < 30.0
    assert site.name == "Washington Square Park"


def _street_distance_m(city, x: float, y: float) -> float:
    tree = shapely.STRtree(city.network.edge_geom)
    point = shapely.Point(x, y)
    return float(point.distance(city.network.edge_geom[tree.query_nearest(point)[0]]))


@pytest.mark.realdata
def test_w4_st_exits_snap_within_30_m_to_the_street_they_open_on(city):
    idx = city.exits.matching_station("W 4 St-Wash Sq")
    assert len(idx) == 6
    for i in idx:
        street = _street_distance_m(city, city.exits.x[i], city.exits.y[i])
        assert street < 6.0
        # the snap distance is the distance to the street, not to the nearest corner (exit
        # 167-661 at 6 Av is 30.4 m from its nearest node but 2 m from its sidewalk)
        assert city.exits.snap_m[i] == pytest.approx(street)
    assert city.exits.snap_m[idx].max() < 30.0


@pytest.mark.realdata
def test_every_kept_exit_snaps_within_100_m_and_the_rest_are_reported(city):
    path = {f.source.key: f for f in city.files}["mta_entrances"].path
    exits, far_ids = read_exits(path, city.network)
    assert len(exits) == len(city.exits) == 869
    assert exits.snap_m.max() <= MAX_EXIT_SNAP_M
    # 2,120 rows, 7 with Exit Allowed = NO: every exit is either kept or reported
    assert len(exits) + len(far_ids) == 2113
    assert not set(far_ids) & set(exits.exit_id)


def _mta_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MTA_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in MTA_COLUMNS})
    return path


def _mta_row(
    lat: float, lon: float, exit_allowed: str, gtfs: str = "A32", name: str = "W 4 St-Wash Sq"
) -> dict:
    return {
        "Stop Name": name,
        "Complex ID": "167",
        "Station ID": "167",
        "GTFS Stop ID": gtfs,
        "Daytime Routes": "A C E",
        "Entrance Type": "Stair",
        "Exit Allowed": exit_allowed,
        "Entrance Latitude": str(lat),
        "Entrance Longitude": str(lon),
    }


@pytest.mark.realdata
def test_entrances_that_do_not_allow_exit_are_left_out(city, tmp_path):
    path = _mta_csv(
        tmp_path / "mta.csv",
        [
            _mta_row(40.7310974, -74.0015985, "YES"),
            _mta_row(40.7311149, -74.0012226, "NO"),
            _mta_row(40.7311107, -74.0011646, " yes "),
        ],
    )
    exits, far = read_exits(path, city.network)
    # exit ids carry the file's line number: lines 2 and 4 kept, the NO on line 3 dropped
    assert exits.exit_id.tolist() == ["167-2", "167-4"]
    assert far == []


@pytest.mark.realdata
def test_gtfs_stop_ids_are_split_on_semicolons(city, tmp_path):
    path = _mta_csv(
        tmp_path / "mta.csv",
        [
            _mta_row(40.7310974, -74.0015985, "YES", gtfs="A32; D20"),
            _mta_row(40.7311149, -74.0012226, "YES", gtfs="R21", name="8 St-NYU"),
        ],
    )
    exits, _ = read_exits(path, city.network)
    assert exits.gtfs_stop_ids[0] == ("A32", "D20")
    assert exits.gtfs_stop_ids[1] == ("R21",)
    assert exits.matching_station("d20").tolist() == [0]
    assert exits.matching_station("A32").tolist() == [0]
    assert exits.matching_station("A32; D20").tolist() == []


@pytest.mark.realdata
def test_real_w4_st_exits_serve_two_gtfs_stops(city):
    by_name = city.exits.matching_station("W 4 St-Wash Sq")
    assert {tuple(city.exits.gtfs_stop_ids[i]) for i in by_name} == {("A32", "D20")}
    assert city.exits.matching_station("D20").tolist() == by_name.tolist()


# ---------------------------------------------------------------- data directory and status


@pytest.mark.realdata
def test_data_status_finds_every_manifest_source_in_the_bundle_with_its_checksum(data_dir):
    rows = {row.key: row for row in data_status(data_dir)}
    assert set(rows) == set(datasets.load_manifest())
    for key, row in rows.items():
        assert not row.found.startswith("MISSING"), key
        assert row.checksum == "bundle", key
        assert row.size_bytes and row.size_bytes > 0, key
    assert rows["mta_entrances"].rows == 2120
    assert rows["amnesty_counts"].rows == 19807
    assert rows["banthescan_public"].rows == 2531
    assert rows["osm_walk"].rows is None


def test_data_status_reports_missing_sources_and_how_to_get_them(tmp_path):
    rows = {row.key: row for row in data_status(tmp_path)}
    assert rows["amnesty_counts"].found.startswith("MISSING (download from https://")
    assert rows["protest_sites"].found == "MISSING (not downloadable)"


def test_locate_names_the_missing_file_and_both_ways_to_provide_it(tmp_path):
    with pytest.raises(DataError) as err:
        locate("amnesty_counts", tmp_path, online=False)
    message = str(err.value)
    assert str(tmp_path / AMNESTY) in message
    assert "--data-dir" in message and "PROTEST_SIM_DATA" in message
    assert datasets.load_manifest()["amnesty_counts"].url in message


def test_locate_never_downloads_a_source_without_a_download(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("urlopen must not be called")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", no_network)
    with pytest.raises(DataError, match="protest_sites_nyc.csv: missing data file") as err:
        locate("protest_sites", tmp_path, online=True)
    assert "go online" not in str(err.value)


def test_locate_rejects_an_unknown_source_key(tmp_path):
    with pytest.raises(DataError, match="unknown data source 'nope'"):
        locate("nope", tmp_path, online=False)


def test_locate_finds_a_file_under_an_alternative_name(tmp_path):
    alt = tmp_path / "cameras" / "counts_per_intersections.csv"
    alt.parent.mkdir()
    alt.write_text("n_cameras_median,Lat,Long,BoroName\n")
    found = locate("amnesty_counts", tmp_path, online=False)
    assert found.path == alt
    assert found.checksum_state.startswith("other")


def test_missing_data_directory_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "no such dir"
    with pytest.raises(DataError, match="no such dir: data directory \\(from --data-dir\\)"):
        resolve_data_dir(missing)


def test_missing_data_directory_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTEST_SIM_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match="gone: data directory \\(from PROTEST_SIM_DATA\\)"):
        resolve_data_dir(None)


# ---------------------------------------------------------------- downloads


def test_git_blob_sha1_matches_git_hash_object():
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git_blob_sha1(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


class _Response:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def read(self) -> bytes:
        return self.payload

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


def _source(**kw) -> Source:
    values = dict(
        key="hello",
        path="dir/hello.txt",
        url="https://example.org/hello.txt",
        download="http",
        format="text",
        licence="-",
        credit="-",
        as_of="2024",
        git_blob_sha1="ce013625030ba8dba906f756967f9e9ca394464a",
    )
    values.update(kw)
    return Source(**values)


def _online(monkeypatch) -> None:
    """These tests stand in for the network (urlopen is replaced), so they run as a machine
    that is online: CI sets PROTEST_SIM_OFFLINE, which refuses every download."""
    monkeypatch.delenv("PROTEST_SIM_OFFLINE", raising=False)


def test_download_writes_the_file_atomically_through_a_part_file(tmp_path, monkeypatch):
    _online(monkeypatch)
    calls = []
    monkeypatch.setattr(
        datasets.urllib.request,
        "urlopen",
        lambda url, timeout: calls.append(url) or _Response(b"hello\n"),
    )
    renames = []
    real_replace = os.replace

    def spy_replace(src, dst):
        renames.append((Path(src), Path(dst), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(datasets.os, "replace", spy_replace)
    target = download(_source(), tmp_path)
    assert calls == ["https://example.org/hello.txt"]
    assert target == tmp_path / "dir" / "hello.txt"
    assert target.read_bytes() == b"hello\n"
    ((src, dst, existed),) = renames
    assert src.name.endswith(".part") and src.parent == target.parent
    assert dst == target and not existed
    assert sorted(p.name for p in target.parent.iterdir()) == ["hello.txt"]


def test_download_under_its_download_name(tmp_path, monkeypatch):
    _online(monkeypatch)
    monkeypatch.setattr(
        datasets.urllib.request, "urlopen", lambda url, timeout: _Response(b"hello\n")
    )
    target = download(_source(download_as="full/original.txt"), tmp_path)
    assert target == tmp_path / "full" / "original.txt"


def test_download_with_a_changed_upstream_blob_warns_and_keeps_it(tmp_path, monkeypatch, caplog):
    _online(monkeypatch)
    monkeypatch.setattr(
        datasets.urllib.request, "urlopen", lambda url, timeout: _Response(b"hello, changed\n")
    )
    target = download(_source(), tmp_path)
    assert target.read_bytes() == b"hello, changed\n"
    assert "git blob id differs" in caplog.text


def test_failed_download_is_a_data_error_naming_the_url_and_leaves_no_file(tmp_path, monkeypatch):
    _online(monkeypatch)

    def refuse(url, timeout):
        raise OSError("connection refused")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match=r"https://example.org/hello.txt: download of 'hello'"):
        download(_source(), tmp_path)
    assert list(tmp_path.rglob("*")) == []
