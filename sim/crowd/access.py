"""The first and last metres: straight walks between subway exits or standing points and the
walk network, as virtual edges numbered after the network's (the walkers read them like any
edge, so the simulation needs no special case)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import substring

from sim.city.network import WalkNetwork
from sim.exposure.coverage import Coverage, coverage_of_lines
from sim.exposure.pieces import CoveragePieces, edge_exposure

# Highway tag the virtual edges take for walking widths (crowding): a sidewalk.
ACCESS_HIGHWAY = "footway"


@dataclass(frozen=True)
class Access:
    """Virtual edges: ``geom[i]`` is edge ``n_network + i``.

    Per exit (rows of the exits given): ``exit_out`` walks from the exit to its join node,
    ``exit_back`` from the join node to the exit. Per standing point: ``stand_in`` walks from
    the site's node to the point, ``stand_out`` back.
    """

    n_network: int
    geom: np.ndarray
    exit_node: np.ndarray
    exit_out: np.ndarray
    exit_back: np.ndarray
    stand_xy: np.ndarray
    stand_in: np.ndarray
    stand_out: np.ndarray

    @property
    def length_m(self) -> np.ndarray:
        return shapely.length(self.geom)


def exit_connectors(
    network: WalkNetwork, xy: np.ndarray, dist_to_site: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each point: the node its walk joins and the line from the point to it.

    The line runs straight to the nearest point P of the nearest edge (the edge is split
    there), then along the edge to one of its ends: the end with the shorter walk to the
    site when ``dist_to_site`` (metres from each node) is given, else the nearer along the
    edge.
    """
    tree = shapely.STRtree(network.edge_geom)
    points = shapely.points(xy)
    (pt, edge), _ = tree.query_nearest(points, return_distance=True, all_matches=False)
    edge = edge[np.argsort(pt, kind="stable")]
    geom = network.edge_geom[edge]
    length = network.edge_length_m[edge]
    along = shapely.line_locate_point(geom, points)
    if dist_to_site is None:
        to_v = along > length / 2
    else:
        via_u = along + dist_to_site[network.edge_u[edge]]
        via_v = (length - along) + dist_to_site[network.edge_v[edge]]
        to_v = via_v < via_u
    node = np.where(to_v, network.edge_v[edge], network.edge_u[edge]).astype(np.int64)
    lines = np.empty(len(xy), dtype=object)
    for i in range(len(xy)):
        if to_v[i]:
            part = substring(geom[i], along[i], length[i])
        else:
            part = substring(geom[i], 0.0, along[i]).reverse()
        tail = shapely.get_coordinates(part)
        coords = np.r_[xy[i : i + 1], tail] if len(tail) else np.r_[xy[i : i + 1], xy[i : i + 1]]
        lines[i] = shapely.LineString(_drop_repeats(coords))
    return node, lines


def _drop_repeats(coords: np.ndarray) -> np.ndarray:
    keep = np.r_[True, np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)]
    out = coords[keep]
    return out if len(out) >= 2 else np.r_[out, out]


def build_access(
    network: WalkNetwork,
    exit_xy: np.ndarray,
    exit_line: np.ndarray,
    exit_node: np.ndarray,
    site_node: int,
    stand_xy: np.ndarray,
) -> Access:
    """Virtual edges for exits (given their lines to the network) and standing points (a
    straight line from the site's node)."""
    node_xy = np.array([network.node_x[site_node], network.node_y[site_node]])
    stand_lines = shapely.linestrings(
        np.stack([np.broadcast_to(node_xy, stand_xy.shape), stand_xy], axis=1)
    )
    n_exit, n_stand = len(exit_line), len(stand_xy)
    geom = np.concatenate(
        [
            exit_line,
            np.array([g.reverse() for g in exit_line], dtype=object),
            stand_lines,
            np.array([g.reverse() for g in stand_lines], dtype=object),
        ]
    ).astype(object)
    base = network.n_edges
    idx = np.arange(base, base + len(geom))
    return Access(
        n_network=base,
        geom=geom,
        exit_node=np.asarray(exit_node, np.int64),
        exit_out=idx[:n_exit],
        exit_back=idx[n_exit : 2 * n_exit],
        stand_xy=stand_xy,
        stand_in=idx[2 * n_exit : 2 * n_exit + n_stand],
        stand_out=idx[2 * n_exit + n_stand :],
    )


def compose_legs(
    pool: list[np.ndarray],
    out_base: np.ndarray,
    back_base: np.ndarray,
    origin: np.ndarray,
    back_exit: np.ndarray,
    stand: np.ndarray,
    access: Access,
    leave_from_stand: bool,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each protester's legs with their first and last metres, as routes of a new pool.

    Out: exit -> network route -> standing point. Back (``back_base[i] >= 0``): standing point
    (if ``leave_from_stand``) -> network route -> exit ``back_exit[i]``. Protesters sharing
    the same legs share one route.
    """
    routes: list[np.ndarray] = []
    index: dict[tuple, int] = {}

    def add(key: tuple, parts: list[np.ndarray]) -> int:
        if key not in index:
            index[key] = len(routes)
            routes.append(np.concatenate(parts).astype(np.int64))
        return index[key]

    n = len(origin)
    out = np.empty(n, np.int64)
    back = np.full(n, -1, np.int64)
    for i in range(n):
        o, k, r = int(origin[i]), int(stand[i]), int(out_base[i])
        out[i] = add(
            ("out", r, o, k),
            [access.exit_out[o : o + 1], pool[r], access.stand_in[k : k + 1]],
        )
        b = int(back_base[i])
        if b >= 0:
            e = int(back_exit[i])
            first = access.stand_out[k : k + 1] if leave_from_stand else np.zeros(0, np.int64)
            back[i] = add(
                ("back", b, e, k if leave_from_stand else -1),
                [first, pool[b], access.exit_back[e : e + 1]],
            )
    return routes, out, back


def extend_coverage(coverage: Coverage, access: Access) -> Coverage:
    """The network's coverage followed by the virtual edges' (exact, by the same visibility
    model: disk chords, or the cameras' visible areas)."""
    extra = coverage_of_lines(coverage, access.geom)
    p, q = coverage.pieces, extra.pieces
    pieces = CoveragePieces(
        np.r_[p.edge, q.edge + access.n_network].astype(np.int32),
        np.r_[p.camera, q.camera].astype(np.int32),
        np.r_[p.level, q.level].astype(np.int8),
        np.r_[p.start_m, q.start_m],
        np.r_[p.end_m, q.end_m],
    )
    n_total = access.n_network + len(access.geom)
    edges = edge_exposure(pieces, n_total, coverage.cameras.count, coverage.public)
    return Coverage(
        coverage.cameras,
        coverage.level_range_m,
        coverage.public,
        pieces,
        edges,
        np.r_[coverage.first_seen_m[: access.n_network], extra.first_seen_m],
        coverage.visibility,
        coverage.areas,
    )
