"""OpenStreetMap walk networks as osmnx builds them: an OSM XML file, or a place from Overpass."""

from __future__ import annotations

import logging
from pathlib import Path

from sim import progress
from sim.city.network import NETWORK_TYPE, WalkNetwork, network_from_graph
from sim.errors import DataError
from sim.geo import PROJECTED_CRS

log = logging.getLogger(__name__)

BUILD_STAGES = ("reading OSM XML", "largest component", "projecting to UTM 18N", "arrays")
# The lean build's parts (sim.data.osm_lean), as a progress report names them.
LEAN_STAGES = ("reading OSM XML", "components and simplification", "projecting to UTM 18N")


def build_from_osm_xml(path: Path, source_sha256: str) -> WalkNetwork:
    """Build the walk network from an OSM XML file (bz2 allowed): osmnx's network.

    Keeps the largest strongly connected component and projects to UTM 18N. Built by
    :mod:`sim.data.osm_lean` (the same arrays, in a few seconds); a file it does not model,
    or cannot read, is built by osmnx (:func:`build_with_osmnx`), which says what is wrong.
    """
    from sim.data.osm_lean import build_lean

    log.info("building the walk network from %s", path)
    with progress.task(
        "building the walk network",
        len(LEAN_STAGES),
        note=f"from {path.name}; once, then cached; a few seconds",
    ) as step:
        try:
            return build_lean(path, source_sha256, step)
        except Exception as exc:  # not modelled, or unreadable: osmnx decides
            log.info("%s: lean build not used (%s); building with osmnx", path, exc)
    return build_with_osmnx(path, source_sha256)


def build_with_osmnx(path: Path, source_sha256: str) -> WalkNetwork:
    """Build the walk network from an OSM XML file (bz2 allowed) with osmnx.

    Keeps the largest strongly connected component and projects to UTM 18N.
    """
    import osmnx as ox

    with progress.task(
        "building the walk network with osmnx",
        len(BUILD_STAGES),
        note=f"from {path.name}; once, then cached; about 15 s",
    ) as step:
        step.stage(BUILD_STAGES[0])
        try:
            graph = ox.graph_from_xml(path, bidirectional=True, retain_all=False)
        except Exception as exc:  # osmnx raises parser-specific errors (EOFError, ParseError...)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{path}: cannot read OpenStreetMap XML ({reason})") from None
        step.advance()
        return finish_graph(graph, source_sha256, step)


def build_from_overpass(place: str) -> WalkNetwork:
    """Download and build the walk network of ``place`` from the Overpass API (online)."""
    import osmnx as ox

    log.info("downloading the %s walk network of %s from Overpass", NETWORK_TYPE, place)
    with progress.task("downloading the walk network", 4, note=f"{place}; once") as step:
        step.stage("Overpass download")
        graph = ox.graph_from_place(place, network_type=NETWORK_TYPE, retain_all=False)
        step.advance()
        return finish_graph(graph, f"overpass:{place}", step)


def finish_graph(graph, source_sha256: str, step: progress.Task | None = None) -> WalkNetwork:
    """Keep the largest strongly connected component, project to UTM 18N, flatten to arrays."""
    import osmnx as ox

    step = step if step is not None else progress.silent()

    if len(graph) == 0:
        raise DataError(f"{source_sha256}: the OpenStreetMap data holds no walkable ways")
    step.stage(BUILD_STAGES[1])
    graph = ox.truncate.largest_component(graph, strongly=True)
    step.advance()
    step.stage(BUILD_STAGES[2])
    graph = ox.project_graph(graph, to_crs=PROJECTED_CRS)
    step.advance()
    step.stage(BUILD_STAGES[3])
    network = network_from_graph(graph, source_sha256)
    step.advance()
    return network
