"""Validation: a scenario's TOML table checked key by key, then across keys, into a Scenario.

Every problem is a one-line :class:`~sim.errors.ScenarioError` that names the file, the
key, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.city.area import BOROUGHS
from sim.errors import ScenarioError, quoted
from sim.exposure.camera_model import CAMERA_CLASSES, resolve_classes
from sim.scenario.checks import num
from sim.scenario.edits import validate_edits
from sim.scenario.scenario import Scenario
from sim.scenario.sections import (
    DEFAULT_LAYERS,
    KNOWN_SOURCES,
    LAYER_KEYS,
    MAX_GIVEN_WEIGHT,
    PARAMETER_KEYS,
    SECTIONS,
    SITE_ENTRY_KEYS,
    TOP_LEVEL,
    Arrival,
    CameraLayer,
    Crowd,
    SensitivityParameter,
    SiteEntry,
)


def parse_scenario(raw: dict[str, Any], path: Path, text: str = "", where: str = "") -> Scenario:
    """Validate a parsed TOML table into a :class:`Scenario`."""
    if where:
        try:
            return parse_scenario(raw, path, text)
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} ({where})") from None
    raw = dict(raw)
    raw.pop("base", None)
    for k, value in raw.items():
        if k == "sites":
            continue
        if k not in TOP_LEVEL and k not in SECTIONS:
            allowed = ", ".join(["base", *TOP_LEVEL, *SECTIONS, "sites"])
            raise ScenarioError(f"{path}: unknown key {quoted(k)} (allowed: {allowed})")
        if k in SECTIONS and not isinstance(value, dict):
            raise ScenarioError(f"{path}: key {quoted(k)} must be a table [{k}]")
    top = _checked(path, "", TOP_LEVEL, {k: v for k, v in raw.items() if k in TOP_LEVEL})
    if top["name"] is None:
        raise ScenarioError(f"{path}: missing key 'name' (a name for the scenario's outputs)")
    if not top["name"].replace("_", "").replace("-", "").isalnum():
        raise ScenarioError(
            f"{path}: key 'name': bad value {quoted(top['name'])} "
            "(allowed: letters, digits, _ and -)"
        )
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        spec = {
            f.name: (None, f.metadata["check"]) for f in dataclasses.fields(cls)
        }  # defaults come from the dataclass
        values = _checked(path, name, spec, raw.get(name, {}), defaults=False)
        if name == "cameras":
            values["layers"] = _layers(path, values.get("layers"))
            values["classes"] = resolve_classes(
                values.get("classes", {}), f"{path}: cameras.classes"
            )
            edits = values.get("edits", [])
            validate_edits(edits, path)
            values["edits"] = tuple(edits)
        if name == "sensitivity":
            _sensitivity(path, values)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        sections[name] = cls(**values)
    sites: tuple[SiteEntry, ...] = ()
    if "sites" in raw:
        sites = _sites(path, raw, sections)
        sections["crowd"] = Crowd(protesters=sum(e.protesters for e in sites))
    _check_across(path, sections, several=bool(sites))
    return Scenario(path=path, text=text, raw=raw, **top, **sections, sites=sites)


def _checked(
    path: Path,
    section: str,
    spec: Mapping[str, tuple[Any, Any]],
    given: Mapping[str, Any],
    defaults: bool = True,
) -> dict[str, Any]:
    out = {}
    for k, value in given.items():
        full = f"{section}.{k}" if section else k
        if k not in spec:
            raise ScenarioError(
                f"{path}: unknown key {quoted(full)} (allowed in [{section or 'top level'}]: "
                f"{', '.join(spec)})"
            )
        check = spec[k][1]
        problem = check(value) if check else None
        if problem:
            raise ScenarioError(
                f"{path}: key {quoted(full)}: bad value {quoted(value)} (allowed: {problem})"
            )
        if isinstance(value, float) and value == 0.0:
            value = 0.0  # -0.0 is zero: a standard deviation of -0.0 is none, not negative
        out[k] = value
    if defaults:
        for k, (default, _) in spec.items():
            out.setdefault(k, default)
    return out


def _check_across(path: Path, s: Mapping[str, Any], several: bool = False) -> None:
    """Checks that involve more than one key (``several``: [[sites]] name the sites)."""
    site = s["site"]
    if not several and not site.id and (site.lat is None or site.lon is None):
        raise ScenarioError(f"{path}: [site] needs 'id' (a protest site) or both 'lat' and 'lon'")
    if site.id and (site.lat is not None or site.lon is not None):
        raise ScenarioError(
            f"{path}: [site] gives both 'id' ({quoted(site.id)}) and coordinates "
            "(allowed: 'id' of a protest site, or 'lat' and 'lon' with an optional 'name', "
            "not both)"
        )
    walking = s["walking"]
    if walking.speed_min_mps >= walking.speed_max_mps:
        raise ScenarioError(
            f"{path}: key 'walking.speed_min_mps': bad value {quoted(walking.speed_min_mps)} "
            f"(allowed: below walking.speed_max_mps = {walking.speed_max_mps})"
        )
    origins = s["origins"]
    if origins.mode == "stations" and not origins.stations:
        raise ScenarioError(f"{path}: key 'origins.stations': empty (mode 'stations' needs names)")
    if origins.mode == "entrances" and not origins.entrances:
        raise ScenarioError(f"{path}: key 'origins.entrances': empty (mode 'entrances' needs ids)")
    for station, weight in origins.given_weights.items():
        if num(0, MAX_GIVEN_WEIGHT)(weight):
            raise ScenarioError(
                f"{path}: key 'origins.given_weights.{station}': bad value "
                f"{quoted(weight)} (allowed: a number >= 0 and <= {MAX_GIVEN_WEIGHT:g})"
            )
    if not walking.speed_min_mps <= walking.speed_mean_mps <= walking.speed_max_mps:
        raise ScenarioError(
            f"{path}: key 'walking.speed_mean_mps': bad value {quoted(walking.speed_mean_mps)} "
            f"(allowed: within walking.speed_min_mps = {walking.speed_min_mps} and "
            f"walking.speed_max_mps = {walking.speed_max_mps}; speeds are drawn between them)"
        )


# What one set-up per site cannot share: camera edits are made around a site, the march
# and the undercount draw per set-up; one crowd across sites would need them per site.
NOT_WITH_SITES = {
    "site.id": lambda s: s["site"].id,
    "site.lat": lambda s: s["site"].lat is not None,
    "site.lon": lambda s: s["site"].lon is not None,
    "crowd.protesters": None,
    "march.to_site": lambda s: s["march"].to_site,
    "cameras.edits": lambda s: s["cameras"].edits,
    "uncertainty.undercount": lambda s: s["uncertainty"].undercount,
}


def _sites(path: Path, raw: Mapping[str, Any], s: Mapping[str, Any]) -> tuple[SiteEntry, ...]:
    """Validate ``[[sites]]``: an array of tables, each a site id and its protesters."""
    given = raw["sites"]
    if not isinstance(given, list) or not given or not all(isinstance(t, dict) for t in given):
        raise ScenarioError(
            f"{path}: key 'sites': bad value {quoted(given)} (allowed: an array of "
            "tables [[sites]], each with 'id' and 'protesters')"
        )
    for dotted, used in NOT_WITH_SITES.items():
        section, k = dotted.split(".")
        if (k in raw.get(section, {})) if used is None else used(s):
            raise ScenarioError(
                f"{path}: key {quoted(dotted)} cannot be given with [[sites]] (allowed "
                "with several sites: each [[sites]] table's 'id', 'protesters', [sites.arrival], "
                "'max_distance_m' and 'radius_m')"
            )
    arrival_keys = {f.name: (None, f.metadata["check"]) for f in dataclasses.fields(Arrival)}
    out, seen = [], set()
    for i, table in enumerate(given):
        values = _checked(path, f"sites[{i}]", SITE_ENTRY_KEYS, table, defaults=False)
        for k in ("id", "protesters"):
            if k not in values:
                raise ScenarioError(f"{path}: key 'sites[{i}].{k}': missing (each site needs it)")
        if values["id"] in seen:
            raise ScenarioError(
                f"{path}: key 'sites[{i}].id': bad value {quoted(values['id'])} (allowed: a site "
                "not named before; each site once)"
            )
        seen.add(values["id"])
        arrival = _checked(
            path, f"sites[{i}].arrival", arrival_keys, values.get("arrival", {}), defaults=False
        )
        out.append(
            SiteEntry(
                values["id"],
                values["protesters"],
                arrival,
                values.get("max_distance_m"),
                values.get("radius_m"),
            )
        )
    total = sum(e.protesters for e in out)
    if total > 10_000_000:
        raise ScenarioError(
            f"{path}: key 'sites': {total:,} protesters in all (allowed: at most 10,000,000)"
        )
    return tuple(out)


def _layers(path: Path, raw: Any) -> tuple[CameraLayer, ...]:
    if raw is None:
        raw = DEFAULT_LAYERS
    if not isinstance(raw, list | tuple) or not raw:
        raise ScenarioError(
            f"{path}: key 'cameras.layers': bad value {quoted(raw)} (allowed: an array "
            "of tables [[cameras.layers]] with a 'source')"
        )
    layers = []
    for i, entry in enumerate(raw):
        where = f"cameras.layers[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: key {quoted(where)} must be a table")
        values = _checked(path, where, LAYER_KEYS, entry)
        if values["source"] is None:
            raise ScenarioError(
                f"{path}: key '{where}.source' is missing (allowed: {', '.join(KNOWN_SOURCES)})"
            )
        if values["boroughs"] and values["source"] != "amnesty_counts":
            raise ScenarioError(
                f"{path}: key '{where}.boroughs': only the 'amnesty_counts' source has "
                f"boroughs, not {quoted(values['source'])} (allowed: remove the key)"
            )
        for borough in values["boroughs"]:
            if borough not in BOROUGHS:
                raise ScenarioError(
                    f"{path}: key '{where}.boroughs': unknown borough {quoted(borough)} "
                    f"(allowed: {', '.join(BOROUGHS)})"
                )
        for cls in values["keep_classes"]:
            if cls not in CAMERA_CLASSES:
                raise ScenarioError(
                    f"{path}: key '{where}.keep_classes': unknown class {quoted(cls)} "
                    f"(allowed: {', '.join(CAMERA_CLASSES)})"
                )
        layers.append(
            CameraLayer(
                values["source"],
                values["class"],
                tuple(values["keep_classes"]),
                tuple(values["boroughs"]),
                values["counts_from"],
            )
        )
    return tuple(layers)


def _sensitivity(path: Path, values: dict[str, Any]) -> None:
    """Check ``[sensitivity]``'s outcomes and parameter tables; build the parameters."""
    from sim.columns import figure_names

    allowed = figure_names()
    for outcome in values.get("outcomes", ()):
        if outcome not in allowed:
            raise ScenarioError(
                f"{path}: key 'sensitivity.outcomes': unknown outcome {quoted(outcome)} (allowed: "
                f"{', '.join(allowed)})"
            )
    params, seen = [], set()
    for i, entry in enumerate(values.get("parameters", ())):
        where = f"sensitivity.parameters[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: key {quoted(where)} must be a table")
        v = _checked(path, where, PARAMETER_KEYS, entry)
        if not v["key"]:
            raise ScenarioError(
                f"{path}: key '{where}.key' is missing (allowed: a dotted scenario key)"
            )
        if v["key"].split(".")[0] in ("name", "seed", "replications", "sweep", "sensitivity"):
            raise ScenarioError(
                f"{path}: key '{where}.key': bad value {quoted(v['key'])} (allowed: a key of a "
                "model section, e.g. 'walking.speed_mean_mps')"
            )
        if v["key"] in seen:
            raise ScenarioError(f"{path}: key '{where}.key': {quoted(v['key'])} is given twice")
        seen.add(v["key"])
        bounds, choices = v["bounds"], v["values"]
        if (bounds is None) == (not choices):
            raise ScenarioError(
                f"{path}: key {quoted(where)}: give either 'bounds' = [low, high] or "
                "'values' = [...]"
            )
        if bounds is not None:
            ok = len(bounds) == 2 and all(
                isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b)
                for b in bounds
            )
            if not ok or bounds[0] >= bounds[1]:
                raise ScenarioError(
                    f"{path}: key '{where}.bounds': bad value {quoted(bounds)} "
                    "(allowed: [low, high], two finite numbers with low < high)"
                )
            bounds = (bounds[0], bounds[1])
        elif len(choices) < 2:
            raise ScenarioError(
                f"{path}: key '{where}.values': bad value {quoted(choices)} "
                "(allowed: two or more values)"
            )
        params.append(
            SensitivityParameter(v["key"], bounds, tuple(choices), v["integer"], v["name"])
        )
    values["parameters"] = tuple(params)
