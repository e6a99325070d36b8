"""The ``places`` command: protest sites, stations and exits, or what a name people type matches."""

from __future__ import annotations

import argparse

from sim.batch.options import RunOptions
from sim.cli.data_source import data_source
from sim.scenario.inputs import load_inputs


def places_command(args: argparse.Namespace, options: RunOptions) -> int:
    from sim.city import places

    inputs = load_inputs(data_source(options, args.quiet), ())
    catalogue = places.catalogue(inputs.exits, inputs.site_records)
    print("\n".join(places.listing(catalogue, args.query, args.exits)))
    return 1 if args.query is not None and not places.match(args.query, catalogue).places else 0
