"""Other routes to a formula besides the library fit, compared on the original scale.

- **Power law**: for data whose target and inputs keep one sign,
  ``log|y| = c + Σ aᵢ log|xᵢ|`` by least squares, exponents snapped to small
  rationals (AI Feynman's and SRBench's most common law shape).
- **Target transforms** (AI Feynman's trick): fit ``y²``, ``1/y``, ``log y`` or
  ``√y`` with the library, then invert, for laws such as ``sqrt(x² + y²)``,
  ``1/(1/a + 1/b)`` and ``exp(-x/y)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy

from basis_library import as_symbols

from ._data import Dataset

__all__ = ["power_law", "TRANSFORMS"]

#: (name, forward on the data, inverse on the fitted expression).
TRANSFORMS = (
    ("y**2", lambda y: y**2, lambda e: sympy.sqrt(e)),
    ("1/y", lambda y: 1 / y, lambda e: 1 / e),
    ("log(y)", lambda y: np.log(y), lambda e: sympy.exp(e)),
    ("sqrt(y)", lambda y: np.sqrt(y), lambda e: e**2),
)

_MAX_DENOMINATOR = 3
_SNAP_TOL = 0.02


def power_law(dataset: Dataset) -> sympy.Expr | None:
    """``±C Π xᵢ^aᵢ`` fitted in log space, or None where signs vary or the fit is poor.

    Exponents within 0.02 of a fraction with denominator ≤ 3 are snapped to it;
    the coefficient is then refitted by least squares on the original scale.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery import prepare
    >>> rng = np.random.default_rng(0)
    >>> q1, q2, r = rng.uniform(1, 5, (3, 200))
    >>> data = prepare({"q1": q1, "q2": q2, "r": r, "F": q1 * q2 / (4 * np.pi * r**2)}, "F")
    >>> power_law(data)
    0.0795774715459477*q1*q2/r**2
    """
    y = dataset.y
    X = dataset.matrix()
    if not (np.all(y > 0) or np.all(y < 0)):
        return None
    signs = np.sign(X)
    if not np.all(signs != 0) or not np.all(np.abs(signs.sum(axis=0)) == len(y)):
        return None
    A = np.column_stack([np.ones(len(y)), np.log(np.abs(X))])
    b = np.log(np.abs(y))
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    residual = b - A @ coef
    if np.std(residual) > 0.05 * max(np.std(b), 1e-12):
        return None  # not a power law: log-space R² below ~0.9975
    exponents = []
    for a in coef[1:]:
        fraction = Fraction(float(a)).limit_denominator(_MAX_DENOMINATOR)
        if abs(float(fraction) - a) > _SNAP_TOL:
            return None
        exponents.append(fraction)
    symbols = as_symbols(dataset.inputs)
    shape = sympy.Mul(*[s ** sympy.Rational(f.numerator, f.denominator)
                        for s, f in zip(symbols, exponents) if f != 0])
    with np.errstate(all="ignore"):
        basis = np.prod([np.abs(X[:, j]) ** float(f) for j, f in enumerate(exponents)], axis=0)
        basis = basis * np.prod([np.sign(X[:, j]) ** f.numerator
                                 for j, f in enumerate(exponents)], axis=0)
    if not np.all(np.isfinite(basis)) or not np.any(basis):
        return None
    scale = float(basis @ y / (basis @ basis))
    if not math.isfinite(scale) or scale == 0:
        return None
    return sympy.Float(scale, 15) * shape
