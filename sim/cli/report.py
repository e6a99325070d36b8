"""The ``report`` command: the evidence report of a finished run or comparison folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.batch.options import RunOptions
from sim.cli.options import paper_option

DESCRIPTION = (
    "Write report.html, report.pdf and layers.gpkg for a finished run or comparison folder."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="a finished run or comparison folder")
    paper_option(parser)


def report_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Write a finished run's or comparison's report.html, report.pdf and layers.gpkg."""
    write_report_of(args.folder, options, args.quiet, args.paper)
    return 0


def write_report_of(folder: Path, options: RunOptions, quiet: bool, paper: str = "letter") -> None:
    """The report of a finished folder, from its own files (no data folder is read); its PDF
    on ``paper`` ("letter" or "a4")."""
    from sim.report.build import write_report

    written = write_report(folder, paper)
    if not quiet:
        print(f"report: {written[0]} (and {', '.join(p.name for p in written[1:])})")
