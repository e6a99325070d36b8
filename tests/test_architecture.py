"""The package's structure: a pure core and no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"
CORE = (
    "geo",
    "network",
    "routing",
    "camera_model",
    "coverage",
    "visibility",
    "exposure",
    "crowding",
    "model",
    "kernel",
    "engines",
    "stats",
    "ranking",
    "setup",
    "draws",
    "undercount",
    "runner",
    "multisite",
    "tables",
    "columns",
    "line_exposure",
    "city_area",
    "equity",
    "access",
    "site_area",
    "origin_weights",
    "camera_merge",
    "camera_scope",
    "sensitivity",
)
EDGE_MODULES = ("matplotlib", "osmnx", "geopandas", "tqdm", "sim.cli", "sim.commands", "sim.plot")


def test_importing_the_core_loads_no_plotting_osm_gis_or_cli_module():
    code = (
        "import sys\n"
        + "".join(f"import sim.{m}\n" for m in CORE)
        + f"print([m for m in {EDGE_MODULES!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    """Modules of ``sim`` a module imports, at any depth of its code (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            if node.module == "sim":
                found |= {f"sim.{a.name}" for a in node.names if (SIM / f"{a.name}.py").exists()}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim.")}
    return found


def test_no_import_cycles_even_through_lazy_imports():
    graph = {f"sim.{p.stem}": _imports(p) for p in SIM.glob("*.py") if p.stem != "__init__"}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_no_command_imports_a_private_name():
    tree = ast.parse((SIM / "commands.py").read_text())
    private = [
        f"{n.module}.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]
    assert private == []
