"""Files written whole or not at all: a hidden temporary file beside the target, then a rename."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PART_SUFFIX = ".part"


def temporary_beside(path: Path, per_process: bool = False) -> Path:
    """The hidden temporary name under which ``path`` is written before its rename.

    ``.<stem>.part<suffix>`` keeps the suffix that writers such as GDAL or matplotlib read the
    format from; ``per_process`` gives ``.<name>.<pid>.part`` instead, for files that several
    processes may write at once (the cache, downloads), so that a writer killed before its
    rename can be recognised and its file removed (:func:`remove_stale_parts`).
    """
    if per_process:
        return path.with_name(f".{path.name}.{os.getpid()}{PART_SUFFIX}")
    return path.with_name(f".{path.stem}{PART_SUFFIX}{path.suffix}")


@contextmanager
def replacing(path: Path, per_process: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on error it is removed."""
    tmp = temporary_beside(path, per_process)
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text through a temporary file and a rename."""
    with replacing(path) as tmp:
        tmp.write_text(text)


def write_bytes_atomic(path: Path, payload: bytes, per_process: bool = False) -> None:
    """Write bytes through a temporary file and a rename."""
    with replacing(path, per_process) as tmp:
        tmp.write_bytes(payload)


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def remove_stale_parts(folder: Path, names: tuple[str, ...]) -> None:
    """Remove the per-process temporary files of these names left by writers that are gone."""
    for name in names:
        for part in folder.glob(f".{name}.*{PART_SUFFIX}"):
            pid = part.name[len(name) + 2 : -len(PART_SUFFIX)]
            if pid.isdigit() and int(pid) != os.getpid() and process_gone(int(pid)):
                part.unlink(missing_ok=True)
