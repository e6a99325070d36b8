"""Benchmark suite CLI: ``python bench/run.py [--quick]`` prints a table and writes JSON.

Each case runs in a fresh child process (warm-up, then timed repetitions); the table and
``outputs/bench/<timestamp>.json`` hold wall times, peak resident memory, throughput, the
naive and lower-bound ratios, scaling, and targets met or missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cases
from harness import run_isolated
from machine import machine_info
from report import assess, render

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "outputs" / "bench"

log = logging.getLogger("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions and smaller crowds (under 3 minutes)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=OUTPUT_DIR,
        help=f"directory for the JSON (default {OUTPUT_DIR})",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated case names to run (default: every case)"
    )
    args = parser.parse_args(argv)
    only = {name for name in args.only.split(",") if name}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    rows: list[dict] = []
    failures: list[dict] = []
    for case, kwargs in cases.suite(args.quick):
        if only and case.__name__ not in only:
            continue
        label = case.__name__ + (f" {kwargs}" if kwargs else "")
        log.info("running %s", label)
        t_case = time.perf_counter()
        try:
            rows += run_isolated(case, args.quick, **kwargs)
        except Exception as exc:  # one broken case must not hide the others' figures
            log.error("case %s failed:\n%s", label, exc)
            failures.append({"case": label, "error": str(exc)})
        log.info("  done in %.1f s", time.perf_counter() - t_case)
    total_s = time.perf_counter() - t0

    machine = machine_info()
    mode = "quick" if args.quick else "full"
    header = (
        f"protest-sim benchmarks ({mode}, {total_s:.0f} s) on {machine['cpu_model']}, "
        f"{machine['cores']} cores, Python {machine['python']}"
    )
    assessment = assess(rows) if rows else {"targets": [], "ratios": {}, "scaling": {}}
    if rows:
        print(render(rows, assessment, header))
    for f in failures:
        print(f"FAILED {f['case']}: {f['error'].strip().splitlines()[-1]}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    record = {
        "started_utc": started.isoformat(),
        "mode": mode,
        "total_s": total_s,
        "machine": machine,
        "results": rows,
        "failures": failures,
        **assessment,
    }
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
