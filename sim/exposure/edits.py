"""Camera edits applied: remove cameras by class, source, id, place or rank; add cameras."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from sim.errors import ScenarioError
from sim.exposure.cameras import CameraSites, make_sites
from sim.geo import lonlat_to_xy


def removal_mask(
    cameras: CameraSites, edit: dict[str, Any], site_xy: tuple[float, float], where: str
) -> np.ndarray:
    """Cameras an edit removes: those matching every criterion it gives (top_k excepted)."""
    mask = np.ones(len(cameras), bool)
    if "classes" in edit:
        mask &= np.isin(cameras.cls, edit["classes"])
    if "sources" in edit:
        mask &= np.isin(cameras.source, edit["sources"])
    if "ids" in edit:
        known = set(cameras.camera_id.tolist())
        for cid in edit["ids"]:
            if cid not in known:
                raise ScenarioError(
                    f"{where}.ids: unknown camera id {cid!r} (ids are listed in "
                    "a run's cameras.csv)"
                )
        mask &= np.isin(cameras.camera_id, edit["ids"])
    if "within_m_of_site" in edit:
        dist = np.hypot(cameras.x - site_xy[0], cameras.y - site_xy[1])
        mask &= dist <= edit["within_m_of_site"]
    if "line" in edit:
        pts = np.array(edit["line"], float)
        lx, ly = lonlat_to_xy(pts[:, 1], pts[:, 0])
        line = shapely.LineString(np.c_[lx, ly])
        mask &= (
            shapely.distance(shapely.points(np.c_[cameras.x, cameras.y]), line)
            <= edit["within_m_of_line"]
        )
    return mask


def added_cameras(edit: dict[str, Any], index: int) -> CameraSites:
    """Hypothetical cameras an ``add`` edit places."""
    pts = np.array(edit["points"], float)
    sites = make_sites(
        pts[:, 0],
        pts[:, 1],
        np.full(len(pts), edit["class"], dtype=object),
        np.full(len(pts), float(edit.get("count", 1.0))),
        "scenario_edit",
        f"added{index}",
    )
    return dataclasses.replace(sites, count_source=np.full(len(pts), "edit", dtype=object))


def apply_edits(
    cameras: CameraSites,
    edits: list[dict[str, Any]],
    site_xy: tuple[float, float],
    path: Path | str,
    rank_removal=None,
) -> tuple[CameraSites, list[dict[str, Any]]]:
    """Apply edits in order; returns the edited cameras and a log of what each edit did.

    ``rank_removal(cameras, candidates, k)`` returns the indices (into ``cameras``) of the k
    candidates contributing most, for ``top_k`` edits (ranked on the cameras as they stand
    when that edit is reached).
    """
    log = []
    for i, edit in enumerate(edits):
        where = f"{path}: cameras.edits[{i}]"
        if edit.get("action", "remove") == "add":
            new = added_cameras(edit, i)
            cameras = CameraSites.concat([cameras, new])
            log.append({"edit": i, "action": "add", "cameras": len(new)})
            continue
        mask = removal_mask(cameras, edit, site_xy, where)
        if "top_k" in edit:
            if rank_removal is None:
                raise ScenarioError(f"{where}.top_k: ranking is not available here")
            candidates = np.flatnonzero(mask)
            top = rank_removal(cameras, candidates, edit["top_k"])
            mask = np.zeros(len(cameras), bool)
            mask[top] = True
        log.append(
            {
                "edit": i,
                "action": "remove",
                "cameras": int(mask.sum()),
                "camera_count": float(cameras.count[mask].sum()),
            }
        )
        cameras = cameras.subset(~mask)
    return cameras, log
