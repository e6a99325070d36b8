"""The report's words follow the run: each limit is written from the manifest fact it rests on
(change the fact, the sentence follows), no limit contradicts the run's manifest or tables, a
comparison leads with its paired differences, and the PDF is on the paper asked for."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import cli_fails

from sim.cli.app import main
from sim.outputs.layers import ACCESS_LAYER_HIGHWAY
from sim.report.compare_text import comparison_headline, comparison_table
from sim.report.evidence import COMPARE_FIGURES, HEADLINES, fmt, read_evidence
from sim.report.limits import LIMITS, plain, run_limits

# ------------------------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def run_ev(outputs):
    return read_evidence(outputs["run"])


@pytest.fixture(scope="module")
def comparison_ev(outputs):
    return read_evidence(outputs["comparison"])


def _with(run_ev, change):
    """The run's evidence with its manifest changed by ``change(doc)`` (a deep copy)."""
    run = copy.copy(run_ev.base)
    run.manifest = copy.copy(run.manifest)
    run.manifest.doc = copy.deepcopy(run.manifest.doc)
    change(run.manifest.doc)
    return run


def _limit(run, key: str) -> str:
    """The plain words of one limit of ``run`` ('' where it says nothing)."""
    html = LIMITS[key](run)
    return plain(html) if html else ""


def _n(value: float, decimals: int = 0) -> str:
    return fmt(value, decimals)


# ------------------------------------------- change a manifest fact: the sentence follows it


def test_first_and_last_metres_follow_the_manifest(run_ev):
    run = run_ev.base
    facts = run.manifest.doc["first_and_last_metres"]
    assert facts["walked"] is True and facts["in_exposure"] is True
    said = _limit(run, "first_and_last_metres")
    assert "are walked" in said and "counts like any street's" in said and "Not walked" not in said

    def not_walked(doc):
        doc["first_and_last_metres"] = {"walked": False, "in_exposure": False}

    said = _limit(_with(run_ev, not_walked), "first_and_last_metres")
    assert said.startswith("Not walked") and "are walked" not in said

    def not_counted(doc):
        doc["first_and_last_metres"]["in_exposure"] = False

    said = _limit(_with(run_ev, not_counted), "first_and_last_metres")
    assert "is not counted" in said and "counts like any street's" not in said

    def unknown(doc):
        del doc["first_and_last_metres"]

    said = _limit(_with(run_ev, unknown), "first_and_last_metres")
    assert "not recorded" in said and "walked" not in said.split("not recorded")[0]


def test_what_blocks_a_view_follows_the_visibility_model_buildings_and_trees(run_ev):
    from sim.outputs.model_facts import sightline_facts
    from sim.scenario.sections import Cameras

    said = _limit(run_ev.base, "sightlines")
    assert "Visibility model sightline" in said and "Only buildings" in said
    assert "Trees, vehicles, scaffolding and crowds are not in the model" in said
    assert "a park is open ground" in said

    def radius(doc):
        doc["sightlines"] = sightline_facts("radius", Cameras())

    said = _limit(_with(run_ev, radius), "sightlines")
    assert said.startswith("Nothing blocks a camera's view") and "Visibility model radius" in said

    def no_buildings(doc):
        doc["sightlines"] = sightline_facts("sightline", Cameras(buildings=False))

    said = _limit(_with(run_ev, no_buildings), "sightlines")
    assert "Only street corridor edges" in said and "buildings" not in said.split("Only")[1]
    assert "a park is open ground" not in said  # a park is not open space between corridors

    def trees(doc):
        doc["sightlines"]["occluders"].append({"what": "trees", "where": "street trees"})

    said = _limit(_with(run_ev, trees), "sightlines")
    assert "trees (street trees) block a sightline" in said
    assert "Vehicles, scaffolding and crowds are not in the model" in said
    assert "Trees" not in said and "open ground" not in said


def test_dwell_follows_the_scenario_and_the_agents(run_ev, outputs):
    run = run_ev.base
    agents = pd.read_parquet(outputs["run"] / "agents.parquet")
    stay_min = agents["dwell_s"].iloc[0] / 60
    share = (agents["seen_dwell_s"] > 0).mean() * 100
    said = _limit(run, "dwell")
    assert f"stays {_n(stay_min)} min at one standing point" in said
    assert f"{_n(share, 1)}% of protesters were in view" in said

    def half_hour(doc):
        doc["scenario_resolved"]["dwell"]["duration_s"] = 1800.0

    assert "stays 30 min" in _limit(_with(run_ev, half_hour), "dwell")


def test_reach_follows_the_scenario(run_ev):
    said = _limit(run_ev.base, "reach")
    assert "public street furniture (poles, lights, signals): 120 m, set directly" in said

    def shorter(doc):
        doc["scenario_resolved"]["cameras"]["classes"]["public_street"]["range_m"] = 60.0

    said = _limit(_with(run_ev, shorter), "reach")
    assert ": 60 m, set directly" in said and "120 m" not in said.split("(Amnesty")[0]


def test_counts_follow_the_undercount_correction(run_ev):
    said = _limit(run_ev.base, "counts")
    assert "does not correct for it" in said and "lower bounds" in said

    def corrected(doc):
        doc["undercount"]["corrected"] = True

    said = _limit(_with(run_ev, corrected), "counts")
    assert "This run corrects for it" in said and "lower bounds" not in said
    intervals = _limit(_with(run_ev, corrected), "intervals")
    assert "camera counts" not in intervals.split("leave out")[1]


def test_aim_and_exits_follow_the_manifest(run_ev):
    said = _limit(run_ev.base, "aim")
    assert "gives each camera an aim (along one of the streets" in said  # camera worlds

    def unaimed(doc):
        doc["sightlines"]["cameras_have_aim"] = False

    assert "gives no camera an aim" in _limit(_with(run_ev, unaimed), "aim")

    said = _limit(run_ev.base, "exits")
    assert "in proportion to their riders" in said and "decay 100 m" in said

    def equal(doc):
        doc["scenario_resolved"]["origins"]["weights"] = "equal"

    said = _limit(_with(run_ev, equal), "exits")
    assert "every exit sends the same share" in said and "decay" not in said


def test_a_manifest_without_a_fact_says_so_and_claims_nothing(run_ev):
    def old(doc):
        for key in ("sightlines", "undercount", "camera_layers", "drawn_per_replication"):
            del doc[key]

    run = _with(run_ev, old)
    for key in ("sightlines", "camera_layers", "intervals"):
        said = _limit(run, key)
        assert "not recorded in this run's manifest" in said, key
    assert "Trees" not in _limit(run, "sightlines")
    assert "correct" not in _limit(run, "counts")


# ---------------------------------------- every limit: nothing it says contradicts the run


def _check_reach(text, man, folder):
    cams = pd.read_csv(folder / "cameras.csv")
    classes = man["scenario_resolved"]["cameras"]["classes"]
    for cls, group in cams.groupby("class"):
        p = classes[cls]
        if p["range_m"] is not None:
            assert f"{_n(p['range_m'])} m, set directly" in text
            assert (group["seen_range_m"] == p["range_m"]).all()  # as the run's cameras saw
        else:
            assert f"{_n(p['h_pixels'])} pixels across {_n(p['hfov_deg'])} degrees" in text


def _check_counts(text, man, folder):
    cams = pd.read_csv(folder / "cameras.csv")
    by_source = cams["count_source"].value_counts()
    assert dict(by_source) == man["cameras"]["by_count_source"]
    assert f"Of the {_n(len(cams))} camera sites in use" in text
    for n in by_source:
        assert _n(n) in text
    corrected = man["scenario_resolved"]["uncertainty"]["undercount"]
    assert ("This run corrects" in text) == corrected
    assert ("does not correct" in text) == (not corrected)
    assert all(shares == {} for shares in man["undercount_shares"]) == (not corrected)
    for cls in set(cams["class"]):
        lo, hi = man["undercount"]["share_counted"][cls]
        assert f"{_n(lo * 100)}% to {_n(hi * 100)}%" in text


def _check_aim(text, man, folder):
    columns = pd.read_csv(folder / "cameras.csv", nrows=1).columns
    for c in columns:
        assert c in text
    assert not any(w in " ".join(columns) for w in ("aim", "height", "status"))
    assert "nothing says where it points, how high it is or whether it works" in text
    assert ("gives no camera an aim" in text) == (not man["sightlines"]["cameras_have_aim"])


def _check_sightlines(text, man, folder):
    cams = man["scenario_resolved"]["cameras"]
    assert f"Visibility model {cams['visibility']}" in text
    assert man["cameras"]["visibility"] == cams["visibility"]
    whats = [o["what"] for o in man["sightlines"]["occluders"]]
    assert ("buildings" in whats) == (cams["visibility"] == "sightline" and cams["buildings"])
    for w in whats:
        assert w in text
    files = {Path(f["path"]).name for f in man["data_files"]}
    for name in re.findall(r"file (\S+\.gz)", text):
        assert name in files  # the footprints named are a file the run read
    assert ("Trees" in text) == ("trees" not in whats)


def _check_intervals(text, man, folder):
    agents = pd.read_parquet(folder / "agents.parquet", columns=["replication"])
    summary = json.loads((folder / "summary.json").read_text())
    reps = agents["replication"].nunique()
    assert reps == summary["replications"] == man["scenario_resolved"]["replications"]
    assert f"over {reps} replications" in text
    for drawn in man["drawn_per_replication"]:
        assert drawn in text
    assert ("route" in " ".join(man["drawn_per_replication"])) == (
        man["scenario_resolved"]["routing"]["choice"] == "stochastic"
    )
    assert ("camera counts" in text) == (not man["scenario_resolved"]["uncertainty"]["undercount"])


def _check_first_and_last_metres(text, man, folder):
    facts = man["first_and_last_metres"]
    streets = pd.read_parquet(folder / "streets.parquet")
    access = streets[streets["highway"] == ACCESS_LAYER_HIGHWAY]
    # walked: the streets layer's first and last metres carry protesters, and time in view
    assert facts["walked"] == bool((access["traversals_per_replication"] > 0).any())
    assert "are walked" in text and "counts like any street's" in text
    e, s = facts["exit_to_network_m"], facts["site_node_to_standing_point_m"]
    assert access["length_m"].max() == pytest.approx(max(e["max"], s["max"]), abs=0.5)
    assert f"each of the {e['exits']} subway exits" in text
    assert f"median {_n(e['median'])} m, at most {_n(e['max'])} m" in text
    assert f"median {_n(s['median'])} m, at most {_n(s['max'])} m" in text
    assert f"{_n(s['standing_points'])} standing points" in text


def _check_site_area(text, man, folder):
    from sim.geo import lonlat_to_xy

    area = man["site_area"]
    assert area["mode"] == man["scenario_resolved"]["site"]["area"] == "streets"
    assert "drawn from the street network" in text and f"{_n(area['area_m2'])} m2" in text
    ring = np.array(area["outline_latlon"])
    x, y = lonlat_to_xy(ring[:, 1], ring[:, 0])
    shoelace = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert shoelace == pytest.approx(area["area_m2"], rel=0.02)


def _check_dwell(text, man, folder):
    agents = pd.read_parquet(folder / "agents.parquet")
    assert np.allclose(agents["dwell_s"], man["scenario_resolved"]["dwell"]["duration_s"])
    assert f"stays {_n(agents['dwell_s'].iloc[0] / 60)} min" in text
    share = (agents["seen_dwell_s"] > 0).mean() * 100
    assert f"{_n(share, 1)}% of protesters" in text
    seen = agents["seen_dwell_s"].to_numpy()
    whole = ((seen == 0) | np.isclose(seen, agents["dwell_s"].to_numpy())).all()
    assert ("each for the whole stay" in text) == bool(whole and share > 0)


def _check_exits(text, man, folder):
    weights = man["scenario_resolved"]["origins"]["weights"]
    assert weights == man["origins"]["weights"] == "ridership"
    assert f"MTA ridership {man['origins']['ridership']['year']}" in text
    assert f"decay {_n(man['origins']['exit_split_decay_m'])} m" in text


def _check_camera_layers(text, man, folder):
    cams = pd.read_csv(folder / "cameras.csv")
    layers = {layer["source"] for layer in man["scenario_resolved"]["cameras"]["layers"]}
    assert set(cams["source"]) <= layers  # every camera in use comes from a layer named
    for source in layers:
        assert source in text
    left = man["camera_account"]["cannot_see_study_area"]["sites"]
    assert f"{_n(left)} other sites of these layers are left out" in text


def _check_records_left_out(text, man, folder):
    for source, rec in man["camera_records"].items():
        for reason, n in rec.get("skipped", {}).items():
            assert f"{source}: {n} record(s) left out ({reason})" in text


LIMIT_CHECKS = {
    "reach": _check_reach,
    "counts": _check_counts,
    "aim": _check_aim,
    "sightlines": _check_sightlines,
    "intervals": _check_intervals,
    "first_and_last_metres": _check_first_and_last_metres,
    "site_area": _check_site_area,
    "dwell": _check_dwell,
    "exits": _check_exits,
    "camera_layers": _check_camera_layers,
    "records_left_out": _check_records_left_out,
}


def test_every_limit_has_a_check():
    assert set(LIMIT_CHECKS) == set(LIMITS)


@pytest.mark.parametrize("key", list(LIMIT_CHECKS))
def test_no_limit_contradicts_the_runs_manifest_and_tables(key, run_ev, outputs):
    folder = outputs["run"]
    manifest = json.loads((folder / "manifest.json").read_text())
    said = {lim.key: lim.text for lim in run_limits(run_ev.base)}
    assert key in said, f"the run's report states no {key!r} limit"
    LIMIT_CHECKS[key](said[key], manifest, folder)
    # and the report as written says it
    html = (folder / "report.html").read_text()
    item = re.search(rf"<li data-limit='{key}'>(.*?)</li>", html, re.S)
    assert item and plain(item.group(1)) == said[key]


def test_the_report_says_nothing_of_a_fixed_limit_the_manifest_contradicts(outputs):
    for folder in outputs.values():
        text = plain((folder / "report.html").read_text())
        assert "Not walked" not in text
        assert "Open this file in any browser" not in plain(_pdf_text(folder / "report.pdf"))


def test_a_comparison_says_a_shared_limit_once_and_a_different_one_per_scenario(
    comparison_ev, outputs
):
    html = (outputs["comparison"] / "report.html").read_text()
    items = re.findall(r"<li data-limit='(\w+)'>(.*?)</li>", html, re.S)
    keys = [k for k, _ in items]
    names = [r.name for r in comparison_ev.runs]
    per_run = [{lim.key: lim.text for lim in run_limits(r)} for r in comparison_ev.runs]
    for key in LIMITS:
        texts = {p[key] for p in per_run if key in p}
        if len(texts) == 1:
            assert keys.count(key) == 1, key
        else:  # e.g. the counts: the counterfactual uses fewer camera sites
            assert keys.count(key) == len(names), key
            said = [plain(h) for k, h in items if k == key]
            assert [s.split(":")[0] for s in said] == names
    assert keys.count("counts") == 2


# ------------------------------------------------------------------------ the comparison


def test_the_comparison_headline_leads_with_the_paired_difference(comparison_ev, outputs):
    folder = outputs["comparison"]
    doc = json.loads((folder / "comparison.json").read_text())
    html = (folder / "report.html").read_text()
    findings = re.search(r"<section id='findings'>(.*?)</section>", html, re.S).group(1)
    headline = plain(findings)
    assert plain(comparison_headline(comparison_ev)) in headline
    # the paired difference, computed here from the two runs' agents, equals the one quoted
    runs = [Path(s["run"]) for s in doc["scenarios"]]
    per_rep = [
        pd.read_parquet(r / "agents.parquet").groupby("replication")["seen_walk_s"].median()
        for r in runs
    ]
    diff_min = float((per_rep[1] - per_rep[0]).mean()) / 60
    d = doc["scenarios"][1]["difference_from_base"]["seen_walk_s.median"]
    assert d["difference"] / 60 == pytest.approx(diff_min, abs=1e-9)
    lo, hi = (v / 60 for v in d["ci95"])
    base = doc["scenarios"][0]["figures"]["seen_walk_s.median"]["value"] / 60
    cut = doc["scenarios"][1]["figures"]["seen_walk_s.median"]["value"] / 60
    expected = (
        f"Minutes in view while walking: {fmt(base, 1)} min \u2192 {fmt(cut, 1)} min, "
        f"difference {fmt(diff_min, 1, signed=True)} min [{fmt(lo, 1)}, {fmt(hi, 1)}]"
    )
    assert expected in headline, (expected, headline)
    seen = doc["scenarios"][1]["difference_from_base"]["share_seen_at_all"]
    assert f"{fmt(seen['difference'] * 100, 1, signed=True)} pp" in headline
    # what changed: the edit as the counterfactual's manifest records it
    manifest = json.loads((runs[1] / "manifest.json").read_text())
    edit = manifest["camera_edits"][0]
    assert f"removes {edit['cameras']} camera sites ({fmt(edit['camera_count'], 0)} cameras)" in (
        headline
    )
    assert "within 500 m of the site" in headline
    # it comes first: before the baseline's own findings
    assert html.index("What <code>wsp_no_public_500m</code> changes") < html.index(
        "<section id='baseline'>"
    )


def test_the_comparison_table_is_one_row_per_figure_and_four_columns(comparison_ev):
    table = comparison_table(comparison_ev)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    assert len(rows) == 1 + len(COMPARE_FIGURES)
    for row in rows:
        assert len(re.findall(r"<t[hd][ >]", row)) == 4
    assert "difference [95%]" in rows[0]


def test_headline_labels_are_the_columns_labels():
    from sim.columns import figure_column

    for h in HEADLINES:
        col = figure_column(h.key)
        assert h.label == (col.label or col.meaning) and h.scale == 1 / col.scale


# ---------------------------------------------------------------------------------- the PDF


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def _page_size_pt(path: Path) -> tuple[float, float]:
    from pypdf import PdfReader

    box = PdfReader(path).pages[0].mediabox
    return float(box.width), float(box.height)


def test_the_pdf_is_us_letter_by_default_and_a4_when_asked(outputs, tmp_path, capsys):
    run = outputs["run"]
    assert _page_size_pt(run / "report.pdf") == pytest.approx((612, 792), abs=1)
    text = re.sub(r"\s+", " ", _pdf_text(run / "report.pdf"))
    assert "laid out for US letter paper" in text and "browser" not in text.lower()
    copy_ = shutil.copytree(run, tmp_path / run.name)
    assert main(["-q", "report", str(copy_), "--paper", "a4"]) == 0
    assert _page_size_pt(copy_ / "report.pdf") == pytest.approx((595.3, 841.9), abs=1)
    assert "laid out for A4 paper" in re.sub(r"\s+", " ", _pdf_text(copy_ / "report.pdf"))
    capsys.readouterr()
    cli_fails(capsys, ["report", str(copy_), "--paper", "legal"], "--paper", "legal")


def test_run_compare_and_report_take_the_paper_letter_by_default():
    from sim.cli.app import build_parser

    parser = build_parser()
    assert parser.parse_args(["run"]).paper == "letter"
    assert parser.parse_args(["run", "--paper", "a4"]).paper == "a4"
    assert parser.parse_args(["compare", "a.toml", "b.toml", "--paper", "a4"]).paper == "a4"
    assert parser.parse_args(["report", "folder"]).paper == "letter"
