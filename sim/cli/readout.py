"""What `compare` prints and records, in the README's units: labels, matched draws, figures."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pandas as pd

from sim.columns import column


def _figure(name: str, decimals: int) -> tuple[str, str, float, int]:
    col = column(name)
    return (f"{name}.{col.headline_stat}", col.short, 1 / col.scale, decimals)


# (figure of stats.summarise, what a reader calls it, factor to the printed unit, decimals)
# The walk leads; the site is its own figure; the total says it adds the two.
COMPARE_FIGURES = [
    _figure("seen_walk_s", 1),
    _figure("share_surveilled", 1),
    _figure("seen_dwell_s", 1),
    _figure("seen_total_s", 1),
    _figure("camera_s", 0),
    _figure("share_surveilled_public", 1),
    ("share_seen_at_all", "% of protesters seen at all", 100, 1),
]


def run_labels(names: list[str], paths: list[Path]) -> list[str]:
    """A label per run that tells runs apart: the scenario name, with its file where two
    runs share a name, and a number where they share the file too."""
    by_name = Counter(names)
    labels = [
        name if by_name[name] == 1 else f"{name} ({_short(path)})"
        for name, path in zip(names, paths)
    ]
    seen: Counter[str] = Counter()
    counts = Counter(labels)
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if counts[label] == 1 else f"{label} #{seen[label]}")
    return out


def _short(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def matching(scenarios, first) -> list[dict[str, object]]:
    """Per scenario: its file's seed and replications and the ones the comparison uses."""
    return [
        {
            "scenario": s.name,
            "file": str(s.path),
            "seed_in_file": s.seed,
            "replications_in_file": s.replications,
            "seed_used": first.seed,
            "replications_used": first.replications,
            "changed": s.seed != first.seed or s.replications != first.replications,
        }
        for s in scenarios
    ]


def matching_lines(matched: list[dict[str, object]], base: str) -> list[str]:
    """The announcement of matched seeds and replications (one line, plus one per change)."""
    first = matched[0]
    lines = [
        f"compare: {len(matched)} runs, each with {base}'s seed {first['seed_used']} and "
        f"{first['replications_used']} replications (matched draws, so differences are paired)"
    ]
    for m in matched:
        if m["changed"]:
            lines.append(
                f"  note: {m['scenario']} ({m['file']}) runs with seed {m['seed_used']} and "
                f"{m['replications_used']} replications here; its file says seed "
                f"{m['seed_in_file']} and {m['replications_in_file']} replications, so "
                "running the file alone gives other figures"
            )
    return lines


def _num(value: float | None, factor: float, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value * factor:.{decimals}f}"


def _interval(low, high, factor: float, decimals: int) -> str:
    if low is None or pd.isna(low):
        return "(one replication)"
    return f"[{_num(low, factor, decimals)}, {_num(high, factor, decimals)}]"


def comparison_lines(table: pd.DataFrame, labels: list[str], sources: list[str]) -> list[str]:
    """Per run, each figure in the README's units with its 95% interval, and (after the
    first) its difference from the first run with the difference's interval."""
    lines = []
    width = max(len(label) for _, label, _, _ in COMPARE_FIGURES) + 2
    for k, (label, source) in enumerate(zip(labels, sources)):
        head = "base" if k == 0 else f"vs {labels[0]}"
        lines.append(f"[{chr(65 + k) if k < 26 else k}] {label}  ({source}; {head})")
        rows = table[table["scenario"] == label].set_index("figure")
        for figure, name, factor, decimals in COMPARE_FIGURES:
            r = rows.loc[figure]
            value = f"{_num(r.value, factor, decimals):>7s} "
            value += f"{_interval(r.ci95_low, r.ci95_high, factor, decimals):18s}"
            if k:
                diff = f"{'+' if r.difference > 0 else ''}{_num(r.difference, factor, decimals)}"
                interval = _interval(
                    r.difference_ci95_low, r.difference_ci95_high, factor, decimals
                )
                value += f" difference {diff:>7s} {interval}"
            lines.append(f"    {name:{width}s}{value}")
    lines.append("medians per protester; brackets: bootstrap 95% intervals across replications")
    return lines
