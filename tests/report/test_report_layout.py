"""The report on a desktop and a phone, in a real browser, offline: nothing scrolls sideways,
nothing covers the map's layer switches and every one of them works, the key lists what the map
shows, the map names the site, the stations and the streets, and a comparison's map switches
between scenarios and shows what changed. And the page's tables and map data, without one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import chromium

SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _open(browser, report: Path, size: str):
    """The report opened from disk at ``size``, every request but the file refused."""
    width, height = SIZES[size]
    url = report.resolve().as_uri()
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    blocked, errors = [], []

    def guard(route):
        if route.request.url == url:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_selector("#map path.street")
    return context, page, blocked, errors


# Every element drawn over a point of the layer switches, sampled on a grid over their box.
COVERED = """(sel) => {
  const control = document.querySelector(sel);
  const r = control.getBoundingClientRect();
  const hits = [];
  for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
    const x = r.left + r.width * i / 12, y = r.top + r.height * j / 12;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const e = document.elementFromPoint(x, y);
    if (e && !control.contains(e)) hits.push(e.tagName + "." + e.className);
  }
  return hits;
}"""

# Pairs of boxes that intersect: the layer switches against the key, the map, its controls.
OVERLAPS = """() => {
  const control = document.querySelector(".leaflet-control-layers").getBoundingClientRect();
  const others = ["#map", ".map-key", ".legend", ".scenario-switch", ".leaflet-control-zoom",
                  ".leaflet-control-attribution", ".leaflet-control-scale"];
  const hit = [];
  for (const sel of others) for (const e of document.querySelectorAll(sel)) {
    const r = e.getBoundingClientRect();
    if (r.width && r.height && r.left < control.right && r.right > control.left &&
        r.top < control.bottom && r.bottom > control.top) hit.push(sel);
  }
  return hit;
}"""

# The element at the centre of a label (in the viewport), and whether it is the label's own.
AT_CENTRE = """(label) => {
  const r = label.getBoundingClientRect();
  const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {inside: !!e && (label === e || label.contains(e)), x: r.left + r.width / 2,
          y: r.top + r.height / 2, hit: e ? e.tagName + "." + e.className : ""};
}"""


def _shown(page, selector: str) -> list[str]:
    """Texts of the map labels of ``selector`` that are shown (not given way) inside the map."""
    return page.evaluate(
        """(sel) => {
          const map = document.querySelector("#map").getBoundingClientRect();
          return Array.from(document.querySelectorAll(sel))
            .filter(e => !e.classList.contains("label-hidden"))
            .filter(e => { const r = e.firstElementChild.getBoundingClientRect();
                           return r.width > 0 && r.left >= map.left - 1 && r.right <= map.right + 1
                                  && r.top >= map.top - 1 && r.bottom <= map.bottom + 1; })
            .map(e => e.textContent);
        }""",
        selector,
    )


def _counts(page) -> dict[str, int]:
    return page.evaluate(
        """() => ({streets: document.querySelectorAll("#map path.street").length,
                   cameras: document.querySelectorAll("#map path.camera").length,
                   routes: document.querySelectorAll("#map path.route").length,
                   edits: document.querySelectorAll("#map path.edited-camera").length,
                   site: document.querySelectorAll("#map path.site").length,
                   stations: document.querySelectorAll("#map .station").length,
                   names: document.querySelectorAll("#map .street-label").length})"""
    )


def _click_label(page, label) -> None:
    """Click a switch at its label's centre, checking first that nothing covers it there."""
    label.scroll_into_view_if_needed()
    at = label.evaluate(AT_CENTRE)
    assert at["inside"], (label.inner_text(), at["hit"])
    page.mouse.click(at["x"], at["y"])


def _run_folder(outputs, kind) -> Path:  # noqa: F811
    if kind == "run":
        return outputs["run"]
    doc = json.loads((outputs["comparison"] / "comparison.json").read_text())
    return Path(doc["scenarios"][0]["run"])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["run", "comparison"])
def test_the_report_fits_the_screen_and_every_map_switch_is_free_and_works(
    outputs,  # noqa: F811
    browser,
    kind,
    size,
):
    folder = outputs[kind]
    run = _run_folder(outputs, kind)
    manifest = json.loads((run / "manifest.json").read_text())
    context, page, blocked, errors = _open(browser, folder / "report.html", size)

    # nothing scrolls sideways, at either size
    width = page.evaluate("innerWidth")
    assert width == SIZES[size][0]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width

    # nothing lies over the layer switches: no box crosses theirs, no point of theirs is covered
    control = page.locator(".leaflet-control-layers")
    control.scroll_into_view_if_needed()
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(COVERED, ".leaflet-control-layers") == []

    # the map names the site, the stations protesters come from and major streets
    site_name = manifest["site"]["name"]
    page.locator("#map").scroll_into_view_if_needed()
    assert _shown(page, ".site-label") == [site_name]
    stations = {p["station"] for p in manifest["origins"]["station_places"]}
    named = _shown(page, ".station-label")
    assert named and set(named) <= stations, named
    streets = pd.read_parquet(run / "streets.parquet", columns=["name", "highway"])
    major = set(streets.loc[streets["highway"].isin(["primary", "secondary"]), "name"])
    assert set(_shown(page, ".street-label")) & major

    # the site is drawn as its key shows it: the same green, filled
    site_fill = page.locator("#map path.site").get_attribute("fill")
    key_site = page.locator(".legend > div", has_text="assembly site area")
    assert key_site.count() == 1 and site_name in key_site.inner_text()
    assert site_fill.lower() in key_site.inner_html().lower()

    # every switch's label is free at its centre, and clicking it switches
    labels = page.locator(".leaflet-control-layers label")
    n = labels.count()
    assert n >= 3 + 4 + 2  # measures, site, stations, names, routes, two camera classes
    for i in range(n):
        label = labels.nth(i)
        box = label.locator("input")
        before, counts, key = box.is_checked(), _counts(page), page.locator(".legend").inner_text()
        if box.get_attribute("type") == "radio":  # a measure to colour the streets by
            if before:
                continue  # the one shown: clicking it changes nothing
            _click_label(page, label)
            assert box.is_checked()
            title = page.locator(".legend b").first.inner_text().lower()
            assert label.inner_text().strip().lower() in title  # the key names the measure
            continue
        _click_label(page, label)
        assert box.is_checked() != before, label.inner_text()
        after, new_key = _counts(page), page.locator(".legend").inner_text()
        assert after != counts and new_key != key, label.inner_text()
        _click_label(page, label)  # and back: the map and its key are as they were
        assert box.is_checked() == before and _counts(page) == counts
        assert page.locator(".legend").inner_text() == key

    # the key lists what is shown: a camera class switched off leaves it; routes join it
    key = page.locator(".legend")
    building = page.locator(".leaflet-control-layers label", has_text="Cameras: private building")
    assert "private, on buildings" in key.inner_text()
    cameras = _counts(page)["cameras"]
    _click_label(page, building)
    assert "private, on buildings" not in key.inner_text()
    assert 0 < _counts(page)["cameras"] < cameras
    routes = page.locator(".leaflet-control-layers label", has_text="Most used routes")
    assert "most used routes" not in key.inner_text()
    _click_label(page, routes)
    assert "most used routes" in key.inner_text() and _counts(page)["routes"] > 0

    # the key never covers the map nor the map the key (the key sits beside or below it)
    boxes = page.evaluate(
        "['#map', '.map-key', '.leaflet-control-layers'].map(s => "
        "{const r = document.querySelector(s).getBoundingClientRect(); "
        "return [r.left, r.top, r.right, r.bottom]})"
    )
    (_, _, map_right, map_bottom), (key_left, key_top, _, _) = boxes[0], boxes[1]
    assert key_left >= map_right or key_top >= map_bottom
    assert all(b[2] <= width for b in boxes)
    context.close()
    assert blocked == [] and errors == []


def test_a_comparison_map_shows_each_scenario_and_what_changed(outputs, browser):  # noqa: F811
    folder = outputs["comparison"]
    doc = json.loads((folder / "comparison.json").read_text())
    base, cut = (Path(s["run"]) for s in doc["scenarios"])
    bounds = json.loads((base / "manifest.json").read_text())["report_inputs"]["basemap"]["bounds"]

    def inside(cameras: pd.DataFrame) -> int:
        return int(
            (
                cameras["lon"].between(bounds[0], bounds[2])
                & cameras["lat"].between(bounds[1], bounds[3])
            ).sum()
        )

    n_base = inside(pd.read_csv(base / "cameras.csv"))
    n_cut = inside(pd.read_csv(cut / "cameras.csv"))
    assert n_cut < n_base  # the counterfactual removed public cameras near the site

    context, page, blocked, errors = _open(browser, folder / "report.html", "desktop")
    switch = page.locator(".scenario-switch label")
    assert switch.count() == 3  # the baseline, the counterfactual, the change between them
    key = page.locator(".legend")
    # it opens on the change: streets whose figure changed, and the cameras removed
    assert page.locator(".scenario-switch input").nth(2).is_checked()
    assert ": change" in key.inner_text() and doc["scenarios"][1]["name"] in key.inner_text()
    assert page.locator("#map path.street-change").count() > 0
    assert page.locator("#map path.edited-camera").count() > 0
    assert "camera site removed by" in key.inner_text()
    assert page.locator("#map path.camera").count() == n_cut
    # each scenario: its own cameras
    _click_label(page, switch.nth(0))
    assert page.locator("#map path.camera").count() == n_base
    assert page.locator("#map path.street-change").count() == 0
    assert ": change" not in key.inner_text()
    _click_label(page, switch.nth(1))
    assert page.locator("#map path.camera").count() == n_cut
    assert doc["scenarios"][1]["name"] in key.inner_text()
    context.close()
    assert blocked == [] and errors == []


# ------------------------------------------------------------------ without a browser


def test_tables_reflow_on_a_narrow_screen_or_scroll_in_their_own_box():
    from sim.report.html import responsive_tables

    simple = (
        "<table class='figures'><thead><tr><th>figure</th><th>median</th><th>95% interval</th>"
        "</tr></thead><tbody><tr><th scope='row'>walking</th><td class='num'>13.9</td>"
        "<td class='num'>[13.8, 14.0]</td></tr></tbody></table>"
    )
    out = responsive_tables(simple)
    assert "class='reflow figures'" in out
    assert "<td data-label=\"median\" class='num'>13.9" in out
    assert 'data-label="95% interval"' in out and out.count("data-label") == 2
    bare = responsive_tables(
        "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
    )
    assert "<table class='reflow'>" in bare and '<td data-label="a">1' in bare
    two_rows = (
        "<table class='comparison'><thead><tr><th rowspan='2'>s</th><th colspan='2'>x</th></tr>"
        "<tr><th>m</th><th>d</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
    )
    assert responsive_tables(two_rows) == f"<div class='wide'>{two_rows}</div>"
    wrapped = f"<div class='wide'>{two_rows}</div>"
    assert responsive_tables(wrapped) == wrapped


def test_the_map_data_places_the_site_stations_and_streets(outputs):  # noqa: F811
    import shapely

    from sim.report.build import site_of
    from sim.report.evidence import read_evidence
    from sim.report.html import map_data

    ev = read_evidence(outputs["comparison"])
    basemap = ev.base.report_inputs().basemap
    site = site_of(ev)
    data = map_data(ev, basemap, site)
    # the walks to standing points inside the site are the site area, not streets in colour
    area = shapely.buffer(site.geometry.iloc[0], 2e-4)
    assert data["site"]["walks_inside"] > 100
    for street in data["streets"]:
        if street["access"]:
            line = shapely.LineString([p[::-1] for p in street["line"]])
            assert not line.within(area)
    # every street has a value for each scenario that walked it, keyed the same across runs
    assert all(len(s["v"]) == 2 for s in data["streets"])
    assert sum(s["v"][0] is not None for s in data["streets"]) > 100
    # stations: from the manifest, most used first, those inside the map
    x0, y0, x1, y1 = basemap.bounds
    places = ev.base.manifest.doc["origins"]["station_places"]
    assert [s["name"] for s in data["stations"]] == [
        p["station"]
        for p in places
        if p["share"] > 0 and x0 <= p["lon"] <= x1 and y0 <= p["lat"] <= y1
    ]
    shares = [s["share"] for s in data["stations"]]
    assert len(shares) >= 5 and shares == sorted(shares, reverse=True)
    # street names: the run's own, each with places to stand along its street
    names = set(ev.base.streets["name"])
    assert data["street_labels"] and all(s["name"] in names for s in data["street_labels"])
    assert all(len(s["at"]) >= 3 for s in data["street_labels"])
    # cameras of both runs, each marked with the runs that have it
    removed = set(ev.runs[1].edits.loc[ev.runs[1].edits["action"] == "removed", "camera_id"])
    marks = {c["id"]: c["in"] for g in data["camera_groups"] for c in g["cameras"]}
    assert removed & set(marks) and all(marks[c] == [1, 0] for c in removed & set(marks))
    # the measures' colour classes hold every scenario's values; changes have their own
    for m in data["measures"]:
        top = max(s["v"][i][m["index"]] for s in data["streets"] for i in (0, 1) if s["v"][i])
        assert m["breaks"][-1] >= top and m["change_breaks"]
    assert "OpenStreetMap" in data["attribution"]
