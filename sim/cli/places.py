"""The ``places`` command: protest sites, stations and exits, or what a name people type matches."""

from __future__ import annotations

import argparse

from sim.batch.options import RunOptions
from sim.cli.data_source import data_source
from sim.scenario.inputs import load_inputs

DESCRIPTION = (
    "List the protest sites and subway stations with their ids, or show what a name matches "
    "(forgiving: any case, St/Street, Sq/Square, Av/Avenue, a name's start). Exits 1 when "
    "nothing matches."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", nargs="?", default=None, help="a name or id to look up (default: list all)"
    )
    parser.add_argument(
        "--exits", action="store_true", help="also list every subway exit with its id"
    )


def places_command(args: argparse.Namespace, options: RunOptions) -> int:
    from sim.city import places

    inputs = load_inputs(data_source(options, args.quiet), ())
    catalogue = places.catalogue(inputs.exits, inputs.site_records)
    print("\n".join(places.listing(catalogue, args.query, args.exits)))
    return 1 if args.query is not None and not places.match(args.query, catalogue).places else 0
