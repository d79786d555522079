"""Recognise fitted coefficients as closed forms: 0.10194 → 1/g.

A coefficient is replaced only by a candidate within a few standard errors of
it (so the refit error does not grow beyond noise), and the simplest such
candidate wins: small integers before rationals before constants like π.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from basis_library import FitError

__all__ = ["ClosedForm", "recognise", "candidate_table"]

_BUILTIN = (("pi", sympy.pi), ("E", sympy.E), ("sqrt2", sympy.sqrt(2)))


@dataclass(frozen=True)
class ClosedForm:
    """A closed form, its value and its cost (lower is simpler)."""

    expr: sympy.Expr
    value: float
    cost: float


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
    """(cost, value, rational, base index) for every candidate, simplest first."""
    bases = _bases(named)
    rows = [(cost + base_cost, float(fraction) * value, fraction, b)
            for fraction, cost in _rationals(12, 20)
            for b, (_, value, base_cost) in enumerate(bases)]
    rows.sort(key=lambda r: (r[0], abs(r[1])))
    return tuple(rows)


def candidate_table(named: tuple[tuple[str, float], ...] = ()) -> list[ClosedForm]:
    """Every closed form considered, sorted from simplest; named constants are symbols."""
    bases = _bases(named)
    return [ClosedForm(sympy.Rational(f.numerator, f.denominator) * bases[b][0], value, cost)
            for cost, value, f, b in _table(named)]


def recognise(value: float, std_error: float, constants: Mapping[str, float] | None = None,
              *, n_sigma: float = 3.0, rtol: float = 1e-8) -> ClosedForm | None:
    """The simplest closed form within ``n_sigma`` standard errors of ``value``.

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
        if abs(form_value - magnitude) <= tol:
            expr = sympy.Rational(fraction.numerator, fraction.denominator) * _bases(named)[b][0]
            return ClosedForm(sign * expr, sign * form_value, cost)
    return None
