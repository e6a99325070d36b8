"""Progress of the slow steps: a bar on a terminal, one line per step otherwise, or nothing.

The core reports through :func:`task` (as it logs through :mod:`logging`); only the command
line turns the reports on (:func:`configure`), so library use and tests print nothing.

On a terminal a step shows a tqdm bar on stderr. When stderr is not a terminal (a log file,
CI, a pipe) each step prints plain lines instead of carriage-return bars: one when it starts,
one per named stage (else one per tenth of its work), and one when it is done, with the time
taken.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_config: dict[str, object] = {"enabled": False, "stream": None, "tty": None}


def configure(enabled: bool, stream: TextIO | None = None, tty: bool | None = None) -> None:
    """Turn progress reports on or off; ``stream`` defaults to stderr, ``tty`` to whether it
    is a terminal."""
    _config.update(enabled=enabled, stream=stream, tty=tty)


def enabled() -> bool:
    return bool(_config["enabled"])


def _stream() -> TextIO:
    return _config["stream"] or sys.stderr  # type: ignore[return-value]


def _is_tty(stream: TextIO) -> bool:
    if _config["tty"] is not None:
        return bool(_config["tty"])
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Task:
    """One slow step. ``advance(n)`` counts work done; ``stage(name)`` names the part now
    running. Use as a context manager; disabled tasks do nothing."""

    def __init__(
        self, what: str, total: int | None = None, unit: str = "step", note: str = ""
    ) -> None:
        self.what, self.total, self.unit, self.note = what, total, unit, note
        self.done = 0
        self._staged = False
        self._bar = None
        self._next_line = 0
        self._start = 0.0
        self._on = enabled()

    def __enter__(self) -> Task:
        if not self._on:
            return self
        self._start = time.perf_counter()
        stream = _stream()
        if _is_tty(stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                desc=self.what,
                unit=self.unit,
                file=stream,
                leave=True,
            )
            if self.note:
                self._bar.set_postfix_str(self.note, refresh=True)
        else:
            size = f"{self.total} {self.unit}s" if self.total else ""
            detail = "; ".join(x for x in (self.note, size) if x)
            self._print(f"{self.what}" + (f" ({detail})" if detail else "") + " ...")
        return self

    def stage(self, name: str) -> None:
        """Name the part of the step now running (and count the previous one as done)."""
        if not self._on:
            return
        self._staged = True
        if self._bar is not None:
            self._bar.set_postfix_str(name, refresh=True)
        else:
            self._print(f"{self.what}: {name}")

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units of work as done."""
        if not self._on:
            return
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif not self._staged and self.total and self._next_line <= self.done < self.total:
            self._print(f"{self.what}: {self.done}/{self.total} {self.unit}s")
            self._next_line = self.done + max(1, self.total // 10)

    def __exit__(self, kind, exc, tb) -> None:
        if not self._on:
            return
        seconds = time.perf_counter() - self._start
        if self._bar is not None:
            if exc is None and self.total is not None and self.done < self.total:
                self._bar.update(self.total - self.done)
            self._bar.close()
        elif exc is None:
            self._print(f"{self.what}: done in {seconds:.1f} s")

    def _print(self, line: str) -> None:
        stream = _stream()
        print(line, file=stream, flush=True)


def say(line: str) -> None:
    """One line about a step that runs elsewhere (another process), when reports are on."""
    if not enabled():
        return
    stream = _stream()
    if _is_tty(stream):
        from tqdm import tqdm

        tqdm.write(line, file=stream)
    else:
        print(line, file=stream, flush=True)


def task(what: str, total: int | None = None, unit: str = "step", note: str = "") -> Task:
    """A progress report for one slow step (see :class:`Task`); ``note`` is said once, when
    the step starts."""
    return Task(what, total, unit, note)


def silent() -> Task:
    """A report that says nothing, whatever the configuration (for a step inside another)."""
    quiet = Task("")
    quiet._on = False
    return quiet
