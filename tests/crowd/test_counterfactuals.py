"""Counterfactuals on the real city: camera removal, least exposed routes, compare, ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, prepared

from sim.city import routing
from sim.crowd import ranking
from sim.crowd.runner import AMNESTY, run_replication, run_replications
from sim.crowd.stats import paired_difference
from sim.errors import ScenarioError
from sim.exposure.coverage import score_route
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.variants import override


def scenario_from(path: Path, protesters=300, replications=2, crowding=False, **sections):
    flat = {f"{sec}.{k}": v for sec, values in sections.items() for k, v in values.items()}
    changes = {
        "crowd.protesters": protesters,
        "replications": replications,
        "walking.crowding": crowding,
        **flat,
    }
    return override(load_scenario(path), changes)


def test_removing_every_camera_gives_zero_exposure(city, source):
    s = scenario_from(
        DEFAULT_SCENARIO,
        cameras={
            "edits": [{"action": "remove", "sources": ["banthescan_public", "banthescan_all"]}]
        },
    )
    agents = run_replications(prepared(s, source)).agents
    for col in (
        "seen_total_s",
        "camera_s",
        "recognition_s",
        "distinct_cameras",
        "share_surveilled",
    ):
        assert (agents[col] == 0).all(), col
    assert agents["first_exposure_s"].isna().all()


def test_removing_cameras_never_increases_anyones_exposure(city, source):
    base = run_replications(prepared(scenario_from(DEFAULT_SCENARIO), source)).agents
    cut = run_replications(
        prepared(scenario_from(SCENARIOS / "wsp_no_public_500m.toml"), source)
    ).agents
    assert (base["origin_exit"] == cut["origin_exit"]).all()  # same draws, same routes
    for col in (
        "seen_total_s",
        "seen_walk_s",
        "camera_s",
        "recognition_s",
        "identification_s",
        "distinct_cameras",
    ):
        assert (cut[col] <= base[col] + 1e-9).all(), col
    assert cut["seen_walk_s"].median() < base["seen_walk_s"].median()


def test_least_exposed_routes_never_see_more_and_respect_the_detour_cap(city, source):
    s = scenario_from(SCENARIOS / "wsp_least_exposed.toml")
    setup = prepared(s, source)
    net = city.network
    shortest = routing.shortest_routes(net, setup.origins.node, setup.site.node)
    cap = s.routing.max_detour
    for short, (least,) in zip(shortest, setup.out_routes):
        a = score_route(net.edge_length_m, setup.coverage, short, 1.34)
        b = score_route(net.edge_length_m, setup.coverage, least, 1.34)
        assert b.seen_m <= a.seen_m + 1e-6
        assert b.length_m <= (1 + cap) * a.length_m + 1e-6
    gains = [
        score_route(net.edge_length_m, setup.coverage, r, 1.34).seen_m for (r,) in setup.out_routes
    ]
    assert sum(gains) < sum(
        score_route(net.edge_length_m, setup.coverage, r, 1.34).seen_m for r in shortest
    )


def test_stochastic_routes_spread_protesters_over_several_paths(city, source):
    s = scenario_from(SCENARIOS / "wsp_stochastic_routes.toml", replications=1)
    setup = prepared(s, source)
    rep = run_replication(setup, 0, np.random.SeedSequence(1), keep_plan=True)
    first_origin = rep.plan.out_route[rep.plan.origin == rep.plan.origin[0]]
    routes = {tuple(rep.plan.routes[r]) for r in first_origin}
    assert len(routes) > 1


def test_compare_of_a_scenario_with_itself_gives_exact_zeros(city, source):
    agents = run_replications(
        prepared(scenario_from(DEFAULT_SCENARIO, replications=3), source)
    ).agents
    diff = paired_difference(agents, agents.copy(), 1)
    assert all(d["difference"] == 0.0 and d["ci95"] == [0.0, 0.0] for d in diff.values())


@pytest.fixture(scope="module")
def ranked(city, source):
    s = scenario_from(DEFAULT_SCENARIO, protesters=400, replications=1)
    setup = prepared(s, source)
    # ranked as rank-cameras ranks: in Amnesty's geometry, the coverage the ranking reads
    rep = run_replication(setup, 0, np.random.SeedSequence(5), keep_plan=True, world=AMNESTY)
    exposure = ranking.agent_camera_seconds(
        setup.coverage,
        city.network.n_edges,
        rep.plan,
        rep.stand_cameras,
        rep.agents["dwell_s"].to_numpy(),
    )
    return setup, rep, exposure


def test_agent_camera_matrix_reproduces_the_simulated_camera_seconds(ranked):
    setup, rep, exposure = ranked
    per_agent = np.asarray(exposure @ setup.coverage.cameras.count).ravel()
    np.testing.assert_allclose(per_agent, rep.agents["camera_s"].to_numpy(), rtol=1e-9)


def test_greedy_curve_falls_and_its_first_step_is_the_top_marginal_contribution(ranked):
    setup, _, exposure = ranked
    contrib = ranking.marginal_contributions(setup.coverage, exposure)
    curve = ranking.greedy_removal_curve(setup.coverage, exposure, 25)
    assert (np.diff(curve["camera_s_left"]) <= 1e-9).all()
    assert (np.diff(curve["seen_protesters_left"]) <= 0).all()
    first_drop = curve["camera_s_left"].iloc[0] - curve["camera_s_left"].iloc[1]
    assert first_drop == pytest.approx(contrib.camera_s.max(), rel=1e-12)


def test_marginal_contribution_matches_a_rerun_without_that_camera(city, source, ranked):
    setup, rep, exposure = ranked
    contrib = ranking.marginal_contributions(setup.coverage, exposure)
    top = int(np.argmax(contrib.camera_s))
    cam_id = str(setup.coverage.cameras.camera_id[top])
    s = scenario_from(
        DEFAULT_SCENARIO,
        protesters=400,
        replications=1,
        cameras={"edits": [{"action": "remove", "ids": [cam_id]}]},
    )
    without = run_replication(
        prepared(s, source), 0, np.random.SeedSequence(5), world=AMNESTY
    ).agents
    lost = rep.agents["camera_s"].sum() - without["camera_s"].sum()
    assert lost == pytest.approx(contrib.camera_s[top], rel=1e-9)


def test_top_k_edit_removes_the_k_most_contributing_sites(city, source):
    s = scenario_from(DEFAULT_SCENARIO, cameras={"edits": [{"action": "remove", "top_k": 3}]})
    setup = prepared(s, source)
    assert setup.edit_log[0]["cameras"] == 3


def test_edits_naming_unknown_ids_are_errors(city, source):
    s = scenario_from(DEFAULT_SCENARIO, cameras={"edits": [{"ids": ["banthescan:nowhere"]}]})
    with pytest.raises(ScenarioError, match="unknown camera id 'banthescan:nowhere'"):
        prepared(s, source)


def test_lambda_below_zero_is_rejected():
    s = load_scenario(SCENARIOS / "wsp_least_exposed.toml")
    with pytest.raises(ScenarioError, match="routing.exposure_weight': bad value -0.5"):
        override(s, {"routing.exposure_weight": -0.5})


def test_added_hypothetical_cameras_raise_exposure(city, source):
    base = run_replications(prepared(scenario_from(DEFAULT_SCENARIO), source)).agents
    s = scenario_from(
        DEFAULT_SCENARIO,
        cameras={
            "edits": [
                {
                    "action": "add",
                    "points": [[40.7336, -74.0027], [40.7308, -74.0003]],
                    "class": "nypd_dome",
                    "count": 2,
                }
            ]
        },
    )
    more = run_replications(prepared(s, source)).agents
    assert (more["camera_s"] >= base["camera_s"] - 1e-9).all()
    assert more["camera_s"].sum() > base["camera_s"].sum()


def test_least_exposed_crowds_also_disperse_by_less_watched_streets(city, source):
    s = scenario_from(SCENARIOS / "wsp_least_exposed.toml")
    setup = prepared(s, source)
    net = city.network
    tree = routing.shortest_tree(net, net.edge_length_m, setup.site.node, towards=False)
    for origin, back in zip(setup.origins.node, setup.back_routes):
        shortest = routing.tree_route(net, tree, int(origin))
        assert net.edge_u[back[0]] == setup.site.node and net.edge_v[back[-1]] == origin
        a = score_route(net.edge_length_m, setup.coverage, shortest, 1.34)
        b = score_route(net.edge_length_m, setup.coverage, back, 1.34)
        assert b.seen_m <= a.seen_m + 1e-6
        assert b.length_m <= (1 + s.routing.max_detour) * a.length_m + 1e-6
