"""The command line end to end on the real bundle: outputs written whole, never overwritten."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest
from helpers import RUN_FILES

from sim.cli.app import main
from sim.scenario.files import DEFAULT_SCENARIO


def test_default_scenario_writes_every_output_and_never_overwrites(data_dir, tmp_path, capsys):
    assert (
        main(["--data-dir", str(data_dir), "--outputs", str(tmp_path), "run", "--no-progress"]) == 0
    )
    printed = capsys.readouterr().out
    runs = sorted((tmp_path / "washington_square").iterdir())
    assert len(runs) == 1 and f"results: {runs[0]}" in printed
    assert RUN_FILES <= {p.name for p in runs[0].iterdir()}
    agents = pd.read_parquet(runs[0] / "agents.parquet")
    scenario = tomllib.loads(DEFAULT_SCENARIO.read_text())
    assert len(agents) == scenario["crowd"]["protesters"] * scenario["replications"]
    summary = json.loads((runs[0] / "summary.json").read_text())
    median = summary["figures"]["seen_total_s.median"]
    assert median["replications"] == scenario["replications"]
    assert median["ci95"][0] <= median["value"] <= median["ci95"][1]
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["seed"] == scenario["seed"]
    assert {f["source"] for f in manifest["data_files"]} >= {
        "osm_walk",
        "mta_entrances",
        "banthescan_public",
    }
    assert all(len(f["sha256"]) == 64 for f in manifest["data_files"])
    assert manifest["scenario_text"] == DEFAULT_SCENARIO.read_text()
    assert "numpy" in manifest["versions"]
    # a second run of the same scenario lands beside the first
    assert main(["--data-dir", str(data_dir), "--outputs", str(tmp_path), "-q", "run"]) == 0
    again = sorted((tmp_path / "washington_square").iterdir())
    assert len(again) == 2 and runs[0] in again
    first, second = (pd.read_csv(r / "agents.csv") for r in again)
    pd.testing.assert_frame_equal(first, second)


def test_route_command_prints_and_writes_json_and_map(data_dir, tmp_path, capsys):
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "--outputs",
            str(tmp_path),
            "route",
            "--from",
            "Christopher St-Stonewall",
            "--to",
            "washington_sq_park",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "surveilled:" in out
    folder = next((tmp_path / "routes").iterdir())
    result = json.loads((folder / "route.json").read_text())
    assert result["surveilled_share_public"] >= 0.95
    assert (folder / "route.png").stat().st_size > 10_000


def test_drawn_path_is_scored_like_the_network_route(data_dir, tmp_path, capsys):
    path = tmp_path / "walk.txt"
    # Christopher St-Stonewall to the Washington Square Arch along W 4th St / Washington Pl
    path.write_text(
        "40.73342,-74.00256\n40.73241,-74.00064\n40.73155,-73.99951\n40.73121,-73.99737\n"
    )
    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "--outputs",
                str(tmp_path / "o"),
                "route",
                "--path",
                str(path),
            ]
        )
        == 0
    )
    folder = next((tmp_path / "o" / "routes").iterdir())
    result = json.loads((folder / "route.json").read_text())
    assert 400 < result["length_m"] < 700
    assert result["surveilled_share_public"] > 0.9


@pytest.mark.parametrize("top", [0, -2])
def test_rank_cameras_rejects_top_below_one(data_dir, tmp_path, capsys, top):
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "--outputs",
            str(tmp_path),
            "rank-cameras",
            str(DEFAULT_SCENARIO),
            "--top",
            str(top),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"error: --top {top}: allowed a whole number 1..1000"]
    assert not any(tmp_path.iterdir())


def test_compare_reuses_runs_and_a_scenario_against_itself_differs_by_zero(
    data_dir, tmp_path, capsys
):
    raw = DEFAULT_SCENARIO.read_text().replace("protesters = 4000", "protesters = 300")
    scenario = tmp_path / "small.toml"
    scenario.write_text(raw)
    out = tmp_path / "out"
    args = [
        "--data-dir",
        str(data_dir),
        "--outputs",
        str(out),
        "-q",
        "compare",
        str(scenario),
        str(scenario),
    ]
    assert main(args) == 0
    assert len(list((out / "washington_square").iterdir())) == 1  # the second was reused
    table = pd.read_csv(next((out / "compare").iterdir()) / "comparison.csv")
    assert (table["difference"].dropna() == 0).all()
    assert len(table) > 50


def test_run_options_may_come_without_the_run_command():
    from sim.cli.app import _insert_run

    assert _insert_run([]) == ["run"]
    assert _insert_run(["--no-progress", "-q", "s.toml", "--data-dir", "d"]) == [
        "--no-progress",
        "-q",
        "--data-dir",
        "d",
        "run",
        "s.toml",
    ]
    assert _insert_run(["--outputs=o", "s.toml", "--workers", "2"]) == [
        "--outputs=o",
        "run",
        "s.toml",
        "--workers",
        "2",
    ]
