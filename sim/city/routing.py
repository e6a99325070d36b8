"""Routes on the walk network: shortest, least exposed (capped detour) and stochastic choices."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.city.network import WalkNetwork
from sim.errors import RoutingError

log = logging.getLogger(__name__)

# Walking speed used to turn exposed metres into exposure seconds in route weights
# (Weidmann 1993 free-flow mean, as the scenario default).
REFERENCE_SPEED_MPS = 1.34
# least_exposed: the exposure weight is halved until the detour fits the cap; after this many
# halvings the plain shortest route is used.
MAX_LAMBDA_HALVINGS = 12


@dataclass(frozen=True)
class Tree:
    """A shortest-path tree towards (``towards=True``) or from one node, for one weight."""

    root: int
    dist: np.ndarray
    pred: np.ndarray
    pair_edge: np.ndarray
    towards: bool


def shortest_tree(network: WalkNetwork, weight: np.ndarray, root: int, towards: bool) -> Tree:
    """Dijkstra from ``root`` (``towards=False``) or to ``root`` over reversed edges."""
    matrix, pair_edge = network.routing_matrix(weight)
    if towards:
        matrix = matrix.T.tocsr()
    dist, pred = dijkstra(matrix, directed=True, indices=root, return_predecessors=True)
    return Tree(root, dist, pred, pair_edge, towards)


def tree_path_nodes(tree: Tree, node: int) -> np.ndarray:
    """Nodes of the tree's path between ``node`` and the root, in walking order."""
    if not np.isfinite(tree.dist[node]):
        raise RoutingError(f"node {node} cannot reach node {tree.root} on the walk network")
    nodes = [node]
    while nodes[-1] != tree.root:
        nodes.append(int(tree.pred[nodes[-1]]))
    path = np.array(nodes, np.int64)
    return path if tree.towards else path[::-1]


def tree_route(network: WalkNetwork, tree: Tree, node: int) -> np.ndarray:
    """Edge indices of the walk between ``node`` and the tree's root, in walking order."""
    nodes = tree_path_nodes(tree, node)
    if len(nodes) < 2:
        return np.zeros(0, np.int64)
    return network.edges_between(nodes, tree.pair_edge)


def shortest_routes(network: WalkNetwork, origins: np.ndarray, target: int) -> list[np.ndarray]:
    """Shortest (by length) route from each origin node to ``target``."""
    tree = shortest_tree(network, network.edge_length_m, target, towards=True)
    return [tree_route(network, tree, int(o)) for o in origins]


def least_exposed_routes(
    network: WalkNetwork,
    origins: np.ndarray,
    target: int,
    exposed_m: np.ndarray,
    exposure_weight: float,
    max_detour: float,
    towards: bool = True,
) -> list[np.ndarray]:
    """Least exposed route per origin: edge weight = length + lambda * exposure seconds.

    Routes run from each of ``origins`` to ``target`` (``towards=False``: from ``target`` to
    each of them, as a crowd dispersing).

    Exposure seconds are ``exposed_m / REFERENCE_SPEED_MPS``. Since the chosen route minimises
    length + lambda * exposure and the shortest route has the least length, its exposure is
    never above the shortest route's. A route longer than ``(1 + max_detour)`` times the
    shortest is replaced by the route for half the lambda, down to the shortest route itself.
    """
    base = shortest_tree(network, network.edge_length_m, target, towards=towards)
    shortest_len = base.dist[origins]
    routes: list[np.ndarray | None] = [None] * len(origins)
    lam = exposure_weight
    for _ in range(MAX_LAMBDA_HALVINGS):
        if lam <= 0:
            break
        weight = network.edge_length_m + lam * exposed_m / REFERENCE_SPEED_MPS
        tree = shortest_tree(network, weight, target, towards=towards)
        for i, origin in enumerate(origins):
            if routes[i] is not None:
                continue
            route = tree_route(network, tree, int(origin))
            if network.edge_length_m[route].sum() <= (1 + max_detour) * shortest_len[i] + 1e-6:
                routes[i] = route
        if all(r is not None for r in routes):
            break
        lam /= 2
    return [
        r if r is not None else tree_route(network, base, int(o)) for r, o in zip(routes, origins)
    ]


def stochastic_routes(
    network: WalkNetwork,
    origins: np.ndarray,
    target: int,
    rng: np.random.Generator,
    perturbation_sd: float,
    n_samples: int,
) -> list[list[np.ndarray]]:
    """``n_samples`` routes per origin, each shortest on randomly perturbed edge lengths.

    Each sample multiplies every edge's length by an independent log-normal factor
    exp(sd * Z - sd^2 / 2), Z standard normal (mean 1), so protesters spread over near-shortest
    alternatives the way route-choice models with random utility do (Dial's stochastic
    assignment). One Dijkstra per sample serves every origin.
    """
    samples: list[list[np.ndarray]] = [[] for _ in origins]
    for _ in range(n_samples):
        factor = np.exp(
            perturbation_sd * rng.standard_normal(network.n_edges) - perturbation_sd**2 / 2
        )
        tree = shortest_tree(network, network.edge_length_m * factor, target, towards=True)
        for i, origin in enumerate(origins):
            samples[i].append(tree_route(network, tree, int(origin)))
    return samples
