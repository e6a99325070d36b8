"""Camera counts at Ban the Scan sites: Amnesty's per-intersection counts, each given out once."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from sim.data.cameras import COUNT_JOIN_MAX_M
from sim.data.records import SkipReport, lenient_coordinates, read_csv_columns
from sim.exposure.cameras import CameraSites
from sim.geo import lonlat_to_xy

log = logging.getLogger(__name__)

# Which of Amnesty's attachment medians count the cameras of a site of each class. A public
# (street-furniture) site holds the street-attached cameras; a private-only site the building
# and unknown ones. Where the attachment medians are empty (every borough but Brooklyn in the
# bundle), the intersection's n_cameras_median is used: Ban the Scan's type already says which
# kind of site it is (on Brooklyn, type 1 matches attached_street_median > 0 at 633 of 634
# intersections, data README).
COUNT_COLUMNS_BY_CLASS = {
    "public_street": ("attached_street_median",),
    "nypd_dome": ("attached_street_median",),
    "private_building": ("attached_building_median", "attached_unknown_median"),
    "unknown": ("n_cameras_median",),
}
# A Ban the Scan site marks at least one camera: a site whose matched count is zero (its
# attachment median says none of that kind) or that matches no counted intersection keeps 1.
MIN_SITE_COUNT = 1.0
# The data README's sum of n_cameras_median over Manhattan intersections (offline bundle and
# Amnesty's full file agree): the total a scenario's Manhattan cameras are reconciled with.
AMNESTY_MANHATTAN_TOTAL = 4266


@dataclass(frozen=True)
class Intersections:
    """Amnesty's intersections with at least one camera: place, borough and count columns."""

    x: np.ndarray
    y: np.ndarray
    borough: np.ndarray
    counts: dict[str, np.ndarray]  # column -> medians (NaN where the cell is empty)

    def __len__(self) -> int:
        return len(self.x)

    def count_for(self, cls: str, rows: np.ndarray) -> np.ndarray:
        """Cameras of a site of class ``cls`` at intersections ``rows``: its attachment
        medians where known, else ``n_cameras_median``."""
        cols = COUNT_COLUMNS_BY_CLASS.get(cls, ("n_cameras_median",))
        parts = np.array([self.counts[c][rows] for c in cols])
        known = np.isfinite(parts).all(axis=0)
        return np.where(known, np.nansum(parts, axis=0), self.counts["n_cameras_median"][rows])


def read_intersections(path: Path) -> tuple[Intersections, SkipReport]:
    """Amnesty's counts file as intersections with cameras (rows with none are left out)."""
    columns = [
        "n_cameras_median",
        "attached_street_median",
        "attached_building_median",
        "attached_unknown_median",
    ]
    frame = read_csv_columns(path, ["n_cameras_median", "Lat", "Long", "BoroName"])
    report = SkipReport(source=path.name, read=len(frame))
    labels = np.array([f"line {i + 2}" for i in frame.index])
    lat, lon, keep = lenient_coordinates(frame["Lat"], frame["Long"], report, labels)
    counts = {
        c: pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
        if c in frame
        else np.full(len(frame), np.nan)
        for c in columns
    }
    keep &= np.nan_to_num(counts["n_cameras_median"]) > 0
    x, y = lonlat_to_xy(lon[keep], lat[keep])
    report.kept = int(keep.sum())
    return (
        Intersections(
            x, y, frame["BoroName"].to_numpy(object)[keep], {c: v[keep] for c, v in counts.items()}
        ),
        report,
    )


@dataclass(frozen=True)
class CountJoin:
    """What giving counts to one layer's sites did (for the manifest)."""

    layer: str
    sites: int
    matched_sites: int
    intersections: int
    cameras_from_counts: float
    shared_intersection_sites: int  # matched an intersection another site was nearer to
    max_distance_m: float

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def count_sites(
    sites: CameraSites,
    inter: Intersections,
    layer: str,
    taken: np.ndarray | None = None,
    max_m: float = COUNT_JOIN_MAX_M,
) -> tuple[CameraSites, np.ndarray, CountJoin]:
    """Give each site the count of its nearest Amnesty intersection within ``max_m``.

    Each intersection's cameras are given out once: when several sites take the same
    intersection (within this layer, or already ``taken`` by an earlier layer), the nearest
    site of the first layer gets its count and the others keep :data:`MIN_SITE_COUNT`.
    Returns the counted sites (``count_source`` "amnesty" where counted), the updated
    ``taken`` mask over intersections, and a report.
    """
    taken = np.zeros(len(inter), bool) if taken is None else taken.copy()
    count = np.full(len(sites), MIN_SITE_COUNT)
    source = np.full(len(sites), "site", dtype=object)
    if len(sites) == 0 or len(inter) == 0:
        report = CountJoin(layer, len(sites), 0, 0, 0.0, 0, max_m)
        return dataclasses.replace(sites, count=count, count_source=source), taken, report
    dist, idx = cKDTree(np.c_[inter.x, inter.y]).query(
        np.c_[sites.x, sites.y], distance_upper_bound=max_m
    )
    found = np.flatnonzero(np.isfinite(dist))
    # nearest site first; a stable sort keeps file order among equal distances
    order = found[np.argsort(dist[found], kind="stable")]
    first = np.zeros(len(sites), bool)
    seen: set[int] = set()
    for i in order.tolist():
        j = int(idx[i])
        if j not in seen and not taken[j]:
            first[i] = True
        seen.add(j)
    rows = idx[first]
    for cls in np.unique(sites.cls[first]):
        of_cls = first & (sites.cls == cls)
        count[of_cls] = inter.count_for(str(cls), idx[of_cls])
    count[first] = np.maximum(count[first], MIN_SITE_COUNT)
    source[first] = "amnesty"
    carried = np.full(len(sites), -1, np.int64)
    carried[first] = rows
    taken[rows] = True
    report = CountJoin(
        layer=layer,
        sites=len(sites),
        matched_sites=int(first.sum()),
        intersections=int(len(np.unique(rows))),
        cameras_from_counts=float(count[first].sum()),
        shared_intersection_sites=int(len(found) - first.sum()),
        max_distance_m=max_m,
    )
    log.info(
        "%s: %d of %d sites carry Amnesty counts (%.0f cameras)",
        layer,
        report.matched_sites,
        report.sites,
        report.cameras_from_counts,
    )
    counted = dataclasses.replace(sites, count=count, count_source=source, intersection=carried)
    return counted, taken, report


def manhattan_reconciliation(
    cameras: CameraSites, inter: Intersections | None, carriers: dict[int, str]
) -> dict[str, float]:
    """How a scenario's camera total relates to Amnesty's Manhattan total (4,266).

    ``cameras`` are the sites that can see the study area; ``carriers`` gives, for each of
    Amnesty's intersections whose count a site took, the site that holds it now (after merges).
    Every Manhattan camera is booked once: at an intersection whose count a site in use holds,
    at one whose count a site that cannot see the study area holds, or at one no site took.
    The scenario adds sites with no count, DOT cameras and LinkNYC kiosks, and counts from
    other boroughs' intersections within reach of Manhattan's streets.
    """
    total = float(cameras.count.sum())
    counted = cameras.count_source == "amnesty"
    out = {
        "cameras_in_use": total,
        "amnesty_manhattan_total_readme": float(AMNESTY_MANHATTAN_TOTAL),
    }
    if inter is None:
        out["amnesty_counts_used"] = 0.0
        return out
    manhattan = inter.borough == "Manhattan"
    n = inter.counts["n_cameras_median"]
    in_use = set(cameras.camera_id.tolist())
    held = np.zeros(len(inter), bool)  # by a site in use
    away = np.zeros(len(inter), bool)  # by a site that cannot see the study area
    for row, site in carriers.items():
        (held if site in in_use else away)[row] = True
    # the counts of sites in use, split by the borough of the intersection each first carried
    # (a merged site holds the counts of every site merged into it)
    site_man = {site: bool(manhattan[row]) for row, site in sorted(carriers.items(), reverse=True)}
    counted_in_man = np.array([site_man.get(c, False) for c in cameras.camera_id], bool)
    out.update(
        {
            "amnesty_manhattan_total_file": float(n[manhattan].sum()),
            "amnesty_manhattan_carried_by_sites": float(n[held & manhattan].sum()),
            "amnesty_manhattan_carried_out_of_reach": float(n[away & manhattan].sum()),
            "amnesty_manhattan_not_carried": float(n[~held & ~away & manhattan].sum()),
            "counted_manhattan_sites_cameras": float(cameras.count[counted & counted_in_man].sum()),
            "counted_other_borough_sites_cameras": float(
                cameras.count[counted & ~counted_in_man].sum()
            ),
        }
    )
    for src in np.unique(cameras.source[~counted]):
        pick = ~counted & (cameras.source == src)
        out[f"uncounted_{src}_cameras"] = float(cameras.count[pick].sum())
    return out
