"""Domain errors; the CLI turns each into one line on stderr and exit code 2."""


class ProtestSimError(Exception):
    """Base class of every error the simulator reports to a user."""


class DataError(ProtestSimError):
    """A data file is missing, unreadable or malformed."""


class ScenarioError(ProtestSimError):
    """A scenario file has an unknown key, a wrong type or an out-of-range value."""


class InputError(ProtestSimError):
    """A command-line argument or an input file (route, path) is invalid."""


class RoutingError(ProtestSimError):
    """No walkable route exists between two places."""


class OutputError(ProtestSimError):
    """The outputs folder cannot take the results (not a folder, unwritable, full)."""


# A value quoted in an error message is cut to this many characters (a 1 MB string typed into a
# scenario key, or a long line of a file, never floods the terminal or a log).
QUOTE_LIMIT = 80


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with ``...`` and the
    full length when longer."""
    try:
        text = repr(value)
    except RecursionError:  # a value nested too deep to print
        return f"<a {type(value).__name__} nested too deep to show>"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text):,} characters)"
