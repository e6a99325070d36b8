"""Reading tabular source files: required columns, coordinates, and reports of bad records."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.textfiles import read_text
from sim.errors import DataError
from sim.geo import in_nyc

log = logging.getLogger(__name__)

MAX_EXAMPLES = 3


@dataclass
class SkipReport:
    """Records left out of a source, with a reason and a few examples each."""

    source: str
    read: int = 0
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, examples: list[str], count: int) -> None:
        if count == 0:
            return
        self.skipped[reason] = self.skipped.get(reason, 0) + count
        self.examples.setdefault(reason, []).extend(examples[:MAX_EXAMPLES])

    def log(self) -> None:
        for reason, count in self.skipped.items():
            log.info(
                "%s: left out %d record(s) with %s, e.g. %s",
                self.source,
                count,
                reason,
                "; ".join(self.examples[reason][:MAX_EXAMPLES]),
            )

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "read": self.read,
            "kept": self.kept,
            "skipped": dict(self.skipped),
            "examples": {k: v[:MAX_EXAMPLES] for k, v in self.examples.items()},
        }


def read_csv_columns(path: Path, required: list[str]) -> pd.DataFrame:
    """Read a CSV as strings and check that every ``required`` column is present."""
    text = read_text(path, "a CSV file")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read CSV ({reason})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing required column {missing[0]!r} (has: {', '.join(frame.columns[:8])}"
            f"{', ...' if len(frame.columns) > 8 else ''})"
        )
    return frame


def strict_coordinates(
    frame: pd.DataFrame, path: Path, lat_col: str, lon_col: str
) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of every row; any bad value is an error naming line and value."""
    values = {}
    for col in (lat_col, lon_col):
        parsed = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(parsed))
        if bad.size:
            row = int(bad[0])
            raise DataError(
                f"{path}: line {row + 2}, column {col!r}: value {frame[col].iloc[row]!r} is not "
                "a number (expected decimal degrees)"
            )
        values[col] = parsed
    lat, lon = values[lat_col], values[lon_col]
    outside = np.flatnonzero(~in_nyc(lat, lon))
    if outside.size:
        row = int(outside[0])
        raise DataError(
            f"{path}: line {row + 2}: coordinates ({lat[row]}, {lon[row]}) lie outside New York "
            "City (expected lat 40.49..40.92, lon -74.27..-73.69)"
        )
    return lat, lon


def lenient_coordinates(
    lat_text: pd.Series | np.ndarray,
    lon_text: pd.Series | np.ndarray,
    report: SkipReport,
    labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse coordinates, reporting rows that are missing, non-numeric or outside the city.

    Returns lat, lon and a keep mask; the rows not kept are counted in ``report`` with
    examples (``labels`` names each row, e.g. its line number).
    """
    lat = pd.to_numeric(pd.Series(lat_text), errors="coerce").to_numpy(float)
    lon = pd.to_numeric(pd.Series(lon_text), errors="coerce").to_numpy(float)
    lat_raw, lon_raw = np.asarray(lat_text, dtype=object), np.asarray(lon_text, dtype=object)
    blank = np.array(
        [str(a).strip() == "" or str(b).strip() == "" for a, b in zip(lat_raw, lon_raw)],
        dtype=bool,
    )
    non_numeric = ~blank & ~(np.isfinite(lat) & np.isfinite(lon))
    finite = np.isfinite(lat) & np.isfinite(lon)
    outside = finite & ~in_nyc(np.where(finite, lat, 0), np.where(finite, lon, 0))
    for reason, mask in (
        ("missing coordinates", blank),
        ("non-numeric coordinates", non_numeric),
        ("coordinates outside New York City", outside),
    ):
        idx = np.flatnonzero(mask)
        report.skip(
            reason,
            [f"{labels[i]}: ({lat_raw[i]!s}, {lon_raw[i]!s})" for i in idx[:MAX_EXAMPLES]],
            idx.size,
        )
    keep = finite & ~outside
    return lat, lon, keep


OUTSIDE = "coordinates outside New York City"


def check_usable(path: Path, report: SkipReport, what: str) -> None:
    """Refuse a source whose records are all unusable, or mostly outside the city.

    An empty file, one whose every record was left out, or one where most records lie outside
    New York City (latitude and longitude swapped, or another city's file) would otherwise run
    as if the city had no such cameras; each is a :class:`DataError` naming the file.
    """
    if report.read == 0:
        raise DataError(f"{path}: holds no records (expected {what})")
    outside = report.skipped.get(OUTSIDE, 0)
    if outside * 2 > report.read:
        example = report.examples[OUTSIDE][0]
        raise DataError(
            f"{path}: {outside} of {report.read} records lie outside New York City (e.g. "
            f"{example}); are latitude and longitude swapped? (expected lat 40.49..40.92, "
            "lon -74.27..-73.69)"
        )
    if report.kept == 0:
        reasons = ", ".join(f"{n} with {r}" for r, n in report.skipped.items()) or "none kept"
        raise DataError(f"{path}: no usable record among {report.read} ({reasons})")
