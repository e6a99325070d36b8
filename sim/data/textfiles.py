"""Reading a text file a user hands us: one-line errors for every way it can fail to be text.

Data files (CSV, JSON) and path files are read whole through :func:`read_text`, which turns a
directory, an unreadable or vanished file, a binary file, a file in another encoding (Latin-1)
or an empty file into one error naming the file and what was expected, never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.errors import DataError, ProtestSimError

# A NUL byte in the first block means a binary file (no text format we read holds one).
SNIFF_BYTES = 8192


def read_text(
    path: Path,
    expected: str,
    error: type[ProtestSimError] = DataError,
    allow_empty: bool = False,
    max_bytes: int | None = None,
) -> str:
    """The file's text (UTF-8, a byte-order mark allowed).

    Parameters
    ----------
    path : the file.
    expected : what the file should be, for messages (``"a CSV file"``).
    error : the domain error to raise (:class:`DataError` for data files, ``InputError`` for
        files named on the command line).
    allow_empty : accept a file with no text (else an empty file is an error).
    max_bytes : refuse a larger file before reading it (None: any size).

    Raises
    ------
    error
        One line naming the file, the problem and ``expected``.
    """
    path = Path(path)
    data = read_regular_file(path, expected, error, max_bytes)
    if b"\x00" in data[:SNIFF_BYTES]:
        offset = data.index(b"\x00")
        raise error(f"{path}: a binary file (NUL byte at offset {offset}), not {expected}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start}: {data[exc.start]:#04x}; saved as "
            f"Latin-1 or binary?); expected {expected} in UTF-8"
        ) from None
    if not allow_empty and not text.strip():
        raise error(f"{path}: empty file (expected {expected})")
    return text


def read_regular_file(
    path: Path, expected: str, error: type[ProtestSimError], max_bytes: int | None = None
) -> bytes:
    """The bytes of a regular file; a folder, a named pipe (FIFO), a device or a socket is
    refused without reading it (reading a FIFO or ``/dev/zero`` would wait or run forever), as
    is a file larger than ``max_bytes``."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; checked as regular below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not {expected}") from None
    except FileNotFoundError:
        raise error(f"{path}: no such file (it was removed while being read?)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {expected} ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a folder, not {expected}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: {_kind(info.st_mode)}, not a regular file (expected {expected})")
        if max_bytes is not None and info.st_size > max_bytes:
            raise error(
                f"{path}: {info.st_size:,} bytes; {expected} of at most {max_bytes:,} bytes "
                "is allowed"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {expected} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise error(f"{path}: more than {max_bytes:,} bytes; {expected} of at most that")
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
