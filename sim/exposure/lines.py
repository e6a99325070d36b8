"""Exposure of lines drawn anywhere in the city, straight from camera sites (no walk network)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.exposure.camera_model import CameraParams, level_ranges_for, public_flags
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage, first_seen_per_edge
from sim.exposure.pieces import edge_exposure, radius_pieces


def radius_coverage_of_lines(
    cameras: CameraSites, classes: Mapping[str, CameraParams], lines: np.ndarray
) -> Coverage:
    """Coverage of ``lines`` (LineStrings, metres; each taken as one edge) under the ``radius``
    model: each camera sees every point within its reach at each level (exact disk chords)."""
    ranges = level_ranges_for(classes, cameras.cls)
    public = public_flags(classes, cameras.cls)
    pieces = radius_pieces(lines, np.c_[cameras.x, cameras.y], ranges)
    edges = edge_exposure(pieces, len(lines), cameras.count, public)
    return Coverage(
        cameras,
        ranges,
        public,
        pieces,
        edges,
        first_seen_per_edge(pieces, len(lines)),
        "radius",
        None,
    )
