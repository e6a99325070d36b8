"""Measuring: each case in a fresh child process; a warm-up, timed repetitions, peak memory.

A case is a function ``case(quick: bool, **kwargs) -> list[dict]`` run in a spawned child, so
that imports, caches and memory peaks of one case never leak into another. Inside the child,
:func:`repeat` times a callable and reads the peak resident set size (``VmHWM``) of the child
after each repetition; the peak is reset before each repetition (``/proc/self/clear_refs``)
where the kernel allows it, otherwise it is the child's lifetime peak.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import resource
import statistics
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
CLEAR_PEAK_RSS = "5"  # proc(5): writing 5 to clear_refs resets the peak RSS (VmHWM)


@dataclass
class Timing:
    """Wall times of the repetitions of one case and the memory it held."""

    times_s: list[float]
    peak_rss_mb: float
    base_rss_mb: float
    peak_scope: str  # "repetition" (peak reset before each) or "process" (lifetime peak)
    last: Any = field(default=None, repr=False)

    def row(self, group: str, name: str, **extra: Any) -> dict[str, Any]:
        """A result row: the timing plus the case's own figures (protesters, events, ...)."""
        return {
            "group": group,
            "name": name,
            "times_s": self.times_s,
            "median_s": statistics.median(self.times_s),
            "min_s": min(self.times_s),
            "max_s": max(self.times_s),
            "peak_rss_mb": self.peak_rss_mb,
            "base_rss_mb": self.base_rss_mb,
            "peak_scope": self.peak_scope,
            **extra,
        }


def _status_kb(key: str) -> float:
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    raise KeyError(key)


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    return _status_kb("VmRSS") / 1024.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process since start or the last reset (MB)."""
    try:
        return _status_kb("VmHWM") / 1024.0
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS; False where the kernel refuses."""
    try:
        PROC_CLEAR_REFS.write_text(CLEAR_PEAK_RSS)
    except OSError:
        return False
    return True


def repeat(fn: Callable[[], Any], reps: int, warmup: Callable[[], Any] | None = None) -> Timing:
    """Run ``warmup`` (if given) once, then ``fn`` ``reps`` times, timing each run."""
    if warmup is not None:
        warmup()
    times, peaks = [], []
    out = None
    gc.collect()
    base = rss_mb()
    scope = "repetition"
    for _ in range(reps):
        out = None  # let the previous result go before measuring the next peak
        gc.collect()
        if not reset_peak_rss():
            scope = "process"
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        peaks.append(peak_rss_mb())
    return Timing(times, max(peaks), base, scope, out)


def _child(case: Callable[..., list[dict]], quick: bool, kwargs: dict[str, Any]) -> list[dict]:
    logging.getLogger("sim").setLevel(logging.ERROR)  # data-skip warnings, once per child
    try:
        return case(quick, **kwargs)
    except Exception as exc:  # the traceback text survives the trip back to the parent
        raise RuntimeError(traceback.format_exc()) from exc


def run_isolated(case: Callable[..., list[dict]], quick: bool, **kwargs: Any) -> list[dict]:
    """Run one case in a fresh spawned child process and return its result rows."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_child, case, quick, kwargs).result()
