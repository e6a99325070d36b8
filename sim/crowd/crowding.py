"""Crowding: Weidmann's speed-density relation and the walking width of each street type."""

from __future__ import annotations

import math

import numpy as np

# Weidmann (1993), Transporttechnik der Fussgaenger, fundamental diagram for pedestrians:
#   v(rho) = v_free * (1 - exp(-gamma * (1/rho - 1/rho_max))), gamma = 1.913 ped/m^2,
#   rho_max = 5.4 ped/m^2 (jam density).
WEIDMANN_GAMMA = 1.913
WEIDMANN_JAM_DENSITY = 5.4
# A jammed edge still drains slowly; a walker never goes below this share of its free speed.
MIN_SPEED_FACTOR = 0.05

# Effective walking width (metres) by OSM highway tag: the part of the way protesters use.
# Manhattan sidewalks are typically 3-6 m (NYC DOT Street Design Manual); a street edge of the
# OSM walk graph stands for both its sidewalks; protest crowds spill into side streets.
WALKING_WIDTH_M = {
    "footway": 3.0,
    "path": 3.0,
    "steps": 2.0,
    "cycleway": 3.0,
    "pedestrian": 10.0,
    "living_street": 8.0,
    "residential": 8.0,
    "service": 5.0,
    "unclassified": 6.0,
    "tertiary": 8.0,
    "tertiary_link": 5.0,
    "secondary": 9.0,
    "secondary_link": 5.0,
    "primary": 10.0,
    "primary_link": 5.0,
    "trunk": 4.0,
    "trunk_link": 3.0,
    "track": 3.0,
    "bridleway": 3.0,
}
DEFAULT_WALKING_WIDTH_M = 4.0


def walking_width_m(highway: np.ndarray) -> np.ndarray:
    """Effective walking width (metres) of each edge from its OSM highway tag."""
    return np.array([WALKING_WIDTH_M.get(h, DEFAULT_WALKING_WIDTH_M) for h in highway], float)


def weidmann_factor(density_ppm2: float) -> float:
    """Share of free walking speed at a crowd density (persons per square metre)."""
    if density_ppm2 <= 0:
        return 1.0
    if density_ppm2 >= WEIDMANN_JAM_DENSITY:
        return MIN_SPEED_FACTOR
    factor = 1.0 - math.exp(-WEIDMANN_GAMMA * (1.0 / density_ppm2 - 1.0 / WEIDMANN_JAM_DENSITY))
    return max(factor, MIN_SPEED_FACTOR)
