"""Tables and result files shared by the benchmark commands."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["format_table", "write_results", "COLUMNS"]

#: (key, header, format) of the printed and markdown tables.
COLUMNS = (
    ("approach", "approach", "{}"),
    ("n_params", "params", "{:,}"),
    ("train_mse", "train MSE", "{:.3g}"),
    ("test_mse", "test MSE", "{:.3g}"),
    ("extrap_mse", "extrap MSE", "{:.3g}"),
    ("fit_s", "fit s", "{:.2f}"),
    ("predict_s", "predict s", "{:.2f}"),
    ("law", "law?", "{}"),
    ("formula", "formula", "{}"),
    ("note", "note", "{}"),
)


def _cell(row: dict[str, object], key: str, fmt: str, width: int | None) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "-"
    else:
        text = fmt.format(value)
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def format_table(rows: Sequence[dict[str, object]], *, markdown: bool = False,
                 formula_width: int = 48) -> str:
    """The results as an aligned text table (or a markdown table)."""
    columns = [c for c in COLUMNS if any(r.get(c[0]) is not None for r in rows)]
    width = None if markdown else formula_width
    cells = [[_cell(r, k, f, width if k in ("formula", "note") else None) for k, _, f in columns]
             for r in rows]
    headers = [h for _, h, _ in columns]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = {i for i, (k, _, _) in enumerate(columns) if k not in ("approach", "law", "formula")}

    def line(items: Sequence[str]) -> str:
        return "  ".join(s.rjust(w) if i in numeric else s.ljust(w)
                         for i, (s, w) in enumerate(zip(items, widths))).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)]
                     + [line(r) for r in cells])


def write_results(out: Path, name: str, rows: Sequence[dict[str, object]],
                  meta: dict[str, object], title: str) -> list[Path]:
    """Write ``name``.json, .csv and .md under ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.json", out / f"{name}.csv", out / f"{name}.md"]
    paths[0].write_text(json.dumps({"meta": meta, "rows": list(rows)}, indent=2,
                                   default=str) + "\n")
    pd.DataFrame(list(rows)).to_csv(paths[1], index=False)
    setup = ", ".join(f"{k}={v}" for k, v in meta.items())
    paths[2].write_text(f"# {title}\n\n{setup}\n\n{format_table(rows, markdown=True)}\n")
    return paths
