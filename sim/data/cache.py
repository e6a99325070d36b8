"""The on-disk cache of built arrays: one folder, entries that load as data only, never code.

Every entry is an ``.npz`` file (read with ``allow_pickle=False``, so nothing in it can run) and
a small JSON sidecar holding the entry's key, the package version, the SHA-256 of the ``.npz``
and each array's dtype and shape. An entry is used only when its sidecar names the same key and
version, the file's checksum matches and its arrays are those the sidecar lists; anything else
(corrupt, truncated, foreign, stale, emptied with its checksum resealed) is reported in one line
and rebuilt. Writes go through a temporary file and a rename, so a killed process never leaves a
half-written entry under a real name.

This module is the only place that knows where the cache lives (``$PROTEST_SIM_CACHE``, else
``data/cache/`` in the checkout); the core modules that build networks and coverage tables take
arrays in and give arrays out, and :func:`cached` stores them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from sim import __version__
from sim.atomic import remove_stale_parts, replacing, write_bytes_atomic
from sim.data.datasets import DEFAULT_CACHE_DIR
from sim.errors import InputError

log = logging.getLogger(__name__)

CACHE_ENV_VAR = "PROTEST_SIM_CACHE"
# Bump when the layout of the cache files themselves changes. 2: the sidecar lists each
# array's dtype and shape.
CACHE_FORMAT = 2
# A sidecar is a few hundred bytes; a larger one is not ours.
MAX_SIDECAR_BYTES = 1_000_000

Arrays = dict[str, np.ndarray]


def cache_dir() -> Path | None:
    """The cache folder: ``$PROTEST_SIM_CACHE``, else ``data/cache/`` in the checkout.

    ``PROTEST_SIM_CACHE=off`` (or ``none``) disables caching.
    """
    value = os.environ.get(CACHE_ENV_VAR)
    if value is not None and value.strip().lower() in ("off", "none", "0"):
        return None
    folder = Path(value) if value else DEFAULT_CACHE_DIR
    if folder.exists() and not folder.is_dir():
        raise InputError(
            f"{CACHE_ENV_VAR}={value}: not a folder (allowed: a folder, created when missing, "
            "or 'off')"
        )
    return folder


def key_digest(key: Mapping[str, object]) -> str:
    """A short stable digest of a key (a JSON-able mapping)."""
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def has_entry(kind: str, key: Mapping[str, object], folder: Path | None = None) -> bool:
    """Whether ``folder`` (default :func:`cache_dir`) holds an entry for ``kind`` and ``key``
    whose sidecar names them (its checksum is checked when :func:`cached` reads it)."""
    folder = cache_dir() if folder is None else folder
    if folder is None:
        return False
    full_key = {**key, "kind": kind, "version": __version__, "format": CACHE_FORMAT}
    stem = f"{kind}-{key_digest(full_key)}"
    try:
        meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    same = json.loads(json.dumps(full_key, sort_keys=True, default=str))
    return isinstance(meta, dict) and meta.get("key") == same and (folder / f"{stem}.npz").is_file()


def cached(
    kind: str,
    key: Mapping[str, object],
    build: Callable[[], Arrays],
    folder: Path | None = None,
) -> Arrays:
    """The arrays of ``build()``, from the cache when an entry with this ``key`` is there.

    Parameters
    ----------
    kind : a name for the entry's kind (``network``, ``coverage``...), part of its file name.
    key : everything the result depends on (source checksums, parameters); the package version
        and the cache format are added.
    build : makes the arrays (numeric or fixed-width string arrays; no objects).
    folder : the cache folder; default :func:`cache_dir`. ``None`` from there: no caching.
    """
    folder = cache_dir() if folder is None else folder
    if folder is None:
        return build()
    full_key = {**key, "kind": kind, "version": __version__, "format": CACHE_FORMAT}
    stem = f"{kind}-{key_digest(full_key)}"
    data_path, meta_path = folder / f"{stem}.npz", folder / f"{stem}.json"
    if data_path.exists() or meta_path.exists():
        arrays, problem = _read_entry(data_path, meta_path, full_key)
        if arrays is not None:
            return arrays
        log.warning("cache entry %s %s; rebuilding it", data_path, problem)
    arrays = build()
    try:
        _write_entry(data_path, meta_path, full_key, arrays)
    except OSError as exc:
        log.warning("cannot write cache entry %s (%s); continuing without it", data_path, exc)
    return arrays


def _read_entry(
    data_path: Path, meta_path: Path, full_key: Mapping[str, object]
) -> tuple[Arrays | None, str]:
    try:
        if meta_path.stat().st_size > MAX_SIDECAR_BYTES:
            return None, "has a sidecar too large to be one"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, f"has no readable sidecar ({type(exc).__name__})"
    if not isinstance(meta, dict) or meta.get("key") != json.loads(
        json.dumps(full_key, sort_keys=True, default=str)
    ):
        return None, "belongs to other inputs or another version"
    try:
        payload = data_path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    if hashlib.sha256(payload).hexdigest() != meta.get("sha256"):
        return None, "does not match its checksum (corrupt, truncated or replaced)"
    try:
        with np.load(data_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        return None, f"cannot be loaded as data ({type(exc).__name__})"
    if _shapes(arrays) != meta.get("arrays"):
        return None, "holds arrays other than its sidecar lists (emptied or altered)"
    return arrays, ""


def _shapes(arrays: Arrays) -> dict[str, list]:
    """Each array's dtype and shape, as the sidecar records them."""
    return {name: [str(a.dtype), list(a.shape)] for name, a in sorted(arrays.items())}


def _write_entry(
    data_path: Path, meta_path: Path, full_key: Mapping[str, object], arrays: Arrays
) -> None:
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise TypeError(f"cache array {name!r} holds Python objects; store data only")
    data_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(data_path.parent, (data_path.name, meta_path.name))
    with replacing(data_path, per_process=True) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    meta = {
        "key": json.loads(json.dumps(full_key, sort_keys=True, default=str)),
        "sha256": digest,
        "arrays": _shapes({k: np.asarray(v) for k, v in arrays.items()}),
    }
    text = json.dumps(meta, sort_keys=True, indent=1).encode("utf-8")
    write_bytes_atomic(meta_path, text, per_process=True)
