"""Units in the search: the library kept to terms that balance, and the dimensional
route, which searches a law as a prefactor times a function of dimensionless groups.

With every input and the target declared, Buckingham's theorem
(:mod:`discovery.units.groups`) writes any law that balances its units as
y = P(x)·F(π₁, …, π_k). The route searches F on the k groups (fewer
variables than inputs, all dimensionless: AI Feynman's dimensional step,
Udrescu & Tegmark 2020) with the target divided by P, then states P·F in the
original inputs and refits its terms there by least squares, so that noise,
intervals and constant recognition are those of the original rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import sympy

from basis_library import Library, Variable, as_symbols

from .._data import Dataset
from ..errors import FitError, UnitsError
from ..model import Model
from ..stats.criteria import exact_floor, log_comb
from ..symbolic.evaluate import evaluate_expression
from ..units import Reduction, Units, reductions
from .base import exact_enough, route_bic
from .library import Settings

__all__ = [
    "DIFFERENCE_PAIRS", "Engine", "SEARCHED", "admitted", "differences_model",
    "dimensional_model", "dimensional_terms", "divided", "is_product", "like_pairs",
    "lower_bic", "restate", "separable_terms", "units_verdict", "with_difference",
]

log = logging.getLogger(__name__)

#: Prefactors tried (they differ by a product of the groups; F absorbs the choice).
PREFACTORS = 2
#: The metric that holds the number of library columns a nested search chose a law's
#: terms among (the groups' library, a symmetry's smaller problem's), charged by
#: :func:`lower_bic` as the search it is.
SEARCHED = "searched_terms"


def admitted(library: Library, units: Units, dataset: Dataset,
             constants: Mapping[str, float]) -> tuple[Library, Library]:
    """The library of the fit and the library of the other routes, under ``units``.

    The fit's: the terms that may enter a law with these units
    (:meth:`~discovery.units.Units.admits`), and the dimensional library's (the
    prefactor times each term of the groups' library). The routes': every term
    balanced inside (no ``sin(mass)``) whatever its unit, since a route may fit
    a transformed target (y², 1/y) whose unit is not y's; what a route proposes
    must balance as a whole (:func:`~discovery.routes.compare.other_routes`).
    """
    kept = [t for t in library.terms if units.admits(t)]
    # The prefactor always; its products with the groups' library only where no term
    # of the auto library balances: beside them, smooth functions of one group
    # (m₀·(v/c)²·e^(v/c)) approximate a law at 1% noise as well as the law itself
    # and pre-empt the route that states it (m₀/√(1 − v²/c²)).
    extra = dimensional_terms(dataset, units, constants, prefactor_only=bool(kept))
    kept += extra
    if not kept:
        raise UnitsError(f"No candidate term balances the declared units (target in "
                         f"{units.unit(units.target)}); check the units, or leave out those "
                         "of the inputs that a fitted constant may carry.")
    balanced = [t for t in library.terms if units.term_balances(t)] + extra
    return (Library(kept, spec=f"{library.spec}, units"),
            Library(balanced, spec=f"{library.spec}, balanced"))


def dimensional_terms(dataset: Dataset, units: Units, constants: Mapping[str, float],
                      *, prefactor_only: bool = False) -> list[sympy.Expr]:
    """P·f(π) for every term f of the auto library of the groups (P alone where the
    units leave no group, or with ``prefactor_only``); named constants in P by their
    values. Empty without a reduction."""
    from basis_library import auto_library

    found = _reductions(dataset, units, constants)
    if not found:
        return []
    reduction = found[0]
    values = _values(dataset, units, constants)
    names = _names(reduction)
    symbols = dict(zip(names, as_symbols(names)))
    prefactor = reduction.prefactor_expr(symbols)
    numeric = {symbols[c]: sympy.Float(float(constants[c])) for c in units.constants
               if c in symbols}
    groups = reduction.group_exprs(symbols)
    if not groups or prefactor_only:
        return [prefactor.xreplace(numeric)]
    labels = [_label(i, set(dataset.columns)) for i in range(len(groups))]
    columns = {label: evaluate_expression(g, values, dataset.n) for label, g in zip(labels, groups)}
    if not all(np.all(np.isfinite(c)) for c in columns.values()):
        return [prefactor.xreplace(numeric)]
    library = auto_library(columns, list(_hints(dataset, units, labels, columns,
                                                groups).values()))
    # Powers of a group up to 2: with a single group the auto library's powers up to 6
    # form a series that approximates a smooth F to the rounding floor (1/(e^π − 1)
    # by its Laurent series) and would hide it from the routes that state it.
    return [(prefactor * _by_name(t, dict(zip(labels, groups)))).xreplace(numeric)
            for t in library.terms if _low_degree(t, labels)]


def _low_degree(term: sympy.Expr, labels: list[str]) -> bool:
    for power in term.atoms(sympy.Pow):
        base, exponent = power.args
        if base.is_Symbol and base.name in labels and exponent.is_Number \
                and abs(float(exponent)) > 2:
            return False
    return True


def _by_name(expr: sympy.Expr, table: Mapping[str, sympy.Expr]) -> sympy.Expr:
    """``expr`` with each symbol named in ``table`` replaced (whatever its assumptions)."""
    return expr.xreplace({s: table[s.name] for s in expr.free_symbols  # type: ignore[attr-defined]
                          if s.name in table})  # type: ignore[attr-defined]


def _reductions(dataset: Dataset, units: Units, constants: Mapping[str, float]
                ) -> list[Reduction]:
    if not units.complete(dataset.inputs):  # partial units: no reduction
        return []
    dims = [(c, units.unit(c).dimension) for c in dataset.inputs]  # type: ignore[union-attr]
    dims += [(c, units.declared[c].dimension) for c in units.constants if c in constants]
    target = units.target_dimension
    return [] if target is None else reductions(dims, target, limit=PREFACTORS)


def _values(dataset: Dataset, units: Units, constants: Mapping[str, float]
            ) -> dict[str, np.ndarray]:
    return {**dataset.columns, **{c: np.full(dataset.n, float(constants[c]))
                                  for c in units.constants if c in constants}}


def _names(reduction: Reduction) -> list[str]:
    return list(dict.fromkeys([n for n, _ in reduction.prefactor]
                              + [n for g in reduction.groups for n, _ in g]))


def _hints(dataset: Dataset, units: Units, labels: list[str],
           columns: Mapping[str, np.ndarray], groups: list[sympy.Expr]) -> dict[str, Variable]:
    """A group is positive where its values are; an angle where it is a declared angle,
    or a product of inputs (ωt, kx: the dimensionless arguments of a wave or an
    oscillation) while there are at most two groups."""
    angles = {n for n in dataset.inputs if (u := units.unit(n)) is not None and u.angle}
    few = len(groups) <= 2
    return {label: Variable(label, positive=bool(np.all(columns[label] > 0)),
                            angle=_angle(g, angles, few))
            for label, g in zip(labels, groups)}


def _angle(group: sympy.Expr, angles: set[str], few: bool) -> bool | None:
    """A declared angle is one, and so is a product of inputs while the groups are few
    (ωt); a single dimensionless input is left to the auto library (its name, its
    range); a ratio of inputs (v/c) is a fraction, never an angle."""
    if str(group) in angles:
        return True
    if group.is_Symbol:
        return None
    return True if few and is_product(group) else False


def is_product(group: sympy.Expr) -> bool:
    """A product of two or more inputs with positive exponents (ωt, not v/c)."""
    factors = sympy.Mul.make_args(group)
    return len(factors) >= 2 and all(not (f.is_Pow and f.args[1].is_negative)
                                     for f in factors)


class Engine(NamedTuple):
    """What the units' and the symmetries' routes call back: ``search(dataset, hints,
    settings, extra=(), differences=False, depth=2)``, the engine's whole search
    (library fit and routes, and up to ``depth`` symmetries in a row) on a dataset, and
    ``polish(expr, dataset)``, an expression's additive terms refitted
    on ``dataset`` (:func:`~discovery.backends.genetic.polish_model`)."""

    search: Callable[..., Model]
    polish: Callable[[sympy.Expr, Dataset], Model]


def separable_terms(hints: Mapping[str, Variable]) -> list[sympy.Expr]:
    """Products of a decay or growth in one group and a wave or a power in another:
    exp(∓π₁)·cos(kπ₂), exp(∓π₁)·π₂ (k = 1, 2). A law separable in its groups, the
    damped oscillation exp(−γt)·cos(ωt) (the multiplicative separability of AI
    Feynman, Udrescu & Tegmark 2020), is then one term; the auto library holds each
    factor alone, not their products."""
    symbols = {name: v.symbol for name, v in hints.items()}
    out: list[sympy.Expr] = []
    for a, x in symbols.items():
        for b, z in symbols.items():
            if a == b:
                continue
            for decay in (sympy.exp(-x), sympy.exp(x)):
                out.append(decay * z)
                if hints[b].angle is not False:
                    out += [decay * f(k * z) for f in (sympy.sin, sympy.cos) for k in (1, 2)]
    return out


def dimensional_model(dataset: Dataset, settings: Settings, engine: Engine) -> Model | None:
    """The best law of the form prefactor × F(groups), refitted on ``dataset``.

    F is searched by the engine without units on a reduced dataset (the groups
    as inputs, y/P as the target); P·F is then polished on ``dataset``. None
    where the inputs' units admit no reduction.
    """
    units, constants = settings.units, settings.constants
    if units is None:
        return None
    found = _reductions(dataset, units, constants)
    if not found:
        return None
    values = _values(dataset, units, constants)
    free = {c: v for c, v in constants.items() if c not in units.constants}
    inner = replace(settings, units=None, constants=free)
    best: Model | None = None
    for reduction in found:
        try:
            model = _through(reduction, dataset, units, values, inner, engine)
        except (FitError, np.linalg.LinAlgError, ValueError, ZeroDivisionError,
                TypeError) as error:
            log.info("Dimensional route %s: %s", reduction.describe(), error)
            continue
        if model is None:
            continue
        # By the BIC, as every route is chosen: by the error alone, a reduction whose
        # search kept a term of noise beat the one that states the law (I.12.11 at 1%
        # noise).
        best = model if best is None else lower_bic(best, model, dataset, 0)
        if exact_enough(model, dataset):
            break
    return best


def differences_model(model: Model, dataset: Dataset, hints: Mapping[str, Variable],
                      settings: Settings, engine: Engine, searched: int) -> Model:
    """Where the fit is long and not exact, a law may take the difference of two inputs
    of one unit as its argument (cos(θ₁ − θ₂), (θ − θ₁)/σ): each such pair of the
    first :data:`DIFFERENCE_PAIRS` has one input replaced by the difference and the
    search run again; the result, restated in the inputs and refitted, competes by
    BIC (:func:`lower_bic`)."""
    units = settings.units
    if units is None:
        return model
    best = model
    for a, b in like_pairs(dataset.inputs, units)[:DIFFERENCE_PAIRS]:
        shifted, moved, name = with_difference(dataset, units, a, b)
        unit = moved.unit(name)
        angle = {name: Variable(name, angle=bool(unit and unit.angle))}
        try:
            found = engine.search(shifted, {**hints, **angle}, replace(settings, units=moved))
            law = restate(found, {name: as_symbols([a])[0] - as_symbols([b])[0]},
                          dataset, engine.polish)
        except (FitError, ValueError, TypeError) as error:
            log.info("Difference %s − %s: %s", a, b, error)
            continue
        best = lower_bic(best, law, dataset, searched)
        if exact_enough(best, dataset):
            break
    return best


def lower_bic(model: Model, other: Model, dataset: Dataset, searched: int) -> Model:
    """Of two fits, the one of lower BIC, each charged its fitted numbers and the search
    of its terms among the ``searched`` library columns, or among those of the nested
    search that found it where more (:data:`SEARCHED`;
    :func:`~discovery.routes.base.route_bic`); within 2 of each other, the simpler, as
    among the routes (:func:`~discovery.routes.compare.simplest_close`): a term of noise
    picked among hundreds of columns can tip the BIC by less (I.12.11 at 1% noise, with
    units, by 0.05)."""
    from .compare import simplest_close

    floor = exact_floor(dataset.y, per_row=True)

    def score(m: Model) -> float:
        # Fitted numbers beyond one coefficient a term: exponents, inner constants.
        extra = max(0, len(m.expression.atoms(sympy.Float)) - len(m.terms))
        columns = max(searched, int(m.metrics.get(SEARCHED, 0)), len(m.terms))
        return route_bic(m, dataset.n, extra, floor, log_comb(columns, len(m.terms)))

    # The lower first: of two as simple, the lower BIC.
    scored = sorted([(score(other), other), (score(model), model)], key=lambda t: t[0])
    return simplest_close(scored[0][0], scored)[1]


def divided(columns: Mapping[str, np.ndarray], y: np.ndarray, P: np.ndarray
            ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``columns`` and y/P on the half of the rows where |P| is largest: y/P carries the
    noise of y divided by P, and the rows where |P| is smallest would swamp a search
    for F with it (the refit of P·F on every row, where the noise is as measured,
    follows the search)."""
    keep = np.abs(P) >= np.median(np.abs(P))
    return {k: v[keep] for k, v in columns.items()}, (y / P)[keep]


def _through(reduction: Reduction, dataset: Dataset, units: Units,
             values: Mapping[str, np.ndarray], inner: Settings, engine: Engine
             ) -> Model | None:
    """One reduction: F searched on the groups, P·F refitted on the original rows."""
    names = _names(reduction)
    symbols = dict(zip(names, as_symbols(names)))
    prefactor = reduction.prefactor_expr(symbols)
    groups = reduction.group_exprs(symbols)
    P = evaluate_expression(prefactor, values, dataset.n)
    if not np.all(np.isfinite(P)) or np.any(P == 0):
        return None
    numeric = {symbols[c]: sympy.Float(values[c][0]) for c in units.constants if c in symbols}
    searched = 0
    if not groups:  # the units decide the law: y = c·P
        F = sympy.Integer(1)
    else:
        taken = set(dataset.columns) | set(inner.constants)
        labels = [_label(i, taken) for i in range(len(groups))]
        columns = {label: evaluate_expression(g, values, dataset.n)
                   for label, g in zip(labels, groups)}
        if not all(np.all(np.isfinite(c)) for c in columns.values()):
            return None
        hints = _hints(dataset, units, labels, columns, groups)
        kept, y = divided(columns, dataset.y, P)
        reduced = replace(dataset, columns=kept, inputs=labels, y=y, names={})
        reduced_fit = engine.search(reduced, hints, inner, separable_terms(hints))
        F, searched = reduced_fit.expression, int(reduced_fit.metrics.get(SEARCHED, 0))
    law = prefactor * _by_name(F, dict(zip(labels, groups))) if groups else prefactor * F
    log.info("Dimensional route: %s", law)
    model = engine.polish(_numbers_out(law.xreplace(numeric)), dataset)
    return model.updated(metrics={"dimensional": {
        "prefactor": str(prefactor), "groups": [str(g) for g in groups],
        "reduced": str(F)}, SEARCHED: searched})


#: Pairs of like-unit inputs whose difference is tried as an input.
DIFFERENCE_PAIRS = 3


def like_pairs(inputs: Sequence[str], units: Units) -> list[tuple[str, str]]:
    """Pairs of inputs with the same declared unit, in the order of the inputs: their
    difference is a quantity of that unit (θ₁ − θ₂, x₂ − x₁, ω − ω₀)."""
    out = []
    for i, a in enumerate(inputs):
        for b in inputs[i + 1:]:
            ua, ub = units.unit(a), units.unit(b)
            if ua is not None and ub is not None and ua.dimension == ub.dimension:
                out.append((a, b))
    return out


def with_difference(dataset: Dataset, units: Units, a: str, b: str
                    ) -> tuple[Dataset, Units, str]:
    """``dataset`` with input ``b`` replaced by ``a − b`` (a one-to-one change of
    inputs, so nothing is lost), the units of that, and the new column's name."""
    name = f"{a}_minus_{b}"
    while name in dataset.columns:
        name = "_" + name
    columns = {(name if c == b else c): (dataset.columns[a] - dataset.columns[b] if c == b
                                        else dataset.columns[c]) for c in dataset.inputs}
    inputs = [name if c == b else c for c in dataset.inputs]
    symbols = {k: v for k, v in units.symbols.items() if k != b}
    declared = {k: v for k, v in units.declared.items() if k != units.symbols.get(b, b)}
    declared[name] = units.unit(b)  # type: ignore[assignment]
    symbols[name] = name
    moved = Units(declared=declared, target=units.target, symbols=symbols,
                  constants=units.constants)
    return replace(dataset, columns=columns, inputs=inputs), moved, name


def restate(found: Model, table: Mapping[str, sympy.Expr], dataset: Dataset,
            polish: Callable[[sympy.Expr, Dataset], Model],
            prefactor: sympy.Expr = sympy.S.One) -> Model:
    """``prefactor`` times the law ``found`` on a smaller problem, with the symbols named
    in ``table`` replaced, refitted on ``dataset``; the columns its search chose among
    kept (:data:`SEARCHED`)."""
    law = _by_name(prefactor * found.expression, table)
    # One symbol a name: a nested search's symbols and the table's may differ in their
    # assumptions (pi3 positive and pi3 real), and a compiled function takes each once.
    law = _by_name(law, dict(zip(dataset.inputs, as_symbols(dataset.inputs))))
    refitted = polish(_numbers_out(law), dataset)
    return refitted.updated(metrics={SEARCHED: int(found.metrics.get(SEARCHED, 0))})


def _numbers_out(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with each additive term's constant factor (``exp(2)``, ``sqrt(2)``,
    a named constant's value) made a plain float, which the refit then replaces."""
    parts = []
    for part in sympy.Add.make_args(sympy.expand(expr)):
        free = part.free_symbols
        constant, rest = part.as_independent(*free) if free else (part, sympy.Integer(1))
        parts.append(sympy.Float(float(constant)) * rest)
    return sympy.Add(*parts)


def _label(i: int, taken: set[str]) -> str:
    label = f"pi{i + 1}"
    while label in taken:
        label = "_" + label
    return label


def units_verdict(model: Model, units: Units) -> Model:
    """``model`` with its units: the declared ones and each coefficient's; a formula
    that does not balance its units is never a ``law``."""
    terms = units.coefficient_units(t.term for t in model.terms)
    balanced = units.balances(model.expression)
    summary = {"declared": units.to_dict(), "target": str(units.unit(units.target) or ""),
               "balanced": balanced, "terms": terms}
    model = model.updated(info={"units": summary})
    if balanced is False and model.verdict.status == "law":
        reasons = (*(model.verdict.reasons or ()),
                   "the formula does not balance the declared units")
        model = model.replace(verdict={**dict(model.verdict), "status": "approximation",
                                       "reasons": reasons})
    return model
