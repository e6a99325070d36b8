"""The evidence report on real runs: figures in the text equal their files, the PDF carries
them, the GeoPackage holds real layers, the page works offline in a real browser, bad folders
are refused."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from helpers import SCENARIOS, small_scenario

from sim.cli.app import main
from sim.report.evidence import HEADLINES, fmt, lookup
from sim.scenario.files import DEFAULT_SCENARIO

CHROMIUM = Path("/usr/bin/chromium")
SMALL = {"protesters": 400, "replications": 2}
FIG = re.compile(r'<span class="fig" ([^>]*)>([^<]*)</span>')
ATTR = re.compile(r'data-([a-z]+)="([^"]*)"')


def _small_scenario(source: Path, target: Path) -> Path:
    """``source`` with a small crowd, two replications and no crowding (same keys otherwise)."""
    small_scenario(source, target, SMALL["protesters"], SMALL["replications"])
    target.write_text(re.sub(r"(?m)^crowding = true", "crowding = false", target.read_text()))
    return target


@pytest.fixture(scope="session")
def outputs(data_dir, tmp_path_factory):
    """One small real run of the default scenario with its report (written by `run`), and a
    comparison with the no-public-cameras-within-500-m counterfactual (written by `compare
    --report`, reusing the run)."""
    root = tmp_path_factory.mktemp("report")
    base = _small_scenario(DEFAULT_SCENARIO, root / "washington_square.toml")
    # the counterfactual names its base by file name: beside the small base, it inherits it
    cut = root / "wsp_no_public_500m.toml"
    shutil.copy(SCENARIOS / "wsp_no_public_500m.toml", cut)
    common = ["--data-dir", str(data_dir), "--outputs", str(root / "out"), "-q"]
    assert main([*common, "run", str(base), "--no-progress"]) == 0
    assert main([*common, "compare", str(base), str(cut), "--report"]) == 0
    run = next((root / "out" / "washington_square").iterdir())
    comparison = next((root / "out" / "compare").iterdir())
    return {"run": run, "comparison": comparison}


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
    # the findings paragraph quotes no number that is not read from a file
    finding = re.search(r"<p class='finding'>(.*?)</p>", html, re.S).group(1)
    assert not re.search(r"\d", FIG.sub("", finding))


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
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    page_url = (outputs["comparison"] / "report.html").resolve().as_uri()
    requests, blocked, errors = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
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
        assert streets > 50 and cameras > 50
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
        browser.close()
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
