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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sim.errors import InputError

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
        if scheduler == "local":
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                worker_dashboard_address=None,
            )
            address: Any = self._cluster
        elif scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            address = scheduler
        else:
            raise InputError(
                f"--scheduler {scheduler!r}: allowed 'local' or a scheduler address such as "
                "tcp://HOST:8786"
            )
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise InputError(f"--scheduler {scheduler!r}: cannot connect ({exc})") from None
        self.scheduler = scheduler if self._cluster is None else self._cluster.scheduler_address
        self.workers = max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

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
