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

DPI = 130


def _save(fig, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


def exposure_distribution(
    agents_by_label: dict[str, pd.DataFrame], metric: str, path: Path, title: str
) -> None:
    """ECDF and histogram of one exposure metric, one line per labelled run."""
    fig, (ax_ecdf, ax_hist) = plt.subplots(1, 2, figsize=(11, 4))
    for label, agents in agents_by_label.items():
        values = np.sort(agents[metric].to_numpy(float))
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        ax_ecdf.step(
            values / 60.0, np.arange(1, len(values) + 1) / len(values), where="post", label=label
        )
        ax_hist.hist(values / 60.0, bins=40, alpha=0.5, label=label)
    unit = "minutes" if metric.endswith("_s") else ""
    for ax in (ax_ecdf, ax_hist):
        ax.set_xlabel(f"{metric} ({unit})" if unit else metric)
        ax.grid(alpha=0.3)
    ax_ecdf.set_ylabel("share of protesters at or below")
    ax_hist.set_ylabel("protesters")
    ax_ecdf.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def _edge_lines(edge_geom: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(g.coords) for g in edge_geom[edges]]


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
) -> None:
    """Streets near the site coloured by ``values`` (edges with 0 in grey), and camera sites."""
    x0, y0 = site_xy
    box = shapely.box(x0 - extent_m, y0 - extent_m, x0 + extent_m, y0 + extent_m)
    near = np.flatnonzero(shapely.intersects(edge_geom, box))
    fig, ax = plt.subplots(figsize=(8, 8))
    base = LineCollection(_edge_lines(edge_geom, near), colors="#cccccc", linewidths=0.5)
    ax.add_collection(base)
    hot = near[values[near] > 0]
    if hot.size:
        lc = LineCollection(
            _edge_lines(edge_geom, hot), array=values[hot], cmap="inferno_r", linewidths=1.8
        )
        ax.add_collection(lc)
        fig.colorbar(lc, ax=ax, shrink=0.7, label=label)
    inside = (np.abs(camera_xy[:, 0] - x0) < extent_m) & (np.abs(camera_xy[:, 1] - y0) < extent_m)
    pub = inside & camera_public
    ax.scatter(
        camera_xy[inside & ~pub, 0],
        camera_xy[inside & ~pub, 1],
        s=4,
        c="#1f77b4",
        label="private / other camera site",
        zorder=3,
    )
    ax.scatter(
        camera_xy[pub, 0],
        camera_xy[pub, 1],
        s=10,
        c="#d62728",
        marker="^",
        label="public camera site",
        zorder=4,
    )
    if highlight is not None and highlight.size:
        ax.scatter(
            camera_xy[highlight, 0],
            camera_xy[highlight, 1],
            s=80,
            facecolors="none",
            edgecolors="k",
            linewidths=1.5,
            label="ranked sites",
            zorder=5,
        )
    ax.plot([x0], [y0], marker="*", ms=16, c="#2ca02c", label="assembly site", zorder=6)
    ax.set_xlim(x0 - extent_m, x0 + extent_m)
    ax.set_ylim(y0 - extent_m, y0 + extent_m)
    ax.set_aspect("equal")
    ax.set_xlabel("UTM 18N easting (m)")
    ax.set_ylabel("northing (m)")
    ax.legend(loc="lower left", fontsize=8)
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
) -> None:
    """A route, its stretches in view, and camera sites around it."""
    pts = np.concatenate(route_lines)
    x0, y0 = pts.min(axis=0) - pad_m
    x1, y1 = pts.max(axis=0) + pad_m
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.add_collection(LineCollection(route_lines, colors="#555555", linewidths=3, label="route"))
    if covered_lines:
        ax.add_collection(
            LineCollection(
                covered_lines, colors="#d62728", linewidths=3, label="in view of a camera"
            )
        )
    inside = (
        (camera_xy[:, 0] > x0)
        & (camera_xy[:, 0] < x1)
        & (camera_xy[:, 1] > y0)
        & (camera_xy[:, 1] < y1)
    )
    ax.scatter(
        camera_xy[inside & camera_public, 0],
        camera_xy[inside & camera_public, 1],
        s=14,
        c="#d62728",
        marker="^",
        label="public camera site",
    )
    ax.scatter(
        camera_xy[inside & ~camera_public, 0],
        camera_xy[inside & ~camera_public, 1],
        s=5,
        c="#1f77b4",
        label="other camera site",
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="best")
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
