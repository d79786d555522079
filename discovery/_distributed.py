"""Data in Parquet parts, the work on a Dask cluster: ``discover(path, dask=ADDRESS)``.

``path`` is a Parquet file or a folder of Parquet files (its parts, in name
order: the order :func:`~discovery._data.read_table` reads them in memory).
The client never holds the rows:

1. each worker checks its part by the rules of one table
   (:func:`~discovery._data.prepare`) and counts its usable rows;
2. the client draws the search rows by the rule of the in-memory path
   (:func:`~discovery._rows.search_order` over all usable rows, in part order);
   each worker sends its search rows, and the search runs on the client;
3. each worker reduces its other rows to the chosen terms' triangular factor
   and group Gram matrices (:func:`~discovery._rows.part_factors`), and to the
   sums R² needs; the client merges them.

The same rows are searched in the same order, and the held-out least squares
differ only in the order of exact QR merges, so the formula and coefficients
are those of the in-memory fit (to rounding, ~1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy
import torch

from ._data import Dataset, parquet_parts, prepare
from ._engine import fit_metrics
from ._optional import optional_import
from ._rows import Factors, RowSplit, part_factors, search_order
from .errors import DataError
from .model import Model

__all__ = ["DaskParts"]


def _part(path: str, target: str | None, inputs: list[str] | None) -> Dataset:
    return prepare(pd.read_parquet(path), target, inputs, min_rows=0)


def _count(path: str, target: str | None, inputs: list[str] | None) -> dict[str, Any]:
    """(On a worker.) A part's usable rows, and its columns as prepared."""
    d = _part(path, target, inputs)
    return {"n": d.n, "dropped": d.n_dropped, "inputs": d.inputs, "target": d.target,
            "names": d.names}


def _take(path: str, target: str | None, inputs: list[str] | None,
          local: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(On a worker.) The part's rows at ``local``, in that order."""
    d = _part(path, target, inputs)
    return {k: v[local] for k, v in d.columns.items()}, d.y[local]


def _factors(path: str, target: str | None, inputs: list[str] | None, search: np.ndarray,
             terms: list[sympy.Expr], groups: int, device: str) -> Factors | None:
    """(On a worker.) :func:`part_factors` of the part's rows but ``search``, on the CPU."""
    d = _part(path, target, inputs)
    out = part_factors(terms, d.inputs, d.columns, d.y, groups, torch.device(device),
                       index=np.setdiff1d(np.arange(d.n), search))
    return None if out is None else Factors(out.R.cpu(), out.grams.cpu())


def _sums(path: str, target: str | None, inputs: list[str] | None,
          model: Model) -> tuple[float, float, float, int]:
    """(On a worker.) Σ residual², Σ y, Σ y² and the rows of the whole part."""
    d = _part(path, target, inputs)
    r = d.y - model.predict(d.columns)
    return float(r @ r), float(d.y.sum()), float(d.y @ d.y), d.n


@dataclass
class DaskParts:
    """A Parquet dataset's parts on a Dask cluster (the client, each part's usable rows)."""

    client: Any
    parts: list[str]
    target: str | None
    inputs: list[str] | None
    counts: list[dict[str, Any]]

    @classmethod
    def open(cls, path: str | Path, target: object, inputs: list[str] | None,
             address: str) -> DaskParts:
        distributed = optional_import("distributed", "dask", purpose="--dask")
        optional_import("pyarrow", "parquet", purpose="reading Parquet")
        if target is not None and not isinstance(target, str):
            raise DataError("With dask, the target must be a column name.")
        parts = [str(p) for p in parquet_parts(path)]
        client = distributed.Client(address)
        try:
            counts = client.gather([client.submit(_count, part, target, inputs, pure=False)
                                    for part in parts])
            shapes = {(tuple(c["inputs"]), c["target"]) for c in counts}
            if len(shapes) > 1:
                raise DataError(f"The Parquet parts of {str(path)!r} have different columns.")
        except BaseException:
            client.close()
            raise
        return cls(client, parts, target, inputs, counts)

    @property
    def offsets(self) -> np.ndarray:
        return np.cumsum([0] + [c["n"] for c in self.counts])

    def split(self, search_rows: int | None, random_state: int | None
              ) -> tuple[Dataset, RowSplit | None]:
        """The search rows (every row where there are no more), and the held-out parts."""
        n = int(self.offsets[-1])
        order = search_order(n, search_rows, random_state)
        search = np.arange(n) if order is None else order[:search_rows]
        locals_, places = [], []
        for lo, hi in zip(self.offsets[:-1], self.offsets[1:]):
            where = np.flatnonzero((search >= lo) & (search < hi))
            locals_.append(search[where] - lo)
            places.append(where)
        taken = self.client.gather([
            self.client.submit(_take, part, self.target, self.inputs, local, pure=False)
            for part, local in zip(self.parts, locals_)])
        first = self.counts[0]
        columns = {k: np.empty(len(search)) for k in first["inputs"]}
        y = np.empty(len(search))
        for (cols, ys), where in zip(taken, places):
            for k in columns:
                columns[k][where] = cols[k]
            y[where] = ys
        dataset = Dataset(columns, y, list(first["inputs"]), first["target"],
                          sum(c["dropped"] for c in self.counts), Path(self.parts[0]).parent.name
                          if len(self.parts) > 1 else Path(self.parts[0]).name,
                          dict(first["names"]))
        if order is None:
            return dataset, None
        return dataset, RowSplit(dataset, _DaskRows(self, locals_, n - len(search)))

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class _DaskRows:
    """The rows of every part but its search rows (:class:`~discovery._rows.HeldOut`)."""

    source: DaskParts
    search: list[np.ndarray]
    total: int

    @property
    def n(self) -> int:
        return self.total

    def factors(self, terms: list[sympy.Expr], groups: int,
                device: torch.device) -> list[Factors | None]:
        s = self.source
        held = [c["n"] - len(local) for c, local in zip(s.counts, self.search)]
        shares = [max(1, round(groups * h / max(self.total, 1))) if h else 0 for h in held]
        work = [(p, local, g) for p, local, g in zip(s.parts, self.search, shares) if g]
        futures = [s.client.submit(_factors, p, s.target, s.inputs, local, terms, g,
                                   "cuda" if device.type == "cuda" else "cpu", pure=False)
                   for p, local, g in work]
        return list(s.client.gather(futures))

    def metrics(self, model: Model) -> dict[str, object]:
        s = self.source
        sums = s.client.gather([s.client.submit(_sums, part, s.target, s.inputs, model,
                                                pure=False) for part in s.parts])
        rss, total, squares, n = (sum(x[i] for x in sums) for i in range(4))
        return fit_metrics(model, rss, squares - total * total / n, int(n),
                           sum(c["dropped"] for c in s.counts))
