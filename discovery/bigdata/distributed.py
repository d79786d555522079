"""A table on disk read in parts: on a Dask cluster, or one part at a time here.

``discover(path, dask=ADDRESS)`` reads the parts on a Dask cluster's
workers; ``discover(path, stream=True)`` (and any data file past
:data:`STREAM_BYTES`) reads them one at a time in this process, so the
memory held is one part's, whatever the file's size. ``path`` is a Parquet
file (its parts are its row groups), a folder of Parquet files (theirs, in
name order: the order :func:`~discovery._data.read_table` reads them in
memory), or, streamed here, a CSV file (first copied, :data:`CHUNK_ROWS` rows
at a time, into a temporary Parquet file of row groups that size).
The client never holds the rows:

1. each part is checked by the rules of one table
   (:func:`~discovery._data.prepare`) and its usable rows counted;
2. the client draws the search rows by the rule of the in-memory path
   (:func:`~discovery.bigdata.rows.search_order` over all usable rows, in part order);
   each part gives up its search rows, and the search runs on the client;
3. each part's other rows are reduced to the chosen terms' triangular factor
   and group Gram matrices (:func:`~discovery.bigdata.rows.part_factors`), and to the
   sums R² needs; the client merges them.

The same rows are searched in the same order, and the held-out least squares
differ only in the order of exact QR merges, so the formula and coefficients
are those of the in-memory fit (to rounding, ~1e-12).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy
import torch

from .._data import Dataset, csv_errors, parquet_parts, prepare
from .._optional import optional_import
from ..errors import DataError
from ..model import Model
from ..routes.library import fit_metrics
from .rows import Factors, RowSplit, part_factors, search_order

__all__ = ["CHUNK_ROWS", "STREAM_BYTES", "TableParts", "streams"]

#: Rows of each part a CSV file is copied into when streamed.
CHUNK_ROWS = 1_000_000
#: Data files (or folders) larger than this on disk are streamed by default.
STREAM_BYTES = 1 << 30


def streams(data: object, stream: bool | None) -> bool:
    """Whether ``discover(data, stream=stream)`` reads ``data`` in parts here:
    ``stream`` where given, else for a path larger than :data:`STREAM_BYTES`."""
    if stream is not None or not isinstance(data, (str, Path)):
        return bool(stream)
    path = Path(data)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) > STREAM_BYTES
    return path.is_file() and path.stat().st_size > STREAM_BYTES


@dataclass(frozen=True)
class Part:
    """One part of a table on disk: a Parquet file, or one row group of one."""

    path: str
    row_group: int | None = None


def _read(part: Part) -> pd.DataFrame:
    if part.row_group is None:
        return pd.read_parquet(part.path)
    import pyarrow.parquet as pq

    return pq.ParquetFile(part.path).read_row_group(part.row_group).to_pandas()


def _part(part: Part, target: str | None, inputs: list[str] | None) -> Dataset:
    return prepare(_read(part), target, inputs, min_rows=0)


def _count(part: Part, target: str | None, inputs: list[str] | None) -> dict[str, Any]:
    """(On a worker, or here.) A part's usable rows, and its columns as prepared."""
    d = _part(part, target, inputs)
    return {"n": d.n, "dropped": d.n_dropped, "inputs": d.inputs, "target": d.target,
            "names": d.names}


def _take(part: Part, target: str | None, inputs: list[str] | None,
          local: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(On a worker, or here.) The part's rows at ``local``, in that order."""
    d = _part(part, target, inputs)
    return {k: v[local] for k, v in d.columns.items()}, d.y[local]


def _factors(part: Part, target: str | None, inputs: list[str] | None, search: np.ndarray,
             terms: list[sympy.Expr], groups: int, device: str) -> Factors | None:
    """(On a worker, or here.) :func:`part_factors` of the part's rows but ``search``."""
    d = _part(part, target, inputs)
    out = part_factors(terms, d.inputs, d.columns, d.y, groups, torch.device(device),
                       index=np.setdiff1d(np.arange(d.n), search))
    return None if out is None else Factors(out.R.cpu(), out.grams.cpu())


def _sums(part: Part, target: str | None, inputs: list[str] | None,
          model: Model) -> tuple[float, float, float, int]:
    """(On a worker, or here.) Σ residual², Σ y, Σ y² and the rows of the whole part."""
    d = _part(part, target, inputs)
    r = d.y - model.predict(d.columns)
    return float(r @ r), float(d.y.sum()), float(d.y @ d.y), d.n


class _Here:
    """The calls :class:`TableParts` makes of a Dask client, run at once in this
    process: each part is read, reduced and let go before the next."""

    def submit(self, function: Callable[..., Any], *args: Any, pure: bool = True) -> Any:
        return function(*args)

    def gather(self, results: list[Any]) -> list[Any]:
        return list(results)

    def close(self) -> None:
        pass


def _row_groups(path: Path) -> list[Part]:
    """A Parquet file's row groups as parts (the file itself where it has one)."""
    import pyarrow.parquet as pq

    groups = pq.ParquetFile(path).num_row_groups
    return [Part(str(path))] if groups <= 1 else [Part(str(path), i) for i in range(groups)]


def _csv_as_parquet(path: Path, folder: Path, rows: int) -> Path:
    """``path`` (CSV) copied ``rows`` rows at a time into a Parquet file of row
    groups that size, never holding more than one chunk. Whole-number columns
    are stored as floats, so every chunk has the first one's column types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = folder / (path.stem + ".parquet")
    writer = None
    done = 0
    try:
        with csv_errors(path):
            for chunk in pd.read_csv(path, chunksize=rows):
                chunk = chunk.astype({c: float for c in chunk.columns
                                      if pd.api.types.is_numeric_dtype(chunk[c])})
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema)
                try:
                    writer.write_table(table.cast(writer.schema))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    raise DataError(f"The data file {str(path)!r} changes its column types "
                                    f"after row {done:,}: {exc}") from exc
                done += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return out


@dataclass
class TableParts:
    """A table's parts and where they are read (a Dask client, or :class:`_Here`),
    with each part's usable rows."""

    client: Any
    parts: list[Part]
    target: str | None
    inputs: list[str] | None
    counts: list[dict[str, Any]]
    name: str
    #: A temporary folder (a streamed CSV's Parquet copy), removed on :meth:`close`
    scratch: Path | None = field(default=None)

    @classmethod
    def open(cls, path: str | Path, target: object, inputs: list[str] | None,
             address: str | None = None, chunk_rows: int = CHUNK_ROWS) -> TableParts:
        """The parts of ``path`` on the Dask cluster at ``address``, or here where None."""
        optional_import("pyarrow", "parquet", purpose="reading Parquet")
        if target is not None and not isinstance(target, str):
            raise DataError("Data read in parts needs the target as a column name.")
        path = Path(path)
        if not path.exists():
            raise DataError(f"The data file {str(path)!r} does not exist.")
        scratch = None
        if address is None and path.is_file() and path.suffix.lower() not in (".parquet", ".pq"):
            scratch = Path(tempfile.mkdtemp(prefix="discover-"))
            try:
                files = [_csv_as_parquet(path, scratch, chunk_rows)]
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        else:
            files = parquet_parts(path)
        client: Any = _Here()
        if address is not None:
            distributed = optional_import("distributed", "dask", purpose="--dask")
            client = distributed.Client(address)
        try:
            parts = [part for file in files for part in _row_groups(file)]
            counts = client.gather([client.submit(_count, part, target, inputs, pure=False)
                                    for part in parts])
            shapes = {(tuple(c["inputs"]), c["target"]) for c in counts}
            if len(shapes) > 1:
                raise DataError(f"The Parquet parts of {str(path)!r} have different columns.")
        except BaseException:
            client.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        return cls(client, parts, target, inputs, counts, path.name, scratch)

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
                          sum(c["dropped"] for c in self.counts), self.name,
                          dict(first["names"]))
        if order is None:
            return dataset, None
        return dataset, RowSplit(dataset, _PartRows(self, locals_, n - len(search)))

    def close(self) -> None:
        self.client.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass(frozen=True)
class _PartRows:
    """The rows of every part but its search rows (:class:`~discovery.bigdata.rows.HeldOut`)."""

    source: TableParts
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
