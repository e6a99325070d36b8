"""The cache holds data only: entries round-trip exactly, and a corrupt, foreign or planted entry
is reported and rebuilt, never trusted and never run."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle

import numpy as np
import pytest
import shapely

from sim.city.network import network_arrays, network_from_arrays
from sim.data import cache
from sim.geo import pack_wkb, unpack_wkb

KEY = {"source": "abc", "parameter": 1}


def _build_counter():
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(5.0), "names": np.array(["a", "bb"])}

    return build, calls


def _entry(folder):
    (data,) = folder.glob("demo-*.npz")
    return data, data.with_suffix(".json")


def test_an_entry_is_built_once_then_read_back_equal(tmp_path):
    build, calls = _build_counter()
    first = cache.cached("demo", KEY, build, tmp_path)
    second = cache.cached("demo", KEY, build, tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["x"], second["x"])
    assert second["names"].tolist() == ["a", "bb"]


def test_another_key_is_another_entry(tmp_path):
    build, calls = _build_counter()
    cache.cached("demo", KEY, build, tmp_path)
    cache.cached("demo", {**KEY, "parameter": 2}, build, tmp_path)
    assert len(calls) == 2


def _emptied_and_resealed(data, meta):
    """The entry's arrays cut to length 0 and its checksum recomputed (a hand-made entry)."""
    with np.load(data) as npz:
        arrays = {k: npz[k][:0] for k in npz.files}
    with open(data, "wb") as handle:
        np.savez(handle, **arrays)
    record = json.loads(meta.read_text())
    record["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
    meta.write_text(json.dumps(record))


@pytest.mark.parametrize(
    "damage", ["truncate", "garbage", "sidecar", "foreign", "nested", "emptied-resealed"]
)
def test_a_damaged_entry_is_reported_in_one_line_and_rebuilt(tmp_path, caplog, damage):
    build, calls = _build_counter()
    cache.cached("demo", KEY, build, tmp_path)
    data, meta = _entry(tmp_path)
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[:40])
    elif damage == "garbage":
        data.write_bytes(b"\x00" * 100)
    elif damage == "sidecar":
        meta.write_text("{not json")
    elif damage == "nested":  # a sidecar nested 100,000 deep (json's RecursionError)
        meta.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "emptied-resealed":
        _emptied_and_resealed(data, meta)
    else:  # a sidecar naming other inputs
        record = json.loads(meta.read_text())
        record["key"]["source"] = "other"
        meta.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="sim.data.cache"):
        again = cache.cached("demo", KEY, build, tmp_path)
    assert len(calls) == 2
    np.testing.assert_array_equal(again["x"], np.arange(5.0))
    (message,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in message and "rebuilding" in message and str(data) in message


class _Plant:
    """A pickle payload that creates a marker file when unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_with_a_matching_checksum_is_never_run(tmp_path):
    marker = tmp_path / "PWNED"
    build, calls = _build_counter()
    cache.cached("demo", KEY, build, tmp_path)
    data, meta = _entry(tmp_path)
    # an attacker who can write the cache folder replaces the entry by an object array whose
    # pickle runs code, and fixes the sidecar's checksum to match
    payload = np.array([_Plant(marker)], dtype=object)
    with open(data, "wb") as handle:
        np.savez(handle, x=payload)
    record = json.loads(meta.read_text())
    record["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
    meta.write_text(json.dumps(record))
    # and drops old-style pickles beside it for good measure
    (tmp_path / "network_walk_v2_0123456789abcdef.pickle").write_bytes(pickle.dumps(_Plant(marker)))
    again = cache.cached("demo", KEY, build, tmp_path)
    assert not marker.exists()
    assert len(calls) == 2
    np.testing.assert_array_equal(again["x"], np.arange(5.0))


def test_arrays_holding_python_objects_are_refused_when_writing(tmp_path):
    with pytest.raises(TypeError, match="data only"):
        cache.cached("demo", KEY, lambda: {"x": np.array([{}], dtype=object)}, tmp_path)


def test_geometries_round_trip_through_wkb_exactly():
    geoms = np.array(
        [
            shapely.LineString([(0.1, 0.2), (3.3, 4.4), (5.0, 1e-9)]),
            shapely.Polygon([(0, 0), (1, 0), (1, 1)]),
            shapely.Polygon(),
        ],
        dtype=object,
    )
    packed = pack_wkb(geoms)
    back = unpack_wkb(packed["wkb"], packed["offsets"])
    assert all(shapely.equals_exact(a, b, 0.0) or a.is_empty for a, b in zip(geoms, back))


@pytest.mark.realdata
def test_the_real_network_round_trips_through_cache_arrays(city):
    net = city.network
    back = network_from_arrays(network_arrays(net))
    for name in ("node_osmid", "node_x", "node_y", "edge_u", "edge_v", "edge_length_m"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert back.edge_highway.tolist() == net.edge_highway.tolist()
    assert back.source_sha256 == net.source_sha256
    idx = np.arange(0, net.n_edges, 997)
    assert all(
        shapely.equals_exact(a, b, 0.0) for a, b in zip(back.edge_geom[idx], net.edge_geom[idx])
    )
    np.testing.assert_array_equal(shapely.length(back.edge_geom), net.edge_length_m)


def test_has_entry_tells_a_built_entry_from_a_missing_or_foreign_one(tmp_path):
    key = {"source": "abc"}
    assert not cache.has_entry("thing", key, tmp_path)
    cache.cached("thing", key, lambda: {"a": np.arange(3)}, tmp_path)
    assert cache.has_entry("thing", key, tmp_path)
    assert not cache.has_entry("thing", {"source": "abd"}, tmp_path)
    assert not cache.has_entry("other", key, tmp_path)
    (next(tmp_path.glob("thing-*.npz"))).unlink()  # a sidecar alone is no entry
    assert not cache.has_entry("thing", key, tmp_path)
