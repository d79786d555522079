"""The noise variance of a fit, written once."""

from __future__ import annotations

__all__ = ["noise_variance"]


def noise_variance(rss: float, dof: int) -> float:
    """σ² = RSS/(n − k): the unbiased estimate of the noise variance of a least-squares
    fit of ``k`` parameters to ``n`` rows, ``dof = n − k`` (taken as at least 1, so a
    fit with as many parameters as rows gives its RSS rather than a division by 0).

    Examples
    --------
    >>> noise_variance(4.0, 100 - 2)
    0.04081632653061224
    >>> noise_variance(1.0, 0)
    1.0
    """
    return rss / max(dof, 1)
