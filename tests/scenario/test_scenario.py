"""Scenario files: defaults, validation errors naming file, key, value and what is allowed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from helpers import SCENARIOS

from sim.errors import ScenarioError
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.validation import parse_scenario
from sim.scenario.variants import load_scenarios, override

SCENARIO_FILES = sorted(SCENARIOS.glob("*.toml"))


def _raw() -> dict:
    return tomllib.loads(DEFAULT_SCENARIO.read_text())


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
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


def test_a_base_file_gives_every_key_the_child_does_not_override(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text(
        f'base = "{DEFAULT_SCENARIO}"\nname = "child"\n[crowd]\nprotesters = 77\n'
        "[walking]\ncrowding = false\n"
    )
    base, s = load_scenario(DEFAULT_SCENARIO), load_scenario(child)
    assert (s.name, s.crowd.protesters, s.walking.crowding) == ("child", 77, False)
    assert s.walking.speed_mean_mps == base.walking.speed_mean_mps
    assert s.cameras.layers == base.cameras.layers  # arrays of tables come whole from the base
    assert s.site == base.site and s.seed == base.seed
    assert "# ---- base:" in s.text and base.text in s.text


def test_the_shipped_variants_equal_the_baseline_but_for_what_they_change():
    base = load_scenario(DEFAULT_SCENARIO).resolved()
    variant = load_scenario(DEFAULT_SCENARIO.parent / "wsp_undercount.toml").resolved()
    differs = {k for k in base if base[k] != variant[k]}
    assert differs == {"name", "description", "replications", "uncertainty"}


@pytest.mark.parametrize(
    "text, message",
    [
        ('base = "missing.toml"\nname = "x"\n', "key 'base': 'missing.toml' not found"),
        ('base = "me.toml"\nname = "x"\n', "makes a cycle of base files"),
        ("base = 3\nname = 'x'\n", "key 'base': bad value 3"),
    ],
)
def test_bad_base_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "me.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_override_changes_only_the_named_keys_and_says_so_in_the_text():
    s = load_scenario(DEFAULT_SCENARIO)
    o = override(s, {"crowd.protesters": 12, "cameras.classes.public_street.range_m": 30.0})
    assert o.crowd.protesters == 12
    assert o.cameras.classes["public_street"].level_ranges_m() == (30.0, 30.0, 15.0)
    assert o.arrival == s.arrival and o.cameras.layers == s.cameras.layers
    assert o.fingerprint != s.fingerprint
    assert "# override: crowd.protesters = 12" in o.text
    with pytest.raises(ScenarioError, match="crowd.protesters': bad value 0"):
        override(s, {"crowd.protesters": 0})


@pytest.mark.parametrize(
    "payload, message",
    [
        ("name = 'caf\xe9'\n".encode("latin-1"), "not a UTF-8 text file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a UTF-8 text file"),
        (b"", "missing key 'name'"),
    ],
)
def test_binary_latin1_and_empty_scenario_files_are_one_line_errors(tmp_path, payload, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(payload)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(path)
    assert "\n" not in str(err.value)


def test_a_directory_is_not_a_scenario(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


@pytest.mark.parametrize(
    "layer, message",
    [
        ({"source": "amnesty_counts", "boroughs": ["Manhatan"]}, "unknown borough 'Manhatan'"),
        ({"source": "linknyc", "boroughs": ["Manhattan"]}, "only the 'amnesty_counts' source"),
    ],
)
def test_camera_layer_boroughs_are_checked(layer, message):
    raw = tomllib.loads(DEFAULT_SCENARIO.read_text())
    raw["cameras"]["layers"] = [layer]
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(raw, DEFAULT_SCENARIO)


def test_sweep_values_without_a_parameter_are_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(DEFAULT_SCENARIO.read_text() + "\n[sweep]\nvalues = [1, 2]\n")
    with pytest.raises(ScenarioError, match="'sweep.values' is given without 'sweep.parameter'"):
        load_scenarios(path)
