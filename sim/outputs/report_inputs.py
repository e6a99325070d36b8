"""What a run's report draws from the data bundle, computed when the run folder is written and
kept in it: the basemap (``basemap.gpkg``) and every protest site's neighbourhood
(``site_neighbourhoods.csv``), each recorded in ``manifest.json`` with its own SHA-256 and the
bundle files (and theirs) it came from; and both read back, checked, for the report."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.data import cache, datasets
from sim.data.datasets import ResolvedFile
from sim.errors import InputError
from sim.outputs.basemap import (
    BASEMAP_FILE,
    BASEMAP_LAYERS,
    Basemap,
    clip_basemap,
    map_extent,
    read_basemap,
    write_basemap,
)
from sim.outputs.folders import write_table

REPORT_INPUTS = "report_inputs"  # the manifest's key
NEIGHBOURHOOD_FILE = "site_neighbourhoods.csv"
REPORT_INPUT_FILES = (BASEMAP_FILE, NEIGHBOURHOOD_FILE)


def neighbourhood_table(data_dir: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every protest site's neighbourhood figures (``equity.site_neighbourhoods``), and the
    provenance of the files behind them. Cached by the files' checksums (on disk, and in this
    process: a sweep's run folders compute it once)."""
    files = tuple(datasets.locate(k, data_dir) for k in datasets.EQUITY_SOURCES)
    arrays = _neighbourhood_arrays(files, data_dir)
    table = pd.DataFrame({c: arrays[c].copy() for c in arrays})
    for column in table.columns:
        if column.startswith("rank_"):
            table[column] = table[column].astype(int)
    return table, [f.provenance() for f in files]


@lru_cache(maxsize=2)
def _neighbourhood_arrays(files: tuple[ResolvedFile, ...], data_dir: Path) -> dict[str, np.ndarray]:
    from sim.exposure import equity

    def build() -> dict[str, np.ndarray]:
        from sim.data.equity_inputs import load_equity_inputs

        inputs = load_equity_inputs(data_dir)
        table = equity.site_neighbourhoods(
            inputs.site_ids, inputs.site_xy, inputs.tracts, inputs.coverage
        )
        names = dict(zip(inputs.site_ids.tolist(), inputs.site_names))
        table.insert(1, "name", [names[s] for s in table["site_id"]])
        return {
            c: table[c].to_numpy(dtype=str if c in ("site_id", "name") else float) for c in table
        }

    return cache.cached("site_neighbourhoods", _neighbourhood_key(files), build)


def _neighbourhood_key(files: tuple[ResolvedFile, ...]) -> dict[str, Any]:
    from sim.exposure import equity

    return {**{f.source.key: f.sha256 for f in files}, "radii": list(equity.SITE_RADII_M)}


def neighbourhoods_cached(data_dir: Path) -> bool:
    """Whether the sites' neighbourhoods are in the cache (True without a cache: nothing can
    be built beforehand)."""
    if cache.cache_dir() is None:
        return True
    files = tuple(datasets.locate(k, data_dir) for k in datasets.EQUITY_SOURCES)
    return cache.has_entry("site_neighbourhoods", _neighbourhood_key(files))


def build_neighbourhoods(data_dir: Path) -> None:
    """Build the sites' neighbourhoods into the cache (see :func:`neighbourhood_table`). The
    cache on disk is read or written whatever this process holds in memory: a process forked
    from one that computed them for another cache folder must still leave them in this one."""
    files = tuple(datasets.locate(k, data_dir) for k in datasets.EQUITY_SOURCES)
    _neighbourhood_arrays.__wrapped__(files, data_dir)


def write_report_inputs(
    folder: Path, data_dir: Path, streets: gpd.GeoDataFrame, site_lonlat: tuple[float, float]
) -> tuple[dict[str, Any], Basemap]:
    """Write ``basemap.gpkg`` (around the walked ``streets`` and the site) and
    ``site_neighbourhoods.csv`` into ``folder``; return what the manifest records of them, and
    the basemap (the run's own maps draw it too)."""
    from sim.data.basemap import read_city_outlines
    from sim.exposure.equity import SITE_RADII_M

    bounds = map_extent(streets, site_lonlat)
    basemap = clip_basemap(read_city_outlines(data_dir), bounds)
    write_basemap(folder / BASEMAP_FILE, basemap)
    table, table_files = neighbourhood_table(data_dir)
    write_table(folder / NEIGHBOURHOOD_FILE, table)
    entry = {
        "basemap": {
            "file": BASEMAP_FILE,
            "sha256": datasets.sha256_of(folder / BASEMAP_FILE),
            "what": "borough outlines and water within the report's map extent, EPSG:4326",
            "layers": list(BASEMAP_LAYERS),
            "bounds": list(bounds),
            "data_files": basemap.files,
        },
        "site_neighbourhoods": {
            "file": NEIGHBOURHOOD_FILE,
            "sha256": datasets.sha256_of(folder / NEIGHBOURHOOD_FILE),
            "what": "every protest site's neighbourhood by Amnesty's tract method",
            "radii_m": list(SITE_RADII_M),
            "data_files": table_files,
        },
    }
    return entry, basemap


@dataclass(frozen=True)
class ReportInputs:
    """What a run folder keeps for its report, as read back from it."""

    basemap: Basemap
    neighbourhoods: pd.DataFrame
    files: list[dict[str, Any]]  # the bundle files behind both (basemap's first)


def missing_report_inputs(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """What a run folder lacks of its report's inputs: files, or their record in the manifest
    (a folder written by a version before runs kept them lacks both)."""
    missing = [name for name in REPORT_INPUT_FILES if not (folder / name).is_file()]
    if REPORT_INPUTS not in manifest:
        missing.append(f"manifest.json key {REPORT_INPUTS!r}")
    return missing


def read_report_inputs(folder: Path, manifest: dict[str, Any]) -> ReportInputs:
    """The basemap and neighbourhood table of a run folder, each checked against the SHA-256
    its manifest records (an :class:`InputError` names a file that is missing or altered)."""
    missing = missing_report_inputs(folder, manifest)
    if missing:
        raise InputError(old_folder_message(folder, missing))
    entries = manifest[REPORT_INPUTS]
    for entry in entries.values():
        path = folder / entry["file"]
        if datasets.sha256_of(path) != entry["sha256"]:
            raise InputError(
                f"{path}: SHA-256 differs from the one manifest.json records for it (the file "
                "was changed after the run); run the scenario again to report on it"
            )
    base, near = entries["basemap"], entries["site_neighbourhoods"]
    try:
        basemap = read_basemap(folder / BASEMAP_FILE, base["bounds"], base["data_files"])
        table = pd.read_csv(folder / NEIGHBOURHOOD_FILE, dtype={"site_id": str, "name": str})
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{folder}: a report input cannot be read ({exc})") from None
    return ReportInputs(basemap, table, [*base["data_files"], *near["data_files"]])


def old_folder_message(folder: Path, missing: list[str]) -> str:
    """One line for a run folder written before runs kept their report's inputs."""
    return (
        f"{folder}: run folder lacks {', '.join(missing)} (written by an earlier version, "
        "which left the report to read the data folder); run its scenario again to report "
        "on it (the same scenario, seed and data give the same protesters)"
    )
