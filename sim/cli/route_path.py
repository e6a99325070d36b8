"""``route --path``: a drawn walk anywhere in the five boroughs, scored without a walk network."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sim.batch.options import RunOptions
from sim.city.area import path_problem
from sim.data.basemap import read_city_outlines
from sim.data.camera_account import CameraAccount, assemble
from sim.data.census import load_city_area
from sim.data.datasets import resolve_data_dir
from sim.errors import InputError
from sim.exposure.camera_model import AMNESTY_PRESET
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import score_route
from sim.exposure.lines import points_along, radius_coverage_of_path
from sim.exposure.pieces import SEEN
from sim.exposure.visibility_models import VISIBILITY_MODELS
from sim.geo import lonlat_to_xy
from sim.outputs.basemap import Basemap, bounds_around, clip_basemap
from sim.outputs.plot import CameraMarks
from sim.scenario.files import load_scenario
from sim.scenario.inputs import DataSource
from sim.scenario.sections import CameraLayer

AMNESTY_LAYERS = (CameraLayer("banthescan_public", "public_street"),)


def network_reason(args: argparse.Namespace) -> str | None:
    """Why a drawn route must be scored on a walk network, or None when it needs none.

    Amnesty's preset and a scenario under ``radius`` score straight from camera sites. Under
    ``sightline`` the cameras see through open space, which is known only within the walk
    network's area; a scenario's camera edits are placed relative to its site and crowd.
    """
    if args.scenario is None:
        return None
    cameras = load_scenario(args.scenario).cameras
    if VISIBILITY_MODELS[cameras.visibility].needs_open_space:
        return (
            f"{cameras.visibility} visibility needs open space, known only within that "
            "network's area; score it with the radius model (no --scenario: Amnesty's preset, "
            'or a scenario with visibility = "radius")'
        )
    if cameras.edits:
        return (
            "the scenario's camera edits are placed relative to its site and crowd on that "
            "network; score it with a scenario without [[cameras.edits]]"
        )
    return None


def check_path_in_city(path: Path, points: np.ndarray, data_dir: Path) -> list[dict[str, object]]:
    """Raise :class:`InputError` unless the path (lat, lon points) lies in the five boroughs
    and mostly on land; returns the provenance of the boundary files read."""
    area, files = load_city_area(data_dir)
    x, y = lonlat_to_xy(points[:, 1], points[:, 0])
    problem = path_problem(np.c_[x, y], area)
    if problem is not None:
        raise InputError(f"{path}: {problem}")
    return [f.provenance() for f in files]


def city_cameras(
    source: DataSource, layers: tuple[CameraLayer, ...]
) -> tuple[CameraSites, list[dict[str, object]]]:
    """A scenario's camera layers for the whole city (nothing cut to a network's area), counted
    and merged as a run's are (``sim/data/camera_account.py``), and the provenance of their files.
    ``source`` reads each file once per process."""
    cameras, _, files = city_camera_account(source, layers)
    return cameras, files


def city_camera_account(
    source: DataSource, layers: tuple[CameraLayer, ...]
) -> tuple[CameraSites, CameraAccount, list[dict[str, object]]]:
    """:func:`city_cameras`, with the account of what counting and merging did."""
    parts, keys, counted = [], [], []
    for layer in layers:
        sites, files, _ = source.layer(layer)
        parts.append(sites)
        keys += files
        counted.append(bool(layer.counts_from))
    inter = source.intersections()[0] if any(counted) else None
    cameras, account = assemble(parts, counted, inter)
    return cameras, account, [source.file(k).provenance() for k in dict.fromkeys(keys)]


# Margin (metres) of a route's map around the route.
ROUTE_MAP_MARGIN_M = 400.0
# The largest path file whose name property is looked for (larger files are named by file).
TITLE_READ_MAX_BYTES = 50_000_000


def route_basemap(data_dir: Path, route_xy: np.ndarray) -> Basemap:
    """Water and borough outlines around a route (UTM 18N metres), for its map."""
    bounds = bounds_around(route_xy, ROUTE_MAP_MARGIN_M)
    return clip_basemap(read_city_outlines(data_dir), bounds)


def path_title(path: Path) -> str:
    """A drawn route's title: the ``name`` property of a GeoJSON route (the feature's, or the
    collection's first named feature), else the file's name."""
    try:
        if path.stat().st_size <= TITLE_READ_MAX_BYTES:
            doc = json.loads(path.read_text())
            features = doc.get("features", [doc]) if isinstance(doc, dict) else []
            for feature in features:
                props = feature.get("properties") if isinstance(feature, dict) else None
                name = props.get("name") if isinstance(props, dict) else None
                if isinstance(name, str) and name.strip():
                    return name.strip()[:80]
    except (OSError, ValueError, UnicodeDecodeError):
        pass  # a CSV, or not JSON: the file's name says what it is
    return path.name


def score_drawn_path(
    args: argparse.Namespace, options: RunOptions, points: np.ndarray
) -> tuple[dict, Path]:
    """Score a drawn path (lat, lon points) against the whole city's cameras (``radius``);
    write its folder. Returns the result and the folder."""
    from sim.outputs.run_files import write_route

    data_dir = resolve_data_dir(options.data_dir)
    area_files = check_path_in_city(args.path, points, data_dir)
    if args.scenario is None:
        layers, classes = AMNESTY_LAYERS, AMNESTY_PRESET
    else:
        cameras = load_scenario(args.scenario).cameras
        layers, classes = cameras.layers, cameras.classes
    sites, camera_files = city_cameras(DataSource(data_dir), layers)
    x, y = lonlat_to_xy(points[:, 1], points[:, 0])
    xy = np.c_[x, y]
    coverage = radius_coverage_of_path(sites, classes, xy)
    length = np.array([np.hypot(*np.diff(xy, axis=0).T).sum()])
    score = score_route(length, coverage, np.array([0]), args.speed)
    result = score.as_dict(coverage)
    result.update(
        {
            "route": str(args.path),
            "speed_mps": args.speed,
            "preset": "scenario" if args.scenario is not None else "amnesty",
            "scenario": str(args.scenario) if args.scenario is not None else None,
            "visibility": "radius",
            "walk_network": None,
            "camera_sites_considered": len(sites),
        }
    )
    seen = coverage.pieces.subset(coverage.pieces.level == SEEN)
    covered = points_along(xy, seen.start_m, seen.end_m)
    route_xy = drawn(xy)
    basemap = route_basemap(data_dir, route_xy)
    folder = write_route(
        result,
        camera_files + area_files,
        [route_xy],
        covered,
        CameraMarks(np.c_[sites.x, sites.y], sites.cls),
        options.outputs,
        city=basemap,
        ends=("first point", "last point"),
        title=path_title(args.path),
    )
    return result, folder


def drawn(xy: np.ndarray, tolerance_m: float = 0.5) -> np.ndarray:
    """The path as its map draws it: a long one simplified to ``tolerance_m`` (half a metre is
    less than a pixel of route.png; a million points would take seconds to draw)."""
    if len(xy) <= 10_000:
        return xy
    import shapely

    return shapely.get_coordinates(
        shapely.simplify(shapely.LineString(xy), tolerance_m, preserve_topology=False)
    )
