"""Amnesty's tract method: effective cameras, the borough logit, protest-site neighbourhoods."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from sim.exposure import equity
from sim.exposure.equity import CAMERA_RADIUS_M, TractCounts

DISK_M2 = np.pi * CAMERA_RADIUS_M**2


# ------------------------------------------------------------------ formulas, by hand


def test_one_camera_inside_a_large_tract_is_one_effective_camera():
    tract = np.array([shapely.box(0, 0, 1000, 1000)], dtype=object)
    parts = equity.coverage_parts(np.array([[500.0, 500.0]]))
    # a 120-gon of radius 120 m covers pi r^2 to within 0.05%
    assert equity.effective_cameras(tract, parts)[0] == pytest.approx(1.0, rel=5e-4)


def test_cameras_at_one_place_count_once_and_a_camera_on_the_boundary_counts_half():
    tracts = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], object)
    same_place = equity.coverage_parts(np.array([[500.0, 500.0], [500.0, 500.0]]))
    assert equity.effective_cameras(tracts, same_place) == pytest.approx([1.0, 0.0], abs=5e-4)
    on_edge = equity.coverage_parts(np.array([[1000.0, 500.0]]))
    assert equity.effective_cameras(tracts, on_edge) == pytest.approx([0.5, 0.5], abs=5e-4)


def test_clipping_to_land_keeps_only_the_land_part_and_empties_water_tracts():
    land = shapely.box(0, 0, 600, 1000)
    tracts = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(700, 0, 900, 100)], object)
    clipped = equity.clip_to_land(tracts, land)
    assert shapely.area(clipped[0]) == pytest.approx(600_000)
    assert shapely.is_empty(clipped[1])


def test_nonwhite_fraction_is_black_plus_hispanic_over_those_plus_white():
    got = equity.nonwhite_fraction(np.array([10, 0, 0]), np.array([30, 0, 5]), np.array([60, 0, 0]))
    assert got[0] == pytest.approx(0.4)
    assert np.isnan(got[1])
    assert got[2] == 1.0


def test_site_neighbourhood_spreads_residents_over_land_and_counts_cameras_on_it():
    # one 2 km square tract of 4,000 residents; a 500 m disk holds pi/16 of its land
    tract = TractCounts(
        geoid=np.array(["t"], object),
        borough=np.array(["X"], object),
        geom=np.array([shapely.box(0, 0, 2000, 2000)], object),
        population=np.array([4000]),
        hispanic=np.array([1000]),
        white=np.array([2000]),
        black=np.array([1000]),
    )
    parts = equity.coverage_parts(np.array([[1000.0, 1000.0]]))
    out = equity.site_neighbourhoods(
        np.array(["s"], object), np.array([[1000.0, 1000.0]]), tract, parts, (500.0,)
    )
    residents = 4000 * np.pi * 500**2 / 2000**2
    assert out["residents_500m"][0] == pytest.approx(residents, rel=1e-3)
    assert out["effective_cameras_500m"][0] == pytest.approx(1.0, rel=1e-3)
    assert out["surveillance_per_1000_500m"][0] == pytest.approx(1000 / residents, rel=2e-3)
    assert out["nonwhite_fraction_500m"][0] == pytest.approx(0.5)


# ------------------------------------------------------------------ the real bundle


@pytest.fixture(scope="module")
def inputs(data_dir):
    from sim.data.equity_inputs import load_equity_inputs

    return load_equity_inputs(data_dir)


@pytest.fixture(scope="module")
def table(inputs):
    return equity.tract_table(inputs.tracts, inputs.coverage)


@pytest.mark.realdata
def test_tracts_are_clipped_to_land_and_the_water_tracts_dropped(inputs):
    assert len(inputs.tracts) + len(inputs.dropped_tracts) == 2327
    assert len(inputs.dropped_tracts) == 2
    # Manhattan's land (59 km2 by the census) against its tracts' clipped area
    manhattan = inputs.tracts.borough == "Manhattan"
    assert shapely.area(inputs.tracts.geom[manhattan]).sum() / 1e6 == pytest.approx(59, rel=0.03)
    # the one Ban the Scan record with a flipped longitude is left out, the rest kept
    assert len(inputs.cameras_xy) == 2530


@pytest.mark.realdata
def test_effective_cameras_match_an_independent_shapely_computation(data_dir, inputs, table):
    """Per tract: tract clipped to the whole shoreline, intersected with the union of the disks
    of the cameras near it, each disk buffered on its own."""
    from sim.data.census import read_land

    land = read_land(data_dir / "boundaries/nys_state_shoreline/State_Shoreline.shp")
    raw = {
        f["properties"]["GEOID"]: f["geometry"]
        for f in json.loads((data_dir / "census/nyc_tracts2020_race.geojson").read_text())[
            "features"
        ]
    }
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4269", "EPSG:32618", always_xy=True)
    order = np.argsort(-table["effective_cameras"].to_numpy())
    chosen = [*order[:3], *order[500:1500:250]]  # the most covered and a few ordinary tracts
    for i in chosen:
        geoid = table["geoid"].iloc[i]
        tract = shapely.transform(
            shapely.geometry.shape(raw[geoid]),
            lambda xy: np.c_[to_utm.transform(xy[:, 0], xy[:, 1])],
        )
        on_land = tract.intersection(land)
        cx, cy = inputs.cameras_xy.T
        minx, miny, maxx, maxy = on_land.bounds
        near = (
            (cx > minx - CAMERA_RADIUS_M)
            & (cx < maxx + CAMERA_RADIUS_M)
            & (cy > miny - CAMERA_RADIUS_M)
            & (cy < maxy + CAMERA_RADIUS_M)
        )
        disks = [
            shapely.Point(x, y).buffer(CAMERA_RADIUS_M, 30) for x, y in zip(cx[near], cy[near])
        ]
        covered = on_land.intersection(shapely.ops.unary_union(disks)).area if disks else 0.0
        assert table["effective_cameras"].iloc[i] == pytest.approx(covered / DISK_M2, rel=1e-6)
    assert table["effective_cameras"].iloc[order[0]] > 5


@pytest.mark.realdata
def test_borough_model_has_amnestys_direction_manhattan_negative_brooklyn_positive(table):
    model = equity.fit_borough_logit(table).set_index("borough")
    assert model.attrs["converged"]
    assert set(model.index) == {"Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"}
    assert model.loc["Manhattan", "nonwhite_coef"] < 0
    assert model.loc["Brooklyn", "nonwhite_coef"] > 0
    assert model.loc["Brooklyn", "nonwhite_p"] < 0.05
    assert model["tracts"].sum() == table["in_model"].sum() == 2221
    assert (model[["intercept_se", "nonwhite_se"]] > 0).all().all()
    assert ((model["nonwhite_p"] > 0) & (model["nonwhite_p"] < 1)).all()


@pytest.mark.realdata
def test_logit_slope_equals_a_separate_fit_on_one_borough(table):
    """The interaction model is five separate logits: Brooklyn alone gives the same slope."""
    import statsmodels.api as sm

    model = equity.fit_borough_logit(table).set_index("borough")
    bk = table[table["in_model"] & (table["borough"] == "Brooklyn")]
    alone = sm.Logit(
        bk["highly_surveilled"].to_numpy(float),
        sm.add_constant(bk["nonwhite_fraction"].to_numpy(float)),
    ).fit(disp=0)
    assert model.loc["Brooklyn", "nonwhite_coef"] == pytest.approx(alone.params[1], rel=1e-5)
    assert model.loc["Brooklyn", "nonwhite_se"] == pytest.approx(alone.bse[1], rel=1e-4)


@pytest.mark.realdata
def test_every_protest_site_gets_both_neighbourhoods_ranked(inputs):
    sites = equity.site_neighbourhoods(
        inputs.site_ids, inputs.site_xy, inputs.tracts, inputs.coverage
    )
    assert len(sites) == 20
    assert sorted(sites["rank_500m"]) == list(range(1, 21))
    assert (sites["residents_1000m"] > sites["residents_500m"]).all()
    assert sites["nonwhite_fraction_1000m"].between(0, 1).all()
    # the 1 km disk holds the 500 m one: at least as many effective cameras
    assert (sites["effective_cameras_1000m"] >= sites["effective_cameras_500m"] - 1e-9).all()
    assert sites["surveillance_per_1000_500m"].is_monotonic_decreasing


@pytest.mark.realdata
def test_equity_command_writes_table_figures_geopackage_and_manifest(tmp_path, data_dir, capsys):
    import geopandas as gpd
    import pandas as pd

    from sim.cli.app import main

    assert main(["--data-dir", str(data_dir), "--outputs", str(tmp_path), "equity"]) == 0
    out = capsys.readouterr().out
    assert "Manhattan" in out and "results:" in out
    (folder,) = (tmp_path / "equity").iterdir()
    for name in ("tracts.csv", "borough_model.csv", "sites.csv", "surveillance_map.png"):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "borough_scatter.png").stat().st_size > 0
    tracts = gpd.read_file(folder / "tracts.gpkg")
    assert len(tracts) == 2325 and tracts.crs.to_epsg() == 32618
    model = pd.read_csv(folder / "borough_model.csv")
    assert len(model) == 5
    manifest = json.loads((folder / "manifest.json").read_text())
    used = {f["source"]: f["sha256"] for f in manifest["data_files"]}
    assert used["census_tracts"].startswith("5a0c1949")
    assert used["shoreline"].startswith("ce66e2bc")
    assert {"banthescan_public", "protest_sites"} <= set(used)
    assert manifest["tracts_in_model"] == 2221
    assert any("2020 census" in d for d in manifest["differences_from_amnesty"])
