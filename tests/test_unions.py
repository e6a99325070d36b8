"""sim.unions against shapely.union_all: the same bytes, on the bundle's footprints and on
made-up polygons, and union_all itself wherever the cascade is not modelled."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import sim.unions
from sim.unions import cascade_order, union_all_exact

needs_checked_geos = pytest.mark.skipif(
    shapely.geos_version[:2] not in sim.unions.CHECKED_GEOS,
    reason=f"GEOS {shapely.geos_version} is not one whose cascade sim.unions replays",
)


def _blobs(n: int, seed: int) -> np.ndarray:
    """Overlapping, touching and lone polygons of many shapes (rotated boxes, discs, holes)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60 * np.sqrt(n), (n, 2))
    sizes = rng.uniform(5, 60, n)
    boxes = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + sizes, xy[:, 1] + sizes * 0.7)
    discs = shapely.buffer(shapely.points(xy + 20), sizes / 2, quad_segs=int(rng.integers(2, 9)))
    rings = shapely.difference(discs, shapely.buffer(shapely.points(xy + 20), sizes / 5))
    polys = np.where(rng.random(n) < 0.5, boxes, rings)
    return polys[shapely.get_type_id(polys) == shapely.GeometryType.POLYGON]


@needs_checked_geos
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_made_up_polygons_unite_to_union_alls_bytes(seed):
    polys = _blobs(6_000, seed)
    assert cascade_order(polys) is not None
    assert shapely.to_wkb(union_all_exact(polys, processes=2)) == shapely.to_wkb(
        shapely.union_all(polys)
    )


@needs_checked_geos
@pytest.mark.realdata
def test_the_bundles_footprints_unite_to_union_alls_bytes(data_dir):
    from sim.data.datasets import locate
    from sim.data.footprints import FOOTPRINT_SOURCES, read_footprints

    polys = read_footprints(locate(FOOTPRINT_SOURCES["doitt_2017"], data_dir).path)
    assert cascade_order(polys) is not None
    assert shapely.to_wkb(union_all_exact(polys, processes=2)) == shapely.to_wkb(
        shapely.union_all(polys)
    )


def test_what_the_cascade_does_not_model_goes_to_union_all(monkeypatch):
    polys = _blobs(3_000, 4)
    calls = []
    real = shapely.union_all

    def counted(geoms, *args, **kwargs):
        calls.append(len(geoms))
        return real(geoms, *args, **kwargs)

    monkeypatch.setattr(sim.unions.shapely, "union_all", counted)
    tied = np.concatenate([polys, polys[:1]])  # a repeated polygon: equal sort keys
    assert cascade_order(tied) is None
    union_all_exact(tied, processes=2)
    multi = np.concatenate([polys, [shapely.MultiPolygon(list(polys[:2]))]])
    assert cascade_order(multi) is None
    union_all_exact(multi, processes=2)
    union_all_exact(polys, processes=1)
    assert calls == [len(tied), len(multi), len(polys)]
