"""Where protesters come from: per exit, per station, by ridership, split over exits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import prepared

from sim.crowd.origins import split_within_stations, station_shares
from sim.data.ridership import read_ridership
from sim.errors import DataError
from sim.scenario.files import DEFAULT_SCENARIO, load_scenario
from sim.scenario.variants import override


def test_a_station_share_splits_over_its_exits_by_distance():
    station = np.array(["a", "a", "b", "a"])
    walk = np.array([200.0, 300.0, 900.0, 200.0])
    share = split_within_stations(station, walk, decay_m=100.0)
    assert share[2] == 1.0
    assert share[[0, 1, 3]].sum() == pytest.approx(1.0)
    assert share[1] / share[0] == pytest.approx(math.exp(-1.0))
    assert share[0] == share[3]


def test_a_bad_ridership_value_names_the_file_line_and_value(tmp_path):
    path = tmp_path / "riders.csv"
    path.write_text("complex_id,month,day_group,ridership\n1,6,total,12\n2,6,total,lots\n")
    with pytest.raises(
        DataError, match=r"riders.csv: line 3: column 'ridership': bad value 'lots'"
    ):
        read_ridership(path, (6,), "total")
    path.write_text("complex_id,month,day_group,ridership\n1,6,total,12\n")
    with pytest.raises(DataError, match=r"no rows for months \[7\]"):
        read_ridership(path, (7,), "total")


def _origins(weights: str):
    return override(load_scenario(DEFAULT_SCENARIO), {"origins.weights": weights})


@pytest.mark.realdata
def test_ridership_table_matches_the_published_annual_totals(data_dir):
    path = data_dir / "transit/ridership/mta_subway_ridership_monthly_by_complex_2017-2019avg.csv"
    year = read_ridership(path, tuple(range(1, 13)), "total")
    assert year["611"] == pytest.approx(64.2e6, rel=2e-3)  # Times Sq-42 St (data README)
    assert year["610"] == pytest.approx(45.1e6, rel=2e-3)  # Grand Central-42 St
    assert sum(year.values()) == pytest.approx(1.71e9, rel=3e-3)


@pytest.mark.realdata
def test_equal_station_weights_give_each_station_the_same_expected_share(source):
    setup = prepared(_origins("station"), source)
    shares = station_shares(setup.origins.complex_id, setup.origin_weight)
    assert len(shares) >= 20
    assert np.allclose(list(shares.values()), 1 / len(shares))
    # per exit, a complex with many exits sends more: the bias station weighting removes
    per_exit = prepared(_origins("equal"), source)
    exit_shares = station_shares(per_exit.origins.complex_id, per_exit.origin_weight)
    assert max(exit_shares.values()) / min(exit_shares.values()) >= 4


@pytest.mark.realdata
def test_ridership_weights_follow_june_2020_riders_per_complex(source, data_dir):
    setup = prepared(_origins("ridership"), source)
    riders = read_ridership(
        data_dir / "transit/ridership/mta_subway_ridership_monthly_by_complex_2020.csv",
        (6,),
        "total",
    )
    shares = station_shares(setup.origins.complex_id, setup.origin_weight)
    total = sum(riders[c] for c in shares)
    for complex_id, share in shares.items():
        assert share == pytest.approx(riders[complex_id] / total, rel=1e-9)
    assert max(shares, key=shares.get) == "607"  # 34 St-Herald Sq: June 2020 busiest in reach


@pytest.mark.realdata
def test_a_stations_exits_split_by_the_walk_each_is_given(source):
    """The walk a protester from each exit is given, added up here from the run's own pieces
    (the exit's first metres, then the network edges of its route): within each station the
    exits' shares follow exp(-walk / decay) of that walk, not of the nearest node's distance."""
    setup = prepared(_origins("ridership"), source)
    access, net = setup.access, setup.inputs.network
    walk = np.array(
        [
            access.length_m[access.exit_out[i] - access.n_network]
            + net.edge_length_m[setup.out_routes[i][0]].sum()
            for i in range(len(setup.origins))
        ]
    )
    decay = setup.scenario.origins.exit_split_decay_m
    station = setup.origins.complex_id.astype(str)
    for name in np.unique(station):
        mine = np.flatnonzero(station == name)
        if len(mine) < 2:
            continue
        expected = np.exp(-(walk[mine] - walk[mine].min()) / decay)
        expected *= setup.origin_weight[mine].sum() / expected.sum()
        assert setup.origin_weight[mine] == pytest.approx(expected, rel=1e-6, abs=1e-12), name
