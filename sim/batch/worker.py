"""What a worker process keeps between tasks, and the task that runs one replication.

A worker (this process, a forked process or a Dask worker) holds one :class:`DataSource` per
data directory, so it loads the network, exits and camera layers once (from the cache), and
the last few prepared set-ups, so consecutive replications of a variant share one set-up.
A task carries only its scenario and where the data and cache are; its result is the
replication's figures and, when asked, its tables.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.batch.tasks import Task, TaskResult, task_seed
from sim.crowd.multisite import prepare_run
from sim.crowd.setup import Setup
from sim.crowd.stats import crowd_figures
from sim.crowd.usage import LEG_BACK, LEG_MARCH, LEG_TO_SITE, RouteUse
from sim.data.networks import NetworkSpec, spec_from_scenario
from sim.scenario.inputs import DataSource, scenario_inputs
from sim.scenario.scenario import Scenario

LEGS = (LEG_TO_SITE, LEG_BACK, LEG_MARCH)

# Prepared set-ups kept per worker (a set-up of the default scenario holds a few MB).
SETUPS_KEPT = 4

_SOURCES: dict[tuple[str, str, NetworkSpec], DataSource] = {}
_SETUPS: OrderedDict[tuple, Setup] = OrderedDict()
_REGISTERED: dict[tuple, Setup] = {}  # prepared by this process for its own use (and forks')


@dataclass(frozen=True)
class ReplicationWork:
    """A task's payload: the variant's scenario, the data and cache folders, what to keep."""

    scenario: Scenario
    data_dir: Path
    cache_folder: Path | None
    keep_tables: bool = True  # agents, time series and edge traffic (for run folders)
    cache_coverage: bool = True  # store coverage tables in the cache (off for continuous reach)


def source_for(data_dir: Path, cache_folder: Path | None, network: NetworkSpec) -> DataSource:
    """This process's data source for a data directory and walk network, created once."""
    key = (str(data_dir), str(cache_folder), network)
    if key not in _SOURCES:
        _SOURCES[key] = DataSource(Path(data_dir), cache_folder, network=network)
    return _SOURCES[key]


def register_source(source: DataSource) -> None:
    """Let tasks in this process (and processes forked from it) use an already loaded source."""
    _SOURCES[(str(source.data_dir), str(source.cache_folder), source.network_spec)] = source


def _setup_key(work: ReplicationWork) -> tuple:
    return (str(work.data_dir), str(work.cache_folder), work.scenario.fingerprint)


def register_setup(work: ReplicationWork, setup: Setup) -> None:
    """Let tasks of ``work``'s variant in this process (and forks of it) use ``setup``."""
    _REGISTERED[_setup_key(work)] = setup


def forget_setups() -> None:
    """Drop the set-ups registered and kept by this process."""
    _REGISTERED.clear()
    _SETUPS.clear()


def setup_for(work: ReplicationWork) -> Setup:
    """The variant's set-up, prepared once per worker while it stays among the last few."""
    s = work.scenario
    if _setup_key(work) in _REGISTERED:
        return _REGISTERED[_setup_key(work)]
    key = (*_setup_key(work), work.cache_coverage)
    if key in _SETUPS:
        _SETUPS.move_to_end(key)
        return _SETUPS[key]
    source = source_for(work.data_dir, work.cache_folder, spec_from_scenario(s.network))
    store = source.store if work.cache_coverage else None
    setup = prepare_run(s, scenario_inputs(s, source), store)
    _SETUPS[key] = setup
    while len(_SETUPS) > SETUPS_KEPT:
        _SETUPS.popitem(last=False)
    return setup


def replication_task(task: Task) -> TaskResult:
    """Run replication ``task.replication`` of the task's scenario variant."""
    from sim.crowd.runner import amnesty_upper_bound, run_replication

    work: ReplicationWork = task.payload
    t0 = time.perf_counter()
    setup = setup_for(work)
    t1 = time.perf_counter()
    seed = task_seed(work.scenario.seed, task.replication)
    rep = run_replication(setup, task.replication, seed)
    result = TaskResult(
        figures=crowd_figures(rep.agents),
        meta={
            "events": rep.events,
            "undercount_share": rep.undercount_share,
            "world": rep.world,
            "site_view": rep.site_view,
            "setup_s": round(t1 - t0, 4),
            "wall_s": round(rep.wall_s, 4),
        },
    )
    if task.replication == 0 and work.keep_tables:  # a run's upper bound: Amnesty's geometry
        result.meta["amnesty"] = amnesty_upper_bound(setup, seed)
    if work.keep_tables:
        result.tables = {"agents": rep.agents, "timeseries": rep.timeseries}
        result.arrays = {"edge_traffic": rep.edge_traffic, **route_use_arrays(rep.route_use)}
        if rep.street_seen_s is not None:
            result.arrays["street_seen_s"] = rep.street_seen_s
        for name, values in (rep.street_exposure or {}).items():  # a camera world's, per edge
            result.arrays[f"world_{name}"] = values
    return result


def route_use_arrays(use: RouteUse | None) -> dict[str, np.ndarray]:
    """A replication's route use as plain arrays (a task's result holds data only)."""
    if use is None:
        return {}
    sizes = np.array([len(e) for e in use.edges], np.int64)
    return {
        "route_edges": np.array([e for edges in use.edges for e in edges], np.int64),
        "route_offsets": np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        "route_leg": np.array([LEGS.index(leg) for leg in use.leg], np.int64),
        "route_origin": np.asarray(use.origin, np.int64),
        "route_protesters": np.asarray(use.protesters, np.int64),
    }


def route_use_of(arrays: dict[str, np.ndarray]) -> RouteUse | None:
    """The route use stored by :func:`route_use_arrays`."""
    if "route_edges" not in arrays:
        return None
    edges, offsets = arrays["route_edges"].tolist(), arrays["route_offsets"].tolist()
    return RouteUse(
        [tuple(edges[a:b]) for a, b in zip(offsets[:-1], offsets[1:])],
        [LEGS[i] for i in arrays["route_leg"].tolist()],
        arrays["route_origin"],
        arrays["route_protesters"],
    )
