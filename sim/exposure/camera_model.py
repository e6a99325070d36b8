"""Camera classes and their reach: explicit ranges, or lenses turned into DORI distances."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from sim.errors import ScenarioError

# Pixel densities of the image-quality levels of IEC 62676-4 ("DORI"), pixels per metre of scene
# width at the target: detection 25, observation 62, recognition 125, identification 250.
DORI_PX_PER_M = {
    "detection": 25.0,
    "observation": 62.0,
    "recognition": 125.0,
    "identification": 250.0,
}
# The exposure levels the simulator tracks, from the widest to the narrowest reach.
#   seen           in view: within the camera's range (range mode), or at observation quality
#                  (62 px/m, DORI: a person's distinctive clothing can be made out) for a lens
#   recognition    a known face can be recognised (125 px/m); for a range-mode camera its range,
#                  since Amnesty's 120 m is a face-capture reach
#   identification a face can be identified beyond reasonable doubt (250 px/m); for a range-mode
#                  camera half its range (pixel density falls as 1/distance, so doubling the
#                  density halves the distance)
LEVELS = ("seen", "recognition", "identification")

# Amnesty's range: 120 m (400 ft) face-capture reach of public dome / PTZ cameras, used in its
# walking-route tool and stop-and-frisk analysis (Amnesty AMR 51/5205/2022).
AMNESTY_RANGE_M = 120.0
MAX_LENS_FOV_DEG = 179.0


@dataclass(frozen=True)
class CameraParams:
    """How far one class of camera reaches: a ``range_m`` or a lens (pixels and field of view).

    Cameras are omnidirectional (a dome or PTZ turns; the aim of a fixed camera is unknown in
    every source we have), so a lens's field of view sets its pixel density, not a sector.
    """

    public: bool
    range_m: float | None = None
    h_pixels: float | None = None
    hfov_deg: float | None = None
    max_range_m: float | None = None
    source_note: str = ""

    def level_ranges_m(self) -> tuple[float, float, float]:
        """Reach (metres) at the seen, recognition and identification levels."""
        if self.range_m is not None:
            return (self.range_m, self.range_m, self.range_m / 2.0)
        seen = lens_distance_m(self.h_pixels, self.hfov_deg, DORI_PX_PER_M["observation"])
        rec = lens_distance_m(self.h_pixels, self.hfov_deg, DORI_PX_PER_M["recognition"])
        ident = lens_distance_m(self.h_pixels, self.hfov_deg, DORI_PX_PER_M["identification"])
        cap = self.max_range_m if self.max_range_m is not None else math.inf
        return (min(seen, cap), min(rec, cap), min(ident, cap))


def lens_distance_m(h_pixels: float, hfov_deg: float, px_per_m: float) -> float:
    """Distance at which a lens delivers ``px_per_m``.

    Pixels per metre at distance d are ``h_pixels / (2 d tan(hfov / 2))``; solving for d.
    The formula has no meaning at 180 degrees and beyond (tan is infinite, then negative), so a
    wider (fisheye or multi-sensor) view is taken as :data:`MAX_LENS_FOV_DEG`.
    """
    fov = min(hfov_deg, MAX_LENS_FOV_DEG)
    return h_pixels / (2.0 * math.tan(math.radians(fov) / 2.0) * px_per_m)


DEFAULT_CLASSES: dict[str, CameraParams] = {
    # Street-furniture (light, signal, pole) sites of Amnesty's public layer: Amnesty's 120 m.
    "public_street": CameraParams(
        public=True, range_m=AMNESTY_RANGE_M, source_note="Amnesty AMR 51/5205/2022, 120 m"
    ),
    # NYPD Argus dome / PTZ: 4K sensor (3840 px) zoomed to a 9 degree field of view gives
    # recognition at 195 m, matching press reports of the 3D modelling ("two blocks", ~200 m);
    # capped at 200 m.
    "nypd_dome": CameraParams(
        public=True,
        h_pixels=3840,
        hfov_deg=9.0,
        max_range_m=200.0,
        source_note="4K PTZ zoomed to 9 deg; ~200 m per Amnesty 3D-modelling press reports",
    ),
    # Common private building camera: 1080p (1920 px) behind a 2.8 mm lens on a 1/2.8" sensor,
    # about 100 degrees wide: recognition at 6.4 m, identification at 3.2 m.
    "private_building": CameraParams(
        public=False,
        h_pixels=1920,
        hfov_deg=100.0,
        source_note="1080p, 2.8 mm lens (~100 deg), typical vendor datasheets",
    ),
    # NYC DOT traffic-management cameras: the public feed is standard definition; assume a
    # 704 px D1 sensor at a 45 degree view (traffic cameras watch whole intersections).
    "dot_traffic": CameraParams(
        public=True,
        h_pixels=704,
        hfov_deg=45.0,
        source_note="SD (704 px D1) at 45 deg; DOT feed resolution",
    ),
    # LinkNYC kiosks carry wide-angle cameras: 1080p at about 120 degrees.
    "linknyc": CameraParams(
        public=True,
        h_pixels=1920,
        hfov_deg=120.0,
        source_note="1080p wide-angle kiosk camera, ~120 deg",
    ),
    # Attachment unknown (Amnesty's Manhattan, Bronx, Queens, Staten Island rows): treated like
    # a building camera, since 90% of attributed cameras in Brooklyn are on buildings
    # (8,316 of 9,216 attachment medians).
    "unknown": CameraParams(
        public=False,
        h_pixels=1920,
        hfov_deg=100.0,
        source_note="as private_building: 90% of Brooklyn's attributed cameras are on buildings",
    ),
}

# Every camera class a scenario may name, in the order of the defaults table.
CAMERA_CLASSES = tuple(DEFAULT_CLASSES)
# What each class is, in the words a reader of a table, legend or report sees.
CLASS_WORDS = {
    "public_street": "public street furniture (poles, lights, signals)",
    "private_building": "private, on buildings",
    "nypd_dome": "NYPD dome / pan-tilt-zoom",
    "dot_traffic": "DOT traffic camera",
    "linknyc": "LinkNYC kiosk",
    "unknown": "attachment unknown",
}

# Amnesty parity preset: public sites, omnidirectional, fixed 120 m radius.
AMNESTY_PRESET = {"public_street": CameraParams(public=True, range_m=AMNESTY_RANGE_M)}

PARAM_KEYS = ("range_m", "h_pixels", "hfov_deg", "max_range_m", "public")


def resolve_classes(
    overrides: Mapping[str, Mapping[str, object]], where: str = "cameras.classes"
) -> dict[str, CameraParams]:
    """Default class parameters with a scenario's ``overrides`` applied and validated.

    Setting ``range_m`` drops the lens and setting a lens drops the range.
    """
    classes = dict(DEFAULT_CLASSES)
    for name, values in overrides.items():
        if name not in classes:
            raise ScenarioError(
                f"{where}: unknown camera class {name!r} (allowed: {', '.join(classes)})"
            )
        params = classes[name]
        values = dict(values)
        for key in values:
            if key not in PARAM_KEYS:
                raise ScenarioError(
                    f"{where}.{name}: unknown key {key!r} (allowed: {', '.join(PARAM_KEYS)})"
                )
        if "range_m" in values:
            params = replace(params, h_pixels=None, hfov_deg=None, max_range_m=None)
        if "h_pixels" in values or "hfov_deg" in values:
            params = replace(params, range_m=None)
        params = replace(params, **values, source_note="scenario override")
        validate_params(params, f"{where}.{name}")
        classes[name] = params
    return classes


def validate_params(params: CameraParams, where: str) -> None:
    """Raise :class:`ScenarioError` naming ``where`` when a parameter is out of range."""
    if not isinstance(params.public, bool):
        raise ScenarioError(f"{where}.public: bad value {params.public!r} (allowed: true or false)")
    if params.range_m is not None:
        _number(params.range_m, f"{where}.range_m", "a finite range in metres > 0", lambda v: v > 0)
        return
    if params.h_pixels is None or params.hfov_deg is None:
        raise ScenarioError(f"{where}: give either range_m or both h_pixels and hfov_deg")
    _number(params.h_pixels, f"{where}.h_pixels", "a pixel count > 0", lambda v: v > 0)
    _number(params.hfov_deg, f"{where}.hfov_deg", "degrees in (0, 360]", lambda v: 0 < v <= 360)
    if params.max_range_m is not None:
        _number(params.max_range_m, f"{where}.max_range_m", "metres > 0", lambda v: v > 0)


def _number(value: object, where: str, allowed: str, ok) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not ok(float(value))
    ):
        raise ScenarioError(f"{where}: bad value {value!r} (allowed: {allowed})")


def level_ranges_for(classes: Mapping[str, CameraParams], cls: np.ndarray) -> np.ndarray:
    """(n, 3) array of each camera's seen / recognition / identification reach in metres."""
    table = {name: params.level_ranges_m() for name, params in classes.items()}
    return np.array([table[c] for c in cls], float).reshape(len(cls), len(LEVELS))


def public_flags(classes: Mapping[str, CameraParams], cls: np.ndarray) -> np.ndarray:
    """True for each camera whose class is public (street furniture, kiosks, police domes)."""
    return np.array([classes[c].public for c in cls], bool)
