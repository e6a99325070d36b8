"""Static figures of a report, drawn by the same maps and plots as a run's own figures
(``sim.outputs.plot``) from the folder's files: maps of the streets around the site, and the
distribution of exposure across the crowd. Returned as PNG bytes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.geo import PROJECTED_CRS
from sim.outputs import plot
from sim.outputs.basemap import Basemap
from sim.outputs.cartography import MapFrame, png

DPI = 150


def site_mark(name: str, site: gpd.GeoDataFrame, xy: tuple[float, float]) -> plot.SiteMark:
    """The site as the maps draw it: its point (UTM metres) and area."""
    area = site.to_crs(PROJECTED_CRS).geometry.iloc[0]
    return plot.SiteMark(name, float(xy[0]), float(xy[1]), area)


def camera_marks(cameras: gpd.GeoDataFrame) -> plot.CameraMarks:
    """Camera sites (points with a ``class`` column) as the maps draw them."""
    pts = cameras.to_crs(PROJECTED_CRS).geometry
    return plot.CameraMarks(np.c_[pts.x, pts.y], cameras["class"].to_numpy(object))


def stations_of(manifest: dict) -> list[tuple[str, float, float]]:
    """The stations protesters come from, as the run recorded their places (its manifest's
    ``origins/station_places``; none for a folder written before runs kept them)."""
    return plot.station_marks((manifest.get("origins") or {}).get("station_places") or [])


def street_map(
    basemap: Basemap,
    streets: gpd.GeoDataFrame,
    column: str,
    breaks: list[float],
    colour_label: str,
    cameras: gpd.GeoDataFrame,
    site: plot.SiteMark,
    stations: list[tuple[str, float, float]],
    title: str,
    zero_label: str,
    edits: gpd.GeoDataFrame | None = None,
) -> bytes:
    """Streets coloured by ``column`` in classes ``breaks`` over the basemap's extent, with
    camera sites, stations, the site, and the cameras a scenario edited."""
    edited = None
    if edits is not None and len(edits):
        e = edits.to_crs(PROJECTED_CRS)
        edited = (np.c_[e.geometry.x, e.geometry.y], e["action"].to_numpy(object))
    fig = plot.street_map(
        MapFrame.of_bounds(basemap.bounds, site.x, site.y, site.name),
        streets.to_crs(PROJECTED_CRS).geometry.values,
        streets[column].to_numpy(float),
        breaks,
        colour_label,
        camera_marks(cameras),
        site,
        title,
        stations=stations,
        city=basemap,
        edits=edited,
        zero_label=zero_label,
        names=(
            (streets["name"].fillna("").to_numpy(object), streets["highway"].to_numpy(object))
            if "name" in streets
            else None
        ),
    )
    return png(fig, DPI)


def distribution(agents_by_name: dict[str, pd.DataFrame], title: str) -> bytes:
    """Share of protesters at or below each time in view, walking and walk + site, one line
    per scenario."""
    fig = plot.ecdf_panels(agents_by_name, ("seen_walk_s", "seen_total_s"), title)
    return png(fig, DPI)
