"""A validated scenario: every section typed and filled in, its resolved values, its fingerprint."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario.sections import (
    SECTIONS,
    TOP_LEVEL,
    Arrival,
    Cameras,
    Crowd,
    Dwell,
    March,
    Network,
    Origins,
    Outputs,
    Routing,
    Sensitivity,
    SiteEntry,
    SiteSpec,
    Sweep,
    Uncertainty,
    Walking,
)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: every section typed, every key with its default filled in.

    ``raw`` is the TOML table after ``base =`` merging and any overrides, from which the
    scenario was validated; ``text`` is the file's own text followed by its bases' texts and a
    line per override, as the manifest records it.
    """

    path: Path
    text: str
    raw: dict[str, Any] = field(hash=False, compare=False, repr=False)
    name: str
    description: str
    seed: int
    replications: int
    engine: str
    site: SiteSpec
    origins: Origins
    crowd: Crowd
    arrival: Arrival
    walking: Walking
    dwell: Dwell
    march: March
    routing: Routing
    cameras: Cameras
    network: Network
    uncertainty: Uncertainty
    sweep: Sweep
    sensitivity: Sensitivity
    outputs: Outputs
    sites: tuple[SiteEntry, ...] = ()  # [[sites]]: several sites at once (empty: one [site])

    def resolved(self) -> dict[str, Any]:
        """Every key and value after defaults (for the manifest)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in TOP_LEVEL}
        for name in SECTIONS:
            section = getattr(self, name)
            values = {f.name: getattr(section, f.name) for f in dataclasses.fields(section)}
            out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        out["cameras"]["layers"] = [dataclasses.asdict(layer) for layer in self.cameras.layers]
        out["cameras"]["classes"] = {
            k: dataclasses.asdict(v) for k, v in self.cameras.classes.items()
        }
        out["cameras"]["edits"] = [dict(e) for e in self.cameras.edits]
        if self.sites:  # only then, so that a one-site scenario's fingerprint stays as it was
            out["sites"] = [dataclasses.asdict(e) for e in self.sites]
        if self.sensitivity.parameters:  # only then: other fingerprints stay as they were
            out["sensitivity"]["parameters"] = [
                dataclasses.asdict(p) for p in self.sensitivity.parameters
            ]
        else:
            out.pop("sensitivity")
        if self.uncertainty.count_multiplier == 1.0:  # likewise
            out["uncertainty"].pop("count_multiplier")
        return out

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the resolved values: equal exactly when two scenarios run the same."""
        text = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()
