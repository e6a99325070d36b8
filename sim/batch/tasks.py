"""Tasks of a sweep: keys, seeds, and their results on disk, one atomic folder per task.

A task is one replication of one scenario variant, keyed by ``(variant, replication)``. Its
seed follows from the variant's scenario seed and its replication alone:
``SeedSequence(seed, spawn_key=(k,))``, which is exactly ``SeedSequence(seed).spawn(n)[k]``,
the seed ``run`` has always given replication k, so results do not depend on which worker ran
a task, in which order, or whether the sweep was interrupted.

A :class:`TaskStore` keeps each finished task as ``tasks/<variant>.rep-<k>.json`` (and its
tables in ``<variant>.rep-<k>/``), each written under a hidden name and renamed into place
when whole, so a task is either finished or absent; a killed sweep leaves at most hidden
partial files, which the next start removes. Tables are read back by key, never in finishing
order.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import OutputError

ARRAYS_FILE = "arrays.npz"


@dataclass(frozen=True)
class Task:
    """One (variant, replication) task, with what its work function needs (``payload``)."""

    variant: str
    replication: int
    payload: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.variant, self.replication)

    @property
    def label(self) -> str:
        return f"{self.variant}/rep-{self.replication:04d}"


def task_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """Replication ``replication``'s seed: ``SeedSequence(seed).spawn(n)[replication]`` for
    any ``n`` above it, built without spawning its siblings."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


@dataclass
class TaskResult:
    """What a task returns: scalar figures, tables, arrays and free metadata.

    ``figures`` go into the sweep's tidy tables; ``meta`` is recorded but never tabulated
    (wall times live there, as they differ between runs).
    """

    figures: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


class TaskStore:
    """Finished tasks of one sweep, on disk under ``folder/tasks``.

    A task's record is ``tasks/<variant>.rep-<k>.json`` (figures, metadata, the names of its
    tables); its tables and arrays, if any, are in the folder ``<variant>.rep-<k>/`` beside it,
    written first (one flat folder: thousands of small tasks make no thousands of folders).
    The record is written last, through a temporary file and a rename: a task is finished
    exactly when its record exists.
    """

    def __init__(self, folder: Path, shown_as: Path | None = None):
        self.folder = Path(folder)
        self.root = self.folder / "tasks"
        self.shown_as = shown_as or self.folder

    def path(self, task: Task) -> Path:
        """The task's folder of tables (its record is this path with ``.json``)."""
        return self.root / f"{task.variant}.rep-{task.replication:04d}"

    def record(self, task: Task) -> Path:
        return self.root / f"{task.variant}.rep-{task.replication:04d}.json"

    def done(self, task: Task) -> bool:
        return self.record(task).is_file()

    def clean_partial(self) -> int:
        """Remove the temporary files and folders a killed sweep left; returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for entry in self.root.iterdir():
            if entry.name.startswith("."):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def write(self, task: Task, result: TaskResult) -> None:
        """Write a task's tables, then its record, each whole under a hidden name first.

        Tables of an attempt killed before its record was written are replaced; a task
        already finished (by another process running the same sweep) is left as it is, its
        result being the same. A write that
        fails (a full disk, a file size limit) removes what it began and raises
        :class:`OutputError` naming ``shown_as`` (the folder a user knows).
        """
        record_path = self.record(task)
        if record_path.is_file():  # finished by another writer of the same sweep meanwhile
            return
        tag = f"{os.getpid()}.part"
        tmp = self.path(task).parent / f".{self.path(task).name}.{tag}"
        tmp_record = record_path.parent / f".{record_path.name}.{tag}"
        try:
            record_path.parent.mkdir(parents=True, exist_ok=True)
            if result.tables or result.arrays:
                final = self.path(task)
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                for name, frame in result.tables.items():
                    frame.to_parquet(tmp / f"{name}.parquet", index=False)
                if result.arrays:
                    arrays = {k: np.asarray(v) for k, v in result.arrays.items()}
                    with open(tmp / ARRAYS_FILE, "wb") as handle:
                        np.savez(handle, **arrays)
                if record_path.is_file():  # another writer finished it while we wrote
                    shutil.rmtree(tmp, ignore_errors=True)
                    return
                shutil.rmtree(final, ignore_errors=True)  # tables of a killed attempt
                os.rename(tmp, final)
            record = {
                "variant": task.variant,
                "replication": task.replication,
                "figures": result.figures,
                "tables": sorted(result.tables),
                "arrays": sorted(result.arrays),
                "meta": result.meta,
            }
            text = json.dumps(record, sort_keys=True, default=_plain) + "\n"
            tmp_record.write_text(text, encoding="utf-8")
            os.replace(tmp_record, record_path)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp_record.unlink(missing_ok=True)
            what = f", writing {Path(exc.filename).name}" if exc.filename else ""
            raise OutputError(
                f"{self.shown_as}: cannot write results ({exc.strerror or exc}{what}); nothing "
                "was kept of the task being written (allowed: --outputs naming a writable "
                "folder with free space)"
            ) from None

    def read(self, task: Task, tables: bool = True) -> TaskResult:
        """A finished task's result (``tables=False``: figures and metadata only)."""
        record = json.loads(self.record(task).read_text(encoding="utf-8"))
        frames, arrays = {}, {}
        if tables:
            path = self.path(task)
            frames = {n: pd.read_parquet(path / f"{n}.parquet") for n in record["tables"]}
            if record["arrays"]:
                with np.load(path / ARRAYS_FILE, allow_pickle=False) as npz:
                    arrays = {n: npz[n] for n in record["arrays"]}
        return TaskResult(record["figures"], frames, arrays, record["meta"])


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
