"""The Feynman suite: jobs, per-run metrics, the summary beside the published figures.

Run: ``discover benchmark feynman [--set feynman|bonus|srsd-easy|srsd-medium|srsd-hard|all]
[--noise 0,0.001,0.01,0.1] [--methods sparse,operon,gplearn,pysr] [--seeds N] [--n-train 1000]
[--time-limit S] [--workers N | --dask ADDRESS] [--out DIR] [--problems PATTERN]``
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from basis_library import term_complexity

from .problems import Problem, generate, problems_by_key, units_of
from .runner import ResultsFile, run_resumable

__all__ = ["PUBLISHED", "make_jobs", "run_job", "run_suite", "summarise"]

log = logging.getLogger(__name__)

#: SRBench 2021 symbolic solution rates (%) on the Feynman problems, noise 0 / 0.001 /
#: 0.01 / 0.1; PySR from an independent run with 90 s on one core.
PUBLISHED = {
    "AI Feynman": (55.8, 33.1, 13.0, 0.7), "AFP_FE": (27.0, 21.9, 20.8, 13.5),
    "GP-GOMEA": (26.8, 11.0, 5.1, 1.6), "DSR": (19.7, 19.1, 19.0, 16.8),
    "Operon": (16.6, 13.2, 2.1, 0.1), "gplearn": (16.3, 17.0, 16.9, 16.6),
    "PySR (90 s)": (50.6, 51.6, 49.7, 45.7),
}
NOISE_LEVELS = (0.0, 0.001, 0.01, 0.1)
_GRACE_S = 30.0  # start-up and clean-up allowed beyond a job's time limit
_SPARSE_LIMIT_S = 120.0  # the sparse method has no search budget of its own


def job_key(job: dict[str, Any]) -> str:
    return (f"{job['problem']}|noise={job['noise']}|{job['method']}|seed={job['seed']}"
            f"|n={job['n_train']}|t={job['time_limit']}" + ("|units" if job.get("units") else ""))


def make_jobs(problems: Sequence[Problem], noises: Sequence[float], methods: Sequence[str],
              seeds: int, n_train: int, time_limit: float, units: bool = False
              ) -> list[dict[str, Any]]:
    jobs = []
    for problem in problems:
        for noise in noises:
            for method in methods:
                for seed in range(seeds):
                    job = {"problem": problem.key, "set": problem.set, "name": problem.name,
                           "noise": noise, "method": method, "seed": seed, "n_train": n_train,
                           "time_limit": time_limit}
                    if units:
                        job["units"] = True
                    job["key"] = job_key(job)
                    jobs.append(job)
    return jobs


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One problem × noise × method × seed, in a worker process."""
    import warnings

    import torch

    from discovery import check, discover

    warnings.simplefilter("ignore")
    # One thread a worker: the workers already share the cores, and OpenMP
    # threads spinning against each other slow small problems many times over.
    torch.set_num_threads(1)
    problem = problems_by_key(job["set"])[job["problem"]]
    train_x, train_y = generate(problem, job["n_train"], noise=job["noise"],
                                random_state=job["seed"])
    test_x, test_y = generate(problem, 1000, noise=job["noise"],
                              random_state=job["seed"] + 1_000_003)
    started = time.perf_counter()
    data = {**train_x, "__y__": train_y}
    method = job["method"]
    # Operon: one core per job (its threads would compete with the other workers),
    # and its front's model chosen by BIC: the default, minimum description length
    # with pyoperon's default noise level of 1, picks a straight line for I.6.2a.
    options = {"n_threads": 1, "model_selection_criterion": "bayesian_information_criterion"
               } if method == "operon" else None
    # Recovery is measured here, not intervals: no bootstrap, so times compare
    # with the runs before intervals existed.
    # With units, SRSD's physical constants are named (their units carried by them).
    named = dict(problem.constants) if job.get("units") else {}
    model = discover(data, target="__y__", method=method, device="cpu",
                     random_state=job["seed"], time_limit=job["time_limit"],
                     polish=False if method != "sparse" else True, backend_options=options,
                     n_bootstrap=0, constants=named or None,
                     units=units_of(problem, "__y__") if job.get("units") else None)
    seconds = time.perf_counter() - started
    prediction = model.predict(test_x)
    residual = test_y - prediction
    tss = float(np.sum((test_y - test_y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / tss if tss > 0 else float("nan")
    positive = [v.name for v in problem.variables if v.low > 0 and v.sign == "positive"]
    result = check(model.expression, problem.formula, constants=named, significant=3,
                   positive=positive,
                   at={name: values[:8] for name, values in test_x.items()})
    return {"status": "ok", "symbolic": bool(result.symbolic), "exact": bool(result.exact),
            "r2": r2 if math.isfinite(r2) else None, "accurate": bool(r2 > 0.999),
            "complexity": term_complexity(model.expression), "fit_s": seconds,
            "expression": str(model.expression), "truth": str(problem.formula),
            "verdict": model.verdict.get("status"),
            **({"units": True} if job.get("units") else {})}


def run_suite(problems: Sequence[Problem], *, noises: Sequence[float], methods: Sequence[str],
              seeds: int, n_train: int, time_limit: float, workers: int, out: Path,
              progress: bool = True, dask: str | None = None,
              units: bool = False) -> list[dict[str, Any]]:
    """Run every job not yet in ``out/results.jsonl``; return all records.

    Jobs run on ``workers`` local processes, or on the Dask cluster at the
    address ``dask`` when one is given.
    """
    jobs = make_jobs(problems, noises, methods, seeds, n_train, time_limit, units)

    def limit(job: dict[str, Any]) -> float:
        budget = _SPARSE_LIMIT_S if job["method"] == "sparse" else job["time_limit"]
        return budget + _GRACE_S

    return run_resumable(jobs, run_job, results=ResultsFile(out / "results.jsonl"),
                         workers=workers, limit_s=limit, desc="feynman", progress=progress,
                         dask=dask, solved=lambda r: bool(r.get("symbolic")))


def summarise(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rates (%) per set × noise × method, with median time and counts."""
    frame = pd.DataFrame(list(records))
    if "units" in frame:  # with and without units side by side
        frame["method"] = frame["method"].where(frame["units"] != True,  # noqa: E712
                                                frame["method"] + " + units")
    for column in ("symbolic", "exact", "accurate"):
        frame[column] = frame.get(column, pd.Series(False, index=frame.index)).fillna(False)
    grouped = frame.groupby(["set", "noise", "method"])
    table = pd.DataFrame({
        "runs": grouped.size(),
        "symbolic %": 100 * grouped["symbolic"].mean(),
        "exact %": 100 * grouped["exact"].mean(),
        "R²>0.999 %": 100 * grouped["accurate"].mean(),
        "median s": grouped["wall_s"].median(),
        "timeouts": grouped["status"].apply(lambda s: int((s == "timeout").sum())),
        "errors": grouped["status"].apply(lambda s: int(s.str.startswith("error").sum())),
    }).reset_index()
    return table


def published_table() -> str:
    header = "| method | " + " | ".join(f"noise {n:g}" for n in NOISE_LEVELS) + " |"
    lines = [header, "|---|" + "---:|" * len(NOISE_LEVELS)]
    lines += [f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |"
              for name, values in PUBLISHED.items()]
    return "\n".join(lines)


def write_summary(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """summary.csv/.md, per_problem.csv and rate_vs_noise.png under ``out``."""
    table = summarise(records)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.csv", out / "summary.md", out / "per_problem.csv"]
    table.to_csv(paths[0], index=False)
    body = table.to_markdown(index=False, floatfmt=".1f") if _has_tabulate() else \
        table.to_string(index=False)
    paths[1].write_text("# Feynman benchmark: symbolic solution rate\n\n" + body +
                        "\n\nPublished (SRBench 2021, Feynman problems, symbolic solution "
                        "rate %):\n\n" + published_table() + "\n")
    columns = ["set", "name", "noise", "method", "seed", "status", "symbolic", "exact", "r2",
               "complexity", "wall_s", "expression", "truth"]
    frame = pd.DataFrame(list(records))
    frame.reindex(columns=columns).to_csv(paths[2], index=False)
    try:
        paths.append(_plot(table, out / "rate_vs_noise.png"))
    except ImportError as exc:
        log.warning("No plot: %s", exc)
    return paths


def _has_tabulate() -> bool:
    import importlib.util

    return importlib.util.find_spec("tabulate") is not None


def _plot(table: pd.DataFrame, path: Path) -> Path:
    from discovery.plots import figure

    fig = figure(7, 4.5)
    ax = fig.add_subplot()
    positions = {n: i for i, n in enumerate(NOISE_LEVELS)}
    for (set_name, method), group in table.groupby(["set", "method"]):
        xs = [positions.get(n, len(positions)) for n in group["noise"]]
        ax.plot(xs, group["symbolic %"], marker="o", label=f"{method} ({set_name})")
    for name, values in PUBLISHED.items():
        ax.plot(range(len(values)), values, ls=":", lw=1, label=f"{name} (published)")
    ax.set_xticks(range(len(NOISE_LEVELS)), [f"{n:g}" for n in NOISE_LEVELS])
    ax.set(xlabel="noise level", ylabel="symbolic solution rate (%)", ylim=(0, 100),
           title="Feynman benchmark")
    ax.legend(fontsize=7, ncol=2)
    fig.savefig(path)
    return path
