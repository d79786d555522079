"""Generators of candidate terms: monomials, Fourier harmonics, unary maps, custom terms,
and the default right-hand sides of differential equations."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeAlias

import numpy as np
import sympy

from ._parse import parse_expression
from .errors import LibraryError
from .library import Library, check_size
from .variables import Variable, as_symbols

__all__ = ["monomials", "poly", "fourier", "unary", "custom", "constant", "auto_library",
           "angle_named", "angles_of", "ode_library", "UNARY_MAPS"]

VariablesLike: TypeAlias = Sequence[str | Variable | sympy.Symbol] | str | Variable | sympy.Symbol

#: Unary maps by name, each a function of a sympy expression.
UNARY_MAPS = {
    "exp": sympy.exp,
    "expneg": lambda e: sympy.exp(-e),
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "inv": lambda e: 1 / e,
    "reciprocal": lambda e: 1 / e,
    "square": lambda e: e**2,
    "cbrt": lambda e: e ** sympy.Rational(1, 3),
}

_FRACTIONS = {"1/2": sympy.Rational(1, 2), "1/3": sympy.Rational(1, 3),
              "2/3": sympy.Rational(2, 3), "3/2": sympy.Rational(3, 2)}


def _names(symbols: Sequence[sympy.Symbol]) -> str:
    return ", ".join(s.name for s in symbols)


def monomials(
    variables: VariablesLike,
    degree: int,
    *,
    negative: bool = False,
    fractional: Iterable[str | sympy.Rational | float] = (),
    include_bias: bool = True,
) -> Library:
    """Products of integer powers with total degree at most ``degree``.

    Parameters
    ----------
    variables
        Names, :class:`Variable` objects or symbols.
    degree
        The largest total degree (sum of absolute exponents).
    negative
        Also allow negative exponents (``x**-1``, ``x*y**-2``, ...).
    fractional
        Extra single-variable powers, e.g. ``("1/2", "1/3")`` adds
        ``sqrt(x)``, ``x**(1/3)``, ``x**(-1/2)`` when ``negative`` is set.
    include_bias
        Include the constant term 1.

    Examples
    --------
    >>> monomials(["x", "y"], 2).names
    ['1', 'x', 'y', 'x**2', 'x*y', 'y**2']
    >>> monomials(["x"], 1, negative=True, fractional=["1/2"]).names
    ['1', 'x', '1/x', 'sqrt(x)', '1/sqrt(x)']
    """
    if not isinstance(degree, (int, np.integer)) or degree < 0:
        raise LibraryError(f"monomials: degree must be a non-negative integer; got {degree!r}.")
    symbols = as_symbols(variables)
    d = len(symbols)
    what = f"monomials of {d} inputs up to degree {degree}"
    check_size(monomial_count(d, degree, negative=negative) - (0 if include_bias else 1),
               what + (" with negative exponents" if negative else ""))
    terms: list[sympy.Expr] = [sympy.Integer(1)] if include_bias else []
    candidates = []
    # Each exponent vector once, by its support (the inputs it uses) and the
    # positive parts of its powers there: no walk over every vector of a grid.
    for j in range(1, min(degree, d) + 1):
        for support in itertools.combinations(range(d), j):
            for parts in _compositions_up_to(degree, j):
                for signs in itertools.product(*([(1, -1)] * j if negative else [(1,)] * j)):
                    vector = [0] * d
                    for i, part, sign in zip(support, parts, signs):
                        vector[i] = sign * part
                    candidates.append((sum(parts), tuple(-p for p in vector), tuple(vector)))
    for _, _, powers in sorted(candidates):
        terms.append(sympy.Mul(*(s**p for s, p in zip(symbols, powers))))
    for fraction in fractional:
        exponent = _fraction(fraction)
        for s in symbols:
            terms.append(s**exponent)
            if negative:
                terms.append(s**-exponent)
    spec = f"monomials({_names(symbols)}; degree={degree}"
    spec += ", negative" if negative else ""
    spec += f", fractional={list(map(str, fractional))}" if fractional else ""
    return Library(terms, spec=spec + ")")


poly = monomials


def monomial_count(d: int, degree: int, *, negative: bool = False) -> int:
    """How many terms :func:`monomials` of ``d`` inputs builds, the constant included.

    Examples
    --------
    >>> monomial_count(2, 2), len(monomials(["x", "y"], 2))
    (6, 6)
    >>> monomial_count(30, 4)
    46376
    """
    # j inputs in the support, C(degree, j) positive parts with sum ≤ degree, signs.
    return 1 + sum(math.comb(d, j) * math.comb(degree, j) * (2**j if negative else 1)
                   for j in range(1, min(degree, d) + 1))


def _compositions_up_to(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Tuples of ``parts`` positive integers with sum at most ``total``."""
    if parts == 0:
        yield ()
        return
    for first in range(1, total - parts + 2):
        for rest in _compositions_up_to(total - first, parts - 1):
            yield (first, *rest)


def _fraction(value: str | sympy.Rational | float) -> sympy.Rational:
    if isinstance(value, str):
        if value not in _FRACTIONS:
            raise LibraryError(f"Unknown fractional power {value!r}; "
                               f"expected one of {', '.join(_FRACTIONS)}.")
        return _FRACTIONS[value]
    return sympy.Rational(value).limit_denominator(12)


def fourier(variables: VariablesLike, harmonics: int, *, sin: bool = True, cos: bool = True,
            include_bias: bool = False) -> Library:
    """Harmonics ``sin(m x)`` and ``cos(m x)`` for ``m = 1 .. harmonics``.

    Examples
    --------
    >>> fourier("theta", 2).names
    ['sin(theta)', 'cos(theta)', 'sin(2*theta)', 'cos(2*theta)']
    """
    if not isinstance(harmonics, (int, np.integer)) or harmonics < 1:
        raise LibraryError(f"fourier: harmonics must be a positive integer; got {harmonics!r}.")
    symbols = as_symbols(variables)
    terms: list[sympy.Expr] = [sympy.Integer(1)] if include_bias else []
    for s in symbols:
        for m in range(1, harmonics + 1):
            if sin:
                terms.append(sympy.sin(m * s))
            if cos:
                terms.append(sympy.cos(m * s))
    return Library(terms, spec=f"fourier({_names(symbols)}; harmonics={harmonics})")


def unary(base: Library | VariablesLike,
          maps: Iterable[str] = ("exp", "log", "sqrt", "inv")) -> Library:
    """Unary maps (exp, log, sqrt, sin, cos, inv, ...) of variables or of a library's terms.

    The constant term is skipped.

    Examples
    --------
    >>> unary(["x"], ["exp", "inv"]).names
    ['exp(x)', '1/x']
    """
    maps = list(maps)
    unknown = [m for m in maps if m not in UNARY_MAPS]
    if unknown:
        raise LibraryError(f"Unknown unary map(s) {', '.join(unknown)}; "
                           f"expected some of {', '.join(UNARY_MAPS)}.")
    if isinstance(base, Library):
        inner, label = [t for t in base if not t.is_Number], base.spec
    else:
        inner = list(as_symbols(base))
        label = _names(inner)
    terms = [UNARY_MAPS[m](t) for t in inner for m in maps]
    return Library(terms, spec=f"unary({label}; {', '.join(maps)})")


def custom(*terms: str | sympy.Expr,
           symbols: Mapping[str, sympy.Symbol] | None = None) -> Library:
    """Terms written by the user, as sympy expressions or strings (parsed safely).

    Examples
    --------
    >>> custom("v^2*sin(2*theta)", "exp(-x/y)").names
    ['v**2*sin(2*theta)', 'exp(-x/y)']
    """
    table = dict(symbols or {})
    parsed = [parse_expression(t, table, where="custom term") if isinstance(t, str) else t
              for t in terms]
    return Library(parsed, spec=f"custom({', '.join(map(str, parsed))})")


def constant() -> Library:
    """The library holding only the constant term 1."""
    return Library([sympy.Integer(1)], spec="1")


_AUTO_MONOMIALS = 120
_SMALL_LAW_INPUTS = 3
_ANGLE_NAMES = ("theta", "phi", "alpha", "beta", "gamma", "angle", "omega_t", "psi")


def angle_named(name: str) -> bool:
    """Whether ``name`` reads as an angle (theta, phi, theta1, Alpha_2, ...).

    Examples
    --------
    >>> angle_named("theta1"), angle_named("x")
    (True, False)
    """
    return name.lower().rstrip("0123456789_") in _ANGLE_NAMES


def angles_of(data: Mapping[str, np.ndarray], variables: Sequence[Variable]) -> list[Variable]:
    """The variables :func:`auto_library` takes as angles: hinted as one, or (without a
    hint) named like one, or, with at most three inputs, with values within [-2π, 2π].

    Examples
    --------
    >>> import numpy as np
    >>> data = {"x": np.array([0.5, 1.0]), "alpha": np.array([10.0, 20.0])}
    >>> [v.name for v in angles_of(data, [Variable("x"), Variable("alpha")])]
    ['x', 'alpha']
    """
    out = []
    for var in variables:
        values = np.asarray(data[var.name], dtype=float)
        finite = values[np.isfinite(values)]
        in_range = finite.size and finite.min() >= -2 * np.pi and finite.max() <= 2 * np.pi
        if var.angle or (var.angle is None and (angle_named(var.name) or (
                len(variables) <= 3 and in_range and not var.integer))):
            out.append(var)
    return out


def auto_library(
    data: Mapping[str, np.ndarray],
    variables: Sequence[str | Variable] | None = None,
    *,
    max_terms: int = 3000,
) -> Library:
    """The default library for the given columns, shaped by the data and hints.

    Monomials of the highest degree (at most 4; 6 for a single input) that
    keeps their number at most 120 (degree 4 for up to four inputs, 3 up to
    seven, 2 up to 14), times ``1 + fourier(angles, 3)`` where an angle is a
    variable hinted as one, or named like one, or whose values lie within
    [-2π, 2π] with at most three inputs; plus exp(x), exp(-x) of each input,
    log(x) and sqrt(x) where it is positive on the data, 1/x where it is
    non-zero, alone and times the monomials of degree one (two, for one or two
    inputs). Up to three inputs, also what small laws are made of (the Nguyen
    and Keijzer benchmarks, Uy et al. 2011): sin and cos of the angles'
    squares and pairwise products, products of first harmonics of different
    arguments (``sin(x)*cos(y)``, ``sin(x**2)*cos(x)``), inverse squares
    (``1/x**2``, ``y/x**2`` where x is non-zero), logs of shifted
    inputs (``log(x + 1)`` where x > -1, ``log(x**2 + 1)``) and powers with an
    input exponent (``x**y`` where x > 0).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> data = {"v": rng.uniform(0, 10, 50), "theta": rng.uniform(0, 1.5, 50)}
    >>> lib = auto_library(data)
    >>> len(lib) >= 100, "v**2*sin(2*theta)" in lib.names
    (True, True)
    """
    if variables is None:
        variables = list(data)
    given = [v if isinstance(v, Variable) else Variable(str(v)) for v in variables]
    d = len(given)
    if d == 0:
        raise LibraryError("auto_library needs at least one input variable.")
    top = 6 if d == 1 else 4
    degree = max([1] + [k for k in range(1, top + 1) if math.comb(d + k, k) <= _AUTO_MONOMIALS])
    angles = angles_of(data, given)
    library = monomials(given, degree)
    if angles:
        harmonics = 3 if len(angles) <= 2 else 1
        library = library * (constant() + fourier(angles, harmonics))
    terms: list[sympy.Expr] = []
    for var in given:
        values = np.asarray(data[var.name], dtype=float)
        finite = values[np.isfinite(values)]
        chosen = ["exp", "expneg"]
        if var.positive or (finite.size and finite.min() > 0):
            chosen += ["log", "sqrt", "inv"]
        elif finite.size and (finite != 0).all():
            chosen += ["inv"]
        terms.extend(unary([var], chosen).terms)
    maps = Library(terms, spec="unary maps")
    library = library + monomials(given, 2 if d <= 2 else 1) * maps
    if d <= _SMALL_LAW_INPUTS:
        library = library + _small_law_terms(data, given, angles)
    if len(library) > max_terms:
        library = monomials(given, min(degree, 2)) + unary(given, ("log", "inv"))
    library.spec = f"auto({', '.join(v.name for v in given)})"
    return library


def _small_law_terms(data: Mapping[str, np.ndarray], given: Sequence[Variable],
                     angles: Sequence[Variable]) -> Library:
    """Trig of squares and products, products of harmonics, inverse squares,
    shifted logs, ``x**y``."""
    symbols = {v.name: s for v, s in zip(given, as_symbols(list(given)))}
    a = [symbols[v.name] for v in angles]
    inner = [s**2 for s in a] + [s * t for s, t in itertools.combinations(a, 2)]
    terms: list[sympy.Expr] = [f(u) for u in inner for f in (sympy.sin, sympy.cos)]
    # First harmonics of different arguments, multiplied pairwise.
    arguments = a + [s**2 for s in a]
    for u, w in itertools.combinations(arguments, 2):
        terms += [f(u) * g(w) for f in (sympy.sin, sympy.cos) for g in (sympy.sin, sympy.cos)]
    for var in given:
        values = np.asarray(data[var.name], dtype=float)
        finite = values[np.isfinite(values)]
        x = symbols[var.name]
        if finite.size and (finite != 0).all():
            # Inverse squares (Rydberg's 1/n², Coulomb's 1/r²), alone and times an input.
            terms += [sympy.Integer(1) / x**2] + [symbols[w.name] / x**2 for w in given
                                                  if w.name != var.name]
        if finite.size and finite.min() > -1:
            terms.append(sympy.log(x + 1))
        terms.append(sympy.log(x**2 + 1))
        if finite.size and finite.min() > 0:
            terms += [x**symbols[w.name] for w in given if w.name != var.name]
    return Library(terms, spec="small-law terms")


#: Largest total degree of the default library's monomials, by number of variables.
_DEGREE = ((3, 3), (6, 2))


def ode_library(states: Sequence[str], controls: Sequence[str] = (), *,
                norms: Sequence[Sequence[str]] = (), angles: Sequence[str] = (),
                one_signed: Sequence[str] = ()) -> Library:
    """The default library of right-hand sides.

    Monomials of the states and controls (degree 3 up to three variables, else 2
    up to six, else 1); ``sin`` and ``cos`` of each state in ``angles``, the
    products of first harmonics of two of them (``sin(x)·cos(y)``: a coupling
    ``sin(x − y)`` is a sum of two) and of one with each other variable
    (``v·sin θ``); for each variable in ``one_signed`` (one that keeps its
    sign, away from 0, on the data) its reciprocal and the angles' harmonics
    over it (``1/v``, ``cos θ/v``: a glider's ``θ' = v − cos θ/v``), and for an
    angle's ``sin`` or ``cos`` there (``"sin(phi)"``) the same with the other
    harmonic of that angle (``cot φ``, ``cos θ·cot φ``); and for each pair
    ``a, b`` within a group of ``norms`` the terms ``sqrt(a² + b²)·a`` and
    ``sqrt(a² + b²)·b`` (quadratic drag of a velocity, ``−k|v|vₓ``; a central
    force's ``r·x``).
    :func:`discovery.discover_ode` takes as angles the states named like angles (or
    given as ``angles``) and, for a second-order system, the velocities and
    the positions as the norm groups; a first-order system has no norm terms
    unless given.

    Examples
    --------
    >>> lib = ode_library(["vx", "vy"], norms=[["vx", "vy"]])
    >>> "vx*sqrt(vx**2 + vy**2)" in lib.names, "vx*vy**2" in lib.names
    (True, True)
    >>> "sin(x)*cos(y)" in ode_library(["x", "y"], angles=["x", "y"]).names
    True
    >>> "cos(theta)/v" in ode_library(["v", "theta"], angles=["theta"], one_signed=["v"]).names
    True
    """
    names = [*states, *controls]
    degree = next((d for limit, d in _DEGREE if len(names) <= limit), 1)
    library = monomials(names, degree)
    symbols = dict(zip(names, as_symbols(names)))
    harmonics = (sympy.sin, sympy.cos)
    extra: list[sympy.Expr] = [f(symbols[a]) for a in angles for f in harmonics]
    for i, a in enumerate(angles):
        for b in angles[i + 1:]:
            extra += [f(symbols[a]) * h(symbols[b]) for f in harmonics for h in harmonics]
    others = [n for n in names if n not in angles]
    extra += [symbols[o] * f(symbols[a]) for a in angles for o in others for f in harmonics]
    for name in one_signed:
        u = sympy.sympify(name, locals=symbols)
        if u in (symbols[n] for n in others):
            extra += [1 / u] + [f(symbols[a]) / u for a in angles for f in harmonics]
        elif isinstance(u, (sympy.sin, sympy.cos)) and str(u.args[0]) in angles:
            # cot, csc and their products with another angle's harmonics
            # (a shear flow's cos θ·cot φ)
            a = u.args[0]
            other = sympy.cos(a) if isinstance(u, sympy.sin) else sympy.sin(a)
            extra += [1 / u, other / u] + [h(symbols[b]) * q / u for b in angles
                                           if symbols[b] != a for h in harmonics
                                           for q in (1, other)]
    for group in norms:
        group = list(group)
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                size = sympy.sqrt(symbols[a] ** 2 + symbols[b] ** 2)
                extra += [size * symbols[a], size * symbols[b]]
    if extra:
        library = library + Library(extra, spec="trig and norms")
    library.spec = f"ode({', '.join(names)})"
    return library
