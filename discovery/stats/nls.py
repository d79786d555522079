"""Nonlinear least squares of a few parameters, with standard errors.

Shared by the routes whose parameters are not linear in y (rational laws,
constants inside functions) and the trajectory refit of dynamics: a
Levenberg–Marquardt fit with some parameters held, and standard errors from its
Jacobian. Snapping the parameters to closed forms is
:func:`discovery.symbolic.snap.snap_parameters`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy

from .noise import noise_variance

__all__ = ["NLSFit", "NonlinearFit", "Residual", "finite_fit", "fit_parameters", "standard_errors"]

Residual = Callable[[np.ndarray], np.ndarray]
#: (parameters, RSS, Jacobian of the free parameters)
NLSFit = tuple[np.ndarray, float, np.ndarray]


@dataclass(frozen=True)
class NonlinearFit:
    """A law fitted by a nonlinear route (rational, inner constants): what the routes compare."""

    expression: sympy.Expr
    #: Every fitted parameter, for the BIC.
    n_parameters: int
    #: What the route chose (the linearised terms of P/Q; a family, its input and
    #: kept terms): what the halves of the rows must choose again.
    structure: tuple[str, ...]
    #: ``log`` of the number of structures the route chose among (its search's price).
    search: float


def fit_parameters(residual: Residual, start: np.ndarray, fixed: Mapping[int, float] | None = None,
                   max_nfev: int = 400) -> NLSFit:
    """Levenberg–Marquardt on ``residual`` from ``start``, the ``fixed`` indices held.

    Raises ValueError or LinAlgError where the fit cannot start (the callers
    drop such candidates).
    """
    from scipy.optimize import least_squares

    fixed = dict(fixed or {})
    free = [i for i in range(len(start)) if i not in fixed]

    def full(q: np.ndarray) -> np.ndarray:
        c = np.array(start, dtype=float)
        c[free] = q
        for i, v in fixed.items():
            c[i] = v
        return c

    if not free:
        c = full(np.zeros(0))
        r = residual(c)
        return c, float(r @ r), np.zeros((len(r), 0))
    with np.errstate(all="ignore"):
        found = least_squares(lambda q: residual(full(q)), np.asarray(start, float)[free],
                              method="lm", max_nfev=max_nfev)
    c = full(found.x)
    r = residual(c)
    return c, float(r @ r), found.jac


def finite_fit(residual: Residual, start: np.ndarray) -> NLSFit | None:
    """:func:`fit_parameters` from ``start``, or None where it cannot start or ends
    at values or an RSS that are not finite (the routes then drop the candidate)."""
    try:
        coef, rss, J = fit_parameters(residual, start)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not (np.all(np.isfinite(coef)) and math.isfinite(rss)):
        return None
    return coef, rss, J


def standard_errors(jacobian: np.ndarray, rss: float, n: int) -> np.ndarray:
    """Standard errors ``sqrt(diag((JᵀJ)⁻¹)·σ²)`` with σ² = RSS/(n − parameters);
    infinite where the Jacobian is not finite (no parameter is then significant)."""
    m = jacobian.shape[1]
    sigma2 = noise_variance(rss, n - m)
    if not (np.all(np.isfinite(jacobian)) and math.isfinite(sigma2)):
        return np.full(m, math.inf)
    with np.errstate(all="ignore"):
        try:
            inverse = np.linalg.pinv(jacobian.T @ jacobian)
        except np.linalg.LinAlgError:
            return np.full(m, math.inf)
        return np.sqrt(np.clip(np.diag(inverse) * sigma2, 0, None))
