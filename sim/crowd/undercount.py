"""Amnesty's undercount: camera counts divided by a share drawn from its quality review."""

from __future__ import annotations

import numpy as np

from sim.crowd.setup import Setup
from sim.exposure.cameras import CameraSites
from sim.exposure.coverage import Coverage
from sim.exposure.pieces import edge_exposure

# Amnesty's quality review (Decode Surveillance NYC methodology, 2022): the volunteers' count as a
# share of the expert count, 95% interval, by attachment. With [uncertainty] undercount = true a
# replication draws the share uniformly from the interval and divides its classes' counts by it.
UNDERCOUNT_SOURCE = (
    "Amnesty International's quality review, Decode Surveillance NYC methodology (2022)"
)
UNDERCOUNT_SHARE = {
    "public_street": (0.23, 1.0),
    "nypd_dome": (0.23, 1.0),
    "private_building": (0.24, 0.46),
    "unknown": (0.24, 0.46),
}


def undercount_counts(cameras: CameraSites, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Each site's count divided by its class's share drawn from Amnesty's interval, and the
    shares drawn."""
    shares = {cls: float(rng.uniform(*UNDERCOUNT_SHARE[cls])) for cls in sorted(UNDERCOUNT_SHARE)}
    # only volunteers' counts are corrected: a listed site's 1 and a DOT camera are not counts
    factor = np.array(
        [
            1.0 / shares.get(c, 1.0) if src == "amnesty" else 1.0
            for c, src in zip(cameras.cls, cameras.count_source)
        ]
    )
    return cameras.count * factor, shares


def undercount_coverage(setup: Setup, rng: np.random.Generator) -> tuple[Coverage, dict]:
    """Coverage with each class's counts divided by a share drawn from Amnesty's interval."""
    return with_counts(setup, *undercount_counts(setup.coverage.cameras, rng))


def with_counts(setup: Setup, count: np.ndarray, shares: dict) -> tuple[Coverage, dict]:
    """The set-up's coverage with other camera counts (and the shares that gave them)."""
    cov = setup.coverage
    n_edges = len(setup.streets.length_m)  # the network's edges and the virtual ones
    edges = edge_exposure(cov.pieces, n_edges, count, cov.public)
    return Coverage(
        cov.cameras.with_counts(count),
        cov.level_range_m,
        cov.public,
        cov.pieces,
        edges,
        cov.first_seen_m,
        cov.visibility,
        cov.areas,
    ), shares
