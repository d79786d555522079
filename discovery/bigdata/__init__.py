"""Data larger than a fit: the subsample search and held-out refit, Parquet parts
and Dask, and the screening of wide inputs.
"""

from .distributed import CHUNK_ROWS, STREAM_BYTES, TableParts, streams
from .rows import (
    SEARCH_ROWS,
    RowSplit,
    held_out_fit,
    held_out_intervals,
    held_out_noise,
    split_rows,
)
from .screen import KEEP_AT_MOST, SCREEN_ABOVE, Screening, screen_inputs, screen_residual

__all__ = [
    "CHUNK_ROWS", "KEEP_AT_MOST", "RowSplit", "SCREEN_ABOVE", "SEARCH_ROWS", "STREAM_BYTES",
    "Screening", "TableParts", "held_out_fit", "held_out_intervals", "held_out_noise",
    "screen_inputs", "screen_residual", "split_rows", "streams",
]
