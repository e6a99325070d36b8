"""Set-up shared by every replication of a scenario: site, origins, cameras, coverage, routes."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from sim.city import places, routing
from sim.city.exits import Exits
from sim.city.sites import Site
from sim.crowd.access import ACCESS_HIGHWAY, Access, build_access, exit_connectors, extend_coverage
from sim.crowd.crowding import walking_width_m
from sim.crowd.model import Streets
from sim.crowd.origins import station_exit_weights
from sim.crowd.site_area import STAND_POINTS, SiteArea, sample_points, site_area
from sim.errors import ScenarioError
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage, Store, build_coverage, point_pairs
from sim.exposure.edits import apply_edits
from sim.exposure.sectors import WorldGeometry, world_geometry
from sim.exposure.visibility_models import VISIBILITY_MODELS
from sim.exposure.worlds import WorldSetup, camera_keys, cameras_per_site, street_bearings
from sim.scenario.scenario import Scenario

log = logging.getLogger(__name__)

# The standing-point pool's stream of the scenario seed (replications use spawn keys (k,)
# and (k, stream); this key is beyond every replication index a scenario allows, 1..1000).
STREAM_STAND_POOL = 1_000_001

if TYPE_CHECKING:  # the inputs are loaded at the edge; the set-up only reads them
    from sim.city.network import WalkNetwork
    from sim.scenario.inputs import Inputs


@dataclass(frozen=True)
class Worlds:
    """A scenario's camera worlds, fixed for its run: what each replication's world is drawn
    from (``draws``) and what it is cut from (``geometry``: the omnidirectional coverage)."""

    draws: WorldSetup
    geometry: WorldGeometry


def camera_worlds(
    scenario: Scenario,
    network: WalkNetwork,
    coverage: Coverage,
    access: Access | None,
    standing: bool = True,
) -> Worlds:
    """The worlds of ``scenario`` over ``coverage`` (the network's edges, then the virtual
    edges of ``access``); ``standing``: with the standing points' camera pairs."""
    cams = coverage.cameras
    indptr, bearings, node_offset = street_bearings(network, np.c_[cams.x, cams.y])
    draws = WorldSetup(
        camera_keys(cams.camera_id),
        np.asarray(cams.cls),
        cameras_per_site(cams.count),
        coverage.level_range_m.copy(),
        indptr,
        bearings,
        node_offset,
        scenario.cameras.aim,
        scenario.cameras.aim_spread_deg,
    )
    geom = network.edge_geom if access is None else np.r_[network.edge_geom, access.geom]
    points = point_pairs(coverage, access.stand_xy) if standing and access is not None else None
    return Worlds(draws, world_geometry(coverage, geom, points))


@dataclass(frozen=True)
class Setup:
    """What every replication of a scenario shares: the site, the origins, coverage, routes."""

    scenario: Scenario
    inputs: Inputs
    site: Site
    origins: Exits
    origin_weight: np.ndarray
    origin_walk_m: np.ndarray
    coverage: Coverage
    streets: Streets
    edit_log: list[dict[str, Any]]
    out_routes: list[list[np.ndarray]] | None  # per origin, its route(s); None: per replication
    back_routes: list[np.ndarray | None]  # per origin (None: no dispersal)
    march_route: np.ndarray | None
    march_site: Site | None
    site_area: SiteArea | None = None
    access: Access | None = None  # first and last metres (virtual edges after the network's)
    back_exit: np.ndarray | None = None  # per origin: the access exit row its dispersal ends at
    parts: tuple[Setup, ...] = ()  # several sites at once: one set-up per site (sim/multisite)
    origin_site: np.ndarray | None = None  # several sites: the site id of each origin row
    worlds: Worlds | None = None  # camera worlds ([cameras] world = "drawn"); None: Amnesty's


def prepare(
    scenario: Scenario,
    inputs: Inputs,
    store: Store | None = None,
    network_coverage: Coverage | None = None,
) -> Setup:
    """Resolve a scenario against its inputs: site, origins, edited cameras, coverage, routes.

    ``store`` may return coverage tables built before (the cache, passed in at the edge);
    ``network_coverage``, the network's coverage by the scenario's cameras built before (for
    a scenario without camera edits: several sites share it).
    """
    s = scenario
    if s.sites:  # several sites are prepared one by one and merged (sim/crowd/multisite.py)
        raise ScenarioError(
            f"{s.path}: key 'sites': this command takes a scenario of one site ([site]); "
            "scenarios of several sites ([[sites]]) run with 'run' and 'compare'"
        )
    inputs = inputs.limited_to_reach(s.cameras.classes)  # the cameras' reach, applied once
    net = inputs.network
    site = inputs.site(
        s.site.id,
        s.site.radius_m,
        s.site.lat,
        s.site.lon,
        s.site.name,
        where=f"{s.path}: key 'site.id'",
    )
    to_site = routing.shortest_tree(net, net.edge_length_m, site.node, towards=True)
    walk_to_site = to_site.dist
    origins = select_origins(scenario, inputs, site, walk_to_site)
    join_node, exit_lines = exit_connectors(net, np.c_[origins.x, origins.y], walk_to_site)
    origins = dataclasses.replace(origins, node=join_node)
    # the walk each protester from an exit is given: its first metres, then the network
    walk_m = shapely.length(exit_lines) + walk_to_site[join_node]
    weights = normalised_weights(scenario, inputs, origins, walk_m)
    cameras = inputs.cameras
    coverage_args = coverage_options(scenario, inputs, store)
    ranker = _ranker(scenario, inputs, site, origins, weights, coverage_args)
    cameras, edit_log = apply_edits(cameras, s.cameras.edits, (site.x, site.y), s.path, ranker)
    if s.uncertainty.count_multiplier != 1.0:  # counted cameras per site, scaled (undercount)
        cameras = cameras.with_counts(cameras.count * s.uncertainty.count_multiplier)
    coverage = network_coverage
    if coverage is None:
        coverage = build_coverage(net, cameras, s.cameras.classes, **coverage_args)
    out_routes = None
    if s.routing.choice == "shortest":
        out_routes = [[routing.tree_route(net, to_site, int(o))] for o in origins.node]
    elif s.routing.choice == "least_exposed":
        out_routes = [
            [r]
            for r in routing.least_exposed_routes(
                net,
                origins.node,
                site.node,
                coverage.edges.seen_m,
                s.routing.exposure_weight,
                s.routing.max_detour,
            )
        ]
    march_site = march_route = None
    end_node = site.node
    if s.march.to_site:
        march_site = inputs.site(
            s.march.to_site, s.site.radius_m, where=f"{s.path}: key 'march.to_site'"
        )
        tree = routing.shortest_tree(net, net.edge_length_m, site.node, towards=False)
        march_route = routing.tree_route(net, tree, march_site.node)
        end_node = march_site.node
    back_routes: list[np.ndarray | None] = [None] * len(origins)
    if s.dwell.disperse:
        back_routes = dispersal_routes(scenario, inputs, end_node, origins, coverage)
    area = site_area(
        net, site.x, site.y, s.site.area, s.site.radius_m, f"{s.path}: key 'site.area'"
    )
    # protesters stand on open ground, never inside a building footprint in the site (the
    # Washington Square Arch), where the scenario loads the complete footprints: its open space
    # is then everything that is not a building (with partial footprints it is street
    # corridors outside their extent, which would not be the site's ground)
    if s.cameras.buildings and s.cameras.footprints == "doitt_2017":
        area = area.on_open_ground(
            inputs.open_space, "the area less the complete 2017 DoITT building footprints"
        )
    stand_xy = sample_points(area.standing_ground, STAND_POINTS, stand_pool_rng(s.seed))
    back_exit = np.arange(len(origins))
    exit_xy, exit_node = np.c_[origins.x, origins.y], origins.node
    if s.dwell.disperse and s.dwell.disperse_to == "nearest":
        last = back_routes[0]
        end = int(net.edge_v[last[-1]]) if len(last) else end_node
        j = int(np.flatnonzero(inputs.exits.node == end)[0])
        xy_j = np.c_[inputs.exits.x[j : j + 1], inputs.exits.y[j : j + 1]]
        node_j, line_j = exit_connectors(net, xy_j)
        exit_lines = np.r_[exit_lines, line_j]
        exit_xy, exit_node = np.r_[exit_xy, xy_j], np.r_[exit_node, node_j]
        back_exit = np.full(len(origins), len(origins))
    access = build_access(net, exit_xy, exit_lines, exit_node, site.node, stand_xy)
    coverage = extend_coverage(coverage, access)
    streets = streets_of(inputs, coverage, access)
    worlds = None
    if s.cameras.world == "drawn":
        worlds = camera_worlds(scenario, net, coverage, access)
    return Setup(
        scenario=scenario,
        inputs=inputs,
        site=site,
        origins=origins,
        origin_weight=weights,
        origin_walk_m=walk_m,
        coverage=coverage,
        streets=streets,
        edit_log=edit_log,
        out_routes=out_routes,
        back_routes=back_routes,
        march_route=march_route,
        march_site=march_site,
        site_area=area,
        access=access,
        back_exit=back_exit,
        worlds=worlds,
    )


def stand_pool_rng(seed: int) -> np.random.Generator:
    """The generator of a scenario's standing-point pool: drawn once per scenario from its
    seed (a stream of its own), so that every replication stands on the same points."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_STAND_POOL,)))


def dispersal_routes(
    scenario: Scenario, inputs: Inputs, start: int, origins: Exits, coverage: Coverage
) -> list[np.ndarray]:
    """Routes back to an exit after the rally (or march): to each origin's exit, or all to the
    exit nearest ``start``. With ``least_exposed`` routing they avoid cameras as on the way in;
    otherwise (``shortest``, ``stochastic``) they are shortest."""
    net = inputs.network
    tree = routing.shortest_tree(net, net.edge_length_m, start, towards=False)
    targets = origins.node
    if scenario.dwell.disperse_to == "nearest":
        targets = np.full(len(origins), inputs.exits.node[np.argmin(tree.dist[inputs.exits.node])])
    if scenario.routing.choice == "least_exposed":
        return routing.least_exposed_routes(
            net,
            targets,
            start,
            coverage.edges.seen_m,
            scenario.routing.exposure_weight,
            scenario.routing.max_detour,
            towards=False,
        )
    return [routing.tree_route(net, tree, int(t)) for t in targets]


def coverage_options(scenario: Scenario, inputs: Inputs, store: Store | None) -> dict[str, Any]:
    visibility = scenario.cameras.visibility
    args: dict[str, Any] = {"visibility": visibility, "store": store}
    if VISIBILITY_MODELS[visibility].needs_open_space:
        args.update(open_space=inputs.open_space, open_space_key=inputs.open_space_key)
    return args


def _ranker(scenario, inputs, site, origins, weights, coverage_args):
    """Rank cameras for ``top_k`` edits by their marginal camera-seconds on the expected crowd."""

    def rank(cameras: CameraSites, candidates: np.ndarray, k: int) -> np.ndarray:
        from sim.crowd.ranking import expected_contributions, expected_crowd_routes

        coverage = build_coverage(
            inputs.network, cameras, scenario.cameras.classes, **coverage_args
        )
        routes, crowd = expected_crowd_routes(
            inputs.network, origins, weights, site, scenario.crowd.protesters
        )
        contrib = expected_contributions(
            coverage, inputs.network, routes, crowd, scenario.walking.speed_mean_mps
        )
        order = candidates[np.argsort(-contrib[candidates], kind="stable")]
        return order[:k]

    return rank


def select_origins(
    scenario: Scenario, inputs: Inputs, site: Site, walk_to_site: np.ndarray
) -> Exits:
    """The exits protesters start from (``within`` a walk of the site: from the exit's
    nearest network node)."""
    o = scenario.origins
    exits = inputs.exits
    walk_m = walk_to_site[exits.node]
    if o.mode == "within":
        dist = walk_m if o.distance == "walking" else np.hypot(exits.x - site.x, exits.y - site.y)
        idx = np.flatnonzero(dist <= o.max_distance_m)
        if idx.size == 0:
            raise ScenarioError(
                f"{scenario.path}: key 'origins.max_distance_m': no subway exit "
                f"within {o.max_distance_m} m of site {site.site_id!r}"
            )
    else:
        names = o.stations if o.mode == "stations" else o.entrances
        where = f"{scenario.path}: key 'origins.{o.mode}':"
        idx = places.origin_exits(exits, names, where, ScenarioError)
    idx = idx[np.isfinite(walk_m[idx])]
    return exits.subset(idx)


def normalised_weights(
    scenario: Scenario, inputs: Inputs, origins: Exits, walk_m: np.ndarray
) -> np.ndarray:
    """Each origin exit's share of the crowd (summing to 1), by the walk it is given."""
    w = origin_weights(scenario, inputs, origins, walk_m)
    if w.sum() <= 0:
        raise ScenarioError(
            f"{scenario.path}: key 'origins.weights': every origin exit has weight zero "
            f"(weights = {scenario.origins.weights!r})"
        )
    return w / w.sum()


def origin_weights(
    scenario: Scenario, inputs: Inputs, origins: Exits, walk_m: np.ndarray
) -> np.ndarray:
    """Unnormalised weight of each origin exit by the scenario's ``origins.weights``.

    ``equal``: each exit alike. ``distance``: exp(-walk / distance_decay_m). ``station``: each
    station complex alike, ``ridership``: each complex by its riders (``inputs.ridership``,
    read by ``sim/data/ridership.py``); these two split a complex's share over its exits by
    distance (``sim/crowd/origins.py``). ``given``: each named station by ``given_weights``,
    split equally over its exits (``sim/city/places.py``).
    """
    o = scenario.origins
    decay = o.exit_split_decay_m
    if o.weights == "equal":
        return np.ones(len(origins))
    if o.weights == "distance":
        w = np.exp(-walk_m / o.distance_decay_m)
        if not w.sum() > 0:  # every weight underflowed: the same weights, relative to the nearest
            w = np.exp(-(walk_m - walk_m.min()) / o.distance_decay_m)
        return w
    if o.weights == "station":
        ones = {str(c): 1.0 for c in origins.complex_id}
        return station_exit_weights(origins.complex_id, walk_m, ones, decay)
    if o.weights == "ridership":
        riders = dict(inputs.ridership or {})
        missing = sorted({str(c) for c in origins.complex_id} - set(riders))
        if missing:
            log.warning(
                "no ridership for station complex(es) %s: their exits get no protesters",
                ", ".join(missing),
            )
        return station_exit_weights(origins.complex_id, walk_m, riders, decay)
    where = f"{scenario.path}: key 'origins.given_weights':"
    return places.given_weights(origins, o.given_weights, where, ScenarioError)


def streets_of(inputs: Inputs, coverage: Coverage, access: Access | None = None) -> Streets:
    """Per-edge arrays the simulation reads: the network's edges, then any virtual edges of
    the first and last metres (``access``)."""
    e = coverage.edges
    net = inputs.network
    length, highway = net.edge_length_m, net.edge_highway
    if access is not None:
        length = np.r_[length, access.length_m]
        highway = np.r_[highway, np.full(len(access.geom), ACCESS_HIGHWAY, dtype=object)]
    return Streets(
        length,
        walking_width_m(highway),
        e.seen_m,
        e.seen_public_m,
        e.camera_m,
        e.recognition_m,
        e.identification_m,
        coverage.first_seen_m,
    )
