"""The ``compare`` command: scenarios run (or finished runs reused) with matched seeds,
every figure with its difference from the first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.cli.data_source import data_source, network_of, scenario_sources
from sim.cli.options import paper_option, pool_options
from sim.cli.report import write_report_of
from sim.crowd.engines import with_engine
from sim.errors import InputError
from sim.scenario.inputs import Inputs, scenario_inputs
from sim.scenario.scenario import Scenario
from sim.scenario.sections import ENGINES
from sim.scenario.variants import load_scenarios, override

DESCRIPTION = (
    "Run (or reuse finished runs of) each scenario with the first one's seed and replications, "
    "so differences are paired; print each figure with its difference from the first and a "
    "bootstrap 95% interval; write outputs/compare/<id>/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenarios", nargs="+", type=Path, help="scenario files; the first is the base"
    )
    pool_options(parser)
    parser.add_argument("--rerun", action="store_true", help="do not reuse finished runs")
    parser.add_argument(
        "--report", action="store_true", help="write report.html, report.pdf and layers.gpkg"
    )
    parser.add_argument("--engine", choices=ENGINES, help="movement engine for every run")
    paper_option(parser)


def compare_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Run (or reuse) each scenario with the first one's seed and replications, and compare."""
    from sim.cli import readout
    from sim.crowd.stats import comparison
    from sim.outputs.run_files import write_comparison

    scenarios = [v for path in args.scenarios for v in load_scenarios(path)]
    scenarios = [with_engine(s, getattr(args, "engine", None)) for s in scenarios]
    first = scenarios[0]
    networks = {network_of(s) for s in scenarios}
    if len(networks) > 1:
        raise InputError(
            "compare: the scenarios walk different networks ("
            + "; ".join(sorted(n.describe() for n in networks))
            + "); compare scenarios of one network"
        )
    preflight.check_runs([matched_seed(s, first) for s in scenarios], options)
    matching = readout.matching(scenarios, first)
    labels = readout.run_labels([s.name for s in scenarios], [s.path for s in scenarios])
    if not args.quiet:
        print("\n".join(readout.matching_lines(matching, first.name)))
    source = data_source(options, args.quiet, networks.pop(), scenario_sources(scenarios))
    runs, files = [], {}
    for scenario in scenarios:
        matched = matched_seed(scenario, first)
        inputs = scenario_inputs(matched, source)
        files.update({(f.source.key, f.sha256): f for f in inputs.files})
        agents, folder = (None, None) if args.rerun else find_finished_run(matched, inputs, options)
        runs.append([matched, agents, folder, inputs, f"reused {folder}"])
    todo = [run for run in runs if run[1] is None]
    if todo:  # every replication of every scenario not reused: one set of tasks, one pool
        from sim.batch.jobs import run_scenarios

        done, _ = run_scenarios(
            [run[0] for run in todo], source, options, "compare", f"compare-{first.name}"
        )
        for run, (result, folder) in zip(todo, done):
            run[1], run[2], run[4] = result.agents, folder, f"ran into {folder}"
    out, table = comparison([(label, r[1]) for label, r in zip(labels, runs)], first.seed)
    out.update(base=labels[0], seed=first.seed, replications=first.replications)
    out["matching"] = matching
    for entry, (s, _, run_folder, inputs, _) in zip(out["scenarios"], runs):
        entry["scenario"] = s.name
        entry["run"] = str(run_folder)
        entry["scenario_file"] = str(s.path)
        entry["data_files"] = [{"source": f.source.key, "sha256": f.sha256} for f in inputs.files]
    folder = write_comparison(
        out,
        table,
        {label: r[1] for label, r in zip(labels, runs)},
        [f.provenance() for f in files.values()],
        first.name,
        options.outputs,
    )
    if not args.quiet:
        print("\n".join(readout.comparison_lines(table, labels, [r[4] for r in runs])))
    print(f"results: {folder}")
    if args.report:
        write_report_of(folder, options, args.quiet, args.paper)
    return 0


def matched_seed(scenario: Scenario, first: Scenario) -> Scenario:
    """``scenario`` with ``first``'s seed and replications (matched draws for paired figures)."""
    if scenario.seed == first.seed and scenario.replications == first.replications:
        return scenario
    return override(
        scenario,
        {"seed": first.seed, "replications": first.replications},
        note=(
            f"compare: seed and replications matched to {first.name} "
            f"({first.seed}, {first.replications})"
        ),
    )


def find_finished_run(scenario: Scenario, inputs: Inputs, options: RunOptions):
    """Agents of the newest finished run of exactly this scenario, version and data files.

    A run is reused only when its manifest names the same resolved scenario (fingerprint), the
    same package version, and exactly the same data files with the same checksums as
    ``inputs``; otherwise None (the scenario is run afresh).
    """
    import pandas as pd

    from sim import __version__

    root = options.outputs_root / scenario.name
    if not root.is_dir():
        return None, None
    wanted = {(f.source.key, f.sha256) for f in inputs.files}
    for folder in sorted(root.iterdir(), reverse=True):
        manifest = folder / "manifest.json"
        if folder.name.startswith(".") or not manifest.is_file():
            continue
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        used = {(f.get("source"), f.get("sha256")) for f in meta.get("data_files", [])}
        if (
            meta.get("scenario_fingerprint") == scenario.fingerprint
            and meta.get("scenario_text") == scenario.text
            and meta.get("versions", {}).get("protest-exposure") == __version__
            and used == wanted
            and (folder / "agents.parquet").is_file()
            and "report_inputs" in meta  # earlier versions' runs lack what the report reads
        ):
            return pd.read_parquet(folder / "agents.parquet"), folder
    return None, None
