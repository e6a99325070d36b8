"""The protest-sites file: one record per site, ids checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.city.sites import SiteRecord
from sim.data.records import read_csv_columns, strict_coordinates
from sim.errors import DataError

SITE_COLUMNS = ["site_id", "name", "borough", "lat", "lon"]


def read_site_records(path: Path) -> dict[str, SiteRecord]:
    """The protest-sites file as ``{site_id: SiteRecord}``."""
    frame = read_csv_columns(path, SITE_COLUMNS)
    lat, lon = strict_coordinates(frame, path, "lat", "lon")
    ids = frame["site_id"].str.strip()
    repeated = ids.duplicated(keep="first").to_numpy()
    if repeated.any():
        row = int(repeated.argmax())
        first = int((ids == ids.iloc[row]).to_numpy().argmax())
        raise DataError(
            f"{path}: line {row + 2}: site_id {ids.iloc[row]!r} repeats line {first + 2} "
            "(allowed: each site_id once)"
        )
    empty = (ids == "").to_numpy()
    if empty.any():
        raise DataError(f"{path}: line {int(empty.argmax()) + 2}: empty site_id")
    sizes = (
        frame["ccc2020_max_size"].replace("", np.nan).astype(float).to_numpy()
        if "ccc2020_max_size" in frame
        else np.full(len(frame), np.nan)
    )
    events = (
        pd.to_numeric(frame["ccc2020_events"].replace("", np.nan), errors="coerce").to_numpy()
        if "ccc2020_events" in frame
        else np.full(len(frame), np.nan)
    )
    return {
        row.site_id: SiteRecord(
            row.site_id,
            row.name,
            row.borough,
            float(lat[i]),
            float(lon[i]),
            None if np.isnan(sizes[i]) else float(sizes[i]),
            None if np.isnan(events[i]) else int(events[i]),
        )
        for i, row in enumerate(frame.itertuples(index=False))
    }
