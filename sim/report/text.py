"""The report's words: HTML sections written from a folder's evidence. Every number is read from
the folder's files and tagged with the file and key it came from (class ``fig``)."""

from __future__ import annotations

from html import escape
from typing import Any

from sim.crowd.undercount import UNDERCOUNT_SHARE
from sim.exposure.camera_model import CLASS_WORDS
from sim.report.evidence import HEADLINES, Evidence, RunEvidence, Source, fmt

# Comparison table: figures per scenario, with their paired differences from the first.
COMPARE_FIGURES = (
    HEADLINES[0],  # walking
    HEADLINES[1],  # walk + rally
    HEADLINES[4],  # camera-minutes
    HEADLINES[2],  # share of the walk within reach of public cameras
    HEADLINES[3],  # seen at all
)
ROUTES_SHOWN = 8


def tagged(file: str, key: str, value: float, decimals: int, unit: str = "") -> str:
    """A number computed from a table file (CSV, Parquet), tagged with the file and a key
    saying how it was read."""
    return (
        f'<span class="fig" data-file="{escape(file)}" data-key="{escape(key)}" '
        f'data-decimals="{decimals}">{fmt(value, decimals)}</span>' + _unit(unit)
    )


def _unit(unit: str) -> str:
    return unit if unit == "%" else (f"&nbsp;{unit}" if unit else "")


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
        f"<b>{site}</b>, and of the rally there, happens in view of cameras whose footage "
        "police can run through facial recognition? This report answers it with an "
        "agent-based simulation on New York City's real street network, subway exits and "
        "camera records. Every figure below is read from the results folder it describes.</p>"
    ]
    for r in ev.runs:
        parts.append(_scenario_words(r))
    if ev.kind == "comparison":
        parts.append(
            "<p>The scenarios share the first one's seed and number of replications, so "
            "each replication of a scenario draws the same protesters, exits, departures and "
            "speeds as the same replication of the first: differences are paired.</p>"
        )
    return "\n".join(parts)


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
    back = "then leave the area"
    if dwell.get("disperse"):
        back = (
            "then walk back to the exit they came from"
            if dwell.get("disperse_to") == "origin"
            else "then walk to the exit nearest the site"
        )
    routing = {
        "shortest": "the shortest route",
        "least_exposed": "the least watched route within a detour cap",
        "stochastic": "one of several near-shortest routes (drawn per protester)",
    }.get(s.get("routing", {}).get("choice", ""), "their route")
    crowding = (
        ", slowed in dense streets (Weidmann's speed-density relation)"
        if s.get("walking", {}).get("crowding")
        else ""
    )
    march = ""
    if s.get("march", {}).get("to_site"):
        march = f" and march together to <code>{escape(s['march']['to_site'])}</code>"
    words.append(
        "<p>"
        f"{man.num('scenario_resolved/crowd/protesters', 1, 0)} protesters come out of "
        f"{man.num('origins/exits', 1, 0)} subway exits{where} and walk by {routing} to the "
        f"site, setting off over {_minutes(man, 'scenario_resolved/arrival/duration_s')}. "
        f"They rally for {_minutes(man, 'scenario_resolved/dwell/duration_s')} at random "
        f"points of the site area ({_area_words(man)})"
        f"{march}, {back}. Walking speeds average "
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
            f"<tr><th scope='row'>{escape(h.label)}</th><td class='num'>{value}</td>"
            f"<td class='num'>{ci}</td><td class='num'>{spread}</td></tr>"
        )
    reps = summ.num("replications", 1, 0)
    return (
        "<table class='figures'><thead><tr><th>figure (per protester)</th><th>median</th>"
        "<th>95% interval</th><th>10th to 90th percentile of protesters</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class='caption'>Median over the protesters of each replication, averaged over "
        f"{reps} replications; the 95% interval is a bootstrap across replications. "
        "'Seen at all' is a share of all protesters.</p>"
    )


def key_findings(run: RunEvidence) -> str:
    """Two sentences a reader remembers."""
    summ = run.summary
    return (
        "<p class='finding'>Half of the protesters spent at least "
        f"{summ.num('figures/seen_walk_s.median/value', 1 / 60, 1, 'minutes')} in view of a "
        "camera on their walk, and "
        f"{summ.num('figures/seen_total_s.median/value', 1 / 60, 1, 'minutes')} counting the "
        f"rally; {summ.num('figures/share_seen_at_all/value', 100, 1, '%')} of protesters "
        "were seen by at least one camera, and the typical protester passed "
        f"{summ.num('figures/distinct_cameras.median/value', 1, 0)} distinct camera sites "
        f"and walked {summ.num('figures/share_surveilled_public.median/value', 100, 1, '%')} "
        "of the way within reach of public cameras.</p>"
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
        "network; the first and last metres, from the exit to the street and from the site's "
        "entrance to each protester's standing point, are in the streets layer). '% in view' "
        "is the share of the route's length in view of any camera.</p>"
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


def comparison_table(ev: Evidence) -> str:
    """Each scenario's figures and their paired differences from the first."""
    comp = ev.comparison
    assert comp is not None
    head = "".join(f"<th colspan='2'>{escape(h.label)}</th>" for h in COMPARE_FIGURES)
    sub = "".join("<th>median [95%]</th><th>difference [95%]</th>" for _ in COMPARE_FIGURES)
    rows = []
    for i, entry in enumerate(comp.doc["scenarios"]):
        cells = []
        for h in COMPARE_FIGURES:
            base = f"scenarios/{i}/figures/{h.key}"
            value = comp.num(f"{base}/value", h.scale, h.decimals, h.unit)
            ci = comp.interval(f"{base}/ci95", h.scale, h.decimals)
            if i == 0:
                diff = "<span class='muted'>baseline</span>"
            else:
                d = f"scenarios/{i}/difference_from_base/{h.key}"
                unit = "pp" if h.unit == "%" else h.unit  # a difference of shares
                diff = (
                    comp.num(f"{d}/difference", h.scale, h.decimals, unit, signed=True)
                    + " "
                    + comp.interval(f"{d}/ci95", h.scale, h.decimals)
                )
            cells.append(f"<td class='num'>{value} {ci}</td><td class='num'>{diff}</td>")
        rows.append(
            f"<tr><th scope='row'><code>{escape(entry['name'])}</code></th>{''.join(cells)}</tr>"
        )
    return (
        "<div class='wide'><table class='comparison'><thead><tr><th rowspan='2'>scenario</th>"
        f"{head}</tr><tr>{sub}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f"<p class='caption'>Matched seeds (seed {comp.num('seed', 1, 0).replace(',', '')}, "
        f"{comp.num('replications', 1, 0)} replications each). A difference is the mean over "
        "replications of (scenario minus first scenario) in the same replication; brackets are "
        "bootstrap 95% intervals of that mean; pp: percentage points. Full table: "
        "<code>comparison.csv</code>.</p>"
    )


def limits(ev: Evidence) -> str:
    """The assumptions and limits that matter in a hearing."""
    run = ev.base
    reps = run.summary.num("replications", 1, 0)
    street = UNDERCOUNT_SHARE["public_street"]
    building = UNDERCOUNT_SHARE["private_building"]
    corrected = any(r.scenario.get("uncertainty", {}).get("undercount") for r in ev.runs)
    undercount = (
        "At least one scenario here corrects for it, dividing each replication's counts by a "
        "share drawn from those intervals (the drawn shares are in its manifest)."
        if corrected
        else "This run does not correct for it: its camera-minutes are lower bounds."
    )
    skipped = []
    for source, rec in sorted(run.manifest.doc.get("camera_records", {}).items()):
        for reason in sorted(rec.get("skipped", {})):
            num = run.manifest.num(f"camera_records/{source}/skipped/{reason}", 1, 0)
            skipped.append(f"{escape(source)}: {num} record(s) left out ({escape(reason)})")
    left_out = (
        f"<li>Camera records left out as faulty: {'; '.join(skipped)}.</li>" if skipped else ""
    )
    return (
        "<ul class='limits'>"
        "<li><b>Reach is assumed, and drives the figures.</b> Each class's reach is in the "
        "camera table above, with its source. A reach sweep changes the walking exposure far "
        "more than anything the simulation draws.</li>"
        "<li><b>Counts are undercounts.</b> The camera counts are volunteers' counts from "
        "street-level imagery (2007-2021). Amnesty's quality review found the volunteers saw "
        f"{fmt(street[0] * 100, 0)}% to {fmt(street[1] * 100, 0)}% of street cameras and "
        f"{fmt(building[0] * 100, 0)}% to {fmt(building[1] * 100, 0)}% of building cameras. "
        f"{undercount}</li>"
        "<li><b>Camera aim, height and operating state are unknown</b>: no source records "
        "them, so every camera is treated as seeing all around it within its reach. Where a "
        "camera faces away, the figures overstate; where cameras were missed, they "
        "understate.</li>"
        f"<li><b>What the intervals cover.</b> They measure only the simulation's own "
        f"randomness over {reps} replications (who comes from which exit, when, how fast). "
        "They do not include the uncertainty of the data: counts, reach, aim.</li>"
        "<li><b>Not walked</b>: the few metres from an exit to its street corner, and from "
        "the site's street corner to a protester's standing point.</li>"
        "<li>The camera file has no attachment data outside Brooklyn; public sites come from "
        "Amnesty's Ban the Scan map.</li>"
        f"{left_out}</ul>"
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
        commit = d.get("git_commit") or "(not recorded: not run from a git checkout)"
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
    out = ["<section id='findings'><h2>Findings</h2>", key_findings(run)]
    if ev.kind == "comparison":
        out.append("<p>Figures of the first scenario, the baseline:</p>")
    out.append(headline_table(run))
    out.append("</section>")
    toc = ""
    if ev.kind == "comparison":
        out.append("<section id='comparison'><h2>Counterfactuals compared</h2>")
        out.append(comparison_table(ev))
        out.append("</section>")
        toc = "<a href='#comparison'>Counterfactuals</a>"
    out.append(map_html)
    out.append(
        "<section id='distribution'><h2>Distribution across the crowd</h2>"
        f"<img class='figure' alt='distribution of time in view' src='{images['distribution']}'>"
        "<p class='caption'>Each line is one scenario's protesters, all replications "
        "together (file <code>agents.parquet</code>).</p></section>"
    )
    out.append("<section id='routes'><h2>Most used routes</h2>" + routes_table(run) + "</section>")
    if neighbourhood_html:
        out.append(neighbourhood_html)
    out.append("<section id='question'><h2>The question and the scenario</h2>")
    out.append(question(ev))
    out.append("</section>")
    out.append(
        "<section id='limits'><h2>Assumptions and limits</h2>"
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
