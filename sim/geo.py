"""Coordinates: WGS84 <-> UTM 18N (metres) and the study-area bounds."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

PROJECTED_CRS = "EPSG:32618"  # WGS 84 / UTM zone 18N, metres; covers all of New York City
GEOGRAPHIC_CRS = "EPSG:4326"

# New York City's extent in degrees (the five boroughs' bounding box, padded by ~1 km). A record
# outside it is a data fault (e.g. the Ban the Scan point with a flipped longitude sign).
NYC_LAT_RANGE = (40.49, 40.92)
NYC_LON_RANGE = (-74.27, -73.69)


@lru_cache(maxsize=2)
def _transformer(inverse: bool) -> Transformer:
    src, dst = (PROJECTED_CRS, GEOGRAPHIC_CRS) if inverse else (GEOGRAPHIC_CRS, PROJECTED_CRS)
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project longitudes and latitudes (degrees) to UTM 18N x, y (metres)."""
    x, y = _transformer(False).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unproject UTM 18N x, y (metres) to longitudes and latitudes (degrees)."""
    lon, lat = _transformer(True).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def in_nyc(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where a (lat, lon) pair lies inside New York City's padded bounding box."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return (
        (lat >= NYC_LAT_RANGE[0])
        & (lat <= NYC_LAT_RANGE[1])
        & (lon >= NYC_LON_RANGE[0])
        & (lon <= NYC_LON_RANGE[1])
    )


# ------------------------------------------------------------------ geometry as plain arrays


def pack_wkb(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Geometries as two plain arrays: the concatenated WKB bytes and their offsets."""
    import shapely

    wkb = shapely.to_wkb(geoms) if len(geoms) else np.zeros(0, object)
    sizes = np.fromiter((len(b) for b in wkb), np.int64, count=len(wkb))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    blob = np.frombuffer(b"".join(wkb), np.uint8) if len(wkb) else np.zeros(0, np.uint8)
    return {"wkb": blob, "offsets": offsets}


def unpack_wkb(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The geometries packed by :func:`pack_wkb`."""
    import shapely

    raw = blob.tobytes()
    parts = [raw[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    return shapely.from_wkb(np.array(parts, dtype=object)) if parts else np.zeros(0, object)
