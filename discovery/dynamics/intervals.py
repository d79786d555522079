"""Intervals of an equation's coefficients from a moving-block bootstrap of each run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..model import Model
from ..routes.base import RouteKind

__all__ = ["term_values", "block_intervals"]


def term_values(terms: Sequence[Any], rows: pd.DataFrame, inputs: list[str]) -> np.ndarray:
    """Each model term's values on ``rows`` (columns in term order)."""
    from ..symbolic.evaluate import evaluate_terms

    return evaluate_terms([t.term for t in terms], inputs, rows[inputs].to_numpy(dtype=float))


def block_intervals(model: Model, A: np.ndarray, y: np.ndarray, run: np.ndarray,
                    n_resamples: int, level: float, random_state: int | None) -> Model:
    """``model`` with percentile intervals of its coefficients from a moving-block
    bootstrap of each trajectory's rows (Künsch 1989), blocks of the cube root
    of the rows (Hall, Horowitz & Jing 1995), never across two runs; ``A``
    holds the model's term columns. Only for a library fit (linear in its
    coefficients); other models are returned as they are."""
    if RouteKind.of(model) is not RouteKind.LIBRARY or A.shape[1] == 0:
        return model
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(y))):
        return model
    n = len(y)
    length = max(2, round(n ** (1 / 3)))
    starts = []
    for r in np.unique(run):
        where = np.flatnonzero(run == r)
        starts.append(where[: max(1, len(where) - length + 1)])
    first = np.concatenate(starts)
    rng = np.random.default_rng(random_state)
    blocks = math.ceil(n / length)
    samples = np.empty((n_resamples, A.shape[1]))
    for b in range(n_resamples):
        picked = rng.choice(first, blocks)
        index = np.minimum((picked[:, None] + np.arange(length)[None, :]).ravel()[:n], n - 1)
        samples[b] = np.linalg.lstsq(A[index], y[index], rcond=None)[0]
    low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)], axis=0)
    return model.replace(
        terms=[replace(t, interval=(float(lo), float(hi)))
               for t, lo, hi in zip(model.terms, low, high)],
        uncertainty={**model.uncertainty, "level": level,
                     "interval": f"moving-block bootstrap percentile ({n_resamples} "
                                 f"resamples, blocks of {length} rows)",
                     "n_resamples": n_resamples})
