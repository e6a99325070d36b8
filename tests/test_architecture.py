"""The package's structure: layers that import only downwards, a pure core, no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli.app import COMMANDS

SIM = Path(sim.__file__).resolve().parent
CORE_LAYERS = ("base", "city", "exposure", "crowd")
EDGE_MODULES = ("matplotlib", "osmnx", "geopandas", "tqdm", "weasyprint", "dask", "sim.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Modules of ``sim`` a module imports, at any depth of its code (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "sim" or node.module.startswith("sim."):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "sim" or a.name.startswith("sim.")}
    return found


def layer_of(module: str) -> str:
    """The layer a module belongs to: its subpackage, or ``base`` for ``sim``'s own modules."""
    parts = module.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] in sim.LAYERS):
        return parts[1]
    return "base"


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes to a higher layer than the importer's."""
    rank = {name: i for i, name in enumerate(sim.LAYERS)}
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if module == "sim" or target == "sim":
                continue
            if rank[layer_of(target)] > rank[layer_of(module)]:
                bad.append(f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})")
    return bad


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) for name, path in modules.items()}


def test_every_subpackage_is_a_declared_layer_and_every_layer_exists():
    packages = {p.parent.name for p in SIM.glob("*/__init__.py")}
    assert packages == set(sim.LAYERS) - {"base"}
    assert sim.LAYERS[0] == "base"


def test_each_layer_imports_only_layers_below_it():
    assert wrong_way_imports(_graph()) == []


def test_the_layer_check_catches_an_import_that_runs_back_up():
    graph = _graph()
    graph["sim.city.network"] = graph["sim.city.network"] | {"sim.data.cache"}
    graph["sim.geo"] = graph["sim.geo"] | {"sim.cli.app"}
    assert wrong_way_imports(graph) == [
        "sim.city.network (city) imports sim.data.cache (data)",
        "sim.geo (base) imports sim.cli.app (cli)",
    ]


def data_imports_of_the_report(graph: dict[str, set[str]]) -> list[str]:
    """Every import of the data layer by a module of the report (which reads only a finished
    run folder: what it draws from the bundle, the run computed and kept there)."""
    return [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        if layer_of(module) == "report"
        for target in sorted(targets)
        if layer_of(target) == "data"
    ]


def test_the_report_imports_nothing_of_the_data_layer():
    assert data_imports_of_the_report(_graph()) == []


def test_the_report_rule_catches_an_import_of_the_data_layer():
    graph = _graph()
    graph["sim.report.build"] = graph["sim.report.build"] | {"sim.data.basemap"}
    graph["sim.report.text"] = graph["sim.report.text"] | {"sim.data"}
    assert data_imports_of_the_report(graph) == [
        "sim.report.build imports sim.data.basemap",
        "sim.report.text imports sim.data",
    ]


def test_importing_the_core_loads_no_plotting_osm_gis_or_cli_module():
    core = [m for m in _modules() if layer_of(m) in CORE_LAYERS and m != "sim"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core)
        + f"print([m for m in {EDGE_MODULES!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_import_cycles_even_through_lazy_imports():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == "sim" or nxt == node.rsplit(".", 1)[0]:
                continue  # a package's __init__ holds no imports of its modules
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize(
    "command_module", sorted({c.runs.split(":")[0] for c in COMMANDS.values()})
)
def test_no_command_imports_a_private_name(command_module):
    tree = ast.parse(_modules()[command_module].read_text())
    private = [
        f"{n.module}.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]
    assert private == []


# The command line's arguments stop at the command line: below it, one typed options object
# (sim.batch.options.RunOptions) and return values; the commands do the printing.
NO_PRINT_LAYERS = ("city", "exposure", "data", "scenario", "crowd", "batch")


def argparse_uses(module: str, source: str) -> list[str]:
    """Where a module imports ``argparse`` (lazily or for types only included), or has a
    function taking the command line's ``args``: a parameter named ``args`` with no type or
    with argparse's (``*args`` and a differently typed ``args`` are not the CLI's)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "argparse" for a in node.names
        ):
            found.append(f"{module}:{node.lineno} imports argparse")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "argparse":
            found.append(f"{module}:{node.lineno} imports from argparse")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
                typed = arg.annotation is not None and "Namespace" not in ast.unparse(
                    arg.annotation
                )
                if arg.arg == "args" and not typed:
                    name = getattr(node, "name", "lambda")
                    found.append(f"{module}:{node.lineno} {name}() takes the CLI's args")
    return found


def print_calls(module: str, source: str) -> list[str]:
    """Where a module calls ``print``."""
    return [
        f"{module}:{node.lineno} calls print"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


def test_no_module_below_the_cli_imports_argparse_or_takes_the_clis_args():
    below = {m: p for m, p in _modules().items() if layer_of(m) != "cli"}
    assert below and [u for m, p in below.items() for u in argparse_uses(m, p.read_text())] == []


def test_no_module_of_the_lower_layers_prints():
    lower = {m: p for m, p in _modules().items() if layer_of(m) in NO_PRINT_LAYERS}
    assert {layer_of(m) for m in lower} == set(NO_PRINT_LAYERS)
    assert [c for m, p in lower.items() for c in print_calls(m, p.read_text())] == []


def test_the_argparse_and_print_checks_catch_what_they_look_for():
    planted = (
        "def check(args):\n"
        "    import argparse\n"
        "    print(args.workers)\n"
        "def run(spec, args: 'argparse.Namespace'):\n"
        "    from argparse import Namespace\n"
        "def fine(*args, **kw):\n"
        "    return _work(args)\n"
        "def _work(args: tuple[int, int]):\n"
        "    return args\n"
    )
    assert argparse_uses("m", planted) == [
        "m:1 check() takes the CLI's args",
        "m:4 run() takes the CLI's args",
        "m:2 imports argparse",
        "m:5 imports from argparse",
    ]
    assert print_calls("m", planted) == ["m:3 calls print"]


def module_summary(path: Path) -> str:
    """The first sentence of a module's docstring, on one line (the architecture page's row)."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.split(". ")[0].rstrip(".")


def test_the_architecture_page_names_every_module_as_its_docstring_and_the_layers_in_order():
    page = (SIM.parent / "docs" / "architecture.md").read_text()
    packages = {"sim", *(f"sim.{layer}" for layer in sim.LAYERS)}
    rows = {
        line.split("`")[1]: line.split(" | ", 1)[1].rsplit(" |", 1)[0]
        for line in page.splitlines()
        if line.startswith("| `sim.")
    }
    expected = {m: module_summary(p) for m, p in _modules().items() if m not in packages}
    assert sorted(rows) == sorted(expected)
    stale = [f"| `{m}` | {expected[m]} |" for m in expected if rows[m] != expected[m]]
    assert stale == [], "rows to write in docs/architecture.md:\n" + "\n".join(stale)
    headings = [line.split("`")[1] for line in page.splitlines() if line.startswith("### `")]
    assert headings == list(reversed(sim.LAYERS))
