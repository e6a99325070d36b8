"""Writing results: run folders that appear whole or not at all, tables, JSON and manifests."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUTS = REPO_ROOT / "outputs"
PACKAGES = (
    "simpy",
    "networkx",
    "osmnx",
    "numpy",
    "shapely",
    "scipy",
    "pandas",
    "pyproj",
    "matplotlib",
    "pyarrow",
    "geopandas",
    "statsmodels",
)


def new_run_id(label: str) -> str:
    """A run id: UTC time to the second, and ``label``."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{label}"


class RunFolder:
    """A folder for one run, written under a hidden name and renamed into place when complete.

    Use as ``with RunFolder(parent, run_id) as tmp: ...``; afterwards ``.final`` is the run's
    folder. An existing run is never overwritten: a taken id gets a ``-2``, ``-3``... suffix.
    On any error the partial folder is removed, so no half-written run is left behind.
    """

    def __init__(self, parent: Path, run_id: str) -> None:
        self.parent, self.run_id = parent, run_id
        self.partial = parent / f".partial-{run_id}-{os.getpid()}"
        self.final: Path | None = None

    def __enter__(self) -> Path:
        self.partial.mkdir(parents=True)
        return self.partial

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
            return False
        final, k = self.parent / self.run_id, 1
        while final.exists():
            k += 1
            final = self.parent / f"{self.run_id}-{k}"
        os.rename(self.partial, final)
        self.final = final
        return False


def write_text_atomic(path: Path, text: str) -> None:
    """Write text through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    """Write JSON (numpy values converted), atomically, with sorted keys for stable diffs."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a CSV (or Parquet, by suffix) atomically; float formatting is fixed for byte
    identity across runs."""
    tmp = path.with_name(f".{path.name}.part")
    if path.suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    os.replace(tmp, path)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages results depend on."""
    out = {"python": sys.version.split()[0], "protest-exposure": __version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info() -> dict[str, Any]:
    """Platform facts for a manifest."""
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def git_commit() -> str:
    """The repository's HEAD commit, or '' outside a checkout."""
    head = REPO_ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (REPO_ROOT / ".git" / ref[5:]).read_text().strip()
        return ref
    except OSError:
        return ""


def provenance(data_files: list[dict[str, object]]) -> dict[str, object]:
    """What every written result records of where it came from, beside its own inputs."""
    return {
        "data_files": data_files,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "command": " ".join(["run_sim.py", *sys.argv[1:]]),
    }
