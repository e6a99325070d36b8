"""The ``data`` command: the data folder used, what it holds, and whether a run of the
default scenario finds every file it reads."""

from __future__ import annotations

import argparse

from sim.batch.options import RunOptions
from sim.cli.data_source import scenario_sources
from sim.data import datasets
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario

DESCRIPTION = (
    "Show the data folder chosen (and the search order), and each source: whether it is "
    "required, rows, size, checksum and where it was found. Exits 1 when a required source is "
    "missing and cannot be downloaded."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        default="status",
        choices=["status"],
        help="what to show: status (the only choice, the default)",
    )


def data_status_command(args: argparse.Namespace, options: RunOptions) -> int:
    required = tuple(scenario_sources([load_scenario(DEFAULT_SCENARIO)]))
    lines, complete = datasets.status_report(datasets.find_data_dir(options.data_dir), required)
    print("\n".join(lines))
    return 0 if complete else 1
