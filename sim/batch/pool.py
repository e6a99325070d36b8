"""Where tasks run: in this process, in local worker processes, or on a Dask cluster.

Every pool has one method, :meth:`run`, which takes a function and items and yields
``(index, result)`` pairs as tasks finish (in any order: callers key results by index).

- :class:`SerialPool`: one worker, in this process.
- :class:`ProcessPool`: ``workers`` forked processes (the default on one machine). Forked
  workers inherit whatever this process has loaded (inputs, prepared set-ups), so they load
  nothing. A Dask ``LocalCluster`` does the same job but costs about 2 s to start and stop
  and its spawned workers import the package and load the inputs again (see bench/README.md),
  which would double the time of the default scenario.
- :class:`DaskPool`: an existing Dask cluster (``--scheduler tcp://HOST:PORT`` or
  ``$PROTEST_SIM_SCHEDULER``), or ``--scheduler local``: a ``LocalCluster`` of ``workers``
  single-threaded processes. Dask workers keep what they load in their process between
  tasks (:mod:`sim.batch.worker`), so each loads the inputs once.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sim.errors import InputError, quoted

SCHEDULER_ENV_VAR = "PROTEST_SIM_SCHEDULER"


def _die_with_parent() -> None:
    """Make a worker end when the process that forked it dies, however it dies.

    A parent killed with SIGKILL runs no clean-up: without this its workers would wait
    forever on their task queue, holding the parent's output pipes open. Linux's
    ``PR_SET_PDEATHSIG``; elsewhere a no-op.
    """
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the call: end now
        os._exit(1)


def machine_workers() -> int:
    """The processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialPool:
    """Tasks one after another in this process."""

    workers = 1
    kind = "serial"

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(items):
            yield i, fn(item)

    def close(self) -> None:
        pass


class ProcessPool:
    """Tasks in ``workers`` forked processes; at most two tasks per worker in flight, so an
    interrupted sweep has little work started and lost."""

    kind = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        ctx = multiprocessing.get_context("fork")
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_die_with_parent
        )

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        todo = iter(enumerate(items))
        running: dict[Any, int] = {}

        def fill() -> None:
            while len(running) < 2 * self.workers:
                nxt = next(todo, None)
                if nxt is None:
                    return
                running[self._executor.submit(fn, nxt[1])] = nxt[0]

        fill()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                i = running.pop(future)
                yield i, future.result()
            fill()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """Tasks on a Dask cluster: an existing scheduler's address, or ``"local"``."""

    kind = "dask"

    def __init__(self, scheduler: str, workers: int = 1):
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise InputError("--scheduler needs Dask distributed (pip install -e .)") from None
        self._cluster = None
        _quiet_dask_logs()
        if scheduler == "local":
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                worker_dashboard_address=None,
            )
            address: Any = self._cluster
        else:
            address = scheduler
            host, port = scheduler_address(scheduler)
            if scheduler.startswith("tcp://"):
                probe_scheduler(scheduler, host, port)
        try:
            self.client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except MemoryError:  # a length prefix read from bytes that are not Dask's
            self._close_cluster()
            raise InputError(
                f"--scheduler {quoted(scheduler)}: answered with bytes that are not Dask's "
                "protocol (allowed: the address of a running Dask scheduler)"
            ) from None
        except Exception as exc:  # OSError, TimeoutError, distributed's own errors
            self._close_cluster()
            detail = " ".join(str(exc).split())[:80] or "no detail"
            raise InputError(
                f"--scheduler {quoted(scheduler)}: cannot connect ({type(exc).__name__}: {detail})"
            ) from None
        self.scheduler = scheduler if self._cluster is None else self._cluster.scheduler_address
        self.workers = max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = {self.client.submit(fn, item, pure=False): i for i, item in enumerate(items)}
        try:
            for future, result in as_completed(futures, with_results=True):
                yield futures[future], result
                future.release()
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


# A scheduler must accept a connection and send its handshake within this many seconds.
CONNECT_TIMEOUT_S = 20
SCHEMES = ("tcp://", "tls://", "ws://", "wss://")
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")
# A Dask handshake is a few hundred bytes; a larger length prefix is not Dask's.
MAX_HANDSHAKE_BYTES = 1_000_000


def scheduler_address(scheduler: str) -> tuple[str, int]:
    """The host and port of ``--scheduler SCHEME://HOST:PORT``; anything else is an
    :class:`InputError` naming what is allowed."""
    allowed = "allowed: 'local', or tcp://HOST:PORT of a running Dask scheduler (or tls://, ws://, wss://)"
    if scheduler.startswith("inproc://"):
        raise InputError(
            f"--scheduler {quoted(scheduler)}: an in-process address cannot be reached from "
            f"this command ({allowed})"
        )
    scheme = next((s for s in SCHEMES if scheduler.startswith(s)), None)
    match = _HOST_PORT.match(scheduler[len(scheme) :]) if scheme else None
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise InputError(f"--scheduler {quoted(scheduler)}: not a scheduler address ({allowed})")
    return match.group(1).strip("[]"), int(match.group(2))


def probe_scheduler(scheduler: str, host: str, port: int, timeout_s: float | None = None):
    """Check that ``host:port`` answers as a Dask scheduler does: on a new connection it sends
    its handshake first (an 8-byte length, then that many bytes of frames). A server that
    accepts and stays silent would otherwise hold Dask's own handshake forever."""
    import socket
    import struct
    import time

    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        raise InputError(
            f"--scheduler {quoted(scheduler)}: cannot connect ({exc.strerror or exc})"
        ) from None

    def read(n: int) -> bytes:
        data = b""
        while len(data) < n:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(min(n - len(data), 65536))
            if not chunk:
                raise ConnectionError("closed the connection")
            data += chunk
        return data

    try:
        with sock:
            (size,) = struct.unpack("<Q", read(8))
            if not 8 <= size <= MAX_HANDSHAKE_BYTES:
                raise ValueError(size)
            (frames,) = struct.unpack("<Q", read(size)[:8])
            if not 1 <= frames <= 1000:
                raise ValueError(frames)
    except TimeoutError:
        raise InputError(
            f"--scheduler {quoted(scheduler)}: accepted the connection but sent no Dask "
            f"handshake within {timeout_s:g} s (a stuck scheduler, or not one)"
        ) from None
    except (OSError, ValueError, struct.error) as exc:
        what = (
            "closed the connection without a Dask handshake"
            if isinstance(exc, ConnectionError)
            else "answered with bytes that are not Dask's protocol"
        )
        raise InputError(
            f"--scheduler {quoted(scheduler)}: {what} (allowed: the address of a running Dask "
            "scheduler)"
        ) from None


def check_scheduler(scheduler: str | None) -> None:
    """Before any work: ``--scheduler`` (or ``$PROTEST_SIM_SCHEDULER``) is 'local' or the
    address of a scheduler that answers as Dask does; else one :class:`InputError`."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV_VAR) or None
    if scheduler is None or scheduler == "local":
        return
    host, port = scheduler_address(scheduler)
    if scheduler.startswith("tcp://"):
        probe_scheduler(scheduler, host, port)


def _quiet_dask_logs() -> None:
    """Dask's own INFO lines (and the tracebacks it logs at INFO while a cluster closes, such
    as CommClosedError) only with ``-v``; its warnings and errors always."""
    import logging

    if not logging.getLogger("sim").isEnabledFor(logging.INFO):
        logging.getLogger("distributed").setLevel(logging.WARNING)
    batched = logging.getLogger("distributed.batched")
    if _closed_comm_at_info not in batched.filters:
        batched.addFilter(_closed_comm_at_info)


def _closed_comm_at_info(record) -> bool:
    """False for Dask's INFO record of a comm closed while the client leaves (its traceback
    is no fault: the scheduler's last message to a client that has gone)."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (record.levelno <= 20 and type(exc).__name__ == "CommClosedError")


def open_pool(workers: int = 0, scheduler: str | None = None, tasks: int | None = None):
    """The pool for ``--workers`` and ``--scheduler`` (or ``$PROTEST_SIM_SCHEDULER``).

    ``workers`` 0 means one per processor of this machine; a local pool never has more workers
    than ``tasks``.
    """
    if workers < 0:
        raise InputError(f"--workers {workers}: allowed 0 (one per processor) or more")
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV_VAR) or None
    n = workers or machine_workers()
    if scheduler:
        return DaskPool(scheduler, n)
    if tasks is not None:
        n = min(n, max(tasks, 1))
    return SerialPool() if n <= 1 else ProcessPool(n)
