"""The ``--basis`` specification language, parsed by a whitelist interpreter.

A spec composes generators with ``+`` and ``*`` (``1`` is the constant term)::

    poly(v, theta, degree=3) * (1 + fourier(theta, 3)) + custom("exp(-v)")

It is read with :mod:`ast` and interpreted node by node; nothing is evaluated.
A spec starting with ``@`` names a file holding one custom term per line.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ParseError
from .generators import auto_library, constant, custom, fourier, monomials, unary
from .library import Library

__all__ = ["parse_basis"]

def _poly(variables: list[str], args: list[Any], kwargs: dict[str, Any]) -> Library:
    return monomials(variables, *args, **kwargs) if args or "degree" in kwargs else \
        monomials(variables, 2, **kwargs)


def _fourier(variables: list[str], args: list[Any], kwargs: dict[str, Any]) -> Library:
    return fourier(variables, *args, **kwargs) if args or "harmonics" in kwargs else \
        fourier(variables, 1, **kwargs)


def _unary(variables: list[str], args: list[Any], kwargs: dict[str, Any]) -> Library:
    # unary(x, "log") means the one map; unary(x, ["log", "inv"]) a list of them.
    if args and isinstance(args[0], str):
        args = [[args[0]], *args[1:]]
    return unary(variables, *args, **kwargs)


def _custom(variables: list[str], args: list[Any], kwargs: dict[str, Any]) -> Library:
    return custom(*[str(a) for a in args], **kwargs)


#: The generators a spec may call: name → builder(variables, positional, keyword).
#: One lookup; an unknown name fails with the choices (and a near miss).
_GENERATORS = {"poly": _poly, "monomials": _poly, "fourier": _fourier, "unary": _unary,
               "custom": _custom}


def parse_basis(spec: str, data: Mapping[str, np.ndarray], inputs: list[str]) -> Library:
    """Build the library a spec describes, for the given data columns.

    Parameters
    ----------
    spec
        ``"auto"``, a composition of generators, or ``"@path"`` to a file of terms.
    data
        The columns (for ``auto``).
    inputs
        The input column names; a generator given no variables uses all of them.

    Examples
    --------
    >>> lib = parse_basis("poly(degree=2) * (1 + fourier(theta, 1))", {}, ["v", "theta"])
    >>> len(lib)
    18
    """
    text = spec.strip()
    if text == "auto":
        return auto_library(data, inputs)
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise ParseError(f"Cannot read the basis file {str(path)!r}: {exc.strerror}.") from exc
        terms = [ln.split("#", 1)[0].strip() for ln in lines]
        return custom(*[t for t in terms if t])
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"The basis spec {spec!r} is not valid: {exc.msg}.") from exc
    return _Interpreter(spec, data, inputs).library(tree.body)


class _Interpreter:
    def __init__(self, spec: str, data: Mapping[str, np.ndarray], inputs: list[str]) -> None:
        self.spec, self.data, self.inputs = spec, data, inputs

    def fail(self, what: str) -> ParseError:
        return ParseError(f"The basis spec {self.spec!r} has {what}.")

    def library(self, node: ast.AST) -> Library:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = self.library(node.left), self.library(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        if isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool):
            return constant()
        if isinstance(node, ast.Name) and node.id == "auto":
            return auto_library(self.data, self.inputs)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node)
        raise self.fail("a part that is not a generator call, 'auto', 1, '+' or '*'")

    def call(self, node: ast.Call) -> Library:
        name = node.func.id  # type: ignore[attr-defined]
        if name not in _GENERATORS:
            near = difflib.get_close_matches(name, list(_GENERATORS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise self.fail(f"an unknown generator {name!r}{hint}")
        names = [a.id for a in node.args if isinstance(a, ast.Name)]
        unknown = [n for n in names if n not in self.inputs]
        if unknown:
            raise self.fail(f"the unknown variable(s) {', '.join(unknown)}; inputs are: "
                            f"{', '.join(self.inputs)}")
        others: list[Any] = [self.value(a) for a in node.args if not isinstance(a, ast.Name)]
        kwargs: dict[str, Any] = {k.arg: self.value(k.value) for k in node.keywords if k.arg}
        try:
            return _GENERATORS[name](names or self.inputs, others, kwargs)
        except TypeError as exc:
            raise self.fail(f"bad arguments to {name}: {exc}") from exc

    def value(self, node: ast.AST) -> object:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        raise self.fail("an argument that is not a number, string, name or list")
