"""The Nguyen benchmark: twelve small laws, 20 noiseless points, exact recovery.

Nguyen-1..12 (Uy et al. 2011, "Semantically-based crossover in genetic
programming"), with the ranges of the deep symbolic regression paper (Petersen
et al. 2021, table 7; Nguyen-9..12 on [0, 1] so that ``x**y`` is real): each
input uniform on its range, 20 training points, no noise. A run recovers the
law when the formula that the default ``discover`` returns (no per-problem
option) is symbolically equal to it (:func:`discovery.check`, SRBench's
criterion). Published exact-recovery rates (%) on these twelve, averaged over
the problems: DSR 83.6, NGGP 92.3 (Mundhenk et al. 2021), PySR 74.4.

Run: ``discover benchmark nguyen [--seeds 10] [--workers 2] [--problems 'Nguyen-1*']
[--out DIR]``.
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import parse_expression

from .feynman.runner import ResultsFile, run_resumable

__all__ = ["PROBLEMS", "PUBLISHED", "NguyenProblem", "generate", "run_job", "run_nguyen",
           "summarise"]

#: Mean exact-recovery rate (%) over Nguyen-1..12 as published.
PUBLISHED = {"NGGP": 92.3, "DSR": 83.6, "PySR": 74.4}
N_POINTS = 20
_LIMIT_S = 120.0


@dataclass(frozen=True)
class NguyenProblem:
    name: str
    formula: str
    inputs: tuple[str, ...]
    low: float
    high: float

    @property
    def positive(self) -> tuple[str, ...]:
        """Inputs positive on the whole range (so that check may use it)."""
        return self.inputs if self.low >= 0 else ()


PROBLEMS = (
    NguyenProblem("Nguyen-1", "x**3 + x**2 + x", ("x",), -1, 1),
    NguyenProblem("Nguyen-2", "x**4 + x**3 + x**2 + x", ("x",), -1, 1),
    NguyenProblem("Nguyen-3", "x**5 + x**4 + x**3 + x**2 + x", ("x",), -1, 1),
    NguyenProblem("Nguyen-4", "x**6 + x**5 + x**4 + x**3 + x**2 + x", ("x",), -1, 1),
    NguyenProblem("Nguyen-5", "sin(x**2)*cos(x) - 1", ("x",), -1, 1),
    NguyenProblem("Nguyen-6", "sin(x) + sin(x + x**2)", ("x",), -1, 1),
    NguyenProblem("Nguyen-7", "log(x + 1) + log(x**2 + 1)", ("x",), 0, 2),
    NguyenProblem("Nguyen-8", "sqrt(x)", ("x",), 0, 4),
    NguyenProblem("Nguyen-9", "sin(x) + sin(y**2)", ("x", "y"), 0, 1),
    NguyenProblem("Nguyen-10", "2*sin(x)*cos(y)", ("x", "y"), 0, 1),
    NguyenProblem("Nguyen-11", "x**y", ("x", "y"), 0, 1),
    NguyenProblem("Nguyen-12", "x**4 - x**3 + y**2/2 - y", ("x", "y"), 0, 1),
)


def select(patterns: str | None) -> list[NguyenProblem]:
    """The problems whose names match any of the comma-separated globs (all without)."""
    if not patterns:
        return list(PROBLEMS)
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    return [p for p in PROBLEMS if any(fnmatch.fnmatch(p.name, g) for g in globs)]


def generate(problem: NguyenProblem, random_state: int, n: int = N_POINTS) -> pd.DataFrame:
    """``n`` rows: each input uniform on the problem's range, and the exact value ``f``."""
    rng = np.random.default_rng(random_state)
    columns = {name: rng.uniform(problem.low, problem.high, n) for name in problem.inputs}
    expr = parse_expression(problem.formula, {})
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    f = sympy.lambdify(symbols, expr, "numpy")
    columns["f"] = np.asarray(f(*[columns[s.name] for s in symbols]), dtype=float)
    return pd.DataFrame(columns)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One problem and seed with the default ``discover``, in a worker process."""
    import warnings

    import torch

    from discovery import check, discover

    warnings.simplefilter("ignore")
    # One thread a worker: the workers already share the cores, and OpenMP
    # threads spinning against each other slow small problems many times over.
    torch.set_num_threads(1)
    problem = next(p for p in PROBLEMS if p.name == job["problem"])
    data = generate(problem, job["seed"])
    started = time.perf_counter()
    model = discover(data, target="f", random_state=job["seed"])
    seconds = time.perf_counter() - started
    result = check(model, problem.formula, positive=problem.positive)
    return {"status": "ok", "recovered": bool(result.symbolic), "wall_s": seconds,
            "n_terms": len(model.terms), "r2": float(model.metrics["r2"]),  # type: ignore[arg-type]
            "expression": str(model.expression), "truth": problem.formula}


def run_nguyen(problems: Sequence[NguyenProblem], *, seeds: int, workers: int, out: Path,
               progress: bool = True) -> list[dict[str, Any]]:
    """Run every problem × seed not yet in ``out/results.jsonl``; return all records."""
    jobs = [{"problem": p.name, "seed": s, "key": f"{p.name}|seed={s}"}
            for p in problems for s in range(seeds)]
    return run_resumable(jobs, run_job, results=ResultsFile(out / "results.jsonl"),
                         workers=workers, limit_s=lambda job: _LIMIT_S, desc="nguyen",
                         progress=progress, solved=lambda r: bool(r.get("recovered")))


def summarise(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Per problem: runs, recovery rate (%), median seconds and terms, timeouts/errors."""
    frame = pd.DataFrame(list(records))
    frame["recovered"] = frame.get("recovered", pd.Series(False, index=frame.index)
                                   ).fillna(False).astype(bool)
    order = {p.name: i for i, p in enumerate(PROBLEMS)}
    grouped = frame.groupby("problem")
    table = pd.DataFrame({
        "runs": grouped.size(),
        "recovered %": 100 * grouped["recovered"].mean(),
        "median s": grouped["wall_s"].median(),
        "median terms": grouped["n_terms"].median() if "n_terms" in frame else math.nan,
        "failed": grouped["status"].apply(lambda s: int((s != "ok").sum())),
    }).reset_index()
    table = table.sort_values("problem", key=lambda s: s.map(order)).reset_index(drop=True)
    truth = {p.name: p.formula for p in PROBLEMS}
    table.insert(1, "law", table["problem"].map(truth))
    return table


def write_summary(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """summary.md, summary.json and per_run.csv under ``out``."""
    table = summarise(records)
    mean = float(table["recovered %"].mean())
    median_s = float(pd.DataFrame(list(records))["wall_s"].median())
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.md", out / "summary.json", out / "per_run.csv"]
    lines = ["| problem | law | runs | recovered % | median s | median terms | failed |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.problem} | `{r.law}` | {r.runs} | {r._4:.0f} | {r._5:.2f} | {r._6:g} | "
              f"{r.failed} |" for r in table.itertuples()]
    published = ", ".join(f"{k} {v}" for k, v in PUBLISHED.items())
    paths[0].write_text("# Nguyen benchmark: exact recovery\n\n" + "\n".join(lines) +
                        f"\n\nMean exact recovery {mean:.1f}% over {len(table)} problems; "
                        f"median {median_s:.2f} s a run.\nPublished means: {published}.\n")
    paths[1].write_text(json.dumps({"mean_recovery": mean, "median_s": median_s,
                                    "published": PUBLISHED,
                                    "problems": table.to_dict(orient="records")}, indent=2))
    pd.DataFrame(list(records)).to_csv(paths[2], index=False)
    return paths
