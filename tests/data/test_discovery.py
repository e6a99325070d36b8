"""Finding the data folder without ceremony, naming every missing file, and progress lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sim import progress
from sim.cli.app import main
from sim.data import datasets
from sim.data.datasets import DataError, find_data_dir

OSM = "osm/manhattan_walk_2019-10-26.osm.bz2"
MTA = "transit/MTA_Subway_Entrances_and_Exits_2024.csv"


DEFAULT_RUN_SOURCES = (
    "osm_walk",
    "mta_entrances",
    "protest_sites",
    "banthescan_public",
    "banthescan_all",
    "amnesty_counts",
    "buildings_doitt",
    "ridership_2020",
    "boroughs",
    "shoreline",
    "census_tracts",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No $PROTEST_SIM_DATA, and a config folder of the test's own."""
    monkeypatch.delenv("PROTEST_SIM_DATA", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PROTEST_SIM_OFFLINE", "1")
    return tmp_path


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "protest-exposure" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_search_order_flag_then_environment_then_config(clean_env, monkeypatch):
    tmp = clean_env
    flag, env, conf = (tmp / n for n in ("flag", "env", "conf"))
    for d in (flag, env, conf):
        d.mkdir()
    _config(tmp, 'data_dir = "../../conf"\n')  # relative to the config file's folder
    assert find_data_dir().path == conf.resolve()
    assert find_data_dir().how.startswith("from data_dir in ")
    monkeypatch.setenv("PROTEST_SIM_DATA", str(env))
    assert find_data_dir().path == env.resolve()
    choice = find_data_dir(flag)
    assert choice.path == flag.resolve() and choice.how == "from --data-dir"
    assert choice.searched == (("--data-dir", "used"),)


def test_a_config_file_naming_a_missing_folder_or_a_bad_value_is_an_error(clean_env):
    _config(clean_env, 'data_dir = "/no/such/folder"\n')
    with pytest.raises(DataError, match="/no/such/folder: data directory \\(from data_dir in"):
        find_data_dir()
    path = _config(clean_env, "data_dir = 3\n")
    with pytest.raises(DataError, match=f"{path}: key 'data_dir': bad value 3"):
        find_data_dir()


@pytest.mark.realdata
def test_without_any_setting_the_bundle_beside_the_checkout_is_found(clean_env, data_dir):
    beside = datasets.REPO_ROOT.parent / "shared" / "data"
    if beside.resolve() != data_dir.resolve():
        pytest.skip("the bundle is not at ../shared/data here")
    choice = find_data_dir()
    assert choice.path == beside.resolve()
    assert choice.how == "found as ../shared/data beside the checkout"
    assert [place for place, _ in choice.searched][:3] == [
        "--data-dir",
        "PROTEST_SIM_DATA",
        f"data_dir in {datasets.user_config_path()}",
    ]


def test_every_missing_required_file_is_named_with_both_ways_to_provide_it(clean_env, capsys):
    empty = clean_env / "empty"
    empty.mkdir()
    assert main(["--data-dir", str(empty), "data"]) == 1
    out = capsys.readouterr().out
    error = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    # what a run of the default scenario reads, its report's basemap and neighbourhoods included
    for key in DEFAULT_RUN_SOURCES:
        path = datasets.load_manifest()[key].path
        assert f"{empty / path} ({key})" in error[0]
    assert "--data-dir or PROTEST_SIM_DATA" in error[0] and "go online" in error[0]
    assert f"{len(DEFAULT_RUN_SOURCES)} data file(s) missing" in error[0]


@pytest.mark.realdata
def test_data_status_passes_on_the_bundle(clean_env, data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "data"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"data directory: {data_dir} (from --data-dir)")
    assert "every required source is available" in out


@pytest.mark.realdata
def test_run_names_all_missing_files_of_the_scenario_at_once(clean_env, data_dir, capsys):
    root = clean_env / "partial"
    (root / OSM).parent.mkdir(parents=True)
    (root / OSM).symlink_to(data_dir / OSM)
    (root / MTA).parent.mkdir(parents=True)
    (root / MTA).symlink_to(data_dir / MTA)
    assert main(["--data-dir", str(root), "--outputs", str(clean_env / "out"), "run"]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    for key in ("protest_sites", "banthescan_public", "banthescan_all", "amnesty_counts"):
        assert f"({key})" in line
    assert "(osm_walk)" not in line and not (clean_env / "out").exists()


# ------------------------------------------------------------------------- progress


@pytest.fixture
def report():
    stream = io.StringIO()
    progress.configure(True, stream, tty=False)
    yield stream
    progress.configure(False)


def test_off_a_terminal_each_step_prints_plain_lines(report):
    with progress.task("building", 4, "stage") as step:
        step.stage("reading")
        step.advance()
        step.advance(3)
    with progress.task("counting", 20, "item", note="a note") as step:
        for _ in range(20):
            step.advance()
    lines = report.getvalue().splitlines()
    assert lines[0] == "building (4 stages) ..."
    assert lines[1] == "building: reading"  # named stages stand for the counts
    assert lines[2].startswith("building: done in ")
    assert lines[3] == "counting (a note; 20 items) ..."
    assert lines[4:-1] == [f"counting: {k}/20 items" for k in range(1, 20, 2)]
    assert lines[-1].startswith("counting: done in ") and "\r" not in report.getvalue()


def test_disabled_progress_prints_nothing():
    stream = io.StringIO()
    progress.configure(False, stream, tty=False)
    with progress.task("x", 3) as step:
        step.advance(3)
    assert stream.getvalue() == ""


def test_isovists_report_their_cameras(report):
    import numpy as np
    import shapely

    from sim.exposure.visibility import isovists

    isovists(np.array([[5.0, 5.0], [6.0, 5.0]]), 3.0, shapely.box(0, 0, 10, 10), n_rays=8)
    assert report.getvalue().splitlines()[0] == "isovists (what each camera sees; 2 cameras) ..."
