"""The typed sections of a scenario: one frozen dataclass per ``[section]`` or array of tables.

Each dataclass's fields are the section's keys (units in the names), each with its default
and the check of its values (:func:`sim.scenario.checks.key`); ``scenarios/README.md``
documents every key. ``SECTIONS`` and ``TOP_LEVEL`` list what a scenario file may hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.data.cameras import CAMERA_SOURCES
from sim.data.ridership import (
    DAY_GROUPS,
    DEFAULT_DAY_GROUP,
    DEFAULT_RIDERSHIP_MONTHS,
    DEFAULT_RIDERSHIP_YEAR,
    RIDERSHIP_SOURCES,
)
from sim.exposure.camera_model import CAMERA_CLASSES, CameraParams
from sim.exposure.visibility_models import VISIBILITY_MODELS
from sim.exposure.worlds import AIM_RULES, DEFAULT_AIM_SPREAD_DEG, WORLD_MODES
from sim.scenario.checks import (
    BOOL,
    bbox,
    bool_or_auto,
    choice,
    key,
    month_list,
    num,
    str_list,
    typed,
)

ENGINES = ("kernel", "reference")
"""The movement engines a scenario may name (``engine``): compiled kernel, simpy reference."""
DEFAULT_ENGINE = "kernel"
KNOWN_SOURCES = tuple(CAMERA_SOURCES)


@dataclass(frozen=True)
class SiteSpec:
    """``[site]``: the assembly site, by id in the sites file or by coordinates."""

    id: str = key("", typed(str, "a site id of sites/protest_sites_nyc.csv"))
    name: str = key("", typed(str, "a string"))
    lat: float | None = key(None, num(40.49, 40.92))
    lon: float | None = key(None, num(-74.27, -73.69))
    radius_m: float = key(80.0, num(1, 2000))
    area: str = key("streets", choice("streets", "disk"))


@dataclass(frozen=True)
class Origins:
    """``[origins]``: which subway exits protesters start from, and how they split over them."""

    mode: str = key("within", choice("within", "stations", "entrances"))
    max_distance_m: float = key(1500.0, num(0, 20000, lo_open=True))
    distance: str = key("walking", choice("walking", "straight"))
    stations: tuple[str, ...] = key((), str_list)
    entrances: tuple[str, ...] = key((), str_list)
    weights: str = key("ridership", choice("ridership", "station", "equal", "distance", "given"))
    distance_decay_m: float = key(750.0, num(0, lo_open=True))
    given_weights: dict[str, float] = key({}, typed(dict, "a table of station name = weight"))
    exit_split_decay_m: float = key(100.0, num(0, lo_open=True))
    ridership_year: str = key(DEFAULT_RIDERSHIP_YEAR, choice(*RIDERSHIP_SOURCES))
    ridership_months: tuple[int, ...] = key(DEFAULT_RIDERSHIP_MONTHS, month_list)
    ridership_day_group: str = key(DEFAULT_DAY_GROUP, choice(*DAY_GROUPS))


@dataclass(frozen=True)
class Crowd:
    """``[crowd]``: how many protesters."""

    protesters: int = key(1000, num(1, 10_000_000, integer=True))


# Times are bounded so that every clock and the one-second time series stay computable: a
# protest's arrival, rally and march fit in a day each; trains run at least hourly.
MAX_TIME_S = 86_400.0
MAX_HEADWAY_S = 3_600.0
# Relative weights of stations; bounded so that their sum stays finite.
MAX_GIVEN_WEIGHT = 1e12


@dataclass(frozen=True)
class Arrival:
    """``[arrival]``: when protesters leave their exits."""

    start_s: float = key(0.0, num(0, MAX_TIME_S))
    duration_s: float = key(3600.0, num(0, MAX_TIME_S))
    shape: str = key("uniform", choice("uniform", "ramp", "poisson"))
    train_headway_s: float = key(0.0, num(0, MAX_HEADWAY_S))


@dataclass(frozen=True)
class Walking:
    """``[walking]``: free walking speeds and crowding."""

    speed_mean_mps: float = key(1.34, num(0.1, 3.0))
    speed_sd_mps: float = key(0.26, num(0, 1.5))
    speed_min_mps: float = key(0.5, num(0.05, 3.0))
    speed_max_mps: float = key(2.5, num(0.1, 5.0))
    crowding: bool = key(True, BOOL)


@dataclass(frozen=True)
class Dwell:
    """``[dwell]``: the time at the site, and the walk back."""

    duration_s: float = key(3600.0, num(0, MAX_TIME_S))
    disperse: bool = key(True, BOOL)
    disperse_to: str = key("origin", choice("origin", "nearest"))


@dataclass(frozen=True)
class March:
    """``[march]``: an optional march from the site to another."""

    to_site: str = key("", typed(str, "a site id of sites/protest_sites_nyc.csv, or empty"))
    speed_mps: float = key(1.0, num(0.1, 3.0))


@dataclass(frozen=True)
class Routing:
    """``[routing]``: route choice."""

    choice: str = key("shortest", choice("shortest", "least_exposed", "stochastic"))
    exposure_weight: float = key(5.0, num(0))
    max_detour: float = key(0.5, num(0))
    perturbation_sd: float = key(0.25, num(0, 5))
    routes_per_origin: int = key(16, num(1, 1000, integer=True))


@dataclass(frozen=True)
class CameraLayer:
    """One ``[[cameras.layers]]`` table: a source, with optional class and filters."""

    source: str
    cls: str = ""
    keep_classes: tuple[str, ...] = ()
    boroughs: tuple[str, ...] = ()
    counts_from: str = ""


LAYER_KEYS: dict[str, tuple[Any, Any]] = {
    "source": (None, choice(*KNOWN_SOURCES)),
    "class": ("", choice("", *CAMERA_CLASSES)),
    "keep_classes": ([], str_list),
    "boroughs": ([], str_list),
    "counts_from": ("", choice("", "amnesty_counts")),
}
DEFAULT_LAYERS = [{"source": "banthescan_public", "class": "public_street"}]


@dataclass(frozen=True)
class Cameras:
    """``[cameras]``: layers, class reach overrides, edits, the visibility model, and the
    camera worlds (aim, lens, working state: drawn per replication, or Amnesty's geometry)."""

    visibility: str = key("sightline", choice(*VISIBILITY_MODELS))
    world: str = key("drawn", choice(*WORLD_MODES))
    aim: str = key("streets", choice(*AIM_RULES))
    aim_spread_deg: float = key(DEFAULT_AIM_SPREAD_DEG, num(0, 180))
    buildings: bool = key(True, BOOL)
    footprints: str = key("doitt_2017", choice("doitt_2017", "osm_partial"))
    layers: tuple[CameraLayer, ...] = key(None)  # built by _layers
    classes: dict[str, CameraParams] = key({}, typed(dict, "a table of class = {parameters}"))
    edits: tuple[dict[str, Any], ...] = key([], typed(list, "an array of tables [[cameras.edits]]"))


@dataclass(frozen=True)
class Network:
    """``[network]``: the walk network; all empty means the bundle's Manhattan network."""

    osm: str = key("", typed(str, "an OpenStreetMap XML file, relative to the data directory"))
    place: str = key("", typed(str, "an osmnx place name, e.g. 'Brooklyn, New York, USA'"))
    bbox: tuple[float, ...] = key([], bbox)


@dataclass(frozen=True)
class Uncertainty:
    """``[uncertainty]``: draws of the data's own uncertainty."""

    undercount: bool = key(False, BOOL)
    count_multiplier: float = key(1.0, num(0.01, 100))


@dataclass(frozen=True)
class Sweep:
    """``[sweep]``: one run per value of one dotted key."""

    parameter: str = key(
        "", typed(str, "a dotted key, e.g. 'cameras.classes.public_street.range_m'")
    )
    values: tuple[Any, ...] = key([], typed(list, "a list of values for the parameter"))


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
    "key": (None, typed(str, "a dotted scenario key, e.g. 'walking.speed_mean_mps'")),
    "bounds": (None, typed(list, "[low, high], two numbers")),
    "values": ([], typed(list, "a list of values (booleans, numbers or strings)")),
    "integer": (False, BOOL),
    "name": ("", typed(str, "a short label")),
}


@dataclass(frozen=True)
class Sensitivity:
    """``[sensitivity]``: a global sensitivity analysis (the ``sensitivity`` command)."""

    method: str = key("morris", choice("morris", "sobol"))
    samples: int = key(10, num(2, 100_000, integer=True))
    levels: int = key(4, num(2, 100, integer=True))
    outcomes: tuple[str, ...] = key(list(SENSITIVITY_OUTCOMES), str_list)
    parameters: tuple[SensitivityParameter, ...] = key(
        [], typed(list, "an array of tables [[sensitivity.parameters]]")
    )


@dataclass(frozen=True)
class Outputs:
    """``[outputs]``: what a run writes."""

    timeseries_step_s: float = key(30.0, num(1, 3600))
    figures: bool = key(True, BOOL)
    agents_csv: bool | str = key("auto", bool_or_auto)


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
    "name": (None, typed(str, "a name (letters, digits, _ and -)")),
    "description": ("", typed(str, "a string")),
    "seed": (1, num(0, integer=True)),
    "replications": (5, num(1, 1000, integer=True)),
    "engine": (DEFAULT_ENGINE, choice(*ENGINES)),
}


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
    "id": (None, typed(str, "a site id of sites/protest_sites_nyc.csv")),
    "protesters": (None, num(1, 10_000_000, integer=True)),
    "arrival": (None, typed(dict, "a table [sites.arrival] of [arrival] keys")),
    "max_distance_m": (None, num(0, 20000, lo_open=True)),
    "radius_m": (None, num(1, 2000)),
}
