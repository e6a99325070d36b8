"""The limit: walk exposure of a Plan's routes in one vectorised numpy pass, with no simulation.

Without crowding a protester's walk exposure is the sum, over every edge of its legs, of the
edge's coverage (metres) divided by its speed on that leg: a gather and a segmented sum. Any
simulation must at least do this work, so its time bounds the model's from below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.crowd.model import Plan, Streets


@dataclass(frozen=True)
class WalkExposure:
    """Per-protester walk exposure: seconds in view and camera-seconds; edge traversals."""

    seen_s: np.ndarray
    camera_s: np.ndarray
    traversals: int


def _legs(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every walked leg: its protester, its route in the pool and its speed (m/s)."""
    n = len(plan.depart_s)
    agents = np.arange(n)
    walks = plan.out_route >= 0  # protesters without a route never leave their exit
    leg_agent = [agents[walks]]
    leg_route = [plan.out_route[walks]]
    leg_speed = [plan.speed_mps[walks]]
    if plan.march_route >= 0:
        leg_agent.append(agents[walks])
        leg_route.append(np.full(walks.sum(), plan.march_route))
        leg_speed.append(np.full(walks.sum(), plan.march_speed_mps))
    back = walks & (plan.back_route >= 0)
    leg_agent.append(agents[back])
    leg_route.append(plan.back_route[back])
    leg_speed.append(plan.speed_mps[back])
    return np.concatenate(leg_agent), np.concatenate(leg_route), np.concatenate(leg_speed)


def walk_exposure(plan: Plan, streets: Streets) -> WalkExposure:
    """Seen seconds and camera-seconds of each protester's walk at its free speed."""
    n = len(plan.depart_s)
    leg_agent, leg_route, leg_speed = _legs(plan)
    route_len = np.array([len(r) for r in plan.routes], np.int64)
    route_start = np.concatenate(([0], np.cumsum(route_len)[:-1]))
    flat = np.concatenate(plan.routes).astype(np.int64) if plan.routes else np.zeros(0, np.int64)
    # one row per (leg, edge): index into the concatenated route pool
    count = route_len[leg_route]
    leg_first = np.cumsum(count) - count
    total = int(count.sum())
    pos = np.arange(total) - np.repeat(leg_first, count) + np.repeat(route_start[leg_route], count)
    edges = flat[pos]
    walked = count > 0  # reduceat would return a neighbour's value for an empty segment
    out = []
    for per_edge_m in (streets.seen_m, streets.camera_m):
        per_leg_m = np.zeros(len(count))
        if total:
            per_leg_m[walked] = np.add.reduceat(per_edge_m[edges], leg_first[walked])
        out.append(np.bincount(leg_agent, weights=per_leg_m / leg_speed, minlength=n))
    return WalkExposure(out[0], out[1], total)
