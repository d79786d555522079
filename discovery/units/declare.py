"""Declared units: parsed with pint, checked against the data's names, bound to symbols.

``units={"v": "m/s", "theta": "rad", "s": "m", "g": "m/s^2"}`` (or the CLI's
``--units "v=m/s,theta=rad,s=m,g=m/s^2"``) gives each input, the target or a
named constant a unit: any expression pint parses (``m/s``, ``kg*m^2/s^2``,
``J``, ``V``, ``K``, ``dimensionless`` or ``1``). A column without a unit is
unknown and constrains nothing; an entry that names nothing, a unit pint does
not know or an angle given in degrees is refused with the near miss.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .._optional import optional_import
from ..errors import UnitsError
from .dimension import BASE_UNITS, DIMENSIONLESS, Dimension, Unbalanced, dimension_of

__all__ = ["Unit", "Units", "parse_unit", "parse_units"]

_ENTRY = re.compile(r"^\s*([^=]+?)\s*=\s*(.+?)\s*$")
_ANGLES = ("radian", "steradian")
_DEGREES = ("degree", "arcminute", "arcsecond", "grade", "revolution", "turn")
_OFFSET = ("degree_Celsius", "degree_Fahrenheit", "degree_Rankine", "degree_Reaumur")


@functools.cache
def _registry() -> Any:
    pint = optional_import("pint", "units", purpose="declaring units")
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=False)


@dataclass(frozen=True)
class Unit:
    """One declared unit: the text as given, its dimension, its size in SI base units,
    and whether it is an angle (radians: dimensionless, but a sine's natural argument)."""

    text: str
    dimension: Dimension
    scale: float = 1.0
    angle: bool = False

    def __str__(self) -> str:
        return self.text


def parse_unit(text: object, name: str = "") -> Unit:
    """A unit from any expression pint parses.

    Examples
    --------
    >>> u = parse_unit("kg*m^2/s^2")
    >>> print(u.dimension, u.scale)
    kg*m^2/s^2 1.0
    >>> parse_unit("rad").angle
    True
    >>> parse_unit("m/sx")
    Traceback (most recent call last):
    ...
    discovery.errors.UnitsError: Unknown unit 'sx' in 'm/sx'. Did you mean 's'?
    """
    where = f" for {name!r}" if name else ""
    if isinstance(text, Unit):
        return text
    if isinstance(text, (int, float)) and text == 1:
        text = "1"
    if not isinstance(text, str) or not text.strip():
        raise UnitsError(f"The unit{where} must be text such as 'm/s' or '1'; got {text!r}.")
    registry = _registry()
    pint = optional_import("pint", "units", purpose="declaring units")
    clean = text.strip()
    if clean.lower() in ("1", "dimensionless", "-", "none"):
        return Unit(clean, DIMENSIONLESS)
    try:
        units = registry.parse_units(clean)
    except pint.UndefinedUnitError as error:
        bad = str(getattr(error, "unit_names", "") or "").strip("()',") or clean
        near = difflib.get_close_matches(bad, _unit_names(), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise UnitsError(f"Unknown unit {bad!r}{where} in {clean!r}.{hint}") from error
    except Exception as error:  # pint raises tokenizer and syntax errors of several kinds
        raise UnitsError(f"Cannot read the unit{where} {clean!r} ({error}); write units "
                         f"like 'm/s', 'kg*m^2/s^2', 'J' or '1'.") from error
    names = [str(u) for u in units._units] if hasattr(units, "_units") else [str(units)]
    if any(n in _OFFSET for n in names):
        raise UnitsError(f"The unit{where} {clean!r} is a temperature scale with an offset; "
                         "declare kelvin ('K') and give the data in kelvin.")
    if any(n in _DEGREES for n in names):
        raise UnitsError(f"The unit{where} {clean!r} is an angle in {names[0]}s; laws take "
                         "angles in radians: convert the column (θ·π/180) and declare 'rad'.")
    quantity = registry.Quantity(1.0, units).to_base_units()
    powers: dict[str, Fraction] = {}
    for dim, e in units.dimensionality.items():
        key = BASE_UNITS.get(dim, dim.strip("[]"))
        powers[key] = Fraction(e).limit_denominator(1000)
    return Unit(clean, Dimension.of(powers), float(quantity.magnitude),
                angle=bool(names) and all(n in _ANGLES for n in names))


@functools.cache
def _unit_names() -> list[str]:
    return [n for n in dir(_registry()) if not n.startswith("_")]


def parse_units(spec: object) -> dict[str, Unit]:
    """Name → :class:`Unit` from a mapping or the CLI's ``"v=m/s,theta=rad"``.

    Examples
    --------
    >>> sorted((k, str(u.dimension)) for k, u in parse_units("v=m/s, s=m").items())
    [('s', 'm'), ('v', 'm/s')]
    >>> parse_units("v:m/s")
    Traceback (most recent call last):
    ...
    discovery.errors.UnitsError: Malformed units entry 'v:m/s': write NAME=UNIT, e.g. v=m/s.
    """
    if spec is None:
        return {}
    if isinstance(spec, str):
        pairs: list[tuple[str, object]] = []
        for entry in (e for e in spec.split(",") if e.strip()):
            match = _ENTRY.match(entry)
            if not match:
                raise UnitsError(f"Malformed units entry {entry.strip()!r}: write NAME=UNIT, "
                                 "e.g. v=m/s.")
            pairs.append((match.group(1), match.group(2)))
    elif isinstance(spec, Mapping):
        pairs = list(spec.items())
    else:
        raise UnitsError(f"units must be a mapping of name to unit (or 'v=m/s,s=m'); "
                         f"got {type(spec).__name__}.")
    out: dict[str, Unit] = {}
    for name, text in pairs:
        if not isinstance(name, str) or not name.strip():
            raise UnitsError(f"A units entry needs a column or constant name; got {name!r}.")
        if name in out:
            raise UnitsError(f"The unit of {name!r} is given twice.")
        out[name] = parse_unit(text, name)
    return out


@dataclass(frozen=True)
class Units:
    """Units bound to a fit: each known symbol's dimension, the target's, named constants'.

    ``symbols`` maps the engine's symbol names (and the user's column names) to
    units; :meth:`dimension` and :meth:`balances` read expressions over them.
    """

    declared: Mapping[str, Unit]
    target: str
    symbols: Mapping[str, str] = field(default_factory=dict)
    constants: tuple[str, ...] = ()

    @classmethod
    def bind(cls, spec: object, *, inputs: Iterable[str], target: str,
             constants: Mapping[str, float] | None = None,
             names: Mapping[str, str] | None = None,
             angles: Iterable[str] = ()) -> Units:
        """Check ``spec`` against the fit's inputs, target and named constants.

        ``names`` maps an engine symbol to the user's column name where they
        differ; ``angles`` are the inputs the user marked as angles.
        """
        declared = parse_units(spec)
        inputs = list(inputs)
        user = {s: (names or {}).get(s, s) for s in [*inputs, target]}
        by_user = {u: s for s, u in user.items()}
        known = [*user.values(), *(constants or {})]
        symbols: dict[str, str] = {}
        for name in declared:
            if name in by_user:
                symbols[by_user[name]] = name
            elif name in (constants or {}):
                symbols[name] = name
            elif name in by_user.values() or name in symbols:
                symbols[name] = name
            else:
                near = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise UnitsError(f"Units name {name!r}, which is neither an input, the target "
                                 f"nor a named constant; those are: {', '.join(known)}.{hint}")
        for name in angles:
            unit = declared.get(user.get(name, name))
            if unit is not None and not unit.dimension.dimensionless:
                raise UnitsError(f"{user.get(name, name)!r} is marked as an angle but declared "
                                 f"in {unit.text!r}; an angle is in radians ('rad').")
        return cls(declared=declared, target=target, symbols=symbols,
                   constants=tuple(c for c in (constants or {}) if c in declared))

    def unit(self, symbol: str) -> Unit | None:
        """The declared unit of an engine symbol (or a user name), if any."""
        return self.declared.get(self.symbols.get(symbol, symbol))

    @property
    def dimensions(self) -> dict[str, Dimension]:
        """Symbol → dimension, for every symbol with a unit."""
        return {s: self.declared[u].dimension for s, u in self.symbols.items()}

    @property
    def target_dimension(self) -> Dimension | None:
        unit = self.unit(self.target)
        return None if unit is None else unit.dimension

    def complete(self, inputs: Iterable[str]) -> bool:
        """Every one of ``inputs`` and the target has a unit."""
        return all(self.unit(s) is not None for s in [*inputs, self.target])

    def fixed_exponents(self, inputs: Sequence[str]) -> int:
        """How many of a power law's exponents of ``inputs`` the units determine.

        ``y = K·Π xᵢ^aᵢ`` balances where ``D·a = dim y − dim K``, D the inputs'
        dimension matrix and K's unit a product of the named constants' (C): the
        exponents then lie in a space of ``rank [D | C] − rank C`` dimensions fewer
        (the count of Buckingham's theorem). 0 where a unit is missing.
        """
        import numpy as np

        if not self.complete(inputs):
            return 0
        named = [self.declared[c].dimension for c in self.constants]
        every = [self.unit(x).dimension for x in inputs] + named  # type: ignore[union-attr]
        bases = sorted({b for d in every for b in d.powers})
        if not bases:
            return 0

        def rank(dimensions: list[Dimension]) -> int:
            if not dimensions:
                return 0
            matrix = np.array([[float(d.powers.get(b, 0)) for b in bases] for d in dimensions])
            return int(np.linalg.matrix_rank(matrix))

        return rank(every) - rank(named)

    def dimension(self, expr: Any) -> Dimension | None:
        """The dimension of ``expr`` (None where unknown; raises :class:`Unbalanced`)."""
        return dimension_of(expr, self.dimensions)

    def term_balances(self, term: Any) -> bool:
        """False only where ``term`` is unbalanced inside (``sin(mass)``)."""
        try:
            self.dimension(term)
        except Unbalanced:
            return False
        return True

    def coefficient_dimension(self, term: Any) -> Dimension | None:
        """The unit a coefficient of ``term`` carries for the sum to have the target's."""
        target, d = self.target_dimension, self.dimension(term)
        return None if target is None or d is None else target - d

    def coefficient_units(self, terms: Iterable[Any]) -> list[dict[str, str | None]]:
        """Each term's coefficient unit as the output records it: ``term``,
        ``coefficient_unit`` and its LaTeX (None where the term is unbalanced or a
        unit it needs is unknown)."""
        out: list[dict[str, str | None]] = []
        for term in terms:
            try:
                d = self.coefficient_dimension(term)
            except Exception:  # an unbalanced term has no coefficient unit
                d = None
            out.append({"term": str(term), "coefficient_unit": None if d is None else str(d),
                        "coefficient_unit_latex": None if d is None else d.latex()})
        return out

    def carried(self, dimension: Dimension) -> dict[str, Fraction] | None:
        """Powers of the named constants whose product has ``dimension`` (``{}`` for a
        dimensionless one), or None where the named constants cannot carry it."""
        if dimension.dimensionless:
            return {}
        return _carry(dimension, tuple((c, self.declared[c].dimension) for c in self.constants))

    def admits(self, expr: Any) -> bool:
        """Whether every additive term of ``expr`` may enter a law: balanced inside (no
        ``sin(mass)``, no fitted power of a length) and with a coefficient whose unit
        is dimensionless or made of named constants. Unknown units admit anything."""
        import sympy

        for part in sympy.Add.make_args(sympy.sympify(expr)):
            _, term = part.as_coeff_Mul()
            if not self.term_balances(term):
                return False
            d = self.coefficient_dimension(term)
            if d is not None and self.carried(d) is None:
                return False
        return True

    def coefficient_base(self, term: Any, constants: Mapping[str, float]
                         ) -> tuple[Any, float, dict[str, float]] | None:
        """How a coefficient of ``term`` may be recognised: as a number times the
        product of named constants that carries its unit (that product, its value,
        and the named constants a dimensionless number may use); None where the
        named constants cannot carry its unit. Without units, ``(1, 1.0, constants)``.
        """
        import sympy

        free = {c: v for c, v in constants.items()
                if c not in self.constants or self.declared[c].dimension.dimensionless}
        try:
            d = self.coefficient_dimension(term)
        except Unbalanced:
            return None
        if d is None:
            return sympy.Integer(1), 1.0, dict(constants)
        powers = self.carried(d)
        if powers is None:
            return None
        expr, value = sympy.Integer(1), 1.0
        for c, p in powers.items():
            expr *= sympy.Symbol(c, positive=True) ** sympy.Rational(p.numerator, p.denominator)
            value *= float(constants[c]) ** float(p)
        return expr, value, free

    def balances(self, expr: Any) -> bool | None:
        """Whether ``expr`` has the target's unit with every fitted number dimensionless;
        None where a unit it needs is unknown."""
        try:
            d = self.dimension(expr)
        except Unbalanced:
            return False
        target = self.target_dimension
        if d is None or target is None:
            return None
        return d == target

    def to_dict(self) -> dict[str, str]:
        """The declared units as given (name → text)."""
        return {name: unit.text for name, unit in self.declared.items()}


@functools.lru_cache(maxsize=256)
def _carry(dimension: Dimension, constants: tuple[tuple[str, Dimension], ...]
           ) -> dict[str, Fraction] | None:
    """Small powers (integers and halves up to 3) of the constants with ``dimension``."""
    import itertools

    steps = [Fraction(k, 2) for k in range(-6, 7)]
    steps.sort(key=lambda f: (abs(f), f < 0))
    best: dict[str, Fraction] | None = None
    cost = None
    for powers in itertools.product(steps, repeat=min(len(constants), 4)):
        total = DIMENSIONLESS
        for (_, d), p in zip(constants, powers):
            total = total + d * p
        if total == dimension:
            c = sum(abs(p) for p in powers)
            if cost is None or c < cost:
                best, cost = {n: p for (n, _), p in zip(constants, powers) if p}, c
    return best
