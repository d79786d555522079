"""Coefficients that are one constant: equal, opposite, or in a simple ratio.

A law's coefficients are often one constant measured more than once:
``c·(f(a) − f(b))``, ``g·(u·cos φ + w·sin φ)``, ``p/2 + q/2``. Alone, each is
known too loosely to be claimed (a coefficient of 0.4985 ± 0.0015 is not told
from chance as 1/2); together they are one constant, known better than either.

:func:`share` tests the linear constraints a physicist would try, pairwise:
``c_i = r·c_j`` for a small rational ``r`` (:data:`RATIOS`, signed), each pair's
simplest ratio within 3 standard errors of the difference (the window of
:func:`~discovery.symbolic.constants.recognise`). They are imposed one by one,
simplest and closest first, each kept only while the refit with all those
imposed raises the RSS by at most the likelihood-ratio allowance
(:func:`~discovery.stats.tests.lr_allowance`, one degree of freedom a
constraint, Wilks 1938): the constraints are judged jointly, as one claim, so
trying many does not let each pass on its own margin. With units, only
coefficients of the same unit are compared (their ratio must be a number).

The shared constants are then what :func:`~discovery.symbolic.snap.closed_forms`
recognises, at their own (smaller) standard errors. This is the equality-constraint
test of linear models (the F-test of a linear hypothesis, Seber & Lee 2003, §4.3),
asked of the pairs a law's symmetry makes likely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce

import numpy as np
import sympy
import torch
from scipy import stats

from ..stats.noise import noise_variance
from ..stats.tests import lr_tolerance

__all__ = ["RATIOS", "Constraint", "Sharing", "share"]

#: The ratios tried between two coefficients (and their negatives), with their
#: cost: simpler ratios are tried first.
RATIOS: tuple[tuple[Fraction, float], ...] = (
    (Fraction(1), 0.0), (Fraction(2), 1.0), (Fraction(1, 2), 1.0),
    (Fraction(3), 1.5), (Fraction(1, 3), 1.5), (Fraction(3, 2), 2.0),
    (Fraction(2, 3), 2.0), (Fraction(4), 2.0), (Fraction(1, 4), 2.0))

#: How many standard errors of their difference two coefficients may be from a ratio.
WINDOW = 3.0


@dataclass(frozen=True)
class Constraint:
    """``c_i = ratio·c_j``, its z-score alone, and whether it was kept."""

    i: int
    j: int
    ratio: Fraction
    z: float
    held: bool

    def to_dict(self, terms: Sequence[sympy.Expr]) -> dict[str, object]:
        return {"terms": [str(terms[self.i]), str(terms[self.j])],
                "ratio": str(self.ratio), "z": round(float(self.z), 3),
                "p_value": float(2 * stats.norm.sf(self.z)), "held": self.held}


@dataclass(frozen=True)
class Sharing:
    """The coefficients grouped by the constraints kept.

    ``groups[g]`` lists ``(term index, factor)``: term ``i`` has coefficient
    ``factor·coef[g]``; factors are integers with no common divisor, the first
    positive. Ungrouped terms are groups of one with factor 1.
    """

    groups: tuple[tuple[tuple[int, int], ...], ...]
    coef: np.ndarray
    std_error: np.ndarray
    rss: float
    tested: tuple[Constraint, ...] = ()
    #: The p-value of the kept constraints together (their likelihood-ratio test)
    p_value: float = 1.0

    @property
    def shared(self) -> bool:
        return any(len(g) > 1 for g in self.groups)

    def matrix(self, k: int) -> np.ndarray:
        """The k × groups matrix F with the per-term coefficients ``F @ coef``."""
        return _matrix(self.groups, k)

    def group_term(self, g: int, terms: Sequence[sympy.Expr]) -> sympy.Expr:
        """``Σ factor·term`` of group ``g``: the expression its constant multiplies."""
        return sympy.Add(*[factor * terms[i] for i, factor in self.groups[g]])

    def to_dict(self, terms: Sequence[sympy.Expr]) -> dict[str, object]:
        return {"tested": [c.to_dict(terms) for c in self.tested],
                "groups": [str(self.group_term(g, terms)) for g, members in
                           enumerate(self.groups) if len(members) > 1],
                "p_value": self.p_value}


Groups = tuple[tuple[tuple[int, int], ...], ...]


def _matrix(groups: Groups, k: int) -> np.ndarray:
    F = np.zeros((k, len(groups)))
    for g, members in enumerate(groups):
        for i, factor in members:
            F[i, g] = factor
    return F


def _grouped(root: list[int], factor: list[Fraction]) -> Groups:
    """The groups of terms with one root, each with integer factors that have no common
    divisor, the first positive (``factor[i]`` is term i's relative to its root's)."""
    groups = []
    for key in sorted(set(root)):
        members = [m for m in range(len(root)) if root[m] == key]
        fractions = [factor[m] for m in members]
        lcm = reduce(lambda a, b: a * b // math.gcd(a, b), (f.denominator for f in fractions))
        integers = [int(f * lcm) for f in fractions]
        divisor = reduce(math.gcd, (abs(v) for v in integers))
        sign = 1 if integers[0] > 0 else -1
        groups.append(tuple((m, sign * v // divisor) for m, v in zip(members, integers)))
    return tuple(groups)


def _ungrouped(coef: np.ndarray, std_error: np.ndarray, rss: float,
               tested: tuple[Constraint, ...] = ()) -> Sharing:
    return Sharing(tuple(((i, 1),) for i in range(len(coef))), np.asarray(coef, float),
                   np.asarray(std_error, float), rss, tested)


def share(A: torch.Tensor, y: torch.Tensor, coef: np.ndarray, std_error: np.ndarray,
          rss: float, n: int, floor: float, same_unit: Sequence[object] | None = None
          ) -> Sharing:
    """The constraints among ``coef`` the data do not reject, and the refit under them.

    ``A`` (columns: the terms; or any matrix with their least-squares geometry,
    such as a QR factor) and ``y`` give the fit whose coefficients ``coef``
    (standard errors ``std_error``, residual ``rss`` over ``n`` rows) are
    tested. ``floor`` is the RSS of an exact fit (rounding). ``same_unit[i]``,
    where given, is a key of the unit of coefficient ``i`` (None: unknown);
    only coefficients with equal keys are compared.
    """
    k = len(coef)
    coef = np.asarray(coef, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    if k < 2 or n <= k or not math.isfinite(rss) or not np.all(np.isfinite(coef)):
        return _ungrouped(coef, std_error, rss)
    sigma2 = noise_variance(rss, n - k)
    A64 = A.detach().to(torch.float64).cpu().numpy()
    y64 = y.detach().to(torch.float64).cpu().numpy()
    gram = A64.T @ A64
    try:
        covariance = sigma2 * np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return _ungrouped(coef, std_error, rss)

    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            if same_unit is not None and same_unit[i] != same_unit[j]:
                continue
            for ratio, cost in RATIOS:
                r = math.copysign(float(ratio), coef[i] * coef[j])
                variance = covariance[i, i] + r * r * covariance[j, j] - 2 * r * covariance[i, j]
                spread = math.sqrt(max(variance, 0.0))
                distance = abs(coef[i] - r * coef[j])
                z = distance / spread if spread > 0 else (0.0 if distance == 0 else math.inf)
                if z <= WINDOW or distance <= 1e-9 * abs(coef[i]):
                    signed = ratio if r > 0 else -ratio
                    pairs.append((cost, z, i, j, signed))
                    break
    if not pairs:
        return _ungrouped(coef, std_error, rss)
    pairs.sort(key=lambda p: (p[0], p[1]))

    def fit(groups: Groups) -> tuple[float, np.ndarray, np.ndarray]:
        """The RSS, the groups' constants and their columns, refitted."""
        G = A64 @ _matrix(groups, k)
        solution, *_ = np.linalg.lstsq(G, y64, rcond=None)
        residual = y64 - G @ solution
        return float(residual @ residual), solution, G

    # Each term's group root and its factor relative to the root's coefficient.
    root = list(range(k))
    factor = [Fraction(1)] * k
    tested = []
    kept: tuple[Groups, float, np.ndarray, np.ndarray] | None = None
    for _, z, i, j, ratio in pairs:
        ri, rj = root[i], root[j]
        if ri == rj:  # already implied, or against those kept
            tested.append(Constraint(i, j, ratio, z, factor[i] == ratio * factor[j]))
            continue
        # c_i = f_i·c_ri and c_j = f_j·c_rj, so c_ri = (ratio·f_j/f_i)·c_rj.
        scale = ratio * factor[j] / factor[i]
        trial_root = [rj if r == ri else r for r in root]
        trial_factor = [f * scale if root[m] == ri else f for m, f in enumerate(factor)]
        groups = _grouped(trial_root, trial_factor)
        trial_rss, solution, G = fit(groups)
        holds = trial_rss - rss <= lr_tolerance(k - len(groups), sigma2, rss, floor)
        tested.append(Constraint(i, j, ratio, z, holds))
        if holds:
            root, factor, kept = trial_root, trial_factor, (groups, trial_rss, solution, G)
    if kept is None:
        return _ungrouped(coef, std_error, rss, tuple(tested))

    groups, kept_rss, solution, G = kept
    sigma2_kept = noise_variance(kept_rss, n - len(groups))
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(G.T @ G)) * sigma2_kept, 0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(groups), math.nan)
    p_value = float(stats.chi2.sf(max(kept_rss - rss, 0.0) / sigma2, k - len(groups))) \
        if sigma2 > 0 else 1.0
    return Sharing(tuple(groups), solution, se, kept_rss, tuple(tested), p_value)
