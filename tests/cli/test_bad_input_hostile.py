"""Issue 24's hostile inputs through the command line, each one line, exit code 2, nothing
written: what once gave a traceback (a symlink loop, TOML nested 50,000 deep, -0.0, a foreign
scheduler), hung (a FIFO, a silent scheduler, a huge design or path) or echoed a file that is
no input of ours; and the last line of defence for anything else (exit 3, a log file)."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, cli_fails, run_cli

from sim.errors import QUOTE_LIMIT

# a hang is a failure, never a stuck test run
pytestmark = pytest.mark.timeout(60)

DEFAULT = SCENARIOS / "washington_square.toml"


def _scenario(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _run_fails(capsys, tmp_path: Path, scenario: Path, *fragments: str) -> str:
    out = tmp_path / "out"
    line = cli_fails(capsys, ["--outputs", str(out), "run", str(scenario)], *fragments)
    assert not out.exists()
    return line


# ------------------------------------------------------------------ scenario files


def test_base_naming_a_symlink_loop(capsys, tmp_path):
    (tmp_path / "loop1.toml").symlink_to(tmp_path / "loop2.toml")
    (tmp_path / "loop2.toml").symlink_to(tmp_path / "loop1.toml")
    path = _scenario(tmp_path, 'base = "loop1.toml"\nname = "x"\n')
    _run_fails(capsys, tmp_path, path, str(path), "key 'base'", "symbolic links")


def test_a_scenario_that_is_a_symlink_loop_itself(capsys, tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    _run_fails(capsys, tmp_path, tmp_path / "a.toml", "a.toml")


@pytest.mark.parametrize("depth", [20_000, 50_000])
@pytest.mark.parametrize("shape", ["arrays", "inline tables"])
def test_toml_nested_too_deep(capsys, tmp_path, depth, shape):
    if shape == "arrays":
        value = "[" * depth + "]" * depth
    else:
        value = "{a = " * depth + "1" + "}" * depth
    path = _scenario(tmp_path, f'name = "deep"\nx = {value}\n')
    _run_fails(capsys, tmp_path, path, str(path), "nested too deep")


def test_a_value_deep_enough_to_parse_but_not_to_check(capsys, tmp_path):
    # 300 levels parse; the checks and copies that follow must not overflow either
    path = _scenario(tmp_path, 'name = "deep"\n[site]\nid = ' + "[" * 300 + "]" * 300 + "\n")
    _run_fails(capsys, tmp_path, path, str(path))


def test_negative_zero_is_zero(tmp_path):
    """``speed_sd_mps = -0.0`` is a standard deviation of zero (validation takes -0.0 as 0.0
    for every number), and a replication draws from it (numpy refuses a negative zero)."""
    from sim.crowd.draws import walking_speeds
    from sim.scenario.files import load_scenario

    path = _scenario(
        tmp_path, f'base = "{DEFAULT}"\nname = "sd0"\n[walking]\nspeed_sd_mps = -0.0\n'
    )
    walking = load_scenario(path).walking
    assert walking.speed_sd_mps == 0.0 and math.copysign(1.0, walking.speed_sd_mps) == 1.0
    speeds = walking_speeds(walking, 5, np.random.default_rng(1))
    assert np.all(speeds == walking.speed_mean_mps)


def test_a_fifo_as_the_scenario_file_is_refused_not_waited_on(capsys, tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    _run_fails(capsys, tmp_path, fifo, str(fifo), "named pipe (FIFO)", "not a regular file")


def test_a_fifo_as_base_is_refused(capsys, tmp_path):
    os.mkfifo(tmp_path / "base.toml")
    path = _scenario(tmp_path, 'base = "base.toml"\nname = "x"\n')
    _run_fails(capsys, tmp_path, path, "base.toml")


def test_a_huge_value_is_quoted_cut_to_80_characters(capsys, tmp_path):
    path = _scenario(tmp_path, f'name = "{"x" * 100_000}!"\n')
    line = _run_fails(capsys, tmp_path, path, str(path), "key 'name'", "100,003 characters")
    assert len(line) < len(str(path)) + 300, len(line)


# ------------------------------------------------------------------ route --path files


def _route_path(tmp_path: Path, path: Path, *extra: str) -> list[str]:
    return ["--outputs", str(tmp_path / "out"), "route", "--path", str(path), *extra]


def test_a_fifo_or_a_device_as_the_path_file_is_refused(capsys, tmp_path):
    fifo = tmp_path / "walk.txt"
    os.mkfifo(fifo)
    cli_fails(capsys, _route_path(tmp_path, fifo), str(fifo), "named pipe (FIFO)")
    cli_fails(capsys, _route_path(tmp_path, Path("/dev/zero")), "/dev/zero", "a device")
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_no_path_file_is_never_echoed(capsys, tmp_path):
    """``route --path /etc/shadow``: the error names the file and the line, not its text."""
    secret = "root:$6$s3cr3tHash$abcdefghijkl:19000:0:99999:7:::"
    path = tmp_path / "shadow"
    path.write_text(f"{secret}\ndaemon:*:19000:0:99999:7:::\n")
    line = cli_fails(capsys, _route_path(tmp_path, path), str(path), "line 1", "'lat,lon'")
    assert "s3cr3t" not in line and "19000" not in line


def test_a_bad_line_after_points_is_quoted_cut_to_80_characters(capsys, tmp_path):
    path = tmp_path / "walk.txt"
    path.write_text("40.7309,-73.9976\n" + "y" * 5000 + "\n")
    line = cli_fails(capsys, _route_path(tmp_path, path), "line 2", "5,002 characters")
    assert "y" * (QUOTE_LIMIT - 5) in line and "y" * QUOTE_LIMIT not in line


def test_more_points_than_allowed_are_refused_quickly(capsys, tmp_path, monkeypatch):
    from sim.cli import route_input

    monkeypatch.setattr(route_input, "MAX_PATH_POINTS", 1000)
    path = tmp_path / "walk.txt"
    path.write_text("40.7309,-73.9976\n" * 1001)
    cli_fails(capsys, _route_path(tmp_path, path), "1,001 points", "at most 1,000 allowed")
    geo = tmp_path / "walk.geojson"
    coords = [[-73.9976, 40.7309]] * 1001
    geo.write_text(json.dumps({"type": "LineString", "coordinates": coords}))
    cli_fails(capsys, _route_path(tmp_path, geo), "1,001 points")
    assert not (tmp_path / "out").exists()


def test_a_path_file_larger_than_allowed_is_not_read(capsys, tmp_path, monkeypatch):
    from sim.cli import route_input

    monkeypatch.setattr(route_input, "MAX_PATH_FILE_BYTES", 100)
    path = tmp_path / "walk.txt"
    path.write_text("40.7309,-73.9976\n" * 20)
    cli_fails(capsys, _route_path(tmp_path, path), str(path), "340 bytes", "at most 100 bytes")


def _geojson(tmp_path: Path, coords, crs=None) -> Path:
    doc = {"type": "LineString", "coordinates": coords}
    if crs is not None:
        doc["crs"] = crs
    path = tmp_path / "walk.geojson"
    path.write_text(json.dumps(doc))
    return path


WSP_TO_UNION = [(40.7309, -73.9976), (40.7359, -73.9911)]  # lat, lon


def test_a_geojson_crs_member_is_honoured(tmp_path):
    """Coordinates in NY State Plane feet (EPSG:2263) with their crs member read as the same
    points as WGS84 longitude, latitude."""
    from pyproj import Transformer

    from sim.cli.route_input import read_path_file

    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    feet = [list(to_feet.transform(lon, lat)) for lat, lon in WSP_TO_UNION]
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2263"}}
    points = read_path_file(_geojson(tmp_path, feet, named))
    np.testing.assert_allclose(points, WSP_TO_UNION, atol=1e-7)
    crs84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    lonlat = [[lon, lat] for lat, lon in WSP_TO_UNION]
    np.testing.assert_allclose(read_path_file(_geojson(tmp_path, lonlat, crs84)), WSP_TO_UNION)


@pytest.mark.parametrize(
    "crs, fragment",
    [
        ({"type": "name", "properties": {"name": "EPSG:999999"}}, "not a known CRS"),
        ({"type": "link", "properties": {"href": "http://x/crs"}}, "not a named CRS"),
        ("EPSG:2263", "not a named CRS"),
    ],
    ids=["unknown", "link", "bare-string"],
)
def test_a_geojson_crs_member_that_cannot_be_honoured_is_refused(capsys, tmp_path, crs, fragment):
    lonlat = [[lon, lat] for lat, lon in WSP_TO_UNION]
    path = _geojson(tmp_path, lonlat, crs)
    cli_fails(capsys, _route_path(tmp_path, path), str(path), "crs", fragment)
    assert not (tmp_path / "out").exists()


def test_coordinates_that_do_not_match_their_crs_lie_outside_the_city(capsys, tmp_path):
    named = {"type": "name", "properties": {"name": "EPSG:2263"}}  # but degrees given
    path = _geojson(tmp_path, [[lon, lat] for lat, lon in WSP_TO_UNION], named)
    cli_fails(capsys, _route_path(tmp_path, path), str(path), "outside New York City")


@pytest.mark.realdata
def test_a_path_of_100000_points_is_scored(capsys, tmp_path, data_dir):
    """Scored, not hung (the module's 60 s guard); its speed is bench's route_path_points."""
    lat = np.linspace(WSP_TO_UNION[0][0], WSP_TO_UNION[1][0], 100_000)
    lon = np.linspace(WSP_TO_UNION[0][1], WSP_TO_UNION[1][1], 100_000)
    path = tmp_path / "walk.txt"
    path.write_text("\n".join(f"{a:.7f},{b:.7f}" for a, b in zip(lat, lon)))
    code = run_cli(["--data-dir", str(data_dir), *_route_path(tmp_path, path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(next((tmp_path / "out" / "routes").glob("*/route.json")).read_text())
    from sim.geo import lonlat_to_xy

    x, y = lonlat_to_xy(np.round(lon, 7), np.round(lat, 7))  # as written: the walk's length
    assert result["length_m"] == pytest.approx(np.hypot(np.diff(x), np.diff(y)).sum(), abs=0.01)


# ------------------------------------------------------------------ schedulers


def _server(answer: bytes | None) -> tuple[str, threading.Event]:
    """A local TCP server that accepts and then sends ``answer`` (None: stays silent)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()
    held = []

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            held.append(conn)
            if answer is not None:
                try:
                    conn.sendall(answer)
                except OSError:
                    pass
        for c in held:
            c.close()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{srv.getsockname()[1]}", stop


def _scheduler_fails(capsys, tmp_path: Path, scheduler: str, *fragments: str) -> str:
    out = tmp_path / "out"
    argv = ["--outputs", str(out), "run", str(DEFAULT), "--scheduler", scheduler]
    line = cli_fails(capsys, argv, *fragments, alone=True)
    assert not out.exists()
    return line


@pytest.mark.parametrize(
    "address, fragment",
    [
        ("inproc://x", "in-process address cannot be reached"),
        ("tcp://x", "not a scheduler address"),
        ("tcp://127.0.0.1:99999", "not a scheduler address"),
        ("http://127.0.0.1:8786", "not a scheduler address"),
    ],
)
def test_a_scheduler_address_that_cannot_be_one(capsys, tmp_path, address, fragment):
    _scheduler_fails(capsys, tmp_path, address, address, fragment, "allowed")


def test_a_scheduler_that_accepts_and_never_answers_times_out(capsys, tmp_path, monkeypatch):
    from sim.batch import pool

    monkeypatch.setattr(pool, "CONNECT_TIMEOUT_S", 2)
    address, stop = _server(None)
    started = time.perf_counter()
    try:
        _scheduler_fails(capsys, tmp_path, address, "no Dask handshake within 2 s")
    finally:
        stop.set()
    assert time.perf_counter() - started < 15


def test_a_scheduler_answering_other_bytes_is_not_out_of_memory(capsys, tmp_path):
    address, stop = _server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" * 10)
    try:
        line = _scheduler_fails(capsys, tmp_path, address, "not Dask's protocol")
    finally:
        stop.set()
    assert "memory" not in line


def test_nothing_listening_at_the_scheduler(capsys, tmp_path):
    address, stop = _server(None)
    stop.set()
    time.sleep(0.5)  # the listener is closed
    _scheduler_fails(capsys, tmp_path, address, "cannot connect")


@pytest.mark.realdata
def test_a_local_cluster_closes_without_a_traceback(capsys, tmp_path, data_dir):
    from helpers import small_scenario

    scenario = small_scenario(DEFAULT, tmp_path / "small.toml", 30, 1)
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "--no-progress"]
    argv += ["run", str(scenario), "--no-report", "--scheduler", "local", "--workers", "1"]
    assert run_cli(argv) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "CommClosedError" not in err, err
    assert "INFO" not in err, err


# ------------------------------------------------------------------ sensitivity


def test_a_sensitivity_design_too_large_is_refused_before_any_work(capsys, tmp_path):
    path = _scenario(
        tmp_path,
        f'base = "{SCENARIOS / "wsp_sensitivity.toml"}"\nname = "big"\n'
        "[sensitivity]\nsamples = 100000\n",
    )
    out = tmp_path / "out"
    cli_fails(
        capsys,
        ["--outputs", str(out), "sensitivity", str(path)],
        str(path),
        "sensitivity.samples",
        "1,000,000 design points",
        "at most 10,000",
        "samples <= 1,000",
        alone=True,
    )
    assert not out.exists()


def test_a_sensitivity_design_says_its_work_before_starting(capsys, tmp_path):
    from sim import progress

    out = tmp_path / "out"
    argv = ["--data-dir", str(tmp_path / "no data"), "--outputs", str(out)]
    try:
        code = run_cli([*argv, "sensitivity", str(SCENARIOS / "wsp_sensitivity.toml")])
    finally:
        progress.configure(False)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    first, *_, last = err.splitlines()
    assert first.startswith("sensitivity: 100 design points x 1 replication(s) = 100 tasks"), err
    assert "roughly 85 s on two cores" in first, err
    assert last.startswith("error: ") and "no data" in last


# ------------------------------------------------------------------ the last line of defence


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("boom " * 100), RecursionError("maximum recursion depth exceeded"), KeyError()],
)
def test_an_unexpected_exception_is_one_line_exit_3_and_a_log_file(
    capsys, tmp_path, monkeypatch, exc
):
    from sim.cli import places

    def broken(args, options):
        raise exc

    monkeypatch.setattr(places, "places_command", broken)
    code = run_cli(["--outputs", str(tmp_path / "out"), "places", "x"])
    out, err = capsys.readouterr()
    assert code == 3, err
    assert "Traceback" not in err and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"internal error: {type(exc).__name__}: ")
    message = line.split(": ", 2)[2].split("; the traceback is in ")[0]
    assert len(message) <= 80
    log = Path(line.split("; the traceback is in ")[1])
    assert log.parent == tmp_path / "out" / "logs"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "places x" in text


# ------------------------------------------------------------------ equity: census rows

TRACTS = "census/nyc_tracts2020_race.geojson"
EQUITY_LINKED = (
    "boundaries/nys_state_shoreline",
    "cameras/banthescan_public_cameras.json",
    "sites/protest_sites_nyc.csv",
)


def _equity_data(tmp_path: Path, bundle: Path, edit) -> Path:
    """A data folder with the bundle's equity inputs linked and the tracts edited by
    ``edit(doc)`` (a GeoJSON FeatureCollection)."""
    root = tmp_path / "data"
    for rel in EQUITY_LINKED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(bundle / rel)
    doc = json.loads((bundle / TRACTS).read_text())
    edit(doc)
    (root / TRACTS).parent.mkdir(parents=True)
    (root / TRACTS).write_text(json.dumps(doc))
    return root


def _null_geometries(doc):
    for f in doc["features"][:3]:
        f["geometry"] = None


def _all_null(doc):
    for f in doc["features"]:
        f["geometry"] = None


def _declared_state_plane(doc):  # degrees, declared as NY State Plane feet
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2263"}}


def _duplicated(doc):
    doc["features"] = doc["features"] * 2


def _gotham(doc):
    doc["features"][5]["properties"]["borough"] = "Gotham"


def _a_point(doc):
    doc["features"][0]["geometry"] = {"type": "Point", "coordinates": [-74.0, 40.7]}


@pytest.mark.realdata
@pytest.mark.parametrize(
    "edit, fragments",
    [
        (_null_geometries, ("has no geometry (null)", "3 tracts lack one")),
        (_all_null, ("has no geometry (null)",)),
        (_a_point, ("has a Point", "Polygon or MultiPolygon")),
        (_declared_state_plane, ("outside New York City", "EPSG:2263", "CRS it declares")),
        (_duplicated, ("appears 2 times", "each GEOID once")),
        (_gotham, ("column 'borough' is 'Gotham'", "Staten Island")),
    ],
    ids=["null-geometries", "all-null", "a-point", "crs-mismatch", "duplicated", "gotham"],
)
def test_bad_census_tracts(capsys, tmp_path, data_dir, edit, fragments):
    root = _equity_data(tmp_path, data_dir, edit)
    out = tmp_path / "out"
    argv = ["--data-dir", str(root), "--outputs", str(out), "equity"]
    cli_fails(capsys, argv, str(root / TRACTS), *fragments, alone=True)
    assert not out.exists()


@pytest.mark.realdata
def test_tracts_in_another_crs_are_honoured_and_the_checksum_warned_on_stderr(
    capsys, caplog, tmp_path, data_dir
):
    """Tracts truly in NY State Plane feet give the bundle's analysis; their checksum differs
    from data/sources.toml's, which a warning says (logged at WARNING: stderr on the command
    line; pytest's log capture here)."""
    import logging
    import warnings

    import geopandas as gpd

    caplog.set_level(logging.WARNING)

    root = _equity_data(tmp_path, data_dir, lambda doc: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: a text column that looks like JSON
        tracts = gpd.read_file(data_dir / TRACTS)
    tracts.to_crs("EPSG:2263").to_file(root / TRACTS, driver="GeoJSON")
    out = tmp_path / "out"
    code = run_cli(["--data-dir", str(root), "--outputs", str(out), "equity"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 1 and "census_tracts" in logged[0] and "SHA-256" in logged[0]
    assert "tracts in the model: 2221 of 2325" in printed, printed


# ------------------------------------------------------------------ report: the folder's files


@pytest.fixture(scope="module")
def finished(data_dir, tmp_path_factory):
    """A small finished run and a comparison of it with a counterfactual (no reports)."""
    import shutil

    from helpers import small_scenario

    root = tmp_path_factory.mktemp("finished")
    base = small_scenario(DEFAULT, root / "washington_square.toml", 40, 2)
    cut = root / "wsp_no_public_500m.toml"
    shutil.copy(SCENARIOS / "wsp_no_public_500m.toml", cut)
    common = ["--data-dir", str(data_dir), "--outputs", str(root / "out"), "-q"]
    assert run_cli([*common, "run", str(base), "--no-progress", "--no-report"]) == 0
    assert run_cli([*common, "compare", str(base), str(cut)]) == 0
    (run,) = (root / "out" / "washington_square").iterdir()
    (comparison,) = (root / "out" / "compare").iterdir()
    return {"root": root / "out", "run": run, "comparison": comparison}


def _copy(folder: Path, tmp_path: Path) -> Path:
    """A copy of a finished folder, at the same depth below an outputs folder."""
    import shutil

    target = tmp_path / "out" / folder.parent.name / folder.name
    shutil.copytree(folder, target)
    return target


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _report_fails(capsys, folder: Path, *fragments: str) -> None:
    before = {p.name for p in folder.iterdir()}
    cli_fails(capsys, ["report", str(folder)], *fragments, alone=True)
    assert {p.name for p in folder.iterdir()} == before  # no report, PDF or GeoPackage


def _drop(doc, *keys):
    for k in keys[:-1]:
        doc = doc[k]
    doc.pop(keys[-1])


@pytest.mark.realdata
@pytest.mark.parametrize(
    "file, change, fragments",
    [
        ("summary.json", lambda d: d.update(figures="x"), ("key 'figures'", "bad value 'x'")),
        ("summary.json", lambda d: d.update(figures={"a": 1}), ("key 'figures'",)),
        (
            "summary.json",
            lambda d: _drop(d, "figures", "seen_walk_s.median"),
            ("'figures/seen_walk_s.median/value' missing",),
        ),
        (
            "summary.json",
            lambda d: d["figures"]["camera_s.median"].update(value="lots"),
            ("'figures/camera_s.median/value'", "bad value 'lots'", "allowed: a number"),
        ),
        (
            "summary.json",
            lambda d: d["figures"]["camera_s.median"].update(value=True),
            ("bad value True",),
        ),
        ("manifest.json", lambda d: _drop(d, "site", "lat"), ("'site/lat' missing",)),
        ("manifest.json", lambda d: d.update(site=[1, 2]), ("key 'site'", "bad value [1, 2]")),
        ("manifest.json", lambda d: d["site"].update(lon="west"), ("'site/lon'", "'west'")),
        ("manifest.json", lambda d: d.update(data_files="x"), ("key 'data_files'",)),
    ],
    ids=[
        "figures-text",
        "figures-not-tables",
        "missing-figure",
        "text-figure",
        "bool-figure",
        "site-without-lat",
        "site-a-list",
        "site-lon-text",
        "data-files-text",
    ],
)
def test_a_run_folder_with_a_bad_file_is_refused(
    capsys, tmp_path, finished, file, change, fragments
):
    folder = _copy(finished["run"], tmp_path)
    _edit(folder / file, change)
    _report_fails(capsys, folder, str(folder / file), *fragments)


@pytest.mark.realdata
def test_a_summary_nested_too_deep_is_refused(capsys, tmp_path, finished):
    folder = _copy(finished["run"], tmp_path)
    (folder / "summary.json").write_text("[" * 100_000 + "]" * 100_000)
    _report_fails(capsys, folder, str(folder / "summary.json"), "nested too deep")


def _comparison(tmp_path: Path, finished) -> Path:
    """A copy of the comparison with its runs beside it (as under outputs/)."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(finished["root"], out)
    (folder,) = (out / "compare").iterdir()
    return folder


@pytest.mark.realdata
@pytest.mark.parametrize(
    "change, fragments",
    [
        (lambda d: d.update(scenarios=[1]), ("key 'scenarios'", "bad value [1]")),
        (lambda d: d.update(scenarios="x"), ("key 'scenarios'",)),
        (lambda d: d["scenarios"][0].pop("name"), ("key 'scenarios'",)),
        (lambda d: d.update(seed=7), ("seed 20200602", "the comparison's seed 7")),
    ],
    ids=["scenarios-numbers", "scenarios-text", "entry-without-name", "another-seed"],
)
def test_a_comparison_with_a_bad_file_is_refused(capsys, tmp_path, finished, change, fragments):
    folder = _comparison(tmp_path, finished)
    _edit(folder / "comparison.json", change)
    _report_fails(capsys, folder, str(folder / "comparison.json"), *fragments)


@pytest.mark.realdata
def test_a_comparison_pointing_at_a_foreign_run_is_refused(capsys, tmp_path, finished):
    """The counterfactual's entry names the base scenario's run folder: refused, not shown as
    the counterfactual's figures."""
    folder = _comparison(tmp_path, finished)
    runs = {p.parent.name: p for p in (tmp_path / "out").glob("*/*-seed*")}

    def foreign(doc):
        doc["scenarios"][1]["run"] = str(runs["washington_square"])

    _edit(folder / "comparison.json", foreign)
    _report_fails(
        capsys,
        folder,
        "scenario 'wsp_no_public_500m' points at",
        "a run of scenario 'washington_square'",
    )
