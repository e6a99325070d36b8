"""The visibility models a scenario may name (``cameras.visibility``), in one registry: what
each needs, and how it finds the stretches of street every camera sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from sim import progress
from sim.exposure.camera_model import LEVELS
from sim.exposure.pieces import CoveragePieces, polygon_pieces, radius_pieces
from sim.forks import elementwise

Pieces = Callable[
    [np.ndarray, np.ndarray, np.ndarray, shapely.Geometry | None],
    tuple[CoveragePieces, np.ndarray | None],
]


@dataclass(frozen=True)
class VisibilityModel:
    """A way cameras see: ``pieces(edge_geom, camera_xy, ranges, open_space)`` gives the pieces
    of every edge each camera sees at each level, and the visible areas where it has them."""

    name: str
    needs_open_space: bool  # the open space between buildings (sim.scenario.inputs loads it)
    pieces: Pieces
    summary: str
    directional: bool = False  # whether a camera sees only where it points (none does yet)


def _radius(edge_geom, xy, ranges, open_space):
    return radius_pieces(edge_geom, xy, ranges), None


def _sightline(edge_geom, xy, ranges, open_space):
    n = len(xy)
    with progress.task(
        "sightline coverage", 2, "part", note=f"{n} camera sites; once, then cached"
    ) as step:
        step.stage("what each camera sees (isovists)")
        areas = sightline_areas(xy, ranges, open_space)
        step.advance()
        step.stage("stretches of street in view")
        pieces = polygon_pieces(
            edge_geom,
            areas.ravel(),
            np.repeat(np.arange(n), len(LEVELS)),
            np.tile(np.arange(len(LEVELS)), n),
        )
        step.advance()
    return pieces, areas


def sightline_areas(xy: np.ndarray, ranges: np.ndarray, open_space: shapely.Geometry) -> np.ndarray:
    """Visible area of each camera at each level: its isovist clipped to that level's reach."""
    from sim.exposure.visibility import isovists

    iso = isovists(xy, ranges.max(axis=1), open_space) if len(xy) else np.zeros(0, object)
    out = np.empty(ranges.shape, dtype=object)
    for level in range(ranges.shape[1]):
        disks = shapely.buffer(shapely.points(xy), ranges[:, level], quad_segs=32)
        out[:, level] = elementwise(shapely.intersection, iso, disks) if len(xy) else disks
    return out


VISIBILITY_MODELS: dict[str, VisibilityModel] = {
    "radius": VisibilityModel(
        "radius", False, _radius, "a camera sees every point within its reach"
    ),
    "sightline": VisibilityModel(
        "sightline",
        True,
        _sightline,
        "a camera sees a point within its reach along a straight line through open space",
    ),
}


def visibility_model(name: str) -> VisibilityModel:
    """The model called ``name``; an unknown name is a ValueError that lists the models."""
    try:
        return VISIBILITY_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown visibility model {name!r} (allowed: {', '.join(VISIBILITY_MODELS)})"
        ) from None
