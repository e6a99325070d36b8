"""The CLI's commands: each parses its arguments, loads its inputs, runs the core, writes.

Each command takes its parsed arguments and the :class:`~sim.batch.options.RunOptions` built
from them once (``sim.cli.app``): the data and outputs folders are read from the options, a
command's own arguments from ``args``, and only the options go below the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import shapely

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.crowd.engines import with_engine
from sim.data import datasets
from sim.data.networks import NetworkSpec, spec_from_argument, spec_from_scenario
from sim.errors import InputError
from sim.exposure.camera_model import AMNESTY_PRESET
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.inputs import DataSource, Inputs, load_inputs, scenario_inputs
from sim.scenario.scenario import Scenario
from sim.scenario.sections import CameraLayer
from sim.scenario.variants import load_scenarios, override

AMNESTY_LAYERS = (CameraLayer("banthescan_public", "public_street"),)


def _source(
    options: RunOptions,
    quiet: bool,
    network: NetworkSpec | None = None,
    sources: list[str] | None = None,
) -> DataSource:
    """The data folder given or found (a found one is said on stderr unless ``quiet``), after
    checking that every file of ``sources`` is there (all missing ones named at once)."""
    choice = datasets.find_data_dir(options.data_dir)
    if not quiet and options.data_dir is None:  # found by the search order: say which
        print(f"data: {choice.describe()}", file=sys.stderr)
    needed = sources or ["osm_walk", "mta_entrances"]
    if network is not None and not network.is_default:  # its own file or a download
        needed = [k for k in needed if k != "osm_walk"]
    datasets.require_sources(needed, choice.path)
    return DataSource(choice.path, network=network)


def _scenario_sources(scenarios: list[Scenario]) -> list[str]:
    """What writing these scenarios' run folders reads: their own sources, and those of what
    each folder keeps for its report (basemap, site neighbourhoods)."""
    keys = [k for s in scenarios for k in datasets.sources_for(s)]
    return list(dict.fromkeys([*keys, *datasets.REPORT_SOURCES]))


def _network(scenario: Scenario) -> NetworkSpec:
    return spec_from_scenario(scenario.network)


# ------------------------------------------------------------------------------------ run


def run_command(args: argparse.Namespace, options: RunOptions) -> int:
    from sim.batch.jobs import run_scenarios
    from sim.outputs.run_files import summary_lines

    path = args.scenario or DEFAULT_SCENARIO
    scenarios = load_scenarios(path)
    scenarios = [with_engine(s, getattr(args, "engine", None)) for s in scenarios]
    preflight.check_runs(scenarios, options)
    sources: dict[NetworkSpec, DataSource] = {}

    def source_of(scenario: Scenario) -> DataSource:
        spec = _network(scenario)
        if spec not in sources:
            sources[spec] = _source(options, args.quiet, spec, _scenario_sources([scenario]))
        return sources[spec]

    def show(result, folder: Path) -> None:
        print("\n".join(summary_lines(result, folder)) if not args.quiet else f"results: {folder}")
        if getattr(args, "report", True):
            write_report_of(folder, options, args.quiet)

    kind = "sweep" if load_scenario(path).sweep.parameter else "run"
    _, sweep_folder = run_scenarios(
        scenarios, source_of, options, kind, scenarios[0].name.split("__")[0], show
    )
    if sweep_folder is not None and not args.quiet:
        print(f"sweep tables: {sweep_folder}")
    return 0


def report_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Write a finished run's or comparison's report.html, report.pdf and layers.gpkg."""
    write_report_of(args.folder, options, args.quiet)
    return 0


def write_report_of(folder: Path, options: RunOptions, quiet: bool) -> None:
    """The report of a finished folder, from its own files (no data folder is read)."""
    from sim.report.build import write_report

    written = write_report(folder)
    if not quiet:
        print(f"report: {written[0]} (and {', '.join(p.name for p in written[1:])})")


# ----------------------------------------------------------------------------------- data


def data_status_command(args: argparse.Namespace, options: RunOptions) -> int:
    required = tuple(_scenario_sources([load_scenario(DEFAULT_SCENARIO)]))
    lines, complete = datasets.status_report(datasets.find_data_dir(options.data_dir), required)
    print("\n".join(lines))
    return 0 if complete else 1


# --------------------------------------------------------------------------------- places


def places_command(args: argparse.Namespace, options: RunOptions) -> int:
    from sim.city import places

    inputs = load_inputs(_source(options, args.quiet), ())
    catalogue = places.catalogue(inputs.exits, inputs.site_records)
    print("\n".join(places.listing(catalogue, args.query, args.exits)))
    return 1 if args.query is not None and not places.match(args.query, catalogue).places else 0


# ---------------------------------------------------------------------------------- route


def route_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Score one walk: between two places on the network, or a path drawn elsewhere."""
    from sim.city import routing
    from sim.cli.route_input import MAX_PATH_OFF_NETWORK_M, read_path_file, resolve_place
    from sim.exposure.coverage import coverage_of_lines, score_route
    from sim.exposure.pieces import SEEN
    from sim.geo import lonlat_to_xy
    from sim.outputs.run_files import write_route

    if args.path is not None and (args.origin is not None or args.destination is not None):
        raise InputError("route: give either --from and --to, or --path FILE, not both")
    if args.path is None and (args.origin is None or args.destination is None):
        raise InputError("route: give --from and --to, or --path FILE")
    if args.preset == "scenario" and args.scenario is None:
        raise InputError("route: --preset scenario needs --scenario FILE (the scenario to use)")
    preflight.check_outputs(options.outputs_root, preflight.OUTPUT_FIXED_BYTES)
    preset = "scenario" if args.scenario is not None else "amnesty"
    pts = read_path_file(args.path) if args.path is not None else None
    if pts is not None:
        from sim.cli import route_path

        needs_network = route_path.network_reason(args)
        if needs_network is None:  # scored straight from the city's camera sites
            result, folder = route_path.score_drawn_path(args, options, pts)
            _print_route(result, folder, args.quiet)
            return 0
        data_dir = datasets.resolve_data_dir(options.data_dir)
        route_path.check_path_in_city(args.path, pts, data_dir)
    cams = ["banthescan_public"]
    if args.scenario is not None:
        cams = datasets.sources_for(load_scenario(args.scenario))
    network = _route_network(args, options)
    source = _source(options, args.quiet, network, ["osm_walk", "mta_entrances", *cams])
    inputs, coverage = _route_coverage(args.scenario, source)
    net = inputs.network
    if pts is not None:
        x, y = lonlat_to_xy(pts[:, 1], pts[:, 0])
        _, dist = net.nearest_nodes(x, y)
        if dist.max() > MAX_PATH_OFF_NETWORK_M:
            k = int(np.argmax(dist))
            raise InputError(
                f"{args.path}: point {k + 1} ({pts[k, 0]}, {pts[k, 1]}) is "
                f"{dist[k]:.0f} m from the walk network: {needs_network}"
            )
        line = np.array([shapely.LineString(np.c_[x, y])], dtype=object)
        active = coverage_of_lines(coverage, line)
        route_edges, geoms = np.array([0]), line
        score = score_route(shapely.length(line), active, route_edges, args.speed)
        label, ends = str(args.path), ("first point", "last point")
    else:
        # a station's exit is the one facing the other end
        _, _, b_xy = resolve_place(inputs, args.destination, "--to")
        a, a_name, a_xy = resolve_place(inputs, args.origin, "--from", toward=b_xy)
        b, b_name, _ = resolve_place(inputs, args.destination, "--to", toward=a_xy)
        tree = routing.shortest_tree(net, net.edge_length_m, b, towards=True)
        route_edges = routing.tree_route(net, tree, a)
        if route_edges.size == 0:
            raise InputError(
                f"--from {args.origin!r} and --to {args.destination!r} snap to the "
                "same street corner: nothing to walk"
            )
        active, geoms = coverage, net.edge_geom
        score = score_route(net.edge_length_m, coverage, route_edges, args.speed)
        label, ends = f"{a_name} -> {b_name}", (a_name, b_name)
    result = score.as_dict(active)
    result.update(
        {
            "route": label,
            "speed_mps": args.speed,
            "preset": preset,
            "scenario": str(args.scenario) if args.scenario is not None else None,
            "visibility": coverage.visibility,
        }
    )
    seen = active.pieces.subset(
        (active.pieces.level == SEEN) & np.isin(active.pieces.edge, route_edges)
    )
    covered = [
        shapely.get_coordinates(shapely.line_interpolate_point(geoms[e], np.linspace(s0, s1, 8)))
        for e, s0, s1 in zip(seen.edge, seen.start_m, seen.end_m)
    ]
    folder = write_route(
        result,
        inputs.provenance(),
        [np.asarray(g.coords) for g in geoms[route_edges]],
        covered,
        np.c_[coverage.cameras.x, coverage.cameras.y],
        coverage.public,
        options.outputs,
        edge_geom=net.edge_geom,
        ends=ends,
    )
    _print_route(result, folder, args.quiet)
    return 0


def _route_coverage(scenario_path: Path | None, source: DataSource):
    """Inputs and coverage for route scoring: Amnesty's preset, or a scenario's cameras with
    its edits applied (as its runs see them)."""
    from sim.exposure.coverage import build_coverage

    if scenario_path is None:
        inputs = load_inputs(source, AMNESTY_LAYERS).limited_to_reach(AMNESTY_PRESET)
        coverage = build_coverage(
            inputs.network, inputs.cameras, AMNESTY_PRESET, "radius", store=source.store
        )
        return inputs, coverage
    from sim.crowd.setup import prepare

    scenario = load_scenario(scenario_path)
    setup = prepare(scenario, scenario_inputs(scenario, source), source.store)
    return setup.inputs, setup.coverage


def _route_network(args: argparse.Namespace, options: RunOptions) -> NetworkSpec:
    """``--network``, else the ``--scenario``'s network, else the bundle's Manhattan one."""
    if getattr(args, "network", None):
        return spec_from_argument(args.network)
    if args.scenario is not None:
        spec = _network(load_scenario(args.scenario))
        if not spec.is_default:
            return spec
    _check_sites_in_manhattan(args, options)
    return NetworkSpec()


def _check_sites_in_manhattan(args: argparse.Namespace, options: RunOptions) -> None:
    """A protest site outside Manhattan needs a network the bundle lacks: say which, and how."""
    from sim.data import datasets
    from sim.data.sites import read_site_records
    from sim.errors import DataError

    data_dir = datasets.resolve_data_dir(options.data_dir)
    found = datasets.find_source("protest_sites", data_dir)
    records = read_site_records(found) if found is not None else {}
    from sim.city import places

    for flag, text in (("--from", args.origin), ("--to", args.destination)):
        site = places.match(text or "", places.site_places(records)).unique
        rec = records.get(site.id) if site is not None else None
        if rec is not None and rec.borough != "Manhattan":
            raise DataError(
                f"{flag} {text!r} is in {rec.borough}, outside the bundle's Manhattan walk "
                f"network: give --network a {rec.borough} walk network, an OpenStreetMap XML "
                f"file in the data directory, or a place such as '{rec.borough}, New York, "
                "USA' downloaded when online"
            )


def _print_route(result: dict, folder: Path | None, quiet: bool = False) -> None:
    if quiet:  # -q: only where the results are
        print(f"results: {folder}")
        return
    print(f"route: {result['route']}")
    print(
        f"  length {result['length_m']:.0f} m, walking {result['walk_s'] / 60:.1f} min at "
        f"{result['speed_mps']} m/s"
    )
    print(
        f"  surveilled: {result['surveilled_share_any'] * 100:.1f}% of its length (any "
        f"camera), {result['surveilled_share_public'] * 100:.1f}% (public cameras)"
    )
    print(
        f"  distinct camera sites in reach: {result['distinct_camera_sites']} "
        f"({result['distinct_public_camera_sites']} public)"
    )
    print(
        f"  camera-seconds {result['camera_s']:.0f}, seconds at recognition quality "
        f"{result['recognition_s']:.0f}"
    )
    print(f"results: {folder}")


# -------------------------------------------------------------------------------- compare


def compare_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Run (or reuse) each scenario with the first one's seed and replications, and compare."""
    from sim.cli import readout
    from sim.crowd.stats import comparison
    from sim.outputs.run_files import write_comparison

    scenarios = [v for path in args.scenarios for v in load_scenarios(path)]
    scenarios = [with_engine(s, getattr(args, "engine", None)) for s in scenarios]
    first = scenarios[0]
    networks = {_network(s) for s in scenarios}
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
    source = _source(options, args.quiet, networks.pop(), _scenario_sources(scenarios))
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
        write_report_of(folder, options, args.quiet)
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


# --------------------------------------------------------------------------- rank-cameras


def rank_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Rank camera sites by marginal contribution, from recorded routes (crowding off)."""
    from sim.crowd import ranking
    from sim.crowd.runner import run_replication
    from sim.crowd.setup import prepare
    from sim.outputs.run_files import write_ranking

    scenario = load_scenario(args.scenario)
    preflight.workers_to_use(scenario, 1, replications=1)
    preflight.check_outputs(options.outputs_root, preflight.OUTPUT_FIXED_BYTES)
    source = _source(options, args.quiet, _network(scenario), datasets.sources_for(scenario))
    crowding = scenario.walking.crowding
    free = override(scenario, {"walking.crowding": False}, note="rank-cameras: crowding off")
    setup = prepare(free, scenario_inputs(free, source), source.store)
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    rep = run_replication(setup, 0, seed, keep_plan=True)
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
