"""Global sensitivity analysis: a SALib design over declared parameters, and its indices.

The design is drawn in the unit cube, one axis per parameter, then mapped to each parameter's
values: ``low + u (high - low)`` for bounds (rounded with ``integer``), the
``floor(u m)``-th of ``m`` discrete values (booleans, route choices...). Indices are computed
on the unit cube too, so a Morris elementary effect is the change of an outcome over the
parameter's whole range and the parameters' effects compare directly.

- ``morris``: Morris elementary effects (SALib ``sample.morris``, ``analyze.morris``) with
  ``samples`` trajectories on a ``levels``-level grid: ``samples x (parameters + 1)`` design
  points. ``mu_star`` (mean absolute effect) ranks the parameters; ``sigma`` shows
  interaction or non-linearity; ``mu_star_conf`` is SALib's bootstrap 95% half-width.
- ``sobol``: Sobol indices from Saltelli's scheme (SALib ``sample.sobol``, ``analyze.sobol``,
  first and total order): ``samples x (parameters + 2)`` design points, ``samples`` a power of
  two. ``S1`` is the share of the outcome's variance due to the parameter alone, ``ST`` with
  all its interactions; ``*_conf`` are SALib's bootstrap 95% half-widths.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.scenario.sections import Sensitivity, SensitivityParameter

# Bootstrap resamples for the indices' confidence intervals (SALib's default is 100).
RESAMPLES = 1000
CONF_LEVEL = 0.95


@dataclass(frozen=True)
class Design:
    """A sensitivity design: the method, the SALib problem, the unit-cube sample (one row per
    design point) and the parameter values it maps to."""

    method: str
    parameters: tuple[SensitivityParameter, ...]
    problem: dict[str, Any]
    unit: np.ndarray
    levels: int

    @property
    def points(self) -> int:
        return len(self.unit)

    def values(self) -> list[dict[str, Any]]:
        """Each design point's parameter values, by parameter key."""
        return [
            {p.key: parameter_value(p, float(u)) for p, u in zip(self.parameters, row)}
            for row in self.unit
        ]


def parameter_value(param: SensitivityParameter, u: float) -> Any:
    """The value at unit-cube coordinate ``u`` in [0, 1] of one parameter."""
    if param.bounds is None:
        m = len(param.values)
        return param.values[min(int(math.floor(u * m)), m - 1)]
    low, high = param.bounds
    value = low + u * (high - low)
    return int(round(value)) if param.integer else float(value)


# The largest design run: each point is a scenario validated and held before any task runs,
# then replications x protesters of simulation. The pace measured in docs/batch.md: 100 tasks
# of 1,000 protesters in 85 s on two local processes (coverage cached), so 10,000 points of
# that scenario are about 2.5 hours.
MAX_DESIGN_POINTS = 10_000
SECONDS_PER_1000_PROTESTER_TASK = 0.85


def estimated_seconds(points: int, replications: int, protesters: int) -> float:
    """A rough wall time of a design on two cores, at docs/batch.md's measured pace (a task
    of fewer than 1,000 protesters is taken as one of 1,000: its fixed costs dominate)."""
    return points * replications * SECONDS_PER_1000_PROTESTER_TASK * max(protesters, 1000) / 1000


def design_points(spec: Sensitivity) -> int:
    """How many design points ``spec`` draws: ``samples x (parameters + 1)`` for Morris,
    ``samples x (parameters + 2)`` for Sobol (first and total order)."""
    return spec.samples * (len(spec.parameters) + (1 if spec.method == "morris" else 2))


def check_design_size(spec: Sensitivity, where: str) -> int:
    """The design's number of points; a :class:`ScenarioError` above :data:`MAX_DESIGN_POINTS`
    (checked before anything is drawn, loaded or run)."""
    points = design_points(spec)
    if points > MAX_DESIGN_POINTS:
        extra = "1" if spec.method == "morris" else "2"
        raise ScenarioError(
            f"{where}: key 'sensitivity.samples': {spec.samples:,} x ({len(spec.parameters)} "
            f"parameters + {extra}) = {points:,} design points (allowed: at most "
            f"{MAX_DESIGN_POINTS:,}, about 2.5 hours on two cores at 1,000 protesters; "
            f"samples <= {MAX_DESIGN_POINTS // (len(spec.parameters) + int(extra)):,} here)"
        )
    return points


def design(spec: Sensitivity, seed: int, where: str = "[sensitivity]") -> Design:
    """The design of ``spec``'s method over its parameters, drawn from ``seed``."""
    from SALib.sample import morris, sobol

    check_design_size(spec, where)
    params = tuple(spec.parameters)
    problem = {
        "num_vars": len(params),
        "names": [p.label for p in params],
        "bounds": [[0.0, 1.0]] * len(params),
    }
    if spec.method == "morris":
        unit = morris.sample(problem, spec.samples, num_levels=spec.levels, seed=seed)
    else:
        with warnings.catch_warnings():  # SALib warns when N is not a power of two
            warnings.simplefilter("ignore", UserWarning)
            unit = sobol.sample(problem, spec.samples, calc_second_order=False, seed=seed)
    return Design(spec.method, params, problem, np.asarray(unit, float), spec.levels)


def indices(design: Design, outcomes: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Indices of every parameter for every outcome, with 95% intervals, ranked.

    ``outcomes`` has one row per design point, in design order, one column per outcome.
    Returns a tidy table: outcome, parameter, key, method, the method's indices and their
    interval bounds, and ``rank`` (1 = most influential: by ``mu_star`` or ``ST``).
    """
    from SALib.analyze import morris, sobol

    if len(outcomes) != design.points:
        raise ValueError(f"{len(outcomes)} outcome rows for {design.points} design points")
    rows = []
    for outcome in outcomes.columns:
        y = outcomes[outcome].to_numpy(float)
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if design.method == "morris":
                res = morris.analyze(
                    design.problem,
                    design.unit,
                    y,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    num_levels=design.levels,
                    seed=seed,
                )
            else:
                res = sobol.analyze(
                    design.problem,
                    y,
                    calc_second_order=False,
                    num_resamples=RESAMPLES,
                    conf_level=CONF_LEVEL,
                    seed=seed,
                )
        for i, p in enumerate(design.parameters):
            row: dict[str, Any] = {
                "outcome": outcome,
                "parameter": p.label,
                "key": p.key,
                "method": design.method,
            }
            if design.method == "morris":
                ms, conf = float(res["mu_star"][i]), float(res["mu_star_conf"][i])
                row.update(
                    mu=float(res["mu"][i]),
                    mu_star=ms,
                    mu_star_ci95_low=max(ms - conf, 0.0),  # mu* >= 0 by definition
                    mu_star_ci95_high=ms + conf,
                    sigma=float(res["sigma"][i]),
                )
            else:
                for name in ("S1", "ST"):
                    value, conf = float(res[name][i]), float(res[f"{name}_conf"][i])
                    row.update(
                        {
                            name: value,
                            f"{name}_ci95_low": value - conf,
                            f"{name}_ci95_high": value + conf,
                        }
                    )
            rows.append(row)
    table = pd.DataFrame(rows)
    score = "mu_star" if design.method == "morris" else "ST"
    table["rank"] = (
        table.groupby("outcome", sort=False)[score]
        .rank(ascending=False, method="first", na_option="bottom")
        .astype(int)
    )
    return table


def design_outcomes(
    design: Design, task_rows: pd.DataFrame, variants: Sequence[str], outcomes: Sequence[str]
) -> pd.DataFrame:
    """Each design point's outcomes: the mean over its replications of each task's figure.

    ``task_rows`` is a sweep's task table; ``variants`` names the design points in order.
    """
    means = task_rows.groupby("variant", sort=False)[list(outcomes)].mean()
    return means.loc[list(variants)].reset_index(drop=True)
