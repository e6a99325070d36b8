"""Census tracts, the state shoreline and the borough boundaries, read into metres (UTM 18N)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from sim.city.area import SHORE_TOLERANCE_M, CityArea
from sim.data import datasets
from sim.data.datasets import ResolvedFile
from sim.errors import DataError
from sim.exposure.equity import TractCounts, clip_to_land
from sim.geo import PROJECTED_CRS

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
    return frame.to_crs(PROJECTED_CRS)


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
    return TractCounts(
        geoid=frame["GEOID"].astype(str).to_numpy(dtype=object),
        borough=frame["borough"].astype(str).to_numpy(dtype=object),
        geom=shapely.make_valid(geom),
        population=counts["pop"],
        hispanic=counts["hisp"],
        white=counts["white_nh"],
        black=counts["black_nh"],
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
