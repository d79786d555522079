"""Best-subset search on the Gram matrix: exhaustive where it is affordable, swaps beyond.

For each size k the search looks for the k columns with the least residual sum
of squares, not the k columns a greedy path happened to pass through. It
combines two ideas:

- **Exhaustive enumeration** for small k: every k-subset of a screened set of
  columns is solved at once (batched Cholesky on the Gram matrix), the screened
  set as large as a budget of subsets allows (all columns for k = 1, 2 up to
  the screening size, about a hundred for k = 3): once over the columns the
  other solvers chose and the most correlated ones, once over the simplest.
- **A forward beam**: the best supports of each size grown by one column,
  a hundred kept at each size.
- **Local search by swaps** for every k (the "swap-inescapable" local optima of
  Hazimeh & Mazumder 2020, L0Learn; abess's splicing, Zhu et al. 2020, is the
  same idea with approximate sacrifices): from several starting supports,
  the single swap (one column out, one in) that most lowers the RSS is made,
  exactly and for all k × (p − k) swaps at once, until no swap helps.

Everything is batched torch on the caller's device; nothing is random, so the
result depends on the data alone. Exact fits (RSS at the rounding floor of
float64) stop the search: no larger support can be better.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from ..stats.criteria import EXACT_RSS, ebic

__all__ = ["best_subsets"]

#: Subsets solved by each exhaustive enumeration (one size).
SUBSET_BUDGET = 50_000
#: Columns the search sees at most (the most promising; see :func:`_screen`).
SEARCH_COLUMNS = 1000
#: A pivot below this (on a unit-diagonal Gram) marks a numerically dependent subset.
_PIVOT = 1e-9
_MAX_SWAPS = 60
#: Sizes searched past the one with the least extended BIC.
PATIENCE = 3
#: Supports kept at each size by the forward beam search.
BEAM_WIDTH = 100


class _Gram:
    """``G = XᵀX/n``, ``b = Xᵀy/n``, ``yy = yᵀy/n`` of unit-RMS columns."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor) -> None:
        n = X.shape[0]
        self.G = X.T @ X / n
        self.b = X.T @ y / n
        self.yy = float(y @ y) / n
        self.diag = self.G.diagonal().clamp_min(1e-300)
        self.p = X.shape[1]

    def _factor(self, supports: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cholesky factors of Gₛₛ for a batch (B, k) (identity where degenerate),
        ``L⁻¹ bₛ``, and which supports are degenerate."""
        Gs = self.G[supports[:, :, None], supports[:, None, :]]
        L, info = torch.linalg.cholesky_ex(Gs)
        pivots = L.diagonal(dim1=-2, dim2=-1)
        bad = (info != 0) | (pivots.abs().amin(dim=-1) ** 2 < _PIVOT)
        L = torch.where(bad[:, None, None], torch.eye(Gs.shape[-1], dtype=Gs.dtype,
                                                      device=Gs.device), L)
        z = torch.linalg.solve_triangular(L, self.b[supports][..., None], upper=False)[..., 0]
        return L, z, bad

    def explained(self, supports: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``bₛᵀ Gₛₛ⁻¹ bₛ`` for a batch of supports (B, k), and which are degenerate."""
        if supports.shape[1] == 0:
            zeros = torch.zeros(supports.shape[0], dtype=self.G.dtype, device=self.G.device)
            return zeros, torch.zeros_like(zeros, dtype=torch.bool)
        _, z, bad = self._factor(supports)
        return self._checked(z, bad)

    def _checked(self, z: torch.Tensor, bad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        value = (z * z).sum(-1)
        bad = bad | ~torch.isfinite(value) | (value > self.yy * (1 + 1e-9))
        return torch.where(bad, torch.zeros_like(value), value), bad

    def rss(self, support: Sequence[int]) -> float:
        index = torch.as_tensor([list(support)], dtype=torch.long, device=self.G.device)
        value, bad = self.explained(index)
        return math.inf if bool(bad[0]) else max(self.yy - float(value[0]), 0.0)

    def best_swap(self, support: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
        """The best support one swap away (or one column more, for an empty drop)."""
        k = len(support)
        A = torch.as_tensor(support, dtype=torch.long, device=self.G.device)
        # Every support with one column dropped: B_i = A \ {i}, shape (k, k - 1).
        keep = ~torch.eye(k, dtype=torch.bool, device=A.device)
        B = A.expand(k, k)[keep].reshape(k, k - 1)
        gains, base = self._gains(B)
        gains[:, A] = -math.inf
        flat = int(torch.argmax(gains))
        i, j = divmod(flat, self.p)
        new = tuple(sorted([int(c) for c in B[i].tolist()] + [j]))
        return self.yy - float(base[i] + gains[i, j]), new

    def grow(self, support: tuple[int, ...], width: int) -> list[tuple[int, ...]]:
        """The ``width`` best supports with one column added to ``support``."""
        B = torch.as_tensor([list(support)], dtype=torch.long, device=self.G.device)
        B = B.reshape(1, len(support))
        gains, _ = self._gains(B)
        if support:
            gains[0, B[0]] = -math.inf
        top = torch.topk(gains[0], min(width, self.p - len(support))).indices.tolist()
        return [tuple(sorted([*support, int(j)])) for j in top
                if math.isfinite(float(gains[0, j]))]

    def _gains(self, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For each support in B (m, s): what adding each column explains, and its base."""
        m, s = B.shape
        if s == 0:
            base = torch.zeros(m, dtype=self.G.dtype, device=self.G.device)
            return (self.b**2 / self.diag).expand(m, self.p).clone(), base
        L, z, bad = self._factor(B)
        base, bad = self._checked(z, bad)
        cross = self.G[B]  # (m, s, p): the support's columns against every column
        W = torch.linalg.solve_triangular(L, cross, upper=False)  # L⁻¹ G_Bj
        residual_corr = self.b[None, :] - (W * z[..., None]).sum(1)  # Xⱼᵀ r_B / n
        schur = self.diag[None, :] - (W * W).sum(1)  # ‖Xⱼ orthogonalised to B‖² / n
        usable = schur > _PIVOT * self.diag[None, :]
        gains = torch.where(usable, residual_corr**2 / schur.clamp_min(1e-300), -math.inf)
        gains[bad] = -math.inf
        return gains, base


def _beam_step(gram: _Gram, beam: Sequence[tuple[int, ...]],
               width: int) -> list[tuple[float, tuple[int, ...]]]:
    """One step of a forward beam search: the ``width`` best supports one column larger.

    Greedy forward selection is the beam of width one; a wider beam keeps the
    supports whose first columns were not the single best correlates (x, x², x³
    when x·exp(x) correlates best with y).
    """
    k = len(beam[0]) + 1
    B = torch.as_tensor(beam, dtype=torch.long, device=gram.G.device).reshape(len(beam), k - 1)
    gains, base = gram._gains(B)
    if k > 1:
        gains.scatter_(1, B, -math.inf)
    total = (base[:, None] + gains).flatten()
    top = torch.topk(total, min(4 * width, total.numel()))
    ranked: dict[tuple[int, ...], float] = {}
    for value, flat in zip(top.values.tolist(), top.indices.tolist()):
        if not math.isfinite(value):
            break
        row, j = divmod(flat, gram.p)
        ranked.setdefault(tuple(sorted([*beam[row], j])), max(gram.yy - value, 0.0))
        if len(ranked) == width:
            break
    return sorted((r, s) for s, r in ranked.items())


def _screen(gram: _Gram, seeds: Iterable[int], size: int) -> torch.Tensor:
    """``size`` columns: ``seeds`` first, then by marginal correlation with y."""
    order = [int(i) for i in dict.fromkeys(seeds)]
    if len(order) < size:
        corr = gram.b.abs() / gram.diag.sqrt()
        corr[torch.as_tensor(order, dtype=torch.long, device=corr.device)] = -1.0
        extra = torch.topk(corr, min(size - len(order), gram.p - len(order))).indices
        order += extra.tolist()
    return torch.as_tensor(order[:size], dtype=torch.long, device=gram.G.device)


@functools.lru_cache(maxsize=32)
def _combinations(m: int, k: int) -> torch.Tensor:
    """All k-subsets of range(m), (C(m, k), k), cached (read, never written);
    itertools, not torch.combinations, which builds all m**k index tuples first."""
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(m), k)),
                       dtype=np.int64)
    return torch.from_numpy(flat.reshape(-1, k))


def _exhaustive(gram: _Gram, k: int, columns: torch.Tensor,
                keep: int) -> list[tuple[float, tuple[int, ...]]]:
    """The ``keep`` best k-subsets of ``columns``, by RSS."""
    combos = torch.as_tensor(_combinations(len(columns), k), device=columns.device)
    supports = columns[combos]
    out: list[tuple[float, tuple[int, ...]]] = []
    for lo in range(0, supports.shape[0], 50_000):
        chunk = supports[lo:lo + 50_000]
        value, bad = gram.explained(chunk)
        value = torch.where(bad, -math.inf, value)
        top = torch.topk(value, min(keep, chunk.shape[0]))
        out += [(gram.yy - float(v), tuple(sorted(chunk[i].tolist())))
                for v, i in zip(top.values.tolist(), top.indices.tolist()) if math.isfinite(v)]
    return sorted(out)[:keep]


def _local_search(gram: _Gram, start: tuple[int, ...], tol: float) -> tuple[float, tuple[int, ...]]:
    """Best-improvement single swaps from ``start`` until none lowers the RSS."""
    current, rss = start, gram.rss(start)
    for _ in range(_MAX_SWAPS):
        if len(current) == gram.p:
            break
        new_rss, new = gram.best_swap(current)
        if not new_rss < rss - tol or new == current:
            break
        current, rss = new, new_rss
    return rss, current


#: Sizes of the blocks a support is joined by at once (:func:`_grown_by_block`).
_BLOCKS = (2, 3)
#: The best supports of each size that blocks are joined to.
_BLOCK_FROM = 2


def _grown_by_block(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...], b: int,
                    budget: int, keep: int = 2) -> list[tuple[int, ...]]:
    """``support`` joined by each of the ``keep`` best blocks of ``b`` more columns.

    Single additions and swaps cannot reach a part of the law whose terms
    only fit together: (x₁ − x₂)² is x₁² − 2x₁x₂ + x₂², three large columns
    that cancel, none of which alone explains much of what the rest leaves
    (on 1% noise the y² fit of Δx² + Δy² chose 11 odd terms with 6× the
    weighted RSS of its six; no six-term support found came within 180×).
    So the other columns and y are projected off ``support`` and the best
    b-subsets of the projections enumerated exhaustively (exactly
    the RSS of the joined support): the block step of block-OMP and of the
    splicing of abess (Zhu et al. 2020), with blocks found, not given.
    """
    n = X.shape[0]
    Q, R = torch.linalg.qr(X[:, list(support)])
    if _rank_deficient(R):
        return []
    r = y - Q @ (Q.T @ y)
    # The projections' norms and correlations with r, without forming them all
    # (Xᵀr is the projections' too: r is orthogonal to Q).
    QtX = Q.T @ X
    squares = (X * X).sum(dim=0)
    norms = (squares - (QtX**2).sum(dim=0)).clamp_min(0).sqrt()
    usable = norms > 1e-6 * squares.sqrt()
    usable[list(support)] = False
    if int(usable.sum()) < b:
        return []
    corr = torch.where(usable, (X.T @ r).abs() / norms.clamp_min(1e-300), -1.0)
    m = min(_affordable(budget, b, int(usable.sum())), SEARCH_COLUMNS)
    index = torch.topk(corr, m).indices
    projected = X[:, index] - Q @ QtX[:, index]
    gram = _Gram(projected / (norms[index] / math.sqrt(n)), r)
    columns = torch.arange(m, device=X.device)
    return [tuple(sorted((*support, *index[list(block)].tolist())))
            for _, block in _exhaustive(gram, b, columns, keep)]


def _affordable(budget: int, k: int, p: int) -> int:
    """The most columns m ≤ p with C(m, k) ≤ budget."""
    m = k
    while m < p and math.comb(m + 1, k) <= budget:
        m += 1
    return m


def best_subsets(X: torch.Tensor, y: torch.Tensor, max_terms: int, *,
                 starts: Sequence[tuple[int, ...]] = (), keep: int = 3,
                 budget: int = SUBSET_BUDGET, complexity: Sequence[int] | None = None,
                 exact: float = EXACT_RSS) -> list[tuple[int, ...]]:
    """The best supports of each size 1..``max_terms`` found by enumeration and swaps.

    Parameters
    ----------
    X
        (n, p) column-scaled design matrix (see :func:`scale_columns`).
    y
        (n,) target.
    max_terms
        The largest support size searched.
    starts
        Supports from other solvers (forward path, L1 path, ...); each is a
        starting point for the swap search at its size.
    keep
        Supports returned per size (the best few; the caller refits and scores them).
    budget
        Subsets each exhaustive enumeration may solve; also bounds the work
        of the swap search, which is far cheaper.
    complexity
        Each column's expression size; when given, every size is also
        enumerated exhaustively over the simplest columns (brute force over
        the shortest formulas first, as AI Feynman's brute-force step does).
    exact
        The search stops after the first size whose best support fits to
        within ``exact * y·y`` (numerically exact); larger supports cannot fit better.

    Returns
    -------
    list of tuple of int
        Distinct supports (column indices into ``X``), by size, then best first.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(20, generator=g, dtype=torch.float64) * 2 - 1
    >>> X = torch.stack([x, x**2, x**3, x * torch.exp(x), torch.sin(x)], dim=1)
    >>> y = x**3 + x**2 + x
    >>> found = best_subsets(X / X.norm(dim=0) * 20**0.5, y, 4)
    >>> [s for s in found if len(s) == 3][0]  # x, x², x³; greedy opens with x·exp(x)
    (0, 1, 2)
    """
    n, p = X.shape
    max_terms = max(1, min(max_terms, p, n - 1))
    gram = _Gram(X, y)
    simplest = None if complexity is None else torch.as_tensor(
        sorted(range(p), key=lambda i: (complexity[i], i)), dtype=torch.long, device=X.device)
    tol = 1e-12 * gram.yy
    exact_rss = exact * gram.yy
    by_size: dict[int, list[tuple[float, tuple[int, ...]]]] = {}
    score: dict[int, float] = {}
    given: dict[int, list[tuple[int, ...]]] = {}
    for s in starts:
        if 0 < len(s) <= max_terms:
            given.setdefault(len(s), []).append(tuple(sorted(s)))
    seen_columns: list[int] = [i for s in starts for i in s]
    beam: list[tuple[int, ...]] = [()]
    for k in range(1, max_terms + 1):
        widest = _beam_step(gram, beam, BEAM_WIDTH) if beam else []
        beam = [s for _, s in widest]
        found: dict[tuple[int, ...], float] = {s: r for r, s in widest[:keep]}
        m = min(_affordable(budget, k, p), SEARCH_COLUMNS)
        if m >= min(p, 2 * k + 4) or k <= 2:
            screens = [_screen(gram, seen_columns, m)]
            if simplest is not None and m < p:
                screens.append(simplest[:m])
            for columns in screens:
                for rss, s in _exhaustive(gram, k, columns, keep):
                    found[s] = rss
        starts_k = list(given.get(k, []))
        if k - 1 in by_size:  # the best smaller supports, each grown by its best additions
            for _, s in by_size[k - 1][:keep]:
                starts_k += gram.grow(s, 2)
        # The best supports b smaller, each joined by its best blocks of b: the
        # best two joined start swaps too.
        joined = {s: gram.rss(s) for b in _BLOCKS
                  for _, smaller in by_size.get(k - b, [])[:_BLOCK_FROM]
                  for s in _grown_by_block(X, y, smaller, b, budget)}
        found.update({s: min(r, found.get(s, math.inf)) for s, r in joined.items()})
        starts_k += sorted(joined, key=joined.__getitem__)[:2]
        starts_k += sorted(found, key=found.__getitem__)[:2]
        for start in dict.fromkeys(starts_k):
            rss, local = _local_search(gram, start, tol)
            found[local] = min(rss, found.get(local, math.inf))
        ranked = sorted((r, s) for s, r in found.items() if math.isfinite(r))[:keep]
        if not ranked:
            break
        by_size[k] = ranked
        seen_columns += [i for _, s in ranked for i in s]
        if _exact_fit(X, y, ranked[0][1], exact_rss * n):
            break
        # Past the best criterion by PATIENCE sizes, larger supports would have
        # to cut the RSS faster than they did so far to be chosen: stop.
        score[k] = ebic(max(ranked[0][0], exact_rss) * n, n, p, k, exact_rss * n)
        if k - min(score, key=score.__getitem__) >= PATIENCE:
            break
    return list(dict.fromkeys(s for k in sorted(by_size) for _, s in by_size[k]))


def _exact_fit(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...],
               limit: float) -> bool:
    """Whether least squares (by QR, not the Gram) on ``support`` fits to within ``limit``."""
    A = X[:, list(support)]
    Q, R = torch.linalg.qr(A)
    if _rank_deficient(R):
        return False
    residual = y - Q @ (Q.T @ y)
    return float(residual @ residual) <= limit


def _rank_deficient(R: torch.Tensor) -> bool:
    """Whether the triangular factor of a QR has a pivot below 1e-10 of its largest."""
    return bool((R.diagonal().abs() < 1e-10 * R.diagonal().abs().max()).any())
