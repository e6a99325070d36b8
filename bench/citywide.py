"""The citywide day: ``scenarios/citywide_day.toml`` scaled to 1,000,000 trips, one replication,
as a user runs it: load the inputs, prepare every site, simulate, write the run's folder.

Phases are timed inside the one whole run: load (inputs from the warm cache), prepare (every
site's set-up, merged), draw (the plan of every site), simulate (the engine alone), tables
(agent table, time series, usage), write (``sim.outputs.run_files.write_run``: Parquet, time series,
cameras, layers, figures; agents.csv only below its size limit). The peak resident memory is
the whole run's.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from harness import repeat

from sim.crowd import runner
from sim.crowd.multisite import prepare_run, with_total
from sim.scenario.files import load_scenario

CITYWIDE = Path(__file__).resolve().parents[1] / "scenarios" / "citywide_day.toml"
CITYWIDE_TRIPS = {False: 1_000_000, True: 100_000}  # by quick
# Targets (issue 13): simulate <= 60 s, whole run <= 3 min, peak memory <= 4 GB.
SIMULATE_MAX_S, WHOLE_MAX_S, PEAK_MAX_MB = 60.0, 180.0, 4096.0


def citywide_day(quick: bool) -> list[dict]:
    """The citywide day at 1,000,000 trips (100,000 in ``--quick``), one replication."""
    from plans import source

    from sim.outputs.run_files import write_run
    from sim.scenario.inputs import scenario_inputs

    trips = CITYWIDE_TRIPS[quick]
    scenario = with_total(load_scenario(CITYWIDE), trips)
    phases: dict[str, float] = {}
    engine = runner.simulate

    def timed_simulate(*args: Any, **kwargs: Any):
        t0 = time.perf_counter()
        out = engine(*args, **kwargs)
        phases["simulate"] = time.perf_counter() - t0
        return out

    runner.simulate = timed_simulate  # the engine alone, as the runner calls it

    def whole():
        data = source()
        t0 = time.perf_counter()
        inputs = scenario_inputs(scenario, data)
        t1 = time.perf_counter()
        setup = prepare_run(scenario, inputs, data.store)
        t2 = time.perf_counter()
        result = runner.run_replications(setup)
        t3 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bench_citywide_") as tmp:
            write_run(result, Path(tmp))
        t4 = time.perf_counter()
        phases.update(load=t1 - t0, prepare=t2 - t1, replication=t3 - t2, write=t4 - t3)
        return result

    # warm-up: the same day at 1 % (compiles the kernel, fills the caches of every site)
    small = with_total(load_scenario(CITYWIDE), trips // 100)
    t = repeat(whole, 1, warmup=lambda: runner.run_replications(prepare_run(small, _inputs(small))))
    result = t.last
    agents = result.agents
    return [
        t.row(
            "scenario",
            f"citywide day: {trips:,} trips to {len(scenario.sites)} sites, 1 rep "
            "(load+prepare+simulate+write)",
            role="citywide",
            protesters=trips,
            sites=len(scenario.sites),
            events=result.replications[0].events,
            share_done=float((agents["status"] == "done").mean()),
            **{f"{k}_s": v for k, v in phases.items()},
        )
    ]


def _inputs(scenario):
    from plans import inputs_of

    return inputs_of(scenario)


def citywide_targets(rows: list[dict]) -> list[dict[str, Any]]:
    """The citywide day's targets: simulate, whole run, peak memory."""
    out = []
    for r in rows:
        if r.get("role") != "citywide":
            continue
        scale = "" if r["protesters"] >= 1_000_000 else f"measured at {r['protesters']:,} trips"
        for what, value, limit, text in (
            ("simulate", r["simulate_s"], SIMULATE_MAX_S, f"{r['simulate_s']:.1f} s"),
            ("whole run", r["median_s"], WHOLE_MAX_S, f"{r['median_s']:.1f} s"),
            ("peak memory", r["peak_rss_mb"], PEAK_MAX_MB, f"{r['peak_rss_mb']:,.0f} MB"),
        ):
            limit_text = f"{limit / 1024:g} GB" if what == "peak memory" else f"{limit:g} s"
            out.append(
                {
                    "case": r["name"],
                    "target": f"{what} <= {limit_text} at 1M",
                    "value": text,
                    "status": "met" if value <= limit else "MISSED",  # as report._mark
                    "note": scale,
                }
            )
    return out
