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

import numpy as np
import sympy

from basis_library import Library, Variable, as_symbols, compile_numpy

from .._data import Dataset
from ..errors import FitError, UnitsError
from ..model import Model
from ..units import Reduction, Units, reductions
from .base import exact_enough

__all__ = ["admitted", "dimensional_model", "dimensional_terms", "units_verdict"]

log = logging.getLogger(__name__)

#: Prefactors tried (they differ by a product of the groups; F absorbs the choice).
PREFACTORS = 2


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
    extra = dimensional_terms(dataset, units, constants)
    kept = [t for t in library.terms if units.admits(t)] + extra
    if not kept:
        raise UnitsError(f"No candidate term balances the declared units (target in "
                         f"{units.unit(units.target)}); check the units, or leave out those "
                         "of the inputs that a fitted constant may carry.")
    balanced = [t for t in library.terms if units.term_balances(t)] + extra
    return (Library(kept, spec=f"{library.spec}, units"),
            Library(balanced, spec=f"{library.spec}, balanced"))


def dimensional_terms(dataset: Dataset, units: Units, constants: Mapping[str, float]
                      ) -> list[sympy.Expr]:
    """P·f(π) for every term f of the auto library of the groups (P alone where the
    units leave no group); named constants in P by their values. Empty without a
    reduction."""
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
    if not groups:
        return [prefactor.xreplace(numeric)]
    labels = [_label(i, set(dataset.columns)) for i in range(len(groups))]
    columns = {label: _evaluate(g, values, dataset.n) for label, g in zip(labels, groups)}
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
                            angle=str(g) in angles or (few and _product(g)))
            for label, g in zip(labels, groups)}


def _product(group: sympy.Expr) -> bool:
    """A product of two or more inputs with positive exponents (ωt, not v/c)."""
    factors = sympy.Mul.make_args(group)
    return len(factors) >= 2 and all(not (f.is_Pow and f.args[1].is_negative)
                                     for f in factors)


Search = Callable[[Dataset, Mapping[str, Variable], Mapping[str, float],
                   Sequence[sympy.Expr]], Model]


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
                if hints[b].angle:
                    out += [decay * f(k * z) for f in (sympy.sin, sympy.cos) for k in (1, 2)]
    return out


def dimensional_model(dataset: Dataset, units: Units, constants: Mapping[str, float],
                      polish: Callable[[sympy.Expr, Dataset], Model], search: Search
                      ) -> Model | None:
    """The best law of the form prefactor × F(groups), refitted on ``dataset``.

    ``search`` finds F on a reduced dataset (the groups as inputs, y/P as the
    target); ``polish`` refits an expression's additive terms on ``dataset``.
    None where the inputs' units admit no reduction.
    """
    found = _reductions(dataset, units, constants)
    if not found:
        return None
    values = _values(dataset, units, constants)
    free = {c: v for c, v in constants.items() if c not in units.constants}
    best: Model | None = None
    for reduction in found:
        try:
            model = _through(reduction, dataset, units, values, free, polish, search)
        except (FitError, np.linalg.LinAlgError, ValueError, ZeroDivisionError,
                TypeError) as error:
            log.info("Dimensional route %s: %s", reduction.describe(), error)
            continue
        if model is None:
            continue
        if best is None or float(model.metrics["mse"]) < float(best.metrics["mse"]):  # type: ignore[arg-type]
            best = model
        if exact_enough(model, dataset):
            break
    return best


def _through(reduction: Reduction, dataset: Dataset, units: Units,
             values: Mapping[str, np.ndarray], free: Mapping[str, float],
             polish: Callable[[sympy.Expr, Dataset], Model], search: Search) -> Model | None:
    """One reduction: F searched on the groups, P·F refitted on the original rows."""
    names = _names(reduction)
    symbols = dict(zip(names, as_symbols(names)))
    prefactor = reduction.prefactor_expr(symbols)
    groups = reduction.group_exprs(symbols)
    P = _evaluate(prefactor, values, dataset.n)
    if not np.all(np.isfinite(P)) or np.any(P == 0):
        return None
    numeric = {symbols[c]: sympy.Float(values[c][0]) for c in units.constants if c in symbols}
    if not groups:  # the units decide the law: y = c·P
        F = sympy.Integer(1)
    else:
        taken = set(dataset.columns) | set(free)
        labels = [_label(i, taken) for i in range(len(groups))]
        columns = {label: _evaluate(g, values, dataset.n) for label, g in zip(labels, groups)}
        if not all(np.all(np.isfinite(c)) for c in columns.values()):
            return None
        hints = _hints(dataset, units, labels, columns, groups)
        # y/P carries the noise of y divided by P: the rows where |P| is smallest would
        # swamp the search with it, so F is sought on the half where |P| is largest
        # (the refit of P·F below uses every row, where the noise is as measured).
        keep = np.abs(P) >= np.median(np.abs(P))
        reduced = replace(dataset, columns={k: v[keep] for k, v in columns.items()},
                          inputs=labels, y=(dataset.y / P)[keep], names={})
        F = search(reduced, hints, free, separable_terms(hints)).expression
    law = prefactor * _by_name(F, dict(zip(labels, groups))) if groups else prefactor * F
    log.info("Dimensional route: %s", law)
    model = polish(_numbers_out(law.xreplace(numeric)), dataset)
    return model.updated(metrics={"dimensional": {
        "prefactor": str(prefactor), "groups": [str(g) for g in groups],
        "reduced": str(F)}})


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


def _evaluate(expr: sympy.Expr, values: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    names = sorted(s.name for s in expr.free_symbols)  # type: ignore[attr-defined]
    if not names:
        return np.full(n, float(expr))
    fn = compile_numpy(as_symbols(names), expr)
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(fn(*(values[c] for c in names)), dtype=float),
                               (n,)).copy()


def units_verdict(model: Model, units: Units) -> Model:
    """``model`` with its units: the declared ones and each coefficient's; a formula
    that does not balance its units is never a ``law``."""
    terms = []
    for term in model.terms:
        try:
            d = units.coefficient_dimension(term.term)
        except Exception:  # an unbalanced term has no coefficient unit
            d = None
        terms.append({"term": str(term.term),
                      "coefficient_unit": None if d is None else str(d),
                      "coefficient_unit_latex": None if d is None else d.latex()})
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
