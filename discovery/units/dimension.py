"""Dimensions and the unit of an expression: what a law may add, multiply and take the sine of.

A :class:`Dimension` is a product of powers of the SI base dimensions (length,
time, mass, current, temperature, amount, luminosity), written over their
base units (``s^2/m``). :func:`dimension_of` walks a sympy expression by the
rules of dimensional homogeneity: terms of a sum share one dimension, the
argument of sin, cos, exp, log (any function) and a non-integer or symbolic
exponent is dimensionless, a fitted number is dimensionless. A symbol
without a declared unit is unknown and constrains nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy

__all__ = ["BASE_UNITS", "DIMENSIONLESS", "Dimension", "Unbalanced", "dimension_of"]

#: pint's base dimensions and the SI unit each is written in.
BASE_UNITS = {"[length]": "m", "[mass]": "kg", "[time]": "s", "[current]": "A",
              "[temperature]": "K", "[substance]": "mol", "[luminosity]": "cd"}
_ORDER = ("kg", "m", "s", "A", "K", "mol", "cd")


class Unbalanced(ValueError):
    """An expression adds unlike units, or applies a function to a dimensional argument."""


@dataclass(frozen=True)
class Dimension:
    """A product of base units with rational exponents; ``Dimension()`` is dimensionless.

    Examples
    --------
    >>> m, s = Dimension.of({"m": 1}), Dimension.of({"s": 1})
    >>> print(s * 2 - m)
    s^2/m
    >>> (m - m).dimensionless
    True
    """

    exponents: tuple[tuple[str, Fraction], ...] = ()

    @classmethod
    def of(cls, powers: Mapping[str, object]) -> Dimension:
        """From base unit → exponent (zeros dropped, order fixed)."""
        rank = {u: i for i, u in enumerate(_ORDER)}
        kept = {u: Fraction(e).limit_denominator(1000) for u, e in powers.items()}  # type: ignore[call-overload]
        return cls(tuple(sorted(((u, e) for u, e in kept.items() if e),
                                key=lambda ue: (rank.get(ue[0], len(rank)), ue[0]))))

    @property
    def powers(self) -> dict[str, Fraction]:
        return dict(self.exponents)

    @property
    def dimensionless(self) -> bool:
        return not self.exponents

    def __add__(self, other: Dimension) -> Dimension:
        """The dimension of a product (exponents add)."""
        out = self.powers
        for u, e in other.exponents:
            out[u] = out.get(u, Fraction(0)) + e
        return Dimension.of(out)

    def __neg__(self) -> Dimension:
        """The dimension of a reciprocal."""
        return Dimension.of({u: -e for u, e in self.exponents})

    def __sub__(self, other: Dimension) -> Dimension:
        """The dimension of a quotient."""
        return self + (-other)

    def __mul__(self, power: object) -> Dimension:
        """The dimension of a power."""
        p = Fraction(power).limit_denominator(1000)  # type: ignore[call-overload]
        return Dimension.of({u: e * p for u, e in self.exponents})

    def __str__(self) -> str:
        """Base units, numerator over denominator: ``kg*m^2/s^2``, ``1/s``, ``1``."""
        def part(items: Iterable[tuple[str, Fraction]]) -> str:
            return "*".join(u if e == 1 else f"{u}^{_exponent(e)}" for u, e in items)

        top = part((u, e) for u, e in self.exponents if e > 0)
        bottom = [(u, -e) for u, e in self.exponents if e < 0]
        if not bottom:
            return top or "1"
        below = part(bottom)
        return f"{top or '1'}/{below if len(bottom) == 1 else '(' + below + ')'}"

    def latex(self) -> str:
        r"""The unit for LaTeX: ``\mathrm{s^{2}/m}`` (empty when dimensionless)."""
        if self.dimensionless:
            return ""
        def part(items: list[tuple[str, Fraction]]) -> str:
            return r"\,".join(u if e == 1 else f"{u}^{{{_exponent(e)}}}" for u, e in items)

        top = [(u, e) for u, e in self.exponents if e > 0]
        bottom = [(u, -e) for u, e in self.exponents if e < 0]
        text = part(top) or "1"
        if bottom:
            text += "/" + (part(bottom) if len(bottom) == 1 else f"({part(bottom)})")
        return rf"\mathrm{{{text}}}"


DIMENSIONLESS = Dimension()


def _exponent(e: Fraction) -> str:
    return str(e.numerator) if e.denominator == 1 else f"({e})"


#: Functions whose value has the dimension of their (first) argument.
_SAME = ("Abs", "re", "im", "conjugate")


def dimension_of(expr: sympy.Expr, dimensions: Mapping[str, Dimension]) -> Dimension | None:
    """The dimension of ``expr``, given those of its symbols; None where it is unknown.

    Raises :class:`Unbalanced` where the expression breaks homogeneity
    (``m + s``, ``sin(m)``, ``m**1.37``, a fitted number added to a length).

    Examples
    --------
    >>> v, g, theta = sympy.symbols("v g theta")
    >>> dims = {"v": Dimension.of({"m": 1, "s": -1}), "g": Dimension.of({"m": 1, "s": -2}),
    ...         "theta": DIMENSIONLESS}
    >>> print(dimension_of(v**2 * sympy.sin(2 * theta) / g, dims))
    m
    >>> dimension_of(sympy.sin(v), dims)
    Traceback (most recent call last):
    ...
    discovery.units.dimension.Unbalanced: sin(v): the argument has unit m/s, not 1
    """
    if expr.is_Number or isinstance(expr, sympy.NumberSymbol) or expr in (sympy.E, sympy.I):
        return DIMENSIONLESS
    if expr.is_Symbol:
        return dimensions.get(expr.name)
    if expr.is_Add or isinstance(expr, (sympy.Min, sympy.Max)):
        return _common(expr, [dimension_of(a, dimensions) for a in expr.args])
    if expr.is_Mul:
        total = DIMENSIONLESS
        for a in expr.args:
            d = dimension_of(a, dimensions)
            if d is None:
                return None
            total = total + d
        return total
    if expr.is_Pow:
        base, power = expr.args
        d_power = dimension_of(power, dimensions)
        if d_power is not None and not d_power.dimensionless:
            raise Unbalanced(f"{expr}: the exponent has unit {d_power}")
        d_base = dimension_of(base, dimensions)
        if d_base is None or d_base.dimensionless:
            return d_base
        if power.is_Rational:
            return d_base * Fraction(int(power.p), int(power.q))
        if power.is_Float:
            near = Fraction(float(power)).limit_denominator(12)
            if abs(float(near) - float(power)) <= 1e-9 * max(1.0, abs(float(power))):
                return d_base * near
        raise Unbalanced(f"{expr}: a power {power} of a quantity with unit {d_base}")
    if isinstance(expr, sympy.Function):
        args = [_argument(a, dimensions) for a in expr.args]
        if type(expr).__name__ in _SAME:
            return args[0]
        if type(expr).__name__ == "sign":
            return DIMENSIONLESS
        for d in args:
            if d is not None and not d.dimensionless:
                raise Unbalanced(f"{expr}: the argument has unit {d}, not 1")
        return DIMENSIONLESS
    return None


def _argument(arg: sympy.Expr, dimensions: Mapping[str, Dimension]) -> Dimension | None:
    """The dimension of a function's argument: as :func:`dimension_of`, except that a
    sum whose terms differ in unit is dimensionless where each term's number carries
    a reference value of an input of the sum (t₀ in r·(t − t₀) = r·t − r·t₀, the
    unit of t; x₀² in (x − x₀)²/σ² expanded): what the terms lack is the unit of an
    input that appears in another term, or its square. A term without such an input
    elsewhere (``sin(2·mass)``), or in a sum with no dimensionless term
    (``cos(r − 2t)``), is not made dimensionless this way."""
    try:
        return dimension_of(arg, dimensions)
    except Unbalanced:
        expanded = sympy.expand(arg)
        if not expanded.is_Add:
            raise
    _reference_values(expanded, dimensions)
    return DIMENSIONLESS


def _reference_values(arg: sympy.Expr, dimensions: Mapping[str, Dimension]) -> None:
    """Raise :class:`Unbalanced` unless some term of the sum ``arg`` is dimensionless
    (r·t) and each other is, or its number can carry what it lacks (see
    :func:`_argument`)."""
    dims = [dimension_of(term, dimensions) for term in arg.args]
    if not any(d is not None and d.dimensionless for d in dims):
        raise Unbalanced(f"{arg}: no term of the argument is dimensionless")
    for term, d in zip(arg.args, dims):
        if d is None or d.dimensionless:
            continue
        coefficient, _ = term.as_coeff_Mul()
        others = set().union(*(t.free_symbols for t in arg.args if t is not term))
        lacking = -d
        if not (coefficient.is_Number and any(
                (u := dimensions.get(s.name)) is not None and not u.dimensionless
                and lacking in (u, u * 2) for s in others)):  # type: ignore[attr-defined]
            raise Unbalanced(f"{arg}: the argument adds {d} to 1")


def _common(expr: sympy.Expr, dims: list[Dimension | None]) -> Dimension | None:
    known = {d for d in dims if d is not None}
    if len(known) > 1:
        raise Unbalanced(f"{expr}: adds {' and '.join(sorted(map(str, known)))}")
    return next(iter(known), None)
