"""Recognise fitted coefficients as closed forms: 0.10194 → 1/g.

A coefficient is replaced only by a candidate within a few standard errors of
it (so the refit error does not grow beyond noise), the simplest such
candidate wins (small integers before rationals before constants like π), and
only where a number that is not a closed form would rarely match one that
simple at that precision (the look-elsewhere correction, :func:`chance_matches`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy

from ..errors import FitError

__all__ = ["ALPHA", "ClosedForm", "candidate_table", "chance_matches", "consistent_with",
           "recognise"]

#: The largest chance-match probability at which a closed form is claimed.
#: Simulated on log-uniform random numbers at a relative standard error of
#: 3e-4 (1% noise, 1,000 rows): 1% of them get a false closed form, while 76%
#: of simple true forms (1/2, 4π, 3/2, ...) are claimed; at 1e-3, 0.6% and 37%.
ALPHA = 0.005

_BUILTIN = (("pi", sympy.pi), ("E", sympy.E), ("sqrt2", sympy.sqrt(2)))


@dataclass(frozen=True)
class ClosedForm:
    """A closed form, its value and its cost (lower is simpler)."""

    expr: sympy.Expr
    value: float
    cost: float
    #: Expected chance matches at this precision (:func:`chance_matches`)
    chance: float = 0.0


def _rationals(max_den: int, max_num: int) -> list[tuple[Fraction, float]]:
    out = {}
    for q in range(1, max_den + 1):
        for p in range(1, max_num * q + 1):
            f = Fraction(p, q)
            if f.denominator == q and f.numerator <= max_num * (1 if q == 1 else 1):
                cost = (0 if p == 1 else 1 + math.log10(p)) + (0 if q == 1 else 1.5 + math.log10(q))
                out[f] = cost
    for p in range(1, 101):
        out.setdefault(Fraction(p), 1 + math.log10(p))
    return sorted(out.items(), key=lambda kv: kv[1])


@lru_cache(maxsize=16)
def _bases(named: tuple[tuple[str, float], ...]) -> tuple[tuple[sympy.Expr, float, float], ...]:
    bases: list[tuple[sympy.Expr, float, float]] = [(sympy.Integer(1), 1.0, 0.0)]
    for name, value in named:
        symbol = sympy.Symbol(name, positive=True)
        bases += [(symbol, value, 1.0), (1 / symbol, 1 / value, 1.2),
                  (symbol**2, value**2, 2.0), (1 / symbol**2, value**-2, 2.2),
                  (sympy.sqrt(symbol), math.sqrt(value), 2.0),
                  (1 / sympy.sqrt(symbol), value**-0.5, 2.2)]
    for _, expr in _BUILTIN:
        value = float(expr)
        bases += [(expr, value, 1.5), (1 / expr, 1 / value, 1.7),
                  (expr**2, value**2, 2.5), (1 / expr**2, value**-2, 2.7)]
    return tuple(bases)


@lru_cache(maxsize=16)
def _table(named: tuple[tuple[str, float], ...]) -> tuple[tuple[float, float, Fraction, int], ...]:
    """(cost, value, rational, base index) for every distinct value, simplest first."""
    bases = _bases(named)
    rows = [(cost + base_cost, float(fraction) * value, fraction, b)
            for fraction, cost in _rationals(12, 20)
            for b, (_, value, base_cost) in enumerate(bases)]
    rows.sort(key=lambda r: (r[0], abs(r[1])))
    seen: set[float] = set()
    distinct = []
    for row in rows:  # 2·(1/√2) is √2: only its cheapest spelling counts
        key = float(f"{row[1]:.12g}")
        if key not in seen:
            seen.add(key)
            distinct.append(row)
    return tuple(distinct)


@lru_cache(maxsize=16)
def _arrays(named: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    table = _table(named)
    return (np.array([r[0] for r in table]), np.array([r[1] for r in table]))


def candidate_table(named: tuple[tuple[str, float], ...] = ()) -> list[ClosedForm]:
    """Every closed form considered, sorted from simplest; named constants are symbols."""
    bases = _bases(named)
    return [ClosedForm(sympy.Rational(f.numerator, f.denominator) * bases[b][0], value, cost)
            for cost, value, f, b in _table(named)]


def chance_matches(value: float, distance: float, cost: float,
                   named: tuple[tuple[str, float], ...] = ()) -> float:
    """How likely a number that is no closed form lies within ``distance`` of one this simple.

    The look-elsewhere correction (the "trials factor" of Gross & Vitells
    2010): the catalogue's local density of forms at most ``cost``, counted
    over magnitudes within a factor of 2 of ``|value|``, times the width
    ``2·distance``. For a random number this is (for small values) the
    probability of matching some form that simple that closely, so it is the
    p-value of the claim "this coefficient is that form".
    """
    costs, values = _arrays(named)
    magnitude = abs(value)
    near = (values >= magnitude / 2) & (values <= magnitude * 2) & (costs <= cost + 1e-12)
    density = float(np.count_nonzero(near)) / (1.5 * magnitude)
    return 2.0 * distance * density


def recognise(value: float, std_error: float, constants: Mapping[str, float] | None = None,
              *, n_sigma: float = 3.0, rtol: float = 1e-8,
              alpha: float | None = ALPHA) -> ClosedForm | None:
    """The simplest closed form within ``n_sigma`` standard errors of ``value``, if honest.

    A closed form is claimed only when a number that is not one would match a
    form this simple this closely (or within half a standard error) with a
    chance of at most ``alpha`` (:func:`chance_matches`): the catalogue is
    dense (69√2 = 97.58, 14/(3e) = 1.717), so at the precision of a noisy fit almost any number is
    near some form. This is the description-length argument of AI Feynman
    (Udrescu et al. 2020): a closed form must be cheaper to state than the
    digits the data support.

    Parameters
    ----------
    value, std_error
        The fitted coefficient and its standard error.
    constants
        User-named constants, e.g. ``{"g": 9.81}``; they appear as symbols.
    n_sigma
        How many standard errors a candidate may be away.
    rtol
        A relative floor on the tolerance, for noise-free fits.
    alpha
        The largest chance-match rate accepted; None accepts the simplest
        form in the window whatever its chance (:func:`consistent_with`).

    Returns
    -------
    ClosedForm or None

    Examples
    --------
    >>> recognise(0.10194, 1e-5, {"g": 9.81}).expr
    1/g
    >>> recognise(1.5000000001, 1e-12).expr
    3/2
    >>> recognise(0.1234567, 1e-7) is None
    True
    >>> recognise(-97.5603, 0.0296) is None   # -69*sqrt(2) = -97.580 is within 3 SE, by chance
    True
    """
    if not math.isfinite(value) or value == 0:
        return None
    named = tuple(sorted((constants or {}).items()))
    for name, c in named:
        if not (isinstance(c, (int, float)) and math.isfinite(c) and c > 0):
            raise FitError(f"Constant {name!r} must be a positive finite number; got {c!r}.")
    tol = max(n_sigma * abs(std_error) if math.isfinite(std_error) else 0.0, rtol * abs(value))
    sign = 1 if value > 0 else -1
    magnitude = abs(value)
    for cost, form_value, fraction, b in _table(named):
        distance = abs(form_value - magnitude)
        if distance <= tol:
            # How often a number that is no closed form lands this close to one
            # this simple; closer than half a standard error is luck, not evidence.
            half = 0.5 * abs(std_error) if math.isfinite(std_error) else 0.0
            chance = chance_matches(magnitude, max(distance, half, rtol * magnitude), cost,
                                    named)
            if alpha is not None and chance > alpha:
                return None
            expr = sympy.Rational(fraction.numerator, fraction.denominator) * _bases(named)[b][0]
            return ClosedForm(sign * expr, sign * form_value, cost, chance)
    return None


def consistent_with(value: float, std_error: float,
                    constants: Mapping[str, float] | None = None) -> ClosedForm | None:
    """The simplest closed form within 3 standard errors, claimed or not ("consistent with 4/5")."""
    return recognise(value, std_error, constants, alpha=None)
