"""Writing a folder's evidence report: report.html, report.pdf and layers.gpkg beside the
results, all three or none (each is written under a temporary name, renamed when all are),
from the folder's own files only (the basemap and site neighbourhoods the run kept)."""

from __future__ import annotations

import base64
import logging
import os
import time
from pathlib import Path

import geopandas as gpd

from sim.errors import InputError
from sim.geo import lonlat_to_xy
from sim.outputs.basemap import clip_streets
from sim.outputs.cartography import SHARE_BREAKS_PCT, street_breaks
from sim.outputs.layers import points_frame, site_area, write_geopackage
from sim.report import DEFAULT_PAPER, PAPERS
from sim.report.evidence import Evidence, read_evidence
from sim.report.figures import distribution, site_mark, stations_of, street_map
from sim.report.neighbourhood import neighbourhood_section

log = logging.getLogger(__name__)

REPORT_FILES = ("report.html", "report.pdf", "layers.gpkg")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def site_xy(ev: Evidence) -> tuple[float, float]:
    """The (first) run's site point in UTM metres, from its manifest's site record."""
    site = ev.base.site
    x, y = site.get("x"), site.get("y")
    if x is None or y is None:
        xs, ys = lonlat_to_xy([site["lon"]], [site["lat"]])
        x, y = float(xs[0]), float(ys[0])
    return float(x), float(y)


def site_of(ev: Evidence) -> gpd.GeoDataFrame:
    """The site area of the (first) run, from its manifest's site record."""
    site = ev.base.site
    x, y = site_xy(ev)
    outline = (ev.base.manifest.doc.get("site_area") or {}).get("outline_latlon")
    return site_area(site["lat"], site["lon"], x, y, float(site["radius_m"]), outline)


def figures(ev: Evidence, basemap, site: gpd.GeoDataFrame, edits) -> dict[str, str]:
    """The static figures, as data URIs."""
    run = ev.base
    cams = points_frame(run.cameras)
    b = basemap.bounds
    cams = cams[cams["lon"].between(b[0], b[2]) & cams["lat"].between(b[1], b[3])]
    streets = run.streets.assign(share_pct=run.streets["share_in_view"] * 100)
    walked = streets["traversals_per_replication"] > 0
    streets.loc[~walked, "share_pct"] = 0.0
    out = {
        "distribution": distribution(
            {r.name: r.agents for r in ev.runs},
            "Time in view of a camera per protester",
        )
    }
    near = clip_streets(streets, b)
    mark = site_mark(str(run.site.get("name", "the site")), site, site_xy(ev))
    stations = stations_of(run.manifest.doc)
    out["map_traffic"] = street_map(
        basemap,
        streets,
        "traversals_per_replication",
        street_breaks(near, "traversals_per_replication"),
        "protesters walking along the street (per replication)",
        cams,
        mark,
        stations,
        f"{run.name}: protester traffic per street",
        "streets no protester walked",
        edits,
    )
    out["map_coverage"] = street_map(
        basemap,
        streets,
        "share_pct",
        SHARE_BREAKS_PCT,
        "% of the street's length in view of a camera",
        cams,
        mark,
        stations,
        f"{run.name}: walked streets in view of a camera",
        "streets not walked, or walked and never in view",
        edits,
    )
    return {k: _data_uri(v) for k, v in out.items()}


def write_report(folder: Path, paper: str = DEFAULT_PAPER) -> list[Path]:
    """Write report.html, report.pdf (on ``paper``: "letter" or "a4") and layers.gpkg into
    ``folder`` (a finished run or comparison), reading nothing but its files (and, for a
    comparison, its runs' folders). Nothing is written when the folder is not one, or when any
    part fails."""
    from sim.report.html import edits_frame, render_html
    from sim.report.pdf import render_pdf

    if paper not in PAPERS:
        raise InputError(f"paper {paper!r}: expected one of {', '.join(PAPERS)}")

    t0 = time.perf_counter()
    folder = Path(folder)
    ev = read_evidence(folder)
    run = ev.base
    site = site_of(ev)
    kept = run.report_inputs()
    basemap = kept.basemap
    edits = edits_frame(ev)
    images = figures(ev, basemap, site, edits)
    site_id = str(run.site.get("site_id", ""))
    around = neighbourhood_section(kept.neighbourhoods, site_id, run.summary.prefix)
    html = render_html(ev, basemap, site, images, around, kept.files)
    pdf = render_pdf(ev, images, kept.files, around, paper)
    layers = {
        "streets": run.streets,
        "cameras": points_frame(run.cameras),
        "routes": run.routes,
        "site_area": site,
        "edited_cameras": edits,
    }
    temps = {name: folder / f".{Path(name).stem}.part{Path(name).suffix}" for name in REPORT_FILES}
    try:
        temps["report.html"].write_text(html)
        temps["report.pdf"].write_bytes(pdf)
        write_geopackage(temps["layers.gpkg"], layers)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    written = []
    for name, tmp in temps.items():
        os.replace(tmp, folder / name)
        written.append(folder / name)
    log.info("report of %s written in %.1f s", folder, time.perf_counter() - t0)
    return written
