"""The walk network as arrays: nodes, edges and their geometry; snapping and routing matrices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from sim.geo import PROJECTED_CRS, lonlat_to_xy, pack_wkb, unpack_wkb

log = logging.getLogger(__name__)

NETWORK_TYPE = "walk"
# Bump when the arrays below change meaning, so that stale caches are rebuilt.
NETWORK_CACHE_VERSION = 5  # 5: edges keep their OSM street name (edge_name)
# The parts of a network build, as a progress report names them.


@dataclass(frozen=True)
class WalkNetwork:
    """A directed walk network in metres (UTM 18N), as flat arrays.

    Nodes are indexed 0..n_nodes-1 and edges 0..n_edges-1. Every edge's geometry runs from
    its ``u`` node to its ``v`` node; ``edge_length_m`` is that geometry's projected length.
    ``edge_name`` is the street's OSM name, kept for labels on maps (routing never reads it).
    """

    def names(self) -> np.ndarray:
        """Each edge's street name ("" where OSM gives none, or the network kept none)."""
        if self.edge_name is None:
            return np.full(self.n_edges, "", dtype=object)
        return self.edge_name

    node_osmid: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_highway: np.ndarray
    edge_geom: np.ndarray
    source_sha256: str
    crs: str = PROJECTED_CRS
    # OSM ``name`` of each edge's way ("" when it has none); None for a network built without
    edge_name: np.ndarray | None = None
    _tree: cKDTree | None = field(default=None, repr=False, compare=False)
    _edge_tree: shapely.STRtree | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def node_tree(self) -> cKDTree:
        """KD-tree over node positions (built once)."""
        if self._tree is None:
            object.__setattr__(self, "_tree", cKDTree(np.c_[self.node_x, self.node_y]))
        return self._tree

    def nearest_nodes(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and its distance (metres) for each point."""
        dist, idx = self.node_tree().query(np.c_[np.atleast_1d(x), np.atleast_1d(y)])
        return idx.astype(np.int64), dist

    def nearest_street(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each point, the node to walk from and the distance (metres) to the nearest street.

        The point is projected onto its nearest edge; the walk starts at that edge's end nearer
        along the edge, so a subway exit mid-block is 'on the network' at its sidewalk's
        distance, not at the distance of the nearest corner.
        """
        if self._edge_tree is None:
            object.__setattr__(self, "_edge_tree", shapely.STRtree(self.edge_geom))
        points = shapely.points(np.c_[np.atleast_1d(x), np.atleast_1d(y)])
        (pt, edge), dist = self._edge_tree.query_nearest(
            points, return_distance=True, all_matches=False
        )
        order = np.argsort(pt, kind="stable")
        edge, dist = edge[order], dist[order]
        along = shapely.line_locate_point(self.edge_geom[edge], points)
        nearer_start = along <= self.edge_length_m[edge] / 2
        node = np.where(nearer_start, self.edge_u[edge], self.edge_v[edge]).astype(np.int64)
        return node, dist

    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the nodes, metres."""
        return (
            float(self.node_x.min()),
            float(self.node_y.min()),
            float(self.node_x.max()),
            float(self.node_y.max()),
        )

    def routing_matrix(self, weight: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
        """Sparse node-by-node matrix of ``weight`` for Dijkstra, and the edge behind each entry.

        Parallel edges keep the lightest. Returns the matrix and ``pair_edge``: for entry k of
        the matrix in CSR order, the index of the edge it stands for.
        """
        order = np.lexsort((weight, self.edge_v, self.edge_u))
        u, v = self.edge_u[order], self.edge_v[order]
        first = np.ones(len(order), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        chosen = order[first]
        # Zero weights vanish in scipy's sparse format; a tiny positive floor keeps the edge.
        w = np.maximum(weight[chosen], 1e-9)
        matrix = csr_matrix(
            (w, (self.edge_u[chosen], self.edge_v[chosen])), shape=(self.n_nodes, self.n_nodes)
        )
        matrix.sort_indices()
        # csr_matrix sorts by (row, col), which is how `chosen` is already ordered.
        return matrix, chosen

    def edges_between(self, path_nodes: np.ndarray, pair_edge: np.ndarray) -> np.ndarray:
        """Edge indices joining consecutive nodes of ``path_nodes`` (as chosen by routing)."""
        u, v = path_nodes[:-1], path_nodes[1:]
        keys = self.edge_u[pair_edge].astype(np.int64) * self.n_nodes + self.edge_v[pair_edge]
        pos = np.searchsorted(keys, u.astype(np.int64) * self.n_nodes + v)
        return pair_edge[pos]


# OpenStreetMap's highway classes, the most major first (a link just after its road).
HIGHWAY_RANK = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "pedestrian",
    "track",
    "bridleway",
    "cycleway",
    "footway",
    "path",
    "steps",
)
_HIGHWAY_ORDER = {h: i for i, h in enumerate(HIGHWAY_RANK)}


def merged_highway(value) -> str:
    """The class of an edge osmnx merged from ways of several classes: the most major of them.

    osmnx lists such classes in the order of a Python set, which changes from one process to
    the next; taking the first of the list gave the same file different classes on different
    builds. Classes outside :data:`HIGHWAY_RANK` come after it, in alphabetical order.
    """
    if not isinstance(value, list):
        return str(value)
    last = len(_HIGHWAY_ORDER)
    return min((str(v) for v in value), key=lambda h: (_HIGHWAY_ORDER.get(h, last), h))


def merged_name(value) -> str:
    """The name of an edge osmnx merged from ways of several names: the first in alphabetical
    order (osmnx lists them in the order of a Python set); "" for none."""
    if isinstance(value, list):
        names = sorted(str(v) for v in value if v)
        return names[0] if names else ""
    return "" if value is None or value != value else str(value)


def network_from_graph(graph, source_sha256: str) -> WalkNetwork:
    """Flatten a projected osmnx MultiDiGraph into a :class:`WalkNetwork`."""
    osmids = np.fromiter(graph.nodes, dtype=np.int64, count=len(graph))
    index = {osmid: i for i, osmid in enumerate(osmids.tolist())}
    node_x = np.array([graph.nodes[n]["x"] for n in osmids.tolist()], float)
    node_y = np.array([graph.nodes[n]["y"] for n in osmids.tolist()], float)
    us, vs, highways, names, geoms = [], [], [], [], []
    for u, v, data in graph.edges(data=True):
        iu, iv = index[u], index[v]
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([(node_x[iu], node_y[iu]), (node_x[iv], node_y[iv])])
        else:
            start = shapely.Point(geom.coords[0])
            if start.distance(shapely.Point(node_x[iv], node_y[iv])) < start.distance(
                shapely.Point(node_x[iu], node_y[iu])
            ):
                geom = geom.reverse()
        highway = merged_highway(data.get("highway", "unclassified"))
        us.append(iu)
        vs.append(iv)
        highways.append(str(highway))
        names.append(merged_name(data.get("name")))
        geoms.append(geom)
    edge_geom = np.array(geoms, dtype=object)
    return WalkNetwork(
        node_osmid=osmids,
        node_x=node_x,
        node_y=node_y,
        edge_u=np.array(us, np.int32),
        edge_v=np.array(vs, np.int32),
        edge_length_m=shapely.length(edge_geom),
        edge_highway=np.array(highways, dtype=object),
        edge_geom=edge_geom,
        source_sha256=source_sha256,
        edge_name=np.array(names, dtype=object),
    )


def network_arrays(network: WalkNetwork) -> dict[str, np.ndarray]:
    """The network as plain arrays (for the cache: no Python objects, nothing that can run)."""

    geom = pack_wkb(network.edge_geom)
    return {
        "node_osmid": network.node_osmid,
        "node_x": network.node_x,
        "node_y": network.node_y,
        "edge_u": network.edge_u,
        "edge_v": network.edge_v,
        "edge_length_m": network.edge_length_m,
        "edge_highway": network.edge_highway.astype(str),
        "edge_name": network.names().astype(str),
        "edge_wkb": geom["wkb"],
        "edge_wkb_offsets": geom["offsets"],
        "source_sha256": np.array(network.source_sha256),
    }


def network_from_arrays(arrays: dict[str, np.ndarray]) -> WalkNetwork:
    """The network of :func:`network_arrays`."""

    return WalkNetwork(
        node_osmid=arrays["node_osmid"],
        node_x=arrays["node_x"],
        node_y=arrays["node_y"],
        edge_u=arrays["edge_u"],
        edge_v=arrays["edge_v"],
        edge_length_m=arrays["edge_length_m"],
        edge_highway=arrays["edge_highway"].astype(object),
        edge_geom=unpack_wkb(arrays["edge_wkb"], arrays["edge_wkb_offsets"]),
        source_sha256=str(arrays["source_sha256"]),
        edge_name=arrays["edge_name"].astype(object) if "edge_name" in arrays else None,
    )


def snap_points(
    network: WalkNetwork, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Project points and snap each to the nearest street of the network.

    Returns x, y (metres), the node to walk from and the distance to the nearest street
    (metres); see :meth:`WalkNetwork.nearest_street`.
    """
    x, y = lonlat_to_xy(lon, lat)
    node, dist = network.nearest_street(x, y)
    return x, y, node, dist
