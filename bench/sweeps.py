"""Sweep throughput: a 100-task sweep in one process, on 1 and 2 local workers, on Dask.

    python bench/sweeps.py            # about 4 minutes on 2 cores
    python bench/sweeps.py --tasks 20 # a smaller sweep (4 variants x 5 replications)

The sweep is the default scenario with 1,000 protesters, 5 replications and radius visibility
(so that no case spends its time building sightline coverage), over public camera reach (20
values, so 100 (variant, replication) tasks, each variant preparing its coverage and routes
once). Each case runs in a fresh child process that first loads the inputs (not timed):

- ``inline``: the same tasks with no task machinery: prepare each variant, run its
  replications (``sim.crowd.runner.run_replication``) in a loop. The floor for one process.
- ``serial`` / ``processes-2``: ``sim.batch.jobs.run_scenarios`` as ``run`` calls it, on 1 worker
  and on 2 forked workers: preparing, the tasks, writing each task's result, reading them back,
  one run folder per variant (figures off) and the sweep's tables.
- ``dask-local-2``: the same on a 2-worker Dask ``LocalCluster`` started and stopped inside
  the timing; its workers import the package and load the inputs themselves.

Prints, per case, the total wall and CPU time (as a user waits for it: preparing, tasks, run
folders with their tables and layers, the sweep's tables; for Dask also starting and stopping
the cluster), then the tasks alone (``inline``: the replication loop after preparing; the
others: ``sim.batch.jobs.run_tasks``, i.e. pool up, tasks run and each result written, pool down):
wall time, tasks per second, speed-up over ``serial``, CPU seconds and the CPU overhead per
task over ``inline``'s loop. CPU seconds count the case's process and all its worker
processes; other load on the machine does not change them, while it does stretch wall times.
Writes ``outputs/bench/sweeps-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CASES = ("inline", "serial", "processes-2", "dask-local-2")
PROTESTERS = 1000
REPLICATIONS = 5


def scenarios(tasks: int):
    from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
    from sim.scenario.variants import override

    base = override(
        load_scenario(DEFAULT_SCENARIO),
        {
            "crowd.protesters": PROTESTERS,
            "replications": REPLICATIONS,
            "outputs.figures": False,
            # radius coverage: the sweep's machinery is measured, not 20 sightline builds
            "cameras.visibility": "radius",
        },
    )
    ranges = [20.0 + 10.0 * i for i in range(tasks // REPLICATIONS)]
    return [
        override(base, {"cameras.classes.public_street.range_m": r, "name": f"bench_r{r:.0f}"})
        for r in ranges
    ]


def child(case: str, tasks: int) -> dict:
    """Run one case in this (fresh) process and return its figures."""
    from sim.data.datasets import resolve_data_dir
    from sim.scenario.inputs import DataSource, scenario_inputs

    variants = scenarios(tasks)
    source = DataSource(resolve_data_dir(None))
    scenario_inputs(variants[0], source)  # load the city (not timed)
    phase: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if case == "inline":
            import numpy as np

            from sim.crowd.runner import run_replication
            from sim.crowd.setup import prepare

            setups = [prepare(s, scenario_inputs(s, source), source.store) for s in variants]
            t1, c1 = time.perf_counter(), _cpu()
            for s, setup in zip(variants, setups):
                seeds = np.random.SeedSequence(s.seed).spawn(s.replications)
                for k, seed in enumerate(seeds):
                    run_replication(setup, k, seed)
            phase = {"wall_s": time.perf_counter() - t1, "cpu_s": _cpu() - c1}
            execution = {"wall_s": phase["wall_s"], "prepare_s": t1 - t0}
        else:
            from sim.batch import jobs as batch
            from sim.batch.jobs import run_scenarios
            from sim.batch.options import RunOptions

            run_tasks = batch.run_tasks

            def timed(*a, **k):  # the tasks alone: pool up, tasks run and written, pool down
                t1, c1 = time.perf_counter(), _cpu()
                try:
                    return run_tasks(*a, **k)
                finally:
                    phase.update(wall_s=time.perf_counter() - t1, cpu_s=_cpu() - c1)

            batch.run_tasks = timed

            workers, scheduler = {
                "serial": (1, None),
                "processes-2": (2, None),
                "dask-local-2": (2, "local"),
            }[case]
            options = RunOptions(outputs=Path(tmp), workers=workers, scheduler=scheduler)
            _, folder = run_scenarios(variants, source, options, "sweep", "bench")
            execution = json.loads((folder / "sweep.json").read_text())["execution"]
        wall = time.perf_counter() - t0
    return {
        "case": case,
        "tasks": tasks,
        "wall_s": wall,
        "execution": execution,
        "tasks_phase": phase,
    }


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes (pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100, help="a multiple of 5")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tasks)))
        return 0
    rows = []
    for case in CASES:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, "--tasks", str(args.tasks)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        # CPU seconds of the case's process and every process it started (pool and Dask
        # workers are waited for, so they count): does not depend on other load
        rows[-1]["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{case}: {rows[-1]['wall_s']:.1f} s", file=sys.stderr)
    by = {r["case"]: r for r in rows}
    base = by["inline"]["tasks_phase"]
    serial_wall = by["serial"]["tasks_phase"]["wall_s"]
    print(f"{args.tasks}-task sweep, {PROTESTERS} protesters per task, crowding on")
    print(
        f"{'case':14s} {'total s':>8s} {'total CPU s':>12s} | {'tasks s':>8s} {'tasks/s':>8s} "
        f"{'speed-up':>9s} {'tasks CPU s':>12s} {'CPU overhead/task':>18s}"
    )
    for r in rows:
        p = r["tasks_phase"]
        r["tasks_per_s"] = args.tasks / p["wall_s"]
        r["speed_up_over_serial"] = serial_wall / p["wall_s"]
        r["cpu_overhead_per_task_ms"] = (p["cpu_s"] - base["cpu_s"]) / args.tasks * 1000
        print(
            f"{r['case']:14s} {r['wall_s']:8.1f} {r['cpu_s']:12.1f} | {p['wall_s']:8.1f} "
            f"{r['tasks_per_s']:8.2f} {r['speed_up_over_serial']:8.2f}x {p['cpu_s']:12.1f} "
            f"{r['cpu_overhead_per_task_ms']:15.0f} ms"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    from machine import machine_info

    out_dir = REPO / "outputs" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"sweeps-{time.strftime('%Y%m%dT%H%M%S')}.json"
    record = {"rows": rows, "machine": machine_info(), "load_average": os.getloadavg()}
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
