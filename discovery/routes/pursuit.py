"""Sums of monomials grown where the data ask for them.

A library of fixed degree cannot hold ``ω²/c²``, ``mom·H/(T·kb)`` or
``n₀·E·p·cos θ/(T·kb)``: the products of five or six powers of nine inputs
number in the millions. Here the terms are grown one factor at a time
instead, in the manner of orthogonal matching pursuit (Pati, Rezaiifar &
Krishnaprasad 1993) with a beam over each term's factors (the
residual-driven growth of FFX and of SISSO's feature construction: Ouyang et
al. 2018): the next term is the product of atoms ``xᵢ^a`` (and ``sin xᵢ``,
``cos xᵢ`` of angle-like inputs) that most reduces the residual of the terms
chosen so far. The number of products explored is returned, so that the
picking is charged as the extended BIC charges a library search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from basis_library import as_symbols
from basis_library.generators import angle_named

from .._data import Dataset
from ..stats.criteria import exact_floor

__all__ = ["grown_monomials"]

_BEAM = 8
_DEPTH = 7
_MAX_TERMS = 6
_MAX_POWER = 3  # no input raised past this (absolute) power in one term
_ROWS = 2000


@dataclass(frozen=True)
class _Atom:
    """``x**power`` (``trig`` empty) or ``sin(x)`` / ``cos(x)`` of input ``index``."""

    index: int
    power: Fraction
    trig: str = ""


def _atoms(X: np.ndarray, names: list[str]) -> list[tuple[_Atom, np.ndarray]]:
    """Each input's powers ±1, ±2 (and ±1/2 where it is positive; the negative
    powers where it is non-zero) and, for angles, sin and cos: inputs named like
    angles, or within [-2π, 2π] where there are at most three inputs (as
    :func:`~basis_library.auto_library` reads them)."""
    atoms: list[tuple[_Atom, np.ndarray]] = []
    with np.errstate(all="ignore"):
        for i, name in enumerate(names):
            x = X[:, i]
            powers = [Fraction(1), Fraction(2)]
            if np.all(x != 0):
                powers += [Fraction(-1), Fraction(-2)]
            if np.all(x > 0):
                powers += [Fraction(1, 2), Fraction(-1, 2)]
            atoms += [(_Atom(i, a), x ** float(a)) for a in powers]
            if angle_named(name) or (len(names) <= 3 and np.min(x) >= -2 * np.pi
                                     and np.max(x) <= 2 * np.pi):
                atoms += [(_Atom(i, Fraction(0), "sin"), np.sin(x)),
                          (_Atom(i, Fraction(0), "cos"), np.cos(x))]
    return [(a, v) for a, v in atoms if np.all(np.isfinite(v)) and np.ptp(v) > 0]


_Key = tuple[tuple[int, Fraction], ...]  # (input, power) and (-1 - input, 0/1 for sin/cos)


def _combine(key: _Key, atom: _Atom) -> _Key | None:
    """``key`` times ``atom``, or None where that breaks the limits (a power past
    :data:`_MAX_POWER`, a second trig factor of one input)."""
    parts = dict(key)
    if atom.trig:
        slot = -1 - atom.index
        if slot in parts:
            return None
        parts[slot] = Fraction(int(atom.trig == "cos"))
    else:
        power = parts.get(atom.index, Fraction(0)) + atom.power
        if abs(power) > _MAX_POWER:
            return None
        parts[atom.index] = power
        if power == 0:
            del parts[atom.index]
    return tuple(sorted(parts.items())) if parts else None


def _expression(key: _Key, symbols: tuple[sympy.Symbol, ...]) -> sympy.Expr:
    factors = []
    for slot, power in key:
        if slot >= 0:
            factors.append(symbols[slot] ** sympy.Rational(power.numerator, power.denominator))
        else:
            factors.append((sympy.cos if power else sympy.sin)(symbols[-1 - slot]))
    return sympy.Mul(*factors)


def _gains(V: np.ndarray, Q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The drop in RSS from adding each column of ``V`` to the orthonormal basis ``Q``."""
    W = V - Q @ (Q.T @ V)
    norms = np.einsum("ij,ij->j", W, W)
    with np.errstate(all="ignore"):
        gain = (W.T @ r) ** 2 / norms
    scale = np.einsum("ij,ij->j", V, V)
    # Columns (nearly) inside the span already add nothing but rounding.
    return np.where(np.isfinite(gain) & (norms > 1e-10 * scale), gain, 0.0)


def _best_product(atoms: list[tuple[_Atom, np.ndarray]], Q: np.ndarray, r: np.ndarray,
                  w: np.ndarray, taken: set[_Key], pool: dict[_Key, np.ndarray],
                  scored: set[_Key]) -> tuple[_Key | None, np.ndarray | None]:
    """The product of atoms (beam search, :data:`_BEAM` wide, :data:`_DEPTH`
    deep) that most reduces the residual ``r`` past the span of ``Q`` (both
    weighted by the rows' ``w``) and its values; every product scored is added
    to ``scored``.

    Each depth's beam is added to ``pool``: the best product of a greedy step is
    often a near miss (``√d·w²/c²`` for ``w²/c² − 3/d²``) of the simpler terms
    that the subset search over the pool then finds. The search starts from the
    empty product and from the pool's products that best fit the residual now:
    the terms of a law often share factors (``mom/(T·kb)`` in
    ``mom·H/(T·kb) + mom·M·α/(T·c²·ε·kb)``), and the later term is then a few
    factors away rather than seven.
    """
    empty: tuple[_Key, np.ndarray] = ((), np.ones(len(r)))
    best: tuple[float, _Key | None, np.ndarray | None] = (0.0, None, None)
    seen: set[_Key] = set(pool)
    keys = list(pool)
    columns = [pool[k] for k in keys]
    beam: list[tuple[_Key, np.ndarray]] = []
    for depth in range(_DEPTH + 1):
        if keys:
            V = np.column_stack(columns)
            finite = np.all(np.isfinite(V), axis=0)
            gains = np.where(finite, _gains(np.where(finite, V, 0.0) * w[:, None], Q, r), 0.0)
            ranked = [j for j in np.argsort(-gains) if gains[j] > 0]
            fresh = [j for j in ranked if keys[j] not in taken]
            if fresh and gains[fresh[0]] > best[0]:
                best = (float(gains[fresh[0]]), keys[fresh[0]], V[:, fresh[0]])
            beam = [(keys[j], V[:, j]) for j in ranked[:_BEAM]]
            if depth > 0:
                pool.update((k, v) for k, v in beam)
        if depth == _DEPTH:
            break
        if depth == 0:
            beam.append(empty)
        keys, columns = [], []
        for key, values in beam:
            for atom, atom_values in atoms:
                grown = _combine(key, atom)
                if grown is None or grown in seen:
                    continue
                seen.add(grown)
                keys.append(grown)
                with np.errstate(all="ignore"):
                    columns.append(values * atom_values)
        if not keys:
            break
    scored |= seen
    return best[1], best[2]


def _residual(w: np.ndarray, columns: list[np.ndarray], target: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis of the weighted intercept and ``columns``, and the
    residual of ``target`` past it."""
    Q, _ = np.linalg.qr(np.column_stack([w, *columns]))
    return Q, target - Q @ (Q.T @ target)


def grown_monomials(dataset: Dataset, y: np.ndarray | None = None,
                    weights: np.ndarray | None = None, random_state: int | None = 0
                    ) -> tuple[list[sympy.Expr], int, int]:
    """Candidate terms for ``y`` (default the dataset's target), grown by
    matching pursuit, the number of products scored on the way (a model of
    k of these terms is one of ``C(explored, k)``: the search to charge) and
    the number of terms the pursuit chose.

    The candidates are every input's atoms, every product the beam kept on
    its way (see :func:`_best_product`) and every product one atom away from a
    term the pursuit chose, for a subset search to choose among.
    The pursuit adds the best product while it lowers the BIC of the
    least-squares fit (with an intercept) by more than its share of the
    search, ``2·log`` of the products scored so far (the risk inflation
    criterion's charge: each product was picked as the best of those), and after each addition
    drops the terms that FoBa's backward step finds redundant; at most
    :data:`_MAX_TERMS` terms, and none past an exact fit. ``weights`` (a row's
    1/σ) weight the fit, as a transformed target's delta method asks. Past
    2,000 rows a random 2,000 are used.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery import prepare
    >>> rng = np.random.default_rng(0)
    >>> w, c, d = rng.uniform(1, 5, (3, 300))
    >>> data = prepare({"w": w, "c": c, "d": d, "z": w**2 / c**2 - 3 / d**2}, "z")
    >>> terms, explored, chosen = grown_monomials(data)
    >>> {"w**2/c**2", "d**(-2)"} <= set(map(str, terms))
    True
    """
    target = dataset.y if y is None else y
    X = dataset.matrix()
    rows = np.arange(len(target))
    if len(rows) > _ROWS:
        rows = np.sort(np.random.default_rng(random_state).choice(rows, _ROWS, replace=False))
    w = np.ones(len(rows)) if weights is None else weights[rows]
    X, target = X[rows], target[rows] * w
    atoms = _atoms(X, dataset.inputs)
    n = len(target)
    floor = exact_floor(target)
    chosen: dict[_Key, np.ndarray] = {}  # the pursuit's terms, weighted values
    # Ordered; every atom alone is a candidate (I1 + I2 + 2·√(I1·I2)·cos δ needs both
    # I1 and I2, which a beam of the best few need not keep).
    pool: dict[_Key, np.ndarray] = {}
    for atom, atom_values in atoms:
        single = _combine((), atom)
        if single is not None:
            pool[single] = atom_values
    scored: set[_Key] = set()
    Q, r = _residual(w, [], target)
    rss = float(r @ r)
    for _ in range(3 * _MAX_TERMS):  # forward steps, each followed by backward ones
        if len(chosen) >= _MAX_TERMS or rss <= floor:
            break
        key, values = _best_product(atoms, Q, r, w, set(chosen), pool, scored)
        if key is None or values is None:
            break
        trial = {**chosen, key: values * w}
        Q_new, r_new = _residual(w, list(trial.values()), target)
        new_rss = float(r_new @ r_new)
        if n * math.log(max(rss, floor) / max(new_rss, floor)) <= math.log(n * len(scored)**2):
            break
        gain = rss - new_rss
        chosen, Q, r, rss = trial, Q_new, r_new, new_rss
        pool.setdefault(key, values)
        # FoBa's backward step (Zhang 2011): a term whose removal now costs less
        # than half the last gain was a near miss the later terms made redundant.
        while len(chosen) > 1:
            costs = {}
            for k in chosen:
                rest = [v for other, v in chosen.items() if other != k]
                costs[k] = float(np.sum(_residual(w, rest, target)[1] ** 2)) - rss
            weakest = min(costs, key=costs.__getitem__)
            if costs[weakest] >= gain / 2:
                break
            del chosen[weakest]
            Q, r = _residual(w, list(chosen.values()), target)
            rss = float(r @ r)
    if not chosen:
        return [], 0, 0
    # The pursuit's terms are often near misses, each compensating another
    # (M·α·mom/(T·c³·ε·kb) beside a half-power mix for the law's
    # M·α·mom/(T·c²·ε·kb)): their neighbours one atom away join the pool, and
    # are charged as scored, for the subset search to choose among.
    for key in chosen:
        for atom, atom_values in atoms:
            grown = _combine(key, atom)
            if grown is None or grown in pool:
                continue
            with np.errstate(all="ignore"):
                column = pool[key] * atom_values
            if np.all(np.isfinite(column)):
                pool[grown] = column
                scored.add(grown)
    symbols = as_symbols(dataset.inputs)
    return [_expression(k, symbols) for k in pool], len(scored), len(chosen)
