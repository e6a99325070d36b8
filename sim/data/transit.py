"""The MTA entrances file: exits read, filtered to those exits allow, and snapped to the network."""

from __future__ import annotations

import logging
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
