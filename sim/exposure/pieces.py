"""Per-edge camera coverage: which stretches of every street each camera sees, at each level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from sim.exposure.camera_model import LEVELS
from sim.forks import elementwise

SEEN, RECOGNITION, IDENTIFICATION = range(len(LEVELS))


@dataclass(frozen=True)
class CoveragePieces:
    """Stretches of edges seen by cameras: one row per (edge, camera, level, piece).

    ``start_m`` and ``end_m`` are metres from the edge's start. Pieces of one camera on one
    edge never overlap each other, so a camera's covered length is the sum of its pieces.
    """

    edge: np.ndarray
    camera: np.ndarray
    level: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray

    @property
    def length_m(self) -> np.ndarray:
        return self.end_m - self.start_m

    def subset(self, mask: np.ndarray) -> CoveragePieces:
        return CoveragePieces(*(getattr(self, k)[mask] for k in self.__dataclass_fields__))


def edge_segments(edge_geom: np.ndarray, edges: np.ndarray):
    """Straight segments of the given edges: edge id, start point, direction, length, offset."""
    coords, owner = shapely.get_coordinates(edge_geom[edges], return_index=True)
    same = owner[1:] == owner[:-1]
    p0, p1 = coords[:-1][same], coords[1:][same]
    seg_owner = owner[:-1][same]
    seg_len = np.hypot(*(p1 - p0).T)
    # offset of each segment's start along its edge: cumulative length within the edge
    cum = np.cumsum(seg_len)
    first = np.ones(len(seg_owner), bool)
    first[1:] = seg_owner[1:] != seg_owner[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(seg_owner)), 0))
    offset = cum - seg_len - (cum[group_start] - seg_len[group_start])
    return edges[seg_owner], p0, p1, seg_len, offset


def radius_pieces(
    edge_geom: np.ndarray, camera_xy: np.ndarray, level_range_m: np.ndarray
) -> CoveragePieces:
    """Exact coverage of straight-line segments by disks (the ``radius`` visibility model).

    A segment from P0 with unit direction d, passing a camera C at perpendicular distance h < R,
    is seen where |t - t0| <= sqrt(R^2 - h^2), t0 = (C - P0) . d, clipped to [0, L].

    Parameters
    ----------
    edge_geom : array of LineString, metres
    camera_xy : (n, 2) array, metres
    level_range_m : (n, 3) array of each camera's reach at each level, metres
    """
    n_cam = len(camera_xy)
    if n_cam == 0:
        return _empty_pieces()
    tree = shapely.STRtree(edge_geom)
    points = shapely.points(camera_xy)
    reach = level_range_m.max(axis=1)
    cam_idx, edge_idx = tree.query(points, predicate="dwithin", distance=reach)
    if cam_idx.size == 0:
        return _empty_pieces()
    # Expand (camera, edge) pairs to (camera, segment) pairs.
    edges = np.unique(edge_idx)
    seg_edge, p0, p1, seg_len, offset = edge_segments(edge_geom, edges)
    seg_first = np.searchsorted(seg_edge, edges)  # segments of one edge are contiguous
    seg_count = np.diff(np.append(seg_first, len(seg_edge)))
    pos = np.searchsorted(edges, edge_idx)
    reps = seg_count[pos]
    pair_cam = np.repeat(cam_idx, reps)
    starts = np.repeat(seg_first[pos], reps)
    within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    seg = starts + within
    valid = seg_len[seg] > 0
    pair_cam, seg = pair_cam[valid], seg[valid]
    length = seg_len[seg]
    direction = (p1[seg] - p0[seg]) / length[:, None]
    rel = camera_xy[pair_cam] - p0[seg]
    t0 = np.einsum("ij,ij->i", rel, direction)
    h2 = np.maximum(np.einsum("ij,ij->i", rel, rel) - t0 * t0, 0.0)
    out = []
    for level in range(level_range_m.shape[1]):
        r = level_range_m[pair_cam, level]
        half = np.sqrt(np.maximum(r * r - h2, 0.0))
        lo = np.clip(t0 - half, 0.0, length)
        hi = np.clip(t0 + half, 0.0, length)
        hit = (h2 < r * r) & (hi > lo)
        out.append(
            (
                seg_edge[seg[hit]],
                pair_cam[hit],
                np.full(hit.sum(), level, np.int8),
                offset[seg[hit]] + lo[hit],
                offset[seg[hit]] + hi[hit],
            )
        )
    return sorted_pieces(*(np.concatenate(parts) for parts in zip(*out)))


def polygon_pieces(
    edge_geom: np.ndarray, areas: np.ndarray, camera_of_area: np.ndarray, level_of_area: np.ndarray
) -> CoveragePieces:
    """Coverage of edges by visible areas (the ``sightline`` model: isovists clipped to reach).

    ``areas[k]`` is the area camera ``camera_of_area[k]`` sees at level ``level_of_area[k]``.
    """
    keep = ~shapely.is_empty(areas)
    areas, camera_of_area, level_of_area = areas[keep], camera_of_area[keep], level_of_area[keep]
    if len(areas) == 0:
        return _empty_pieces()
    tree = shapely.STRtree(edge_geom)
    area_idx, edge_idx = tree.query(areas, predicate="intersects")
    if area_idx.size == 0:
        return _empty_pieces()
    shapely.prepare(areas)
    # element by element, so split over the processors (the same pieces, bit for bit)
    parts_geom = elementwise(shapely.intersection, edge_geom[edge_idx], areas[area_idx])
    parts, owner = shapely.get_parts(parts_geom, return_index=True)
    # keep line pieces only (a touching point has no length)
    lines = shapely.get_type_id(parts) == 1
    parts, owner = parts[lines], owner[lines]
    # merged pieces may be MultiLineStrings' members; each is a simple line along the edge
    edge = edge_idx[owner]
    a = shapely.line_locate_point(edge_geom[edge], shapely.get_point(parts, 0))
    b = shapely.line_locate_point(edge_geom[edge], shapely.get_point(parts, -1))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    good = hi > lo
    return sorted_pieces(
        edge[good],
        camera_of_area[area_idx[owner]][good],
        level_of_area[area_idx[owner]][good].astype(np.int8),
        lo[good],
        hi[good],
    )


def sorted_pieces(edge, camera, level, start, end) -> CoveragePieces:
    """Pieces in their one order: by edge, level, camera, then start."""
    order = np.lexsort((start, camera, level, edge))
    return CoveragePieces(
        edge[order].astype(np.int32),
        camera[order].astype(np.int32),
        level[order].astype(np.int8),
        start[order].astype(float),
        end[order].astype(float),
    )


def _empty_pieces() -> CoveragePieces:
    i, f = np.zeros(0, np.int32), np.zeros(0, float)
    return CoveragePieces(i, i, np.zeros(0, np.int8), f, f)


def union_length_per_edge(
    edge: np.ndarray, start: np.ndarray, end: np.ndarray, n_edges: int
) -> np.ndarray:
    """Length of the union of intervals [start, end) on each edge (metres), vectorised.

    Sorts by (edge, start), then walks a running maximum of interval ends within each edge:
    the part of an interval beyond the running maximum of the ends before it is new cover.
    """
    out = np.zeros(n_edges)
    if len(edge) == 0:
        return out
    order = np.lexsort((start, edge))
    e, s, t = edge[order], start[order], end[order]
    # shift each edge's coordinates into its own band so one running max serves all edges
    band = (float(np.max(t)) + 1.0) * e.astype(float)
    s_b, t_b = s + band, t + band
    prev_max = np.maximum.accumulate(t_b)
    prev_max = np.concatenate(([-np.inf], prev_max[:-1]))
    first = np.ones(len(e), bool)
    first[1:] = e[1:] != e[:-1]
    prev_max[first] = -np.inf
    new = np.clip(t_b - np.maximum(s_b, prev_max), 0.0, None)
    np.add.at(out, e, new)
    return out


@dataclass(frozen=True)
class EdgeExposure:
    """What one traversal of each edge exposes a walker to, per metre walked (O(1) per edge).

    Lengths are metres of the edge; divide by the walking speed for seconds.
    ``cam_indptr``/``cam_indices`` list, per edge, the camera sites seeing any of it (CSR).
    """

    seen_m: np.ndarray
    seen_public_m: np.ndarray
    recognition_m: np.ndarray
    identification_m: np.ndarray
    camera_m: np.ndarray
    cam_indptr: np.ndarray
    cam_indices: np.ndarray

    def cameras_on(self, edges: np.ndarray) -> np.ndarray:
        """Distinct camera indices seeing any of ``edges``."""
        if len(edges) == 0:
            return np.zeros(0, np.int32)
        chunks = [self.cam_indices[self.cam_indptr[e] : self.cam_indptr[e + 1]] for e in edges]
        return np.unique(np.concatenate(chunks))


def edge_exposure(
    pieces: CoveragePieces,
    n_edges: int,
    camera_count: np.ndarray,
    camera_public: np.ndarray,
    active: np.ndarray | None = None,
    piece_weight: np.ndarray | None = None,
) -> EdgeExposure:
    """Aggregate pieces to per-edge exposure, counting only ``active`` cameras (all if None).

    ``camera_m`` weights each camera site's covered length by its camera count
    (camera-metres), or each piece's length by ``piece_weight`` where given (a camera world:
    the cameras of a site each see their own pieces, each its share of the site's count).
    """
    if active is not None:
        keep = active[pieces.camera]
        pieces = pieces.subset(keep)
        piece_weight = piece_weight[keep] if piece_weight is not None else None
    lvl = pieces.level
    seen = lvl == SEEN

    def union(mask: np.ndarray) -> np.ndarray:
        return union_length_per_edge(
            pieces.edge[mask], pieces.start_m[mask], pieces.end_m[mask], n_edges
        )

    weight = camera_count[pieces.camera[seen]] if piece_weight is None else piece_weight[seen]
    camera_m = np.bincount(
        pieces.edge[seen], weights=pieces.length_m[seen] * weight, minlength=n_edges
    )
    pairs = np.unique(
        pieces.edge[seen].astype(np.int64) * (len(camera_count) + 1) + pieces.camera[seen]
    )
    pair_edge = pairs // (len(camera_count) + 1)
    pair_cam = (pairs % (len(camera_count) + 1)).astype(np.int32)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(pair_edge, minlength=n_edges))))
    return EdgeExposure(
        seen_m=union(seen),
        seen_public_m=union(seen & camera_public[pieces.camera]),
        recognition_m=union(lvl == RECOGNITION),
        identification_m=union(lvl == IDENTIFICATION),
        camera_m=camera_m,
        cam_indptr=indptr.astype(np.int64),
        cam_indices=pair_cam,
    )
