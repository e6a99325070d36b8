"""The city model: walk network, subway exits, sites and camera layers, loaded from a data dir."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from sim import datasets
from sim.cameras import (
    CameraSites,
    join_counts,
    read_amnesty_counts,
    read_point_csv,
    read_point_json,
    within_box,
)
from sim.datasets import ResolvedFile
from sim.errors import ScenarioError
from sim.network import WalkNetwork, load_network, load_overpass_network
from sim.records import SkipReport
from sim.scenario import CameraLayer
from sim.sites import Site, SiteRecord, make_site, read_site_records
from sim.transit import Exits, read_exits

log = logging.getLogger(__name__)

CACHE_ENV_VAR = "PROTEST_SIM_CACHE"
# Cameras farther than this beyond the network's bounding box cannot see any of its streets.
CAMERA_BOX_PAD_M = 500.0
POINT_LAYER_CLASS = {"dot_cameras": "dot_traffic", "linknyc": "linknyc"}


def cache_dir() -> Path:
    """Where built networks and coverage tables are cached (``$PROTEST_SIM_CACHE``)."""
    return Path(os.environ.get(CACHE_ENV_VAR, datasets.DEFAULT_CACHE_DIR))


@dataclass
class City:
    """The real city for one data directory: network, exits, sites, and the files behind them."""

    data_dir: Path
    network: WalkNetwork
    exits: Exits
    site_records: dict[str, SiteRecord]
    files: dict[str, ResolvedFile] = field(default_factory=dict)
    camera_reports: dict[str, SkipReport] = field(default_factory=dict)

    def site(
        self,
        site_id: str = "",
        radius_m: float = 80.0,
        lat: float | None = None,
        lon: float | None = None,
        name: str = "",
        where: str = "site.id",
    ) -> Site:
        """A site by id from the sites file, or by coordinates."""
        if site_id and lat is None:
            if not self.site_records:
                raise ScenarioError(
                    f"{where}: site {site_id!r} needs the protest-sites file "
                    f"{self.data_dir / datasets.load_manifest()['protest_sites'].path}, which is "
                    "missing; give the site by lat and lon instead"
                )
            if site_id not in self.site_records:
                raise ScenarioError(
                    f"{where}: unknown site {site_id!r} (known: {', '.join(self.site_records)})"
                )
            rec = self.site_records[site_id]
            return make_site(self.network, site_id, rec.name, rec.lat, rec.lon, radius_m)
        return make_site(
            self.network,
            site_id or f"{lat:.5f},{lon:.5f}",
            name or site_id,
            float(lat),
            float(lon),
            radius_m,
        )

    def provenance(self) -> list[dict[str, object]]:
        """Every data file read so far, with its checksum and licence."""
        return [f.provenance() for f in self.files.values()]

    def camera_layers(self, layers: tuple[CameraLayer, ...]) -> CameraSites:
        """Read and combine a scenario's camera layers, keeping cameras near the network."""
        parts = []
        for layer in layers:
            sites = self._read_layer(layer)
            if layer.keep_classes:
                sites = sites.subset(np.isin(sites.cls, list(layer.keep_classes)))
            if layer.cls:
                sites = CameraSites(
                    **{**sites.__dict__, "cls": np.full(len(sites), layer.cls, dtype=object)}
                )
            if layer.counts_from:
                counts = self._read_layer(CameraLayer(layer.counts_from))
                sites = join_counts(sites, counts)
            parts.append(sites)
        cameras = CameraSites.concat(parts)
        return cameras.subset(within_box(cameras, self.network.bounds(), CAMERA_BOX_PAD_M))

    def _read_layer(self, layer: CameraLayer) -> CameraSites:
        resolved = self.file(layer.source)
        path = resolved.path
        if layer.source == "amnesty_counts":
            sites, report = read_amnesty_counts(path, list(layer.boroughs) or None)
        elif layer.source in ("banthescan_public", "banthescan_all"):
            sites, report = read_point_json(path, layer.source)
        else:
            sites, report = read_point_csv(path, layer.source, POINT_LAYER_CLASS[layer.source])
        self.camera_reports[layer.source] = report
        return sites

    def file(self, key: str) -> ResolvedFile:
        """A data file by manifest key, located (or downloaded) once and recorded."""
        if key not in self.files:
            self.files[key] = datasets.locate(key, self.data_dir)
        return self.files[key]

    def open_space(self, use_buildings: bool) -> tuple[Callable[[], shapely.Geometry], str]:
        """Open space for sightlines (built lazily) and a key naming its inputs.

        Street corridors everywhere; with ``use_buildings``, footprints where the building file
        covers the city and corridors outside its extent.
        """
        from sim import visibility

        key = f"corridors:{self.network.source_sha256[:16]}"
        if use_buildings:
            resolved = self.file("buildings")
            key += f"|buildings:{resolved.sha256[:16]}"

        def build() -> shapely.Geometry:
            corridors = visibility.corridor_open_space(
                self.network.edge_geom, self.network.edge_highway
            )
            if not use_buildings:
                return corridors
            footprints, extent = visibility.load_building_footprints(resolved.path)
            return visibility.building_open_space(footprints, extent, corridors)

        return build, key


def load_city(data_dir: Path, cache: Path | None = None) -> City:
    """Load the network (cached), the subway exits and the protest sites from ``data_dir``.

    Without the OSM file, an online machine downloads the walk network from Overpass (osmnx
    ``graph_from_place``). The protest-sites file is optional: without it, sites are given by
    coordinates and a site id names the missing file.
    """
    cache = cache if cache is not None else cache_dir()
    files = {"mta_entrances": datasets.locate("mta_entrances", data_dir)}
    source = datasets.load_manifest()["osm_walk"]
    if datasets.find_source("osm_walk", data_dir) is None and datasets.is_online():
        network = load_overpass_network(source.place, cache)
    else:
        files["osm_walk"] = datasets.locate("osm_walk", data_dir)
        network = load_network(files["osm_walk"].path, files["osm_walk"].sha256, cache)
    exits, _ = read_exits(files["mta_entrances"].path, network)
    sites: dict[str, SiteRecord] = {}
    if datasets.find_source("protest_sites", data_dir) is not None:
        files["protest_sites"] = datasets.locate("protest_sites", data_dir)
        sites = read_site_records(files["protest_sites"].path)
    return City(data_dir, network, exits, sites, files)
