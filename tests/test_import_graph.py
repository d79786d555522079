"""The packages import each other one way: no circle among modules, none among packages,
and every arrow between packages points down the layers of the design (issues 14, 31)."""

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("basis_library", "discovery")

#: The parts of the design, top to bottom. A part is a subpackage of ``discovery`` or
#: one of its top-level modules (``discovery.cli``), or ``basis_library``. A module may
#: import from its own part or from any part below it, never from one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("discovery.__init__", "discovery.cli", "discovery.estimator"),
    ("discovery.dynamics",),
    ("discovery._discover", "discovery._progress"),
    ("discovery.backends", "discovery.bigdata"),
    ("discovery.routes",),
    ("discovery.uncertainty",),
    ("discovery.search",),
    ("discovery.report", "discovery.plots", "discovery.datasets"),
    ("discovery.model",),
    ("discovery.symbolic",),
    ("discovery.stats", "discovery.units"),
    ("discovery._data", "discovery._frozen", "discovery._optional", "discovery._version",
     "discovery.errors"),
    ("basis_library",),
)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@functools.cache
def _graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (anywhere in it, lazily or not)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = _module_name(path)
            here = name.split(".")[:-1]  # the package the module is in
            found = graph.setdefault(name, set())
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    if node.level:  # relative: from ..x import y / from . import y
                        base = ".".join(here[:len(here) - node.level + 1])
                        targets = ([f"{base}.{node.module}"] if node.module else
                                   [f"{base}.{a.name}" for a in node.names])
                    else:
                        targets = [node.module or ""]
                    found.update(t for t in targets if t and t.split(".")[0] in PACKAGES)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names if a.name.split(".")[0] in PACKAGES)
    return {k: {_resolve(t, graph) for t in v} - {k} for k, v in graph.items()}


def _resolve(target: str, graph: dict[str, set[str]]) -> str:
    """A module of the graph: importing "discovery.search" means its __init__, and
    ``from .. import discover`` the __init__ of the package that holds the name."""
    for name in (target, f"{target}.__init__", f"{target.rpartition('.')[0]}.__init__"):
        if name in graph:
            return name
    return target


def _part(module: str) -> str:
    """The part of the design a module belongs to (see :data:`LAYERS`)."""
    parts = module.split(".")
    if parts[0] == "basis_library":
        return "basis_library"
    if len(parts) > 2:  # discovery.<subpackage>.<module>
        return ".".join(parts[:2])
    return module


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Part → the other parts its modules import."""
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(_part(module), set()).update(_part(t) for t in targets)
    return {k: v - {k} for k, v in out.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "discovery.__init__" or nxt not in graph:
                continue  # the public face, imported by users, not by the engine
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if not state.get(nxt):
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node)
            if found:
                return found
    return []


def test_no_module_imports_one_that_imports_it_back():
    assert _cycle(_graph()) == []


def test_no_package_imports_one_that_imports_it_back():
    assert _cycle(_package_graph(_graph())) == []


def test_every_part_has_a_layer():
    parts = set(_package_graph(_graph()))
    placed = {p for layer in LAYERS for p in layer}
    assert parts - placed == set(), "a new part of discovery needs its place in LAYERS"


@pytest.mark.parametrize("part", sorted({p for layer in LAYERS for p in layer}))
def test_a_part_imports_only_its_own_layer_and_below(part):
    level = {p: i for i, layer in enumerate(LAYERS) for p in layer}
    upward = sorted(t for t in _package_graph(_graph()).get(part, ())
                    if t in level and level[t] < level[part])
    assert upward == [], f"{part} (layer {level[part]}) imports a part above it"


def test_basis_library_never_imports_discovery():
    graph = _graph()
    assert not {t for k, v in graph.items() if k.startswith("basis_library")
                for t in v if t.startswith("discovery")}


def test_no_private_name_crosses_a_module_boundary():
    """A name another module needs is public in its home (``from .x import _y`` is not)."""
    crossing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (
                        node.level or (node.module or "").split(".")[0] in PACKAGES):
                    crossing += [f"{_module_name(path)}: {node.module}.{a.name}"
                                 for a in node.names if a.name.startswith("_")]
    assert crossing == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_parts_are_found_for_modules_of_subpackages_and_the_top():
    assert _part("discovery.routes.rational") == "discovery.routes"
    assert _part("discovery.cli") == "discovery.cli"
    assert _part("basis_library.generators") == "basis_library"
