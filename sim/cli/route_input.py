"""What a user hands the route command: places by name, id or coordinates, and path files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from sim.city import places
from sim.data.textfiles import read_text
from sim.errors import InputError
from sim.geo import in_nyc, lonlat_to_xy
from sim.scenario.inputs import Inputs

# A drawn path may leave the network by this much (metres) before it is "outside the area".
MAX_PATH_OFF_NETWORK_M = 200.0

_LATLON = re.compile(r"^\s*(-?\d+(\.\d+)?)\s*,\s*(-?\d+(\.\d+)?)\s*$")


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
            raise InputError(f"{flag} {text!r}: coordinates outside New York City")
        x, y = lonlat_to_xy(np.array([lon]), np.array([lat]))
        node, dist = inputs.network.nearest_nodes(x, y)
        if dist[0] > MAX_PATH_OFF_NETWORK_M:
            raise InputError(
                f"{flag} {text!r}: {dist[0]:.0f} m from the walk network (outside "
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
    """(n, 2) lat, lon points of a GeoJSON LineString or of lines 'lat,lon'."""
    text = read_text(path, "a path file (GeoJSON or lines of 'lat,lon')", InputError)
    if text.lstrip().startswith("{"):
        points = _geojson_points(path, text)
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LATLON.match(line)
            if not match:
                raise InputError(f"{path}: line {number}: {line.strip()!r} is not 'lat,lon'")
            rows.append((float(match.group(1)), float(match.group(3))))
        points = np.array(rows, float).reshape(-1, 2)
    if len(points) < 2:
        raise InputError(f"{path}: a path needs at least two points, found {len(points)}")
    bad = np.flatnonzero(~in_nyc(points[:, 0], points[:, 1]))
    if bad.size:
        raise InputError(
            f"{path}: point {bad[0] + 1} ({points[bad[0], 0]}, "
            f"{points[bad[0], 1]}) lies outside New York City"
        )
    return points


def _geojson_points(path: Path, text: str) -> np.ndarray:
    """The lat, lon points of the one LineString of a GeoJSON geometry, Feature or
    FeatureCollection; several lines are an error (one route per file), never a silent pick."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: not valid GeoJSON ({exc})") from None
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
        got = ", ".join(repr(k) for k in kinds)
        raise InputError(f"{path}: expected a GeoJSON LineString (one route), got {got}")
    coords = lines[0].get("coordinates")
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
    lonlat = np.array([c[:2] for c in coords], float).reshape(-1, 2)
    return lonlat[:, ::-1]
