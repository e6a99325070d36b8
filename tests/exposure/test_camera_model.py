"""The camera model: lens pixel density, DORI distances, class overrides and validation."""

import math

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.exposure.camera_model import (
    AMNESTY_PRESET,
    DEFAULT_CLASSES,
    DORI_PX_PER_M,
    MAX_LENS_FOV_DEG,
    CameraParams,
    lens_distance_m,
    level_ranges_for,
    public_flags,
    resolve_classes,
)

# ---------------------------------------------------------------- lens_distance_m


def test_lens_distance_solves_px_per_m_formula_at_90_degrees():
    # tan(45 deg) = 1: ppm = 1000 / (2 d) = 100  =>  d = 5 m
    assert lens_distance_m(1000, 90.0, 100.0) == pytest.approx(5.0, rel=1e-12)


def test_lens_distance_solves_px_per_m_formula_at_60_degrees():
    # tan(30 deg) = 1 / sqrt(3): d = 1000 sqrt(3) / (2 * 100)
    assert lens_distance_m(1000, 60.0, 100.0) == pytest.approx(5.0 * math.sqrt(3), rel=1e-12)


@pytest.mark.parametrize(
    "h_pixels, hfov_deg, px_per_m", [(3840, 9.0, 125.0), (704, 45.0, 62.0), (1920, 100.0, 250.0)]
)
def test_lens_distance_delivers_the_asked_pixel_density(h_pixels, hfov_deg, px_per_m):
    d = lens_distance_m(h_pixels, hfov_deg, px_per_m)
    delivered = h_pixels / (2 * d * math.tan(math.radians(hfov_deg) / 2))
    assert delivered == pytest.approx(px_per_m, rel=1e-12)


def test_doubling_pixel_density_halves_the_distance():
    assert lens_distance_m(1920, 100.0, 250.0) == pytest.approx(
        lens_distance_m(1920, 100.0, 125.0) / 2, rel=1e-12
    )


def test_field_of_view_of_180_degrees_or_more_is_taken_as_179():
    at_max = lens_distance_m(1920, MAX_LENS_FOV_DEG, 125.0)
    assert math.isfinite(at_max) and at_max > 0
    assert lens_distance_m(1920, 180.0, 125.0) == at_max
    assert lens_distance_m(1920, 360.0, 125.0) == at_max


def test_4k_ptz_zoomed_to_9_degrees_recognises_at_195_m():
    d = lens_distance_m(3840, 9.0, DORI_PX_PER_M["recognition"])
    assert d == pytest.approx(195.17, abs=0.01)


def test_1080p_100_degree_building_camera_recognises_at_6_4_m():
    d = lens_distance_m(1920, 100.0, DORI_PX_PER_M["recognition"])
    assert d == pytest.approx(6.444, abs=0.001)


# ---------------------------------------------------------------- level ranges


def test_range_mode_levels_are_range_range_and_half_range():
    assert CameraParams(public=True, range_m=120.0).level_ranges_m() == (120.0, 120.0, 60.0)


def test_amnesty_preset_is_a_public_120_m_radius():
    (params,) = AMNESTY_PRESET.values()
    assert params.public is True
    assert params.level_ranges_m() == (120.0, 120.0, 60.0)


def test_private_building_levels_are_observation_recognition_identification_distances():
    seen, rec, ident = DEFAULT_CLASSES["private_building"].level_ranges_m()
    assert seen == pytest.approx(1920 / (2 * math.tan(math.radians(50)) * 62.0))
    assert rec == pytest.approx(6.444, abs=0.001)
    assert ident == pytest.approx(3.222, abs=0.001)


def test_nypd_dome_seen_reach_is_capped_at_200_m_but_recognition_is_not_reached_by_the_cap():
    seen, rec, ident = DEFAULT_CLASSES["nypd_dome"].level_ranges_m()
    assert lens_distance_m(3840, 9.0, 62.0) > 200.0  # uncapped observation reach ~393 m
    assert seen == 200.0
    assert rec == pytest.approx(195.17, abs=0.01)
    assert ident == pytest.approx(rec / 2)


def test_level_ranges_for_gives_one_row_per_camera_in_class_order():
    cls = np.array(["public_street", "private_building", "public_street"], dtype=object)
    table = level_ranges_for(DEFAULT_CLASSES, cls)
    assert table.shape == (3, 3)
    assert table[0].tolist() == [120.0, 120.0, 60.0]
    assert table[2].tolist() == [120.0, 120.0, 60.0]
    assert table[1, 1] == pytest.approx(6.444, abs=0.001)
    assert public_flags(DEFAULT_CLASSES, cls).tolist() == [True, False, True]


def test_level_ranges_for_no_camera_is_an_empty_n_by_3_table():
    assert level_ranges_for(DEFAULT_CLASSES, np.zeros(0, dtype=object)).shape == (0, 3)


# ---------------------------------------------------------------- resolve_classes


def test_no_overrides_give_the_default_classes():
    assert resolve_classes({}) == DEFAULT_CLASSES


def test_setting_range_m_on_a_lens_class_drops_the_lens():
    params = resolve_classes({"nypd_dome": {"range_m": 150.0}})["nypd_dome"]
    assert (params.h_pixels, params.hfov_deg, params.max_range_m) == (None, None, None)
    assert params.level_ranges_m() == (150.0, 150.0, 75.0)
    assert params.public is True  # untouched keys keep their default


def test_setting_a_lens_on_a_range_class_drops_the_range():
    params = resolve_classes({"public_street": {"h_pixels": 1000, "hfov_deg": 90.0}})[
        "public_street"
    ]
    assert params.range_m is None
    assert params.level_ranges_m()[1] == pytest.approx(1000 / (2 * 125.0))


def test_overrides_do_not_change_the_defaults_table():
    resolve_classes({"public_street": {"range_m": 10.0}})
    assert DEFAULT_CLASSES["public_street"].range_m == 120.0


def test_unknown_camera_class_is_rejected_with_its_name_and_the_allowed_classes():
    with pytest.raises(ScenarioError) as err:
        resolve_classes({"drone": {"range_m": 50.0}})
    message = str(err.value)
    assert "cameras.classes" in message
    assert "'drone'" in message
    assert "public_street" in message and "private_building" in message


def test_unknown_parameter_key_is_rejected_with_its_name():
    with pytest.raises(ScenarioError, match=r"public_street: unknown key 'colour'"):
        resolve_classes({"public_street": {"colour": "red"}})


@pytest.mark.parametrize("value", [-5.0, 0, True, "120"])
def test_range_m_that_is_not_a_positive_number_is_rejected(value):
    with pytest.raises(ScenarioError) as err:
        resolve_classes({"public_street": {"range_m": value}})
    message = str(err.value)
    assert "cameras.classes.public_street.range_m" in message
    assert f"bad value {value!r}" in message


@pytest.mark.parametrize("hfov_deg", [0, 0.0, -10.0, 361, 360.5])
def test_hfov_outside_0_to_360_degrees_is_rejected(hfov_deg):
    with pytest.raises(ScenarioError) as err:
        resolve_classes({"nypd_dome": {"hfov_deg": hfov_deg}})
    message = str(err.value)
    assert "cameras.classes.nypd_dome.hfov_deg" in message
    assert f"bad value {hfov_deg!r}" in message
    assert "(0, 360]" in message


def test_hfov_of_exactly_360_degrees_is_accepted_and_treated_as_179():
    params = resolve_classes({"private_building": {"hfov_deg": 360}})["private_building"]
    assert params.hfov_deg == 360
    rec = params.level_ranges_m()[1]
    assert rec == pytest.approx(lens_distance_m(1920, MAX_LENS_FOV_DEG, 125.0))
    assert 0 < rec < 1.0


def test_a_lens_without_pixels_is_rejected():
    with pytest.raises(ScenarioError, match="public_street: give either range_m or both"):
        resolve_classes({"public_street": {"hfov_deg": 90.0}})


def test_the_where_prefix_names_the_scenario_file():
    with pytest.raises(ScenarioError, match=r"^my.toml: cameras.classes.public_street.range_m"):
        resolve_classes({"public_street": {"range_m": -1}}, "my.toml: cameras.classes")


def test_public_flag_that_is_not_a_boolean_is_rejected():
    with pytest.raises(ScenarioError, match="public"):
        resolve_classes({"public_street": {"public": "no"}})


def test_infinite_range_is_rejected():
    with pytest.raises(ScenarioError, match="range_m"):
        resolve_classes({"public_street": {"range_m": math.inf}})
