"""The packages' modules import each other one way: no circle (issue 14)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("basis_library", "discovery")


def _graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (anywhere in it, lazily or not)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            name = f"{package}.{path.stem}"
            found = graph.setdefault(name, set())
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    if node.level:  # relative: from .x import y / from . import y
                        base = package if node.level == 1 else None
                        targets = ([f"{base}.{node.module}"] if node.module else
                                   [f"{base}.{a.name}" for a in node.names])
                    else:
                        targets = [node.module or ""]
                    found.update(t for t in targets if t and t.split(".")[0] in PACKAGES)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names if a.name.split(".")[0] in PACKAGES)
    # A package's __init__ re-exports; importing "discovery" means its __init__.
    return {k: {t if t in graph else f"{t}.__init__" if f"{t}.__init__" in graph else t
                for t in v} - {k} for k, v in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.endswith(".__init__") or nxt not in graph:
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


def test_basis_library_never_imports_discovery():
    graph = _graph()
    assert not {t for k, v in graph.items() if k.startswith("basis_library")
                for t in v if t.startswith("discovery")}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
