"""Fitted numbers snapped to honest closed forms, in one module.

Three kinds of number, one rule: a value becomes a closed form only where the
catalogue recognises it honestly (:func:`~discovery.symbolic.constants.recognise`,
its chance test at :data:`~discovery.symbolic.constants.ALPHA`), and the claims
together are kept only while the likelihood-ratio test of
:func:`~discovery.stats.tests.lr_allowance` allows the rise of the RSS they cost.

- :func:`closed_forms`: the coefficients of a linear (library) fit;
- :func:`snap_parameters`: the parameters of a nonlinear fit, refitted in rounds;
- :func:`snap_floats`: the constants inside a genetic backend's terms (tested by
  the polish's refit, :func:`~discovery.backends.genetic.polish_model`).

A power law's exponents snap to small rationals instead
(:mod:`discovery.routes.exponents`), under the same test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from basis_library import normalise_term

from ..stats.criteria import exact_floor
from ..stats.nls import NLSFit, Residual, fit_parameters, standard_errors
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance, lr_tolerance
from ..units import Unbalanced, Units
from .constants import ALPHA, ClosedForm, consistent_with, recognise
from .shared import Sharing, share

__all__ = ["Snapped", "closed_forms", "snap_floats", "snap_parameters"]


def snap_parameters(residual: Residual, coef: np.ndarray, rss: float, se: np.ndarray,
                    named: Mapping[str, float], floor: float, n: int,
                    keep: Callable[[int], bool] = lambda i: True
                    ) -> tuple[list[sympy.Expr], np.ndarray, float]:
    """Each parameter the catalogue recognises honestly, fixed at its closed form.

    Recognition is :func:`recognise` with its chance test at :data:`ALPHA`;
    the set of fixed values is kept only while the refit of the others raises
    the RSS by at most the 99% quantile of χ² (one degree per fixed value) in
    noise variances, the least certain dropped first. Then again on the refit:
    a parameter fixed tells the others more precisely (1/(a·n/d₂ + b/d₁) at 1%
    noise: b = 0.998 ± 0.001 is 1, and then a = 1.001 ± 0.0006 is too, where a
    = 1.004 ± 0.002 alone was not told from chance), every round tested
    against the free fit's RSS, the fixed values counted together, so the
    rounds spend no more than the one test. Where a claim fails that test,
    the values it would hold are tried with those recognised given them,
    jointly (correlated parameters can be off together along the direction
    the data leave loose). ``keep(i)`` false leaves parameter
    ``i`` a decimal. Returns the parameters as expressions (closed forms, else
    15-digit floats), their values and the RSS.
    """
    sigma2 = noise_variance(rss, n - len(coef))

    def refit(held: dict[int, float]) -> NLSFit:
        try:
            return fit_parameters(residual, final, held)
        except (ValueError, np.linalg.LinAlgError):
            return final, math.inf, np.zeros((n, 0))

    def holds(held: dict[int, float], held_rss: float) -> bool:
        return held_rss - rss <= lr_allowance(len(held), sigma2) + floor

    fixed: dict[int, sympy.Expr] = {}
    values: dict[int, float] = {}
    final, final_rss, final_se = coef, rss, se
    while len(fixed) < len(coef):
        free = [i for i in range(len(coef)) if i not in fixed]
        forms = _recognised(final, final_se, fixed, named, keep)
        claimed = sorted(forms, key=lambda i: abs(final[i] - forms[i].value)
                         / max(final_se[free.index(i)], 1e-300))
        while claimed:
            trial = {**values, **{i: forms[i].value for i in claimed}}
            snapped, snapped_rss, J = refit(trial)
            if holds(trial, snapped_rss):
                break
            # Correlated parameters: with these held, another may be recognised
            # too (its estimate given them, 1.0005 ± 0.0009 where alone it was
            # 1.0042 ± 0.0016), and the joint claim is then tested with one
            # degree of freedom a value; it may hold where the claim alone did
            # not (each 2.7 standard errors off along the one direction the data
            # cannot pin down).
            more = _recognised(snapped, standard_errors(J, snapped_rss, n), trial, named,
                               keep) if math.isfinite(snapped_rss) else {}
            if more:
                joint = {**trial, **{i: f.value for i, f in more.items()}}
                joint_fit = refit(joint)
                if holds(joint, joint_fit[1]):
                    forms.update(more)
                    claimed += list(more)
                    snapped, snapped_rss, J = joint_fit
                    break
            claimed.pop()
        if not claimed:
            break
        fixed.update({i: forms[i].expr for i in claimed})
        values.update({i: forms[i].value for i in claimed})
        final, final_rss = snapped, snapped_rss
        final_se = standard_errors(J, snapped_rss, n)
    exprs = [fixed[i] if i in fixed else sympy.Float(final[i], 15) for i in range(len(coef))]
    return exprs, final, final_rss


def _recognised(coef: np.ndarray, se: np.ndarray, held: Mapping[int, object],
                named: Mapping[str, float], keep: Callable[[int], bool]) -> dict[int, ClosedForm]:
    """The closed forms the catalogue recognises honestly (:func:`recognise` at
    :data:`ALPHA`) for the parameters not ``held``, at their fit with those
    held: values ``coef``, standard errors ``se`` of the free ones in order."""
    free = [i for i in range(len(coef)) if i not in held]
    found = {i: recognise(float(coef[i]), float(se[k]), named, alpha=ALPHA)
             for k, i in enumerate(free) if keep(i)}
    return {i: f for i, f in found.items() if f is not None}


def _nearest(value: float, std_error: float, named: Mapping[str, float], term: sympy.Expr,
             units: Units | None) -> ClosedForm | None:
    """The simplest form within 3 standard errors of a coefficient of ``term``; with
    units, one that has the coefficient's unit: a number (rational, π, ...) times the
    product of named constants that carries it (0.1019 s²/m → 1/g, never 1/π²)."""
    if units is None:
        return consistent_with(value, std_error, named)
    base = units.coefficient_base(term, named)
    if base is None:
        return None
    expr, scale, free = base
    form = consistent_with(value / scale, std_error / abs(scale), free)
    if form is None:
        return None
    return ClosedForm(form.expr * expr, form.value * scale, form.cost, form.chance)


@dataclass(frozen=True)
class Snapped:
    """A linear fit's coefficients as :func:`closed_forms` states them.

    Per term: its closed form (or None), the simplest form it is consistent
    with where none is claimed, its coefficient and standard error under the
    shared constants kept (:func:`~discovery.symbolic.shared.share`). Per group
    of terms sharing a constant: its form and value (:meth:`expression`).
    """

    closed: list[sympy.Expr | None]
    consistent: list[sympy.Expr | None]
    fixed: int
    coef: np.ndarray
    std_error: np.ndarray
    sharing: Sharing
    group_terms: list[sympy.Expr]
    group_forms: list[sympy.Expr | None]

    def expression(self) -> sympy.Expr:
        """``Σ constant·(Σ factor·term)``: each shared constant stated once."""
        return sympy.Add(*[(f if f is not None else sympy.Float(float(c), 15)) * t
                           for f, c, t in zip(self.group_forms, self.sharing.coef,
                                              self.group_terms)])


def _unit_keys(units: Units, terms: list[sympy.Expr]) -> list[object]:
    """Each coefficient's unit (None unknown): only coefficients of one unit may share a
    constant; an unbalanced term's is its own."""
    keys: list[object] = []
    for i, term in enumerate(terms):
        try:
            keys.append(units.coefficient_dimension(term))
        except Unbalanced:
            keys.append(("unbalanced", i))
    return keys


def closed_forms(X: torch.Tensor, y: torch.Tensor, chosen, terms, named,  # noqa: ANN001
                 n: int | None = None, units: Units | None = None) -> Snapped:
    """Shared constants, then closed forms for them, kept only while the fit stays within noise.

    First the coefficients that are one constant (equal, opposite, in a simple
    ratio) are grouped (:func:`~discovery.symbolic.shared.share`). Each group's
    constant is claimed as a closed form only where :func:`recognise` finds it
    honest (few chance matches at this precision); together with the groups
    they are kept only while a likelihood-ratio test does not reject them: the
    RSS with the snapped values, the other constants refitted, may exceed the
    free fit's by at most the 99% quantile of χ² with one degree of freedom per
    constraint and per snapped value, in units of the noise variance. The least
    certain are dropped first. Also gives, for each constant without a claim,
    the simplest form it is consistent with. ``X`` may be any matrix with the
    rows' least-squares geometry (a QR factor of them); ``n`` is then the
    number of rows.
    """
    n, k = X.shape[0] if n is None else n, len(terms)
    index = torch.as_tensor(list(chosen.support), device=X.device)
    A = X[:, index]
    # Below the rounding floor (an exact fit) a snapped constant costs nothing measurable.
    floor = exact_floor(y)
    keys = _unit_keys(units, terms) if units is not None else None
    sharing = share(A, y, np.asarray(chosen.coef), np.asarray(chosen.std_error), chosen.rss,
                    n, floor, keys)
    g = len(sharing.groups)
    group_terms = [sharing.group_term(i, terms) for i in range(g)]
    F = sharing.matrix(k)
    G = A @ torch.as_tensor(F, dtype=A.dtype, device=A.device)
    # One catalogue scan a constant: the simplest form in its window, claimed
    # where recognise's chance test passes, else only "consistent with".
    nearest = [_nearest(float(c), float(s), named, term, units)
               for c, s, term in zip(sharing.coef, sharing.std_error, group_terms)]
    forms = [f if f is not None and f.chance <= ALPHA else None for f in nearest]
    sigma2 = noise_variance(chosen.rss, n - k)
    constraints = k - g

    def rss_with(active: list[int]) -> float:
        coef = torch.as_tensor(sharing.coef, dtype=X.dtype, device=X.device).clone()
        for i in active:
            coef[i] = forms[i].value  # type: ignore[union-attr]
        free = [i for i in range(g) if i not in active]
        target = y - G[:, active] @ coef[active] if active else y
        if free:
            sol = torch.linalg.lstsq(G[:, free].cpu(), target.cpu()[:, None]).solution[:, 0]
            coef[free] = sol.to(X.device)
        resid = y - G @ coef
        return float(resid @ resid)

    active = [i for i, f in enumerate(forms) if f is not None]
    # Drop the least certain recognitions until the joint RSS is within noise.
    order = sorted(active, key=lambda i: abs(sharing.coef[i] - forms[i].value)  # type: ignore[union-attr]
                   / max(float(sharing.std_error[i]), 1e-300))
    while order and rss_with(order) - chosen.rss > lr_tolerance(constraints + len(order),
                                                                sigma2, chosen.rss, floor):
        order.pop()
    kept = set(order)
    group_forms = [f.expr if (f is not None and i in kept) else None for i, f in enumerate(forms)]
    if not math.isfinite(sigma2):
        group_forms = [None] * g
    group_consistent = [None if f is not None or c is None else c.expr
                        for f, c in zip(group_forms, nearest)]
    closed: list[sympy.Expr | None] = [None] * k
    consistent: list[sympy.Expr | None] = [None] * k
    std_error = np.zeros(k)
    for i, members in enumerate(sharing.groups):
        form, near = group_forms[i], group_consistent[i]
        for m, factor in members:
            closed[m] = None if form is None else factor * form
            consistent[m] = None if near is None else factor * near
            std_error[m] = abs(factor) * float(sharing.std_error[i])
    return Snapped(closed, consistent, sum(f is not None for f in closed), F @ sharing.coef,
                   std_error, sharing, group_terms, group_forms)


def snap_floats(term: sympy.Expr, rtol: float = 0.01) -> sympy.Expr:
    """Replace floats inside a term by the simplest closed form within ``rtol``.

    Examples
    --------
    >>> import sympy
    >>> t = sympy.Symbol("t")
    >>> snap_floats(sympy.sin(1.99698 * t))
    sin(2*t)
    """
    mapping = {}
    for f in term.atoms(sympy.Float):
        form = recognise(float(f), abs(float(f)) * rtol / 3.0, alpha=None)
        if form is not None:
            mapping[f] = form.expr
    return normalise_term(term.xreplace(mapping)) if mapping else term
