"""Bad input through the CLI: one 'error:' line naming file, column and value, exit code 2."""

from pathlib import Path

import pytest
from helpers import cli_fails, route_path_fails

OSM = "osm/manhattan_walk_2019-10-26.osm.bz2"
MTA = "transit/MTA_Subway_Entrances_and_Exits_2024.csv"
SITES = "sites/protest_sites_nyc.csv"
PUBLIC = "cameras/banthescan_public_cameras.json"
ROUTE = ["route", "--from", "washington_sq_park", "--to", "union_sq_park"]

pytestmark = [pytest.mark.realdata, pytest.mark.usefixtures("offline")]


def _data_dir(tmp_path: Path, bundle: Path, linked: tuple[str, ...]) -> Path:
    """A data directory in ``tmp_path`` with the named bundle files linked (not copied)."""
    root = tmp_path / "data"
    for rel in linked:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(bundle / rel)
    return root


def test_missing_data_directory(capsys, tmp_path):
    cli_fails(
        capsys,
        ["--data-dir", "/nonexistent data", "--outputs", str(tmp_path), *ROUTE],
        "/nonexistent data",
        "--data-dir",
        "does not exist",
    )


def test_missing_data_file_names_it_and_both_ways_to_provide_it(capsys, tmp_path, data_dir):
    root = _data_dir(tmp_path, data_dir, (OSM, SITES))  # no MTA file
    cli_fails(
        capsys,
        ["--data-dir", str(root), "--outputs", str(tmp_path / "out"), *ROUTE],
        str(root / MTA),
        "mta_entrances",
        "--data-dir",
        "PROTEST_SIM_DATA",
    )


def test_truncated_osm_file(capsys, tmp_path, data_dir, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PROTEST_SIM_CACHE", str(cache))  # cold: no cached network to fall back on
    root = _data_dir(tmp_path, data_dir, (MTA, SITES, PUBLIC))
    (root / OSM).parent.mkdir(parents=True)
    (root / OSM).write_bytes((data_dir / OSM).read_bytes()[:2000])
    cli_fails(
        capsys,
        ["--data-dir", str(root), "--outputs", str(tmp_path / "out"), *ROUTE],
        str(root / OSM),
        "cannot read OpenStreetMap XML",
    )
    assert not cache.exists() or list(cache.iterdir()) == []
    assert not (tmp_path / "out").exists()


def test_mta_csv_without_a_required_column(capsys, tmp_path, data_dir):
    root = _data_dir(tmp_path, data_dir, (OSM, SITES, PUBLIC))
    lines = (data_dir / MTA).read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("Exit Allowed")
    # the file has no quoted commas; drop the column from every line
    kept = [",".join(f for i, f in enumerate(line.split(",")) if i != col) for line in lines]
    assert "Exit Allowed" not in kept[0]
    (root / MTA).parent.mkdir(parents=True)
    (root / MTA).write_text("\n".join(kept) + "\n")
    cli_fails(
        capsys,
        ["--data-dir", str(root), "--outputs", str(tmp_path / "out"), *ROUTE],
        str(root / MTA),
        "missing required column 'Exit Allowed'",
    )


def test_non_numeric_latitude_in_the_sites_csv(capsys, tmp_path, data_dir):
    root = _data_dir(tmp_path, data_dir, (OSM, MTA, PUBLIC))
    lines = (data_dir / SITES).read_text().splitlines()
    assert lines[3].startswith("foley_sq,")
    lines[3] = lines[3].replace("40.714563", "40.71456x", 1)  # line 4 of the file
    (root / SITES).parent.mkdir(parents=True)
    (root / SITES).write_text("\n".join(lines) + "\n")
    cli_fails(
        capsys,
        ["--data-dir", str(root), "--outputs", str(tmp_path / "out"), *ROUTE],
        str(root / SITES),
        "line 4",
        "'lat'",
        "'40.71456x'",
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("# one point only\n40.7309,-73.9976\n", ("at least two points", "found 1")),
        # Washington Square, then straight across the harbour and Bayonne to Staten Island
        ("40.7309,-73.9976\n40.58,-74.15\n", ("between points 1 and 2", "leaves New York")),
        ("40.7309,-73.9976\nfountain\n", ("line 2", "'fountain'")),
    ],
    ids=["one-point", "across-the-harbour", "not-lat-lon"],
)
def test_bad_route_path_files(capsys, tmp_path, data_dir, text, fragments):
    route_path_fails(capsys, tmp_path, data_dir, text, fragments)


def test_route_from_an_unknown_place(capsys, tmp_path, data_dir):
    cli_fails(
        capsys,
        [
            "--data-dir",
            str(data_dir),
            "--outputs",
            str(tmp_path / "out"),
            "route",
            "--from",
            "Atlantis",
            "--to",
            "union_sq_park",
        ],
        "--from 'Atlantis'",
    )


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nreplications = 1\n' + body)
    return path


def test_scenario_with_a_bad_value_leaves_no_outputs_folder(capsys, tmp_path, data_dir):
    path = _scenario(tmp_path, '[site]\nid = "washington_sq_park"\n[crowd]\nprotesters = -4\n')
    outputs = tmp_path / "out"
    cli_fails(
        capsys,
        ["--data-dir", str(data_dir), "--outputs", str(outputs), "run", str(path)],
        str(path),
        "'crowd.protesters'",
        "-4",
    )
    assert not outputs.exists()


def test_scenario_with_an_unknown_site_leaves_no_outputs_folder(capsys, tmp_path, data_dir):
    path = _scenario(tmp_path, '[site]\nid = "times_sq_nowhere"\n')
    outputs = tmp_path / "out"
    cli_fails(
        capsys,
        ["--data-dir", str(data_dir), "--outputs", str(outputs), str(path)],
        str(path),
        "site.id",
        "'times_sq_nowhere'",
    )
    assert not outputs.exists()
