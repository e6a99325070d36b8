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


@numba.njit(cache=True, inline="always")
def _push(ht, hk, hp, size, t, key, payload) -> int:
    """Add an event to the binary heap (times ``ht``, keys ``hk``, payloads ``hp``) of
    ``size`` entries, moving a hole up rather than swapping; returns the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(t, key, ht[parent], hk[parent]):
            break
        ht[i], hk[i], hp[i] = ht[parent], hk[parent], hp[parent]
        i = parent
    ht[i], hk[i], hp[i] = t, key, payload
    return size + 1


@numba.njit(cache=True, inline="always")
def _pop(ht, hk, hp, size) -> int:
    """Drop the first entry (read it before); returns the new size."""
    last = size - 1
    t, key, payload = ht[last], hk[last], hp[last]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= last:
            break
        if c + 1 < last and _before(ht[c + 1], hk[c + 1], ht[c], hk[c]):
            c += 1
        if not _before(ht[c], hk[c], t, key):
            break
        ht[i], hk[i], hp[i] = ht[c], hk[c], hp[c]
        i = c
    ht[i], hk[i], hp[i] = t, key, payload
    return last


@numba.njit(cache=True)
def _grown(bins, last):
    """``bins`` with room for the second ``last``."""
    grown = np.zeros((max(last + 1, 2 * bins.shape[0]), bins.shape[1]), np.float64)
    grown[: bins.shape[0]] = bins
    return grown


@numba.njit(cache=True, inline="always")
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
def _run(
    depart, dwell, out_route, back_route, stand_seen,  # per protester
    A, S,  # per protester: float state (free speed in, results out), int state (F_*, I_*)
    order, group_start,  # spawners: order[group_start[g]:group_start[g + 1]]
    flat, route_start, route_len, totals, first_on_route, flat_before,  # route pool
    e_len, e_area, e_cov, e_first, frac_seen, cam_rate,  # per edge (e_cov: ACC columns)
    march_route, march_start, march_speed,
    crowding, edge_events, has_until, until, log,
    traffic, edge_seen_s,
    trav_agent, trav_edge, trav_start, trav_speed,
    leg_agent, leg_route, leg_start, leg_speed,
    bins,
):  # fmt: skip
    n = len(depart)
    n_groups = len(group_start) - 1
    cap = n + n_groups + 1
    ht = np.empty(cap, np.float64)
    hk = np.empty(cap, np.int64)
    hp = np.empty(cap, np.int64)
    size = 0
    seq = 0
    for g in range(n_groups):  # env.process(spawner(group)) for each group, at time 0
        size = _push(ht, hk, hp, size, 0.0, URGENT * PRIO_SHIFT + seq, g * 8 + EV_SPAWN)
        seq += 1
    stop_key = URGENT * PRIO_SHIFT + seq  # env.run(until) schedules its stop event now
    seq += 1
    g_pos = group_start[:-1].copy()
    g_waiting = np.zeros(n_groups, np.bool_)
    occupancy = np.zeros(len(e_len), np.int64)
    n_trav = 0
    n_legs = 0
    t_out_max = -np.inf
    now = 0.0
    # Stays end in the order they start when every dwell is equal (or all end at the march):
    # those go to a first-in first-out queue (creation order rises along it), the rest to the
    # heap; the next event is the earlier of the two heads. The queue keeps the heap small.
    stay_t = np.empty(n, np.float64)
    stay_k = np.empty(n, np.int64)
    stay_p = np.empty(n, np.int64)
    n_stays = 0
    stay_next = 0
    while size > 0 or stay_next < n_stays:
        from_stays = stay_next < n_stays and (
            size == 0 or _before(stay_t[stay_next], stay_k[stay_next], ht[0], hk[0])
        )
        if from_stays:
            t, key, payload = stay_t[stay_next], stay_k[stay_next], stay_p[stay_next]
        else:
            t, key, payload = ht[0], hk[0], hp[0]
        if has_until and (t > until or (t == until and key > stop_key)):
            break
        if from_stays:
            stay_next += 1
        else:
            size = _pop(ht, hk, hp, size)
        now = t
        who = payload >> 3
        kind = payload & 7
        if kind == EV_SPAWN:  # a spawner resumes: start everyone due now, wait for the next
            g = who
            while g_pos[g] < group_start[g + 1]:
                i = order[g_pos[g]]
                if not g_waiting[g]:
                    delay = depart[i] - now
                    if delay > 0:
                        g_waiting[g] = True
                        t_due = now + delay
                        size = _push(ht, hk, hp, size, t_due, NORMAL * PRIO_SHIFT + seq, g * 8)
                        seq += 1
                        break
                g_waiting[g] = False
                g_pos[g] += 1
                if out_route[i] < 0:
                    S[i, I_STATUS] = NO_ROUTE
                    continue
                size = _push(ht, hk, hp, size, now, URGENT * PRIO_SHIFT + seq, i * 8 + EV_START)
                seq += 1
            continue
        i = who
        if kind == EV_STAND:  # the stay is over: its callback starts the leaving process
            size = _push(ht, hk, hp, size, now, URGENT * PRIO_SHIFT + seq, i * 8 + EV_LEAVE)
            seq += 1
            continue
        starting = False  # a leg back to an exit is about to start
        if kind == EV_START:
            S[i, I_STATUS] = WALKING
            S[i, I_PHASE] = OUT
            S[i, I_POS] = 0
        elif kind == EV_LEAVE:
            A[i, F_LEAVE] = now
            A[i, F_DWELL] = now - A[i, F_ARRIVE]
            S[i, I_POS] = 0
            if march_route >= 0:
                S[i, I_STATUS] = WALKING
                S[i, I_PHASE] = MARCH
            else:
                S[i, I_PHASE] = BACK
                starting = True
        elif edge_events:  # EV_STEP: an edge walked
            if crowding:
                r = _leg_route(S[i, I_PHASE], i, out_route, back_route, march_route)
                occupancy[flat[route_start[r] + S[i, I_POS]]] -= 1
            S[i, I_POS] += 1
        else:  # EV_STEP: a whole leg walked
            S[i, I_POS] = 1
        # the process goes on until its next timeout (or its end)
        while True:
            ph = S[i, I_PHASE]
            r = _leg_route(ph, i, out_route, back_route, march_route)
            if starting:
                starting = False
                if r < 0:  # no dispersal
                    S[i, I_STATUS] = DONE
                    A[i, F_END] = now
                    break
                S[i, I_STATUS] = WALKING
            free = march_speed if ph == MARCH else A[i, F_SPEED]
            if edge_events and S[i, I_POS] < route_len[r]:
                k = route_start[r] + S[i, I_POS]
                e = flat[k]
                v = free
                if crowding:
                    occupancy[e] += 1
                    v = free * _weidmann(occupancy[e] / e_area[e])
                if A[i, F_FIRST] != A[i, F_FIRST] and e_first[e] == e_first[e]:
                    A[i, F_FIRST] = now + e_first[e] / v
                for c in range(5):
                    A[i, c] += e_cov[e, c] / v
                A[i, F_WALK_M] += e_len[e]
                dt = e_len[e] / v
                A[i, F_WALK_S] += dt
                t_next = now + dt
                A[i, F_SEEN_M] += e_cov[e, 0]
                A[i, F_SEEN_PUB_M] += e_cov[e, 1]
                traffic[e] += 1
                S[i, I_ENTERED] += 1
                if log:
                    trav_agent[n_trav] = i
                    trav_edge[n_trav] = e
                    trav_start[n_trav] = now
                    trav_speed[n_trav] = v
                if not log:
                    edge_seen_s[e] += e_cov[e, 0] / v
                    if t_next >= bins.shape[0]:
                        bins = _grown(bins, int(math.floor(t_next)))
                    _flow(bins, now, t_next, frac_seen[e], cam_rate[e])
                    t_out_max = max(t_out_max, t_next)
                n_trav += 1
                size = _push(ht, hk, hp, size, t_next, NORMAL * PRIO_SHIFT + seq, i * 8 + EV_STEP)
                seq += 1
                break
            if not edge_events and S[i, I_POS] == 0:  # a whole leg as one timeout
                v = free
                if A[i, F_FIRST] != A[i, F_FIRST] and first_on_route[r] == first_on_route[r]:
                    A[i, F_FIRST] = now + first_on_route[r] / v
                for c in range(5):
                    A[i, c] += totals[r, c] / v
                A[i, F_WALK_M] += totals[r, 5]
                dt = totals[r, 5] / v
                A[i, F_WALK_S] += dt
                leg_agent[n_legs] = i
                leg_route[n_legs] = r
                leg_start[n_legs] = now
                leg_speed[n_legs] = v
                n_legs += 1
                seen, seen_pub = A[i, F_SEEN_M], A[i, F_SEEN_PUB_M]
                for k in range(route_start[r], route_start[r] + route_len[r]):
                    e = flat[k]
                    seen += e_cov[e, 0]
                    seen_pub += e_cov[e, 1]
                    traffic[e] += 1
                    if not log:
                        edge_seen_s[e] += e_cov[e, 0] / v
                        t_in = now + flat_before[k] / v
                        t_out = t_in + e_len[e] / v
                        if t_out >= bins.shape[0]:
                            bins = _grown(bins, int(math.floor(t_out)))
                        _flow(bins, t_in, t_out, frac_seen[e], cam_rate[e])
                        t_out_max = max(t_out_max, t_out)
                A[i, F_SEEN_M], A[i, F_SEEN_PUB_M] = seen, seen_pub
                S[i, I_ENTERED] += route_len[r]
                n_trav += route_len[r]
                size = _push(ht, hk, hp, size, now + dt, NORMAL * PRIO_SHIFT + seq,
                             i * 8 + EV_STEP)  # fmt: skip
                seq += 1
                break
            # the leg is over
            if ph == OUT:  # at the site: stand, or leave at once
                A[i, F_ARRIVE] = now
                S[i, I_STATUS] = AT_SITE
                if march_route >= 0:
                    seconds = max(march_start - now, 0.0)
                else:
                    seconds = dwell[i]
                if seconds <= 0:
                    size = _push(ht, hk, hp, size, now, URGENT * PRIO_SHIFT + seq,
                                 i * 8 + EV_LEAVE)  # fmt: skip
                    seq += 1
                    break
                if stand_seen[i] != 0 and A[i, F_FIRST] != A[i, F_FIRST]:
                    A[i, F_FIRST] = now
                t_end = now + seconds
                if n_stays == 0 or t_end >= stay_t[n_stays - 1]:  # in order: the queue
                    stay_t[n_stays], stay_k[n_stays] = t_end, NORMAL * PRIO_SHIFT + seq
                    stay_p[n_stays] = i * 8 + EV_STAND
                    n_stays += 1
                else:
                    size = _push(ht, hk, hp, size, t_end, NORMAL * PRIO_SHIFT + seq,
                                 i * 8 + EV_STAND)  # fmt: skip
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


@numba.njit(cache=True, inline="always")
def _leg_route(ph, i, out_route, back_route, march_route):
    if ph == OUT:
        return out_route[i]
    if ph == MARCH:
        return march_route
    return back_route[i]


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
    routes = [np.asarray(r, np.int64) for r in plan.routes]
    route_len = np.array([len(r) for r in routes], np.int64)
    route_start = np.concatenate(([0], np.cumsum(route_len)[:-1])).astype(np.int64)
    flat = np.concatenate(routes) if routes else np.zeros(0, np.int64)
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
    totals, first_on_route, flat_before = _route_tables(
        flat, route_start, route_len, length, e_cov, e_first
    )
    positive = length > 0
    with np.errstate(invalid="ignore", divide="ignore"):  # as sim.crowd.tables.timeseries
        frac_seen = np.where(positive, streets.seen_m / length, 0.0)
        cam_rate = np.where(positive, streets.camera_m / length, 0.0)
    origin = plan.origin if plan.origin is not None else np.zeros(n, np.int64)
    order = np.lexsort((np.arange(n), plan.depart_s, origin)).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, origin[order][1:] != origin[order][:-1]]) if n else []
    group_start = np.r_[starts, n].astype(np.int64)

    walks = plan.out_route >= 0
    walkers = int(walks.sum())
    legs_cap = 3 * walkers
    trav_cap = 0
    if log and edge_events:
        back = plan.back_route[walks]
        trav_cap = int(route_len[plan.out_route[walks]].sum())
        trav_cap += int(route_len[back[back >= 0]].sum())
        if plan.march_route >= 0:
            trav_cap += walkers * int(route_len[plan.march_route])
    A = np.zeros((n, N_F))
    A[:, [F_FIRST, F_ARRIVE, F_LEAVE, F_END]] = np.nan
    A[:, F_SPEED] = plan.speed_mps
    S = np.zeros((n, N_I), np.int64)
    traffic = np.zeros(n_edges, np.int64)
    edge_seen_s = np.zeros(n_edges)
    trav_agent, trav_edge = np.zeros(trav_cap, np.int64), np.zeros(trav_cap, np.int64)
    trav_start, trav_speed = np.zeros(trav_cap), np.zeros(trav_cap)
    leg_agent = np.zeros(0 if edge_events else legs_cap, np.int64)
    leg_route = np.zeros_like(leg_agent)
    leg_start, leg_speed = np.zeros(len(leg_agent)), np.zeros(len(leg_agent))
    bins = np.zeros((4096, 6))
    n_trav, n_legs, t_out_max, bins = _run(
        np.asarray(plan.depart_s, np.float64),
        np.asarray(plan.dwell_s, np.float64),
        np.asarray(plan.out_route, np.int64),
        np.asarray(plan.back_route, np.int64),
        np.asarray(plan.stand_seen, np.float64),
        A,
        S,
        order,
        group_start,
        flat,
        route_start,
        route_len,
        totals,
        first_on_route,
        flat_before,
        length,
        length * np.asarray(streets.width_m, np.float64),
        e_cov,
        e_first,
        frac_seen,
        cam_rate,
        int(plan.march_route),
        float(plan.march_start_s),
        float(plan.march_speed_mps),
        bool(crowding),
        bool(edge_events),
        until_s is not None,
        float(until_s) if until_s is not None else 0.0,
        bool(log),
        traffic,
        edge_seen_s,
        trav_agent,
        trav_edge,
        trav_start,
        trav_speed,
        leg_agent,
        leg_route,
        leg_start,
        leg_speed,
        bins,
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
        partial_agent, partial_edge = _partial_walks(plan, routes, status, entered)
        flows = Flows(
            np.ascontiguousarray(bins.T),
            t_out_max if n_trav else float("nan"),
            traffic,
            edge_seen_s,
            partial_agent,
            partial_edge,
        )
    elif edge_events:
        trav_agent, trav_edge = trav_agent[:n_trav], trav_edge[:n_trav]
        trav_start, trav_speed = trav_start[:n_trav], trav_speed[:n_trav]
    else:
        trav_agent, trav_edge, trav_start, trav_speed = _expand_legs(
            leg_agent[:n_legs], leg_route[:n_legs], leg_start[:n_legs], leg_speed[:n_legs],
            route_len, route_start, flat, flat_before,
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


def _expand_legs(agent, route, start, speed, route_len, route_start, flat, flat_before):
    """Per-edge traversals of one-timeout legs: sim.crowd.model's expansion, from arrays."""
    counts = route_len[route]
    idx = np.repeat(route_start[route] - np.cumsum(counts) + counts, counts) + np.arange(
        counts.sum()
    )
    speeds = np.repeat(speed, counts)
    return (
        np.repeat(agent, counts),
        flat[idx],
        np.repeat(start, counts) + flat_before[idx] / speeds,
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
