"""Several sites at once: one set-up per ``[[sites]]`` table, merged into one crowd.

Each site is prepared like a one-site scenario (its own origins, routes, first and last
metres, standing points) against the same inputs and the same network coverage. The merged
set-up numbers every site's virtual edges after the network's, site after site, so that no
two sites share a virtual edge number; a replication draws each site's protesters from a
stream of its own and simulates them together in one plan (one route pool), so that crowds
of different rallies slow each other on the streets they share.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import TYPE_CHECKING

import numpy as np

from sim.city.exits import Exits
from sim.crowd.access import Access
from sim.crowd.draws import draw_plan
from sim.crowd.model import Plan
from sim.crowd.setup import Setup, camera_worlds, coverage_options, prepare, streets_of
from sim.errors import ScenarioError
from sim.exposure.coverage import Coverage, PointExposure, Store, build_coverage
from sim.exposure.pieces import CoveragePieces, EdgeExposure
from sim.exposure.sectors import world_points
from sim.exposure.worlds import World
from sim.scenario.scenario import Scenario
from sim.scenario.variants import override

if TYPE_CHECKING:
    from sim.scenario.inputs import Inputs

# Each site's draws come from spawn key (replication, STREAM_SITES, CRC-32 of the site id) of
# the seed, beside the replication's own streams (sim/crowd/draws.py: 1, 2): a site's protesters are
# the same whichever other sites are named and in whatever order.
STREAM_SITES = 100


def site_scenarios(scenario: Scenario) -> list[Scenario]:
    """One single-site scenario per ``[[sites]]`` table: the scenario's keys with the site's
    id, protesters, arrival keys, catchment and radius."""
    out = []
    for i, e in enumerate(scenario.sites):
        changes: dict[str, object] = {"site.id": e.id, "crowd.protesters": e.protesters}
        changes.update({f"arrival.{k}": v for k, v in e.arrival.items()})
        if e.max_distance_m is not None:
            changes["origins.max_distance_m"] = e.max_distance_m
        if e.radius_m is not None:
            changes["site.radius_m"] = e.radius_m
        out.append(
            override(scenario, changes, f"site {e.id} of [[sites]]", ("sites",), f"sites[{i}]")
        )
    return out


def with_total(scenario: Scenario, protesters: int, note: str = "") -> Scenario:
    """A several-site scenario with its sites' crowds scaled to ``protesters`` in all, in the
    same proportions (largest remainders; every site keeps at least one protester)."""
    sizes = np.array([e.protesters for e in scenario.sites], float)
    exact = sizes * protesters / sizes.sum()
    n = np.maximum(np.floor(exact).astype(np.int64), 1)
    short = protesters - int(n.sum())
    if short > 0:
        n[np.argsort(-(exact - np.floor(exact)), kind="stable")[:short]] += 1
    tables = [dict(t) for t in scenario.raw["sites"]]
    for t, k in zip(tables, n.tolist(), strict=True):
        t["protesters"] = k
    return override(scenario, {"sites": tables}, note or f"sites scaled to {protesters:,} in all")


def prepare_run(scenario: Scenario, inputs: Inputs, store: Store | None = None) -> Setup:
    """The set-up of a run: :func:`sim.crowd.setup.prepare` for one site, merged for several."""
    if not scenario.sites:
        return prepare(scenario, inputs, store)
    parts = []
    inputs = inputs.limited_to_reach(scenario.cameras.classes)  # once, for every site
    coverage = build_coverage(
        inputs.network,
        inputs.cameras,
        scenario.cameras.classes,
        **coverage_options(scenario, inputs, store),
    )
    for i, sc in enumerate(site_scenarios(scenario)):
        try:
            parts.append(prepare(sc, inputs, store, network_coverage=coverage))
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} (in [[sites]] table sites[{i}])") from None
    return merge_setups(scenario, parts)


def merge_setups(scenario: Scenario, parts: list[Setup]) -> Setup:
    """One set-up of several sites' set-ups (same inputs and network coverage)."""
    first = parts[0]
    inputs = first.inputs
    access = merged_access([p.access for p in parts])
    coverage = merged_coverage([p.coverage for p in parts], [p.access for p in parts])
    origins = Exits(
        **{
            k: np.concatenate([getattr(p.origins, k) for p in parts])
            for k in Exits.__dataclass_fields__
        }
    )
    share = np.array([e.protesters for e in scenario.sites], float)
    share /= share.sum()
    weight = np.concatenate([p.origin_weight * w for p, w in zip(parts, share, strict=True)])
    exit_off = np.cumsum([0] + [len(p.access.exit_node) for p in parts])
    back_exit = np.concatenate([p.back_exit + o for p, o in zip(parts, exit_off, strict=False)])
    out_routes = None
    if all(p.out_routes is not None for p in parts):
        edge_off = _edge_offsets(parts)
        out_routes = [
            [_shift(r, first.access.n_network, off) for r in routes]
            for p, off in zip(parts, edge_off, strict=False)
            for routes in p.out_routes
        ]
    origin_site = np.concatenate([np.full(len(p.origins), p.site.site_id) for p in parts])
    worlds = None
    if scenario.cameras.world == "drawn":  # standing points: each site's own (draw_sites)
        worlds = camera_worlds(scenario, inputs.network, coverage, access, standing=False)
    return dataclasses.replace(
        first,
        scenario=scenario,
        origins=origins,
        origin_weight=weight,
        origin_walk_m=np.concatenate([p.origin_walk_m for p in parts]),
        coverage=coverage,
        streets=streets_of(inputs, coverage, access),
        out_routes=out_routes,
        back_routes=[r for p in parts for r in p.back_routes],
        access=access,
        back_exit=back_exit,
        parts=tuple(parts),
        origin_site=origin_site,
        worlds=worlds,
    )


def _edge_offsets(parts: list[Setup]) -> np.ndarray:
    """Per site: what its virtual edge numbers gain in the merged numbering."""
    return np.cumsum([0] + [len(p.access.geom) for p in parts])


def _shift(route: np.ndarray, n_network: int, offset: int) -> np.ndarray:
    """A route's edges with its virtual edges renumbered (network edges unchanged)."""
    return np.where(route >= n_network, route + offset, route).astype(np.int64)


def merged_access(accesses: list[Access]) -> Access:
    """Every site's virtual edges, numbered after the network's site after site."""
    base = accesses[0].n_network
    off = np.cumsum([0] + [len(a.geom) for a in accesses])

    def cat(name: str) -> np.ndarray:
        return np.concatenate(
            [getattr(a, name) + o for a, o in zip(accesses, off, strict=False)]
        ).astype(np.int64)

    return Access(
        n_network=base,
        geom=np.concatenate([a.geom for a in accesses]).astype(object),
        exit_node=np.concatenate([a.exit_node for a in accesses]),
        exit_out=cat("exit_out"),
        exit_back=cat("exit_back"),
        stand_xy=np.concatenate([a.stand_xy for a in accesses]),
        stand_in=cat("stand_in"),
        stand_out=cat("stand_out"),
    )


def merged_coverage(coverages: list[Coverage], accesses: list[Access]) -> Coverage:
    """The network's coverage (the same in every site's set-up) followed by every site's
    virtual edges' coverage, renumbered as :func:`merged_access` numbers them (each site's
    per-edge figures exactly as its own set-up has them)."""
    n_net = accesses[0].n_network
    first = coverages[0]
    off = np.cumsum([0] + [len(a.geom) for a in accesses])
    keep = [first.pieces.subset(first.pieces.edge < n_net)]
    first_seen = [first.first_seen_m[:n_net]]
    for c, o in zip(coverages, off, strict=False):
        p = c.pieces.subset(c.pieces.edge >= n_net)
        keep.append(dataclasses.replace(p, edge=(p.edge + o).astype(np.int32)))
        first_seen.append(c.first_seen_m[n_net:])
    pieces = CoveragePieces(
        *(
            np.concatenate([getattr(p, k) for p in keep])
            for k in CoveragePieces.__dataclass_fields__
        )
    )
    edges = EdgeExposure(
        *(
            np.concatenate(
                [getattr(first.edges, k)[:n_net]] + [getattr(c.edges, k)[n_net:] for c in coverages]
            )
            for k in ("seen_m", "seen_public_m", "recognition_m", "identification_m", "camera_m")
        ),
        *_merged_csr([c.edges for c in coverages], n_net),
    )
    return dataclasses.replace(
        first, pieces=pieces, edges=edges, first_seen_m=np.concatenate(first_seen)
    )


def _merged_csr(edges: list[EdgeExposure], n_net: int) -> tuple[np.ndarray, np.ndarray]:
    """The cameras seeing each edge (CSR): the network's, then every site's virtual edges'.

    Taken, like the per-edge lengths, from each site's own aggregation rather than summed
    again: the union of pieces is computed in bands by edge number, so renumbered edges
    would differ in the last bits."""
    first = edges[0]
    counts = [np.diff(first.cam_indptr)[:n_net]]
    indices = [first.cam_indices[: first.cam_indptr[n_net]]]
    for e in edges:
        counts.append(np.diff(e.cam_indptr)[n_net:])
        indices.append(e.cam_indices[e.cam_indptr[n_net] :])
    indptr = np.concatenate(([0], np.cumsum(np.concatenate(counts)))).astype(np.int64)
    return indptr, np.concatenate(indices)


def site_seed(seed: np.random.SeedSequence, site_id: str) -> np.random.SeedSequence:
    """A site's seed within a replication's (its own stream)."""
    key = (*seed.spawn_key, STREAM_SITES, zlib.crc32(site_id.encode()))
    return np.random.SeedSequence(seed.entropy, spawn_key=key)


def draw_sites(
    setup: Setup,
    seed: np.random.SeedSequence,
    world: World | None = None,
    coverage: Coverage | None = None,
) -> tuple[Plan, PointExposure]:
    """A replication's protesters of every site, in one plan: each site's drawn from its own
    stream, their routes renumbered into one pool and the merged virtual edges. ``world``:
    the replication's camera world (its cameras' counts from ``coverage``), else each site's
    coverage."""
    n_net = setup.access.n_network
    edge_off = _edge_offsets(list(setup.parts))
    plans, stands = [], []
    for part in setup.parts:
        points = None
        if world is not None:
            points = world_points(part.worlds.geometry, world, coverage)
        plan, stand = draw_plan(part, site_seed(seed, part.site.site_id), points=points)
        plans.append(plan)
        stands.append(stand)
    pool: list[np.ndarray] = []
    out_route, back_route, origin = [], [], []
    origin_off = 0
    for plan, part, off in zip(plans, setup.parts, edge_off, strict=False):
        base = len(pool)
        pool.extend(_shift(r, n_net, int(off)) for r in plan.routes)
        out_route.append(np.where(plan.out_route >= 0, plan.out_route + base, -1))
        back_route.append(np.where(plan.back_route >= 0, plan.back_route + base, -1))
        origin.append(plan.origin + origin_off)
        origin_off += len(part.origins)

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in plans])

    merged = Plan(
        depart_s=cat("depart_s"),
        speed_mps=cat("speed_mps"),
        dwell_s=cat("dwell_s"),
        out_route=np.concatenate(out_route).astype(np.int64),
        back_route=np.concatenate(back_route).astype(np.int64),
        stand_seen=cat("stand_seen"),
        stand_public=cat("stand_public"),
        stand_camera=cat("stand_camera"),
        stand_recognition=cat("stand_recognition"),
        stand_identification=cat("stand_identification"),
        routes=pool,
        origin=np.concatenate(origin).astype(np.int64),
        march_speed_mps=plans[0].march_speed_mps,
    )
    stand = PointExposure(
        *(np.concatenate([getattr(s, k) for s in stands]) for k in ("seen", "seen_public")),
        *(
            np.concatenate([getattr(s, k) for s in stands])
            for k in ("camera", "recognition", "identification")
        ),
        [c for s in stands for c in s.cameras],
    )
    return merged, stand
