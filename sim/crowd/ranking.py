"""Which cameras matter most: each site's marginal contribution and the greedy removal curve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from sim.city.exits import Exits
from sim.city.network import WalkNetwork
from sim.city.sites import Site
from sim.crowd.model import Plan
from sim.exposure.coverage import Coverage
from sim.exposure.pieces import SEEN


def edge_camera_metres(coverage: Coverage, n_edges: int) -> sparse.csr_matrix:
    """(n_edges, n_cameras) sparse matrix of metres of each edge each camera sees."""
    seen = coverage.pieces.subset(coverage.pieces.level == SEEN)
    return sparse.csr_matrix(
        (seen.length_m, (seen.edge, seen.camera)), shape=(n_edges, len(coverage.cameras))
    )


def agent_camera_seconds(
    coverage: Coverage,
    n_edges: int,
    plan: Plan,
    stand_cameras: list[np.ndarray],
    dwell_s: np.ndarray,
) -> sparse.csr_matrix:
    """(n_agents, n_cameras): seconds each protester spends in view of each camera site.

    Walk legs give metres seen / free speed (crowding off); the dwell gives its duration for
    every camera seeing the standing point (``dwell_s``: each protester's time at the site as
    simulated). With a march, the march leg is walked at the march speed.
    """
    n = len(plan.depart_s)
    routes = plan.routes
    # the coverage may hold virtual edges after the network's (first and last metres)
    n_edges = max(n_edges, len(coverage.first_seen_m))
    # route incidence: (n_routes, n_edges)
    rows = np.repeat(np.arange(len(routes)), [len(r) for r in routes])
    cols = np.concatenate(routes) if routes else np.zeros(0, np.int64)
    incidence = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(routes), n_edges))
    route_cam = (incidence @ edge_camera_metres(coverage, n_edges)).tocsr()  # metres
    inv_v = 1.0 / plan.speed_mps
    legs = [(plan.out_route, inv_v), (plan.back_route, inv_v)]
    total = sparse.csr_matrix((n, len(coverage.cameras)))
    for route_of, weight in legs:
        ok = route_of >= 0
        pick = sparse.csr_matrix(
            (weight[ok], (np.flatnonzero(ok), route_of[ok])), shape=(n, len(routes))
        )
        total = total + pick @ route_cam
    if plan.march_route >= 0:
        march = sparse.csr_matrix(
            (np.full(n, 1.0 / plan.march_speed_mps), (np.arange(n), np.full(n, plan.march_route))),
            shape=(n, len(routes)),
        )
        total = total + march @ route_cam
    dwell = np.nan_to_num(np.asarray(dwell_s, float))
    lengths = np.array([len(c) for c in stand_cameras])
    if lengths.sum():
        stand = sparse.csr_matrix(
            (
                np.repeat(dwell, lengths),
                (np.repeat(np.arange(n), lengths), np.concatenate(stand_cameras)),
            ),
            shape=(n, len(coverage.cameras)),
        )
        total = total + stand
    return total.tocsr()


@dataclass(frozen=True)
class Contributions:
    """Each camera site's marginal contribution to the crowd's exposure."""

    camera_s: np.ndarray  # camera-seconds the crowd would lose without the site
    seen_only_by: np.ndarray  # protesters seen by this site and no other
    total_camera_s: float
    seen_protesters: int


def marginal_contributions(coverage: Coverage, exposure_s: sparse.csr_matrix) -> Contributions:
    """Marginal contributions from the (agents x cameras) seconds-in-view matrix.

    Camera-seconds add up over cameras (each counts its own cameras), so a site's marginal
    contribution is its own column times its camera count. A protester stops being seen at all
    only when every site seeing them is gone, so a single site's marginal effect on the number
    seen is the protesters it alone sees.
    """
    counts = coverage.cameras.count
    per_cam = np.asarray(exposure_s.sum(axis=0)).ravel() * counts
    nnz = (exposure_s > 0).astype(np.int32).tocsr()
    per_agent = np.asarray(nnz.sum(axis=1)).ravel()
    only = nnz[per_agent == 1]
    seen_only = np.asarray(only.sum(axis=0)).ravel().astype(np.int64)
    return Contributions(per_cam, seen_only, float(per_cam.sum()), int((per_agent > 0).sum()))


def greedy_removal_curve(
    coverage: Coverage, exposure_s: sparse.csr_matrix, top_n: int
) -> pd.DataFrame:
    """Exposure left after removing the 1, 2, ... ``top_n`` most contributing sites.

    Greedy by camera-seconds: since camera-seconds add up over sites, the greedy order is the
    order of marginal contributions and the curve is exact for that metric. The protesters
    still seen are counted for the same removal order.
    """
    contrib = marginal_contributions(coverage, exposure_s)
    order = np.argsort(-contrib.camera_s, kind="stable")[:top_n]
    nnz = (exposure_s > 0).astype(np.int32).tocsc()
    remaining = np.asarray(nnz.sum(axis=1)).ravel()
    left_cs = contrib.total_camera_s
    rows = [
        {
            "removed": 0,
            "camera_id": "",
            "camera_s_left": left_cs,
            "seen_protesters_left": int((remaining > 0).sum()),
        }
    ]
    for k, cam in enumerate(order, 1):
        left_cs -= contrib.camera_s[cam]
        agents = nnz.indices[nnz.indptr[cam] : nnz.indptr[cam + 1]]
        remaining[agents] -= 1
        rows.append(
            {
                "removed": k,
                "camera_id": str(coverage.cameras.camera_id[cam]),
                "camera_s_left": max(left_cs, 0.0),
                "seen_protesters_left": int((remaining > 0).sum()),
            }
        )
    curve = pd.DataFrame(rows)
    total = contrib.total_camera_s or 1.0
    curve["camera_s_left_share"] = curve["camera_s_left"] / total
    curve["seen_protesters_left_share"] = curve["seen_protesters_left"] / max(
        contrib.seen_protesters, 1
    )
    return curve


def ranking_table(coverage: Coverage, contrib: Contributions, top_n: int) -> pd.DataFrame:
    """The ``top_n`` sites by marginal camera-seconds, with class, place and shares."""
    order = np.argsort(-contrib.camera_s, kind="stable")[:top_n]
    cams = coverage.cameras
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "camera_id": cams.camera_id[order],
            "class": cams.cls[order],
            "source": cams.source[order],
            "count": cams.count[order],
            "lat": cams.lat[order],
            "lon": cams.lon[order],
            "camera_s": contrib.camera_s[order],
            "camera_s_share": contrib.camera_s[order] / (contrib.total_camera_s or 1.0),
            "protesters_seen_only_by_site": contrib.seen_only_by[order],
        }
    )


def expected_crowd_routes(
    network: WalkNetwork, origins: Exits, weights: np.ndarray, site: Site, protesters: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Shortest route from each origin and the expected protesters on it (for ``top_k`` edits)."""
    from sim.city.routing import shortest_routes

    return shortest_routes(network, origins.node, site.node), weights * protesters


def expected_contributions(
    coverage: Coverage,
    network: WalkNetwork,
    routes: list[np.ndarray],
    protesters: np.ndarray,
    speed_mps: float,
) -> np.ndarray:
    """Camera-seconds each site adds to an expected crowd walking ``routes`` at one speed."""
    rows = np.repeat(np.arange(len(routes)), [len(r) for r in routes])
    incidence = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, np.concatenate(routes))), shape=(len(routes), network.n_edges)
    )
    metres = incidence @ edge_camera_metres(coverage, network.n_edges)
    return (np.asarray(metres.T @ protesters).ravel() / speed_mps) * coverage.cameras.count


@dataclass(frozen=True)
class CameraRanking:
    """Each camera site's contribution to one replication's crowd, and the removal curve."""

    contributions: Contributions
    table: pd.DataFrame
    curve: pd.DataFrame
    top: np.ndarray  # indices of the top sites, by marginal camera-seconds


def rank_cameras(
    coverage: Coverage,
    n_edges: int,
    plan: Plan,
    stand_cameras: list[np.ndarray],
    dwell_s: np.ndarray,
    top: int,
) -> CameraRanking:
    """Rank camera sites by marginal contribution to a replication's recorded walks and stays.

    Exact for a replication without crowding (removing a camera changes no one's route or speed).
    """
    exposure = agent_camera_seconds(coverage, n_edges, plan, stand_cameras, dwell_s)
    contrib = marginal_contributions(coverage, exposure)
    return CameraRanking(
        contrib,
        ranking_table(coverage, contrib, top),
        greedy_removal_curve(coverage, exposure, top),
        np.argsort(-contrib.camera_s, kind="stable")[:top],
    )
