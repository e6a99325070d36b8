"""Static maps: one drawing stack for a run's maps, the report's and a route's; each map names
its site and stations, measures in metres from a named place, shows water and borough lines
where they are, and its legend lists exactly what is drawn."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import small_scenario

from sim.cli.app import main
from sim.crowd.stats import wilson_interval
from sim.exposure.camera_model import CAMERA_CLASSES, CLASS_WORDS
from sim.outputs import cartography, plot
from sim.scenario.files import DEFAULT_SCENARIO


def _legend(fig) -> list[str]:
    ax = fig.axes[0]
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _texts(fig) -> set[str]:
    return {t.get_text() for ax in fig.axes for t in ax.texts}


def test_every_camera_class_has_its_words_and_a_colour_of_its_own():
    assert set(CLASS_WORDS) == set(CAMERA_CLASSES)
    colours = [cartography.class_colour(c) for c in CAMERA_CLASSES]
    assert len(set(colours)) == len(colours)
    assert len(set(CLASS_WORDS.values())) == len(CLASS_WORDS)


def test_a_map_measures_from_its_place_and_its_legend_lists_only_what_is_drawn():
    x0, y0 = 585_000.0, 4_510_000.0
    site = plot.SiteMark("Somewhere Sq", x0, y0, shapely.Point(x0, y0).buffer(40))
    frame = cartography.MapFrame.around(site.x, site.y, 500.0, site.name)
    streets = np.array(
        [
            shapely.LineString([(site.x - 300, site.y), (site.x + 300, site.y)]),
            shapely.LineString([(site.x, site.y - 300), (site.x, site.y + 300)]),
            shapely.LineString([(site.x + 5000, site.y), (site.x + 5300, site.y)]),  # off the map
        ],
        dtype=object,
    )
    cams = plot.CameraMarks(
        np.array([[site.x + 100, site.y - 50], [site.x + 9000, site.y]]),  # the 2nd: off the map
        np.array(["linknyc", "nypd_dome"], dtype=object),
    )
    stations = [("Near St", site.x - 200, site.y + 150), ("Far Av", site.x, site.y + 4000)]
    fig = plot.street_map(
        frame,
        streets,
        np.array([10.0, 0.0, 50.0]),
        [20.0, 60.0],
        "walkers",
        cams,
        site,
        "a test map",
        stations=stations,
        zero_label="streets nobody walked",
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "metres east of Somewhere Sq"
    assert ax.get_xlim() == (-500.0, 500.0)
    legend = _legend(fig)
    assert legend == [
        "streets nobody walked",
        f"camera site: {CLASS_WORDS['linknyc']}",
        "subway station (its exits)",
        "Somewhere Sq: the site's area",
        "Somewhere Sq",
    ]
    # the camera on the map is drawn 100 m east and 50 m south of the site
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    assert any(np.allclose(o, [[100.0, -50.0]]) for o in offsets)
    names = _texts(fig)
    assert {"Near St", "Somewhere Sq"} <= names and "Far Av" not in names
    plt.close(fig)


def test_the_wilson_interval_equals_its_published_values():
    lo, hi = wilson_interval(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = wilson_interval(0, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.0, 0.2775)


@pytest.fixture(scope="module")
def small_run(data_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("maps")
    scenario = small_scenario(DEFAULT_SCENARIO, root / "washington_square.toml", 300, 1)
    common = ["--data-dir", str(data_dir), "--outputs", str(root / "out"), "-q"]
    assert main([*common, "run", str(scenario), "--no-progress"]) == 0
    return next((root / "out" / "washington_square").iterdir())


@pytest.mark.realdata
def test_the_reports_maps_name_the_site_and_every_station_protesters_leave_from(
    small_run, monkeypatch
):
    """The report's static maps, drawn from the run folder: the site and each station that
    routes.parquet starts a walk to the site from are named on the map; the camera classes in
    the legend are those cameras.csv places on the map, computed here independently."""
    from sim.report import build, figures

    drawn = []
    real_png = figures.png

    def keep(fig, dpi):
        if fig.axes[0].get_legend() is not None and fig.axes[0].get_xlabel().startswith("metres"):
            drawn.append((_legend(fig), _texts(fig), fig.axes[0].get_xlabel()))
        return real_png(fig, dpi)

    monkeypatch.setattr(figures, "png", keep)
    build.write_report(small_run)
    manifest = json.loads((small_run / "manifest.json").read_text())
    site = manifest["site"]
    routes = pd.read_parquet(small_run / "routes.parquet")
    stations = set(routes.loc[routes["leg"] == "to site", "stations"].str.split(";").str[0])
    assert len(drawn) == 2
    bounds = manifest["report_inputs"]["basemap"]["bounds"]
    cams = pd.read_csv(small_run / "cameras.csv")
    inside = cams["lon"].between(bounds[0], bounds[2]) & cams["lat"].between(bounds[1], bounds[3])
    for legend, texts, xlabel in drawn:
        assert site["name"] in texts
        assert stations <= texts, stations - texts
        assert xlabel == f"metres east of {site['name']}"
        shown = {t.removeprefix("camera site: ") for t in legend if t.startswith("camera site:")}
        assert shown == {CLASS_WORDS[c] for c in set(cams.loc[inside, "class"])}
        assert "water" in legend  # the Hudson is on this map


@pytest.mark.realdata
def test_a_drawn_brooklyn_route_is_mapped_over_water_and_boroughs_and_titled_by_its_name(
    data_dir, tmp_path, monkeypatch
):
    """Brooklyn Bridge Park's promenade beside the East River: no walk network, yet the map
    shows the water and the Brooklyn-Manhattan boundary, and takes the route's name."""
    points = [(40.7003, -73.9967), (40.6980, -73.9995), (40.6950, -74.0010)]
    path = tmp_path / "promenade.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"name": "Brooklyn Bridge Park promenade"},
                "geometry": {"type": "LineString", "coordinates": [[lo, la] for la, lo in points]},
            }
        )
    )
    drawn = []
    real_save = cartography.save

    def keep(fig, target):
        drawn.append((_legend(fig), fig.axes[0].get_title(), fig.axes[0].get_xlabel()))
        real_save(fig, target)

    import sim.outputs.run_files as run_files

    monkeypatch.setattr(run_files, "save", keep)
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "-q"]
    assert main([*argv, "route", "--path", str(path)]) == 0
    ((legend, title, xlabel),) = drawn
    assert title == "Brooklyn Bridge Park promenade"
    assert xlabel == "metres east of the start"
    assert {"water", "borough boundary", "route"} <= set(legend)
    assert "start (first point)" in legend and "end (last point)" in legend
    assert (tmp_path / "out" / "routes").is_dir()
    # the title falls back to the file's name (never its absolute path) without a name
    csv = tmp_path / "walk.csv"
    csv.write_text("\n".join(f"{la},{lo}" for la, lo in points) + "\n")
    drawn.clear()
    assert main([*argv, "route", "--path", str(csv)]) == 0
    assert drawn[0][1] == "walk.csv"
