"""Checks made before any work: command-line ranges, worker counts, memory, the outputs folder.

A run that cannot finish should say so in one line before it loads anything, not after
minutes of work: a worker count the machine cannot use is capped, a crowd that needs more
memory than the machine has is refused, and an outputs folder that is not a folder, cannot be
written or lacks the room for the results is refused.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError, OutputError, ScenarioError
from sim.exposure.visibility_models import VISIBILITY_MODELS

if TYPE_CHECKING:
    from sim.batch.options import RunOptions
    from sim.scenario.scenario import Scenario

log = logging.getLogger(__name__)

# Documented ranges of the numeric command-line options (README "Commands"); argparse's own
# errors about these options get the range appended.
MAX_WORKERS = 256
MAX_TOP = 1000
SPEED_RANGE_MPS = (0.1, 3.0)
OPTION_RANGES = {
    "--workers": f"a whole number 1..{MAX_WORKERS}; at most min(N, replications, CPUs) are used",
    "--top": f"a whole number 1..{MAX_TOP}",
    "--speed": f"a number {SPEED_RANGE_MPS[0]}..{SPEED_RANGE_MPS[1]} (m/s)",
}

# Memory, measured on this version with the bundle (peak resident memory of `run_sim.py run`,
# one replication, warm cache unless said): the city loads in about 320 MB (510 MB while the
# walk network is built cold; sightline open space of the default scenario 420 MB), and a
# replication adds about 9-12 kB per protester with crowding off (1.23 GB at 100,000) and
# 18 kB with crowding on (2.14 GB at 100,000); the agent table kept for every replication
# holds 273 bytes per row, held twice while the tables are joined. The evidence report built
# after a run (maps, PDF, layers, the site neighbourhoods) and a cold cache (network and
# coverage built in the process) add up to about 400 MB on top (measured in CI with a cold
# cache: 1,337 MB peak for 30,000 protesters, report included). Rounded up, as a guard.
CITY_BYTES = {False: 1100e6, True: 1300e6}  # by whether the visibility model needs open space
RUN_BYTES_PER_PROTESTER = {True: 18_000.0, False: 12_000.0}  # by walking.crowding
ROW_BYTES = 273.0 * 2
# Disk: agents.csv (283 B per row) and agents.parquet (140 B), plus time series and figures.
OUTPUT_BYTES_PER_ROW = 450.0
OUTPUT_FIXED_BYTES = 10e6


def check_options(
    workers: int | None = None, top: int | None = None, speed: float | None = None
) -> None:
    """Range checks of the numeric options a command was given (None: not given), in this
    order; the command line checked their types."""
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers {workers}: allowed {OPTION_RANGES['--workers']}")
    if top is not None and not 1 <= top <= MAX_TOP:
        raise InputError(f"--top {top}: allowed {OPTION_RANGES['--top']}")
    if speed is not None and not SPEED_RANGE_MPS[0] <= speed <= SPEED_RANGE_MPS[1]:
        raise InputError(f"--speed {speed}: allowed {OPTION_RANGES['--speed']}")


def available_memory_bytes() -> float | None:
    """Memory the machine can give a new process now (MemAvailable), or None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_needed_bytes(scenario: Scenario, workers: int = 1, replications: int = 0) -> float:
    """Peak memory of a run of ``scenario`` on ``workers`` processes (an estimate)."""
    n = scenario.crowd.protesters
    reps = replications or scenario.replications
    city = CITY_BYTES[VISIBILITY_MODELS[scenario.cameras.visibility].needs_open_space]
    per_protester = RUN_BYTES_PER_PROTESTER[bool(scenario.walking.crowding)]
    return city + min(workers, reps) * n * per_protester + reps * n * ROW_BYTES


def workers_to_use(
    scenario: Scenario,
    requested: int,
    cpus: int | None = None,
    memory_bytes: float | None = None,
    replications: int = 0,
) -> int:
    """The processes a run uses: at most ``requested``, the replications, the CPUs, and what
    memory allows; a crowd too large for the memory even in one process is refused.

    Raises
    ------
    ScenarioError
        When one process already needs more memory than is available; the message names the
        scenario file, the key and value, the estimate and the largest crowd that fits.
    """
    reps = replications or scenario.replications
    cpus = cpus or os.cpu_count() or 1
    memory_bytes = available_memory_bytes() if memory_bytes is None else memory_bytes
    workers = max(1, min(requested, reps, cpus))
    if memory_bytes is not None:
        while workers > 1 and memory_needed_bytes(scenario, workers, reps) > memory_bytes:
            workers -= 1
        needed = memory_needed_bytes(scenario, 1, reps)
        if needed > memory_bytes:
            n = scenario.crowd.protesters
            city = CITY_BYTES[VISIBILITY_MODELS[scenario.cameras.visibility].needs_open_space]
            per_protester = RUN_BYTES_PER_PROTESTER[bool(scenario.walking.crowding)]
            fits = int(max(memory_bytes - city, 0) / (per_protester + reps * ROW_BYTES))
            raise ScenarioError(
                f"{scenario.path}: key 'crowd.protesters': {n:,} protesters x {reps} "
                f"replication(s) need about {needed / 1e9:.1f} GB of memory, this machine has "
                f"{memory_bytes / 1e9:.1f} GB available (allowed here: at most about "
                f"{fits:,} protesters, or fewer replications)"
            )
    if workers < requested:
        log.info(
            "--workers %d: using %d process(es) (%d replication(s), %d CPU(s), memory)",
            requested,
            workers,
            reps,
            cpus,
        )
    return workers


def output_bytes(scenario: Scenario) -> float:
    """Disk space a run's folder takes (an estimate, generous)."""
    rows = scenario.crowd.protesters * scenario.replications
    return OUTPUT_FIXED_BYTES + rows * OUTPUT_BYTES_PER_ROW


def check_outputs(root: Path, needed_bytes: float) -> None:
    """Refuse an outputs folder that is not a folder, cannot be written, or lacks the room.

    Nothing is left behind: the folder is not created (results create it when they are
    written), a probe file in its nearest existing ancestor is removed at once.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root}: outputs folder is a file (allowed: a folder, or a new name)")
    existing = root
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{root}: cannot make the outputs folder there: {existing} is a file")
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{root}: outputs folder cannot be written ({exc.strerror or exc} in {existing}); "
            "allowed: --outputs naming a writable folder"
        ) from None
    free = shutil.disk_usage(existing).free
    if free < needed_bytes:
        raise OutputError(
            f"{root}: outputs need about {needed_bytes / 1e6:.0f} MB, only {free / 1e6:.0f} MB "
            f"free on that disk; allowed: --outputs on a disk with room"
        )


def check_runs(scenarios: list[Scenario], options: RunOptions) -> None:
    """Before any of ``scenarios`` runs: memory for each, room for all of their folders."""
    for scenario in scenarios:
        workers_to_use(scenario, options.workers or 1)
    check_outputs(options.outputs_root, sum(output_bytes(s) for s in scenarios))
