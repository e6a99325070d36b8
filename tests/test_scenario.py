"""Scenario files: defaults, validation errors naming file, key, value and what is allowed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import DEFAULT_SCENARIO, load_scenario, load_scenarios, parse_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))


def _raw() -> dict:
    return tomllib.loads(DEFAULT_SCENARIO.read_text())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_validates(path):
    for scenario in load_scenarios(path):
        assert scenario.name
        assert scenario.replications >= 1


def test_defaults_fill_unset_keys():
    raw = {"name": "x", "site": {"id": "washington_sq_park"}}
    s = parse_scenario(raw, Path("x.toml"))
    assert s.walking.speed_mean_mps == 1.34
    assert s.walking.speed_sd_mps == 0.26
    assert s.routing.choice == "shortest"
    assert s.cameras.layers[0].source == "banthescan_public"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.update(colour="red"), "unknown key 'colour'"),
        (
            lambda r: r["crowd"].update(protesters="many"),
            "key 'crowd.protesters': bad value 'many'",
        ),
        (lambda r: r["crowd"].update(protesters=0), "key 'crowd.protesters': bad value 0"),
        (lambda r: r["walking"].update(speed_mean_mps=-1.0), "walking.speed_mean_mps"),
        (lambda r: r["arrival"].update(shape="zigzag"), "one of 'uniform', 'ramp', 'poisson'"),
        (lambda r: r["walking"].update(pace=1), "unknown key 'walking.pace'"),
        (lambda r: r["routing"].update(exposure_weight=-1.0), "routing.exposure_weight"),
        (lambda r: r["cameras"]["layers"][0].update(source="cctv"), "cameras.layers[0].source"),
        (
            lambda r: r["cameras"].update(classes={"robot": {"range_m": 5}}),
            "unknown camera class 'robot'",
        ),
        (
            lambda r: r["cameras"].update(classes={"public_street": {"range_m": -5}}),
            "public_street.range_m: bad value -5",
        ),
        (
            lambda r: r["cameras"].update(classes={"private_building": {"hfov_deg": 400}}),
            "hfov_deg: bad value 400 (allowed: degrees in (0, 360])",
        ),
        (
            lambda r: r["cameras"].update(edits=[{"classes": ["robot"]}]),
            "unknown camera class 'robot'",
        ),
        (lambda r: r["cameras"].update(edits=[{"top_k": 0}]), "top_k': bad value 0"),
        (lambda r: r.update(site={"radius_m": 10.0}), "[site] needs 'id'"),
        (lambda r: r["walking"].update(crowding="yes"), "walking.crowding': bad value 'yes'"),
        (lambda r: r["site"].update(id=7), "key 'site.id': bad value 7"),
    ],
)
def test_bad_values_are_one_line_errors_naming_file_key_and_value(mutate, expected):
    raw = _raw()
    mutate(raw)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(raw, Path("bad.toml"))
    message = str(err.value)
    assert message.startswith("bad.toml: ")
    assert expected in message
    assert "\n" not in message


def test_invalid_toml_names_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("name = \n")
    with pytest.raises(ScenarioError, match="broken.toml: not valid TOML"):
        load_scenario(bad)


def test_sweep_expands_to_one_scenario_per_value(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        DEFAULT_SCENARIO.read_text() + "\n[sweep]\nparameter = "
        '"cameras.classes.public_street.range_m"\nvalues = [15.0, 200.0]\n'
    )
    variants = load_scenarios(path)
    assert [v.name for v in variants] == [
        "washington_square__range_m-15p0",
        "washington_square__range_m-200p0",
    ]
    assert variants[1].cameras.classes["public_street"].range_m == 200.0
    assert variants[0].cameras.classes["public_street"].level_ranges_m() == (15.0, 15.0, 7.5)


def test_sweep_value_out_of_range_is_rejected(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        DEFAULT_SCENARIO.read_text() + "\n[sweep]\nparameter = "
        '"cameras.classes.public_street.range_m"\nvalues = [-3.0]\n'
    )
    with pytest.raises(ScenarioError, match=r"range_m: bad value -3.0 .*\(sweep value -3.0\)"):
        load_scenarios(path)
