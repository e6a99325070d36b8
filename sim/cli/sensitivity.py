"""The ``sensitivity`` command: a scenario's ``[sensitivity]`` design run, its indices printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim import progress
from sim.batch.jobs import SensitivityRun, run_sensitivity
from sim.batch.options import RunOptions
from sim.batch.sensitivity import check_design_size, estimated_seconds
from sim.batch.sweep_files import outcome_scale
from sim.cli.options import no_progress_option, pool_options
from sim.scenario.files import load_scenario

DESCRIPTION = (
    "Draw a Morris or Sobol design (SALib) over the [sensitivity] parameters of a scenario "
    "file, run every design point as tasks (resumable: the same command skips finished tasks) "
    "and write outputs/sensitivity/<name>-<digest>/: tasks.csv, indices.csv with 95% "
    "intervals, sensitivity.json and sensitivity_ranking.png."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file with a [sensitivity]")
    pool_options(parser)
    no_progress_option(parser)


def sensitivity_command(args: argparse.Namespace, options: RunOptions) -> int:
    """A global sensitivity analysis of a scenario's ``[sensitivity]`` parameters."""
    scenario = load_scenario(args.scenario)
    if scenario.sensitivity.parameters:
        points = check_design_size(scenario.sensitivity, str(scenario.path))
        if progress.enabled():  # the work, before any of it starts
            tasks = points * scenario.replications
            seconds = estimated_seconds(points, scenario.replications, scenario.crowd.protesters)
            print(
                f"sensitivity: {points:,} design points x {scenario.replications} "
                f"replication(s) = {tasks:,} tasks of {scenario.crowd.protesters:,} protesters, "
                f"roughly {_duration(seconds)} on two cores (resumable: the same command skips "
                "finished tasks)",
                file=sys.stderr,
            )
    done = run_sensitivity(scenario, options)
    if not args.quiet:
        print("\n".join(summary_lines(done)))
    return 0


def summary_lines(done: SensitivityRun) -> list[str]:
    """The design's title, each outcome's parameters by importance with 95% intervals (Morris:
    mu_star in the outcome's units; Sobol: total order index), and the results folder."""
    lines = [done.title]
    morris = done.method == "morris"
    score = "mu_star" if morris else "ST"
    table = done.indices
    for outcome in done.outcomes:
        scale, unit, label = outcome_scale(outcome)
        scale, unit = (scale, unit) if morris else (1.0, "share of variance")
        lines.append(f"{label}: parameters by {score} ({unit}, 95% interval)")
        rows = table[table["outcome"] == outcome].sort_values("rank")
        for r in rows.itertuples():
            value = getattr(r, score) / scale
            lo = getattr(r, f"{score}_ci95_low") / scale
            hi = getattr(r, f"{score}_ci95_high") / scale
            lines.append(f"  {r.rank:2d}. {r.parameter:36s} {value:9.2f}  [{lo:.2f}, {hi:.2f}]")
    lines.append(f"results: {done.folder}")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
