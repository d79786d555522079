"""Confidence intervals of coefficients: Student-t from standard errors, percentiles of
resamples."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["percentile_interval", "t_interval"]


def percentile_interval(samples: np.ndarray, level: float) -> np.ndarray:
    """``(2, k)`` lower and upper percentiles holding ``level`` of the samples."""
    tail = (1 - level) / 2
    return np.quantile(samples, [tail, 1 - tail], axis=0)


def t_interval(coef: np.ndarray, std_error: np.ndarray, dof: int, level: float) -> np.ndarray:
    """``(2, k)`` Student-t intervals ``coef ∓ t(dof) · std_error``.

    Examples
    --------
    >>> t_interval(np.array([1.0]), np.array([0.1]), 1000, 0.95).round(3).tolist()
    [[0.804], [1.196]]
    """
    half = stats.t.ppf(0.5 + level / 2, max(dof, 1)) * np.asarray(std_error)
    return np.stack([coef - half, coef + half])

