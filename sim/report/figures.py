"""Static figures of a report (matplotlib, Agg): maps with water, borough outlines, scale bar
and north arrow, and the distribution of exposure across the crowd. Returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm  # noqa: E402

from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS  # noqa: E402
from sim.outputs.basemap import Basemap, clip_streets, lines_xy  # noqa: E402

DPI = 150
WATER = "#cfe3f1"
LAND_EDGE = "#6b6b6b"
CLASS_COLOURS = {
    "public_street": "#d62728",
    "nypd_dome": "#9467bd",
    "dot_traffic": "#ff7f0e",
    "linknyc": "#8c564b",
    "private_building": "#1f77b4",
    "unknown": "#7f7f7f",
    "hypothetical": "#2ca02c",
}
RAMP = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"]  # viridis, reversed


def png(fig) -> bytes:
    """The figure as PNG bytes (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _scale_bar(ax, x0: float, x1: float, y0: float, y1: float) -> None:
    """A scale bar of a round length (metres) at the lower right."""
    span = x1 - x0
    length = next(v for v in (2000, 1000, 500, 250, 100) if v <= span / 4)
    bx, by = x1 - span * 0.05 - length, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + length], [by, by], color="k", lw=3, solid_capstyle="butt", zorder=9)
    for x in (bx, bx + length):
        ax.plot([x, x], [by - span * 0.006, by + span * 0.006], color="k", lw=1, zorder=9)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(
        bx + length / 2,
        by + span * 0.012,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=9,
        bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1},
    )


def _north_arrow(ax) -> None:
    """A north arrow at the upper right (UTM grid north, within 1 degree of true north here)."""
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.5},
        zorder=9,
    )


def _locator(fig, ax, basemap: Basemap) -> None:
    """An inset at the lower left: the five boroughs and the map's extent in red."""
    inset = ax.inset_axes([0.0, 0.0, 0.2, 0.24])
    city = basemap.city.to_crs(PROJECTED_CRS)
    for geom in city.geometry:
        for ring in _polys(geom):
            inset.fill(ring[:, 0], ring[:, 1], color="#eeeeee", ec="#555555", lw=0.4)
    box = gpd.GeoSeries([shapely.box(*basemap.bounds)], crs=GEOGRAPHIC_CRS).to_crs(PROJECTED_CRS)
    bx0, by0, bx1, by1 = box.total_bounds
    inset.plot([bx0, bx1, bx1, bx0, bx0], [by0, by0, by1, by1, by0], color="#d62728", lw=1.2)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_facecolor(WATER)
    inset.set_title("New York City", fontsize=6, pad=1)


def _polys(geom) -> list[np.ndarray]:
    if geom is None or geom.is_empty:
        return []
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    return [np.asarray(p.exterior.coords) for p in parts if p.geom_type == "Polygon"]


def street_map(
    basemap: Basemap,
    streets: gpd.GeoDataFrame,
    column: str,
    breaks: list[float],
    colour_label: str,
    cameras: gpd.GeoDataFrame,
    site: gpd.GeoDataFrame,
    title: str,
    edits: gpd.GeoDataFrame | None = None,
) -> bytes:
    """Streets coloured by ``column`` in classes ``breaks`` over the city, with camera sites."""
    bounds = basemap.bounds
    box = gpd.GeoSeries([shapely.box(*bounds)], crs=GEOGRAPHIC_CRS).to_crs(PROJECTED_CRS)
    x0, y0, x1, y1 = box.total_bounds
    fig, ax = plt.subplots(figsize=(7.2, 7.2 * (y1 - y0) / (x1 - x0) + 0.6))
    ax.set_facecolor("white")
    water = basemap.water.to_crs(PROJECTED_CRS).geometry.iloc[0]
    # holes (islands) are drawn over in white by the land outline below
    for ring in _polys(water):
        ax.fill(ring[:, 0], ring[:, 1], color=WATER, zorder=0, lw=0)
    for poly in getattr(water, "geoms", [water]):
        for hole in getattr(poly, "interiors", []):
            h = np.asarray(hole.coords)
            ax.fill(h[:, 0], h[:, 1], color="white", zorder=0.5, lw=0)
    ax.add_collection(
        LineCollection(
            lines_xy(basemap.boroughs), colors=LAND_EDGE, linewidths=0.8, linestyles="--", zorder=1
        )
    )
    near = clip_streets(streets, bounds)
    ax.add_collection(LineCollection(lines_xy(near), colors="#c8c8c8", linewidths=0.4, zorder=2))
    hot = near[near[column] > 0]
    edges = [0.0, *breaks]
    norm = BoundaryNorm(edges, len(breaks))
    cmap = matplotlib.colors.ListedColormap(RAMP[: len(breaks)])
    lc = LineCollection(
        lines_xy(hot),
        array=hot[column].to_numpy(float),
        cmap=cmap,
        norm=norm,
        linewidths=1.8,
        zorder=4,
    )
    ax.add_collection(lc)
    cbar = fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02, spacing="uniform")
    cbar.set_label(colour_label)
    cams = cameras.to_crs(PROJECTED_CRS)
    for cls, group in cams.groupby("class", sort=True):
        ax.scatter(
            group.geometry.x,
            group.geometry.y,
            s=5 if cls != "public_street" else 9,
            c=CLASS_COLOURS.get(cls, "#333333"),
            marker="^" if cls == "public_street" else "o",
            label=f"camera site: {cls.replace('_', ' ')}",
            zorder=5,
            lw=0,
        )
    if edits is not None and len(edits):
        e = edits.to_crs(PROJECTED_CRS)
        for action, marker in (("removed", "x"), ("added", "P")):
            g = e[e["action"] == action]
            if len(g):
                ax.scatter(
                    g.geometry.x,
                    g.geometry.y,
                    s=22,
                    marker=marker,
                    c="k",
                    lw=1,
                    label=f"camera site {action} by the scenario",
                    zorder=6,
                )
    for ring in _polys(site.to_crs(PROJECTED_CRS).geometry.iloc[0]):
        ax.plot(ring[:, 0], ring[:, 1], color="#2ca02c", lw=2, zorder=7, label="assembly site area")
    ax.fill([], [], color=WATER, label="water")
    ax.plot([], [], color=LAND_EDGE, ls="--", lw=0.8, label="borough boundary")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t / 1000:.1f}" for t in ticks], fontsize=7)
    yt = ax.get_yticks()
    ax.set_yticks(yt)
    ax.set_yticklabels([f"{t / 1000:.1f}" for t in yt], fontsize=7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("easting (km, UTM zone 18N)")
    ax.set_ylabel("northing (km, UTM zone 18N)")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9, markerscale=1.5)
    _scale_bar(ax, x0, x1, y0, y1)
    _north_arrow(ax)
    _locator(fig, ax, basemap)
    ax.set_title(title, fontsize=11)
    return png(fig)


def distribution(agents_by_name: dict[str, object], title: str) -> bytes:
    """Share of protesters at or below each time in view, walking and walk + rally."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, column, what in (
        (axes[0], "seen_walk_s", "while walking"),
        (axes[1], "seen_total_s", "walk and rally"),
    ):
        for name, agents in agents_by_name.items():
            v = np.sort(agents[column].to_numpy(float) / 60.0)
            v = v[np.isfinite(v)]
            if v.size:
                ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=name)
        ax.set_xlabel(f"minutes in view of a camera, {what}")
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)
    axes[0].set_ylabel("share of protesters at or below")
    axes[0].set_ylim(0, 1.01)
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return png(fig)
