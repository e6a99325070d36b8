"""Places by the names people type: forgiving matching on the real bundle's stations and sites."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.city import places
from sim.cli.app import main
from sim.errors import InputError, ScenarioError

# ------------------------------------------------------------------ normalising (pure)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("West 4th Street", ("w", "4", "st")),
        ("W 4 St-Wash Sq", ("w", "4", "st", "wash", "sq")),
        ("Washington Square Park", ("washington", "sq", "pk")),
        ("washington_sq_park", ("washington", "sq", "pk")),
        ("14th St / 6th Avenue", ("14", "st", "6", "av")),
        ("Lexington Ave & 59th", ("lexington", "av", "59")),
    ],
)
def test_names_normalise_case_punctuation_and_abbreviations(typed, words):
    assert places.normalise(typed) == words


def _place(name: str, kind: str = "station") -> places.Place:
    return places.Place(kind, name, name, names=(places.normalise(name),))


def test_the_best_tier_decides_an_exact_name_beats_a_longer_one_that_starts_alike():
    catalogue = [_place("86 St"), _place("86 St-Museum"), _place("Christopher St-Stonewall")]
    assert places.match("86 Street", catalogue).unique.name == "86 St"
    assert places.match("christopher", catalogue).unique.name == "Christopher St-Stonewall"
    # a number is a whole word: "8" names neither "86 St" nor "86 St-Museum"
    assert places.match("8", catalogue).places == ()


# ------------------------------------------------------------------ the real bundle


@pytest.fixture(scope="module")
def catalogue(city):
    return places.catalogue(city.exits, city.site_records)


@pytest.mark.realdata
def test_a_station_by_its_common_name(city, catalogue):
    place = places.resolve("Christopher St", catalogue, "--from")
    assert (place.kind, place.name) == ("station", "Christopher St-Stonewall")
    exact = city.exits.matching_station("Christopher St-Stonewall")
    assert sorted(place.exits) == exact.tolist() and len(exact) == 5
    # other ways people type it name the same exits
    for typed in ("christopher street", "CHRISTOPHER ST STONEWALL", "133"):
        assert sorted(places.resolve(typed, catalogue, "--from").exits) == exact.tolist()


@pytest.mark.realdata
def test_a_site_by_its_name_or_id_in_any_case(catalogue):
    for typed in (
        "Washington Square Park",
        "washington square",
        "Washington Sq Park",
        "WASHINGTON_SQ_PARK",
    ):
        place = places.resolve(typed, catalogue, "--to")
        assert (place.kind, place.id) == ("site", "washington_sq_park"), typed


@pytest.mark.realdata
def test_an_ambiguous_name_lists_every_candidate(catalogue):
    result = places.match("14 St", catalogue)
    assert {p.name for p in result.places} == {"14 St-Union Sq", "14 St/6 Av", "14 St/8 Av"}
    with pytest.raises(InputError) as err:
        places.resolve("14 St", catalogue, "--from")
    message = str(err.value)
    assert message.startswith("--from '14 St': 3 places match:")
    for name in ("'14 St-Union Sq'", "'14 St/6 Av'", "'14 St/8 Av'"):
        assert name in message


@pytest.mark.realdata
def test_a_misspelt_name_offers_the_closest(catalogue):
    with pytest.raises(InputError, match="did you mean 'Christopher St-Stonewall'"):
        places.resolve("Cristopher St", catalogue, "--from")


@pytest.mark.realdata
def test_spellings_that_normalise_alike_are_one_station(catalogue):
    # the MTA file spells one Lexington Av station "86 Street" and the others "86 St"
    place = places.resolve("86 Street", catalogue, "x")
    assert place.kind == "station" and place.ids == ("86 st", "86 street")
    herald = places.resolve("34 St-Herald Square", catalogue, "x")
    assert herald.name == "34 St-Herald Sq" and len(herald.exits) == 16


@pytest.mark.realdata
def test_scenario_names_resolve_like_the_exact_ones(city):
    exact = np.unique(
        np.concatenate(
            [city.exits.matching_station(n) for n in ("Christopher St-Stonewall", "W 4 St-Wash Sq")]
        )
    )
    typed = places.origin_exits(
        city.exits,
        ["Christopher Street", "West 4th St"],
        "s.toml: key 'origins.stations':",
        ScenarioError,
    )
    assert typed.tolist() == exact.tolist()
    assert city.site("Union Square Park").site_id == "union_sq_park"
    with pytest.raises(ScenarioError, match=r"s.toml: key 'site.id' '14 St': no site"):
        city.site("14 St", where="s.toml: key 'site.id'")


@pytest.mark.realdata
def test_given_weights_by_common_names_split_over_each_stations_exits(city):
    origins = city.exits.subset(
        places.origin_exits(city.exits, ["Christopher St", "W 4 St"], "w", ScenarioError)
    )
    w = places.given_weights(origins, {"christopher street": 3, "West 4th": 1}, "w", ScenarioError)
    is_christopher = origins.station == "Christopher St-Stonewall"
    assert w[is_christopher].sum() == pytest.approx(3)
    assert w[~is_christopher].sum() == pytest.approx(1)
    assert np.ptp(w[is_christopher]) == 0  # split equally
    with pytest.raises(ScenarioError, match="names the same station"):
        places.given_weights(origins, {"W 4 St": 1, "A32": 2}, "w", ScenarioError)


@pytest.mark.realdata
def test_route_between_common_names_from_the_command_line(data_dir, tmp_path, capsys):
    argv = ["--data-dir", str(data_dir), "--outputs", str(tmp_path), "route"]
    assert main([*argv, "--from", "Christopher St", "--to", "Washington Square Park"]) == 0
    out = capsys.readouterr().out
    assert "route: Christopher St-Stonewall (" in out and "-> Washington Square Park" in out
    result = json.loads(next((tmp_path / "routes").iterdir()).joinpath("route.json").read_text())
    assert 400 < result["length_m"] < 700
    assert main([*argv, "--from", "14 St", "--to", "Washington Square Park"]) == 2
    err = capsys.readouterr().err
    assert "'14 St-Union Sq'" in err and "'14 St/6 Av'" in err and "Traceback" not in err


@pytest.mark.realdata
def test_places_command_lists_and_looks_up(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "places"]) == 0
    out = capsys.readouterr().out
    assert "washington_sq_park     Washington Square Park" in out
    assert "Christopher St-Stonewall" in out
    assert main(["--data-dir", str(data_dir), "places", "Christopher St"]) == 0
    out = capsys.readouterr().out
    assert out.count("      exit 323-") == 5
    assert main(["--data-dir", str(data_dir), "places", "zzzz qqq"]) == 1
