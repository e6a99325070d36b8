"""Reading a text file a user hands us: one-line errors for every way it can fail to be text.

Data files (CSV, JSON) and path files are read whole through :func:`read_text`, which turns a
directory, an unreadable or vanished file, a binary file, a file in another encoding (Latin-1)
or an empty file into one error naming the file and what was expected, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import DataError, ProtestSimError

# A NUL byte in the first block means a binary file (no text format we read holds one).
SNIFF_BYTES = 8192


def read_text(
    path: Path, expected: str, error: type[ProtestSimError] = DataError, allow_empty: bool = False
) -> str:
    """The file's text (UTF-8, a byte-order mark allowed).

    Parameters
    ----------
    path : the file.
    expected : what the file should be, for messages (``"a CSV file"``).
    error : the domain error to raise (:class:`DataError` for data files, ``InputError`` for
        files named on the command line).
    allow_empty : accept a file with no text (else an empty file is an error).

    Raises
    ------
    error
        One line naming the file, the problem and ``expected``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not {expected}") from None
    except FileNotFoundError:
        raise error(f"{path}: no such file (it was removed while being read?)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {expected} ({exc.strerror or exc})") from None
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
