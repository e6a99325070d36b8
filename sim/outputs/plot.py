"""Figures: exposure distributions, maps of cameras and streets, the crowd over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from sim.atomic import replacing
from sim.columns import column

DPI = 130
# Half-width (metres) of a map of ranked camera sites at least; wider when they spread wider.
HIGHLIGHT_MIN_EXTENT_M = 250.0


def _save(fig, path: Path) -> None:
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)


def _pooled_note(agents: pd.DataFrame) -> tuple[int, str]:
    reps = int(agents["replication"].nunique()) if "replication" in agents else 1
    return reps, ("" if reps == 1 else f"{reps} replications pooled")


def exposure_distribution(
    agents_by_label: dict[str, pd.DataFrame],
    metric: str,
    path: Path,
    title: str,
    xlabel: str = "",
) -> None:
    """ECDF and histogram of one exposure metric (seconds, shown in minutes) per labelled run.

    The ECDF pools every replication's protesters; the histogram shows protesters per
    replication (counts divided by the number of replications), so its bars add up to one
    replication's crowd.
    """
    fig, (ax_ecdf, ax_hist) = plt.subplots(1, 2, figsize=(11, 4.2))
    notes = set()
    for label, agents in agents_by_label.items():
        values = agents[metric].to_numpy(float)
        values = np.sort(values[np.isfinite(values)])
        if values.size == 0:
            continue
        reps, note = _pooled_note(agents)
        notes.add(note)
        ax_ecdf.step(
            values / 60.0, np.arange(1, len(values) + 1) / len(values), where="post", label=label
        )
        ax_hist.hist(
            values / 60.0,
            bins=40,
            weights=np.full(len(values), 1.0 / reps),
            alpha=0.6 if len(agents_by_label) > 1 else 0.9,
            label=label,
        )
    xlabel = xlabel or f"{metric.removesuffix('_s').replace('_', ' ')}, minutes per protester"
    pooled = " ".join(n for n in notes if n)
    for ax in (ax_ecdf, ax_hist):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    ax_ecdf.set_ylabel("share of protesters at or below" + (f"\n({pooled})" if pooled else ""))
    ax_ecdf.set_ylim(0, 1.02)
    reps_text = f" (mean of {pooled.split()[0]} replications)" if pooled else ""
    ax_hist.set_ylabel(f"protesters per replication{reps_text}")
    if len(agents_by_label) > 1:
        ax_ecdf.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


# What the comparison figure shows, one panel each: (column, axis label)
COMPARISON_PANELS = [
    (name, column(name).short) for name in ("seen_walk_s", "seen_total_s", "camera_s")
]
_STYLES = ["-", "--", ":", "-."]


def comparison_figure(agents_by_label: dict[str, pd.DataFrame], path: Path, title: str) -> None:
    """ECDF lines of walking, total and camera exposure, one line per scenario (readable with
    ten scenarios: distinct colours, then line styles; the legend below the panels)."""
    fig, axes = plt.subplots(1, len(COMPARISON_PANELS), figsize=(14, 4.8), sharey=True)
    colours = plt.get_cmap("tab10").colors
    for k, (label, agents) in enumerate(agents_by_label.items()):
        style = {
            "color": colours[(k - 1) % 10],
            "linestyle": _STYLES[((k - 1) // 10) % len(_STYLES)],
            "linewidth": 1.4,
            "zorder": 3,
        }
        if k == 0:  # the base: black and on top, so runs equal to it do not hide it
            style.update(color="black", linestyle=(0, (4, 2)), linewidth=1.8, zorder=5)
        for ax, (name, _) in zip(axes, COMPARISON_PANELS):
            values = agents[name].to_numpy(float)
            values = np.sort(values[np.isfinite(values)])
            if values.size:
                y = np.arange(1, len(values) + 1) / len(values)
                ax.step(values / 60.0, y, where="post", label=label, **style)
    for ax, (_, xlabel) in zip(axes, COMPARISON_PANELS):
        ax.set_xlabel(f"{xlabel} per protester")
        ax.grid(alpha=0.3)
    _, pooled = _pooled_note(next(iter(agents_by_label.values())))
    axes[0].set_ylabel("share of protesters at or below" + (f"\n({pooled})" if pooled else ""))
    axes[0].set_ylim(0, 1.02)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        [f"{lab} (base)" if i == 0 else lab for i, lab in enumerate(labels)],
        loc="lower center",
        ncol=min(3, len(labels)),
        fontsize=8,
        frameon=False,
    )
    rows = -(-len(labels) // 3)
    fig.subplots_adjust(bottom=0.13 + 0.04 * rows, top=0.88, wspace=0.08)
    fig.suptitle(title)
    _save(fig, path)


def _edge_lines(edge_geom: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(g.coords) for g in edge_geom[edges]]


def _local_axes(ax, x0: float, y0: float, extent: tuple[float, float, float, float], where: str):
    """Axes in metres east and north of ``where`` at (x0, y0), north up."""
    ax.set_xlim(extent[0] - x0, extent[1] - x0)
    ax.set_ylim(extent[2] - y0, extent[3] - y0)
    ax.set_aspect("equal")
    ax.set_xlabel(f"metres east of {where}")
    ax.set_ylabel(f"metres north of {where} (north up)")
    ax.grid(alpha=0.15)


def _shift(lines: list[np.ndarray], x0: float, y0: float) -> list[np.ndarray]:
    return [line - (x0, y0) for line in lines]


def _legend_below(ax, ncol: int = 3) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=ncol, fontsize=8, frameon=False)


def network_map(
    edge_geom: np.ndarray,
    values: np.ndarray,
    camera_xy: np.ndarray,
    camera_public: np.ndarray,
    site_xy: tuple[float, float],
    path: Path,
    title: str,
    label: str,
    extent_m: float = 1800.0,
    highlight: np.ndarray | None = None,
    site_name: str = "the site",
    stations: list[tuple[str, float, float]] | None = None,
) -> None:
    """Streets near the site coloured by ``values`` (edges with 0 in grey), camera sites, the
    site and (as context) the stations protesters come from; ``highlight`` camera sites are
    numbered 1, 2, ... in their order. Axes in metres from the site."""
    x0, y0 = site_xy
    if highlight is not None and highlight.size:
        # zoom to the numbered sites, so their numbers stay legible
        reach = np.abs(camera_xy[highlight] - (x0, y0)).max()
        extent_m = min(extent_m, max(HIGHLIGHT_MIN_EXTENT_M, 1.2 * reach))
    box = shapely.box(x0 - extent_m, y0 - extent_m, x0 + extent_m, y0 + extent_m)
    near = np.flatnonzero(shapely.intersects(edge_geom, box))
    fig, ax = plt.subplots(figsize=(8, 8.8))
    base = LineCollection(
        _shift(_edge_lines(edge_geom, near), x0, y0), colors="#c8c8c8", linewidths=0.5
    )
    ax.add_collection(base)
    hot = near[values[near] > 0]
    if hot.size:
        lc = LineCollection(
            _shift(_edge_lines(edge_geom, hot), x0, y0),
            array=values[hot],
            cmap="inferno_r",
            linewidths=1.8,
        )
        ax.add_collection(lc)
        fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02, label=label)
    cx, cy = camera_xy[:, 0] - x0, camera_xy[:, 1] - y0
    inside = (np.abs(cx) < extent_m) & (np.abs(cy) < extent_m)
    pub = inside & camera_public
    ax.scatter(
        cx[inside & ~pub],
        cy[inside & ~pub],
        s=4,
        c="#1f77b4",
        label="private / other camera site",
        zorder=3,
    )
    ax.scatter(
        cx[pub], cy[pub], s=10, c="#d62728", marker="^", label="public camera site", zorder=4
    )
    if highlight is not None and highlight.size:
        ax.scatter(
            cx[highlight],
            cy[highlight],
            s=36,
            facecolors="none",
            edgecolors="k",
            linewidths=1.2,
            label="ranked camera sites (number = rank)",
            zorder=5,
        )
        for rank, i in enumerate(highlight, 1):
            # numbers on short leaders fanned out by the golden angle: sites metres apart
            # (several cameras on one corner) keep readable numbers
            angle = np.deg2rad(rank * 137.5)
            ax.annotate(
                str(rank),
                (cx[i], cy[i]),
                xytext=(22 * np.cos(angle), 22 * np.sin(angle)),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "k", "lw": 0.8},
                arrowprops={"arrowstyle": "-", "lw": 0.7, "color": "k"},
                zorder=6,
            )
    if stations:
        sx = np.array([s[1] for s in stations]) - x0
        sy = np.array([s[2] for s in stations]) - y0
        ax.scatter(
            sx,
            sy,
            s=22,
            marker="s",
            c="#2ca02c",
            edgecolors="k",
            linewidths=0.4,
            label="subway station (exits)",
            zorder=5,
        )
        for name, x, y in stations:
            if abs(x - x0) < extent_m and abs(y - y0) < extent_m:
                ax.annotate(
                    name,
                    (x - x0, y - y0),
                    xytext=(4, 3),
                    textcoords="offset points",
                    fontsize=6.5,
                    color="#1b5e20",
                    zorder=6,
                )
    ax.plot(
        [0],
        [0],
        marker="*",
        ms=18,
        c="#ffbf00",
        mec="k",
        label=site_name,
        zorder=7,
        linestyle="none",
    )
    _local_axes(ax, 0, 0, (-extent_m, extent_m, -extent_m, extent_m), site_name)
    _legend_below(ax)
    ax.set_title(title)
    _save(fig, path)


def crowd_over_time(series: pd.DataFrame, path: Path, title: str) -> None:
    """Protesters on the street, at the site and in view, and cumulative camera exposure."""
    # replications end at different times: carry each one's last state to the common end
    columns = ["on_street", "at_site", "in_view", "cumulative_seen_s", "cumulative_camera_s"]
    wide = series.pivot_table(index="t_s", columns="replication", values=columns).ffill()
    mean = wide.T.groupby(level=0).mean().T
    minutes = mean.index.to_numpy(float) / 60.0
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    ax1.plot(minutes, mean["on_street"], label="on the street")
    ax1.plot(minutes, mean["at_site"], label="at the site")
    ax1.plot(minutes, mean["in_view"], label="in view of a camera")
    ax1.set_ylabel("protesters (mean of replications)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.plot(minutes, mean["cumulative_seen_s"] / 3600.0, label="person-hours in view")
    ax2.plot(minutes, mean["cumulative_camera_s"] / 3600.0, label="camera-hours of footage")
    ax2.set_xlabel("minutes since the first departure window opened")
    ax2.set_ylabel("cumulative hours")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    _save(fig, path)


def route_map(
    route_lines: list[np.ndarray],
    covered_lines: list[np.ndarray],
    camera_xy: np.ndarray,
    camera_public: np.ndarray,
    path: Path,
    title: str,
    pad_m: float = 250.0,
    edge_geom: np.ndarray | None = None,
    start_name: str = "start",
    end_name: str = "end",
) -> None:
    """A route over the street network, its stretches in view, camera sites around it, and
    its start and end. Axes in metres from the start."""
    pts = np.concatenate(route_lines)
    x0, y0 = pts.min(axis=0) - pad_m
    x1, y1 = pts.max(axis=0) + pad_m
    side = max(x1 - x0, y1 - y0)  # a square map, so short routes are not a sliver
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - side / 2, cx + side / 2, cy - side / 2, cy + side / 2
    start, end = route_lines[0][0], route_lines[-1][-1]
    ox, oy = start
    fig, ax = plt.subplots(figsize=(7.5, 8.3))
    if edge_geom is not None:
        near = np.flatnonzero(shapely.intersects(edge_geom, shapely.box(x0, y0, x1, y1)))
        ax.add_collection(
            LineCollection(
                _shift(_edge_lines(edge_geom, near), ox, oy),
                colors="#c8c8c8",
                linewidths=0.6,
                label="streets and footways",
                zorder=1,
            )
        )
    ax.add_collection(
        LineCollection(
            _shift(route_lines, ox, oy),
            colors="#1f3fbf",
            linewidths=5,
            alpha=0.85,
            label="route",
            zorder=2,
        )
    )
    if covered_lines:
        ax.add_collection(
            LineCollection(
                _shift(covered_lines, ox, oy),
                colors="#ff3b30",
                linewidths=2,
                label="in view of a camera",
                zorder=3,
            )
        )
    inside = (
        (camera_xy[:, 0] > x0)
        & (camera_xy[:, 0] < x1)
        & (camera_xy[:, 1] > y0)
        & (camera_xy[:, 1] < y1)
    )
    ax.scatter(
        camera_xy[inside & camera_public, 0] - ox,
        camera_xy[inside & camera_public, 1] - oy,
        s=16,
        c="#d62728",
        marker="^",
        label="public camera site",
        zorder=4,
    )
    if (inside & ~camera_public).any():
        ax.scatter(
            camera_xy[inside & ~camera_public, 0] - ox,
            camera_xy[inside & ~camera_public, 1] - oy,
            s=5,
            c="#1f77b4",
            label="other camera site",
            zorder=4,
        )
    ax.plot([0], [0], "o", ms=11, c="#2ca02c", mec="k", label=f"start: {start_name}", zorder=5)
    ax.plot(
        [end[0] - ox],
        [end[1] - oy],
        "s",
        ms=10,
        c="#111111",
        mec="w",
        label=f"end: {end_name}",
        zorder=5,
    )
    _local_axes(ax, ox, oy, (x0, x1, y0, y1), "the start")
    _legend_below(ax, ncol=2)
    ax.set_title(title)
    _save(fig, path)


def removal_curve(curve: pd.DataFrame, path: Path, title: str) -> None:
    """Share of the crowd's camera-seconds left after removing the top 1..N sites."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(
        curve["removed"], curve["camera_s_left_share"], where="post", label="camera-seconds left"
    )
    if "seen_protesters_left_share" in curve:
        ax.step(
            curve["removed"],
            curve["seen_protesters_left_share"],
            where="post",
            label="protesters still seen",
        )
    ax.set_xlabel("camera sites removed (greedy, most contributing first)")
    ax.set_ylabel("share left")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def station_points(
    names: np.ndarray, x: np.ndarray, y: np.ndarray
) -> list[tuple[str, float, float]]:
    """One labelled point per station name: the mean position of its exits."""
    frame = pd.DataFrame({"name": names, "x": x, "y": y}).groupby("name", sort=True).mean()
    return [(str(n), float(r.x), float(r.y)) for n, r in frame.iterrows()]
