"""Subway exits: the MTA entrances file, filtered to exits and snapped to the walk network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.network import WalkNetwork, snap_points
from sim.records import read_csv_columns, strict_coordinates

log = logging.getLogger(__name__)

# An exit farther than this from any walk-network node is reported and left out: it belongs to
# another borough or to a part of the network the OSM extract does not hold.
MAX_EXIT_SNAP_M = 100.0

MTA_COLUMNS = [
    "Stop Name",
    "Complex ID",
    "Station ID",
    "GTFS Stop ID",
    "Daytime Routes",
    "Entrance Type",
    "Exit Allowed",
    "Entrance Latitude",
    "Entrance Longitude",
]


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


def read_exits(path: Path, network: WalkNetwork) -> tuple[Exits, list[str]]:
    """Exits from the MTA entrances file, snapped to ``network``.

    Rows whose ``Exit Allowed`` is not YES are dropped. Returns the exits and the ids of exits
    left out for lying more than :data:`MAX_EXIT_SNAP_M` from the network.
    """
    frame = read_csv_columns(path, MTA_COLUMNS)
    lat, lon = strict_coordinates(frame, path, "Entrance Latitude", "Entrance Longitude")
    line = np.arange(len(frame)) + 2
    is_exit = frame["Exit Allowed"].str.strip().str.upper().eq("YES").to_numpy()
    frame, lat, lon, line = frame[is_exit], lat[is_exit], lon[is_exit], line[is_exit]
    x, y, node, snap = snap_points(network, lat, lon)
    exit_id = np.array([f"{c}-{n}" for c, n in zip(frame["Complex ID"], line)], dtype=object)
    near = snap <= MAX_EXIT_SNAP_M
    far_ids = [str(e) for e in exit_id[~near]]
    if far_ids:
        log.info(
            "%s: %d exit(s) lie more than %.0f m from the walk network and are left out",
            path.name,
            len(far_ids),
            MAX_EXIT_SNAP_M,
        )
    stops = np.empty(len(frame), dtype=object)
    stops[:] = [tuple(s.strip() for s in g.split(";") if s.strip()) for g in frame["GTFS Stop ID"]]
    exits = Exits(
        exit_id=exit_id,
        station=frame["Stop Name"].to_numpy(object),
        complex_id=frame["Complex ID"].to_numpy(object),
        gtfs_stop_ids=stops,
        routes=frame["Daytime Routes"].to_numpy(object),
        lat=lat,
        lon=lon,
        x=x,
        y=y,
        node=node,
        snap_m=snap,
    )
    return exits.subset(near), far_ids
