"""Laws with constants inside functions: ``y = c₀ + Σ cⱼ gⱼ(t; θ)``, θ nonlinear.

Rates, frequencies and shifts (``A·e^(−γt)·cos(ωt + φ)``,
``K/(1 + e^(−r(t − t₀)))``) are out of reach of a library whose terms have
fixed inner constants. For fixed θ the best outer coefficients c are a
linear least-squares solve, so only θ is searched: variable projection
(Golub & Pereyra 1973; 2003), from starts on a grid (for frequencies, the
peaks of the Lomb–Scargle periodogram, Lomb 1976, Scargle 1982), then
Levenberg–Marquardt on the projected residual. The joint fit of θ and c gives
standard errors; every rate and coefficient must be 3 standard errors from 0,
the parameters the catalogue recognises honestly become closed forms, and
the route is charged for every parameter and for the families and inputs it
chose among.

A family of one input t can only be the law where y is (nearly) a function of
t alone: the mean square successive difference of y sorted by t (von Neumann
1941) must be well below y's variance, or t is not tried.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy

from basis_library import as_symbols

from ..stats.nls import NonlinearFit, finite_fit, fit_parameters, standard_errors
from ..symbolic.snap import snap_parameters
from .base import Proposal, RouteContext, RouteKind, nonlinear_bic, nonlinear_model

if TYPE_CHECKING:
    from .._data import Dataset

__all__ = ["FAMILIES", "Family", "InnerRoute", "inner_fit"]

#: A family is tried on an input t only where the mean square successive
#: difference of y sorted by t, halved, is below this fraction of y's
#: variance (t alone explains at least half of y at the sampling's resolution).
_SMOOTHNESS = 0.5
#: Starts refined by Levenberg–Marquardt, the best by projected RSS.
_REFINED = 3
#: Rows used to rank the starts (the refinement uses all).
_SCAN_ROWS = 2000
#: The most frequencies the periodogram scans.
_MAX_FREQUENCIES = 2000


@dataclass(frozen=True)
class Family:
    """Terms ``gⱼ(t; θ)`` with inner parameters θ, linear in their coefficients."""

    name: str
    #: Names of θ (for the structure in ``info['inner_terms']``).
    parameters: tuple[str, ...]
    #: ``(t, θ) -> (n, m)`` columns.
    columns: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: ``(t, θ) -> m`` terms, θ as expressions.
    terms: Callable[[sympy.Expr, Sequence[sympy.Expr]], list[sympy.Expr]]
    #: ``(t, y) -> starts`` for θ.
    starts: Callable[[np.ndarray, np.ndarray], list[np.ndarray]]
    #: Indices of θ that may be 0 (shifts); the others (rates) may not.
    shifts: tuple[int, ...] = ()


def _periodogram_peaks(t: np.ndarray, y: np.ndarray, count: int = 3) -> list[float]:
    """The ``count`` frequencies of lowest projected RSS of ``[1, cos ωt, sin ωt]``.

    Scanned on a grid 5 times finer than 2π/T up to the Nyquist frequency of
    the median spacing (Lomb–Scargle, irregular samples allowed).
    """
    span = float(np.ptp(t))
    spacing = float(np.median(np.diff(np.unique(t))))
    step = 2 * math.pi / (5 * span)
    top = min(math.pi / spacing, step * _MAX_FREQUENCIES)
    omega = np.arange(step, top, step)
    if omega.size == 0:
        return []
    phase = t[:, None] * omega[None, :]
    c, s = np.cos(phase), np.sin(phase)
    yc = y - y.mean()
    c -= c.mean(axis=0)
    s -= s.mean(axis=0)
    cc, ss, cs = (c * c).sum(0), (s * s).sum(0), (c * s).sum(0)
    yc_c, yc_s = yc @ c, yc @ s
    det = cc * ss - cs**2
    with np.errstate(all="ignore"):
        explained = (ss * yc_c**2 - 2 * cs * yc_c * yc_s + cc * yc_s**2) / det
    explained = np.where(np.isfinite(explained), explained, 0.0)
    # Local maxima only: neighbours of one peak are the same frequency.
    peak = np.r_[explained[0] > explained[1] if omega.size > 1 else True,
                 (explained[1:-1] >= explained[:-2]) & (explained[1:-1] >= explained[2:]),
                 explained[-1] > explained[-2] if omega.size > 1 else False]
    order = np.argsort(-np.where(peak[: omega.size], explained, -np.inf))
    return [float(omega[i]) for i in order[:count] if peak[i]]


def _rates(t: np.ndarray) -> list[float]:
    """Decay rates on the scale of t's range, both signs."""
    span = float(np.ptp(t))
    return [k / span for k in (-4.0, -1.0, 0.5, 1.0, 2.0, 4.0, 8.0)]


def _oscillation_starts(t: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [np.array([w]) for w in _periodogram_peaks(t, y)]


def _damped_starts(t: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [np.array([a, w]) for w in _periodogram_peaks(t, y) for a in _rates(t)]


def _exponential_starts(t: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [np.array([a]) for a in _rates(t)]


def _logistic_starts(t: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    span = float(np.ptp(t))
    return [np.array([k / span, t0]) for k in (-30.0, -10.0, -4.0, 4.0, 10.0, 30.0)
            for t0 in np.quantile(t, [0.1, 0.3, 0.5, 0.7, 0.9])]


def _decay(t: np.ndarray, a: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.exp(-a * t)


FAMILIES: tuple[Family, ...] = (
    Family("exponential", ("gamma",),
           lambda t, p: _decay(t, p[0])[:, None],
           lambda t, p: [sympy.exp(-p[0] * t)], _exponential_starts),
    Family("oscillation", ("omega",),
           lambda t, p: np.column_stack([np.cos(p[0] * t), np.sin(p[0] * t)]),
           lambda t, p: [sympy.cos(p[0] * t), sympy.sin(p[0] * t)], _oscillation_starts),
    Family("damped oscillation", ("gamma", "omega"),
           lambda t, p: _decay(t, p[0])[:, None] * np.column_stack(
               [np.cos(p[1] * t), np.sin(p[1] * t)]),
           lambda t, p: [sympy.exp(-p[0] * t) * sympy.cos(p[1] * t),
                         sympy.exp(-p[0] * t) * sympy.sin(p[1] * t)], _damped_starts),
    Family("logistic", ("r", "t0"),
           lambda t, p: (1 / (1 + _decay(t - p[1], p[0])))[:, None],
           # Unevaluated, or sympy would print K/(1 + 206.4·exp(−1.3t)) for t₀ = 4.1.
           lambda t, p: [1 / (1 + sympy.exp(sympy.Mul(-p[0], t - p[1], evaluate=False)))],
           _logistic_starts,
           shifts=(1,)),
)


def _smooth_in(t: np.ndarray, y: np.ndarray) -> bool:
    """Whether y is nearly a function of t alone (von Neumann's ratio below 2·_SMOOTHNESS)."""
    variance = float(np.var(y))
    if variance == 0 or np.unique(t).size < 8:
        return False
    steps = np.diff(y[np.argsort(t, kind="stable")])
    return float(np.mean(steps**2)) / 2 <= _SMOOTHNESS * variance


def inner_fit(dataset: Dataset, named: dict[str, float]) -> NonlinearFit | None:
    """The family with inner constants of lowest BIC over the inputs y is smooth in; or None."""
    from ..stats.criteria import ebic, exact_floor

    y = dataset.y
    floor = exact_floor(y)
    inputs = [name for name in dataset.inputs if _smooth_in(dataset.columns[name], y)]
    if not inputs:
        return None
    # Each family with and without a constant: a logistic K·σ(r(t − t₀)) is
    # also K − K·σ(−r(t − t₀)), whose constant is significant; the fit with
    # the constant may settle there and must meet the one without.
    search = math.log(len(inputs) * len(FAMILIES) * 2)
    symbols = dict(zip(dataset.inputs, as_symbols(dataset.inputs)))
    best: tuple[float, NonlinearFit] | None = None
    for name in inputs:
        t = np.asarray(dataset.columns[name], dtype=float)
        for family, constant in itertools.product(FAMILIES, (True, False)):
            try:
                fitted = _fit_family(family, t, symbols[name], y, named, floor, constant)
            except (ValueError, np.linalg.LinAlgError):
                # A family the data drive to overflow (a rate of 10³ on t ~ 10³)
                # is not this law; the others are still tried.
                fitted = None
            if fitted is None:
                continue
            expression, n_parameters, kept, rss = fitted
            score = ebic(rss, dataset.n, 0, n_parameters, floor, gamma=0.0) + search
            if best is None or score < best[0]:
                theta = [sympy.Symbol(p) for p in family.parameters]
                shapes = family.terms(symbols[name], theta) + [sympy.Integer(1)]
                structure = (f"{family.name} in {name}",
                             *sorted(str(shapes[j]) for j in kept))
                best = (score, NonlinearFit(expression=expression, n_parameters=n_parameters,
                                        structure=structure, search=search))
    return None if best is None else best[1]


def _projected(family: Family, t: np.ndarray, y: np.ndarray, kept: list[int]
               ) -> Callable[[np.ndarray], np.ndarray]:
    """θ ↦ the residual of y on the family's kept columns (and constant), c solved exactly."""
    scale = float(np.sqrt(np.mean(y**2))) or 1.0

    def residual(theta: np.ndarray) -> np.ndarray:
        G = np.column_stack([family.columns(t, theta), np.ones_like(t)])[:, kept]
        if not np.all(np.isfinite(G)):
            return np.full_like(y, 1e3 * scale)
        c = np.linalg.lstsq(G, y, rcond=None)[0]
        return y - G @ c

    return residual


def _fit_family(family: Family, t: np.ndarray, symbol: sympy.Symbol, y: np.ndarray,
                named: dict[str, float], floor: float, constant: bool
                ) -> tuple[sympy.Expr, int, list[int], float] | None:
    """Variable projection of ``family`` on t (with a ``constant`` term or not),
    pruned to significant terms and snapped.

    Returns the expression (in ``symbol``), its parameter count, the
    kept columns (the constant is the last) and the RSS; None where no start
    converges or a rate cannot be told from 0.
    """
    # Starts are found and ranked on at most _SCAN_ROWS rows (the periodogram
    # holds rows × frequencies values); the refinement uses all.
    rows = np.linspace(0, t.size - 1, min(t.size, _SCAN_ROWS)).astype(int)
    starts = family.starts(t[rows], y[rows])
    if not starts:
        return None
    m = family.columns(t[:1], starts[0]).shape[1]
    kept = list(range(m + 1 if constant else m))

    def score(theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            r = _projected(family, t[rows], y[rows], kept)(theta)
        value = float(r @ r)
        return value if math.isfinite(value) else math.inf

    ranked = sorted(starts, key=score)[:_REFINED]
    theta, rss = None, math.inf
    for start in ranked:
        try:
            found, found_rss, _ = fit_parameters(_projected(family, t, y, kept), start)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if found_rss < rss:
            theta, rss = found, found_rss
    if theta is None:
        return None
    k = len(theta)
    while True:
        joint = _joint(family, t, y, theta, kept)
        if joint is None:
            return None
        coef, rss, se, residual = joint
        outer = coef[k:]
        weak = [i for i in range(len(kept)) if not abs(outer[i]) > 3 * se[k + i]]
        if not weak or len(kept) == 1:
            break
        kept.pop(min(weak, key=lambda i: abs(outer[i]) / max(se[k + i], 1e-300)))
        try:
            theta, rss, _ = fit_parameters(_projected(family, t, y, kept), coef[:k])
        except (ValueError, np.linalg.LinAlgError):
            return None
    rates = [i for i in range(k) if i not in family.shifts]
    if not all(abs(coef[i]) > 3 * se[i] for i in rates) or not abs(coef[k]) > 3 * se[k]:
        return None
    # A shift the data cannot tell from 0 (or within float64 rounding of t's
    # range) is 0 (t − 0 is t); its degree of freedom is still charged.
    zero = {i: 0.0 for i in family.shifts
            if not abs(coef[i]) > max(3 * se[i], 1e-8 * float(np.ptp(t)))}
    if zero:
        coef, rss, _ = fit_parameters(residual, coef, zero)
    exprs, coef, rss = snap_parameters(residual, coef, rss, se, named, floor, t.size,
                                       keep=lambda i: i not in zero)
    for i in zero:
        exprs[i] = sympy.Integer(0)
    shapes = family.terms(symbol, exprs[:k]) + [sympy.Integer(1)]
    pairs = [(exprs[k + i], shapes[j]) for i, j in enumerate(kept)]
    return _phase_form(pairs), k + len(kept), kept, rss


def _joint(family: Family, t: np.ndarray, y: np.ndarray, theta: np.ndarray, kept: list[int]
           ) -> tuple[np.ndarray, float, np.ndarray, Callable[[np.ndarray], np.ndarray]] | None:
    """The joint least squares of θ and the kept coefficients from θ: values, RSS, SEs."""
    k = len(theta)

    def residual(p: np.ndarray) -> np.ndarray:
        G = np.column_stack([family.columns(t, p[:k]), np.ones_like(t)])[:, kept]
        return G @ p[k:] - y

    G = np.column_stack([family.columns(t, theta), np.ones_like(t)])[:, kept]
    if not np.all(np.isfinite(G)):
        return None
    start = np.r_[theta, np.linalg.lstsq(G, y, rcond=None)[0]]
    fitted = finite_fit(residual, start)
    if fitted is None:
        return None
    coef, rss, J = fitted
    return coef, rss, standard_errors(J, rss, t.size), residual


def _phase_form(pairs: list[tuple[sympy.Expr, sympy.Expr]]) -> sympy.Expr:
    """``Σ c·g``, with ``a·h·cos(u) + b·h·sin(u)`` written ``R·h·cos(u + φ)``.

    The amplitude-and-phase form a physicist writes, where both
    coefficients are decimals (a closed form would be lost in R and φ).
    """
    out = list(pairs)
    for b, g_sin in pairs:
        envelope, sine = g_sin.as_independent(sympy.sin, as_Add=False)
        if not (isinstance(b, sympy.Float) and isinstance(sine, sympy.sin)):
            continue
        g_cos = envelope * sympy.cos(sine.args[0])
        match = [c for c, g in out if g == g_cos and isinstance(c, sympy.Float)]
        if not match:
            continue
        amplitude, phase = math.hypot(float(match[0]), float(b)), math.atan2(-float(b),
                                                                             float(match[0]))
        out = [p for p in out if p[1] not in (g_sin, g_cos)]
        out.append((sympy.Float(amplitude, 15),
                    envelope * sympy.cos(sine.args[0] + sympy.Float(phase, 15))))
    return sympy.Add(*[c * g for c, g in out])


class InnerRoute:
    """A family with constants inside functions (decays, oscillations, logistic growth):
    one proposal, its every parameter and search charged."""

    kind = RouteKind.INNER

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        fitted = inner_fit(context.dataset, dict(context.settings.constants))
        found = None if fitted is None else nonlinear_model(
            fitted, context.dataset, context.base,
            f"{RouteKind.INNER.value} ({fitted.structure[0]})",
            "its inner constants (rates, frequencies, shifts) were fitted by variable "
            "projection; the family and its terms are in info['inner_terms']")
        if found is not None:
            yield Proposal(nonlinear_bic(found, context.dataset.n, context.floor), found)
