"""Figures of the equity analysis: a choropleth of surveillance and per-borough scatter plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from sim.exposure.equity import SURVEILLANCE_THRESHOLD, fitted_probability
from sim.outputs.plot import _save


def _patch(geom: shapely.Geometry) -> PathPatch | None:
    """A matplotlib patch of a (multi)polygon, holes included."""
    verts, codes = [], []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    if not verts:
        return None
    return PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes)))


def surveillance_map(
    geoms: np.ndarray,
    table: pd.DataFrame,
    site_xy: np.ndarray,
    path: Path,
) -> None:
    """Tracts coloured by effective cameras per 1,000 residents (log scale); grey: not in the
    model (250 residents or fewer); white: no coverage; dots: protest sites."""
    level = table["surveillance_per_1000"].to_numpy(float)
    in_model = table["in_model"].to_numpy(bool)
    fig, ax = plt.subplots(figsize=(10, 10))
    positive = in_model & (level > 0)
    vmin = max(np.nanpercentile(level[positive], 2), 1e-3) if positive.any() else 1e-3
    vmax = np.nanpercentile(level[positive], 99) if positive.any() else 1.0
    norm = LogNorm(vmin=vmin, vmax=vmax)
    cmap = plt.get_cmap("magma_r")
    patches, colours = [], []
    for geom, lv, ok in zip(geoms, level, in_model):
        patch = _patch(geom)
        if patch is None:
            continue
        patches.append(patch)
        if not ok:
            colours.append((0.8, 0.8, 0.8, 1.0))
        elif lv <= 0:
            colours.append((1.0, 1.0, 1.0, 1.0))
        else:
            colours.append(cmap(norm(np.clip(lv, vmin, vmax))))
    ax.add_collection(
        PatchCollection(patches, facecolors=colours, edgecolors=(0.5, 0.5, 0.5), linewidths=0.15)
    )
    ax.scatter(site_xy[:, 0], site_xy[:, 1], s=14, c="tab:cyan", edgecolors="k", zorder=3)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, shrink=0.6, label="effective public cameras per 1,000 residents")
    ax.set_title(
        "Surveillance per census tract (Amnesty's method, 2020 census, Ban the Scan public "
        "sites)\ngrey: 250 residents or fewer; white: no public camera within 120 m; dots: the 20 "
        "protest sites",
        fontsize=10,
    )
    _save(fig, path)


def borough_scatter(table: pd.DataFrame, model: pd.DataFrame, path: Path) -> None:
    """Per borough: each tract's surveillance against its non-white share, with the fitted
    probability of surveillance above the threshold (right axis)."""
    used = table[table["in_model"]]
    rows = list(model.itertuples())
    ncols = min(3, len(rows))
    nrows = -(-len(rows) // ncols)
    fig, grid_axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 4 * nrows), squeeze=False)
    axes = grid_axes.ravel()
    for spare in axes[len(rows) :]:
        spare.set_visible(False)
    grid = np.linspace(0, 1, 101)
    for ax, row in zip(axes, rows):
        mine = used[used["borough"] == row.borough]
        level = mine["surveillance_per_1000"].to_numpy(float)
        above = level > SURVEILLANCE_THRESHOLD
        ax.scatter(
            mine["nonwhite_fraction"][~above],
            np.maximum(level[~above], 1e-3),
            s=5,
            alpha=0.5,
            c="tab:blue",
        )
        ax.scatter(mine["nonwhite_fraction"][above], level[above], s=5, alpha=0.5, c="tab:red")
        ax.set_yscale("log")
        ax.set_ylim(1e-3 * 0.8, max(20.0, np.nanmax(level) * 1.2) if len(level) else 20.0)
        ax.axhline(SURVEILLANCE_THRESHOLD, color="k", lw=0.8, ls="--")
        ax.set_xlabel("non-white fraction (Black + Hispanic)")
        ax.set_title(
            f"{row.borough}: slope {row.nonwhite_coef:+.2f} (p = {row.nonwhite_p:.2g})",
            fontsize=9,
        )
        ax.grid(alpha=0.3)
        twin = ax.twinx()
        twin.plot(grid, fitted_probability(row.intercept, row.nonwhite_coef, grid), c="k", lw=2)
        twin.set_ylim(0, 1)
        twin.set_ylabel("fitted P(surveillance > 0.2)")
        ax.set_ylabel("effective cameras per 1,000 residents\n(0 drawn at 0.001)")
    fig.suptitle(
        "Tracts above (red) and below (blue) 0.2 effective cameras per 1,000 residents; "
        "black: fitted logistic curve",
        fontsize=10,
    )
    fig.tight_layout()
    _save(fig, path)
