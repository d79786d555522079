"""Many rows: choose the formula on a random subsample, estimate it on the other rows.

Past ``search_rows`` rows, :func:`discovery.discover` runs its whole search
(library, routes, selection, verdict) on a random subsample of that many rows,
whose cost does not grow with the data, and then refits the chosen terms on
every other row. The held-out rows took no part in choosing the terms, so the
coefficients, standard errors and intervals estimated on them are valid after
selection: sample splitting (Cox 1975; Wasserman & Roeder 2009, "High
dimensional variable selection").

The refit reads the held-out rows in groups and keeps only small matrices:
the triangular factor of ``[A y]`` (``A`` the chosen terms' values), merged
group by group (TSQR, Demmel et al. 2012), which gives the least-squares fit
as accurately as a QR of all rows, and each group's Gram matrix, on which the
bootstrap resamples whole groups (the rows were shuffled first, so the groups
are independent random samples of rows: the cluster bootstrap of Davison &
Hinkley 1997, §3.8). Memory is O(group rows × k + groups × k²), whatever n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import sympy
import torch

from basis_library import as_symbols
from basis_library._compile import compile_torch

from .._data import Dataset
from ..search.sparse import Refit
from ..stats.intervals import percentile_interval, t_interval
from ..stats.noise import noise_variance
from ..uncertainty.bootstrap import bootstrap_counts

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["SEARCH_ROWS", "RowSplit", "split_rows", "held_out_fit", "held_out_intervals",
           "held_out_noise"]

#: Rows the search sees by default; the others estimate the chosen terms.
SEARCH_ROWS = 20_000
#: Groups of held-out rows the bootstrap resamples (fewer where rows are fewer).
GROUPS = 500


class HeldOut(Protocol):
    """Rows held out of the search: where they are is theirs to know (memory, a cluster)."""

    @property
    def n(self) -> int: ...

    def factors(self, terms: list[sympy.Expr], groups: int,
                device: torch.device) -> list[Factors | None]:
        """:func:`part_factors` of each part of the rows, ``groups`` groups in all."""

    def metrics(self, model: Model) -> dict[str, object]:
        """R², MSE and row counts of ``model`` on every row, the search rows included."""


@dataclass(frozen=True)
class InMemory:
    """Held-out rows of a dataset in memory: every row, and which are held out (no copy)."""

    every: Dataset
    index: np.ndarray

    @property
    def n(self) -> int:
        return int(self.index.size)

    def factors(self, terms: list[sympy.Expr], groups: int,
                device: torch.device) -> list[Factors | None]:
        return [part_factors(terms, self.every.inputs, self.every.columns, self.every.y,
                             groups, device, index=self.index)]

    def metrics(self, model: Model) -> dict[str, object]:
        from ..routes.library import training_metrics

        return training_metrics(model, self.every)


@dataclass(frozen=True)
class RowSplit:
    """The rows the search sees and the rows held out to estimate its formula."""

    search: Dataset
    held_out: HeldOut

    def description(self) -> dict[str, object]:
        return {"search": self.search.n, "estimate": self.held_out.n,
                "total": self.search.n + self.held_out.n,
                "how": "terms chosen on a random subsample, coefficients and intervals "
                       "estimated on the other rows (sample splitting)"}


def split_rows(dataset: Dataset, search_rows: int | None,
               random_state: int | None) -> RowSplit | None:
    """A random subsample of ``search_rows`` rows and the rest; None if there are no more.

    Examples
    --------
    >>> import numpy as np
    >>> d = Dataset({"x": np.arange(10.0)}, np.arange(10.0), ["x"], "y", 0, "array")
    >>> s = split_rows(d, 4, 0)
    >>> s.search.n, s.held_out.n, sorted([*s.search.y, *d.y[s.held_out.index]]) == list(d.y)
    (4, 6, True)
    >>> split_rows(d, 10, 0) is None
    True
    """
    order = search_order(dataset.n, search_rows, random_state)
    if order is None:
        return None
    return RowSplit(_rows(dataset, order[:search_rows]), InMemory(dataset, order[search_rows:]))


def search_order(n: int, search_rows: int | None, random_state: int | None
                 ) -> np.ndarray | None:
    """The rows in random order (the first ``search_rows`` search); None if n ≤ search_rows.

    One rule for data in memory and in parts, so both search the same rows.
    """
    if search_rows is None or n <= search_rows:
        return None
    return np.random.default_rng(random_state).permutation(n)


def _rows(dataset: Dataset, index: np.ndarray) -> Dataset:
    return replace(dataset, columns={k: v[index] for k, v in dataset.columns.items()},
                   y=dataset.y[index])


@dataclass(frozen=True)
class Factors:
    """What one part of the rows contributes: the triangular factor of its ``[A y]``
    and each of its groups' Gram matrices."""

    R: torch.Tensor
    grams: torch.Tensor


@dataclass(frozen=True)
class HeldOutFit:
    """The chosen terms refitted on held-out rows."""

    fit: Refit
    #: (B, k) bootstrap coefficients (group resamples); empty when none were drawn
    boot: np.ndarray
    dof: int
    #: The triangular factor of [A y]: least squares on it equals least squares on the rows
    R: torch.Tensor


def part_factors(terms: list[sympy.Expr], inputs: list[str], columns: Mapping[str, np.ndarray],
                 y: np.ndarray, groups: int, device: torch.device,
                 index: np.ndarray | None = None) -> Factors | None:
    """One part's :class:`Factors` (its rows at ``index``, or all), read in ``groups`` groups;
    None where a term is not finite on a row."""
    k = len(terms)
    n = len(y) if index is None else int(index.size)
    compiled = compile_torch(as_symbols(inputs), terms)
    G = max(1, min(groups, n))
    bounds = np.linspace(0, n, G + 1).astype(int)
    grams = torch.zeros(G, k + 1, k + 1, dtype=torch.float64, device=device)
    R = torch.zeros(0, k + 1, dtype=torch.float64, device=device)
    for g in range(G):
        rows: slice | np.ndarray = slice(int(bounds[g]), int(bounds[g + 1]))
        if index is not None:
            rows = index[rows]
        X = torch.tensor(np.column_stack([columns[c][rows] for c in inputs]),
                         dtype=torch.float64, device=device)
        Z = torch.cat([compiled(X), torch.tensor(y[rows], dtype=torch.float64,
                                                 device=device)[:, None]], dim=1)
        if not bool(torch.isfinite(Z).all()):
            return None
        grams[g] = Z.T @ Z
        R = torch.linalg.qr(torch.cat([R, Z]), mode="r").R
    return Factors(R=R[:k + 1], grams=grams)


def held_out_fit(terms: list[sympy.Expr], held_out: HeldOut | Dataset, *,
                 device: torch.device, n_bootstrap: int, random_state: int | None,
                 groups: int = GROUPS) -> HeldOutFit | None:
    """Least squares of y on ``terms`` over the held-out rows, read in groups.

    None where the terms are not finite on every row, or are collinear there.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 1001)
    >>> d = Dataset({"x": x}, 3 * x**2 + 0.5, ["x"], "y", 0, "array")
    >>> x_ = sympy.Symbol("x")
    >>> out = held_out_fit([x_**2, sympy.Integer(1)], d, device=torch.device("cpu"),
    ...                    n_bootstrap=50, random_state=0)
    >>> [round(float(c), 6) for c in out.fit.coef], out.boot.shape
    ([3.0, 0.5], (50, 2))
    """
    if isinstance(held_out, Dataset):
        held_out = InMemory(held_out, np.arange(held_out.n))
    k, n = len(terms), held_out.n
    if n <= k + 1:
        return None
    G = max(1, min(groups, n // max(2 * (k + 1), 1)))
    parts = held_out.factors(terms, G, device)
    if any(p is None for p in parts):
        return None
    done = [p for p in parts if p is not None]
    R = torch.linalg.qr(torch.cat([p.R.to(device) for p in done]), mode="r").R
    grams = torch.cat([p.grams.to(device) for p in done])
    A, b = R[:k, :k], R[:k, k]
    diag = A.diagonal().abs()
    if not bool((diag > 1e-12 * diag.max().clamp_min(1e-300)).all()):
        return None
    coef = torch.linalg.solve_triangular(A, b[:, None], upper=True)[:, 0]
    rss = float(R[k, k] ** 2)
    dof = n - k
    Ainv = torch.linalg.solve_triangular(
        A, torch.eye(k, dtype=A.dtype, device=A.device), upper=True)
    covariance = noise_variance(rss, dof) * (Ainv @ Ainv.T)
    fit = Refit(tuple(range(k)), coef.cpu(), covariance.diagonal().clamp_min(0).sqrt().cpu(),
                rss, covariance.cpu())
    boot = np.zeros((0, k))
    if n_bootstrap and grams.shape[0] >= 2:
        boot = _group_bootstrap(grams, k, n_bootstrap, random_state)
    return HeldOutFit(fit=fit, boot=boot, dof=dof, R=R[:k + 1].cpu())


def _group_bootstrap(grams: torch.Tensor, k: int, n_resamples: int,
                     random_state: int | None) -> np.ndarray:
    """Coefficients on ``n_resamples`` resamples of whole groups (multinomial weights)."""
    generator = torch.Generator()
    generator.manual_seed(0 if random_state is None else int(random_state) + 13)
    counts = bootstrap_counts(grams.shape[0], n_resamples, generator).to(grams.device)
    total = torch.einsum("bg,gij->bij", counts, grams)
    # Unit diagonal before solving: the terms' scales can differ by many orders.
    scale = total[:, :k, :k].diagonal(dim1=1, dim2=2).clamp_min(1e-300).sqrt()
    gram = total[:, :k, :k] / (scale[:, :, None] * scale[:, None, :])
    rhs = total[:, :k, k] / scale
    coef = torch.linalg.lstsq(gram, rhs[:, :, None]).solution[:, :, 0] / scale
    return coef.cpu().numpy()


def held_out_intervals(held: HeldOutFit, level: float) -> tuple[np.ndarray, str]:
    """Coefficient intervals: bootstrap percentiles where resamples were drawn, else t."""
    if held.boot.shape[0]:
        return percentile_interval(held.boot, level), "group bootstrap percentile"
    return (t_interval(held.fit.coef.numpy(), held.fit.std_error.numpy(), held.dof, level),
            "t")


def held_out_noise(held: HeldOutFit) -> float:
    return math.sqrt(noise_variance(held.fit.rss, held.dof))


def describe(rows: Mapping[str, Any]) -> str:
    """A one-line account of which rows did what (the CLI's), from ``Model.info['rows']``.

    Examples
    --------
    >>> describe({"search": 20000, "estimate": 180000, "total": 200000})
    'terms chosen on 20,000 random rows, estimated on the other 180,000'
    """
    if rows.get("estimate"):
        return (f"terms chosen on {rows['search']:,} random rows, estimated on the other "
                f"{rows['estimate']:,}")
    return (f"terms and coefficients from {rows['search']:,} random rows of "
            f"{rows['total']:,}: {rows.get('reason', '')}")
