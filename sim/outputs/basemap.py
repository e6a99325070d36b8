"""The city under a report's maps: borough outlines and water clipped to the map's extent, kept
in a run folder as ``basemap.gpkg`` when the run is written and read back from there by the
report (no tiles: everything is drawn from the run's own files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from sim.data.basemap import CityOutlines
from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS
from sim.outputs.layers import write_geopackage

BASEMAP_FILE = "basemap.gpkg"
BASEMAP_LAYERS = ("boroughs", "water", "city")
# Margin (metres) around the walked streets and the site that a report's maps show.
MAP_MARGIN_M = 350.0


@dataclass(frozen=True)
class Basemap:
    """Borough outlines and water (EPSG:4326) within ``bounds`` (lon0, lat0, lon1, lat1)."""

    bounds: tuple[float, float, float, float]
    boroughs: gpd.GeoDataFrame  # borough, its outline (lines) near the map
    water: gpd.GeoDataFrame  # water inside the city's boundaries: boroughs minus the land
    city: gpd.GeoDataFrame  # whole borough polygons (for a locator inset)
    files: list[dict[str, Any]]  # provenance of the bundle files it was cut from


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
    bounds = gpd.GeoSeries([box], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).total_bounds
    return tuple(float(b) for b in bounds)


def bounds_around(xy: np.ndarray, margin_m: float) -> tuple[float, float, float, float]:
    """Bounds (lon0, lat0, lon1, lat1) of the square around points (UTM 18N metres, n x 2),
    plus a margin: the extent of a map drawn around them."""
    (x0, y0), (x1, y1) = np.min(xy, axis=0), np.max(xy, axis=0)
    half = max(x1 - x0, y1 - y0) / 2 + margin_m
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box = shapely.box(cx - half, cy - half, cx + half, cy + half)
    bounds = gpd.GeoSeries([box], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).total_bounds
    return tuple(float(b) for b in bounds)


def clip_basemap(city: CityOutlines, bounds: tuple[float, float, float, float]) -> Basemap:
    """The city's borough outlines and water, clipped to ``bounds``."""
    clip = shapely.box(*bounds)
    boroughs = city.boroughs
    wide = clip.buffer(0.01)  # clip a little wider than the map so edges never show
    water = shapely.difference(shapely.intersection(boroughs.geometry.union_all(), wide), city.land)
    outlines = boroughs.assign(geometry=boroughs.geometry.boundary.intersection(wide))
    outlines = outlines[~outlines.geometry.is_empty].reset_index(drop=True)
    water_frame = gpd.GeoDataFrame(
        {"what": ["water within the city's boundaries"]},
        geometry=[water],
        crs=GEOGRAPHIC_CRS,
    )
    files = [f.provenance() for f in city.files]
    return Basemap(tuple(float(b) for b in bounds), outlines, water_frame, boroughs.copy(), files)


def within(basemap: Basemap, bounds: tuple[float, float, float, float]) -> Basemap:
    """The part of a basemap cut for a larger extent (the whole city, once) that a map of
    ``bounds`` (inside it) shows: cheaper than cutting the city's water again for each map."""
    wide = shapely.box(*bounds).buffer(0.01)
    water = basemap.water.assign(geometry=basemap.water.geometry.intersection(wide))
    outlines = basemap.boroughs.assign(geometry=basemap.boroughs.geometry.intersection(wide))
    outlines = outlines[~outlines.geometry.is_empty].reset_index(drop=True)
    return Basemap(tuple(float(b) for b in bounds), outlines, water, basemap.city, basemap.files)


def write_basemap(path: Path, basemap: Basemap) -> None:
    """The basemap's layers as one GeoPackage (EPSG:4326), geometries exactly as built."""
    write_geopackage(
        path,
        {name: getattr(basemap, name) for name in BASEMAP_LAYERS},
        promote_to_multi=False,  # lines stay lines: the maps read back what was cut
        geometry_type="Unknown",
    )


def read_basemap(path: Path, bounds: list[float], files: list[dict[str, Any]]) -> Basemap:
    """A basemap written by :func:`write_basemap`, with the bounds and files its run recorded."""
    layers = {name: gpd.read_file(path, layer=name) for name in BASEMAP_LAYERS}
    return Basemap(tuple(float(b) for b in bounds), **layers, files=list(files))


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
