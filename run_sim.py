#!/usr/bin/env python
"""Entry point: ``python run_sim.py [SCENARIO.toml]``; see ``python run_sim.py --help``."""

import sys

from sim.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
