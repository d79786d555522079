"""Operon (pyoperon) as a genetic search backend that runs offline."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import sympy

from basis_library import parse_expression

from .._optional import optional_import
from ..errors import FitError
from .registry import GeneticResult

__all__ = ["run_operon", "OPERON_DEFAULTS"]

#: Defaults that can find the cannon law; any PyOperon SymbolicRegressor
#: parameter can be overridden through ``backend_options``.
OPERON_DEFAULTS: dict[str, Any] = {
    "allowed_symbols": "add,sub,mul,div,constant,variable,sin,cos,exp,log,sqrt",
    "max_length": 30,
    "population_size": 1000,
    "generations": 10_000,
    "max_evaluations": 10_000_000,
    "n_threads": 2,
    "objectives": ["r2", "length"],
}


def run_operon(X: np.ndarray, y: np.ndarray, names: list[str], *, time_limit: float = 20.0,
               random_state: int | None = 0, options: dict[str, Any] | None = None
               ) -> GeneticResult:
    """Search with pyoperon's SymbolicRegressor; translate its front to sympy.

    A time limit bounds the search; with several threads, or when the time limit
    rather than ``max_evaluations`` ends it, runs are not bit-for-bit
    reproducible even with a fixed ``random_state``.
    """
    module = optional_import("pyoperon.sklearn", "operon", purpose="method='operon'")
    params = {**OPERON_DEFAULTS, "max_time": max(1, int(round(time_limit))),
              "random_state": 0 if random_state is None else int(random_state),
              **(options or {})}
    try:
        regressor = module.SymbolicRegressor(**params)
    except TypeError as exc:
        raise FitError(f"Operon does not take these options: {exc}.") from exc
    started = time.perf_counter()
    # pyoperon 0.6 evaluates in float32 and fails on a float64 target
    # (FitLeastSquares gets mixed dtypes), so both go in as float32.
    regressor.fit(np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))
    seconds = time.perf_counter() - started
    table = {n: sympy.Symbol(n, real=True) for n in names}

    def parse(model: object) -> sympy.Expr:
        text = regressor.get_model_string(model, 12, names=names)
        return parse_expression(text, table, allow_new_symbols=False, where="Operon model")

    best = parse(regressor.model_)
    front = []
    for entry in regressor.pareto_front_:
        expr = parse(entry["tree"])
        front.append({"complexity": int(entry["complexity"]),
                      "loss": float(entry["mean_squared_error"]), "expression": expr,
                      "chosen": expr == best})
    front.sort(key=lambda r: r["complexity"])
    if not any(r["chosen"] for r in front):
        front.append({"complexity": sum(1 for _ in sympy.preorder_traversal(best)),
                      "loss": float(np.mean((regressor.predict(
                          np.asarray(X, dtype=np.float32)) - y) ** 2)),
                      "expression": best, "chosen": True})
    return GeneticResult(expression=best, front=front, backend="operon", seconds=seconds,
                         info={"operon_params": {k: v for k, v in params.items()
                                                 if k != "random_state"}})
