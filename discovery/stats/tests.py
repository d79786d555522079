"""The likelihood-ratio test for holding parameters, written once.

Every claim that a fitted value may be replaced by a simpler one (a coefficient
snapped to a closed form, an exponent to a small rational, a term dropped) is
judged by how much it raises the residual sum of squares: with the noise
variance σ² estimated from the free fit, ``ΔRSS/σ²`` is χ² with one degree of
freedom a held value when the claim is true (Wilks 1938), so the claim is kept
while ``ΔRSS ≤ χ²_level(df)·σ²``.
"""

from __future__ import annotations

from scipy import stats

__all__ = ["LEVEL", "lr_allowance", "lr_tolerance"]

#: The level of the test: a true claim is refused once in a hundred.
LEVEL = 0.99


def lr_allowance(df: int, sigma2: float, level: float = LEVEL) -> float:
    """The rise of the RSS that holding ``df`` values may cost: ``χ²_level(df)·σ²``.

    Examples
    --------
    >>> round(lr_allowance(1, 1.0), 3), round(lr_allowance(2, 0.5), 3)
    (6.635, 4.605)
    """
    return float(stats.chi2.ppf(level, df)) * sigma2


def lr_tolerance(df: int, sigma2: float, rss: float, floor: float) -> float:
    """The rise of a linear fit's RSS (``rss``, free) that ``df`` held values or
    constraints may cost: :func:`lr_allowance`, plus the exact fit's rounding ``floor``
    and 1e-9 of the RSS (a refit's own rounding). The one test of
    :func:`~discovery.symbolic.snap.closed_forms` and
    :func:`~discovery.symbolic.shared.share`.

    Examples
    --------
    >>> round(lr_tolerance(1, 1.0, 0.0, 0.0), 3)
    6.635
    """
    return rss * 1e-9 + lr_allowance(df, sigma2) + floor
