"""Deduplication across camera layers: a place seen by two sources is one camera site."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from sim.exposure.cameras import CameraSites

log = logging.getLogger(__name__)

# Two sites of different layers this close (metres) are the same place. Ban the Scan sites sit
# within a few metres of the Amnesty intersection they come from (median 1 m, 90th percentile
# 5 m) and DOT / LinkNYC coordinates are geocoded to the kerb or corner, so 15 m joins a pole
# and the camera on it without reaching across a street (Manhattan side streets are 18 m
# building to building, sim/exposure/visibility.py). On the bundle, 243 of 958 DOT cameras and 63 of
# 2,235 LinkNYC kiosks (all boroughs) lie within 15 m of a Ban the Scan public site.
MERGE_DISTANCE_M = 15.0


@dataclass
class MergeReport:
    """How many sites each layer lost to a winner of an earlier layer, and examples."""

    priority: tuple[str, ...] = ()
    distance_m: float = MERGE_DISTANCE_M
    merged: dict[str, int] = field(default_factory=dict)  # "loser -> winner": sites
    examples: dict[str, list[str]] = field(default_factory=dict)
    added: int = 0  # merges of two sites carrying different intersections' counts (summed)
    into: dict[str, str] = field(default_factory=dict)  # merged site id -> the id it joined

    @property
    def total(self) -> int:
        return sum(self.merged.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": (
                f"sites of different layers within {self.distance_m:g} m are one site; the "
                f"earlier source in {list(self.priority)} keeps its id, class and place; the "
                "count is the sum of the two where they carry the counts of different Amnesty "
                "intersections, else the larger of the two"
            ),
            "merged_sites": self.total,
            "merged_sites_counts_added": self.added,
            "merged": dict(self.merged),
            "examples": {k: v[:3] for k, v in self.examples.items()},
        }


def source_rank(priority: tuple[str, ...], source: str) -> int:
    """Where ``source`` stands in ``priority`` (a source it does not name comes last)."""
    return priority.index(source) if source in priority else len(priority)


def merge_layers(
    layers: list[CameraSites], priority: tuple[str, ...], distance_m: float = MERGE_DISTANCE_M
) -> tuple[CameraSites, MergeReport]:
    """Combine layers, merging each site into the nearest kept site of another layer within
    ``distance_m``.

    Layers are taken in ``priority`` order of their first site's source (the camera sources'
    registry gives it: ``sim.data.cameras.SOURCE_PRIORITY``; ties in the given order); sites
    of one layer are never merged with each other. Where the two carry the counts of different
    Amnesty intersections (``intersection``), both counts belong to the place and are added;
    otherwise a merged site's count becomes ``max(winner, loser)`` at the winner, and a winner
    that carried no count takes the loser's count source and intersection when the loser's
    count is larger.
    """
    report = MergeReport(priority, distance_m)
    order = sorted(
        range(len(layers)),
        key=lambda k: source_rank(priority, str(layers[k].source[0])) if len(layers[k]) else 0,
    )
    kept: CameraSites | None = None
    for k in order:
        layer = layers[k]
        if len(layer) == 0:
            continue
        if kept is None or len(kept) == 0:
            kept = layer if kept is None else CameraSites.concat([kept, layer])
            continue
        dist, idx = cKDTree(np.c_[kept.x, kept.y]).query(
            np.c_[layer.x, layer.y], distance_upper_bound=distance_m
        )
        hit = np.isfinite(dist)
        count = kept.count.copy()
        source = kept.count_source.copy()
        carried = kept.intersection.copy()
        for i in np.flatnonzero(hit).tolist():
            w = int(idx[i])
            own, other = int(carried[w]), int(layer.intersection[i])
            if own >= 0 and other >= 0 and own != other:
                count[w] += layer.count[i]
                report.added += 1
            elif layer.count[i] > count[w]:
                count[w] = layer.count[i]
                source[w] = layer.count_source[i]
                if own < 0:
                    carried[w] = other
            report.into[str(layer.camera_id[i])] = str(kept.camera_id[w])
            key = f"{layer.source[i]} -> {kept.source[w]}"
            report.merged[key] = report.merged.get(key, 0) + 1
            report.examples.setdefault(key, []).append(
                f"{layer.camera_id[i]} into {kept.camera_id[w]} ({dist[i]:.1f} m)"
            )
        kept = dataclasses.replace(kept, count=count, count_source=source, intersection=carried)
        kept = CameraSites.concat([kept, layer.subset(~hit)])
    if kept is None:
        kept = layers[0] if layers else CameraSites.concat([])
    for key, n in report.merged.items():
        log.info("camera layers: %d site(s) merged %s within %.0f m", n, key, distance_m)
    return kept, report
