"""The ``route`` command: one walk between two places scored, on a walk network or drawn."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import shapely

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.cli.data_source import data_source, network_of
from sim.data import datasets
from sim.data.networks import NetworkSpec, spec_from_argument
from sim.errors import InputError, quoted
from sim.exposure.camera_model import AMNESTY_PRESET
from sim.scenario.files import load_scenario
from sim.scenario.inputs import DataSource, load_inputs, scenario_inputs
from sim.scenario.sections import CameraLayer

AMNESTY_LAYERS = (CameraLayer("banthescan_public", "public_street"),)


DESCRIPTION = (
    "Score the shortest walk between two places, or a route drawn elsewhere, and write "
    "route.json and route.png under outputs/routes/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="origin",
        metavar="PLACE",
        help="start: a station or site name, GTFS stop id, exit id, site id or 'lat,lon'",
    )
    parser.add_argument(
        "--to",
        dest="destination",
        metavar="PLACE",
        help="end: a station or site name, GTFS stop id, exit id, site id or 'lat,lon'",
    )
    parser.add_argument(
        "--path", type=Path, metavar="FILE", help="GeoJSON LineString or lines of 'lat,lon'"
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        default=None,
        metavar="FILE",
        help="cameras, classes and visibility from this scenario (implies --preset scenario)",
    )
    parser.add_argument(
        "--preset",
        choices=["amnesty", "scenario"],
        default="amnesty",
        help="amnesty: public sites at 120 m (Amnesty's route tool); "
        "scenario: the scenario's camera layers",
    )
    parser.add_argument("--speed", type=float, default=1.34, help="walking speed, m/s (1.34)")
    parser.add_argument(
        "--network",
        default=None,
        metavar="NETWORK",
        help="walk network for --from/--to: an OSM XML file (in the data directory or a "
        "path), 'bbox:W,S,E,N' or an osmnx place, downloaded when online (default: the "
        "scenario's, else the bundle's Manhattan network)",
    )


def route_command(args: argparse.Namespace, options: RunOptions) -> int:
    """Score one walk: between two places on the network, or a path drawn elsewhere."""
    from sim.city import routing
    from sim.cli.route_input import MAX_PATH_OFF_NETWORK_M, read_path_file, resolve_place
    from sim.exposure.coverage import score_route
    from sim.exposure.lines import coverage_of_path, points_along
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
    from sim.cli import route_path
    from sim.outputs.plot import CameraMarks

    if pts is not None:
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
    source = data_source(options, args.quiet, network, ["osm_walk", "mta_entrances", *cams])
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
        xy = np.c_[x, y]
        line = np.array([shapely.LineString(route_path.drawn(xy))], dtype=object)
        active = coverage_of_path(coverage, xy)
        route_edges, geoms = np.array([0]), line
        length = np.array([np.hypot(*np.diff(xy, axis=0).T).sum()])
        score = score_route(length, active, route_edges, args.speed)
        label, ends = str(args.path), ("first point", "last point")
        title = route_path.path_title(args.path)
    else:
        # a station's exit is the one facing the other end
        _, _, b_xy = resolve_place(inputs, args.destination, "--to")
        a, a_name, a_xy = resolve_place(inputs, args.origin, "--from", toward=b_xy)
        b, b_name, _ = resolve_place(inputs, args.destination, "--to", toward=a_xy)
        tree = routing.shortest_tree(net, net.edge_length_m, b, towards=True)
        route_edges = routing.tree_route(net, tree, a)
        if route_edges.size == 0:
            raise InputError(
                f"--from {quoted(args.origin)} and --to {quoted(args.destination)} snap to the "
                "same street corner: nothing to walk"
            )
        active, geoms = coverage, net.edge_geom
        score = score_route(net.edge_length_m, coverage, route_edges, args.speed)
        label, ends = f"{a_name} -> {b_name}", (a_name, b_name)
        title = label
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
    if pts is not None:  # one long line: every stretch located at once
        covered = points_along(xy, seen.start_m, seen.end_m)
    else:
        covered = [
            shapely.get_coordinates(
                shapely.line_interpolate_point(geoms[e], np.linspace(s0, s1, 8))
            )
            for e, s0, s1 in zip(seen.edge, seen.start_m, seen.end_m)
        ]
    route_lines = [np.asarray(g.coords) for g in geoms[route_edges]]
    data_dir = datasets.resolve_data_dir(options.data_dir)
    basemap = route_path.route_basemap(data_dir, np.concatenate(route_lines))
    folder = write_route(
        result,
        inputs.provenance() + basemap.files,
        route_lines,
        covered,
        CameraMarks(np.c_[coverage.cameras.x, coverage.cameras.y], coverage.cameras.cls),
        options.outputs,
        edge_geom=net.edge_geom,
        city=basemap,
        ends=ends,
        title=title,
    )
    _print_route(result, folder, args.quiet)
    return 0


def amnesty_coverage(source: DataSource):
    """Inputs and coverage of the route command's default: Amnesty's route tool (Ban the
    Scan's public camera sites at 120 m, ``radius``) on the source's walk network."""
    from sim.exposure.coverage import build_coverage

    inputs = load_inputs(source, AMNESTY_LAYERS).limited_to_reach(AMNESTY_PRESET)
    coverage = build_coverage(
        inputs.network, inputs.cameras, AMNESTY_PRESET, "radius", store=source.store
    )
    return inputs, coverage


def _route_coverage(scenario_path: Path | None, source: DataSource):
    """Inputs and coverage for route scoring: Amnesty's preset, or a scenario's cameras with
    its edits applied (as its runs see them)."""
    if scenario_path is None:
        return amnesty_coverage(source)
    from sim.crowd.setup import prepare

    scenario = load_scenario(scenario_path)
    setup = prepare(scenario, scenario_inputs(scenario, source), source.store)
    return setup.inputs, setup.coverage


def _route_network(args: argparse.Namespace, options: RunOptions) -> NetworkSpec:
    """``--network``, else the ``--scenario``'s network, else the bundle's Manhattan one."""
    if getattr(args, "network", None):
        return spec_from_argument(args.network)
    if args.scenario is not None:
        spec = network_of(load_scenario(args.scenario))
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
                f"{flag} {quoted(text)} is in {rec.borough}, outside the bundle's Manhattan walk "
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
