"""The ``run`` command: a scenario (or a ``[sweep]`` of it) run as tasks, its folder written,
its report beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.cli.data_source import data_source, network_of, scenario_sources
from sim.cli.options import no_progress_option, paper_option, pool_options
from sim.cli.report import write_report_of
from sim.crowd.engines import with_engine
from sim.data.networks import NetworkSpec
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.inputs import DataSource
from sim.scenario.scenario import Scenario
from sim.scenario.sections import ENGINES
from sim.scenario.variants import load_scenarios

DESCRIPTION = (
    "Run a scenario file (default: scenarios/washington_square.toml) and write its folder "
    "under outputs/<name>/. A [sweep] file runs once per value."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=None,
        help="scenario TOML file (default scenarios/washington_square.toml)",
    )
    pool_options(parser)
    no_progress_option(parser)
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="do not write report.html, report.pdf and layers.gpkg into the run folder",
    )
    parser.add_argument(
        "--engine", choices=ENGINES, help="movement engine (default: the scenario's)"
    )
    paper_option(parser)


def run_command(args: argparse.Namespace, options: RunOptions) -> int:
    from sim.batch.jobs import run_scenarios
    from sim.outputs.run_files import summary_lines

    path = args.scenario or DEFAULT_SCENARIO
    scenarios = load_scenarios(path)
    scenarios = [with_engine(s, getattr(args, "engine", None)) for s in scenarios]
    preflight.check_runs(scenarios, options)
    sources: dict[NetworkSpec, DataSource] = {}

    def source_of(scenario: Scenario) -> DataSource:
        spec = network_of(scenario)
        if spec not in sources:
            sources[spec] = data_source(options, args.quiet, spec, scenario_sources([scenario]))
        return sources[spec]

    def show(result, folder: Path) -> None:
        print("\n".join(summary_lines(result, folder)) if not args.quiet else f"results: {folder}")
        if getattr(args, "report", True):
            write_report_of(folder, options, args.quiet, getattr(args, "paper", "letter"))

    kind = "sweep" if load_scenario(path).sweep.parameter else "run"
    _, sweep_folder = run_scenarios(
        scenarios, source_of, options, kind, scenarios[0].name.split("__")[0], show
    )
    if sweep_folder is not None and not args.quiet:
        print(f"sweep tables: {sweep_folder}")
    return 0
