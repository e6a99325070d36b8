"""report.html: one self-contained page (Leaflet and styles inlined, data embedded, no request
leaves it) with the report's text and an interactive map drawn from the run's layers."""

from __future__ import annotations

import base64
import json
import re
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim import __version__
from sim.exposure.camera_model import CLASS_WORDS
from sim.geo import PROJECTED_CRS
from sim.outputs.basemap import Basemap, clip_streets
from sim.outputs.cartography import (
    MAJOR_STREETS,
    RAMP,
    SHARE_BREAKS_PCT,
    SITE_GREEN,
    class_colour,
    nice_breaks,
)
from sim.outputs.layers import ACCESS_LAYER_HIGHWAY, points_frame
from sim.report.evidence import Evidence
from sim.report.text import sections

ROUTES_ON_MAP = 12
COORD_DECIMALS = 5  # about 1 m

# The street measures a reader can switch between: (column, title, short label, unit, long unit)
MEASURES = (
    (
        "traffic",
        "Protester traffic",
        "protesters passing",
        "per replication",
        "protesters walking along the street, per replication",
        0,
    ),
    (
        "minutes",
        "Crowd time in view",
        "protester-minutes in view",
        "min",
        "protester-minutes in view of a camera on the street, per replication",
        1,
    ),
    (
        "share_pct",
        "Street coverage",
        "share of length in view",
        "%",
        "% of the street's length in view of any camera (walked streets)",
        0,
    ),
)


def _template(name: str) -> str:
    return resources.files("sim.report").joinpath("templates", name).read_text()


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS from the installed XStatic-Leaflet package, with the images
    its CSS names inlined as data URIs and source-map comments removed (nothing to fetch)."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text()
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = (base / "leaflet.css").read_text()

    def inline(match: re.Match) -> str:
        data = (base / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    css = css.replace("url(#default#VML)", "none")
    return js, css


def _line(geom) -> list:
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    lines = [np.round(np.asarray(p.coords)[:, ::-1], COORD_DECIMALS).tolist() for p in parts]
    return lines[0] if len(lines) == 1 else lines


def _geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    rounded = frame.set_geometry(shapely.set_precision(frame.geometry.values, 10**-COORD_DECIMALS))
    return json.loads(rounded.to_json(drop_id=True))


STREET_LABELS = 16  # at most this many street names on the map (the most walked first)
STATION_LABELS = 40  # at most this many stations named (the most used first, room allowing)
# Colours of a change between scenarios: fewer (blues) or more (reds), by size of the change.
CHANGE_DOWN = ["#9ecae1", "#4292c6", "#08519c"]
CHANGE_UP = ["#fcae91", "#fb6a4a", "#a50f15"]
SITE_COLOUR = SITE_GREEN  # as on the static maps


def _street_key(row) -> tuple:
    """A street's identity across the runs of one comparison: its id on the network (the same
    network, the same ids); a first or last metres walk, which differ per run, by its line."""
    if row.highway == ACCESS_LAYER_HIGHWAY:
        return ("walk", shapely.set_precision(row.geometry, 10**-COORD_DECIMALS).wkb)
    return ("street", int(row.street_id))


def _walked_streets(runs, bounds, site_shape) -> tuple[list[dict[str, Any]], int]:
    """Every street any run walked inside ``bounds``, with each run's values (None where a
    run did not walk it); and how many first/last metres walks inside the site area were left
    out (the walks to standing points: the site area stands for them)."""
    union: dict[tuple, dict[str, Any]] = {}
    inside_site = 0
    site_zone = shapely.buffer(site_shape, 2e-4)  # about 20 m: the site's bounding streets' edge
    for i, run in enumerate(runs):
        near = clip_streets(run.streets, bounds)
        walked = near[near["traversals_per_replication"] > 0]
        access = np.asarray(walked.get("highway", "") == ACCESS_LAYER_HIGHWAY, bool)
        in_site = access & np.asarray(shapely.within(walked.geometry.values, site_zone), bool)
        if i == 0:
            inside_site = int(in_site.sum())
        for r, skip in zip(walked.itertuples(), in_site):
            if skip:
                continue
            street = union.setdefault(
                _street_key(r),
                {
                    "line": _line(r.geometry),
                    "length": round(float(r.length_m), 1),
                    "access": r.highway == ACCESS_LAYER_HIGHWAY,
                    "v": [None] * len(runs),
                },
            )
            street["v"][i] = [
                round(float(r.traversals_per_replication), 2),
                round(float(r.minutes_in_view_per_replication), 2),
                round(float(r.share_in_view) * 100, 1),
            ]
    return list(union.values()), inside_site


def _measures(streets: list[dict[str, Any]], n_runs: int) -> list[dict[str, Any]]:
    """The street measures with their colour classes: one set of classes for every scenario
    (the first run's, widened to hold every run's largest value), so that colours compare; and
    the classes of a change from the first run."""
    out = []
    for j, (key, title, label, unit, unit_long, decimals) in enumerate(MEASURES):
        base = np.array(
            [s["v"][0][j] for s in streets if s["v"][0] is not None and not s["access"]], float
        )
        breaks = list(SHARE_BREAKS_PCT) if key == "share_pct" else nice_breaks(base)
        top = max(
            (s["v"][i][j] for s in streets for i in range(n_runs) if s["v"][i] is not None),
            default=0.0,
        )
        breaks[-1] = max(breaks[-1], top)
        change = []
        if n_runs > 1:
            diffs = [
                abs((s["v"][i] or [0, 0, 0])[j] - (s["v"][0] or [0, 0, 0])[j])
                for s in streets
                for i in range(1, n_runs)
            ]
            change = nice_breaks(np.array(diffs, float), bins=len(CHANGE_UP))
        out.append(
            {
                "key": key,
                "index": j,
                "title": title,
                "label": label,
                "unit": unit,
                "unit_long": unit_long,
                "decimals": decimals,
                "breaks": breaks,
                "change_breaks": change,
            }
        )
    return out


def _street_labels(runs, bounds) -> list[dict[str, Any]]:
    """Names of the major streets in the map's middle (the OSM names the run kept in its
    streets layer): the walked ones first, major classes before minor, longer before shorter.
    Each has a few places to stand along its longest stretch, the middle first, each with the
    angle the street runs at there (degrees counter-clockwise from east, on the ground), so
    that a name can give way to another where they would overlap."""
    streets = runs[0].streets
    if "name" not in streets:
        return []
    x0, y0, x1, y1 = bounds
    inner = shapely.box(
        x0 + 0.08 * (x1 - x0), y0 + 0.08 * (y1 - y0), x1 - 0.08 * (x1 - x0), y1 - 0.08 * (y1 - y0)
    )
    major = streets[streets["highway"].isin(MAJOR_STREETS) & (streets["name"].fillna("") != "")]
    major = major[major.intersects(inner)]
    if major.empty:
        return []
    by_name = major.groupby("name")
    walked = by_name["traversals_per_replication"].sum()
    rank = by_name["highway"].agg(lambda h: min(MAJOR_STREETS.index(c) for c in h))
    length = major.geometry.to_crs(PROJECTED_CRS).length.groupby(major["name"]).sum()
    order = sorted(walked.index, key=lambda n: (walked[n] <= 0, rank[n], -length[n], n))
    cos_lat = np.cos(np.radians((y0 + y1) / 2))
    labels = []
    for name in order[:STREET_LABELS]:
        merged = shapely.line_merge(
            shapely.intersection(shapely.union_all(major[major["name"] == name].geometry), inner)
        )
        parts = [g for g in getattr(merged, "geoms", [merged]) if g.geom_type == "LineString"]
        if not parts:
            continue
        piece = max(parts, key=lambda g: g.length)
        step = min(0.08, 0.5 * 2e-4 / max(piece.length, 1e-9) + 0.04)
        places = []
        for f in (0.5, 0.35, 0.65, 0.2, 0.8):
            mid = piece.interpolate(f, normalized=True)
            a = piece.interpolate(max(0.0, f - step), normalized=True)
            b = piece.interpolate(min(1.0, f + step), normalized=True)
            angle = float(np.degrees(np.arctan2(b.y - a.y, (b.x - a.x) * cos_lat)))
            angle = (angle + 90) % 180 - 90  # text reads left to right, never upside down
            places.append(
                [round(mid.y, COORD_DECIMALS), round(mid.x, COORD_DECIMALS), round(angle, 1)]
            )
        labels.append({"name": str(name), "at": places})
    return labels


def _stations(run, bounds) -> list[dict[str, Any]]:
    """The stations protesters come from (the manifest's ``origins/station_places``) inside
    the map, most used first."""
    places = (run.manifest.doc.get("origins") or {}).get("station_places") or []
    x0, y0, x1, y1 = bounds
    return [
        {
            "name": p["station"],
            "lat": p["lat"],
            "lon": p["lon"],
            "share": p["share"],
            "exits": p["exits"],
            "label": i < STATION_LABELS,
        }
        for i, p in enumerate(
            q for q in places if q["share"] > 0 and x0 <= q["lon"] <= x1 and y0 <= q["lat"] <= y1
        )
    ]


def _cameras(runs, bounds) -> list[dict[str, Any]]:
    """Camera sites of every run inside ``bounds``, grouped by class and source, each marked
    with the runs that have it."""
    x0, y0, x1, y1 = bounds
    seen: dict[str, dict[str, Any]] = {}
    for i, run in enumerate(runs):
        cams = run.cameras.rename(columns={"class": "cls"})
        inside = cams["lon"].between(x0, x1) & cams["lat"].between(y0, y1)
        for r in cams[inside].itertuples():
            cam = seen.setdefault(
                r.camera_id,
                {
                    "id": r.camera_id,
                    "source": r.source,
                    "cls": r.cls,
                    "count": float(r.count),
                    "lat": round(float(r.lat), 6),
                    "lon": round(float(r.lon), 6),
                    "seen": float(r.seen_range_m),
                    "rec": float(r.recognition_range_m),
                    "ident": float(r.identification_range_m),
                    "in": [0] * len(runs),
                },
            )
            cam["in"][i] = 1
    groups: dict[tuple[str, str], list] = {}
    for cam in sorted(seen.values(), key=lambda c: (c["cls"], c["source"], c["id"])):
        groups.setdefault((cam["cls"], cam["source"]), []).append(cam)
    return [
        {
            "cls": cls,
            "label": f"{cls.replace('_', ' ')} ({source})",
            "colour": class_colour(cls),
            "cameras": cams,
        }
        for (cls, source), cams in groups.items()
    ]


def map_data(ev: Evidence, basemap: Basemap, site: gpd.GeoDataFrame) -> dict[str, Any]:
    """Everything the page's map draws, as plain JSON (coordinates rounded to about 1 m): each
    scenario's streets, cameras and routes (a comparison's runs share the first's basemap),
    the site, the stations protesters come from and the names of the major streets."""
    run = ev.base
    b = basemap.bounds
    shape = site.geometry.iloc[0]
    streets, inside_site = _walked_streets(ev.runs, b, shape)
    cams = _cameras(ev.runs, b)
    classes = sorted({(g["cls"], g["colour"]) for g in cams})
    sources: dict[str, dict[str, Any]] = {}
    for r in ev.runs:
        for key, f in r.data_sources().items():
            sources.setdefault(
                key,
                {
                    "file": str(f["path"]).rsplit("/", 1)[-1],
                    "credit": f.get("credit", ""),
                    "licence": f.get("licence", ""),
                    "as_of": f.get("as_of", ""),
                },
            )
    edit_groups = []
    for i, r in enumerate(ev.runs):
        for action, g in r.edits.groupby("action", sort=True):
            edit_groups.append(
                {
                    "label": f"Cameras {action} by {r.name}",
                    "action": action,
                    "run": i,
                    "cameras": [
                        {
                            "id": e.camera_id,
                            "cls": e.cls,
                            "count": float(e.count),
                            "lat": round(float(e.lat), 6),
                            "lon": round(float(e.lon), 6),
                        }
                        for e in g.rename(columns={"class": "cls"}).itertuples()
                    ],
                }
            )
    routes = []
    for r in ev.runs:
        top = r.routes[r.routes["leg"] != "back to an exit"].head(ROUTES_ON_MAP)
        routes.append(
            [
                {
                    "rank": int(q.rank),
                    "leg": q.leg,
                    "stations": q.stations.replace(";", ", ") or "(all protesters)",
                    "protesters": float(q.protesters_per_replication),
                    "length": float(q.length_m),
                    "share": float(q.share_in_view),
                    "line": _line(q.geometry),
                }
                for q in top.itertuples()
            ]
        )
    near = clip_streets(run.streets, b)
    network = [_line(g) for g in near.geometry]
    area = run.manifest.doc.get("site_area") or {}
    centre = shape.representative_point()
    return {
        "bounds": [[b[1], b[0]], [b[3], b[2]]],
        "ramp": RAMP,
        "change_down": CHANGE_DOWN,
        "change_up": CHANGE_UP,
        "attribution": "&copy; OpenStreetMap contributors<span class='attr-long'> (streets, "
        "names); cameras: Amnesty International; stations: MTA</span>; "
        "<a href='#credits'>all sources and licences</a>",
        "scenarios": [r.name for r in ev.runs],
        "water": _geojson(basemap.water),
        "boroughs": _geojson(basemap.boroughs),
        "network": network,
        "streets": streets,
        "measures": _measures(streets, len(ev.runs)),
        "camera_groups": cams,
        "classes": [
            {"cls": c, "label": CLASS_WORDS.get(c, c), "colour": col} for c, col in classes
        ],
        "sources": sources,
        "site": {
            "name": str(run.site.get("name", "")) or "assembly site",
            "colour": SITE_COLOUR,
            "ring": np.round(np.asarray(shape.exterior.coords)[:, ::-1], COORD_DECIMALS).tolist(),
            "centre": [round(centre.y, COORD_DECIMALS), round(centre.x, COORD_DECIMALS)],
            "label": f"{run.site.get('name', '')}: assembly site area, "
            + (
                f"{area['area_m2']:,.0f} m2 inside its ring of streets"
                if area.get("mode") == "streets"
                else f"radius {run.site.get('radius_m', 0):.0f} m"
            ),
            "walks_inside": inside_site,
        },
        "stations": _stations(run, b),
        "street_labels": _street_labels(ev.runs, b),
        "routes": routes,
        "edit_groups": edit_groups,
    }


def map_section(ev: Evidence, data: dict[str, Any]) -> str:
    """The interactive map's section: the map, the panel beside it that holds its key and
    layer switches, the embedded data and a caption."""
    n_cams = sum(sum(c["in"][0] for c in g["cameras"]) for g in data["camera_groups"])
    n_streets = sum(1 for s in data["streets"] if s["v"][0] is not None)
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    compared = (
        "Above the key, choose which scenario's streets and cameras to show, or the change "
        "between two: streets whose figure changed, in blue where it fell and in red where it "
        "rose, with the camera sites a scenario removed or added. "
        if len(ev.runs) > 1
        else ""
    )
    return (
        "<section id='map-section'><h2>Map</h2>"
        "<div class='map-wrap'>"
        "<div id='map' role='region' aria-label='map of streets, cameras, stations and the "
        "site'></div>"
        "<div id='map-panel' class='map-panel' role='group' aria-label='map key and layer "
        "switches'></div></div>"
        f"<script type='application/json' id='map-data'>{blob}</script>"
        f"<p class='caption'>{compared}Switch the street colouring beside the map (below it "
        "on a narrow screen): protester traffic, the crowd's minutes in view on each street, "
        "or the share of each walked street in view of a camera. Hover a street, station or "
        f"camera for its values; click a camera for its record. {n_streets:,} walked streets "
        f"and {n_cams:,} camera sites lie in this map's area (files "
        "<code>streets.parquet</code>, <code>cameras.csv</code>); the grey lines are the rest "
        "of the walk network, the blue areas water within the city's boundaries. The green "
        "area is the assembly site, where protesters spread out to stand (their walks inside "
        "it are in the streets layer, not drawn). Stations are placed at the mean position "
        "of their exits; street names are OpenStreetMap's. No map tiles: everything is drawn "
        "from the run's own layers.</p>"
        "</section>"
    )


_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _cells_labelled(row: str, labels: list[str]) -> str:
    """A table row's cells, each given the name of its column (``data-label``)."""
    cells = iter(labels)

    def label(match: re.Match) -> str:
        name = next(cells, "")
        return f'{match.group(0)} data-label="{escape(name)}"' if name else match.group(0)

    return re.sub(r"<t[dh]\b(?![^>]*scope='row')", label, row)


def responsive_tables(body: str) -> str:
    """Every table of ``body`` made to fit a narrow screen: a table with one header row gets
    class ``reflow`` and each cell its column's name (``data-label``), so that on a phone
    each row becomes a block of 'column: value' lines; any other table is put in a box that
    scrolls sideways by itself (the page never does)."""

    def one(match: re.Match) -> str:
        attrs, inner = match.group(1), match.group(2)
        head = re.search(r"<thead>(.*?)</thead>", inner, re.S)
        simple = (
            head is not None
            and len(re.findall(r"<tr\b", head.group(1))) == 1
            and not re.search(r"(col|row)span", head.group(1))
        )
        if not simple:
            before = body[max(0, match.start() - 40) : match.start()]
            wrapped = before.rstrip().endswith("<div class='wide'>")
            return match.group(0) if wrapped else f"<div class='wide'>{match.group(0)}</div>"
        labels = [
            unescape_text(_TAG.sub("", th))
            for th in re.findall(r"<th\b[^>]*>(.*?)</th>", head.group(1), re.S)
        ]
        rest = inner[head.end() :]
        rows = re.sub(
            r"<tr\b.*?</tr>",
            lambda m: _cells_labelled(
                m.group(0), labels[1:] if "scope='row'" in m.group(0) else labels
            ),
            rest,
            flags=re.S,
        )
        if re.search(r"class=['\"]", attrs):
            attrs = re.sub(r"class=(['\"])", r"class=\1reflow ", attrs, count=1)
        else:
            attrs += " class='reflow'"
        return f"<table{attrs}>{inner[: head.end()]}{rows}</table>"

    return _TABLE.sub(one, body)


def unescape_text(html_text: str) -> str:
    """Text of an HTML fragment with its entities decoded (for an attribute value)."""
    from html import unescape

    return " ".join(unescape(html_text).split())


def render_html(
    ev: Evidence,
    basemap: Basemap,
    site: gpd.GeoDataFrame,
    images: dict[str, str],
    neighbourhood_html: str = "",
    files: list | None = None,
) -> str:
    """The whole report.html; ``files``: the bundle files behind the basemap and the site
    neighbourhoods (as the run's manifest records them), else the basemap's."""
    js, leaflet_css = leaflet_assets()
    data = map_data(ev, basemap, site)
    files = basemap.files if files is None else files
    body, toc = sections(ev, images, map_section(ev, data), files, neighbourhood_html)
    body = responsive_tables(body)
    scripts = f"<script>{js}</script>\n<script>{_template('report_map.js')}</script>"
    return Template(_template("report.html")).substitute(
        version=__version__,
        title=escape(ev.title),
        subtitle=subtitle(ev),
        leaflet_css=leaflet_css + "\n" + _template("report_screen.css"),
        report_css=_template("report.css"),
        toc_extra=toc,
        body=body,
        folder=escape(ev.folder.name),
        scripts=scripts,
    )


def subtitle(ev: Evidence) -> str:
    """Run id(s) and when they were recorded."""
    ids = ", ".join(escape(str(r.manifest.doc.get("run_id", r.folder.name))) for r in ev.runs)
    when = escape(str(ev.base.manifest.doc.get("machine", {}).get("recorded_at", "")))
    return f"Results folder <code>{escape(ev.folder.name)}</code>; run {ids}; recorded {when}"


def edits_frame(ev: Evidence) -> gpd.GeoDataFrame:
    """Every run's edited cameras, with the scenario that edited them, as points."""
    parts = [r.edits.assign(scenario=r.name) for r in ev.runs if len(r.edits)]
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in (
                    ("action", str),
                    ("camera_id", str),
                    ("source", str),
                    ("class", str),
                    ("count", float),
                    ("lat", float),
                    ("lon", float),
                    ("scenario", str),
                )
            }
        )
    )
    return points_frame(table)
