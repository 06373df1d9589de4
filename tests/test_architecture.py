"""The package's shape: no import cycles (lazy imports included), pyVmomi only in the
collector, every package listed for the wheel, shipped files found through
importlib.resources."""

from __future__ import annotations

import ast
import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "reporter"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """module -> the reporter modules it imports anywhere in its body (functions too)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                # "from reporter.checks import base" imports reporter.checks.base; a name that
                # is not a module resolves to the package/module it came from.
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith("reporter"):
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            # importing a submodule runs its parent packages' __init__ first: a package
            # importing its own submodules is the package's own business, not a cycle
            if n.startswith(m + "."):
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_core_and_config_import_nothing_above_them() -> None:
    graph = import_graph()
    allowed = {"reporter.core": ("reporter.core", "reporter.errors"),
               "reporter.config": ("reporter.config", "reporter.core", "reporter.errors")}
    for layer, ok in allowed.items():
        for mod, deps in graph.items():
            if mod == layer or mod.startswith(layer + "."):
                bad = sorted(d for d in deps if not d.startswith(ok))
                assert not bad, f"{mod} imports {bad}"


def test_only_the_collector_imports_pyvmomi() -> None:
    for path in PKG.rglob("*.py"):
        if "collect" in path.relative_to(PKG).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("pyVmomi", "pyVim") for n in names), path


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {_module_name(p.parent / "__init__.py") for p in PKG.rglob("__init__.py")}
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert {"reporter.templates", "reporter.samples"} <= listed


def test_templates_and_samples_are_found_through_importlib_resources() -> None:
    assert (resources.files("reporter.templates") / "report.html.j2").is_file()
    assert (resources.files("reporter.samples") / "sample-snapshot.json.gz").is_file()
    assert (resources.files("reporter") / "data" / "licensing.toml").is_file()
