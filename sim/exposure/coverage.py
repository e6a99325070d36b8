"""Exposure: camera coverage of the network, of points and of routes."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from sim.city.network import WalkNetwork
from sim.exposure.camera_model import LEVELS, CameraParams, level_ranges_for, public_flags
from sim.exposure.cameras import CameraSites
from sim.exposure.pieces import (
    SEEN,
    CoveragePieces,
    EdgeExposure,
    edge_exposure,
    polygon_pieces,
    radius_pieces,
)
from sim.exposure.visibility_models import visibility_model
from sim.geo import pack_wkb, unpack_wkb

log = logging.getLogger(__name__)

COVERAGE_CACHE_VERSION = 2


@dataclass(frozen=True)
class Coverage:
    """Cameras with their reach, the pieces of every edge they see, and per-edge exposure."""

    cameras: CameraSites
    level_range_m: np.ndarray  # (n_cameras, 3)
    public: np.ndarray
    pieces: CoveragePieces
    edges: EdgeExposure
    first_seen_m: np.ndarray
    visibility: str
    areas: np.ndarray | None  # sightline: visible area per camera and level, (n_cameras, 3)


def first_seen_per_edge(pieces: CoveragePieces, n_edges: int) -> np.ndarray:
    """Metres from each edge's start to its first stretch in view; NaN where none."""
    out = np.full(n_edges, np.inf)
    seen = pieces.level == SEEN
    np.minimum.at(out, pieces.edge[seen], pieces.start_m[seen])
    out[np.isinf(out)] = np.nan
    return out


# A store of built arrays: ``store(kind, key, build)`` returns ``build()`` or a cached copy
# (``sim.data.cache.cached`` at the edge; ``None``: always build).
Store = Callable[[str, Mapping[str, object], Callable[[], dict[str, np.ndarray]]], dict]


def build_coverage(
    network: WalkNetwork,
    cameras: CameraSites,
    classes: Mapping[str, CameraParams],
    visibility: str = "radius",
    open_space: shapely.Geometry | Callable[[], shapely.Geometry] | None = None,
    open_space_key: str = "",
    store: Store | None = None,
) -> Coverage:
    """Coverage of every edge of ``network`` by ``cameras`` under a visibility model.

    ``radius``: a camera sees every point within its reach. ``sightline``: it sees a point only
    along a straight line through ``open_space`` (isovists clipped to each level's reach;
    a callable is only called when the pieces must be built). ``store`` may return the pieces
    built before for the same network, cameras, reach and model (see :data:`Store`).
    """
    ranges = level_ranges_for(classes, cameras.cls)
    public = public_flags(classes, cameras.cls)
    model = visibility_model(visibility)
    if model.needs_open_space and open_space is None:
        raise ValueError(f"{visibility} visibility needs an open_space geometry")

    def build() -> dict[str, np.ndarray]:
        space = open_space() if callable(open_space) else open_space
        pieces, areas = model.pieces(network.edge_geom, np.c_[cameras.x, cameras.y], ranges, space)
        return _pieces_arrays(pieces, areas)

    key = {
        "network": network.source_sha256,
        "cameras": _digest(np.c_[cameras.x, cameras.y]),
        "ranges": _digest(ranges),
        "visibility": visibility,
        "open_space": open_space_key,
        "version": COVERAGE_CACHE_VERSION,
    }
    arrays = store("coverage", key, build) if store is not None else build()
    pieces, areas = _pieces_from_arrays(arrays, ranges.shape)
    edges = edge_exposure(pieces, network.n_edges, cameras.count, public)
    return Coverage(
        cameras,
        ranges,
        public,
        pieces,
        edges,
        first_seen_per_edge(pieces, network.n_edges),
        visibility,
        areas,
    )


def _pieces_arrays(pieces: CoveragePieces, areas: np.ndarray | None) -> dict[str, np.ndarray]:
    out = {f"pieces_{k}": getattr(pieces, k) for k in CoveragePieces.__dataclass_fields__}
    if areas is not None:
        packed = pack_wkb(areas.ravel())
        out.update(areas_wkb=packed["wkb"], areas_offsets=packed["offsets"])
    return out


def _pieces_from_arrays(
    arrays: Mapping[str, np.ndarray], shape: tuple[int, ...]
) -> tuple[CoveragePieces, np.ndarray | None]:
    pieces = CoveragePieces(*(arrays[f"pieces_{k}"] for k in CoveragePieces.__dataclass_fields__))
    areas = None
    if "areas_wkb" in arrays:
        areas = unpack_wkb(arrays["areas_wkb"], arrays["areas_offsets"]).reshape(shape)
    return pieces, areas


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=float).tobytes()).hexdigest()[:24]


def coverage_of_lines(coverage: Coverage, lines: np.ndarray) -> Coverage:
    """The same cameras' coverage of other lines (a route drawn elsewhere, taken as edges).

    Exact like the network's: disk chords under ``radius``, the cameras' cached visible areas
    under ``sightline``.
    """
    n = len(coverage.cameras)
    if coverage.areas is None:
        xy = np.c_[coverage.cameras.x, coverage.cameras.y]
        pieces = radius_pieces(lines, xy, coverage.level_range_m)
    else:
        levels = len(LEVELS)
        pieces = polygon_pieces(
            lines,
            coverage.areas.ravel(),
            np.repeat(np.arange(n), levels),
            np.tile(np.arange(levels), n),
        )
    edges = edge_exposure(pieces, len(lines), coverage.cameras.count, coverage.public)
    return Coverage(
        coverage.cameras,
        coverage.level_range_m,
        coverage.public,
        pieces,
        edges,
        first_seen_per_edge(pieces, len(lines)),
        coverage.visibility,
        coverage.areas,
    )


@dataclass(frozen=True)
class PointExposure:
    """Exposure per second of standing at each point: flags, camera count, camera indices."""

    seen: np.ndarray
    seen_public: np.ndarray
    camera: np.ndarray  # sum of camera counts in view
    recognition: np.ndarray
    identification: np.ndarray
    cameras: list[np.ndarray]


@dataclass(frozen=True)
class PointPairs:
    """The camera sites that see each point all around: one row per (point, camera site),
    with the point's offset from the camera and whether the camera sees it at each level."""

    n_points: int
    point: np.ndarray
    camera: np.ndarray
    dx: np.ndarray  # point minus camera, metres east
    dy: np.ndarray  # metres north
    dist: np.ndarray
    sees: np.ndarray  # (n_pairs, 3) bool: seen, recognition, identification


def point_pairs(coverage: Coverage, xy: np.ndarray) -> PointPairs:
    """Which cameras see each point at each level (within reach; under sightlines, inside the
    camera's visible area of that level)."""
    cams = coverage.cameras
    n = len(xy)
    if len(cams) == 0 or n == 0:
        i, f = np.zeros(0, np.int64), np.zeros(0)
        return PointPairs(n, i, i, f, f, f, np.zeros((0, len(LEVELS)), bool))
    reach = coverage.level_range_m.max()
    tree = cKDTree(np.c_[cams.x, cams.y])
    near = tree.query_ball_point(xy, r=reach)
    pt_idx = np.repeat(np.arange(n), [len(c) for c in near])
    cam_idx = np.fromiter((c for cs in near for c in cs), np.int64, count=len(pt_idx))
    dx, dy = xy[pt_idx, 0] - cams.x[cam_idx], xy[pt_idx, 1] - cams.y[cam_idx]
    dist = np.hypot(cams.x[cam_idx] - xy[pt_idx, 0], cams.y[cam_idx] - xy[pt_idx, 1])
    active = coverage.level_range_m[:, 0] > 0
    sees = []
    for level in range(len(LEVELS)):
        ok = (dist <= coverage.level_range_m[cam_idx, level]) & active[cam_idx]
        if coverage.areas is not None:
            areas = coverage.areas[cam_idx, level]
            ok &= shapely.intersects_xy(areas, xy[pt_idx, 0], xy[pt_idx, 1])
        sees.append(ok)
    return PointPairs(n, pt_idx, cam_idx, dx, dy, dist, np.stack(sees, axis=1))


def points_from_pairs(
    pairs: PointPairs,
    sees: np.ndarray,
    count: np.ndarray,
    public: np.ndarray,
    pair_count: np.ndarray | None = None,
) -> PointExposure:
    """Per point, what standing there exposes one to, given which pairs see it (``sees``:
    (n_pairs, 3)), the camera sites' counts and public flags; ``pair_count``: the cameras of
    each pair's site that see the point, where not the site's count (a camera world)."""
    n, pt_idx, cam_idx = pairs.n_points, pairs.point, pairs.camera
    seen, pub, rec, ident = (np.zeros(n, bool) for _ in range(4))
    if len(pt_idx) == 0:
        return PointExposure(seen, pub, np.zeros(n), rec, ident, [np.zeros(0, np.int64)] * n)
    s = sees[:, SEEN]
    seen[pt_idx[s]] = True
    pub[pt_idx[s & public[cam_idx]]] = True
    rec[pt_idx[sees[:, 1] & s]] = True
    ident[pt_idx[sees[:, 2] & s]] = True
    weight = count[cam_idx[s]] if pair_count is None else pair_count[s]
    total = np.bincount(pt_idx[s], weights=weight, minlength=n)
    order = np.argsort(pt_idx[s], kind="stable")
    split = np.split(cam_idx[s][order], np.cumsum(np.bincount(pt_idx[s], minlength=n))[:-1])
    return PointExposure(seen, pub, total, rec, ident, split)


def point_exposure(coverage: Coverage, xy: np.ndarray) -> PointExposure:
    """Which cameras see each point (at each level), as for a protester standing there."""
    pairs = point_pairs(coverage, xy)
    return points_from_pairs(pairs, pairs.sees, coverage.cameras.count, coverage.public)


@dataclass(frozen=True)
class RouteScore:
    """Exposure of walking one route at one speed."""

    length_m: float
    walk_s: float
    seen_m: float
    seen_public_m: float
    camera_s: float
    recognition_s: float
    identification_s: float
    cameras: np.ndarray
    public_cameras: np.ndarray

    @property
    def share_surveilled(self) -> float:
        return self.seen_m / self.length_m if self.length_m else 0.0

    @property
    def share_surveilled_public(self) -> float:
        return self.seen_public_m / self.length_m if self.length_m else 0.0

    def as_dict(self, coverage: Coverage) -> dict[str, object]:
        return {
            "length_m": round(self.length_m, 2),
            "walk_s": round(self.walk_s, 2),
            "distinct_camera_sites": len(self.cameras),
            "distinct_public_camera_sites": len(self.public_cameras),
            "surveilled_share_any": round(self.share_surveilled, 6),
            "surveilled_share_public": round(self.share_surveilled_public, 6),
            "seen_s": round(self.seen_m * self.walk_s / self.length_m, 2) if self.length_m else 0,
            "camera_s": round(self.camera_s, 2),
            "recognition_s": round(self.recognition_s, 2),
            "identification_s": round(self.identification_s, 2),
            "camera_ids": [str(coverage.cameras.camera_id[c]) for c in self.cameras],
        }


def score_route(
    edge_length_m: np.ndarray, coverage: Coverage, edges: np.ndarray, speed_mps: float
) -> RouteScore:
    """Exposure of walking ``edges`` (in order) at ``speed_mps``: sums of per-edge coverage.

    ``edge_length_m`` and ``coverage`` describe the same edges (a network's, or a drawn path
    taken as one edge).
    """
    e = coverage.edges
    cams = e.cameras_on(edges)
    return RouteScore(
        length_m=float(edge_length_m[edges].sum()),
        walk_s=float(edge_length_m[edges].sum() / speed_mps),
        seen_m=float(e.seen_m[edges].sum()),
        seen_public_m=float(e.seen_public_m[edges].sum()),
        camera_s=float(e.camera_m[edges].sum() / speed_mps),
        recognition_s=float(e.recognition_m[edges].sum() / speed_mps),
        identification_s=float(e.identification_m[edges].sum() / speed_mps),
        cameras=cams,
        public_cameras=cams[coverage.public[cams]],
    )
