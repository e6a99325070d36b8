"""Tasks of a sweep: keys, seeds, and their results on disk, one atomic folder per task.

A task is one replication of one scenario variant, keyed by ``(variant, replication)``. Its
seed follows from the variant's scenario seed and its replication alone:
``SeedSequence(seed, spawn_key=(k,))``, which is exactly ``SeedSequence(seed).spawn(n)[k]``,
the seed ``run`` has always given replication k, so results do not depend on which worker ran
a task, in which order, or whether the sweep was interrupted.

A :class:`TaskStore` keeps each finished task under ``tasks/<variant>/rep-<k>/``: the folder is
written under a hidden name and renamed into place when whole, so a task is either finished
(its folder exists) or absent; a killed sweep leaves at most hidden partial folders, which
the next start removes. Tables are read back by key, never in finishing order.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULT_FILE = "result.json"


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
    """Finished tasks of one sweep, on disk under ``folder/tasks``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.root = self.folder / "tasks"

    def path(self, task: Task) -> Path:
        return self.root / task.variant / f"rep-{task.replication:04d}"

    def done(self, task: Task) -> bool:
        return (self.path(task) / RESULT_FILE).is_file()

    def clean_partial(self) -> int:
        """Remove partial task folders left by a killed sweep; returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for variant in self.root.iterdir():
            if not variant.is_dir():
                continue
            for entry in variant.iterdir():
                if entry.name.startswith("."):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        return removed

    def write(self, task: Task, result: TaskResult) -> Path:
        """Write a task's result whole, under a hidden name, then rename it into place.

        A task written twice (a worker finishing after a restart) keeps its first result:
        both are the same, as the task's seed depends only on its key.
        """
        final = self.path(task)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}.{os.getpid()}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name, frame in result.tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        for name, array in result.arrays.items():
            np.save(tmp / f"{name}.npy", np.asarray(array), allow_pickle=False)
        record = {
            "variant": task.variant,
            "replication": task.replication,
            "figures": result.figures,
            "tables": sorted(result.tables),
            "arrays": sorted(result.arrays),
            "meta": result.meta,
        }
        text = json.dumps(record, sort_keys=True, indent=1, default=_plain)
        (tmp / RESULT_FILE).write_text(text + "\n", encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:  # already finished by another writer: keep the first
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def read(self, task: Task, tables: bool = True) -> TaskResult:
        """A finished task's result (``tables=False``: figures and metadata only)."""
        path = self.path(task)
        record = json.loads((path / RESULT_FILE).read_text(encoding="utf-8"))
        frames, arrays = {}, {}
        if tables:
            frames = {n: pd.read_parquet(path / f"{n}.parquet") for n in record["tables"]}
            arrays = {n: np.load(path / f"{n}.npy", allow_pickle=False) for n in record["arrays"]}
        return TaskResult(record["figures"], frames, arrays, record["meta"])

    def finished(self, tasks: Iterable[Task]) -> list[Task]:
        return [t for t in tasks if self.done(t)]


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
