"""Drawing a static map, shared by every map the tool makes: metres from a named place with
north up, a scale bar and a north arrow, water and borough outlines, streets, camera sites by
class, named stations and the site, and a legend of exactly what is drawn."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.path  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from sim.atomic import replacing  # noqa: E402
from sim.exposure.camera_model import CLASS_WORDS  # noqa: E402
from sim.geo import GEOGRAPHIC_CRS, PROJECTED_CRS  # noqa: E402
from sim.outputs.basemap import Basemap  # noqa: E402
from sim.outputs.layers import ACCESS_LAYER_HIGHWAY  # noqa: E402

DPI = 130
WATER = "#cfe3f1"
LAND_EDGE = "#6b6b6b"
STREET_GREY = "#c8c8c8"
SITE_GREEN = "#2ca02c"
STATION_GREEN = "#1b5e20"
# One colour per camera class, on every map (static and interactive).
CLASS_COLOURS = {
    "public_street": "#d62728",
    "nypd_dome": "#9467bd",
    "dot_traffic": "#ff7f0e",
    "linknyc": "#8c564b",
    "private_building": "#1f77b4",
    "unknown": "#7f7f7f",
}
# Public street cameras stand out (a larger triangle); the rest are small dots.
_CLASS_MARKERS = {"public_street": ("^", 12)}
RAMP = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"]  # viridis, reversed
# OSM classes of the streets whose names a map shows, most major first.
MAJOR_STREETS = ("trunk", "primary", "secondary", "tertiary")
STREET_NAMES_SHOWN = 12  # at most this many street names on a static map
SHARE_BREAKS_PCT = [20.0, 40.0, 60.0, 80.0, 100.0]  # colour classes of a street's % in view


def nice_breaks(values: np.ndarray, bins: int = 5) -> list[float]:
    """Upper bounds of ``bins`` colour classes for positive ``values`` (quantiles, rounded to
    two significant digits, strictly increasing)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return [1.0]
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:])
    out: list[float] = []
    for q in qs:
        r = float(f"{q:.2g}")
        if not out or r > out[-1]:
            out.append(r)
    out[-1] = max(out[-1], float(values.max()))
    return out


def street_breaks(streets, column: str) -> list[float]:
    """Colour classes of ``column`` over the network's streets. The streets layer's rows for
    the first and last metres (exit to street, site node to a standing point) are left out:
    many short walks of a few protesters each would crowd every street into the top class."""
    if "highway" in streets:
        streets = streets[streets["highway"] != ACCESS_LAYER_HIGHWAY]
    return nice_breaks(streets[column].to_numpy(float))


def class_colour(cls: str) -> str:
    """The colour of a camera class on every map."""
    return CLASS_COLOURS.get(cls, "#333333")


@dataclass(frozen=True)
class MapFrame:
    """A square map ``half`` metres either side of (cx, cy) in UTM 18N, drawn in metres east
    and north of the origin (ox, oy), the place named ``where``."""

    cx: float
    cy: float
    half: float
    ox: float
    oy: float
    where: str

    @classmethod
    def around(cls, x: float, y: float, half: float, where: str) -> MapFrame:
        """A map centred on the place it measures from."""
        return cls(x, y, half, x, y, where)

    @property
    def box(self) -> shapely.Geometry:
        h = self.half
        return shapely.box(self.cx - h, self.cy - h, self.cx + h, self.cy + h)

    @classmethod
    def of_bounds(
        cls, bounds: tuple[float, float, float, float], x: float, y: float, where: str
    ) -> MapFrame:
        """The square around ``bounds`` (lon0, lat0, lon1, lat1), measured from (x, y)."""
        box = gpd.GeoSeries([shapely.box(*bounds)], crs=GEOGRAPHIC_CRS).to_crs(PROJECTED_CRS)
        x0, y0, x1, y1 = box.total_bounds
        return cls((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2, x, y, where)

    def inside(self, xy: np.ndarray) -> np.ndarray:
        """Which points (n x 2, metres) fall on the map."""
        xy = np.asarray(xy, float).reshape(-1, 2)
        return (np.abs(xy[:, 0] - self.cx) < self.half) & (np.abs(xy[:, 1] - self.cy) < self.half)

    def local(self, xy: np.ndarray) -> np.ndarray:
        return np.asarray(xy, float) - (self.ox, self.oy)


def new_map(height_in: float = 8.8):
    """A figure with one square map axis and room below it for the legend."""
    return plt.subplots(figsize=(8, height_in))


def lines_of(geoms: np.ndarray, frame: MapFrame) -> tuple[list[np.ndarray], np.ndarray]:
    """The parts of line geometries (UTM metres) that touch the map, in map coordinates, and
    for each part the index of the geometry it came from."""
    geoms = np.asarray(geoms, dtype=object)
    near = np.flatnonzero(shapely.intersects(geoms, frame.box))
    parts, owner = [], []
    for i in near:
        g = geoms[i]
        for p in getattr(g, "geoms", [g]):
            parts.append(frame.local(np.asarray(p.coords)[:, :2]))
            owner.append(i)
    return parts, np.asarray(owner, dtype=np.int64)


def polygons_of(geom: shapely.Geometry) -> list[shapely.Polygon]:
    """The non-empty polygons of a geometry, however nested (a clip of a multipolygon may be a
    collection holding multipolygons, lines and points)."""
    parts = shapely.get_parts(geom)
    while any(p.geom_type in ("MultiPolygon", "GeometryCollection") for p in parts):
        parts = shapely.get_parts(parts)
    return [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]


# Where a map's locator inset may sit (axes fractions: left, bottom, width, height).
LOCATOR_PLACES = {"lower left": (0.0, 0.0, 0.2, 0.24), "upper left": (0.0, 0.76, 0.2, 0.24)}


def quietest_corner(frame: MapFrame, geom: shapely.Geometry) -> str:
    """The place of :data:`LOCATOR_PLACES` whose inset would cover least of ``geom`` (UTM)."""
    x0, y0 = frame.cx - frame.half, frame.cy - frame.half
    side = 2 * frame.half

    def covered(place: str) -> float:
        left, bottom, width, height = LOCATOR_PLACES[place]
        box = shapely.box(
            x0 + left * side,
            y0 + bottom * side,
            x0 + (left + width) * side,
            y0 + (bottom + height) * side,
        )
        return shapely.area(shapely.intersection(box, geom))

    return min(LOCATOR_PLACES, key=covered)


def draw_city(ax, frame: MapFrame, basemap: Basemap, locator: str = "lower left") -> None:
    """Water (light blue) and borough boundaries (dashed) under everything else, and a locator
    inset (at the lower left, unless told): the five boroughs with the map's extent in red."""
    box = frame.box
    wet = shapely.intersection(basemap.water.to_crs(PROJECTED_CRS).geometry.union_all(), box)
    shown = False
    for poly in polygons_of(wet):
        ring = frame.local(np.asarray(poly.exterior.coords))
        ax.fill(ring[:, 0], ring[:, 1], color=WATER, zorder=0, lw=0)
        for hole in poly.interiors:
            h = frame.local(np.asarray(hole.coords))
            ax.fill(h[:, 0], h[:, 1], color="white", zorder=0.5, lw=0)
        shown = True
    if shown:
        ax.fill([], [], color=WATER, label="water")
    lines, _ = lines_of(basemap.boroughs.to_crs(PROJECTED_CRS).geometry.values, frame)
    if lines:
        ax.add_collection(
            LineCollection(lines, colors=LAND_EDGE, linewidths=0.8, linestyles="--", zorder=1)
        )
        ax.plot([], [], color=LAND_EDGE, ls="--", lw=0.8, label="borough boundary")
    _locator(ax, frame, basemap.city, locator)


def _locator(ax, frame: MapFrame, city: gpd.GeoDataFrame, place: str = "lower left") -> None:
    """An inset (at ``place``): the five boroughs and the map's extent in red."""
    inset = ax.inset_axes(list(LOCATOR_PLACES[place]))
    for geom in city.to_crs(PROJECTED_CRS).geometry:
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type == "Polygon":
                ring = np.asarray(poly.exterior.coords)
                inset.fill(ring[:, 0], ring[:, 1], color="#eeeeee", ec="#555555", lw=0.4)
    x0, y0, x1, y1 = frame.box.bounds
    pad = max(0.0, 600.0 - frame.half)  # a small map still shows as a box, not a dot
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    inset.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="#d62728", lw=1.2)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_facecolor(WATER)
    inset.set_title("New York City", fontsize=6, pad=1)


def draw_streets(ax, lines: list[np.ndarray], label: str | None = None, lw: float = 0.5) -> None:
    """Streets in grey (the walk network as context)."""
    if lines:
        ax.add_collection(LineCollection(lines, colors=STREET_GREY, linewidths=lw, zorder=2))
        if label:
            ax.plot([], [], color=STREET_GREY, lw=1.5, label=label)


def street_names(
    frame: MapFrame,
    geoms: np.ndarray,
    names: np.ndarray,
    highway: np.ndarray,
    weight: np.ndarray,
    at_most: int = STREET_NAMES_SHOWN,
) -> list[tuple[str, float, float, float]]:
    """Names of the major streets inside the map (away from its edges): those with
    ``weight`` (protesters walking them) first, then major classes before minor and longer
    before shorter. Each at the middle of its longest stretch on the map, in map coordinates,
    with the angle (degrees) it runs at there, turned to read left to right."""
    names = np.asarray(names, dtype=object)
    h = frame.half * 0.84
    inner = shapely.box(frame.cx - h, frame.cy - h, frame.cx + h, frame.cy + h)
    pick = np.flatnonzero(
        np.isin(highway, MAJOR_STREETS)
        & (names != "")
        & pd.notna(names)
        & shapely.intersects(geoms, inner)
    )
    if not pick.size:
        return []
    table = pd.DataFrame(
        {
            "name": names[pick].astype(str),
            "rank": [MAJOR_STREETS.index(c) for c in highway[pick]],
            "length": shapely.length(geoms[pick]),
            "weight": np.asarray(weight, float)[pick],
            "row": pick,
        }
    )
    by = table.groupby("name").agg(
        rank=("rank", "min"), length=("length", "sum"), weight=("weight", "sum")
    )
    order = by.sort_values(["rank", "length"], ascending=[True, False])
    order = pd.concat([order[order["weight"] > 0], order[order["weight"] <= 0]])
    out = []
    for name in order.index[:at_most]:
        rows = table.loc[table["name"] == name, "row"].to_numpy()
        merged = shapely.line_merge(shapely.intersection(shapely.union_all(geoms[rows]), inner))
        parts = [g for g in getattr(merged, "geoms", [merged]) if g.geom_type == "LineString"]
        if not parts:
            continue
        piece = max(parts, key=lambda g: g.length)
        mid = piece.interpolate(0.5, normalized=True)
        a = piece.interpolate(max(0.0, piece.length / 2 - 15.0))
        b = piece.interpolate(min(piece.length, piece.length / 2 + 15.0))
        angle = (float(np.degrees(np.arctan2(b.y - a.y, b.x - a.x))) + 90.0) % 180.0 - 90.0
        x, y = frame.local(np.array([mid.x, mid.y]))
        out.append((str(name), float(x), float(y), angle))
    return out


def draw_street_names(ax, frame: MapFrame, labels: list[tuple[str, float, float, float]]) -> None:
    """Street names along their streets, in grey with a white halo; a name whose place is
    too near one already drawn gives way."""
    gap = frame.half * 0.14
    placed: list[tuple[float, float]] = []
    x0, y0 = frame.cx - frame.half - frame.ox, frame.cy - frame.half - frame.oy
    for name, x, y, angle in labels:
        fx, fy = (x - x0) / (2 * frame.half), (y - y0) / (2 * frame.half)
        if (fx < 0.26 and fy < 0.3) or (fx > 0.86 and fy > 0.78):
            continue  # under the locator inset or the north arrow
        if any(np.hypot(x - px, y - py) < gap for px, py in placed):
            continue
        ax.text(
            x,
            y,
            name,
            rotation=angle,
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=6.5,
            color="#333333",
            style="italic",
            zorder=7.5,
            path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")],
        )
        placed.append((x, y))


def draw_districts(
    ax, frame: MapFrame, geoms: np.ndarray, numbers: np.ndarray, focus: int, word: str
) -> None:
    """Council districts: the one at row ``focus`` outlined in dark red with the land outside
    it veiled in white (what lies there is drawn, but steps back), its neighbours outlined in
    grey and numbered at a point inside each."""
    geoms = np.asarray(geoms, dtype=object)
    lines, owner = lines_of(shapely.boundary(geoms), frame)
    others = [line for line, k in zip(lines, owner) if k != focus]
    if others:
        ax.add_collection(LineCollection(others, colors="#777777", linewidths=0.7, zorder=6.2))
        ax.plot([], [], color="#777777", lw=0.7, label=f"other {word}s (numbered)")
    veil = shapely.difference(frame.box, geoms[focus])
    for poly in polygons_of(veil):
        ring = frame.local(np.asarray(poly.exterior.coords))
        holes = [frame.local(np.asarray(h.coords)) for h in poly.interiors]
        path = matplotlib.path.Path.make_compound_path(
            *(matplotlib.path.Path(r, closed=True) for r in [ring, *holes])
        )
        ax.add_patch(
            matplotlib.patches.PathPatch(path, fc="white", ec="none", alpha=0.55, zorder=6.1)
        )
    mine = [line for line, k in zip(lines, owner) if k == focus]
    ax.add_collection(LineCollection(mine, colors="#8b1a1a", linewidths=2.2, zorder=6.3))
    ax.plot([], [], color="#8b1a1a", lw=2.2, label=f"{word} {numbers[focus]}")
    h = frame.half * 0.92
    inner = shapely.box(frame.cx - h, frame.cy - h, frame.cx + h, frame.cy + h)
    for k in np.flatnonzero(shapely.intersects(geoms, inner)):
        if k == focus:
            continue
        part = shapely.intersection(geoms[k], inner)
        if part.is_empty or part.area < (frame.half * 0.05) ** 2:
            continue  # too little of it on the map to carry a label
        p = shapely.point_on_surface(part)
        x, y = frame.local(np.array([p.x, p.y]))
        ax.text(
            x,
            y,
            str(numbers[k]),
            ha="center",
            va="center",
            fontsize=9,
            color="#555555",
            fontweight="bold",
            zorder=6.4,
            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
        )


def draw_cameras(ax, frame: MapFrame, xy: np.ndarray, classes: np.ndarray) -> None:
    """Camera sites on the map, one colour per class; the legend names only classes drawn."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    classes = np.asarray(classes, dtype=object)
    on = frame.inside(xy)
    local = frame.local(xy)
    for cls in sorted(set(classes[on])):
        pick = on & (classes == cls)
        marker, size = _CLASS_MARKERS.get(cls, ("o", 5))
        ax.scatter(
            local[pick, 0],
            local[pick, 1],
            s=size,
            c=class_colour(cls),
            marker=marker,
            lw=0,
            zorder=5,
            label=f"camera site: {CLASS_WORDS.get(cls, cls)}",
        )


def draw_edits(ax, frame: MapFrame, xy: np.ndarray, actions: np.ndarray) -> None:
    """Camera sites a scenario removed (x) or added (+)."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    on = frame.inside(xy)
    local = frame.local(xy)
    for action, marker in (("removed", "x"), ("added", "P")):
        pick = on & (np.asarray(actions) == action)
        if pick.any():
            ax.scatter(
                local[pick, 0],
                local[pick, 1],
                s=24,
                marker=marker,
                c="k",
                lw=1,
                zorder=6,
                label=f"camera site {action} by the scenario",
            )


def draw_stations(
    ax, frame: MapFrame, stations: list[tuple[str, float, float]], spacing: float = 0.0
) -> None:
    """Subway stations (the mean place of their exits), each named beside its square; with
    ``spacing`` (a share of the map's width), a station nearer than that to one already named
    keeps its square but not its name, so that names never pile up."""
    shown = [s for s in stations if frame.inside(np.array([s[1], s[2]])).all()]
    if not shown:
        return
    xy = frame.local(np.array([[s[1], s[2]] for s in shown]))
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=22,
        marker="s",
        c=SITE_GREEN,
        edgecolors="k",
        linewidths=0.4,
        label="subway station (its exits)",
        zorder=7,
    )
    named: list[tuple[float, float]] = []
    gap = spacing * 2 * frame.half
    for (name, _, _), (x, y) in zip(shown, xy, strict=True):
        if gap and any(np.hypot(x - a, y - b) < gap for a, b in named):
            continue
        named.append((x, y))
        ax.annotate(
            name,
            (x, y),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=6.5,
            color=STATION_GREEN,
            zorder=8,
            annotation_clip=True,
            clip_on=True,  # a name running off the map stops at its edge
            bbox={"fc": "white", "ec": "none", "alpha": 0.6, "pad": 0.3},
        )


def draw_site(
    ax,
    frame: MapFrame,
    name: str,
    xy: tuple[float, float],
    area: shapely.Geometry | None,
    label_at: tuple[float, float] = (0, -16),
    key: str | None = None,
) -> None:
    """The assembly site: its area (UTM metres) as a translucent green patch over the streets,
    and a star at its point, named ``label_at`` points from it (below, unless told). The
    legend gives the star as ``key`` (default: the site's name; "" leaves it out of the
    legend, for a second site of one kind)."""
    if area is not None and not area.is_empty:
        for poly in getattr(area, "geoms", [area]):
            ring = frame.local(np.asarray(poly.exterior.coords))
            ax.fill(ring[:, 0], ring[:, 1], color=SITE_GREEN, alpha=0.35, lw=0, zorder=6)
            ax.plot(ring[:, 0], ring[:, 1], color=SITE_GREEN, lw=1.8, zorder=6)
        ax.fill([], [], fc=SITE_GREEN, ec=SITE_GREEN, alpha=0.5, label=f"{name}: the site's area")
    (x, y) = frame.local(np.array(xy, float))
    key = name if key is None else (key or "_nolegend_")
    ax.plot([x], [y], marker="*", ms=16, c="#ffbf00", mec="k", ls="none", zorder=9, label=key)
    moved = tuple(label_at) != (0, -16)  # a name set aside is joined to its star by a line
    ax.annotate(
        name,
        (x, y),
        xytext=label_at,
        textcoords="offset points",
        arrowprops={"arrowstyle": "-", "lw": 0.7, "color": "k"} if moved else None,
        ha="center" if label_at[0] == 0 else ("left" if label_at[0] > 0 else "right"),
        fontsize=8,
        fontweight="bold",
        zorder=10,
        bbox={"fc": "white", "ec": "k", "lw": 0.5, "alpha": 0.85, "pad": 1.5},
    )


def _scale_bar(ax, frame: MapFrame) -> None:
    """A scale bar of a round length at the lower right."""
    span = 2 * frame.half
    length = next((v for v in (2000, 1000, 500, 250, 100, 50, 20) if v <= span / 4), 10)
    x1 = frame.cx + frame.half - frame.ox
    y0 = frame.cy - frame.half - frame.oy
    bx, by = x1 - span * 0.05 - length, y0 + span * 0.04
    ax.plot([bx, bx + length], [by, by], color="k", lw=3, solid_capstyle="butt", zorder=11)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(
        bx + length / 2,
        by + span * 0.012,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=11,
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
        zorder=11,
    )


def finish(ax, frame: MapFrame, title: str, ncol: int = 2, legend: str = "below") -> None:
    """Axes in metres east and north of the frame's place, north up, a scale bar, a north
    arrow, the legend below the map (``legend="right"``: beside it, for a slide), and the
    title."""
    h = frame.half
    ax.set_xlim(frame.cx - h - frame.ox, frame.cx + h - frame.ox)
    ax.set_ylim(frame.cy - h - frame.oy, frame.cy + h - frame.oy)
    ax.set_aspect("equal")
    ax.set_xlabel(f"metres east of {frame.where}")
    ax.set_ylabel(f"metres north of {frame.where} (north up)")
    ax.grid(alpha=0.15)
    _scale_bar(ax, frame)
    _north_arrow(ax)
    if legend == "right":
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=1, fontsize=7.4, frameon=False)
    else:
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=ncol, fontsize=8, frameon=False
        )
    ax.set_title(title)


def save(fig, path: Path) -> None:
    """Write the figure as a PNG (through a temporary name) and close it."""
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)


def png(fig, dpi: int = DPI, tight: bool = True) -> bytes:
    """The figure as PNG bytes (the figure is closed); ``tight=False`` keeps the figure's own
    size (a slide of exactly 16:9), and draws it once instead of twice."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    finally:
        plt.close(fig)
    return buf.getvalue()
