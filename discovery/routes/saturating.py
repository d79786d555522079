"""Saturating terms ``f/(1 + q·g)`` for the right-hand sides of differential equations.

Rates that level off (Holling's type II predation ``xy/(1 + x)``, Michaelis–Menten
kinetics ``x/(K + x)``, bacterial respiration's ``xy/(1 + x²/2)``) are rational in
the states, and no polynomial library holds them. SINDy-PI (Kaheman et al. 2020)
writes ``Q(x)·ẋ = P(x)`` and regresses implicitly, but then the noisy ``ẋ`` sits
inside the regressors; here the denominator's one inner constant q is a
nonlinear parameter instead, as in variable projection (Golub & Pereyra 1973):
for each q the terms ``f/(1 + q·g)`` are ordinary library columns (their weak
form is a sum like any other), so the sparse search picks the law's terms
exactly as for a polynomial library, and q is chosen by the extended BIC over
a grid, then refined. The search, the q and the choice of g are all charged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from ..stats.noise import noise_variance

__all__ = ["Saturation", "saturating_terms"]

#: Inner scales tried, as q times the median of g on the data: from a denominator
#: that barely bends (1 + 0.03 g) to one that saturates early (1 + 30 g).
_GRID = np.logspace(-1.5, 1.5, 13)
#: Denominators (each g's best grid q) refined with the full search.
_REFINED = 2
#: Rounds of (search the terms at q, refit q for those terms).
_ROUNDS = 3


@dataclass(frozen=True)
class Saturation:
    """The chosen denominator ``1 + q·g``: its terms, q and q's standard error."""

    g: sympy.Expr
    q: float
    q_se: float
    #: The candidate terms ``f/(1 + q·g)``, q as a number (closed where recognised)
    terms: tuple[sympy.Expr, ...]
    #: Extended BIC of the best support with these terms, q and the choice of g charged
    score: float


def saturating_terms(b: np.ndarray, G: np.ndarray,
                     numerators: Sequence[sympy.Expr], denominators: Sequence[sympy.Expr],
                     values: Callable[[Sequence[sympy.Expr]], list[np.ndarray]],
                     weigh: Callable[[Sequence[np.ndarray]], np.ndarray],
                     max_terms: int = 12, variance_floor: float = 0.0) -> Saturation | None:
    """The denominator ``1 + q·g`` whose terms ``f/(1 + q·g)`` best join the library.

    ``G`` holds the weak columns of the library's terms and ``b`` the
    target; ``values(terms)`` gives each run's samples of any terms and
    ``weigh`` their weak columns. Each ``g`` (nonnegative on the data) is
    scanned over :data:`_GRID` with the fast forward search; the best
    :data:`_REFINED` are refined: the full search picks the terms at q, q is
    refitted for them (least squares, one dimension), and again, up to
    :data:`_ROUNDS` times. The score is the best support's extended BIC plus
    ``log n`` for q and ``log`` of the number of denominators for picking g.
    q's standard error uses a noise variance of at least ``variance_floor``.
    None where no g is usable.
    """
    from scipy.optimize import minimize_scalar

    from ..symbolic.constants import recognise

    n = len(b)
    f_values = values(numerators)
    scans: list[tuple[float, int, float]] = []
    g_values = []
    for i, g in enumerate(denominators):
        gv = values([g])
        g_values.append(gv)
        flat = np.concatenate([v[:, 0] for v in gv])
        if not (np.all(np.isfinite(flat)) and np.all(flat >= 0) and np.median(flat) > 0):
            continue
        scale = float(np.median(flat))
        for u in _GRID:
            q = float(u) / scale
            score, _ = _best(np.hstack([G, _columns(q, gv, f_values, weigh)]), b, max_terms,
                             "greedy")
            scans.append((score, i, q))
    if not scans:
        return None
    best_per_g: dict[int, tuple[float, float]] = {}
    for score, i, q in sorted(scans):
        best_per_g.setdefault(i, (score, q))
    charge = math.log(n) + math.log(len(denominators))
    found: Saturation | None = None
    for i, (_, q) in sorted(best_per_g.items(), key=lambda item: item[1][0])[:_REFINED]:
        gv = g_values[i]
        support: tuple[int, ...] = ()
        for round_ in range(_ROUNDS + 1):
            score, chosen = _best(np.hstack([G, _columns(q, gv, f_values, weigh)]), b,
                                  max_terms, "auto")
            settled = chosen == support
            support = chosen
            if settled or round_ == _ROUNDS or not _over(support, G.shape[1]):
                break
            step = math.log(_GRID[1] / _GRID[0])
            result = minimize_scalar(_rss_of(support, G, b, gv, f_values, weigh),
                                     bounds=(math.log(q) - step, math.log(q) + step),
                                     method="bounded", options={"xatol": 1e-6})
            q = math.exp(float(result.x))
        if not _over(support, G.shape[1]):
            continue  # the search at the refined q wants no saturating term
        total = score + charge
        if found is None or total < found.score:
            rss = _rss_of(support, G, b, gv, f_values, weigh)
            se = _q_error(rss, math.log(q), n, len(support) + 1, variance_floor) * q
            closed = recognise(q, se)
            value = closed.expr if closed is not None else sympy.Float(q, 6)
            found = Saturation(g=denominators[i], q=q, q_se=se,
                               terms=tuple(f / (1 + value * denominators[i])
                                           for f in numerators),
                               score=total)
    return found


def _over(support: tuple[int, ...], p: int) -> list[int]:
    """The saturating terms of ``support`` (columns past the library's ``p``), from 0."""
    return [j - p for j in support if j >= p]


def _rss_of(support: tuple[int, ...], G: np.ndarray, b: np.ndarray, g: list[np.ndarray],
            f: list[np.ndarray], weigh: Callable[[Sequence[np.ndarray]], np.ndarray]
            ) -> Callable[[float], float]:
    """The least-squares RSS of ``support`` as a function of log q."""
    fixed = [j for j in support if j < G.shape[1]]
    over = [v[:, _over(support, G.shape[1])] for v in f]

    def rss(log_q: float) -> float:
        X = np.hstack([G[:, fixed], _columns(math.exp(log_q), g, over, weigh)])
        r = b - X @ np.linalg.lstsq(X, b, rcond=None)[0]
        return float(r @ r)

    return rss


def _columns(q: float, g: list[np.ndarray], f: list[np.ndarray],
             weigh: Callable[[Sequence[np.ndarray]], np.ndarray]) -> np.ndarray:
    """Weak columns of ``f/(1 + q·g)`` for each run's samples ``f`` and ``g``."""
    return weigh([fv / (1 + q * gv) for fv, gv in zip(f, g)])


def _best(X: np.ndarray, b: np.ndarray, max_terms: int, solver: str
          ) -> tuple[float, tuple[int, ...]]:
    """The smallest extended BIC over the search's admissible supports, and that support."""
    from ..search.select import score_candidates
    from ..search.sparse import candidate_supports, scale_columns

    Xt, yt = torch.as_tensor(X), torch.as_tensor(b)
    Xs, _ = scale_columns(Xt)
    supports = candidate_supports(Xs, yt, solver=solver, max_terms=max_terms)
    terms = [sympy.Symbol(f"c{j}") for j in range(X.shape[1])]
    candidates = [c for c in score_candidates(Xt, yt, supports, terms) if c.admissible]
    if not candidates:
        return math.inf, ()
    chosen = min(candidates, key=lambda c: c.bic)
    return chosen.bic, tuple(chosen.support)


def _q_error(rss: Callable[[float], float], log_q: float, n: int, k: int,
             variance_floor: float) -> float:
    """Standard error of log q from the RSS's curvature: ``sqrt(2σ²/RSS'')``."""
    h = 1e-3
    centre = rss(log_q)
    curvature = (rss(log_q + h) - 2 * centre + rss(log_q - h)) / h**2
    sigma2 = max(noise_variance(centre, n - k), variance_floor)
    return math.sqrt(2 * sigma2 / curvature) if curvature > 0 else math.inf
