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
from .base import exact_enough
from .dimensional import Engine, lower_bic, restate
from .library import Settings

__all__ = ["Symmetry", "SYMMETRY_RATIO", "symmetries", "symmetry_model", "with_symmetry"]

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


class Symmetry(NamedTuple):
    """``y`` depends on inputs ``a`` and ``b`` only through ``a op b``; ``ratio`` is the
    test's cross-validated error with the combination over that without it."""

    a: str
    b: str
    op: str  # "-", "*" or "/"
    ratio: float

    def expr(self) -> sympy.Expr:
        a, b = as_symbols([self.a, self.b])
        return {"-": a - b, "*": a * b, "/": a / b}[self.op]

    def name(self, taken: set[str]) -> str:
        word = {"-": "minus", "*": "times", "/": "over"}[self.op]
        name = f"{self.a}_{word}_{self.b}"
        while name in taken:
            name = "_" + name
        return name


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


def symmetries(dataset: Dataset, random_state: int = 0) -> list[Symmetry]:
    """The pairs of inputs and the combination (difference, product, ratio) through which
    the target seems to depend on them, best first; empty below two inputs."""
    inputs = dataset.inputs
    if len(inputs) < 2 or dataset.n < 10 * _FOLDS:
        return []
    rng = np.random.default_rng(random_state)
    rows = (rng.choice(dataset.n, TEST_ROWS, replace=False) if dataset.n > TEST_ROWS
            else np.arange(dataset.n))
    X = np.column_stack([dataset.columns[c][rows] for c in inputs])
    y = dataset.y[rows]
    folds = rng.permutation(rows.size) % _FOLDS
    base = _cv_error(X, y, folds)
    if not np.isfinite(base) or base <= 0:
        return []
    found = []
    for i, j in itertools.combinations(range(len(inputs)), 2):
        rest = [X[:, k] for k in range(len(inputs)) if k not in (i, j)]
        a, b = X[:, i], X[:, j]
        for op, z in (("-", a - b), ("*", a * b), ("/", a / b if np.all(b != 0) else None)):
            if z is None or not np.all(np.isfinite(z)):
                continue
            ratio = _cv_error(np.column_stack([z, *rest]), y, folds) / base
            if ratio <= SYMMETRY_RATIO:
                found.append(Symmetry(inputs[i], inputs[j], op, ratio))
    return sorted(found, key=lambda s: s.ratio)


def with_symmetry(dataset: Dataset, hints: Mapping[str, Variable], symmetry: Symmetry
                  ) -> tuple[Dataset, dict[str, Variable], str]:
    """``dataset`` with inputs ``a`` and ``b`` replaced by their combination (in ``b``'s
    place), the hints for it, and its name. A product is the argument of a wave (ωt,
    kx), so it is offered as an angle; a difference is one where both inputs are."""
    name = symmetry.name(set(dataset.columns))
    a, b = dataset.columns[symmetry.a], dataset.columns[symmetry.b]
    z = {"-": a - b, "*": a * b, "/": a / np.where(b == 0, 1.0, b)}[symmetry.op]
    inputs = [name if c == symmetry.b else c for c in dataset.inputs if c != symmetry.a]
    columns = {c: (z if c == name else dataset.columns[c]) for c in inputs}
    # Each kept input keeps its role in the whole problem: with fewer inputs the auto
    # library would take more of them for angles (those within ±2π), and with more
    # angles it offers fewer harmonics of each.
    given = [hints.get(c, Variable(c)) for c in dataset.inputs]
    roles = {v.name for v in angles_of(dataset.columns, given)}
    angle = symmetry.op == "*" or (symmetry.op == "-" and {symmetry.a, symmetry.b} <= roles)
    kept = {v.name: replace(v, angle=v.name in roles) for v in given if v.name in inputs}
    kept[name] = Variable(name, positive=bool(np.all(z > 0)), angle=angle)
    return replace(dataset, columns=columns, inputs=inputs), kept, name


def symmetry_model(model: Model, dataset: Dataset, hints: Mapping[str, Variable],
                   settings: Settings, engine: Engine, searched: int, depth: int) -> Model:
    """``model``, or the law found through one of the first :data:`TRIED` symmetries
    of the data, whichever has the lower BIC (:func:`~discovery.routes.dimensional.lower_bic`).
    The search on the smaller problem may itself use a symmetry (``depth − 1`` more);
    with units, a law that does not balance them is not proposed."""
    units = settings.units
    # The smaller problem is searched without units (its combined input has none
    # declared); what it finds, restated, must balance them as a whole.
    inner = replace(settings, units=None)
    best = model
    for symmetry in symmetries(dataset, settings.random_state or 0)[:TRIED]:
        smaller, kept, name = with_symmetry(dataset, hints, symmetry)
        try:
            found = engine.search(smaller, kept, inner, depth=depth - 1)
            law = restate(found.expression, {name: symmetry.expr()}, dataset, engine.polish)
        except (FitError, ValueError, TypeError, ZeroDivisionError) as error:
            log.info("Symmetry %s: %s", symmetry, error)
            continue
        if units is not None and not units.admits(law.expression):
            log.info("Symmetry %s: %s does not balance the units", symmetry, law.expression)
            continue
        log.info("Symmetry %s %s %s (ratio %.2f): %s", symmetry.a, symmetry.op, symmetry.b,
                 symmetry.ratio, law.expression)
        best = lower_bic(best, law, dataset, searched)
        if exact_enough(best, dataset):
            break
    return best
