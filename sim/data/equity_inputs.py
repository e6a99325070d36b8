"""What the equity analysis reads: census tracts clipped to land, public camera sites, sites."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from sim.data import datasets
from sim.data.cameras import read_point_json
from sim.data.census import read_land, read_tracts
from sim.data.datasets import EQUITY_SOURCES, ResolvedFile
from sim.data.records import SkipReport
from sim.data.sites import read_site_records
from sim.exposure import equity
from sim.exposure.equity import TractCounts
from sim.geo import lonlat_to_xy


@dataclass(frozen=True)
class EquityInputs:
    """Everything the equity analysis reads: tracts clipped to land, coverage, sites."""

    tracts: TractCounts  # land-clipped, tracts with no land dropped
    dropped_tracts: list[str]  # GEOIDs with no land (entirely water)
    coverage: np.ndarray  # union of 120 m disks around public sites, disjoint parts
    cameras_xy: np.ndarray
    site_ids: np.ndarray
    site_names: list[str]
    site_xy: np.ndarray
    files: list[ResolvedFile]
    camera_report: SkipReport


def load_equity_inputs(data_dir: Path) -> EquityInputs:
    """Read and prepare the equity analysis's inputs from ``data_dir``."""
    files = {key: datasets.locate(key, data_dir) for key in EQUITY_SOURCES}
    tracts = read_tracts(files["census_tracts"].path)
    land = read_land(files["shoreline"].path)
    clipped = equity.clip_to_land(tracts.geom, land)
    on_land = ~shapely.is_empty(clipped)
    kept = TractCounts(
        **{
            f.name: (clipped if f.name == "geom" else getattr(tracts, f.name))[on_land]
            for f in dataclasses.fields(TractCounts)
        }
    )
    cams, report = read_point_json(files["banthescan_public"].path, "banthescan_public")
    xy = np.c_[cams.x, cams.y]
    sites = read_site_records(files["protest_sites"].path)
    lat = np.array([s.lat for s in sites.values()])
    lon = np.array([s.lon for s in sites.values()])
    sx, sy = lonlat_to_xy(lon, lat)
    return EquityInputs(
        tracts=kept,
        dropped_tracts=[str(g) for g in tracts.geoid[~on_land]],
        coverage=equity.coverage_parts(xy),
        cameras_xy=xy,
        site_ids=np.array(list(sites), dtype=object),
        site_names=[s.name for s in sites.values()],
        site_xy=np.c_[sx, sy],
        files=list(files.values()),
        camera_report=report,
    )
