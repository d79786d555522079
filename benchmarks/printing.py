"""Printed forms: what ``discover`` prints for ten laws, beside the form a physicist writes.

Each law is fitted by the default ``discover`` on 1,000 noise-free rows
(inputs uniform on their ranges, named constants given as the user would).
The table has the law as written, the engine's raw expression (before
simplification), the printed formula, whether the printed formula is the
law (:func:`discovery.check`, SRBench's criterion) and whether it is as
short as written (its expression tree has at most as many nodes, PySR's
complexity).

Run: ``discover benchmark printing [--workers 2] [--out DIR]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import parse_expression, term_complexity

from .feynman.runner import ResultsFile, run_resumable

__all__ = ["LAWS", "run_job", "run_printing", "summarise", "write_summary"]

#: name: (as written, {input: (low, high) or "integer 1..6"}, named constants)
LAWS: dict[str, tuple[str, dict[str, tuple[float, float]], dict[str, float]]] = {
    "cannon range": ("v**2*sin(2*theta)/g", {"v": (0, 10), "theta": (0, 1.5)}, {"g": 9.81}),
    "relativistic mass": ("m0/sqrt(1 - v**2/c**2)", {"m0": (1, 5), "v": (1, 2), "c": (3, 10)},
                          {}),
    "Coulomb force": ("q1*q2/(4*pi*epsilon*r**2)",
                      {"q1": (1, 5), "q2": (1, 5), "epsilon": (1, 5), "r": (1, 5)}, {}),
    "Rydberg": ("R*(1/n1**2 - 1/n2**2)", {"n1": (1, 6), "n2": (7, 12)}, {"R": 1.097e7}),
    "Doppler": ("f*(c + vr)/(c - vs)", {"f": (100, 500), "vr": (0, 30), "vs": (0, 30)},
                {"c": 343.0}),
    "gravitational potential difference": ("G*m1*m2*(1/r2 - 1/r1)",
                                           {"m1": (1, 5), "m2": (1, 5), "r1": (1, 5),
                                            "r2": (1, 5)}, {"G": 6.674e-11}),
    "Planck's law": ("h*f**3/(c**2*(exp(h*f/(k*T)) - 1))",
                     {"h": (1, 5), "f": (1, 5), "c": (1, 5), "k": (1, 5), "T": (1, 5)}, {}),
    "damped oscillation": ("5/2*exp(-3*t/10)*cos(2*t)", {"t": (0, 10)}, {}),
    "logistic growth": ("21/5/(1 + exp(-13*(t - 41/10)/10))", {"t": (0, 10)}, {}),
    "velocity addition": ("(u + v)/(1 + u*v/c**2)", {"u": (1, 5), "v": (1, 5), "c": (6, 20)},
                          {}),
}
N_ROWS = 1000
_LIMIT_S = 300.0
#: Inputs drawn as integers (energy levels)
_INTEGER = ("n1", "n2")


def _data(name: str) -> tuple[dict[str, np.ndarray], sympy.Expr]:
    formula, ranges, constants = LAWS[name]
    rng = np.random.default_rng(sorted(LAWS).index(name))
    columns = {v: (rng.integers(int(lo), int(hi) + 1, N_ROWS).astype(float) if v in _INTEGER
                   else rng.uniform(lo, hi, N_ROWS)) for v, (lo, hi) in ranges.items()}
    truth = parse_expression(formula)
    symbols = {str(s): s for s in truth.free_symbols}
    f = sympy.lambdify([symbols[v] for v in ranges] + [symbols[c] for c in constants], truth,
                       "numpy")
    columns["y"] = np.asarray(f(*columns.values(), *constants.values()), dtype=float)
    return columns, truth


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Fit one law; return its raw and printed formulas and the two comparisons."""
    import warnings

    from discovery import check, discover

    name = job["law"]
    columns, truth = _data(name)
    formula, ranges, constants = LAWS[name]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(columns, target="y", constants=constants, device="cpu",
                         n_bootstrap=0, random_state=0)
    seconds = time.perf_counter() - started
    positive = [v for v, (lo, _) in ranges.items() if lo > 0]
    same = check(model, formula, constants=constants, positive=positive)
    short = term_complexity(model.expression) <= term_complexity(truth)
    return {"written": formula, "raw": str(model.raw_expression),
            "printed": str(model.expression), "symbolic": bool(same.symbolic),
            "as_short": bool(short), "size": term_complexity(model.expression),
            "written_size": term_complexity(truth), "strategy": str(model.metrics.get("strategy") or
                                                         "library"),
            "verdict": model.verdict["status"], "seconds": round(seconds, 2)}


def run_printing(*, workers: int, out: Path, progress: bool = True) -> list[dict[str, Any]]:
    """Fit every law (resumable: ``out/results.jsonl``); return the records."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [{"key": name, "law": name} for name in LAWS]
    return run_resumable(jobs, run_job, results=ResultsFile(out / "results.jsonl"),
                         workers=workers, limit_s=lambda job: _LIMIT_S, desc="printing",
                         progress=progress)


def summarise(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row a law: as written, raw, printed, the law?, as short as written?"""
    rows = [{"law": r["key"], "as written": r.get("written", ""), "raw": r.get("raw", ""),
             "printed": r.get("printed", r.get("error", "")),
             "the law": "yes" if r.get("symbolic") else "no",
             "as short?": f"{'yes' if r.get('as_short') else 'no'} "
                          f"({r.get('size', '-')} vs {r.get('written_size', '-')})",
             "route": r.get("strategy", "")} for r in records]
    return pd.DataFrame(rows)


def write_summary(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """``summary.md`` (a Markdown table) and ``summary.json``."""
    table = summarise(records)
    md = out / "summary.md"
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(f"`{v}`" if i in (1, 2, 3) and v else str(v)
                                for i, v in enumerate(row)) + " |"
              for row in table.itertuples(index=False)]
    md.write_text("\n".join(lines) + "\n")
    js = out / "summary.json"
    js.write_text(json.dumps({"laws": len(table),
                              "the_law": int((table["the law"] == "yes").sum()),
                              "as_short": int(table["as short?"].str.startswith("yes").sum()),
                              "rows": table.to_dict(orient="records")}, indent=2))
    return [md, js]
