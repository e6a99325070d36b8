"""The walk network as arrays: a merged edge's class does not depend on the order osmnx gives."""

from __future__ import annotations

import networkx as nx

from sim.city.network import merged_highway, network_arrays, network_from_arrays, network_from_graph


def _graph(highway) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_node(1, x=0.0, y=0.0)
    graph.add_node(2, x=100.0, y=0.0)
    graph.add_edge(1, 2, highway=highway)
    return graph


def test_a_merged_edge_takes_its_most_major_class_in_any_listed_order():
    for order in (["footway", "residential", "service"], ["service", "footway", "residential"]):
        net = network_from_graph(_graph(order), "hand-made")
        assert net.edge_highway.tolist() == ["residential"]
        assert net.edge_length_m.tolist() == [100.0]


def test_a_link_follows_its_road_and_unknown_classes_come_last_alphabetically():
    assert merged_highway(["primary_link", "secondary"]) == "primary_link"
    assert merged_highway(["steps", "corridor"]) == "steps"
    assert merged_highway(["zebra", "corridor"]) == "corridor"
    assert merged_highway("footway") == "footway"


def test_an_edge_keeps_its_street_name_whatever_order_osmnx_lists_merged_names_in():
    for name, expected in (
        ("Broadway", "Broadway"),
        (["West 4th Street", "Washington Square South"], "Washington Square South"),
        (["Washington Square South", "West 4th Street"], "Washington Square South"),
        (None, ""),
    ):
        graph = _graph("residential")
        if name is not None:
            graph.edges[1, 2, 0]["name"] = name
        net = network_from_graph(graph, "hand-made")
        assert net.names().tolist() == [expected]
        back = network_from_arrays(network_arrays(net))
        assert back.names().tolist() == [expected]
