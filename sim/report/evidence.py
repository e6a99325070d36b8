"""The evidence in a finished run or comparison folder, read from its own files: figures with
the file and key each comes from, tables, layers and provenance, ready for a report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from sim.columns import Column, figure_column, headline
from sim.errors import InputError, quoted
from sim.outputs.report_inputs import (
    REPORT_INPUT_FILES,
    ReportInputs,
    missing_report_inputs,
    old_folder_message,
    read_report_inputs,
)

# What a finished run folder holds (this version's runs write every one of them).
RUN_FILES = (
    "summary.json",
    "manifest.json",
    "agents.parquet",
    "cameras.csv",
    "streets.parquet",
    "routes.parquet",
    "camera_edits.csv",
    *REPORT_INPUT_FILES,
)
COMPARISON_FILES = ("comparison.json", "comparison.csv")
AGENT_COLUMNS = (
    "replication",
    "seen_walk_s",
    "seen_dwell_s",
    "seen_total_s",
    "camera_s",
    "dwell_s",
)


# How many decimals the report shows, by the unit a reader sees (default: one).
DECIMALS_BY_UNIT = {"sites": 0, "m": 0}


@dataclass(frozen=True)
class Headline:
    """One figure of ``summary.json`` as the report shows it. Its words, unit and scale are
    its column's (``sim.columns``, the one home of labels and units)."""

    key: str  # e.g. "seen_walk_s.median", "share_seen_at_all"

    @property
    def column(self) -> Column:
        return figure_column(self.key)

    @property
    def label(self) -> str:
        """The words the run's printout gives the figure (its meaning where it has none)."""
        return self.column.label or self.column.meaning

    @property
    def short(self) -> str:
        """The figure's short name, where the context says the rest (a comparison's rows)."""
        return self.column.short or self.label

    @property
    def unit(self) -> str:
        return self.column.show_unit or self.column.unit

    @property
    def scale(self) -> float:
        """Displayed value = stored value x scale."""
        return 1.0 / self.column.scale

    @property
    def decimals(self) -> int:
        return DECIMALS_BY_UNIT.get(self.unit, 1)


# The figures a hearing asks for first, in the order the run's printout gives them (medians
# across the crowd of each replication, or the statistic the column names, averaged over
# replications), then the share seen at all, never seen at the site, and the distance walked.
HEADLINES = (
    *(Headline(f"{c.name}.{c.headline_stat}") for c in headline()),
    Headline("share_seen_at_all"),
    Headline("share_never_seen_standing"),
    Headline("walk_m.median"),
)
# The figures a comparison shows, as ``compare`` prints them, and those its headline leads with.
COMPARE_FIGURES = tuple(
    Headline(k)
    for k in (
        "seen_walk_s.median",
        "share_surveilled.median",
        "seen_dwell_s.mean",
        "seen_total_s.median",
        "camera_s.median",
        "share_surveilled_public.median",
        "share_seen_at_all",
    )
)
COMPARE_HEADLINE = tuple(Headline(k) for k in ("seen_walk_s.median", "share_seen_at_all"))


def lookup(doc: Any, path: str) -> Any:
    """The value at ``path`` (keys and list indices joined by '/') inside a JSON document."""
    for part in path.split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def fmt(value: float, decimals: int, signed: bool = False) -> str:
    """A number as the report prints it: thousands separators, fixed decimals."""
    text = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    return "0" + ("." + "0" * decimals if decimals else "") if text.strip("+-0.,") == "" else text


@dataclass
class Source:
    """A JSON file of the folder whose values the report's text quotes."""

    name: str  # file name inside the folder, e.g. 'summary.json'
    doc: dict[str, Any]
    prefix: str = ""  # for a comparison's runs: their folder, relative to the report
    path: Path | None = None  # the file, for error messages

    @property
    def where(self) -> str:
        """The file, as an error message names it."""
        return str(self.path or self.prefix + self.name)

    def number(self, path: str) -> float:
        """The number at ``path``; a missing key or anything but a number is an
        :class:`InputError` naming the file, the key and the value found."""
        try:
            value = lookup(self.doc, path)
        except (KeyError, IndexError, TypeError, ValueError):
            raise InputError(
                f"{self.where}: key {quoted(path)} missing (a report "
                "shows only figures its folder holds; run the scenario again)"
            ) from None
        if not _is_number(value):
            raise InputError(
                f"{self.where}: key {quoted(path)}: bad value {quoted(value)} (allowed: a number)"
            )
        return float(value)

    def num(
        self, path: str, scale: float = 1.0, decimals: int = 1, unit: str = "", signed=False
    ) -> str:
        """HTML for the number at ``path``, tagged with the file and key it was read from."""
        value = self.number(path) * scale
        shown = fmt(value, decimals, signed)
        return (
            f'<span class="fig" data-file="{escape(self.prefix + self.name)}" '
            f'data-key="{escape(path)}" data-scale="{scale!r}" data-decimals="{decimals}" '
            f'data-signed="{int(signed)}">{shown}</span>'
            + (unit if unit == "%" else f"&nbsp;{unit}" if unit else "")
        )

    def interval(self, path: str, scale: float, decimals: int) -> str:
        """A '[low, high]' interval at ``path`` (a two-item list), or a note when absent."""
        try:
            ci = lookup(self.doc, path)
        except (KeyError, IndexError, TypeError, ValueError):
            raise InputError(
                f"{self.where}: key {quoted(path)} missing (allowed: "
                "an interval [low, high], or [] for one replication)"
            ) from None
        if not ci:
            return '<span class="muted">(one replication: no interval)</span>'
        return (
            f"[{self.num(path + '/0', scale, decimals)}, {self.num(path + '/1', scale, decimals)}]"
        )


@dataclass
class RunEvidence:
    """Everything a report shows of one run, read from its folder."""

    folder: Path
    summary: Source
    manifest: Source
    agents: pd.DataFrame
    cameras: pd.DataFrame
    streets: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    edits: pd.DataFrame

    @property
    def name(self) -> str:
        return str(self.summary.doc.get("scenario", self.folder.parent.name))

    @property
    def scenario(self) -> dict[str, Any]:
        return self.manifest.doc.get("scenario_resolved", {})

    @property
    def site(self) -> dict[str, Any]:
        return self.manifest.doc["site"]

    def data_sources(self) -> dict[str, dict[str, Any]]:
        """The manifest's data files by source key."""
        return {f["source"]: f for f in self.manifest.doc.get("data_files", [])}

    def report_inputs(self) -> ReportInputs:
        """The basemap and site neighbourhoods the run kept for its report (checksums
        checked against its manifest)."""
        return read_report_inputs(self.folder, self.manifest.doc)


@dataclass
class Evidence:
    """A run, or a comparison of runs, as read from a results folder."""

    kind: str  # "run" or "comparison"
    folder: Path
    runs: list[RunEvidence]
    comparison: Source | None = None
    comparison_table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def base(self) -> RunEvidence:
        return self.runs[0]

    @property
    def title(self) -> str:
        site = self.base.site.get("name", "")
        if self.kind == "comparison":
            return f"Camera exposure of protesters at {site}: {len(self.runs)} scenarios compared"
        return f"Camera exposure of protesters at {site}: scenario {self.base.name}"


def _is_number(value: Any) -> bool:
    """A JSON number (NaN included: whether a figure may be NaN is the figure's to say, e.g.
    the share never seen standing when nobody stood)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_run_docs(folder: Path, summary: Source, manifest: Source) -> None:
    """The shapes the report reads: ``figures`` a table of figures, each headline figure it
    holds a number, and the site a place with coordinates (a hand-edited or foreign file is
    refused here, in one line, before anything is drawn; a figure missing where the text
    needs it is refused there)."""
    figures = summary.doc["figures"]
    if not isinstance(figures, dict) or not all(isinstance(v, dict) for v in figures.values()):
        raise InputError(
            f"{folder / summary.name}: key 'figures': bad value {quoted(figures)} (allowed: a "
            "table of figures, each with its 'value')"
        )
    for h in HEADLINES:  # those the folder holds (an earlier version's may lack some)
        if h.key in figures:
            summary.number(f"figures/{h.key}/value")
    site = manifest.doc["site"]
    if not isinstance(site, dict):
        raise InputError(
            f"{folder / manifest.name}: key 'site': bad value {quoted(site)} (allowed: a table "
            "with the site's name, lat, lon and radius_m)"
        )
    for key in ("lat", "lon", "radius_m"):
        manifest.number(f"site/{key}")
    if not isinstance(manifest.doc["data_files"], list):
        raise InputError(
            f"{folder / manifest.name}: key 'data_files': bad value "
            f"{quoted(manifest.doc['data_files'])} (allowed: a list of the run's data files)"
        )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read it as JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: cannot read it as JSON (nested too deep)") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(doc).__name__}")
    return doc


def folder_kind(folder: Path) -> str:
    """'run' or 'comparison'; anything else is an :class:`InputError` naming what is missing."""
    if not folder.is_dir():
        raise InputError(
            f"{folder}: not a folder; expected a finished run folder (outputs/<scenario>/<run-id>) "
            "or comparison folder (outputs/compare/<id>)"
        )
    names = {p.name for p in folder.iterdir()}
    if set(COMPARISON_FILES) <= names:
        return "comparison"
    if "summary.json" in names and "manifest.json" in names:
        missing = [f for f in RUN_FILES if f not in names]
        if missing and not set(missing) <= set(REPORT_INPUT_FILES):  # those: see read_run
            raise InputError(
                f"{folder}: run folder lacks {', '.join(missing)} (written by an earlier "
                "version, or not finished); run its scenario again to report on it"
            )
        return "run"
    raise InputError(
        f"{folder}: not a finished run or comparison; expected {', '.join(RUN_FILES)} "
        f"(a run) or {', '.join(COMPARISON_FILES)} (a comparison)"
    )


def read_run(folder: Path, prefix: str = "") -> RunEvidence:
    """A finished run folder's figures, tables and layers."""
    if folder_kind(folder) != "run":
        raise InputError(f"{folder}: expected a run folder, found a comparison")
    summary = Source("summary.json", _read_json(folder / "summary.json"), prefix)
    manifest = Source("manifest.json", _read_json(folder / "manifest.json"), prefix)
    summary.path, manifest.path = folder / summary.name, folder / manifest.name
    for source, key in ((summary, "figures"), (manifest, "site"), (manifest, "data_files")):
        if key not in source.doc:
            raise InputError(f"{folder / source.name}: key {key!r} missing")
    _check_run_docs(folder, summary, manifest)
    missing = missing_report_inputs(folder, manifest.doc)
    if missing:
        raise InputError(old_folder_message(folder, missing))
    try:
        agents = pd.read_parquet(folder / "agents.parquet", columns=list(AGENT_COLUMNS))
        streets = gpd.read_parquet(folder / "streets.parquet")
        routes = gpd.read_parquet(folder / "routes.parquet")
        cameras = pd.read_csv(folder / "cameras.csv")
        edits = pd.read_csv(folder / "camera_edits.csv")
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{folder}: a result file cannot be read ({exc})") from None
    return RunEvidence(folder, summary, manifest, agents, cameras, streets, routes, edits)


def _run_folder_of(entry: dict[str, Any], comparison_folder: Path) -> Path:
    """A comparison's run folder: as recorded, else beside the comparison under outputs/."""
    recorded = Path(entry.get("run", ""))
    if recorded.is_dir():
        return recorded.resolve()
    beside = comparison_folder.parent.parent / entry["name"] / recorded.name
    if beside.is_dir():
        return beside.resolve()
    raise InputError(
        f"{comparison_folder / 'comparison.json'}: run folder {quoted(str(recorded))} of "
        f"scenario {quoted(entry['name'])} not found (expected it, or {beside})"
    )


def read_evidence(folder: Path) -> Evidence:
    """The evidence in a finished run or comparison folder."""
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind == "run":
        return Evidence("run", folder, [read_run(folder)])
    doc = _read_json(folder / "comparison.json")
    where = folder / "comparison.json"
    if not doc.get("scenarios"):
        raise InputError(f"{where}: key 'scenarios' missing or empty")
    entries = doc["scenarios"]
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("run"), str)
        for e in entries
    ):
        raise InputError(
            f"{where}: key 'scenarios': bad value {quoted(entries)} (allowed: a list of tables, "
            "each with the scenario's 'name' and its 'run' folder)"
        )
    runs = []
    for entry in entries:
        run_folder = _run_folder_of(entry, folder)
        run = read_run(run_folder, prefix=_relative(run_folder, folder))
        held = run.summary.doc.get("scenario")
        seed = run.manifest.doc.get("seed")
        if held != entry["name"] or ("seed" in doc and seed != doc["seed"]):
            raise InputError(
                f"{where}: scenario {quoted(entry['name'])} points at {run_folder}, a run of "
                f"scenario {quoted(held)} with seed {quoted(seed)} (allowed: its own run, with "
                f"the comparison's seed {quoted(doc.get('seed'))})"
            )
        runs.append(run)
    try:
        table = pd.read_csv(folder / "comparison.csv")
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder / 'comparison.csv'}: cannot read it ({exc})") from None
    return Evidence("comparison", folder, runs, Source("comparison.json", doc, path=where), table)


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start.resolve()) + "/"
