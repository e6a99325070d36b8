"""Where New York City is: the five boroughs (water included) and their land, for drawn paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

# The five boroughs as the bundle's files spell them (Amnesty's counts: column BoroName; the
# census tracts: column borough).
BOROUGHS = ("Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island")

# A drawn path may run over water (bridges, piers, ferry landings) for less than this share of
# its length; a path mostly over water is a mistake (a line drawn in the river).
MAX_WATER_SHARE = 0.5
# Land is widened by this much (metres) so that piers, esplanades and shoreline paths, which
# the state shoreline layer draws at the water's edge, count as land.
SHORE_TOLERANCE_M = 30.0


@dataclass(frozen=True)
class CityArea:
    """The five boroughs' boundaries (water included) and the land inside them, metres."""

    borough: np.ndarray
    boundary: np.ndarray  # one (multi)polygon per borough
    land: shapely.Geometry
    city: shapely.Geometry  # the union of the boundaries

    def borough_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The borough holding each point, '' outside the city."""
        out = np.full(len(x), "", dtype=object)
        for name, geom in zip(self.borough, self.boundary):
            inside = shapely.contains_xy(geom, x, y)
            out[inside & (out == "")] = name
        return out


def path_problem(xy: np.ndarray, area: CityArea) -> str | None:
    """Why a drawn path (``xy``, metres) cannot be scored, or None when it lies in the city.

    A path must have two distinct points, every point and segment inside the five boroughs,
    and at most :data:`MAX_WATER_SHARE` of its length over water.
    """
    if len(xy) < 2:
        return f"a path needs at least two points, found {len(xy)}"
    line = shapely.LineString(xy)
    if line.length == 0:
        return "all its points are at the same place (zero length)"
    where = area.borough_of(xy[:, 0], xy[:, 1])
    outside = np.flatnonzero(where == "")
    if outside.size:
        return (
            f"point {outside[0] + 1} lies outside New York City's five boroughs (e.g. in New "
            "Jersey, Westchester or Nassau); only walks inside the city can be scored"
        )
    segments = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
    leaves = np.flatnonzero(~shapely.covers(area.city, segments))
    if leaves.size:
        k = leaves[0] + 1
        return (
            f"between points {k} and {k + 1} it leaves New York City's five boroughs (e.g. "
            "through New Jersey); only walks inside the city can be scored"
        )
    water = 1.0 - _length_on(segments, area.land).sum() / line.length
    if water > MAX_WATER_SHARE:
        return (
            f"{water * 100:.0f}% of its {line.length:.0f} m runs over water (at most "
            f"{MAX_WATER_SHARE * 100:.0f}% allowed: bridges yes, a line drawn in the river no)"
        )
    return None


def _length_on(segments: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """The length of each segment inside ``area`` (prepared): whole where ``area`` covers it,
    nothing where it misses it, and the overlay only for the few that cross its edge (one
    overlay of a whole path of many points would take minutes)."""
    shapely.prepare(area)
    out = np.zeros(len(segments))
    inside = shapely.covers(area, segments)
    out[inside] = shapely.length(segments[inside])
    cross = np.flatnonzero(~inside & shapely.intersects(area, segments))
    out[cross] = shapely.length(shapely.intersection(segments[cross], area))
    return out
