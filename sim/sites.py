"""Assembly sites: named protest sites from the bundle, or sites given by coordinates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import DataError
from sim.network import WalkNetwork, snap_points
from sim.records import read_csv_columns, strict_coordinates

SITE_COLUMNS = ["site_id", "name", "borough", "lat", "lon"]
# A site farther than this from the walk network cannot be reached on foot in this model.
MAX_SITE_SNAP_M = 150.0


@dataclass(frozen=True)
class SiteRecord:
    """One row of the protest-sites file."""

    site_id: str
    name: str
    borough: str
    lat: float
    lon: float
    ccc_max_size: float | None


@dataclass(frozen=True)
class Site:
    """An assembly site: an area of ``radius_m`` around a point, snapped to the network."""

    site_id: str
    name: str
    lat: float
    lon: float
    x: float
    y: float
    radius_m: float
    node: int
    snap_m: float


def read_site_records(path: Path) -> dict[str, SiteRecord]:
    """The protest-sites file as ``{site_id: SiteRecord}``."""
    frame = read_csv_columns(path, SITE_COLUMNS)
    lat, lon = strict_coordinates(frame, path, "lat", "lon")
    ids = frame["site_id"].str.strip()
    repeated = ids.duplicated(keep="first").to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        first = int((ids == ids.iloc[row]).to_numpy().argmax())
        raise DataError(
            f"{path}: line {row + 2}: site_id {ids.iloc[row]!r} repeats line {first + 2} "
            "(allowed: each site_id once)"
        )
    empty = (ids == "").to_numpy()
    if empty.any():
        raise DataError(f"{path}: line {int(empty.argmax()) + 2}: empty site_id")
    sizes = (
        frame["ccc2020_max_size"].replace("", np.nan).astype(float).to_numpy()
        if "ccc2020_max_size" in frame
        else np.full(len(frame), np.nan)
    )
    return {
        row.site_id: SiteRecord(
            row.site_id,
            row.name,
            row.borough,
            float(lat[i]),
            float(lon[i]),
            None if np.isnan(sizes[i]) else float(sizes[i]),
        )
        for i, row in enumerate(frame.itertuples(index=False))
    }


def make_site(
    network: WalkNetwork, site_id: str, name: str, lat: float, lon: float, radius_m: float
) -> Site:
    """Snap a site to ``network``; a site beyond :data:`MAX_SITE_SNAP_M` is an error."""
    x, y, node, snap = snap_points(network, np.array([lat]), np.array([lon]))
    if snap[0] > MAX_SITE_SNAP_M:
        raise DataError(
            f"site {site_id!r} at ({lat}, {lon}) is {snap[0]:.0f} m from the walk network "
            f"(at most {MAX_SITE_SNAP_M:.0f} m allowed): it lies outside the network's area; "
            "name a walk network that covers it in the scenario's [network] (osm = an "
            "OpenStreetMap XML file in the data directory, or place = a place downloaded "
            "when online)"
        )
    return Site(
        site_id, name, lat, lon, float(x[0]), float(y[0]), radius_m, int(node[0]), float(snap[0])
    )
