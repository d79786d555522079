"""The information criteria and their floors, in one place.

Every route, the best-subset search, the bootstrap and the genetic front's
pick score models with these functions, so a model is judged the same way
wherever it comes from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["EXACT_RSS", "aic", "ebic", "exact_floor", "log_comb", "small_sample"]

#: An exact fit's RSS is rounding noise: below this fraction of y·y (a residual
#: ~1e-10 of ‖y‖) a smaller RSS is no evidence for more terms.
EXACT_RSS = 1e-20


def exact_floor(y: Any, *, per_row: bool = False) -> float:
    """The RSS of an exact fit of ``y``: :data:`EXACT_RSS` of its sum of squares ``y·y``.

    ``per_row``: of its mean square instead (the floor of a mean squared error). A
    number is taken as the sum of squares itself. Criteria floor the RSS here, so
    that rounding noise is no evidence for more terms.

    Examples
    --------
    >>> import numpy as np
    >>> exact_floor(np.array([3.0, 4.0])), exact_floor(np.array([3.0, 4.0]), per_row=True)
    (2.5e-19, 1.25e-19)
    >>> exact_floor(25.0)
    2.5e-19
    """
    if isinstance(y, (int, float)):
        return EXACT_RSS * float(y)
    if per_row:
        return EXACT_RSS * float(np.mean(y**2))
    return EXACT_RSS * float(y @ y)


def small_sample(n: int, k: int) -> float:
    """The AICc correction ``2k(k+1)/(n-k-1)`` (Hurvich & Tsai 1989), infinite when k ≥ n-1.

    Added to the BIC and AIC: negligible for n in the thousands, it keeps a
    20-row fit from buying terms whose RSS gain is only the variance estimate's bias.
    """
    return 2.0 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf


def ebic(rss: float, n: int, p: int, k: int, floor: float, gamma: float = 0.5) -> float:
    """Extended BIC (Chen & Chen): k of p terms, RSS floored; ``gamma=0`` is plain BIC."""
    penalty = 2 * gamma * log_comb(p, k) if gamma else 0.0
    return n * math.log(max(rss, floor) / n) + k * math.log(n) + penalty + small_sample(n, k)


def aic(rss: float, n: int, k: int, floor: float) -> float:
    """AIC with the small-sample correction (AICc, Hurvich & Tsai 1989), RSS floored."""
    return n * math.log(max(rss, floor) / n) + 2.0 * k + small_sample(n, k)


def log_comb(p: int, k: int) -> float:
    """log C(p, k), the log of the number of ways to choose k of p."""
    return math.lgamma(p + 1) - math.lgamma(k + 1) - math.lgamma(p - k + 1)
