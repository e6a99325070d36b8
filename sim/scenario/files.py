"""Scenario files: TOML read as UTF-8 text, ``base =`` inheritance merged table by table."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim import REPO_ROOT
from sim.errors import ScenarioError
from sim.scenario.scenario import Scenario
from sim.scenario.validation import parse_scenario

DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "washington_square.toml"
MAX_BASE_DEPTH = 8


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is a one-line :class:`ScenarioError`."""
    path = Path(path)
    raw, text = _read_with_bases(path, ())
    return parse_scenario(raw, path, text)


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: not a UTF-8 text file (byte {exc.start}: {data[exc.start]:#04x}); "
            "a scenario is a TOML text file"
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None


def _read_with_bases(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], str]:
    """The file's table merged over its bases (``base = "..."``), and the texts of all."""
    raw, text = _read_toml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw, text
    if not isinstance(base, str) or not base:
        raise ScenarioError(
            f"{path}: key 'base': bad value {base!r} (allowed: a scenario file path, relative "
            "to this file)"
        )
    base_path = (path.parent / base).resolve()
    if base_path in chain or base_path == path.resolve() or len(chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path}: key 'base': {base!r} makes a cycle of base files")
    if not base_path.is_file():
        raise ScenarioError(f"{path}: key 'base': {base!r} not found (looked for {base_path})")
    base_raw, base_text = _read_with_bases(base_path, (*chain, path.resolve()))
    merged = merge_tables(base_raw, raw)
    return merged, f"{text}\n# ---- base: {base} ----\n{base_text}"


def merge_tables(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: tables merge key by key; other values replace."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_tables(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
