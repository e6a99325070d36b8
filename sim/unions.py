"""The union of many polygons exactly as ``shapely.union_all`` makes it, byte for byte, with
the two halves of its cascade built in two processes.

GEOS unions polygons in a cascade (``CascadedPolygonUnion``): it orders them as the leaves of
a sort-tile-recursive tree of node capacity 10 (sorted by envelope centre x, cut into
``ceil(sqrt(ceil(n / 10)))`` vertical slices, each sorted by centre y), then unions the list
as a balanced binary tree, each pair by ``OverlayNGRobust`` (what ``shapely.union`` with
``grid_size=0`` calls; without it, GEOS may combine two disjoint polygons instead). The
vertices an overlay computes depend on what it is given, so any other grouping gives the
same area with other coordinates in the last bits; this module replays the same cascade,
its first split in a forked process, and asks GEOS itself for every run of up to 10 polygons
inside one slice (which it orders and unions exactly so). Where that is not known to hold (a
GEOS version not checked, other geometry types, equal sort keys, no ``fork``), it calls
``shapely.union_all``. ``tests/test_unions.py`` holds it to ``union_all`` byte for byte.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import shapely

from sim.forks import can_fork, forked, in_daemon, processors

log = logging.getLogger(__name__)

# GEOS versions (major, minor) whose cascade this module replays, checked byte for byte.
CHECKED_GEOS = ((3, 14),)
_CAPACITY = 10  # CascadedPolygonUnion's tree node capacity
_MIN_SPLIT = 2_000  # below this many polygons one process is faster than two


def cascade_order(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The order in which GEOS's cascade takes ``polys`` and each one's slice, or None where
    this module does not model it (not all non-empty polygons, or equal sort keys)."""
    polys = np.asarray(polys, dtype=object)
    n = len(polys)
    if n == 0 or not np.all(shapely.get_type_id(polys) == shapely.GeometryType.POLYGON):
        return None
    if shapely.is_empty(polys).any():
        return None
    bounds = shapely.bounds(polys)
    x = bounds[:, 0] + bounds[:, 2]  # TemplateSTRtree's EnvelopeTraits::getX, getY
    y = bounds[:, 1] + bounds[:, 3]
    if len(np.unique(x)) < n or len(np.unique(y)) < n:
        return None  # std::sort is not stable: equal keys could go either way
    slices = math.ceil(math.sqrt(math.ceil(n / _CAPACITY)))
    per_slice = math.ceil(n / slices)
    by_x = np.argsort(x, kind="stable")
    order = np.concatenate(
        [
            part[np.argsort(y[part], kind="stable")]
            for part in (by_x[s : s + per_slice] for s in range(0, n, per_slice))
        ]
    )
    return order, np.arange(n) // per_slice


def _cascade(items: np.ndarray, slice_of: np.ndarray, start: int, end: int):
    """CascadedPolygonUnion::binaryUnion of ``items[start:end]``."""
    count = end - start
    if count == 1:
        return items[start]
    if count <= _CAPACITY and slice_of[start] == slice_of[end - 1]:
        return shapely.union_all(items[start:end])  # GEOS orders these as they stand
    if count == 2:
        return shapely.union(items[start], items[start + 1], grid_size=0)
    mid = (start + end) // 2
    return shapely.union(
        _cascade(items, slice_of, start, mid), _cascade(items, slice_of, mid, end), grid_size=0
    )


def union_all_exact(polys: np.ndarray, processes: int | None = None) -> shapely.Geometry:
    """``shapely.union_all(polys)``, the same bytes, its cascade's halves in two processes
    when there are two processors (``processes``: default, those this process may use)."""
    polys = np.asarray(polys, dtype=object)
    processes = processors() if processes is None else processes
    if (
        processes < 2
        or len(polys) < _MIN_SPLIT
        or shapely.geos_version[:2] not in CHECKED_GEOS
        or not can_fork()
        or in_daemon()
    ):
        return shapely.union_all(polys)
    found = cascade_order(polys)
    if found is None:
        return shapely.union_all(polys)
    order, slice_of = found
    items = polys[order]
    n = len(items)
    mid = n // 2
    child = forked(lambda: np.array([_cascade(items, slice_of, 0, mid)], dtype=object))
    second = _cascade(items, slice_of, mid, n)
    ok, first = child.result()
    if ok:
        first = first[0]
    else:
        log.warning("the union's first half failed in its process; building it here")
        first = _cascade(items, slice_of, 0, mid)
    return shapely.union(first, second, grid_size=0)
