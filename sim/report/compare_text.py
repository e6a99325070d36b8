"""A comparison's words: what each scenario changed from the first (read from the runs' resolved
scenarios and camera edits) and by how much, with paired differences from comparison.json."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from sim.exposure.camera_model import CLASS_WORDS
from sim.report.evidence import COMPARE_FIGURES, COMPARE_HEADLINE, Evidence, Headline, RunEvidence
from sim.report.words import listing

# Keys of a resolved scenario that name or describe it rather than change what it models.
NOT_CHANGES = ("name", "description")
CHANGES_SHOWN = 6  # a scenario changing more keys names the first ones and counts the rest
ARROW = "\u2192"


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for k, v in doc.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: doc}


def _value(run: RunEvidence, key: str, v: Any) -> str:
    """A resolved scenario's value: a number tagged with the manifest key it was read from."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return escape(v if isinstance(v, str) else json.dumps(v))
    decimals = 0 if float(v).is_integer() else 2
    return run.manifest.num("scenario_resolved/" + key.replace(".", "/"), 1, decimals)


def _edit_words(run: RunEvidence, i: int) -> str:
    """Camera edit ``i`` of ``run``'s scenario in words, with what it did (the run's
    ``camera_edits`` log), every number tagged with the manifest key it was read from."""
    man = run.manifest
    edit = run.scenario["cameras"]["edits"][i]
    where = f"scenario_resolved/cameras/edits/{i}"
    j = next((k for k, e in enumerate(man.doc.get("camera_edits", [])) if e.get("edit") == i), None)
    if edit.get("action", "remove") == "add":
        n = f"{man.num(f'camera_edits/{j}/cameras', 1, 0)} " if j is not None else ""
        cls = str(edit.get("class", ""))
        return f"adds {n}hypothetical camera sites of class {escape(CLASS_WORDS.get(cls, cls))}"
    what = "camera sites"
    if j is not None:
        what = (
            f"{man.num(f'camera_edits/{j}/cameras', 1, 0)} camera sites "
            f"({man.num(f'camera_edits/{j}/camera_count', 1, 0)} cameras)"
        )
    criteria = []
    if edit.get("classes"):
        classes = [escape(CLASS_WORDS.get(c, c)) for c in edit["classes"]]
        criteria.append(f"of class {listing(classes, 'or')}")
    if edit.get("sources"):
        criteria.append(f"from {listing([escape(s) for s in edit['sources']], 'or')}")
    if edit.get("ids"):
        criteria.append(f"with ids {escape(', '.join(edit['ids']))}")
    if edit.get("within_m_of_site") is not None:
        criteria.append(f"within {man.num(f'{where}/within_m_of_site', 1, 0, 'm')} of the site")
    if edit.get("within_m_of_line") is not None:
        criteria.append(f"within {man.num(f'{where}/within_m_of_line', 1, 0, 'm')} of a line")
    if edit.get("top_k") is not None:
        criteria.append(f"the {man.num(f'{where}/top_k', 1, 0)} contributing most")
    return f"removes {what}" + (f" {' '.join(criteria)}" if criteria else "")


def changes(base: RunEvidence, other: RunEvidence) -> list[str]:
    """What ``other`` models differently from ``base``, in words: its camera edits, then every
    other key of its resolved scenario whose value differs."""
    a = {k: v for k, v in base.scenario.items() if k not in NOT_CHANGES}
    b = {k: v for k, v in other.scenario.items() if k not in NOT_CHANGES}
    said = []
    edits_a = a.get("cameras", {}).get("edits", [])
    edits_b = b.get("cameras", {}).get("edits", [])
    if edits_a != edits_b:
        said += [_edit_words(other, i) for i in range(len(edits_b))] or ["no camera edits"]
    flat_a, flat_b = _flat(a), _flat(b)
    for key in sorted(set(flat_a) | set(flat_b)):
        if key == "cameras.edits" or flat_a.get(key) == flat_b.get(key):
            continue
        said.append(
            f"<code>{escape(key)}</code> {_value(base, key, flat_a.get(key))} {ARROW} "
            f"{_value(other, key, flat_b.get(key))}"
        )
    if len(said) > CHANGES_SHOWN:
        rest = len(said) - CHANGES_SHOWN
        said = said[:CHANGES_SHOWN] + [f"{rest} more keys (its scenario file is under Reproduce)"]
    return said or ["no key of the scenario"]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _difference(ev: Evidence, i: int, h: Headline, unit: bool = True) -> str:
    comp = ev.comparison
    assert comp is not None
    d = f"scenarios/{i}/difference_from_base/{h.key}"
    shown = "pp" if h.unit == "%" else h.unit  # a difference of shares: percentage points
    return (
        comp.num(f"{d}/difference", h.scale, h.decimals, shown if unit else "", signed=True)
        + " "
        + comp.interval(f"{d}/ci95", h.scale, h.decimals)
    )


def _value_of(ev: Evidence, i: int, h: Headline, interval: bool = True, unit: bool = True) -> str:
    comp = ev.comparison
    assert comp is not None
    base = f"scenarios/{i}/figures/{h.key}"
    shown = comp.num(f"{base}/value", h.scale, h.decimals, h.unit if unit else "")
    return shown + (" " + comp.interval(f"{base}/ci95", h.scale, h.decimals) if interval else "")


def _breakable(name: str) -> str:
    """A scenario name that may wrap after its underscores (a narrow screen's table head)."""
    return escape(name).replace("_", "_<wbr>")


def _cell(html: str) -> str:
    """A figure and its interval, one above the other; on a narrow screen the interval may
    wrap after its comma (so the table fits a phone's width)."""
    return f"<td class='num' style='white-space: normal'>{html.replace(' [', '<br>[', 1)}</td>"


def comparison_headline(ev: Evidence) -> str:
    """Per scenario after the first: what it changed, and the headline figures from the first
    to it with the paired difference and its 95% interval."""
    out = []
    first = ev.runs[0]
    for i, run in enumerate(ev.runs[1:], 1):
        figures = "".join(
            f"<br>{escape(_capital(h.short))}: {_value_of(ev, 0, h, False)} {ARROW} "
            f"{_value_of(ev, i, h, False)}, difference {_difference(ev, i, h)}."
            for h in COMPARE_HEADLINE
        )
        out.append(
            f"<p class='finding'>What <code>{escape(run.name)}</code> changes from "
            f"<code>{escape(first.name)}</code>: {'; '.join(changes(first, run))}.{figures}</p>"
        )
    return "".join(out)


def comparison_table(ev: Evidence) -> str:
    """For each scenario after the first, one row per figure: the first scenario's value, this
    scenario's, and the paired difference, each with its 95% interval."""
    comp = ev.comparison
    assert comp is not None
    first = _breakable(ev.runs[0].name)
    tables = []
    for i, run in enumerate(ev.runs[1:], 1):
        rows = []
        for h in COMPARE_FIGURES:
            # a share keeps its short '%' (and 'pp') in the cells; other units go with the label
            pct = h.unit == "%"
            label = escape(h.short) + ("" if pct else f" ({escape(h.unit)})")
            rows.append(
                f"<tr><th scope='row'>{label}</th>"
                + _cell(_value_of(ev, 0, h, unit=pct))
                + _cell(_value_of(ev, i, h, unit=pct))
                + _cell(_difference(ev, i, h, unit=pct))
                + "</tr>"
            )
        tables.append(
            "<table class='comparison'><thead><tr><th>figure</th>"
            f"<th>first: <code>{first}</code></th><th><code>{_breakable(run.name)}</code></th>"
            f"<th>difference [95%]</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    shares = [
        f"'{escape(h.short)}' is the {escape(h.column.meaning)}"
        for h in COMPARE_FIGURES
        if not h.key.endswith(".median")
    ]
    return "".join(tables) + (
        "<p class='caption'>Each figure is the median over the protesters of each replication, "
        "averaged over replications" + "".join(f"; {s}, averaged likewise" for s in shares) + ". "
        f"Matched seeds (seed {comp.num('seed', 1, 0).replace(',', '')}, "
        f"{comp.num('replications', 1, 0)} replications each). A difference is the mean over "
        "replications of (scenario minus first scenario) in the same replication; brackets are "
        "bootstrap 95% intervals; pp: percentage points. Full table: "
        "<code>comparison.csv</code>.</p>"
    )
