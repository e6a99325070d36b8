"""Which walk network to use: the bundle's Manhattan file, another OSM XML file, or an osmnx
place or bounding box downloaded when online and cached."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.city.network import (
    NETWORK_CACHE_VERSION,
    NETWORK_TYPE,
    WalkNetwork,
    network_arrays,
    network_from_arrays,
)
from sim.data import datasets
from sim.data.datasets import ResolvedFile, Source
from sim.data.osm import build_from_osm_xml, finish_graph
from sim.errors import DataError, InputError, quoted

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".xml.bz2", ".osm.gz")

# ``store(kind, key, build)``: the arrays of ``build()``, or a cached copy (sim.data.cache.cached).
Store = Callable[[str, Mapping[str, object], Callable[[], dict[str, np.ndarray]]], dict]


def _no_store(kind: str, key: Mapping[str, object], build):
    return build()


@dataclass(frozen=True)
class NetworkSpec:
    """A walk network named by a scenario (``[network]``) or ``route --network``.

    ``osm``: an OpenStreetMap XML file (bz2 allowed), relative to the data directory or
    absolute. ``place``: an osmnx place name; ``bbox``: (west, south, east, north) degrees;
    either is downloaded from OpenStreetMap when online and cached. With ``osm`` and a place
    or bbox, the file is used when present and the download otherwise. All empty: the bundle's
    Manhattan network.
    """

    osm: str = ""
    place: str = ""
    bbox: tuple[float, ...] = ()

    @property
    def is_default(self) -> bool:
        return not (self.osm or self.place or self.bbox)

    def describe(self) -> str:
        """A short name for messages and manifests."""
        parts = [self.osm] if self.osm else []
        if self.place:
            parts.append(f"place {self.place!r}")
        if self.bbox:
            parts.append(f"bbox {list(self.bbox)}")
        return " / ".join(parts) or "the bundle's Manhattan network"

    def download_key(self) -> str:
        """Cache key of the downloadable part (place or bbox)."""
        text = f"place:{self.place}" if self.place else f"bbox:{list(self.bbox)}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def spec_from_scenario(network) -> NetworkSpec:
    """The network a scenario's validated ``[network]`` section names."""
    return NetworkSpec(
        osm=network.osm, place=network.place, bbox=tuple(float(v) for v in network.bbox)
    )


def spec_from_argument(text: str) -> NetworkSpec:
    """``route --network``: an OSM XML file, ``bbox:W,S,E,N`` or an osmnx place name."""
    if text.lower().endswith(OSM_SUFFIXES):
        return NetworkSpec(osm=text)
    if text.startswith("bbox:"):
        try:
            bbox = tuple(float(v) for v in text[5:].split(","))
        except ValueError:
            bbox = ()
        problem = bbox_problem(bbox)
        if problem:
            raise InputError(f"--network {quoted(text)}: {problem}")
        return NetworkSpec(bbox=bbox)
    return NetworkSpec(place=text)


def bbox_problem(bbox: tuple[float, ...] | list) -> str | None:
    """Why ``bbox`` is not (west, south, east, north) degrees, or None."""
    if len(bbox) != 4 or any(isinstance(v, bool) or not isinstance(v, int | float) for v in bbox):
        return "allowed: four numbers west, south, east, north (degrees)"
    west, south, east, north = bbox
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return "allowed: west < east and south < north, in degrees"
    return None


def osm_file_path(spec: NetworkSpec, data_dir: Path) -> Path:
    """Where the spec's OSM XML file is looked for."""
    path = Path(spec.osm)
    return path if path.is_absolute() else data_dir / path


def network_available(spec: NetworkSpec, data_dir: Path, store: Store | None = None) -> bool:
    """Whether the network can be had without going online: its file, or a cached download."""
    if spec.is_default:
        return datasets.find_source("osm_walk", data_dir) is not None
    try:
        load_named_network(spec, data_dir, store, online=False)
    except DataError:
        return False
    return True


def osm_file_network(path: Path, sha256: str, store: Store | None = None) -> WalkNetwork:
    """The walk network of an OpenStreetMap XML file, built once and cached by its checksum."""
    arrays = (store or _no_store)(
        f"network_{NETWORK_TYPE}",
        {"osm_sha256": sha256, "network": NETWORK_CACHE_VERSION},
        lambda: network_arrays(build_from_osm_xml(path, sha256)),
    )
    return network_from_arrays(arrays)


def load_named_network(
    spec: NetworkSpec, data_dir: Path, store: Store | None = None, online: bool | None = None
) -> tuple[WalkNetwork, ResolvedFile | None]:
    """The walk network ``spec`` names, and the file it was built from (None if downloaded).

    Built networks go to ``store`` (the cache): a file keyed by its checksum, a download by
    its place or bbox.

    Raises
    ------
    DataError
        Offline without the network: one line naming it and the two ways to provide it; a
        file that is not OpenStreetMap XML.
    """
    store = store or _no_store
    version = {"network": NETWORK_CACHE_VERSION}
    if spec.osm:
        path = osm_file_path(spec, data_dir)
        if path.is_file():
            resolved = _resolved(spec, path)
            return osm_file_network(path, resolved.sha256, store), resolved
    if spec.place or spec.bbox:
        can_download = datasets.is_online(online)

        def download() -> dict[str, np.ndarray]:
            if not can_download:
                raise DataError(missing_message(spec, data_dir))
            return network_arrays(_download(spec))

        key = {"download": spec.download_key(), **version}
        return network_from_arrays(store(f"network_{NETWORK_TYPE}", key, download)), None
    raise DataError(missing_message(spec, data_dir))


def missing_message(spec: NetworkSpec, data_dir: Path) -> str:
    """One line: which network is missing and the two ways to provide it."""
    where = osm_file_path(spec, data_dir) if spec.osm else data_dir / "osm/<name>.osm.bz2"
    online = spec.place or (f"bbox {list(spec.bbox)}" if spec.bbox else "")
    second = (
        f"or run once online to download {online!r} from OpenStreetMap (cached afterwards)"
        if online
        else "or name a place or bbox in [network] and run once online to download it"
    )
    return (
        f"walk network {spec.describe()} is missing (not in the data directory {data_dir}, "
        f"not cached, and this machine is offline): put an OpenStreetMap XML file of its "
        f"walkable ways at {where}, {second}"
    )


def _resolved(spec: NetworkSpec, path: Path) -> ResolvedFile:
    source = Source(
        key="osm_walk",
        path=spec.osm,
        url="",
        download="none",
        format="OpenStreetMap XML, osmnx walk filter",
        licence="ODbL 1.0",
        credit="(c) OpenStreetMap contributors",
        as_of="",
    )
    return ResolvedFile(source, path, datasets.sha256_of(path), path.stat().st_size)


def _download(spec: NetworkSpec) -> WalkNetwork:
    """Build the network from OpenStreetMap's Overpass API with osmnx (online only)."""
    import osmnx as ox

    log.info("downloading the %s walk network of %s", NETWORK_TYPE, spec.describe())
    try:
        if spec.place:
            graph = ox.graph_from_place(spec.place, network_type=NETWORK_TYPE, retain_all=False)
        else:
            graph = ox.graph_from_bbox(spec.bbox, network_type=NETWORK_TYPE, retain_all=False)
    except Exception as exc:  # osmnx: geocoding failures, Overpass errors, empty responses
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"walk network {spec.describe()}: download failed ({reason})") from None
    return finish_graph(graph, f"download:{spec.download_key()}")
