"""The report's limits, each written from the facts its run's manifest and tables record (what
the model assumed, as the run recorded it), never from fixed sentences about the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from sim.exposure.camera_model import CLASS_WORDS
from sim.report.evidence import Evidence, RunEvidence, lookup
from sim.report.words import listing, tagged

# Things a reader may think block a camera's view; each not among the run's recorded
# occluders is said to block nothing.
COMMON_OBSTACLES = ("trees", "vehicles", "scaffolding", "crowds")
# What a camera's record would need to say for its aim, height and working state to be known:
# the words of each, and column names that would hold it.
UNRECORDED = {
    "where it points": ("aim", "heading", "azimuth", "direction", "pan"),
    "how high it is": ("height", "elevation", "mount"),
    "whether it works": ("status", "working", "operat", "active"),
}
# How a camera world aims its cameras (scenario key cameras.aim), in a reader's words.
AIM_RULE_WORDS = {
    "streets": "along one of the streets that meet at its site",
    "uniform": "any bearing alike",
}
COUNT_SOURCE_WORDS = {
    "amnesty": "carry the volunteers' counts",
    "site": "are listed without a count and count as one camera each",
    "edit": "were added by the scenario",
}


@dataclass(frozen=True)
class Limit:
    """One limit of a run: a key tests and comparisons know it by, and its HTML."""

    key: str
    html: str

    @property
    def text(self) -> str:
        """The words a reader sees (tags removed)."""
        return plain(self.html)


def plain(html: str) -> str:
    """HTML as the words a reader sees: tags removed, entities and spaces made plain."""
    text = re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ")
    text = text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"')
    return re.sub(r"\s+", " ", text).strip()


def fact(run: RunEvidence, path: str) -> Any:
    """The manifest's value at ``path``, or None where it is not recorded."""
    try:
        return lookup(run.manifest.doc, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def not_recorded(title: str, path: str) -> str:
    return (
        f"<b>{title}</b>: not recorded in this run's manifest (no key <code>{escape(path)}</code>: "
        "the run was written by an earlier version); run its scenario again for it."
    )


def _file_name(run: RunEvidence, source: str) -> str:
    f = run.data_sources().get(source)
    return str(f["path"]).rsplit("/", 1)[-1] if f else source


# ------------------------------------------------------------------------------------- limits


def reach(run: RunEvidence) -> str:
    """Each camera class's reach as the scenario set it, and that it is the same throughout."""
    man = run.manifest
    used = sorted(set(run.cameras["class"]))
    parts = []
    for cls in used:
        base = f"scenario_resolved/cameras/classes/{cls}"
        params = fact(run, base)
        if params is None:
            parts.append(f"{escape(CLASS_WORDS.get(cls, cls))}: not recorded")
            continue
        if params.get("range_m") is not None:
            how = f"{man.num(base + '/range_m', 1, 0, 'm')}, set directly"
        else:
            how = (
                f"from {man.num(base + '/h_pixels', 1, 0)} pixels across "
                f"{man.num(base + '/hfov_deg', 1, 0)} degrees"
            )
            if params.get("max_range_m") is not None:
                how += f", at most {man.num(base + '/max_range_m', 1, 0, 'm')}"
        note = escape(str(params.get("source_note", "")))
        parts.append(f"{escape(CLASS_WORDS.get(cls, cls))}: {how}" + (f" ({note})" if note else ""))
    return (
        "<b>Reach is assumed, not measured.</b> How far a camera of each class sees a face is "
        f"set by the scenario: {'; '.join(parts)}. The camera table above gives each class's "
        "distances for a face seen, recognised and identified. Every replication uses the same "
        "reach, so the intervals do not include its uncertainty."
    )


def counts(run: RunEvidence) -> str:
    """Where the camera counts come from, Amnesty's undercount, and whether the run corrects."""
    man = run.manifest
    by_source = fact(run, "cameras/by_count_source") or {}
    said = [
        f"{man.num(f'cameras/by_count_source/{k}', 1, 0)} "
        f"{escape(COUNT_SOURCE_WORDS.get(k, f'have counts from {k}'))}"
        for k in sorted(by_source, key=lambda k: -by_source[k])
    ]
    words = (
        f"<b>Counts.</b> Of the {man.num('cameras/sites', 1, 0)} camera sites in use, "
        f"{listing(said)}."
    )
    under = fact(run, "undercount")
    if not by_source.get("amnesty"):
        return words
    if under is None:
        return words + " " + not_recorded("Their undercount", "undercount")
    counted = run.data_sources().get("amnesty_counts", {})
    if counted:
        words += (
            f" The volunteers' counts are {escape(counted.get('credit', ''))} "
            f"(file as of {escape(str(counted.get('as_of', '')))})."
        )
    classes = sorted(set(run.cameras["class"]) & set(under.get("share_counted", {})))
    shares = [
        f"{man.num(f'undercount/share_counted/{c}/0', 100, 0, '%')} to "
        f"{man.num(f'undercount/share_counted/{c}/1', 100, 0, '%')} for "
        f"{escape(CLASS_WORDS.get(c, c))}"
        for c in classes
    ]
    if shares:
        words += (
            f" They are undercounts. {escape(under.get('source', ''))}: "
            f"{escape(under.get('share_counted_means', ''))}: {listing(shares)}."
        )
    if under.get("corrected"):
        words += (
            " This run corrects for it: each replication divides the volunteers' counts by a "
            "share drawn from those intervals (the shares drawn are in its manifest, "
            "<code>undercount_shares</code>)."
        )
    else:
        words += (
            " This run does not correct for it: its counts, and the camera-minutes built on "
            "them, are lower bounds."
        )
    if under.get("count_multiplier", 1.0) != 1.0:
        words += (
            f" Every count is multiplied by {man.num('undercount/count_multiplier', 1, 2)} "
            "(the scenario's <code>uncertainty.count_multiplier</code>)."
        )
    return words


def aim(run: RunEvidence) -> str:
    """What a camera's record holds, and whether the model gives cameras an aim."""
    columns = [str(c) for c in run.cameras.columns]
    unknown = [
        words
        for words, names in UNRECORDED.items()
        if not any(n in c.lower() for c in columns for n in names)
    ]
    held = ", ".join(f"<code>{escape(c)}</code>" for c in columns)
    words = (
        "<b>What a camera's record holds.</b> Each camera site in <code>cameras.csv</code> "
        f"has {held}"
    )
    words += f"; nothing says {listing(unknown, 'or')}." if unknown else "."
    has_aim = fact(run, "sightlines/cameras_have_aim")
    if has_aim is None:
        return words + " " + not_recorded("Whether cameras have an aim", "sightlines")
    model = escape(str(fact(run, "sightlines/model")))
    if has_aim:
        rule = fact(run, "sightlines/aim_rule")
        how = AIM_RULE_WORDS.get(str(rule), "")
        return words + (
            " Each replication is a camera world: it gives each camera an aim"
            + (f" ({how})" if how else "")
            + ", a lens (its field of view, hence its reach) and whether it works, drawn from "
            "its class's prior (<code>camera_worlds</code> in <code>manifest.json</code>), so "
            "the figures' ranges across replications hold these unknowns. Amnesty's route-tool "
            "geometry, every camera seeing in every direction, working, at its class reach, is "
            "their upper bound."
        )
    return words + (
        f" The visibility model <code>{model}</code> gives no camera an aim: each sees in every "
        "direction within its reach. Where a camera faces away, the figures overstate; where "
        "cameras were missed, they understate."
    )


def sightlines(run: RunEvidence) -> str:
    """What the visibility model lets a camera see, and every kind of thing that blocks it."""
    facts = fact(run, "sightlines")
    if facts is None:
        return not_recorded("What blocks a camera's view", "sightlines")
    model = escape(str(facts.get("model", "")))
    rule = escape(str(facts.get("rule", "")))
    occluders = facts.get("occluders") or []
    whats = [str(o.get("what", "")) for o in occluders]
    free = [o for o in COMMON_OBSTACLES if not any(o in w for w in whats)]
    if not occluders:
        return (
            f"<b>Nothing blocks a camera's view.</b> Visibility model <code>{model}</code>: "
            f"{rule}. Buildings{', ' + ', '.join(free) if free else ''} and everything else are "
            "ignored, so the figures overstate wherever something stands between a camera and a "
            "protester."
        )
    said = []
    for o in occluders:
        what = escape(str(o.get("what", "")))
        detail = [escape(str(o[k])) for k in ("where", "how") if o.get(k)]
        if o.get("source"):
            detail.append(f"file <code>{escape(_file_name(run, o['source']))}</code>")
        said.append(what + (f" ({'; '.join(detail)})" if detail else ""))
    words = (
        f"<b>What blocks a camera's view.</b> Visibility model <code>{model}</code>: {rule}. "
        f"Open space: {escape(str(facts.get('open_space', '')))}. Only "
        f"{listing(said)} block a sightline."
    )
    if free:
        words += f" {listing(free).capitalize()} are not in the model and block nothing"
        if "trees" in free and "buildings" in whats:
            words += ": a park is open ground to every camera within reach that can see into it"
        words += "."
    return words


def first_and_last_metres(run: RunEvidence) -> str:
    """Whether the walks between exits and streets, and within the site, are walked and counted."""
    man = run.manifest
    facts = fact(run, "first_and_last_metres")
    if not facts or "walked" not in facts:
        return not_recorded("The first and last metres", "first_and_last_metres/walked")
    if not facts["walked"]:
        return (
            "<b>Not walked:</b> the stretches from each subway exit to the street network and "
            "from the site's node to a protester's standing point; time in view there is not "
            "counted."
        )
    e, s = (
        "first_and_last_metres/exit_to_network_m",
        "first_and_last_metres/site_node_to_standing_point_m",
    )
    counted = (
        "time in view on them counts like any street's"
        if facts.get("in_exposure")
        else "but time in view on them is not counted"
    )
    return (
        "<b>The first and last metres are walked</b>, and "
        f"{counted}: from each of the {man.num(e + '/exits', 1, 0)} subway exits to the street "
        f"network (median {man.num(e + '/median', 1, 0, 'm')}, at most "
        f"{man.num(e + '/max', 1, 0, 'm')}), and from the street-network node where protesters "
        f"enter the site ({man.num('site/snap_m', 1, 0, 'm')} from the site's point) to each of "
        f"{man.num(s + '/standing_points', 1, 0)} standing points (median "
        f"{man.num(s + '/median', 1, 0, 'm')}, at most {man.num(s + '/max', 1, 0, 'm')})."
    )


def site_area(run: RunEvidence) -> str:
    """Where protesters stand: the site area as the run drew it."""
    man = run.manifest
    area = fact(run, "site_area") or {}
    if area.get("mode") == "streets":
        return (
            f"<b>The site's area is drawn from the street network</b>, not from an official "
            f"outline: {escape(str(area.get('note', '')))}; "
            f"{man.num('site_area/area_m2', 1, 0, 'm2')}."
        )
    return (
        "<b>The site's area is a disk</b> of radius "
        f"{man.num('site/radius_m', 1, 0, 'm')} around the site's point, not its real outline."
    )


def dwell(run: RunEvidence) -> str:
    """How protesters spend their time at the site, from the scenario and the agents' table."""
    man = run.manifest
    file = run.summary.prefix + "agents.parquet"
    agents = run.agents
    minutes = man.num("scenario_resolved/dwell/duration_s", 1 / 60, 0, "min")
    seen = agents["seen_dwell_s"].to_numpy(float)
    stay = agents["dwell_s"].to_numpy(float)
    share = float((seen > 0).mean() * 100) if len(seen) else 0.0
    whole = bool(len(seen)) and bool(((seen == 0) | np.isclose(seen, stay)).all())
    words = (
        f"<b>At the site</b> each protester stays {minutes} at one standing point. "
        f"{tagged(file, 'share of rows with seen_dwell_s > 0', share, 1, '%')} of protesters "
        "were in view of a camera there"
    )
    if whole and share > 0:
        words += (
            ", each for the whole stay (<code>seen_dwell_s</code> is 0 or the stay for every "
            "protester): the time at the site rests on whether a standing point is in view."
        )
    else:
        words += "."
    return words


def intervals(run: RunEvidence) -> str:
    """What the intervals measure (the run's own draws) and what they leave out."""
    reps = run.summary.num("replications", 1, 0)
    drawn = fact(run, "drawn_per_replication")
    if drawn is None:
        return not_recorded("What the intervals cover", "drawn_per_replication")
    left_out = ["camera reach", "aim"]
    if not fact(run, "undercount/corrected"):
        left_out.insert(0, "camera counts")
    return (
        f"<b>What the intervals cover.</b> Only the simulation's own randomness over {reps} "
        f"replications, each drawing anew {listing([escape(d) for d in drawn])}. They leave "
        f"out the uncertainty of the data ({listing(left_out)})."
    )


def exits(run: RunEvidence) -> str:
    """How protesters are spread over stations and exits."""
    man = run.manifest
    o = "scenario_resolved/origins"
    weights = str(fact(run, f"{o}/weights") or "")
    words = {
        "equal": "every exit sends the same share of protesters",
        "distance": (
            "exits send protesters in proportion to exp(-distance to the site / "
            f"{man.num(f'{o}/distance_decay_m', 1, 0, 'm')})"
        ),
        "station": "every station sends the same share of protesters",
        "ridership": (
            "stations send protesters in proportion to their riders (MTA ridership "
            f"{escape(str(fact(run, 'origins/ridership/year')))}, months "
            f"{escape(', '.join(map(str, fact(run, 'origins/ridership/months') or [])))})"
        ),
        "given": "the scenario gives each named station's share, split equally over its exits",
    }.get(weights, f"origins weighted by <code>{escape(weights)}</code>")
    text = f"<b>Where protesters come from is assumed:</b> {words}"
    if weights in ("station", "ridership"):
        text += (
            "; within a station, which exit a protester uses is assumed too: the station's share "
            "is split over its exits by their distance to the site (decay "
            f"{man.num('origins/exit_split_decay_m', 1, 0, 'm')})"
        )
    return text + "."


def camera_layers(run: RunEvidence) -> str:
    """Which camera layers the run used, where each site's class comes from, and which sites
    were left out for reach."""
    man = run.manifest
    layers = fact(run, "camera_layers")
    if layers is None:
        return not_recorded("Which cameras", "camera_layers")
    said = []
    for layer in layers:
        cls = str(layer.get("class", ""))
        cls_words = escape(CLASS_WORDS.get(cls, cls))
        counted = (
            f", counted from <code>{escape(layer['counts_from'])}</code>"
            if layer.get("counts_from")
            else ""
        )
        said.append(
            f"<code>{escape(layer['source'])}</code> ({escape(layer.get('holds', ''))}; class: "
            f"{cls_words}{counted})"
        )
    words = f"<b>Which cameras.</b> Camera sites come from {listing(said)}."
    if fact(run, "camera_account/cannot_see_study_area/sites") is not None:
        words += (
            f" {man.num('camera_account/cannot_see_study_area/sites', 1, 0)} other sites of these "
            "layers are left out: "
            f"{escape(str(fact(run, 'camera_account/cannot_see_study_area/reason')))} (listed in "
            "<code>manifest.json</code>)."
        )
    return words


def records_left_out(run: RunEvidence) -> str | None:
    """Camera records the readers left out as faulty, per source and reason."""
    skipped = []
    for source, rec in sorted((fact(run, "camera_records") or {}).items()):
        for reason in sorted(rec.get("skipped", {})):
            num = run.manifest.num(f"camera_records/{source}/skipped/{reason}", 1, 0)
            skipped.append(f"{escape(source)}: {num} record(s) left out ({escape(reason)})")
    if not skipped:
        return None
    return f"<b>Camera records left out as faulty</b>: {'; '.join(skipped)}."


# Every limit, in the order a reader meets them; a function returns None where it says nothing.
LIMITS: dict[str, Callable[[RunEvidence], str | None]] = {
    "reach": reach,
    "counts": counts,
    "aim": aim,
    "sightlines": sightlines,
    "intervals": intervals,
    "first_and_last_metres": first_and_last_metres,
    "site_area": site_area,
    "dwell": dwell,
    "exits": exits,
    "camera_layers": camera_layers,
    "records_left_out": records_left_out,
}


def run_limits(run: RunEvidence) -> list[Limit]:
    """The limits of one run, each written from its manifest and tables."""
    out = []
    for key, write in LIMITS.items():
        html = write(run)
        if html:
            out.append(Limit(key, html))
    return out


def limits(ev: Evidence) -> str:
    """The limits as a list. In a comparison, a limit that reads the same for every scenario is
    said once; one that differs is said for each scenario, named."""
    per_run = [{lim.key: lim for lim in run_limits(r)} for r in ev.runs]
    items = []
    for key in LIMITS:
        said = [(r, lims[key]) for r, lims in zip(ev.runs, per_run) if key in lims]
        if not said:
            continue
        if len(ev.runs) == 1 or (
            len(said) == len(ev.runs) and len({lim.text for _, lim in said}) == 1
        ):
            items.append(f"<li data-limit='{key}'>{said[0][1].html}</li>")
            continue
        for r, lim in said:
            items.append(f"<li data-limit='{key}'><code>{escape(r.name)}</code>: {lim.html}</li>")
    return "<ul class='limits'>" + "".join(items) + "</ul>"
