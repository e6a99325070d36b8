"""A lean build of osmnx's walk network from OpenStreetMap XML: the same nodes, edges, classes
and geometry in the same order, without networkx.

osmnx reads the file into Python dictionaries, makes a networkx graph, keeps its largest weakly
connected component, simplifies it, keeps its largest strongly connected component and projects
it through GeoDataFrames; most of its 15 s go to networkx and pandas bookkeeping. This module
takes the same steps on plain dictionaries that keep networkx's orders (nodes as first added,
each node's successors as first added, parallel edges by key), reading with expat only what
the network uses (nodes' coordinates, ways' node references and ``highway`` tags), and
projects through GeoPandas as osmnx does. Where osmnx's result would depend on an order this
module does not model (two largest components of one size, a component under half the graph,
nodes left without edges) or osmnx would fail (a way naming a node the file lacks, a pattern
it cannot simplify), it raises :class:`NotLean` and the caller builds with osmnx instead.

``tests/data/test_osm_lean.py`` holds it to osmnx's build, array for array.
"""

from __future__ import annotations

import bz2
import gzip
import logging
from itertools import groupby, pairwise
from pathlib import Path
from xml.parsers import expat

import numpy as np
import shapely

from sim.city.network import HIGHWAY_RANK, WalkNetwork, merged_name
from sim.geo import PROJECTED_CRS

log = logging.getLogger(__name__)

# osmnx's graphs start in this CRS (osmnx.settings.default_crs)
_LONLAT_CRS = "epsg:4326"
_RANK = {h: i for i, h in enumerate(HIGHWAY_RANK)}


class NotLean(Exception):
    """The lean build does not model this file; build it with osmnx."""


def _open(path: Path):
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_osm(path: Path) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[list, object]]]:
    """The file's nodes (id: lon, lat) and ways (id: node ids without consecutive repeats,
    ``highway`` or None), keyed as osmnx keys them: a repeated id keeps its first place and
    its last value."""
    nodes: dict[int, tuple[float, float]] = {}
    ways: dict[int, tuple[list, object]] = {}
    state: dict = {
        "kind": None,
        "id": 0,
        "lonlat": None,
        "refs": None,
        "highway": None,
        "name": None,
    }

    def start(name, attrs):
        if name == "node":
            state["kind"], state["id"] = "node", int(attrs["id"])
            state["lonlat"] = (float(attrs["lon"]), float(attrs["lat"]))
        elif name == "way":
            state.update(kind="way", id=int(attrs["id"]), refs=[], highway=None, name=None)
        elif name == "relation":
            state["kind"] = "relation"
        elif name == "nd":
            if state["kind"] == "way":
                state["refs"].append(int(attrs["ref"]))
        elif name == "tag":
            if state["kind"] is None:
                raise NotLean("a tag outside any element")
            if state["kind"] == "way" and attrs["k"] == "highway":
                state["highway"] = attrs["v"]
            elif state["kind"] == "way" and attrs["k"] == "name":
                state["name"] = attrs["v"]

    def end(name):
        if name == "node":
            nodes[state["id"]] = state["lonlat"]
        elif name == "way":
            refs = [ref for ref, _ in groupby(state["refs"])]
            ways[state["id"]] = (refs, state["highway"], state["name"])
        if name in ("node", "way", "relation"):
            state["kind"] = None

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with _open(path) as handle:
        parser.ParseFile(handle)
    return nodes, ways


class _Graph:
    """A directed multigraph kept as networkx keeps one: ``succ[u][v]`` the list of edges u to
    v (by key), ``pred[v][u]`` their number; dictionaries keep the order of first insertion."""

    def __init__(self, nodes):
        self.succ: dict[int, dict[int, list]] = {n: {} for n in nodes}
        self.pred: dict[int, dict[int, int]] = {n: {} for n in nodes}

    def add_edge(self, u, v, data) -> None:
        if u not in self.succ or v not in self.succ:
            raise NotLean("a way names a node the file does not hold")
        self.succ[u].setdefault(v, []).append(data)
        self.pred[v][u] = self.pred[v].get(u, 0) + 1

    def remove_nodes(self, gone) -> None:
        for n in gone:
            for v in self.succ[n]:
                if v != n:
                    del self.pred[v][n]
            for u in self.pred[n]:
                if u != n:
                    del self.succ[u][n]
            del self.succ[n], self.pred[n]

    def keep_only(self, kept) -> None:
        """The subgraph induced by ``kept`` (at least half the nodes), in the same orders."""
        if 2 * len(kept) < len(self.succ):
            raise NotLean("the largest component holds under half the nodes")
        self.remove_nodes([n for n in self.succ if n not in kept])

    def weak_components(self):
        """networkx's weakly_connected_components, in its order (by first node)."""
        seen: set = set()
        for v in self.succ:
            if v in seen:
                continue
            component = {v}
            frontier = [v]
            while frontier:
                nxt = []
                for n in frontier:
                    for w in (*self.succ[n], *self.pred[n]):
                        if w not in component:
                            component.add(w)
                            nxt.append(w)
                frontier = nxt
            seen |= component
            yield component

    def strong_components(self) -> list[set]:
        """The strongly connected components (Tarjan's algorithm, iterative)."""
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set = set()
        stack: list = []
        out = []
        for root in self.succ:
            if root in index:
                continue
            index[root] = low[root] = len(index)
            stack.append(root)
            on_stack.add(root)
            work = [(root, iter(self.succ[root]))]
            while work:
                v, children = work[-1]
                for w in children:
                    if w not in index:
                        index[w] = low[w] = len(index)
                        stack.append(w)
                        on_stack.add(w)
                        work.append((w, iter(self.succ[w])))
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                else:
                    work.pop()
                    if work:
                        parent = work[-1][0]
                        low[parent] = min(low[parent], low[v])
                    if low[v] == index[v]:
                        component = set()
                        while True:
                            w = stack.pop()
                            on_stack.discard(w)
                            component.add(w)
                            if w == v:
                                break
                        out.append(component)
        return out

    def is_endpoint(self, n) -> bool:
        """osmnx.simplification._is_endpoint without its optional rules."""
        succ, pred = self.succ[n], self.pred[n]
        neighbours = set(pred) | set(succ)
        if n in neighbours:
            return True
        out_degree = sum(len(keys) for keys in succ.values())
        in_degree = sum(pred.values())
        if out_degree == 0 or in_degree == 0:
            return True
        return not (len(neighbours) == 2 and (out_degree + in_degree) in (2, 4))


def _keep_largest(graph: _Graph, components: list[set]) -> None:
    """osmnx.truncate.largest_component: keep the largest component, if there are several."""
    if len(components) <= 1:
        return
    sizes = sorted((len(c) for c in components), reverse=True)
    if sizes[0] == sizes[1]:
        raise NotLean("two largest components of one size")
    graph.keep_only(max(components, key=len))


def _build_path(graph: _Graph, endpoint, endpoint_successor, endpoints) -> list:
    """osmnx.simplification._build_path."""
    succ = graph.succ
    path = [endpoint, endpoint_successor]
    for this_successor in succ[endpoint_successor]:
        successor = this_successor
        if successor not in path:
            path.append(successor)
            while successor not in endpoints:
                successors = [n for n in succ[successor] if n not in path]
                if len(successors) == 1:
                    successor = successors[0]
                    path.append(successor)
                elif len(successors) == 0:
                    if endpoint in succ[successor]:
                        return [*path, endpoint]
                    log.warning("Unexpected simplify pattern handled near %s", successor)
                    return path
                else:
                    raise NotLean(f"impossible simplify pattern near {successor}")
            return path
    return path


def _simplify(graph: _Graph) -> None:
    """osmnx.simplification.simplify_graph with its defaults. An edge's data is (classes,
    path): a highway value, None (no tag) or the set of a merged edge's values; the merged
    edge's nodes (None for an edge of the file)."""
    endpoints = {n for n in graph.succ if graph.is_endpoint(n)}  # a set, iterated as osmnx does
    removed: list = []
    added: list = []
    for endpoint in endpoints:
        for successor in graph.succ[endpoint]:
            if successor in endpoints:
                continue
            path = _build_path(graph, endpoint, successor, endpoints)
            classes, names = set(), set()
            for u, v in pairwise(path):
                first = graph.succ[u][v][0]  # the first parallel edge's, as osmnx takes it
                if first[0] is not None:
                    classes.add(first[0])
                if first[2] is not None:
                    names.add(first[2])
            removed.extend(path[1:-1])
            added.append((path[0], path[-1], (classes or None, path, names or None)))
    for u, v, data in added:
        graph.add_edge(u, v, data)
    graph.remove_nodes(set(removed))
    rings: set = set()
    for component in graph.weak_components():
        if not any(graph.is_endpoint(n) for n in component):
            rings |= component
    graph.remove_nodes(rings)


def _class(value) -> str:
    """sim.city.network.merged_highway of the value osmnx would hold for this edge."""
    if value is None:
        return "unclassified"
    if isinstance(value, set):
        last = len(_RANK)
        return min((str(v) for v in value), key=lambda h: (_RANK.get(h, last), h))
    return str(value)


def _graph_of(path: Path, step) -> tuple[_Graph, dict[int, tuple[float, float]]]:
    """osmnx's graph of the file, after its components and simplification."""
    step.stage("reading OSM XML")
    nodes, ways = read_osm(path)
    step.advance()
    step.stage("components and simplification")
    if not nodes and not ways:
        raise NotLean("no nodes and no ways")
    graph = _Graph(nodes)
    for refs, highway, name in ways.values():
        edges = list(pairwise(refs))
        for u, v in edges:
            graph.add_edge(u, v, (highway, None, name))
        for u, v in edges:
            graph.add_edge(v, u, (highway, None, name))
    if not graph.succ:
        raise NotLean("an empty graph")
    _keep_largest(graph, list(graph.weak_components()))
    _simplify(graph)
    if not graph.succ:
        raise NotLean("nothing left after simplification")
    _keep_largest(graph, graph.strong_components())
    step.advance()
    return graph, nodes


def _projected(geoms: np.ndarray) -> np.ndarray:
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=_LONLAT_CRS).to_crs(PROJECTED_CRS).to_numpy()


def build_lean(path: Path, source_sha256: str, step=None) -> WalkNetwork:
    """The walk network osmnx builds from the OSM XML file ``path`` (``graph_from_xml`` with
    ``bidirectional=True``, then :func:`sim.data.osm.finish_graph`), built without networkx.

    Raises
    ------
    NotLean
        The file needs osmnx (see the module's docstring).
    """
    from sim import progress

    step = step if step is not None else progress.silent()
    graph, nodes = _graph_of(path, step)
    step.stage("projecting to UTM 18N")
    # osmnx.project_graph rebuilds the graph from its edges: nodes in order of first appearance
    # as an edge's u or v; each node's edges in their order.
    order: dict[int, None] = {}
    for u, nbrs in graph.succ.items():
        if nbrs:
            order.setdefault(u)
            for v in nbrs:
                order.setdefault(v)
    if len(order) != len(graph.succ):
        raise NotLean("nodes without edges")
    index = {osmid: i for i, osmid in enumerate(order)}
    points = _projected(shapely.points(np.array([nodes[n] for n in order], float)))
    node_x, node_y = shapely.get_x(points), shapely.get_y(points)

    us, vs, classes, runs, names = [], [], [], [], []
    for u in order:
        for v, edges in graph.succ[u].items():
            for highway, run, name in edges:
                us.append(index[u])
                vs.append(index[v])
                classes.append(_class(highway))
                runs.append(run)
                names.append(merged_name(sorted(name) if isinstance(name, set) else name))
    edge_u, edge_v = np.array(us, np.int32), np.array(vs, np.int32)
    ends = np.c_[node_x[edge_u], node_y[edge_u], node_x[edge_v], node_y[edge_v]]
    geom = shapely.linestrings(ends.reshape(-1, 2, 2))
    merged = np.flatnonzero([run is not None for run in runs])
    if len(merged):
        sizes = np.array([len(runs[i]) for i in merged])
        coords = np.array([nodes[n] for i in merged for n in runs[i]], float)
        lines = _projected(
            shapely.linestrings(coords, indices=np.repeat(np.arange(len(sizes)), sizes))
        )
        first = shapely.points(shapely.get_coordinates(lines)[np.r_[0, np.cumsum(sizes)[:-1]]])
        at_u = shapely.points(node_x[edge_u[merged]], node_y[edge_u[merged]])
        at_v = shapely.points(node_x[edge_v[merged]], node_y[edge_v[merged]])
        flip = shapely.distance(first, at_v) < shapely.distance(first, at_u)
        lines[flip] = shapely.reverse(lines[flip])
        geom[merged] = lines
    step.advance()
    return WalkNetwork(
        node_osmid=np.fromiter(order, dtype=np.int64, count=len(order)),
        node_x=node_x,
        node_y=node_y,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=shapely.length(geom),
        edge_highway=np.array(classes, dtype=object),
        edge_geom=geom,
        source_sha256=source_sha256,
        edge_name=np.array(names, dtype=object),
    )
