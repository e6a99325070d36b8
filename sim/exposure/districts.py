"""Figures per City Council district: camera sites and cameras by class, Amnesty's counts,
Amnesty's tract measure with ranks, protest sites, subway exits, and walks from exits to sites.

Every function takes arrays (places in UTM 18N metres, the districts a point falls in from
:meth:`sim.city.districts.Districts.locate`) and returns a table with one row per district;
what each column means, the files it comes from and its method are written into every districts
run's manifest (``sim.outputs.district_files.FIGURES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.city import routing
from sim.city.districts import Districts
from sim.city.network import WalkNetwork
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage, score_route
from sim.exposure.equity import TractCounts, area_measures

# The camera classes a district's table counts, in the order it shows them.
DISTRICT_CLASSES = ("public_street", "private_building", "dot_traffic", "linknyc")
# Subway exits within this walk (metres, on the walk network) of a protest site are where its
# walks start: the default scenario's catchment (origins.max_distance_m).
WALK_CATCHMENT_M = 1500.0
# Walking speed of a scored walk (m/s): the route command's default.
WALK_SPEED_MPS = 1.34


def camera_table(districts: Districts, cameras: CameraSites, where: np.ndarray) -> pd.DataFrame:
    """Camera sites and cameras per district (``where``: each site's district row, -1 none),
    in all and by class; cameras from Amnesty's counts and sites carrying no count."""
    n = len(districts)
    inside = where >= 0
    w = where[inside]

    def tally(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        m = mask[inside]
        return np.bincount(
            w[m], weights=None if weights is None else weights[inside][m], minlength=n
        )

    every = np.ones(len(cameras), bool)
    out = {
        "camera_sites": tally(every).astype(int),
        "cameras": tally(every, cameras.count),
    }
    for cls in DISTRICT_CLASSES:
        pick = cameras.cls == cls
        out[f"sites_{cls}"] = tally(pick).astype(int)
        out[f"cameras_{cls}"] = tally(pick, cameras.count)
    counted = cameras.count_source == "amnesty"
    out["cameras_from_amnesty_counts"] = tally(counted, cameras.count)
    out["sites_without_count"] = tally(~counted).astype(int)
    return pd.DataFrame(out)


def amnesty_table(districts: Districts, where: np.ndarray, cameras: np.ndarray) -> pd.DataFrame:
    """Amnesty's counted intersections (with at least one camera) and their cameras
    (``n_cameras_median``) per district, straight from its counts file."""
    n = len(districts)
    inside = where >= 0
    return pd.DataFrame(
        {
            "amnesty_intersections": np.bincount(where[inside], minlength=n).astype(int),
            "amnesty_cameras": np.bincount(where[inside], weights=cameras[inside], minlength=n),
        }
    )


def tract_measures(districts: Districts, tracts: TractCounts, parts: np.ndarray) -> pd.DataFrame:
    """Amnesty's measure per district: residents and effective public cameras (area-weighted
    over the tracts the district cuts), per 1,000 residents, and the non-white share."""
    m = area_measures(districts.geom, tracts, parts)
    return pd.DataFrame(
        {
            "land_area_km2": m["land_area_m2"].to_numpy() / 1e6,
            "residents": m["residents"].to_numpy(),
            "tracts_cut_or_held": m["tracts"].to_numpy(),
            "effective_public_cameras": m["effective_cameras"].to_numpy(),
            "public_cameras_per_1000": m["surveillance_per_1000"].to_numpy(),
            "nonwhite_share": m["nonwhite_fraction"].to_numpy(),
        }
    )


def ranks(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank of each value among all (1 = highest; ties share the best rank), its rank within
    its group, and how many share its group."""
    s = pd.Series(np.asarray(values, float))
    overall = s.rank(ascending=False, method="min", na_option="bottom").astype(int).to_numpy()
    g = pd.Series(np.asarray(groups, dtype=object))
    within = (
        s.groupby(g).rank(ascending=False, method="min", na_option="bottom").astype(int).to_numpy()
    )
    size = g.map(g.value_counts()).to_numpy(int)
    return overall, within, size


@dataclass(frozen=True)
class SitePoints:
    """Protest sites as arrays: id, name, borough, place (metres), 2020 events, largest crowd."""

    site_id: np.ndarray
    name: np.ndarray
    borough: np.ndarray
    x: np.ndarray
    y: np.ndarray
    events: np.ndarray  # CCC events 2020-05-28..06-30; NaN where unknown
    largest_crowd: np.ndarray  # CCC's largest reported crowd; NaN where none was reported


def site_table(districts: Districts, sites: SitePoints, where: np.ndarray) -> pd.DataFrame:
    """Protest sites per district: how many, their names, 2020 events and largest crowd."""
    rows = []
    for k in range(len(districts)):
        mine = np.flatnonzero(where == k)
        events = sites.events[mine]
        crowd = sites.largest_crowd[mine]
        rows.append(
            {
                "protest_sites": len(mine),
                "protest_site_names": "; ".join(str(s) for s in sites.name[mine]),
                "ccc2020_events": float(np.nansum(events)) if len(mine) else 0.0,
                "ccc2020_largest_crowd": float(np.nanmax(crowd))
                if np.isfinite(crowd).any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def station_table(
    districts: Districts, complex_id: np.ndarray, station: np.ndarray, where: np.ndarray
) -> pd.DataFrame:
    """Subway exits (entrances that allow exiting) and the stations (complexes) they serve,
    per district; a station whose exits lie in two districts counts in each."""
    rows = []
    for k in range(len(districts)):
        mine = where == k
        ids, first = np.unique(complex_id[mine].astype(str), return_index=True)
        names = sorted({str(s) for s in station[mine][first]})
        rows.append(
            {
                "subway_exits": int(mine.sum()),
                "subway_stations": len(ids),
                "subway_station_names": "; ".join(names),
            }
        )
    return pd.DataFrame(rows)


def site_walks(
    network: WalkNetwork,
    coverage: Coverage,
    site_node: int,
    exit_node: np.ndarray,
    catchment_m: float = WALK_CATCHMENT_M,
) -> pd.DataFrame:
    """The shortest walk from each subway exit within ``catchment_m`` (walking, on the network)
    to a site's node, scored as the route command scores it: its length and the share of it
    in view of a camera (``coverage``'s cameras and reach). One row per exit walked from (its
    row in ``exit_node``); an exit at the site's own street corner walks nothing and is left
    out."""
    tree = routing.shortest_tree(network, network.edge_length_m, site_node, towards=True)
    dist = tree.dist[exit_node]
    rows = []
    for i in np.flatnonzero(np.isfinite(dist) & (dist <= catchment_m)):
        edges = routing.tree_route(network, tree, int(exit_node[i]))
        if edges.size == 0:
            continue
        score = score_route(network.edge_length_m, coverage, edges, WALK_SPEED_MPS)
        rows.append(
            {
                "exit_row": int(i),
                "walk_m": score.length_m,
                "share_in_view": score.share_surveilled,
                "share_in_view_public": score.share_surveilled_public,
                "camera_sites_in_reach": len(score.cameras),
            }
        )
    columns = [
        "exit_row",
        "walk_m",
        "share_in_view",
        "share_in_view_public",
        "camera_sites_in_reach",
    ]
    return pd.DataFrame(rows, columns=columns)


def summarise_walks(shares: np.ndarray) -> dict[str, float]:
    """Median, least and most of a set of walks' shares in view (NaN with no walk)."""
    shares = np.asarray(shares, float)
    if shares.size == 0:
        return {"median": np.nan, "min": np.nan, "max": np.nan, "walks": 0}
    return {
        "median": float(np.median(shares)),
        "min": float(shares.min()),
        "max": float(shares.max()),
        "walks": int(shares.size),
    }
