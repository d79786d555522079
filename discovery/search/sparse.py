"""Sparse regression in torch: candidate supports from four solvers, refit by QR.

All solvers work on column-scaled matrices (each column has unit RMS) so that
one threshold or penalty means the same for every term. Every function takes
and returns tensors on the caller's device, so the same path runs on CPU and CUDA.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..stats.noise import noise_variance

SCREEN_ABOVE = 1000
SCREEN_KEEP = 500

__all__ = ["scale_columns", "forward_path", "lasso_path", "lasso_solutions", "stlsq_path",
           "refit", "Refit", "candidate_supports", "SOLVERS"]


def scale_columns(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Divide each column by its RMS; return the scaled matrix and the scales."""
    scale = torch.linalg.vector_norm(X, dim=0) / math.sqrt(X.shape[0])
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return X / scale, scale


def forward_path(X: torch.Tensor, y: torch.Tensor, max_terms: int,
                 rtol: float = 1e-10) -> list[tuple[int, ...]]:
    """Forward greedy selection by orthogonal least squares.

    At each step the column that most reduces the residual sum of squares,
    given the columns already chosen, joins the support. Candidate columns are
    kept orthogonalised against the support (O(n p) a step), so correlated
    columns cannot masquerade as new information.

    Returns the nested supports of sizes 1, 2, ..., at most ``max_terms``.
    """
    n, p = X.shape
    R = X.clone()
    norms0 = (R * R).sum(dim=0)
    norms = norms0.clone()
    r = y.clone()
    tss = float((y * y).sum())
    chosen: list[int] = []
    supports: list[tuple[int, ...]] = []
    available = torch.ones(p, dtype=torch.bool, device=X.device)
    for _ in range(min(max_terms, p, n - 1)):
        usable = available & (norms > rtol * norms0) & (norms > 0)
        if not bool(usable.any()):
            break
        score = torch.where(usable, (R.T @ r) ** 2 / torch.where(usable, norms, 1.0), -1.0)
        j = int(torch.argmax(score))
        q = R[:, j] / torch.sqrt(norms[j])
        r = r - q * (q @ r)
        R = R - torch.outer(q, q @ R)
        norms = (R * R).sum(dim=0)
        available[j] = False
        chosen.append(j)
        supports.append(tuple(sorted(chosen)))
        if float((r * r).sum()) <= 1e-28 * max(tss, 1e-300):
            break
    return supports


def lasso_solutions(X: torch.Tensor, y: torch.Tensor, *, n_alphas: int = 40, eps: float = 1e-4,
                    block: int = 8, max_iter: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
    """The L1 regularisation path by FISTA on the Gram matrix: penalties and coefficients.

    The objective is ``||y - X b||² / (2n) + alpha ||b||₁`` for ``n_alphas``
    penalties from ``alpha_max`` down to ``eps * alpha_max``. Penalties are
    solved in blocks of ``block`` at once (one batched matrix product an
    iteration), each block warm-started from the previous block's last
    solution.

    Returns
    -------
    alphas : (n_alphas,) tensor, largest first (empty when ``Xᵀy = 0``)
    coef : (p, n_alphas) tensor, one column of coefficients a penalty
    """
    n, p = X.shape
    use_gram = p <= 4 * n
    Xty = X.T @ y / n
    alpha_max = float(Xty.abs().max())
    if alpha_max == 0:
        empty = torch.zeros(0, dtype=X.dtype, device=X.device)
        return empty, torch.zeros(p, 0, dtype=X.dtype, device=X.device)
    alphas = alpha_max * torch.logspace(0, math.log10(eps), n_alphas, dtype=X.dtype,
                                        device=X.device)
    if use_gram:
        G = X.T @ X / n
        try:
            lipschitz = float(torch.linalg.eigvalsh(G)[-1])
        except torch.linalg.LinAlgError:
            # eigh can fail on a badly conditioned Gram; its trace bounds the
            # largest eigenvalue of a PSD matrix (a smaller, still safe step).
            lipschitz = float(torch.diagonal(G).sum())
    else:
        G = None
        lipschitz = float(torch.linalg.matrix_norm(X, ord=2)) ** 2 / n
    step = 1.0 / max(lipschitz, 1e-300)

    def grad(B: torch.Tensor) -> torch.Tensor:
        if G is not None:
            return G @ B - Xty[:, None]
        return X.T @ (X @ B) / n - Xty[:, None]

    blocks = []
    start = torch.zeros(p, 1, dtype=X.dtype, device=X.device)
    for lo in range(0, n_alphas, block):
        a = alphas[lo:lo + block][None, :]
        B = start.expand(p, a.shape[1]).clone()
        Z, t = B.clone(), 1.0
        for it in range(max_iter):
            V = Z - step * grad(Z)
            B_new = torch.sign(V) * torch.clamp(V.abs() - step * a, min=0.0)
            t_new = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            Z = B_new + ((t - 1.0) / t_new) * (B_new - B)
            # Converged (every coefficient still within 1e-9 of the largest): the
            # supports, pruned at 1e-3 of the largest, can no longer change.
            done = it % 20 == 19 and bool(
                (B_new - B).abs().max() <= 1e-9 * B_new.abs().max().clamp_min(1e-300))
            B, t = B_new, t_new
            if done:
                break
        start = B[:, -1:].clone()
        blocks.append(B)
    return alphas, torch.cat(blocks, dim=1)


def lasso_path(X: torch.Tensor, y: torch.Tensor, *,
               max_terms: int | None = None) -> list[tuple[int, ...]]:
    """Supports along the exact L1 regularisation path, up to ``max_terms`` terms.

    Least angle regression with the lasso modification (Efron, Hastie,
    Johnstone & Tibshirani 2004, "Least angle regression", Ann. Statist.)
    follows the path of ``||y - X b||² / (2n) + alpha ||b||₁`` from
    ``alpha_max`` down, kink by kink: each kink adds a column to the active set
    or, where a coefficient reaches zero, drops one, and every active set is a
    support. It runs on the Gram matrix (``XᵀX``, computed on X's device; the
    path itself, ~50 small steps, on the CPU) and stops once the sets are past
    ``max_terms``. A few dozen steps replace the hundreds of proximal
    iterations a grid of penalties needed (which, on a collinear library,
    stopped before converging and so gave approximate supports).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import lars_path_gram

    n, p = X.shape
    limit = p if max_terms is None else max(1, min(max_terms, p))
    gram = (X.T @ X).cpu().double().numpy()
    xy = (X.T @ y).cpu().double().numpy()
    if not (np.all(np.isfinite(gram)) and np.all(np.isfinite(xy))) or not np.any(xy):
        return []
    with warnings.catch_warnings():
        # Collinear columns: LARS drops a degenerate regressor and says so.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Each step adds or drops one column: 4 steps a term reach every set
        # of up to ``limit`` terms on paths that drop a few along the way.
        _, _, coefs = lars_path_gram(xy, gram, n_samples=n, method="lasso",
                                     max_iter=4 * limit + 10)
    supports: list[tuple[int, ...]] = []
    for column in coefs.T:
        support = tuple(int(i) for i in np.flatnonzero(column))
        if support and len(support) <= limit and support not in supports:
            supports.append(support)
    return supports


def stlsq_path(X: torch.Tensor, y: torch.Tensor, thresholds: Iterable[float], *,
               ridge: float = 1e-10, max_iter: int = 20) -> list[tuple[int, ...]]:
    """Sequentially thresholded least squares (SINDy's STLSQ) at each threshold.

    Thresholds apply to coefficients of the column-scaled problem. The first
    (ridge) least-squares solve is shared by every threshold.
    """
    n, p = X.shape
    full = _ridge(X, y, ridge)
    supports: list[tuple[int, ...]] = []
    for threshold in thresholds:
        mask = full.abs() >= threshold
        for _ in range(max_iter):
            index = torch.nonzero(mask).flatten()
            if index.numel() == 0 or index.numel() >= n:
                break
            coef = _ridge(X[:, index], y, ridge)
            small = coef.abs() < threshold
            if not bool(small.any()):
                break
            mask[index[small]] = False
        support = tuple(int(i) for i in torch.nonzero(mask).flatten().cpu())
        if 0 < len(support) < n:
            supports.append(support)
    return supports


def _ridge(X: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    n, p = X.shape
    if p <= n:
        G = X.T @ X
        G.diagonal().add_(ridge * float(G.diagonal().mean()))
        return torch.linalg.solve(G, X.T @ y)
    K = X @ X.T
    K.diagonal().add_(ridge * float(K.diagonal().mean()) + 1e-300)
    return X.T @ torch.linalg.solve(K, y)


@dataclass(frozen=True)
class Refit:
    """Least-squares refit on one support (columns of the unscaled matrix)."""

    support: tuple[int, ...]
    coef: torch.Tensor
    std_error: torch.Tensor
    rss: float
    #: ``sigma² (XᵀX)⁻¹`` on the support, the coefficients' covariance
    covariance: torch.Tensor


def refit(X: torch.Tensor, y: torch.Tensor, support: Sequence[int]) -> Refit:
    """Unpenalised least squares on ``support`` by QR, with standard errors.

    The covariance is ``sigma² (XᵀX)⁻¹`` with ``sigma² = rss / (n - k)``;
    standard errors are the roots of its diagonal.
    """
    n = X.shape[0]
    index = torch.as_tensor(list(support), dtype=torch.long, device=X.device)
    A = X[:, index]
    k = A.shape[1]
    scale = torch.linalg.vector_norm(A, dim=0).clamp_min(1e-300)
    Q, Rm = torch.linalg.qr(A / scale)
    qty = Q.T @ y
    coef_s = torch.linalg.solve_triangular(Rm, qty[:, None], upper=True)[:, 0]
    residual = y - (A / scale) @ coef_s
    rss = float(residual @ residual)
    Rinv = torch.linalg.solve_triangular(
        Rm, torch.eye(k, dtype=X.dtype, device=X.device), upper=True)
    sigma2 = noise_variance(rss, n - k)
    covariance = sigma2 * (Rinv @ Rinv.T) / torch.outer(scale, scale)
    std = torch.sqrt(covariance.diagonal().clamp_min(0.0))
    return Refit(tuple(support), coef_s / scale, std, rss, covariance)


@dataclass
class _Search:
    """What each solver of :func:`candidate_supports` sees: the scaled design, the
    target, the term limit, each column's expression size, and the supports the
    solvers before it found (``pooled``: several solvers share the search)."""

    Xs: torch.Tensor
    y: torch.Tensor
    max_terms: int
    complexity: Sequence[int] | None
    pooled: bool
    found: list[tuple[int, ...]]
    _kept: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def kept(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The columns the L1 path and STLSQ see (indices, and the design on them),
        fixed when first asked (after the forward path): past SCREEN_ABOVE
        columns of a pooled search, the SCREEN_KEEP most correlated with y plus
        every column the forward path chose (which always sees all columns);
        otherwise all."""
        if self._kept is None:
            p = self.Xs.shape[1]
            keep = torch.arange(p, device=self.Xs.device)
            if p > SCREEN_ABOVE and self.pooled:
                top = torch.topk((self.Xs.T @ self.y).abs(), SCREEN_KEEP).indices
                chosen = torch.as_tensor(sorted({i for s in self.found for i in s}),
                                         dtype=torch.long, device=self.Xs.device)
                keep = torch.unique(torch.cat([top, chosen]))
            self._kept = (keep, self.Xs[:, keep])
        return self._kept

    def on_kept(self, supports: Iterable[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Supports over the kept columns, as indices of every column."""
        index = self.kept[0].cpu().tolist()
        return [tuple(sorted(index[i] for i in s)) for s in supports]


def _greedy(search: _Search) -> list[tuple[int, ...]]:
    return forward_path(search.Xs, search.y, search.max_terms)


def _lasso(search: _Search) -> list[tuple[int, ...]]:
    return search.on_kept(lasso_path(search.kept[1], search.y, max_terms=search.max_terms))


def _stlsq(search: _Search) -> list[tuple[int, ...]]:
    y_scale = float(torch.linalg.vector_norm(search.y)) / math.sqrt(search.Xs.shape[0])
    thresholds = [y_scale * t for t in (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)]
    return search.on_kept(s for s in stlsq_path(search.kept[1], search.y, thresholds)
                          if len(s) <= search.max_terms)


def _subset(search: _Search) -> list[tuple[int, ...]]:
    from .subset import SEARCH_COLUMNS, best_subsets

    Xs, y, p = search.Xs, search.y, search.Xs.shape[1]
    # The best-subset search sees every column of a narrow library, else the
    # columns the other solvers chose and the most correlated ones.
    starts = search.found if search.pooled else forward_path(Xs, y, search.max_terms)
    columns_t = torch.arange(p, device=Xs.device)
    if p > SEARCH_COLUMNS:
        top = torch.topk((Xs.T @ y).abs(), SEARCH_COLUMNS).indices
        chosen = torch.as_tensor(sorted({i for s in starts for i in s}), dtype=torch.long,
                                 device=Xs.device)
        columns_t = torch.unique(torch.cat([chosen, top]))[:SEARCH_COLUMNS + len(chosen)]
    columns = columns_t.tolist()
    where = {c: i for i, c in enumerate(columns)}
    local = [tuple(where[i] for i in s) for s in starts if all(i in where for i in s)]
    sizes = None if search.complexity is None else [search.complexity[i] for i in columns]
    found = best_subsets(Xs[:, columns_t], y, search.max_terms, starts=local, complexity=sizes)
    return [tuple(sorted(columns[i] for i in s)) for s in found]


#: Each solver :func:`candidate_supports` knows, as the steps it runs in order;
#: ``auto`` pools the other four, each step seeing the supports found before it.
SOLVERS: dict[str, tuple[Callable[[_Search], list[tuple[int, ...]]], ...]] = {
    "auto": (_greedy, _lasso, _stlsq, _subset),
    "greedy": (_greedy,), "lasso": (_lasso,), "stlsq": (_stlsq,), "subset": (_subset,)}


def candidate_supports(Xs: torch.Tensor, y: torch.Tensor, *, solver: str = "auto",
                       max_terms: int = 12,
                       complexity: Sequence[int] | None = None) -> list[tuple[int, ...]]:
    """Distinct candidate supports from the chosen solver(s) of :data:`SOLVERS`,
    smallest first.

    ``"auto"`` pools the forward path, the L1 path, STLSQ and the best-subset
    search (:func:`~discovery.search.subset.best_subsets`, started from the others'
    supports); ``"subset"`` is the best-subset search alone.
    """
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; expected one of: {', '.join(SOLVERS)}.")
    n, p = Xs.shape
    search = _Search(Xs, y, max(1, min(max_terms, n - 2, p)), complexity,
                     pooled=len(SOLVERS[solver]) > 1, found=[])
    for step in SOLVERS[solver]:
        search.found += step(search)
    return sorted(set(search.found), key=lambda s: (len(s), s))
