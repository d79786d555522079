"""Arguments that combine two inputs, found from the data: a symmetry of the law.

A law that depends on two inputs a and b only through a − b, a·b or a/b
(cos(θ₁ − θ₂), cos(ωt), sin(2πE t/h)) has one variable fewer than it seems,
and its argument is out of reach of a library of functions of one input. AI
Feynman tests such symmetries (Udrescu & Tegmark 2020, *Sci. Adv.* 6,
eaay2631, §"Symmetry"): where the law has one, the two inputs are replaced by
the combination and the search recurses on the smaller problem. Their test
queries a neural network fitted to the data; ours needs no training: a
nearest-neighbour regressor predicts y, under k-fold cross-validation, from
the inputs with a and b replaced by the combination, and from the inputs
themselves. Where the law has the symmetry the first has one dimension fewer
and predicts better; where it has not, it has lost information and predicts
worse. The combinations that predict much better are searched, in that order;
the law found is restated in the inputs, refitted there, and competes by BIC
with the charge of its search.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import sympy

from basis_library import Variable, angles_of, as_symbols

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..symbolic.evaluate import evaluate_expression
from .base import exact_enough
from .dimensional import Engine, divided, is_product, lower_bic, restate, separable_terms
from .library import Settings

__all__ = ["FACTOR_POWERS", "Symmetry", "SYMMETRY_RATIO", "power_factors", "symmetries",
           "symmetry_model", "with_symmetry"]

log = logging.getLogger(__name__)

#: A combination is a symmetry where predicting from it leaves at most this share of the
#: cross-validated error of predicting from the inputs themselves (on the laws of the
#: Feynman set at noise 0, true symmetries score 0.2–0.5 and others 0.7 or more).
SYMMETRY_RATIO = 0.5
#: Symmetries searched at each level of the recursion.
TRIED = 2
#: Rows the test uses (a random subset of larger data).
TEST_ROWS = 2000
_NEIGHBOURS = 5
_FOLDS = 5


#: Up to this many inputs, scalings of three inputs are tested too (exp(−γt)·cos(ωt)
#: depends on γ, ω, t through γt and ωt).
TRIPLES_UP_TO = 5


class Symmetry(NamedTuple):
    """``y/prefactor`` depends on the inputs ``replaced`` only through the ``combined``
    columns (name, expression in the inputs); ``ratio`` is the test's cross-validated
    error with them over that with the inputs themselves."""

    replaced: tuple[str, ...]
    combined: tuple[tuple[str, sympy.Expr], ...]
    ratio: float
    #: A power of one input that y is proportional to (the input is then ``replaced``
    #: and nothing ``combined``); 1 for a combination of inputs.
    prefactor: sympy.Expr = sympy.Integer(1)

    def table(self) -> dict[str, sympy.Expr]:
        return dict(self.combined)


def _cv_error(features: np.ndarray, y: np.ndarray, folds: np.ndarray) -> float:
    from sklearn.neighbors import KNeighborsRegressor

    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (features - features.mean(axis=0)) / scale
    error = 0.0
    for k in range(_FOLDS):
        test = folds == k
        fit = KNeighborsRegressor(_NEIGHBOURS, weights="distance").fit(z[~test], y[~test])
        error += float(np.sum((fit.predict(z[test]) - y[test]) ** 2))
    return error / y.size


def _named(expr: sympy.Expr, taken: set[str]) -> str:
    """A column name for ``expr``: a_minus_b, a_times_b, a_over_b."""
    a, b = sorted(expr.free_symbols, key=str)  # type: ignore[arg-type]
    if expr.is_Add:
        first, second = (a, b) if expr == a - b else (b, a)
        name = f"{first}_minus_{second}"
    elif not is_product(expr):
        top, bottom = (a, b) if expr == a / b else (b, a)
        name = f"{top}_over_{bottom}"
    else:
        name = f"{a}_times_{b}"
    while name in taken:
        name = "_" + name
    return name


def _candidates(inputs: list[str]) -> list[tuple[tuple[str, ...], list[sympy.Expr], object]]:
    """The reductions tested, each with the scaling or translation it states: each
    pair's difference, product and ratio, and with at most :data:`TRIPLES_UP_TO`
    inputs each scaling of three (x_i → λ^(e_i) x_i, e_i = ±1), stated by its two
    invariants v·h^(−e_v·e_h) around each input h of the three."""
    symbols = dict(zip(inputs, as_symbols(inputs)))
    out: list[tuple[tuple[str, ...], list[sympy.Expr], object]] = []
    for a, b in itertools.combinations(inputs, 2):
        x, z = symbols[a], symbols[b]
        out += [((a, b), [x - z], (a, b, "-")), ((a, b), [x * z], (a, b, "*")),
                ((a, b), [x / z], (a, b, "/"))]
    if len(inputs) > TRIPLES_UP_TO:
        return out
    for triple in itertools.combinations(inputs, 3):
        for signs in ((1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, 1)):
            e = dict(zip(triple, signs))
            for hub in triple:
                h = symbols[hub]
                out.append((triple, [symbols[v] * h ** (-e[v] * e[hub])
                                     for v in triple if v != hub], (triple, signs)))
    return out


def _test_rows(dataset: Dataset, random_state: int
               ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The test's rows (a random :data:`TEST_ROWS` of larger data): the inputs' values,
    the target's and each row's fold."""
    rng = np.random.default_rng(random_state)
    rows = (rng.choice(dataset.n, TEST_ROWS, replace=False) if dataset.n > TEST_ROWS
            else np.arange(dataset.n))
    folds = rng.permutation(rows.size) % _FOLDS
    return {c: dataset.columns[c][rows] for c in dataset.inputs}, dataset.y[rows], folds


def symmetries(dataset: Dataset, random_state: int = 0) -> list[Symmetry]:
    """The reductions of :func:`_candidates` through which the target seems to depend on
    the inputs, best first; empty below two inputs."""
    inputs = dataset.inputs
    if len(inputs) < 2 or dataset.n < 10 * _FOLDS:
        return []
    values, y, folds = _test_rows(dataset, random_state)
    base = _cv_error(np.column_stack(list(values.values())), y, folds)
    if not np.isfinite(base) or base <= 0:
        return []
    best: dict[object, tuple[tuple[int, float], Symmetry]] = {}
    taken = set(dataset.columns)
    for replaced, combined, scaling in _candidates(inputs):
        with np.errstate(all="ignore"):
            columns = [evaluate_expression(e, values, y.size) for e in combined]
        if not all(np.all(np.isfinite(c)) for c in columns):
            continue
        rest = [values[c] for c in inputs if c not in replaced]
        ratio = _cv_error(np.column_stack([*columns, *rest]), y, folds) / base
        if ratio > SYMMETRY_RATIO:
            continue
        names: list[str] = []
        for e in combined:
            names.append(_named(e, taken | set(names)))
        # One statement of each scaling: by products where it can (γt and ωt, the
        # arguments of a decay and a wave, rather than γ/ω and ωt).
        rank = (-sum(map(is_product, combined)), ratio)
        if scaling not in best or rank < best[scaling][0]:
            best[scaling] = (rank, Symmetry(replaced, tuple(zip(names, combined)), ratio))
    return sorted((s for _, s in best.values()), key=lambda s: s.ratio)


#: Powers of one input tested as the target's prefactor.
FACTOR_POWERS = tuple(map(sympy.nsimplify, (1, -1, 2, -2, 0.5, -0.5)))


def power_factors(dataset: Dataset, random_state: int = 0) -> list[Symmetry]:
    """Inputs x that the target is proportional to a power of, y = xᵃ·F(other inputs),
    best first; empty below two inputs.

    AI Feynman's multiplicative separability (Udrescu & Tegmark 2020), for the
    case a units' analysis settles when units are declared (y/I₀ is a function
    of n and θ alone in I₀ sin²(nθ/2)/sin²(θ/2)): y/xᵃ, for each power a of
    :data:`FACTOR_POWERS`, is predicted by the nearest-neighbour test from the
    other inputs and from all of them; where it does not depend on x, the first
    has one dimension fewer and predicts better. For each x, the power of lowest
    ratio within :data:`SYMMETRY_RATIO`.
    """
    inputs = dataset.inputs
    if len(inputs) < 2 or dataset.n < 10 * _FOLDS:
        return []
    values, y, folds = _test_rows(dataset, random_state)
    symbols = dict(zip(inputs, as_symbols(inputs)))
    everything = np.column_stack(list(values.values()))
    found = []
    for name in inputs:
        x = values[name]
        if not (np.all(x > 0) or np.all(x < 0)):
            continue
        rest = np.column_stack([values[c] for c in inputs if c != name])
        scored = []
        for power in FACTOR_POWERS:
            if not (power.is_integer or np.all(x > 0)):  # type: ignore[union-attr]
                continue
            with np.errstate(all="ignore"):
                z = y / np.abs(x) ** float(power)
            base = _cv_error(everything, z, folds)
            if np.all(np.isfinite(z)) and np.isfinite(base) and base > 0:
                scored.append((_cv_error(rest, z, folds) / base, power))
        if scored and (best := min(scored, key=lambda s: s[0]))[0] <= SYMMETRY_RATIO:
            found.append(Symmetry((name,), (), best[0], symbols[name] ** best[1]))
    return sorted(found, key=lambda s: s.ratio)


def with_symmetry(dataset: Dataset, hints: Mapping[str, Variable], symmetry: Symmetry
                  ) -> tuple[Dataset, dict[str, Variable]]:
    """``dataset`` with the inputs ``replaced`` by the ``combined`` columns (where the
    first of them stood), and the hints for them. A product is the argument of a wave
    (ωt, kx), so it is offered as an angle; a difference is one where both inputs are."""
    # Each kept input keeps its role in the whole problem: with fewer inputs the auto
    # library would take more of them for angles (those within ±2π), and with more
    # angles it offers fewer harmonics of each.
    given = [hints.get(c, Variable(c)) for c in dataset.inputs]
    roles = {v.name for v in angles_of(dataset.columns, given)}
    kept = {v.name: replace(v, angle=v.name in roles) for v in given
            if v.name not in symmetry.replaced}
    columns = {c: dataset.columns[c] for c in dataset.inputs if c not in symmetry.replaced}
    y = dataset.y
    if symmetry.prefactor != 1:  # F of y/P, sought as the dimensional route seeks it
        P = evaluate_expression(symmetry.prefactor, dataset.columns, dataset.n)
        columns, y = divided(columns, y, P)
    new: dict[str, np.ndarray] = {}
    for name, expr in symmetry.combined:
        z = evaluate_expression(expr, dataset.columns, dataset.n)
        new[name] = z
        angle = is_product(expr) or (
            expr.is_Add and {s.name for s in expr.free_symbols} <= roles)  # type: ignore[attr-defined]
        kept[name] = Variable(name, positive=bool(np.all(z > 0)), angle=bool(angle))
    first = min(dataset.inputs.index(c) for c in symmetry.replaced)
    order = [c for c in dataset.inputs if c not in symmetry.replaced]
    inputs = order[:first] + list(new) + order[first:]
    return replace(dataset, columns={**columns, **new}, inputs=inputs, y=y), kept


def _squared_ratios(dataset: Dataset, hints: Mapping[str, Variable], combined: list[str]
                    ) -> list[sympy.Expr]:
    """(z/x)² for each combined column z and each other input x that is never 0: a
    difference measured against a scale, the argument of a Gaussian ((θ − θ₁)/σ),
    which the log of the target then fits as one term. Over the hints' symbols, those
    of the library (a positive input's symbol is positive)."""
    symbols = {name: hints[name].symbol for name in dataset.inputs}
    return [(symbols[z] / symbols[x]) ** 2 for z in combined for x in dataset.inputs
            if x not in combined and np.all(dataset.columns[x] != 0)]


def symmetry_model(model: Model, dataset: Dataset, hints: Mapping[str, Variable],
                   settings: Settings, engine: Engine, searched: int, depth: int) -> Model:
    """``model``, or the law found through one of the first :data:`TRIED` symmetries
    of the data or its first power factor (:func:`power_factors`, where the units do
    not all declare it), whichever has the lower BIC
    (:func:`~discovery.routes.dimensional.lower_bic`).
    The search on the smaller problem may itself use a symmetry (``depth − 1`` more);
    with units, a law that does not balance them is not proposed."""
    units = settings.units
    # The smaller problem is searched without units (its combined input has none
    # declared); what it finds, restated, must balance them as a whole.
    inner = replace(settings, units=None)
    best = model
    seed = settings.random_state or 0
    tried = symmetries(dataset, seed)[:TRIED]
    if units is None or not units.complete(dataset.inputs):
        # With every unit declared, the dimensional route has divided by the prefactor.
        tried += power_factors(dataset, seed)[:1]
    for symmetry in tried:
        smaller, kept = with_symmetry(dataset, hints, symmetry)
        combined = {name: kept[name] for name, _ in symmetry.combined}
        # With two combined columns, a law separable in them (exp(−γt)·cos(ωt)) is one
        # term: their products, as the dimensional route offers for its groups.
        extra = separable_terms(combined) if len(combined) > 1 else []
        extra += _squared_ratios(smaller, kept, list(combined))
        try:
            found = engine.search(smaller, kept, inner, extra, depth=depth - 1)
            law = restate(found, symmetry.table(), dataset, engine.polish, symmetry.prefactor)
        except (FitError, ValueError, TypeError, ZeroDivisionError) as error:
            log.info("Symmetry %s: %s", symmetry, error)
            continue
        if units is not None and not units.admits(law.expression):
            log.info("Symmetry %s: %s does not balance the units", symmetry, law.expression)
            continue
        log.info("Symmetry %s × %s (ratio %.2f): %s", symmetry.prefactor,
                 dict(symmetry.combined), symmetry.ratio, law.expression)
        best = lower_bic(best, law, dataset, searched)
        if exact_enough(best, dataset):
            break
    return best
