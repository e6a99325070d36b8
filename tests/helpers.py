"""What several test modules share: the checkout's paths, the command line run as a user runs
it, and scenario files made small from the real ones."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
BUNDLE = Path(os.environ.get("PROTEST_SIM_DATA", REPO.parent / "shared" / "data")).resolve()
# What a finished run of the default scenario holds without its report (README, docs/outputs.md).
RUN_FILES = {
    "agents.parquet",
    "agents.csv",
    "timeseries.csv",
    "summary.json",
    "manifest.json",
    "cameras.csv",
    "scenario.toml",
    "exposure_distribution.png",
    "map_traffic.png",
    "map_exposure.png",
    "crowd_over_time.png",
    "basemap.gpkg",
    "site_neighbourhoods.csv",
}


def prepared(scenario, source):
    """A scenario's set-up on its own inputs from ``source``."""
    from sim.crowd.multisite import prepare_run
    from sim.scenario.inputs import scenario_inputs

    return prepare_run(scenario, scenario_inputs(scenario, source), source.store)


def run_cli(argv: list[str]) -> int:
    """The command line in this process, as ``run_sim.py`` runs it (usage errors included)."""
    from sim.cli.app import main

    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's usage errors exit from inside the parser
        return exit_.code


def cli_fails(capsys, argv: list[str], *fragments: str, alone: bool = False) -> str:
    """Run the command line; check exit code 2, no traceback, no results, and one ``error:``
    line, the last of stderr, holding every fragment. Progress lines may come first, unless
    ``alone``: then the error is all stderr holds."""
    code = run_cli(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err + out and "results:" not in out
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and err.strip().endswith(errors[0]), err
    if alone:
        assert err.splitlines() == errors, err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


def small_scenario(
    source: Path,
    target: Path,
    protesters: int,
    replications: int,
    replace: dict[str, str] | None = None,
) -> Path:
    """``source`` with ``protesters`` per site and ``replications``, every other key as it is
    but for the texts in ``replace`` (old -> new)."""
    text = source.read_text()
    text = re.sub(r"(?m)^protesters = \d+.*$", f"protesters = {protesters}", text)
    text = re.sub(r"(?m)^replications = \d+", f"replications = {replications}", text)
    for old, new in (replace or {}).items():
        assert old in text, (source, old)
        text = text.replace(old, new)
    parsed = tomllib.loads(text)
    if "crowd" in parsed:
        assert parsed["crowd"]["protesters"] == protesters
    target.write_text(text)
    return target


# The report's tests run one small real run: a small crowd, two replications, no crowding.
SMALL_REPORT = {"protesters": 400, "replications": 2}


def small_report_scenario(source: Path, target: Path) -> Path:
    """``source`` with the report tests' small crowd, two replications and no crowding (same
    keys otherwise)."""
    small_scenario(source, target, SMALL_REPORT["protesters"], SMALL_REPORT["replications"])
    target.write_text(re.sub(r"(?m)^crowding = true", "crowding = false", target.read_text()))
    return target


def route_path_fails(capsys, tmp_path: Path, data_dir: Path, text: str, fragments) -> str:
    """``route --path`` on a file holding ``text`` fails with one line naming the file and every
    fragment, and writes no outputs folder."""
    path = tmp_path / "walk.txt"
    path.write_text(text)
    out = tmp_path / "out"
    argv = ["--data-dir", str(data_dir), "--outputs", str(out), "route", "--path", str(path)]
    line = cli_fails(capsys, argv, str(path), *fragments)
    assert not out.exists()
    return line


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; .ci/run installs it


@contextlib.contextmanager
def chromium():
    """A headless Chromium driven by playwright, offline-minded (no background traffic);
    skips the test where it is not installed, fails in CI where it must be."""
    import pytest

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
