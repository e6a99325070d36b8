"""Census tracts, the state shoreline and the borough boundaries, read into metres (UTM 18N)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from sim.city.area import BOROUGHS, SHORE_TOLERANCE_M, CityArea
from sim.data import datasets
from sim.data.datasets import ResolvedFile
from sim.errors import DataError, quoted
from sim.exposure.equity import TractCounts, clip_to_land
from sim.geo import PROJECTED_CRS, in_nyc, xy_to_lonlat

log = logging.getLogger(__name__)

# Columns the tract file must carry: id, borough, residents, and the three groups of
# Amnesty's non-white fraction (Hispanic of any race, non-Hispanic White and Black).
TRACT_COLUMNS = ("GEOID", "borough", "pop", "hisp", "white_nh", "black_nh")
BOROUGH_NAME_COLUMN = "BoroName"


def _read_frame(path: Path, what: str):
    import geopandas as gpd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio: text columns that look like JSON
            frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError, OSError...
        raise DataError(f"{path}: cannot read {what} ({str(exc).splitlines()[0]})") from None
    if frame.crs is None:
        raise DataError(f"{path}: {what} has no coordinate reference system")
    try:
        projected = frame.to_crs(PROJECTED_CRS)
        projected.attrs["source_crs"] = frame.crs.to_string()
        return projected
    except Exception as exc:  # pyproj's CRSError, ProjError...
        raise DataError(
            f"{path}: {what} in {quoted(frame.crs.to_string())} cannot be transformed to "
            f"{PROJECTED_CRS} ({str(exc).splitlines()[0][:80]})"
        ) from None


def read_tracts(path: Path) -> TractCounts:
    """Census tracts with residents by race and ethnicity, unclipped, in metres.

    Raises
    ------
    DataError
        When a required column is missing, or a count is not a whole number >= 0.
    """
    frame = _read_frame(path, "census tracts")
    missing = [c for c in TRACT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: census tracts lack column(s) {', '.join(map(repr, missing))} (required: "
            f"{', '.join(TRACT_COLUMNS)}; counts of residents, Hispanic, non-Hispanic White "
            "and Black)"
        )
    counts = {}
    for col in ("pop", "hisp", "white_nh", "black_nh"):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if bad.size:
            raise DataError(
                f"{path}: tract {frame['GEOID'].iloc[bad[0]]!r}: column {col!r} is "
                f"{frame[col].iloc[bad[0]]!r}; allowed: a count >= 0"
            )
        counts[col] = values.astype(np.int64)
    geom = np.asarray(frame.geometry.values, dtype=object)
    _check_tracts(path, frame, geom)
    return TractCounts(
        geoid=frame["GEOID"].astype(str).to_numpy(dtype=object),
        borough=frame["borough"].astype(str).to_numpy(dtype=object),
        geom=shapely.make_valid(geom),
        population=counts["pop"],
        hispanic=counts["hisp"],
        white=counts["white_nh"],
        black=counts["black_nh"],
    )


def _check_tracts(path: Path, frame, geom: np.ndarray) -> None:
    """Every tract once, in a known borough, with a polygon that lies in New York City (a file
    whose coordinates are not in the CRS it declares lands elsewhere once transformed)."""
    geoid = frame["GEOID"].astype(str).to_numpy()
    values, first, counts = np.unique(geoid, return_index=True, return_counts=True)
    if (counts > 1).any():
        twice = np.flatnonzero(counts > 1)
        raise DataError(
            f"{path}: tract {quoted(values[twice[0]])} appears {counts[twice[0]]} times "
            f"({len(twice):,} tracts appear more than once; allowed: each GEOID once)"
        )
    borough = frame["borough"].astype(str).to_numpy()
    unknown = np.flatnonzero(~np.isin(borough, BOROUGHS))
    if unknown.size:
        i = unknown[0]
        raise DataError(
            f"{path}: tract {quoted(geoid[i])}: column 'borough' is {quoted(borough[i])} "
            f"(allowed: {', '.join(BOROUGHS)})"
        )
    polygonal = np.array(
        [g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geom], bool
    )
    polygonal[polygonal] &= ~shapely.is_empty(geom[polygonal])
    if not polygonal.all():
        i = int(np.flatnonzero(~polygonal)[0])
        kind = "no geometry (null)" if geom[i] is None else f"a {geom[i].geom_type}"
        raise DataError(
            f"{path}: tract {quoted(geoid[i])} has {kind}; allowed: a Polygon or MultiPolygon "
            f"({int((~polygonal).sum()):,} tracts lack one)"
        )
    point = shapely.point_on_surface(geom)
    lon, lat = xy_to_lonlat(shapely.get_x(point), shapely.get_y(point))
    outside = np.flatnonzero(~in_nyc(lat, lon))
    if outside.size:
        i = outside[0]
        raise DataError(
            f"{path}: tract {quoted(geoid[i])} lies outside New York City once transformed from "
            f"the file's CRS ({quoted(frame.attrs.get('source_crs', '?'))}); are its "
            "coordinates in the CRS it declares? (allowed: tracts in New York City)"
        )


def read_land(path: Path) -> shapely.Geometry:
    """The land of a shoreline layer (all its polygons as one geometry), in metres."""
    frame = _read_frame(path, "shoreline polygons")
    polys = frame.geometry[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise DataError(f"{path}: shoreline layer holds no polygon")
    return shapely.union_all(np.asarray(polys.values, dtype=object))


def read_boroughs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Borough names and boundaries (water included), in metres."""
    frame = _read_frame(path, "borough boundaries")
    if BOROUGH_NAME_COLUMN not in frame.columns:
        raise DataError(f"{path}: borough boundaries lack column {BOROUGH_NAME_COLUMN!r}")
    return (
        frame[BOROUGH_NAME_COLUMN].astype(str).to_numpy(dtype=object),
        np.asarray(frame.geometry.values, dtype=object),
    )


def load_city_area(data_dir: Path) -> tuple[CityArea, list[ResolvedFile]]:
    """Borough boundaries and the state shoreline from ``data_dir``, land cut to the city."""
    files = [datasets.locate(k, data_dir) for k in ("boroughs", "shoreline")]
    names, boundary = read_boroughs(files[0].path)
    land = clip_to_land(boundary, read_land(files[1].path))
    land = shapely.buffer(shapely.union_all(land), SHORE_TOLERANCE_M)
    shapely.prepare(land)
    city = shapely.buffer(shapely.union_all(boundary), 1.0)  # 1 m: seams between boroughs
    shapely.prepare(city)
    return CityArea(names, boundary, land, city), files
