"""Walk networks beyond the bundle's Manhattan file: another OSM XML file, a named place, and
the clean error when a scenario's network is missing offline."""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO

from sim.cli.app import main
from sim.data.networks import NetworkSpec, load_named_network, network_available, spec_from_scenario
from sim.errors import DataError
from sim.geo import xy_to_lonlat
from sim.scenario.files import load_scenario

SCENARIOS = sorted((REPO / "scenarios").glob("*.toml"))
OSM = "osm/manhattan_walk_2019-10-26.osm.bz2"
# a few blocks around Washington Square Park (south, west, north, east; degrees)
CUT = (40.7285, -74.0025, 40.7340, -73.9945)
CUT_FILE = "osm/wsq_blocks.osm"


def cut_osm(source: Path, target: Path, box: tuple[float, float, float, float]) -> int:
    """Write the part of an OSM XML file inside ``box``: its nodes, and every way cut into the
    runs of consecutive nodes inside (each run of two or more nodes a way). Returns the ways."""
    south, west, north, east = box
    root = ET.parse(bz2.open(source)).getroot()
    inside = {
        n.get("id")
        for n in root.iter("node")
        if south <= float(n.get("lat")) <= north and west <= float(n.get("lon")) <= east
    }
    out = ET.Element("osm", version="0.6", generator="test cut")
    for node in root.iter("node"):
        if node.get("id") in inside:
            out.append(node)
    ways = 0
    for way in root.iter("way"):
        tags = way.findall("tag")
        runs, run = [], []
        for nd in way.findall("nd"):
            if nd.get("ref") in inside:
                run.append(nd.get("ref"))
            else:
                runs.append(run)
                run = []
        runs.append(run)
        for k, refs in enumerate(r for r in runs if len(r) >= 2):
            piece = ET.SubElement(out, "way", id=f"{way.get('id')}{k:02d}")
            for ref in refs:
                ET.SubElement(piece, "nd", ref=ref)
            for tag in tags:
                piece.append(tag)
            ways += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(out).write(target, encoding="utf-8", xml_declaration=True)
    return ways


def _store(folder: Path):
    """The cache in ``folder``, as a data source uses it."""
    from sim.data.cache import cached

    return lambda kind, key, build: cached(kind, key, build, folder)


def _bundle_with(tmp_path: Path, bundle: Path) -> Path:
    """A data directory linking every bundle file (cut files are added beside them)."""
    root = tmp_path / "data"
    for source in bundle.rglob("*"):
        if source.is_file():
            rel = source.relative_to(bundle)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).symlink_to(source)
    return root


@pytest.fixture(scope="module")
def cut_dir(tmp_path_factory, data_dir) -> Path:
    root = _bundle_with(tmp_path_factory.mktemp("cut"), data_dir)
    assert cut_osm(data_dir / OSM, root / CUT_FILE, CUT) > 20
    return root


@pytest.mark.realdata
def test_a_cut_osm_file_loads_as_its_own_small_network_matching_the_full_one(
    cut_dir, city, tmp_path, monkeypatch
):
    net, built_from = load_named_network(NetworkSpec(osm=CUT_FILE), cut_dir, _store(tmp_path))
    assert built_from is not None and built_from.path == cut_dir / CUT_FILE
    assert net.source_sha256 == built_from.sha256
    assert 50 < net.n_nodes < 2000 < city.network.n_nodes
    # every node lies in the cut box...
    lon, lat = xy_to_lonlat(net.node_x, net.node_y)
    assert ((lat >= CUT[0] - 1e-6) & (lat <= CUT[2] + 1e-6)).all()
    assert ((lon >= CUT[1] - 1e-6) & (lon <= CUT[3] + 1e-6)).all()
    # ...and sits where the full network has the same OSM node
    full = dict(zip(city.network.node_osmid.tolist(), range(city.network.n_nodes)))
    shared = [i for i, osmid in enumerate(net.node_osmid.tolist()) if osmid in full]
    assert len(shared) > 0.8 * net.n_nodes
    j = np.array([full[net.node_osmid[i]] for i in shared])
    assert np.allclose(net.node_x[shared], city.network.node_x[j], atol=1e-6)
    assert np.allclose(net.node_y[shared], city.network.node_y[j], atol=1e-6)
    # cached by checksum: a second load reads the cache, not the XML
    import sim.data.networks

    def no_build(*args):
        raise AssertionError("built again")

    monkeypatch.setattr(sim.data.networks, "build_from_osm_xml", no_build)
    again, _ = load_named_network(NetworkSpec(osm=CUT_FILE), cut_dir, _store(tmp_path))
    assert again.n_edges == net.n_edges


@pytest.mark.realdata
def test_a_scenario_and_a_route_run_on_the_cut_network(tmp_path, data_dir, monkeypatch, capsys):
    root = _bundle_with(tmp_path, data_dir)
    cut_osm(data_dir / OSM, root / CUT_FILE, CUT)
    monkeypatch.setenv("PROTEST_SIM_CACHE", str(tmp_path / "cache"))
    scenario = tmp_path / "wsq_cut.toml"
    scenario.write_text(
        f'name = "wsq_cut"\nreplications = 1\n[network]\nosm = "{CUT_FILE}"\n'
        '[site]\nid = "washington_sq_park"\n[origins]\nmax_distance_m = 600.0\n'
        "[crowd]\nprotesters = 60\n[outputs]\nfigures = false\n"
    )
    out = tmp_path / "out"
    assert main(["--data-dir", str(root), "--outputs", str(out), "-q", str(scenario)]) == 0
    (folder,) = (out / "wsq_cut").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {f["source"]: f for f in manifest["data_files"]}
    assert files["osm_walk"]["path"] == str(root / CUT_FILE)
    assert "network" in json.dumps(
        manifest["scenario_resolved"] if "scenario_resolved" in manifest else manifest
    )
    argv = ["--data-dir", str(root), "--outputs", str(out), "route"]
    argv += ["--from", "W 4 St-Wash Sq", "--to", "washington_sq_park", "--network", CUT_FILE]
    assert main(argv) == 0
    assert "results:" in capsys.readouterr().out


@pytest.mark.realdata
def test_a_network_file_that_is_not_osm_xml_is_a_one_line_error(tmp_path, data_dir, capsys):
    root = _bundle_with(tmp_path, data_dir)
    bad = root / "osm/brooklyn.osm"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    argv = ["--data-dir", str(root), "--outputs", str(tmp_path / "out"), "route"]
    argv += ["--from", "40.6828,-73.9755", "--to", "40.6847,-73.9774", "--network", str(bad)]
    code = main(argv)
    out, err = capsys.readouterr()
    # progress lines may come first (stderr is not a terminal); the error is one line
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and err.strip().endswith(errors[0]), err
    assert errors[0].startswith(f"error: {bad}: cannot read OpenStreetMap XML")
    assert "Traceback" not in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.realdata
def test_every_shipped_scenario_has_its_network_or_says_cleanly_what_is_missing(
    path, data_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PROTEST_SIM_OFFLINE", "1")
    spec = spec_from_scenario(load_scenario(path).network)
    if network_available(spec, data_dir, _store(tmp_path)):
        assert spec.is_default  # the bundle has only Manhattan's walk network
        return
    assert path.stem == "barclays_center"
    out = tmp_path / "out"
    code = main(["--data-dir", str(data_dir), "--outputs", str(out), str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"error: walk network {spec.osm} / place 'Brooklyn, New York, USA'")
    assert str(data_dir / spec.osm) in err[0] and "run once online" in err[0]
    assert not out.exists()


def test_an_online_place_is_downloaded_once_then_read_from_the_cache(tmp_path, monkeypatch):
    """The download path, with osmnx's Overpass call replaced by a tiny hand-made graph."""
    import networkx as nx
    import osmnx as ox

    calls = []

    def fake_place(place, network_type, retain_all):
        calls.append((place, network_type))
        g = nx.MultiDiGraph(crs="EPSG:4326")
        for i, (lat, lon) in enumerate([(40.6828, -73.9755), (40.6832, -73.9760)]):
            g.add_node(i, x=lon, y=lat)
        g.add_edge(0, 1, length=999.0, highway="footway")
        g.add_edge(1, 0, length=999.0, highway="footway")
        return g

    monkeypatch.setattr(ox, "graph_from_place", fake_place)
    spec = NetworkSpec(place="Brooklyn, New York, USA")
    net, built_from = load_named_network(spec, tmp_path, _store(tmp_path / "cache"), online=True)
    assert built_from is None and net.n_nodes == 2 and net.n_edges == 2
    assert net.edge_length_m[0] == pytest.approx(61.3, abs=0.5)  # projected, not the tag
    again, _ = load_named_network(spec, tmp_path, _store(tmp_path / "cache"), online=False)
    assert calls == [("Brooklyn, New York, USA", "walk")]
    assert again.n_edges == 2
    with pytest.raises(DataError, match="run once online to download 'Queens"):
        load_named_network(NetworkSpec(place="Queens, New York, USA"), tmp_path, None, False)


@pytest.mark.parametrize(
    ("bbox", "fragment"),
    [([1, 2, 3], "four numbers"), ([-73.9, 40.6, -74.0, 40.7], "west < east"), ("x", "list")],
)
def test_a_bad_network_bbox_names_the_key_and_what_is_allowed(bbox, fragment):
    from sim.errors import ScenarioError
    from sim.scenario.validation import parse_scenario

    raw = {"name": "x", "site": {"id": "barclays_center"}, "network": {"bbox": bbox}}
    with pytest.raises(ScenarioError, match="key 'network.bbox': bad value") as err:
        parse_scenario(raw, Path("x.toml"))
    assert fragment in str(err.value)


_BUILD = """
import sys
import osmnx as ox
from sim.data.osm import finish_graph
graph = ox.graph_from_xml(sys.argv[1], bidirectional=True, retain_all=False)
listed = [d["highway"] for _, _, d in graph.edges(data=True) if isinstance(d.get("highway"), list)]
print(len(listed), ",".join(str(h[0]) for h in listed))
print(",".join(finish_graph(graph, "cut").edge_highway))
"""


@pytest.mark.realdata
def test_the_same_osm_file_gives_the_same_street_classes_in_every_process(cut_dir):
    """osmnx lists a merged edge's classes in set order, which the hash seed changes."""
    runs = []
    for seed in ("1", "2", "3"):
        out = subprocess.run(
            [sys.executable, "-c", _BUILD, str(cut_dir / CUT_FILE)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        runs.append(out)
    listed = {run[0] for run in runs}
    assert all(int(run[0].split()[0]) > 0 for run in runs)  # the file has merged edges...
    assert len(listed) > 1  # ...whose listed order changed with the seed
    assert len({run[1] for run in runs}) == 1  # the classes built from them did not
