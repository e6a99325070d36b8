"""Camera sources: readers for Amnesty counts, point lists and CSV layers, and their registry."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.records import SkipReport, lenient_coordinates, read_csv_columns
from sim.data.textfiles import read_text
from sim.errors import DataError
from sim.exposure.cameras import CameraSites, make_sites

log = logging.getLogger(__name__)

AMNESTY_COLUMNS = ["n_cameras_median", "Lat", "Long", "BoroName"]
ATTACHMENT_CLASSES = {
    "attached_street_median": "public_street",
    "attached_building_median": "private_building",
    "attached_unknown_median": "unknown",
}
# Ban the Scan's all-cameras file: type 1 = public (street furniture) site, 0 = private-only.
BANTHESCAN_TYPE_CLASS = {1: "public_street", 0: "private_building"}
LAT_NAMES = ("lat", "latitude", "Lat", "Latitude", "LATITUDE")
LON_NAMES = ("lon", "long", "longitude", "Long", "Lon", "Longitude", "LONGITUDE")
# Ban the Scan sites sit within a few metres of the Amnesty intersection they come from
# (median 1 m, 90th percentile 5 m on the bundle); 15 m joins them without reaching the next.
# In Manhattan it matches 546 public sites to 523 intersections holding 1,153 cameras (20 m
# adds none; 10 m loses 15 intersections).
COUNT_JOIN_MAX_M = 15.0


def read_amnesty_counts(
    path: Path, boroughs: list[str] | None = None, source: str = "amnesty_counts"
) -> tuple[CameraSites, SkipReport]:
    """Amnesty's per-intersection camera counts (full original file or the offline bundle's).

    An intersection with attachment medians becomes one site per attachment class with cameras
    (street -> ``public_street``, building -> ``private_building``, unknown -> ``unknown``);
    one without (empty cells) becomes one ``unknown`` site counting ``n_cameras_median``.
    Intersections with zero cameras are not sites. Rows with missing, non-numeric or
    out-of-city coordinates or counts are reported and left out.
    """
    frame = read_csv_columns(path, AMNESTY_COLUMNS)
    report = SkipReport(source=f"{path.name}", read=len(frame))
    if boroughs is not None:
        frame = frame[frame["BoroName"].isin(boroughs)]
    labels = np.array([f"line {i + 2}" for i in frame.index])
    lat, lon, keep = lenient_coordinates(frame["Lat"], frame["Long"], report, labels)
    total = pd.to_numeric(frame["n_cameras_median"], errors="coerce").to_numpy(float)
    bad_count = keep & ~np.isfinite(total)
    report.skip(
        "missing or non-numeric n_cameras_median",
        [f"{labels[i]}: {frame['n_cameras_median'].iloc[i]!r}" for i in np.flatnonzero(bad_count)],
        int(bad_count.sum()),
    )
    keep &= np.isfinite(total) & (total > 0)
    attach = {
        col: pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        if col in frame
        else np.full(len(frame), np.nan)
        for col in ATTACHMENT_CLASSES
    }
    has_attach = np.all([np.isfinite(a) for a in attach.values()], axis=0)
    parts = []
    plain = keep & ~has_attach
    parts.append(
        make_sites(
            lat[plain], lon[plain], np.full(plain.sum(), "unknown"), total[plain], source, "amnesty"
        )
    )
    for col, cls in ATTACHMENT_CLASSES.items():
        rows = keep & has_attach & (np.nan_to_num(attach[col]) > 0)
        parts.append(
            make_sites(
                lat[rows],
                lon[rows],
                np.full(rows.sum(), cls),
                attach[col][rows],
                source,
                f"amnesty-{cls}",
            )
        )
    sites = CameraSites.concat(parts)
    sites = CameraSites(
        **{**sites.__dict__, "count_source": np.full(len(sites), "amnesty", dtype=object)}
    )
    report.kept = len(sites)
    report.log()
    return sites, report


def read_point_json(
    path: Path, source: str, default_class: str = "public_street"
) -> tuple[CameraSites, SkipReport]:
    """A JSON point list: ``[[lat, lon], ...]`` or ``[[lat, lon, type], ...]`` (Ban the Scan).

    With a type, 1 is a public street-furniture site and 0 a private-only site.
    """
    text = read_text(path, "a JSON list of [lat, lon] points")
    try:
        records = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); expected a list of [lat, lon]") from None
    if not isinstance(records, list):
        raise DataError(f"{path}: expected a JSON list of [lat, lon] pairs")
    report = SkipReport(source=Path(path).name, read=len(records))
    lat_t, lon_t, cls = [], [], []
    bad_shape = []
    for i, rec in enumerate(records):
        if not isinstance(rec, list) or len(rec) not in (2, 3):
            bad_shape.append(f"item {i}: {rec!r}")
            lat_t.append("")
            lon_t.append("")
            cls.append(default_class)
            continue
        lat_t.append(rec[0])
        lon_t.append(rec[1])
        cls.append(BANTHESCAN_TYPE_CLASS.get(rec[2], "unknown") if len(rec) == 3 else default_class)
    labels = np.array([f"item {i}" for i in range(len(records))])
    lat, lon, keep = lenient_coordinates(
        np.array(lat_t, dtype=object), np.array(lon_t, dtype=object), report, labels
    )
    cls_arr = np.array(cls, dtype=object)
    sites = make_sites(lat[keep], lon[keep], cls_arr[keep], np.ones(keep.sum()), source, source)
    report.kept = len(sites)
    report.log()
    return sites, report


def read_point_csv(path: Path, source: str, cls: str) -> tuple[CameraSites, SkipReport]:
    """A CSV point list with latitude / longitude columns (DOT cameras, LinkNYC kiosks)."""
    frame = read_csv_columns(path, [])
    lat_col = next((c for c in LAT_NAMES if c in frame.columns), None)
    lon_col = next((c for c in LON_NAMES if c in frame.columns), None)
    if lat_col is None or lon_col is None:
        raise DataError(
            f"{path}: missing required column {'latitude' if lat_col is None else 'longitude'!r} "
            f"(accepted names: {', '.join(LAT_NAMES if lat_col is None else LON_NAMES)})"
        )
    report = SkipReport(source=Path(path).name, read=len(frame))
    labels = np.array([f"line {i + 2}" for i in range(len(frame))])
    lat, lon, keep = lenient_coordinates(frame[lat_col], frame[lon_col], report, labels)
    sites = make_sites(
        lat[keep], lon[keep], np.full(keep.sum(), cls), np.ones(keep.sum()), source, source
    )
    report.kept = len(sites)
    report.log()
    return sites, report


@dataclass(frozen=True)
class CameraSource:
    """A camera source a scenario layer may name: how to read it, and what it holds."""

    read: Callable[[Path, tuple[str, ...]], tuple[CameraSites, SkipReport]]
    holds: str
    priority: int  # where two layers hold the same place, the lower number wins the merge


# Every camera source, by the data manifest key of its file (``data/sources.toml``).
CAMERA_SOURCES: dict[str, CameraSource] = {
    "banthescan_public": CameraSource(
        lambda path, boroughs: read_point_json(path, "banthescan_public"),
        "Ban the Scan public street-furniture camera sites",
        priority=0,
    ),
    "banthescan_all": CameraSource(
        lambda path, boroughs: read_point_json(path, "banthescan_all"),
        "Ban the Scan camera sites, public (type 1) and private-only (type 0)",
        priority=2,
    ),
    "amnesty_counts": CameraSource(
        lambda path, boroughs: read_amnesty_counts(path, list(boroughs) or None),
        "Amnesty per-intersection camera counts, by attachment where known",
        priority=1,
    ),
    "dot_cameras": CameraSource(
        lambda path, boroughs: read_point_csv(path, "dot_cameras", "dot_traffic"),
        "NYC DOT traffic cameras",
        priority=3,
    ),
    "linknyc": CameraSource(
        lambda path, boroughs: read_point_csv(path, "linknyc", "linknyc"),
        "LinkNYC kiosks",
        priority=4,
    ),
}

# Which source wins a merge, first first: Amnesty's counted sites (public, then private-only),
# then DOT's list, then LinkNYC's. The winner keeps its id, class and place; the merged
# site's count is the larger of the two (the same cameras, counted by two sources, are not
# added up: a volunteer counting a pole counted the DOT camera on it).
SOURCE_PRIORITY = tuple(sorted(CAMERA_SOURCES, key=lambda key: CAMERA_SOURCES[key].priority))
