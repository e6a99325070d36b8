"""protest-exposure: how much of a protester's walk happens in view of cameras.

The package is laid out in layers, lowest first (``LAYERS`` below): ``base`` (this package's
own modules: errors, coordinates, output columns, atomic files, progress), then the
subpackages ``city``, ``exposure``, ``data``, ``scenario``, ``crowd``, ``outputs``, ``batch``,
``report`` and ``cli``. A module imports only from its own layer and the layers below it;
``tests/test_architecture.py`` enforces this, and ``docs/architecture.md`` maps every module.
"""

from pathlib import Path

__version__ = "0.1.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (or install) root: ``outputs/``, ``scenarios/`` and ``data/`` beside ``sim/``."""

LAYERS = (
    "base",
    "city",
    "exposure",
    "data",
    "scenario",
    "crowd",
    "outputs",
    "batch",
    "report",
    "cli",
)
"""The layers, lowest first: a module imports only from its own layer and the layers before it.
``base`` is the package's own modules (``sim/*.py``); every other layer is the subpackage of that
name. ``tests/test_architecture.py`` enforces the rule on every import, lazy ones included."""
