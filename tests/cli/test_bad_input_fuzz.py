"""A property-based fuzz (Hypothesis) of the scenario loader and the path reader through the
command line: for any generated file, one ``error:`` line (the last of stderr), exit code 2,
no traceback and nothing written.

Each example runs the command line in this process (``run_cli``) with a data folder that does
not exist, so a file the fuzz makes that happens to be valid stops there, with exit code 2 too,
after the loader or reader has accepted it. Bounded: 50 examples per property, no example
database, in seconds (``PROTEST_SIM_FUZZ_EXAMPLES=5000`` runs a longer hunt).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from pathlib import Path

import pytest
from helpers import SCENARIOS, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(60)

FUZZ = settings(
    max_examples=int(os.environ.get("PROTEST_SIM_FUZZ_EXAMPLES", "50")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEFAULT = tomllib.loads((SCENARIOS / "washington_square.toml").read_text())


def _fails_cleanly(capsys, tmp_path: Path, command: list[str]) -> str:
    """Run ``command`` with a missing data folder and a new outputs folder; check one error
    line, exit code 2, no traceback, nothing written. Returns the error line."""
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    out = work / "out"
    argv = ["--data-dir", str(work / "no data"), "--outputs", str(out), "--no-progress"]
    code = run_cli([*argv, *command])
    printed, err = capsys.readouterr()
    assert code == 2, (code, printed, err)
    assert "Traceback" not in err + printed and "internal error" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and err.rstrip("\n").endswith(errors[0]), err
    assert len(errors[0]) <= 1000
    assert not out.exists()
    return errors[0]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


# ------------------------------------------------------------------ values and TOML

FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 0.0, 1e300])
SCALARS = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | FLOATS
    | st.booleans()
    | st.text(max_size=40)
    | st.sampled_from(["", "auto", "../x", "a/b", "x" * 500, "washington_sq_park"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes, but characters beyond the BMP as themselves (TOML
    refuses JSON's surrogate pairs) and DEL escaped (TOML refuses it bare)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return _toml_string(key)  # a quoted key: any text


def _toml_value(value) -> str:
    """``value`` as TOML (a JSON-like writer: TOML's basic strings take JSON's escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(doc: dict) -> str:
    """A TOML document: top-level keys first, then one [table] per dict value."""
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)
    ]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{_toml_key(k)}]")
            lines += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


@st.composite
def mutated_default(draw) -> str:
    """The default scenario with one to three keys given other values, dropped or added."""
    doc = json.loads(json.dumps(DEFAULT))  # a deep copy
    doc.pop("cameras", None)  # arrays of tables: kept out of this writer
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(sorted(doc)))
        target = doc[section] if isinstance(doc[section], dict) else doc
        key = section if target is doc else draw(st.sampled_from(sorted(target) or ["x"]))
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "drop":
            target.pop(key, None)
        elif action == "add":
            target[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
        else:
            target[key] = draw(VALUES)
    return _toml(doc)


SCENARIO_FILES = (
    st.text(max_size=300)
    | st.binary(max_size=300)
    | st.builds(_toml, st.dictionaries(st.text(max_size=12), VALUES, max_size=6))
    | st.builds(
        lambda name, doc: _toml({"name": name, **doc}),
        st.sampled_from(["fuzz", "a-b_1", "../x", ""]),
        st.dictionaries(st.sampled_from(sorted(DEFAULT)), VALUES, max_size=4),
    )
    | mutated_default()
)


@FUZZ
@given(content=SCENARIO_FILES)
def test_any_scenario_file_is_one_line_exit_2_nothing_written(capsys, tmp_path, content):
    path = _write(tmp_path, "fuzz.toml", content)
    _fails_cleanly(capsys, tmp_path, ["run", str(path)])


# ------------------------------------------------------------------ path files

NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(40.4, 41.0).map(lambda v: f"{v:.6f}"),
    st.floats(-74.3, -73.6).map(lambda v: f"{v:.6f}"),
    st.text(alphabet="0123456789.-+eE ", max_size=12),
)
LINE = st.one_of(
    st.builds(
        lambda a, b, sep: f"{a}{sep}{b}",
        NUMBER_TEXT,
        NUMBER_TEXT,
        st.sampled_from([",", ", ", ";", " "]),
    ),
    st.text(max_size=60),
    st.sampled_from(["", "# a comment", "40.7309,-73.9976", "40.7359,-73.9911"]),
)
COORD = st.one_of(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            st.text(max_size=5),
            st.booleans(),
            st.none(),
        ),
        max_size=4,
    ),
    st.tuples(st.floats(-74.3, -73.6), st.floats(40.4, 41.0)).map(list),
    SCALARS,
)
CRS = st.one_of(
    st.none(),
    st.sampled_from(["EPSG:4326", "EPSG:2263", "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:0", "x"]).map(
        lambda name: {"type": "name", "properties": {"name": name}}
    ),
    VALUES,
)


@st.composite
def geojson(draw) -> str:
    line = {
        "type": draw(st.sampled_from(["LineString", "Point", "Polygon", "x"])),
        "coordinates": draw(st.lists(COORD, max_size=6) | VALUES),
    }
    crs = draw(CRS)
    wrap = draw(st.sampled_from(["geometry", "feature", "collection", "collection-of-two"]))
    if wrap == "feature":
        doc = {"type": "Feature", "geometry": line, "properties": {}}
    elif wrap.startswith("collection"):
        feature = {"type": "Feature", "geometry": line}
        doc = {
            "type": "FeatureCollection",
            "features": [feature] * (2 if wrap.endswith("two") else 1),
        }
    else:
        doc = line
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc)


PATH_FILES = (
    st.lists(LINE, max_size=8).map("\n".join)
    | geojson()
    | st.text(max_size=200).map(lambda t: "{" + t)
    | st.binary(max_size=200)
)


@FUZZ
@given(content=PATH_FILES)
def test_any_path_file_is_one_line_exit_2_nothing_written(capsys, tmp_path, content):
    path = _write(tmp_path, "walk.txt", content)
    line = _fails_cleanly(capsys, tmp_path, ["route", "--path", str(path)])
    assert str(path) in line or "no data" in line, line
