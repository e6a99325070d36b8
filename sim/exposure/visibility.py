"""Sightline visibility: open space from street corridors or footprints, and camera isovists."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import shapely

from sim import progress
from sim.errors import DataError
from sim.unions import union_all_exact

logger = logging.getLogger(__name__)

# Full building-to-building corridor width by OSM `highway` tag, in metres.
# Assumptions, not measurements. Source: the Commissioners' Plan of 1811 fixed
# Manhattan's avenues at 100 ft (30.5 m) and its side streets at 60 ft (18.3 m),
# with 15 principal crosstown streets (14th, 23rd, 34th, 42nd ...) at 100 ft;
# in OSM those avenues and crosstown streets are tagged primary/secondary (or
# trunk for the riverside highways), side streets residential. Downtown streets
# laid out before 1811 are narrower (tertiary/unclassified ~ 15-20 m). Paths,
# footways and steps are narrow open strips; a footway that is a mapped
# sidewalk lies inside its street's corridor and adds nothing.
CORRIDOR_WIDTH_M: dict[str, float] = {
    "trunk": 30.0,
    "primary": 30.0,
    "secondary": 30.0,
    "tertiary": 20.0,
    "unclassified": 15.0,
    "residential": 18.0,
    "living_street": 10.0,
    "service": 8.0,
    "trunk_link": 10.0,
    "primary_link": 12.0,
    "secondary_link": 12.0,
    "tertiary_link": 10.0,
    "pedestrian": 15.0,
    "footway": 4.0,
    "crossing": 4.0,
    "path": 4.0,
    "cycleway": 4.0,
    "track": 4.0,
    "bridleway": 4.0,
    "steps": 3.0,
    "corridor": 3.0,
    "elevator": 3.0,
}
# Width of a corridor whose tag is missing or unknown (a narrow street), metres.
DEFAULT_CORRIDOR_WIDTH_M: float = 10.0

# A camera off open space (on a wall or a pole) is moved to open space if it is this close.
SNAP_DISTANCE_M: float = 15.0
# How far a snapped camera is pushed past the open-space boundary, metres.
_NUDGE_M: float = 0.05
# Latitude bin used to find the bands the building file covers, degrees.
_BAND_BIN_DEG: float = 0.001
# Closing radius that turns the footprints into a covered area: gaps narrower
# than twice this (streets, courtyards, small parks) count as covered, rivers do not.
_COVERAGE_CLOSING_M: float = 150.0
# Rays cast per batch, to bound memory of the ray-segment candidate pairs.
_RAYS_PER_BATCH: int = 20_000


def _first_tag(highway: object) -> str | None:
    """Return the first tag of an OSM `highway` value (osmnx may give a list)."""
    if isinstance(highway, list | tuple | np.ndarray):
        highway = highway[0] if len(highway) else None
    return highway if isinstance(highway, str) else None


def corridor_open_space(
    edge_geoms: np.ndarray,
    highways: np.ndarray,
    open_areas: shapely.Geometry | None = None,
) -> shapely.Geometry:
    """Approximate open space by street corridors around the walk network's edges.

    Parameters
    ----------
    edge_geoms : numpy.ndarray
        Edge LineStrings in a projected CRS in metres (EPSG:32618). Reverse
        duplicates (both directions of a street) are merged.
    highways : numpy.ndarray
        OSM `highway` tag of each edge (a string, or a list whose first element
        is used); unknown tags get `DEFAULT_CORRIDOR_WIDTH_M`.
    open_areas : shapely.Geometry or None
        Polygons known to be open (parks, plazas), added to the corridors.

    Returns
    -------
    shapely.Geometry
        Union of each edge buffered by half its `CORRIDOR_WIDTH_M` (round caps
        and joins, so corridors meeting at a node join), plus `open_areas`.
    """
    geoms = np.asarray(edge_geoms, dtype=object)
    tags = list(highways)
    if len(tags) != len(geoms):
        raise ValueError(f"highways has {len(tags)} values for {len(geoms)} edge geometries")
    widths_m = np.array(
        [CORRIDOR_WIDTH_M.get(_first_tag(tag), DEFAULT_CORRIDOR_WIDTH_M) for tag in tags],
        dtype=float,
    )
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, widths_m = geoms[keep], widths_m[keep]
    keys = [
        (wkb, width)
        for wkb, width in zip(shapely.to_wkb(shapely.normalize(geoms)), widths_m, strict=True)
    ]
    unique = np.array(sorted({key: i for i, key in enumerate(keys)}.values()), dtype=int)
    buffers = shapely.buffer(geoms[unique], widths_m[unique] / 2.0, quad_segs=2)
    parts = list(buffers)
    if open_areas is not None and not shapely.is_empty(open_areas):
        parts.append(open_areas)
    logger.info("corridor open space: %d unique edges of %d", len(unique), len(keep))
    return union_all_exact(np.array(parts, dtype=object))  # shapely.union_all's bytes


def building_open_space(
    buildings: shapely.Geometry,
    extent: shapely.Geometry,
    fallback: shapely.Geometry,
) -> shapely.Geometry:
    """Open space from footprints where they are known, from a fallback elsewhere.

    Parameters
    ----------
    buildings : shapely.Geometry
        Union of building footprints (projected, metres).
    extent : shapely.Geometry
        Area the footprints cover; inside it, whatever is not a building is open.
    fallback : shapely.Geometry
        Open space to use outside `extent`, typically `corridor_open_space`.
        A strip without footprints is not open unless the fallback says so.

    Returns
    -------
    shapely.Geometry
        `extent` minus `buildings`, united with `fallback` minus `extent`.
    """
    known = shapely.difference(extent, buildings)
    unknown = shapely.difference(fallback, extent)
    return shapely.union(known, unknown)


def load_building_footprints(
    path: str | Path, to_crs: str = "EPSG:32618"
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Read building footprints and the area they cover from a gzip GeoJSON file.

    Canopies (`building=roof`) are dropped: they do not block sight at street
    level. The covered extent is the union of the latitude bands that hold
    footprint centroids (0.001 degree bins, contiguous occupied bins merged),
    each intersected with a morphological closing of the footprints, so a
    strip the file does not cover (the bundle's 40.730-40.736 gap) and the
    rivers stay outside it.

    Parameters
    ----------
    path : str or pathlib.Path
        Gzip GeoJSON of building polygons in EPSG:4326 (the bundle's
        `buildings/manhattan_osm_buildings_partial.geojson.gz`).
    to_crs : str
        Projected CRS in metres for the returned geometries.

    Returns
    -------
    tuple of shapely.Geometry
        Union of the footprints and the covered extent, both in `to_crs`.

    Raises
    ------
    sim.errors.DataError
        If the file cannot be read or holds no polygons.
    """
    import geopandas as gpd

    try:
        frame = gpd.read_file(f"/vsigzip/{path}")
    except Exception as exc:  # pyogrio/fiona raise several unrelated types
        raise DataError(f"{path}: cannot read building footprints ({exc})") from exc
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if frame.empty:
        raise DataError(f"{path}: no building polygons")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame.to_crs("EPSG:4326")

    lat = shapely.get_y(shapely.centroid(frame.geometry.values))
    bins = np.unique(np.floor(np.round(lat / _BAND_BIN_DEG, 6)).astype(int))
    starts = bins[np.r_[True, np.diff(bins) > 1]]
    ends = bins[np.r_[np.diff(bins) > 1, True]] + 1
    lon_min, _, lon_max, _ = frame.total_bounds
    bands_deg = shapely.box(
        lon_min - 0.01, starts * _BAND_BIN_DEG, lon_max + 0.01, ends * _BAND_BIN_DEG
    )
    bands = gpd.GeoSeries(shapely.segmentize(bands_deg, _BAND_BIN_DEG), crs="EPSG:4326")
    logger.info(
        "%s: footprints cover latitude bands %s",
        path,
        ", ".join(
            f"{s * _BAND_BIN_DEG:.3f}-{e * _BAND_BIN_DEG:.3f}"
            for s, e in zip(starts, ends, strict=True)
        ),
    )

    projected = frame.to_crs(to_crs)
    closed = shapely.buffer(
        shapely.union_all(
            shapely.buffer(projected.geometry.values, _COVERAGE_CLOSING_M, quad_segs=2)
        ),
        -_COVERAGE_CLOSING_M,
        quad_segs=2,
    )
    extent = shapely.intersection(closed, shapely.union_all(bands.to_crs(to_crs).values))

    is_roof = (
        projected["building"].eq("roof").to_numpy()
        if "building" in projected
        else np.zeros(len(projected), dtype=bool)
    )
    footprints = shapely.make_valid(projected.geometry.values[~is_roof])
    logger.info("%s: %d footprints, %d roofs dropped", path, len(footprints), is_roof.sum())
    return shapely.union_all(footprints), extent


def _boundary_segments(open_space: shapely.Geometry) -> np.ndarray:
    """Return the boundary of the polygons in `open_space` as an (m, 4) array x0, y0, x1, y1."""
    parts = shapely.get_parts(open_space)
    polygons = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    rings = shapely.get_rings(polygons)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[:-1] == ring[1:]
    return np.hstack([coords[:-1][same_ring], coords[1:][same_ring]])


def _snap_into(
    xy: np.ndarray,
    open_space: shapely.Geometry,
    segments: np.ndarray,
    tree: shapely.STRtree,
) -> np.ndarray:
    """Move points off open space to just inside it, within `SNAP_DISTANCE_M`.

    Returns the moved points, NaN where no open space is close enough.
    """
    out = xy.copy()
    outside = np.flatnonzero(~shapely.contains_xy(open_space, xy[:, 0], xy[:, 1]))
    if len(outside) == 0:
        return out
    out[outside] = np.nan
    points = shapely.points(xy[outside])
    which, seg = tree.query_nearest(points, max_distance=SNAP_DISTANCE_M, all_matches=False)
    if len(which) == 0:
        return out
    a, b, c = segments[seg, :2], segments[seg, 2:], xy[outside[which]]
    ab = b - a
    length2 = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-18)
    along = np.clip(np.einsum("ij,ij->i", c - a, ab) / length2, 0.0, 1.0)
    nearest = a + along[:, None] * ab
    normal = np.column_stack([-ab[:, 1], ab[:, 0]]) / np.sqrt(length2)[:, None]
    away = nearest - c
    away_norm = np.linalg.norm(away, axis=1, keepdims=True)
    away = np.divide(away, away_norm, out=np.zeros_like(away), where=away_norm > 0)
    candidates = nearest[:, None, :] + _NUDGE_M * np.stack([away, normal, -normal], axis=1)
    ok = shapely.contains_xy(open_space, candidates[..., 0], candidates[..., 1])
    found = ok.any(axis=1)
    chosen = candidates[np.arange(len(which)), ok.argmax(axis=1)]
    out[outside[which[found]]] = chosen[found]
    return out


def isovists(
    camera_xy: np.ndarray,
    range_m: np.ndarray,
    open_space: shapely.Geometry,
    n_rays: int = 180,
) -> np.ndarray:
    """Return each camera's isovist: the open space it sees within its range.

    A camera sees a point if the straight segment between them stays inside
    `open_space`. Rays are cast every 360/`n_rays` degrees to the camera's
    range and cut at their first crossing of the open-space boundary; the
    isovist is the polygon through the ray ends (so within one ray spacing
    of the exact visible area). A camera off open space (on a wall or pole)
    is first moved to the nearest open space within `SNAP_DISTANCE_M`;
    farther off, it sees nothing.

    Parameters
    ----------
    camera_xy : numpy.ndarray
        (n, 2) camera positions, projected metres.
    range_m : numpy.ndarray
        (n,) camera ranges in metres, or one range for all.
    open_space : shapely.Geometry
        Polygonal open space in the same CRS (`corridor_open_space` or
        `building_open_space`).
    n_rays : int
        Rays per camera.

    Returns
    -------
    numpy.ndarray
        (n,) object array of shapely Polygons, empty where a camera sees nothing.
    """
    if n_rays < 3:
        raise ValueError(f"n_rays must be at least 3, got {n_rays}")
    xy = np.asarray(camera_xy, dtype=float).reshape(-1, 2)
    ranges_m = np.broadcast_to(np.asarray(range_m, dtype=float), (len(xy),))
    result = np.array([shapely.Polygon() for _ in range(len(xy))], dtype=object)
    if len(xy) == 0 or open_space is None or shapely.is_empty(open_space):
        return result

    segments = _boundary_segments(open_space)
    tree = shapely.STRtree(shapely.linestrings(segments.reshape(-1, 2, 2)))
    shapely.prepare(open_space)
    origins = _snap_into(xy, open_space, segments, tree)
    seeing = np.flatnonzero(np.isfinite(origins[:, 0]) & (ranges_m > 0))
    if len(seeing) < len(xy):
        logger.debug("%d of %d cameras see nothing", len(xy) - len(seeing), len(xy))

    angles = np.arange(n_rays) * (2.0 * math.pi / n_rays)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    per_batch = max(1, _RAYS_PER_BATCH // n_rays)
    with progress.task("isovists", len(seeing), "camera", note="what each camera sees") as step:
        for first in range(0, len(seeing), per_batch):
            cams = seeing[first : first + per_batch]
            starts = np.repeat(origins[cams], n_rays, axis=0)
            offsets = (ranges_m[cams, None, None] * directions[None]).reshape(-1, 2)
            reach = _first_crossing(starts, offsets, segments, tree)
            ends = (starts + reach[:, None] * offsets).reshape(len(cams), n_rays, 2)
            result[cams] = shapely.polygons(ends)
            step.advance(len(cams))
    invalid = ~shapely.is_valid(result)
    if invalid.any():
        result[invalid] = shapely.make_valid(result[invalid])
    return result


def _first_crossing(
    starts: np.ndarray,
    offsets: np.ndarray,
    segments: np.ndarray,
    tree: shapely.STRtree,
) -> np.ndarray:
    """Return per ray `starts + t * offsets` the smallest t in [0, 1] on a segment, else 1."""
    rays = shapely.linestrings(np.stack([starts, starts + offsets], axis=1))
    ray, seg = tree.query(rays)
    reach = np.ones(len(starts))
    if len(ray) == 0:
        return reach
    r = offsets[ray]
    a = segments[seg, :2]
    s = segments[seg, 2:] - a
    q = a - starts[ray]
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (q[:, 0] * s[:, 1] - q[:, 1] * s[:, 0]) / denom
        u = (q[:, 0] * r[:, 1] - q[:, 1] * r[:, 0]) / denom
    hit = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    np.minimum.at(reach, ray[hit], t[hit])
    return reach
