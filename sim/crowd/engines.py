"""The two movement engines and the choice between them (scenario key ``engine``).

``kernel`` (the default) is :mod:`sim.crowd.kernel`, the compiled event loop; ``reference`` is the
per-protester simpy model of :mod:`sim.crowd.model`. Both give bit-identical outcomes (proved by
tests/crowd/test_kernel.py); the reference shows the model's rules in plain Python.
"""

from __future__ import annotations

from sim.crowd.model import Outcome, Plan, Streets
from sim.scenario.sections import ENGINES


def simulate(engine: str, plan: Plan, streets: Streets, crowding: bool) -> Outcome:
    """One replication with ``engine``; the kernel keeps no traversal log (``Outcome.flows``)."""
    if engine == "reference":
        from sim.crowd.model import simulate as reference

        return reference(plan, streets, crowding)
    if engine == "kernel":
        from sim.crowd.kernel import simulate as kernel

        return kernel(plan, streets, crowding, log=False)
    raise ValueError(f"unknown engine {engine!r} (allowed: {', '.join(ENGINES)})")


def with_engine(scenario, engine: str | None):
    """``scenario`` run by ``engine`` (None: as the scenario says); results do not change."""
    from sim.scenario.variants import override

    if engine is None or engine == scenario.engine:
        return scenario
    return override(scenario, {"engine": engine})
