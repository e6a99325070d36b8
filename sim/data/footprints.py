"""Complete building footprints (DoITT 2017): a fast reader and the open space they leave."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import numpy as np
import shapely

from sim.errors import DataError
from sim.geo import lonlat_to_xy
from sim.unions import union_all_exact

log = logging.getLogger(__name__)

# The open space reaches this far (metres) beyond the footprints' bounding box: cameras on the
# shore see across the water, which blocks nothing.
OPEN_SPACE_MARGIN_M = 500.0


# Building footprint files for sightlines (data-manifest keys), by ``cameras.footprints``:
# DoITT's complete 2017 outlines, or the partial OSM file (which lacks the Washington Square
# strip, 40.730-40.736).
FOOTPRINT_SOURCES = {"doitt_2017": "buildings_doitt", "osm_partial": "buildings"}


def read_footprints(path: Path) -> np.ndarray:
    """Footprint polygons (UTM 18N metres) of a gzip GeoJSON of outer rings (EPSG:4326).

    Only Polygon exterior rings are read (the DoITT copy holds outer rings only, geometry
    only: heights are not used, the sightline model being flat at street level).
    """
    try:
        with gzip.open(path, "rt") as handle:
            features = json.load(handle)["features"]
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise DataError(f"{path}: cannot read building footprints ({exc})") from None
    rings = []
    for i, feature in enumerate(features):
        geom = feature.get("geometry") or {}
        if geom.get("type") != "Polygon" or not geom.get("coordinates"):
            raise DataError(
                f"{path}: feature {i}: geometry type {geom.get('type')!r} (allowed: Polygon)"
            )
        rings.append(np.asarray(geom["coordinates"][0], float))
    if not rings:
        raise DataError(f"{path}: no building polygons")
    sizes = np.array([len(r) for r in rings])
    coords = np.concatenate(rings)
    x, y = lonlat_to_xy(coords[:, 0], coords[:, 1])
    polys = shapely.polygons(
        shapely.linearrings(np.c_[x, y], indices=np.repeat(np.arange(len(rings)), sizes))
    )
    return shapely.make_valid(polys)


def complete_open_space(path: Path) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Open space where the footprint file is complete, and the extent it speaks for.

    The extent is the footprints' bounding box widened by :data:`OPEN_SPACE_MARGIN_M`; inside
    it everything but a building is open. The DoITT copy holds Manhattan's buildings only, so
    the box's corners over Brooklyn, Queens and New Jersey read as open ground: use it for
    Manhattan walks (outside the box, the caller supplies street corridors).
    """
    polys = read_footprints(path)
    built = union_all_exact(polys)  # shapely.union_all's bytes, on two processors
    box = shapely.box(*built.bounds).buffer(OPEN_SPACE_MARGIN_M, join_style="mitre")
    log.info("%s: %d footprints, open space built", path.name, len(polys))
    return shapely.difference(box, built), box
