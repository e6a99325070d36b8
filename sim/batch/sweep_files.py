"""Writers of a sweep's folder and a sensitivity analysis's folder, and the ranking figure.

Both folders hold their tasks (``tasks/``, see :mod:`sim.batch.tasks`) beside the tables assembled
from them; each table is written through a temporary file and a rename.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.sweep import Execution, Variant, sweep_agents, task_table
from sim.batch.tasks import TaskStore
from sim.columns import BY_NAME
from sim.crowd.stats import summarise
from sim.outputs.folders import provenance, write_json, write_table


def write_sweep(
    store: TaskStore,
    variants: Sequence[Variant],
    execution: Execution,
    run_folders: Sequence[Path],
    data_files: list[dict[str, object]],
    kind: str,
) -> None:
    """A sweep's tables: ``tasks.csv`` (one row per task), ``summary.csv`` (one row per
    variant and figure), ``agents.parquet`` (every protester), each row carrying the values of
    the parameters that vary; and ``sweep.json``."""
    folder = store.folder
    write_table(folder / "tasks.csv", task_table(variants, store))
    agents = sweep_agents(variants, store)
    write_table(folder / "agents.parquet", agents)
    rows = []
    for v in variants:
        figures = summarise(agents[agents["variant"] == v.name].reset_index(drop=True), v.seed)
        for name, fig in figures.items():
            lo, hi = fig["ci95"] or (None, None)
            rows.append(
                {
                    "variant": v.name,
                    **v.params,
                    "figure": name,
                    "value": fig["value"],
                    "ci95_low": lo,
                    "ci95_high": hi,
                    "replications": fig["replications"],
                }
            )
    write_table(folder / "summary.csv", pd.DataFrame(rows))
    record = {
        "kind": kind,
        "variants": [
            {
                "name": v.name,
                "replications": v.replications,
                "seed": v.seed,
                "params": dict(v.params),
                "scenario_fingerprint": v.scenario.fingerprint if v.scenario else None,
                "run": str(f),
            }
            for v, f in zip(variants, run_folders)
        ],
        "parameters": sorted({k for v in variants for k in v.params}),
        "execution": _execution(execution),
        "executions": _history(folder / "sweep.json", execution),
        **provenance(data_files),
    }
    write_json(folder / "sweep.json", record)


def write_sensitivity(
    store: TaskStore,
    tasks: pd.DataFrame,
    table: pd.DataFrame,
    record: dict[str, Any],
    execution: Execution,
    data_files: list[dict[str, object]],
) -> None:
    """A sensitivity analysis's results: ``tasks.csv`` (one row per task: design point,
    replication, parameter values, every figure), ``indices.csv``, ``sensitivity.json`` and
    ``sensitivity_ranking.png``."""
    folder = store.folder
    write_table(folder / "tasks.csv", tasks)
    write_table(folder / "indices.csv", table)
    history = _history(folder / "sensitivity.json", execution)
    write_json(
        folder / "sensitivity.json",
        {
            **record,
            "execution": _execution(execution),
            "executions": history,
            **provenance(data_files),
        },
    )
    ranking_figure(table, folder / "sensitivity_ranking.png", record.get("title", ""))


def _history(path: Path, ex: Execution) -> list[dict[str, Any]]:
    """Every execution that worked on this folder (a resumed or repeated command adds one):
    the earlier ones from the record already there, then this one."""
    try:
        earlier = json.loads(path.read_text(encoding="utf-8")).get("executions", [])
    except (OSError, ValueError):
        earlier = []
    return [*earlier, {**_execution(ex), "command": " ".join(["run_sim.py", *sys.argv[1:]])}]


def _execution(ex: Execution) -> dict[str, Any]:
    return {
        "tasks": ex.total,
        "found_finished": ex.skipped,
        "ran": ex.ran,
        "wall_s": round(ex.wall_s, 3),
        "workers": ex.workers,
        "pool": ex.pool,
    }


def outcome_scale(outcome: str) -> tuple[float, str, str]:
    """How an outcome is shown: divisor, unit and label (seconds as minutes, shares as %)."""
    metric, _, stat = outcome.partition(".")
    column = BY_NAME.get(metric)
    if column is None:  # share_seen_at_all, share_whole_walk_surveilled, or any other name
        if outcome.startswith("share"):
            return 0.01, "%", outcome.replace("_", " ")
        return 1.0, "", outcome
    label = column.label or column.meaning
    scale, unit = (60.0, "min") if column.unit == "s" else (column.scale, column.show_unit)
    if column.unit == "s" and column.show_unit == "camera-min":
        unit = "camera-min"
    return scale, unit, f"{stat} {label}" if stat else label


def ranking_figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """One panel per outcome: parameters ranked by Morris mu* (or Sobol ST, with S1), bars
    with their 95% intervals, in the outcome's own unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.outputs.cartography import save

    outcomes = list(dict.fromkeys(table["outcome"]))
    morris = table["method"].iloc[0] == "morris"
    n_params = table["parameter"].nunique()
    fig, axes = plt.subplots(
        1, len(outcomes), figsize=(4.6 * len(outcomes), 0.45 * n_params + 1.6), squeeze=False
    )
    for ax, outcome in zip(axes[0], outcomes):
        rows = table[table["outcome"] == outcome].sort_values("rank", ascending=False)
        scale, unit, label = outcome_scale(outcome)
        y = np.arange(len(rows))
        name = "mu_star" if morris else "ST"
        value = rows[name].to_numpy(float) / (scale if morris else 1.0)
        lo = rows[f"{name}_ci95_low"].to_numpy(float) / (scale if morris else 1.0)
        hi = rows[f"{name}_ci95_high"].to_numpy(float) / (scale if morris else 1.0)
        err = np.vstack([np.clip(value - lo, 0, None), np.clip(hi - value, 0, None)])
        ax.barh(
            y,
            np.nan_to_num(value),
            xerr=np.nan_to_num(err),
            color="#4c72b0",
            capsize=3,
            label="mu* (95% interval)" if morris else "total order ST (95% interval)",
        )
        if morris:
            ax.plot(rows["sigma"].to_numpy(float) / scale, y, "o", color="#dd8452", label="sigma")
            ax.set_xlabel(f"effect over the parameter's range ({unit})" if unit else "effect")
        else:
            ax.plot(rows["S1"].to_numpy(float), y, "o", color="#dd8452", label="first order S1")
            ax.set_xlabel("share of the outcome's variance")
        ax.set_yticks(y, rows["parameter"])
        ax.set_title(label, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(left=0)
    axes[0][0].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)
