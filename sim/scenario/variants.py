"""Variants of a scenario: ``override()`` of dotted keys, and a ``[sweep]``'s one per value.

Each variant is validated like a file, and its text (what the manifest records) gains a
comment line saying what changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError, quoted
from sim.scenario.files import load_scenario
from sim.scenario.scenario import Scenario
from sim.scenario.validation import parse_scenario


def load_scenarios(path: str | Path) -> list[Scenario]:
    """A scenario file as one scenario, or one per value of its ``[sweep]``.

    ``[sweep] parameter = "cameras.classes.public_street.range_m"`` with
    ``values = [15, 60, 120, 200]`` gives four scenarios named ``<name>__range_m-15`` and so
    on, each validated like any scenario.
    """
    base = load_scenario(path)
    sweep = base.sweep
    if not sweep.parameter:
        if sweep.values:
            raise ScenarioError(
                f"{path}: key 'sweep.values' is given without 'sweep.parameter' (allowed: both, "
                "or neither)"
            )
        return [base]
    if not sweep.values:
        raise ScenarioError(f"{path}: key 'sweep.values': empty (allowed: a non-empty list)")
    keys = sweep.parameter.split(".")
    variants = []
    for value in sweep.values:
        suffix = f"{keys[-1]}-{value}".replace(".", "p")
        variants.append(
            override(
                base,
                {sweep.parameter: value, "name": f"{base.name}__{suffix}"},
                note=f"sweep variant: {sweep.parameter} = {value!r}",
                drop=("sweep",),
                where=f"sweep value {quoted(value)}",
            )
        )
    return variants


def override(
    scenario: Scenario,
    changes: Mapping[str, Any],
    note: str = "",
    drop: tuple[str, ...] = (),
    where: str = "",
) -> Scenario:
    """``scenario`` with some keys changed (dotted names), validated like a file.

    The scenario's text gains a comment line saying what changed (``note``, else the changes),
    so that the manifest of a run says exactly what ran. ``drop`` removes whole tables.
    """
    raw = copy.deepcopy(scenario.raw)
    for name in drop:
        raw.pop(name, None)
    for dotted, value in changes.items():
        keys = dotted.split(".")
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ScenarioError(
                    f"{scenario.path}: key {quoted(dotted)} does not name a key inside a table"
                )
        node[keys[-1]] = copy.deepcopy(value)
    what = note or ", ".join(f"{k} = {v!r}" for k, v in changes.items())
    text = f"{scenario.text}\n# override: {what}\n"
    return parse_scenario(raw, scenario.path, text, where=where or note)
