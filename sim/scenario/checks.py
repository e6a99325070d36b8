"""Checks of a scenario key's values, and ``key()``: a key's default with its check.

A check takes a value and returns None when it is allowed, else the words that end the
error message: ``... bad value 0 (allowed: <words>)``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import field
from typing import Any


def num(
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    integer: bool = False,
):
    """A checker for a number in [lo, hi] (or (lo, hi] with ``lo_open``)."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "a whole number" if integer else "a number"
        if integer and not isinstance(value, int):
            return "a whole number"
        if not math.isfinite(value):
            return "a finite number"
        if lo is not None and (value <= lo if lo_open else value < lo):
            return f"a number {'>' if lo_open else '>='} {lo}" + (f" and <= {hi}" if hi else "")
        if hi is not None and value > hi:
            return f"a number <= {hi}"
        return None

    return check


def choice(*options: str):
    def check(value: Any) -> str | None:
        return None if value in options else "one of " + ", ".join(repr(o) for o in options)

    return check


def typed(kind: type, what: str):
    """A checker for a value of ``kind`` (a bool is never taken for a number or a string)."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) and kind is not bool:
            return what
        return None if isinstance(value, kind) else what

    return check


def month_list(value: Any) -> str | None:
    ok = (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 12 for v in value)
    )
    return None if ok else "a non-empty list of months 1..12"


def str_list(value: Any) -> str | None:
    ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return None if ok else "a list of strings"


BOOL = typed(bool, "true or false")


def bool_or_auto(value: Any) -> str | None:
    return None if isinstance(value, bool) or value == "auto" else 'true, false or "auto"'


def key(default: Any, check: Any = None) -> Any:
    """A scenario key: its default and the check of its values (None: checked elsewhere)."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"check": check})
    return field(default=default, metadata={"check": check})


def bbox(value: Any) -> str | None:
    from sim.data.networks import bbox_problem

    if value == []:
        return None
    return bbox_problem(value) if isinstance(value, list) else "four numbers in a list"
