"""Buckingham-π: a law of dimensional inputs is a prefactor times a function of
dimensionless groups.

With the inputs' units as the columns of a dimension matrix D (one row per
base unit) and the target's unit t, every law that balances its units reads
y = P(x)·F(π₁, …, π_k): the prefactor P = ∏ xᵢ^pᵢ solves D p = t, and the
groups πⱼ = ∏ xᵢ^nᵢⱼ span the null space of D (Buckingham 1914; the
dimensional-analysis step of AI Feynman, Udrescu & Tegmark 2020). With
k = 0 the law is the prefactor itself: its exponents are determined by the
units alone. The search then runs on k dimensionless variables instead of
the inputs, and a dimensionless target.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

from .dimension import Dimension

__all__ = ["Reduction", "reductions"]


@dataclass(frozen=True)
class Reduction:
    """y = prefactor · F(groups): exponents of the inputs in each."""

    prefactor: tuple[tuple[str, Fraction], ...]
    groups: tuple[tuple[tuple[str, Fraction], ...], ...]

    @staticmethod
    def _product(powers: Sequence[tuple[str, Fraction]],
                 symbols: Mapping[str, sympy.Symbol]) -> sympy.Expr:
        return sympy.Mul(*(symbols[n] ** sympy.Rational(e.numerator, e.denominator)
                           for n, e in powers))

    def prefactor_expr(self, symbols: Mapping[str, sympy.Symbol]) -> sympy.Expr:
        return self._product(self.prefactor, symbols)

    def group_exprs(self, symbols: Mapping[str, sympy.Symbol]) -> list[sympy.Expr]:
        return [self._product(g, symbols) for g in self.groups]

    def describe(self) -> str:
        symbols = {n: sympy.Symbol(n) for n, _ in [*self.prefactor,
                                                   *(p for g in self.groups for p in g)]}
        groups = ", ".join(str(g) for g in self.group_exprs(symbols))
        return f"{self.prefactor_expr(symbols)} · F({groups})"


def reductions(inputs: Sequence[tuple[str, Dimension]], target: Dimension,
               limit: int = 2) -> list[Reduction]:
    """The simplest ways to write a law of ``inputs`` with unit ``target`` as
    prefactor × F(dimensionless groups); empty where the inputs' units cannot make
    the target's (then no law of them balances) or where they are all dimensionless.

    Prefactors are ranked by the inputs they use, then the size of their
    exponents; up to ``limit`` are returned, each with the same groups.

    Examples
    --------
    >>> m, s = Dimension.of({"m": 1}), Dimension.of({"s": 1})
    >>> [r.describe() for r in reductions([("v", m - s), ("theta", Dimension()),
    ...                                    ("g", m - s * 2)], m, limit=1)]
    ['v**2/g · F(theta)']
    """
    names = [n for n, _ in inputs]
    bases = sorted({u for _, d in inputs for u, _ in d.exponents} | set(target.powers))
    if not bases or all(d.dimensionless for _, d in inputs):
        return []
    D = sympy.Matrix([[_rational(d.powers.get(u, 0)) for _, d in inputs] for u in bases])
    t = sympy.Matrix([_rational(target.powers.get(u, 0)) for u in bases])
    try:
        solution, params = D.gauss_jordan_solve(t)
    except ValueError:  # inconsistent: no product of the inputs has the target's unit
        return []
    particular = solution.subs({p: 0 for p in params})
    null = _sparse_basis([_integral(v) for v in D.nullspace()])
    # Other prefactors differ by a product of groups; small multiples of each are tried.
    steps = range(-2, 3) if len(null) <= 3 else range(0, 1)
    seen: dict[tuple[Fraction, ...], tuple[object, ...]] = {}
    for z in itertools.product(steps, repeat=len(null)):
        p = particular + sum((zi * v for zi, v in zip(z, null)), sympy.zeros(len(names), 1))
        exps = tuple(Fraction(int(sympy.fraction(e)[0]), int(sympy.fraction(e)[1])) for e in p)
        if any(e.denominator > 2 for e in exps):
            continue
        # Fewest inputs, smallest exponents, fewest roots and reciprocals; ties go to
        # the inputs listed first, so the choice does not depend on the search order.
        seen[exps] = (sum(1 for e in exps if e), sum(abs(e) for e in exps),
                      sum(1 for e in exps if e.denominator > 1), sum(1 for e in exps if e < 0),
                      tuple(i for i, e in enumerate(exps) if e), tuple(-e for e in exps))
    groups = tuple(tuple((n, Fraction(int(sympy.fraction(e)[0]), int(sympy.fraction(e)[1])))
                         for n, e in zip(names, v) if e != 0) for v in null)
    # A prefactor that uses every input another does, and more, only moves a group
    # out of F (v²θ/g beside v²/g): the simpler one stands for both.
    best: list[tuple[Fraction, ...]] = []
    for exps in sorted(seen, key=lambda e: seen[e]):
        used = {i for i, e in enumerate(exps) if e}
        if not any({i for i, e in enumerate(b) if e} <= used for b in best):
            best.append(exps)
    return [Reduction(tuple((n, e) for n, e in zip(names, exps) if e), groups)
            for exps in best[:limit]]


def _sparse_basis(null: list[sympy.Matrix]) -> list[sympy.Matrix]:
    """The simplest basis of the null space: groups of the fewest inputs, products
    before ratios, small exponents (γt and ωt rather than ω/γ and γt, so that the
    arguments a law takes, ωt, are variables of the search).

    The candidates are the small integer combinations of the given basis; they are
    taken simplest first while each adds a dimension.
    """
    if len(null) < 2 or len(null) > 4:
        return null
    size = len(null[0])
    found: dict[tuple[int, ...], sympy.Matrix] = {}
    for z in itertools.product(range(-2, 3), repeat=len(null)):
        if not any(z):
            continue
        v = _integral(sum((zi * b for zi, b in zip(z, null)), sympy.zeros(size, 1)))
        if sum(1 for e in v if e < 0) > sum(1 for e in v if e > 0):
            v = -v
        found.setdefault(tuple(int(e) for e in v), v)

    def rank(key: tuple[int, ...]) -> tuple[object, ...]:
        return (sum(1 for e in key if e), sum(1 for e in key if e < 0),
                sum(abs(e) for e in key), tuple(i for i, e in enumerate(key) if e))

    basis: list[sympy.Matrix] = []
    for key in sorted(found, key=rank):
        trial = basis + [found[key]]
        if sympy.Matrix.hstack(*trial).rank() == len(trial):
            basis = trial
        if len(basis) == len(null):
            break
    return basis


def _rational(e: object) -> sympy.Rational:
    f = Fraction(e).limit_denominator(1000)  # type: ignore[call-overload]
    return sympy.Rational(f.numerator, f.denominator)


def _integral(v: sympy.Matrix) -> sympy.Matrix:
    """A null vector scaled to coprime integers, its first non-zero entry positive."""
    denominators = [sympy.fraction(e)[1] for e in v]
    scale = math.lcm(*(int(d) for d in denominators))
    w = v * scale
    g = math.gcd(*(int(e) for e in w))
    w = w / (g or 1)
    first = next((e for e in w if e != 0), 1)
    return w * (1 if first > 0 else -1)
