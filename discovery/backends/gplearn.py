"""gplearn as a genetic search backend (SRBench's baseline), run to a time limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from .._optional import optional_import
from ..errors import FitError
from .registry import GeneticResult

__all__ = ["run_gplearn", "GPLEARN_DEFAULTS", "program_to_sympy"]

#: SRBench's gplearn settings where they apply; any gplearn SymbolicRegressor
#: parameter can be overridden through ``backend_options``. ``generations`` is
#: an upper bound: the search also stops at the time limit.
GPLEARN_DEFAULTS: dict[str, Any] = {
    "population_size": 1000,
    "generations": 10_000,
    "tournament_size": 20,
    "function_set": ("add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", "neg", "inv"),
    "parsimony_coefficient": 0.001,
    "p_crossover": 0.9,
    "p_subtree_mutation": 0.01,
    "p_hoist_mutation": 0.01,
    "p_point_mutation": 0.01,
    "n_jobs": 1,
}

# gplearn's protected operators, written as the plain functions they equal
# away from their guards (|x| ≤ 0.001 for div/inv/log).
_OPS: dict[str, Callable[..., sympy.Expr]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "inv": lambda a: 1 / a, "neg": lambda a: -a,
    "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)), "log": lambda a: sympy.log(sympy.Abs(a)),
    "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
}


def program_to_sympy(program: list[Any], symbols: list[sympy.Symbol]) -> sympy.Expr:
    """A gplearn program (prefix list of functions, feature indices, constants) as sympy.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> x, y = sympy.symbols("x y")
    >>> mul = SimpleNamespace(name="mul", arity=2)
    >>> sub = SimpleNamespace(name="sub", arity=2)
    >>> program_to_sympy([mul, 0, sub, 1, 0.5], [x, y])
    x*(y - 0.5)
    """

    def build(i: int) -> tuple[sympy.Expr, int]:
        node = program[i]
        if hasattr(node, "arity"):
            if node.name not in _OPS:
                raise FitError(f"gplearn function {node.name!r} has no translation; "
                               f"use function_set from: {', '.join(_OPS)}.")
            args, j = [], i + 1
            for _ in range(node.arity):
                arg, j = build(j)
                args.append(arg)
            return _OPS[node.name](*args), j
        if isinstance(node, (int, np.integer)):
            return symbols[int(node)], i + 1
        return sympy.Float(float(node), 15), i + 1

    expr, end = build(0)
    if end != len(program):
        raise FitError("gplearn program has trailing nodes; cannot translate it.")
    return expr


def run_gplearn(X: np.ndarray, y: np.ndarray, names: list[str], *, time_limit: float = 20.0,
                random_state: int | None = 0, options: dict[str, Any] | None = None
                ) -> GeneticResult:
    """Evolve with gplearn one generation at a time (``warm_start``) until the time limit.

    A generation is started only when the last one's duration still fits in
    the time left, so the search ends within about one generation of the limit.
    """
    module = optional_import("gplearn.genetic", "gplearn", purpose="method='gplearn'")
    params = {**GPLEARN_DEFAULTS, "random_state": 0 if random_state is None else int(random_state),
              **(options or {})}
    max_generations = int(params.pop("generations"))
    params.pop("warm_start", None)
    try:
        regressor = module.SymbolicRegressor(generations=1, warm_start=True, **params)
    except TypeError as exc:
        raise FitError(f"gplearn does not take these options: {exc}.") from exc
    started = time.perf_counter()
    generations, last = 0, 0.0
    while generations < max_generations:
        elapsed = time.perf_counter() - started
        if generations and elapsed + last > time_limit:
            break
        generations += 1
        t = time.perf_counter()
        regressor.set_params(generations=generations)
        regressor.fit(X, y)
        last = time.perf_counter() - t
    seconds = time.perf_counter() - started
    symbols = [sympy.Symbol(n, real=True) for n in names]
    best = program_to_sympy(regressor._program.program, symbols)
    loss = float(np.mean((regressor.predict(X) - y) ** 2))
    front = [{"complexity": int(regressor._program.length_), "loss": loss, "expression": best,
              "chosen": True}]
    return GeneticResult(expression=best, front=front, backend="gplearn", seconds=seconds,
                         info={"gplearn_params": {k: v for k, v in params.items()
                                                  if k != "random_state"},
                               "generations": generations})
