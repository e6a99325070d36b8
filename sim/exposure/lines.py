"""Exposure of lines drawn anywhere in the city, straight from camera sites (no walk network)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely

from sim.exposure.camera_model import CameraParams, level_ranges_for, public_flags
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage, first_seen_per_edge
from sim.exposure.pieces import CoveragePieces, edge_exposure, radius_pieces

# A drawn path is cut into pieces of this many segments for the camera search (a camera then
# pairs only with the segments near it, not with every segment of a long path), and the pieces
# are scored this many segments at a time (memory stays bounded for any number of points).
CHUNK_SEGMENTS = 256
BATCH_SEGMENTS = 50_000


def radius_coverage_of_lines(
    cameras: CameraSites, classes: Mapping[str, CameraParams], lines: np.ndarray
) -> Coverage:
    """Coverage of ``lines`` (LineStrings, metres; each taken as one edge) under the ``radius``
    model: each camera sees every point within its reach at each level (exact disk chords)."""
    ranges = level_ranges_for(classes, cameras.cls)
    public = public_flags(classes, cameras.cls)
    pieces = radius_pieces(lines, np.c_[cameras.x, cameras.y], ranges)
    return _coverage(cameras, ranges, public, pieces, len(lines))


def radius_coverage_of_path(
    cameras: CameraSites, classes: Mapping[str, CameraParams], xy: np.ndarray
) -> Coverage:
    """Coverage of one drawn path (``xy``: (n, 2) points, metres) taken as one edge: the same
    as :func:`radius_coverage_of_lines` of its LineString, computed piecewise so that time and
    memory grow with the points and the cameras near each, not with their product."""
    ranges = level_ranges_for(classes, cameras.cls)
    public = public_flags(classes, cameras.cls)
    pieces = _radius_path_pieces(np.asarray(xy, float), np.c_[cameras.x, cameras.y], ranges)
    return _coverage(cameras, ranges, public, pieces, 1)


def coverage_of_path(coverage: Coverage, xy: np.ndarray) -> Coverage:
    """The same cameras' coverage (a network's, with its reach or its visible areas) of one
    drawn path taken as one edge, segment by segment: exact for a path that doubles back on
    itself, and in seconds for a million points."""
    cams = coverage.cameras
    xy = np.asarray(xy, float)
    if coverage.areas is None:
        pieces = _radius_path_pieces(xy, np.c_[cams.x, cams.y], coverage.level_range_m)
    else:
        n, levels = coverage.areas.shape
        pieces = _area_path_pieces(
            xy,
            coverage.areas.ravel(),
            np.repeat(np.arange(n), levels),
            np.tile(np.arange(levels), n),
        )
    edges = edge_exposure(pieces, 1, cams.count, coverage.public)
    return Coverage(
        cams,
        coverage.level_range_m,
        coverage.public,
        pieces,
        edges,
        first_seen_per_edge(pieces, 1),
        coverage.visibility,
        coverage.areas,
    )


def _offsets(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each segment's length and the metres along the path at each point."""
    seg_len = np.hypot(*np.diff(xy, axis=0).T)
    return seg_len, np.concatenate(([0.0], np.cumsum(seg_len)))


def _radius_path_pieces(xy: np.ndarray, camera_xy: np.ndarray, ranges: np.ndarray):
    """Disk chords of the path, chunk by chunk (exact: they are found segment by segment)."""
    _, offset = _offsets(xy)
    parts = []
    for b0 in range(0, len(xy) - 1, BATCH_SEGMENTS):
        b1 = min(b0 + BATCH_SEGMENTS, len(xy) - 1)
        starts = np.arange(b0, b1, CHUNK_SEGMENTS)
        chunks = np.array(
            [shapely.LineString(xy[s : min(s + CHUNK_SEGMENTS, b1) + 1]) for s in starts],
            dtype=object,
        )
        p = radius_pieces(chunks, camera_xy, ranges)
        shift = offset[starts][p.edge]
        parts.append(_joined(p.camera, p.level, p.start_m + shift, p.end_m + shift))
    return _path_pieces(parts)


def _area_path_pieces(
    xy: np.ndarray, areas: np.ndarray, camera_of_area: np.ndarray, level_of_area: np.ndarray
):
    """Stretches of the path inside each visible area, segment by segment: a segment an area
    covers is seen whole (a prepared predicate, fast); only segments crossing its edge are
    cut (an overlay of short straight pieces, located exactly along them)."""
    keep = ~shapely.is_empty(areas)
    areas, camera_of_area, level_of_area = areas[keep], camera_of_area[keep], level_of_area[keep]
    seg_len, offset = _offsets(xy)
    shapely.prepare(areas)
    parts = []
    for b0 in range(0, len(xy) - 1, BATCH_SEGMENTS):
        seg = np.arange(b0, min(b0 + BATCH_SEGMENTS, len(xy) - 1))
        seg = seg[seg_len[seg] > 0]
        if len(areas) == 0 or len(seg) == 0:
            continue
        p0, p1 = xy[seg], xy[seg + 1]
        lines = shapely.linestrings(np.stack([p0, p1], axis=1))
        area_idx, k = shapely.STRtree(lines).query(areas, predicate="intersects")
        whole = shapely.covers(areas[area_idx], lines[k])
        lo, hi = np.zeros(len(k)), seg_len[seg[k]].copy()
        cut = np.flatnonzero(~whole)
        pieces, owner = shapely.get_parts(
            shapely.intersection(lines[k[cut]], areas[area_idx[cut]]), return_index=True
        )
        is_line = shapely.get_type_id(pieces) == 1
        pieces, owner = pieces[is_line], cut[owner[is_line]]
        direction = (p1[k[owner]] - p0[k[owner]]) / seg_len[seg[k[owner]]][:, None]
        ends = [
            np.einsum(
                "ij,ij->i",
                shapely.get_coordinates(shapely.get_point(pieces, i)) - p0[k[owner]],
                direction,
            )
            for i in (0, -1)
        ]
        row = np.concatenate([np.flatnonzero(whole), owner])
        lo = np.concatenate([lo[whole], np.minimum(*ends)])
        hi = np.concatenate([hi[whole], np.maximum(*ends)])
        good = hi > lo
        row, lo, hi = row[good], lo[good], hi[good]
        shift = offset[seg[k[row]]]
        parts.append(
            _joined(
                camera_of_area[area_idx[row]],
                level_of_area[area_idx[row]],
                lo + shift,
                hi + shift,
            )
        )
    return _path_pieces(parts)


def _path_pieces(parts: list) -> CoveragePieces:
    """Pieces of batches joined into the pieces of one edge (the path), sorted."""
    if not parts:
        i = np.zeros(0, np.int32)
        return CoveragePieces(i, i, np.zeros(0, np.int8), np.zeros(0), np.zeros(0))
    camera, level, start, end = (np.concatenate(a) for a in zip(*parts))
    camera, level, start, end = _joined(camera, level, start, end)
    order = np.lexsort((start, camera, level))
    return CoveragePieces(
        np.zeros(len(order), np.int32),
        camera[order].astype(np.int32),
        level[order].astype(np.int8),
        start[order].astype(float),
        end[order].astype(float),
    )


def _joined(camera, level, start, end):
    """Pieces of one line with each camera's touching pieces at a level joined into one (a
    camera's stretch cut where the path's segments or chunks meet)."""
    order = np.lexsort((start, camera, level))
    camera, level, start, end = camera[order], level[order], start[order], end[order]
    if len(start) == 0:
        return camera, level, start, end
    same = (camera[1:] == camera[:-1]) & (level[1:] == level[:-1])
    # a piece continues the one before it when it starts where that one ends (to rounding)
    cont = np.concatenate(([False], same & (start[1:] <= end[:-1] + 1e-6)))
    first = np.flatnonzero(~cont)
    run_end = np.maximum.reduceat(end, first)
    return camera[first], level[first], start[first], run_end


def points_along(xy: np.ndarray, start_m: np.ndarray, end_m: np.ndarray, k: int = 8) -> list:
    """``k`` points (metres) along the path ``xy`` from each ``start_m`` to its ``end_m``."""
    seg_len = np.hypot(*np.diff(xy, axis=0).T)
    keep = np.concatenate(([True], seg_len > 0))  # np.interp needs increasing distances
    xy = xy[keep]
    offset = np.concatenate(([0.0], np.cumsum(seg_len[seg_len > 0])))
    d = np.linspace(start_m, end_m, k, axis=-1)
    px, py = np.interp(d, offset, xy[:, 0]), np.interp(d, offset, xy[:, 1])
    return list(np.stack([px, py], axis=-1))


def _coverage(cameras, ranges, public, pieces: CoveragePieces, n_lines: int) -> Coverage:
    edges = edge_exposure(pieces, n_lines, cameras.count, public)
    return Coverage(
        cameras,
        ranges,
        public,
        pieces,
        edges,
        first_seen_per_edge(pieces, n_lines),
        "radius",
        None,
    )
