"""report.pdf: the report laid out for print (US letter, or A4) by WeasyPrint, with static maps in
place of the interactive one. WeasyPrint runs offline; every image is embedded, nothing is
fetched."""

from __future__ import annotations

from html import escape
from string import Template

from sim import __version__
from sim.errors import DataError
from sim.report import DEFAULT_PAPER, PAPERS
from sim.report.evidence import Evidence
from sim.report.html import _template, subtitle
from sim.report.text import sections


def static_maps_section(images: dict[str, str]) -> str:
    """The printed maps (static figures in place of the interactive map)."""
    figs = [
        ("map_traffic", "Protester traffic per street"),
        ("map_coverage", "Share of each walked street in view of a camera"),
    ]
    parts = ["<section id='static-maps' class='print-only'><h2>Maps</h2>"]
    for key, alt in figs:
        if key in images:
            parts.append(f"<img class='figure map' alt='{escape(alt)}' src='{images[key]}'>")
    parts.append(
        "<p class='caption'>Streets in colour were walked by protesters (file "
        "<code>streets.parquet</code>); the key below each map lists what it draws, and the "
        "inset where it lies in the city. The interactive map is in "
        "<code>report.html</code>; the layers are in <code>layers.gpkg</code>.</p></section>"
    )
    return "".join(parts)


def print_style(ev: Evidence, paper: str) -> str:
    """What the printed report changes from the page's own styles: the paper, each page's
    foot naming the results folder, the screen's footer left out, tables sized for paper."""
    size, _ = PAPERS[paper]
    folder = ev.folder.name.replace("\\", "").replace('"', "")
    rules = (
        f'@page {{ size: {size}; @bottom-left {{ content: "{folder}"; font-size: 7pt; '
        "color: #666; } }",
        "main > footer { display: none; }",
        "table.comparison { font-size: 8pt; }",
        "table.comparison td.num { white-space: nowrap; }",
        "img.map { max-height: 100mm; }",
        "table.figures { font-size: 8.5pt; } table.figures th[scope='row'] { width: 44%; }",
        # long reference tables run on over pages (their header repeated) rather than
        # leaving most of a page blank
        "table.credits, table.neighbourhood { break-inside: auto; }",
        "table.neighbourhood { font-size: 8.5pt; }",
        "p.print-footer { margin-top: 1.5rem; color: #5f6368; font-size: 7.5pt; }",
    )
    return "<style>" + " ".join(rules) + "</style>"


def print_footer(ev: Evidence, paper: str) -> str:
    """The printed report's last words: what wrote it, from which folder, on which paper."""
    return (
        f"<p class='print-footer'>Written by protest-exposure {escape(__version__)} from the "
        f"files of <code>{escape(ev.folder.name)}</code>; laid out for {PAPERS[paper][1]} "
        "paper. The same report with an interactive map is <code>report.html</code> in that "
        "folder; its layers are in <code>layers.gpkg</code>.</p>"
    )


def render_pdf(
    ev: Evidence,
    images: dict[str, str],
    basemap_files: list[dict],
    neighbourhood_html: str = "",
    paper: str = DEFAULT_PAPER,
) -> bytes:
    """The report as PDF bytes, on ``paper`` (a key of :data:`PAPERS`)."""
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r} (allowed: {', '.join(PAPERS)})")
    try:
        from weasyprint import HTML, URLFetcher
    except (ImportError, OSError) as exc:  # OSError: the pango library is missing
        raise DataError(
            f"report.pdf needs WeasyPrint and the pango library ({exc}); on Debian: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from None
    body, _ = sections(ev, images, static_maps_section(images), basemap_files, neighbourhood_html)
    page = Template(_template("report.html")).substitute(
        version=__version__,
        title=escape(ev.title),
        subtitle=subtitle(ev),
        leaflet_css="",
        report_css=_template("report.css"),
        toc_extra="",
        body=print_style(ev, paper) + body + print_footer(ev, paper),
        folder=escape(ev.folder.name),
        scripts="",
    )
    # only data URIs (the embedded figures) may be read: nothing is fetched from anywhere
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=page, url_fetcher=fetcher, media_type="print").write_pdf()
