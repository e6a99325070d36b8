"""A run's folder: agent and time-series tables, summary, manifest, cameras, figures, and what
its report draws from the data bundle (basemap, site neighbourhoods)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.columns import CROWD_FIGURES, headline
from sim.crowd.origins import station_shares
from sim.crowd.runner import RunResult
from sim.crowd.site_area import area_in_view
from sim.crowd.stats import summarise, wilson_interval, world_range
from sim.exposure.coverage import point_exposure
from sim.outputs import plot
from sim.outputs.basemap import Basemap
from sim.outputs.cartography import SHARE_BREAKS_PCT, MapFrame, nice_breaks, save
from sim.outputs.folders import (
    DEFAULT_OUTPUTS,
    RunFolder,
    new_run_id,
    provenance,
    write_json,
    write_table,
)
from sim.outputs.layers import street_exposure, write_run_layers
from sim.outputs.model_facts import model_facts
from sim.outputs.report_inputs import REPORT_INPUTS, write_report_inputs


def manifest(result: RunResult, run_id: str) -> dict[str, Any]:
    """Where every figure of a run comes from."""
    setup = result.setup
    s = setup.scenario
    return {
        "run_id": run_id,
        "scenario_file": str(s.path),
        "scenario_text": s.text,
        "scenario_fingerprint": s.fingerprint,
        "scenario_resolved": s.resolved(),
        "seed": s.seed,
        "replication_seeds": [
            {"replication": k, "seed_sequence": {"entropy": s.seed, "spawn_key": [k]}}
            for k in range(s.replications)
        ],
        "camera_records": {k: v.as_dict() for k, v in setup.inputs.camera_reports.items()},
        "camera_edits": setup.edit_log,
        "cameras": {
            "sites": len(setup.coverage.cameras),
            "cameras": float(setup.coverage.cameras.count.sum()),
            "by_class": pd.Series(setup.coverage.cameras.cls).value_counts().to_dict(),
            "by_count_source": pd.Series(setup.coverage.cameras.count_source)
            .value_counts()
            .to_dict(),
            "visibility": setup.coverage.visibility,
        },
        "camera_account": (
            setup.inputs.camera_account.as_dict() if setup.inputs.camera_account else {}
        ),
        "site": setup.site.__dict__,
        "site_area": setup.site_area.as_dict() if setup.site_area is not None else None,
        "first_and_last_metres": _access_account(setup),
        **model_facts(setup),
        "origins": {
            "exits": len(setup.origins),
            "stations": sorted(set(setup.origins.station.tolist())),
            "weights": s.origins.weights,
            "exit_split_decay_m": s.origins.exit_split_decay_m,
            "ridership": {
                "year": s.origins.ridership_year,
                "months": list(s.origins.ridership_months),
                "day_group": s.origins.ridership_day_group,
            }
            if s.origins.weights == "ridership"
            else None,
            "share_by_complex": station_shares(setup.origins.complex_id, setup.origin_weight),
            "share_by_exit": dict(
                zip(setup.origins.exit_id.tolist(), setup.origin_weight.round(6).tolist())
            ),
            "station_places": station_places(setup.origins, setup.origin_weight),
        },
        "camera_worlds": worlds_record(result),
        "undercount_shares": [r.undercount_share for r in result.replications],
        "events": [r.events for r in result.replications],
        "wall_time_s": round(result.wall_s, 3),
        **provenance(setup.inputs.provenance()),
    }


def station_places(origins, weight: np.ndarray) -> list[dict[str, Any]]:
    """Each station protesters come from (by name): where it is (its exits' mean position,
    weighted by their shares of the crowd), its exits and its share, for a map's labels; most
    used first."""
    frame = pd.DataFrame(
        {
            "station": np.asarray(origins.station, dtype=str),
            "lat": origins.lat,
            "lon": origins.lon,
            "w": np.asarray(weight, float),
        }
    )
    total = frame["w"].sum() or 1.0
    places = []
    for name, g in frame.groupby("station", sort=True):
        w = g["w"].to_numpy() if g["w"].sum() > 0 else np.ones(len(g))
        places.append(
            {
                "station": str(name),
                "lat": round(float(np.average(g["lat"], weights=w)), 6),
                "lon": round(float(np.average(g["lon"], weights=w)), 6),
                "exits": len(g),
                "share": round(float(g["w"].sum() / total), 6),
            }
        )
    return sorted(places, key=lambda p: (-p["share"], p["station"]))


def worlds_record(result: RunResult) -> dict[str, Any]:
    """How the run's cameras saw: Amnesty's geometry, or a drawn world per replication (the
    rule, the priors with their sources, and each world's summary per class)."""
    setup = result.setup
    cams = setup.scenario.cameras
    if setup.worlds is None:
        return {
            "world": cams.world,
            "what": "Amnesty's route-tool geometry: every camera omnidirectional, working, at "
            "its class reach ([cameras.classes]), counts as given",
        }
    return {
        "world": cams.world,
        "what": "each replication is one camera world: every camera site's aim, lens (field of "
        "view, hence reach at each level) and working state drawn from its class prior, from "
        "the replication's own stream (spawn key (replication, 3) of the seed)",
        **setup.worlds.draws.record(),
        "replications": [r.world for r in result.replications],
        "amnesty_geometry": (
            {k: v for k, v in result.amnesty.items() if k != "figures"} if result.amnesty else None
        ),
    }


def _access_account(setup) -> dict[str, Any]:
    """The walks from exits to the network and from the site's node to standing points."""
    access = setup.access
    if access is None:
        return {"walked": False, "in_exposure": False}
    n_exit = len(access.exit_out)
    # by edge number: several sites' walks lie site after site (sim.crowd.multisite)
    exit_m = access.length_m[access.exit_out - access.n_network]
    stand_m = access.length_m[access.stand_in - access.n_network]
    return {
        "walked": True,
        # the walkers' street arrays hold these walks after the network's edges, with their
        # camera coverage (sim.crowd.access.extend_coverage)
        "in_exposure": len(setup.streets.length_m) == access.n_network + len(access.geom),
        "exit_to_network_m": {
            "median": float(np.median(exit_m)),
            "max": float(exit_m.max()),
            "exits": n_exit,
        },
        "site_node_to_standing_point_m": {
            "median": float(np.median(stand_m)),
            "max": float(stand_m.max()),
            "standing_points": len(access.stand_xy),
        },
    }


# With ``[outputs] agents_csv = "auto"`` (the default) agents.csv is written up to this many
# rows; above it only agents.parquet (same columns), CSV being by far the slowest and largest
# writer of a large run.
AGENTS_CSV_MAX_ROWS = 200_000


def agents_csv_wanted(setting: bool | str, rows: int) -> bool:
    """Whether to write agents.csv: ``true``/``false``, or ``"auto"`` by size."""
    return rows <= AGENTS_CSV_MAX_ROWS if setting == "auto" else bool(setting)


def cameras_table(result: RunResult) -> pd.DataFrame:
    """Every camera site the run used, with class, count and reach."""
    cams = result.setup.coverage.cameras
    ranges = result.setup.coverage.level_range_m
    return pd.DataFrame(
        {
            "camera_id": cams.camera_id,
            "source": cams.source,
            "class": cams.cls,
            "count": cams.count,
            "count_source": cams.count_source,
            "lat": cams.lat,
            "lon": cams.lon,
            "seen_range_m": ranges[:, 0],
            "recognition_range_m": ranges[:, 1],
            "identification_range_m": ranges[:, 2],
        }
    )


def write_run(result: RunResult, outputs_root: Path | None = None) -> Path:
    """Write a run's folder ``outputs/<scenario>/<run-id>/`` whole, or not at all."""
    s = result.setup.scenario
    root = (outputs_root or DEFAULT_OUTPUTS) / s.name
    run_id = new_run_id(f"seed{s.seed}")
    folder = RunFolder(root, run_id)
    with folder as tmp:
        write_table(tmp / "agents.parquet", result.agents)
        if agents_csv_wanted(s.outputs.agents_csv, len(result.agents)):
            write_table(tmp / "agents.csv", result.agents)
        write_table(tmp / "timeseries.csv", result.timeseries)
        write_table(tmp / "cameras.csv", cameras_table(result))
        streets = write_run_layers(result, tmp)
        # what the report draws from the data bundle, kept here (the report reads only this)
        site = result.setup.site
        kept, basemap = write_report_inputs(
            tmp, result.setup.inputs.data_dir, streets, (site.lon, site.lat)
        )
        summary = {
            "scenario": s.name,
            "protesters_per_replication": s.crowd.protesters,
            "replications": s.replications,
            "status": result.agents["status"].value_counts().to_dict(),
            "figures": summarise(result.agents, s.seed),
        }
        if result.amnesty is not None:  # the upper bound: the same crowd, Amnesty's geometry
            summary["amnesty_geometry"] = result.amnesty
        if s.sites:  # several sites at once: the same per site (the figures above: all sites)
            summary["sites"] = per_site_summaries(result)
        else:
            summary["site_area_in_view"] = site_area_summary(result)
        write_json(tmp / "summary.json", summary)
        write_json(tmp / "manifest.json", {**manifest(result, run_id), REPORT_INPUTS: kept})
        (tmp / "scenario.toml").write_text(s.text)
        if s.outputs.figures:
            write_figures(result, basemap, tmp)
    assert folder.final is not None
    return folder.final


def _distribution(result: RunResult, basemap: Basemap, path: Path) -> None:
    s = result.setup.scenario
    plot.exposure_distribution(
        {s.name: result.agents},
        "seen_total_s",
        path,
        f"{s.name}: time in view of a camera per protester",
        "minutes in view of a camera per protester (walk + site)",
    )


def site_mark(setup) -> plot.SiteMark:
    """The run's site as its maps draw it (its area: the ring standing points are drawn in)."""
    site, area = setup.site, setup.site_area
    return plot.SiteMark(site.name, site.x, site.y, None if area is None else area.polygon)


def camera_marks(setup) -> plot.CameraMarks:
    cams = setup.coverage.cameras
    return plot.CameraMarks(np.c_[cams.x, cams.y], cams.cls)


def stations_of(setup) -> list[tuple[str, float, float]]:
    return plot.station_marks(station_places(setup.origins, setup.origin_weight))


def _street_map(result: RunResult, basemap: Basemap, path: Path, values: str) -> None:
    setup = result.setup
    s, net = setup.scenario, setup.inputs.network
    traffic = np.mean([r.edge_traffic for r in result.replications], axis=0)[: net.n_edges]
    if values == "traffic":
        shown = traffic
        title = f"{s.name}: protester traffic per street (mean of replications)"
        label = "protesters walking along the street (per replication)"
        breaks = nice_breaks(traffic)
        zero = "streets no protester walked"
    else:
        share = np.divide(
            street_exposure(result).seen_m[: net.n_edges],
            net.edge_length_m,
            out=np.zeros(net.n_edges),
            where=net.edge_length_m > 0,
        )
        shown = 100.0 * share * (traffic > 0)
        title = f"{s.name}: share of each walked street in view of a camera" + (
            " (mean over camera worlds)" if setup.worlds is not None else ""
        )
        label = "% of the street's length in view of a camera"
        breaks = SHARE_BREAKS_PCT
        zero = "streets not walked, or walked and never in view"
    site = site_mark(setup)
    fig = plot.street_map(
        MapFrame.of_bounds(basemap.bounds, site.x, site.y, site.name),
        net.edge_geom,
        shown,
        breaks,
        label,
        camera_marks(setup),
        site,
        title,
        stations=stations_of(setup),
        city=basemap,
        zero_label=zero,
        names=(net.names(), net.edge_highway),
    )
    save(fig, path)


def _crowd(result: RunResult, basemap: Basemap, path: Path) -> None:
    name = result.setup.scenario.name
    plot.crowd_over_time(result.timeseries, path, f"{name}: the crowd over time")


# Every figure of a run folder, in the order drawn: its file, and what draws it from the run
# (and the basemap it keeps for its maps). A new figure is a function here (drawing with
# sim.outputs.plot) and one line in this table.
RUN_FIGURES: dict[str, Callable[[RunResult, Basemap, Path], None]] = {
    "exposure_distribution.png": _distribution,
    "map_traffic.png": lambda result, basemap, path: _street_map(result, basemap, path, "traffic"),
    "map_exposure.png": lambda result, basemap, path: _street_map(result, basemap, path, "share"),
    "crowd_over_time.png": _crowd,
}


def write_figures(result: RunResult, basemap: Basemap, folder: Path) -> None:
    """Every figure of :data:`RUN_FIGURES` for one run, into ``folder``."""
    for name, draw in RUN_FIGURES.items():
        draw(result, basemap, folder / name)


def site_in_view(setup) -> dict[str, Any]:
    """How much of the site's standing ground cameras see all around (Amnesty's geometry),
    at each quality level."""
    pts = point_exposure(setup.coverage, setup.access.stand_xy)
    return area_in_view(pts.seen, pts.recognition, pts.identification)


SITE_LEVELS = (
    ("any_camera", "any camera"),
    ("recognition", "recognition"),
    ("identification", "identification"),
)


def site_area_summary(result: RunResult) -> dict[str, Any]:
    """The share of the site's standing ground in view at each level: as the run's cameras
    see it. With camera worlds, the mean over worlds, the 5th-95th percentile across them,
    and Amnesty's geometry beside them."""
    preset = site_in_view(result.setup)
    views = [r.site_view for r in result.replications if r.site_view is not None]
    if not views:
        return preset
    n = preset["standing_points"]
    out: dict[str, Any] = {
        "standing_points": n,
        "method": (
            f"per camera world (replication), the share of the site's {n} standing points "
            "(uniform over its standing ground) in view of at least one camera; share: the "
            "mean over worlds; world_p05, world_p95: the 5th and 95th percentiles across "
            "worlds; ci95: the 95% Wilson interval of the points of all worlds pooled (the "
            "sampling of the ground only)"
        ),
    }
    for key, _ in SITE_LEVELS:
        shares = np.array([v[key]["share"] for v in views], float)
        spread = world_range(shares)
        k = int(round(float(shares.sum()) * n))
        out[key] = {
            "share": float(shares.mean()),
            "ci95": list(wilson_interval(k, n * len(shares))),
            "world_p05": spread[0] if spread else None,
            "world_p95": spread[1] if spread else None,
        }
    out["amnesty_geometry"] = preset
    return out


def per_site_summaries(result: RunResult) -> dict[str, dict[str, Any]]:
    """Per site of a several-site scenario: its protesters, statuses and figures."""
    s = result.setup.scenario
    out = {}
    for entry in s.sites:
        agents = result.agents[result.agents["site"] == entry.id]
        out[entry.id] = {
            "protesters_per_replication": entry.protesters,
            "status": agents["status"].value_counts().to_dict(),
            "figures": summarise(agents, s.seed),
        }
    return out


def site_lines(result: RunResult) -> list[str]:
    """One line per site of a several-site scenario: its crowd and headline medians."""
    lines = [f"{'site':28s} {'protesters':>10s} {'median min in view':>19s} {'seen at all':>12s}"]
    for site_id, fig in per_site_summaries(result).items():
        seen = fig["figures"]["seen_total_s.median"]["value"] / 60
        share = fig["figures"]["share_seen_at_all"]["value"] * 100
        n = fig["protesters_per_replication"]
        lines.append(f"{site_id:28s} {n:10,d} {seen:19.1f} {share:11.1f}%")
    return lines


AMNESTY_WORDS = "Amnesty's route-tool geometry"


def summary_lines(result: RunResult, folder: Path) -> list[str]:
    """A short readable table of headline figures and where the results are: the walk's
    median and its range across camera worlds first, then every headline figure with its
    interval, its range across worlds and Amnesty's geometry (the upper bound) beside it."""
    summary = summarise(result.agents, result.setup.scenario.seed)
    s = result.setup.scenario
    where = f"{len(s.sites)} sites" if s.sites else result.setup.site.name
    upper = (result.amnesty or {}).get("figures")
    # the 5th-95th percentiles across replications: across camera worlds, where drawn
    spread_words = "worlds 5-95%" if result.setup.worlds is not None else "reps 5-95%"
    lines = [
        f"scenario {s.name}: {s.crowd.protesters} protesters x {s.replications} "
        f"replications to {where} from {len(result.setup.origins)} exits "
        f"({result.wall_s:.1f} s)",
        *(account.lines() if (account := result.setup.inputs.camera_account) else []),
        *world_lines(result, summary),
        f"{'figure (median over protesters unless it says)':52s} {'value':>9s} "
        f"{'95% interval':>24s} {spread_words:>16s}"
        + (f" {'Amnesty geometry':>16s}" if upper else ""),
    ]
    for column in headline():
        metric, label, unit = column.name, column.label, column.scale
        name = f"{metric}.{column.headline_stat}"
        fig = summary[name]
        line = (
            f"{label:52s} {fig['value'] / unit:9.1f} {_interval(fig, unit):>24s} "
            f"{_range(fig, unit):>16s}"
        )
        lines.append(line + (f" {upper[name] / unit:16.1f}" if upper else ""))
    for figure in CROWD_FIGURES:
        if figure.name == "share_whole_walk_surveilled":
            continue  # in summary.json; the walk's share in view is printed above
        fig = summary[figure.name]
        line = (
            f"{figure.label:52s} {fig['value'] * 100:8.1f}% {_interval(fig, 0.01, '%'):>24s} "
            f"{_range(fig, 0.01, '%'):>16s}"
        )
        lines.append(line + (f" {upper[figure.name] * 100:15.1f}%" if upper else ""))
    if s.sites:
        lines.extend(site_lines(result))
    else:
        view = site_area_summary(result)

        def share(v: dict[str, Any]) -> str:
            text = f"{v['share'] * 100:.1f}%"
            if v.get("world_p05") is not None:
                text += f" ({v['world_p05'] * 100:.1f}-{v['world_p95'] * 100:.1f}%)"
            return text

        shares = ", ".join(f"{words} {share(view[key])}" for key, words in SITE_LEVELS)
        lines.append(
            f"at the site: share of its standing ground in view: {shares} "
            f"({view['standing_points']:,} standing points"
            + ("; mean over worlds, 5-95% across them)" if "amnesty_geometry" in view else ")")
        )
        if "amnesty_geometry" in view:
            preset = view["amnesty_geometry"]
            lines.append(
                f"at the site, {AMNESTY_WORDS}: "
                + ", ".join(f"{w} {preset[k]['share'] * 100:.1f}%" for k, w in SITE_LEVELS)
            )
    for source, report in result.setup.inputs.camera_reports.items():
        for reason, count in report.skipped.items():
            lines.append(
                f"note: {source}: {count} record(s) left out ({reason}, e.g. "
                f"{report.examples[reason][0]}); see manifest.json"
            )
    lines.append(f"results: {folder}")
    return lines


def world_lines(result: RunResult, summary: dict[str, Any]) -> list[str]:
    """The lines that lead a run's figures: the walk's median minutes in view and its range
    across camera worlds, and Amnesty's geometry on the same crowd (the upper bound)."""
    s = result.setup.scenario
    fig = summary["seen_walk_s.median"]
    if result.setup.worlds is None:
        return [
            f"cameras: {AMNESTY_WORDS} (every camera omnidirectional, working, at its class "
            f'reach; [cameras] world = "{s.cameras.world}")',
            f"walking: minutes in view of a camera, median {fig['value'] / 60:.1f} "
            f"(across {s.replications} replications, 5-95%: {_range(fig, 60.0)})",
        ]
    aim = "along the streets at its site" if s.cameras.aim == "streets" else "uniform"
    lines = [
        f"cameras: each replication one camera world (aim {aim}; lens and working state "
        "drawn per camera from its class prior)"
    ]
    walk = (
        f"walking: minutes in view of a camera, median {fig['value'] / 60:.1f} "
        f"(across {s.replications} camera worlds, 5-95%: {_range(fig, 60.0)})"
    )
    lines.append(walk)
    if result.amnesty:
        upper = result.amnesty["figures"]["seen_walk_s.median"] / 60
        lines.append(
            f"walking: minutes in view, {AMNESTY_WORDS} (upper bound: every camera "
            f"omnidirectional, working, at its class reach; replication 0's crowd): {upper:.1f}"
        )
    return lines


def _range(fig: dict[str, Any], unit: float, suffix: str = "") -> str:
    """A figure's 5th-95th percentile across replications (camera worlds), as printed."""
    lo, hi = fig.get("world_p05"), fig.get("world_p95")
    if lo is None or hi is None:
        return "-"
    return f"{lo / unit:.1f}{suffix}-{hi / unit:.1f}{suffix}"


def _interval(fig: dict[str, Any], unit: float, suffix: str = "") -> str:
    ci = fig["ci95"]
    if not ci:
        return "(one replication)"
    return f"[{ci[0] / unit:.1f}{suffix}, {ci[1] / unit:.1f}{suffix}]"


# ------------------------------------------------------------------ route, comparison, ranking


def write_route(
    result: dict[str, Any],
    data_files: list[dict[str, object]],
    route_lines: list[np.ndarray],
    covered: list[np.ndarray],
    cameras: plot.CameraMarks,
    outputs_root: Path | None,
    *,
    edge_geom: np.ndarray | None = None,
    city: Basemap | None = None,
    ends: tuple[str, str] = ("start", "end"),
    title: str | None = None,
) -> Path:
    """A scored route's folder ``outputs/routes/<id>/``: route.json and route.png (over water,
    borough outlines ``city`` and the street network ``edge_geom`` where given, its start and
    end named by ``ends``, titled ``title`` or the route's name)."""
    folder = RunFolder((outputs_root or DEFAULT_OUTPUTS) / "routes", new_run_id("route"))
    with folder as tmp:
        write_json(tmp / "route.json", {**result, **provenance(data_files)})
        fig = plot.route_map(
            route_lines,
            covered,
            cameras,
            title or result["route"],
            edge_geom=edge_geom,
            city=city,
            start_name=ends[0],
            end_name=ends[1],
        )
        save(fig, tmp / "route.png")
    assert folder.final is not None
    return folder.final


def write_comparison(
    out: dict[str, Any],
    table: pd.DataFrame,
    agents: dict[str, pd.DataFrame],
    data_files: list[dict[str, object]],
    name: str,
    outputs_root: Path | None,
) -> Path:
    """A comparison's folder ``outputs/compare/<id>/``: JSON, CSV table and figure."""
    folder = RunFolder((outputs_root or DEFAULT_OUTPUTS) / "compare", new_run_id(name))
    with folder as tmp:
        write_json(tmp / "comparison.json", {**out, **provenance(data_files)})
        write_table(tmp / "comparison.csv", table)
        plot.comparison_figure(
            agents,
            tmp / "comparison_distribution.png",
            f"{len(agents)} scenarios, {out['replications']} replications each "
            f"(seed {out['seed']})",
        )
    assert folder.final is not None
    return folder.final


# Half-width (metres) of the map of a ranking's top camera sites, before zooming to them.
RANKING_MAP_HALF_M = 1800.0


def write_ranking(
    setup: Any,
    ranking: Any,
    meta: dict[str, Any],
    top: int,
    outputs_root: Path | None,
) -> Path:
    """A camera ranking's folder ``outputs/rankings/<scenario>/<id>/``."""
    s = setup.scenario
    root = (outputs_root or DEFAULT_OUTPUTS) / "rankings" / s.name
    folder = RunFolder(root, new_run_id(f"top{top}"))
    net = setup.inputs.network
    with folder as tmp:
        write_table(tmp / "camera_ranking.csv", ranking.table)
        write_table(tmp / "removal_curve.csv", ranking.curve)
        write_json(tmp / "ranking.json", {**meta, **provenance(setup.inputs.provenance())})
        plot.removal_curve(
            ranking.curve, tmp / "removal_curve.png", f"{s.name}: greedy removal of camera sites"
        )
        site, cams = site_mark(setup), camera_marks(setup)
        half = plot.ranked_extent(site, cams.xy[ranking.top], RANKING_MAP_HALF_M)
        fig = plot.street_map(
            MapFrame.around(site.x, site.y, half, site.name),
            net.edge_geom,
            np.zeros(net.n_edges),
            [1.0],
            "",
            cams,
            site,
            f"{s.name}: top {top} camera sites by camera-seconds",
            stations=stations_of(setup),
            highlight=np.asarray(ranking.top),
        )
        save(fig, tmp / "top_cameras_map.png")
    assert folder.final is not None
    return folder.final
