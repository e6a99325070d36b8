"""First-run work overlapped with the run: what a cold start builds once (the engine's
compiling, the open space for sightlines, the sites' neighbourhoods) started in forked
processes beside it, each leaving its result in a cache the run then reads.

A run from a fresh cache builds, one after another, the walk network, the open space between
the buildings, the cameras' coverage, the compiled engine and the sites' neighbourhoods. Only
the coverage needs what comes before it; the rest need nothing from the run. So
:func:`start_overlap` forks one process for each of those the caches lack, as the run starts:
the open space (at normal priority: the coverage waits for it) and the engine and the
neighbourhoods (at a lower one: they are wanted last). The run waits for each where it would
have built it (:meth:`Overlap.wait`), then finds it in the cache. A job that fails leaves
nothing, and the run builds that part itself, as it would have, with the same errors.
``PROTEST_SIM_OVERLAP=off`` runs every step in turn in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sim import progress

log = logging.getLogger(__name__)

OVERLAP_ENV_VAR = "PROTEST_SIM_OVERLAP"
# Niceness of the jobs wanted last, so that the open space (and this process) come first.
LATER = 5


@dataclass
class _Job:
    what: str
    process: Any
    receive: Any
    started: float


def _run_job(work: Callable[[], Any], send, nice: int) -> None:
    """A job's process: quiet, lower priority where asked; sends (finished, seconds)."""
    from sim.batch.pool import _die_with_parent

    _die_with_parent()
    progress.configure(False)
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    t0 = time.perf_counter()
    finished = True
    try:
        work()
    except BaseException as exc:  # the run builds it itself, and says what is wrong then
        log.debug("overlapped job failed: %s", exc)
        finished = False
    send.send((finished, time.perf_counter() - t0))
    send.close()


class Overlap:
    """Jobs started beside the run, by name."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._jobs

    def start(self, name: str, what: str, note: str, work: Callable[[], Any], nice: int = 0):
        """Fork a process doing ``work``; say so in one progress line."""
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_run_job, args=(work, send, nice))  # may fork itself
        process.start()
        send.close()
        self._jobs[name] = _Job(what, process, receive, time.perf_counter())
        progress.say(f"{what} ({note}; beside the steps below) ...")

    def wait(self, name: str) -> None:
        """Wait for job ``name`` (if started) and say how long it took."""
        job = self._jobs.pop(name, None)
        if job is None:
            return
        waited = time.perf_counter()
        try:
            finished, seconds = job.receive.recv()
        except (EOFError, OSError):
            finished, seconds = False, time.perf_counter() - job.started
        job.process.join()
        job.receive.close()
        waited = time.perf_counter() - waited
        if finished:
            extra = f", waited {waited:.1f} s for it" if waited >= 0.1 else ""
            progress.say(f"{job.what}: done in {seconds:.1f} s{extra}")
        else:
            progress.say(f"{job.what}: not finished beside the run; building it here")

    def close(self) -> None:
        """End the jobs not waited for (the run failed or was stopped)."""
        for job in self._jobs.values():
            if job.process.is_alive():
                job.process.terminate()
            job.process.join()
            job.receive.close()
        self._jobs.clear()


def overlap_wanted() -> bool:
    """Whether to overlap: not turned off, ``fork`` available and two processors."""
    from sim.batch.pool import machine_workers

    if os.environ.get(OVERLAP_ENV_VAR, "").strip().lower() in ("off", "0", "no"):
        return False
    return "fork" in multiprocessing.get_all_start_methods() and machine_workers() >= 2


def open_space_job(source, use_buildings: bool, footprints: str) -> str:
    """The name of the job building this source's open space."""
    return f"open space {id(source)} {use_buildings} {footprints}"


def start_overlap(scenarios: Sequence[Any], source_of: Callable[[Any], Any]) -> Overlap:
    """Start, beside the run of ``scenarios``, whatever of their first-run work the caches
    lack (see the module's docstring)."""
    from sim.exposure.visibility_models import VISIBILITY_MODELS

    overlap = Overlap()
    if not scenarios or not overlap_wanted():
        return overlap
    try:
        for s in scenarios:
            source = source_of(s)
            cams = s.cameras
            if not VISIBILITY_MODELS[cams.visibility].needs_open_space:
                continue
            name = open_space_job(source, cams.buildings, cams.footprints)
            if name in overlap or source.open_space_cached(cams.buildings, cams.footprints):
                continue
            overlap.start(
                name,
                "open space for sightlines",
                "once, then cached",
                lambda src=source, c=cams: src.build_open_space(c.buildings, c.footprints),
            )
        if any(s.engine == "kernel" for s in scenarios):
            from sim.crowd.kernel import compile_engine, engine_ready

            if not engine_ready():
                overlap.start(
                    "engine",
                    "compiling the engine",
                    "once per machine; numba",
                    compile_engine,
                    nice=LATER,
                )
        from sim.outputs.report_inputs import build_neighbourhoods, neighbourhoods_cached

        data_dir = source_of(scenarios[0]).data_dir
        if not neighbourhoods_cached(data_dir):
            overlap.start(
                "neighbourhoods",
                "the protest sites' neighbourhoods",
                "for the report; once, then cached",
                lambda: build_neighbourhoods(data_dir),
                nice=LATER,
            )
    except Exception as exc:  # a missing file and the like: the run says it in its turn
        log.debug("overlap not started: %s", exc)
    return overlap
