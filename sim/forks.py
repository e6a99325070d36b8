"""Work split over forked processes that gives what one process gives, bit for bit.

:func:`forked` runs a function in a forked child and hands back what it returns (pickled, with
geometry arrays carried as WKB, which keeps every coordinate); :func:`elementwise` splits an
element-by-element computation (each output element depends only on the inputs' elements at
its place, as in ``shapely.intersection(a, b)``) into contiguous chunks, one per processor.
Where ``fork`` is missing, or there is one processor, everything runs here.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

log = logging.getLogger(__name__)

# Below this many elements, a chunk is not worth a process.
MIN_CHUNK = 500


def processors() -> int:
    """Processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _portable(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype == object:
        return ("wkb", shapely.to_wkb(value))
    return ("value", value)


def _restored(payload: Any) -> Any:
    kind, value = payload
    return shapely.from_wkb(value) if kind == "wkb" else value


class Forked:
    """``func()`` running in a forked child; :meth:`result` waits for its return value."""

    def __init__(self, func: Callable[[], Any]):
        ctx = multiprocessing.get_context("fork")
        self._receive, send = ctx.Pipe(duplex=False)

        def child() -> None:
            try:
                payload = pickle.dumps(_portable(func()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # the parent computes it itself
                log.debug("forked work failed: %s", exc)
                payload = b""
            send.send_bytes(payload)
            send.close()

        self._process = ctx.Process(target=child, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> tuple[bool, Any]:
        """(True, what ``func`` returned), or (False, None) if it failed."""
        try:
            payload = self._receive.recv_bytes()
        except (EOFError, OSError):
            payload = b""
        self._process.join()
        self._receive.close()
        if not payload:
            return False, None
        return True, _restored(pickle.loads(payload))


def forked(func: Callable[[], Any]) -> Forked:
    """Start ``func()`` in a forked child (see :class:`Forked`)."""
    return Forked(func)


def in_daemon() -> bool:
    """Whether this process may not fork children of its own (a daemonic process)."""
    return bool(multiprocessing.current_process().daemon)


def elementwise(
    func: Callable[..., np.ndarray], *arrays: np.ndarray, processes: int | None = None
) -> np.ndarray:
    """``func(*arrays)`` for an element-by-element ``func`` of equally long arrays, its chunks
    computed side by side in forked processes (each chunk at least :data:`MIN_CHUNK` long)."""
    n = len(arrays[0])
    processes = processors() if processes is None else processes
    chunks = min(processes, n // MIN_CHUNK)
    if chunks < 2 or not can_fork() or in_daemon():
        return func(*arrays)
    bounds = np.linspace(0, n, chunks + 1).astype(int)
    parts = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    children = [forked(lambda s=s: func(*(a[s] for a in arrays))) for s in parts[1:]]
    results = [func(*(a[parts[0]] for a in arrays))]
    for s, child in zip(parts[1:], children, strict=True):
        ok, value = child.result()
        results.append(value if ok else func(*(a[s] for a in arrays)))
    return np.concatenate(results)
