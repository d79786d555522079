"""Honesty benchmarks: invented constants, and verdicts where there is no law.

Two suites, each with the **default** ``discover`` (no per-problem option):

- ``constants``: 20 laws whose constants have four random significant digits
  (``-97.56 x y``, ``1.717 x**2 + 5.203 z``), 1,000 rows, inputs uniform on
  [1, 5], at noise 0 and 0.01 (Gaussian, sd = level × RMS(y), as SRBench). A
  claimed closed form is *false* when its value is not the true coefficient
  of its term within 1e-6 (a term that is not in the law has coefficient 0).
  Four random digits are almost never a simple closed form, so nearly every
  claim would be an invention; the ones that are (2.500 = 5/2) count as true.
- ``noise``: 20 targets independent of the inputs (normal, uniform,
  exponential, with offsets; 1 to 3 inputs): the verdict should be ``none``.

- ``shared``: 20 laws of two terms whose constants are in a simple ratio (1, −1,
  2, 1/3, ...) or, in the ``distinct`` variant, 5 to 30% off it, at noise 0 and
  0.01: the ``equal`` laws should be stated with one shared constant (the two
  coefficients in the ratio to 1e-9), the ``distinct`` ones never (a false
  merge: constants that differ by ≥ 5% printed as one).

Run: ``discover benchmark honesty [--workers 2] [--problems 'noise|*'] [--out DIR]``.
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import parse_expression

from .feynman.runner import ResultsFile, run_resumable

__all__ = ["LAWS", "NOISES", "SHARED_LAWS", "constants_for", "generate_law", "generate_noise",
           "run_honesty", "run_job", "shared_constants_for", "summarise", "write_summary"]

#: Law templates; c1, c2 are replaced by random four-digit constants.
LAWS = (
    "c1*x", "c1*x*y", "c1*x**2", "c1*x/y", "c1*sin(x)", "c1*exp(-x)", "c1*x*y*z",
    "c1*x**2*y", "c1*x + c2*y", "c1*x**2 + c2*z", "c1*sqrt(x)", "c1*x*y/z", "c1*x*y + c2",
    "c1*x*cos(y)", "c1*log(x)", "c1*x + c2*x**3", "c1/x", "c1*y**2/x",
    "c1*sin(x) + c2*cos(y)", "c1*x**3",
)
NOISES = (0.0, 0.01)
#: Two-term templates for the shared-constant suite: c2 is c1 times a simple
#: ratio (``equal``) or 5 to 30% off it (``distinct``).
SHARED_LAWS = (
    "c1*x + c2*y", "c1*x**2 + c2*z", "c1*sin(x) + c2*cos(y)", "c1*x*y + c2*z",
    "c1*x + c2*x**3", "c1*log(x) + c2*log(y)", "c1*x/y + c2*y/x", "c1*exp(-x) + c2*exp(-y)",
    "c1*x**2 + c2*y**2", "c1*x*z + c2*y*z", "c1/x + c2/y", "c1*sqrt(x) + c2*sqrt(y)",
    "c1*x*cos(y) + c2*z", "c1*x**2*y + c2*y", "c1*x + c2", "c1*x*y + c2*x*z",
    "c1*sin(y) + c2*z", "c1*x**3 + c2*y**3", "c1*x*y*z + c2*x", "c1*cos(x) + c2*cos(y)",
)
_SHARED_RATIOS = (1, -1, 2, -2, 0.5, -0.5, 3, 1 / 3, -1 / 3, 1.5)
N_NOISE_TARGETS = 20
N_ROWS = 1000
_LIMIT_S = 180.0


def constants_for(index: int) -> dict[str, float]:
    """Law ``index``'s constants: sign, four random digits, magnitude 0.01 to 99.99."""
    rng = np.random.default_rng(1000 + index)
    return {name: float(rng.choice([-1, 1]) * rng.integers(1000, 10_000)
                        * 10.0 ** (int(rng.integers(-2, 2)) - 3))
            for name in ("c1", "c2")}


def shared_constants_for(index: int, distinct: bool) -> tuple[dict[str, float], float]:
    """Shared-suite law ``index``'s constants and the simple ratio c2/c1 is at (or off)."""
    rng = np.random.default_rng(2000 + index)
    c1 = float(rng.choice([-1, 1]) * rng.integers(1000, 10_000)
               * 10.0 ** (int(rng.integers(-1, 2)) - 3))
    ratio = float(_SHARED_RATIOS[index % len(_SHARED_RATIOS)])
    off = float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.30)) if distinct else 0.0
    return {"c1": c1, "c2": c1 * ratio * (1 + off)}, ratio


def _truth(index: int, suite: str = "constants") -> sympy.Expr:
    if suite == "constants":
        values, template = constants_for(index), LAWS[index]
    else:
        values, template = shared_constants_for(index, suite == "distinct")[0], \
            SHARED_LAWS[index]
    expr = parse_expression(template, {})
    return expr.xreplace({s: sympy.Float(values[s.name], 15) for s in expr.free_symbols
                          if s.name in values})


def generate_law(index: int, noise: float, n: int = N_ROWS, suite: str = "constants"
                 ) -> pd.DataFrame:
    """Law ``index`` of ``suite`` (constants, equal, distinct) on ``n`` rows, inputs x, y,
    z uniform on [1, 5], target ``f``."""
    rng = np.random.default_rng(index)
    columns = {name: rng.uniform(1, 5, n) for name in ("x", "y", "z")}
    expr = _truth(index, suite)
    used = sorted(expr.free_symbols, key=lambda s: s.name)
    f = np.asarray(sympy.lambdify(used, expr, "numpy")(*[columns[s.name] for s in used]),
                   dtype=float) * np.ones(n)
    if noise:
        f = f + np.random.default_rng(10_000 + index).normal(
            0, noise * math.sqrt(float(np.mean(f**2))), n)
    columns = {k: v for k, v in columns.items() if k in {s.name for s in used}}
    return pd.DataFrame({**columns, "f": f})


def generate_noise(index: int, n: int = N_ROWS) -> pd.DataFrame:
    """A target independent of 1 to 3 uniform inputs: normal, uniform or exponential, offset."""
    rng = np.random.default_rng(500 + index)
    d = 1 + index % 3
    columns = {name: rng.uniform(1, 5, n) for name in ("x", "y", "z")[:d]}
    kind = index % 4
    offset = float(rng.choice([0.0, 1.0, -3.7, 25.0]))
    if kind == 0:
        f = rng.normal(size=n)
    elif kind == 1:
        f = rng.uniform(-1, 1, n)
    elif kind == 2:
        f = rng.exponential(size=n)
    else:
        f = rng.normal(size=n) * rng.uniform(0.1, 10)
    return pd.DataFrame({**columns, "f": f + offset})


def _false_claims(model: Any, truth: sympy.Expr) -> list[str]:
    """Claimed closed forms whose value is not the true coefficient of their term."""
    from basis_library import normalise_term

    true = {}
    for part in sympy.Add.make_args(sympy.expand(truth)):
        coefficient, term = part.as_coeff_Mul()
        true[normalise_term(term)] = float(coefficient)
    out = []
    for t in model.terms:
        if t.closed_form is None:
            continue
        value = float(t.closed_form.xreplace(
            {s: model.constants.get(s.name, s) for s in t.closed_form.free_symbols}))
        expected = true.get(normalise_term(t.term), 0.0)
        if not math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-12):
            out.append(f"{t.coefficient:.6g}*{t.term} -> {t.closed_form}")
    return out


def _merged(model: Any, truth: sympy.Expr, c1: float, ratio: float) -> bool:
    """Whether the model states the law's two coefficients as one constant: both terms
    found, the second's coefficient ``ratio`` times the first's (``c1``'s) to 1e-9."""
    from basis_library import normalise_term

    true = {normalise_term(part.as_coeff_Mul()[1]): float(part.as_coeff_Mul()[0])
            for part in sympy.Add.make_args(sympy.expand(truth))}
    found = {normalise_term(t.term): t.coefficient for t in model.terms}
    if len(true) != 2 or not all(term in found for term in true):
        return False
    first, second = sorted(true, key=lambda term: true[term] != c1)
    return found[first] != 0 and math.isclose(found[second] / found[first], ratio,
                                              rel_tol=1e-9)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One law or noise target with the default ``discover``, in a worker process."""
    import warnings

    import torch

    from discovery import check, discover

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    index = job["index"]
    data = generate_noise(index) if job["suite"] == "noise" \
        else generate_law(index, job["noise"], suite=job["suite"])
    started = time.perf_counter()
    model = discover(data, target="f", random_state=index)
    seconds = time.perf_counter() - started
    record: dict[str, Any] = {
        "status": "ok", "wall_s": seconds, "expression": str(model.expression),
        "raw_expression": str(model.raw_expression), "n_terms": len(model.terms),
        "r2": float(model.metrics["r2"]),  # type: ignore[arg-type]
        "strategy": model.metrics.get("strategy", "library"),
        "verdict": model.verdict.get("status"), "reasons": model.verdict.get("reasons"),
        "claims": sum(t.closed_form is not None for t in model.terms)}
    if job["suite"] in ("equal", "distinct"):
        truth = _truth(index, job["suite"])
        values, ratio = shared_constants_for(index, job["suite"] == "distinct")
        false = _false_claims(model, truth)
        record.update(truth=str(truth), merged=_merged(model, truth, values["c1"], ratio),
                      false_claims=false, n_false=len(false),
                      symbolic=bool(check(model, truth).symbolic))
    if job["suite"] == "constants":
        truth = _truth(index)
        false = _false_claims(model, truth)
        record.update(truth=str(truth), false_claims=false, n_false=len(false),
                      symbolic=bool(check(model, truth).symbolic))
    return record


def run_honesty(*, workers: int, out: Path, progress: bool = True,
                pattern: str | None = None) -> list[dict[str, Any]]:
    """Both suites, resumable from ``out/results.jsonl``; returns every record.

    ``pattern``: comma-separated globs on the run keys (``constants|3|*``,
    ``noise|*``) to run only some.
    """
    jobs = [{"suite": "constants", "index": i, "noise": noise,
             "key": f"constants|{i}|noise={noise:g}"}
            for noise in NOISES for i in range(len(LAWS))]
    jobs += [{"suite": "noise", "index": i, "noise": math.nan, "key": f"noise|{i}"}
             for i in range(N_NOISE_TARGETS)]
    jobs += [{"suite": suite, "index": i, "noise": noise, "key": f"{suite}|{i}|noise={noise:g}"}
             for suite in ("equal", "distinct") for noise in NOISES
             for i in range(len(SHARED_LAWS))]
    if pattern:
        globs = [g.strip() for g in pattern.split(",") if g.strip()]
        jobs = [j for j in jobs if any(fnmatch.fnmatch(str(j["key"]), g) for g in globs)]
    return run_resumable(jobs, run_job, results=ResultsFile(out / "results.jsonl"),
                         workers=workers, limit_s=lambda job: _LIMIT_S, desc="honesty",
                         progress=progress)


def summarise(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per suite and noise: runs, false closed forms, verdicts, symbolic rate."""
    frame = pd.DataFrame(list(records))
    rows = []
    for (suite, noise), group in frame.groupby(["suite", frame["noise"].fillna(-1)], sort=False):
        ok = group[group["status"] == "ok"]
        verdicts = ok["verdict"].value_counts()
        rows.append({
            "suite": suite, "noise": "-" if noise < 0 else f"{noise:g}", "runs": len(group),
            "false closed forms": int(ok["n_false"].sum()) if "n_false" in ok else 0,
            "laws with one": int((ok["n_false"] > 0).sum()) if "n_false" in ok else 0,
            "claims": int(ok["claims"].sum()),
            "symbolic": int(ok["symbolic"].fillna(False).astype(bool).sum())
            if suite != "noise" else "-",
            "one constant": int(ok["merged"].fillna(False).astype(bool).sum())
            if suite in ("equal", "distinct") else "-",
            "law": int(verdicts.get("law", 0)),
            "approximation": int(verdicts.get("approximation", 0)),
            "none": int(verdicts.get("none", 0)),
            "failed": int((group["status"] != "ok").sum()),
            "median s": float(ok["wall_s"].median()) if len(ok) else math.nan})
    return pd.DataFrame(rows)


def write_summary(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """summary.md, summary.json and per_run.csv under ``out``."""
    table = summarise(records)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.md", out / "summary.json", out / "per_run.csv"]
    header = list(table.columns)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row)
              + " |" for row in table.itertuples(index=False)]
    paths[0].write_text("# Honesty benchmark\n\n" + "\n".join(lines) + "\n")
    paths[1].write_text(json.dumps(table.to_dict(orient="records"), indent=2))
    pd.DataFrame(list(records)).to_csv(paths[2], index=False)
    return paths
