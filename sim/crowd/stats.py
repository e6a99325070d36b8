"""Statistics of exposure: per-replication figures, pooled summaries, bootstrap intervals."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from sim.columns import STATISTICS, summarised_names

# Exposure metrics summarised per run (columns of agents.csv).
METRICS = summarised_names()
BOOTSTRAP_DRAWS = 2000
# A walk counts as wholly surveilled when at least this share of it is in view (float slack).
WHOLE_WALK_SHARE = 1.0 - 1e-9


def _stat(values: np.ndarray, name: str) -> float:
    if len(values) == 0:
        return float("nan")
    if name == "mean":
        return float(np.mean(values))
    if name == "median":
        return float(np.median(values))
    if name == "p10":
        return float(np.percentile(values, 10))
    if name == "p90":
        return float(np.percentile(values, 90))
    return float(np.max(values))


def crowd_figures(agents: pd.DataFrame) -> dict[str, float]:
    """Every statistic of every metric, plus the shares seen at all and wholly surveilled."""
    out = {}
    for metric in METRICS:
        values = agents[metric].to_numpy(float)
        values = values[np.isfinite(values)]
        for stat in STATISTICS:
            out[f"{metric}.{stat}"] = _stat(values, stat)
    out["share_seen_at_all"] = float((agents["seen_total_s"] > 0).mean()) if len(agents) else 0.0
    walked = agents["walk_m"] > 0
    out["share_whole_walk_surveilled"] = (
        float((agents.loc[walked, "share_surveilled"] >= WHOLE_WALK_SHARE).mean())
        if walked.any()
        else 0.0
    )
    # of the protesters who stood at the site, the share no camera saw there
    stood = agents["dwell_s"] > 0
    out["share_never_seen_standing"] = (
        float((agents.loc[stood, "seen_dwell_s"] <= 0).mean()) if stood.any() else float("nan")
    )
    return out


def replication_figures(agents: pd.DataFrame) -> pd.DataFrame:
    """One row per replication, one column per figure of :func:`crowd_figures`."""
    rows = {rep: crowd_figures(group) for rep, group in agents.groupby("replication", sort=True)}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def bootstrap_interval(
    values: np.ndarray, rng: np.random.Generator, draws: int = BOOTSTRAP_DRAWS
) -> tuple[float, float] | None:
    """Percentile 95% interval of the mean of ``values`` resampled with replacement.

    None with fewer than two values: one replication says nothing about the spread.
    """
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return None
    idx = rng.integers(0, len(values), size=(draws, len(values)))
    means = values[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% at the default z) of a share of k in n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def figure_rng(seed: int, purpose: int, figure: str) -> np.random.Generator:
    """The bootstrap generator of one figure: from the seed, a purpose tag and the name."""
    return np.random.default_rng([seed, purpose, zlib.crc32(figure.encode())])


# The range across replications the summary gives beside each interval: with camera worlds
# each replication is a world, so this is the spread of a figure over the camera unknowns
# (and the crowd's own randomness).
WORLD_PERCENTILES = (5.0, 95.0)


def world_range(values: np.ndarray) -> tuple[float, float] | None:
    """The 5th and 95th percentiles (linear interpolation) of a figure across replications;
    None with no finite value."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    lo, hi = np.percentile(values, WORLD_PERCENTILES)
    return float(lo), float(hi)


def summarise(agents: pd.DataFrame, seed: int) -> dict[str, dict[str, object]]:
    """Every figure with a bootstrap 95% interval across replications and its range across
    them.

    ``value`` is the mean over replications of the figure computed within each replication,
    and ``ci95`` the percentile bootstrap interval of that mean (replications are the
    independent units), so the value always lies in its interval; ``pooled`` is the figure
    over all protesters of all replications together; ``world_p05`` and ``world_p95`` are the
    5th and 95th percentiles of the figure across replications (with camera worlds, across
    worlds: the range the camera unknowns give, which the interval of the mean does not). The
    bootstrap generator is seeded from the scenario seed and the figure's name, so that an
    interval does not depend on which other figures are summarised or in what order.
    """
    pooled = crowd_figures(agents)
    per_rep = replication_figures(agents)
    out = {}
    for name, value in pooled.items():
        interval = bootstrap_interval(per_rep[name].to_numpy(), figure_rng(seed, 0xB007, name))
        spread = world_range(per_rep[name].to_numpy())
        out[name] = {
            "value": float(per_rep[name].mean()),
            "pooled": value,
            "ci95": list(interval) if interval else None,
            "world_p05": spread[0] if spread else None,
            "world_p95": spread[1] if spread else None,
            "replications": len(per_rep),
        }
    return out


def paired_difference(
    base: pd.DataFrame, other: pd.DataFrame, seed: int
) -> dict[str, dict[str, object]]:
    """Per figure: other minus base, from replications matched by index, with a 95% interval.

    Replication k of both runs share a seed, so the differences are paired; the interval is the
    percentile bootstrap of their mean. A scenario compared with itself gives exactly zero.
    """
    a, b = replication_figures(base), replication_figures(other)
    common = a.index.intersection(b.index)
    out = {}
    for name in a.columns:
        diff = (b.loc[common, name] - a.loc[common, name]).to_numpy(float)
        interval = bootstrap_interval(diff, figure_rng(seed, 0xD1FF, name))
        out[name] = {
            "difference": float(np.mean(diff)) if len(diff) else float("nan"),
            "ci95": list(interval) if interval else None,
            "replications": len(common),
        }
    return out


def comparison(
    runs: list[tuple[str, pd.DataFrame]], seed: int
) -> tuple[dict[str, object], pd.DataFrame]:
    """Every run's figures and their paired differences from the first run.

    Returns the nested record (for ``comparison.json``) and a tidy table with one row per run
    and figure: value, 95% interval, difference from the first and its 95% interval.
    """
    base = runs[0][1]
    record: dict[str, object] = {"scenarios": []}
    rows = []
    for name, agents in runs:
        figures = summarise(agents, seed)
        diff = paired_difference(base, agents, seed)
        record["scenarios"].append({"name": name, "figures": figures, "difference_from_base": diff})
        for figure, fig in figures.items():
            lo, hi = fig["ci95"] or (None, None)
            dlo, dhi = diff[figure]["ci95"] or (None, None)
            rows.append(
                {
                    "scenario": name,
                    "figure": figure,
                    "value": fig["value"],
                    "ci95_low": lo,
                    "ci95_high": hi,
                    "difference": diff[figure]["difference"],
                    "difference_ci95_low": dlo,
                    "difference_ci95_high": dhi,
                }
            )
    return record, pd.DataFrame(rows)
