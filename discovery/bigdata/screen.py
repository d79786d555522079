"""Wide data: find the inputs that matter before the library is built.

With many inputs the auto library can afford only low degrees and no
products, so the law goes out of reach. The inputs are screened first:

1. Each input's marginal fit: R² of the target on a few functions of that
   input alone (x, x², x³, and 1/x, log x where defined): nonparametric
   independence screening (Fan, Feng & Song 2011, JASA 106:544).
2. Interactions without a marginal effect: the products and ratios of every
   pair of inputs against the residual of an additive fit on the inputs kept
   so far (a pair then shows only what the kept inputs alone do not explain).
3. Each step's threshold is the largest score any input (or pair) reaches
   against 99 randomly permuted targets: the data-driven threshold of Fan, Feng &
   Song (§4.2), which needs no assumption on the noise; where no input matters,
   one is kept by chance with probability about 1%.

After a fit on the kept inputs, :func:`screen_residual` screens the others
against its residual (iterated screening, Fan & Lv 2008, JRSS-B 70:849).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SCREEN_ABOVE", "KEEP_AT_MOST", "Screening", "screen_inputs", "screen_residual"]

#: Inputs are screened where there are more than this many.
SCREEN_ABOVE = 10
#: The most inputs screening keeps (the auto library builds degree-3 products of 7).
KEEP_AT_MOST = 7
#: Permuted targets each threshold is drawn from: a null input beats the largest
#: of their scores with probability about 1 / (PERMUTATIONS + 1) = 1%.
PERMUTATIONS = 99


@dataclass(frozen=True)
class Screening:
    """The inputs kept, and why."""

    kept: list[str]
    scores: dict[str, float]
    threshold: float
    pairs: list[str]
    total: int

    def to_dict(self) -> dict[str, object]:
        return {"kept": self.kept, "of": self.total, "pairs": self.pairs,
                "threshold": self.threshold,
                "scores": {k: round(v, 6) for k, v in self.scores.items()}}

    def describe(self) -> str:
        return describe(self.to_dict())


def describe(screening: Mapping[str, Any]) -> str:
    """One line on what screening kept (the CLI's), from ``Model.metrics['screening']``.

    Examples
    --------
    >>> line = describe({"kept": ["x3", "x7"], "of": 30, "pairs": [], "threshold": 0.02,
    ...                  "from_residual": ["x9"]})
    >>> line[:39], line[-34:]
    ('kept x3, x7 of 30 inputs (each beat eve', "; x9 from the first fit's residual")
    """
    via = f"; through pairs: {', '.join(screening['pairs'])}" if screening.get("pairs") else ""
    more = screening.get("from_residual") or []
    later = f"; {', '.join(more)} from the first fit's residual" if more else ""
    return (f"kept {', '.join(screening['kept']) or 'none'} of {screening['of']} inputs (each "
            f"beat every input's fit to {PERMUTATIONS} permuted targets, "
            f"R² > {screening['threshold']:.2g}){via}{later}")


def _basis(x: np.ndarray) -> np.ndarray:
    """A few functions of one input, centred: x, x², x³, and 1/x, log x where defined."""
    z = (x - x.mean()) / (x.std() or 1.0)
    columns = [z, z**2, z**3]
    if (x != 0).all():
        columns.append(1 / x)
    if (x > 0).all():
        columns.append(np.log(x))
    B = np.column_stack(columns)
    return B - B.mean(axis=0)


def _r2(Q: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R² of centred ``y`` (n,) or (n, m) on each orthonormal basis in ``Q`` (d, n, k)."""
    yc = y - y.mean(axis=0)
    tss = (yc**2).sum(axis=0)
    return ((np.einsum("dnk,n...->dk...", Q, yc)) ** 2).sum(axis=1) / np.where(tss > 0, tss, 1)


def _orthonormal(columns: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """(d, n, 5) orthonormal bases of each input's functions (zero columns pad short ones)."""
    n = len(next(iter(columns.values())))
    out = np.zeros((len(names), n, 5))
    for i, name in enumerate(names):
        Q, R = np.linalg.qr(_basis(columns[name]))
        good = np.abs(np.diag(R)) > 1e-10 * max(np.abs(np.diag(R)).max(), 1e-300)
        out[i, :, :good.sum()] = Q[:, good]
    return out


def _permuted(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.column_stack([rng.permutation(y) for _ in range(PERMUTATIONS)])


def _marginal(columns: dict[str, np.ndarray], names: list[str], y: np.ndarray,
              rng: np.random.Generator) -> tuple[dict[str, float], float]:
    """Each input's marginal R², and the largest any reaches against a permuted y."""
    Q = _orthonormal(columns, names)
    scores = _r2(Q, y)
    null = float(_r2(Q, _permuted(y, rng)).max())
    return dict(zip(names, map(float, scores))), null


def _pair_columns(columns: dict[str, np.ndarray], names: list[str]):  # noqa: ANN202
    for a, b in itertools.combinations(names, 2):
        x, z = columns[a], columns[b]
        yield (a, b), x * z
        if (z != 0).all():
            yield (a, b), x / z
        if (x != 0).all():
            yield (a, b), z / x


def _pairs(columns: dict[str, np.ndarray], names: list[str], r: np.ndarray,
           rng: np.random.Generator) -> list[tuple[float, tuple[str, str]]]:
    """Pairs whose product or ratio correlates with ``r`` beyond every permuted ``r``'s best."""
    rc = (r - r.mean()) / (r.std() or 1.0)
    perms = _permuted(rc, rng)
    best: dict[tuple[str, str], float] = {}
    null = 0.0
    for pair, column in _pair_columns(columns, names):
        c = column - column.mean()
        norm = float(np.sqrt((c**2).sum()))
        if not np.isfinite(norm) or norm == 0:
            continue
        u = c / norm
        score = float(u @ rc) ** 2 / len(r)
        null = max(null, float(((u @ perms) ** 2).max()) / len(r))
        best[pair] = max(best.get(pair, 0.0), score)
    return sorted(((s, p) for p, s in best.items() if s > null), reverse=True)


def screen_inputs(columns: dict[str, np.ndarray], names: list[str], y: np.ndarray,
                  random_state: int | None) -> Screening:
    """The inputs whose marginal fit, or whose pairs' products and ratios, beat chance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cols = {f"x{i}": rng.uniform(1, 3, 500) for i in range(12)}
    >>> y = cols["x2"] * cols["x5"] / cols["x9"]
    >>> screen_inputs(cols, list(cols), y, 0).kept
    ['x2', 'x5', 'x9']
    """
    rng = np.random.default_rng(random_state)
    scores, threshold = _marginal(columns, names, y, rng)
    kept = _beating(scores, threshold, KEEP_AT_MOST)
    pairs: list[str] = []
    if len(kept) < KEEP_AT_MOST:
        r = y - y.mean()
        if kept:
            B = np.column_stack([_basis(columns[k]) for k in kept])
            r = r - B @ np.linalg.lstsq(B, r, rcond=None)[0]
        for _, (a, b) in _pairs(columns, names, r, rng):
            new = [x for x in (a, b) if x not in kept]
            if len(kept) + len(new) > KEEP_AT_MOST:
                break
            if new:
                kept += new
                pairs.append(f"{a}·{b}")
    return Screening(kept=[n for n in names if n in kept], scores=scores, threshold=threshold,
                     pairs=pairs, total=len(names))


def screen_residual(columns: dict[str, np.ndarray], others: list[str], residual: np.ndarray,
                    random_state: int | None, room: int) -> list[str]:
    """The inputs left out whose marginal fit to a model's residual beats chance (at most
    ``room``)."""
    if not others or room <= 0 or not np.any(residual):
        return []
    rng = np.random.default_rng(None if random_state is None else random_state + 1)
    scores, threshold = _marginal(columns, others, residual, rng)
    return _beating(scores, threshold, room)


def _beating(scores: dict[str, float], threshold: float, room: int) -> list[str]:
    """The (at most ``room``) inputs scoring above ``threshold``, best first."""
    ranked = sorted((s, name) for name, s in scores.items() if s > threshold)[::-1]
    return [name for _, name in ranked[:room]]
