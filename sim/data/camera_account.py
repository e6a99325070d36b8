"""A scenario's camera sites, counted and deduplicated, then (in set-up) limited to those that
can see the study area, with an account of every step for the manifest and the printout."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.data.camera_counts import Intersections, count_sites, manhattan_reconciliation
from sim.data.cameras import SOURCE_PRIORITY
from sim.exposure.camera_model import CameraParams, level_ranges_for
from sim.exposure.cameras import CameraSites
from sim.exposure.merge import merge_layers, source_rank
from sim.exposure.scope import can_see_network, left_out_table


@dataclass
class CameraAccount:
    """What became of the layers' sites: counts given, merges, and sites out of reach."""

    read_sites: dict[str, int] = field(default_factory=dict)
    counts: list[dict[str, Any]] = field(default_factory=list)
    merge: dict[str, Any] = field(default_factory=dict)
    left_out: dict[str, Any] = field(default_factory=dict)
    in_use_sites: int = 0
    in_use_cameras: float = 0.0
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)
    reconciliation: dict[str, float] = field(default_factory=dict)
    # Amnesty intersection row -> the id of the site holding its count after merges
    carriers: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read_sites": self.read_sites,
            "counts": self.counts,
            "merge": self.merge,
            "in_use": {
                "sites": self.in_use_sites,
                "cameras": self.in_use_cameras,
                "by_source": self.by_source,
            },
            "cannot_see_study_area": self.left_out,
            "manhattan_reconciliation": self.reconciliation,
        }

    def lines(self) -> list[str]:
        """The printout: sites that can see the study area, merges, and the 4,266 check."""
        r = self.reconciliation
        out = [
            f"{self.in_use_sites} camera sites can see the study area ({self.in_use_cameras:,.0f} "
            f"cameras); {self.left_out.get('sites', 0)} other sites in the layers cannot "
            f"(listed in manifest.json); {self.merge.get('merged_sites', 0)} sites merged "
            "across layers (same place; counts added only where each carried its own "
            f"intersection's: {self.merge.get('merged_sites_counts_added', 0)})"
        ]
        if "amnesty_manhattan_total_file" in r:
            extra = ", ".join(
                f"{k[len('uncounted_') : -len('_cameras')]} {v:,.0f}"
                for k, v in r.items()
                if k.startswith("uncounted_")
            )
            out.append(
                f"cameras: {r['counted_manhattan_sites_cameras']:,.0f} from Amnesty's Manhattan "
                f"counts (of its {r['amnesty_manhattan_total_file']:,.0f}: "
                f"{r['amnesty_manhattan_carried_by_sites']:,.0f} counted at sites in use, "
                f"{r['amnesty_manhattan_carried_out_of_reach']:,.0f} at sites out of reach of "
                f"the study area, {r['amnesty_manhattan_not_carried']:,.0f} at no site), "
                f"{r['counted_other_borough_sites_cameras']:,.0f} from other boroughs' counts"
                + (f", uncounted sites at 1 each: {extra}" if extra else "")
            )
        return out


def assemble(
    layers: list[CameraSites],
    count_layers: list[bool],
    inter: Intersections | None,
) -> tuple[CameraSites, CameraAccount]:
    """Count and merge a scenario's camera layers. Every site is kept: set-up limits them to the
    study area with :func:`in_reach`, which also fills in the account's sites in use.

    ``count_layers[k]`` says whether layer k takes Amnesty's counts (``counts_from``); counts
    are given out in :data:`SOURCE_PRIORITY` order, each intersection once.
    """
    account = CameraAccount()
    for layer in layers:
        if len(layer):
            key = str(layer.source[0])
            account.read_sites[key] = account.read_sites.get(key, 0) + len(layer)
    taken = None
    order = sorted(
        range(len(layers)),
        key=lambda k: (
            source_rank(SOURCE_PRIORITY, str(layers[k].source[0]))
            if len(layers[k])
            else len(SOURCE_PRIORITY)
        ),
    )
    counted = list(layers)
    for k in order:
        if count_layers[k] and inter is not None:
            name = str(layers[k].source[0]) if len(layers[k]) else f"layer {k}"
            counted[k], taken, join = count_sites(layers[k], inter, name, taken)
            account.counts.append(join.as_dict())
    cameras, merge = merge_layers(counted, SOURCE_PRIORITY)
    account.merge = merge.as_dict()
    for layer in counted:
        for row, site in zip(layer.intersection.tolist(), layer.camera_id.tolist()):
            if row >= 0:
                account.carriers[row] = merge.into.get(str(site), str(site))
    return cameras, account


def in_reach(
    cameras: CameraSites,
    account: CameraAccount,
    inter: Intersections | None,
    edge_geom: np.ndarray,
    classes: dict[str, CameraParams],
) -> tuple[CameraSites, CameraAccount]:
    """The sites with a street of the network within their class's longest reach, and a copy
    of ``account`` that lists the others and counts, by source, the sites kept."""
    account = copy.deepcopy(account)
    if len(cameras):
        reach = level_ranges_for(classes, cameras.cls).max(axis=1)
        sees = can_see_network(edge_geom, np.c_[cameras.x, cameras.y], reach)
        account.left_out = left_out_table(cameras.subset(~sees), reach[~sees])
        cameras = cameras.subset(sees)
    _count_in_use(account, cameras, inter)
    return cameras, account


def _count_in_use(
    account: CameraAccount, cameras: CameraSites, inter: Intersections | None
) -> None:
    """Record ``cameras`` as the sites in use, by source, and their reconciliation."""
    account.in_use_sites = len(cameras)
    account.in_use_cameras = float(cameras.count.sum())
    account.by_source = {}
    for src in np.unique(cameras.source):
        pick = cameras.source == src
        account.by_source[str(src)] = {
            "sites": int(pick.sum()),
            "cameras": float(cameras.count[pick].sum()),
        }
    account.reconciliation = manhattan_reconciliation(cameras, inter, account.carriers)
