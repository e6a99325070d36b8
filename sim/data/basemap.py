"""The city under a report's maps, as the data bundle holds it: borough polygons and the land
inside the NYS shoreline, read when a run folder is written (which keeps them clipped to its
map, ``sim.outputs.basemap``); the report itself never opens the bundle."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import shapely

from sim.data import datasets
from sim.data.datasets import BASEMAP_SOURCES, ResolvedFile
from sim.errors import DataError
from sim.geo import GEOGRAPHIC_CRS


@dataclass(frozen=True)
class CityOutlines:
    """The five boroughs and the land, whole, EPSG:4326."""

    boroughs: gpd.GeoDataFrame  # borough (name), polygon geometry (water included, as published)
    land: shapely.Geometry  # the union of the shoreline file's land polygons
    files: tuple[ResolvedFile, ...]  # the files read, with their checksums


def read_city_outlines(data_dir: Path) -> CityOutlines:
    """Borough polygons and land of the data bundle (read once per process and file version)."""
    found = tuple(datasets.locate(key, data_dir) for key in BASEMAP_SOURCES)
    return _read(found)


@lru_cache(maxsize=2)
def _read(found: tuple[ResolvedFile, ...]) -> CityOutlines:
    frames = {}
    for f in found:
        try:
            frames[f.source.key] = gpd.read_file(f.path)
        except Exception as exc:  # pyogrio raises its own DataSourceError and friends
            raise DataError(f"{f.path}: cannot read it as a GIS layer ({exc})") from None
    boroughs = frames["boroughs"].to_crs(GEOGRAPHIC_CRS)
    name = "BoroName" if "BoroName" in boroughs else boroughs.columns[0]
    boroughs = gpd.GeoDataFrame(
        {"borough": boroughs[name].astype(str)},
        geometry=boroughs.geometry.values,
        crs=GEOGRAPHIC_CRS,
    )
    land = frames["shoreline"].to_crs(GEOGRAPHIC_CRS).geometry.union_all()
    return CityOutlines(boroughs, land, found)
