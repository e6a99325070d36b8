"""How a replication used the streets: traversals and seconds in view per edge, protesters per
route. Pure numpy: arrays of a plan and an outcome in, per-edge and per-route arrays out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.crowd.model import Outcome, Plan

# Legs of a route in the pool of a plan.
LEG_TO_SITE, LEG_BACK, LEG_MARCH = "to site", "back to an exit", "march"


@dataclass(frozen=True)
class RouteUse:
    """Protesters assigned to each distinct route of one replication.

    ``edges[i]`` is route i's edge indices (in walking order), ``leg[i]`` one of the ``LEG_*``
    names, ``origin[i]`` the origin exit index whose protesters take it (-1 for the march),
    ``protesters[i]`` how many protesters were assigned to it.
    """

    edges: list[tuple[int, ...]]
    leg: list[str]
    origin: np.ndarray
    protesters: np.ndarray


def street_seconds_in_view(
    outcome: Outcome, edge_length_m: np.ndarray, edge_seen_m: np.ndarray
) -> np.ndarray:
    """Protester-seconds in view of a camera on each edge: for every traversal, the metres of
    the edge in view divided by the walker's speed on it, summed per edge."""
    if outcome.flows is not None:  # summed as the run went, in the same order
        return outcome.flows.edge_seen_s
    speed = outcome.trav_speed_mps
    seen_s = np.divide(
        edge_seen_m[outcome.trav_edge],
        speed,
        out=np.zeros(len(speed)),
        where=speed > 0,
    )
    return np.bincount(outcome.trav_edge, weights=seen_s, minlength=len(edge_length_m))


def route_use(plan: Plan) -> RouteUse:
    """Protesters assigned to each route of ``plan``'s pool, per leg and origin exit.

    A pool route used as more than one leg (never the case in this model's plans, whose legs
    are distinct arrays) would be counted once per leg.
    """
    n_routes = len(plan.routes)
    origin = plan.origin if plan.origin is not None else np.full(len(plan.depart_s), -1)
    edges, leg, orig, count = [], [], [], []
    for name, assigned in ((LEG_TO_SITE, plan.out_route), (LEG_BACK, plan.back_route)):
        ok = assigned >= 0
        pairs, counts = np.unique(
            np.c_[assigned[ok], origin[ok]].reshape(-1, 2), axis=0, return_counts=True
        )
        for (r, o), c in zip(pairs, counts):
            edges.append(tuple(int(e) for e in plan.routes[r]))
            leg.append(name)
            orig.append(int(o))
            count.append(int(c))
    if 0 <= plan.march_route < n_routes:
        edges.append(tuple(int(e) for e in plan.routes[plan.march_route]))
        leg.append(LEG_MARCH)
        orig.append(-1)
        count.append(len(plan.depart_s))
    return RouteUse(edges, leg, np.array(orig, np.int64), np.array(count, np.int64))
