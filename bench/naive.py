"""Naive reference model, for measurement only: 1-second ticks, a camera query per walker per tick.

Written the way a time-stepped agent framework would do it (crowding off): each tick every
protester steps; a walking protester moves along its route polyline, finds its position there,
asks a spatial index for the cameras near it (an STRtree of camera points, predicate
``dwithin`` at the widest seen range), then tests each candidate's distance against that
camera's own seen range. Exposure is sampled at the middle of the stretch walked in the tick
and weighted by the seconds walked, so it converges on the model's exact per-edge integrals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from sim.crowd.model import Plan
from sim.exposure.coverage import Coverage
from sim.exposure.pieces import SEEN

TICK_S = 1.0


@dataclass(frozen=True)
class Cameras:
    """Active camera points in a spatial index, with their seen range (m) and camera count."""

    tree: shapely.STRtree
    x: np.ndarray
    y: np.ndarray
    seen_range_m: np.ndarray
    count: np.ndarray
    reach_m: float


def cameras_of(coverage: Coverage) -> Cameras:
    """The cameras of ``coverage`` that see anything, indexed for point queries."""
    rng = coverage.level_range_m[:, SEEN]
    keep = rng > 0
    cams = coverage.cameras
    x, y = cams.x[keep], cams.y[keep]
    return Cameras(
        shapely.STRtree(shapely.points(x, y)),
        x,
        y,
        rng[keep],
        cams.count[keep],
        float(rng[keep].max()) if keep.any() else 0.0,
    )


def route_line(edge_geom: np.ndarray, edges: np.ndarray) -> shapely.LineString | None:
    """A route's polyline: its edges' geometries joined end to start (metres)."""
    if len(edges) == 0:
        return None
    parts = [shapely.get_coordinates(edge_geom[e]) for e in edges.tolist()]
    coords = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
    return shapely.LineString(coords)


class Walker:
    """One protester: walk out, stay, (march,) walk back; stepped one tick at a time."""

    def __init__(self, depart_s: float, phases: list[tuple]):
        self.depart_s = depart_s
        self.phases = phases  # ("walk", line, length_m, speed_mps) or ("stay", s, until_s)
        self.phase = 0
        self.pos_m = 0.0
        self.stay_until_s = math.nan
        self.seen_s = 0.0
        self.camera_s = 0.0
        self.queries = 0

    @property
    def done(self) -> bool:
        return self.phase >= len(self.phases)

    def step(self, t0: float, t1: float, cams: Cameras) -> None:
        """Advance from ``t0`` to ``t1`` (seconds), sensing cameras on the stretch walked."""
        if self.depart_s >= t1:
            return
        now = max(t0, self.depart_s)
        while now < t1 and not self.done:
            kind, *args = self.phases[self.phase]
            if kind == "walk":
                line, length_m, speed = args
                remaining = length_m - self.pos_m
                dist = min(speed * (t1 - now), remaining)
                if dist > 0:
                    self.sense(line, self.pos_m + dist / 2, dist / speed, cams)
                if dist >= remaining:
                    now += remaining / speed
                    self.phase += 1
                    self.pos_m = 0.0
                else:
                    self.pos_m += dist
                    now = t1
            else:
                seconds, until_s = args
                if math.isnan(self.stay_until_s):
                    self.stay_until_s = now + seconds if math.isnan(until_s) else max(now, until_s)
                if self.stay_until_s <= t1:
                    now = self.stay_until_s
                    self.stay_until_s = math.nan
                    self.phase += 1
                else:
                    now = t1

    def sense(self, line: shapely.LineString, at_m: float, dt_s: float, cams: Cameras) -> None:
        """Accrue ``dt_s`` seconds of exposure at the point ``at_m`` metres along ``line``."""
        point = shapely.line_interpolate_point(line, at_m)
        self.queries += 1
        near = cams.tree.query(point, predicate="dwithin", distance=cams.reach_m)
        if near.size == 0:
            return
        dist = np.hypot(cams.x[near] - point.x, cams.y[near] - point.y)
        sees = dist <= cams.seen_range_m[near]
        if sees.any():
            self.seen_s += dt_s
            self.camera_s += float(cams.count[near[sees]].sum()) * dt_s


@dataclass(frozen=True)
class NaiveResult:
    """Per-protester walk exposure (seconds in view, camera-seconds) and the work done."""

    seen_s: np.ndarray
    camera_s: np.ndarray
    ticks: int
    queries: int


def walkers_of(plan: Plan, edge_geom: np.ndarray, edge_length_m: np.ndarray) -> list[Walker]:
    """One walker per protester of ``plan``, its legs as polylines.

    ``edge_geom`` and ``edge_length_m`` cover every edge a route may use: the network's and
    the virtual first- and last-metre edges after them."""
    lines: dict[int, tuple] = {}

    def leg(route: int, speed: float) -> tuple:
        if route not in lines:
            line = route_line(edge_geom, plan.routes[route])
            lines[route] = (line, float(edge_length_m[plan.routes[route]].sum()))
        line, length_m = lines[route]
        return ("walk", line, length_m, speed)

    walkers = []
    for i in range(len(plan.depart_s)):
        speed = float(plan.speed_mps[i])
        phases: list[tuple] = []
        if plan.out_route[i] >= 0:
            phases.append(leg(int(plan.out_route[i]), speed))
            if plan.march_route >= 0:
                phases.append(("stay", 0.0, plan.march_start_s))
                phases.append(leg(plan.march_route, plan.march_speed_mps))
            else:
                phases.append(("stay", float(plan.dwell_s[i]), math.nan))
            if plan.back_route[i] >= 0:
                phases.append(leg(int(plan.back_route[i]), speed))
        walkers.append(Walker(float(plan.depart_s[i]), phases))
    return walkers


def simulate_naive(
    plan: Plan, edge_geom: np.ndarray, edge_length_m: np.ndarray, coverage: Coverage
) -> NaiveResult:
    """Step every protester of ``plan`` in 1-second ticks until all are done (crowding off).

    Cameras see by distance only, so this compares with the ``radius`` visibility model."""
    cams = cameras_of(coverage)
    walkers = walkers_of(plan, edge_geom, edge_length_m)
    active = [w for w in walkers if not w.done]
    tick = 0
    while active:
        t0 = tick * TICK_S
        for w in active:
            w.step(t0, t0 + TICK_S, cams)
        active = [w for w in active if not w.done]
        tick += 1
    return NaiveResult(
        np.array([w.seen_s for w in walkers]),
        np.array([w.camera_s for w in walkers]),
        tick,
        sum(w.queries for w in walkers),
    )
