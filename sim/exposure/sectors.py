"""A world's coverage: each camera's omnidirectional pieces of street and the standing points
it sees, cut to the world's reach and sector, exactly and vectorised.

A camera's stretches of street at a level in a world are its omnidirectional pieces at that
level (the scenario's coverage: already cut to its isovist or disk at the level's reach, which
caps the world's) intersected with

- the disk of the world's reach at each level: on a straight segment from P0 with unit
  direction d, a camera C at perpendicular distance h sees ``|t - t0| <= sqrt(r^2 - h^2)``,
  ``t0 = (C - P0) . d``;
- its sector, aim +- fov / 2: for a sector of at most 180 degrees the intersection of two
  half-planes through C, each a ray of t on the segment (``cross(v, P0 - C) + t cross(v, d)
  >= 0``); for a wider one the segment less the blind wedge (the complement's two
  half-planes), which may leave two pieces.

Both are computed over every piece at once in numpy (pieces are split at their edge's
vertices once per scenario, :func:`world_geometry`); no polygon is built per world. A camera
that a world leaves all around and at exactly its omnidirectional reach keeps its pieces as
they are, so the preset world reproduces the omnidirectional coverage bit for bit, and every
world's pieces lie inside the preset's: Amnesty's geometry is an upper bound at every level.
Standing points likewise: a point is in view at a level if the camera sees it all around at
that level, lies within the world's reach and inside the sector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.exposure.camera_model import LEVELS
from sim.exposure.coverage import (
    Coverage,
    PointExposure,
    PointPairs,
    first_seen_per_edge,
    points_from_pairs,
)
from sim.exposure.pieces import CoveragePieces, edge_exposure, edge_segments
from sim.exposure.worlds import World


@dataclass(frozen=True)
class SubPieces:
    """The pieces of a coverage split at the vertices of their edges: one row per piece and
    straight segment, with the segment's geometry relative to the piece's camera site."""

    edge: np.ndarray
    camera: np.ndarray
    level: np.ndarray
    lo: np.ndarray  # metres along the segment
    hi: np.ndarray
    offset: np.ndarray  # metres of the segment's start along its edge
    rx: np.ndarray  # segment start minus camera, metres east
    ry: np.ndarray  # metres north
    ux: np.ndarray  # unit direction of the segment
    uy: np.ndarray
    t0: np.ndarray  # metres along the segment of the camera's foot
    h2: np.ndarray  # squared distance of the camera from the segment's line


@dataclass(frozen=True)
class WorldGeometry:
    """What every world of a scenario cuts from: the omnidirectional coverage (every edge's,
    the first and last metres' included), its pieces split at vertices, and the standing
    points' camera pairs."""

    base: Coverage
    sub: SubPieces  # sorted by level, then camera site
    sub_ptr: np.ndarray  # (3, n_sites + 1): each level's sub-pieces of each site, as CSR
    points: PointPairs | None
    n_edges: int


def split_at_vertices(pieces: CoveragePieces, edge_geom: np.ndarray, cam_xy: np.ndarray):
    """:class:`SubPieces` of ``pieces`` on the edges ``edge_geom`` (every edge, by index)."""
    if len(pieces.edge) == 0:
        f = np.zeros(0)
        i = np.zeros(0, np.int32)
        return SubPieces(i, i, np.zeros(0, np.int8), *([f] * 9))
    edges = np.unique(pieces.edge).astype(np.int64)
    seg_edge, p0, p1, seg_len, offset = edge_segments(edge_geom, edges)
    first = np.searchsorted(seg_edge, edges)
    count = np.diff(np.append(first, len(seg_edge)))
    pos = np.searchsorted(edges, pieces.edge)
    reps = count[pos]
    piece = np.repeat(np.arange(len(pieces.edge)), reps)
    within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    seg = np.repeat(first[pos], reps) + within
    lo = np.maximum(pieces.start_m[piece] - offset[seg], 0.0)
    hi = np.minimum(pieces.end_m[piece] - offset[seg], seg_len[seg])
    keep = (hi > lo) & (seg_len[seg] > 0)
    piece, seg, lo, hi = piece[keep], seg[keep], lo[keep], hi[keep]
    cam = pieces.camera[piece]
    u = (p1[seg] - p0[seg]) / seg_len[seg][:, None]
    r = p0[seg] - cam_xy[cam]
    t0 = -(r[:, 0] * u[:, 0] + r[:, 1] * u[:, 1])
    h2 = np.maximum(r[:, 0] ** 2 + r[:, 1] ** 2 - t0 * t0, 0.0)
    return SubPieces(
        pieces.edge[piece],
        cam,
        pieces.level[piece],
        lo,
        hi,
        offset[seg],
        r[:, 0],
        r[:, 1],
        u[:, 0],
        u[:, 1],
        t0,
        h2,
    )


def world_geometry(
    coverage: Coverage, edge_geom: np.ndarray, points: PointPairs | None = None
) -> WorldGeometry:
    """Prepare ``coverage`` (of the edges ``edge_geom``, by index) for cutting worlds from."""
    cams = coverage.cameras
    sub = split_at_vertices(coverage.pieces, edge_geom, np.c_[cams.x, cams.y])
    n = len(cams)
    key = sub.level.astype(np.int64) * n + sub.camera
    order = np.argsort(key, kind="stable")
    sub = SubPieces(*(getattr(sub, k)[order] for k in SubPieces.__dataclass_fields__))
    ptr = np.searchsorted(key[order], np.arange(len(LEVELS) * n + 1))
    sub_ptr = np.stack([ptr[level * n : level * n + n + 1] for level in range(len(LEVELS))])
    return WorldGeometry(coverage, sub, sub_ptr, points, len(coverage.first_seen_m))


def sites_kept(world: World, base_range_m: np.ndarray) -> np.ndarray:
    """(n_sites, 3): sites whose every camera a world leaves all around, working, at exactly
    the site's omnidirectional reach at a level: their pieces of that level are taken as
    they are (weighing the site's count), so that the preset world is the omnidirectional
    coverage bit for bit."""
    n_sites = len(base_range_m)
    kept = (
        (world.sector_deg[:, None] >= 360.0)
        & world.working[:, None]
        & (world.reach_m == base_range_m[world.site])
    )
    cameras = np.bincount(world.site, minlength=n_sites)
    out = np.zeros((n_sites, len(LEVELS)), bool)
    for level in range(len(LEVELS)):
        not_kept = np.bincount(world.site, weights=~kept[:, level], minlength=n_sites)
        out[:, level] = (cameras > 0) & (not_kept == 0)
    return out


def camera_weights(world: World, count: np.ndarray) -> np.ndarray:
    """Each camera's share of its site's count (the site's count over its cameras)."""
    cameras = np.bincount(world.site, minlength=len(count))
    return count[world.site] / np.maximum(cameras[world.site], 1)


def _halfplane(vx, vy, rx, ry, ux, uy, sign):
    """Where on the segment ``sign * cross(v, r + t u) >= 0``: an interval of t (may be empty
    or unbounded)."""
    alpha = sign * (vx * ry - vy * rx)
    gamma = sign * (vx * uy - vy * ux)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -alpha / gamma
    lo = np.where(
        gamma > 0, root, np.where(gamma < 0, -np.inf, np.where(alpha >= 0, -np.inf, np.inf))
    )
    hi = np.where(
        gamma < 0, root, np.where(gamma > 0, np.inf, np.where(alpha >= 0, np.inf, -np.inf))
    )
    return lo, hi


def _unit(bearing_deg):
    b = np.radians(bearing_deg)
    return np.sin(b), np.cos(b)


def wedge_interval(aim, half, rx, ry, ux, uy):
    """The t of a segment inside the wedge of bearings ``aim +- half`` (half <= 90 degrees):
    clockwise of ``aim - half`` and anticlockwise of ``aim + half``."""
    bx, by = _unit(aim - half)
    ax, ay = _unit(aim + half)
    lo1, hi1 = _halfplane(bx, by, rx, ry, ux, uy, -1.0)
    lo2, hi2 = _halfplane(ax, ay, rx, ry, ux, uy, 1.0)
    return np.maximum(lo1, lo2), np.minimum(hi1, hi2)


def in_wedge(aim, sector, dx, dy) -> np.ndarray:
    """Whether offsets (dx, dy) from a camera lie in its sector (360 and more: always)."""
    sector = np.asarray(sector, float)
    narrow = sector <= 180.0
    half = np.where(narrow, sector / 2.0, (360.0 - sector) / 2.0)
    centre = np.where(narrow, aim, aim + 180.0)
    bx, by = _unit(centre - half)
    ax, ay = _unit(centre + half)
    cross_b = bx * dy - by * dx
    cross_a = ax * dy - ay * dx
    inside = (cross_b <= 0) & (cross_a >= 0)
    blind = (cross_b < 0) & (cross_a > 0)
    return np.where(sector >= 360.0, True, np.where(narrow, inside, ~blind))


def cut_pieces(sub: SubPieces, world: World, level: int, rows: np.ndarray, cam: np.ndarray):
    """The parts of sub-pieces ``rows`` that cameras ``cam`` (of the world, one per row, at
    the row's site) see at ``level``: within reach and inside the sector. Returns (row, start,
    end): the row each part is of, and metres along its edge."""
    r = world.reach_m[cam, level]
    h2, t0 = sub.h2[rows], sub.t0[rows]
    half = np.sqrt(np.maximum(r * r - h2, 0.0))
    lo = np.maximum(sub.lo[rows], t0 - half)
    hi = np.minimum(sub.hi[rows], t0 + half)
    within = h2 < r * r
    aim, sector = world.aim_deg[cam], world.sector_deg[cam]
    rx, ry, ux, uy = sub.rx[rows], sub.ry[rows], sub.ux[rows], sub.uy[rows]
    narrow = sector <= 180.0
    wide = (sector > 180.0) & (sector < 360.0)
    # a sector of at most 180 degrees: one interval
    w_lo, w_hi = wedge_interval(aim, sector / 2.0, rx, ry, ux, uy)
    a_lo = np.where(narrow, np.maximum(lo, w_lo), lo)
    a_hi = np.where(narrow, np.minimum(hi, w_hi), hi)
    # wider: the segment less the blind wedge, centred opposite the aim
    b_lo, b_hi = wedge_interval(aim + 180.0, (360.0 - sector) / 2.0, rx, ry, ux, uy)
    blind = wide & (b_hi > b_lo) & (b_hi > lo) & (b_lo < hi)
    a_hi = np.where(blind, np.minimum(hi, b_lo), a_hi)
    second_lo = np.where(blind, np.maximum(lo, b_hi), np.inf)
    parts_lo = np.r_[a_lo, second_lo]
    parts_hi = np.r_[a_hi, np.where(blind, hi, -np.inf)]
    ok = np.r_[within, within] & (parts_hi > parts_lo)
    row = np.r_[rows, rows][ok]
    part = np.r_[np.arange(len(rows)), np.arange(len(rows))][ok]
    return row, part, sub.offset[row] + parts_lo[ok], sub.offset[row] + parts_hi[ok]


def _expand(ptr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR ``ptr`` and the groups ``which`` (repeats allowed): every member's index, and
    the position in ``which`` it came from."""
    start, stop = ptr[which], ptr[which + 1]
    size = stop - start
    owner = np.repeat(np.arange(len(which)), size)
    members = np.repeat(start, size) + (
        np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    )
    return members.astype(np.int64), owner


def world_pieces(
    geometry: WorldGeometry, world: World, count: np.ndarray | None = None
) -> tuple[CoveragePieces, np.ndarray]:
    """The pieces of every edge each camera site's cameras see in ``world``, at each level
    (a piece per camera: two cameras of a site may see the same stretch), and each piece's
    weight in camera-metres (its camera's share of the site's ``count``, default the
    coverage's counts)."""
    base = geometry.base
    count = base.cameras.count if count is None else np.asarray(count, float)
    p = base.pieces
    kept_sites = sites_kept(world, base.level_range_m)
    kept = kept_sites[p.camera, p.level]
    parts = [(p.edge[kept], p.camera[kept], p.level[kept], p.start_m[kept], p.end_m[kept])]
    weights = [count[p.camera[kept]]]
    sub = geometry.sub
    share = camera_weights(world, count)
    for level in range(len(LEVELS)):
        cut = world.working & ~kept_sites[world.site, level] & (world.reach_m[:, level] > 0)
        cams = np.flatnonzero(cut)
        rows, owner = _expand(geometry.sub_ptr[level], world.site[cams])
        if len(rows) == 0:
            continue
        row, part, start, end = cut_pieces(sub, world, level, rows, cams[owner])
        parts.append(
            (sub.edge[row], sub.camera[row], np.full(len(row), level, np.int8), start, end)
        )
        weights.append(share[cams[owner[part]]])
    edge, camera, lvl, start, end = (np.concatenate(k) for k in zip(*parts))
    weight = np.concatenate(weights)
    order = np.lexsort((start, camera, lvl, edge))
    pieces = CoveragePieces(
        edge[order].astype(np.int32),
        camera[order].astype(np.int32),
        lvl[order].astype(np.int8),
        start[order].astype(float),
        end[order].astype(float),
    )
    return pieces, weight[order]


def world_coverage(
    geometry: WorldGeometry, world: World, count: np.ndarray | None = None
) -> Coverage:
    """The coverage of a world: its pieces, per-edge exposure (``count``: the sites' counts,
    default the coverage's) and first stretch in view per edge. Its ``level_range_m`` is each
    site's longest reach among its working cameras."""
    base = geometry.base
    cams = base.cameras if count is None else base.cameras.with_counts(count)
    pieces, weight = world_pieces(geometry, world, cams.count)
    edges = edge_exposure(pieces, geometry.n_edges, cams.count, base.public, piece_weight=weight)
    reach = np.zeros_like(base.level_range_m)
    for level in range(len(LEVELS)):
        np.maximum.at(
            reach[:, level], world.site, np.where(world.working, world.reach_m[:, level], 0)
        )
    return Coverage(
        cams,
        reach,
        base.public,
        pieces,
        edges,
        first_seen_per_edge(pieces, geometry.n_edges),
        base.visibility,
        None,
    )


def world_sees(
    pairs: PointPairs, world: World, base_range_m: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which (point, camera site) pairs a world's cameras see at each level ((n_pairs, 3)),
    and how many of the site's cameras (by count) see the point."""
    kept = sites_kept(world, base_range_m)[pairs.camera]
    order = np.argsort(world.site, kind="stable")
    ptr = np.searchsorted(world.site[order], np.arange(len(base_range_m) + 1))
    members, owner = _expand(ptr, pairs.camera)
    cam = order[members]
    wedge = in_wedge(world.aim_deg[cam], world.sector_deg[cam], pairs.dx[owner], pairs.dy[owner])
    sees_cam = (
        pairs.sees[owner]
        & (pairs.dist[owner, None] <= world.reach_m[cam])
        & wedge[:, None]
        & world.working[cam, None]
    )
    n = len(pairs.camera)
    cut = np.stack(
        [np.bincount(owner, weights=sees_cam[:, k], minlength=n) > 0 for k in range(len(LEVELS))],
        axis=1,
    )
    weighted = np.bincount(
        owner, weights=camera_weights(world, count)[cam] * sees_cam[:, 0], minlength=n
    )
    sees = np.where(kept, pairs.sees, cut)
    pair_count = np.where(kept[:, 0], count[pairs.camera], weighted)
    return sees, pair_count


def world_points(geometry: WorldGeometry, world: World, coverage: Coverage) -> PointExposure:
    """What standing at each of the scenario's standing points exposes one to in ``world``
    (``coverage``: the world's, for the sites' counts)."""
    pairs = geometry.points
    if pairs is None:
        raise ValueError("this world geometry was prepared without standing points")
    count = coverage.cameras.count
    sees, pair_count = world_sees(pairs, world, geometry.base.level_range_m, count)
    return points_from_pairs(pairs, sees, count, coverage.public, pair_count)
