"""The ``equity`` command: load tracts, land and public cameras, run the core, write results."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.atomic import replacing
from sim.batch.options import RunOptions
from sim.data import datasets
from sim.data.equity_inputs import load_equity_inputs
from sim.exposure import equity
from sim.geo import PROJECTED_CRS
from sim.outputs.folders import (
    RunFolder,
    new_run_id,
    provenance,
    write_json,
    write_table,
)

log = logging.getLogger(__name__)

# What differs from Amnesty's inputs; recorded in every equity manifest and printed.
DIFFERENCES_FROM_AMNESTY = (
    "residents and race/ethnicity from the 2020 census (decennial counts), not the ACS 2015-19 "
    "5-year estimates Amnesty used; tracts are 2020 tracts, not 2019 ones",
    "public camera sites are Ban the Scan's 2,531 public sites (Amnesty's route tool), not the "
    "intersections with attached_street_median > 0 of Amnesty's full counts file, which the "
    "bundle carries for Brooklyn only",
    "tracts are clipped to land with the state shoreline layer (State_Shoreline); Amnesty "
    "clipped with the counties' shoreline layer of the same NYS series",
    "non-white fraction uses non-Hispanic White and Black counts and Hispanic of any race",
)


DESCRIPTION = (
    "Amnesty's tract analysis: camera surveillance against race per borough, and the protest sites."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``equity`` takes no arguments of its own."""


def equity_command(args: argparse.Namespace, options: RunOptions) -> int:
    """``run_sim.py equity``: tract table, borough model, site neighbourhoods, figures."""
    from sim.outputs import equity_figures

    started = time.perf_counter()
    inputs = load_equity_inputs(datasets.resolve_data_dir(options.data_dir))
    for f in inputs.files:  # read without error, but not the files data/sources.toml names
        if f.checksum_mismatch:
            log.warning("%s", f.checksum_mismatch)
    table = equity.tract_table(inputs.tracts, inputs.coverage)
    model = equity.fit_borough_logit(table)
    sites = equity.site_neighbourhoods(
        inputs.site_ids, inputs.site_xy, inputs.tracts, inputs.coverage
    )
    names = dict(zip(inputs.site_ids, inputs.site_names))
    sites.insert(1, "name", sites["site_id"].map(names))
    root = options.outputs_root / "equity"
    folder = RunFolder(root, new_run_id("tracts"))
    with folder as tmp:
        write_table(tmp / "tracts.csv", table)
        write_table(tmp / "borough_model.csv", model)
        write_table(tmp / "sites.csv", sites)
        _write_geopackage(tmp / "tracts.gpkg", inputs.tracts.geom, table)
        equity_figures.surveillance_map(
            inputs.tracts.geom,
            table,
            inputs.site_xy,
            tmp / "surveillance_map.png",
        )
        equity_figures.borough_scatter(table, model, tmp / "borough_scatter.png")
        write_json(
            tmp / "manifest.json",
            {
                "method": "Amnesty International, Decode Surveillance NYC methodology, 2.4",
                "model": "P(surveillance_per_1000 > 0.2) ~ 0 + borough + "
                "borough:nonwhite_fraction (statsmodels Logit, maximum likelihood)",
                "camera_radius_m": equity.CAMERA_RADIUS_M,
                "min_residents": equity.MIN_RESIDENTS,
                "threshold_per_1000": equity.SURVEILLANCE_THRESHOLD,
                "site_radii_m": list(equity.SITE_RADII_M),
                "crs": PROJECTED_CRS,
                "tracts_read": len(inputs.tracts) + len(inputs.dropped_tracts),
                "tracts_without_land": inputs.dropped_tracts,
                "tracts_in_model": int(table["in_model"].sum()),
                "public_camera_sites": len(inputs.cameras_xy),
                "camera_records_left_out": inputs.camera_report.as_dict(),
                "converged": model.attrs["converged"],
                "log_likelihood": model.attrs["log_likelihood"],
                "differences_from_amnesty": list(DIFFERENCES_FROM_AMNESTY),
                "wall_s": round(time.perf_counter() - started, 2),
                **provenance([f.provenance() for f in inputs.files]),
            },
        )
    if not args.quiet:
        print("\n".join(summary_lines(model, sites, table)))
        print(f"results: {folder.final}")
    return 0


def _write_geopackage(path: Path, geoms: np.ndarray, table: pd.DataFrame) -> None:
    import geopandas as gpd

    with replacing(path) as tmp:
        gpd.GeoDataFrame(table, geometry=list(geoms), crs=PROJECTED_CRS).to_file(
            tmp, driver="GPKG", layer="tracts"
        )


def summary_lines(model: pd.DataFrame, sites: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """The borough model and the five most surveilled protest-site neighbourhoods."""
    lines = [
        f"tracts in the model: {int(table['in_model'].sum())} of {len(table)} "
        f"(> {equity.MIN_RESIDENTS} residents); highly surveilled: > "
        f"{equity.SURVEILLANCE_THRESHOLD} effective public cameras per 1,000 residents",
        f"{'borough':14s} {'tracts':>6s} {'high':>5s} {'non-white coef':>15s} {'s.e.':>6s} "
        f"{'p':>8s}",
    ]
    for r in model.itertuples():
        lines.append(
            f"{r.borough:14s} {r.tracts:6d} {r.highly_surveilled:5d} {r.nonwhite_coef:+15.3f} "
            f"{r.nonwhite_se:6.3f} {r.nonwhite_p:8.2g}"
        )
    lines.append("protest sites, most surveilled within 500 m first:")
    for r in sites.head(5).itertuples():
        lines.append(
            f"  {r.rank_500m:2d}. {r.name:36s} {r.surveillance_per_1000_500m:6.2f} per 1,000, "
            f"non-white {r.nonwhite_fraction_500m * 100:4.1f}% (1 km: "
            f"{r.surveillance_per_1000_1000m:.2f}, {r.nonwhite_fraction_1000m * 100:.1f}%)"
        )
    lines.append("note: " + "; ".join(DIFFERENCES_FROM_AMNESTY[:2]))
    return lines
