"""Judging and printing results: targets met or missed, the two ratios, scaling, and the table."""

from __future__ import annotations

import math
from typing import Any

from citywide import citywide_targets
from cold_start import cold_start_targets

# Targets of the benchmark issue ("how fast we are against the naive way and against the limit").
DEFAULT_SCENARIO_MAX_S = 15.0
BIG_PROTESTERS = 100_000
BIG_MAX_S = 60.0
BIG_MAX_RSS_MB = 2048.0
NAIVE_MIN_RATIO = 100.0
LOWER_BOUND_MAX_RATIO = 5.0
ENGINE_MIN_RATIO = 15.0  # reference (simpy) / kernel, crowding on (issue 13)
# Agreement required before a ratio is printed at all.
NAIVE_MAX_DISAGREEMENT = 0.01  # 1 %: the naive model samples exposure once per 1 s tick
LOWER_BOUND_MAX_MISMATCH = 1e-9  # relative: the same sums in another order
# Growth exponent (log-log slope of time against protesters) still called linear.
LINEAR_MAX_SLOPE = 1.15


def _si(x: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _by_role(rows: list[dict], role: str) -> list[dict]:
    return [r for r in rows if r.get("role") == role]


def throughput(row: dict) -> str:
    """Protesters and events (edge traversals, or camera queries for the naive model) per second."""
    parts = []
    if row.get("protesters"):
        parts.append(f"{_si(row['protesters'] / row['median_s'])} prot/s")
    if row.get("events"):
        parts.append(f"{_si(row['events'] / row['median_s'])} ev/s")
    return ", ".join(parts)


# Exposure targets (issues 3 and 5): role -> (seconds, what)
EXPOSURE_TARGETS = {
    "coverage_radius_cold": (10.0, "radius coverage of all layers, cold"),
    "coverage_sightline_cold": (120.0, "sightline coverage of all layers, cold"),
    "route_score": (1.0, "any route, warm (per route)"),
    "rank_cameras": (30.0, "rank-cameras within 2 km, warm"),
    "route_path_1m": (30.0, "route --path of 1,000,000 points, read to written"),
    "world_coverage": (2.0, "a camera world of the default cameras, sightline, warm"),
}


def assess(rows: list[dict]) -> dict[str, Any]:
    """Targets, ratios and scaling of a run's rows (what the table prints and the JSON holds)."""
    targets: list[dict[str, Any]] = []
    defaults = _by_role(rows, "default_all") or _by_role(rows, "default")
    for r in defaults:
        note = "" if r["role"] == "default_all" else "one replication (all five: full mode)"
        targets.append(
            {
                "case": r["name"],
                "target": f"< {DEFAULT_SCENARIO_MAX_S:g} s",
                "value": f"{r['median_s']:.2f} s",
                "status": _mark(r["median_s"] < DEFAULT_SCENARIO_MAX_S),
                "note": note,
            }
        )
    scaling = _scaling(rows)
    # extrapolate smaller crowds with the measured growth exponent, never less than linear
    time_exp = max(1.0, scaling["time_slope"] or 1.0)
    mem_exp = max(1.0, scaling["memory_slope"] or 1.0)
    for r in _by_role(rows, "big"):
        scale = BIG_PROTESTERS / r["protesters"]
        time_s = r["median_s"] * scale**time_exp
        rss_mb = r["base_rss_mb"] + (r["peak_rss_mb"] - r["base_rss_mb"]) * scale**mem_exp
        note = (
            ""
            if scale == 1
            else (
                f"extrapolated from {r['protesters']:,} to "
                f"{BIG_PROTESTERS:,} with growth exponents time "
                f"{time_exp:.2f}, memory {mem_exp:.2f}"
            )
        )
        targets.append(
            {
                "case": r["name"],
                "target": f"< {BIG_MAX_S:g} s at 100k",
                "value": f"{time_s:.1f} s",
                "status": _mark(time_s < BIG_MAX_S),
                "note": note,
            }
        )
        targets.append(
            {
                "case": r["name"],
                "target": f"< {BIG_MAX_RSS_MB / 1024:g} GB at 100k",
                "value": f"{rss_mb:,.0f} MB",
                "status": _mark(rss_mb < BIG_MAX_RSS_MB),
                "note": note,
            }
        )
    for role, (limit, what) in EXPOSURE_TARGETS.items():
        for r in _by_role(rows, role):
            value = r.get("per_route_s", r["median_s"])
            targets.append(
                {
                    "case": r["name"],
                    "target": f"< {limit:g} s ({what})",
                    "value": f"{value:.3g} s",
                    "status": _mark(value < limit),
                    "note": "",
                }
            )
    ratios = {
        "naive": _naive_ratio(rows),
        "lower_bound": _lower_bound_ratio(rows),
        "lower_bound_reference": _lower_bound_ratio(rows, "lower_bound_reference"),
        **_engine_ratios(rows),
    }
    checks = [
        ("naive", f">= {NAIVE_MIN_RATIO:g}x"),
        ("lower_bound", f"<= {LOWER_BOUND_MAX_RATIO:g}x"),
    ]
    checks += [(k, f">= {ENGINE_MIN_RATIO:g}x") for k in ratios if k.startswith("reference_")]
    for key, target in checks:
        ratio = ratios[key]
        if ratio is not None:
            targets.append(
                {
                    "case": ratio["label"],
                    "target": target,
                    "value": ratio["text"],
                    "status": ratio["status"],
                    "note": ratio.get("note", ""),
                }
            )
    targets += citywide_targets(rows)
    targets += cold_start_targets(rows)
    return {"targets": targets, "ratios": ratios, "scaling": scaling}


def _naive_ratio(rows: list[dict]) -> dict[str, Any] | None:
    naive, model = _by_role(rows, "naive"), _by_role(rows, "naive_model")
    if not naive or not model:
        return None
    naive, model = naive[0], model[0]
    label = "naive / model, per protester"
    gap = naive["disagreement"]
    per_naive = naive["median_s"] / naive["protesters"]
    per_model = model["median_s"] / model["protesters"]
    out = {
        "label": label,
        "disagreement": gap,
        "naive_s_per_protester": per_naive,
        "model_s_per_protester": per_model,
    }
    if gap > NAIVE_MAX_DISAGREEMENT:
        return {
            **out,
            "ratio": None,
            "status": "refused",
            "text": f"refused: naive and model disagree by {gap:.2%}",
        }
    ratio = per_naive / per_model
    return {
        **out,
        "ratio": ratio,
        "status": _mark(ratio >= NAIVE_MIN_RATIO),
        "text": f"{ratio:,.0f}x",
        "note": f"totals agree within {gap:.3%}",
    }


def _engine_ratios(rows: list[dict]) -> dict[str, dict[str, Any]]:
    """Reference engine / kernel, crowding on, per size: ``reference_crowding_<k>k``."""
    out = {}
    kernels = {r["protesters"]: r for r in _by_role(rows, "engine_kernel")}
    for ref in _by_role(rows, "engine_reference"):
        n = ref["protesters"]
        ker = kernels.get(n)
        if ker is None:
            continue
        label = f"reference engine / kernel, {n:,} protesters, crowding on"
        base = {
            "label": label,
            "protesters": n,
            "reference_s": ref["median_s"],
            "kernel_s": ker["median_s"],
            "identical": ker["identical"],
        }
        if not ker["identical"]:
            base.update(ratio=None, status="refused", text="refused: outcomes differ")
        else:
            ratio = ref["median_s"] / ker["median_s"]
            base.update(
                ratio=ratio,
                status=_mark(ratio >= ENGINE_MIN_RATIO),
                text=f"{ratio:,.1f}x",
                note="outcomes bit-identical",
            )
        out[f"reference_crowding_{n // 1000}k"] = base
    return out


def _lower_bound_ratio(rows: list[dict], role: str = "lower_bound_model") -> dict[str, Any] | None:
    bound, model = _by_role(rows, "lower_bound"), _by_role(rows, role)
    if not bound or not model:
        return None
    bound, model = bound[0], model[0]
    label = ("kernel" if role == "lower_bound_model" else "reference") + " / lower bound"
    gap = bound["mismatch"]
    out = {"label": label, "mismatch": gap, "plan_matches_runner": bound["plan_matches_runner"]}
    if not gap <= LOWER_BOUND_MAX_MISMATCH:
        return {
            **out,
            "ratio": None,
            "status": "refused",
            "text": f"refused: lower bound and model disagree by {gap:.3g} (relative)",
        }
    ratio = model["median_s"] / bound["median_s"]
    return {
        **out,
        "ratio": ratio,
        "status": _mark(ratio <= LOWER_BOUND_MAX_RATIO),
        "text": f"{ratio:,.0f}x",
        "note": f"per-protester max relative gap {gap:.1e}",
    }


def _scaling(rows: list[dict]) -> dict[str, Any]:
    points = sorted(
        (r for r in rows if r.get("role") in ("scaling", "big", "default") and r.get("crowding")),
        key=lambda r: r["protesters"],
    )
    table = [
        {
            "protesters": r["protesters"],
            "median_s": r["median_s"],
            "us_per_protester": r["median_s"] / r["protesters"] * 1e6,
            "peak_rss_mb": r["peak_rss_mb"],
            "kb_per_protester": (r["peak_rss_mb"] - r["base_rss_mb"]) * 1024 / r["protesters"],
        }
        for r in points
    ]
    out: dict[str, Any] = {"points": table, "time_slope": None, "memory_slope": None}
    if len(points) >= 2:
        lo, hi = points[0], points[-1]
        span = math.log(hi["protesters"] / lo["protesters"])
        out["time_slope"] = math.log(hi["median_s"] / lo["median_s"]) / span
        grow_lo = max(lo["peak_rss_mb"] - lo["base_rss_mb"], 1e-3)
        grow_hi = max(hi["peak_rss_mb"] - hi["base_rss_mb"], 1e-3)
        out["memory_slope"] = math.log(grow_hi / grow_lo) / span
        out["linear"] = out["time_slope"] <= LINEAR_MAX_SLOPE
    return out


def render(rows: list[dict], assessment: dict[str, Any], header: str) -> str:
    """The printed report: one line per case, then ratios, scaling and targets."""
    name_w = max(len(r["name"]) for r in rows)
    lines = [
        header,
        "",
        f"{'case':<{name_w}}  {'median s (min-max)':>26}  {'peak RSS MB':>11}  throughput",
        "-" * (name_w + 60),
    ]
    group = None
    for r in rows:
        if group is not None and r["group"] != group:
            lines.append("")
        group = r["group"]
        times = f"{r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f}) x{len(r['times_s'])}"
        lines.append(
            f"{r['name']:<{name_w}}  {times:>26}  {r['peak_rss_mb']:>11,.0f}  {throughput(r)}"
        )
    ratios = assessment["ratios"]
    lines += ["", "Ratios"]
    naive = ratios["naive"]
    if naive:
        lines.append(
            f"  naive / model per protester: {naive['text']}  (naive "
            f"{naive['naive_s_per_protester'] * 1e3:.1f} ms, model "
            f"{naive['model_s_per_protester'] * 1e6:.0f} us per protester; totals "
            f"differ by {naive['disagreement']:.3%}; target >= {NAIVE_MIN_RATIO:g}x: "
            f"{naive['status']})"
        )
    for key, r in ratios.items():
        if key.startswith("reference_") and r:
            lines.append(
                f"  {r['label']}: {r['text']}  (reference {r['reference_s']:.2f} s, "
                f"kernel {r['kernel_s']:.3f} s; target >= {ENGINE_MIN_RATIO:g}x: "
                f"{r['status']})"
            )
    ref_bound = ratios["lower_bound_reference"]
    if ref_bound:
        lines.append(f"  reference / lower bound: {ref_bound['text']}")
    bound = ratios["lower_bound"]
    if bound:
        lines.append(
            f"  kernel / lower bound: {bound['text']}  (max relative gap "
            f"{bound['mismatch']:.1e}; target <= {LOWER_BOUND_MAX_RATIO:g}x: "
            f"{bound['status']}; plan drawn as the runner draws it: "
            f"{'yes' if bound['plan_matches_runner'] else 'NO'})"
        )
    scaling = assessment["scaling"]
    if scaling["points"]:
        lines += [
            "",
            "Scaling (1 replication, crowding on)",
            f"  {'protesters':>10}  {'median s':>9}  {'us/protester':>12}  "
            f"{'peak RSS MB':>11}  {'kB/protester':>12}",
        ]
        for p in scaling["points"]:
            lines.append(
                f"  {p['protesters']:>10,}  {p['median_s']:>9.3f}  "
                f"{p['us_per_protester']:>12.1f}  {p['peak_rss_mb']:>11,.0f}  "
                f"{p['kb_per_protester']:>12.2f}"
            )
        if scaling["time_slope"] is not None:
            verdict = "linear or better" if scaling["linear"] else "SUPERLINEAR"
            lines.append(
                f"  growth exponent: time {scaling['time_slope']:.2f}, memory above "
                f"baseline {scaling['memory_slope']:.2f} ({verdict})"
            )
    lines += ["", "Targets"]
    for t in assessment["targets"]:
        note = f"  [{t['note']}]" if t["note"] else ""
        lines.append(f"  {t['status']:<8} {t['case']}: {t['value']} (target {t['target']}){note}")
    return "\n".join(lines)
