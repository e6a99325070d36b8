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
from sim.outputs.basemap import Basemap, clip_streets
from sim.outputs.cartography import RAMP, SHARE_BREAKS_PCT, class_colour, nice_breaks
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


def map_data(ev: Evidence, basemap: Basemap, site: gpd.GeoDataFrame) -> dict[str, Any]:
    """Everything the page's map draws, as plain JSON (coordinates rounded to about 1 m)."""
    run = ev.base
    b = basemap.bounds
    near = clip_streets(run.streets, b)
    walked = near[near["traversals_per_replication"] > 0]
    streets = [
        {
            "line": _line(r.geometry),
            "traffic": round(float(r.traversals_per_replication), 2),
            "minutes": round(float(r.minutes_in_view_per_replication), 2),
            "share": round(float(r.share_in_view), 4),
            "share_pct": round(float(r.share_in_view) * 100, 1),
            "length": round(float(r.length_m), 1),
        }
        for r in walked.itertuples()
    ]
    measures = []
    on_network = np.asarray(walked.get("highway", "") != ACCESS_LAYER_HIGHWAY, bool)
    for key, title, label, unit, unit_long, decimals in MEASURES:
        values = np.array([s[key] for s in streets], float)
        values = values[on_network] if on_network.shape == values.shape else values
        measures.append(
            {
                "key": key,
                "title": title,
                "label": label,
                "unit": unit,
                "unit_long": unit_long,
                "decimals": decimals,
                "breaks": SHARE_BREAKS_PCT if key == "share_pct" else nice_breaks(values),
            }
        )
    cams = run.cameras
    inside = cams["lon"].between(b[0], b[2]) & cams["lat"].between(b[1], b[3])
    groups = []
    for (cls, source), g in cams[inside].groupby(["class", "source"], sort=True):
        groups.append(
            {
                "label": f"{cls.replace('_', ' ')} ({source})",
                "colour": class_colour(cls),
                "cameras": [
                    {
                        "id": r.camera_id,
                        "source": r.source,
                        "cls": cls,
                        "count": float(r.count),
                        "lat": round(float(r.lat), 6),
                        "lon": round(float(r.lon), 6),
                        "seen": float(r.seen_range_m),
                        "rec": float(r.recognition_range_m),
                        "ident": float(r.identification_range_m),
                    }
                    for r in g.itertuples()
                ],
            }
        )
    classes = sorted({(c, class_colour(c)) for c in cams[inside]["class"]})
    sources = {
        key: {
            "file": str(f["path"]).rsplit("/", 1)[-1],
            "credit": f.get("credit", ""),
            "licence": f.get("licence", ""),
            "as_of": f.get("as_of", ""),
        }
        for key, f in run.data_sources().items()
    }
    edit_groups = []
    for r in ev.runs:
        for action, g in r.edits.groupby("action", sort=True):
            edit_groups.append(
                {
                    "label": f"Cameras {action} by {r.name}",
                    "action": action,
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
    routes = run.routes[run.routes["leg"] != "back to an exit"].head(ROUTES_ON_MAP)
    network = [_line(g) for g in near.geometry]
    return {
        "bounds": [[b[1], b[0]], [b[3], b[2]]],
        "ramp": RAMP,
        "attribution": "streets (c) OpenStreetMap contributors; cameras: Amnesty International; "
        "every source and licence: <a href='#credits'>Data, credits and licences</a>",
        "water": _geojson(basemap.water),
        "boroughs": _geojson(basemap.boroughs),
        "network": network,
        "streets": streets,
        "measures": measures,
        "camera_groups": groups,
        "classes": [{"label": CLASS_WORDS.get(c, c), "colour": col} for c, col in classes],
        "sources": sources,
        "site": {
            "ring": np.round(
                np.asarray(site.geometry.iloc[0].exterior.coords)[:, ::-1], COORD_DECIMALS
            ).tolist(),
            "label": f"{run.site.get('name', '')}: assembly site area, "
            + (
                f"{area['area_m2']:,.0f} m2 inside its ring of streets"
                if (area := run.manifest.doc.get("site_area") or {}).get("mode") == "streets"
                else f"radius {run.site.get('radius_m', 0):.0f} m"
            ),
        },
        "routes": [
            {
                "rank": int(r.rank),
                "leg": r.leg,
                "stations": r.stations.replace(";", ", ") or "(all protesters)",
                "protesters": float(r.protesters_per_replication),
                "length": float(r.length_m),
                "share": float(r.share_in_view),
                "line": _line(r.geometry),
            }
            for r in routes.itertuples()
        ],
        "edit_groups": edit_groups,
    }


def map_section(ev: Evidence, data: dict[str, Any]) -> str:
    """The interactive map's section: container, embedded data and caption."""
    n_cams = sum(len(g["cameras"]) for g in data["camera_groups"])
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        "<section id='map-section'><h2>Map</h2>"
        "<div id='map' role='region' aria-label='map of streets, cameras and the site'></div>"
        f"<script type='application/json' id='map-data'>{blob}</script>"
        "<p class='caption'>Switch the street colouring at the lower left: protester traffic, "
        "the crowd's minutes in view on each street, or the share of each walked street in "
        "view of a camera. Hover a street or camera for its values; click a camera for its "
        f"record. {len(data['streets']):,} walked streets and {n_cams:,} camera sites lie in "
        "this map's area (files <code>streets.parquet</code>, <code>cameras.csv</code>); the "
        "grey lines are the rest of the walk network, the blue areas water within the city's "
        "boundaries. No map tiles: everything is drawn from the run's own layers.</p>"
        "</section>"
    )


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
    scripts = f"<script>{js}</script>\n<script>{_template('report_map.js')}</script>"
    return Template(_template("report.html")).substitute(
        version=__version__,
        title=escape(ev.title),
        subtitle=subtitle(ev),
        leaflet_css=leaflet_css,
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
