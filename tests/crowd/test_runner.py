"""Whole replications on the real city: analytic parity, accounting, determinism, outputs."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from helpers import prepared

from sim.columns import summarised_names
from sim.crowd.runner import replication_coverage, run_replication, run_replications
from sim.outputs.folders import write_table
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.validation import parse_scenario
from sim.scenario.variants import override


def _changes(protesters, replications, sections):
    flat = {f"{sec}.{k}": v for sec, values in sections.items() for k, v in values.items()}
    return {"crowd.protesters": protesters, "replications": replications, **flat}


def small(protesters=300, replications=2, **sections):
    return override(load_scenario(DEFAULT_SCENARIO), _changes(protesters, replications, sections))


@pytest.fixture(scope="module")
def setup_no_crowd(city, source):
    return prepared(small(walking={"crowding": False}), source)


def test_without_crowding_exposure_equals_the_analytic_route_sum(setup_no_crowd):
    setup = setup_no_crowd
    seed = np.random.SeedSequence(7)
    rep = run_replication(setup, 0, seed, keep_plan=True)
    agents, plan, access = rep.agents, rep.plan, setup.access
    exits = {e: i for i, e in enumerate(setup.origins.exit_id)}
    # the replication's camera world
    e, length = replication_coverage(setup, seed)[0].edges, setup.streets.length_m
    stand_in = set(access.stand_in.tolist())
    for row in agents.itertuples():
        i = exits[row.origin_exit]
        out = plan.routes[plan.out_route[row.agent_id]]
        back = plan.routes[plan.back_route[row.agent_id]]
        # out: the exit's walk to the street, the network route, the walk to a standing point
        assert out[0] == access.exit_out[i] and out[-1] in stand_in
        assert out[1:-1].tolist() == setup.out_routes[i][0].tolist()
        assert back[-1] == access.exit_back[i]
        assert back[1:-1].tolist() == setup.back_routes[i].tolist()
        legs = [out, back]
        seen = sum(e.seen_m[r].sum() for r in legs) / row.speed_mps
        cam = sum(e.camera_m[r].sum() for r in legs) / row.speed_mps
        assert row.seen_walk_s == pytest.approx(seen, rel=1e-9, abs=1e-9)
        assert row.camera_s >= cam * (1 - 1e-9)  # walk camera-seconds plus the dwell's
        assert row.walk_m == pytest.approx(sum(length[r].sum() for r in legs), rel=1e-12)


def test_every_spawned_protester_is_accounted_for(city, source):
    scenario = small(protesters=500, replications=2)
    result = run_replications(prepared(scenario, source))
    assert len(result.agents) == 500 * 2
    assert set(result.agents["status"]) <= {
        "done",
        "at_site",
        "walking",
        "not_departed",
        "no_route",
    }
    assert (result.agents.groupby("replication").size() == 500).all()
    assert (result.agents.loc[result.agents.status == "done", "arrive_s"].notna()).all()


def test_same_seed_gives_identical_tables_and_other_seeds_differ(city, source, tmp_path):
    scenario = small(protesters=200, replications=2)
    setup = prepared(scenario, source)
    a = run_replications(setup).agents
    b = run_replications(setup).agents
    write_table(tmp_path / "a.csv", a)
    write_table(tmp_path / "b.csv", b)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    raw = tomllib.loads(DEFAULT_SCENARIO.read_text())
    raw["crowd"]["protesters"], raw["replications"], raw["seed"] = 200, 2, 99
    c = run_replications(prepared(parse_scenario(raw, DEFAULT_SCENARIO), source)).agents
    assert not np.allclose(a["depart_s"], c["depart_s"])


def test_timeseries_integrates_to_the_agents_total_seen_seconds(setup_no_crowd):
    rep = run_replication(setup_no_crowd, 0, np.random.SeedSequence(3))
    total = rep.agents["seen_total_s"].sum()
    # one-second grid: each traversal or dwell is shifted by under a second at each end
    assert rep.timeseries["cumulative_seen_s"].iloc[-1] == pytest.approx(total, rel=2e-3)
    assert rep.timeseries["on_street"].iloc[0] >= 0


def test_undercount_scales_camera_seconds_but_not_time_in_view(city, source):
    # in Amnesty's geometry, where the counts' weight is as the earlier figures had it
    cameras = {"world": "amnesty"}
    base = run_replications(
        prepared(
            small(protesters=200, replications=2, walking={"crowding": False}, cameras=cameras),
            source,
        )
    )
    under = run_replications(
        prepared(
            small(
                protesters=200,
                replications=2,
                walking={"crowding": False},
                uncertainty={"undercount": True},
                cameras=cameras,
            ),
            source,
        )
    )
    np.testing.assert_allclose(base.agents["seen_total_s"], under.agents["seen_total_s"])
    assert (under.agents["camera_s"] >= base.agents["camera_s"] - 1e-9).all()
    assert under.agents["camera_s"].sum() > 1.5 * base.agents["camera_s"].sum()
    shares = under.replications[0].undercount_share
    assert 0.23 <= shares["public_street"] <= 1.0 and 0.24 <= shares["private_building"] <= 0.46


SCENARIOS = DEFAULT_SCENARIO.parent


def _variant(name, protesters=300, replications=1, **sections):
    return override(load_scenario(SCENARIOS / name), _changes(protesters, replications, sections))


def test_the_march_leaves_together_and_walks_to_the_second_site(city, source):
    s = _variant("wsp_march_union_sq.toml", walking={"crowding": False})
    setup = prepared(s, source)
    agents = run_replications(setup).agents
    start = s.arrival.start_s + s.arrival.duration_s + s.dwell.duration_s
    assert np.allclose(agents["leave_s"], start)
    march_m = city.network.edge_length_m[setup.march_route].sum()
    assert 700 < march_m < 1200  # Washington Square to Union Square, about 900 m
    assert (agents["walk_m"] > agents["route_m"] + march_m - 1e-6).all()
    assert (agents["dwell_s"] == start - agents["arrive_s"]).all()


def test_train_waves_distance_weights_and_dispersal_to_the_nearest_exit(city, source):
    s = _variant("union_square.toml", protesters=2000)
    setup = prepared(s, source)
    rep = run_replication(setup, 0, np.random.SeedSequence(11), keep_plan=True)
    after_train = np.mod(rep.plan.depart_s - s.arrival.start_s, 300.0)
    assert (after_train <= 60.0 + 1e-9).all()  # within the egress minute after a train
    near = setup.origin_walk_m < np.median(setup.origin_walk_m)
    assert setup.origin_weight[near].sum() > setup.origin_weight[~near].sum()
    assert len({tuple(r) for r in setup.back_routes}) == 1  # everyone leaves by one exit


def test_a_figures_interval_does_not_depend_on_the_order_of_the_figures(monkeypatch):
    from sim.crowd import stats

    rng = np.random.default_rng(3)
    agents = pd.DataFrame(
        {"replication": np.repeat(np.arange(6), 50), "share_surveilled": rng.random(300)}
    )
    for column in summarised_names():
        agents[column] = rng.random(300) * 100
    agents["dwell_s"] = rng.random(300) * 3600  # the share never seen standing reads the stay
    before = stats.summarise(agents, 7)
    monkeypatch.setattr(stats, "METRICS", list(reversed(stats.METRICS)))
    after = stats.summarise(agents, 7)
    assert list(before) != list(after)  # the figures come in another order...
    for figure, fig in before.items():  # ...with the same intervals
        assert after[figure]["ci95"] == fig["ci95"]
        if fig["ci95"]:
            assert fig["ci95"][0] <= fig["value"] <= fig["ci95"][1]
