"""Time derivatives of sampled trajectories: finite differences, local polynomials, splines.

A law of motion ``dx/dt = f(x)`` is found by regressing derivatives on the
states, so the derivatives are estimated first, one trajectory at a time and
never across two. Every method takes the sample times as they are (uneven
steps need no resampling):

- ``"finite_difference"``: second-order differences (``numpy.gradient``); exact
  enough on clean, finely sampled data, and it amplifies noise by 1/Δt.
- ``"savgol"``: a local polynomial of degree 3 fitted by least squares to the
  ``window`` nearest samples in time and differentiated at the centre (the
  Savitzky–Golay filter, generalised to uneven steps).
- ``"spline"``: a cubic smoothing spline whose smoothing is chosen by
  generalised cross-validation (Craven & Wahba 1979, ``scipy``'s
  ``make_smoothing_spline``): close to interpolation on clean data, a smooth
  fit under noise, with no window or noise level to choose.
- ``"tv"``: total-variation regularised differentiation (Chartrand 2011): the
  derivative u minimising ``α·TV(u) + ½‖∫u − x‖²`` (the integral by the
  trapezoid rule on the actual times, its constant fitted), by lagged
  diffusivity (Vogel & Oman 1996); α by the discrepancy principle, so the
  integral misses the samples by the noise level (the local cubics' residual).
  For noisy data whose rate jumps or has corners, where a smoother rounds them.
- ``"auto"`` (the default): the local cubic whose window minimises generalised
  cross-validation (Craven & Wahba 1979) over 7 to 129 samples: the smallest
  window on clean data (exact to the step's fourth power), wider as noise
  grows; local fits need no boundary condition, where a natural spline's
  zero curvature at the ends biases them. Finite differences on
  trajectories too short for it.

PySINDy (``FiniteDifference``, ``SmoothedFiniteDifference``, ``SINDyDerivative``)
offers the same families; its defaults take a fixed window, where the spline
here lets the data choose.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import DataError

__all__ = ["DERIVATIVES", "check_method", "derivatives", "trusted_rows"]

#: The methods :func:`derivatives` knows.
DERIVATIVES = ("auto", "finite_difference", "savgol", "spline", "tv")
#: The most samples a run may have for ``"tv"`` (its systems are dense, n × n).
_TV_MAX = 4000
#: The fewest samples ``"auto"`` fits local polynomials to.
_AUTO_MIN = 7


def derivatives(x: np.ndarray, t: np.ndarray, method: str = "auto", *, order: int = 1,
                window: int | None = None) -> list[np.ndarray]:
    """The first ``order`` time derivatives of one trajectory ``x(t)``.

    Parameters
    ----------
    x, t
        Samples and their times, ``t`` strictly increasing (uneven steps allowed).
    method
        One of :data:`DERIVATIVES`.
    order
        1 for ``[dx/dt]``, 2 for ``[dx/dt, d²x/dt²]``.
    window
        Samples per local fit of ``"savgol"`` (odd; default 11 or the trajectory).

    Examples
    --------
    >>> t = np.linspace(0, 1, 201)
    >>> [d] = derivatives(t**3, t)
    >>> float(np.max(np.abs(d - 3 * t**2))) < 1e-3
    True
    """
    check_method(method, order)
    x, t = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    if len(t) < 3:
        raise DataError(f"A trajectory has {len(t)} samples; derivatives need at least 3.")
    if not np.all(np.diff(t) > 0):
        raise DataError("Times must increase strictly within a trajectory (a repeated time, "
                        "or two runs without a trajectory column?).")
    if method == "auto":
        if len(t) < _AUTO_MIN:
            method = "finite_difference"
        else:
            method, window = "savgol", gcv_window(x, t)
    if method == "finite_difference":
        first = np.gradient(x, t, edge_order=2)
        return [first] if order == 1 else [first, np.gradient(first, t, edge_order=2)]
    if method == "savgol":
        return _local_polynomial(x, t, order, window)
    if method == "tv":
        first = _total_variation(x, t)
        return [first] if order == 1 else [first, _total_variation(first, t)]
    return _spline(x, t, order)


def check_method(method: str, order: int = 1) -> None:
    """Raise DataError naming the choices for an unknown method or an order other than 1, 2."""
    if method not in DERIVATIVES:
        raise DataError(f"derivative={method!r} is unknown; choose one of "
                        f"{', '.join(DERIVATIVES)}.")
    if order not in (1, 2):
        raise DataError(f"order must be 1 or 2, got {order!r}.")


def trusted_rows(x: np.ndarray, t: np.ndarray, method: str = "auto") -> np.ndarray:
    """Which samples' derivatives are estimated from a centred window.

    A local fit near either end is lopsided (its window is shifted inwards)
    and a spline's ends are held by its boundary condition; under noise their
    derivatives are several times less certain than inside, so, as PySINDy's
    ``drop_endpoints`` does, the half-window at each end is left out of the
    regression. All samples on clean data (window 7) and for finite differences.
    """
    x, t = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    n = len(t)
    keep = np.ones(n, dtype=bool)
    if method == "finite_difference" or n < _AUTO_MIN:
        return keep
    w = gcv_window(x, t) if method in ("auto", "savgol") else max(3, n // 50)
    edge = w // 2 if w > 7 else 0
    if edge and n - 2 * edge >= n // 2:
        keep[:edge] = False
        keep[n - edge:] = False
    return keep


def polynomial_windows(x: np.ndarray, t: np.ndarray, w: int, degree: int = 3
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares polynomials of ``degree`` on the ``w`` samples around each
    sample (shifted inwards at the ends): their coefficients in ``τ = Δt/scale``,
    the scales, and each sample's leverage on its own fitted value."""
    n = len(t)
    start = np.clip(np.arange(n) - w // 2, 0, n - w)
    index = start[:, None] + np.arange(w)[None, :]
    dt = t[index] - t[:, None]
    scale = np.maximum(np.abs(dt).max(axis=1), 1e-300)
    V = (dt / scale[:, None])[:, :, None] ** np.arange(degree + 1)[None, None, :]
    # (n, degree + 1, w): coefficients from the window's samples, by the normal
    # equations (τ in [−1, 1] keeps a cubic's Gram well conditioned).
    P = np.linalg.solve(np.einsum("nwi,nwj->nij", V, V), np.transpose(V, (0, 2, 1)))
    coef = np.einsum("nij,nj->ni", P, x[index])
    # The fitted value at the sample is c₀ (τ = 0); its weight on x itself.
    leverage = P[np.arange(n), 0, np.arange(n) - start]
    return coef, scale, leverage


def gcv_window(x: np.ndarray, t: np.ndarray, degree: int = 3) -> int:
    """The window of local polynomials that minimises generalised cross-validation,
    ``mean((x − x̂)²) / (1 − mean leverage)²`` (Craven & Wahba 1979): the
    smallest on clean data, wider as noise grows.

    Remembered for the last few series (by their values): :func:`discover_ode`
    asks it of the same run's state for the weak windows, the velocities, the
    noise level and the start of each simulation.
    """
    x = np.ascontiguousarray(x, dtype=float)
    t = np.ascontiguousarray(t, dtype=float)
    return _gcv_window_of(x.tobytes(), t.tobytes(), degree)


@lru_cache(maxsize=64)
def _gcv_window_of(x_bytes: bytes, t_bytes: bytes, degree: int) -> int:
    """:func:`gcv_window` of the series held in the bytes (hashable for the cache)."""
    x, t = np.frombuffer(x_bytes), np.frombuffer(t_bytes)
    n = len(t)
    best, best_score = degree + 4, np.inf
    for w in (7, 9, 13, 17, 25, 33, 49, 65, 97, 129):
        if w > n:
            break
        coef, _, leverage = polynomial_windows(x, t, w, degree)
        rss = float(np.mean((x - coef[:, 0]) ** 2))
        score = rss / max(1 - float(np.mean(leverage)), 1e-6) ** 2
        if score < best_score * (1 - 1e-9):
            best, best_score = w, score
    return best


def smoother_residual(x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """The GCV local cubic's residual sum of squares on ``x(t)`` and its residual
    degrees of freedom (samples less the leverage)."""
    coef, _, leverage = polynomial_windows(x, t, gcv_window(x, t))
    return float(np.sum((x - coef[:, 0]) ** 2)), float(np.sum(1 - leverage))


def _noise_rms(x: np.ndarray, t: np.ndarray) -> float:
    """The noise of ``x``: RMS residual of the GCV local cubic, corrected for its leverage."""
    squares, count = smoother_residual(x, t)
    return math.sqrt(squares / max(count, 1.0))


def _total_variation(x: np.ndarray, t: np.ndarray, rounds: int = 20) -> np.ndarray:
    """The TV-regularised derivative of ``x(t)`` (Chartrand 2011), α by discrepancy."""
    n = len(t)
    if n < _AUTO_MIN:
        return np.gradient(x, t, edge_order=2)
    if n > _TV_MAX:
        raise DataError(f"derivative='tv' solves dense systems of the run's size; this run has "
                        f"{n} samples (at most {_TV_MAX}): use 'auto' or 'spline'.")
    # A: the trapezoid integral from t₀ at every sample; centred, the constant is free.
    gaps = np.diff(t)
    step = np.zeros((n, n))
    step[np.arange(1, n), np.arange(n - 1)] = gaps / 2
    step[np.arange(1, n), np.arange(1, n)] += gaps / 2
    A = np.cumsum(step, axis=0)
    A -= A.mean(axis=0)
    target = x - x.mean()
    AtA, Atx = A.T @ A, A.T @ target
    D = np.diff(np.eye(n), axis=0)  # differences of u between neighbours
    sigma = _noise_rms(x, t)
    start = np.gradient(x, t, edge_order=2)

    def solve(alpha: float) -> np.ndarray:
        u = start
        for _ in range(rounds):
            weights = 1.0 / np.sqrt((D @ u) ** 2 + 1e-12 * (1 + float(np.max(np.abs(u))) ** 2))
            u_new = np.linalg.solve(AtA + alpha * (D.T * weights) @ D, Atx)
            if np.max(np.abs(u_new - u)) <= 1e-8 * (1 + np.max(np.abs(u_new))):
                return u_new
            u = u_new
        return u

    def misfit(u: np.ndarray) -> float:
        r = A @ u - target
        return float(np.sqrt(np.mean(r**2)))

    if not sigma > 0:
        return solve(1e-12)
    # The residual grows with α: bisect log α for the one that misses by σ.
    scale = n * sigma**2 / max(float(np.sum(np.abs(np.diff(start)))), 1e-300)
    low, high = math.log(scale) - 20, math.log(scale) + 10
    best = solve(math.exp(low))
    for _ in range(12):
        middle = (low + high) / 2
        u = solve(math.exp(middle))
        if misfit(u) > sigma:
            high = middle
        else:
            low, best = middle, u
    return best


def _spline(x: np.ndarray, t: np.ndarray, order: int) -> list[np.ndarray]:
    """Derivatives of the GCV smoothing spline through ``(t, x)``."""
    from scipy.interpolate import make_smoothing_spline

    # Times are centred and scaled for the solver's conditioning; derivatives
    # are scaled back.
    scale = float(t[-1] - t[0])
    u = (t - t[0]) / scale
    spline = make_smoothing_spline(u, x)
    return [spline.derivative(k)(u) / scale**k for k in range(1, order + 1)]


def _local_polynomial(x: np.ndarray, t: np.ndarray, order: int, window: int | None,
                      degree: int = 3) -> list[np.ndarray]:
    """Savitzky–Golay derivatives on the actual times: a degree-``degree`` least
    squares polynomial on the ``window`` samples around each one (shifted inwards
    at the ends), differentiated at that sample."""
    w = min(len(t), 11 if window is None else int(window))
    if w < degree + 2:
        raise DataError(f"window={w} is too short for a local polynomial of degree {degree} "
                        f"(needs at least {degree + 2} samples).")
    coef, scale, _ = polynomial_windows(x, t, w, degree)
    # p(τ) = Σ cₖ τᵏ with τ = Δt/scale: p'(0) = c₁/scale, p''(0) = 2c₂/scale².
    out = [coef[:, 1] / scale]
    if order == 2:
        out.append(2 * coef[:, 2] / scale**2)
    return out
