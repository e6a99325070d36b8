"""Data sources: the manifest, the data directory, checksums and downloads."""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sim.errors import DataError

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_PATH = REPO_ROOT / "data" / "sources.toml"
DEFAULT_CACHE_DIR = REPO_ROOT / "data" / "cache"
DATA_ENV_VAR = "PROTEST_SIM_DATA"
DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class Source:
    """One entry of the data manifest (``data/sources.toml``)."""

    key: str
    path: str
    url: str
    download: str
    format: str
    licence: str
    credit: str
    as_of: str
    sha256: str = ""
    git_blob_sha1: str = ""
    alt_paths: tuple[str, ...] = ()
    download_as: str = ""
    place: str = ""


@dataclass(frozen=True)
class ResolvedFile:
    """A source file found on disk, with its checksum state."""

    source: Source
    path: Path
    sha256: str
    size_bytes: int

    @property
    def checksum_state(self) -> str:
        """'bundle' when it matches the bundle's checksum, 'other' when it does not."""
        if self.source.sha256 and self.sha256 == self.source.sha256:
            return "bundle"
        return "other (not the bundle's copy)"

    def provenance(self) -> dict[str, object]:
        """What a manifest records of this file."""
        return {
            "source": self.source.key,
            "path": str(self.path),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "url": self.source.url,
            "licence": self.source.licence,
            "credit": self.source.credit,
            "as_of": self.source.as_of,
        }


@lru_cache(maxsize=1)
def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Source]:
    """Read the source manifest into ``{key: Source}``."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: cannot read the data manifest ({exc})") from None
    sources = {}
    for key, entry in raw.get("sources", {}).items():
        entry = dict(entry)
        entry["alt_paths"] = tuple(entry.get("alt_paths", ()))
        sources[key] = Source(key=key, **entry)
    return sources


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$PROTEST_SIM_DATA``, else ``data/cache``.

    An explicitly named directory (argument or environment) must exist.
    """
    if data_dir is not None:
        chosen, how = Path(data_dir), "--data-dir"
    elif os.environ.get(DATA_ENV_VAR):
        chosen, how = Path(os.environ[DATA_ENV_VAR]), DATA_ENV_VAR
    else:
        DEFAULT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        return DEFAULT_CACHE_DIR
    if not chosen.is_dir():
        raise DataError(f"{chosen}: data directory (from {how}) does not exist")
    return chosen.resolve()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, memoised on (path, size, mtime)."""
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def find_source(key: str, data_dir: Path) -> Path | None:
    """Path of source ``key`` inside ``data_dir``, or None when no accepted name exists."""
    source = load_manifest()[key]
    for rel in (source.path, *source.alt_paths):
        candidate = data_dir / rel
        if candidate.is_file():
            return candidate
    return None


def locate(key: str, data_dir: Path, *, online: bool | None = None) -> ResolvedFile:
    """Find source ``key`` in ``data_dir``, downloading it when missing and online.

    Raises
    ------
    DataError
        When the file is missing and cannot be downloaded; the message names the file and
        the two ways to provide it.
    """
    manifest = load_manifest()
    if key not in manifest:
        raise DataError(f"unknown data source {key!r}; known: {', '.join(sorted(manifest))}")
    source = manifest[key]
    found = find_source(key, data_dir)
    if found is None and source.download == "http" and is_online(online):
        found = download(source, data_dir)
    if found is None:
        raise DataError(
            f"{data_dir / source.path}: missing data file for source {key!r}; point "
            f"--data-dir or {DATA_ENV_VAR} at a directory holding it"
            + (f", or go online to download it from {source.url}" if source.url else "")
        )
    return ResolvedFile(source, found, sha256_of(found), found.stat().st_size)


def is_online(online: bool | None = None) -> bool:
    """Whether downloads can be tried: ``online`` if given, never with $PROTEST_SIM_OFFLINE."""
    if online is not None:
        return online
    if os.environ.get("PROTEST_SIM_OFFLINE"):
        return False
    try:
        urllib.request.urlopen("https://raw.githubusercontent.com", timeout=3).close()
    except OSError:
        return False
    return True


def download(source: Source, data_dir: Path) -> Path:
    """Fetch ``source.url`` into ``data_dir``, verify it, and write it atomically."""
    target = data_dir / (source.download_as or source.path)
    log.info("downloading %s from %s", source.key, source.url)
    try:
        with urllib.request.urlopen(source.url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            payload = response.read()
    except OSError as exc:
        raise DataError(f"{source.url}: download of {source.key!r} failed ({exc})") from None
    if source.git_blob_sha1 and git_blob_sha1(payload) != source.git_blob_sha1:
        log.warning(
            "%s: downloaded file's git blob id differs from the manifest's %s (the upstream "
            "file has changed); kept, and its sha256 is recorded in every run manifest",
            source.url,
            source.git_blob_sha1,
        )
    write_bytes_atomic(target, payload)
    return target


def write_bytes_atomic(target: Path, payload: bytes) -> None:
    """Write ``payload`` to ``target`` through a temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_bytes(payload)
    os.replace(tmp, target)


@dataclass
class SourceStatus:
    """One row of ``run_sim.py data``."""

    key: str
    found: str
    size_bytes: int | None = None
    checksum: str = ""
    rows: int | None = None
    notes: list[str] = field(default_factory=list)


def count_rows(path: Path) -> int | None:
    """Data rows in a CSV (lines minus header) or entries of a JSON list; None otherwise."""
    if path.suffix == ".csv":
        import pandas as pd

        return len(pd.read_csv(path, dtype=str, keep_default_na=False))
    if path.suffix == ".json":
        import json

        return len(json.loads(path.read_text()))
    return None


def data_status(data_dir: Path) -> list[SourceStatus]:
    """Where each manifest source was found, its size, checksum state and row count."""
    rows = []
    for key, source in load_manifest().items():
        path = find_source(key, data_dir)
        if path is None:
            how = f"download from {source.url}" if source.download != "none" else "not downloadable"
            rows.append(SourceStatus(key, f"MISSING ({how})"))
            continue
        resolved = ResolvedFile(source, path, sha256_of(path), path.stat().st_size)
        rows.append(
            SourceStatus(
                key,
                str(path),
                resolved.size_bytes,
                resolved.checksum_state,
                count_rows(path),
            )
        )
    return rows
