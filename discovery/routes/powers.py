"""Power laws, compared on the original scale.

For data whose target and inputs keep one sign, ``log|y| = c + Σ aᵢ log|xᵢ|`` by
least squares, exponents snapped to small rationals (AI Feynman's and SRBench's most
common law shape), optionally times factors of a monomial ``M`` chosen greedily in log space:
``exp(b·M)``, ``(1 ± M)^b``, ``(M − 1)^b``, ``(exp(M) − 1)^b``, ``cosh(M)^b``,
``tanh(M)^b`` (relativistic, Boltzmann and Langevin shapes).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import sympy

from basis_library import Library, LibraryError, as_symbols

from .._data import Dataset
from ..errors import FitError
from ..stats.criteria import log_comb
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance
from .base import NUMERICAL, Proposal, RouteContext, RouteKind, route_bic
from .exponents import FACTORS, fits_exactly, original_scale_fit, snapped_rss, snapped_shape
from .factors import evaluate_shape, proportional
from .library import fit_library

__all__ = ["PowerLawRoute", "power_laws"]

_MAX_MONOMIALS = 800
_MAX_ROWS = 2000
_MIN_SIGNED = 0.6  # share of rows where the target has its majority sign (noise may flip some)


def power_laws(dataset: Dataset, max_factors: int = 2, random_state: int | None = 0
               ) -> list[tuple[sympy.Expr, int, float]]:
    """Shapes ``Π xᵢ^aᵢ · Π fₖ(Mₖ)^bₖ``, their parameter counts and search sizes.

    The search size is ``log C(F, k)`` for k factors picked among F candidate
    factors (0 for the plain power law): the price of the picking, as the
    extended BIC charges a library fit.

    ``Mₖ`` is a monomial of the inputs with exponents in {−1, 0, 1} (or their
    doubles, up to two inputs) and ``fₖ`` one of ``exp``, ``1 ± M``, ``M − 1``,
    ``exp(M) − 1``, ``cosh``, ``tanh``: relativistic factors ``1/sqrt(1 − v²/c²)``,
    ``1/(γ − 1)``, Boltzmann factors ``exp(−mgx/kT)``, ``tanh(μB/kT)``. The fit
    is weighted by |y| (log-space residuals are relative errors). Factors are
    chosen greedily (the largest drop in log-space RSS), up to ``max_factors``,
    and, for two, also as the best pair among the 40 best single factors; each
    of these factor sets whose exponents all snap to small rationals is
    returned, the plain power law first. Past 2,000 rows, a random 2,000 of
    them (drawn with ``random_state``) are fitted. Empty where an input changes sign or
    fewer than 60% of the targets share one sign (rows of the other sign,
    noise about zero, are left out of the log-space fit).

    Examples
    --------
    >>> import numpy as np
    >>> from discovery import prepare
    >>> rng = np.random.default_rng(0)
    >>> q1, q2, r = rng.uniform(1, 5, (3, 200))
    >>> data = prepare({"q1": q1, "q2": q2, "r": r, "F": q1 * q2 / (4 * np.pi * r**2)}, "F")
    >>> power_laws(data)
    [(q1*q2/r**2, 3, 0.0)]
    >>> rng = np.random.default_rng(0)
    >>> m0, v, c = rng.uniform(1, 5, 300), rng.uniform(1, 2, 300), rng.uniform(3, 10, 300)
    >>> data = prepare({"m0": m0, "v": v, "c": c, "m": m0 / np.sqrt(1 - v**2 / c**2)}, "m")
    >>> power_laws(data)[-1][:2]
    (m0/sqrt(1 - v**2/c**2), 4)
    """
    y = dataset.y
    X = dataset.matrix()
    sign = 1.0 if np.sum(y > 0) >= np.sum(y < 0) else -1.0
    keep = sign * y > 0
    if len(y) < 3 or keep.mean() < _MIN_SIGNED:
        return []
    signs = np.sign(X)
    if not np.all(signs != 0) or not np.all(np.abs(signs.sum(axis=0)) == len(y)):
        return []
    sample = np.arange(len(y))
    if len(sample) > _MAX_ROWS:
        sample = np.sort(np.random.default_rng(random_state).choice(sample, _MAX_ROWS,
                                                                     replace=False))
    rows = keep[sample]  # the sampled rows the log-space fit can use
    # Weighted by |y|: log-space residuals are relative errors, so this is the
    # linearisation of least squares on the original scale (noise on y, not log y).
    w = np.abs(y[sample][rows]) / np.max(np.abs(y[sample][rows]))
    Z = np.column_stack([np.ones(len(sample)), np.log(np.abs(X[sample]))])
    b = np.log(np.abs(y[sample][rows])) * w
    A = Z[rows] * w[:, None]
    path: list[list[int]] = [[]]  # factor sets to try, as columns of ``features``
    all_features = np.empty((len(sample), 0))
    features = all_features[rows]
    labels: list[tuple[int, tuple[int, ...], float]] = []
    if max_factors > 0 and not fits_exactly(A, b):
        all_features, labels = _factor_features(np.abs(X[sample]))
        features = all_features[rows] * w[:, None]
        picks: list[int] = []
        exact = False
        while len(picks) < max_factors and not exact:
            pick = _best_addition(np.column_stack([A, features[:, picks]]), b, features)
            if pick is None:
                break
            picks.append(pick)
            path.append(list(picks))
            exact = fits_exactly(np.column_stack([A, features[:, picks]]), b)
        if max_factors >= 2 and len(picks) == 2 and not exact:
            for pair in _best_pairs(A, b, features, [f for f, *_ in labels]):
                if len(pair) == 2 and all(set(pair) != set(q) for q in path):
                    path.append(pair)
        if not exact:
            # Under noise the log-space gains are biased (rows near zero dominate
            # them); the single factor that best fits y itself is tried too.
            for single in _best_on_original_scale(A, b, features, Z, all_features,
                                                  sign * y[sample], labels, np.abs(X[sample])):
                if [single] not in path:
                    path.append([single])
    symbols = as_symbols(dataset.inputs)
    shapes: list[tuple[sympy.Expr, int, float]] = []
    evaluated: list[np.ndarray] = []
    for columns in path:
        scaled = _scaled(columns, labels, Z.shape[1], np.abs(X[sample]))
        # Without inner scales first: freeing them trades off against the
        # exponents (γ^a (1 − s/γ)^b), so under noise the unscaled law may snap
        # where the scaled fit cannot; both compete, the scales charged. A factor
        # at a base scale has no law without its scale.
        based = any(labels[j][2] != 1.0 for j in columns)
        for scales in ((scaled,) if based else ((), scaled)) if scaled else ((),):
            snapped = snapped_shape(np.column_stack([A, features[:, columns]]), b, symbols,
                                    [labels[j] for j in columns],
                                    np.column_stack([Z, all_features[:, columns]]),
                                    sign * y[sample], scales)
            if snapped is None:
                continue
            shape, n_scales = snapped
            shape = -shape if sign < 0 else shape
            values = evaluate_shape(shape, dataset)
            if values is None:
                continue
            entry = (shape, X.shape[1] + len(columns) + n_scales,
                     log_comb(all_features.shape[1], len(columns)))
            # One law spelt two ways (sqrt(1 + v/c)/sqrt(1 − v/c) and
            # sqrt(c/v + 1)/sqrt(c/v − 1)) is one shape: the spelling with the
            # fewest parameters (a factor flat on the data, cosh(2e-26·v²), adds
            # nothing), else the first.
            same = next((i for i, other in enumerate(evaluated)
                         if proportional(values, other)), None)
            if same is None:
                evaluated.append(values)
                shapes.append(entry)
            elif entry[1] < shapes[same][1]:
                shapes[same] = entry
    return shapes


def _scaled(columns: list[int], labels: list[tuple[int, tuple[int, ...], float]], first: int,
            absX: np.ndarray) -> tuple[tuple[int, Callable[[np.ndarray], np.ndarray],
                                            np.ndarray], ...]:
    """The ``scaled`` argument of :func:`original_scale_fit` for factor ``columns``
    placed from column ``first`` of Z (each monomial times its base scale, so the
    fitted scale is relative to it); ``exp(b·M)`` needs no scale (b is one)."""
    out = []
    for i, j in enumerate(columns):
        family, e, base = labels[j]
        if family != 0:
            with np.errstate(all="ignore"):
                m = base * np.exp(np.log(absX) @ np.asarray(e, dtype=float))
            out.append((first + i, FACTORS[family][1], m))
    return tuple(out)


def _best_on_original_scale(A: np.ndarray, b: np.ndarray, F: np.ndarray, Z: np.ndarray,
                            all_F: np.ndarray, target: np.ndarray,
                            labels: list[tuple[int, tuple[int, ...], float]],
                            absX: np.ndarray,
                            top: int = 20) -> list[int]:
    """Of the ``top`` single factors by log-space gain, the one whose nonlinear
    least-squares fit on the original scale leaves the least RSS, and the one
    that does with its inner scale fitted too (a scale lets a flexible factor
    fit noise, so the factor best without one is kept as well)."""
    if F.shape[1] == 0:
        return []
    gain = _single_gains(A, b, F)[2]
    best = [(math.inf, -1), (math.inf, -1)]
    for j in [int(j) for j in np.argsort(-gain)[:top] if np.isfinite(gain[j])]:
        start, *_ = np.linalg.lstsq(np.column_stack([A, F[:, j]]), b, rcond=None)
        scaled = _scaled([j], labels, Z.shape[1], absX)
        for which, scales in enumerate(((), scaled) if scaled else ((),)):
            fit = original_scale_fit(np.column_stack([Z, all_F[:, j]]), target, start, scales)
            if fit is not None and fit[2] < best[which][0]:
                best[which] = (fit[2], j)
    return list(dict.fromkeys(j for _, j in best if j >= 0))


def _monomials(d: int) -> list[tuple[int, ...]]:
    """Exponent vectors in {−1, 0, 1}^d by increasing support, whole levels within budget."""
    out: list[tuple[int, ...]] = []
    for k in range(1, d + 1):
        level = []
        for index in itertools.combinations(range(d), k):
            for signs in itertools.product((-1, 1), repeat=k):
                e = [0] * d
                for i, s in zip(index, signs):
                    e[i] = s
                level.append(tuple(e))
        if out and len(out) + len(level) > _MAX_MONOMIALS:
            break
        out += level
    out += [tuple(2 * a for a in e) for e in out if sum(map(abs, e)) <= 2]
    return out


#: A monomial whose typical size is this many decades from 1 also enters the
#: factors at a data scale (:func:`_base_scale`).
_FAR_DECADES = 3.0


def _base_scale(family: int, m: np.ndarray) -> float:
    """A scale s₀ that puts ``s₀·M`` where factor ``family`` is defined and bends.

    SRSD writes physical constants as decimals: ``1 − v²/c²`` is ``1 − 1.1e-17·v²``
    with v up to 10⁸, out of reach of inner scales started within 20 of 1. From
    s₀ (0.5/max M inside ``1 − M``, 1/max M elsewhere) the inner scale is
    fitted as for any factor, relative to s₀.
    """
    return (0.5 if FACTORS[family][0] == "1-M" else 1.0) / float(np.max(m))


def _rescaled(family: int, decades: float) -> bool:
    """Whether factor ``family`` on a monomial of typical size 10^``decades`` also
    enters at a base scale. Not ``exp`` (its exponent is the scale); not ``M − 1``,
    nor ``1 + M`` on a small monomial: with a free scale s, ``sM − 1`` is
    ``sM(1 − 1/(sM))`` and ``1 + sM`` is ``sM(1 + 1/(sM))``, the same laws as
    ``1 ∓ M`` on the reciprocal monomial, which are the forms a physicist writes
    (``1 − v²/c²``, ``1 + v/c``) and one fewer input exponent to print."""
    if abs(decades) <= _FAR_DECADES or FACTORS[family][0] in ("exp", "M-1"):
        return False
    return decades > 0 or FACTORS[family][0] != "1+M"


def _factor_features(absX: np.ndarray
                     ) -> tuple[np.ndarray, list[tuple[int, tuple[int, ...], float]]]:
    """Log-space columns of every factor family on every monomial that is finite
    and varies, labelled (family, exponents, base scale): at scale 1, and also at
    :func:`_base_scale` where the monomial is far from 1 in size."""
    columns, labels = [], []
    logs = np.log(absX)
    for e in _monomials(absX.shape[1]):
        with np.errstate(all="ignore"):
            m = np.exp(logs @ np.asarray(e, dtype=float))
            size = float(np.mean(np.log10(m)))
            for f, (_, forward, _) in enumerate(FACTORS):
                bases = (1.0, _base_scale(f, m)) if _rescaled(f, size) else (1.0,)
                for base in bases:
                    column = forward(base * m)
                    if np.all(np.isfinite(column)) and np.ptp(column) > 1e-9 * (
                            1 + np.max(np.abs(column))):
                        columns.append(column)
                        labels.append((f, e, base))
    if not columns:
        return np.empty((absX.shape[0], 0)), []
    return np.column_stack(columns), labels


def _single_gains(A: np.ndarray, b: np.ndarray, F: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``b`` and ``F`` made orthogonal to ``A``'s columns, and each column's drop in RSS.

    Columns of ``F`` (nearly) in the span of ``A`` get a gain of −inf.
    """
    Q, _ = np.linalg.qr(A)
    r = b - Q @ (Q.T @ b)
    Fr = F - Q @ (Q.T @ F)
    norms = np.einsum("ij,ij->j", Fr, Fr)
    usable = norms > 1e-10 * np.einsum("ij,ij->j", F, F)
    gain = np.where(usable, (r @ Fr) ** 2 / np.where(usable, norms, 1.0), -np.inf)
    return r, Fr, gain


def _best_addition(A: np.ndarray, b: np.ndarray, F: np.ndarray) -> int | None:
    """The column of ``F`` that lowers the least-squares RSS of ``b`` on ``A`` the most."""
    if F.shape[1] == 0:
        return None
    gain = _single_gains(A, b, F)[2]
    if not np.isfinite(gain).any():
        return None
    tied = np.flatnonzero(gain >= np.max(gain) - _TIE * abs(np.max(gain)))
    return _simplest(A, b, F, [[int(j)] for j in tied])[0]


#: Gains equal to this relative precision are ties: ``1 − v²/c²`` and ``c²/v² − 1``
#: differ by a power law, so they fit equally, and which one rounding puts first
#: changes between machines.
_TIE = 1e-9


def _simplest(A: np.ndarray, b: np.ndarray, F: np.ndarray, options: list[list[int]]
              ) -> list[int]:
    """The factor set among equally good ``options`` whose fit has the smallest exponents.

    ``m₀/sqrt(1 − v²/c²)`` and ``c·m₀/(v·sqrt(c²/v² − 1))`` are the same law; the
    one with the smaller exponents (sum of |aᵢ| and |bₖ|, intercept aside) is
    the one a physicist writes, on every machine.
    """
    if len(options) == 1:
        return options[0]

    def size(columns: list[int]) -> float:
        coef = np.linalg.lstsq(np.column_stack([A, F[:, columns]]), b, rcond=None)[0]
        return float(np.sum(np.abs(coef[1:])))

    return min(options, key=lambda columns: (round(size(columns), 6), columns))


def _best_pairs(A: np.ndarray, b: np.ndarray, F: np.ndarray, families: Sequence[int],
                top: int = 40, tied: int = 2) -> list[list[int]]:
    """The two columns of ``F`` (among the ``top`` best singly) that lower the RSS the most,
    then up to ``tied`` pairs the noise cannot tell from it whose exponents snap;
    ``families`` ranks the columns' factor families (:data:`FACTORS`) for ties.

    Forward selection can open with a factor that only approximates the law
    (``exp(v/c)`` for ``sqrt((1 + v/c)/(1 − v/c))``) and then cannot finish it;
    the exact pair is found among the best single columns. Under noise many
    pairs fit as well as the best (``(e^{c²/v²} − 1)^{2}·e^{v²/c²}`` within
    0.3% of RSS of the law at 1% noise): every pair whose RSS exceeds the
    best's by less than the 99% quantile of χ² (two degrees) in noise
    variances is as good a description, and of those the ones whose
    exponents, all held at small rationals, still fit within the 99.9%
    quantile of χ² (a degree an exponent) of the best (:func:`snapped_rss`)
    are kept too, the simplest first: Occam's razor among fits the data do
    not separate, the one-standard-error rule of Breiman et al. (1984).
    """

    r, Fr, gain = _single_gains(A, b, F)
    best = [int(j) for j in np.argsort(-gain)[:top] if np.isfinite(gain[j])]
    if len(best) < 2:
        return [best]
    G = Fr[:, best].T @ Fr[:, best]
    c = Fr[:, best].T @ r
    i, j = np.triu_indices(len(best), 1)
    det = G[i, i] * G[j, j] - G[i, j] ** 2
    ok = det > 1e-10 * G[i, i] * G[j, j]
    with np.errstate(all="ignore"):
        pair_gain = (G[j, j] * c[i] ** 2 - 2 * G[i, j] * c[i] * c[j] + G[i, i] * c[j] ** 2) / det
    pair_gain = np.where(ok, pair_gain, -np.inf)
    top_gain = np.max(pair_gain)
    ties = np.flatnonzero(pair_gain >= top_gain - _TIE * abs(top_gain))
    first = _simplest(A, b, F, [[best[i[k]], best[j[k]]] for k in ties])
    pairs = [first]
    rss = float(r @ r) - pair_gain
    sigma2 = noise_variance(max(float(np.min(rss)), 0.0), len(b) - A.shape[1] - 2)
    close = np.flatnonzero(rss <= np.min(rss) + lr_allowance(2, sigma2))
    # Snapped, every exponent held: the pairs whose law holds as well as the best
    # fit (at 99.9%: the log-space fit only approximates the fit on y, which judges next).
    limit = float(np.min(rss)) + lr_allowance(A.shape[1] + 1, sigma2, 0.999)
    held = [(*snapped_rss(np.column_stack([A, F[:, [best[i[k]], best[j[k]]]]]), b),
             [best[i[k]], best[j[k]]]) for k in close]
    # The simplest first (the smallest exponents, then the factor families a
    # physicist writes first: ``families``, the columns' indices in
    # :data:`FACTORS`, 1 ± M before M − 1), as :func:`_simplest` breaks exact ties.
    held = sorted((h for h in held if h[0] <= limit and set(h[2]) != set(first)),
                  key=lambda h: (round(h[1], 6), sum(families[c] for c in h[2]), h[0]))
    return pairs + [pair for *_, pair in held[:tied]]


class PowerLawRoute:
    """Power laws, alone and times factors of a monomial (fitted in log space, then on
    the original scale), each a proposal charged for its exponents and search."""

    kind = RouteKind.POWER_LAW

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        dataset = context.dataset
        units = context.settings.units
        # A proposal that balances declared units (the only kind compared) has the
        # exponents they determine fixed, not fitted: m·c²/√(1 − v²/c²) has one free
        # exponent of m, v and c, not three.
        fixed = 0 if units is None else units.fixed_exponents(dataset.inputs)
        for shape, n_exponents, search in power_laws(dataset,
                                                     random_state=context.settings.random_state):
            try:
                alternative = fit_library(dataset,
                                          Library([shape], spec="power law (log-space fit)"),
                                          context.settings, started=context.started, timings={})
            except (FitError, LibraryError, *NUMERICAL):
                continue
            alternative = alternative.updated(metrics={"strategy": RouteKind.POWER_LAW.value})
            yield Proposal(route_bic(alternative, dataset.n, n_exponents - fixed, context.floor,
                                     search),
                           alternative)
