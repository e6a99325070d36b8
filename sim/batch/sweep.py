"""Sweeps: scenario variants x replications as one set of tasks, run resumably in one pool.

A ``[sweep]``, a ``compare`` and a sensitivity design all become :class:`Variant` objects (a
scenario and the values of the parameters that vary), then (variant, replication)
:class:`~sim.batch.tasks.Task` objects. :func:`execute` runs the unfinished ones in a pool and
writes each result as it arrives; everything after that (tidy tables, run folders) is
assembled from the task store by key, so it is the same however the tasks were run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim import __version__
from sim.batch.tasks import Task, TaskResult, TaskStore
from sim.scenario.scenario import Scenario

# Keys that name or describe a scenario rather than change what it runs.
NOT_PARAMETERS = ("name", "description", "sweep", "sensitivity", "outputs")


@dataclass(frozen=True)
class Variant:
    """One scenario variant of a sweep: its name, scenario, replications and the values of
    the parameters that vary across the sweep (``params``, dotted keys)."""

    name: str
    replications: int
    params: Mapping[str, Any]
    scenario: Scenario | None = None
    seed: int = 0

    @staticmethod
    def of(scenario: Scenario, params: Mapping[str, Any]) -> Variant:
        return Variant(scenario.name, scenario.replications, dict(params), scenario, scenario.seed)


def flat_values(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys; lists become JSON text so that they compare."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flat_values(v, f"{name}."))
        elif isinstance(v, list | tuple):
            out[name] = json.dumps(v, sort_keys=True, default=str)
        else:
            out[name] = v
    return out


def varying_parameters(scenarios: Sequence[Scenario]) -> dict[str, list[Any]]:
    """The resolved keys whose values differ between scenarios, with each one's values."""
    flats = [flat_values(s.resolved()) for s in scenarios]
    keys = sorted(set().union(*flats))
    out = {}
    for k in keys:
        if k.split(".")[0] in NOT_PARAMETERS:
            continue
        values = [f.get(k) for f in flats]
        if any(v != values[0] for v in values[1:]):
            out[k] = values
    return out


def variants_of(scenarios: Sequence[Scenario]) -> list[Variant]:
    """Variants carrying the values of every parameter that differs between the scenarios."""
    varying = varying_parameters(scenarios)
    return [
        Variant.of(s, {k: values[i] for k, values in varying.items()})
        for i, s in enumerate(scenarios)
    ]


def tasks_of(variants: Iterable[Variant], payload: Callable[[Variant], Any]) -> list[Task]:
    """Every (variant, replication) task, variant by variant, replications in order."""
    return [Task(v.name, k, payload(v)) for v in variants for k in range(v.replications)]


def sweep_digest(kind: str, variants: Sequence[Variant], data_files: Iterable[tuple]) -> str:
    """A digest naming exactly what a sweep computes: its kind, each variant's resolved
    scenario and replications, the data files' checksums and the package version. The same
    command on the same data finds the same sweep folder, and so resumes it."""
    plan = {
        "kind": kind,
        "version": __version__,
        "variants": [
            [
                v.name,
                v.replications,
                v.seed,
                v.scenario.fingerprint if v.scenario is not None else None,
                json.dumps(dict(v.params), sort_keys=True, default=str),
            ]
            for v in variants
        ],
        "data": sorted(list(f) for f in data_files),
    }
    text = json.dumps(plan, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Execution:
    """What :func:`execute` did: tasks in the plan, found finished, run now, and seconds."""

    total: int
    skipped: int
    ran: int
    wall_s: float
    workers: int
    pool: str


def execute(
    tasks: Sequence[Task],
    work: Callable[[Task], TaskResult],
    store: TaskStore,
    pool: Any,
    progress: Callable[[int], Any] | None = None,
) -> Execution:
    """Run every task not yet in ``store`` on ``pool`` and write each result as it arrives.

    Finished tasks are skipped (a restarted sweep resumes); partial folders of a killed
    sweep are removed first. ``progress`` is called with the number of tasks found finished,
    then with 1 per task finished now.
    """
    t0 = time.perf_counter()
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("a sweep's tasks must have distinct (variant, replication) keys")
    store.clean_partial()
    todo = [t for t in tasks if not store.done(t)]
    if progress and len(todo) < len(tasks):
        progress(len(tasks) - len(todo))
    for i, result in pool.run(work, todo):
        store.write(todo[i], result)
        if progress:
            progress(1)
    return Execution(
        len(tasks),
        len(tasks) - len(todo),
        len(todo),
        time.perf_counter() - t0,
        pool.workers,
        pool.kind,
    )


# ----------------------------------------------------------------------------------- tables


def task_table(variants: Sequence[Variant], store: TaskStore) -> pd.DataFrame:
    """One row per task, in (variant, replication) order: the variant, the replication, its
    seed, the values of the parameters that vary, then every figure of the task."""
    rows = []
    for v in variants:
        for k in range(v.replications):
            figures = store.read(Task(v.name, k), tables=False).figures
            row = {"variant": v.name, "replication": k, "seed": v.seed, **v.params}
            rows.append({**row, **figures})
    return pd.DataFrame(rows)


def sweep_agents(variants: Sequence[Variant], store: TaskStore) -> pd.DataFrame:
    """Every protester of every task, each row led by its variant and varying parameters."""
    parts = []
    for v in variants:
        for k in range(v.replications):
            agents = store.read(Task(v.name, k)).tables["agents"]
            for i, (column, value) in enumerate([("variant", v.name), *v.params.items()]):
                agents.insert(i, column, [value] * len(agents))
            parts.append(agents)
    return pd.concat(parts, ignore_index=True)


def run_result(variant: Variant, setup: Any, store: TaskStore, wall_s: float | None = None) -> Any:
    """A variant's :class:`~sim.crowd.runner.RunResult`, from its tasks' results in replication
    order (for the run folder that ``run`` and ``compare`` write). ``wall_s``: the run's
    wall time, else the sum of its tasks' times."""
    from sim.batch.worker import route_use_of
    from sim.crowd.runner import Replication, RunResult

    reps, amnesty = [], None
    for k in range(variant.replications):
        r = store.read(Task(variant.name, k))
        reps.append(
            Replication(
                r.tables["agents"],
                r.tables["timeseries"],
                int(r.meta["events"]),
                float(r.meta["wall_s"]),
                r.arrays["edge_traffic"],
                dict(r.meta["undercount_share"]),
                street_seen_s=r.arrays.get("street_seen_s"),
                route_use=route_use_of(r.arrays),
                world=r.meta.get("world"),
                site_view=r.meta.get("site_view"),
                street_exposure={
                    k[len("world_") :]: v for k, v in r.arrays.items() if k.startswith("world_")
                }
                or None,
            )
        )
        if k == 0:
            amnesty = r.meta.get("amnesty")
    wall = wall_s if wall_s is not None else sum(float(r.wall_s) for r in reps)
    return RunResult(
        setup,
        pd.concat([r.agents for r in reps], ignore_index=True),
        pd.concat([r.timeseries for r in reps], ignore_index=True),
        reps,
        list(range(variant.replications)),
        wall,
        amnesty,
    )
