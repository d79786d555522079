"""Load and validate tabular data: a DataFrame, a CSV/Parquet path, or arrays with names."""

from __future__ import annotations

import difflib
import keyword
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._optional import optional_import
from .errors import DataError

__all__ = ["Dataset", "prepare", "read_table", "MIN_ROWS"]

log = logging.getLogger(__name__)

#: Fewest usable rows a fit accepts.
MIN_ROWS = 8


@dataclass(frozen=True)
class Dataset:
    """Validated inputs and target, all finite float64."""

    columns: dict[str, np.ndarray]
    y: np.ndarray
    inputs: list[str]
    target: str
    n_dropped: int
    source: str
    #: The user's column name of each input or target renamed to an identifier.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def matrix(self) -> np.ndarray:
        return np.column_stack([self.columns[c] for c in self.inputs])


def parquet_parts(path: str | Path) -> list[Path]:
    """The Parquet files of ``path``: the file itself, or a folder's ``*.parquet``/``*.pq``
    in name order (the order of the rows, in memory and on a Dask cluster alike)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".parquet", ".pq"):
        return [path]
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if p.suffix.lower() in (".parquet", ".pq"))
        if parts:
            return parts
        raise DataError(f"The data path {str(path)!r} is a folder without Parquet files "
                        "(*.parquet, *.pq): give a file, or a folder of Parquet parts.")
    raise DataError(f"Expected a .parquet file or a folder of them; got {str(path)!r}.")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV file, or a Parquet file or folder of parts (where pyarrow is installed)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"The data file {str(path)!r} does not exist.")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        parts = parquet_parts(path)
        optional_import("pyarrow", "parquet", purpose="reading Parquet")
        if len(parts) == 1:
            return pd.read_parquet(parts[0])
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    with csv_errors(path):
        return pd.read_csv(path)


@contextmanager
def csv_errors(path: Path) -> Iterator[None]:
    """pandas' errors reading the CSV file ``path`` as :class:`DataError` saying what is wrong."""
    try:
        yield
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The data file {str(path)!r} is empty.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"The data file {str(path)!r} is not valid CSV: {first}.") from exc


def safe_name(name: object) -> str:
    text = re.sub(r"\W", "_", str(name).strip()) or "x"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text):
        text += "_"
    return text


def _frame(data: object, target: object, inputs: Sequence[str] | None
           ) -> tuple[pd.DataFrame, str, object]:
    """Turn every accepted form of ``data`` into a DataFrame; return it, its source, target."""
    if isinstance(data, (str, Path)):
        return read_table(data), Path(data).name, target
    if isinstance(data, pd.DataFrame):
        return data, "the data", target
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()}), "the data", \
                target
        except ValueError as exc:
            raise DataError(f"The data columns cannot form a table: {exc}.") from exc
    if isinstance(data, np.ndarray) or hasattr(data, "__array__"):
        X = np.asarray(data)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise DataError(f"Array data must be 2-D (rows, columns); got shape {X.shape}.")
        names = list(inputs) if inputs is not None else [f"x{i}" for i in range(X.shape[1])]
        if len(names) != X.shape[1]:
            raise DataError(f"{len(names)} input names were given for {X.shape[1]} columns.")
        frame = pd.DataFrame(X, columns=names)
        if target is not None and not isinstance(target, str):
            y = np.asarray(target)
            if y.shape[0] != X.shape[0]:
                raise DataError(f"The target has {y.shape[0]} rows but the inputs have "
                                f"{X.shape[0]}.")
            frame["y"] = y.reshape(X.shape[0], -1)[:, 0] if y.ndim > 1 else y
            target = "y"
        return frame, "the data", target
    raise DataError(f"Data must be a DataFrame, a CSV/Parquet path, a mapping of columns or an "
                    f"array; got {type(data).__name__}.")


def _missing(kind: str, name: str, columns: list[str], source: str) -> DataError:
    near = difflib.get_close_matches(name, columns, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return DataError(f"The {kind} column {name!r} is not in {source}{hint}; "
                     f"columns are: {', '.join(columns)}.")


def prepare(data: object, target: object = None, inputs: Sequence[str] | None = None,
            *, min_rows: int = MIN_ROWS) -> Dataset:
    """Validate data for a fit: pick columns, check types, drop non-finite rows.

    Parameters
    ----------
    data
        A DataFrame, a path to CSV/Parquet, a mapping of name to array, or a
        2-D array (with ``inputs`` naming its columns and ``target`` an array).
    target
        The target column's name, or an array when ``data`` is an array.
        Defaults to the last column.
    inputs
        Input column names; default all columns but the target.
    min_rows
        Fewest usable rows accepted.

    Raises
    ------
    DataError
        With the problem, where it is, and what was expected.
    """
    frame, source, target = _frame(data, target, inputs)
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"{source[:1].upper()}{source[1:]} has no rows or no columns.")
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if target is None:
        target = columns[-1]
    if not isinstance(target, str):
        raise DataError(f"The target must be a column name; got {type(target).__name__}.")
    if target not in columns:
        raise _missing("target", target, columns, source)
    if inputs is None or isinstance(data, np.ndarray):
        inputs = [c for c in columns if c != target]
    else:
        inputs = [str(i) for i in inputs]
        for name in inputs:
            if name not in columns:
                raise _missing("input", name, columns, source)
        if target in inputs:
            raise DataError(f"The target column {target!r} is also listed as an input.")
    if not inputs:
        raise DataError(f"{source[:1].upper()}{source[1:]} has no input columns besides the "
                        f"target {target!r}.")
    values = {}
    for name in [*inputs, target]:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            # Numbers already: no text to parse (and no string per row on 10⁷ rows).
            values[name] = series.to_numpy(dtype=float)
            continue
        numeric = pd.to_numeric(series, errors="coerce")
        bad = numeric.isna() & series.notna() & ~series.astype(str).str.strip().str.lower().isin(
            ["nan", "inf", "-inf", "", "na", "null", "none"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"Column {name!r} of {source} is not numeric: row {row + 1} holds "
                            f"{series.iloc[row]!r}.")
        values[name] = numeric.to_numpy(dtype=float)
    finite = np.logical_and.reduce([np.isfinite(values[c]) for c in [*inputs, target]])
    n_dropped = int((~finite).sum())
    if n_dropped:
        log.warning("Dropped %d row(s) of %s with NaN or infinite values.", n_dropped, source)
    n = int(finite.sum())
    if n < min_rows:
        raise DataError(f"{source[:1].upper()}{source[1:]} has {n} usable row(s) "
                        f"({n_dropped} dropped for NaN/inf); at least {min_rows} are needed.")
    renamed = {c: safe_name(c) for c in [*inputs, target]}
    if len(set(renamed.values())) < len(renamed):
        raise DataError(f"Column names {', '.join(renamed)} collide once made into identifiers.")
    for old, new in renamed.items():
        if old != new:
            log.info("Column %r is used as the symbol %r.", old, new)
    if n_dropped:
        values = {c: v[finite] for c, v in values.items()}
    return Dataset(columns={renamed[c]: values[c] for c in inputs},
                   y=values[target], inputs=[renamed[c] for c in inputs],
                   target=renamed[target], n_dropped=n_dropped, source=source,
                   names={new: str(old) for old, new in renamed.items() if str(old) != new})
