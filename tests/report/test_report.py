"""The evidence report on real runs: figures in the text equal their files, the PDF carries
them, the GeoPackage holds real layers, the page works offline in a real browser, bad folders
are refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from helpers import SMALL_REPORT, chromium, small_report_scenario

from sim.cli.app import main
from sim.report.evidence import HEADLINES, fmt, lookup
from sim.scenario.files import DEFAULT_SCENARIO

SMALL = SMALL_REPORT
FIG = re.compile(r'<span class="fig" ([^>]*)>([^<]*)</span>')
ATTR = re.compile(r'data-([a-z]+)="([^"]*)"')
_small_scenario = small_report_scenario  # the run of the ``outputs`` fixture (conftest.py)


@pytest.fixture(params=["run", "comparison"])
def folder(request, outputs) -> Path:
    return outputs[request.param]


def _figures(html: str) -> list[tuple[dict[str, str], str]]:
    return [(dict(ATTR.findall(attrs)), text) for attrs, text in FIG.findall(html)]


def test_every_figure_in_the_report_text_equals_its_file(folder):
    html = (folder / "report.html").read_text()
    figures = _figures(html)
    checked, keys = 0, set()
    for attrs, shown in figures:
        source = folder / attrs["file"]
        if source.suffix != ".json":
            continue
        value = float(lookup(json.loads(source.read_text()), attrs["key"]))
        expected = value * float(attrs["scale"])
        decimals = int(attrs["decimals"])
        assert float(shown.replace(",", "")) == pytest.approx(
            round(expected, decimals), abs=10**-decimals / 2 + 1e-9
        ), attrs
        checked += 1
        keys.add((source.name, attrs["key"]))
    summary_keys = {k for f, k in keys if f == "summary.json"}
    for h in HEADLINES:
        assert f"figures/{h.key}/value" in summary_keys
        assert f"figures/{h.key}/ci95/0" in summary_keys
    if (folder / "comparison.json").exists():
        comparison_keys = {k for f, k in keys if f == "comparison.json"}
        assert "scenarios/1/difference_from_base/seen_walk_s.median/difference" in comparison_keys
    assert checked > 40
    # the findings paragraphs quote no number that is not read from a file (names in <code>,
    # such as a scenario's, are not numbers)
    for finding in re.findall(r"<p class='finding'>(.*?)</p>", html, re.S):
        assert not re.search(r"\d", re.sub(r"<code>.*?</code>", "", FIG.sub("", finding)))


def test_every_figure_of_the_report_names_a_file_beside_it(folder):
    """A comparison's figures name its runs' files by their path from the report; the site
    neighbourhoods come from the (first) run's folder, where the run kept them."""
    files = {attrs["file"] for attrs, _ in _figures((folder / "report.html").read_text())}
    assert [f for f in files if not (folder / f).is_file()] == []
    kept = [f for f in files if f.endswith("site_neighbourhoods.csv")]
    assert len(kept) == 1 and (folder / kept[0]).parent.joinpath("basemap.gpkg").is_file()


def test_table_figures_of_the_report_equal_the_run_tables(outputs):
    folder = outputs["run"]
    html = (folder / "report.html").read_text()
    cameras = pd.read_csv(folder / "cameras.csv")
    routes = gpd.read_parquet(folder / "routes.parquet")
    n_cam = n_route = 0
    for attrs, shown in _figures(html):
        key, decimals = attrs["key"], int(attrs["decimals"])
        if attrs["file"] == "cameras.csv":
            cls, column, stat = key.split("/") if key.count("/") == 2 else (*key.split("/"), "")
            group = cameras[cameras["class"] == cls.removeprefix("class=")]
            value = len(group) if column == "rows" else getattr(group[column], stat)()
            n_cam += 1
        elif attrs["file"] == "routes.parquet":
            if key == "rows":
                value = len(routes)
            else:
                rank, column = key.split("/")
                row = routes[routes["rank"] == int(rank.removeprefix("rank="))].iloc[0]
                value = row[column] * (100 if column == "share_in_view" else 1)
            n_route += 1
        else:
            continue
        assert shown == fmt(float(value), decimals), attrs
    assert n_cam >= 2 * 5 and n_route > 10


def test_pdf_opens_and_holds_the_headline_figures(folder):
    from pypdf import PdfReader

    reader = PdfReader(folder / "report.pdf")
    assert len(reader.pages) >= 3
    text = " ".join(page.extract_text() for page in reader.pages)
    text = re.sub(r"\s+", " ", text)
    summary_file = folder / "summary.json"
    if not summary_file.exists():  # a comparison: its first run's summary is the baseline
        first = json.loads((folder / "comparison.json").read_text())["scenarios"][0]
        summary_file = Path(first["run"]) / "summary.json"
    figures = json.loads(summary_file.read_text())["figures"]
    for h in HEADLINES[:4]:
        shown = fmt(figures[h.key]["value"] * h.scale, h.decimals)
        assert shown in text, (h.key, shown)
    assert "Assumptions and limits" in text and "SHA-256" in text


def test_layers_hold_real_streets_cameras_routes_and_site(outputs):
    folder = outputs["run"]
    layers = set(gpd.list_layers(folder / "layers.gpkg")["name"])
    assert layers == {"streets", "cameras", "routes", "site_area", "edited_cameras"}
    streets = gpd.read_file(folder / "layers.gpkg", layer="streets")
    assert streets.crs.to_epsg() == 4326 and len(streets) > 20000
    agents = pd.read_parquet(folder / "agents.parquet")
    per_rep = agents.groupby("replication")[["walk_m", "seen_walk_s"]].sum().mean()
    # parity: the streets' traffic and time in view add up to the protesters' own walks
    walked_m = (streets["traversals_per_replication"] * streets["length_m"]).sum()
    assert walked_m == pytest.approx(per_rep["walk_m"], rel=1e-4)
    seen_s = streets["minutes_in_view_per_replication"].sum() * 60
    assert seen_s == pytest.approx(per_rep["seen_walk_s"], rel=1e-6)
    assert streets["share_in_view"].between(0, 1).all()
    same = gpd.read_parquet(folder / "streets.parquet")
    assert len(same) == len(streets)
    cameras = gpd.read_file(folder / "layers.gpkg", layer="cameras")
    assert len(cameras) == len(pd.read_csv(folder / "cameras.csv"))
    assert set(cameras["class"]) == {"public_street", "private_building"}
    routes = gpd.read_file(folder / "layers.gpkg", layer="routes")
    to_site = routes[routes["leg"] == "to site"]
    assert to_site["protesters_per_replication"].sum() == pytest.approx(SMALL["protesters"])
    site = gpd.read_file(folder / "layers.gpkg", layer="site_area").to_crs(32618)
    area = json.loads((folder / "manifest.json").read_text())["site_area"]
    assert area["mode"] == "streets"  # the park inside its ring of streets, as the run drew it
    assert site.area.iloc[0] == pytest.approx(area["area_m2"], rel=0.01)


def test_comparison_layers_hold_the_cameras_the_counterfactual_removed(outputs):
    folder = outputs["comparison"]
    doc = json.loads((folder / "comparison.json").read_text())
    cut_manifest = json.loads((Path(doc["scenarios"][1]["run"]) / "manifest.json").read_text())
    removed = cut_manifest["camera_edits"][0]["cameras"]
    edits = gpd.read_file(folder / "layers.gpkg", layer="edited_cameras")
    assert removed > 0
    assert (edits["action"] == "removed").sum() == removed
    assert set(edits["class"]) == {"public_street"}
    html = (folder / "report.html").read_text()
    assert "Cameras removed by wsp_no_public_500m" in html


def test_report_opens_offline_in_chromium_with_a_working_map(outputs, tmp_path):
    page_url = (outputs["comparison"] / "report.html").resolve().as_uri()
    requests, blocked, errors = [], [], []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)

        def guard(route):
            url = route.request.url
            if url == page_url:
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url, wait_until="load")
        page.wait_for_selector("#map path.street")
        streets = page.locator("#map path.street").count()
        cameras = page.locator("#map path.camera").count()
        # streets are drawn where the chosen measure is not zero: under camera worlds few
        # streets have a value there (32 drawn in the comparison's first view, of 620 walked)
        assert streets > 20 and cameras > 50
        assert page.locator("#map path.edited-camera").count() > 0
        page.locator("#map").scroll_into_view_if_needed()
        # hover a street: its values show
        page.locator("#map path.street").nth(streets // 2).hover(force=True)
        page.wait_for_selector(".leaflet-tooltip", state="visible")
        # click a camera: its record opens
        page.locator("#map path.camera").nth(cameras // 2).click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        text = popup.inner_text()
        assert "camera site" in text and "reach: recognition" in text and "licence" in text
        # switch the street colouring: the legend follows
        page.get_by_label("Street coverage").check()
        assert "Street coverage" in page.locator(".legend").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert all(u == page_url or u.startswith("data:") for u in requests), requests
    assert blocked == [] and errors == []


def _bad_folders(root: Path, run: Path) -> dict[str, Path]:
    empty = root / "empty"
    empty.mkdir()
    a_file = root / "summary.json"
    a_file.write_text("{}")
    old = root / "old_run"
    old.mkdir()
    for name in ("summary.json", "manifest.json", "agents.parquet", "cameras.csv"):
        shutil.copy(run / name, old / name)
    broken = root / "broken_comparison"
    broken.mkdir()
    (broken / "comparison.json").write_text("{not json")
    (broken / "comparison.csv").write_text("scenario\n")
    return {"empty": empty, "file": a_file, "old": old, "broken": broken}


@pytest.mark.parametrize("case", ["empty", "file", "old", "broken", "missing"])
def test_a_folder_that_is_not_a_finished_run_is_refused_in_one_line(
    case, outputs, tmp_path, capsys
):
    bad = _bad_folders(tmp_path, outputs["run"]).get(case, tmp_path / "nowhere")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err
    assert "expected" in err or "lacks" in err or "JSON" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_no_report_leaves_the_run_without_one(data_dir, tmp_path):
    scenario = _small_scenario(DEFAULT_SCENARIO, tmp_path / "washington_square.toml")
    common = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "-q"]
    assert main([*common, "run", str(scenario), "--no-progress", "--no-report"]) == 0
    run = next((tmp_path / "out" / "washington_square").iterdir())
    assert not (run / "report.html").exists() and (run / "streets.parquet").exists()


def test_the_site_neighbourhood_figures_equal_an_independent_computation(outputs, data_dir):
    """The report's 'where the site stands' numbers come from site_neighbourhoods.csv, and that
    file agrees with the equity command's own computation for every protest site."""
    from sim.data.equity_inputs import load_equity_inputs
    from sim.exposure import equity

    folder = outputs["run"]
    table = pd.read_csv(folder / "site_neighbourhoods.csv")
    inputs = load_equity_inputs(data_dir)
    direct = equity.site_neighbourhoods(
        inputs.site_ids, inputs.site_xy, inputs.tracts, inputs.coverage
    ).set_index("site_id")
    assert len(table) == len(direct) == 20
    for row in table.itertuples():
        assert row.surveillance_per_1000_500m == pytest.approx(
            direct.loc[row.site_id, "surveillance_per_1000_500m"], rel=1e-8
        )
        assert row.rank_500m == direct.loc[row.site_id, "rank_500m"]
    html = (folder / "report.html").read_text()
    shown = 0
    for attrs, text in _figures(html):
        if attrs["file"] != "site_neighbourhoods.csv":
            continue
        site, column = attrs["key"].removeprefix("site=").split("/")
        value = table.set_index("site_id").loc[site, column]
        value = value * 100 if column.startswith("nonwhite") else value
        assert text == fmt(float(value), int(attrs["decimals"])), attrs
        shown += 1
    assert shown >= 20 * 5
    assert "this-site" in html


# ------------------------------------------------------- what the run folder keeps for its report

KEPT_SOURCES = {
    "basemap": {"boroughs", "shoreline"},
    "site_neighbourhoods": {"census_tracts", "shoreline", "banthescan_public", "protest_sites"},
}


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_run_folder_keeps_its_basemap_and_neighbourhoods_with_checksums(outputs, data_dir):
    folder = outputs["run"]
    manifest = json.loads((folder / "manifest.json").read_text())
    kept = manifest["report_inputs"]
    assert set(kept) == set(KEPT_SOURCES)
    for name, entry in kept.items():
        assert entry["sha256"] == _sha256(folder / entry["file"]), name
        assert {f["source"] for f in entry["data_files"]} == KEPT_SOURCES[name]
        for f in entry["data_files"]:  # the bundle files, by source key, path and checksum
            assert f["sha256"] == _sha256(f["path"]) and Path(f["path"]).is_relative_to(data_dir)
            assert f["licence"] and f["credit"]
    # the scenario's own data files are listed as before (a comparison matches runs by them)
    assert not {f["source"] for f in manifest["data_files"]} & {"boroughs", "census_tracts"}
    layers = set(gpd.list_layers(folder / "basemap.gpkg")["name"])
    assert layers == {"boroughs", "water", "city"}
    city = gpd.read_file(folder / "basemap.gpkg", layer="city")
    assert len(city) == 5 and city.crs.to_epsg() == 4326
    outlines = gpd.read_file(folder / "basemap.gpkg", layer="boroughs")
    assert "Manhattan" in set(outlines["borough"])
    water = gpd.read_file(folder / "basemap.gpkg", layer="water").geometry.iloc[0]
    assert water.area > 0  # the Hudson and East River lie within the map of Washington Square
    table = pd.read_csv(folder / "site_neighbourhoods.csv")
    assert len(table) == 20 and manifest["site"]["site_id"] in set(table["site_id"])


def test_the_kept_basemap_is_the_bundle_cut_exactly(outputs, data_dir):
    """What the report draws from the folder equals what it drew from the bundle before."""
    import shapely

    from sim.data.basemap import read_city_outlines
    from sim.outputs.basemap import BASEMAP_LAYERS, clip_basemap, map_extent
    from sim.outputs.report_inputs import read_report_inputs

    folder = outputs["run"]
    manifest = json.loads((folder / "manifest.json").read_text())
    site = manifest["site"]
    bounds = map_extent(gpd.read_parquet(folder / "streets.parquet"), (site["lon"], site["lat"]))
    direct = clip_basemap(read_city_outlines(data_dir), bounds)
    kept = read_report_inputs(folder, manifest).basemap
    assert kept.bounds == direct.bounds == tuple(manifest["report_inputs"]["basemap"]["bounds"])
    for name in BASEMAP_LAYERS:
        a, b = getattr(kept, name), getattr(direct, name)
        assert list(a.drop(columns="geometry").itertuples(index=False)) == list(
            b.drop(columns="geometry").itertuples(index=False)
        )
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0).all(), name


def _copy_without_report(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    for name in ("report.html", "report.pdf", "layers.gpkg"):
        (target / name).unlink()
    return target


def test_report_is_written_from_the_folder_alone_with_no_data_folder(
    outputs, tmp_path, monkeypatch, capsys
):
    """No data folder anywhere (none given, none in the environment, every lookup refused):
    the report is written, and it is the one written beside the run when it finished."""
    from sim.data import datasets

    run = outputs["run"]
    folder = _copy_without_report(run, tmp_path / "copy" / run.name)
    monkeypatch.delenv("PROTEST_SIM_DATA", raising=False)

    def refused(*args, **kwargs):
        raise AssertionError(f"the report looked for the data folder {args}")

    for name in ("locate", "find_data_dir", "resolve_data_dir", "find_source"):
        monkeypatch.setattr(datasets, name, refused)
    nowhere = tmp_path / "no data here"
    assert main(["--data-dir", str(nowhere), "-q", "report", str(folder)]) == 0
    assert capsys.readouterr().err == ""
    assert not nowhere.exists()
    assert (folder / "report.html").read_text() == (run / "report.html").read_text()
    assert (folder / "report.pdf").stat().st_size > 100_000


@pytest.mark.parametrize("case", ["written_before", "altered"])
def test_a_folder_without_its_report_inputs_or_with_them_altered_is_refused_in_one_line(
    case, outputs, tmp_path, capsys
):
    """A run folder written before runs kept their report's inputs (it may hold an old
    report's site_neighbourhoods.csv, but no basemap.gpkg and no manifest record of them) is
    refused with what it lacks and what to do; so is one whose kept file was changed."""
    run = outputs["run"]
    folder = _copy_without_report(run, tmp_path / case)
    if case == "written_before":
        (folder / "basemap.gpkg").unlink()
        manifest = json.loads((folder / "manifest.json").read_text())
        del manifest["report_inputs"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
        fragments = ("lacks basemap.gpkg, manifest.json key 'report_inputs'", "run its scenario")
    else:
        table = folder / "site_neighbourhoods.csv"
        table.write_text(table.read_text().replace("washington_sq_park", "washington_sq_pork"))
        fragments = (str(table), "SHA-256 differs", "run the scenario again")
    before = sorted(p.name for p in folder.iterdir())
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_run_needs_the_reports_sources_before_it_starts(data_dir, tmp_path, capsys, offline):
    """Without the census tracts the run could not keep its report's inputs: it stops before
    simulating, naming the file, and writes nothing."""
    from helpers import cli_fails

    root = tmp_path / "data"
    census = "census/nyc_tracts2020_race.geojson"
    for source in data_dir.rglob("*"):
        rel = source.relative_to(data_dir)
        if source.is_file() and str(rel) != census:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).symlink_to(source)
    scenario = _small_scenario(DEFAULT_SCENARIO, tmp_path / "washington_square.toml")
    out = tmp_path / "out"
    argv = ["--data-dir", str(root), "--outputs", str(out), "run", str(scenario), "--no-report"]
    cli_fails(capsys, ["--no-progress", *argv], f"{root / census} (census_tracts)")
    assert not out.exists()
