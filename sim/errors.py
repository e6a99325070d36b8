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
