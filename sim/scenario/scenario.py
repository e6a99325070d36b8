"""Scenario files: typed sections with defaults and units, ``base =`` inheritance, validation.

A scenario is a TOML file. Each ``[section]`` becomes a frozen dataclass below whose fields are
the section's keys (units in the names), each with its default and the check of its values;
``scenarios/README.md`` documents every key. A file may start with ``base = "other.toml"``
(a path relative to the file) and give only what differs: tables are merged key by key, any
other value (numbers, strings, arrays, arrays of tables) replaces the base's.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import REPO_ROOT
from sim.data.cameras import CAMERA_SOURCES
from sim.errors import ScenarioError
from sim.exposure.camera_model import CAMERA_CLASSES, CameraParams, resolve_classes
from sim.exposure.visibility_models import VISIBILITY_MODELS
from sim.scenario.edits import validate_edits

ENGINES = ("kernel", "reference")
"""The movement engines a scenario may name (``engine``): compiled kernel, simpy reference."""
DEFAULT_ENGINE = "kernel"
DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "washington_square.toml"
KNOWN_SOURCES = tuple(CAMERA_SOURCES)
MAX_BASE_DEPTH = 8
# Borough names as Amnesty's counts file spells them (column BoroName).
BOROUGHS = ("Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island")


# ------------------------------------------------------------------------------ value checks


def _num(
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    integer: bool = False,
):
    """A checker for a number in [lo, hi] (or (lo, hi] with ``lo_open``)."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "a whole number" if integer else "a number"
        if integer and not isinstance(value, int):
            return "a whole number"
        if not math.isfinite(value):
            return "a finite number"
        if lo is not None and (value <= lo if lo_open else value < lo):
            return f"a number {'>' if lo_open else '>='} {lo}" + (f" and <= {hi}" if hi else "")
        if hi is not None and value > hi:
            return f"a number <= {hi}"
        return None

    return check


def _choice(*options: str):
    def check(value: Any) -> str | None:
        return None if value in options else "one of " + ", ".join(repr(o) for o in options)

    return check


def _typed(kind: type, what: str):
    """A checker for a value of ``kind`` (a bool is never taken for a number or a string)."""

    def check(value: Any) -> str | None:
        if isinstance(value, bool) and kind is not bool:
            return what
        return None if isinstance(value, kind) else what

    return check


def _month_list(value: Any) -> str | None:
    ok = (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 12 for v in value)
    )
    return None if ok else "a non-empty list of months 1..12"


def _str_list(value: Any) -> str | None:
    ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return None if ok else "a list of strings"


_BOOL = _typed(bool, "true or false")


def _bool_or_auto(value: Any) -> str | None:
    return None if isinstance(value, bool) or value == "auto" else 'true, false or "auto"'


def key(default: Any, check: Any = None) -> Any:
    """A scenario key: its default and the check of its values (None: checked elsewhere)."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"check": check})
    return field(default=default, metadata={"check": check})


# ---------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class SiteSpec:
    """``[site]``: the assembly site, by id in the sites file or by coordinates."""

    id: str = key("", _typed(str, "a site id of sites/protest_sites_nyc.csv"))
    name: str = key("", _typed(str, "a string"))
    lat: float | None = key(None, _num(40.49, 40.92))
    lon: float | None = key(None, _num(-74.27, -73.69))
    radius_m: float = key(80.0, _num(1, 2000))
    area: str = key("streets", _choice("streets", "disk"))


@dataclass(frozen=True)
class Origins:
    """``[origins]``: which subway exits protesters start from, and how they split over them."""

    mode: str = key("within", _choice("within", "stations", "entrances"))
    max_distance_m: float = key(1500.0, _num(0, 20000, lo_open=True))
    distance: str = key("walking", _choice("walking", "straight"))
    stations: tuple[str, ...] = key((), _str_list)
    entrances: tuple[str, ...] = key((), _str_list)
    weights: str = key("ridership", _choice("ridership", "station", "equal", "distance", "given"))
    distance_decay_m: float = key(750.0, _num(0, lo_open=True))
    given_weights: dict[str, float] = key({}, _typed(dict, "a table of station name = weight"))
    exit_split_decay_m: float = key(100.0, _num(0, lo_open=True))
    ridership_year: str = key("2020", _choice("2020", "2017-2019"))
    ridership_months: tuple[int, ...] = key((6,), _month_list)
    ridership_day_group: str = key("total", _choice("total", "weekday", "weekend"))


@dataclass(frozen=True)
class Crowd:
    """``[crowd]``: how many protesters."""

    protesters: int = key(1000, _num(1, 10_000_000, integer=True))


# Times are bounded so that every clock and the one-second time series stay computable: a
# protest's arrival, rally and march fit in a day each; trains run at least hourly.
MAX_TIME_S = 86_400.0
MAX_HEADWAY_S = 3_600.0
# Relative weights of stations; bounded so that their sum stays finite.
MAX_GIVEN_WEIGHT = 1e12


@dataclass(frozen=True)
class Arrival:
    """``[arrival]``: when protesters leave their exits."""

    start_s: float = key(0.0, _num(0, MAX_TIME_S))
    duration_s: float = key(3600.0, _num(0, MAX_TIME_S))
    shape: str = key("uniform", _choice("uniform", "ramp", "poisson"))
    train_headway_s: float = key(0.0, _num(0, MAX_HEADWAY_S))


@dataclass(frozen=True)
class Walking:
    """``[walking]``: free walking speeds and crowding."""

    speed_mean_mps: float = key(1.34, _num(0.1, 3.0))
    speed_sd_mps: float = key(0.26, _num(0, 1.5))
    speed_min_mps: float = key(0.5, _num(0.05, 3.0))
    speed_max_mps: float = key(2.5, _num(0.1, 5.0))
    crowding: bool = key(True, _BOOL)


@dataclass(frozen=True)
class Dwell:
    """``[dwell]``: the time at the site, and the walk back."""

    duration_s: float = key(3600.0, _num(0, MAX_TIME_S))
    disperse: bool = key(True, _BOOL)
    disperse_to: str = key("origin", _choice("origin", "nearest"))


@dataclass(frozen=True)
class March:
    """``[march]``: an optional march from the site to another."""

    to_site: str = key("", _typed(str, "a site id of sites/protest_sites_nyc.csv, or empty"))
    speed_mps: float = key(1.0, _num(0.1, 3.0))


@dataclass(frozen=True)
class Routing:
    """``[routing]``: route choice."""

    choice: str = key("shortest", _choice("shortest", "least_exposed", "stochastic"))
    exposure_weight: float = key(5.0, _num(0))
    max_detour: float = key(0.5, _num(0))
    perturbation_sd: float = key(0.25, _num(0, 5))
    routes_per_origin: int = key(16, _num(1, 1000, integer=True))


@dataclass(frozen=True)
class CameraLayer:
    """One ``[[cameras.layers]]`` table: a source, with optional class and filters."""

    source: str
    cls: str = ""
    keep_classes: tuple[str, ...] = ()
    boroughs: tuple[str, ...] = ()
    counts_from: str = ""


LAYER_KEYS: dict[str, tuple[Any, Any]] = {
    "source": (None, _choice(*KNOWN_SOURCES)),
    "class": ("", _choice("", *CAMERA_CLASSES)),
    "keep_classes": ([], _str_list),
    "boroughs": ([], _str_list),
    "counts_from": ("", _choice("", "amnesty_counts")),
}
DEFAULT_LAYERS = [{"source": "banthescan_public", "class": "public_street"}]


@dataclass(frozen=True)
class Cameras:
    """``[cameras]``: layers, class reach overrides, edits and the visibility model."""

    visibility: str = key("sightline", _choice(*VISIBILITY_MODELS))
    buildings: bool = key(True, _BOOL)
    footprints: str = key("doitt_2017", _choice("doitt_2017", "osm_partial"))
    layers: tuple[CameraLayer, ...] = key(None)  # built by _layers
    classes: dict[str, CameraParams] = key({}, _typed(dict, "a table of class = {parameters}"))
    edits: tuple[dict[str, Any], ...] = key(
        [], _typed(list, "an array of tables [[cameras.edits]]")
    )


def _bbox(value: Any) -> str | None:
    from sim.data.networks import bbox_problem

    if value == []:
        return None
    return bbox_problem(value) if isinstance(value, list) else "four numbers in a list"


@dataclass(frozen=True)
class Network:
    """``[network]``: the walk network; all empty means the bundle's Manhattan network."""

    osm: str = key("", _typed(str, "an OpenStreetMap XML file, relative to the data directory"))
    place: str = key("", _typed(str, "an osmnx place name, e.g. 'Brooklyn, New York, USA'"))
    bbox: tuple[float, ...] = key([], _bbox)


@dataclass(frozen=True)
class Uncertainty:
    """``[uncertainty]``: draws of the data's own uncertainty."""

    undercount: bool = key(False, _BOOL)
    count_multiplier: float = key(1.0, _num(0.01, 100))


@dataclass(frozen=True)
class Sweep:
    """``[sweep]``: one run per value of one dotted key."""

    parameter: str = key(
        "", _typed(str, "a dotted key, e.g. 'cameras.classes.public_street.range_m'")
    )
    values: tuple[Any, ...] = key([], _typed(list, "a list of values for the parameter"))


# Outcomes a sensitivity analysis may name: any figure of a replication (sim.crowd.stats).
SENSITIVITY_OUTCOMES = ("seen_total_s.median", "share_seen_at_all", "camera_s.median")


@dataclass(frozen=True)
class SensitivityParameter:
    """One ``[[sensitivity.parameters]]`` table: a dotted scenario key and its range (``bounds``)
    or its discrete ``values``; ``integer`` rounds a bounded value."""

    key: str
    bounds: tuple[float, float] | None = None
    values: tuple[Any, ...] = ()
    integer: bool = False
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.key


PARAMETER_KEYS: dict[str, tuple[Any, Any]] = {
    "key": (None, _typed(str, "a dotted scenario key, e.g. 'walking.speed_mean_mps'")),
    "bounds": (None, _typed(list, "[low, high], two numbers")),
    "values": ([], _typed(list, "a list of values (booleans, numbers or strings)")),
    "integer": (False, _BOOL),
    "name": ("", _typed(str, "a short label")),
}


@dataclass(frozen=True)
class Sensitivity:
    """``[sensitivity]``: a global sensitivity analysis (the ``sensitivity`` command)."""

    method: str = key("morris", _choice("morris", "sobol"))
    samples: int = key(10, _num(2, 100_000, integer=True))
    levels: int = key(4, _num(2, 100, integer=True))
    outcomes: tuple[str, ...] = key(list(SENSITIVITY_OUTCOMES), _str_list)
    parameters: tuple[SensitivityParameter, ...] = key(
        [], _typed(list, "an array of tables [[sensitivity.parameters]]")
    )


@dataclass(frozen=True)
class Outputs:
    """``[outputs]``: what a run writes."""

    timeseries_step_s: float = key(30.0, _num(1, 3600))
    figures: bool = key(True, _BOOL)
    agents_csv: bool | str = key("auto", _bool_or_auto)


SECTIONS: dict[str, type] = {
    "site": SiteSpec,
    "origins": Origins,
    "crowd": Crowd,
    "arrival": Arrival,
    "walking": Walking,
    "dwell": Dwell,
    "march": March,
    "routing": Routing,
    "cameras": Cameras,
    "network": Network,
    "uncertainty": Uncertainty,
    "sweep": Sweep,
    "sensitivity": Sensitivity,
    "outputs": Outputs,
}
TOP_LEVEL: dict[str, tuple[Any, Any]] = {
    "name": (None, _typed(str, "a name (letters, digits, _ and -)")),
    "description": ("", _typed(str, "a string")),
    "seed": (1, _num(0, integer=True)),
    "replications": (5, _num(1, 1000, integer=True)),
    "engine": (DEFAULT_ENGINE, _choice(*ENGINES)),
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: every section typed, every key with its default filled in.

    ``raw`` is the TOML table after ``base =`` merging and any overrides, from which the
    scenario was validated; ``text`` is the file's own text followed by its bases' texts and a
    line per override, as the manifest records it.
    """

    path: Path
    text: str
    raw: dict[str, Any] = field(hash=False, compare=False, repr=False)
    name: str
    description: str
    seed: int
    replications: int
    engine: str
    site: SiteSpec
    origins: Origins
    crowd: Crowd
    arrival: Arrival
    walking: Walking
    dwell: Dwell
    march: March
    routing: Routing
    cameras: Cameras
    network: Network
    uncertainty: Uncertainty
    sweep: Sweep
    sensitivity: Sensitivity
    outputs: Outputs
    sites: tuple[SiteEntry, ...] = ()  # [[sites]]: several sites at once (empty: one [site])

    def resolved(self) -> dict[str, Any]:
        """Every key and value after defaults (for the manifest)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in TOP_LEVEL}
        for name in SECTIONS:
            section = getattr(self, name)
            values = {f.name: getattr(section, f.name) for f in dataclasses.fields(section)}
            out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        out["cameras"]["layers"] = [dataclasses.asdict(layer) for layer in self.cameras.layers]
        out["cameras"]["classes"] = {
            k: dataclasses.asdict(v) for k, v in self.cameras.classes.items()
        }
        out["cameras"]["edits"] = [dict(e) for e in self.cameras.edits]
        if self.sites:  # only then, so that a one-site scenario's fingerprint stays as it was
            out["sites"] = [dataclasses.asdict(e) for e in self.sites]
        if self.sensitivity.parameters:  # only then: other fingerprints stay as they were
            out["sensitivity"]["parameters"] = [
                dataclasses.asdict(p) for p in self.sensitivity.parameters
            ]
        else:
            out.pop("sensitivity")
        if self.uncertainty.count_multiplier == 1.0:  # likewise
            out["uncertainty"].pop("count_multiplier")
        return out

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the resolved values: equal exactly when two scenarios run the same."""
        text = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------------- loading


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is a one-line :class:`ScenarioError`."""
    path = Path(path)
    raw, text = _read_with_bases(path, ())
    return parse_scenario(raw, path, text)


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: not a UTF-8 text file (byte {exc.start}: {data[exc.start]:#04x}); "
            "a scenario is a TOML text file"
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None


def _read_with_bases(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], str]:
    """The file's table merged over its bases (``base = "..."``), and the texts of all."""
    raw, text = _read_toml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw, text
    if not isinstance(base, str) or not base:
        raise ScenarioError(
            f"{path}: key 'base': bad value {base!r} (allowed: a scenario file path, relative "
            "to this file)"
        )
    base_path = (path.parent / base).resolve()
    if base_path in chain or base_path == path.resolve() or len(chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path}: key 'base': {base!r} makes a cycle of base files")
    if not base_path.is_file():
        raise ScenarioError(f"{path}: key 'base': {base!r} not found (looked for {base_path})")
    base_raw, base_text = _read_with_bases(base_path, (*chain, path.resolve()))
    merged = merge_tables(base_raw, raw)
    return merged, f"{text}\n# ---- base: {base} ----\n{base_text}"


def merge_tables(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: tables merge key by key; other values replace."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_tables(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_scenarios(path: str | Path) -> list[Scenario]:
    """A scenario file as one scenario, or one per value of its ``[sweep]``.

    ``[sweep] parameter = "cameras.classes.public_street.range_m"`` with
    ``values = [15, 60, 120, 200]`` gives four scenarios named ``<name>__range_m-15`` and so
    on, each validated like any scenario.
    """
    base = load_scenario(path)
    sweep = base.sweep
    if not sweep.parameter:
        if sweep.values:
            raise ScenarioError(
                f"{path}: key 'sweep.values' is given without 'sweep.parameter' (allowed: both, "
                "or neither)"
            )
        return [base]
    if not sweep.values:
        raise ScenarioError(f"{path}: key 'sweep.values': empty (allowed: a non-empty list)")
    keys = sweep.parameter.split(".")
    variants = []
    for value in sweep.values:
        suffix = f"{keys[-1]}-{value}".replace(".", "p")
        variants.append(
            override(
                base,
                {sweep.parameter: value, "name": f"{base.name}__{suffix}"},
                note=f"sweep variant: {sweep.parameter} = {value!r}",
                drop=("sweep",),
                where=f"sweep value {value!r}",
            )
        )
    return variants


def override(
    scenario: Scenario,
    changes: Mapping[str, Any],
    note: str = "",
    drop: tuple[str, ...] = (),
    where: str = "",
) -> Scenario:
    """``scenario`` with some keys changed (dotted names), validated like a file.

    The scenario's text gains a comment line saying what changed (``note``, else the changes),
    so that the manifest of a run says exactly what ran. ``drop`` removes whole tables.
    """
    raw = copy.deepcopy(scenario.raw)
    for name in drop:
        raw.pop(name, None)
    for dotted, value in changes.items():
        keys = dotted.split(".")
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ScenarioError(
                    f"{scenario.path}: key {dotted!r} does not name a key inside a table"
                )
        node[keys[-1]] = copy.deepcopy(value)
    what = note or ", ".join(f"{k} = {v!r}" for k, v in changes.items())
    text = f"{scenario.text}\n# override: {what}\n"
    return parse_scenario(raw, scenario.path, text, where=where or note)


# -------------------------------------------------------------------------------- validation


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
            raise ScenarioError(f"{path}: unknown key {k!r} (allowed: {allowed})")
        if k in SECTIONS and not isinstance(value, dict):
            raise ScenarioError(f"{path}: key {k!r} must be a table [{k}]")
    top = _checked(path, "", TOP_LEVEL, {k: v for k, v in raw.items() if k in TOP_LEVEL})
    if top["name"] is None:
        raise ScenarioError(f"{path}: missing key 'name' (a name for the scenario's outputs)")
    if not top["name"].replace("_", "").replace("-", "").isalnum():
        raise ScenarioError(
            f"{path}: key 'name': bad value {top['name']!r} (allowed: letters, digits, _ and -)"
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
                f"{path}: unknown key {full!r} (allowed in [{section or 'top level'}]: "
                f"{', '.join(spec)})"
            )
        check = spec[k][1]
        problem = check(value) if check else None
        if problem:
            raise ScenarioError(f"{path}: key {full!r}: bad value {value!r} (allowed: {problem})")
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
            f"{path}: [site] gives both 'id' ({site.id!r}) and coordinates (allowed: 'id' of a "
            "protest site, or 'lat' and 'lon' with an optional 'name', not both)"
        )
    walking = s["walking"]
    if walking.speed_min_mps >= walking.speed_max_mps:
        raise ScenarioError(
            f"{path}: key 'walking.speed_min_mps': bad value {walking.speed_min_mps!r} "
            f"(allowed: below walking.speed_max_mps = {walking.speed_max_mps})"
        )
    origins = s["origins"]
    if origins.mode == "stations" and not origins.stations:
        raise ScenarioError(f"{path}: key 'origins.stations': empty (mode 'stations' needs names)")
    if origins.mode == "entrances" and not origins.entrances:
        raise ScenarioError(f"{path}: key 'origins.entrances': empty (mode 'entrances' needs ids)")
    for station, weight in origins.given_weights.items():
        if _num(0, MAX_GIVEN_WEIGHT)(weight):
            raise ScenarioError(
                f"{path}: key 'origins.given_weights.{station}': bad value "
                f"{weight!r} (allowed: a number >= 0 and <= {MAX_GIVEN_WEIGHT:g})"
            )
    if not walking.speed_min_mps <= walking.speed_mean_mps <= walking.speed_max_mps:
        raise ScenarioError(
            f"{path}: key 'walking.speed_mean_mps': bad value {walking.speed_mean_mps!r} "
            f"(allowed: within walking.speed_min_mps = {walking.speed_min_mps} and "
            f"walking.speed_max_mps = {walking.speed_max_mps}; speeds are drawn between them)"
        )


@dataclass(frozen=True)
class SiteEntry:
    """One ``[[sites]]`` table: a site of several at once, its crowd, arrivals and catchment.

    ``arrival`` holds the ``[sites.arrival]`` keys given (over the scenario's ``[arrival]``);
    ``max_distance_m`` and ``radius_m`` (None: the scenario's) its catchment and radius.
    """

    id: str
    protesters: int
    arrival: dict[str, Any]
    max_distance_m: float | None = None
    radius_m: float | None = None


SITE_ENTRY_KEYS: dict[str, tuple[Any, Any]] = {
    "id": (None, _typed(str, "a site id of sites/protest_sites_nyc.csv")),
    "protesters": (None, _num(1, 10_000_000, integer=True)),
    "arrival": (None, _typed(dict, "a table [sites.arrival] of [arrival] keys")),
    "max_distance_m": (None, _num(0, 20000, lo_open=True)),
    "radius_m": (None, _num(1, 2000)),
}
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
            f"{path}: key 'sites': bad value {given!r} (allowed: an array of tables [[sites]], "
            "each with 'id' and 'protesters')"
        )
    for dotted, used in NOT_WITH_SITES.items():
        section, k = dotted.split(".")
        if (k in raw.get(section, {})) if used is None else used(s):
            raise ScenarioError(
                f"{path}: key {dotted!r} cannot be given with [[sites]] (allowed with several "
                "sites: each [[sites]] table's 'id', 'protesters', [sites.arrival], "
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
                f"{path}: key 'sites[{i}].id': bad value {values['id']!r} (allowed: a site "
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
            f"{path}: key 'cameras.layers': bad value {raw!r} (allowed: an array "
            "of tables [[cameras.layers]] with a 'source')"
        )
    layers = []
    for i, entry in enumerate(raw):
        where = f"cameras.layers[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: key {where!r} must be a table")
        values = _checked(path, where, LAYER_KEYS, entry)
        if values["source"] is None:
            raise ScenarioError(
                f"{path}: key '{where}.source' is missing (allowed: {', '.join(KNOWN_SOURCES)})"
            )
        if values["boroughs"] and values["source"] != "amnesty_counts":
            raise ScenarioError(
                f"{path}: key '{where}.boroughs': only the 'amnesty_counts' source has "
                f"boroughs, not {values['source']!r} (allowed: remove the key)"
            )
        for borough in values["boroughs"]:
            if borough not in BOROUGHS:
                raise ScenarioError(
                    f"{path}: key '{where}.boroughs': unknown borough {borough!r} "
                    f"(allowed: {', '.join(BOROUGHS)})"
                )
        for cls in values["keep_classes"]:
            if cls not in CAMERA_CLASSES:
                raise ScenarioError(
                    f"{path}: key '{where}.keep_classes': unknown class {cls!r} "
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
                f"{path}: key 'sensitivity.outcomes': unknown outcome {outcome!r} (allowed: "
                f"{', '.join(allowed)})"
            )
    params, seen = [], set()
    for i, entry in enumerate(values.get("parameters", ())):
        where = f"sensitivity.parameters[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: key {where!r} must be a table")
        v = _checked(path, where, PARAMETER_KEYS, entry)
        if not v["key"]:
            raise ScenarioError(
                f"{path}: key '{where}.key' is missing (allowed: a dotted scenario key)"
            )
        if v["key"].split(".")[0] in ("name", "seed", "replications", "sweep", "sensitivity"):
            raise ScenarioError(
                f"{path}: key '{where}.key': bad value {v['key']!r} (allowed: a key of a "
                "model section, e.g. 'walking.speed_mean_mps')"
            )
        if v["key"] in seen:
            raise ScenarioError(f"{path}: key '{where}.key': {v['key']!r} is given twice")
        seen.add(v["key"])
        bounds, choices = v["bounds"], v["values"]
        if (bounds is None) == (not choices):
            raise ScenarioError(
                f"{path}: key {where!r}: give either 'bounds' = [low, high] or 'values' = [...]"
            )
        if bounds is not None:
            ok = len(bounds) == 2 and all(
                isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b)
                for b in bounds
            )
            if not ok or bounds[0] >= bounds[1]:
                raise ScenarioError(
                    f"{path}: key '{where}.bounds': bad value {bounds!r} (allowed: [low, high], "
                    "two finite numbers with low < high)"
                )
            bounds = (bounds[0], bounds[1])
        elif len(choices) < 2:
            raise ScenarioError(
                f"{path}: key '{where}.values': bad value {choices!r} (allowed: two or more values)"
            )
        params.append(
            SensitivityParameter(v["key"], bounds, tuple(choices), v["integer"], v["name"])
        )
    values["parameters"] = tuple(params)
