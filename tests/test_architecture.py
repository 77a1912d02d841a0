"""The package's layering, read from the source: imports go one way, there are no cycles, and
function-local imports only defer heavy or optional dependencies.

Layers, lowest first: foundations (errors, validation, rng, io and the private helpers) ←
assets ← transforms ← data ← models, metrics ← train ← engine, profiling ← reporting ← study ←
cli. A module may import its own package and any lower layer, never a higher one nor a sibling
package of its own layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import transforms2d

ROOT = Path(transforms2d.__file__).parent
FOUNDATIONS = {"__init__", "errors", "validation", "rng", "io", "_malloc", "_lazy"}
RANK = {"foundations": 0, "assets": 1, "transforms": 2, "data": 3, "models": 4, "metrics": 4,
        "train": 5, "engine": 6, "profiling": 6, "reporting": 7, "study": 8, "cli": 9}
# Third-party modules heavy or optional enough to be imported inside the function that needs
# them (so that light commands and worker start-up do not pay for them).
DEFERRABLE = {"torch", "ray", "datasets", "pandas", "matplotlib", "pyarrow", "timm",
              "torchvision", "tomllib", "mlflow", "wandb"}  # tomllib: Python >= 3.11 only


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["transforms2d", *parts])


def layer(module: str) -> str:
    """The layer of ``transforms2d.x.y``: its first component (foundations for root modules)."""
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in FOUNDATIONS):
        return "foundations"
    return "cli" if parts[1] == "__main__" else parts[1]


def targets(path: Path, node: ast.AST) -> list[str]:
    """The ``transforms2d`` modules an import statement in ``path`` loads."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "transforms2d"]
    if node.level == 0:
        base = (node.module or "").split(".")
        if base[0] != "transforms2d":
            return []
    else:
        base = package[:len(package) - node.level + 1] + ((node.module or "").split(".")
                                                          if node.module else [])
    subs = []
    for alias in node.names:  # `from . import corruption` names a submodule
        sub = ROOT.joinpath(*base[1:], alias.name)
        if sub.with_suffix(".py").exists() or (sub / "__init__.py").exists():
            subs.append(".".join([*base, alias.name]))
    # `from <a package above this module> import <submodules>` loads the submodules only:
    # Python initialises every package above a module before running the module, so an edge
    # to that package would say nothing (and read as a cycle). Importing a name the package
    # itself defines (`from .. import helper`) keeps the edge.
    if subs and len(subs) == len(node.names) and here[:len(base)] == base:
        return subs
    return [".".join(base), *subs]


def sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def imports() -> dict[str, list[tuple[str, bool, int]]]:
    """``module -> [(imported transforms2d module, inside a function, line)]``."""
    graph: dict[str, list[tuple[str, bool, int]]] = {}
    for path in sources():
        tree = ast.parse(path.read_text())
        local = {id(n) for f in ast.walk(tree)
                 if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                 for n in ast.walk(f) if isinstance(n, ast.Import | ast.ImportFrom)}
        edges = graph.setdefault(module_name(path), [])
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges += [(t, id(node) in local, node.lineno) for t in targets(path, node)]
    return graph


def test_the_layers_cover_every_module():
    unknown = sorted({layer(m) for m in imports()} - set(RANK))
    assert not unknown, f"modules outside the known layers: {unknown} (add them to RANK)"


def test_no_module_imports_from_a_higher_or_sibling_layer():
    bad = []
    for mod, edges in imports().items():
        for target, _, line in edges:
            a, b = layer(mod), layer(target)
            if a != b and RANK[b] >= RANK[a]:
                bad.append(f"{mod}:{line} imports {target} ({a} may not import {b})")
    assert not bad, "\n".join(bad)


def test_there_are_no_import_cycles():
    graph = {m: sorted({t for t, _, _ in e if t != m}) for m, e in imports().items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in graph.get(m, []):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def test_function_local_imports_only_defer_heavy_or_optional_dependencies():
    bad = []
    for path in sources():
        mod = module_name(path)
        tree = ast.parse(path.read_text())
        for f in ast.walk(tree):
            if not isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(f):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [("." * node.level) + (node.module or "")]
                else:
                    continue
                for name in names:
                    top = name.lstrip(".").split(".")[0]
                    internal = name.startswith(".") or top == "transforms2d"
                    # the command line defers the package's own heavy layers to the command
                    ok = top in DEFERRABLE or (internal and layer(mod) == "cli")
                    if not ok:
                        bad.append(f"{mod}:{node.lineno} imports {name} inside {f.name}()")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("command", [["--help"], ["transforms"]])
def test_light_commands_do_not_import_torch(command):
    """``t2d --help`` and ``t2d transforms`` run without loading PyTorch (their speed is
    measured in benchmarks/bench_cli.py, not here)."""
    import subprocess
    import sys

    code = ("import sys\nfrom transforms2d.cli import app\n"
            f"try:\n    app({command!r}, prog_name='t2d')\nexcept SystemExit:\n    pass\n"
            "print('torch-loaded' if 'torch._C' in sys.modules else 'torch-deferred')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("torch-deferred"), out.stdout[-500:]


MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_60_lines():
    """Short functions (the project's rule is ~40 lines): none in ``src/`` over
    :data:`MAX_FUNCTION_LINES`, counted from ``def`` to its last line, docstring included."""
    long = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    where = path.relative_to(ROOT.parent.parent)
                    long.append(f"{where}:{node.lineno} {node.name}() is {length} lines")
    assert not long, (f"functions over {MAX_FUNCTION_LINES} lines (split them into helpers):\n"
                      + "\n".join(long))


# The engine is the core (what runs are, where they live, how they are computed and claimed);
# what is made of stored runs is reporting/, what the paper means by them is study/.
ENGINE_CORE = {"__init__", "spec", "store", "run", "executors", "pool_executor", "ray_executor",
               "lease", "verify", "provenance", "plan", "rehearse", "overrides", "registry",
               "grids", "transfer"}


def test_the_engine_holds_only_its_core():
    modules = {p.stem for p in (ROOT / "engine").glob("*.py")}
    assert modules == ENGINE_CORE, f"outside the core: {sorted(modules - ENGINE_CORE)}"
    for path in (ROOT / "engine").glob("*.py"):  # the paper's vocabulary is the study's
        text = path.read_text()
        for word in ("precondition", "C7", "C8"):
            assert word not in text, f"{path.name} mentions {word!r}"
