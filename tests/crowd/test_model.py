"""The simpy model on hand-made streets: timing, exposure accrual, crowding, accounting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.crowd.crowding import MIN_SPEED_FACTOR, weidmann_factor
from sim.crowd.model import STATUS_DONE, STATUS_NO_ROUTE, STATUS_WALKING, Plan, Streets, simulate


def _streets(length, seen, width=3.0, camera=None, first=None):
    length = np.asarray(length, float)
    seen = np.asarray(seen, float)
    camera = seen * 2 if camera is None else np.asarray(camera, float)
    first = np.where(seen > 0, 0.0, np.nan) if first is None else np.asarray(first, float)
    return Streets(
        length, np.full(len(length), width), seen, seen, camera, seen / 2, seen / 4, first
    )


def _plan(n, routes, depart=None, speed=1.0, dwell=0.0, back=-1, stand_seen=False, origin=None):
    z = np.zeros(n)
    return Plan(
        depart_s=np.zeros(n) if depart is None else np.asarray(depart, float),
        speed_mps=np.full(n, speed),
        dwell_s=np.full(n, dwell),
        out_route=np.zeros(n, np.int64),
        back_route=np.full(n, back),
        stand_seen=np.full(n, stand_seen),
        stand_public=np.full(n, stand_seen),
        stand_camera=np.full(n, 3.0 if stand_seen else 0.0),
        stand_recognition=z,
        stand_identification=z,
        routes=[np.asarray(r, np.int64) for r in routes],
        origin=origin,
    )


def test_walk_time_and_exposure_are_length_and_coverage_over_speed():
    streets = _streets([100.0, 50.0, 30.0], [0.0, 20.0, 30.0], first=[np.nan, 10.0, 0.0])
    out = simulate(_plan(1, [[0, 1, 2]], depart=[5.0], speed=2.0), streets, crowding=False)
    assert out.status[0] == STATUS_DONE
    assert out.arrive_s[0] == pytest.approx(5.0 + 180.0 / 2.0, abs=1e-12)
    assert out.walk_exposure[0, 0] == pytest.approx(50.0 / 2.0, abs=1e-12)  # seen seconds
    assert out.walk_exposure[0, 2] == pytest.approx(100.0 / 2.0, abs=1e-12)  # camera-seconds
    assert out.first_exposure_s[0] == pytest.approx(5.0 + 100.0 / 2.0 + 10.0 / 2.0)
    assert out.seen_m[0] == pytest.approx(50.0)


def test_traversals_are_logged_in_event_order():
    streets = _streets([10.0, 10.0], [0.0, 0.0])
    plan = _plan(2, [[0, 1]], depart=[0.0, 5.0], speed=1.0)
    out = simulate(plan, streets, crowding=False, edge_events=True)
    log = list(zip(out.trav_agent.tolist(), out.trav_edge.tolist(), out.trav_start_s.tolist()))
    assert log == [(0, 0, 0.0), (1, 0, 5.0), (0, 1, 10.0), (1, 1, 15.0)]


def test_dwell_exposure_is_standing_flags_times_dwell_and_back_walk_counts():
    streets = _streets([40.0], [40.0])
    plan = _plan(1, [[0], [0]], speed=1.0, dwell=600.0, back=1, stand_seen=True)
    out = simulate(plan, streets, crowding=False)
    assert out.dwell_exposure[0, 0] == 600.0
    assert out.dwell_exposure[0, 2] == 3.0 * 600.0
    assert out.walk_exposure[0, 0] == pytest.approx(80.0)
    assert out.end_s[0] == pytest.approx(40.0 + 600.0 + 40.0)


def test_crowding_slows_walkers_who_share_an_edge():
    streets = _streets([10.0], [0.0], width=1.0)
    alone = simulate(_plan(1, [[0]]), streets, crowding=True)
    crowd = simulate(_plan(20, [[0]]), streets, crowding=True)
    assert alone.walk_s[0] == pytest.approx(10.0 / weidmann_factor(0.1))
    assert crowd.walk_s.max() > alone.walk_s[0] * 1.5
    off = simulate(_plan(20, [[0]]), streets, crowding=False)
    assert np.allclose(off.walk_s, 10.0)


def test_weidmann_factor_is_one_when_empty_and_floored_at_jam():
    assert weidmann_factor(0.0) == 1.0
    assert weidmann_factor(1.0) == pytest.approx(1 - math.exp(-1.913 * (1 - 1 / 5.4)))
    assert weidmann_factor(6.0) == MIN_SPEED_FACTOR
    assert weidmann_factor(0.5) > weidmann_factor(2.0)


def test_every_protester_is_accounted_for_when_the_clock_stops_early():
    streets = _streets([100.0], [0.0])
    plan = _plan(3, [[0]], depart=[0.0, 10.0, 1000.0], dwell=1e6)
    plan = Plan(**{**plan.__dict__, "out_route": np.array([0, -1, 0])})
    out = simulate(plan, streets, crowding=False, until_s=50.0)
    assert out.status.tolist() == [STATUS_WALKING, STATUS_NO_ROUTE, "not_departed"]


def test_one_spawner_per_origin_keeps_departure_times():
    streets = _streets([10.0], [0.0])
    plan = _plan(4, [[0]], depart=[3.0, 1.0, 2.0, 0.0], origin=np.array([1, 0, 1, 0]))
    out = simulate(plan, streets, crowding=False)
    assert np.allclose(out.arrive_s, np.array([3.0, 1.0, 2.0, 0.0]) + 10.0)


def test_one_timeout_legs_give_exactly_what_edge_by_edge_walking_gives():
    rng = np.random.default_rng(0)
    n_edges = 30
    length = rng.uniform(5, 80, n_edges)
    seen = length * rng.uniform(0, 1, n_edges) * (rng.random(n_edges) > 0.4)
    first = np.where(seen > 0, (length - seen) * rng.random(n_edges), np.nan)
    streets = _streets(length, seen, first=first)
    routes = [rng.permutation(n_edges)[:12] for _ in range(4)]
    n = 50
    plan = _plan(n, routes, depart=rng.uniform(0, 300, n), dwell=120.0, back=1, stand_seen=True)
    plan = Plan(
        **{
            **plan.__dict__,
            "out_route": rng.integers(0, 4, n),
            "speed_mps": rng.uniform(0.8, 1.8, n),
        }
    )
    edge = simulate(plan, streets, crowding=False, edge_events=True)
    legs = simulate(plan, streets, crowding=False)
    np.testing.assert_allclose(legs.walk_exposure, edge.walk_exposure, rtol=1e-12)
    np.testing.assert_allclose(legs.first_exposure_s, edge.first_exposure_s, rtol=1e-12)
    np.testing.assert_allclose(legs.end_s, edge.end_s, rtol=1e-12)
    order_a = np.lexsort((edge.trav_start_s, edge.trav_agent))
    order_b = np.lexsort((legs.trav_start_s, legs.trav_agent))
    np.testing.assert_array_equal(edge.trav_edge[order_a], legs.trav_edge[order_b])
    np.testing.assert_allclose(edge.trav_start_s[order_a], legs.trav_start_s[order_b], rtol=1e-12)
    assert legs.events < edge.events


def test_first_exposure_at_the_site_is_the_arrival_and_none_without_a_dwell():
    streets = _streets([40.0], [0.0])
    stays = simulate(_plan(1, [[0]], dwell=60.0, stand_seen=True), streets, crowding=False)
    assert stays.first_exposure_s[0] == pytest.approx(40.0)
    passes = simulate(_plan(1, [[0]], dwell=0.0, stand_seen=True), streets, crowding=False)
    assert np.isnan(passes.first_exposure_s[0])
    assert passes.dwell_exposure[0, 0] == 0.0
