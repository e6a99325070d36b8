"""The options a batch takes from the command line: data and outputs folders, where tasks run.

The command line builds one :class:`RunOptions` from its arguments (``sim.cli.app``) and hands
it down; nothing below the command line reads ``argparse`` arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    """Where a command reads and writes, and where its tasks run.

    - ``data_dir``: ``--data-dir``; None: the search order of
      :func:`sim.data.datasets.find_data_dir`.
    - ``outputs``: ``--outputs``; None: ``outputs/`` in the checkout (:attr:`outputs_root`).
    - ``workers``: ``--workers``; None: one per processor, fewer when memory is short.
    - ``scheduler``: ``--scheduler``, a Dask scheduler's address or ``"local"``; None:
      ``$PROTEST_SIM_SCHEDULER``, else local processes.

    Results do not depend on ``workers`` or ``scheduler``.
    """

    data_dir: Path | None = None
    outputs: Path | None = None
    workers: int | None = None
    scheduler: str | None = None

    @property
    def outputs_root(self) -> Path:
        """The outputs folder: the one given, else ``outputs/`` in the checkout."""
        from sim.outputs.folders import DEFAULT_OUTPUTS  # pandas: only when a folder is wanted

        return self.outputs or DEFAULT_OUTPUTS
