"""Writing results: run folders that appear whole or not at all, tables, JSON and manifests."""

from __future__ import annotations

import errno
import json
import logging
import os
import platform
import shutil
import socket
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import REPO_ROOT, __version__
from sim.atomic import process_gone, replacing, write_text_atomic
from sim.errors import OutputError

log = logging.getLogger(__name__)

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
    folder. An existing run is never overwritten: a taken id gets a ``-2``, ``-3``... suffix,
    also when two processes finish the same id at the same moment (a rename onto a folder that
    holds files fails, and the next suffix is tried). On any error the partial folder is
    removed, and an ``OSError`` (unwritable, full disk) becomes one :class:`OutputError`. A
    process killed outright leaves its ``.partial-<id>-<pid>`` folder, which no command reads
    as a result; the next writer to the same folder removes it once that process is gone.
    """

    def __init__(self, parent: Path, run_id: str) -> None:
        if not run_id or "/" in run_id or os.sep in run_id or run_id.startswith("."):
            raise ValueError(f"run id {run_id!r} must be a plain folder name")
        self.parent, self.run_id = parent, run_id
        self.partial = parent / f"{PARTIAL_PREFIX}{run_id}-{os.getpid()}"
        self.final: Path | None = None
        # the first folder of the chain to ``parent`` this run creates (removed if it fails)
        self.created: Path | None = None

    def __enter__(self) -> Path:
        missing = [p for p in (self.parent, *self.parent.parents) if not p.exists()]
        self.created = missing[-1] if missing else None
        try:
            remove_stale_partials(self.parent)
            self.partial.mkdir(parents=True)
            (self.partial / OWNER_FILE).write_text(
                json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
            )
        except OSError as exc:
            self._discard()
            raise _output_error(self.parent, exc) from None
        return self.partial

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._discard()
            if isinstance(exc, OSError):
                raise _output_error(self.parent, exc) from None
            return False
        try:
            (self.partial / OWNER_FILE).unlink()
            self.final = self._rename()
        except OSError as exc:
            self._discard()
            raise _output_error(self.parent, exc) from None
        return False

    def _discard(self) -> None:
        """Remove the partial folder, and the folders made for it if they are left empty."""
        shutil.rmtree(self.partial, ignore_errors=True)
        if self.created is None:
            return
        for folder in (self.parent, *self.parent.parents):
            try:
                folder.rmdir()  # only ever removes an empty folder
            except OSError:
                return
            if folder == self.created:
                return

    def _rename(self) -> Path:
        k = 1
        while True:
            final = self.parent / (self.run_id if k == 1 else f"{self.run_id}-{k}")
            if not os.path.lexists(final):
                try:
                    os.rename(self.partial, final)
                    return final
                except OSError as exc:  # taken since the check: try the next suffix
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
            k += 1


PARTIAL_PREFIX = ".partial-"
OWNER_FILE = ".owner.json"


def _output_error(folder: Path, exc: OSError) -> OutputError:
    what = f", writing {Path(exc.filename).name}" if exc.filename else ""
    return OutputError(
        f"{folder}: cannot write results ({exc.strerror or exc}{what}); nothing was kept "
        "(allowed: --outputs naming a writable folder with free space)"
    )


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove the ``.partial-*`` folders in ``folder`` left by processes that are gone.

    A partial folder names its process id last; one whose owner file names another machine
    (an outputs folder shared over a network) is left alone. Returns the folders removed.
    """
    removed = []
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(PARTIAL_PREFIX)]
    except OSError:
        return removed
    host = socket.gethostname()
    for entry in entries:
        pid_text = entry.name.rsplit("-", 1)[-1]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            owner = json.loads((entry / OWNER_FILE).read_text())
        except (OSError, ValueError):
            owner = {}
        if isinstance(owner, dict) and owner.get("host", host) != host:
            continue
        if process_gone(int(pid_text)):
            shutil.rmtree(entry, ignore_errors=True)
            log.info("removed %s, left unfinished by process %s", entry, pid_text)
            removed.append(entry)
    return removed


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
    with replacing(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")


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


def git_commit(root: Path = REPO_ROOT) -> str:
    """The checkout's HEAD commit, or '' outside a checkout. A worktree's ``.git`` is a file
    naming its git folder; a branch's commit may be in ``packed-refs``."""
    git = root / ".git"
    try:
        if git.is_file():  # "gitdir: <folder>" (a worktree, a submodule)
            git = (root / git.read_text().strip().removeprefix("gitdir:").strip()).resolve()
        common = git
        if (git / "commondir").is_file():  # a worktree's branches live in the main repository
            common = (git / (git / "commondir").read_text().strip()).resolve()
        ref = (git / "HEAD").read_text().strip()
        if not ref.startswith("ref: "):
            return ref  # a detached HEAD holds the commit itself
        name = ref[5:]
        for base in (git, common):
            if (base / name).is_file():
                return (base / name).read_text().strip()
        for line in (common / "packed-refs").read_text().splitlines():
            if line.endswith(" " + name):
                return line.split()[0]
    except OSError:
        pass
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
