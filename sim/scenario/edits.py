"""The shape of a scenario's ``[[cameras.edits]]`` tables, checked before anything is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.data.cameras import CAMERA_SOURCES
from sim.errors import ScenarioError, quoted
from sim.exposure.camera_model import CAMERA_CLASSES
from sim.geo import in_nyc

EDIT_KEYS = {
    "action": "remove or add",
    "classes": "a list of camera classes",
    "sources": "a list of camera sources",
    "ids": "a list of camera ids",
    "within_m_of_site": "metres > 0",
    "line": "a list of [lat, lon] points (at least two)",
    "within_m_of_line": "metres > 0",
    "top_k": "a whole number >= 1",
    "points": "a list of [lat, lon] points",
    "class": "a camera class",
    "count": "cameras per added site, a number > 0",
}


def validate_edits(edits: list[Any], path: Path) -> None:
    """Check the shape of every ``[[cameras.edits]]`` table; names file, key and value."""
    for i, edit in enumerate(edits):
        where = f"{path}: key 'cameras.edits[{i}]"
        if not isinstance(edit, dict):
            raise ScenarioError(f"{where}' must be a table")
        for key in edit:
            if key not in EDIT_KEYS:
                raise ScenarioError(
                    f"{where}.{key}': unknown key (allowed: {', '.join(EDIT_KEYS)})"
                )
        action = edit.get("action", "remove")
        if action not in ("remove", "add"):
            raise ScenarioError(
                f"{where}.action': bad value {quoted(action)} (allowed: 'remove', 'add')"
            )
        for cls in edit.get("classes", []) + ([edit["class"]] if "class" in edit else []):
            if cls not in CAMERA_CLASSES:
                raise ScenarioError(
                    f"{where}': unknown camera class {quoted(cls)} "
                    f"(allowed: {', '.join(CAMERA_CLASSES)})"
                )
        for src in edit.get("sources", []):
            if src not in CAMERA_SOURCES:
                raise ScenarioError(
                    f"{where}.sources': unknown source {quoted(src)} (allowed: "
                    f"{', '.join(CAMERA_SOURCES)})"
                )
        for key in ("within_m_of_site", "within_m_of_line", "count"):
            value = edit.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ScenarioError(
                    f"{where}.{key}': bad value {quoted(value)} (allowed: {EDIT_KEYS[key]})"
                )
        if "top_k" in edit:
            k = edit["top_k"]
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise ScenarioError(
                    f"{where}.top_k': bad value {quoted(k)} (allowed: a whole number >= 1)"
                )
        if ("line" in edit) != ("within_m_of_line" in edit):
            raise ScenarioError(f"{where}': 'line' and 'within_m_of_line' go together")
        for key in ("line", "points"):
            if key in edit:
                _points(edit[key], f"{where}.{key}'", 2 if key == "line" else 1)
        if action == "add" and ("points" not in edit or "class" not in edit):
            raise ScenarioError(f"{where}': an 'add' edit needs 'points' and 'class'")
        if action == "remove" and not any(
            k in edit for k in ("classes", "sources", "ids", "within_m_of_site", "line", "top_k")
        ):
            raise ScenarioError(
                f"{where}': a 'remove' edit needs at least one of classes, "
                "sources, ids, within_m_of_site, line, top_k"
            )


def _points(value: Any, where: str, minimum: int) -> np.ndarray:
    ok = (
        isinstance(value, list)
        and len(value) >= minimum
        and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
            for p in value
        )
    )
    arr = np.array(value, float) if ok else None
    if not ok or not in_nyc(arr[:, 0], arr[:, 1]).all():
        raise ScenarioError(
            f"{where}: bad value {quoted(value)} (allowed: at least {minimum} "
            "[lat, lon] points in New York City)"
        )
    return arr
