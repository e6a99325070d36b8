"""Camera worlds: per-class priors of each camera's aim, lens and working state, and one draw
of them for every camera site.

No source gives where a camera points, its lens or whether it works. A *world* is one draw of
all three for every camera (a site holds its count of cameras, at least one, each drawn on its
own), from the priors of its class below (:data:`WORLD_PRIORS`); each replication of a run is
one world (``sim.crowd.runner``), so every figure's spread across replications holds the
camera unknowns as well as the crowd's randomness. What a world's cameras see is cut from the
omnidirectional coverage in ``sim.exposure.sectors``.

Amnesty's geometry (every camera omnidirectional, working, at its class reach) is the preset
world :meth:`World.omnidirectional`; since a drawn camera never reaches beyond its
omnidirectional reach at any level (the cap), never sees more than all around and may be out
of order, no world sees more than the preset: it is an upper bound by construction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.special import ndtri

from sim.city.network import WalkNetwork
from sim.exposure.camera_model import DORI_PX_PER_M, LEVELS, MAX_LENS_FOV_DEG

# A scenario's [cameras] world: "drawn" (each replication draws a world from the priors) or
# "amnesty" (Amnesty's route-tool geometry, the earlier behaviour: every camera omnidirectional,
# working, at its class reach, counts as given).
WORLD_MODES = ("drawn", "amnesty")
# How a drawn camera is aimed: "streets" (down one of the streets meeting at the network node
# nearest its site: at that street's line half its lens's reach out from the node, with a
# normal spread) or "uniform" (any bearing alike).
AIM_RULES = ("streets", "uniform")
# Standard deviation (degrees) of a street-aimed camera's bearing around its street's bearing.
# Assumed: a camera on a corner pole or a facade looks down the street, seldom exactly along
# its axis; no survey of aims exists.
DEFAULT_AIM_SPREAD_DEG = 15.0
# The px/m each level needs (as the lens mode of sim.exposure.camera_model): seen =
# observation, then recognition and identification (IEC 62676-4).
LEVEL_PX_PER_M = (
    DORI_PX_PER_M["observation"],
    DORI_PX_PER_M["recognition"],
    DORI_PX_PER_M["identification"],
)


@dataclass(frozen=True)
class Lens:
    """One kind of camera within a class: its share of the class, the pixels across its image
    and the range its horizontal field of view is drawn from (uniformly, degrees). The sector a
    camera sees is its field of view, aimed by the scenario's aim rule."""

    kind: str
    share: float
    h_pixels: float
    fov_deg: tuple[float, float]
    source: str


@dataclass(frozen=True)
class WorldPrior:
    """What is drawn for a camera of one class: which lens (by share), its field of view, and
    whether it works (with probability ``working_share``)."""

    lenses: tuple[Lens, ...]
    working_share: float
    working_source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "lenses": [
                {
                    "kind": lens.kind,
                    "share": lens.share,
                    "h_pixels": lens.h_pixels,
                    "fov_deg": list(lens.fov_deg),
                    "source": lens.source,
                }
                for lens in self.lenses
            ],
            "working_share": self.working_share,
            "working_source": self.working_source,
        }


# Amnesty's Brooklyn counts (the bundle's counts_per_intersections file: the only borough where
# volunteers typed street cameras) give 595 domes and 111 bullets among street-attached cameras:
# 84% domes. Street imagery does not tell a pan-tilt-zoom dome from a fixed one: half each,
# assumed.
_DOME_SHARE = 595 / (595 + 111)
# 1/2.8-inch sensors (5.6 mm wide), the common format of 1080p security cameras: a 2.8-12 mm
# varifocal lens spans 2 atan(5.6 / 2f) = 90 to 26 degrees; a 30x PTZ (4.5-135 mm) 64 to 2.4.
_VARIFOCAL = (26.0, 90.0)
_PTZ_30X = (2.4, 64.0)
# Working share. Audits of city police cameras: Philadelphia's City Controller found 102 of
# 216 (47%) working in 2012 and 32% of a sample in 2013, and Baltimore's maintained network
# 97% functioning (Controller's follow-up, 29 May 2013). New York's share is not published:
# 0.9 is assumed, between a maintained network and one in disrepair.
_PUBLIC_WORKING = (
    0.9,
    "assumed; audits: Philadelphia 47% (2012), 32% (2013 sample), Baltimore 97% (Philadelphia "
    "City Controller, 2012 and 2013)",
)
_PRIVATE_WORKING = (0.9, "assumed; no audit of private building cameras is known")
_BUILDING_LENS = Lens(
    "fixed 1080p, 2.8-4 mm",
    1.0,
    1920.0,
    (70.0, 110.0),
    "typical building cameras: 1080p behind fixed 2.8 mm (about 100-110 deg) or 4 mm (70-85 "
    "deg) lenses, vendor datasheets",
)

WORLD_PRIORS: dict[str, WorldPrior] = {
    "public_street": WorldPrior(
        (
            Lens(
                "bullet, fixed",
                1.0 - _DOME_SHARE,
                1920.0,
                _VARIFOCAL,
                "1080p, 2.8-12 mm varifocal on a 1/2.8-inch sensor; bullet share of Amnesty's "
                "typed street cameras (Brooklyn: 111 of 706)",
            ),
            Lens(
                "dome, fixed",
                _DOME_SHARE / 2,
                1920.0,
                _VARIFOCAL,
                "1080p, 2.8-12 mm varifocal; domes 595 of 706 typed street cameras (Brooklyn), "
                "half of them fixed (assumed)",
            ),
            Lens(
                "dome, pan-tilt-zoom",
                _DOME_SHARE / 2,
                1920.0,
                _PTZ_30X,
                "1080p 30x PTZ (4.5-135 mm); half the domes (assumed); a world is a snapshot "
                "of where it points and how far it zooms",
            ),
        ),
        *_PUBLIC_WORKING,
    ),
    "nypd_dome": WorldPrior(
        (
            Lens(
                "pan-tilt-zoom, 4K",
                1.0,
                3840.0,
                (9.0, 60.0),
                "4K PTZ from the class's 9 deg (its zoomed reach, ~200 m) to a 60 deg wide "
                "end (assumed); a world is a snapshot of where it points and how far it zooms",
            ),
        ),
        *_PUBLIC_WORKING,
    ),
    "private_building": WorldPrior((_BUILDING_LENS,), *_PRIVATE_WORKING),
    "dot_traffic": WorldPrior(
        (
            Lens(
                "traffic camera, SD",
                1.0,
                704.0,
                (30.0, 60.0),
                "SD (704 px D1) feed; 30-60 deg around the class's 45 deg (assumed)",
            ),
        ),
        *_PUBLIC_WORKING,
    ),
    "linknyc": WorldPrior(
        (
            Lens(
                "kiosk, wide",
                1.0,
                1920.0,
                (100.0, 140.0),
                "1080p wide-angle kiosk camera around the class's 120 deg (assumed)",
            ),
        ),
        *_PUBLIC_WORKING,
    ),
    "unknown": WorldPrior(
        (_BUILDING_LENS,),
        0.9,
        "as private_building: 90% of Brooklyn's attributed cameras are on buildings",
    ),
}


def priors_record() -> dict[str, object]:
    """The priors as the manifest records them."""
    return {name: prior.as_dict() for name, prior in WORLD_PRIORS.items()}


@dataclass(frozen=True)
class World:
    """One draw for every camera: the site it stands at, where it points, how wide it sees,
    how far at each level, whether it works. A site with a count of k cameras has k of them
    (at least one), each drawn on its own. ``aim_deg`` is a compass bearing (clockwise from
    north) of the sector's centre; a ``sector_deg`` of 360 or more sees all around."""

    name: str
    site: np.ndarray  # the camera site of each camera
    aim_deg: np.ndarray
    sector_deg: np.ndarray
    reach_m: np.ndarray  # (n, 3): seen, recognition, identification
    working: np.ndarray
    lens: np.ndarray  # kind of lens within the class prior (-1: none drawn)
    h_pixels: np.ndarray
    fov_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.aim_deg)

    @staticmethod
    def omnidirectional(level_range_m: np.ndarray, name: str = "amnesty") -> World:
        """Amnesty's route-tool geometry: one camera per site, all around, working, at
        ``level_range_m`` (a site's count then weighs what it sees, as without worlds)."""
        n = len(level_range_m)
        nan = np.full(n, np.nan)
        return World(
            name,
            np.arange(n),
            np.zeros(n),
            np.full(n, 360.0),
            np.asarray(level_range_m, float).copy(),
            np.ones(n, bool),
            np.full(n, -1, np.int64),
            nan,
            nan.copy(),
        )

    def summary(self, cls: np.ndarray) -> dict[str, object]:
        """Per class of site: sites, cameras drawn, the share working, the median sector and
        reach (for the manifest)."""
        out: dict[str, object] = {"world": self.name}
        cam_cls = np.asarray(cls)[self.site]
        for name in sorted(set(np.asarray(cls).tolist())):
            mask = cam_cls == name
            if not mask.any():
                continue
            out[name] = {
                "sites": int((np.asarray(cls) == name).sum()),
                "cameras": int(mask.sum()),
                "working_share": round(float(self.working[mask].mean()), 4),
                "sector_deg_median": round(float(np.median(self.sector_deg[mask])), 2),
                **{
                    f"{level}_reach_m_median": round(float(np.median(self.reach_m[mask, i])), 2)
                    for i, level in enumerate(LEVELS)
                },
            }
        return out


@dataclass(frozen=True)
class WorldSetup:
    """What a scenario's worlds are drawn from, fixed for its run, per camera site: its key
    (from its id), class, cameras (its count, at least one), reach at each level in the
    omnidirectional coverage (the cap of every drawn reach: (n, 3)) and the bearings of the
    streets at its nearest node (CSR)."""

    keys: np.ndarray  # uint64
    cls: np.ndarray
    cameras: np.ndarray  # cameras drawn at each site
    cap_m: np.ndarray  # (n, 3)
    bearing_indptr: np.ndarray
    bearing_deg: np.ndarray
    node_offset_m: np.ndarray  # (n, 2): the nearest node minus the site, metres east, north
    rule: str
    spread_deg: float

    def record(self) -> dict[str, object]:
        return {
            "aim": self.rule,
            "aim_spread_deg": self.spread_deg,
            "reach_cap": "at each level, the site's omnidirectional reach (its class reach in "
            "[cameras.classes]): no world reaches beyond Amnesty's geometry",
            "cameras_per_site": "a site's count of cameras rounded (at least one), each drawn on "
            "its own and weighing the site's count over them in camera-minutes",
            "draws": "per camera from splitmix64 of (the replication's world key, a BLAKE2b "
            "hash of its site's id, its number at the site): removing a site leaves the "
            "others' draws as they were",
            "priors": priors_record(),
        }


def cameras_per_site(count: np.ndarray) -> np.ndarray:
    """The cameras a world draws at each site: its count rounded half up, at least one."""
    return np.maximum(np.floor(np.asarray(count, float) + 0.5), 1).astype(np.int64)


def camera_keys(camera_id: np.ndarray) -> np.ndarray:
    """A 64-bit key per camera site from its id (BLAKE2b), the same in every process."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(str(c).encode(), digest_size=8).digest(), "little")
            for c in camera_id
        ],
        dtype=np.uint64,
    ).reshape(len(camera_id))


def street_bearings(
    network: WalkNetwork, xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: the compass bearings (degrees) of the streets leaving its nearest network
    node, along each street's first straight stretch, as CSR (indptr, bearings), bearings
    within a degree of each other once; and the offset (metres east, north) of that node from
    the point, (n, 2)."""
    n = len(xy)
    if n == 0 or network.n_edges == 0:
        return np.zeros(n + 1, np.int64), np.zeros(0), np.zeros((n, 2))
    node, _ = network.nearest_nodes(xy[:, 0], xy[:, 1])
    node = np.asarray(node, np.int64)
    offset = np.c_[network.node_x[node] - xy[:, 0], network.node_y[node] - xy[:, 1]]
    wanted = np.isin(network.edge_u, np.unique(node))
    edges = np.flatnonzero(wanted)
    a = shapely.get_coordinates(shapely.get_point(network.edge_geom[edges], 0))
    b = shapely.get_coordinates(shapely.get_point(network.edge_geom[edges], 1))
    d = b - a
    ok = np.hypot(d[:, 0], d[:, 1]) > 0
    edges, d = edges[ok], d[ok]
    bearing = np.round(np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0) % 360.0
    by_node: dict[int, np.ndarray] = {}
    u = network.edge_u[edges].astype(np.int64)
    order = np.argsort(u, kind="stable")
    u, bearing = u[order], bearing[order]
    cuts = np.flatnonzero(np.diff(u)) + 1
    for group_u, group_b in zip(np.split(u, cuts), np.split(bearing, cuts)):
        if len(group_u):
            by_node[int(group_u[0])] = np.unique(group_b)
    parts = [by_node.get(int(k), np.zeros(0)) for k in node]
    indptr = np.concatenate(([0], np.cumsum([len(p) for p in parts]))).astype(np.int64)
    return indptr, (np.concatenate(parts) if parts else np.zeros(0)).astype(float), offset


# splitmix64 (Steele, Lea and Flood 2014): a counter-based stream, vectorised over camera sites.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def keyed_uniforms(world_key: int, keys: np.ndarray, draws: int) -> np.ndarray:
    """(n, draws) uniforms in (0, 1), one stream per camera key within a world: the j-th draw
    of a camera depends only on the world key, the camera's key and j."""
    base = _splitmix(np.asarray(keys, np.uint64) ^ _splitmix(np.array([world_key], np.uint64)))
    out = np.empty((len(keys), draws))
    state = base.copy()
    for j in range(draws):
        state = _splitmix(state)
        out[:, j] = ((state >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return out


# The draws of a camera, in order: lens kind, field of view, working, aim (street or bearing),
# aim spread. A new draw goes at the end, so that earlier ones keep their values.
U_LENS, U_FOV, U_WORKING, U_AIM, U_SPREAD = range(5)
N_DRAWS = 5


def lens_reach_m(h_pixels: np.ndarray, fov_deg: np.ndarray) -> np.ndarray:
    """(n, 3) reach at each level of lenses: ``pixels / (2 tan(fov / 2) px_per_m)``, as
    :func:`sim.exposure.camera_model.lens_distance_m` (fields of view beyond
    :data:`~sim.exposure.camera_model.MAX_LENS_FOV_DEG` taken at it)."""
    fov = np.radians(np.minimum(fov_deg, MAX_LENS_FOV_DEG))
    width_per_m = 2.0 * np.tan(fov / 2.0)
    return np.stack([h_pixels / (width_per_m * px) for px in LEVEL_PX_PER_M], axis=1)


def draw_world(
    setup: WorldSetup, world_key: int, count: np.ndarray | None = None, name: str = "drawn"
) -> World:
    """One world: every camera's lens, sector, reach (capped at each level at its site's
    omnidirectional reach), working state and aim, drawn from its class prior with the
    camera's own keyed stream (its site's key and its number there). ``count``: the sites'
    counts of cameras in this replication (Amnesty's undercount drawn), where not the
    set-up's; a site holds its count of cameras, at least one."""
    per_site = setup.cameras if count is None else cameras_per_site(count)
    site = np.repeat(np.arange(len(setup.keys)), per_site)
    number = np.arange(len(site)) - np.repeat(np.cumsum(per_site) - per_site, per_site)
    with np.errstate(over="ignore"):
        keys = _splitmix(setup.keys[site] + number.astype(np.uint64) * _GOLDEN)
    n = len(site)
    cls = setup.cls[site]
    cap = setup.cap_m[site]
    u = keyed_uniforms(world_key, keys, N_DRAWS)
    lens = np.full(n, -1, np.int64)
    h_px, fov = np.full(n, np.nan), np.full(n, np.nan)
    working = np.zeros(n, bool)
    for name_cls, prior in WORLD_PRIORS.items():
        mask = cls == name_cls
        if not mask.any():
            continue
        shares = np.array([lens.share for lens in prior.lenses], float)
        edges = np.cumsum(shares / shares.sum())
        k = np.minimum(np.searchsorted(edges, u[mask, U_LENS], side="right"), len(shares) - 1)
        lo = np.array([lens.fov_deg[0] for lens in prior.lenses])[k]
        hi = np.array([lens.fov_deg[1] for lens in prior.lenses])[k]
        lens[mask] = k
        h_px[mask] = np.array([lens.h_pixels for lens in prior.lenses])[k]
        fov[mask] = lo + (hi - lo) * u[mask, U_FOV]
        working[mask] = u[mask, U_WORKING] < prior.working_share
    drawn = lens >= 0
    reach = np.zeros((n, len(LEVELS)))
    lens_reach = np.full((n, len(LEVELS)), np.inf)
    lens_reach[drawn] = lens_reach_m(h_px[drawn], fov[drawn])
    reach[drawn] = np.minimum(lens_reach[drawn], cap[drawn])
    # a class without a prior (none today: a test holds every class to one) stays all around
    reach[~drawn] = cap[~drawn]
    sector = np.where(drawn, fov, 360.0)
    working[~drawn] = True
    aim = 360.0 * u[:, U_AIM]
    if setup.rule == "streets" and len(setup.bearing_deg):
        count = np.diff(setup.bearing_indptr)[site]
        has = count > 0
        pick = setup.bearing_indptr[site] + np.minimum(
            np.floor(u[:, U_AIM] * np.maximum(count, 1)).astype(np.int64), np.maximum(count - 1, 0)
        )
        street = np.radians(setup.bearing_deg[np.minimum(pick, len(setup.bearing_deg) - 1)])
        # looking down the street: at its line, half the lens's reach out from the node (its
        # reach before the class cap, so that the aim does not move with the cap: worlds
        # under a longer cap see at least what they saw under a shorter one)
        ahead = np.where(np.isfinite(lens_reach[:, 0]), lens_reach[:, 0], cap[:, 0]) / 2.0
        to_x = setup.node_offset_m[site, 0] + ahead * np.sin(street)
        to_y = setup.node_offset_m[site, 1] + ahead * np.cos(street)
        down = np.degrees(np.arctan2(to_x, to_y))
        down = np.where(np.hypot(to_x, to_y) > 0, down, np.degrees(street))
        aim = np.where(has, down + setup.spread_deg * ndtri(u[:, U_SPREAD]), aim)
    elif setup.rule not in AIM_RULES:
        raise ValueError(f"unknown aim rule {setup.rule!r} (allowed: {', '.join(AIM_RULES)})")
    return World(name, site, aim % 360.0, sector, reach, working, lens, h_px, fov)


def world_key(entropy: int | list[int], spawn_key: tuple[int, ...]) -> int:
    """A replication's world key: 64 bits of its seed's world stream."""
    seq = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    return int(seq.generate_state(1, np.uint64)[0])
