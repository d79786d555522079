"""Rational laws ``y = P(x)/Q(x)``: linearised, selected sparsely, refined on y.

``y·Q = P`` with ``Q = 1 + Σ qⱼ fⱼ`` is linear in the coefficients of P and Q:
``y = Σ pᵢ fᵢ − Σ qⱼ (y·fⱼ)``, a library fit on the columns ``fᵢ`` and
``−y·fⱼ`` (the linearisation of Levy 1959 and of SINDy-PI, Kaheman et al.
2020). The selection picks which terms enter P and Q; because y (and its noise)
sits inside the regressors, the linearised coefficients are biased under noise,
so they only start a nonlinear least-squares fit of ``y − P/Q`` on the original
scale. Coefficients then become closed forms only where the catalogue
recognises them honestly and a likelihood-ratio test keeps them, as for a
library fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np
import sympy
import torch

from basis_library import Design, Library

from ..stats.nls import NonlinearFit
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance
from .base import Proposal, RouteContext, RouteKind, nonlinear_bic, nonlinear_model

if TYPE_CHECKING:
    from .._data import Dataset
    from ..search.select import Candidate
    from .library import Settings

__all__ = ["RationalRoute", "rational_fit"]

#: Supports refitted on y, the best by their linearised score.
_REFITTED = 8
#: The most terms Q may have besides its 1.
_MAX_DENOMINATOR_TERMS = 3

#: The extended BIC's γ for a support: 1, twice its usual charge (the risk
#: inflation criterion, Foster & George 1994). The support is the best of
#: several refitted on y itself, so, like the grown products, it fits noise as
#: the best of those scored does (a five-parameter P/Q beat m x²(ω² + ω₀²)/4
#: by 2 on 1% noise at γ = 1/2).
_GAMMA = 1.0

#: Stands for y in the names of the linearised columns ``−y·fⱼ``.
_Y = sympy.Symbol("_y_of_rational_fit")


def rational_fit(dataset: Dataset, library: Library, design: Design,
                 settings: Settings) -> NonlinearFit | None:
    """The rational law the linearised library fit selects, refined on y; or None.

    None where the library has no constant column (Q's leading 1), no
    candidate support has terms in both P and Q (then it is a library fit),
    or no refined fit succeeds.
    """
    from ..search.select import score_candidates
    from ..search.sparse import candidate_supports, scale_columns
    from ..stats.criteria import ebic, exact_floor, log_comb
    from .library import term_cost

    terms = list(design.terms)
    if sympy.Integer(1) not in terms:
        return None
    X = design.matrix
    y = torch.tensor(dataset.y, dtype=X.dtype, device=X.device)
    others = [j for j, t in enumerate(terms) if t != 1]
    # Q's columns are centred, so Q = 1 + Σ qⱼ (fⱼ − mean fⱼ) has mean 1 and
    # cannot vanish on the data: with Q's constant fixed at 1 instead, Q's terms
    # can approximate −1 (Q ≈ 0, P ≈ 0) and fit y·Q = P below the noise.
    means = X[:, others].mean(dim=0)
    centred = X[:, others] - means
    A = torch.cat([X, -y[:, None] * centred], dim=1)
    named = terms + [_Y * terms[j] for j in others]
    Xs, _ = scale_columns(A)
    supports = candidate_supports(Xs, y, solver=settings.solver, max_terms=settings.max_terms,
                                  complexity=[term_cost(t) for t in named])
    if not supports:
        return None
    candidates = score_candidates(A, y, supports, named)
    # Supports are not chosen by their linearised score (y's noise sits in the
    # regressors, and y·Q = P weighs rows by Q) but by y − P/Q: the few whose
    # linearised coefficients fit y best (with terms in both P and Q) are
    # refitted on y and chosen by the extended BIC.

    def original_rss(candidate: Candidate) -> float:
        """RSS of y − P/Q with the linearised coefficients (no refit yet)."""
        index = torch.as_tensor(candidate.support, device=A.device)
        coef = torch.as_tensor(candidate.coef, dtype=A.dtype, device=A.device)
        in_q = index >= X.shape[1]
        if not bool(in_q.any()) or bool(in_q.all()):
            return math.inf
        top = X[:, index[~in_q]] @ coef[~in_q]
        bottom = 1 + centred[:, index[in_q] - X.shape[1]] @ coef[in_q]
        r = y - top / bottom
        value = float(r @ r)
        return value if math.isfinite(value) else math.inf

    best: tuple[float, NonlinearFit] | None = None
    floor = exact_floor(dataset.y)
    tried = 0
    for candidate in sorted(candidates, key=original_rss):
        picked = [(named[i], float(c)) for i, c in zip(candidate.support, candidate.coef)]
        # Back to Q's constant 1: divide P and Q by Q's constant, 1 − Σ qⱼ mean fⱼ.
        lead = 1 - sum(float(c) * float(means[i - X.shape[1]])
                       for i, c in zip(candidate.support, candidate.coef) if i >= X.shape[1])
        if abs(lead) < 1e-12:
            continue
        numerator = [(t, c / lead) for t, c in picked if _Y not in t.free_symbols]
        denominator = [(t.subs(_Y, 1), c / lead) for t, c in picked if _Y in t.free_symbols]
        if not numerator or not denominator or len(denominator) > _MAX_DENOMINATOR_TERMS:
            continue
        tried += 1
        refined = _refine(dataset, numerator, denominator, settings.constants)
        if refined is not None:
            top, bottom, rss = refined
            search = 2 * _GAMMA * log_comb(A.shape[1], len(picked))
            score = ebic(rss, dataset.n, 0, len(picked), floor, gamma=0.0) + search
            if best is None or score < best[0]:
                expression = (sympy.Add(*[c * t for (t, _), c in zip(numerator, top)])
                              / (1 + sympy.Add(*[c * t for (t, _), c in
                                                 zip(denominator, bottom)])))
                best = (score, NonlinearFit(expression=expression, n_parameters=len(picked),
                                           structure=tuple(sorted(str(t) for t, _ in picked)),
                                           search=search))
        if tried >= _REFITTED:
            break
    return None if best is None else best[1]


def _refine(dataset: Dataset, numerator: list[tuple[sympy.Expr, float]],
            denominator: list[tuple[sympy.Expr, float]], named: Mapping[str, float]
            ) -> tuple[list[sympy.Expr], list[sympy.Expr], float] | None:
    """Least squares of ``y − P/Q`` from the linearised coefficients, then honest snapping.

    Each coefficient the catalogue recognises (:func:`recognise`, its chance
    test at :data:`ALPHA`) is fixed at its closed form; the set is kept only
    while the refit of the others raises the RSS by at most the 99% quantile
    of χ² (one degree per fixed value) in noise variances, the least certain
    dropped first.
    """
    from ..stats.criteria import exact_floor
    from ..stats.nls import finite_fit, standard_errors
    from ..symbolic.evaluate import term_columns
    from ..symbolic.snap import snap_parameters

    F, G = (term_columns([t for t, _ in numerator], dataset),
            term_columns([t for t, _ in denominator], dataset))
    y = dataset.y
    k = F.shape[1]

    def residual(c: np.ndarray) -> np.ndarray:
        return F @ c[:k] / (1 + G @ c[k:]) - y

    start = np.array([c for _, c in numerator] + [c for _, c in denominator], dtype=float)
    fitted = finite_fit(residual, start)
    if fitted is None:
        return None
    coef, rss, J = fitted
    n, m = dataset.n, len(coef)
    sigma2 = noise_variance(rss, n - m)
    floor = exact_floor(y)
    # Q's leading 1 must matter: where y ≈ P/(Σ qⱼ gⱼ) fits as well (the 1
    # negligible on the data, as in q₁q₂/(1 + 1038 εr²) for q₁q₂/(4πεr²)), the
    # law is not rational in this form, and its extra freedom only fits noise.
    with np.errstate(all="ignore"):
        B = F / (G @ coef[k:])[:, None]
        if np.all(np.isfinite(B)):
            limit = y - B @ np.linalg.lstsq(B, y, rcond=None)[0]
            if float(limit @ limit) - rss <= lr_allowance(1, sigma2) + floor:
                return None
    se = standard_errors(J, rss, n)
    if not np.all(np.abs(coef) > 3 * se):
        # A coefficient the data cannot tell from 0 is not in the law (as for a
        # factor's exponent); P/Q is flexible enough to buy noise with it.
        return None
    exprs, _, final_rss = snap_parameters(residual, coef, rss, se, named, floor, n)
    return exprs[:k], exprs[k:], final_rss


class RationalRoute:
    """The rational law P/Q (one proposal), its every parameter and search charged."""

    kind = RouteKind.RATIONAL

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        found = nonlinear_model(
            rational_fit(context.dataset, context.library, context.design, context.settings),
            context.dataset, context.base, RouteKind.RATIONAL.value,
            "it is a rational fit P/Q refined by nonlinear least squares; the linearised terms "
            "are in info['inner_terms']")
        if found is not None:
            yield Proposal(nonlinear_bic(found, context.dataset.n, context.floor), found)
