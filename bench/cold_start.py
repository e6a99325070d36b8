"""The cold start: the first run of the default scenario as a new user meets it
(``python run_sim.py``, its report included), in a fresh process with a fresh cache folder
(``PROTEST_SIM_CACHE``) and a fresh numba cache (``NUMBA_CACHE_DIR``), its phases read from
the run's own progress lines.

In the suite (``python bench/run.py --only cold_start``) it runs this checkout. On its own it
runs this checkout and an older one side by side, in turn (A B A B ...), so that both meet the
same machine; ``--in-turn`` adds this checkout with ``PROTEST_SIM_OVERLAP=off`` (every phase
one after another, so each phase's seconds are its own)::

    python bench/cold_start.py --baseline 30be92b --in-turn --runs 3

``--baseline`` takes any git revision of this repository (unpacked with ``git archive`` into a
temporary folder); the table gives each phase's median, the whole run's wall and CPU seconds
(the run and every process it waited for) and the machine's load when each run started,
against the target of 30 s (issue 25).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COLD_START_MAX_S = 30.0  # issue 25: the first run, beyond pip
# progress lines ("<what>: done in X s[, waited Y s for it]") -> phase
PHASES = {
    "building the walk network": "network",
    "building the walk network with osmnx": "network",
    "open space for sightlines": "open_space",
    "sightline coverage": "coverage",
    "compiling the engine": "engine",
    "replications": "replications",
    "the protest sites' neighbourhoods": "neighbourhoods",
    "report": "report",  # from the "results:" line to the end
}
_DONE = re.compile(r"^(?P<what>.*?): done in (?P<s>[\d.]+) s(?:, waited (?P<w>[\d.]+) s)?")


def _phase(what: str) -> str | None:
    if what in PHASES:
        return PHASES[what]
    if what.endswith(": replications"):  # "<scenario>: replications"
        return "replications"
    return None


def cold_run(
    checkout: Path, runs_root: Path, env_extra: dict | None = None, report: bool = True
) -> dict[str, Any]:
    """One cold start of ``checkout``'s default scenario as ``python run_sim.py`` runs it (its
    evidence report too, unless ``report`` is False); its phases, wall and CPU seconds."""
    work = Path(tempfile.mkdtemp(prefix="cold_", dir=runs_root))
    env = {
        **os.environ,
        "PROTEST_SIM_CACHE": str(work / "cache"),
        "NUMBA_CACHE_DIR": str(work / "numba"),
        "PYTHONPATH": str(checkout),
    }
    env.pop("PROTEST_SIM_OVERLAP", None)
    env.update(env_extra or {})
    argv = [sys.executable, "run_sim.py", "--outputs", str(work / "out")]
    if not report:
        argv.append("--no-report")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    env["PYTHONUNBUFFERED"] = "1"  # each line as it is printed ("results:" on stdout)
    proc = subprocess.Popen(argv, cwd=checkout, env=env, stderr=subprocess.STDOUT,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    lines = []
    for line in proc.stdout:  # progress lines as they come (not a terminal), then results
        lines.append((time.perf_counter() - t0, line.rstrip("\n")))
    code = proc.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        raise RuntimeError(
            f"cold run of {checkout} failed ({code}):\n"
            + "\n".join(text for _, text in lines[-20:])
        )
    phases: dict[str, float] = {}
    waited: dict[str, float] = {}
    for at, line in lines:
        if line.startswith("results: ") and report:  # then the report, to the end
            phases["report"] = wall - at
        m = _DONE.match(line)
        if m and (name := _phase(m["what"])) is not None:
            phases[name] = float(m["s"])
            if m["w"]:
                waited[name] = float(m["w"])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = after.ru_maxrss / 1024  # MB: the largest process waited for so far (Linux: kB)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": peak,
        "load": load,
        "phases": phases,
        "waited": waited,
    }


def _summary(label: str, runs: list[dict]) -> dict[str, Any]:
    names = sorted(
        {p for r in runs for p in r["phases"]}, key=list(dict.fromkeys(PHASES.values())).index
    )
    return {
        "label": label,
        "runs": runs,
        "median_s": statistics.median(r["wall_s"] for r in runs),
        "min_s": min(r["wall_s"] for r in runs),
        "max_s": max(r["wall_s"] for r in runs),
        "cpu_median_s": statistics.median(r["cpu_s"] for r in runs),
        "phases_median_s": {
            p: statistics.median(r["phases"][p] for r in runs if p in r["phases"]) for p in names
        },
    }


def cold_start(quick: bool) -> list[dict]:
    """The suite's case: this checkout's cold start (1 run in ``--quick``, else 3)."""
    runs_root = Path(tempfile.mkdtemp(prefix="bench_cold_"))
    try:
        runs = [cold_run(REPO, runs_root) for _ in range(1 if quick else 3)]
    finally:
        shutil.rmtree(runs_root, ignore_errors=True)
    s = _summary("this checkout", runs)
    return [
        {
            "group": "city",
            "name": "cold start: default scenario, fresh caches, fresh process",
            "role": "cold_start",
            "times_s": [r["wall_s"] for r in runs],
            "median_s": s["median_s"],
            "min_s": s["min_s"],
            "max_s": s["max_s"],
            "peak_rss_mb": max(r["peak_mb"] for r in runs),
            "base_rss_mb": float("nan"),
            "peak_scope": "largest process",
            "cpu_s": s["cpu_median_s"],
            "phases_s": s["phases_median_s"],
            "load": [r["load"] for r in runs],
        }
    ]


def cold_start_targets(rows: list[dict]) -> list[dict[str, Any]]:
    """The cold start's target: the first run in at most 30 s."""
    return [
        {
            "case": r["name"],
            "target": f"<= {COLD_START_MAX_S:g} s",
            "value": f"{r['median_s']:.1f} s",
            "status": "met" if r["median_s"] <= COLD_START_MAX_S else "MISSED",
            "note": "phases: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in r["phases_s"].items())
            + f"; CPU {r['cpu_s']:.0f} s; load {', '.join(f'{x:.1f}' for x in r['load'])}",
        }
        for r in rows
        if r.get("role") == "cold_start"
    ]


def _unpack(revision: str, root: Path) -> Path:
    """The tree of ``revision`` of this repository, unpacked under ``root``."""
    data = subprocess.run(["git", "archive", revision], cwd=REPO, check=True,
                          capture_output=True).stdout  # fmt: skip
    target = root / f"rev-{revision}"
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    return target


def render(summaries: list[dict[str, Any]]) -> str:
    phases = list(dict.fromkeys(p for s in summaries for p in s["phases_median_s"]))
    head = f"{'cold start (median of runs)':34s}" + "".join(f"{s['label']:>18s}" for s in summaries)
    out = [head, "-" * len(head)]
    for p in phases:
        cells = "".join(
            f"{s['phases_median_s'][p]:>16.1f} s" if p in s["phases_median_s"] else f"{'-':>18s}"
            for s in summaries
        )
        out.append(f"{'  ' + p:34s}{cells}")
    out.append(f"{'whole run, wall':34s}" + "".join(f"{s['median_s']:>16.1f} s" for s in summaries))
    out.append(
        f"{'  min-max':34s}"
        + "".join(f"{s['min_s']:>8.1f}-{s['max_s']:<7.1f} s" for s in summaries)
    )
    out.append(
        f"{'whole run, CPU (all processes)':34s}"
        + "".join(f"{s['cpu_median_s']:>16.1f} s" for s in summaries)
    )
    loads = "".join(
        "{:>18s}".format("/".join(f"{run['load']:.1f}" for run in s["runs"])) for s in summaries
    )
    out.append(f"{'load average at each start':34s}{loads}")
    for s in summaries:
        mark = "met" if s["median_s"] <= COLD_START_MAX_S else "MISSED"
        out.append(f"target <= {COLD_START_MAX_S:g} s, {s['label']}: {s['median_s']:.1f} s, {mark}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="", help="git revision to run side by side")
    parser.add_argument("--runs", type=int, default=3, help="cold runs of each (default 3)")
    parser.add_argument(
        "--in-turn",
        action="store_true",
        help="also run this checkout with PROTEST_SIM_OVERLAP=off (its phases one after another)",
    )
    parser.add_argument("--no-report", action="store_true", help="runs without the report")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench_cold_"))
    try:
        checkouts = [("this checkout", REPO, {})]
        if args.in_turn:
            checkouts.append(("in turn", REPO, {"PROTEST_SIM_OVERLAP": "off"}))
        if args.baseline:
            checkouts.append((args.baseline, _unpack(args.baseline, root), {}))
        runs: dict[str, list[dict]] = {label: [] for label, _, _ in checkouts}
        for i in range(args.runs):
            for label, checkout, extra in checkouts:  # in turn, so all meet the same machine
                r = cold_run(checkout, root, extra, report=not args.no_report)
                runs[label].append(r)
                said = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
                print(
                    f"run {i + 1} {label}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, "
                    f"load {r['load']:.1f}; {said}",
                    flush=True,
                )
        print()
        print(render([_summary(label, runs[label]) for label, _, _ in checkouts]))
        print(
            "(phases built beside the run overlap: their seconds are wall seconds side by side "
            "and do not add up)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
