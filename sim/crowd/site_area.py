"""The assembly site as an area: the block enclosed by the ring of streets around the site's point
(a park's outline), or a disk; and uniform standing points in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from sim.city.network import WalkNetwork
from sim.crowd.stats import wilson_interval
from sim.errors import ScenarioError
from sim.exposure.visibility import CORRIDOR_WIDTH_M, DEFAULT_CORRIDOR_WIDTH_M
from sim.geo import xy_to_lonlat

# OSM `highway` tags of streets that bound a block. Footways, paths, steps, pedestrian ways and
# service roads run through parks and plazas, so they do not close a ring around one.
STREET_TAGS = frozenset(
    {
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
    }
)
# Streets farther than this from the site's point are not looked at (a Manhattan block is at
# most about 280 m x 80 m; a park block such as Washington Square about 300 m x 250 m).
RING_SEARCH_M = 800.0
# A block larger than this is not a square or a park one can stand in as a crowd (Central
# Park's blocks are far larger): such a site needs `site.area = "disk"`.
MAX_BLOCK_AREA_M2 = 150_000.0
# Standing points drawn once per scenario to represent the area (each protester stands at one,
# drawn uniformly). 1,000 points in Washington Square Park (about 37,000 m2) are about 6 m
# apart, finer than the 10 m cell of Amnesty's own coverage grids.
STAND_POINTS = 1000


@dataclass(frozen=True)
class SiteArea:
    """Where protesters stand: a polygon (metres, UTM 18N) and how it was made."""

    polygon: shapely.Geometry
    mode: str  # "streets" (block inside the ring of streets) or "disk"
    note: str
    # where protesters can stand in it: the polygon less building footprints, where known
    ground: shapely.Geometry | None = None
    ground_note: str = "the whole area (no building footprints were loaded)"

    @property
    def area_m2(self) -> float:
        return float(self.polygon.area)

    @property
    def standing_ground(self) -> shapely.Geometry:
        """Where standing points are drawn: open ground where it is known, else the area."""
        return self.polygon if self.ground is None else self.ground

    def on_open_ground(self, open_space: shapely.Geometry | None, what: str) -> SiteArea:
        """The same area with its standing ground cut to ``open_space`` (the space between
        building footprints, described by ``what``); unchanged when that is None."""
        if open_space is None:
            return self
        ground = shapely.intersection(self.polygon, open_space)
        return SiteArea(self.polygon, self.mode, self.note, ground, f"open ground: {what}")

    def as_dict(self) -> dict[str, object]:
        """For the manifest: mode, note, area and the outline in lat/lon."""
        xy = shapely.get_coordinates(shapely.simplify(self.polygon, 1.0))
        lon, lat = xy_to_lonlat(xy[:, 0], xy[:, 1])
        return {
            "mode": self.mode,
            "note": self.note,
            "area_m2": round(self.area_m2, 1),
            "standing_ground": self.ground_note,
            "standing_area_m2": round(float(self.standing_ground.area), 1),
            "outline_latlon": np.round(np.c_[lat, lon], 6).tolist(),
        }


def street_block(network: WalkNetwork, x: float, y: float) -> shapely.Geometry | None:
    """The block (kerb to kerb) enclosed by the streets around (x, y); None if none encloses it.

    Street centrelines (:data:`STREET_TAGS`) within :data:`RING_SEARCH_M` are noded and
    polygonised; the face holding the point, minus each bounding street's corridor (half its
    building-to-building width, ``sim/exposure/visibility.py``), is the block.
    """
    street = np.isin(network.edge_highway, list(STREET_TAGS))
    near = shapely.dwithin(network.edge_geom, shapely.Point(x, y), RING_SEARCH_M)
    geoms = network.edge_geom[street & near]
    if len(geoms) == 0:
        return None
    noded = shapely.get_parts(shapely.union_all(geoms))
    faces = shapely.get_parts(shapely.polygonize(list(noded)))
    point = shapely.Point(x, y)
    holding = [f for f in faces if f.contains(point)]
    if not holding:
        return None
    face = holding[0]
    bounding = street & shapely.dwithin(network.edge_geom, face.boundary, 1.0)
    widths = np.array(
        [CORRIDOR_WIDTH_M.get(h, DEFAULT_CORRIDOR_WIDTH_M) for h in network.edge_highway[bounding]]
    )
    corridors = shapely.union_all(shapely.buffer(network.edge_geom[bounding], widths / 2.0))
    block = shapely.difference(face, corridors)
    parts = shapely.get_parts(block)
    return max(parts, key=lambda p: p.area) if len(parts) else None


def site_area(
    network: WalkNetwork, x: float, y: float, mode: str, radius_m: float, where: str
) -> SiteArea:
    """The area of a site: its street block (``streets``) or a disk of ``radius_m``."""
    if mode == "disk":
        disk = shapely.Point(x, y).buffer(radius_m, quad_segs=32)
        return SiteArea(disk, "disk", f"disk of {radius_m:g} m around the site's point")
    block = street_block(network, x, y)
    if block is None or block.area > MAX_BLOCK_AREA_M2:
        size = "no block" if block is None else f"a block of {block.area:,.0f} m2"
        raise ScenarioError(
            f"{where}: the streets around the site enclose {size} (allowed: a block up to "
            f'{MAX_BLOCK_AREA_M2:,.0f} m2); set site.area = "disk" with site.radius_m'
        )
    return SiteArea(
        block,
        "streets",
        "block enclosed by the ring of streets around the site's point (OSM street centrelines "
        "polygonised, minus half of each bounding street's corridor width)",
    )


def sample_points(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points in ``polygon`` (metres), by rejection from its bounds."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out = np.zeros((0, 2))
    while len(out) < n:
        cand = np.c_[
            minx + (maxx - minx) * rng.random(2 * n), miny + (maxy - miny) * rng.random(2 * n)
        ]
        out = np.r_[out, cand[shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])]]
    return out[:n]


def area_in_view(seen: np.ndarray, recognition: np.ndarray, identification: np.ndarray) -> dict:
    """The share of the site's standing ground in view of a camera at each quality level,
    estimated from whether each standing point is (the points are a uniform sample of the
    ground), with the 95% Wilson interval of that sampling."""
    n = len(seen)
    out: dict[str, object] = {
        "standing_points": n,
        "method": (
            f"share of the site's {n} standing points (uniform over its standing ground) in "
            "view of at least one camera; interval: 95% Wilson interval of that sample"
        ),
    }
    for name, flags in (
        ("any_camera", seen),
        ("recognition", recognition),
        ("identification", identification),
    ):
        k = int(np.count_nonzero(flags))
        out[name] = {"share": k / n if n else float("nan"), "ci95": list(wilson_interval(k, n))}
    return out
