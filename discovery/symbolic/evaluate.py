"""Sympy terms evaluated on data, one column a term."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import sympy

if TYPE_CHECKING:
    from .._data import Dataset

__all__ = ["evaluate_expression", "evaluate_terms", "term_columns"]


def term_columns(terms: list[sympy.Expr], dataset: Dataset) -> np.ndarray:
    """Each of ``terms`` evaluated on ``dataset``'s inputs, one column a term."""
    return evaluate_terms(terms, dataset.inputs, dataset.matrix())


def evaluate_terms(terms: Sequence[sympy.Expr], names: Sequence[str], X: np.ndarray
                   ) -> np.ndarray:
    """Each of ``terms`` (over the variables ``names``) on the rows of ``X`` (one
    column a variable), one column a term; non-finite values are kept."""
    from basis_library import as_symbols, compile_numpy

    symbols = as_symbols(list(names))
    out = np.empty((X.shape[0], len(terms)))
    for j, term in enumerate(terms):
        out[:, j] = np.broadcast_to(compile_numpy(symbols, term)(*X.T), (X.shape[0],))
    return out


def evaluate_expression(expr: sympy.Expr, values: Mapping[str, np.ndarray], n: int
                        ) -> np.ndarray:
    """``expr`` on ``n`` rows of the columns ``values`` (by its symbols' names), as a new
    array; a constant is repeated. Non-finite values are kept."""
    from basis_library import as_symbols, compile_numpy

    names = sorted(s.name for s in expr.free_symbols)  # type: ignore[attr-defined]
    if not names:
        return np.full(n, float(expr))
    fn = compile_numpy(as_symbols(names), expr)
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(fn(*(values[c] for c in names)), dtype=float),
                               (n,)).copy()
