"""The compiled crowd engine: the simpy model's walk replayed in one numba event loop.

:func:`simulate` takes the same :class:`~sim.crowd.model.Plan` and
:class:`~sim.crowd.model.Streets` as :func:`sim.crowd.model.simulate` and returns the same
:class:`~sim.crowd.model.Outcome`, bit for bit. It
keeps simpy's event queue as an array heap keyed as simpy keys it, ``(time, priority, creation
order)`` (priority 0 for a process start, 1 for a timeout), and each event does exactly what the
simpy process does when it resumes, with the same floating-point operations in the same order:

* a spawner per origin starts its protesters at their departure times (``now + (depart - now)``,
  as a simpy timeout computes it), a process start being an urgent event;
* a walker entering an edge counts itself on it (with crowding), takes Weidmann's speed at the
  edge's density and is due at ``now + length / speed``; leaving, it uncounts itself;
* without crowding (and no early stop) a leg is one timeout of the route's precomputed totals;
* at the site it stands for its dwell (or until the march), then leaves as a new process;
* ``until_s`` stops the clock as simpy's urgent stop event does.

Events whose processing changes nothing (a process ending) are not replayed: they take a place
in simpy's creation order, but leaving them out keeps the relative order of all the others.

Memory: with ``log=False`` (the runner's default) no per-traversal log is kept; the loop
builds what the tables need as it goes (:class:`~sim.crowd.model.Flows`): per-second flows of the
crowd on the street, in view and under cameras, traffic per edge, and the edges walked by the
protesters who had not finished when the clock stopped.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from sim.crowd.crowding import MIN_SPEED_FACTOR, WEIDMANN_GAMMA, WEIDMANN_JAM_DENSITY
from sim.crowd.model import (
    ACC,
    STATUS_AT_SITE,
    STATUS_DONE,
    STATUS_NO_ROUTE,
    STATUS_WAITING,
    STATUS_WALKING,
    Flows,
    Outcome,
    Plan,
    Streets,
)


def numba_cache_folder() -> Path | None:
    """Where numba keeps this module's compiled functions when it cannot keep them beside it.

    numba caches beside the source (``sim/crowd/__pycache__``), so that compiling happens once
    per installation. Where that folder cannot be written (a read-only install) and
    ``NUMBA_CACHE_DIR`` is not set, the project's cache folder is used instead
    (``<cache>/numba``, see :func:`sim.data.cache.cache_dir`); None: numba's own choice stands.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    beside = Path(__file__).resolve().parent / "__pycache__"
    try:
        beside.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=beside):
            return None
    except OSError:
        pass
    from sim.data.cache import cache_dir

    try:
        folder = cache_dir()
    except Exception:  # a bad PROTEST_SIM_CACHE is reported where the cache is used
        return None
    return folder / "numba" if folder is not None else None


_FALLBACK = numba_cache_folder()
if _FALLBACK is not None:  # before the functions below are decorated (numba reads it then)
    os.environ["NUMBA_CACHE_DIR"] = str(_FALLBACK)
    numba.config.reload_config()

# status codes inside the loop, and their names
WAITING, NO_ROUTE, WALKING, AT_SITE, DONE = 0, 1, 2, 3, 4
STATUS_NAMES = np.array(
    [STATUS_WAITING, STATUS_NO_ROUTE, STATUS_WALKING, STATUS_AT_SITE, STATUS_DONE], dtype=object
)
# event kinds (payload = who * 8 + kind)
EV_SPAWN, EV_START, EV_STEP, EV_STAND, EV_LEAVE = 0, 1, 2, 3, 4
# simpy's priorities: URGENT (process starts, the stop event) before NORMAL (timeouts)
URGENT, NORMAL = 0, 1
PRIO_SHIFT = np.int64(1) << np.int64(62)
# legs of a walk
OUT, MARCH, BACK = 0, 1, 2
# columns of the per-protester state: floats (accumulators in ACC order first), integers
F_WALK_M, F_WALK_S, F_FIRST, F_SEEN_M, F_SEEN_PUB_M = 5, 6, 7, 8, 9
F_ARRIVE, F_LEAVE, F_END, F_DWELL, F_SPEED, N_F = 10, 11, 12, 13, 14, 16
I_STATUS, I_PHASE, I_POS, I_ENTERED, N_I = 0, 1, 2, 3, 4


class Walkers(NamedTuple):
    """What the plan says of each protester, and the spawners' order of them."""

    depart: np.ndarray  # s, when each leaves its exit
    dwell: np.ndarray  # s at the site (without a march)
    out_route: np.ndarray  # route of the pool to the site (-1: none, status no_route)
    back_route: np.ndarray  # route back to an exit (-1: no dispersal)
    stand_seen: np.ndarray  # exposure per second of standing (nonzero: in view at the site)
    order: np.ndarray  # protesters by spawner (origin), then departure ...
    group_start: np.ndarray  # ... spawner g's being order[group_start[g]:group_start[g + 1]]


class Routes(NamedTuple):
    """The pool of routes, end to end: route r is ``flat[start[r]:start[r] + length[r]]``."""

    flat: np.ndarray  # edge ids
    start: np.ndarray
    length: np.ndarray  # edges
    totals: np.ndarray  # per route: its ACC columns summed, then its length in metres
    first_seen: np.ndarray  # per route: metres to its first stretch in view (NaN: none)
    before: np.ndarray  # per pooled edge: metres before it on its route


class Edges(NamedTuple):
    """Per edge of the streets (virtual access edges included)."""

    length: np.ndarray  # m
    area: np.ndarray  # square metres: length times walking width (crowding)
    cov: np.ndarray  # one column per ACC accumulator: seen_m, seen_public_m, camera_m, ...
    first_seen: np.ndarray  # metres to the edge's first stretch in view (NaN: none)
    frac_seen: np.ndarray  # share of the length in view (time series)
    cam_rate: np.ndarray  # camera-metres per metre (time series)


class Rules(NamedTuple):
    """How the replication runs: the switches, the stop of the clock, the march."""

    crowding: bool  # speeds from Weidmann's relation at each edge's density
    edge_events: bool  # one event per edge walked (else one per leg)
    has_until: bool
    until: float  # s, the clock stops here (with has_until)
    log: bool  # keep every traversal (else build the flows as the loop goes)
    march_route: int  # -1: no march
    march_start: float  # s
    march_speed: float  # m/s


class Record(NamedTuple):
    """What the loop writes besides the per-protester state: traffic and seconds in view per
    edge, the traversal log (with ``log`` and edge events) and the legs walked as one timeout
    (without edge events), filled up to the counts :func:`_run` returns."""

    traffic: np.ndarray
    edge_seen_s: np.ndarray
    trav_agent: np.ndarray
    trav_edge: np.ndarray
    trav_start: np.ndarray
    trav_speed: np.ndarray
    leg_agent: np.ndarray
    leg_route: np.ndarray
    leg_start: np.ndarray
    leg_speed: np.ndarray


class Events(NamedTuple):
    """Scheduled events, one per row: time, key (priority, then creation order), payload."""

    t: np.ndarray
    key: np.ndarray
    payload: np.ndarray


@numba.njit(cache=True, inline="always")
def _weidmann(density: float) -> float:
    """sim.crowd.crowding.weidmann_factor, the same operations."""
    if density <= 0:
        return 1.0
    if density >= WEIDMANN_JAM_DENSITY:
        return MIN_SPEED_FACTOR
    factor = 1.0 - math.exp(-WEIDMANN_GAMMA * (1.0 / density - 1.0 / WEIDMANN_JAM_DENSITY))
    return max(factor, MIN_SPEED_FACTOR)


@numba.njit(cache=True, inline="always")
def _before(t_a, key_a, t_b, key_b) -> bool:
    """Event a comes before event b: by time, then priority and creation order (``key``)."""
    return t_a < t_b or (t_a == t_b and key_a < key_b)


# The loop's helpers are plain compiled functions (not inlined by numba), each with one exit
# and no array rebound inside: numba then prunes the reference counting of the arrays they
# are given. Inlined by numba, with several exits or rebinding an array (``bins`` growing), a
# helper was measured (NUMBA_DEBUG_NRT=1) to count every array it is given, each array of a
# named tuple included, up and down on every call: twice as slow. So ``bins`` grows in the
# loop itself, where the rest of an edge step is written out too.


@numba.njit(cache=True)
def _events(cap):
    return Events(np.empty(cap, np.float64), np.empty(cap, np.int64), np.empty(cap, np.int64))


@numba.njit(cache=True)
def _push(heap, size, t, key, payload):
    """Add an event to the binary ``heap`` of ``size`` entries, moving a hole up rather than
    swapping; returns the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(t, key, heap.t[parent], heap.key[parent]):
            break
        heap.t[i], heap.key[i], heap.payload[i] = (
            heap.t[parent],
            heap.key[parent],
            heap.payload[parent],
        )
        i = parent
    heap.t[i], heap.key[i], heap.payload[i] = t, key, payload
    return size + 1


@numba.njit(cache=True)
def _pop(heap, size):
    """Drop the first entry (read it before); returns the new size."""
    last = size - 1
    t, key, payload = heap.t[last], heap.key[last], heap.payload[last]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= last:
            break
        if c + 1 < last and _before(heap.t[c + 1], heap.key[c + 1], heap.t[c], heap.key[c]):
            c += 1
        if not _before(heap.t[c], heap.key[c], t, key):
            break
        heap.t[i], heap.key[i], heap.payload[i] = heap.t[c], heap.key[c], heap.payload[c]
        i = c
    heap.t[i], heap.key[i], heap.payload[i] = t, key, payload
    return last


@numba.njit(cache=True)
def _grown(bins, last):
    """``bins`` with room for the second ``last``. Copied element by element: a slice
    assignment (``grown[:n] = bins``) costs numba 3 s to compile, for its broadcasting
    checks, and this copy runs a few times per replication."""
    grown = np.zeros((max(last + 1, 2 * bins.shape[0]), bins.shape[1]), np.float64)
    for i in range(bins.shape[0]):
        for j in range(bins.shape[1]):
            grown[i, j] = bins[i, j]
    return grown


@numba.njit(cache=True)
def _flow(bins, t_in, t_out, frac_seen, cam_rate):
    """Add one traversal to the per-second flows, as sim.crowd.tables.timeseries's ``rate`` adds
    it (a traversal of no duration adds nothing); ``bins`` (a row per second, so that one
    traversal touches two rows) has room up to ``t_out``."""
    if t_out > t_in:
        lo = int(math.floor(t_in))
        hi = int(math.floor(t_out))
        bins[lo, 0] += 1.0
        bins[hi, 1] += 1.0
        bins[lo, 2] += frac_seen
        bins[hi, 3] += frac_seen
        bins[lo, 4] += cam_rate
        bins[hi, 5] += cam_rate


@numba.njit(cache=True)
def _block_sum(a, lo, n):
    """numpy's sum of up to 128 floats: under 8 in a row, else in eight lanes, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_sum(a, lo, n):
    """numpy's sum of ``a[lo:lo + n]`` (float64 ``add.reduce``, pairwise): spans over 128 are
    halved at a multiple of eight and their halves' sums added. Walked with explicit stacks
    (numba does not cache recursive functions); the order of two halves does not matter, an
    IEEE sum of two numbers being commutative."""
    todo = np.empty((128, 3), np.int64)  # span start, length, halves summed (0/1)
    sums = np.empty(128)
    todo[0, 0], todo[0, 1], todo[0, 2] = lo, n, 0
    n_todo, n_sums = 1, 0
    while n_todo:
        n_todo -= 1
        start, length, merge = todo[n_todo, 0], todo[n_todo, 1], todo[n_todo, 2]
        if length <= 128:
            sums[n_sums] = _block_sum(a, start, length)
            n_sums += 1
        elif merge:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
        else:
            half = length // 2
            half -= half % 8
            todo[n_todo, 0], todo[n_todo, 1], todo[n_todo, 2] = start, length, 1
            todo[n_todo + 1, 0], todo[n_todo + 1, 1], todo[n_todo + 1, 2] = start, half, 0
            todo[n_todo + 2, 0], todo[n_todo + 2, 1] = start + half, length - half
            todo[n_todo + 2, 2] = 0
            n_todo += 3
    return sums[0]


@numba.njit(cache=True)
def _route_tables(flat, route_start, route_len, e_len, e_cov, e_first):
    """sim.crowd.model._route_totals for the pooled routes, in the same floating-point order: per
    route its totals (ACC columns, then length), metres to its first stretch in view, and per
    pooled edge the metres before it on its route."""
    n_routes = len(route_start)
    totals = np.zeros((n_routes, 6))
    first = np.full(n_routes, np.nan)
    before = np.zeros(len(flat))
    buf = np.empty(len(flat))
    for r in range(n_routes):
        lo, n = route_start[r], route_len[r]
        for c in range(6):
            for k in range(n):
                e = flat[lo + k]
                buf[k] = e_len[e] if c == 5 else e_cov[e, c]
            totals[r, c] = _pairwise_sum(buf, 0, n)
        run = 0.0
        for k in range(n):
            e = flat[lo + k]
            before[lo + k] = run
            if first[r] != first[r] and math.isfinite(e_first[e]):
                first[r] = run + e_first[e]
            run += e_len[e]
    return totals, first, before


@numba.njit(cache=True)
def _leg_route(ph, i, walkers, rules):
    """The route of protester ``i``'s leg ``ph`` (-1: none)."""
    out, back = walkers.out_route[i], walkers.back_route[i]
    return out if ph == OUT else (rules.march_route if ph == MARCH else back)


@numba.njit(cache=True)
def _spawn(g, now, walkers, S, g_pos, g_waiting, heap, size, seq):
    """Spawner ``g`` resumes: it starts everyone due now, then waits for the next departure
    (or ends). Returns the heap's size and the creation counter."""
    while g_pos[g] < walkers.group_start[g + 1]:
        i = walkers.order[g_pos[g]]
        if not g_waiting[g]:
            delay = walkers.depart[i] - now
            if delay > 0:
                g_waiting[g] = True
                t_due = now + delay
                size = _push(heap, size, t_due, NORMAL * PRIO_SHIFT + seq, g * 8)
                seq += 1
                break
        g_waiting[g] = False
        g_pos[g] += 1
        if walkers.out_route[i] < 0:
            S[i, I_STATUS] = NO_ROUTE
            continue
        size = _push(heap, size, now, URGENT * PRIO_SHIFT + seq, i * 8 + EV_START)
        seq += 1
    return size, seq


@numba.njit(cache=True)
def _resume(kind, i, now, A, S, rules):
    """Protester ``i``'s process resumes after an event of ``kind``: it starts out, leaves the
    site, or has walked an edge (or a whole leg). Returns whether a leg back is to start."""
    starting = False
    if kind == EV_START:
        S[i, I_STATUS] = WALKING
        S[i, I_PHASE] = OUT
        S[i, I_POS] = 0
    elif kind == EV_LEAVE:
        A[i, F_LEAVE] = now
        A[i, F_DWELL] = now - A[i, F_ARRIVE]
        S[i, I_POS] = 0
        if rules.march_route >= 0:
            S[i, I_STATUS] = WALKING
            S[i, I_PHASE] = MARCH
        else:
            S[i, I_PHASE] = BACK
            starting = True
    elif rules.edge_events:  # EV_STEP: an edge walked
        S[i, I_POS] += 1
    else:  # EV_STEP: a whole leg walked
        S[i, I_POS] = 1
    return starting


@numba.njit(cache=True)
def _accrue(i, e, v, now, A, edges):
    """Protester ``i`` walks edge ``e`` from ``now`` at ``v``: its exposure, metres and
    seconds. Returns the seconds."""
    if A[i, F_FIRST] != A[i, F_FIRST] and edges.first_seen[e] == edges.first_seen[e]:
        A[i, F_FIRST] = now + edges.first_seen[e] / v
    for c in range(5):
        A[i, c] += edges.cov[e, c] / v
    A[i, F_WALK_M] += edges.length[e]
    dt = edges.length[e] / v
    A[i, F_WALK_S] += dt
    A[i, F_SEEN_M] += edges.cov[e, 0]
    A[i, F_SEEN_PUB_M] += edges.cov[e, 1]
    return dt


@numba.njit(cache=True)
def _log(rec, n_trav, i, e, now, v):
    """Keep traversal ``n_trav``: protester ``i`` entered edge ``e`` at ``now``, at ``v``."""
    rec.trav_agent[n_trav] = i
    rec.trav_edge[n_trav] = e
    rec.trav_start[n_trav] = now
    rec.trav_speed[n_trav] = v


@numba.njit(cache=True)
def _walk_leg(i, r, free, now, A, S, routes, edges, rules, rec, n_legs):
    """Protester ``i`` walks all of route ``r`` from ``now`` as one timeout, at ``free`` speed:
    the route's totals at once, then per edge its traffic (and seconds in view, without a
    log). Returns when the leg ends."""
    v = free
    if A[i, F_FIRST] != A[i, F_FIRST] and routes.first_seen[r] == routes.first_seen[r]:
        A[i, F_FIRST] = now + routes.first_seen[r] / v
    for c in range(5):
        A[i, c] += routes.totals[r, c] / v
    A[i, F_WALK_M] += routes.totals[r, 5]
    dt = routes.totals[r, 5] / v
    A[i, F_WALK_S] += dt
    rec.leg_agent[n_legs] = i
    rec.leg_route[n_legs] = r
    rec.leg_start[n_legs] = now
    rec.leg_speed[n_legs] = v
    seen, seen_pub = A[i, F_SEEN_M], A[i, F_SEEN_PUB_M]
    for k in range(routes.start[r], routes.start[r] + routes.length[r]):
        e = routes.flat[k]
        seen += edges.cov[e, 0]
        seen_pub += edges.cov[e, 1]
        rec.traffic[e] += 1
        if not rules.log:
            rec.edge_seen_s[e] += edges.cov[e, 0] / v
    A[i, F_SEEN_M], A[i, F_SEEN_PUB_M] = seen, seen_pub
    S[i, I_ENTERED] += routes.length[r]
    return now + dt


@numba.njit(cache=True)
def _arrive(i, now, walkers, A, S, rules, heap, size, stays, n_stays, seq):
    """Protester ``i`` reaches the site: it stands for its dwell (or until the march), or
    leaves at once. Schedules that with creation number ``seq``; returns the sizes of the
    heap and of the queue of stays."""
    A[i, F_ARRIVE] = now
    S[i, I_STATUS] = AT_SITE
    if rules.march_route >= 0:
        seconds = max(rules.march_start - now, 0.0)
    else:
        seconds = walkers.dwell[i]
    if seconds <= 0:
        size = _push(heap, size, now, URGENT * PRIO_SHIFT + seq, i * 8 + EV_LEAVE)
    else:
        if walkers.stand_seen[i] != 0 and A[i, F_FIRST] != A[i, F_FIRST]:
            A[i, F_FIRST] = now
        t_end = now + seconds
        if n_stays == 0 or t_end >= stays.t[n_stays - 1]:  # in order: the queue
            stays.t[n_stays], stays.key[n_stays] = t_end, NORMAL * PRIO_SHIFT + seq
            stays.payload[n_stays] = i * 8 + EV_STAND
            n_stays += 1
        else:
            size = _push(heap, size, t_end, NORMAL * PRIO_SHIFT + seq, i * 8 + EV_STAND)
    return size, n_stays


@numba.njit(cache=True)
def _run(walkers, A, S, routes, edges, rules, rec, bins):
    """The event loop. ``A`` and ``S`` hold each protester's float and integer state (F_*,
    I_*: the free speed in, the results out); ``rec`` and ``bins`` receive the rest. Returns
    the counts of traversals and of one-timeout legs, the last exit time and ``bins``."""
    n = len(walkers.depart)
    n_groups = len(walkers.group_start) - 1
    heap = _events(n + n_groups + 1)
    # Counters start as np.int64(0), not 0: a literal 0 makes numba compile each helper it
    # is passed to twice (for Literal[int](0), then for int64), a second of compiling.
    size = np.int64(0)
    seq = 0
    for g in range(n_groups):  # env.process(spawner(group)) for each group, at time 0
        size = _push(heap, size, 0.0, URGENT * PRIO_SHIFT + seq, g * 8 + EV_SPAWN)
        seq += 1
    stop_key = URGENT * PRIO_SHIFT + seq  # env.run(until) schedules its stop event now
    seq += 1
    g_pos = walkers.group_start[:-1].copy()
    g_waiting = np.zeros(n_groups, np.bool_)
    occupancy = np.zeros(len(edges.length), np.int64)
    n_trav = np.int64(0)
    n_legs = np.int64(0)
    t_out_max = -np.inf
    now = 0.0
    # Stays end in the order they start when every dwell is equal (or all end at the march):
    # those go to a first-in first-out queue (creation order rises along it), the rest to the
    # heap; the next event is the earlier of the two heads. The queue keeps the heap small.
    stays = _events(n)
    n_stays = np.int64(0)
    stay_next = 0
    while size > 0 or stay_next < n_stays:
        from_stays = stay_next < n_stays and (
            size == 0 or _before(stays.t[stay_next], stays.key[stay_next], heap.t[0], heap.key[0])
        )
        if from_stays:
            t, key, payload = stays.t[stay_next], stays.key[stay_next], stays.payload[stay_next]
        else:
            t, key, payload = heap.t[0], heap.key[0], heap.payload[0]
        if rules.has_until and (t > rules.until or (t == rules.until and key > stop_key)):
            break
        if from_stays:
            stay_next += 1
        else:
            size = _pop(heap, size)
        now = t
        who = payload >> 3
        kind = payload & 7
        if kind == EV_SPAWN:
            size, seq = _spawn(who, now, walkers, S, g_pos, g_waiting, heap, size, seq)
            continue
        i = who
        if kind == EV_STAND:  # the stay is over: its callback starts the leaving process
            size = _push(heap, size, now, URGENT * PRIO_SHIFT + seq, i * 8 + EV_LEAVE)
            seq += 1
            continue
        if kind == EV_STEP and rules.crowding:  # off the edge walked (crowding: edge events)
            r = _leg_route(S[i, I_PHASE], i, walkers, rules)
            occupancy[routes.flat[routes.start[r] + S[i, I_POS]]] -= 1
        starting = _resume(kind, i, now, A, S, rules)
        # the process goes on until its next timeout (or its end)
        while True:
            ph = S[i, I_PHASE]
            r = _leg_route(ph, i, walkers, rules)
            if starting:
                starting = False
                if r < 0:  # no dispersal
                    S[i, I_STATUS] = DONE
                    A[i, F_END] = now
                    break
                S[i, I_STATUS] = WALKING
            free = rules.march_speed if ph == MARCH else A[i, F_SPEED]
            if rules.edge_events and S[i, I_POS] < routes.length[r]:  # onto the next edge
                e = routes.flat[routes.start[r] + S[i, I_POS]]
                v = free
                if rules.crowding:
                    occupancy[e] += 1
                    v = free * _weidmann(occupancy[e] / edges.area[e])
                t_next = now + _accrue(i, e, v, now, A, edges)
                rec.traffic[e] += 1
                S[i, I_ENTERED] += 1
                if rules.log:
                    _log(rec, n_trav, i, e, now, v)
                else:
                    rec.edge_seen_s[e] += edges.cov[e, 0] / v
                    if t_next >= bins.shape[0]:
                        bins = _grown(bins, int(math.floor(t_next)))
                    _flow(bins, now, t_next, edges.frac_seen[e], edges.cam_rate[e])
                    t_out_max = max(t_out_max, t_next)
                n_trav += 1
                size = _push(heap, size, t_next, NORMAL * PRIO_SHIFT + seq, i * 8 + EV_STEP)
                seq += 1
                break
            if not rules.edge_events and S[i, I_POS] == 0:  # a whole leg as one timeout
                t_next = _walk_leg(i, r, free, now, A, S, routes, edges, rules, rec, n_legs)
                if not rules.log:  # its flows, edge by edge
                    for k in range(routes.start[r], routes.start[r] + routes.length[r]):
                        e = routes.flat[k]
                        t_in = now + routes.before[k] / free
                        t_out = t_in + edges.length[e] / free
                        if t_out >= bins.shape[0]:
                            bins = _grown(bins, int(math.floor(t_out)))
                        _flow(bins, t_in, t_out, edges.frac_seen[e], edges.cam_rate[e])
                        t_out_max = max(t_out_max, t_out)
                n_legs += 1
                n_trav += routes.length[r]
                size = _push(heap, size, t_next, NORMAL * PRIO_SHIFT + seq, i * 8 + EV_STEP)
                seq += 1
                break
            # the leg is over
            if ph == OUT:  # at the site: stand, or leave at once
                size, n_stays = _arrive(i, now, walkers, A, S, rules, heap, size, stays, n_stays,
                                        seq)  # fmt: skip
                seq += 1
                break
            if ph == MARCH:  # then back to an exit
                S[i, I_PHASE] = BACK
                S[i, I_POS] = 0
                starting = True
                continue
            S[i, I_STATUS] = DONE  # back at an exit
            A[i, F_END] = now
            break
    return n_trav, n_legs, t_out_max, bins


def simulate(
    plan: Plan,
    streets: Streets,
    crowding: bool,
    until_s: float | None = None,
    edge_events: bool | None = None,
    log: bool = True,
) -> Outcome:
    """Run one replication; the same arguments and result as :func:`sim.crowd.model.simulate`.

    With ``log=False`` the per-traversal arrays of the outcome are empty and its ``flows``
    hold what the tables need instead (memory: a few bytes per edge and second, not 32 per
    traversal).
    """
    if edge_events is None:
        edge_events = crowding or until_s is not None
    if crowding and not edge_events:
        raise ValueError("crowding needs edge events: speeds change as walkers enter edges")
    if until_s is not None and not until_s > 0:
        raise ValueError(f"until ({until_s}) must be greater than the current simulation time")
    n = len(plan.depart_s)
    n_edges = len(streets.length_m)
    paths = [np.asarray(r, np.int64) for r in plan.routes]
    route_len = np.array([len(r) for r in paths], np.int64)
    route_start = np.concatenate(([0], np.cumsum(route_len)[:-1])).astype(np.int64)
    flat = np.concatenate(paths) if paths else np.zeros(0, np.int64)
    e_cov = np.ascontiguousarray(
        np.c_[
            streets.seen_m,
            streets.seen_public_m,
            streets.camera_m,
            streets.recognition_m,
            streets.identification_m,
        ],
        dtype=np.float64,
    )
    length = np.asarray(streets.length_m, np.float64)
    e_first = np.asarray(streets.first_seen_m, np.float64)
    routes = Routes(
        flat,
        route_start,
        route_len,
        *_route_tables(flat, route_start, route_len, length, e_cov, e_first),
    )
    positive = length > 0
    with np.errstate(invalid="ignore", divide="ignore"):  # as sim.crowd.tables.timeseries
        frac_seen = np.where(positive, streets.seen_m / length, 0.0)
        cam_rate = np.where(positive, streets.camera_m / length, 0.0)
    edges = Edges(
        length,
        length * np.asarray(streets.width_m, np.float64),
        e_cov,
        e_first,
        frac_seen,
        cam_rate,
    )
    origin = plan.origin if plan.origin is not None else np.zeros(n, np.int64)
    order = np.lexsort((np.arange(n), plan.depart_s, origin)).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, origin[order][1:] != origin[order][:-1]]) if n else []
    walkers = Walkers(
        np.asarray(plan.depart_s, np.float64),
        np.asarray(plan.dwell_s, np.float64),
        np.asarray(plan.out_route, np.int64),
        np.asarray(plan.back_route, np.int64),
        np.asarray(plan.stand_seen, np.float64),
        order,
        np.r_[starts, n].astype(np.int64),
    )
    rules = Rules(
        bool(crowding),
        bool(edge_events),
        until_s is not None,
        float(until_s) if until_s is not None else 0.0,
        bool(log),
        int(plan.march_route),
        float(plan.march_start_s),
        float(plan.march_speed_mps),
    )

    walks = plan.out_route >= 0
    walkers_n = int(walks.sum())
    legs_cap = 0 if edge_events else 3 * walkers_n
    trav_cap = 0
    if log and edge_events:
        back = plan.back_route[walks]
        trav_cap = int(route_len[plan.out_route[walks]].sum())
        trav_cap += int(route_len[back[back >= 0]].sum())
        if plan.march_route >= 0:
            trav_cap += walkers_n * int(route_len[plan.march_route])
    A = np.zeros((n, N_F))
    A[:, [F_FIRST, F_ARRIVE, F_LEAVE, F_END]] = np.nan
    A[:, F_SPEED] = plan.speed_mps
    S = np.zeros((n, N_I), np.int64)
    rec = Record(
        traffic=np.zeros(n_edges, np.int64),
        edge_seen_s=np.zeros(n_edges),
        trav_agent=np.zeros(trav_cap, np.int64),
        trav_edge=np.zeros(trav_cap, np.int64),
        trav_start=np.zeros(trav_cap),
        trav_speed=np.zeros(trav_cap),
        leg_agent=np.zeros(legs_cap, np.int64),
        leg_route=np.zeros(legs_cap, np.int64),
        leg_start=np.zeros(legs_cap),
        leg_speed=np.zeros(legs_cap),
    )
    n_trav, n_legs, t_out_max, bins = _run(
        walkers, A, S, routes, edges, rules, rec, np.zeros((4096, 6))
    )
    status, entered = S[:, I_STATUS], S[:, I_ENTERED]
    arrive, dwell_arr = A[:, F_ARRIVE].copy(), A[:, F_DWELL].copy()
    if until_s is not None:  # protesters still standing when the clock stopped
        standing = (status == AT_SITE) & (dwell_arr == 0)
        dwell_arr[standing] = until_s - arrive[standing]
    stand = plan.stand_rates()
    flows = None
    if not log:
        trav_agent = trav_edge = np.zeros(0, np.int64)
        trav_start = trav_speed = np.zeros(0)
        partial_agent, partial_edge = _partial_walks(plan, paths, status, entered)
        flows = Flows(
            np.ascontiguousarray(bins.T),
            t_out_max if n_trav else float("nan"),
            rec.traffic,
            rec.edge_seen_s,
            partial_agent,
            partial_edge,
        )
    elif edge_events:
        trav_agent, trav_edge = rec.trav_agent[:n_trav], rec.trav_edge[:n_trav]
        trav_start, trav_speed = rec.trav_start[:n_trav], rec.trav_speed[:n_trav]
    else:
        trav_agent, trav_edge, trav_start, trav_speed = _expand_legs(
            rec.leg_agent[:n_legs], rec.leg_route[:n_legs], rec.leg_start[:n_legs],
            rec.leg_speed[:n_legs], routes,
        )  # fmt: skip
    return Outcome(
        status=STATUS_NAMES[status],
        arrive_s=arrive,
        leave_s=A[:, F_LEAVE].copy(),
        end_s=A[:, F_END].copy(),
        walk_m=A[:, F_WALK_M].copy(),
        walk_s=A[:, F_WALK_S].copy(),
        walk_exposure=A[:, : len(ACC)].copy(),
        dwell_exposure=stand * dwell_arr[:, None],
        dwell_s=dwell_arr,
        first_exposure_s=A[:, F_FIRST].copy(),
        seen_m=A[:, F_SEEN_M].copy(),
        seen_public_m=A[:, F_SEEN_PUB_M].copy(),
        trav_agent=trav_agent,
        trav_edge=trav_edge,
        trav_start_s=trav_start,
        trav_speed_mps=trav_speed,
        events=(n_trav if edge_events else n_legs) + 2 * n,
        flows=flows,
    )


def _expand_legs(agent, route, start, speed, routes: Routes):
    """Per-edge traversals of one-timeout legs: sim.crowd.model's expansion, from arrays."""
    counts = routes.length[route]
    idx = np.repeat(routes.start[route] - np.cumsum(counts) + counts, counts) + np.arange(
        counts.sum()
    )
    speeds = np.repeat(speed, counts)
    return (
        np.repeat(agent, counts),
        routes.flat[idx],
        np.repeat(start, counts) + routes.before[idx] / speeds,
        speeds,
    )


def _partial_walks(plan: Plan, routes, status, entered) -> tuple[np.ndarray, np.ndarray]:
    """The edges walked by protesters who had not finished: the first ``entered`` edges of
    their legs (out, march, back), by protester."""
    agents, edges = [], []
    for i in np.flatnonzero((status != DONE) & (entered > 0)).tolist():
        legs = [plan.out_route[i], plan.march_route, plan.back_route[i]]
        walked = np.concatenate([routes[r] for r in legs if r >= 0])[: entered[i]]
        agents.append(np.full(len(walked), i, np.int64))
        edges.append(walked)
    if not agents:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(agents), np.concatenate(edges)


def engine_ready() -> bool:
    """Whether the event loop is compiled in this process, or in numba's on-disk cache for
    this version of the source (then loading it takes a fraction of a second)."""
    if _run.signatures:
        return True
    try:  # numba's cache index for this source file (empty when stale or absent)
        return bool(_run._cache._cache_file._load_index())
    except Exception:  # numba's internals moved: say not ready (compiling is then announced)
        return False


def compile_engine() -> float:
    """Compile the event loop and its helpers (or load them from numba's on-disk cache) by
    running a two-protester replication; returns the seconds taken."""
    from sim.crowd.model import Plan, Streets

    t0 = time.perf_counter()
    length, seen = np.array([10.0, 20.0]), np.array([4.0, 0.0])
    streets = Streets(length, np.ones(2), seen, seen, seen, seen, seen, np.array([3.0, np.nan]))
    zero = np.zeros(2)
    plan = Plan(
        depart_s=np.array([0.0, 2.0]),
        speed_mps=np.ones(2),
        dwell_s=np.array([5.0, 5.0]),
        out_route=np.array([0, 0], np.int64),
        back_route=np.array([-1, 0], np.int64),
        stand_seen=zero,
        stand_public=zero,
        stand_camera=zero,
        stand_recognition=zero,
        stand_identification=zero,
        routes=[np.array([0, 1], np.int64)],
        origin=np.zeros(2, np.int64),
    )
    simulate(plan, streets, crowding=True, log=False)
    return time.perf_counter() - t0


def prepare_engine() -> None:
    """Have the compiled engine ready in this process (processes forked from it inherit it).

    Compiling happens once per machine and version (numba's on-disk cache), and takes about
    10 s; when it is needed a progress line says so ("compiling the engine"). Otherwise the
    compiled functions are loaded from the cache.
    """
    from sim import progress

    if _run.signatures:
        return
    if engine_ready():
        compile_engine()
        return
    with progress.task("compiling the engine", note="once per machine; numba, about 10 s"):
        compile_engine()
