"""What a user hands the route command: places by name, id or coordinates, and path files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from sim.city import places
from sim.data.textfiles import read_text
from sim.errors import InputError, quoted
from sim.geo import in_nyc, lonlat_to_xy
from sim.scenario.inputs import Inputs

# A drawn path may leave the network by this much (metres) before it is "outside the area".
MAX_PATH_OFF_NETWORK_M = 200.0

_LATLON = re.compile(r"^\s*(-?\d+(\.\d+)?)\s*,\s*(-?\d+(\.\d+)?)\s*$", re.ASCII)
# Many such lines at once (one match for a file of a million points)
_LATLON_LINES = re.compile(
    r"(?:[^\S\n]*-?\d+(?:\.\d+)?[^\S\n]*,[^\S\n]*-?\d+(?:\.\d+)?[^\S\n]*\n)*", re.ASCII
)

PATH_FILE = "a path file (GeoJSON or lines of 'lat,lon')"
# Bounds of a path file: a million points score in about 15 s (bench/: route_path_points); a
# walk recorded every second for five hours has 18,000.
MAX_PATH_POINTS = 1_000_000
MAX_PATH_FILE_BYTES = 100_000_000


def resolve_place(
    inputs: Inputs, text: str, flag: str, toward: tuple[float, float] | None = None
) -> tuple[int, str, tuple[float, float]]:
    """A network node for a station name, GTFS stop id, exit id, site id or 'lat,lon'.

    A station has several exits: the one nearest ``toward`` (metres) is used.
    """
    match = _LATLON.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(3))
        if not in_nyc(lat, lon):
            raise InputError(f"{flag} {quoted(text)}: coordinates outside New York City")
        x, y = lonlat_to_xy(np.array([lon]), np.array([lat]))
        node, dist = inputs.network.nearest_nodes(x, y)
        if dist[0] > MAX_PATH_OFF_NETWORK_M:
            raise InputError(
                f"{flag} {quoted(text)}: {dist[0]:.0f} m from the walk network (outside "
                f"its area; at most {MAX_PATH_OFF_NETWORK_M:.0f} m allowed; --network names "
                "another: an OSM XML file, or a place downloaded when online)"
            )
        return int(node[0]), text, (float(x[0]), float(y[0]))
    place = places.resolve(text, places.catalogue(inputs.exits, inputs.site_records), flag)
    if place.kind == "site":
        site = inputs.site(place.id, where=flag)
        return site.node, site.name, (site.x, site.y)
    exits = np.array(place.exits, np.int64)
    i = int(exits[0])
    if toward is not None:
        gap = np.hypot(inputs.exits.x[exits] - toward[0], inputs.exits.y[exits] - toward[1])
        i = int(exits[np.argmin(gap)])
    return (
        int(inputs.exits.node[i]),
        f"{inputs.exits.station[i]} ({inputs.exits.exit_id[i]})",
        (float(inputs.exits.x[i]), float(inputs.exits.y[i])),
    )


def read_path_file(path: Path) -> np.ndarray:
    """(n, 2) lat, lon points of a GeoJSON LineString or of lines 'lat,lon'.

    At most :data:`MAX_PATH_POINTS` points and :data:`MAX_PATH_FILE_BYTES` bytes. An error
    names the file and the line or point; a bad line's text (cut to 80 characters) only after
    lines that were points (a file named by mistake, such as a password file, is not echoed).
    """
    text = read_text(path, PATH_FILE, InputError, max_bytes=MAX_PATH_FILE_BYTES)
    if text.lstrip().startswith("{"):
        points = _geojson_points(path, text)
    else:
        points = _lines_points(path, text)
    if len(points) < 2:
        raise InputError(f"{path}: a path needs at least two points, found {len(points)}")
    bad = np.flatnonzero(~in_nyc(points[:, 0], points[:, 1]))
    if bad.size:
        raise InputError(
            f"{path}: point {bad[0] + 1} ({points[bad[0], 0]}, "
            f"{points[bad[0], 1]}) lies outside New York City"
        )
    return points


def _too_many(path: Path, n: int) -> InputError:
    return InputError(
        f"{path}: {n:,} points; at most {MAX_PATH_POINTS:,} allowed (a walk recorded every "
        "second for five hours has 18,000; keep every 10th point of a denser track)"
    )


def _lines_points(path: Path, text: str) -> np.ndarray:
    """The points of lines 'lat,lon' (blank lines and lines starting with # skipped)."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if len(lines) > MAX_PATH_POINTS:
        raise _too_many(path, len(lines))
    if not lines:
        return np.zeros((0, 2))
    if _LATLON_LINES.fullmatch("\n".join(lines) + "\n") is None:
        good = 0
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if _LATLON.match(line):
                good += 1
                continue
            # the line is quoted only when lines before it were points: a file that is no path
            # file at all (a password file named by mistake) is never echoed
            shown = f" ({quoted(line.strip())})" if good else ""
            raise InputError(
                f"{path}: line {number}{shown} is not 'lat,lon' (allowed: two decimal numbers "
                "and a comma, e.g. 40.7308,-73.9973; lines starting with # are skipped)"
            )
    return np.loadtxt(lines, delimiter=",", dtype=float, ndmin=2).reshape(-1, 2)


def _geojson_points(path: Path, text: str) -> np.ndarray:
    """The lat, lon points of the one LineString of a GeoJSON geometry, Feature or
    FeatureCollection; several lines are an error (one route per file), never a silent pick.
    A ``crs`` member (GeoJSON of 2008) is honoured: the coordinates are transformed from it."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: not valid GeoJSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: not valid GeoJSON (nested too deep to read)") from None
    geoms = [obj]
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise InputError(f"{path}: a FeatureCollection with no features (expected one route)")
        geoms = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    elif isinstance(obj, dict) and obj.get("type") == "Feature":
        geoms = [obj.get("geometry")]
    kinds = [g.get("type") if isinstance(g, dict) else None for g in geoms]
    lines = [g for g, k in zip(geoms, kinds) if k == "LineString"]
    if len(lines) > 1:
        raise InputError(
            f"{path}: holds {len(lines)} LineStrings; a path file holds one route (allowed: one "
            "LineString; split the routes into files and score each)"
        )
    if len(lines) != 1 or len(geoms) != 1:
        shown = kinds[:5]
        got = ", ".join(quoted(k, 30) for k in shown) + (", ..." if len(kinds) > 5 else "")
        raise InputError(f"{path}: expected a GeoJSON LineString (one route), got {got}")
    coords = lines[0].get("coordinates")
    if isinstance(coords, list) and len(coords) > MAX_PATH_POINTS:
        raise _too_many(path, len(coords))
    ok = isinstance(coords, list) and all(
        isinstance(c, list)
        and len(c) in (2, 3)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in c)
        for c in coords
    )
    if not ok:
        raise InputError(
            f"{path}: LineString coordinates must be a list of [longitude, latitude] numbers"
        )
    xy = np.array([c[:2] for c in coords], float).reshape(-1, 2)
    crs = _crs_member(path, obj, lines[0])
    if crs is not None:
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
            xy[:, 0], xy[:, 1]
        )
        xy = np.c_[lon, lat]
    return xy[:, ::-1]


def _crs_member(path: Path, obj: object, line: dict) -> object | None:
    """The pyproj CRS a GeoJSON ``crs`` member names (on the object or its LineString), None
    for none or for WGS84 longitude, latitude (GeoJSON's own)."""
    members = [o["crs"] for o in (obj, line) if isinstance(o, dict) and o.get("crs") is not None]
    if not members:
        return None
    member = members[-1]
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    allowed = (
        "allowed: no crs member (longitude, latitude in WGS84), or a named one such as "
        '{"type": "name", "properties": {"name": "EPSG:2263"}}'
    )
    if not isinstance(member, dict) or member.get("type") != "name" or not isinstance(name, str):
        raise InputError(f"{path}: crs member {quoted(member, 60)} is not a named CRS ({allowed})")
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(name)
    except CRSError:
        raise InputError(f"{path}: crs {quoted(name, 60)} is not a known CRS ({allowed})") from None
    if crs.is_geographic and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    if name.upper().endswith(("CRS84", "EPSG::4326", "EPSG:4326")):
        return None
    return crs
