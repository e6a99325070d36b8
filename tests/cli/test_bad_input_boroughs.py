"""Bad input outside Manhattan: drawn paths in New Jersey or the river, a tract file without
population columns, a network file that is not OSM XML. One 'error:' line, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli_fails, route_path_fails

pytestmark = [pytest.mark.realdata, pytest.mark.usefixtures("offline")]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        # Hoboken, New Jersey, across the Hudson from Chelsea
        ("40.7440,-74.0320\n40.7400,-74.0300\n", ("point 1", "outside New York City")),
        # down the middle of the Hudson, off Hell's Kitchen
        ("40.7650,-74.0060\n40.7750,-74.0000\n", ("100% of its", "over water")),
        # a GeoJSON polygon is not a line
        (
            json.dumps(
                {"type": "Polygon", "coordinates": [[[-74, 40.7], [-73.99, 40.7], [-74, 40.71]]]}
            ),
            ("expected a GeoJSON LineString", "'Polygon'"),
        ),
        # two points at the same place
        ("40.6828,-73.9755\n40.6828,-73.9755\n", ("zero length",)),
    ],
    ids=["new-jersey", "hudson-river", "polygon", "zero-length"],
)
def test_drawn_paths_outside_the_city_or_not_lines(capsys, tmp_path, data_dir, text, fragments):
    route_path_fails(capsys, tmp_path, data_dir, text, fragments)


def test_sightline_outside_the_known_open_space_says_so(capsys, tmp_path, data_dir):
    from sim.scenario.files import DEFAULT_SCENARIO

    scenario = DEFAULT_SCENARIO.parent / "foley_square.toml"  # sightline visibility
    path = tmp_path / "barclays.txt"
    path.write_text("40.682818,-73.975541\n40.68470,-73.97740\n")
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "o"), "route"]
    argv += ["--path", str(path), "--preset", "scenario", "--scenario", str(scenario)]
    cli_fails(capsys, argv, "point 1", "sightline visibility needs open space", "radius model")


def _linked_bundle(tmp_path: Path, bundle: Path, skip: str) -> Path:
    """A data directory linking every bundle file except ``skip``."""
    root = tmp_path / "data"
    for source in bundle.rglob("*"):
        rel = source.relative_to(bundle)
        if source.is_file() and str(rel) != skip:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).symlink_to(source)
    return root


def test_tract_file_without_population_columns(capsys, tmp_path, data_dir):
    tracts = "census/nyc_tracts2020_race.geojson"
    root = _linked_bundle(tmp_path, data_dir, tracts)
    raw = json.loads((data_dir / tracts).read_text())
    for feature in raw["features"]:
        for key in ("pop", "hisp"):
            feature["properties"].pop(key)
    (root / tracts).parent.mkdir(parents=True, exist_ok=True)
    (root / tracts).write_text(json.dumps(raw))
    out = tmp_path / "out"
    cli_fails(
        capsys,
        ["--data-dir", str(root), "--outputs", str(out), "equity"],
        str(root / tracts),
        "'pop', 'hisp'",
        "required: GEOID, borough, pop, hisp, white_nh, black_nh",
    )
    assert not out.exists()
