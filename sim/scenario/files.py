"""Scenario files: TOML read as UTF-8 text, ``base =`` inheritance merged table by table."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim import REPO_ROOT
from sim.data.textfiles import read_regular_file
from sim.errors import ScenarioError, quoted
from sim.scenario.scenario import Scenario
from sim.scenario.validation import parse_scenario

DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "washington_square.toml"
MAX_BASE_DEPTH = 8
# A scenario file is a few kilobytes; one larger than this is not a scenario.
MAX_SCENARIO_BYTES = 10_000_000


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is a one-line :class:`ScenarioError`."""
    path = Path(path)
    raw, text = _read_with_bases(path, ())
    try:
        return parse_scenario(raw, path, text)
    except RecursionError:  # a value nested deep enough to parse but not to check or copy
        raise ScenarioError(
            f"{path}: a value nested too deep (allowed: a scenario's tables, nested a few levels)"
        ) from None


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, not a scenario file")
    if not path.exists():
        raise ScenarioError(f"{path}: cannot read scenario file (No such file or directory)")
    data = read_regular_file(path, "a scenario file", ScenarioError, MAX_SCENARIO_BYTES)
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
    except RecursionError:
        raise ScenarioError(
            f"{path}: not valid TOML for a scenario (arrays or tables nested too deep to read; "
            "allowed: a scenario's tables, nested a few levels)"
        ) from None


def _read_with_bases(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], str]:
    """The file's table merged over its bases (``base = "..."``), and the texts of all."""
    raw, text = _read_toml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw, text
    if not isinstance(base, str) or not base:
        raise ScenarioError(
            f"{path}: key 'base': bad value {quoted(base)} (allowed: a scenario file path, "
            "relative to this file)"
        )
    try:
        base_path = (path.parent / base).resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        raise ScenarioError(
            f"{path}: key 'base': {quoted(base)} cannot be resolved (a loop of symbolic links; "
            "allowed: a scenario file path, relative to this file)"
        ) from None
    if base_path in chain or base_path == _resolved(path) or len(chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path}: key 'base': {quoted(base)} makes a cycle of base files")
    if base_path.exists() and not base_path.is_file():
        raise ScenarioError(
            f"{path}: key 'base': {quoted(base)} is a folder or special file, not a scenario "
            f"file ({base_path})"
        )
    if not base_path.is_file():
        raise ScenarioError(
            f"{path}: key 'base': {quoted(base)} not found (looked for {base_path})"
        )
    base_raw, base_text = _read_with_bases(base_path, (*chain, _resolved(path)))
    merged = merge_tables(base_raw, raw)
    return merged, f"{text}\n# ---- base: {base} ----\n{base_text}"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        raise ScenarioError(f"{path}: cannot be resolved (a loop of symbolic links)") from None


def merge_tables(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: tables merge key by key; other values replace."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_tables(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
