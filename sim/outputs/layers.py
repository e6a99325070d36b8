"""GIS layers of a run: streets with traffic and exposure, routes used, the site area, edited
cameras; as a run writes them (GeoParquet, CSV) and as a report bundles them (GeoPackage)."""

from __future__ import annotations

import errno
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim.atomic import replacing
from sim.city.network import WalkNetwork
from sim.crowd.usage import RouteUse
from sim.exposure.cameras import CameraSites
from sim.exposure.pieces import EdgeExposure
from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS, lonlat_to_xy

if TYPE_CHECKING:
    from sim.crowd.runner import RunResult

# Two directed edges are one street when they join the same nodes with lengths within this.
SAME_STREET_TOL_M = 0.05

# The highway class of the first and last metres (exit to corner, corner to standing point) in the
# streets layer, where the network's own edges carry their OSM class.
ACCESS_LAYER_HIGHWAY = "first/last metres"


def _to_lonlat(geoms: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS)


def _share(part_m: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    share = np.divide(part_m, length_m, out=np.zeros(len(length_m)), where=length_m > 0)
    return np.clip(share, 0.0, 1.0)  # coverage pieces may overrun an edge's end by float slack


def street_exposure(result):
    """What cameras see of each edge, as a run's layers and maps show it: with camera worlds,
    the mean over its worlds (replications) of each world's metres in view; else the
    set-up's coverage (Amnesty's geometry)."""
    from sim.crowd.runner import STREET_EXPOSURE

    worlds = [r.street_exposure for r in result.replications if r.street_exposure]
    if not worlds:
        return result.setup.coverage.edges
    return SimpleNamespace(
        **{k: np.mean([np.asarray(w[k], float) for w in worlds], axis=0) for k in STREET_EXPOSURE}
    )


def streets_frame(
    network: WalkNetwork,
    edges_exposure: EdgeExposure,
    traversals: np.ndarray,
    seconds_in_view: np.ndarray,
) -> gpd.GeoDataFrame:
    """One row per street (both directions of an edge together), EPSG:4326, with its OSM class
    and name (for a map's labels).

    ``traversals`` and ``seconds_in_view`` are per directed edge and per replication (mean over
    replications); a street's figures are the sums of its two directions. Coverage shares are
    properties of the street's geometry (the same both ways) and come from ``edges_exposure``.
    """
    u, v, length = network.edge_u, network.edge_v, network.edge_length_m
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    length_key = np.round(length / SAME_STREET_TOL_M).astype(np.int64)
    keys = pd.DataFrame({"lo": lo, "hi": hi, "len": length_key, "edge": np.arange(len(u))})
    street = keys.groupby(["lo", "hi", "len"], sort=False).ngroup().to_numpy()
    n = int(street.max()) + 1 if len(street) else 0
    nth = keys.groupby(street).cumcount().to_numpy()  # 0: first direction, 1: the other
    forward, backward = np.full(n, -1), np.full(n, -1)
    forward[street[nth == 0]] = np.flatnonzero(nth == 0)
    backward[street[nth == 1]] = np.flatnonzero(nth == 1)
    ex = edges_exposure
    return gpd.GeoDataFrame(
        {
            "street_id": np.arange(n),
            "edge_forward": forward,
            "edge_backward": backward,
            "highway": network.edge_highway[forward].astype(str),
            "name": network.names()[forward].astype(str),
            "length_m": np.round(length[forward], 2),
            "traversals_per_replication": np.bincount(street, traversals, n),
            "minutes_in_view_per_replication": np.bincount(street, seconds_in_view, n) / 60.0,
            "share_in_view": _share(ex.seen_m[forward], length[forward]),
            "share_in_view_public": _share(ex.seen_public_m[forward], length[forward]),
            "share_recognition": _share(ex.recognition_m[forward], length[forward]),
            "share_identification": _share(ex.identification_m[forward], length[forward]),
            "camera_m": ex.camera_m[forward],
        },
        geometry=_to_lonlat(network.edge_geom[forward]).values,
        crs=GEOGRAPHIC_CRS,
    )


def access_rows(
    streets: gpd.GeoDataFrame,
    setup,
    traversals: np.ndarray,
    seconds_in_view: np.ndarray,
    edges=None,
) -> gpd.GeoDataFrame:
    """``streets`` followed by the walks between exits or standing points and the network
    (``highway`` "first/last metres"), each direction its own row, so that the layer's
    traffic and time in view add up to the protesters' whole walks. ``edges``: what cameras
    see of each edge (default the set-up's coverage)."""
    edges = setup.coverage.edges if edges is None else edges
    access, ex = setup.access, edges
    idx = np.arange(access.n_network, access.n_network + len(access.geom))
    used = traversals > 0
    length = access.length_m
    rows = gpd.GeoDataFrame(
        {
            "street_id": len(streets) + np.arange(int(used.sum())),
            "edge_forward": idx[used],
            "edge_backward": -1,
            "highway": ACCESS_LAYER_HIGHWAY,
            "name": "",
            "length_m": np.round(length[used], 2),
            "traversals_per_replication": traversals[used],
            "minutes_in_view_per_replication": seconds_in_view[used] / 60.0,
            "share_in_view": _share(ex.seen_m[idx][used], length[used]),
            "share_in_view_public": _share(ex.seen_public_m[idx][used], length[used]),
            "share_recognition": _share(ex.recognition_m[idx][used], length[used]),
            "share_identification": _share(ex.identification_m[idx][used], length[used]),
            "camera_m": ex.camera_m[idx][used],
        },
        geometry=_to_lonlat(access.geom[used]).values,
        crs=GEOGRAPHIC_CRS,
    )
    return pd.concat([streets, rows], ignore_index=True)


def routes_frame(
    uses: list[RouteUse],
    network: WalkNetwork,
    exit_ids: np.ndarray,
    stations: np.ndarray,
    edge_seen_m: np.ndarray,
    n_streets: int | None = None,
) -> gpd.GeoDataFrame:
    """Distinct routes walked over all replications, most used first, EPSG:4326.

    ``protesters_per_replication`` is the mean over replications of the protesters assigned to
    the route; ``share_in_view`` is the share of its length in view of any camera. With
    ``n_streets``, edges from that index on (the first and last metres, which differ for every
    standing point) are left out: a route is its way along the streets.
    """
    rows: dict[tuple, dict] = {}
    for use in uses:
        for edges, leg, origin, count in zip(use.edges, use.leg, use.origin, use.protesters):
            if n_streets is not None:
                edges = tuple(e for e in edges if e < n_streets)
            key = (leg, edges)
            row = rows.setdefault(key, {"protesters": 0, "exits": set(), "stations": set()})
            row["protesters"] += int(count)
            if origin >= 0:
                row["exits"].add(str(exit_ids[origin]))
                row["stations"].add(str(stations[origin]))
    records, geoms = [], []
    for (leg, edges), row in rows.items():
        idx = np.asarray(edges, np.int64)
        length = float(network.edge_length_m[idx].sum())
        coords = [np.asarray(g.coords) for g in network.edge_geom[idx]]
        geoms.append(shapely.LineString(np.concatenate(coords)) if coords else None)
        records.append(
            {
                "leg": leg,
                "origin_exits": ";".join(sorted(row["exits"])),
                "stations": ";".join(sorted(row["stations"])),
                "protesters_per_replication": row["protesters"] / max(len(uses), 1),
                "length_m": round(length, 2),
                "share_in_view": float(edge_seen_m[idx].sum() / length) if length > 0 else 0.0,
                "edges": len(idx),
            }
        )
    frame = gpd.GeoDataFrame(
        pd.DataFrame(records),
        geometry=_to_lonlat(np.array(geoms, dtype=object)).values if geoms else None,
        crs=GEOGRAPHIC_CRS,
    )
    if len(frame):
        frame = frame.sort_values(
            ["protesters_per_replication", "leg", "origin_exits"],
            ascending=[False, True, True],
            kind="stable",
        ).reset_index(drop=True)
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def edited_cameras(before: CameraSites, after: CameraSites) -> pd.DataFrame:
    """Camera sites a scenario's edits removed (in ``before``, not ``after``) or added."""
    gone = ~np.isin(before.camera_id, after.camera_id)
    new = ~np.isin(after.camera_id, before.camera_id)
    parts = []
    for action, cams, mask in (("removed", before, gone), ("added", after, new)):
        parts.append(
            pd.DataFrame(
                {
                    "action": action,
                    "camera_id": cams.camera_id[mask],
                    "source": cams.source[mask],
                    "class": cams.cls[mask],
                    "count": cams.count[mask],
                    "lat": cams.lat[mask],
                    "lon": cams.lon[mask],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def site_area(
    lat: float,
    lon: float,
    x: float,
    y: float,
    radius_m: float,
    outline_latlon: list[list[float]] | None = None,
) -> gpd.GeoDataFrame:
    """The assembly site's area, EPSG:4326: the outline a run recorded (its manifest's
    ``site_area``), else a disk of ``radius_m`` around its point."""
    if outline_latlon:
        pts = np.asarray(outline_latlon, float)
        px, py = lonlat_to_xy(pts[:, 1], pts[:, 0])
        disk = shapely.Polygon(np.c_[px, py])
    else:
        disk = shapely.Point(x, y).buffer(radius_m, quad_segs=32)
    return gpd.GeoDataFrame(
        {"lat": [lat], "lon": [lon], "radius_m": [radius_m]},
        geometry=_to_lonlat(np.array([disk], dtype=object)).values,
        crs=GEOGRAPHIC_CRS,
    )


def points_frame(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """A table with ``lat``/``lon`` columns as points, EPSG:4326."""
    return gpd.GeoDataFrame(
        table,
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs=GEOGRAPHIC_CRS,
    )


def write_geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame], **options) -> None:
    """Write every layer to one GeoPackage, through a temporary file and a rename (``options``
    go to pyogrio). GDAL's own write errors (a full disk among them) become an ``OSError``
    naming the file, as every other writer's do."""
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    with replacing(path) as tmp:  # keeps the .gpkg suffix GDAL reads the format from
        for name, frame in layers.items():
            try:
                frame.to_file(
                    tmp, layer=name, driver="GPKG", engine="pyogrio", append=tmp.exists(), **options
                )
            except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
                raise OSError(errno.EIO, f"GDAL cannot write it ({exc})", str(path)) from None


def write_run_layers(result: RunResult, folder: Path) -> gpd.GeoDataFrame:
    """Write a run's ``streets.parquet``, ``routes.parquet`` (GeoParquet) and
    ``camera_edits.csv`` into ``folder``, from the replications' recorded street and route
    use (nothing is simulated again); return the streets layer."""
    from sim.outputs.folders import write_table

    setup = result.setup
    net = setup.inputs.network
    reps = result.replications
    traversals = np.mean([r.edge_traffic for r in reps], axis=0)
    seen_s = np.mean([r.street_seen_s for r in reps], axis=0)
    n = net.n_edges
    edges = street_exposure(result)
    streets = streets_frame(net, edges, traversals[:n], seen_s[:n])
    if setup.access is not None:  # the first and last metres walked, one row per walk
        streets = access_rows(streets, setup, traversals[n:], seen_s[n:], edges)
    write_table(folder / "streets.parquet", streets)
    # routes hold the first and last metres too: edges after the network's are virtual
    walked = net
    if setup.access is not None:
        walked = SimpleNamespace(
            edge_length_m=setup.streets.length_m,
            edge_geom=np.r_[net.edge_geom, setup.access.geom],
        )
    routes = routes_frame(
        [r.route_use for r in reps],
        walked,
        setup.origins.exit_id,
        setup.origins.station,
        edges.seen_m,
        setup.access.n_network if setup.access is not None else None,
    )
    write_table(folder / "routes.parquet", routes)
    after = setup.coverage.cameras
    before = setup.inputs.cameras if setup.edit_log else after
    write_table(folder / "camera_edits.csv", edited_cameras(before, after))
    return streets
