"""The shape of the package: one exception root, no import cycles, a light ``--help``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ssbml
from ssbml.errors import SsbmlError

PACKAGE = Path(ssbml.__file__).resolve().parent


def _module_names() -> list[str]:
    names = ["ssbml"]
    for info in pkgutil.walk_packages(ssbml.__path__, prefix="ssbml."):
        if info.name.rpartition(".")[2] in ("__main__",):  # running it would start the CLI
            continue
        names.append(info.name)
    return names


def test_every_ssbml_exception_derives_from_ssbml_error():
    offenders = []
    for name in _module_names():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (obj.__module__.startswith("ssbml") and issubclass(obj, BaseException)
                    and not issubclass(obj, SsbmlError)):
                offenders.append(f"{obj.__module__}.{obj.__qualname__}")
    assert not offenders, f"not derived from ssbml.errors.SsbmlError: {sorted(set(offenders))}"


def test_cli_turns_an_unhandled_ssbml_error_into_one_line(monkeypatch):
    from ssbml.cli import app
    from ssbml.screening.chunks import RunMismatchError
    from ssbml.stability import reference

    def boom(_values):
        raise RunMismatchError("some ssbml failure")

    monkeypatch.setattr(reference, "normalize_excluded", boom)
    result = CliRunner().invoke(app, ["stability", "Li3PS4"])
    assert result.exit_code == 2, result.output
    assert result.output == "error: some ssbml failure\n"


# --- import graph ---------------------------------------------------------------------


def _path_module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_path_module(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Name | ast.Attribute) and
               getattr(n, "id", getattr(n, "attr", None)) == "TYPE_CHECKING"
               for n in ast.walk(test))


def _imports(module: str, *, functions: bool) -> dict[str, int]:
    """The ssbml modules ``module`` imports (name -> first line): module-level imports,
    and with ``functions`` also those inside functions; never under TYPE_CHECKING."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("ssbml") and name != module:
            found.setdefault(name, line)

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if functions:
                    visit(node.body)
                continue
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    add(sub if sub in MODULES else source, node.lineno)
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit([c for c in children if isinstance(c, ast.AST)])

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return components


def _describe(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    edges = [f"{a}:{line} -> {b}" for a in component for b, line in sorted(graph[a].items())
             if b in component]
    return "; ".join(edges)


@pytest.mark.parametrize("functions", [False, True], ids=["module-level", "with-functions"])
def test_no_import_cycles(functions):
    """No cycle among ssbml modules, counting imports inside functions too: a lazy
    import is for import time, never a way around a cycle (move the shared piece down)."""
    graph = {m: _imports(m, functions=functions) for m in MODULES}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + " | ".join(_describe(graph, c) for c in cycles)


def test_the_import_graph_sees_relative_and_package_imports():
    graph = {m: _imports(m, functions=True) for m in MODULES}
    assert "ssbml.cli.screen" in graph["ssbml.cli"]  # from ssbml.cli import screen as _screen
    assert "ssbml.errors" in graph["ssbml.io"]
    assert _cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}}) == [["a", "b", "c"]]


# --- a light --help -------------------------------------------------------------------

HEAVY = ("mlflow", "dask", "pymatgen", "sklearn", "pandas", "matplotlib")


@pytest.mark.parametrize("command", [[], ["screen"], ["predict", "conductivity"],
                                     ["stability"], ["train", "conductivity"]],
                         ids=lambda c: " ".join(c) or "ssbml")
def test_help_does_not_import_heavy_libraries(command):
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['ssbml', *{command!r}, '--help']\n"
        "try:\n"
        "    runpy.run_module('ssbml', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "Usage" in out.stdout
    assert out.stderr.strip().splitlines()[-1:] in ([], [""]), out.stderr


# --- figures without pyplot ------------------------------------------------------------


def test_no_module_switches_the_matplotlib_backend():
    offenders = [name for name, path in MODULES.items()
                 if "matplotlib.use(" in path.read_text(encoding="utf-8")]
    assert not offenders, offenders


def test_plots_are_drawn_without_pyplot(tmp_path):
    code = (
        "import sys\n"
        "from ssbml.io import atomic_savefig\n"
        "from ssbml.tracking.plots import bar_chart, parity_plot\n"
        "import pandas as pd\n"
        f"atomic_savefig(parity_plot([1, 2, 3], [1.1, 2.2, 2.9]), {str(tmp_path / 'p.png')!r})\n"
        "t = pd.DataFrame({'k': ['a', 'b'], 'v': [1.0, 2.0]})\n"
        f"atomic_savefig(bar_chart(t, 'k', 'v'), {str(tmp_path / 'b.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stderr
    for name in ("p.png", "b.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


# --- one atomic writer ----------------------------------------------------------------

_RAW_WRITES = ("os.replace(", "os.rename(", "mkstemp(", "NamedTemporaryFile(", ".write_text(",
               ".write_bytes(", "joblib.dump(")


def test_files_are_written_through_ssbml_io():
    """Output files go through :func:`ssbml.io.atomic_write` (whole file or none, mode
    0666 & ~umask); only ssbml/io.py touches temporary files and renames."""
    offenders = [f"{name}: {raw}" for name, path in MODULES.items() if name != "ssbml.io"
                 for raw in _RAW_WRITES if raw in path.read_text(encoding="utf-8")]
    assert not offenders, offenders
