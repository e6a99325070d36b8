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
    xy = np.asarray(xy, float)
    seg_len = np.hypot(*np.diff(xy, axis=0).T)
    offset = np.concatenate(([0.0], np.cumsum(seg_len)))  # metres along the path at each point
    parts = []
    for b0 in range(0, len(xy) - 1, BATCH_SEGMENTS):
        b1 = min(b0 + BATCH_SEGMENTS, len(xy) - 1)
        starts = np.arange(b0, b1, CHUNK_SEGMENTS)
        chunks = np.array(
            [shapely.LineString(xy[s : min(s + CHUNK_SEGMENTS, b1) + 1]) for s in starts],
            dtype=object,
        )
        p = radius_pieces(chunks, np.c_[cameras.x, cameras.y], ranges)
        shift = offset[starts][p.edge]
        parts.append(_joined(p.camera, p.level, p.start_m + shift, p.end_m + shift))
    camera, level, start, end = (np.concatenate(a) for a in zip(*parts))
    camera, level, start, end = _joined(camera, level, start, end)
    order = np.lexsort((start, camera, level))
    pieces = CoveragePieces(
        np.zeros(len(order), np.int32),
        camera[order].astype(np.int32),
        level[order].astype(np.int8),
        start[order],
        end[order],
    )
    return _coverage(cameras, ranges, public, pieces, 1)


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
