"""The ``data`` command: the data folder used, what it holds, and whether a run of the
default scenario finds every file it reads."""

from __future__ import annotations

import argparse

from sim.batch.options import RunOptions
from sim.cli.data_source import scenario_sources
from sim.data import datasets
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario


def data_status_command(args: argparse.Namespace, options: RunOptions) -> int:
    required = tuple(scenario_sources([load_scenario(DEFAULT_SCENARIO)]))
    lines, complete = datasets.status_report(datasets.find_data_dir(options.data_dir), required)
    print("\n".join(lines))
    return 0 if complete else 1
