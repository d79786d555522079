"""A power law's exponents on the original scale: the factor families, the nonlinear
least-squares fit of exponents and inner scales, and their snapping to small rationals
(each held only while a likelihood-ratio test allows, a factor's exponent profiled over
simple values where it trades off with its inner scale)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import sympy

from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance

__all__ = ["FACTORS", "fits_exactly", "original_scale_fit", "snapped_rss", "snapped_shape"]


_MAX_DENOMINATOR = 3
_MIN_SNAP_TOL = 0.001
_MAX_SNAP_TOL = 0.1
_MAX_EXPONENT = 6

#: Factor families of a monomial ``M`` of the inputs: (log of the factor on the
#: data, the factor as an expression, so that ``y ∝ Π xᵢ^aᵢ · factor^b``).
#: ``exp`` stands for ``exp(b·M)``: its log is linear in ``M``.
FACTORS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray],
                      Callable[[sympy.Expr], sympy.Expr]], ...] = (
    ("exp", lambda m: m, sympy.exp),
    ("1+M", np.log1p, lambda M: 1 + M),
    ("1-M", lambda m: np.log(1 - m), lambda M: 1 - M),
    ("M-1", lambda m: np.log(m - 1), lambda M: M - 1),
    ("exp(M)-1", lambda m: np.log(np.expm1(m)), lambda M: sympy.exp(M) - 1),
    ("cosh", lambda m: np.log(np.cosh(m)), sympy.cosh),
    ("tanh", lambda m: np.log(np.tanh(m)), sympy.tanh),
)


def original_scale_fit(Z: np.ndarray, target: np.ndarray, start: np.ndarray,
                       scaled: tuple[tuple[int, Callable[[np.ndarray], np.ndarray],
                                            np.ndarray], ...] = (),
                        hold: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``target ≈ exp(Z c)`` by nonlinear least squares from ``start``: c, its covariance, RSS.

    Each ``(j, forward, m)`` in ``scaled`` makes column j of Z ``forward(s·m)``
    with an inner scale s fitted beside c (as ``log s``, appended to c; started
    by :func:`_scale_start` unless ``start`` has it): ``1/(exp(ħω/kT) − 1)``
    has ``1/(2π)`` inside the function when written with h, and ``1 − αn/3`` a
    third; a constant inside a function is out of reach of log-space least
    squares. Parameters where ``hold`` is True stay at their start (the
    exponents, once snapped); the covariance is then of the others.
    """
    from scipy.optimize import least_squares

    k = Z.shape[1]

    def columns(p: np.ndarray) -> np.ndarray:
        if not scaled:
            return Z
        Zs = Z.copy()
        for u, (j, forward, m) in zip(p[k:], scaled):
            Zs[:, j] = forward(np.exp(u) * m)
        return Zs

    def predict(p: np.ndarray) -> np.ndarray:
        value = np.exp(np.clip(columns(p) @ p[:k], -700, 700))
        return np.where(np.isfinite(value), value, 1e300)

    first = np.asarray(start, dtype=float)
    if len(first) == k:
        first = np.concatenate([first, np.zeros(len(scaled))])
        if scaled:
            first = _scale_start(first, k, columns, target)
    free = np.ones(len(first), dtype=bool) if hold is None else ~hold

    def full(q: np.ndarray) -> np.ndarray:
        p = first.copy()
        p[free] = q
        return p

    def jacobian(q: np.ndarray) -> np.ndarray:
        p = full(q)
        value = predict(p)
        parts = [value[:, None] * columns(p)]
        h = 1e-6
        for u, (j, forward, m) in zip(p[k:], scaled):
            # d forward(e^u m)/du by a central difference of the one column.
            slope = (forward(np.exp(u + h) * m) - forward(np.exp(u - h) * m)) / (2 * h)
            parts.append((value * p[j] * slope)[:, None])
        return np.column_stack(parts)[:, free]

    with np.errstate(all="ignore"):
        try:
            fit = least_squares(lambda q: predict(full(q)) - target, first[free], method="lm",
                                jac=jacobian, max_nfev=200 * (1 + len(scaled)))
            if not all(np.all(np.isfinite(a)) for a in (fit.x, fit.fun, fit.jac)):
                return None
            rss = float(fit.fun @ fit.fun)
            covariance = (np.linalg.pinv(fit.jac.T @ fit.jac)
                          * noise_variance(rss, len(target) - len(fit.x)))
        except (ValueError, np.linalg.LinAlgError):
            return None
    return full(fit.x), covariance, rss


#: Inner scales tried before the joint fit starts: 1/20 to 20, log-spaced.
_SCALE_GRID = np.linspace(math.log(1 / 20), math.log(20), 41)


def _scale_start(first: np.ndarray, k: int, columns: Callable[[np.ndarray], np.ndarray],
                 target: np.ndarray) -> np.ndarray:
    """A start for the inner scales: each in turn set to the grid value whose
    log-space fit (linear once the scales are fixed: variable projection, Golub &
    Pereyra 1973) leaves the least RSS on the original scale. Gauss–Newton from
    scale 1 stalls in a local minimum on ``1/(exp(ħω/kT) − 1)``."""
    rows = target > 0
    w = target[rows] / np.max(target[rows])
    b = np.log(target[rows]) * w
    best = first.copy()
    for at in range(k, len(first)):
        best_rss = math.inf
        for u in _SCALE_GRID:
            p = best.copy()
            p[at] = u
            with np.errstate(all="ignore"):
                Z = columns(p)
                if not np.all(np.isfinite(Z)):
                    continue
                c, *_ = np.linalg.lstsq(Z[rows] * w[:, None], b, rcond=None)
                rss = float(np.sum((np.exp(np.clip(Z @ c, -700, 700)) - target) ** 2))
            if rss < best_rss:
                best_rss, best = rss, np.concatenate([c, p[k:]])
    return best


def fits_exactly(A: np.ndarray, b: np.ndarray) -> bool:
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return float(np.sum((b - A @ coef) ** 2)) <= 1e-24 * max(float(b @ b), 1e-300)


def snapped_rss(A: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The RSS of ``b`` on ``A`` with every coefficient but the intercept (column 0)
    held at a small rational (:data:`_MAX_DENOMINATOR`), the intercept refitted
    (inf where one is too large to be an exponent), and the sum of their sizes.

    The coefficients are held one at a time, the one nearest its rational in
    standard errors first, the others refitted after each: collinear factors
    (``(1 + v/c)^a (1 − v/c)^b``) share their error, and once ``b = −1/2`` is
    held, ``a`` = 0.41 ± 0.1 moves to its 1/2.
    """
    held: dict[int, float] = {}
    m = A.shape[1]
    while True:
        free = [j for j in range(m) if j not in held]
        offset = A[:, list(held)] @ np.array(list(held.values())) if held else 0.0
        coef, *_ = np.linalg.lstsq(A[:, free], b - offset, rcond=None)
        residual = b - offset - A[:, free] @ coef
        rss = float(residual @ residual)
        if len(free) == 1:
            size = float(sum(abs(v) for v in held.values()))
            return rss, size
        sigma2 = noise_variance(rss, len(b) - len(free))
        with np.errstate(all="ignore"):
            se = np.sqrt(np.clip(np.diag(np.linalg.pinv(A[:, free].T @ A[:, free])) * sigma2,
                                 1e-300, None))
        rounded = [float(Fraction(float(a)).limit_denominator(_MAX_DENOMINATOR)) for a in coef]
        k = min(range(1, len(free)), key=lambda i: abs(coef[i] - rounded[i]) / se[i])
        if abs(rounded[k]) > _MAX_EXPONENT:
            return math.inf, math.inf
        held[free[k]] = rounded[k]


def _snap(value: float, tolerance: float) -> Fraction | None:
    fraction = Fraction(float(value)).limit_denominator(_MAX_DENOMINATOR)
    if abs(fraction) > _MAX_EXPONENT or abs(float(fraction) - value) > tolerance:
        return None
    return fraction


def _held_fit(Z: np.ndarray, target: np.ndarray, start: np.ndarray, scaled: tuple,
              held: slice | list[int]) -> tuple[np.ndarray, np.ndarray, float] | None:
    """:func:`original_scale_fit` from ``start`` with the parameters at ``held`` held there."""
    hold = np.zeros(len(start), dtype=bool)
    hold[held] = True
    return original_scale_fit(Z, target, start, scaled, hold)


#: The largest |log| of an inner scale a shape may keep (e^±30 is no physical scale).
_MAX_LOG_SCALE = 30.0
#: Factor exponents tried by :func:`_profile_snap`.
_PROFILE_EXPONENTS = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)


def _profile_snap(Z: np.ndarray, target: np.ndarray, coef: np.ndarray, free_rss: float,
                  scaled: tuple, d: int, k: int) -> list[Fraction] | None:
    """Rational exponents on the ridge of a factor law, by a likelihood-ratio test.

    With an inner scale, a factor and the inputs' exponents can trade off
    along a curved ridge of near-equal fit: ``M^a (exp(s·M) − 1)^b`` fits 1% noise as well at
    (a, b, s) = (0.53, −1.53, 0.10) as at the law's (0, −1, 1/(2π)), so the
    free fit stops anywhere on it and no exponent is near a rational; the
    linearised standard errors do not see the ridge's length. So each factor
    exponent is held in turn at the simple values nearest its estimate
    (:data:`_PROFILE_EXPONENTS`, the profile likelihood), the others refitted
    and snapped within three standard errors, and the snapped set kept where
    the RSS, every exponent held, exceeds the free fit's by at most the 99%
    quantile of χ² (one degree per exponent) in noise variances and is below
    the fit without the factors by more than that; the best kept set is
    returned, or None.
    """

    n_factors = k - 1 - d
    nearest = [sorted(_PROFILE_EXPONENTS, key=lambda v: abs(v - a))[:3 if n_factors == 1 else 2]
               for a in coef[1 + d:k]]
    sigma2 = noise_variance(free_rss, len(target) - len(coef))
    limit = free_rss + lr_allowance(k - 1, sigma2)
    # The scaled factors must matter: the law without them (their exponents 0)
    # must fit worse by more than the 99% quantile of χ² (their exponents and
    # scales), else a flat factor rides on the ridge's end.
    start = coef.copy()
    factors = [j for j, *_ in scaled]
    start[factors] = 0.0
    plain = _held_fit(Z, target, start, scaled, [*factors, *range(k, len(start))])
    if plain is None:
        return None
    enough = plain[2] - lr_allowance(2 * len(scaled), sigma2)
    if free_rss > enough:
        return None  # not even the free fit needs the factors; a snapped one cannot
    best: tuple[float, list[Fraction]] | None = None
    for values in itertools.product(*nearest):
        start = coef.copy()
        start[1 + d:k] = values
        fitted = _held_fit(Z, target, start, scaled, slice(1 + d, k))
        if fitted is None:
            continue
        held, covariance, held_rss = fitted
        if held_rss > limit:
            continue  # snapping the inputs' exponents too can only fit worse
        # The free parameters are the intercept, the inputs' exponents, then the scales.
        se = np.sqrt(np.clip(np.diag(covariance), 0, None))[1:1 + d]
        inputs = [_snap(a, min(max(_MIN_SNAP_TOL, 3 * e), _MAX_SNAP_TOL))
                  for a, e in zip(held[1:1 + d], se)]
        if any(f is None for f in inputs):
            continue
        exponents = [*inputs, *(Fraction(v).limit_denominator(_MAX_DENOMINATOR) for v in values)]
        start = held.copy()
        start[1:k] = [float(f) for f in exponents]  # type: ignore[arg-type]
        snapped = _held_fit(Z, target, start, scaled, slice(1, k))
        if (snapped is not None and snapped[2] <= min(limit, enough)
                and (best is None or snapped[2] < best[0])):
            best = (snapped[2], exponents)  # type: ignore[assignment]
    return None if best is None else best[1]


def snapped_shape(A: np.ndarray, b: np.ndarray, symbols: tuple[sympy.Symbol, ...],
                  factors: list[tuple[int, tuple[int, ...], float]], Z: np.ndarray,
                  target: np.ndarray, scaled: tuple = ()) -> tuple[sympy.Expr, int] | None:
    """The shape with every exponent snapped to a small rational, and its count
    of inner scales other than 1; or None.

    The weighted log-space fit ``A c ≈ b`` only starts the estimate: under
    noise it is biased (rows near zero are noisy in log space, and rows whose
    sign the noise flipped are left out), by 8 standard errors on
    ``q1 q2/(4π ε r²)`` at 10% noise. So the exponents are then fitted by
    nonlinear least squares on the original scale, ``target ≈ exp(Z c)``
    (Gauss–Newton from the log-space estimate: the maximum-likelihood fit
    under Gaussian noise on y, on every sampled row, whatever its sign), and
    snapped within three of its standard errors (at least 0.001, at most 0.1).
    The factors' inner scales (``scaled``) are fitted there too; a scale within
    three standard errors of 1 is 1, one the catalogue recognises honestly
    (:func:`~discovery.symbolic.constants.recognise`) is that closed form, and any
    other stays a decimal, counted as a parameter.
    """
    from ..symbolic.constants import recognise

    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    if not np.all(np.isfinite(coef)):
        return None
    scales: list[sympy.Expr] = [sympy.Integer(1)] * len(factors)
    free_rss = math.nan
    if fits_exactly(A, b):
        residual = b - A @ coef
        with np.errstate(all="ignore"):
            covariance = np.linalg.pinv(A.T @ A) * noise_variance(
                float(residual @ residual), len(b) - A.shape[1])
        scaled = ()
        # A factor at a base scale keeps it (fitted exactly there: a parameter).
        scales = [sympy.Integer(1) if base == 1 else sympy.Float(base, 15)
                  for *_, base in factors]
    else:
        refined = original_scale_fit(Z, target, coef, scaled)
        if refined is None:
            return None
        coef, covariance, free_rss = refined
    k = A.shape[1]
    se = np.sqrt(np.clip(np.diag(covariance), 0, None))[:k]
    d = len(symbols)
    # A factor whose exponent the data cannot tell from 0 is not in the law;
    # but with an inner scale, the ridge (:func:`_profile_snap`) runs to b → 0.
    zero = bool(np.any(np.abs(coef[1 + d:k]) <= 3 * se[1 + d:]))
    snapped: list[Fraction | None] = [None] if zero else [
        _snap(a, min(max(_MIN_SNAP_TOL, 3 * e), _MAX_SNAP_TOL)) for a, e in zip(coef[1:k], se[1:])]
    if any(f is None for f in snapped):
        if not scaled or not math.isfinite(free_rss):
            return None
        profiled = _profile_snap(Z, target, coef, free_rss, scaled, d, k)
        if profiled is None:
            return None
        snapped = list(profiled)
    rational = [sympy.Rational(f.numerator, f.denominator) for f in snapped]  # type: ignore[union-attr]
    n_scales = sum(scale != 1 for scale in scales)
    if scaled:
        # The scales move with the exponents they were fitted beside (b and s
        # trade off in (1 − s·M)^b): refitted with the exponents held at their
        # snapped values, then 1 within three standard errors, a closed form
        # where the catalogue recognises one honestly, or a decimal.
        start = coef.copy()
        start[1:k] = [float(r) for r in rational]
        again = _held_fit(Z, target, start, scaled, slice(1, k))
        if again is None:
            return None
        coef, covariance, _ = again
        first = k - len(factors)
        for i, (j, *_) in enumerate(scaled):
            at = 1 + i  # the free parameters are the intercept, then the scales
            u, se_u = coef[k + i], math.sqrt(max(covariance[at, at], 0.0))
            if not abs(u) < _MAX_LOG_SCALE:
                return None  # a factor pushed to where it is flat or a step: no law
            log_scale = u + math.log(factors[j - first][2])  # u is relative to the base
            if abs(log_scale) <= 3 * se_u or abs(log_scale) < 1e-9:
                continue
            value = math.exp(log_scale)
            closed = recognise(value, value * se_u)
            # As many digits as the fit supports and two more (a scale rounded to 6
            # digits misfits noise-free data by 1e-8 of y where v/c = 0.3).
            digits = int(np.clip(math.ceil(-math.log10(max(se_u, 1e-15))) + 2, 6, 15))
            scales[j - first] = closed.expr if closed is not None else \
                sympy.Float(value, digits)
            n_scales += 1
    shape = sympy.Mul(*[s**a for s, a in zip(symbols, rational[:d])])
    for (family, e, _), power, scale in zip(factors, rational[d:], scales):
        if power == 0:
            continue
        monomial = scale * sympy.Mul(*[s**a for s, a in zip(symbols, e)])
        factor = FACTORS[family][2]
        shape *= sympy.exp(power * monomial) if family == 0 else factor(monomial) ** power
    return (shape, n_scales) if not shape.is_Number else None


