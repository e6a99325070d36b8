"""Assembly sites: a named place snapped to the walk network, and the protest-sites file's rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.city.network import WalkNetwork, snap_points
from sim.errors import DataError

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
    # Crowd Counting Consortium events reported here from 2020-05-28 to 2020-06-30
    ccc_events: int | None = None


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
