"""Street and route use of a replication, on plans small enough to count by hand."""

from __future__ import annotations

import numpy as np

from sim.crowd.model import Plan
from sim.crowd.usage import LEG_BACK, LEG_MARCH, LEG_TO_SITE, route_use


def _plan(out_route, back_route, origin, march_route=-1) -> Plan:
    n = len(out_route)
    zeros = np.zeros(n)
    routes = [np.array([0, 1]), np.array([2]), np.array([1, 0]), np.array([2, 3]), np.array([4])]
    return Plan(
        depart_s=zeros,
        speed_mps=np.ones(n),
        dwell_s=zeros,
        out_route=np.array(out_route),
        back_route=np.array(back_route),
        stand_seen=zeros,
        stand_public=zeros,
        stand_camera=zeros,
        stand_recognition=zeros,
        stand_identification=zeros,
        routes=routes,
        origin=np.array(origin),
        march_route=march_route,
    )


def test_route_use_counts_protesters_per_leg_route_and_origin():
    # two from exit 0 on route 0 (back by 2), three from exit 1 on route 1 (two back by 3)
    use = route_use(_plan([0, 0, 1, 1, 1], [2, 2, 3, 3, -1], [0, 0, 1, 1, 1]))
    got = sorted(zip(use.leg, use.edges, use.origin.tolist(), use.protesters.tolist()))
    assert got == sorted(
        [
            (LEG_TO_SITE, (0, 1), 0, 2),
            (LEG_TO_SITE, (2,), 1, 3),
            (LEG_BACK, (1, 0), 0, 2),
            (LEG_BACK, (2, 3), 1, 2),
        ]
    )


def test_a_route_shared_by_two_exits_is_counted_per_exit_and_the_march_by_everyone():
    use = route_use(_plan([1, 1, 1], [-1, -1, -1], [0, 2, 2], march_route=4))
    got = sorted(zip(use.leg, use.edges, use.origin.tolist(), use.protesters.tolist()))
    assert got == [
        (LEG_MARCH, (4,), -1, 3),
        (LEG_TO_SITE, (2,), 0, 1),
        (LEG_TO_SITE, (2,), 2, 2),
    ]
