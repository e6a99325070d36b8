"""How protesters split over subway exits: per exit, per station, by ridership or by weights."""

from __future__ import annotations

import numpy as np

# A station's share is split over its exits by exp(-walk / EXIT_SPLIT_DECAY_M), walk being the
# exit's walking distance to the site: riders take the exit facing their destination, and an
# exit one long block (about 100 m) farther gets e^-1 of the nearer one's share. An assumption
# (no source gives exit choice per destination); a station with one exit is unaffected.
EXIT_SPLIT_DECAY_M = 100.0


def split_within_stations(
    station: np.ndarray, walk_m: np.ndarray, decay_m: float = EXIT_SPLIT_DECAY_M
) -> np.ndarray:
    """Each exit's share of its station (shares of one station sum to 1)."""
    keys, group = np.unique(np.asarray(station, dtype=str), return_inverse=True)
    best = np.full(len(keys), np.inf)
    np.minimum.at(best, group, walk_m)
    raw = np.exp(-(walk_m - best[group]) / decay_m)  # relative to the nearest: no underflow
    return raw / np.bincount(group, weights=raw, minlength=len(keys))[group]


def station_exit_weights(
    station: np.ndarray,
    walk_m: np.ndarray,
    station_weight: dict[str, float],
    decay_m: float = EXIT_SPLIT_DECAY_M,
) -> np.ndarray:
    """Exit weights from per-station weights, split over each station's exits by distance.

    Stations missing from ``station_weight`` get 0.
    """
    per_station = np.array([station_weight.get(str(s), 0.0) for s in station], float)
    return per_station * split_within_stations(station, walk_m, decay_m)


def station_shares(station: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Each station's total share of the crowd (for manifests and tests)."""
    keys, group = np.unique(np.asarray(station, dtype=str), return_inverse=True)
    sums = np.bincount(group, weights=weight, minlength=len(keys))
    total = sums.sum() or 1.0
    return {str(k): float(v / total) for k, v in zip(keys, sums)}
