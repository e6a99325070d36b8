"""The ``rank-cameras`` command: each camera site's contribution to the crowd's exposure,
and the greedy removal curve."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.cli.data_source import data_source, network_of
from sim.data import datasets
from sim.scenario.files import load_scenario
from sim.scenario.inputs import scenario_inputs
from sim.scenario.variants import override

DESCRIPTION = (
    "Rank camera sites by their marginal contribution to the crowd's camera-seconds and to the "
    "protesters seen at all, with the greedy removal curve; writes "
    "outputs/rankings/<scenario>/<id>/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument(
        "--top", type=int, default=20, help="how many camera sites to rank and remove (20)"
    )


def rank_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Rank camera sites by marginal contribution, from recorded routes (crowding off)."""
    from sim.crowd import ranking
    from sim.crowd.runner import AMNESTY, run_replication
    from sim.crowd.setup import prepare
    from sim.outputs.run_files import write_ranking

    scenario = load_scenario(args.scenario)
    preflight.workers_to_use(scenario, 1, replications=1)
    preflight.check_outputs(options.outputs_root, preflight.OUTPUT_FIXED_BYTES)
    source = data_source(options, args.quiet, network_of(scenario), datasets.sources_for(scenario))
    crowding = scenario.walking.crowding
    free = override(scenario, {"walking.crowding": False}, note="rank-cameras: crowding off")
    setup = prepare(free, scenario_inputs(free, source), source.store)
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    # ranked in Amnesty's geometry (every camera all around, working): what each site could
    # contribute, the coverage the ranking reads
    rep = run_replication(setup, 0, seed, keep_plan=True, world=AMNESTY)
    ranked = ranking.rank_cameras(
        setup.coverage,
        setup.inputs.network.n_edges,
        rep.plan,
        rep.stand_cameras,
        rep.agents["dwell_s"].to_numpy(),
        args.top,
    )
    meta = {
        "scenario": scenario.name,
        "scenario_text": scenario.text,
        "scenario_fingerprint": scenario.fingerprint,
        "seed": scenario.seed,
        "replication": 0,
        "crowding_in_scenario": crowding,
        "crowding_used": False,
        "protesters": int(len(rep.agents)),
        "total_camera_s": ranked.contributions.total_camera_s,
        "protesters_seen": ranked.contributions.seen_protesters,
    }
    folder = write_ranking(setup, ranked, meta, args.top, options.outputs)
    if not args.quiet:
        print(f"{'rank':>4s} {'camera site':38s} {'class':16s} {'share of camera-s':>17s}")
        for _, r in ranked.table.head(10).iterrows():
            print(
                f"{r['rank']:4d} {r.camera_id:38s} {r['class']:16s} {r.camera_s_share * 100:16.1f}%"
            )
        if crowding:
            print(
                "note: ranked with crowding off (free walking speeds), as the ranking is "
                "computed from coverage tables and recorded routes"
            )
    print(f"results: {folder}")
    return 0
