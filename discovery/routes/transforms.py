"""Target transforms (AI Feynman's trick): fit ``y²``, ``1/y``, ``log y``, ``√y`` or
``sin y`` with the library, then invert, for laws such as ``sqrt(x² + y²)``,
``1/(1/a + 1/b)``, ``exp(-x/y)`` and ``asin(n·sin θ)``.
"""

from __future__ import annotations

import numpy as np
import sympy

__all__ = ["TRANSFORMS"]


def _sine(y: np.ndarray) -> np.ndarray:
    """sin y where every |y| ≤ π/2 and some |y| ≥ 1/2; else NaN (not applicable)."""
    if np.all(np.abs(y) <= np.pi / 2) and np.max(np.abs(y)) >= 0.5:
        return np.sin(y)
    return np.full_like(y, np.nan)


#: (name, forward on the data, inverse on the fitted expression, the forward
#: map's derivative). Noise of sd σ on y is noise of sd |g'(y)| σ on g(y) (the
#: delta method), so a fit of g(y) weights each row by 1/g'(y)²: least squares
#: in the transformed space then approximates least squares on y.
TRANSFORMS = (
    ("y**2", lambda y: y**2, lambda e: sympy.sqrt(e), lambda y: 2 * y),
    ("1/y", lambda y: 1 / y, lambda e: 1 / e, lambda y: -1 / y**2),
    ("log(y)", lambda y: np.log(y), lambda e: sympy.exp(e), lambda y: 1 / y),
    ("sqrt(y)", lambda y: np.sqrt(y), lambda e: e**2, lambda y: 0.5 / np.sqrt(y)),
    # Only where every y lies in asin's range, so that sin is invertible on the data
    # (refraction and diffraction angles: asin(n·sin θ), asin(λ/d)), and some |y|
    # reaches 1/2: below, sin y is within 4% of y, and the fit of sin y is a near
    # copy of y's with a nonlinearity the data hardly test (on 1% noise
    # asin(0.0795 p cos θ/(εr²)) then edged out p cos θ/(4πεr²)).
    ("sin(y)", _sine, sympy.asin, np.cos),
)
