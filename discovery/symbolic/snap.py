"""Parameters of a nonlinear fit snapped to honest closed forms.

Each parameter the catalogue recognises (:func:`~discovery.symbolic.constants.recognise`
with its chance test) is held at its closed form while a likelihood-ratio test keeps
the claim; the fit is redone with the rest free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import sympy

from ..stats.nls import NLSFit, Residual, fit_parameters, standard_errors
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance
from .constants import ALPHA, ClosedForm, recognise

__all__ = ["snap_parameters"]


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
