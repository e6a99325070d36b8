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

from sim.crowd.stats import wilson_interval
from sim.exposure.equity import SURVEILLANCE_THRESHOLD, fitted_probability
from sim.outputs.cartography import save


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
    save(fig, path)


# Bins of non-white share in which the observed share of highly surveilled tracts is drawn.
SHARE_BINS = np.linspace(0.0, 1.0, 11)


def borough_scatter(table: pd.DataFrame, model: pd.DataFrame, path: Path) -> None:
    """One panel per borough, on one probability axis: the fitted probability that a tract is
    highly surveilled against its non-white share (line), the observed share of such tracts in
    bins of ten points (dots sized by tracts, with a 95% Wilson interval), and every tract as
    a tick at the top (above the threshold) or the bottom (at or below it)."""
    used = table[table["in_model"]]
    rows = list(model.itertuples())
    ncols = min(3, len(rows))
    nrows = -(-len(rows) // ncols)
    fig, grid_axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols, 3.9 * nrows + 0.9), squeeze=False, sharey=True
    )
    axes = grid_axes.ravel()
    for spare in axes[len(rows) :]:
        spare.set_visible(False)
    grid = np.linspace(0, 1, 101)
    for ax, row in zip(axes, rows):
        mine = used[used["borough"] == row.borough]
        x = mine["nonwhite_fraction"].to_numpy(float)
        above = mine["surveillance_per_1000"].to_numpy(float) > SURVEILLANCE_THRESHOLD
        ax.plot(x[above], np.full(above.sum(), 1.03), "|", c="tab:red", ms=6, alpha=0.5)
        ax.plot(x[~above], np.full((~above).sum(), -0.03), "|", c="tab:blue", ms=6, alpha=0.5)
        which = np.clip(np.digitize(x, SHARE_BINS) - 1, 0, len(SHARE_BINS) - 2)
        for b in np.unique(which):
            n, k = int((which == b).sum()), int(above[which == b].sum())
            lo, hi = wilson_interval(k, n)
            mid = (SHARE_BINS[b] + SHARE_BINS[b + 1]) / 2
            ax.plot([mid, mid], [lo, hi], c="0.4", lw=1)
            ax.scatter([mid], [k / n], s=8 + 2.5 * n, c="0.25", zorder=3, lw=0)
        ax.plot(grid, fitted_probability(row.intercept, row.nonwhite_coef, grid), c="k", lw=2)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.07, 1.07)
        ax.set_xlabel("non-white share of residents (Black + Hispanic)")
        ax.set_title(
            f"{row.borough}: {len(mine)} tracts, {int(above.sum())} highly surveilled\n"
            f"slope {row.nonwhite_coef:+.2f} (p = {row.nonwhite_p:.2g})",
            fontsize=9,
        )
        ax.grid(alpha=0.3)
    for ax in grid_axes[:, 0]:
        ax.set_ylabel(
            f"share of tracts above {SURVEILLANCE_THRESHOLD:g}\neffective cameras per 1,000"
        )
    fig.suptitle(
        f"Is a tract highly surveilled (more than {SURVEILLANCE_THRESHOLD:g} effective public "
        "cameras per 1,000 residents)?",
        fontsize=11,
    )
    fig.text(
        0.5,
        0.005,
        "Line: the fitted logistic model (Amnesty's method). Dots: the observed share of tracts "
        "in each ten-point bin of non-white share, sized by tracts, with a 95% interval. "
        "Ticks: each tract, at the top if above the threshold, at the bottom if not.",
        ha="center",
        va="bottom",
        fontsize=8,
        wrap=True,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    save(fig, path)
