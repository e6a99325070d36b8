"""The city under a report's maps: borough outlines, water and the walk network, clipped to the
map's extent (no tiles: everything is drawn from the data bundle and the run's own layers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from sim.data import datasets
from sim.errors import DataError
from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS

# Margin (metres) around the walked streets and the site that a report's maps show.
MAP_MARGIN_M = 350.0


@dataclass(frozen=True)
class Basemap:
    """Borough outlines and water (EPSG:4326) within ``bounds`` (lon0, lat0, lon1, lat1)."""

    bounds: tuple[float, float, float, float]
    boroughs: gpd.GeoDataFrame  # BoroName, outline geometry (water included, as published)
    water: gpd.GeoDataFrame  # water inside the city's boundaries: boroughs minus the land
    city: gpd.GeoDataFrame  # whole borough polygons (for a locator inset)
    files: list[dict[str, Any]]  # provenance of the files read


def map_extent(
    streets: gpd.GeoDataFrame, site_lonlat: tuple[float, float], margin_m: float = MAP_MARGIN_M
) -> tuple[float, float, float, float]:
    """Bounds (lon0, lat0, lon1, lat1) of a square around the walked streets and the site,
    plus a margin."""
    walked = streets[streets["traversals_per_replication"] > 0]
    pts = [shapely.Point(site_lonlat)]
    if len(walked):
        pts.append(shapely.box(*walked.total_bounds))
    area = gpd.GeoSeries(pts, crs=GEOGRAPHIC_CRS).to_crs(PROJECTED_CRS)
    x0, y0, x1, y1 = area.total_bounds
    half = max(x1 - x0, y1 - y0) / 2 + margin_m  # square, so that maps print alike
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box = shapely.box(cx - half, cy - half, cx + half, cy + half)
    return tuple(gpd.GeoSeries([box], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).total_bounds)


def load_basemap(data_dir: Path, bounds: tuple[float, float, float, float]) -> Basemap:
    """Borough outlines and water of the data bundle, clipped to ``bounds``."""
    files = []
    frames = {}
    for key in ("boroughs", "shoreline"):
        found = datasets.locate(key, data_dir)
        files.append(found.provenance())
        try:
            frames[key] = gpd.read_file(found.path)
        except Exception as exc:  # pyogrio raises its own DataSourceError and friends
            raise DataError(f"{found.path}: cannot read it as a GIS layer ({exc})") from None
    clip = shapely.box(*bounds)
    boroughs = frames["boroughs"].to_crs(GEOGRAPHIC_CRS)
    name = "BoroName" if "BoroName" in boroughs else boroughs.columns[0]
    boroughs = gpd.GeoDataFrame(
        {"borough": boroughs[name].astype(str)},
        geometry=boroughs.geometry.values,
        crs=GEOGRAPHIC_CRS,
    )
    land = frames["shoreline"].to_crs(GEOGRAPHIC_CRS).geometry.union_all()
    city = boroughs.geometry.union_all()
    wide = clip.buffer(0.01)  # clip a little wider than the map so edges never show
    water = shapely.difference(shapely.intersection(city, wide), land)
    whole = boroughs.copy()
    boroughs = boroughs.assign(geometry=boroughs.geometry.boundary.intersection(wide))
    boroughs = boroughs[~boroughs.geometry.is_empty].reset_index(drop=True)
    water_frame = gpd.GeoDataFrame(
        {"what": ["water within the city's boundaries"]},
        geometry=[water],
        crs=GEOGRAPHIC_CRS,
    )
    return Basemap(tuple(float(b) for b in bounds), boroughs, water_frame, whole, files)


def clip_streets(streets: gpd.GeoDataFrame, bounds: tuple[float, ...]) -> gpd.GeoDataFrame:
    """Streets that intersect ``bounds``."""
    return streets[streets.intersects(shapely.box(*bounds))]


def lines_xy(frame: gpd.GeoDataFrame, crs: str = PROJECTED_CRS) -> list[np.ndarray]:
    """Each (multi)line of ``frame`` as coordinate arrays in ``crs`` (for matplotlib)."""
    out = []
    for g in frame.to_crs(crs).geometry:
        if g is None or g.is_empty:
            continue
        parts = g.geoms if hasattr(g, "geoms") else [g]
        out.extend(np.asarray(p.coords) for p in parts)
    return out
