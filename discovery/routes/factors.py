"""Common factors: monomials that may multiply the whole law, found in log space
(AI Feynman's separability test done by regression), and the values of a shape."""

from __future__ import annotations

import numpy as np
import sympy

from basis_library import as_symbols, compile_numpy

from .._data import Dataset

__all__ = ["common_factors", "evaluate_shape", "proportional"]


def evaluate_shape(shape: sympy.Expr, dataset: Dataset) -> np.ndarray | None:
    symbols = as_symbols(dataset.inputs)
    values = np.broadcast_to(compile_numpy(symbols, shape)(*dataset.matrix().T), (dataset.n,))
    if not np.all(np.isfinite(values)) or not np.any(values):
        return None
    return values


def proportional(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> bool:
    """Whether ``a`` is a constant multiple of ``b`` (to ``rtol``, default rounding)."""
    with np.errstate(all="ignore"):
        ratio = a / b
    return bool(np.all(np.isfinite(ratio))
                and np.ptp(ratio) <= rtol * float(np.max(np.abs(ratio))))


#: How far from an integer a log-space exponent may be for its input to enter a
#: common factor (the estimates' standard errors are 0.05 to 0.1 on 1,000 rows).
_FACTOR_TOL = 0.25


def common_factors(dataset: Dataset) -> list[sympy.Expr]:
    """Monomials ``M`` that may multiply the whole law.

    ``y = M(x)·g(x)`` where the inputs of M do not enter g (``G m₁m₂(1/r₂ − 1/r₁)``,
    ``Aκ(T₂ − T₁)/d``, ``p cos θ/(4πε r²)``) is beyond a library of low-degree
    monomials, and beyond a power law; but ``log|y| = log|M| + log|g|``, so a
    log-space regression on every ``log|xᵢ|`` puts integer exponents on M's
    inputs whatever g is, when the inputs are drawn independently. Those within
    :data:`_FACTOR_TOL` of an integer make M; the library then fits y with
    every column multiplied by M, and the extended BIC decides. This is AI
    Feynman's separability test (Udrescu & Tegmark 2020) done by regression
    instead of a network. ``log|g|`` is heavy-tailed where g crosses zero, so
    besides least squares (plain, and weighted by |y|) a robust fit (soft-L1
    loss) proposes its own M; the distinct proposals are returned.
    """
    from scipy.optimize import least_squares

    y = dataset.y
    X = dataset.matrix()
    rows = y != 0
    if rows.sum() < 10 or not np.all(X != 0):
        return []
    A = np.column_stack([np.ones(rows.sum()), np.log(np.abs(X[rows]))])
    b = np.log(np.abs(y[rows]))
    w = np.abs(y[rows]) / np.max(np.abs(y[rows]))
    fits = [np.linalg.lstsq(A, b, rcond=None)[0],
            np.linalg.lstsq(A * w[:, None], b * w, rcond=None)[0]]
    spread = float(np.median(np.abs(b - A @ fits[0] - np.median(b - A @ fits[0])))) or 1.0
    with np.errstate(all="ignore"):
        robust = least_squares(lambda c: A @ c - b, fits[0], loss="soft_l1", f_scale=spread)
    fits.append(robust.x)
    symbols = as_symbols(dataset.inputs)
    out: list[sympy.Expr] = []
    for coef in fits:
        if not np.all(np.isfinite(coef)):
            continue
        exponents = [int(round(a)) if abs(a - round(a)) <= _FACTOR_TOL else 0 for a in coef[1:]]
        factor = sympy.Mul(*[s**e for s, e in zip(symbols, exponents)])
        if factor != 1 and factor not in out and evaluate_shape(factor, dataset) is not None:
            out.append(factor)
    return out
