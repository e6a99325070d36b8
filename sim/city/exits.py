"""Subway exits snapped to the walk network, one row per exit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# An exit farther than this from any walk-network node is reported and left out: it belongs to
# another borough or to a part of the network the OSM extract does not hold.
MAX_EXIT_SNAP_M = 100.0


@dataclass(frozen=True)
class Exits:
    """Subway exits snapped to a walk network, one row per exit (arrays of equal length)."""

    exit_id: np.ndarray  # "<complex id>-<line in file>", stable for one file
    station: np.ndarray
    complex_id: np.ndarray
    gtfs_stop_ids: np.ndarray  # tuple of ids per exit (an entrance may serve several)
    routes: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    x: np.ndarray
    y: np.ndarray
    node: np.ndarray
    snap_m: np.ndarray

    def __len__(self) -> int:
        return len(self.exit_id)

    def subset(self, mask: np.ndarray) -> Exits:
        """The exits where ``mask`` is true (or at the given indices)."""
        return Exits(**{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})

    def matching_station(self, name: str) -> np.ndarray:
        """Indices of exits whose station, GTFS stop id or exit id is ``name`` (any case)."""
        wanted = name.strip().lower()
        return np.array(
            [
                i
                for i in range(len(self))
                if self.station[i].lower() == wanted
                or wanted in (g.lower() for g in self.gtfs_stop_ids[i])
                or self.exit_id[i].lower() == wanted
            ],
            dtype=np.int64,
        )
