"""The inputs of a run, loaded once and frozen: network, exits, sites, cameras, open space, files.

:func:`load_inputs` resolves a scenario (or a set of camera layers) against a data directory
and returns :class:`Inputs`, which holds everything the run reads and the list of every data
file behind it with its SHA-256. Nothing downstream loads data: a manifest, the reuse of a
finished run and ``compare`` all use exactly ``Inputs.files``.

A :class:`DataSource` reads each file of a data directory at most once per process (the
network from the cache when it was built before), so commands that resolve several scenarios
share the work, while each scenario's ``Inputs`` lists only the files that scenario used.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from sim import progress
from sim.city import places
from sim.city.exits import Exits
from sim.city.network import (
    NETWORK_CACHE_VERSION,
    NETWORK_TYPE,
    WalkNetwork,
    network_arrays,
    network_from_arrays,
)
from sim.city.sites import Site, SiteRecord, make_site
from sim.data import cache, datasets
from sim.data.camera_account import CameraAccount, assemble, in_reach
from sim.data.camera_counts import Intersections, read_intersections
from sim.data.cameras import CAMERA_SOURCES
from sim.data.datasets import ResolvedFile
from sim.data.footprints import FOOTPRINT_SOURCES, complete_open_space
from sim.data.networks import NetworkSpec, load_named_network, osm_file_network, osm_file_path
from sim.data.osm import build_from_overpass
from sim.data.records import SkipReport, check_usable
from sim.data.ridership import RIDERSHIP_SOURCES, read_ridership
from sim.data.sites import read_site_records
from sim.data.transit import read_exits
from sim.errors import DataError, ScenarioError
from sim.exposure.camera_model import CameraParams
from sim.exposure.cameras import CameraSites
from sim.exposure.visibility_models import VISIBILITY_MODELS
from sim.geo import pack_wkb, unpack_wkb
from sim.scenario.scenario import Scenario
from sim.scenario.sections import CameraLayer, Origins

log = logging.getLogger(__name__)

OPEN_SPACE_VERSION = 1


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, and the files it came from (each with its SHA-256).

    ``cameras`` are the layers as read, filtered, counted and merged (``camera_account`` says
    how). Set-up limits them, once, to the sites whose reach takes in a street of the network
    (:meth:`limited_to_reach`: reach is a model parameter, so loading does not use it), then
    applies the scenario's edits (which depend on the site and the crowd).
    ``open_space`` is set for the ``sightline`` model only.
    """

    data_dir: Path
    network: WalkNetwork
    exits: Exits
    site_records: Mapping[str, SiteRecord]
    cameras: CameraSites
    camera_reports: Mapping[str, SkipReport]
    files: tuple[ResolvedFile, ...]
    open_space: shapely.Geometry | None = field(default=None, repr=False)
    open_space_key: str = ""
    camera_account: CameraAccount | None = None
    ridership: Mapping[str, float] | None = None  # riders per station complex (origins weights)
    intersections: Intersections | None = None  # Amnesty's counts, for the reconciliation
    reach_classes: Mapping[str, CameraParams] | None = None  # set once limited to their reach

    def limited_to_reach(self, classes: Mapping[str, CameraParams]) -> Inputs:
        """These inputs with only the camera sites that can see a street of the network within
        the longest reach of their class under ``classes``; the account lists the others.

        Set-up calls it once per run; inputs already limited under the same classes are
        returned as they are (several sites share one limit).
        """
        if self.reach_classes is not None:
            if dict(self.reach_classes) != dict(classes):
                raise ValueError("inputs already limited to the reach of other camera classes")
            return self
        cameras, account = in_reach(
            self.cameras,
            self.camera_account or CameraAccount(),
            self.intersections,
            self.network.edge_geom,
            dict(classes),
        )
        return dataclasses.replace(
            self, cameras=cameras, camera_account=account, reach_classes=dict(classes)
        )

    def provenance(self) -> list[dict[str, object]]:
        """Every data file of these inputs, with its checksum and licence."""
        return [f.provenance() for f in self.files]

    def site(
        self,
        site_id: str = "",
        radius_m: float = 80.0,
        lat: float | None = None,
        lon: float | None = None,
        name: str = "",
        where: str = "site.id",
    ) -> Site:
        """A site by id from the sites file, or by coordinates, snapped to the network."""
        if site_id and lat is None:
            if not self.site_records:
                raise ScenarioError(
                    f"{where}: site {site_id!r} needs the protest-sites file "
                    f"{self.data_dir / datasets.load_manifest()['protest_sites'].path}, which is "
                    "missing; give the site by lat and lon instead"
                )
            site_id = places.site_id(self.site_records, site_id, where, ScenarioError)
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


class DataSource:
    """The files of one data directory, each located, checksummed and read at most once."""

    def __init__(
        self,
        data_dir: Path,
        cache_folder: Path | None = None,
        network: NetworkSpec | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.network_spec = network or NetworkSpec()
        self.cache_folder = cache_folder if cache_folder is not None else cache.cache_dir()
        self._files: dict[str, ResolvedFile] = {}
        self._warned: set[str] = set()
        self._network: tuple[WalkNetwork, tuple[str, ...]] | None = None
        self._exits: Exits | None = None
        self._sites: tuple[dict[str, SiteRecord], tuple[str, ...]] | None = None
        self._layers: dict[str, tuple[CameraSites, SkipReport]] = {}
        self._intersections: tuple[Intersections, SkipReport] | None = None
        self._ridership: dict[tuple, dict[str, float]] = {}
        self._open_space: dict[tuple, tuple[shapely.Geometry, str, tuple[str, ...]]] = {}
        self._complete: dict[Path, tuple[shapely.Geometry, shapely.Geometry]] = {}

    def file(self, key: str) -> ResolvedFile:
        """A data file by manifest key, located (or downloaded) and checksummed once."""
        if key not in self._files:
            self._files[key] = datasets.locate(key, self.data_dir)
        return self._files[key]

    def warn_of_checksums(self, files: tuple[ResolvedFile, ...]) -> None:
        """Warn once per file read whose checksum differs from ``data/sources.toml``'s (after
        it was read without error, so that a broken file gives only its error)."""
        for f in files:
            if f.checksum_mismatch and f.source.key not in self._warned:
                self._warned.add(f.source.key)
                log.warning("%s", f.checksum_mismatch)

    def store(self, kind, key, build):
        """The cache of built arrays (see :func:`sim.data.cache.cached`)."""
        return cache.cached(kind, key, build, self.cache_folder) if self.cache_folder else build()

    def network(self) -> tuple[WalkNetwork, tuple[str, ...]]:
        """The walk network and the keys of the files behind it.

        Without the OSM file, an online machine downloads the network from Overpass (osmnx
        ``graph_from_place``); offline, the error names the file and the two ways to provide it.
        A source made with another ``network`` (:mod:`sim.data.networks`) loads that one instead.
        """
        if self._network is None and not self.network_spec.is_default:
            network, built_from = load_named_network(self.network_spec, self.data_dir, self.store)
            if built_from is not None:
                self._files["osm_walk"] = built_from
            self._network = (network, ("osm_walk",) if built_from is not None else ())
        if self._network is None:
            source = datasets.load_manifest()["osm_walk"]
            if datasets.find_source("osm_walk", self.data_dir) is None and datasets.is_online():
                key = {"overpass": source.place, "network": NETWORK_CACHE_VERSION}
                arrays = self.store(
                    f"network_{NETWORK_TYPE}",
                    key,
                    lambda: network_arrays(build_from_overpass(source.place)),
                )
                self._network = (network_from_arrays(arrays), ())
            else:
                osm = self.file("osm_walk")
                network = osm_file_network(osm.path, osm.sha256, self.store)
                if network.source_sha256 != osm.sha256:
                    raise DataError(f"cache entry for {osm.path} names another source file")
                self._network = (network, ("osm_walk",))
        return self._network

    def exits(self) -> Exits:
        if self._exits is None:
            self._exits, _ = read_exits(self.file("mta_entrances").path, self.network()[0])
        return self._exits

    def site_records(self) -> tuple[dict[str, SiteRecord], tuple[str, ...]]:
        """The protest-sites file (optional: without it, sites come by coordinates)."""
        if self._sites is None:
            if (
                datasets.find_source("protest_sites", self.data_dir) is None
                and datasets.not_a_file("protest_sites", self.data_dir) is None
            ):
                self._sites = ({}, ())
            else:
                records = read_site_records(self.file("protest_sites").path)
                self._sites = (records, ("protest_sites",))
        return self._sites

    def camera_source(self, source: str) -> tuple[CameraSites, SkipReport]:
        """One camera source's sites as read, and the report of records left out."""
        if source not in self._layers:
            resolved = self.file(source)
            sites, report = CAMERA_SOURCES[source].read(resolved.path, ())
            check_usable(resolved.path, report, CAMERA_SOURCES[source].holds)
            self._layers[source] = (sites, report)
        return self._layers[source]

    def ridership(
        self, year: str, months: tuple[int, ...], day_group: str
    ) -> tuple[dict[str, float], str]:
        """Riders per station complex (``sim/data/ridership.py``) and the file's manifest key."""
        key = RIDERSHIP_SOURCES[year]
        wanted = (key, tuple(months), day_group)
        if wanted not in self._ridership:
            riders = read_ridership(self.file(key).path, tuple(months), day_group)
            self._ridership[wanted] = riders
        return self._ridership[wanted], key

    def intersections(self) -> tuple[Intersections, SkipReport]:
        """Amnesty's intersections with cameras and their count columns (for counting sites)."""
        if self._intersections is None:
            self._intersections = read_intersections(self.file("amnesty_counts").path)
        return self._intersections

    def network_checksum(self) -> str | None:
        """The walk network's ``source_sha256`` where it can be named without building the
        network (it comes from an OSM XML file), else None."""
        if self._network is not None:
            return self._network[0].source_sha256
        spec = self.network_spec
        if spec.is_default:
            if datasets.find_source("osm_walk", self.data_dir) is None:
                return None
            return self.file("osm_walk").sha256
        if spec.osm:
            path = osm_file_path(spec, self.data_dir)
            if path.is_file():
                return datasets.sha256_of(path)
        return None

    def _open_space_key(
        self, use_buildings: bool, footprints: str, network_sha256: str
    ) -> tuple[dict, tuple[str, ...]]:
        """The open space's cache key, and the keys of the building file behind it."""
        key = {"network": network_sha256, "version": OPEN_SPACE_VERSION}
        if not use_buildings:
            return key, ()
        file_key = FOOTPRINT_SOURCES[footprints]
        key["buildings"] = self.file(file_key).sha256
        return key, (file_key,)

    def open_space_cached(self, use_buildings: bool, footprints: str = "doitt_2017") -> bool:
        """Whether the open space is in this source's cache (True where that cannot be told
        without building the network, or there is no cache: nothing to build beforehand)."""
        sha = self.network_checksum()
        if self.cache_folder is None or sha is None:
            return True
        key, _ = self._open_space_key(use_buildings, footprints, sha)
        return cache.has_entry("open_space", key, self.cache_folder)

    def build_open_space(self, use_buildings: bool, footprints: str = "doitt_2017") -> None:
        """Build the open space into the cache, its part that needs no network first (the
        complete footprints' union), so that a process doing this beside the network's build
        finds the network cached when it needs it."""
        if use_buildings and footprints == "doitt_2017":
            self._complete_open_space(self.file(FOOTPRINT_SOURCES[footprints]).path)
        self.open_space(use_buildings, footprints)

    def _complete_open_space(self, path: Path) -> tuple[shapely.Geometry, shapely.Geometry]:
        if path not in self._complete:
            self._complete[path] = complete_open_space(path)
        return self._complete[path]

    def open_space(
        self, use_buildings: bool, footprints: str = "doitt_2017"
    ) -> tuple[shapely.Geometry, str, tuple[str, ...]]:
        """Open space for sightlines, a key naming its inputs, and the files behind it.

        Without buildings: street corridors. With ``footprints = "doitt_2017"`` (the complete
        DoITT outlines): everything that is not a building (``sim/data/footprints.py``). With
        ``"osm_partial"``: footprints where the OSM file covers the city and corridors outside
        its extent. Cached as WKB (data only).
        """
        wanted = (use_buildings, footprints if use_buildings else "")
        if wanted not in self._open_space:
            from sim.exposure import visibility

            network, net_files = self.network()
            key, building_files = self._open_space_key(
                use_buildings, footprints, network.source_sha256
            )
            files = (*net_files, *building_files)
            if use_buildings:
                buildings = self.file(FOOTPRINT_SOURCES[footprints])

            def build() -> dict[str, np.ndarray]:
                log.info(
                    "building open space for sightlines (%s)",
                    f"building footprints, {footprints}" if use_buildings else "street corridors",
                )
                with progress.task(
                    "open space for sightlines", 2, "part", note="once, then cached"
                ) as step:
                    if use_buildings and footprints == "doitt_2017":
                        step.stage("building footprints (complete)")
                        space, extent = self._complete_open_space(buildings.path)
                        outside = ~shapely.within(network.edge_geom, extent)
                        if outside.any():  # streets beyond the footprints' extent: corridors
                            corridors = visibility.corridor_open_space(
                                network.edge_geom[outside], network.edge_highway[outside]
                            )
                            space = shapely.union(space, shapely.difference(corridors, extent))
                        step.advance()
                    else:
                        step.stage("street corridors")
                        space = visibility.corridor_open_space(
                            network.edge_geom, network.edge_highway
                        )
                        step.advance()
                        if use_buildings:
                            step.stage("building footprints")
                            outlines, extent = visibility.load_building_footprints(buildings.path)
                            space = visibility.building_open_space(outlines, extent, space)
                    step.advance()
                return pack_wkb(np.array([space], dtype=object))

            arrays = self.store("open_space", key, build)
            self._complete.clear()  # built: the footprints' union is not needed again
            geom = unpack_wkb(arrays["wkb"], arrays["offsets"])[0]
            name = f"corridors:{network.source_sha256[:16]}"
            if use_buildings:
                name += f"|buildings:{key['buildings'][:16]}"
            self._open_space[wanted] = (geom, name, files)
        return self._open_space[wanted]

    def layer(self, layer: CameraLayer) -> tuple[CameraSites, tuple[str, ...], dict]:
        """One scenario layer: its sites (class, filters, counts applied), files, reports."""
        sites, report = self.camera_source(layer.source)
        reports = {layer.source: report}
        files = (layer.source,)
        if layer.boroughs:  # only amnesty_counts has boroughs (checked with the scenario)
            sites, report = CAMERA_SOURCES[layer.source].read(
                self.file(layer.source).path, layer.boroughs
            )
            reports[layer.source] = report
        if layer.keep_classes:
            sites = sites.subset(np.isin(sites.cls, list(layer.keep_classes)))
        if len(sites) == 0:
            raise DataError(
                f"{self.file(layer.source).path}: no camera site matches the layer "
                f"{layer.source!r} with keep_classes {list(layer.keep_classes)} and boroughs "
                f"{list(layer.boroughs)} (classes in the file: "
                f"{', '.join(sorted(set(map(str, self.camera_source(layer.source)[0].cls))))})"
            )
        if layer.cls:
            sites = CameraSites(
                **{**sites.__dict__, "cls": np.full(len(sites), layer.cls, dtype=object)}
            )
        if layer.counts_from:  # counted with every layer in load_inputs (each count once)
            files = (*files, layer.counts_from)
            reports[layer.counts_from] = self.intersections()[1]
        return sites, files, reports


def load_inputs(
    source: DataSource,
    layers: tuple[CameraLayer, ...],
    visibility: str = "radius",
    buildings: bool = True,
    origins: Origins | None = None,
    footprints: str = "doitt_2017",
) -> Inputs:
    """Everything a run needs from ``source``, for these camera layers and visibility model.

    The layers' sites take Amnesty's counts and are merged across layers (see
    :mod:`sim.data.camera_account`); which of them can see the study area depends on the
    cameras' reach, a model parameter, and is decided in set-up (:meth:`Inputs.limited_to_reach`).
    """
    network, keys = source.network()
    keys = list(keys) + ["mta_entrances"]
    exits = source.exits()
    sites, site_keys = source.site_records()
    keys += site_keys
    parts, reports, counted = [], {}, []
    for layer in layers:
        sites_of_layer, layer_keys, layer_reports = source.layer(layer)
        parts.append(sites_of_layer)
        counted.append(bool(layer.counts_from))
        keys += layer_keys
        reports.update(layer_reports)
    inter = source.intersections()[0] if any(counted) else None
    cameras, account = assemble(parts, counted, inter)
    open_space, open_key = None, ""
    if VISIBILITY_MODELS[visibility].needs_open_space:
        open_space, open_key, space_keys = source.open_space(buildings, footprints)
        keys += space_keys
    riders = None
    if origins is not None and origins.weights == "ridership":
        riders, riders_key = source.ridership(
            origins.ridership_year, origins.ridership_months, origins.ridership_day_group
        )
        keys.append(riders_key)
    files = tuple(source.file(k) for k in dict.fromkeys(keys))
    source.warn_of_checksums(files)
    return Inputs(
        source.data_dir,
        network,
        exits,
        sites,
        cameras,
        reports,
        files,
        open_space,
        open_key,
        account,
        riders,
        inter,
    )


def scenario_inputs(scenario: Scenario, source: DataSource) -> Inputs:
    """The inputs of one scenario."""
    cams = scenario.cameras
    return load_inputs(
        source,
        cams.layers,
        cams.visibility,
        cams.buildings,
        scenario.origins,
        cams.footprints,
    )
