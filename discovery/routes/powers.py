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
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import sympy

from basis_library import as_symbols

from .._data import Dataset
from ..stats.criteria import log_comb
from ..stats.noise import noise_variance
from .factors import evaluate_shape, proportional

__all__ = ["power_laws"]

_MAX_DENOMINATOR = 3
_MIN_SNAP_TOL = 0.001
_MAX_MONOMIALS = 800
_MAX_ROWS = 2000
_MIN_SIGNED = 0.6  # share of rows where the target has its majority sign (noise may flip some)
_MAX_SNAP_TOL = 0.1
_MAX_EXPONENT = 6

#: Factor families of a monomial ``M`` of the inputs: (log of the factor on the
#: data, the factor as an expression, so that ``y ∝ Π xᵢ^aᵢ · factor^b``).
#: ``exp`` stands for ``exp(b·M)``: its log is linear in ``M``.
_FACTORS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray],
                      Callable[[sympy.Expr], sympy.Expr]], ...] = (
    ("exp", lambda m: m, sympy.exp),
    ("1+M", np.log1p, lambda M: 1 + M),
    ("1-M", lambda m: np.log(1 - m), lambda M: 1 - M),
    ("M-1", lambda m: np.log(m - 1), lambda M: M - 1),
    ("exp(M)-1", lambda m: np.log(np.expm1(m)), lambda M: sympy.exp(M) - 1),
    ("cosh", lambda m: np.log(np.cosh(m)), sympy.cosh),
    ("tanh", lambda m: np.log(np.tanh(m)), sympy.tanh),
)


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
    if max_factors > 0 and not _fits_exactly(A, b):
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
            exact = _fits_exactly(np.column_stack([A, features[:, picks]]), b)
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
            snapped = _snapped_shape(np.column_stack([A, features[:, columns]]), b, symbols,
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


def _original_scale_fit(Z: np.ndarray, target: np.ndarray, start: np.ndarray,
                        scaled: tuple[tuple[int, Callable[[np.ndarray], np.ndarray],
                                            np.ndarray], ...] = (),
                        hold: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``target ≈ exp(Z c)`` by nonlinear least squares from ``start``: c, its covariance, RSS.

    Each ``(j, forward, m)`` in ``scaled`` makes column j of Z ``forward(s·m)``
    with an inner scale s fitted beside c (as ``log s``, appended to c; started
    by :func:`_scale_start` unless ``start`` has it): ``1/(exp(ħω/kT) − 1)``
    has ``1/(2π)`` inside the function when written with h, and ``1 − αn/3`` a
    third; a constant inside a function is out of reach of log-space least
    squares. Parameters where ``hold`` is True stay at their start (the
    exponents, once snapped); the covariance is then of the others.
    """
    from scipy.optimize import least_squares

    k = Z.shape[1]

    def columns(p: np.ndarray) -> np.ndarray:
        if not scaled:
            return Z
        Zs = Z.copy()
        for u, (j, forward, m) in zip(p[k:], scaled):
            Zs[:, j] = forward(np.exp(u) * m)
        return Zs

    def predict(p: np.ndarray) -> np.ndarray:
        value = np.exp(np.clip(columns(p) @ p[:k], -700, 700))
        return np.where(np.isfinite(value), value, 1e300)

    first = np.asarray(start, dtype=float)
    if len(first) == k:
        first = np.concatenate([first, np.zeros(len(scaled))])
        if scaled:
            first = _scale_start(first, k, columns, target)
    free = np.ones(len(first), dtype=bool) if hold is None else ~hold

    def full(q: np.ndarray) -> np.ndarray:
        p = first.copy()
        p[free] = q
        return p

    def jacobian(q: np.ndarray) -> np.ndarray:
        p = full(q)
        value = predict(p)
        parts = [value[:, None] * columns(p)]
        h = 1e-6
        for u, (j, forward, m) in zip(p[k:], scaled):
            # d forward(e^u m)/du by a central difference of the one column.
            slope = (forward(np.exp(u + h) * m) - forward(np.exp(u - h) * m)) / (2 * h)
            parts.append((value * p[j] * slope)[:, None])
        return np.column_stack(parts)[:, free]

    with np.errstate(all="ignore"):
        try:
            fit = least_squares(lambda q: predict(full(q)) - target, first[free], method="lm",
                                jac=jacobian, max_nfev=200 * (1 + len(scaled)))
            if not all(np.all(np.isfinite(a)) for a in (fit.x, fit.fun, fit.jac)):
                return None
            rss = float(fit.fun @ fit.fun)
            covariance = (np.linalg.pinv(fit.jac.T @ fit.jac)
                          * noise_variance(rss, len(target) - len(fit.x)))
        except (ValueError, np.linalg.LinAlgError):
            return None
    return full(fit.x), covariance, rss


#: Inner scales tried before the joint fit starts: 1/20 to 20, log-spaced.
_SCALE_GRID = np.linspace(math.log(1 / 20), math.log(20), 41)


def _scale_start(first: np.ndarray, k: int, columns: Callable[[np.ndarray], np.ndarray],
                 target: np.ndarray) -> np.ndarray:
    """A start for the inner scales: each in turn set to the grid value whose
    log-space fit (linear once the scales are fixed: variable projection, Golub &
    Pereyra 1973) leaves the least RSS on the original scale. Gauss–Newton from
    scale 1 stalls in a local minimum on ``1/(exp(ħω/kT) − 1)``."""
    rows = target > 0
    w = target[rows] / np.max(target[rows])
    b = np.log(target[rows]) * w
    best = first.copy()
    for at in range(k, len(first)):
        best_rss = math.inf
        for u in _SCALE_GRID:
            p = best.copy()
            p[at] = u
            with np.errstate(all="ignore"):
                Z = columns(p)
                if not np.all(np.isfinite(Z)):
                    continue
                c, *_ = np.linalg.lstsq(Z[rows] * w[:, None], b, rcond=None)
                rss = float(np.sum((np.exp(np.clip(Z @ c, -700, 700)) - target) ** 2))
            if rss < best_rss:
                best_rss, best = rss, np.concatenate([c, p[k:]])
    return best


def _scaled(columns: list[int], labels: list[tuple[int, tuple[int, ...], float]], first: int,
            absX: np.ndarray) -> tuple[tuple[int, Callable[[np.ndarray], np.ndarray],
                                            np.ndarray], ...]:
    """The ``scaled`` argument of :func:`_original_scale_fit` for factor ``columns``
    placed from column ``first`` of Z (each monomial times its base scale, so the
    fitted scale is relative to it); ``exp(b·M)`` needs no scale (b is one)."""
    out = []
    for i, j in enumerate(columns):
        family, e, base = labels[j]
        if family != 0:
            with np.errstate(all="ignore"):
                m = base * np.exp(np.log(absX) @ np.asarray(e, dtype=float))
            out.append((first + i, _FACTORS[family][1], m))
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
            fit = _original_scale_fit(np.column_stack([Z, all_F[:, j]]), target, start, scales)
            if fit is not None and fit[2] < best[which][0]:
                best[which] = (fit[2], j)
    return list(dict.fromkeys(j for _, j in best if j >= 0))


def _fits_exactly(A: np.ndarray, b: np.ndarray) -> bool:
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return float(np.sum((b - A @ coef) ** 2)) <= 1e-24 * max(float(b @ b), 1e-300)


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
    return (0.5 if _FACTORS[family][0] == "1-M" else 1.0) / float(np.max(m))


def _rescaled(family: int, decades: float) -> bool:
    """Whether factor ``family`` on a monomial of typical size 10^``decades`` also
    enters at a base scale. Not ``exp`` (its exponent is the scale); not ``M − 1``,
    nor ``1 + M`` on a small monomial: with a free scale s, ``sM − 1`` is
    ``sM(1 − 1/(sM))`` and ``1 + sM`` is ``sM(1 + 1/(sM))``, the same laws as
    ``1 ∓ M`` on the reciprocal monomial, which are the forms a physicist writes
    (``1 − v²/c²``, ``1 + v/c``) and one fewer input exponent to print."""
    if abs(decades) <= _FAR_DECADES or _FACTORS[family][0] in ("exp", "M-1"):
        return False
    return decades > 0 or _FACTORS[family][0] != "1+M"


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
            for f, (_, forward, _) in enumerate(_FACTORS):
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
    ``families`` ranks the columns' factor families (:data:`_FACTORS`) for ties.

    Forward selection can open with a factor that only approximates the law
    (``exp(v/c)`` for ``sqrt((1 + v/c)/(1 − v/c))``) and then cannot finish it;
    the exact pair is found among the best single columns. Under noise many
    pairs fit as well as the best (``(e^{c²/v²} − 1)^{2}·e^{v²/c²}`` within
    0.3% of RSS of the law at 1% noise): every pair whose RSS exceeds the
    best's by less than the 99% quantile of χ² (two degrees) in noise
    variances is as good a description, and of those the ones whose
    exponents, all held at small rationals, still fit within the 99.9%
    quantile of χ² (a degree an exponent) of the best (:func:`_snapped_rss`)
    are kept too, the simplest first: Occam's razor among fits the data do
    not separate, the one-standard-error rule of Breiman et al. (1984).
    """
    from scipy import stats

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
    close = np.flatnonzero(rss <= np.min(rss) + float(stats.chi2.ppf(0.99, 2)) * sigma2)
    # Snapped, every exponent held: the pairs whose law holds as well as the best
    # fit (at 99.9%: the log-space fit only approximates the fit on y, which judges next).
    limit = float(np.min(rss)) + float(stats.chi2.ppf(0.999, A.shape[1] + 1)) * sigma2
    held = [(*_snapped_rss(np.column_stack([A, F[:, [best[i[k]], best[j[k]]]]]), b),
             [best[i[k]], best[j[k]]]) for k in close]
    # The simplest first (the smallest exponents, then the factor families a
    # physicist writes first: ``families``, the columns' indices in
    # :data:`_FACTORS`, 1 ± M before M − 1), as :func:`_simplest` breaks exact ties.
    held = sorted((h for h in held if h[0] <= limit and set(h[2]) != set(first)),
                  key=lambda h: (round(h[1], 6), sum(families[c] for c in h[2]), h[0]))
    return pairs + [pair for *_, pair in held[:tied]]


def _snapped_rss(A: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The RSS of ``b`` on ``A`` with every coefficient but the intercept (column 0)
    held at a small rational (:data:`_MAX_DENOMINATOR`), the intercept refitted
    (inf where one is too large to be an exponent), and the sum of their sizes.

    The coefficients are held one at a time, the one nearest its rational in
    standard errors first, the others refitted after each: collinear factors
    (``(1 + v/c)^a (1 − v/c)^b``) share their error, and once ``b = −1/2`` is
    held, ``a`` = 0.41 ± 0.1 moves to its 1/2.
    """
    held: dict[int, float] = {}
    m = A.shape[1]
    while True:
        free = [j for j in range(m) if j not in held]
        offset = A[:, list(held)] @ np.array(list(held.values())) if held else 0.0
        coef, *_ = np.linalg.lstsq(A[:, free], b - offset, rcond=None)
        residual = b - offset - A[:, free] @ coef
        rss = float(residual @ residual)
        if len(free) == 1:
            size = float(sum(abs(v) for v in held.values()))
            return rss, size
        sigma2 = noise_variance(rss, len(b) - len(free))
        with np.errstate(all="ignore"):
            se = np.sqrt(np.clip(np.diag(np.linalg.pinv(A[:, free].T @ A[:, free])) * sigma2,
                                 1e-300, None))
        rounded = [float(Fraction(float(a)).limit_denominator(_MAX_DENOMINATOR)) for a in coef]
        k = min(range(1, len(free)), key=lambda i: abs(coef[i] - rounded[i]) / se[i])
        if abs(rounded[k]) > _MAX_EXPONENT:
            return math.inf, math.inf
        held[free[k]] = rounded[k]


def _snap(value: float, tolerance: float) -> Fraction | None:
    fraction = Fraction(float(value)).limit_denominator(_MAX_DENOMINATOR)
    if abs(fraction) > _MAX_EXPONENT or abs(float(fraction) - value) > tolerance:
        return None
    return fraction


def _held_fit(Z: np.ndarray, target: np.ndarray, start: np.ndarray, scaled: tuple,
              held: slice | list[int]) -> tuple[np.ndarray, np.ndarray, float] | None:
    """:func:`_original_scale_fit` from ``start`` with the parameters at ``held`` held there."""
    hold = np.zeros(len(start), dtype=bool)
    hold[held] = True
    return _original_scale_fit(Z, target, start, scaled, hold)


#: The largest |log| of an inner scale a shape may keep (e^±30 is no physical scale).
_MAX_LOG_SCALE = 30.0
#: Factor exponents tried by :func:`_profile_snap`.
_PROFILE_EXPONENTS = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)


def _profile_snap(Z: np.ndarray, target: np.ndarray, coef: np.ndarray, free_rss: float,
                  scaled: tuple, d: int, k: int) -> list[Fraction] | None:
    """Rational exponents on the ridge of a factor law, by a likelihood-ratio test.

    With an inner scale, a factor and the inputs' exponents can trade off
    along a curved ridge of near-equal fit: ``M^a (exp(s·M) − 1)^b`` fits 1% noise as well at
    (a, b, s) = (0.53, −1.53, 0.10) as at the law's (0, −1, 1/(2π)), so the
    free fit stops anywhere on it and no exponent is near a rational; the
    linearised standard errors do not see the ridge's length. So each factor
    exponent is held in turn at the simple values nearest its estimate
    (:data:`_PROFILE_EXPONENTS`, the profile likelihood), the others refitted
    and snapped within three standard errors, and the snapped set kept where
    the RSS, every exponent held, exceeds the free fit's by at most the 99%
    quantile of χ² (one degree per exponent) in noise variances and is below
    the fit without the factors by more than that; the best kept set is
    returned, or None.
    """
    from scipy import stats

    n_factors = k - 1 - d
    nearest = [sorted(_PROFILE_EXPONENTS, key=lambda v: abs(v - a))[:3 if n_factors == 1 else 2]
               for a in coef[1 + d:k]]
    sigma2 = noise_variance(free_rss, len(target) - len(coef))
    limit = free_rss + float(stats.chi2.ppf(0.99, k - 1)) * sigma2
    # The scaled factors must matter: the law without them (their exponents 0)
    # must fit worse by more than the 99% quantile of χ² (their exponents and
    # scales), else a flat factor rides on the ridge's end.
    start = coef.copy()
    factors = [j for j, *_ in scaled]
    start[factors] = 0.0
    plain = _held_fit(Z, target, start, scaled, [*factors, *range(k, len(start))])
    if plain is None:
        return None
    enough = plain[2] - float(stats.chi2.ppf(0.99, 2 * len(scaled))) * sigma2
    if free_rss > enough:
        return None  # not even the free fit needs the factors; a snapped one cannot
    best: tuple[float, list[Fraction]] | None = None
    for values in itertools.product(*nearest):
        start = coef.copy()
        start[1 + d:k] = values
        fitted = _held_fit(Z, target, start, scaled, slice(1 + d, k))
        if fitted is None:
            continue
        held, covariance, held_rss = fitted
        if held_rss > limit:
            continue  # snapping the inputs' exponents too can only fit worse
        # The free parameters are the intercept, the inputs' exponents, then the scales.
        se = np.sqrt(np.clip(np.diag(covariance), 0, None))[1:1 + d]
        inputs = [_snap(a, min(max(_MIN_SNAP_TOL, 3 * e), _MAX_SNAP_TOL))
                  for a, e in zip(held[1:1 + d], se)]
        if any(f is None for f in inputs):
            continue
        exponents = [*inputs, *(Fraction(v).limit_denominator(_MAX_DENOMINATOR) for v in values)]
        start = held.copy()
        start[1:k] = [float(f) for f in exponents]  # type: ignore[arg-type]
        snapped = _held_fit(Z, target, start, scaled, slice(1, k))
        if (snapped is not None and snapped[2] <= min(limit, enough)
                and (best is None or snapped[2] < best[0])):
            best = (snapped[2], exponents)  # type: ignore[assignment]
    return None if best is None else best[1]


def _snapped_shape(A: np.ndarray, b: np.ndarray, symbols: tuple[sympy.Symbol, ...],
                   factors: list[tuple[int, tuple[int, ...], float]], Z: np.ndarray,
                   target: np.ndarray, scaled: tuple = ()) -> tuple[sympy.Expr, int] | None:
    """The shape with every exponent snapped to a small rational, and its count
    of inner scales other than 1; or None.

    The weighted log-space fit ``A c ≈ b`` only starts the estimate: under
    noise it is biased (rows near zero are noisy in log space, and rows whose
    sign the noise flipped are left out), by 8 standard errors on
    ``q1 q2/(4π ε r²)`` at 10% noise. So the exponents are then fitted by
    nonlinear least squares on the original scale, ``target ≈ exp(Z c)``
    (Gauss–Newton from the log-space estimate: the maximum-likelihood fit
    under Gaussian noise on y, on every sampled row, whatever its sign), and
    snapped within three of its standard errors (at least 0.001, at most 0.1).
    The factors' inner scales (``scaled``) are fitted there too; a scale within
    three standard errors of 1 is 1, one the catalogue recognises honestly
    (:func:`~discovery.symbolic.constants.recognise`) is that closed form, and any
    other stays a decimal, counted as a parameter.
    """
    from ..symbolic.constants import recognise

    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    if not np.all(np.isfinite(coef)):
        return None
    scales: list[sympy.Expr] = [sympy.Integer(1)] * len(factors)
    free_rss = math.nan
    if _fits_exactly(A, b):
        residual = b - A @ coef
        with np.errstate(all="ignore"):
            covariance = np.linalg.pinv(A.T @ A) * noise_variance(
                float(residual @ residual), len(b) - A.shape[1])
        scaled = ()
        # A factor at a base scale keeps it (fitted exactly there: a parameter).
        scales = [sympy.Integer(1) if base == 1 else sympy.Float(base, 15)
                  for *_, base in factors]
    else:
        refined = _original_scale_fit(Z, target, coef, scaled)
        if refined is None:
            return None
        coef, covariance, free_rss = refined
    k = A.shape[1]
    se = np.sqrt(np.clip(np.diag(covariance), 0, None))[:k]
    d = len(symbols)
    # A factor whose exponent the data cannot tell from 0 is not in the law;
    # but with an inner scale, the ridge (:func:`_profile_snap`) runs to b → 0.
    zero = bool(np.any(np.abs(coef[1 + d:k]) <= 3 * se[1 + d:]))
    snapped: list[Fraction | None] = [None] if zero else [
        _snap(a, min(max(_MIN_SNAP_TOL, 3 * e), _MAX_SNAP_TOL)) for a, e in zip(coef[1:k], se[1:])]
    if any(f is None for f in snapped):
        if not scaled or not math.isfinite(free_rss):
            return None
        profiled = _profile_snap(Z, target, coef, free_rss, scaled, d, k)
        if profiled is None:
            return None
        snapped = list(profiled)
    rational = [sympy.Rational(f.numerator, f.denominator) for f in snapped]  # type: ignore[union-attr]
    n_scales = sum(scale != 1 for scale in scales)
    if scaled:
        # The scales move with the exponents they were fitted beside (b and s
        # trade off in (1 − s·M)^b): refitted with the exponents held at their
        # snapped values, then 1 within three standard errors, a closed form
        # where the catalogue recognises one honestly, or a decimal.
        start = coef.copy()
        start[1:k] = [float(r) for r in rational]
        again = _held_fit(Z, target, start, scaled, slice(1, k))
        if again is None:
            return None
        coef, covariance, _ = again
        first = k - len(factors)
        for i, (j, *_) in enumerate(scaled):
            at = 1 + i  # the free parameters are the intercept, then the scales
            u, se_u = coef[k + i], math.sqrt(max(covariance[at, at], 0.0))
            if not abs(u) < _MAX_LOG_SCALE:
                return None  # a factor pushed to where it is flat or a step: no law
            log_scale = u + math.log(factors[j - first][2])  # u is relative to the base
            if abs(log_scale) <= 3 * se_u or abs(log_scale) < 1e-9:
                continue
            value = math.exp(log_scale)
            closed = recognise(value, value * se_u)
            # As many digits as the fit supports and two more (a scale rounded to 6
            # digits misfits noise-free data by 1e-8 of y where v/c = 0.3).
            digits = int(np.clip(math.ceil(-math.log10(max(se_u, 1e-15))) + 2, 6, 15))
            scales[j - first] = closed.expr if closed is not None else \
                sympy.Float(value, digits)
            n_scales += 1
    shape = sympy.Mul(*[s**a for s, a in zip(symbols, rational[:d])])
    for (family, e, _), power, scale in zip(factors, rational[d:], scales):
        if power == 0:
            continue
        monomial = scale * sympy.Mul(*[s**a for s, a in zip(symbols, e)])
        factor = _FACTORS[family][2]
        shape *= sympy.exp(power * monomial) if family == 0 else factor(monomial) ** power
    return (shape, n_scales) if not shape.is_Number else None
