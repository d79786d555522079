"""How sure the formula is: resampled re-selection batched in torch, and analytic intervals.

Every resample is a vector of row weights, so its least squares needs only the
weighted Gram matrix ``Zᵀ diag(w) Z`` of ``Z = [X | y]``; all of them are
formed by batched matrix products, in blocks, on the data's device. Then, for
all resamples at once:

* forward selection runs by the sweep operator (one ``(B, p, p)`` update a
  step), and the candidate supports found on the full data are refitted by one
  batched solve a support size; each resample picks the support with the least
  extended BIC (or AIC), as :func:`discovery.discover` does, and a term's
  inclusion probability is the fraction of resamples whose pick contains it
  (on random halves of the rows: stability selection);
* the chosen support is refitted on ordinary bootstrap resamples, whose
  coefficients give percentile intervals.

Past ``max_columns`` library terms the resamples choose among every term of a
candidate support plus the terms most correlated with the target (screening).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..search.sparse import scale_columns
from ..stats.criteria import log_comb

__all__ = ["Bootstrap", "bootstrap_counts", "bootstrap_selection", "candidate_columns"]

MAX_COLUMNS = 200
BLOCK = 32
#: The most numbers (float64: 64 MB) a block of weighted copies of the design may hold.
BLOCK_ELEMENTS = 1 << 23
#: Past this many rows, half-subsamples are drawn as halves of GROUPS random groups.
GROUPED_ROWS = 5_000
GROUPS = 200
# The Gram matrix squares the condition number, so its RSS floor (a fraction of
# yᵀWy below which a smaller RSS is rounding noise) is looser than the QR refit's.
_GRAM_FLOOR = 1e-12


@dataclass(frozen=True)
class Bootstrap:
    """What ``n_resamples`` re-selections and bootstrap refits found.

    Attributes
    ----------
    columns
        The design columns the resamples chose among.
    inclusion
        For each of ``columns``, the fraction of half-subsamples that selected it.
    coef
        ``(n_resamples, k)``: the chosen support's coefficients on bootstrap resamples.
    support_rate
        The fraction of half-subsamples that selected exactly the chosen support.
    """

    columns: tuple[int, ...]
    inclusion: np.ndarray
    coef: np.ndarray
    support_rate: float

    @property
    def n_resamples(self) -> int:
        return int(self.coef.shape[0])


def bootstrap_selection(X: torch.Tensor, y: torch.Tensor, supports: Sequence[tuple[int, ...]],
                        chosen: tuple[int, ...], *, n_resamples: int = 200,
                        criterion: str = "bic", max_terms: int = 12, ebic_gamma: float = 0.5,
                        random_state: int | None = 0, max_columns: int = MAX_COLUMNS,
                        block: int = BLOCK) -> Bootstrap:
    """Inclusion probabilities by re-selection on subsamples; coefficients by the bootstrap.

    Selection is repeated on ``n_resamples`` random halves of the rows
    (stability selection, Meinshausen & Bühlmann 2010: on full-size bootstrap
    resamples, whose repeated rows overstate the evidence, a term just short
    of the criterion's bar is picked in a quarter of them). The chosen
    support's coefficients are refitted on ``n_resamples`` ordinary bootstrap
    resamples, for percentile intervals.

    Parameters
    ----------
    X, y
        The evaluated library (unscaled) and the target, on any device.
    supports
        Candidate supports found on the full data; every resample refits them all.
    chosen
        The model's support; its coefficients are refitted on every resample.
    criterion
        ``"bic"`` (extended BIC, ``ebic_gamma``) or ``"aic"``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.rand(200, 3, generator=g, dtype=torch.float64)
    >>> y = 2 * X[:, 0] + 0.01 * torch.randn(200, generator=g, dtype=torch.float64)
    >>> b = bootstrap_selection(X, y, [(0,), (0, 1)], (0,), n_resamples=50)
    >>> b.inclusion.round(1).tolist(), round(float(b.coef.mean()), 2)
    ([1.0, 0.0, 0.0], 2.0)
    """
    n, p = X.shape
    Xs, scale = scale_columns(X)
    y_rms = float(torch.linalg.vector_norm(y)) / math.sqrt(n) or 1.0
    columns = _columns(Xs, y, supports, chosen, max_columns)
    local = {c: i for i, c in enumerate(columns)}
    generator = _generator(random_state)
    Z = torch.cat([Xs[:, columns], (y / y_rms)[:, None]], dim=1)

    # Selection on half-subsamples (stability selection). Past GROUPED_ROWS rows
    # the halves are made of whole random groups of rows, whose Grams are
    # computed once: a half's Gram is then a sum of group Grams, not a pass
    # over n rows (the groups are random, so a half is still a random half).
    halves: int | torch.Tensor
    if n > GROUPED_ROWS:
        gram, halves = _grouped_halves(Z, n_resamples, generator)
        least = int(halves.min())
    else:
        halves = least = n // 2
        gram = _weighted_grams(Z, _half_subsamples(n, n_resamples, generator), block)
    P = len(columns)
    log_combs = torch.tensor([log_comb(p, k) for k in range(p + 1)], dtype=Z.dtype,
                            device=Z.device)

    def score(rss: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (rss.dim() - 1)
        yy = gram[:, P, P].reshape(shape)
        m = halves.reshape(shape) if isinstance(halves, torch.Tensor) else halves
        fit = m * torch.log(torch.maximum(rss, _GRAM_FLOOR * yy) / m)
        # :func:`~discovery.stats.criteria.aic` and :func:`~discovery.stats.criteria.ebic` on
        # tensors, each with the AICc correction.
        spare = (m - k - 1).to(fit.dtype)
        small = torch.where(spare > 0, 2.0 * k * (k + 1) / spare.clamp_min(1.0), math.inf)
        if criterion == "aic":
            return fit + 2 * k + small
        log_m = torch.log(m) if isinstance(m, torch.Tensor) else math.log(m)
        return fit + k * log_m + 2 * ebic_gamma * log_combs[k] + small

    path_rss, path_masks = _forward_sweeps(gram, min(max_terms, P, least - 1))
    fixed = [tuple(local[i] for i in s) for s in dict.fromkeys([chosen, *supports])]
    fixed_rss, _ = _refit_all(gram, fixed)
    fixed_masks = torch.zeros(len(fixed), P, dtype=torch.bool, device=X.device)
    for row, s in enumerate(fixed):
        fixed_masks[row, list(s)] = True
    scores = torch.cat([score(path_rss, path_masks.sum(dim=2)),
                        score(fixed_rss, fixed_masks.sum(dim=1)[None, :].expand_as(fixed_rss))],
                       dim=1)
    pick = torch.argmin(torch.nan_to_num(scores, nan=math.inf), dim=1)
    masks = torch.cat([path_masks, fixed_masks[None].expand(n_resamples, -1, -1)], dim=1)
    picked = masks[torch.arange(n_resamples, device=X.device), pick]

    # The chosen support's coefficients on bootstrap resamples (its own few columns).
    own = Z[:, [*range(len(chosen)), P]]
    own_gram = _weighted_grams(own, bootstrap_counts(n, n_resamples, generator), block)
    _, (coef,) = _refit_all(own_gram, [tuple(range(len(chosen)))])
    return Bootstrap(columns=tuple(columns),
                     inclusion=picked.double().mean(dim=0).cpu().numpy(),
                     coef=(coef * y_rms / scale[list(chosen)]).cpu().numpy(),
                     support_rate=float((picked == fixed_masks[0]).all(dim=1).double().mean()))


def candidate_columns(supports: Sequence[tuple[int, ...]], chosen: tuple[int, ...]) -> list[int]:
    """The chosen support's columns, then every other column a candidate holds, once each."""
    return list(dict.fromkeys([*chosen, *(i for s in supports for i in s)]))


def _columns(Xs: torch.Tensor, y: torch.Tensor, supports: Sequence[tuple[int, ...]],
             chosen: tuple[int, ...], max_columns: int) -> list[int]:
    """The candidates' columns (:func:`candidate_columns`), then the most correlated, up to
    ``max_columns``."""
    p = Xs.shape[1]
    columns = candidate_columns(supports, chosen)
    if p <= max_columns:
        return columns + [i for i in range(p) if i not in set(columns)]
    ranked = torch.argsort((Xs.T @ y).abs(), descending=True).cpu().tolist()
    taken = set(columns)
    for i in ranked:
        if len(columns) >= max_columns:
            break
        if i not in taken:
            columns.append(i)
            taken.add(i)
    return columns


def _generator(random_state: int | None) -> torch.Generator:
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))
    return generator


def bootstrap_counts(n: int, n_resamples: int, generator: torch.Generator) -> torch.Tensor:
    """``(B, n)`` row counts of ``B`` resamples of ``n`` rows drawn with replacement."""
    draws = torch.randint(n, (n_resamples, n), generator=generator)
    return torch.zeros(n_resamples, n, dtype=torch.float64).scatter_add_(
        1, draws, torch.ones(n_resamples, n, dtype=torch.float64))


def _half_subsamples(n: int, n_resamples: int, generator: torch.Generator) -> torch.Tensor:
    """``(B, n)`` 0/1 weights of ``B`` subsamples of ``n // 2`` rows without replacement."""
    order = torch.argsort(torch.rand(n_resamples, n, generator=generator), dim=1)
    return (order < n // 2).to(torch.float64)


def _grouped_halves(Z: torch.Tensor, n_resamples: int, generator: torch.Generator,
                    groups: int = GROUPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Grams of ``n_resamples`` halves made of whole random groups of rows, and their rows.

    The rows are shuffled into ``groups`` groups; each half takes a random half
    of the groups.
    """
    n = Z.shape[0]
    order = torch.randperm(n, generator=generator).to(Z.device)
    bounds = [n * g // groups for g in range(groups + 1)]
    parts = torch.stack([Z[order[lo:hi]].T @ Z[order[lo:hi]]
                         for lo, hi in zip(bounds[:-1], bounds[1:])])
    sizes = torch.tensor([hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])],
                         dtype=Z.dtype, device=Z.device)
    chosen = _half_subsamples(groups, n_resamples, generator).to(Z.device, Z.dtype)
    return torch.einsum("bg,gij->bij", chosen, parts), chosen @ sizes


def _weighted_grams(Z: torch.Tensor, weights: torch.Tensor, block: int) -> torch.Tensor:
    """``Zᵀ diag(w_b) Z`` for each row ``w_b`` of ``weights``, in blocks of ``block``.

    A block's weighted copy of ``Z`` is held to at most ``BLOCK_ELEMENTS`` numbers.
    """
    weights = weights.to(device=Z.device, dtype=Z.dtype)
    block = max(1, min(block, BLOCK_ELEMENTS // max(Z.numel(), 1)))
    gram = torch.empty(weights.shape[0], Z.shape[1], Z.shape[1], dtype=Z.dtype, device=Z.device)
    for lo in range(0, weights.shape[0], block):
        w = weights[lo:lo + block]
        gram[lo:lo + block] = (Z.T[None] * w[:, None, :]) @ Z
    return gram


def _forward_sweeps(gram: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward selection on every resample at once, by the sweep operator.

    After sweeping the chosen columns S, an unchosen column's diagonal entry is
    its residual sum of squares given S, its entry in the last column its
    residual cross product with y, and the corner is the RSS; the column that
    most reduces the RSS is the one with the largest ``A[j, y]² / A[j, j]``.

    Returns the RSS after each step, ``(B, steps)`` (inf once no column is
    left), and the selected masks, ``(B, steps, p)``.
    """
    B, q, _ = gram.shape
    P = q - 1
    A = gram.clone()
    diag0 = gram.diagonal(dim1=1, dim2=2)[:, :P]
    selected = torch.zeros(B, P, dtype=torch.bool, device=gram.device)
    active = torch.ones(B, dtype=torch.bool, device=gram.device)
    rows = torch.arange(B, device=gram.device)
    rss, masks = [], []
    for _ in range(steps):
        d = A.diagonal(dim1=1, dim2=2)[:, :P]
        usable = ~selected & (diag0 > 0) & (d > 1e-10 * diag0)
        gain = torch.where(usable, A[:, :P, P] ** 2 / torch.where(usable, d, 1.0), -1.0)
        j = torch.argmax(gain, dim=1)
        active = active & usable.any(dim=1)
        col = A[rows, :, j]
        pivot = torch.where(active, col[rows, j], torch.ones_like(col[:, 0]))
        scaled = torch.where(active[:, None], col / pivot[:, None], torch.zeros_like(col))
        A.baddbmm_(col[:, :, None], scaled[:, None, :], alpha=-1.0)  # A -= col scaledᵀ
        live, pivots = rows[active], j[active]
        A[live, :, pivots] = scaled[live]
        A[live, pivots, :] = scaled[live]
        A[live, pivots, pivots] = -1.0 / pivot[live]
        selected = selected | (torch.nn.functional.one_hot(j, P).bool() & active[:, None])
        rss.append(torch.where(active, A[:, P, P], torch.full_like(pivot, math.inf)))
        masks.append(selected.clone())
    if not rss:
        return (torch.zeros(B, 0, dtype=gram.dtype, device=gram.device),
                torch.zeros(B, 0, P, dtype=torch.bool, device=gram.device))
    return torch.stack(rss, dim=1), torch.stack(masks, dim=1)


def _refit_all(gram: torch.Tensor, supports: Sequence[tuple[int, ...]]
               ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """RSS ``(B, M)`` and coefficients (``M`` tensors ``(B, k)``) of each support on each resample.

    Supports of one size are solved together; a singular system scores inf.
    """
    B, q, _ = gram.shape
    P = q - 1
    rss = torch.full((B, len(supports)), math.inf, dtype=gram.dtype, device=gram.device)
    coef: list[torch.Tensor] = [torch.empty(0)] * len(supports)
    sizes: dict[int, list[int]] = {}
    for m, s in enumerate(supports):
        sizes.setdefault(len(s), []).append(m)
    for members in sizes.values():
        idx = torch.tensor([supports[m] for m in members], device=gram.device)
        sub = gram[:, idx[:, :, None], idx[:, None, :]]
        rhs = gram[:, idx, P]
        beta, info = torch.linalg.solve_ex(sub, rhs.unsqueeze(-1))
        beta = beta.squeeze(-1)
        value = gram[:, P, P][:, None] - (rhs * beta).sum(dim=-1)
        rss[:, members] = torch.where(info == 0, value, torch.full_like(value, math.inf))
        for position, m in enumerate(members):
            coef[m] = beta[:, position]
    return rss, coef
