"""Small pieces of the report's words: numbers read from table files tagged with their file and
key, and lists joined as a sentence joins them."""

from __future__ import annotations

from html import escape

from sim.report.evidence import fmt


def tagged(file: str, key: str, value: float, decimals: int, unit: str = "") -> str:
    """A number computed from a table file (CSV, Parquet), tagged with the file and a key
    saying how it was read."""
    return (
        f'<span class="fig" data-file="{escape(file)}" data-key="{escape(key)}" '
        f'data-decimals="{decimals}">{fmt(value, decimals)}</span>' + unit_html(unit)
    )


def unit_html(unit: str) -> str:
    """A unit after a number: '%' close up, any other after a non-breaking space."""
    return unit if unit == "%" else (f"&nbsp;{unit}" if unit else "")


def listing(items: list[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
