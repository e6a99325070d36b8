"""The data a command needs: the data folder given or found, every file a scenario reads
checked at once, and its walk network."""

from __future__ import annotations

import sys

from sim.batch.options import RunOptions
from sim.data import datasets
from sim.data.networks import NetworkSpec, spec_from_scenario
from sim.scenario.inputs import DataSource
from sim.scenario.scenario import Scenario


def data_source(
    options: RunOptions,
    quiet: bool,
    network: NetworkSpec | None = None,
    sources: list[str] | None = None,
) -> DataSource:
    """The data folder given or found (a found one is said on stderr unless ``quiet``), after
    checking that every file of ``sources`` is there (all missing ones named at once)."""
    choice = datasets.find_data_dir(options.data_dir)
    if not quiet and options.data_dir is None:  # found by the search order: say which
        print(f"data: {choice.describe()}", file=sys.stderr)
    needed = sources or ["osm_walk", "mta_entrances"]
    if network is not None and not network.is_default:  # its own file or a download
        needed = [k for k in needed if k != "osm_walk"]
    datasets.require_sources(needed, choice.path)
    return DataSource(choice.path, network=network)


def scenario_sources(scenarios: list[Scenario]) -> list[str]:
    """What writing these scenarios' run folders reads: their own sources, and those of what
    each folder keeps for its report (basemap, site neighbourhoods)."""
    keys = [k for s in scenarios for k in datasets.sources_for(s)]
    return list(dict.fromkeys([*keys, *datasets.REPORT_SOURCES]))


def network_of(scenario: Scenario) -> NetworkSpec:
    return spec_from_scenario(scenario.network)
