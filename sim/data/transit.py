"""The MTA entrances file: exits read, filtered to those exits allow, and snapped to the network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.city.exits import MAX_EXIT_SNAP_M, Exits
from sim.city.network import WalkNetwork, snap_points
from sim.data.records import read_csv_columns, strict_coordinates

log = logging.getLogger(__name__)

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
class Entrances:
    """The MTA file's entrances that allow exiting, unsnapped (every borough), in file order."""

    exit_id: np.ndarray  # "<complex id>-<line in file>", as :class:`Exits` names them
    station: np.ndarray
    complex_id: np.ndarray
    gtfs_stop_ids: np.ndarray  # the file's "GTFS Stop ID" text
    routes: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def __len__(self) -> int:
        return len(self.exit_id)


def read_entrances(path: Path) -> Entrances:
    """The entrances of the MTA file whose ``Exit Allowed`` is YES, in every borough."""
    frame = read_csv_columns(path, MTA_COLUMNS)
    lat, lon = strict_coordinates(frame, path, "Entrance Latitude", "Entrance Longitude")
    line = np.arange(len(frame)) + 2
    is_exit = frame["Exit Allowed"].str.strip().str.upper().eq("YES").to_numpy()
    frame, lat, lon, line = frame[is_exit], lat[is_exit], lon[is_exit], line[is_exit]
    return Entrances(
        exit_id=np.array([f"{c}-{n}" for c, n in zip(frame["Complex ID"], line)], dtype=object),
        station=frame["Stop Name"].to_numpy(object),
        complex_id=frame["Complex ID"].to_numpy(object),
        gtfs_stop_ids=frame["GTFS Stop ID"].to_numpy(object),
        routes=frame["Daytime Routes"].to_numpy(object),
        lat=np.asarray(lat, float),
        lon=np.asarray(lon, float),
    )


def read_exits(path: Path, network: WalkNetwork) -> tuple[Exits, list[str]]:
    """Exits from the MTA entrances file, snapped to ``network``.

    Rows whose ``Exit Allowed`` is not YES are dropped. Returns the exits and the ids of exits
    left out for lying more than :data:`MAX_EXIT_SNAP_M` from the network.
    """
    found = read_entrances(path)
    x, y, node, snap = snap_points(network, found.lat, found.lon)
    exit_id = found.exit_id
    near = snap <= MAX_EXIT_SNAP_M
    far_ids = [str(e) for e in exit_id[~near]]
    if far_ids:
        log.info(
            "%s: %d exit(s) lie more than %.0f m from the walk network and are left out",
            path.name,
            len(far_ids),
            MAX_EXIT_SNAP_M,
        )
    stops = np.empty(len(found), dtype=object)
    stops[:] = [tuple(s.strip() for s in g.split(";") if s.strip()) for g in found.gtfs_stop_ids]
    exits = Exits(
        exit_id=exit_id,
        station=found.station,
        complex_id=found.complex_id,
        gtfs_stop_ids=stops,
        routes=found.routes,
        lat=found.lat,
        lon=found.lon,
        x=x,
        y=y,
        node=node,
        snap_m=snap,
    )
    return exits.subset(near), far_ids
