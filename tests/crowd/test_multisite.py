"""Several sites at once: the [[sites]] schema, the merge of set-ups, shared crowding, and the
citywide day on the real bundle."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from helpers import SCENARIOS, prepared

from sim.crowd.multisite import draw_sites, with_total
from sim.crowd.runner import run_replication
from sim.errors import ScenarioError
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.validation import parse_scenario
from sim.scenario.variants import override

CITYWIDE = SCENARIOS / "citywide_day.toml"
WSP, USQ = "washington_sq_park", "union_sq_park"  # 900 m apart: their catchments overlap


def _sites(tables, crowding=True, engine="kernel", **changes):
    """The default scenario with [[sites]] instead of its one [site] and [crowd]."""
    base = load_scenario(DEFAULT_SCENARIO)
    changes = {"sites": tables, "replications": 1, "walking.crowding": crowding, **changes}
    changes["engine"] = engine
    return override(base, changes, drop=("site", "crowd"))


# dense enough for crowding to bite: 5,000 protesters in ten minutes
TWO = [
    {"id": WSP, "protesters": 3000, "arrival": {"duration_s": 600.0}},
    {"id": USQ, "protesters": 2000, "arrival": {"start_s": 60.0, "duration_s": 540.0}},
]


@pytest.fixture(scope="module")
def two_sites(source):
    """Union Square alone and both rallies, prepared once each."""
    return {
        "both": prepared(_sites(TWO), source),
        "usq": prepared(_sites(TWO[1:]), source),
        "wsp": prepared(_sites(TWO[:1]), source),
    }


def _run(setup, **changes):
    scenario = override(setup.scenario, changes) if changes else setup.scenario
    seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    return run_replication(dataclasses.replace(setup, scenario=scenario), 0, seed)


# ------------------------------------------------------------------ the schema


def _raw(**extra):
    raw = {"name": "x", "sites": [{"id": WSP, "protesters": 10}]}
    raw.update(extra)
    return raw


@pytest.mark.parametrize(
    "raw, message",
    [
        (_raw(sites=[]), r"key 'sites': bad value \[\] \(allowed: an array of tables"),
        (_raw(sites={"id": WSP}), "key 'sites': bad value .* array of tables"),
        (_raw(sites=[{"protesters": 5}]), r"key 'sites\[0\].id': missing"),
        (_raw(sites=[{"id": WSP}]), r"key 'sites\[0\].protesters': missing"),
        (_raw(sites=[{"id": WSP, "protesters": 0}]), r"'sites\[0\].protesters': bad value 0"),
        (_raw(sites=[{"id": WSP, "protesters": 5, "crowd": 3}]), r"unknown key 'sites\[0\].crowd'"),
        (
            _raw(sites=[{"id": WSP, "protesters": 5}, {"id": WSP, "protesters": 5}]),
            r"'sites\[1\].id': bad value 'washington_sq_park' \(allowed: a site not named before",
        ),
        (
            _raw(sites=[{"id": WSP, "protesters": 5, "arrival": {"shape": "wave"}}]),
            r"key 'sites\[0\].arrival.shape': bad value 'wave' \(allowed: one of 'uniform'",
        ),
        (_raw(site={"id": WSP}), "key 'site.id' cannot be given with \\[\\[sites\\]\\]"),
        (_raw(crowd={"protesters": 5}), "key 'crowd.protesters' cannot be given with"),
        (_raw(march={"to_site": USQ}), "key 'march.to_site' cannot be given with"),
        (_raw(uncertainty={"undercount": True}), "key 'uncertainty.undercount' cannot be"),
    ],
)
def test_bad_sites_are_one_line_errors_naming_file_key_and_value(raw, message):
    with pytest.raises(ScenarioError, match=message) as err:
        parse_scenario(raw, Path("s.toml"))
    assert str(err.value).startswith("s.toml: key") or "unknown key" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unknown_site_id_names_its_sites_table(source):
    scenario = _sites([TWO[0], {"id": "no_such_park", "protesters": 5}])
    with pytest.raises(ScenarioError, match=r"no_such_park.*\(in \[\[sites\]\] table sites\[1\]\)"):
        prepared(scenario, source)


@pytest.mark.realdata
def test_commands_of_one_site_refuse_several_sites_with_one_line(data_dir, tmp_path, capsys):
    from sim.cli.app import main

    path = tmp_path / "two.toml"
    path.write_text(TWO_TOML)
    code = main(
        ["--data-dir", str(data_dir), "--outputs", str(tmp_path), "rank-cameras", str(path)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.endswith(
        "key 'sites': this command takes a scenario of one site ([site]); "
        "scenarios of several sites ([[sites]]) run with 'run' and 'compare'"
    )


def test_a_one_site_scenario_keeps_its_fingerprint_and_has_no_sites():
    s = load_scenario(DEFAULT_SCENARIO)
    assert s.sites == () and "sites" not in s.resolved()
    both = _sites(TWO)
    assert both.crowd.protesters == 5000 and [e.id for e in both.sites] == [WSP, USQ]
    assert both.resolved()["sites"][1]["arrival"] == {"start_s": 60.0, "duration_s": 540.0}


def test_scaling_keeps_every_site_and_the_total():
    s = with_total(load_scenario(CITYWIDE), 1_000_000)
    sizes = [e.protesters for e in s.sites]
    assert sum(sizes) == 1_000_000 and min(sizes) >= 1
    small = with_total(load_scenario(CITYWIDE), 50)
    assert sum(e.protesters for e in small.sites) == 50


# ------------------------------------------------------------------ the real city


@pytest.mark.realdata
def test_virtual_edges_of_two_sites_never_share_a_number(two_sites):
    both, usq = two_sites["both"], two_sites["usq"]
    a, b = both.parts
    n_net = both.access.n_network
    assert len(both.access.geom) == len(a.access.geom) + len(b.access.geom)
    assert len(both.streets.length_m) == n_net + len(both.access.geom)
    # Union Square's virtual edges follow Washington Square's, each with its own geometry
    shifted = b.access.stand_in + len(a.access.geom)
    assert np.array_equal(both.access.stand_in[len(a.access.stand_in) :], shifted)
    for e_own, e_merged in zip(b.access.stand_in[:20], shifted[:20], strict=True):
        assert both.access.geom[e_merged - n_net].equals(b.access.geom[e_own - n_net])
        assert both.streets.seen_m[e_merged] == usq.streets.seen_m[e_own]


@pytest.mark.realdata
def test_every_protester_is_accounted_for_at_their_own_site(two_sites):
    both = two_sites["both"]
    rep = _run(both)
    agents = rep.agents
    assert agents["site"].value_counts().to_dict() == {WSP: 3000, USQ: 2000}
    assert (agents["status"] == "done").all()
    assert agents["agent_id"].tolist() == list(range(5000))
    # each protester starts from an exit of their own site's catchment, and arrives in its window
    for part in both.parts:
        mine = agents[agents["site"] == part.site.site_id]
        assert set(mine["origin_exit"]) <= set(part.origins.exit_id)
    usq = agents[agents["site"] == USQ]
    assert usq["depart_s"].between(60.0, 600.0).all()
    assert agents[agents["site"] == WSP]["depart_s"].between(0.0, 600.0).all()


@pytest.mark.realdata
def test_without_crowding_each_rally_is_as_if_alone_and_with_it_they_slow_each_other(two_sites):
    both, usq = two_sites["both"], two_sites["usq"]
    free_both = _run(both, **{"walking.crowding": False}).agents
    free_alone = _run(usq, **{"walking.crowding": False}).agents
    mine = free_both[free_both["site"] == USQ].reset_index(drop=True)
    for col in free_alone.columns.drop("agent_id"):  # every column, exactly
        a, b = mine[col].to_numpy(), free_alone[col].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), col
        else:
            assert a.tolist() == b.tolist(), col
    crowd_both = _run(both).agents
    crowd_alone = _run(usq).agents
    mine = crowd_both[crowd_both["site"] == USQ].reset_index(drop=True)
    assert np.array_equal(mine["walk_m"], crowd_alone["walk_m"])  # the same walks
    slower = mine["walk_s"].to_numpy() - crowd_alone["walk_s"].to_numpy()
    # Weidmann's relation slows whoever meets more walkers on a street; a few walk faster,
    # reaching a street after (not among) a slowed group, so the test is the balance
    n_slower, n_faster = (slower > 1e-9).sum(), (slower < -1e-9).sum()
    assert slower.sum() > 0 and n_slower > 100 and n_slower > 10 * n_faster, slower
    assert (crowd_alone["walk_s"] > free_alone["walk_s"] - 1e-9).all()


@pytest.mark.realdata
def test_kernel_equals_reference_on_two_sites(two_sites):
    both = two_sites["both"]
    reps = [_run(both, engine=e) for e in ("reference", "kernel")]
    ref, ker = (r.agents for r in reps)
    assert list(ref.columns) == list(ker.columns)
    for col in ref.columns:
        a, b = ref[col].to_numpy(), ker[col].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), col
        else:
            assert a.tolist() == b.tolist(), col
    assert reps[0].timeseries.equals(reps[1].timeseries)
    assert np.array_equal(reps[0].edge_traffic, reps[1].edge_traffic)
    seed = np.random.SeedSequence(both.scenario.seed).spawn(1)[0]
    plan, _ = draw_sites(both, seed)
    assert len(plan.depart_s) == 5000 and plan.origin.max() < len(both.origins)


def test_the_citywide_day_follows_its_documented_rule(data_dir):
    """Every Manhattan site, largest CCC crowd (at least 500) times events, capped at 20,000."""
    s = load_scenario(CITYWIDE)
    with open(data_dir / "sites" / "protest_sites_nyc.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["borough"] == "Manhattan"]
    want = {
        r["site_id"]: min(
            20_000,
            int(max(float(r["ccc2020_max_size"] or 0), 500)) * max(int(r["ccc2020_events"]), 1),
        )
        for r in rows
    }
    assert {e.id: e.protesters for e in s.sites} == want
    assert len(want) == 11 and s.crowd.protesters == 126_000
    assert s.arrival.duration_s == 12 * 3600


@pytest.mark.realdata
def test_the_citywide_day_runs_at_a_reduced_size(source):
    s = with_total(load_scenario(CITYWIDE), 1100)
    setup = prepared(s, source)
    rep = _run(setup)
    counts = rep.agents["site"].value_counts()
    assert counts.to_dict() == {e.id: e.protesters for e in s.sites}
    assert (rep.agents["status"] == "done").mean() > 0.99
    assert rep.agents["depart_s"].max() <= 12 * 3600
    # every site's protesters are seen somewhere on their way (Manhattan's cameras are dense)
    seen = rep.agents.groupby("site")["seen_total_s"].median()
    assert (seen > 0).all(), seen


TWO_TOML = """name = "two_rallies"
seed = 7
replications = 2
[site]
area = "disk"
[outputs]
figures = false
[[sites]]
id = "washington_sq_park"
protesters = 60
[[sites]]
id = "union_sq_park"
protesters = 40
[sites.arrival]
start_s = 600.0
"""


@pytest.mark.realdata
def test_a_run_of_two_sites_prints_and_writes_each_site(data_dir, tmp_path, capsys):
    import json

    import pandas as pd

    from sim.cli.app import main

    path = tmp_path / "two.toml"
    path.write_text(TWO_TOML)
    args = ["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), "run"]
    assert main([*args, "--no-progress", "--no-report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "100 protesters x 2 replications to 2 sites" in out
    assert any(line.startswith(f"{USQ} ") and " 40 " in line for line in out.splitlines())
    (folder,) = (tmp_path / "out" / "two_rallies").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["protesters_per_replication"] == 100
    assert {k: v["status"] for k, v in summary["sites"].items()} == {
        WSP: {"done": 120},
        USQ: {"done": 80},
    }
    agents = pd.read_parquet(folder / "agents.parquet")
    by_site = agents.groupby("site")["seen_total_s"].mean()
    assert summary["sites"][USQ]["figures"]["seen_total_s.mean"]["pooled"] == pytest.approx(
        by_site[USQ]
    )
    usq = agents[agents["site"] == USQ]
    assert (usq["depart_s"] >= 600.0).all()


def test_a_bad_sites_table_stops_the_run_with_one_line(data_dir, tmp_path, capsys):
    from sim.cli.app import main

    path = tmp_path / "bad.toml"
    path.write_text(TWO_TOML.replace("protesters = 40", "protesters = -4"))
    code = main(["--data-dir", str(data_dir), "--outputs", str(tmp_path / "out"), str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err
    assert err.endswith(
        "key 'sites[1].protesters': bad value -4 (allowed: a number >= 1 and <= 10000000)"
    )
    assert not (tmp_path / "out").exists()
