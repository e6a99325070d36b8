"""The agent-based model: simpy processes that walk protesters edge by edge and accrue exposure."""

from __future__ import annotations

import gc
from array import array
from dataclasses import dataclass

import numpy as np
import simpy

from sim.crowding import weidmann_factor

# Agent status at the end of a replication.
STATUS_DONE = "done"  # walked every leg (to the site, any march, and back if dispersing)
STATUS_AT_SITE = "at_site"  # arrived and still at the site when the clock stopped
STATUS_WALKING = "walking"  # still on the street when the clock stopped
STATUS_WAITING = "not_departed"  # had not left its exit when the clock stopped
STATUS_NO_ROUTE = "no_route"  # no walkable route from its exit to the site

# Garbage-collector thresholds during a run (CPython's default is 700, 10, 10): a large crowd
# makes millions of short-lived events, and collecting less often saves about a sixth of a
# 100,000-protester run (measured: 45 s -> 40 s on the bench machine).
GC_THRESHOLDS = (100_000, 50, 50)

# Order of the per-agent accumulators (seconds, or camera-seconds for ``camera``).
ACC = ("seen", "seen_public", "camera", "recognition", "identification")


@dataclass(frozen=True)
class Streets:
    """Per-edge arrays the walkers read: geometry lengths, walking widths and exposure (metres)."""

    length_m: np.ndarray
    width_m: np.ndarray
    seen_m: np.ndarray
    seen_public_m: np.ndarray
    camera_m: np.ndarray
    recognition_m: np.ndarray
    identification_m: np.ndarray
    first_seen_m: np.ndarray  # metres from the edge start to its first seen stretch, NaN if none


@dataclass(frozen=True)
class Plan:
    """Everything one replication needs, drawn before the clock starts (one row per protester).

    ``routes`` is a pool of edge-index arrays; ``out_route``/``back_route`` index it (-1: none).
    ``stand_*`` is the exposure per second of the protester's standing point in the site area.
    With a march, everyone leaves the site together at ``march_start_s`` along ``march_route``.
    """

    depart_s: np.ndarray
    speed_mps: np.ndarray
    dwell_s: np.ndarray
    out_route: np.ndarray
    back_route: np.ndarray
    stand_seen: np.ndarray
    stand_public: np.ndarray
    stand_camera: np.ndarray
    stand_recognition: np.ndarray
    stand_identification: np.ndarray
    routes: list[np.ndarray]
    origin: np.ndarray | None = None  # origin exit index; one spawner per origin
    march_route: int = -1
    march_start_s: float = float("nan")
    march_speed_mps: float = 1.0


@dataclass
class Outcome:
    """Per-protester results of one replication, and every edge traversal for time series."""

    status: np.ndarray
    arrive_s: np.ndarray
    leave_s: np.ndarray
    end_s: np.ndarray
    walk_m: np.ndarray
    walk_s: np.ndarray
    walk_exposure: np.ndarray  # (n, len(ACC)) seconds on the street
    dwell_exposure: np.ndarray  # (n, len(ACC)) seconds at the site
    dwell_s: np.ndarray
    first_exposure_s: np.ndarray
    seen_m: np.ndarray  # metres of the walk in view of a camera
    seen_public_m: np.ndarray
    trav_agent: np.ndarray  # one row per edge traversal
    trav_edge: np.ndarray
    trav_start_s: np.ndarray
    trav_speed_mps: np.ndarray
    events: int


def simulate(
    plan: Plan,
    streets: Streets,
    crowding: bool,
    until_s: float | None = None,
    edge_events: bool | None = None,
) -> Outcome:
    """Run one replication of the protest.

    A spawner process starts each protester at its departure time; each protester walks its
    route edge by edge (one timeout per edge), its speed on entering an edge set by its free
    speed and, with ``crowding``, by Weidmann's relation at the edge's current density. Exposure
    accrues per traversal from the precomputed per-edge coverage: seconds = covered metres /
    speed. At the site it stands at its point for its dwell time.

    Without crowding nothing a walker meets depends on anyone else, so by default
    (``edge_events=None``) each leg is one timeout and accrues its route's precomputed totals;
    the per-edge traversals are then reconstructed exactly from the route's cumulative lengths.
    Results equal the edge-by-edge walk (tested); ``edge_events=True`` forces it. A clock that
    stops early (``until_s``) always walks edge by edge, so partial walks are exact.
    """
    if edge_events is None:
        edge_events = crowding or until_s is not None
    if crowding and not edge_events:
        raise ValueError("crowding needs edge events: speeds change as walkers enter edges")
    env = simpy.Environment()
    n = len(plan.depart_s)
    occupancy = [0] * len(streets.length_m)
    per_edge = np.c_[
        streets.length_m,
        streets.length_m * streets.width_m,
        streets.seen_m,
        streets.seen_public_m,
        streets.camera_m,
        streets.recognition_m,
        streets.identification_m,
        streets.first_seen_m,
    ]
    # each route's edges as tuples (edge, length, area, coverage..., first seen), read in the
    # hot loop without indexing
    edge_rows = (
        [[(e, *row) for e, row in zip(r.tolist(), per_edge[r].tolist())] for r in plan.routes]
        if edge_events
        else []
    )
    totals, first_on_route, cum_before = _route_totals(plan.routes, streets)
    totals_l, first_l = totals.tolist(), first_on_route.tolist()
    legs: list[tuple[int, int, float, float]] = []  # one-timeout legs: agent, route, start, speed

    stand_seen = plan.stand_seen.tolist()
    status = [STATUS_WAITING] * n
    arrive = [np.nan] * n
    leave = [np.nan] * n
    end = [np.nan] * n
    walk_m = [0.0] * n
    walk_s = [0.0] * n
    first_exp = [np.nan] * n
    acc_walk = [[0.0] * len(ACC) for _ in range(n)]
    dwell_done = [0.0] * n
    # traversal log in C arrays: compact, and never traversed by the garbage collector
    trav_agent, trav_edge = array("q"), array("q")
    trav_start, trav_speed = array("d"), array("d")

    def walk_leg(i: int, r: int, speed: float):
        """A whole leg as one timeout (no crowding): the route's totals over the speed."""
        t = totals_l[r]
        acc = acc_walk[i]
        now = env.now
        if first_exp[i] != first_exp[i] and first_l[r] == first_l[r]:
            first_exp[i] = now + first_l[r] / speed
        acc[0] += t[0] / speed
        acc[1] += t[1] / speed
        acc[2] += t[2] / speed
        acc[3] += t[3] / speed
        acc[4] += t[4] / speed
        walk_m[i] += t[5]
        dt = t[5] / speed
        walk_s[i] += dt
        legs.append((i, r, now, speed))
        yield env.timeout(dt)

    def walk_edges(i: int, r: int, free_speed: float):
        """A leg edge by edge: a timeout per edge, speed set on entering it."""
        acc = acc_walk[i]
        for e, e_len, e_area, seen, pub, cam, rec, idn, first in edge_rows[r]:
            speed = free_speed
            if crowding:
                occupancy[e] += 1
                speed = free_speed * weidmann_factor(occupancy[e] / e_area)
            now = env.now
            if first_exp[i] != first_exp[i] and first == first:
                first_exp[i] = now + first / speed
            acc[0] += seen / speed
            acc[1] += pub / speed
            acc[2] += cam / speed
            acc[3] += rec / speed
            acc[4] += idn / speed
            walk_m[i] += e_len
            trav_agent.append(i)
            trav_edge.append(e)
            trav_start.append(now)
            trav_speed.append(speed)
            dt = e_len / speed
            walk_s[i] += dt
            yield env.timeout(dt)
            if crowding:
                occupancy[e] -= 1

    walk = walk_edges if edge_events else walk_leg
    speeds = plan.speed_mps.tolist()

    def to_site(i: int):
        """Walk to the site, then stand there: the stay is a plain timeout with a callback, so
        the thousands who stand at once hold no live process (that keeps large crowds fast)."""
        status[i] = STATUS_WALKING
        yield from walk(i, plan.out_route[i], speeds[i])
        arrive[i] = env.now
        status[i] = STATUS_AT_SITE
        if plan.march_route >= 0:
            seconds = max(plan.march_start_s - env.now, 0.0)
        else:
            seconds = float(plan.dwell_s[i])
        if seconds <= 0:
            env.process(from_site(i))
            return
        if stand_seen[i] and first_exp[i] != first_exp[i]:
            first_exp[i] = env.now
        env.timeout(seconds).callbacks.append(lambda _event, i=i: env.process(from_site(i)))

    def from_site(i: int):
        """Leave the site: march if there is one, then walk back to an exit."""
        leave[i] = env.now
        dwell_done[i] = env.now - arrive[i]
        if plan.march_route >= 0:
            status[i] = STATUS_WALKING
            yield from walk(i, plan.march_route, plan.march_speed_mps)
        back = plan.back_route[i]
        if back >= 0:
            status[i] = STATUS_WALKING
            yield from walk(i, back, speeds[i])
        status[i] = STATUS_DONE
        end[i] = env.now

    def spawner(order: np.ndarray):
        for i in order.tolist():
            delay = plan.depart_s[i] - env.now
            if delay > 0:
                yield env.timeout(delay)
            if plan.out_route[i] < 0:
                status[i] = STATUS_NO_ROUTE
                continue
            env.process(to_site(i))

    origin = plan.origin if plan.origin is not None else np.zeros(n, np.int64)
    order = np.lexsort((np.arange(n), plan.depart_s, origin))
    starts = np.flatnonzero(np.r_[True, origin[order][1:] != origin[order][:-1]])
    for group in np.split(order, starts[1:]):
        env.process(spawner(group))
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        env.run(until=until_s)
    finally:
        gc.set_threshold(*thresholds)

    dwell_arr = np.array(dwell_done)
    if until_s is not None:  # protesters still standing when the clock stopped
        standing = np.array([s == STATUS_AT_SITE for s in status]) & (dwell_arr == 0)
        dwell_arr[standing] = until_s - np.array(arrive)[standing]
    stand = np.c_[
        plan.stand_seen,
        plan.stand_public,
        plan.stand_camera,
        plan.stand_recognition,
        plan.stand_identification,
    ].astype(float)
    if edge_events:
        speeds = np.frombuffer(trav_speed, dtype=np.float64).copy()
        edges = np.frombuffer(trav_edge, dtype=np.int64).copy()
        agents = np.frombuffer(trav_agent, dtype=np.int64).copy()
        starts = np.frombuffer(trav_start, dtype=np.float64).copy()
    else:
        agents, edges, starts, speeds = _expand_legs(legs, plan.routes, cum_before)
    seen_m = np.bincount(agents, weights=streets.seen_m[edges], minlength=n)
    seen_pub_m = np.bincount(agents, weights=streets.seen_public_m[edges], minlength=n)
    return Outcome(
        status=np.array(status, dtype=object),
        arrive_s=np.array(arrive),
        leave_s=np.array(leave),
        end_s=np.array(end),
        walk_m=np.array(walk_m),
        walk_s=np.array(walk_s),
        walk_exposure=np.array(acc_walk).reshape(n, len(ACC)),
        dwell_exposure=stand * dwell_arr[:, None],
        dwell_s=dwell_arr,
        first_exposure_s=np.array(first_exp),
        seen_m=seen_m,
        seen_public_m=seen_pub_m,
        trav_agent=agents,
        trav_edge=edges,
        trav_start_s=starts,
        trav_speed_mps=speeds,
        events=len(edges) + 2 * n if edge_events else len(legs) + 2 * n,
    )


def _route_totals(
    routes: list[np.ndarray], streets: Streets
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Per route: exposure totals (ACC order, then length), metres to its first stretch in
    view (NaN if none), and each edge's distance from the route's start."""
    columns = (
        streets.seen_m,
        streets.seen_public_m,
        streets.camera_m,
        streets.recognition_m,
        streets.identification_m,
        streets.length_m,
    )
    totals = np.array([[c[r].sum() for c in columns] for r in routes]).reshape(len(routes), 6)
    first = np.full(len(routes), np.nan)
    cum_before = []
    for k, r in enumerate(routes):
        before = np.concatenate(([0.0], np.cumsum(streets.length_m[r])[:-1])) if len(r) else r
        cum_before.append(before)
        seen = np.flatnonzero(np.isfinite(streets.first_seen_m[r]))
        if seen.size:
            first[k] = before[seen[0]] + streets.first_seen_m[r[seen[0]]]
    return totals, first, cum_before


def _expand_legs(legs, routes: list[np.ndarray], cum_before: list[np.ndarray]):
    """Per-edge traversals (agent, edge, start, speed) of one-timeout legs, vectorised."""
    if not legs:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty
    agent, route, start, speed = (np.array(col) for col in zip(*legs))
    route = route.astype(np.int64)
    flat_edges = np.concatenate(routes)
    flat_before = np.concatenate(cum_before)
    offsets = np.concatenate(([0], np.cumsum([len(r) for r in routes])))
    counts = offsets[route + 1] - offsets[route]
    idx = np.repeat(offsets[route] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    speeds = np.repeat(speed, counts)
    return (
        np.repeat(agent.astype(np.int64), counts),
        flat_edges[idx],
        np.repeat(start, counts) + flat_before[idx] / speeds,
        speeds,
    )
