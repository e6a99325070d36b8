"""Batches for the commands: scenarios (a run, a ``[sweep]``, a ``compare``) or a sensitivity
design as one set of (variant, replication) tasks in one pool, resumable, then written.

Where the tasks live:
- a plain ``run``: ``outputs/<name>/.tasks-<digest>/``, removed once the run folder is written;
- a ``[sweep]`` or ``compare``: ``outputs/sweeps/<label>-<digest>/``, kept, with the sweep's
  tables beside the tasks (and the usual run folder of each variant);
- ``sensitivity``: ``outputs/sensitivity/<name>-<digest>/``, with its tables and figure.

The digest names exactly what is computed (:func:`sim.batch.sweep.sweep_digest`), so the same
command finds the same folder and skips the tasks finished before it was stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import progress
from sim.batch import worker
from sim.batch.options import RunOptions
from sim.batch.overlap import open_space_job, start_overlap
from sim.batch.pool import open_pool
from sim.batch.sensitivity import Design, design, design_outcomes, indices, parameter_value
from sim.batch.sweep import (
    Execution,
    Variant,
    execute,
    sweep_digest,
    task_table,
    tasks_of,
    variants_of,
)
from sim.batch.tasks import Task, TaskResult, TaskStore
from sim.errors import ScenarioError
from sim.scenario.inputs import DataSource, scenario_inputs
from sim.scenario.scenario import Scenario
from sim.scenario.variants import override

log = logging.getLogger(__name__)


def _pool(options: RunOptions, tasks: Sequence[Task], todo: int):
    """The pool for ``--workers`` / ``--scheduler``; local workers are also limited by the
    memory the largest of the tasks' scenarios needs per process (:mod:`sim.batch.preflight`)."""
    from sim.batch import preflight
    from sim.batch.pool import SCHEDULER_ENV_VAR, machine_workers

    workers = options.workers or 0
    scheduler = options.scheduler or os.environ.get(SCHEDULER_ENV_VAR)
    scenarios = [t.payload.scenario for t in tasks if isinstance(t.payload, worker.ReplicationWork)]
    if not scheduler and scenarios and todo > 0:
        largest = max(scenarios, key=lambda s: s.crowd.protesters)
        workers = preflight.workers_to_use(largest, workers or machine_workers(), replications=todo)
    return open_pool(workers, scheduler, todo)


def _uses_kernel(task: Task) -> bool:
    work = task.payload
    return isinstance(work, worker.ReplicationWork) and work.scenario.engine == "kernel"


def run_tasks(
    tasks: Sequence[Task],
    work: Callable[[Task], TaskResult],
    store: TaskStore,
    options: RunOptions,
    label: str,
    unit: str = "task",
) -> Execution:
    """Run the unfinished tasks with a progress bar (done / total, time left)."""
    from sim import progress

    todo = sum(not store.done(t) for t in tasks)
    note = f"{len(tasks) - todo} found finished" if todo < len(tasks) else ""
    if any(_uses_kernel(t) for t in tasks if not store.done(t)):
        from sim.crowd.kernel import prepare_engine

        prepare_engine()  # once here, not in every worker (forked workers inherit it)
    pool = _pool(options, tasks, todo)
    try:
        with progress.task(label, len(tasks), unit, note) as bar:
            return execute(tasks, work, store, pool, bar.advance)
    finally:
        pool.close()


def run_scenarios(
    scenarios: Sequence[Scenario],
    source: DataSource | Callable[[Scenario], DataSource],
    options: RunOptions,
    kind: str,
    label: str,
    on_result: Callable[[Any, Path], None] | None = None,
) -> tuple[list[tuple[Any, Path]], Path | None]:
    """Run every replication of every scenario as one set of tasks, write each scenario's run
    folder from its tasks, and (for a sweep or a comparison) the sweep's tables.

    Returns each scenario's (RunResult, run folder), and the sweep folder (None for a plain
    run, whose task folder is removed once its run folder is written).
    """
    source_of = source if callable(source) else (lambda _: source)
    scenarios, slot = _distinct(list(scenarios))
    overlap = start_overlap(scenarios, source_of)  # a cold start's slow builds, side by side
    try:
        return _run_scenarios(scenarios, slot, source_of, options, kind, label, on_result, overlap)
    finally:
        overlap.close()


def _run_scenarios(scenarios, slot, source_of, options, kind, label, on_result, overlap):
    from sim.batch.sweep_files import write_sweep
    from sim.crowd.multisite import prepare_run
    from sim.outputs.run_files import write_run

    setups, works = [], {}
    for s in scenarios:
        src = source_of(s)
        worker.register_source(src)
        cams = s.cameras
        if open_space_job(src, cams.buildings, cams.footprints) in overlap:
            src.network()  # built here while the open space is built beside it
            overlap.wait(open_space_job(src, cams.buildings, cams.footprints))
        setups.append(prepare_run(s, scenario_inputs(s, src), src.store))
        works[s.name] = worker.ReplicationWork(s, src.data_dir.resolve(), src.cache_folder)
    overlap.wait("engine")
    for setup in setups:
        worker.register_setup(works[setup.scenario.name], setup)
    variants = variants_of(scenarios)
    files = {(f.source.key, f.sha256): f for st in setups for f in st.inputs.files}
    digest = sweep_digest(kind, variants, files)
    root = options.outputs_root
    plain = kind == "run" and len(scenarios) == 1
    if plain:
        folder = _plain_task_folder(root / scenarios[0].name, digest)
    else:
        folder = root / "sweeps" / f"{label}-{digest}"
    store = TaskStore(folder, shown_as=root / scenarios[0].name if plain else folder)
    made = _first_missing(folder)
    tasks = tasks_of(variants, lambda v: works[v.name])
    try:
        out, execution = _run_and_write(
            tasks, variants, setups, store, options, label, plain, on_result, write_run, overlap
        )
    except KeyboardInterrupt:  # finished tasks are kept: the same command resumes them
        raise
    except BaseException:
        if plain:  # a failed run leaves nothing (its task folder, the folders made for it)
            _remove(folder, made)
        raise
    finally:
        worker.forget_setups()
    if plain:
        _remove(folder, made)
        return [out[i] for i in slot], None
    write_sweep(
        store,
        variants,
        execution,
        [f for _, f in out],
        [f.provenance() for f in files.values()],
        kind,
    )
    return [out[i] for i in slot], folder


def _run_and_write(
    tasks, variants, setups, store, options, label, plain, on_result, write_run, overlap
):
    """Run the tasks, then write each variant's run folder from them."""
    from sim.batch.sweep import run_result

    if plain:  # said as a run has always said it
        execution = run_tasks(
            tasks, worker.replication_task, store, options, f"{label}: replications", "rep"
        )
    else:
        execution = run_tasks(tasks, worker.replication_task, store, options, f"{label}: tasks")
    log.info(
        "%s: %d tasks, %d found finished, %d run in %.1f s on %d worker(s) (%s)",
        label,
        execution.total,
        execution.skipped,
        execution.ran,
        execution.wall_s,
        execution.workers,
        execution.pool,
    )
    overlap.wait("neighbourhoods")  # the run folders keep them for the report
    out = []
    for v, setup in zip(variants, setups):
        result = run_result(v, setup, store, execution.wall_s if plain else None)
        run_folder = write_run(result, options.outputs)
        if on_result:
            on_result(result, run_folder)
        out.append((result, run_folder))
    return out, execution


def _plain_task_folder(parent: Path, digest: str) -> Path:
    """A plain run's task folder: its own (``.tasks-<digest>-<pid>``), so that two runs of one
    scenario at once never share one; a folder of the same run left by a process that is gone
    (killed) is taken over, so the run resumes. Of two runs taking over the same folder, the
    rename lets one win; the other starts afresh."""
    from sim.atomic import process_gone

    mine = parent / f".tasks-{digest}-{os.getpid()}"
    for old in sorted(parent.glob(f".tasks-{digest}-*")):
        pid = old.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or not process_gone(int(pid)):
            continue
        try:
            os.rename(old, mine)
            return mine
        except OSError:
            continue
    return mine


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder on the way to ``folder`` that does not exist yet (None: all do)."""
    missing = None
    for f in (folder, *folder.parents):
        if f.exists():
            break
        missing = f
    return missing


def _remove(folder: Path, made: Path | None) -> None:
    """Remove ``folder``, then the folders made for it (up to ``made``) if they are empty."""
    shutil.rmtree(folder, ignore_errors=True)
    if made is None:
        return
    for f in folder.parents:
        if not f.is_relative_to(made):  # above the folders made for it
            return
        try:
            f.rmdir()  # only ever removes an empty folder
        except OSError:
            return


def _distinct(scenarios: Sequence[Scenario]) -> tuple[list[Scenario], list[int]]:
    """The scenarios once each (a scenario compared with itself runs once), and where each
    asked scenario is among them. Two different scenarios of the same name get ``-2``,
    ``-3``... so that their tasks stay apart."""
    out: list[Scenario] = []
    slot = []
    by_key: dict[tuple[str, str], int] = {}
    names: set[str] = set()
    for s in scenarios:
        key = (s.name, s.fingerprint)
        if key not in by_key:
            name, k = s.name, 1
            while name in names:
                k += 1
                name = f"{s.name}-{k}"
            if name != s.name:
                s = override(s, {"name": name}, note=f"renamed {s.name} -> {name}: a name taken")
            names.add(name)
            by_key[key] = len(out)
            out.append(s)
        slot.append(by_key[key])
    return out, slot


# ---------------------------------------------------------------------------- sensitivity


def design_scenarios(base: Scenario, dsn: Design) -> list[Scenario]:
    """One scenario per design point: the base with the point's parameter values."""
    where = f"{base.path}: [sensitivity]"
    for i, p in enumerate(dsn.parameters):  # the ends of every range first, named clearly
        for end, u in (("low", 0.0), ("high", 1.0)):
            override(
                base,
                {p.key: parameter_value(p, u)},
                drop=("sensitivity",),
                where=f"sensitivity.parameters[{i}] {end} end",
            )
    if not dsn.parameters:
        raise ScenarioError(f"{where} needs at least one [[sensitivity.parameters]] table")
    out = []
    with progress.task("sensitivity design points", dsn.points, "point") as step:
        for i, values in enumerate(dsn.values()):
            out.append(
                override(
                    base,
                    {**values, "name": f"{base.name}__p{i:05d}"},
                    note=f"sensitivity design point {i}: {values}",
                    drop=("sensitivity",),
                    where=f"sensitivity design point {i}",
                )
            )
            step.advance()
    return out


def run_design(
    dsn: Design,
    variants: Sequence[Variant],
    payload: Callable[[Variant], Any],
    work: Callable[[Task], TaskResult],
    store: TaskStore,
    options: RunOptions,
    outcomes: Sequence[str],
    seed: int,
    label: str,
) -> tuple[pd.DataFrame, pd.DataFrame, Execution]:
    """Run a design's tasks; return the task table, the indices table and the execution.

    ``variants`` are the design points in design order; each task's figures must include
    ``outcomes``. The command runs the simulation this way; a test runs Ishigami's function.
    """
    tasks = tasks_of(variants, payload)
    execution = run_tasks(tasks, work, store, options, label)
    table = task_table(variants, store)
    means = design_outcomes(dsn, table, [v.name for v in variants], outcomes)
    return table, indices(dsn, means, seed), execution


@dataclass(frozen=True)
class SensitivityRun:
    """A finished sensitivity analysis: its record (``sensitivity.json``), its indices table
    (``indices.csv``) and the folder they are in."""

    record: dict[str, Any]
    indices: pd.DataFrame
    folder: Path

    @property
    def title(self) -> str:
        return self.record["title"]

    @property
    def method(self) -> str:
        return self.record["method"]

    @property
    def outcomes(self) -> list[str]:
        return self.record["outcomes"]


def run_sensitivity(base: Scenario, options: RunOptions) -> SensitivityRun:
    """A global sensitivity analysis of a scenario's ``[sensitivity]`` parameters: the design
    run as tasks (resumable), its tables, record and figure written."""
    from sim.batch.sweep_files import write_sensitivity
    from sim.crowd.multisite import prepare_run
    from sim.data import datasets
    from sim.data.networks import spec_from_scenario

    spec = base.sensitivity
    if base.sweep.parameter:
        raise ScenarioError(
            f"{base.path}: [sweep] and [sensitivity] in one file (allowed: one of them)"
        )
    if not spec.parameters:
        raise ScenarioError(
            f"{base.path}: [sensitivity] needs at least one [[sensitivity.parameters]] table"
        )
    dsn = design(spec, base.seed, str(base.path))
    scenarios = design_scenarios(base, dsn)
    choice = datasets.find_data_dir(options.data_dir)
    network = spec_from_scenario(base.network)
    needed = datasets.sources_for(base)
    if not network.is_default:  # its own file or a download
        needed = [k for k in needed if k != "osm_walk"]
    datasets.require_sources(needed, choice.path)
    source = DataSource(choice.path, network=network)
    worker.register_source(source)
    prepare_run(base, scenario_inputs(base, source), source.store)  # sites, exits, cameras
    files = {
        (f.source.key, f.sha256): f for s in scenarios for f in scenario_inputs(s, source).files
    }
    variants = [
        Variant.of(s, {p.key: values[p.key] for p in dsn.parameters})
        for s, values in zip(scenarios, dsn.values())
    ]
    digest = sweep_digest(f"sensitivity-{spec.method}", variants, files)
    store = TaskStore(options.outputs_root / "sensitivity" / f"{base.name}-{digest}")
    data_dir = source.data_dir.resolve()
    # Morris values sit on a grid of `levels` values, so coverage tables repeat and are cached;
    # Sobol values are all distinct, and caching each table would only fill the cache.
    cache_coverage = spec.method == "morris"
    by_name = {s.name: s for s in scenarios}
    tasks_table, table, execution = run_design(
        dsn,
        variants,
        lambda v: worker.ReplicationWork(
            by_name[v.name], data_dir, source.cache_folder, False, cache_coverage
        ),
        worker.replication_task,
        store,
        options,
        list(spec.outcomes),
        base.seed,
        f"{base.name} {spec.method}",
    )
    record = {
        "title": (
            f"{base.name}: {spec.method} sensitivity, {dsn.points} design points x "
            f"{base.replications} replication(s), {base.crowd.protesters} protesters"
        ),
        "scenario": base.name,
        "scenario_file": str(base.path),
        "scenario_text": base.text,
        "scenario_fingerprint": base.fingerprint,
        "method": spec.method,
        "samples": spec.samples,
        "levels": spec.levels,
        "seed": base.seed,
        "design_points": dsn.points,
        "replications_per_point": base.replications,
        "protesters": base.crowd.protesters,
        "outcomes": list(spec.outcomes),
        "parameters": [
            {"key": p.key, "name": p.label, "bounds": p.bounds, "values": list(p.values)}
            for p in dsn.parameters
        ],
        "seeds": "every design point uses the scenario seed: replication k of every point "
        "draws from SeedSequence(seed, spawn_key=(k,)) (common random numbers)",
    }
    write_sensitivity(
        store, tasks_table, table, record, execution, [f.provenance() for f in files.values()]
    )
    return SensitivityRun(record, table, store.folder)
