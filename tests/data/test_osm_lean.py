"""The lean build of the walk network (sim.data.osm_lean) against osmnx's: the same arrays, byte
for byte, on the bundle's Manhattan file, on cuts of it and on hand-made files that exercise
every rule (components, rings, merged classes, repeated ids); files it does not model go to
osmnx, which says what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_networks import OSM, cut_osm

import sim.data.osm
from sim.city.network import network_arrays
from sim.data.osm import build_from_osm_xml, build_with_osmnx
from sim.data.osm_lean import NotLean, build_lean
from sim.errors import DataError


def assert_same_arrays(path: Path) -> int:
    lean = network_arrays(build_lean(path, "sha"))
    osmnx = network_arrays(build_with_osmnx(path, "sha"))
    assert lean.keys() == osmnx.keys()
    for name, expected in osmnx.items():
        got = lean[name]
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        assert got.tobytes() == expected.tobytes(), name
    return len(osmnx["edge_u"])


@pytest.mark.realdata
def test_the_bundles_manhattan_network_is_osmnxs_byte_for_byte(data_dir):
    assert assert_same_arrays(data_dir / OSM) > 50_000


# south, west, north, east: blocks around Washington Square, Midtown, the Battery (water and
# piers: several components), Inwood (parks and paths)
CUTS = [
    (40.7285, -74.0025, 40.7340, -73.9945),
    (40.7480, -73.9950, 40.7600, -73.9780),
    (40.6990, -74.0200, 40.7080, -74.0050),
    (40.8600, -73.9350, 40.8750, -73.9100),
]


@pytest.mark.realdata
@pytest.mark.parametrize("box", CUTS, ids=["wsq", "midtown", "battery", "inwood"])
def test_cuts_of_the_bundle_are_osmnxs_byte_for_byte(data_dir, tmp_path, box):
    path = tmp_path / "cut.osm"
    assert cut_osm(data_dir / OSM, path, box) > 20
    assert assert_same_arrays(path) > 20


def _xml(nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], str | None]]):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    for osmid, (lat, lon) in nodes.items():
        lines.append(f' <node id="{osmid}" lat="{lat}" lon="{lon}"><tag k="highway" v="x"/></node>')
    for osmid, refs, highway in ways:
        lines.append(f' <way id="{osmid}">')
        lines += [f'  <nd ref="{r}"/>' for r in refs]
        if highway is not None:
            lines.append(f'  <tag k="highway" v="{highway}"/>')
        lines.append('  <tag k="name" v="A &amp; B"/>')
        lines.append(" </way>")
    lines.append("</osm>")
    return "\n".join(lines)


def _grid(n: int = 6, lat0: float = 40.73, lon0: float = -73.99, step: float = 0.0007):
    return {
        1000 + 10 * i + j: (round(lat0 + i * step + 0.00003 * j * j, 7), round(lon0 + j * step, 7))
        for i in range(n)
        for j in range(n)
    }


def test_hand_made_files_with_every_rule_are_osmnxs_byte_for_byte(tmp_path):
    nodes = _grid()
    classes = ["residential", "footway", None, "primary", "service", "steps"]
    ways = []
    for i in range(6):  # rows and columns, classes changing mid-block (merged edges)
        row = [1000 + 10 * i + j for j in range(6)]
        ways.append((100 + i, row[:4], classes[i]))
        ways.append((200 + i, row[3:], classes[(i + 1) % 6]))
        ways.append((300 + i, [1000 + 10 * j + i for j in range(6)], classes[(i + 2) % 6]))
    ways.append((400, [1000, 1011, 1022, 1022, 1033], "path"))  # a repeated node
    ways.append((401, [1000, 1011], "cycleway"))  # parallel to 400's first edge
    ways.append((402, [1044, 1045, 1055, 1054, 1044], "footway"))  # a loop on the grid
    ways.append((300, [1000 + 10 * j for j in range(6)], "tertiary"))  # a repeated way id
    ring = {9000 + k: (40.74 + 0.0005 * (k % 2), -73.98 + 0.0005 * (k // 2)) for k in range(4)}
    ways.append((500, [9000, 9001, 9003, 9002, 9000], "footway"))  # an isolated ring
    island = {9100: (40.75, -73.97), 9101: (40.7505, -73.9705), 9102: (40.751, -73.971)}
    ways.append((501, [9100, 9101, 9102], "residential"))  # a second, smaller component
    path = tmp_path / "hand.osm"
    path.write_text(_xml({**nodes, **ring, **island}, ways))
    assert assert_same_arrays(path) > 50


def test_a_way_naming_a_missing_node_goes_to_osmnx_and_its_error(tmp_path):
    path = tmp_path / "broken.osm"
    path.write_text(_xml(_grid(2), [(1, [1000, 1001, 4242], "residential")]))
    with pytest.raises(NotLean):
        build_lean(path, "sha")
    with pytest.raises(DataError, match="cannot read OpenStreetMap XML"):
        build_from_osm_xml(path, "sha")


def test_the_lean_build_is_the_one_used(tmp_path, monkeypatch):
    path = tmp_path / "hand.osm"
    nodes = {k: v for k, v in _grid(3).items() if k in (1000, 1001, 1002, 1012)}
    path.write_text(_xml(nodes, [(1, [1000, 1001, 1002, 1012], "residential")]))

    def no_osmnx(*args):
        raise AssertionError("osmnx was used")

    monkeypatch.setattr(sim.data.osm, "build_with_osmnx", no_osmnx)
    network = build_from_osm_xml(path, "sha")
    assert network.n_edges == 2 and np.all(network.edge_length_m > 0)
