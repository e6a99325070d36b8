"""The CLI's commands: each loads what it needs, runs the core, writes and prints results."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import shapely

from sim.camera_model import AMNESTY_PRESET
from sim.city import City, load_city
from sim.datasets import data_status, resolve_data_dir
from sim.errors import InputError
from sim.exposure import Coverage, build_coverage
from sim.geo import in_nyc, lonlat_to_xy
from sim.outputs import (
    DEFAULT_OUTPUTS,
    RunFolder,
    new_run_id,
    provenance,
    write_json,
    write_table,
)
from sim.scenario import (
    DEFAULT_SCENARIO,
    CameraLayer,
    Scenario,
    load_scenario,
    load_scenarios,
)

# A drawn path may leave the network by this much (metres) before it is "outside the area".
MAX_PATH_OFF_NETWORK_M = 200.0


def _city(args: argparse.Namespace) -> City:
    return load_city(resolve_data_dir(args.data_dir))


def run_command(args: argparse.Namespace) -> int:
    from sim.report import summary_lines

    scenarios = load_scenarios(args.scenario or DEFAULT_SCENARIO)
    city = _city(args)
    for scenario in scenarios:
        result, folder = run_and_write(scenario, city, args)
        if not args.quiet:
            print("\n".join(summary_lines(result, folder)))
    return 0


def run_and_write(scenario: Scenario, city: City, args: argparse.Namespace):
    """Run one scenario with a progress bar and write its folder."""
    from tqdm import tqdm

    from sim.report import write_run
    from sim.runner import prepare, run_scenario

    setup = prepare(scenario, city)
    with tqdm(
        total=scenario.replications,
        desc=f"{scenario.name} replications",
        disable=getattr(args, "no_progress", False) or args.quiet,
        unit="rep",
    ) as bar:
        result = run_scenario(setup, workers=getattr(args, "workers", 1), progress=bar.update)
    return result, write_run(result, args.outputs)


def data_status_command(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    print(f"data directory: {data_dir}")
    print(f"{'source':18s} {'rows':>7s} {'size':>10s}  {'checksum':28s} found")
    for row in data_status(data_dir):
        size = f"{row.size_bytes / 1e6:.2f} MB" if row.size_bytes is not None else "-"
        rows = str(row.rows) if row.rows is not None else "-"
        print(f"{row.key:18s} {rows:>7s} {size:>10s}  {row.checksum or '-':28s} {row.found}")
    return 0


# ---------------------------------------------------------------------------------- route


_LATLON = re.compile(r"^\s*(-?\d+(\.\d+)?)\s*,\s*(-?\d+(\.\d+)?)\s*$")


def resolve_place(
    city: City, text: str, flag: str, toward: tuple[float, float] | None = None
) -> tuple[int, str, tuple[float, float]]:
    """A network node for a station name, GTFS stop id, exit id, site id or 'lat,lon'.

    A station has several exits: the one nearest ``toward`` (metres) is used.
    """
    match = _LATLON.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(3))
        if not in_nyc(lat, lon):
            raise InputError(f"{flag} {text!r}: coordinates outside New York City")
        x, y = lonlat_to_xy(np.array([lon]), np.array([lat]))
        node, dist = city.network.nearest_nodes(x, y)
        if dist[0] > MAX_PATH_OFF_NETWORK_M:
            raise InputError(
                f"{flag} {text!r}: {dist[0]:.0f} m from the walk network (outside "
                f"its area; at most {MAX_PATH_OFF_NETWORK_M:.0f} m allowed)"
            )
        return int(node[0]), text, (float(x[0]), float(y[0]))
    if text in city.site_records:
        site = city.site(text)
        return site.node, site.name, (site.x, site.y)
    exits = city.exits.matching_station(text)
    if exits.size:
        i = int(exits[0])
        if toward is not None:
            gap = np.hypot(city.exits.x[exits] - toward[0], city.exits.y[exits] - toward[1])
            i = int(exits[np.argmin(gap)])
        return (
            int(city.exits.node[i]),
            f"{city.exits.station[i]} ({city.exits.exit_id[i]})",
            (float(city.exits.x[i]), float(city.exits.y[i])),
        )
    raise InputError(
        f"{flag} {text!r}: not a station, exit id, site id or 'lat,lon' (sites: "
        f"{', '.join(list(city.site_records)[:5])}, ...)"
    )


def read_path_file(path: Path) -> np.ndarray:
    """(n, 2) lat, lon points of a GeoJSON LineString or of lines 'lat,lon'."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read path file ({exc.strerror})") from None
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path}: not valid GeoJSON ({exc})") from None
        geom = obj.get("geometry", obj) if obj.get("type") == "Feature" else obj
        if obj.get("type") == "FeatureCollection" and obj.get("features"):
            geom = obj["features"][0].get("geometry", {})
        if geom.get("type") != "LineString":
            raise InputError(f"{path}: expected a GeoJSON LineString, got {geom.get('type')!r}")
        coords = np.array(geom.get("coordinates", []), float).reshape(-1, 2)
        points = coords[:, ::-1] if len(coords) else coords
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LATLON.match(line)
            if not match:
                raise InputError(f"{path}: line {number}: {line.strip()!r} is not 'lat,lon'")
            rows.append((float(match.group(1)), float(match.group(3))))
        points = np.array(rows, float).reshape(-1, 2)
    if len(points) < 2:
        raise InputError(f"{path}: a path needs at least two points, found {len(points)}")
    bad = np.flatnonzero(~in_nyc(points[:, 0], points[:, 1]))
    if bad.size:
        raise InputError(
            f"{path}: point {bad[0] + 1} ({points[bad[0], 0]}, "
            f"{points[bad[0], 1]}) lies outside New York City"
        )
    return points


def route_coverage(args: argparse.Namespace, city: City) -> Coverage:
    """Cameras for route scoring: Amnesty's preset or a scenario's layers."""
    from sim.city import cache_dir

    if args.preset == "amnesty" and args.scenario is None:
        cams = city.camera_layers((CameraLayer("banthescan_public", "public_street"),))
        return build_coverage(city.network, cams, AMNESTY_PRESET, "radius", cache_dir=cache_dir())
    scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
    from sim.runner import _coverage_args

    cams = city.camera_layers(scenario.layers)
    return build_coverage(city.network, cams, scenario.classes, **_coverage_args(scenario, city))


def route_command(args: argparse.Namespace) -> int:
    from sim import plot, routing
    from sim.coverage import SEEN
    from sim.exposure import coverage_of_lines, score_route

    if args.path is None and (args.origin is None or args.destination is None):
        raise InputError("route: give --from and --to, or --path FILE")
    if not 0.1 <= args.speed <= 3.0:
        raise InputError(f"--speed {args.speed}: allowed 0.1..3.0 m/s")
    pts = read_path_file(args.path) if args.path is not None else None
    city = _city(args)
    net = city.network
    if pts is not None:
        x, y = lonlat_to_xy(pts[:, 1], pts[:, 0])
        _, dist = net.nearest_nodes(x, y)
        if dist.max() > MAX_PATH_OFF_NETWORK_M:
            k = int(np.argmax(dist))
            raise InputError(
                f"{args.path}: point {k + 1} ({pts[k, 0]}, {pts[k, 1]}) is "
                f"{dist[k]:.0f} m from the walk network (outside its area)"
            )
    coverage = route_coverage(args, city)
    if pts is not None:
        line = np.array([shapely.LineString(np.c_[x, y])], dtype=object)
        line_cov = coverage_of_lines(coverage, line)
        route_edges = np.array([0])
        geoms = line
        score = score_route(shapely.length(line), line_cov, route_edges, args.speed)
        label, pieces_for_map = str(args.path), line_cov.pieces
        active_cov = line_cov
    else:
        # a station's exit is the one facing the other end
        _, _, b_xy = resolve_place(city, args.destination, "--to")
        a, a_name, a_xy = resolve_place(city, args.origin, "--from", toward=b_xy)
        b, b_name, _ = resolve_place(city, args.destination, "--to", toward=a_xy)
        tree = routing.shortest_tree(net, net.edge_length_m, b, towards=True)
        route_edges = routing.tree_route(net, tree, a)
        if route_edges.size == 0:
            raise InputError(
                f"--from {args.origin!r} and --to {args.destination!r} snap to the "
                "same street corner: nothing to walk"
            )
        geoms = net.edge_geom
        score = score_route(net.edge_length_m, coverage, route_edges, args.speed)
        label = f"{a_name} -> {b_name}"
        pieces_for_map = coverage.pieces
        active_cov = coverage
    result = score.as_dict(active_cov)
    result.update(
        {
            "route": label,
            "speed_mps": args.speed,
            "preset": args.preset,
            "visibility": coverage.visibility,
        }
    )
    root = (args.outputs or DEFAULT_OUTPUTS) / "routes"
    folder = RunFolder(root, new_run_id("route"))
    with folder as tmp:
        write_json(tmp / "route.json", {**result, **provenance(city.provenance())})
        seen = pieces_for_map.subset(
            (pieces_for_map.level == SEEN) & np.isin(pieces_for_map.edge, route_edges)
        )
        covered = [
            shapely.get_coordinates(
                shapely.line_interpolate_point(geoms[e], np.linspace(s0, s1, 8))
            )
            for e, s0, s1 in zip(seen.edge, seen.start_m, seen.end_m)
        ]
        plot.route_map(
            [np.asarray(g.coords) for g in geoms[route_edges]],
            covered,
            np.c_[coverage.cameras.x, coverage.cameras.y],
            coverage.public,
            tmp / "route.png",
            label,
        )
    _print_route(result, folder.final)
    return 0


def _print_route(result: dict, folder: Path | None) -> None:
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


COMPARE_HEADLINE = [
    "seen_total_s.median",
    "seen_walk_s.median",
    "camera_s.median",
    "share_seen_at_all",
]


def compare_command(args: argparse.Namespace) -> int:
    """Run (or reuse) each scenario with the first one's seed and replications, and compare."""
    import pandas as pd

    from sim import plot
    from sim.stats import comparison

    scenarios = [v for path in args.scenarios for v in load_scenarios(path)]
    first = scenarios[0]
    matched = [matched_seed(s, first) for s in scenarios]
    city = _city(args)
    runs = []
    for scenario in matched:
        agents, folder = None if args.rerun else find_finished_run(scenario, city, args.outputs)
        if agents is None:
            result, folder = run_and_write(scenario, city, args)
            agents = result.agents
        runs.append((scenario, agents, folder))
    out, table = comparison([(s.name, a) for s, a, _ in runs], first.seed)
    out.update(base=first.name, seed=first.seed, replications=first.replications)
    for entry, (_, _, run_folder) in zip(out["scenarios"], runs):
        entry["run"] = str(run_folder)
    root = (args.outputs or DEFAULT_OUTPUTS) / "compare"
    folder = RunFolder(root, new_run_id(first.name))
    with folder as tmp:
        write_json(tmp / "comparison.json", {**out, **provenance(city.provenance())})
        write_table(tmp / "comparison.csv", table)
        plot.exposure_distribution(
            {s.name: a for s, a, _ in runs},
            "seen_total_s",
            tmp / "comparison_distribution.png",
            "time in view of a camera per protester",
        )
    if not args.quiet:
        head = table[table["figure"].isin(COMPARE_HEADLINE)]
        for r in head.itertuples():
            ci = (
                f"[{r.difference_ci95_low:.3g}, {r.difference_ci95_high:.3g}]"
                if pd.notna(r.difference_ci95_low)
                else "(one replication)"
            )
            print(f"{r.scenario:40s} {r.figure:24s} {r.value:12.4g}  diff {r.difference:+.4g} {ci}")
        print(f"results: {folder.final}")
    return 0


def matched_seed(scenario: Scenario, first: Scenario) -> Scenario:
    """``scenario`` with ``first``'s seed and replications (matched draws for paired figures)."""
    if scenario.seed == first.seed and scenario.replications == first.replications:
        return scenario
    values = {k: dict(v) for k, v in scenario.values.items()}
    values[""]["seed"], values[""]["replications"] = first.seed, first.replications
    note = (
        f"\n# compare: seed and replications matched to {first.name} "
        f"({first.seed}, {first.replications})\n"
    )
    return dataclasses.replace(scenario, values=values, text=scenario.text + note)


def find_finished_run(scenario: Scenario, city: City, outputs: Path | None):
    """Agents of the newest finished run of exactly this scenario text and data, else None."""
    import pandas as pd

    root = (outputs or DEFAULT_OUTPUTS) / scenario.name
    if not root.is_dir():
        return None, None
    wanted = {f["sha256"] for f in city.provenance()}
    for folder in sorted(root.iterdir(), reverse=True):
        manifest = folder / "manifest.json"
        if folder.name.startswith(".") or not manifest.is_file():
            continue
        try:
            meta = json.loads(manifest.read_text())
        except ValueError:
            continue
        used = {f["sha256"] for f in meta.get("data_files", [])}
        if meta.get("scenario_text") == scenario.text and wanted <= used:
            return pd.read_parquet(folder / "agents.parquet"), folder
    return None, None


# --------------------------------------------------------------------------- rank-cameras


def rank_command(args: argparse.Namespace) -> int:
    """Rank camera sites by marginal contribution, from recorded routes (crowding off)."""
    from sim import plot, ranking
    from sim.runner import prepare, run_replication

    if args.top < 1:
        raise InputError(f"--top {args.top}: allowed a whole number >= 1")
    scenario = load_scenario(args.scenario)
    city = _city(args)
    setup = prepare(scenario, city)
    crowding = scenario["walking"]["crowding"]
    no_crowd = dataclasses.replace(setup, scenario=_without_crowding(scenario))
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    rep = run_replication(no_crowd, 0, seed, keep_plan=True)
    exposure = ranking.agent_camera_seconds(
        setup.coverage,
        city.network.n_edges,
        rep.plan,
        rep.stand_cameras,
        rep.agents["dwell_s"].to_numpy(),
    )
    contrib = ranking.marginal_contributions(setup.coverage, exposure)
    table = ranking.ranking_table(setup.coverage, contrib, args.top)
    curve = ranking.greedy_removal_curve(setup.coverage, exposure, args.top)
    root = (args.outputs or DEFAULT_OUTPUTS) / scenario.name / "rank-cameras"
    folder = RunFolder(root, new_run_id(f"top{args.top}"))
    with folder as tmp:
        write_table(tmp / "camera_ranking.csv", table)
        write_table(tmp / "removal_curve.csv", curve)
        write_json(
            tmp / "ranking.json",
            {
                "scenario": scenario.name,
                "scenario_text": scenario.text,
                "seed": scenario.seed,
                "replication": 0,
                "crowding_in_scenario": crowding,
                "crowding_used": False,
                "protesters": int(len(rep.agents)),
                "total_camera_s": contrib.total_camera_s,
                "protesters_seen": contrib.seen_protesters,
                **provenance(city.provenance()),
            },
        )
        plot.removal_curve(
            curve, tmp / "removal_curve.png", f"{scenario.name}: greedy removal of camera sites"
        )
        cams = setup.coverage.cameras
        top_idx = np.argsort(-contrib.camera_s, kind="stable")[: args.top]
        plot.network_map(
            city.network.edge_geom,
            np.zeros(city.network.n_edges),
            np.c_[cams.x, cams.y],
            setup.coverage.public,
            (setup.site.x, setup.site.y),
            tmp / "top_cameras_map.png",
            f"{scenario.name}: top {args.top} camera sites",
            "",
            highlight=top_idx,
        )
    if not args.quiet:
        print(f"{'rank':>4s} {'camera site':38s} {'class':16s} {'share of camera-s':>17s}")
        for _, r in table.head(10).iterrows():
            print(
                f"{r['rank']:4d} {r.camera_id:38s} {r['class']:16s} {r.camera_s_share * 100:16.1f}%"
            )
        if crowding:
            print(
                "note: ranked with crowding off (free walking speeds), as the ranking is "
                "computed from coverage tables and recorded routes"
            )
        print(f"results: {folder.final}")
    return 0


def _without_crowding(scenario: Scenario) -> Scenario:
    values = {k: dict(v) for k, v in scenario.values.items()}
    values["walking"]["crowding"] = False
    return dataclasses.replace(scenario, values=values)
