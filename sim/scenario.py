"""Scenario files: the TOML schema, its defaults and units, and validation into a frozen object."""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.camera_model import CameraParams, resolve_classes
from sim.errors import ScenarioError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "washington_square.toml"

KNOWN_SOURCES = ("banthescan_public", "banthescan_all", "amnesty_counts", "dot_cameras", "linknyc")
CAMERA_CLASSES = (
    "public_street",
    "nypd_dome",
    "private_building",
    "dot_traffic",
    "linknyc",
    "unknown",
)


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


def _str_list(value: Any) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else "a list of strings"


# section -> key -> (default, checker). Units are in the key names; scenarios/README.md
# documents every key.
SCHEMA: dict[str, dict[str, tuple[Any, Any]]] = {
    "": {
        "name": (None, _typed(str, "a name (letters, digits, _ and -)")),
        "description": ("", _typed(str, "a string")),
        "seed": (1, _num(0, integer=True)),
        "replications": (5, _num(1, 1000, integer=True)),
    },
    "site": {
        "id": ("", _typed(str, "a site id of sites/protest_sites_nyc.csv")),
        "name": ("", _typed(str, "a string")),
        "lat": (None, _num(40.49, 40.92)),
        "lon": (None, _num(-74.27, -73.69)),
        "radius_m": (80.0, _num(1, 2000)),
    },
    "origins": {
        "mode": ("within", _choice("within", "stations", "entrances")),
        "max_distance_m": (1500.0, _num(0, 20000, lo_open=True)),
        "distance": ("walking", _choice("walking", "straight")),
        "stations": ([], _str_list),
        "entrances": ([], _str_list),
        "weights": ("equal", _choice("equal", "distance", "given")),
        "distance_decay_m": (750.0, _num(0, lo_open=True)),
        "given_weights": ({}, _typed(dict, "a table of station name = weight")),
    },
    "crowd": {
        "protesters": (1000, _num(1, 10_000_000, integer=True)),
    },
    "arrival": {
        "start_s": (0.0, _num(0)),
        "duration_s": (3600.0, _num(0)),
        "shape": ("uniform", _choice("uniform", "ramp", "poisson")),
        "train_headway_s": (0.0, _num(0)),
    },
    "walking": {
        "speed_mean_mps": (1.34, _num(0.1, 3.0)),
        "speed_sd_mps": (0.26, _num(0, 1.5)),
        "speed_min_mps": (0.5, _num(0.05, 3.0)),
        "speed_max_mps": (2.5, _num(0.1, 5.0)),
        "crowding": (True, _typed(bool, "true or false")),
    },
    "dwell": {
        "duration_s": (3600.0, _num(0)),
        "disperse": (True, _typed(bool, "true or false")),
        "disperse_to": ("origin", _choice("origin", "nearest")),
    },
    "march": {
        "to_site": ("", _typed(str, "a site id of sites/protest_sites_nyc.csv, or empty")),
        "speed_mps": (1.0, _num(0.1, 3.0)),
    },
    "routing": {
        "choice": ("shortest", _choice("shortest", "least_exposed", "stochastic")),
        "exposure_weight": (5.0, _num(0)),
        "max_detour": (0.5, _num(0)),
        "perturbation_sd": (0.25, _num(0, 5)),
        "routes_per_origin": (16, _num(1, 1000, integer=True)),
    },
    "cameras": {
        "visibility": ("radius", _choice("radius", "sightline")),
        "buildings": (True, _typed(bool, "true or false")),
        "layers": (None, None),
        "classes": ({}, _typed(dict, "a table of class = {parameters}")),
        "edits": ([], _typed(list, "an array of tables [[cameras.edits]]")),
    },
    "uncertainty": {
        "undercount": (False, _typed(bool, "true or false")),
    },
    "sweep": {
        "parameter": (
            "",
            _typed(str, "a dotted key, e.g. 'cameras.classes.public_street.range_m'"),
        ),
        "values": ([], _typed(list, "a list of values for the parameter")),
    },
    "outputs": {
        "timeseries_step_s": (30.0, _num(1, 3600)),
        "figures": (True, _typed(bool, "true or false")),
        "agents_csv": (True, _typed(bool, "true or false")),
    },
}

LAYER_KEYS: dict[str, tuple[Any, Any]] = {
    "source": (None, _choice(*KNOWN_SOURCES)),
    "class": ("", _choice("", *CAMERA_CLASSES)),
    "keep_classes": ([], _str_list),
    "boroughs": ([], _str_list),
    "counts_from": ("", _choice("", "amnesty_counts")),
}

DEFAULT_LAYERS = [
    {"source": "banthescan_public", "class": "public_street"},
]


@dataclass(frozen=True)
class CameraLayer:
    """One camera layer of a scenario: a source, with optional class and filters."""

    source: str
    cls: str = ""
    keep_classes: tuple[str, ...] = ()
    boroughs: tuple[str, ...] = ()
    counts_from: str = ""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; ``values`` holds every key with its default filled in."""

    path: Path
    text: str
    values: dict[str, dict[str, Any]]
    layers: tuple[CameraLayer, ...]
    classes: dict[str, CameraParams] = field(hash=False)

    @property
    def name(self) -> str:
        return self.values[""]["name"]

    @property
    def seed(self) -> int:
        return self.values[""]["seed"]

    @property
    def replications(self) -> int:
        return self.values[""]["replications"]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def resolved(self) -> dict[str, Any]:
        """Every key and value after defaults (for the manifest)."""
        out = dict(self.values[""])
        out.update({k: v for k, v in self.values.items() if k})
        out["cameras"] = dict(out["cameras"])
        out["cameras"]["layers"] = [layer.__dict__ for layer in self.layers]
        out["cameras"]["classes"] = {k: v.__dict__ for k, v in self.classes.items()}
        return out


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is a one-line :class:`ScenarioError`."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return parse_scenario(raw, path, text)


def load_scenarios(path: str | Path) -> list[Scenario]:
    """A scenario file as one scenario, or one per value of its ``[sweep]``.

    ``[sweep] parameter = "cameras.classes.public_street.range_m"`` with
    ``values = [15, 60, 120, 200]`` gives four scenarios named ``<name>__range_m-15`` and so
    on, each validated like any scenario.
    """
    base = load_scenario(path)
    sweep = base["sweep"]
    if not sweep["parameter"]:
        return [base]
    if not sweep["values"]:
        raise ScenarioError(f"{path}: key 'sweep.values': empty (allowed: a non-empty list)")
    raw = tomllib.loads(base.text)
    raw.pop("sweep")
    keys = sweep["parameter"].split(".")
    variants = []
    for value in sweep["values"]:
        variant = copy.deepcopy(raw)
        node = variant
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ScenarioError(
                    f"{path}: key 'sweep.parameter': {sweep['parameter']!r} "
                    "does not name a key inside a table"
                )
        node[keys[-1]] = value
        suffix = f"{keys[-1]}-{value}".replace(".", "p")
        variant["name"] = f"{base.name}__{suffix}"
        text = f"{base.text}\n# sweep variant: {sweep['parameter']} = {value!r}\n"
        variants.append(parse_scenario(variant, Path(path), text, where=f"sweep value {value!r}"))
    return variants


def parse_scenario(raw: dict[str, Any], path: Path, text: str = "", where: str = "") -> Scenario:
    """Validate a parsed TOML table against :data:`SCHEMA`."""
    if where:
        try:
            return parse_scenario(raw, path, text)
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} ({where})") from None
    values: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        if key not in SCHEMA[""] and key not in SCHEMA:
            raise ScenarioError(
                f"{path}: unknown key {key!r} (allowed: "
                f"{', '.join([*SCHEMA[''], *(s for s in SCHEMA if s)])})"
            )
        if key in SCHEMA and key and not isinstance(value, dict):
            raise ScenarioError(f"{path}: key {key!r} must be a table [{key}]")
    for section, spec in SCHEMA.items():
        given = raw if section == "" else raw.get(section, {})
        values[section] = _section(path, section, spec, given)
    top = values[""]
    if top["name"] is None:
        raise ScenarioError(f"{path}: missing key 'name' (a name for the scenario's outputs)")
    if not top["name"].replace("_", "").replace("-", "").isalnum():
        raise ScenarioError(
            f"{path}: key 'name': bad value {top['name']!r} (allowed: letters, digits, _ and -)"
        )
    site = values["site"]
    if not site["id"] and (site["lat"] is None or site["lon"] is None):
        raise ScenarioError(f"{path}: [site] needs 'id' (a protest site) or both 'lat' and 'lon'")
    walking = values["walking"]
    if walking["speed_min_mps"] >= walking["speed_max_mps"]:
        raise ScenarioError(
            f"{path}: key 'walking.speed_min_mps': bad value {walking['speed_min_mps']!r} "
            f"(allowed: below walking.speed_max_mps = {walking['speed_max_mps']})"
        )
    origins = values["origins"]
    if origins["mode"] == "stations" and not origins["stations"]:
        raise ScenarioError(f"{path}: key 'origins.stations': empty (mode 'stations' needs names)")
    if origins["mode"] == "entrances" and not origins["entrances"]:
        raise ScenarioError(f"{path}: key 'origins.entrances': empty (mode 'entrances' needs ids)")
    for station, weight in origins["given_weights"].items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ScenarioError(
                f"{path}: key 'origins.given_weights.{station}': bad value "
                f"{weight!r} (allowed: a number >= 0)"
            )
    layers = _layers(path, values["cameras"]["layers"])
    classes = resolve_classes(values["cameras"]["classes"], f"{path}: cameras.classes")
    from sim.camera_edits import validate_edits  # the edit schema lives with the edits

    validate_edits(values["cameras"]["edits"], path)
    return Scenario(path, text, values, layers, classes)


def _section(path: Path, section: str, spec: dict, given: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in given.items():
        if section == "" and key in SCHEMA:
            continue
        full = f"{section}.{key}" if section else key
        if key not in spec:
            raise ScenarioError(
                f"{path}: unknown key {full!r} (allowed in [{section or 'top level'}]: "
                f"{', '.join(spec)})"
            )
        default, check = spec[key]
        problem = check(value) if check else None
        if problem:
            raise ScenarioError(f"{path}: key {full!r}: bad value {value!r} (allowed: {problem})")
        out[key] = value
    for key, (default, _) in spec.items():
        out.setdefault(key, default)
    return out


def _layers(path: Path, raw: Any) -> tuple[CameraLayer, ...]:
    if raw is None:
        raw = DEFAULT_LAYERS
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(
            f"{path}: key 'cameras.layers': bad value {raw!r} (allowed: an array "
            "of tables [[cameras.layers]] with a 'source')"
        )
    layers = []
    for i, entry in enumerate(raw):
        where = f"cameras.layers[{i}]"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{path}: key {where!r} must be a table")
        values = _section(path, where, LAYER_KEYS, entry)
        if values["source"] is None:
            raise ScenarioError(
                f"{path}: key '{where}.source' is missing (allowed: {', '.join(KNOWN_SOURCES)})"
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
