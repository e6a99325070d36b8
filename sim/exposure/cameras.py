"""Camera sites as one array table: a place with a count of cameras of one class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import DataError
from sim.geo import lonlat_to_xy


@dataclass(frozen=True)
class CameraSites:
    """Camera sites as arrays: one row per site (a place with ``count`` cameras of one class)."""

    camera_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    x: np.ndarray
    y: np.ndarray
    cls: np.ndarray
    count: np.ndarray
    source: np.ndarray
    # where each count comes from: "amnesty" (a volunteers' count of Decode Surveillance NYC,
    # subject to the undercount correction), "site" (a site listed with no count: 1 camera),
    # "edit" (a scenario's hypothetical camera). None: "site" for every row.
    count_source: np.ndarray | None = None
    # the row of Amnesty's intersections whose count a site carries (-1: none). None: -1 for
    # every row.
    intersection: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.count_source is None:
            object.__setattr__(
                self, "count_source", np.full(len(self.camera_id), "site", dtype=object)
            )
        if self.intersection is None:
            object.__setattr__(self, "intersection", np.full(len(self.camera_id), -1, np.int64))

    def __len__(self) -> int:
        return len(self.camera_id)

    def subset(self, mask: np.ndarray) -> CameraSites:
        """The sites where ``mask`` is true (or at the given indices)."""
        return CameraSites(**{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})

    def with_counts(self, count: np.ndarray) -> CameraSites:
        """The same sites with other camera counts."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        fields["count"] = np.asarray(count, float)
        return CameraSites(**fields)

    @staticmethod
    def concat(parts: list[CameraSites]) -> CameraSites:
        """All sites of ``parts``, in order; camera ids must stay unique."""
        if not parts:
            return empty_sites()
        merged = CameraSites(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in CameraSites.__dataclass_fields__
            }
        )
        ids, counts = np.unique(merged.camera_id.astype(str), return_counts=True)
        if (counts > 1).any():
            raise DataError(f"camera id {ids[counts > 1][0]!r} appears in two layers")
        return merged


def empty_sites() -> CameraSites:
    """A table with no camera site."""
    f, o = np.zeros(0, float), np.zeros(0, dtype=object)
    return CameraSites(o, f, f, f, f, o, f, o)


def make_sites(
    lat: np.ndarray, lon: np.ndarray, cls: np.ndarray, count: np.ndarray, source: str, prefix: str
) -> CameraSites:
    """Build a table, projecting to metres and giving each site a stable coordinate id."""
    x, y = lonlat_to_xy(lon, lat)
    ids = np.array([f"{prefix}:{a:.6f},{b:.6f}" for a, b in zip(lat, lon)], dtype=object)
    ids = _deduplicate(ids)
    n = len(ids)
    return CameraSites(
        camera_id=ids,
        lat=np.asarray(lat, float),
        lon=np.asarray(lon, float),
        x=x,
        y=y,
        cls=np.asarray(cls, dtype=object),
        count=np.asarray(count, float),
        source=np.full(n, source, dtype=object),
    )


def _deduplicate(ids: np.ndarray) -> np.ndarray:
    """Suffix repeated ids with #2, #3, ... in order of appearance."""
    seen: dict[str, int] = {}
    out = ids.copy()
    for i, cid in enumerate(ids):
        seen[cid] = seen.get(cid, 0) + 1
        if seen[cid] > 1:
            out[i] = f"{cid}#{seen[cid]}"
    return out
