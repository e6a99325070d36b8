"""The agent-based model: simpy processes that walk protesters edge by edge and accrue exposure."""

from __future__ import annotations

import gc
from array import array
from dataclasses import dataclass

import numpy as np
import simpy

from sim.crowd.crowding import weidmann_factor

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

    def stand_rates(self) -> np.ndarray:
        """(n, len(ACC)): each protester's exposure per second of standing, in ACC order."""
        return np.c_[
            self.stand_seen,
            self.stand_public,
            self.stand_camera,
            self.stand_recognition,
            self.stand_identification,
        ].astype(float)


@dataclass(frozen=True)
class Flows:
    """What the tables read of the edge traversals, built as a run goes (the kernel, without
    a traversal log): per-second sums of ``sim.crowd.tables.timeseries`` (rows: walkers entering and
    leaving the street, in-view share entering and leaving, camera rate entering and leaving,
    by the floor of the second), the last exit time, traffic and seconds in view per edge,
    and the edges walked by protesters who had not finished when the clock stopped (by
    protester, in walk order)."""

    bins: np.ndarray
    t_out_max: float  # NaN without traversals
    edge_traffic: np.ndarray
    edge_seen_s: np.ndarray  # protester-seconds in view per edge (sim.crowd.usage)
    partial_agent: np.ndarray
    partial_edge: np.ndarray


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
    flows: Flows | None = None  # set when the traversal log was not kept (trav_* are empty)


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
    crowd = Crowd(env, plan, streets, crowding, edge_events)
    crowd.start()
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        env.run(until=until_s)
    finally:
        gc.set_threshold(*thresholds)
    return crowd.outcome(until_s)


class Crowd:
    """One replication's walkers: their state, and the simpy processes that move them.

    The processes are named generators: :meth:`spawner` starts protesters at their departure
    times, :meth:`to_site` walks one to the site and lets it stand, :meth:`from_site` marches
    and walks it back; :meth:`walk_edges` (a timeout per edge) or :meth:`walk_leg` (one
    timeout per leg, without crowding) walk a route. :meth:`outcome` collects the results.
    """

    def __init__(
        self, env: simpy.Environment, plan: Plan, streets: Streets, crowding: bool, edge_events
    ):
        self.env, self.plan, self.streets = env, plan, streets
        self.crowding, self.edge_events = crowding, edge_events
        n = len(plan.depart_s)
        self.n = n
        self.occupancy = [0] * len(streets.length_m)
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
        # each route's edges as tuples (edge, length, area, coverage..., first seen), read in
        # the hot loop without indexing
        self.edge_rows = (
            [[(e, *row) for e, row in zip(r.tolist(), per_edge[r].tolist())] for r in plan.routes]
            if edge_events
            else []
        )
        totals, first_on_route, self.cum_before = _route_totals(plan.routes, streets)
        self.totals_l, self.first_l = totals.tolist(), first_on_route.tolist()
        self.legs: list[tuple[int, int, float, float]] = []  # agent, route, start, speed
        self.stand_seen = plan.stand_seen.tolist()
        self.speeds = plan.speed_mps.tolist()
        self.status = [STATUS_WAITING] * n
        self.arrive = [np.nan] * n
        self.leave = [np.nan] * n
        self.end = [np.nan] * n
        self.walk_m = [0.0] * n
        self.walk_s = [0.0] * n
        self.first_exp = [np.nan] * n
        self.acc_walk = [[0.0] * len(ACC) for _ in range(n)]
        self.dwell_done = [0.0] * n
        # traversal log in C arrays: compact, and never traversed by the garbage collector
        self.trav_agent, self.trav_edge = array("q"), array("q")
        self.trav_start, self.trav_speed = array("d"), array("d")
        self.walk = self.walk_edges if edge_events else self.walk_leg

    def start(self) -> None:
        """One spawner process per origin exit, each starting its protesters in order."""
        plan, n = self.plan, self.n
        origin = plan.origin if plan.origin is not None else np.zeros(n, np.int64)
        order = np.lexsort((np.arange(n), plan.depart_s, origin))
        starts = np.flatnonzero(np.r_[True, origin[order][1:] != origin[order][:-1]])
        for group in np.split(order, starts[1:]):
            self.env.process(self.spawner(group))

    def walk_leg(self, i: int, r: int, speed: float):
        """A whole leg as one timeout (no crowding): the route's totals over the speed."""
        env, first_exp = self.env, self.first_exp
        t = self.totals_l[r]
        first = self.first_l[r]
        acc = self.acc_walk[i]
        now = env.now
        if first_exp[i] != first_exp[i] and first == first:
            first_exp[i] = now + first / speed
        acc[0] += t[0] / speed
        acc[1] += t[1] / speed
        acc[2] += t[2] / speed
        acc[3] += t[3] / speed
        acc[4] += t[4] / speed
        self.walk_m[i] += t[5]
        dt = t[5] / speed
        self.walk_s[i] += dt
        self.legs.append((i, r, now, speed))
        yield env.timeout(dt)

    def walk_edges(self, i: int, r: int, free_speed: float):
        """A leg edge by edge: a timeout per edge, speed set on entering it."""
        env, crowding, occupancy, first_exp = (
            self.env,
            self.crowding,
            self.occupancy,
            self.first_exp,
        )
        walk_m, walk_s = self.walk_m, self.walk_s
        trav_agent, trav_edge = self.trav_agent, self.trav_edge
        trav_start, trav_speed = self.trav_start, self.trav_speed
        acc = self.acc_walk[i]
        for e, e_len, e_area, seen, pub, cam, rec, idn, first in self.edge_rows[r]:
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

    def to_site(self, i: int):
        """Walk to the site, then stand there: the stay is a plain timeout with a callback, so
        the thousands who stand at once hold no live process (that keeps large crowds fast)."""
        env, plan = self.env, self.plan
        self.status[i] = STATUS_WALKING
        yield from self.walk(i, plan.out_route[i], self.speeds[i])
        self.arrive[i] = env.now
        self.status[i] = STATUS_AT_SITE
        if plan.march_route >= 0:
            seconds = max(plan.march_start_s - env.now, 0.0)
        else:
            seconds = float(plan.dwell_s[i])
        if seconds <= 0:
            env.process(self.from_site(i))
            return
        if self.stand_seen[i] and self.first_exp[i] != self.first_exp[i]:
            self.first_exp[i] = env.now
        env.timeout(seconds).callbacks.append(lambda _event, i=i: env.process(self.from_site(i)))

    def from_site(self, i: int):
        """Leave the site: march if there is one, then walk back to an exit."""
        env, plan = self.env, self.plan
        self.leave[i] = env.now
        self.dwell_done[i] = env.now - self.arrive[i]
        if plan.march_route >= 0:
            self.status[i] = STATUS_WALKING
            yield from self.walk(i, plan.march_route, plan.march_speed_mps)
        back = plan.back_route[i]
        if back >= 0:
            self.status[i] = STATUS_WALKING
            yield from self.walk(i, back, self.speeds[i])
        self.status[i] = STATUS_DONE
        self.end[i] = env.now

    def spawner(self, order: np.ndarray):
        """Start the protesters of one exit at their departure times, in order."""
        env, plan = self.env, self.plan
        for i in order.tolist():
            delay = plan.depart_s[i] - env.now
            if delay > 0:
                yield env.timeout(delay)
            if plan.out_route[i] < 0:
                self.status[i] = STATUS_NO_ROUTE
                continue
            env.process(self.to_site(i))

    def outcome(self, until_s: float | None) -> Outcome:
        """Per-protester results and the traversal log, once the clock has stopped."""
        plan, streets, n = self.plan, self.streets, self.n
        dwell_arr = np.array(self.dwell_done)
        if until_s is not None:  # protesters still standing when the clock stopped
            standing = np.array([s == STATUS_AT_SITE for s in self.status]) & (dwell_arr == 0)
            dwell_arr[standing] = until_s - np.array(self.arrive)[standing]
        stand = plan.stand_rates()
        if self.edge_events:
            speeds = np.frombuffer(self.trav_speed, dtype=np.float64).copy()
            edges = np.frombuffer(self.trav_edge, dtype=np.int64).copy()
            agents = np.frombuffer(self.trav_agent, dtype=np.int64).copy()
            starts = np.frombuffer(self.trav_start, dtype=np.float64).copy()
        else:
            agents, edges, starts, speeds = _expand_legs(self.legs, plan.routes, self.cum_before)
        seen_m = np.bincount(agents, weights=streets.seen_m[edges], minlength=n)
        seen_pub_m = np.bincount(agents, weights=streets.seen_public_m[edges], minlength=n)
        return Outcome(
            status=np.array(self.status, dtype=object),
            arrive_s=np.array(self.arrive),
            leave_s=np.array(self.leave),
            end_s=np.array(self.end),
            walk_m=np.array(self.walk_m),
            walk_s=np.array(self.walk_s),
            walk_exposure=np.array(self.acc_walk).reshape(n, len(ACC)),
            dwell_exposure=stand * dwell_arr[:, None],
            dwell_s=dwell_arr,
            first_exposure_s=np.array(self.first_exp),
            seen_m=seen_m,
            seen_public_m=seen_pub_m,
            trav_agent=agents,
            trav_edge=edges,
            trav_start_s=starts,
            trav_speed_mps=speeds,
            events=len(edges) + 2 * n if self.edge_events else len(self.legs) + 2 * n,
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
