"""Tidy tables of a replication: one row per protester, and the crowd over time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.city.exits import Exits
from sim.columns import agent_column_names
from sim.crowd.model import ACC, STATUS_DONE, STATUS_NO_ROUTE, Outcome, Plan, Streets
from sim.exposure.coverage import Coverage, PointExposure

AGENT_COLUMNS = agent_column_names()


def agent_table(
    origins: Exits,
    site_id: str | np.ndarray,
    edge_length_m: np.ndarray,
    coverage: Coverage,
    plan: Plan,
    out: Outcome,
    stand: PointExposure,
    rep: int,
    seed: int,
) -> pd.DataFrame:
    """One row per protester: origin, times, and every exposure metric (``AGENT_COLUMNS``).

    ``site_id``: the site, or each protester's (several sites at once)."""
    n = len(plan.depart_s)
    walk, dwell = out.walk_exposure, out.dwell_exposure
    idx = {k: i for i, k in enumerate(ACC)}
    distinct, distinct_pub = _distinct_cameras(coverage, plan, out, stand)
    route_m = np.array([edge_length_m[r].sum() for r in plan.routes])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(out.walk_m > 0, out.seen_m / out.walk_m, 0.0)
        share_pub = np.where(out.walk_m > 0, out.seen_public_m / out.walk_m, 0.0)
    reason = np.where(out.status == STATUS_NO_ROUTE, "no walkable route from exit to site", "")
    return pd.DataFrame(
        {
            "replication": np.full(n, rep),
            "seed": np.full(n, seed, dtype=np.int64),
            "agent_id": np.arange(n),
            "origin_exit": origins.exit_id[plan.origin],
            "station": origins.station[plan.origin],
            "site": site_id,
            "status": out.status,
            "reason": reason,
            "depart_s": plan.depart_s,
            "arrive_s": out.arrive_s,
            "leave_s": out.leave_s,
            "end_s": out.end_s,
            "speed_mps": plan.speed_mps,
            "route_m": route_m[plan.out_route],
            "walk_m": out.walk_m,
            "walk_s": out.walk_s,
            "dwell_s": out.dwell_s,
            "seen_walk_s": walk[:, idx["seen"]],
            "seen_dwell_s": dwell[:, idx["seen"]],
            "seen_total_s": walk[:, idx["seen"]] + dwell[:, idx["seen"]],
            "seen_public_walk_s": walk[:, idx["seen_public"]],
            "share_surveilled": share,
            "share_surveilled_public": share_pub,
            "camera_s": walk[:, idx["camera"]] + dwell[:, idx["camera"]],
            "recognition_s": walk[:, idx["recognition"]] + dwell[:, idx["recognition"]],
            "identification_s": walk[:, idx["identification"]] + dwell[:, idx["identification"]],
            "distinct_cameras": distinct,
            "distinct_public_cameras": distinct_pub,
            "first_exposure_s": out.first_exposure_s,
            "first_exposure_after_depart_s": out.first_exposure_s - plan.depart_s,
        }
    )[AGENT_COLUMNS]


def _distinct_cameras(
    coverage: Coverage, plan: Plan, out: Outcome, stand: PointExposure
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct camera sites (all, public) seeing each protester along its walk or standing."""
    n = len(plan.depart_s)
    per_route = [coverage.edges.cameras_on(r) for r in plan.routes]
    all_n, pub_n = np.zeros(n, np.int64), np.zeros(n, np.int64)
    cache: dict[tuple, tuple[int, int]] = {}
    # protesters who finished walked their routes whole; others (a clock stopped early): their
    # traversals. Standing counts where they stood for any time.
    trav_agent, trav_edge = out.trav_agent, out.trav_edge
    if out.flows is not None:  # no traversal log: the walks of those who had not finished
        trav_agent, trav_edge = out.flows.partial_agent, out.flows.partial_edge
    order = np.argsort(trav_agent, kind="stable")
    bounds = np.searchsorted(trav_agent[order], np.arange(n + 1))
    none = np.zeros(0, np.int64)
    for i in range(n):
        standing = stand.cameras[i] if out.dwell_s[i] > 0 else none
        if out.status[i] == STATUS_DONE:
            legs = (plan.out_route[i], plan.march_route, plan.back_route[i])
            key = (legs, tuple(standing.tolist()))
            if key not in cache:
                parts = [per_route[r] for r in legs if r >= 0] + [standing]
                cams = np.unique(np.concatenate(parts))
                cache[key] = (len(cams), int(coverage.public[cams].sum()))
            all_n[i], pub_n[i] = cache[key]
        else:
            edges = trav_edge[order[bounds[i] : bounds[i + 1]]]
            cams = np.unique(np.concatenate([coverage.edges.cameras_on(edges), standing]))
            all_n[i], pub_n[i] = len(cams), int(coverage.public[cams.astype(np.int64)].sum())
    return all_n, pub_n


def timeseries(plan: Plan, out: Outcome, streets: Streets, step_s: float, rep: int) -> pd.DataFrame:
    """The crowd over time at ``step_s``: protesters on the street, at the site, in view, and
    cumulative seen seconds and camera-seconds, integrated on a one-second grid."""
    dur = streets.length_m[out.trav_edge] / out.trav_speed_mps
    t_in = out.trav_start_s
    t_out = t_in + dur
    if out.flows is not None:  # the traversals' flows were summed as the run went
        t_out = np.array([out.flows.t_out_max])
    horizon = float(np.nanmax(np.r_[t_out, out.leave_s, out.end_s, plan.depart_s, 0.0])) + 1
    n_bins = int(np.ceil(horizon)) + 1

    def rate(start, stop, value):
        ok = np.isfinite(start) & np.isfinite(stop) & (stop > start)
        up = np.bincount(np.floor(start[ok]).astype(np.int64), value[ok], n_bins + 1)
        down = np.bincount(np.floor(stop[ok]).astype(np.int64), value[ok], n_bins + 1)
        return np.cumsum(up - down)[:n_bins]

    frac_seen = np.where(
        streets.length_m[out.trav_edge] > 0,
        streets.seen_m[out.trav_edge] / streets.length_m[out.trav_edge],
        0.0,
    )
    cam_rate = np.where(
        streets.length_m[out.trav_edge] > 0,
        streets.camera_m[out.trav_edge] / streets.length_m[out.trav_edge],
        0.0,
    )
    ones = np.ones(len(t_in))
    arrive, leave = out.arrive_s, np.where(np.isfinite(out.leave_s), out.leave_s, horizon)
    if out.flows is None:
        on_street, walk_view, walk_cam = (rate(t_in, t_out, v) for v in (ones, frac_seen, cam_rate))
    else:
        b = np.pad(out.flows.bins, ((0, 0), (0, max(n_bins - out.flows.bins.shape[1], 0))))
        on_street, walk_view, walk_cam = (np.cumsum(b[k] - b[k + 1])[:n_bins] for k in (0, 2, 4))
    at_site = rate(arrive, leave, np.ones(len(arrive)))
    in_view = walk_view + rate(arrive, leave, plan.stand_seen.astype(float))
    cam = walk_cam + rate(arrive, leave, plan.stand_camera)
    grid = np.arange(0, n_bins, step_s)
    cum_seen = np.concatenate(([0.0], np.cumsum(in_view)))
    cum_cam = np.concatenate(([0.0], np.cumsum(cam)))
    g = np.minimum(grid.astype(np.int64), n_bins - 1)
    return pd.DataFrame(
        {
            "replication": rep,
            "t_s": grid,
            "on_street": on_street[g],
            "at_site": at_site[g],
            "in_view": in_view[g],
            "cumulative_seen_s": cum_seen[g],
            "cumulative_camera_s": cum_cam[g],
        }
    )
