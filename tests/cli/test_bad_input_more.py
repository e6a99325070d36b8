"""Bad input of every kind through the CLI: scenario keys, file kinds, path files, data files,
caches and command-line options. Each case asserts exit code 2, exactly one line on stderr
(and no warning logged) naming the file, key or value and what is allowed, no traceback, and
no outputs folder written."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import cli_fails

from sim.batch import preflight
from sim.data import datasets

OSM = "osm/manhattan_walk_2019-10-26.osm.bz2"
MTA = "transit/MTA_Subway_Entrances_and_Exits_2024.csv"
SITES = "sites/protest_sites_nyc.csv"
PUBLIC = "cameras/banthescan_public_cameras.json"
COUNTS = "cameras/counts_per_intersections_offline.csv"

SMALL = """name = "small"
replications = 1
[site]
id = "washington_sq_park"
[crowd]
protesters = 150
[cameras]
visibility = "radius"
[outputs]
figures = false
"""
BINARY = bytes(range(256)) * 8
LATIN1 = 'name = "caf\xe9"\n'.encode("latin-1")


pytestmark = pytest.mark.usefixtures("offline")


@dataclass
class Env:
    """What a case may build: a scratch folder, a data folder of links, the outputs folder."""

    tmp: Path
    bundle: Path
    out: Path
    monkeypatch: pytest.MonkeyPatch

    def data(self, altered: dict[str, bytes | str | None] | None = None) -> Path:
        """A data folder linking every bundle file, except ``altered`` ones written here
        (bytes or text; the string ``"DIR"`` makes a folder in its place)."""
        root = self.tmp / "data"
        bundle_files = [str(p.relative_to(self.bundle)) for p in self.bundle.rglob("*")]
        for rel in [r for r in bundle_files if (self.bundle / r).is_file()]:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            content = (altered or {}).get(rel)
            if content is None:
                (root / rel).symlink_to(self.bundle / rel)
            elif content == "DIR":
                (root / rel).mkdir()
            else:
                data = content.encode() if isinstance(content, str) else content
                (root / rel).write_bytes(data)
        return root

    def file(self, name: str, content: bytes | str) -> Path:
        path = self.tmp / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def scenario(self, extra: str = "", base: str = SMALL) -> Path:
        return self.file("bad.toml", base + extra)

    def run(self, *argv: str, data: Path | None = None, env: dict | None = None) -> list[str]:
        """The command line for ``argv`` (and the environment variables it runs with)."""
        for name, value in (env or {}).items():
            self.monkeypatch.setenv(name, value)
        return ["--data-dir", str(data or self.bundle), "--outputs", str(self.out), *argv]


def _fails(env: Env, capsys, caplog, argv: list[str], fragments: tuple[str, ...]) -> str:
    """:func:`helpers.cli_fails` on one line of stderr, with no warning and no outputs folder."""
    caplog.set_level(logging.WARNING)
    line = cli_fails(capsys, ["--no-progress", *argv], *fragments, alone=True)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not env.out.exists(), list(env.out.rglob("*"))
    return line


def _mta_text(bundle: Path) -> str:
    return (bundle / MTA).read_text()


def _sites_text(bundle: Path) -> str:
    return (bundle / SITES).read_text()


def _swapped(bundle: Path) -> str:
    points = json.loads((bundle / PUBLIC).read_text())
    return json.dumps([[lon, lat] for lat, lon in points])


def _duplicate_site(bundle: Path) -> str:
    lines = _sites_text(bundle).splitlines()
    return "\n".join([*lines, lines[2]]) + "\n"  # union_sq_park again, at line 22


def _header_only(bundle: Path) -> str:
    return (bundle / COUNTS).read_text().splitlines()[0] + "\n"


def _on_binary_base(env: Env) -> Path:
    env.file("bin.toml", BINARY)
    return env.scenario("", 'base = "bin.toml"\n' + SMALL)


def _vanishing(env: Env, when: str) -> Path:
    """A data folder whose MTA file is removed as it is checksummed, or just after."""
    root = env.data({MTA: (env.bundle / MTA).read_bytes()})
    target = root / MTA
    if when == "checksum":
        original = datasets.sha256_of

        def vanish_then_hash(path: Path) -> str:
            if path == target:
                target.unlink()
            return original(path)

        env.monkeypatch.setattr(datasets, "sha256_of", vanish_then_hash)
    else:
        original_locate = datasets.locate

        def locate_then_vanish(key: str, data_dir: Path, **kw):
            found = original_locate(key, data_dir, **kw)
            if found.path == target:
                target.unlink()
            return found

        env.monkeypatch.setattr(datasets, "locate", locate_then_vanish)
    return root


AMNESTY_LAYER = '[[cameras.layers]]\nsource = "amnesty_counts"\n'

# (id, argv from the environment, fragments the one error line must hold)
Case = tuple[str, Callable[[Env], list[str]], tuple[str, ...]]
CASES: list[Case] = [
    # ---- scenario keys: out of range, wrong type, values that cannot be computed
    (
        "arrival-duration-1e300",
        lambda e: e.run("run", str(e.scenario("[arrival]\nduration_s = 1e300\n"))),
        ("bad.toml", "'arrival.duration_s'", "1e+300", "<= 86400"),
    ),
    (
        "train-headway-1e12",
        lambda e: e.run("run", str(e.scenario("[arrival]\ntrain_headway_s = 1e12\n"))),
        ("'arrival.train_headway_s'", "1000000000000.0", "<= 3600"),
    ),
    (
        "arrival-start-negative",
        lambda e: e.run("run", str(e.scenario("[arrival]\nstart_s = -1\n"))),
        ("'arrival.start_s'", "-1", ">= 0"),
    ),
    (
        "dwell-a-year",
        lambda e: e.run("run", str(e.scenario("[dwell]\nduration_s = 31536000\n"))),
        ("'dwell.duration_s'", "31536000", "<= 86400"),
    ),
    (
        "replications-zero",
        lambda e: e.run(
            "run", str(e.scenario("", SMALL.replace("replications = 1", "replications = 0")))
        ),
        ("'replications'", "0", ">= 1"),
    ),
    (
        "crowding-as-string",
        lambda e: e.run("run", str(e.scenario('[walking]\ncrowding = "yes"\n'))),
        ("'walking.crowding'", "'yes'", "true or false"),
    ),
    (
        "unknown-section-key",
        lambda e: e.run(
            "run",
            str(
                e.scenario(
                    "[crowd]\nprotestors = 10\n", SMALL.replace("[crowd]\nprotesters = 150\n", "")
                )
            ),
        ),
        ("'crowd.protestors'", "allowed in [crowd]: protesters"),
    ),
    (
        "site-id-and-coordinates",
        lambda e: e.run(
            "run",
            str(
                e.scenario(
                    "",
                    SMALL.replace(
                        'id = "washington_sq_park"',
                        'id = "washington_sq_park"\nlat = 40.75\nlon = -73.98',
                    ),
                )
            ),
        ),
        ("[site]", "'washington_sq_park'", "not both"),
    ),
    (
        "borough-typo",
        lambda e: e.run("run", str(e.scenario(AMNESTY_LAYER + 'boroughs = ["Manhatan"]\n'))),
        ("boroughs", "'Manhatan'", "Manhattan"),
    ),
    (
        "sweep-values-without-parameter",
        lambda e: e.run("run", str(e.scenario("[sweep]\nvalues = [1, 2]\n"))),
        ("'sweep.values'", "'sweep.parameter'"),
    ),
    (
        "ten-million-protesters-on-a-small-machine",
        lambda e: e.run("run", str(e.scenario("", SMALL.replace("150", "10_000_000")))),
        ("bad.toml", "'crowd.protesters'", "10,000,000", "GB", "at most about"),
    ),
    (
        "mean-speed-outside-its-bounds",
        lambda e: e.run("run", str(e.scenario("[walking]\nspeed_mean_mps = 2.8\n"))),
        ("'walking.speed_mean_mps'", "2.8", "walking.speed_max_mps = 2.5"),
    ),
    (
        "station-weight-overflowing",
        lambda e: e.run(
            "run",
            str(e.scenario('[origins]\nweights = "given"\ngiven_weights = {"14 St" = 1e308}\n')),
        ),
        ("'origins.given_weights.14 St'", "1e+308", "<= 1e+12"),
    ),
    (
        "no-exit-within-reach",
        lambda e: e.run("run", str(e.scenario("[origins]\nmax_distance_m = 5\n"))),
        ("'origins.max_distance_m'", "no subway exit within 5 m", "'washington_sq_park'"),
    ),
    (
        "unknown-station",
        lambda e: e.run(
            "run", str(e.scenario('[origins]\nmode = "stations"\nstations = ["Atlantis"]\n'))
        ),
        ("'origins.stations'", "'Atlantis'"),
    ),
    # ---- names that would leave the outputs folder
    (
        "name-with-dot-dot-slash",
        lambda e: e.run("run", str(e.scenario("", SMALL.replace('"small"', '"../escaped"')))),
        ("'name'", "'../escaped'", "letters, digits, _ and -"),
    ),
    (
        "name-with-a-slash",
        lambda e: e.run("run", str(e.scenario("", SMALL.replace('"small"', '"a/b"')))),
        ("'name'", "'a/b'", "letters, digits, _ and -"),
    ),
    (
        "name-dot-dot",
        lambda e: e.run("run", str(e.scenario("", SMALL.replace('"small"', '".."')))),
        ("'name'", "'..'", "letters, digits, _ and -"),
    ),
    (
        "sweep-value-making-a-path",
        lambda e: e.run(
            "run", str(e.scenario('[sweep]\nparameter = "site.id"\nvalues = ["x/../../up"]\n'))
        ),
        ("'name'", "/", "letters, digits, _ and -", "sweep value"),
    ),
    # ---- scenario files of every kind
    (
        "scenario-binary",
        lambda e: e.run("run", str(e.file("bin.toml", BINARY))),
        ("bin.toml", "not a UTF-8 text file", "TOML"),
    ),
    (
        "scenario-latin-1",
        lambda e: e.run("run", str(e.file("latin.toml", LATIN1))),
        ("latin.toml", "not a UTF-8 text file", "0xe9"),
    ),
    (
        "scenario-empty",
        lambda e: e.run("run", str(e.file("empty.toml", b""))),
        ("empty.toml", "missing key 'name'"),
    ),
    (
        "scenario-a-folder",
        lambda e: e.run("run", str(e.tmp)),
        ("is a directory", "scenario file"),
    ),
    (
        "scenario-missing",
        lambda e: e.run("run", str(e.tmp / "nowhere.toml")),
        ("nowhere.toml", "No such file"),
    ),
    (
        "scenario-base-binary",
        lambda e: e.run("run", str(_on_binary_base(e))),
        ("bin.toml", "not a UTF-8 text file"),
    ),
    # ---- path files for route --path
    (
        "path-binary",
        lambda e: e.run("route", "--path", str(e.file("walk.geojson", BINARY))),
        ("walk.geojson", "binary file", "path file"),
    ),
    (
        "path-latin-1",
        lambda e: e.run(
            "route", "--path", str(e.file("walk.txt", "# caf\xe9\n".encode("latin-1")))
        ),
        ("walk.txt", "not UTF-8", "0xe9"),
    ),
    (
        "path-empty",
        lambda e: e.run("route", "--path", str(e.file("walk.txt", b""))),
        ("walk.txt", "empty file", "lat,lon"),
    ),
    (
        "path-a-folder",
        lambda e: e.run("route", "--path", str(e.tmp)),
        (" is a folder", "path file"),
    ),
    (
        "path-two-lines-in-a-collection",
        lambda e: e.run(
            "route",
            "--path",
            str(
                e.file(
                    "two.geojson",
                    json.dumps(
                        {
                            "type": "FeatureCollection",
                            "features": [
                                {
                                    "type": "Feature",
                                    "geometry": {"type": "LineString", "coordinates": c},
                                }
                                for c in (
                                    [[-73.9976, 40.7309], [-73.9904, 40.7359]],
                                    [[-73.9904, 40.7359], [-73.9857, 40.7484]],
                                )
                            ],
                        }
                    ),
                )
            ),
        ),
        ("two.geojson", "holds 2 LineStrings", "one route"),
    ),
    (
        "path-a-point",
        lambda e: e.run(
            "route",
            "--path",
            str(e.file("pt.geojson", '{"type": "Point", "coordinates": [-73.99, 40.73]}')),
        ),
        ("pt.geojson", "expected a GeoJSON LineString (one route)", "'Point'"),
    ),
    (
        "path-coordinates-as-text",
        lambda e: e.run(
            "route",
            "--path",
            str(
                e.file(
                    "txt.geojson",
                    '{"type": "LineString", "coordinates": [["-73.99", "40.73"], '
                    '["-73.98", "40.74"]]}',
                )
            ),
        ),
        ("txt.geojson", "[longitude, latitude] numbers"),
    ),
    (
        "path-broken-json",
        lambda e: e.run(
            "route",
            "--path",
            str(e.file("cut.geojson", '{"type": "LineString", "coordinates": [[-73.99')),
        ),
        ("cut.geojson", "not valid GeoJSON"),
    ),
    # ---- data files, each altered in a folder of links to the bundle
    (
        "mta-binary",
        lambda e: e.run("run", str(e.scenario()), data=e.data({MTA: BINARY})),
        (MTA, "binary file", "CSV"),
    ),
    (
        "mta-latin-1",
        lambda e: e.run(
            "run",
            str(e.scenario()),
            data=e.data({MTA: _mta_text(e.bundle).replace("Av", "\xc1v", 1).encode("latin-1")}),
        ),
        (MTA, "not UTF-8", "Latin-1"),
    ),
    (
        "mta-empty",
        lambda e: e.run("run", str(e.scenario()), data=e.data({MTA: b""})),
        (MTA, "empty file", "CSV"),
    ),
    (
        "mta-a-folder",
        lambda e: e.run("run", str(e.scenario()), data=e.data({MTA: "DIR"})),
        (MTA, "is a folder", "mta_entrances"),
    ),
    (
        "mta-vanishes-while-checksummed",
        lambda e: e.run("run", str(e.scenario()), data=_vanishing(e, "checksum")),
        (MTA, "cannot read the data file of source 'mta_entrances'", "No such file"),
    ),
    (
        "mta-vanishes-before-it-is-read",
        lambda e: e.run("run", str(e.scenario()), data=_vanishing(e, "read")),
        (MTA, "no such file", "removed while being read"),
    ),
    (
        "sites-duplicate-id",
        lambda e: e.run("run", str(e.scenario()), data=e.data({SITES: _duplicate_site(e.bundle)})),
        (SITES, "line 22", "'union_sq_park'", "repeats line 3", "each site_id once"),
    ),
    (
        "sites-a-folder",
        lambda e: e.run("run", str(e.scenario()), data=e.data({SITES: "DIR"})),
        (SITES, "is a folder", "protest_sites"),
    ),
    (
        "sites-binary",
        lambda e: e.run("run", str(e.scenario()), data=e.data({SITES: b"\x00" + BINARY})),
        (SITES, "binary file"),
    ),
    (
        "cameras-empty-list",
        lambda e: e.run("run", str(e.scenario()), data=e.data({PUBLIC: "[]"})),
        (PUBLIC, "holds no records", "camera sites"),
    ),
    (
        "cameras-lat-lon-swapped",
        lambda e: e.run("run", str(e.scenario()), data=e.data({PUBLIC: _swapped(e.bundle)})),
        (PUBLIC, "outside New York City", "swapped", "lat 40.49..40.92"),
    ),
    (
        "cameras-truncated-json",
        lambda e: e.run(
            "run", str(e.scenario()), data=e.data({PUBLIC: (e.bundle / PUBLIC).read_text()[:5000]})
        ),
        (PUBLIC, "not valid JSON"),
    ),
    (
        "amnesty-counts-header-only",
        lambda e: e.run(
            "run", str(e.scenario(AMNESTY_LAYER)), data=e.data({COUNTS: _header_only(e.bundle)})
        ),
        (COUNTS, "holds no records", "Amnesty"),
    ),
    (
        "osm-latin-1",
        lambda e: e.run("run", str(e.scenario()), data=e.data({OSM: LATIN1})),
        (OSM, "cannot read OpenStreetMap XML"),
    ),
    # ---- caches
    (
        "cache-folder-is-a-file",
        lambda e: e.run("run", str(e.scenario()), env={"PROTEST_SIM_CACHE": str(e.file("f", "x"))}),
        ("PROTEST_SIM_CACHE=", "not a folder", "'off'"),
    ),
    # ---- command-line options
    (
        "workers-zero",
        lambda e: e.run("run", str(e.scenario()), "--workers", "0"),
        ("--workers 0", "1..256"),
    ),
    (
        "workers-negative",
        lambda e: e.run("run", str(e.scenario()), "--workers", "-1"),
        ("--workers -1", "1..256"),
    ),
    (
        "workers-ten-thousand",
        lambda e: e.run("run", str(e.scenario()), "--workers", "10000"),
        ("--workers 10000", "1..256"),
    ),
    (
        "workers-not-a-number",
        lambda e: e.run("run", str(e.scenario()), "--workers", "two"),
        ("--workers", "'two'", "1..256"),
    ),
    (
        "top-zero",
        lambda e: e.run("rank-cameras", str(e.scenario()), "--top", "0"),
        ("--top 0", "1..1000"),
    ),
    (
        "top-too-many",
        lambda e: e.run("rank-cameras", str(e.scenario()), "--top", "100000"),
        ("--top 100000", "1..1000"),
    ),
    (
        "speed-zero",
        lambda e: e.run(
            "route", "--from", "washington_sq_park", "--to", "union_sq_park", "--speed", "0"
        ),
        ("--speed 0.0", "0.1..3.0"),
    ),
    (
        "speed-nan",
        lambda e: e.run(
            "route", "--from", "washington_sq_park", "--to", "union_sq_park", "--speed", "nan"
        ),
        ("--speed nan", "0.1..3.0"),
    ),
    (
        "route-from-without-to",
        lambda e: e.run("route", "--from", "washington_sq_park"),
        ("--from and --to",),
    ),
    (
        "route-places-and-a-path",
        lambda e: e.run(
            "route", "--from", "a", "--to", "b", "--path", str(e.file("w.txt", "40.73,-73.99\n"))
        ),
        ("not both",),
    ),
    (
        "route-preset-scenario-without-scenario",
        lambda e: e.run("route", "--from", "a", "--to", "b", "--preset", "scenario"),
        ("--preset scenario needs --scenario",),
    ),
    (
        "unknown-option",
        lambda e: e.run("run", "--fast"),
        ("unrecognized arguments: --fast",),
    ),
    (
        "outputs-is-a-file",
        lambda e: [
            "--data-dir",
            str(e.bundle),
            "--outputs",
            str(e.file("taken", "x")),
            "run",
            str(e.scenario()),
        ],
        ("taken", "outputs folder is a file"),
    ),
    (
        "outputs-under-a-file",
        lambda e: [
            "--data-dir",
            str(e.bundle),
            "--outputs",
            str(e.file("taken", "x") / "out"),
            "run",
            str(e.scenario()),
        ],
        ("taken", "is a file"),
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("build", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(
    build, fragments, data_dir, tmp_path, capsys, caplog, monkeypatch
):
    # a small machine for the memory case: 4 GB available
    monkeypatch.setattr(preflight, "available_memory_bytes", lambda: 4e9)
    env = Env(tmp_path, data_dir, tmp_path / "out", monkeypatch)
    _fails(env, capsys, caplog, build(env), fragments)


def test_there_are_at_least_forty_distinct_cases():
    ids = [c[0] for c in CASES]
    assert len(set(ids)) == len(ids) >= 40
