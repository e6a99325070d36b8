"""The report's words: HTML sections written from a folder's evidence. Every number is read from
the folder's files and tagged with the file and key it came from (class ``fig``)."""

from __future__ import annotations

from html import escape
from typing import Any

from sim.exposure.camera_model import CLASS_WORDS
from sim.outputs.layers import ACCESS_LAYER_HIGHWAY
from sim.report.compare_text import comparison_headline, comparison_table
from sim.report.evidence import HEADLINES, Evidence, Headline, RunEvidence, Source
from sim.report.limits import fact, limits
from sim.report.words import tagged

ROUTES_SHOWN = 8
# A figure's cell may wrap (after an interval's comma, at a unit's hyphen) on a narrow screen.
WRAP = " style='white-space: normal'"


def _area_words(man) -> str:
    """How the run drew its site area (its manifest's ``site_area``, else the disk)."""
    area = man.doc.get("site_area") or {}
    if area.get("mode") == "streets":
        return f"the block inside its ring of streets, {area.get('area_m2', 0):,.0f} m2"
    return f"a disk of radius {man.num('site/radius_m', 1, 0, 'm')}"


def _minutes(man: Source, path: str) -> str:
    return man.num(path, 1 / 60, 0, "min")


def question(ev: Evidence) -> str:
    """The question and the scenario, in plain words."""
    site = escape(ev.base.site.get("name", ""))
    parts = [
        "<p>How much of a protester's walk to "
        f"<b>{site}</b>, and of the time there, happens in view of cameras whose footage "
        "police can run through facial recognition? This report answers it with an "
        "agent-based simulation over the data files listed under <a href='#credits'>Data, "
        "credits and licences</a>. Every figure below is read from the results folder it "
        "describes.</p>"
    ]
    for r in ev.runs:
        parts.append(_scenario_words(r))
    if ev.comparison is not None:
        parts.append(_matching_words(ev.comparison))
    return "\n".join(parts)


def _matching_words(comp: Source) -> str:
    """How the comparison matched its runs' draws (its ``matching`` record)."""
    matched = comp.doc.get("matching") or []
    seed, reps = comp.num("seed", 1, 0).replace(",", ""), comp.num("replications", 1, 0)
    words = (
        f"<p>Every scenario ran with seed {seed} and {reps} replications, so replication k of "
        "each draws from the same random stream as replication k of the first: differences "
        "are paired."
    )
    for i, m in enumerate(matched):
        if m.get("changed"):
            words += (
                f" <code>{escape(str(m.get('scenario')))}</code>'s file gives seed "
                f"{comp.num(f'matching/{i}/seed_in_file', 1, 0).replace(',', '')} and "
                f"{comp.num(f'matching/{i}/replications_in_file', 1, 0)} replications; the "
                "comparison used the first scenario's."
            )
    return words + "</p>"


def _scenario_words(run: RunEvidence) -> str:
    man = run.manifest
    s = run.scenario
    words = [f"<h3>Scenario <code>{escape(run.name)}</code></h3>"]
    if s.get("description"):
        words.append(f"<p class='description'>{escape(s['description'])}</p>")
    origins = s.get("origins", {})
    where = ""
    if origins.get("mode") == "within":
        kind = "walking" if origins.get("distance") == "walking" else "straight-line"
        where = (
            f" within {man.num('scenario_resolved/origins/max_distance_m', 1, 0, 'm')} "
            f"{kind} distance of the site"
        )
    dwell = s.get("dwell", {})
    back = "; the simulation does not follow them after that"
    if dwell.get("disperse"):
        back = (
            ", then walks back to the exit they came from"
            if dwell.get("disperse_to") == "origin"
            else ", then walks to the exit nearest the site"
        )
    r = "scenario_resolved/routing"
    routing = {
        "shortest": "the shortest route",
        "least_exposed": (
            "the route least in view of cameras (each second in view weighed as "
            f"{man.num(f'{r}/exposure_weight', 1, 1, 'm')} of walking), at most "
            f"{man.num(f'{r}/max_detour', 100, 0, '%')} longer than the shortest"
        ),
        "stochastic": (
            f"one of {man.num(f'{r}/routes_per_origin', 1, 0)} near-shortest routes per exit, "
            "drawn per protester"
        ),
    }.get(s.get("routing", {}).get("choice", ""), "their route")
    crowding = (
        ", slowed in dense streets (Weidmann's speed-density relation)"
        if s.get("walking", {}).get("crowding")
        else ", each at their own speed (no crowding)"
    )
    march = ""
    if s.get("march", {}).get("to_site"):
        march = f", then marches with the crowd to <code>{escape(s['march']['to_site'])}</code>"
    points = "first_and_last_metres/site_node_to_standing_point_m/standing_points"
    where_stand = (
        f"one of {man.num(points, 1, 0)} standing points spread over the site area"
        if fact(run, points) is not None
        else "a point of the site area"
    )
    words.append(
        "<p>"
        f"{man.num('scenario_resolved/crowd/protesters', 1, 0)} protesters come out of "
        f"{man.num('origins/exits', 1, 0)} subway exits{where} and walk by {routing} to the "
        f"site, setting off over {_minutes(man, 'scenario_resolved/arrival/duration_s')}. "
        f"Each stays {_minutes(man, 'scenario_resolved/dwell/duration_s')} at {where_stand} "
        f"({_area_words(man)}){march}{back}. Walking speeds average "
        f"{man.num('scenario_resolved/walking/speed_mean_mps', 1, 2, 'm/s')}{crowding}. The "
        f"whole crowd is drawn {man.num('scenario_resolved/replications', 1, 0)} times "
        f"(replications, seed {man.num('seed', 1, 0).replace(',', '')}).</p>"
    )
    classes = man.doc.get("cameras", {}).get("by_class", {})
    listed = ", ".join(
        f"{man.num(f'cameras/by_class/{cls}', 1, 0)} {escape(CLASS_WORDS.get(cls, cls))}"
        for cls in sorted(classes)
    )
    words.append(
        f"<p>Cameras: {man.num('cameras/sites', 1, 0)} camera sites holding "
        f"{man.num('cameras/cameras', 1, 0)} cameras ({listed}); visibility model "
        f"<code>{escape(str(man.doc.get('cameras', {}).get('visibility', '')))}</code>."
        + _edits_words(run)
        + "</p>"
    )
    return "\n".join(words)


def _edits_words(run: RunEvidence) -> str:
    edits = run.manifest.doc.get("camera_edits", [])
    if not edits:
        return ""
    said = []
    for i, e in enumerate(edits):
        n = run.manifest.num(f"camera_edits/{i}/cameras", 1, 0)
        said.append(f"{escape(str(e.get('action', '')))} {n} sites")
    return " Camera edits of this scenario: " + "; ".join(said) + "."


def headline_table(run: RunEvidence) -> str:
    """The headline figures with their intervals and the spread across protesters."""
    summ = run.summary
    figs = summ.doc["figures"]
    rows = []
    for h in HEADLINES:
        if h.key not in figs:
            continue
        value = summ.num(f"figures/{h.key}/value", h.scale, h.decimals, h.unit)
        ci = summ.interval(f"figures/{h.key}/ci95", h.scale, h.decimals)
        spread = ""
        metric = h.key.rsplit(".", 1)[0]
        if h.key.endswith(".median") and f"{metric}.p10" in figs:
            spread = (
                f"{summ.num(f'figures/{metric}.p10/value', h.scale, h.decimals)} to "
                f"{summ.num(f'figures/{metric}.p90/value', h.scale, h.decimals)}"
            )
        rows.append(
            f"<tr><th scope='row'>{escape(h.label)}</th><td class='num'{WRAP}>{value}</td>"
            f"<td class='num'{WRAP}>{ci}</td><td class='num'{WRAP}>{spread}</td></tr>"
        )
    reps = summ.num("replications", 1, 0)
    shares = [
        f"'{escape(h.label)}' is the {escape(h.column.meaning)}"
        for h in HEADLINES
        if not h.key.endswith(".median") and h.key in figs
    ]
    return (
        "<table class='figures'><thead><tr><th>figure (per protester)</th><th>median</th>"
        "<th>95% interval</th><th>10th to 90th percentile of protesters</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class='caption'>Median over the protesters of each replication, averaged over "
        f"{reps} replications; the 95% interval is a bootstrap across replications. "
        + "".join(f"{s[0].upper()}{s[1:]}, averaged likewise. " for s in shares)
        + "</p>"
    )


def key_findings(run: RunEvidence) -> str:
    """Two sentences a reader remembers (medians: half of the protesters at least so much)."""
    summ = run.summary

    def median(key: str, unit: bool = True) -> str:
        h = Headline(key)
        return summ.num(f"figures/{key}/value", h.scale, h.decimals, h.unit if unit else "")

    return (
        "<p class='finding'>Half of the protesters spent at least "
        f"{median('seen_walk_s.median')} in view of a camera on their walk, and "
        f"{median('seen_total_s.median')} counting their time at the site; "
        f"{summ.num('figures/share_seen_at_all/value', 100, 1, '%')} of protesters "
        "were seen by at least one camera. Half were seen by at least "
        f"{median('distinct_cameras.median', unit=False)} distinct camera sites, and half "
        f"walked at least {median('share_surveilled_public.median')} of the way within reach "
        "of public cameras.</p>"
    )


def routes_table(run: RunEvidence) -> str:
    """The most used routes, from routes.parquet."""
    to_site = run.routes[run.routes["leg"] == "to site"]
    routes = to_site.head(ROUTES_SHOWN)
    file = run.summary.prefix + "routes.parquet"
    rows = []
    for i, r in enumerate(routes.itertuples(), 1):
        stations = escape(r.stations.replace(";", ", ")) if r.stations else "(all protesters)"
        rows.append(
            f"<tr><td class='num'>{i}</td><td>{escape(r.leg)}</td><td>{stations}</td>"
            f"<td class='num'>{tagged(file, f'rank={r.rank}/protesters_per_replication', r.protesters_per_replication, 1)}</td>"  # noqa: E501
            f"<td class='num'>{tagged(file, f'rank={r.rank}/length_m', r.length_m, 0)}</td>"
            f"<td class='num'>{tagged(file, f'rank={r.rank}/share_in_view', r.share_in_view * 100, 1)}</td></tr>"  # noqa: E501
        )
    total = len(run.routes)
    return (
        "<table class='routes'><thead><tr><th>rank</th><th>leg</th><th>from station</th>"
        "<th>protesters per replication</th><th>length (m)</th><th>% in view</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class='caption'>The {min(ROUTES_SHOWN, len(to_site))} most used routes to the site; "
        f"the run's {tagged(file, 'rows', total, 0)} distinct routes along the streets, there "
        "and back, are in <code>routes.parquet</code> (a route is its way along the street "
        f"network{_access_words(run)}). '% in view' is the share of the route's length in "
        "view of any camera.</p>"
    )


def _access_words(run: RunEvidence) -> str:
    """Where the first and last metres are, when the streets layer holds them."""
    streets = run.streets
    if "highway" not in streets or not (streets["highway"] == ACCESS_LAYER_HIGHWAY).any():
        return ""
    return (
        "; the first and last metres, from each exit to the street network and from the "
        "site's entrance to each standing point, are rows of the streets layer with "
        f"<code>highway = {escape(ACCESS_LAYER_HIGHWAY)}</code>"
    )


def camera_classes_table(run: RunEvidence) -> str:
    """Camera sites per class with their reach at each quality level (from cameras.csv)."""
    cams = run.cameras
    file = run.summary.prefix + "cameras.csv"
    classes = run.scenario.get("cameras", {}).get("classes", {})
    rows = []
    for cls, group in cams.groupby("class", sort=True):
        reach = [
            tagged(file, f"class={cls}/{col}/median", float(group[col].median()), 0)
            for col in ("seen_range_m", "recognition_range_m", "identification_range_m")
        ]
        note = escape(str(classes.get(cls, {}).get("source_note", "")))
        rows.append(
            f"<tr><th scope='row'>{escape(CLASS_WORDS.get(cls, cls))}</th>"
            f"<td class='num'>{tagged(file, f'class={cls}/rows', len(group), 0)}</td>"
            f"<td class='num'>{tagged(file, f'class={cls}/count/sum', float(group['count'].sum()), 0)}</td>"  # noqa: E501
            + "".join(f"<td class='num'>{r}</td>" for r in reach)
            + f"<td class='note'>{note}</td></tr>"
        )
    return (
        "<table class='classes'><thead><tr><th>camera class</th><th>sites</th><th>cameras</th>"
        "<th>seen (m)</th><th>recognition (m)</th><th>identification (m)</th>"
        "<th>where the reach comes from</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><p class='caption'>Reach: median over the class's sites of the "
        "distance within which a face is seen, recognised and identified (file "
        "<code>cameras.csv</code>).</p>"
    )


def credits(ev: Evidence, basemap: list[dict[str, Any]]) -> str:
    """Data credits, licences and checksums (from the manifests) and the basemap files."""
    seen: dict[str, dict[str, Any]] = {}
    for run in ev.runs:
        for f in run.manifest.doc.get("data_files", []):
            seen.setdefault(f["sha256"], f)
    for f in basemap:
        seen.setdefault(f["sha256"], {**f, "source": f["source"] + " (read for the report)"})
    rows = [
        f"<tr><td>{escape(f['source'])}</td><td>{escape(f.get('credit', ''))}</td>"
        f"<td>{escape(f.get('licence', ''))}</td><td>{escape(str(f.get('as_of', '')))}</td>"
        f"<td><code class='path'>{escape(str(f['path']).rsplit('/', 1)[-1])}</code><br>"
        f"<code class='sha'>{escape(f['sha256'])}</code></td></tr>"
        for f in seen.values()
    ]
    return (
        "<table class='credits'><thead><tr><th>source</th><th>credit</th><th>licence</th>"
        "<th>as of</th><th>file and SHA-256</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def reproduce(ev: Evidence) -> str:
    """The commands and versions that reproduce the results."""
    parts = []
    docs = [(ev.comparison, ev.folder)] if ev.comparison is not None else []
    docs += [(r.manifest, r.folder) for r in ev.runs]
    for source, folder in docs:
        d = source.doc
        versions = ", ".join(f"{k} {v}" for k, v in sorted(d.get("versions", {}).items()))
        commit = d.get("git_commit") or f"(none recorded in {source.name})"
        parts.append(
            f"<p><b>{escape(folder.name)}</b> ({escape(source.name)}): "
            f"<code>python {escape(str(d.get('command', '')))}</code><br>git commit "
            f"<code>{escape(commit)}</code>; {escape(versions)}</p>"
        )
    texts = "".join(
        f"<details><summary>scenario file of <code>{escape(r.name)}</code></summary>"
        f"<pre>{escape(r.manifest.doc.get('scenario_text', ''))}</pre></details>"
        for r in ev.runs
    )
    return "".join(parts) + texts


def sections(
    ev: Evidence,
    images: dict[str, str],
    map_html: str,
    basemap_files: list[dict[str, Any]],
    neighbourhood_html: str = "",
) -> tuple[str, str]:
    """The report's body (HTML) and extra table-of-contents links. ``images`` holds data URIs
    of the static figures; ``map_html`` is the interactive map (screen) or static maps (print).
    """
    run = ev.base
    toc = ""
    if ev.kind == "comparison":
        out = [
            "<section id='findings'><h2>Findings</h2>",
            comparison_headline(ev),
            "</section><section id='comparison'><h2>Every figure compared</h2>",
            comparison_table(ev),
            "</section>",
            f"<section id='baseline'><h2>The first scenario, <code>{escape(run.name)}</code></h2>",
            key_findings(run),
            headline_table(run),
            "</section>",
        ]
        toc = "<a href='#comparison'>Every figure compared</a>"
    else:
        out = [
            "<section id='findings'><h2>Findings</h2>",
            key_findings(run),
            headline_table(run),
            "</section>",
        ]
    out.append(map_html)
    out.append(
        "<section id='distribution'><h2>Distribution across the crowd</h2>"
        f"<img class='figure' alt='distribution of time in view' src='{images['distribution']}'>"
        "<p class='caption'>Each line is one scenario's protesters, all replications "
        "together (file <code>agents.parquet</code>).</p></section>"
    )
    of_first = f" of <code>{escape(run.name)}</code>" if ev.kind == "comparison" else ""
    out.append(
        f"<section id='routes'><h2>Most used routes{of_first}</h2>"
        + routes_table(run)
        + "</section>"
    )
    if neighbourhood_html:
        out.append(neighbourhood_html)
    out.append("<section id='question'><h2>The question and the scenario</h2>")
    out.append(question(ev))
    out.append("</section>")
    out.append(
        "<section id='limits'><h2>Assumptions and limits</h2>"
        + (f"<p>Camera classes of <code>{escape(run.name)}</code>:</p>" if of_first else "")
        + camera_classes_table(run)
        + limits(ev)
        + "</section>"
    )
    out.append(
        "<section id='credits'><h2>Data, credits and licences</h2>"
        + credits(ev, basemap_files)
        + "</section>"
    )
    out.append("<section id='reproduce'><h2>Reproduce</h2>" + reproduce(ev) + "</section>")
    return "\n".join(out), toc
