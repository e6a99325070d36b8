"""Data sources: the manifest, the data directory, checksums and downloads."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import tomllib
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sim import REPO_ROOT
from sim.atomic import write_bytes_atomic
from sim.errors import DataError, quoted

log = logging.getLogger(__name__)

MANIFEST_PATH = REPO_ROOT / "data" / "sources.toml"
DEFAULT_CACHE_DIR = REPO_ROOT / "data" / "cache"
DATA_ENV_VAR = "PROTEST_SIM_DATA"
OFFLINE_ENV_VAR = "PROTEST_SIM_OFFLINE"
CONFIG_DIR_NAME = "protest-exposure"
BASEMAP_SOURCES = ("boroughs", "shoreline")
"""What a report's basemap is cut from (``sim.data.basemap``)."""
EQUITY_SOURCES = ("census_tracts", "shoreline", "banthescan_public", "protest_sites")
"""What the equity analysis reads (``sim.data.equity_inputs``)."""
REPORT_SOURCES = tuple(dict.fromkeys(BASEMAP_SOURCES + EQUITY_SOURCES))
"""What a run folder is written from beside its scenario's own sources (``sources_for``): it
keeps its report's basemap and site neighbourhoods, computed from these when it is written."""
DOWNLOAD_TIMEOUT_S = 60
# Whether the machine is online is asked of the host most downloads come from, bounded in time.
PROBE_ADDRESS = ("raw.githubusercontent.com", 443)
PROBE_TIMEOUT_S = 3.0


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

    @property
    def checksum_mismatch(self) -> str:
        """A warning when this file is at the bundle's own name with another checksum than
        ``data/sources.toml`` gives (truncated, edited or another release), else ''.

        A file found under an alternative name (the full original) is expected to differ.
        """
        expected = self.source.sha256
        at_bundle_name = self.path.as_posix().endswith("/" + self.source.path)
        if not expected or self.sha256 == expected or not at_bundle_name:
            return ""
        return (
            f"{self.path}: SHA-256 {self.sha256[:12]}... differs from data/sources.toml's "
            f"{expected[:12]}... for {self.source.key!r} (truncated, edited or another "
            "release?); results from it are not the bundle's"
        )

    def provenance(self) -> dict[str, object]:
        """What a manifest records of this file."""
        return {
            "source": self.source.key,
            "path": str(self.path),
            "sha256": self.sha256,
            "checksum_warning": self.checksum_mismatch,
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


def user_config_path() -> Path:
    """The user's config file: ``$XDG_CONFIG_HOME/protest-exposure/config.toml`` (else under
    ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / CONFIG_DIR_NAME / "config.toml"


@dataclass(frozen=True)
class DataDirChoice:
    """The data directory chosen, how it was chosen, and every place looked at in order."""

    path: Path
    how: str
    searched: tuple[tuple[str, str], ...]  # (place, what was there)

    def describe(self) -> str:
        """``/path (from PROTEST_SIM_DATA)``"""
        return f"{self.path} ({self.how})"


def holds_data(directory: Path) -> bool:
    """Whether ``directory`` holds any file of the data manifest."""
    return directory.is_dir() and any(find_source(k, directory) for k in load_manifest())


def find_data_dir(data_dir: str | Path | None = None) -> DataDirChoice:
    """The data directory, by the documented search order.

    1. ``--data-dir`` (``data_dir``); 2. ``$PROTEST_SIM_DATA``; 3. ``data_dir`` in the user
    config file (:func:`user_config_path`; relative to the file's folder); 4. ``data/`` in the
    checkout, when it holds data files; 5. ``../shared/data`` beside the checkout, when it
    holds data files; else 6. ``data/cache/``, where downloads go. A directory named by 1-3
    must exist.
    """
    searched: list[tuple[str, str]] = []
    named: list[tuple[str, Path | None]] = [
        ("--data-dir", Path(data_dir) if data_dir is not None else None),
        (DATA_ENV_VAR, Path(os.environ[DATA_ENV_VAR]) if os.environ.get(DATA_ENV_VAR) else None),
    ]
    config = user_config_path()
    named.append((f"data_dir in {config}", _config_data_dir(config)))
    for how, chosen in named:
        if chosen is None:
            searched.append((how, "not set"))
            continue
        if not chosen.is_dir():
            raise DataError(f"{chosen}: data directory (from {how}) does not exist")
        searched.append((how, "used"))
        return DataDirChoice(chosen.resolve(), f"from {how}", tuple(searched))
    for how, candidate in (
        ("data/ in the checkout", REPO_ROOT / "data"),
        ("../shared/data beside the checkout", REPO_ROOT.parent / "shared" / "data"),
    ):
        if holds_data(candidate):
            searched.append((how, "used"))
            return DataDirChoice(candidate.resolve(), f"found as {how}", tuple(searched))
        searched.append((how, "no data files" if candidate.is_dir() else "absent"))
    DEFAULT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    searched.append(("data/cache/", "used"))
    return DataDirChoice(
        DEFAULT_CACHE_DIR,
        "nothing found elsewhere: data/cache/, where downloads go",
        tuple(searched),
    )


def _config_data_dir(config: Path) -> Path | None:
    if not config.is_file():
        return None
    try:
        raw = tomllib.loads(config.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{config}: cannot read the config file ({exc})") from None
    value = raw.get("data_dir")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DataError(
            f"{config}: key 'data_dir': bad value {quoted(value)} (allowed: a folder path)"
        )
    path = Path(value).expanduser()
    return path if path.is_absolute() else config.parent / path


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory by the search order of :func:`find_data_dir`."""
    return find_data_dir(data_dir).path


def missing_sources(keys, data_dir: Path, *, online: bool | None = None) -> list[Source]:
    """The sources among ``keys`` that are neither in ``data_dir`` nor downloadable now."""
    manifest = load_manifest()
    absent = [manifest[k] for k in keys if find_source(k, data_dir) is None]
    if absent and any(s.download != "none" for s in absent) and is_online(online):
        absent = [s for s in absent if s.download == "none"]
    return absent


def require_sources(keys, data_dir: Path, *, online: bool | None = None) -> None:
    """Raise one :class:`DataError` listing every source of ``keys`` that is missing (or the
    error of the first whose name is taken by a folder: that is not a missing file)."""
    for key in keys:
        blocked = not_a_file(key, data_dir) if find_source(key, data_dir) is None else None
        if blocked is not None:
            raise blocked
    absent = missing_sources(keys, data_dir, online=online)
    if absent:
        raise DataError(missing_message(absent, data_dir))


def missing_message(absent: list[Source], data_dir: Path) -> str:
    """Every missing file, and the two ways to provide them, on one line."""
    files = ", ".join(f"{data_dir / s.path} ({s.key})" for s in absent)
    loadable = [s.key for s in absent if s.download != "none"]
    return (
        f"{len(absent)} data file(s) missing: {files}; either point --data-dir or "
        f"{DATA_ENV_VAR} at a folder holding them (the offline bundle, e.g. ../shared/data)"
        + (
            f", or go online (unset {OFFLINE_ENV_VAR}) to download {', '.join(loadable)} "
            "from their sources"
            if loadable
            else " (these have no download)"
        )
    )


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


def not_a_file(key: str, data_dir: Path) -> DataError | None:
    """The error for a name of source ``key`` that exists but is no regular file (a folder),
    or None."""
    source = load_manifest()[key]
    for rel in (source.path, *source.alt_paths):
        candidate = data_dir / rel
        if candidate.exists() and not candidate.is_file():
            return DataError(
                f"{candidate}: is a folder or special file, not the data file of source {key!r}"
            )
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
    blocked = not_a_file(key, data_dir) if found is None else None
    if blocked is not None:
        raise blocked
    if found is None and source.download == "http" and is_online(online):
        found = download(source, data_dir)
    if found is None:
        raise DataError(
            f"{data_dir / source.path}: missing data file for source {key!r}; point "
            f"--data-dir or {DATA_ENV_VAR} at a directory holding it"
            + (f", or go online to download it from {source.url}" if source.url else "")
        )
    try:
        return ResolvedFile(source, found, sha256_of(found), found.stat().st_size)
    except OSError as exc:
        raise DataError(
            f"{found}: cannot read the data file of source {key!r} ({exc.strerror or exc})"
        ) from None


def offline_forced() -> bool:
    """Whether ``$PROTEST_SIM_OFFLINE`` forbids every connection (any value but '', 0, no,
    false)."""
    return os.environ.get(OFFLINE_ENV_VAR, "").strip().lower() not in ("", "0", "no", "false")


def is_online(online: bool | None = None) -> bool:
    """Whether downloads can be tried: ``online`` if given, never with $PROTEST_SIM_OFFLINE.

    Otherwise one connection to the download host is tried, once per process, and given up
    after :data:`PROBE_TIMEOUT_S` including the name lookup (which a socket timeout does not
    bound), so an offline machine says what is missing within seconds instead of hanging.
    """
    if online is not None:
        return online
    if offline_forced():
        return False
    return _probe()


@lru_cache(maxsize=1)
def _probe() -> bool:
    answer: list[bool] = []

    def connect() -> None:
        try:
            socket.create_connection(PROBE_ADDRESS, timeout=PROBE_TIMEOUT_S).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=connect, name="online-probe", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S)
    if not answer:
        log.info("no answer from %s within %.0f s: offline", PROBE_ADDRESS[0], PROBE_TIMEOUT_S)
    return bool(answer and answer[0])


def download(source: Source, data_dir: Path) -> Path:
    """Fetch ``source.url`` into ``data_dir``, verify it, and write it atomically."""
    if offline_forced():
        raise DataError(f"{source.url}: not downloaded, {OFFLINE_ENV_VAR} is set")
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
    _write_download(target, payload)
    return target


def _write_download(target: Path, payload: bytes) -> None:
    """Write a download to ``target`` through a temporary file of this process and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, payload, per_process=True)


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
    """Data rows in a CSV (lines minus header) or entries of a JSON list; None otherwise.

    Raises :class:`DataError` (one line naming the file) when the file cannot be read as such.
    """
    from sim.data.textfiles import read_text

    if path.suffix == ".csv":
        import io

        import pandas as pd

        text = read_text(path, "a CSV file")
        try:
            return len(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))
        except (ValueError, pd.errors.ParserError) as exc:
            raise DataError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if path.suffix == ".json":
        import json

        try:
            entries = json.loads(read_text(path, "a JSON file"))
        except ValueError as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from None
        return len(entries) if isinstance(entries, list | dict) else None
    return None


def data_status(data_dir: Path) -> list[SourceStatus]:
    """Where each manifest source was found, its size, checksum state and row count.

    A file that cannot be read is reported in its row (``UNREADABLE: why``), never raised:
    the listing always covers every source.
    """
    return [_status(key, source, data_dir) for key, source in load_manifest().items()]


def _status(key: str, source: Source, data_dir: Path) -> SourceStatus:
    path = find_source(key, data_dir)
    blocked = not_a_file(key, data_dir) if path is None else None
    if blocked is not None:
        return SourceStatus(key, f"UNREADABLE: {blocked}")
    if path is None:
        how = f"download from {source.url}" if source.download != "none" else "not downloadable"
        return SourceStatus(key, f"MISSING ({how})")
    try:
        resolved = ResolvedFile(source, path, sha256_of(path), path.stat().st_size)
    except OSError as exc:
        return SourceStatus(key, f"UNREADABLE: {path}: {exc.strerror or exc}")
    status = SourceStatus(key, str(path), resolved.size_bytes, resolved.checksum_state)
    try:
        status.rows = count_rows(path)
    except DataError as exc:
        status.found = f"UNREADABLE: {exc}"
    return status


def sources_for(scenario) -> list[str]:
    """The manifest sources a scenario reads (its site file, camera layers, buildings)."""
    from sim.data.footprints import FOOTPRINT_SOURCES
    from sim.data.ridership import RIDERSHIP_SOURCES
    from sim.exposure.visibility_models import VISIBILITY_MODELS

    keys = ["osm_walk", "mta_entrances"]
    if scenario.site.id or scenario.march.to_site:
        keys.append("protest_sites")
    cams = scenario.cameras
    for layer in cams.layers:
        keys += [layer.source, *([layer.counts_from] if layer.counts_from else [])]
    if VISIBILITY_MODELS[cams.visibility].needs_open_space and cams.buildings:
        keys.append(FOOTPRINT_SOURCES[cams.footprints])
    if scenario.origins.weights == "ridership":
        keys.append(RIDERSHIP_SOURCES[scenario.origins.ridership_year])
    return list(dict.fromkeys(keys))


def status_report(
    choice: DataDirChoice, required: tuple[str, ...], *, online: bool | None = None
) -> tuple[list[str], bool]:
    """The lines of ``run_sim.py data`` and whether every ``required`` source is available
    (the command requires what a run of the default scenario reads)."""
    lines = [f"data directory: {choice.describe()}"]
    lines.append(
        "  searched, in order: " + "; ".join(f"{place}: {what}" for place, what in choice.searched)
    )
    lines.append(f"{'source':18s} {'need':8s} {'rows':>7s} {'size':>10s}  {'checksum':28s} found")
    statuses = data_status(choice.path)
    for row in statuses:
        need = "required" if row.key in required else "optional"
        size = f"{row.size_bytes / 1e6:.2f} MB" if row.size_bytes is not None else "-"
        rows = str(row.rows) if row.rows is not None else "-"
        lines.append(
            f"{row.key:18s} {need:8s} {rows:>7s} {size:>10s}  {row.checksum or '-':28s} {row.found}"
        )
    absent = missing_sources(required, choice.path, online=online)
    unreadable = [r.key for r in statuses if r.key in required and r.found.startswith("UNREADABLE")]
    if absent:
        lines.append(f"error: {missing_message(absent, choice.path)}")
    if unreadable:
        lines.append(f"error: required source(s) unreadable: {', '.join(unreadable)} (see above)")
    if not absent and not unreadable:
        lines.append("every required source is available")
    return lines, not absent and not unreadable
