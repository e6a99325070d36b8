"""Figures: exposure distributions, maps of cameras and streets, the crowd over time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402

from sim.columns import column
from sim.geo import lonlat_to_xy
from sim.outputs.basemap import Basemap
from sim.outputs.cartography import (
    RAMP,
    SITE_GREEN,
    MapFrame,
    draw_cameras,
    draw_city,
    draw_edits,
    draw_site,
    draw_stations,
    draw_street_names,
    draw_streets,
    finish,
    lines_of,
    new_map,
    save,
    street_names,
)

# Half-width (metres) of a map of ranked camera sites at least; wider when they spread wider.
HIGHLIGHT_MIN_EXTENT_M = 250.0


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
    save(fig, path)


# What the comparison figure shows, one panel each.
COMPARISON_PANELS = ("seen_walk_s", "seen_total_s", "camera_s")
_STYLES = ["-", "--", ":", "-."]


def ecdf_panels(agents_by_label: dict[str, pd.DataFrame], panels: tuple[str, ...], title: str):
    """One panel per output column (its label and unit from ``sim.columns``): the share of
    protesters at or below each value, one line per scenario (readable with ten scenarios:
    distinct colours, then line styles; the first black, dashed and on top, so runs equal to
    it do not hide it; the legend below the panels). Returns the figure."""
    width = 4.7 * len(panels) if len(panels) > 2 else 4.6 * len(panels) + 0.4
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 4.8), sharey=True, squeeze=False)
    axes = axes[0]
    colours = plt.get_cmap("tab10").colors
    for k, (label, agents) in enumerate(agents_by_label.items()):
        style = {
            "color": colours[(k - 1) % 10],
            "linestyle": _STYLES[((k - 1) // 10) % len(_STYLES)],
            "linewidth": 1.4,
            "zorder": 3,
        }
        if k == 0:
            style.update(color="black", linestyle=(0, (4, 2)), linewidth=1.8, zorder=5)
        for ax, name in zip(axes, panels):
            values = agents[name].to_numpy(float)
            values = np.sort(values[np.isfinite(values)]) / column(name).scale
            if values.size:
                y = np.arange(1, len(values) + 1) / len(values)
                ax.step(values, y, where="post", label=label, **style)
    for ax, name in zip(axes, panels):
        ax.set_xlabel(f"{column(name).short} per protester")
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    _, pooled = _pooled_note(next(iter(agents_by_label.values())))
    axes[0].set_ylabel("share of protesters at or below" + (f"\n({pooled})" if pooled else ""))
    axes[0].set_ylim(0, 1.02)
    handles, labels = axes[0].get_legend_handles_labels()
    many = len(labels) > 1
    fig.legend(
        handles,
        [f"{lab} (base)" if i == 0 and many else lab for i, lab in enumerate(labels)],
        loc="lower center",
        ncol=min(3, len(labels)),
        fontsize=8,
        frameon=False,
    )
    rows = -(-len(labels) // 3)
    fig.subplots_adjust(bottom=0.13 + 0.04 * rows, top=0.88, wspace=0.08)
    fig.suptitle(title)
    return fig


def comparison_figure(agents_by_label: dict[str, pd.DataFrame], path: Path, title: str) -> None:
    """The comparison's ECDFs of walking, total and camera exposure, one line per scenario."""
    save(ecdf_panels(agents_by_label, COMPARISON_PANELS, title), path)


@dataclass(frozen=True)
class SiteMark:
    """The assembly site as a map draws it: its name, point and area (UTM 18N metres)."""

    name: str
    x: float
    y: float
    area: shapely.Geometry | None = None


@dataclass(frozen=True)
class CameraMarks:
    """Camera sites as a map draws them: place (UTM 18N metres, n x 2) and class."""

    xy: np.ndarray
    cls: np.ndarray


def street_map(
    frame: MapFrame,
    street_geom: np.ndarray,
    values: np.ndarray,
    breaks: list[float],
    label: str,
    cameras: CameraMarks,
    site: SiteMark,
    title: str,
    *,
    stations: list[tuple[str, float, float]] | None = None,
    city: Basemap | None = None,
    highlight: np.ndarray | None = None,
    edits: tuple[np.ndarray, np.ndarray] | None = None,
    zero_label: str = "streets and footways",
    names: tuple[np.ndarray, np.ndarray] | None = None,
):
    """Streets (UTM lines) coloured by ``values`` in the classes ``breaks`` (0 in grey) over
    water and borough outlines (``city``, with a locator inset), with camera sites by class, the
    stations protesters come from, the site and, where given, camera sites a scenario edited
    and ranked sites numbered 1, 2, ... in the order of ``highlight``; the major streets named
    where ``names`` (each street's OSM name and class) are given. Returns the figure."""
    fig, ax = new_map()
    if city is not None:
        draw_city(ax, frame, city)
    lines, owner = lines_of(street_geom, frame)
    shown = np.asarray(values, float)[owner] if owner.size else np.zeros(0)
    hot = shown > 0
    draw_streets(
        ax,
        [line for line, h in zip(lines, hot) if not h],
        label=zero_label,
    )
    if hot.any():
        norm = BoundaryNorm([0.0, *breaks], len(breaks))
        lc = LineCollection(
            [line for line, h in zip(lines, hot) if h],
            array=shown[hot],
            cmap=ListedColormap(RAMP[: len(breaks)]),
            norm=norm,
            linewidths=1.8,
            zorder=4,
        )
        ax.add_collection(lc)
        fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02, spacing="uniform", label=label)
    if names is not None:
        draw_street_names(ax, frame, street_names(frame, street_geom, names[0], names[1], values))
    draw_cameras(ax, frame, cameras.xy, cameras.cls)
    if edits is not None:
        draw_edits(ax, frame, *edits)
    if highlight is not None and highlight.size:
        _number_sites(ax, frame, cameras.xy[highlight])
    if stations:
        draw_stations(ax, frame, stations)
    draw_site(ax, frame, site.name, (site.x, site.y), site.area)
    finish(ax, frame, title, ncol=2)
    return fig


def _number_sites(ax, frame: MapFrame, xy: np.ndarray) -> None:
    """Ranked camera sites circled and numbered 1, 2, ... on short leaders fanned out by the
    golden angle, so that sites metres apart (several cameras on one corner) stay readable."""
    local = frame.local(xy)
    ax.scatter(
        local[:, 0],
        local[:, 1],
        s=36,
        facecolors="none",
        edgecolors="k",
        linewidths=1.2,
        label="ranked camera sites (number = rank)",
        zorder=8,
    )
    for rank, (x, y) in enumerate(local, 1):
        angle = np.deg2rad(rank * 137.5)
        ax.annotate(
            str(rank),
            (x, y),
            xytext=(22 * np.cos(angle), 22 * np.sin(angle)),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "k", "lw": 0.8},
            arrowprops={"arrowstyle": "-", "lw": 0.7, "color": "k"},
            zorder=9,
        )


def ranked_extent(site: SiteMark, xy: np.ndarray, extent_m: float) -> float:
    """Half-width of a map of ranked camera sites: zoomed to them, so their numbers stay
    legible, but at least :data:`HIGHLIGHT_MIN_EXTENT_M`."""
    if not len(xy):
        return extent_m
    reach = float(np.abs(np.asarray(xy) - (site.x, site.y)).max())
    return min(extent_m, max(HIGHLIGHT_MIN_EXTENT_M, 1.2 * reach))


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
    save(fig, path)


def route_map(
    route_lines: list[np.ndarray],
    covered_lines: list[np.ndarray],
    cameras: CameraMarks,
    title: str,
    *,
    pad_m: float = 250.0,
    edge_geom: np.ndarray | None = None,
    city: Basemap | None = None,
    start_name: str = "start",
    end_name: str = "end",
):
    """A route (UTM lines) over water, borough outlines and, where a walk network is given,
    its streets; the route's stretches in view, camera sites around it by class, and its
    start and end named. Axes in metres from the start. Returns the figure."""
    pts = np.concatenate(route_lines)
    (x0, y0), (x1, y1) = pts.min(axis=0) - pad_m, pts.max(axis=0) + pad_m
    start, end = route_lines[0][0], route_lines[-1][-1]
    frame = MapFrame(
        (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2, start[0], start[1], "the start"
    )
    fig, ax = new_map(8.6)
    if city is not None:
        draw_city(ax, frame, city)
    if edge_geom is not None:
        draw_streets(ax, lines_of(edge_geom, frame)[0], label="streets and footways", lw=0.6)
    ax.add_collection(
        LineCollection(
            [frame.local(line) for line in route_lines],
            colors="#1f3fbf",
            linewidths=5,
            alpha=0.85,
            zorder=3,
        )
    )
    ax.plot([], [], color="#1f3fbf", lw=5, alpha=0.85, label="route")
    if covered_lines:
        ax.add_collection(
            LineCollection(
                [frame.local(line) for line in covered_lines],
                colors="#ffd60a",
                linewidths=2,
                zorder=4,
            )
        )
        ax.plot([], [], color="#ffd60a", lw=2, label="in view of a camera")
    draw_cameras(ax, frame, cameras.xy, cameras.cls)
    sx, sy = frame.local(start)
    ex, ey = frame.local(end)
    ax.plot([sx], [sy], "o", ms=11, c=SITE_GREEN, mec="k", label=f"start ({start_name})", zorder=9)
    ax.plot([ex], [ey], "s", ms=10, c="#111111", mec="w", label=f"end ({end_name})", zorder=9)
    finish(ax, frame, title, ncol=2)
    return fig


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
    save(fig, path)


def station_marks(places: list[dict]) -> list[tuple[str, float, float]]:
    """Stations as the maps draw them, from their places (``station_places``: name, lat, lon,
    share): those protesters come from, in UTM metres."""
    used = [p for p in places if p["share"] > 0]
    if not used:
        return []
    x, y = lonlat_to_xy([p["lon"] for p in used], [p["lat"] for p in used])
    return [(str(p["station"]), float(a), float(b)) for p, a, b in zip(used, x, y)]
