"""Inputs loaded once and frozen: each run names exactly the files it used, and compare never
reuses a run made on other data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli.app import main
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.inputs import DataSource, scenario_inputs

SCENARIOS = DEFAULT_SCENARIO.parent
BANTHESCAN_PUBLIC = "cameras/banthescan_public_cameras.json"
# The data files the default scenario reads, by manifest key (data/sources.toml).
DEFAULT_FILES = {
    "osm_walk",
    "mta_entrances",
    "protest_sites",
    "banthescan_public",
    "banthescan_all",
    "amnesty_counts",
    "ridership_2020",
    "buildings_doitt",
}


def _keys(inputs) -> set[str]:
    return {f.source.key for f in inputs.files}


@pytest.mark.realdata
def test_each_scenario_lists_exactly_its_own_files_even_from_a_shared_source(data_dir):
    source = DataSource(data_dir)
    union = scenario_inputs(load_scenario(SCENARIOS / "union_square.toml"), source)
    default = scenario_inputs(load_scenario(DEFAULT_SCENARIO), source)
    assert {"dot_cameras", "linknyc"} <= _keys(union)
    assert _keys(default) == DEFAULT_FILES
    foley = scenario_inputs(load_scenario(SCENARIOS / "foley_square.toml"), source)
    assert "buildings_doitt" in _keys(foley) and "buildings" not in _keys(default)
    assert foley.open_space is not None and default.open_space is not None
    radius = scenario_inputs(load_scenario(SCENARIOS / "wsp_amnesty_radius.toml"), source)
    assert radius.open_space is None and "buildings_doitt" not in _keys(radius)
    # the checksums are the files' own
    import hashlib

    for f in default.files:
        assert f.sha256 == hashlib.sha256(f.path.read_bytes()).hexdigest()


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name", ["washington_square", "foley_square", "union_square", "wsp_amnesty_radius"]
)
def test_the_data_check_before_a_run_names_every_file_the_run_then_reads(data_dir, name):
    """``datasets.sources_for`` (checked before any work) against the files loading opens; the
    default scenario reads DoITT's footprints, not the partial OSM file the check once named."""
    from sim.data import datasets

    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    read = _keys(scenario_inputs(scenario, DataSource(data_dir)))
    checked = set(datasets.sources_for(scenario))
    assert checked == read
    assert ("buildings_doitt" in checked) == (name != "wsp_amnesty_radius")


def _half_public_cameras(data_dir: Path, target: Path) -> Path:
    """A data directory like the bundle whose Ban the Scan public file keeps half its points."""
    for path in data_dir.rglob("*"):
        rel = path.relative_to(data_dir)
        if path.is_file() and str(rel) != BANTHESCAN_PUBLIC:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).symlink_to(path)
    points = json.loads((data_dir / BANTHESCAN_PUBLIC).read_text())
    (target / BANTHESCAN_PUBLIC).parent.mkdir(parents=True, exist_ok=True)
    (target / BANTHESCAN_PUBLIC).write_text(json.dumps(points[::2]))
    return target


@pytest.mark.realdata
def test_compare_reruns_when_a_camera_file_changed_and_lists_every_file(data_dir, tmp_path, capsys):
    scenario = tmp_path / "small.toml"
    scenario.write_text(
        f'base = "{DEFAULT_SCENARIO}"\nname = "small"\nreplications = 1\n'
        "[crowd]\nprotesters = 200\n[outputs]\nfigures = false\n"
    )
    outputs = tmp_path / "out"
    common = ["--outputs", str(outputs), "-q"]
    assert main(["--data-dir", str(data_dir), *common, "run", str(scenario), "--no-progress"]) == 0
    assert len(list((outputs / "small").iterdir())) == 1
    # compare on the same data reuses the finished run
    assert main(["--data-dir", str(data_dir), *common, "compare", str(scenario)]) == 0
    assert len(list((outputs / "small").iterdir())) == 1
    # on data whose public camera file changed, it runs afresh and names the new file
    other = _half_public_cameras(data_dir, tmp_path / "data")
    assert main(["--data-dir", str(other), *common, "compare", str(scenario)]) == 0
    runs = sorted((outputs / "small").iterdir())
    assert len(runs) == 2
    comparisons = sorted((outputs / "compare").iterdir())
    record = json.loads((comparisons[-1] / "comparison.json").read_text())
    listed = {f["source"]: f["sha256"] for f in record["data_files"]}
    fresh = json.loads((runs[-1] / "manifest.json").read_text())
    assert listed == {f["source"]: f["sha256"] for f in fresh["data_files"]}
    assert set(listed) == DEFAULT_FILES
    old = json.loads((runs[0] / "manifest.json").read_text())
    old_public = {f["source"]: f["sha256"] for f in old["data_files"]}["banthescan_public"]
    assert listed["banthescan_public"] != old_public
    old_cam = json.loads((runs[0] / "summary.json").read_text())["figures"]["camera_s.mean"]
    new_cam = json.loads((runs[1] / "summary.json").read_text())["figures"]["camera_s.mean"]
    assert new_cam["value"] < 0.9 * old_cam["value"]  # half the public sites: less footage
