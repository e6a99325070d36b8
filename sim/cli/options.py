"""Options that several commands share: where tasks run, the report's paper, progress."""

from __future__ import annotations

import argparse

from sim.report import DEFAULT_PAPER, PAPERS


def pool_options(parser: argparse.ArgumentParser) -> None:
    """Where the (scenario variant, replication) tasks run; results do not depend on it."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes for the tasks (default: one per processor, fewer when "
        "memory is short); results do not depend on it",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="run the tasks on a Dask cluster: tcp://HOST:PORT of a running scheduler, or "
        "'local' for a Dask LocalCluster of --workers processes (else "
        "$PROTEST_SIM_SCHEDULER)",
    )


def paper_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--paper",
        choices=list(PAPERS),
        default=DEFAULT_PAPER,
        help=f"paper of report.pdf (default: {DEFAULT_PAPER}, {PAPERS[DEFAULT_PAPER][1]})",
    )


def no_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--no-progress`` after the command as well as before it (the global option)."""
    parser.add_argument(
        "--no-progress",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars or progress lines on stderr",
    )
