"""A districts run's folder: ``districts.csv``, ``sites.csv``, ``walks.csv``, ``outside.csv``,
``districts.gpkg``, a one-page letter PDF and a slide PNG per district, and ``manifest.json``
naming, for every figure, what it means, the files it comes from (with SHA-256) and its method."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from sim.exposure.districts import DISTRICT_CLASSES, WALK_CATCHMENT_M
from sim.exposure.equity import CAMERA_RADIUS_M
from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS
from sim.outputs.folders import RunFolder, new_run_id, provenance, write_json, write_table
from sim.outputs.layers import write_geopackage

# Bundle files by what they are, as FIGURES names them ("boundary" is the package's file).
CAMERA_KEYS = ("banthescan_public", "banthescan_all", "amnesty_counts", "dot_cameras", "linknyc")
TRACT_KEYS = ("census_tracts", "shoreline", "banthescan_public")
MERGE_RULE = (
    "Ban the Scan public sites (class public_street) and private-only sites (type 0, class "
    "private_building) take the count of Amnesty's nearest counted intersection within 15 m, "
    "each intersection given out once (sim/data/camera_counts.py); a site with no count is 1 "
    "camera; sites of different layers within 15 m are one site, the earlier of "
    "banthescan_public, amnesty_counts, banthescan_all, dot_cameras, linknyc keeping its place "
    "and class (sim/exposure/merge.py); each site then lies in the district whose outline "
    "holds it (point in polygon), or in none"
)
AMNESTY_METHOD = (
    f"Amnesty's Decode Surveillance NYC method 2.4, as the equity command runs it: census "
    f"tracts clipped to land with the state shoreline; the district's land is its parts inside "
    f"those tracts; effective public cameras = the area of that land within "
    f"{CAMERA_RADIUS_M:.0f} m of a Ban the Scan public camera site / (pi x "
    f"{CAMERA_RADIUS_M:.0f}^2); residents of a tract the district cuts count for the share of "
    "the tract's land inside it (area-weighted)"
)
WALK_METHOD = (
    f"for each protest site of the district that the bundle's walk network (Manhattan) reaches: "
    f"the shortest walk on that network from each subway exit within {WALK_CATCHMENT_M:.0f} m "
    f"walking to the site's street corner, scored as `run_sim.py route --from EXIT --to SITE` "
    f"scores it (Amnesty's route tool: the share of the walk's length within "
    f"{CAMERA_RADIUS_M:.0f} m of a Ban the Scan public camera site, radius model); the "
    "district's median, least and most over every such walk to its sites"
)


@dataclass(frozen=True)
class Figure:
    """What a column of districts.csv holds: meaning, unit, files (by key) and method."""

    meaning: str
    unit: str
    files: tuple[str, ...]
    method: str


def _figures() -> dict[str, Figure]:
    cams = ("boundary", *CAMERA_KEYS)
    out = {
        "district": Figure(
            "council district number", "", ("boundary",), "the file's district_number"
        ),
        "lines": Figure("district lines used", "year", ("boundary",), "--lines"),
        "borough": Figure(
            "the borough holding most of the district's area",
            "",
            ("boundary", "boroughs"),
            "area of the district inside each borough boundary (water included), largest",
        ),
        "borough_share": Figure(
            "that borough's share of the district's area",
            "0-1",
            ("boundary", "boroughs"),
            "area inside the borough / the district's area",
        ),
        "boroughs": Figure(
            "every borough holding more than 0.5% of the district",
            "",
            ("boundary", "boroughs"),
            "as borough",
        ),
        "camera_sites": Figure(
            "camera sites of the four layers in the district", "sites", cams, MERGE_RULE
        ),
        "cameras": Figure("cameras at those sites", "cameras", cams, MERGE_RULE),
        "cameras_from_amnesty_counts": Figure(
            "of those, cameras counted by Amnesty's volunteers (the rest: sites with no count, 1 "
            "each)",
            "cameras",
            cams,
            MERGE_RULE,
        ),
        "sites_without_count": Figure(
            "sites that carry no Amnesty count (1 camera each): LinkNYC kiosks, DOT cameras, "
            "Ban the Scan sites with no counted intersection within 15 m",
            "sites",
            cams,
            MERGE_RULE,
        ),
        "amnesty_intersections": Figure(
            "Amnesty's intersections with at least one camera in the district",
            "intersections",
            ("boundary", "amnesty_counts"),
            "point in polygon of the counts file's Lat, Long",
        ),
        "amnesty_cameras": Figure(
            "cameras Amnesty's volunteers counted at those intersections (n_cameras_median, "
            "summed; no merging with other layers)",
            "cameras",
            ("boundary", "amnesty_counts"),
            "sum of n_cameras_median of the intersections in the district",
        ),
        "land_area_km2": Figure(
            "the district's land (inside the census tracts clipped to the shoreline)",
            "km2",
            ("boundary", "census_tracts", "shoreline"),
            AMNESTY_METHOD,
        ),
        "residents": Figure(
            "residents (2020 census), area-weighted over the tracts the district cuts",
            "people",
            ("boundary", "census_tracts", "shoreline"),
            AMNESTY_METHOD,
        ),
        "tracts_cut_or_held": Figure(
            "census tracts with land in the district",
            "tracts",
            ("boundary", "census_tracts", "shoreline"),
            AMNESTY_METHOD,
        ),
        "effective_public_cameras": Figure(
            "Amnesty's effective public cameras on the district's land",
            "cameras",
            ("boundary", *TRACT_KEYS),
            AMNESTY_METHOD,
        ),
        "public_cameras_per_1000": Figure(
            "Amnesty's surveillance level: effective public cameras per 1,000 residents",
            "per 1,000 residents",
            ("boundary", *TRACT_KEYS),
            AMNESTY_METHOD + "; effective public cameras / residents x 1,000",
        ),
        "nonwhite_share": Figure(
            "non-white share of the residents: (Black + Hispanic) / (Black + Hispanic + "
            "non-Hispanic White), Amnesty's definition",
            "0-1",
            ("boundary", "census_tracts", "shoreline"),
            AMNESTY_METHOD,
        ),
        "rank_per_1000_city": Figure(
            "rank of public_cameras_per_1000 among the 51 districts (1 = most)",
            "rank",
            ("boundary", *TRACT_KEYS),
            "descending; ties share the better rank",
        ),
        "rank_per_1000_borough": Figure(
            "rank of public_cameras_per_1000 among the districts of its borough (1 = most)",
            "rank",
            ("boundary", "boroughs", *TRACT_KEYS),
            "as rank_per_1000_city, per borough",
        ),
        "rank_public_sites_city": Figure(
            "rank of sites_public_street among the 51 districts (1 = most)",
            "rank",
            cams,
            "descending; ties share the better rank",
        ),
        "rank_public_sites_borough": Figure(
            "rank of sites_public_street among the districts of its borough",
            "rank",
            (*cams, "boroughs"),
            "as rank_public_sites_city, per borough",
        ),
        "districts_in_borough": Figure(
            "districts whose main borough is this one (what the borough ranks are out of)",
            "districts",
            ("boundary", "boroughs"),
            "count",
        ),
        "protest_sites": Figure(
            "protest sites of 2020 (the bundle's sites file) in the district",
            "sites",
            ("boundary", "protest_sites"),
            "point in polygon of each site's lat, lon",
        ),
        "protest_site_names": Figure(
            "their names", "", ("boundary", "protest_sites"), "the sites file's name"
        ),
        "ccc2020_events": Figure(
            "Crowd Counting Consortium events at those sites, 2020-05-28 to 2020-06-30",
            "events",
            ("boundary", "protest_sites"),
            "sum of the sites file's ccc2020_events (events its compilers matched to each site; "
            "events elsewhere in the district are not counted)",
        ),
        "ccc2020_largest_crowd": Figure(
            "largest crowd CCC reported at any of those sites",
            "people",
            ("boundary", "protest_sites"),
            "maximum of the sites file's ccc2020_max_size",
        ),
        "subway_exits": Figure(
            "subway entrances that allow exiting, in the district",
            "exits",
            ("boundary", "mta_entrances"),
            "rows with Exit Allowed = YES, point in polygon",
        ),
        "subway_stations": Figure(
            "station complexes with an exit in the district",
            "stations",
            ("boundary", "mta_entrances"),
            "distinct Complex ID of those exits",
        ),
        "subway_station_names": Figure(
            "their names", "", ("boundary", "mta_entrances"), "the file's Stop Name"
        ),
        "walk_sites": Figure(
            "protest sites of the district with walks scored",
            "sites",
            ("boundary", "protest_sites", "osm_walk", "mta_entrances", "banthescan_public"),
            WALK_METHOD,
        ),
        "walks": Figure(
            "walks scored (one per exit and site)",
            "walks",
            ("boundary", "protest_sites", "osm_walk", "mta_entrances", "banthescan_public"),
            WALK_METHOD,
        ),
        "walk_note": Figure(
            "how the walks were scored, or why there are none", "", ("boundary",), WALK_METHOD
        ),
    }
    for cls in DISTRICT_CLASSES:
        out[f"sites_{cls}"] = Figure(f"camera sites of class {cls}", "sites", cams, MERGE_RULE)
        out[f"cameras_{cls}"] = Figure(
            f"cameras at sites of class {cls}", "cameras", cams, MERGE_RULE
        )
    for stat, word in (("median", "median"), ("min", "least"), ("max", "most")):
        out[f"walk_share_{stat}"] = Figure(
            f"{word} share of a walk in view of a public camera (within 120 m)",
            "0-1",
            ("boundary", "protest_sites", "osm_walk", "mta_entrances", "banthescan_public"),
            WALK_METHOD,
        )
    return out


FIGURES = _figures()


def figure_records(columns: list[str], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every column's meaning, unit, method and files (path and SHA-256), for the manifest."""
    out = {}
    for col in columns:
        fig = FIGURES[col]
        out[col] = {
            "meaning": fig.meaning,
            "unit": fig.unit,
            "method": fig.method,
            "files": [
                {"source": k, "path": files[k]["path"], "sha256": files[k]["sha256"]}
                for k in fig.files
                if k in files
            ],
        }
    return out


def district_frame(ev, rows: np.ndarray) -> gpd.GeoDataFrame:
    """The districts at ``rows`` with every figure, as polygons (EPSG:4326)."""
    table = ev.table.iloc[rows].reset_index(drop=True)
    return gpd.GeoDataFrame(
        table, geometry=list(ev.districts.geom[rows]), crs=PROJECTED_CRS
    ).to_crs(GEOGRAPHIC_CRS)


def district_numbers(ev, rows: np.ndarray) -> np.ndarray:
    """The district number of each row index into ``ev.districts`` (0 where -1: in none)."""
    return np.where(rows >= 0, ev.districts.number[np.maximum(rows, 0)], 0)


def layers(ev, rows: np.ndarray) -> dict[str, gpd.GeoDataFrame]:
    """districts.gpkg's layers: the districts, camera sites, protest sites and subway exits in
    them (points with their district; the whole city's with no district number given)."""
    numbers = set(ev.districts.number[rows].tolist())
    cams = ev.cameras
    cam_district = district_numbers(ev, ev.camera_district)
    keep = np.isin(cam_district, list(numbers))
    cameras = gpd.GeoDataFrame(
        {
            "camera_id": cams.camera_id[keep],
            "source": cams.source[keep],
            "class": cams.cls[keep],
            "cameras": cams.count[keep],
            "count_from": cams.count_source[keep],
            "district": cam_district[keep],
        },
        geometry=shapely.points(np.c_[cams.lon[keep], cams.lat[keep]]),
        crs=GEOGRAPHIC_CRS,
    )
    p = ev.site_points
    site_district = district_numbers(ev, ev.site_district)
    keep = np.isin(site_district, list(numbers))
    sites = gpd.GeoDataFrame(
        {
            "site_id": p.site_id[keep],
            "name": p.name[keep],
            "ccc2020_events": p.events[keep],
            "ccc2020_largest_crowd": p.largest_crowd[keep],
            "district": site_district[keep],
        },
        geometry=shapely.points(np.c_[p.x[keep], p.y[keep]]),
        crs=PROJECTED_CRS,
    ).to_crs(GEOGRAPHIC_CRS)
    ex = ev.exits[ev.exits["district"].isin(numbers)]
    exits = gpd.GeoDataFrame(
        ex.drop(columns=["x", "y"]),
        geometry=shapely.points(np.c_[ex["lon"], ex["lat"]]),
        crs=GEOGRAPHIC_CRS,
    )
    return {
        "districts": district_frame(ev, rows),
        "camera_sites": cameras,
        "protest_sites": sites,
        "subway_exits": exits,
    }


def write_districts(
    ev, root: Path, only: int | None, data_dir: Path, say=lambda text: None
) -> Path:
    """Write the folder of a districts run (every district, or district ``only``) whole or not
    at all; return it."""
    from sim.data.basemap import read_city_outlines
    from sim.outputs.basemap import clip_basemap
    from sim.outputs.district_page import district_map, district_pdf

    started = time.perf_counter()
    lines = ev.districts.lines
    rows = np.arange(len(ev.districts)) if only is None else np.array([ev.districts.index_of(only)])
    label = f"{lines}-all" if only is None else f"{lines}-district{only}"
    outlines = read_city_outlines(data_dir)
    city = clip_basemap(outlines, tuple(outlines.boroughs.total_bounds))
    files = {f["source"]: f for f in ev.files}
    files["boundary"] = ev.boundary
    for f in city.files:
        files.setdefault(f["source"], f)
    numbers = ev.districts.number[rows]
    table = ev.table.iloc[rows].reset_index(drop=True)
    pick = ev.sites["district"].isin(numbers) if len(ev.sites) else []
    sites = ev.sites[pick].reset_index(drop=True) if len(ev.sites) else ev.sites
    walks = ev.walks[ev.walks["district"].isin(numbers)] if len(ev.walks) else ev.walks
    folder = RunFolder(root, new_run_id(label))
    run_id = folder.run_id
    pages: dict[str, Any] = {}
    with folder as tmp:
        write_table(tmp / "districts.csv", table)
        write_table(tmp / "sites.csv", sites)
        write_table(tmp / "walks.csv", walks)
        write_table(tmp / "outside.csv", ev.outside)
        write_geopackage(tmp / "districts.gpkg", layers(ev, rows))
        t = time.perf_counter()
        for k in rows.tolist():
            n = int(ev.districts.number[k])
            png = district_map(ev, k, city)
            (tmp / f"district_{n:02d}.png").write_bytes(png)
            pdf = district_pdf(ev, k, png, files, run_id, only)
            (tmp / f"district_{n:02d}.pdf").write_bytes(pdf)
            pages[str(n)] = {"pdf": f"district_{n:02d}.pdf", "png": f"district_{n:02d}.png"}
            if only is None and n % 10 == 0:
                say(f"districts: pages {n} of {len(rows)} ({time.perf_counter() - t:.0f} s)")
        page_s = time.perf_counter() - t
        written = {p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.name != ".owner.json"}
        write_json(
            tmp / "manifest.json",
            {
                "what": "City Council districts: cameras, Amnesty's tract measure, protest "
                "sites, subway exits and walks, one row per district",
                "lines": lines,
                "district": only,
                "districts_written": [int(n) for n in numbers],
                "boundaries": ev.boundary,
                "camera_layers": {
                    "layers": [
                        "banthescan_public (public_street, counts from amnesty_counts)",
                        "banthescan_all (private_building only, counts from amnesty_counts)",
                        "linknyc",
                        "dot_cameras",
                    ],
                    "rule": MERGE_RULE,
                    "account": ev.merge,
                    "sites": int(len(ev.cameras)),
                    "cameras": float(ev.cameras.count.sum()),
                    "sites_in_no_district": int((ev.camera_district < 0).sum()),
                    "cameras_in_no_district": float(ev.cameras.count[ev.camera_district < 0].sum()),
                },
                "walk_network": ev.walk_network,
                "figures": figure_records(list(table.columns), files),
                "files_written": written,
                "pages": pages,
                "paper": "US letter, portrait, one page per district",
                "timings_s": {**ev.timings, "pages_s": round(page_s, 2)},
                "write_s": round(time.perf_counter() - started, 2),
                **provenance(list(files.values())),
            },
        )
    return folder.final


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
