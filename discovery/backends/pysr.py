"""PySR as a genetic backend: run in its own process, or import a finished run.

PySR's ``import pysr`` starts Julia (and downloads it on first use), and
juliacall and torch in one process is a known crash, so the search runs in a
child process (``discovery.backends.pysr_worker``) that writes a hall-of-fame CSV,
which this process parses with the safe parser. Without Julia, the call fails
at once with what to install.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import ParseError, parse_expression

from ..errors import BackendUnavailable, DataError, FitError
from .registry import GeneticResult

__all__ = ["run_pysr", "read_hall_of_fame", "find_julia", "PYSR_DEFAULTS", "pysr_best"]

#: Defaults that can find the cannon law; override through ``backend_options``.
PYSR_DEFAULTS: dict[str, Any] = {
    "binary_operators": ["+", "-", "*", "/"],
    "unary_operators": ["sin", "cos", "exp", "log", "sqrt"],
    "niterations": 100,
    "maxsize": 20,
    "populations": 15,
    "progress": False,
    "verbosity": 0,
}

#: Environment variable naming the worker module (tests point it at a stand-in).
WORKER_ENV = "DISCOVERY_PYSR_WORKER"
_STARTUP_ALLOWANCE_S = 300.0  # Julia's start and precompilation


def find_julia() -> str | None:
    """A Julia executable PySR can use without downloading one, or None."""
    for variable in ("PYTHON_JULIACALL_EXE", "PYTHON_JULIAPKG_EXE", "JULIA_EXE"):
        path = os.environ.get(variable)
        if path and Path(path).exists():
            return path
    found = shutil.which("julia")
    if found:
        return found
    patterns = [os.path.join(sys.prefix, "julia_env", "pyjuliapkg", "install", "bin", "julia"),
                os.path.expanduser("~/.julia/juliaup/*/bin/julia")]
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    return None


def _check_available() -> str:
    if os.environ.get(WORKER_ENV) is None and importlib.util.find_spec("pysr") is None:
        raise BackendUnavailable("method='pysr' needs PySR; install with: "
                                 "pip install 'discovery-sr[pysr]' (and Julia, which PySR "
                                 "downloads on first use where the network allows).")
    julia = find_julia()
    if julia is None:
        raise BackendUnavailable(
            "method='pysr' needs Julia, which was not found (no 'julia' on PATH, no "
            "PYTHON_JULIACALL_EXE, no Julia installed by juliapkg). Install Julia from "
            "https://julialang.org/downloads, or run python -c 'import pysr' once where the "
            "network allows so PySR installs it. method='operon' runs offline.")
    return julia


def run_pysr(X: np.ndarray, y: np.ndarray, names: list[str], *, time_limit: float = 60.0,
             random_state: int | None = 0, deterministic: bool = False,
             options: dict[str, Any] | None = None) -> GeneticResult:
    """Run PySRRegressor in a child process and read back its hall of fame."""
    julia = _check_available()
    options = dict(options or {})
    deterministic = bool(options.pop("deterministic", deterministic))
    params = {**PYSR_DEFAULTS, "timeout_in_seconds": float(time_limit),
              "random_state": 0 if random_state is None else int(random_state), **options}
    if deterministic:
        params.update(deterministic=True, parallelism="serial")
    worker = os.environ.get(WORKER_ENV, "discovery.backends.pysr_worker")
    with tempfile.TemporaryDirectory(prefix="discovery-pysr-") as folder:
        work = Path(folder)
        np.savez(work / "data.npz", X=np.asarray(X, dtype=float), y=np.asarray(y, dtype=float))
        (work / "params.json").write_text(json.dumps({"params": params, "names": names}))
        env = {**os.environ, "PYTHON_JULIACALL_EXE": julia}
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", worker, str(work)], env=env,
                                  capture_output=True, text=True,
                                  timeout=time_limit + _STARTUP_ALLOWANCE_S)
        except subprocess.TimeoutExpired as exc:
            raise FitError(f"PySR did not finish within {time_limit + _STARTUP_ALLOWANCE_S:.0f} "
                           "s (its time limit plus Julia's start-up); it was stopped.") from exc
        seconds = time.perf_counter() - started
        hall = work / "hall_of_fame.csv"
        if done.returncode != 0 or not hall.exists():
            last = (done.stderr or done.stdout or "").strip().splitlines()
            reason = last[-1] if last else f"exit code {done.returncode}"
            raise FitError(f"PySR failed in its worker process: {reason}")
        front = read_hall_of_fame(hall, names)
    best = next(r for r in front if r["chosen"])
    return GeneticResult(expression=best["expression"], front=front, backend="pysr",
                         seconds=seconds, info={"pysr_params": params})


def read_hall_of_fame(path: str | Path, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Parse PySR's ``hall_of_fame.csv`` (Complexity, Loss, Equation) safely.

    Equations in Julia syntax (``^`` for powers, ``square``, ``cube``, ``neg``)
    are read by the whitelist parser, never evaluated. The chosen row follows
    PySR's default ``model_selection="best"``.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DataError(f"Cannot read the PySR hall of fame {str(path)!r}: "
                        f"{exc.strerror}.") from exc
    if not text.strip():
        raise DataError(f"The PySR hall of fame {str(path)!r} is empty.")
    separator = "|" if text.splitlines()[0].count("|") >= 2 else ","
    frame = pd.read_csv(path, sep=separator)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    loss_column = "loss" if "loss" in frame.columns else "mse" if "mse" in frame.columns else None
    if "complexity" not in frame.columns or "equation" not in frame.columns or not loss_column:
        raise DataError(f"{path.name} is not a PySR hall of fame: it needs the columns "
                        f"Complexity, Loss and Equation; got {', '.join(frame.columns)}.")
    table = {n: sympy.Symbol(n, real=True) for n in (names or [])}
    rows = []
    for i, row in frame.iterrows():
        try:
            expr = parse_expression(str(row["equation"]), table,
                                    allow_new_symbols=names is None,
                                    where=f"hall-of-fame equation {i + 1}")
        except ParseError as exc:
            raise ParseError(f"{path.name}, row {i + 1}: {exc}") from exc
        rows.append({"complexity": int(row["complexity"]), "loss": float(row[loss_column]),
                     "expression": expr, "chosen": False})
    if not rows:
        raise DataError(f"The PySR hall of fame {str(path)!r} has no equations.")
    rows.sort(key=lambda r: r["complexity"])
    rows[pysr_best([r["complexity"] for r in rows], [r["loss"] for r in rows])]["chosen"] = True
    return rows


def pysr_best(complexity: list[int], loss: list[float]) -> int:
    """PySR's ``"best"`` choice: the highest score among losses within 1.5× the best.

    The score of an equation is ``-Δ log(loss) / Δ complexity`` against the
    previous (simpler) one on the front.

    Examples
    --------
    >>> pysr_best([1, 3, 5, 9], [10.0, 1e-3, 9e-4, 8.9e-4])
    1
    """
    scores = [0.0]
    for i in range(1, len(loss)):
        d_complexity = max(complexity[i] - complexity[i - 1], 1)
        ratio = max(loss[i], 1e-300) / max(loss[i - 1], 1e-300)
        scores.append(-math.log(ratio) / d_complexity)
    limit = 1.5 * min(loss)
    eligible = [i for i in range(len(loss)) if loss[i] <= limit]
    return max(eligible, key=lambda i: scores[i])


def from_pysr(path: str | Path, data: object = None, target: object = None,
              inputs: list[str] | None = None, *, polish: bool = True,
              constants: dict[str, float] | None = None,
              random_state: int | None = 0) -> Any:
    """A Model from a finished PySR run's ``hall_of_fame.csv``, without Julia.

    Parameters
    ----------
    path
        The hall-of-fame CSV (``Complexity,Loss,Equation``; older ``|``-separated
        files with ``MSE`` work too).
    data, target, inputs
        Optional data to compute metrics on and to polish with; as in
        :func:`discovery.discover`.
    polish
        With data: refit the chosen equation's terms with the sparse engine.
    constants
        Named constants to recognise when polishing.
    random_state
        Seed of the polishing fit, as in :func:`discovery.discover`.

    Returns
    -------
    Model
        With PySR's front as :attr:`Model.pareto`; the raw expression is the
        front's least-BIC equation where data are given (as
        :func:`discovery.discover` chooses), else PySR's ``"best"`` choice
        (``info["backend_pick"]`` is PySR's choice either way).
    """
    from .._data import prepare
    from ..model import Model
    from ..routes.library import Settings, model_from_expression
    from .genetic import polish_model

    names = list(inputs) if inputs is not None else None
    dataset = None
    if data is not None:
        dataset = prepare(data, target, names)
        names = dataset.inputs
    front = read_hall_of_fame(path, names)
    best = next(r for r in front if r["chosen"])
    info = {"backend": "pysr", "imported_from": str(path),
            "backend_expression": str(best["expression"]),
            "backend_pick": str(best["expression"])}
    if dataset is not None:
        # With data, the equation is chosen as the sparse engine chooses (BIC).
        from .genetic import pick_from_front

        picked = pick_from_front(front, dataset)
        if picked is not None:
            for r in front:
                r["chosen"] = r["expression"] == picked
            best = next(r for r in front if r["chosen"])
            info.update(backend_expression=str(picked), chosen_by="bic")
    if dataset is None:
        free = sorted({s.name for r in front for s in r["expression"].free_symbols})
        from ..routes.library import front_frame

        expr = best["expression"]
        return Model(expression=expr, raw_expression=expr, inputs=free, target="y",
                     terms=[], pareto=front_frame(front), method="pysr", info=info)
    started = time.perf_counter()
    if not polish:
        return model_from_expression(best["expression"], dataset, method="pysr", front=front,
                                     info=info)
    from basis_library import resolve_device

    settings = Settings(solver="auto", selection="bic", max_terms=12, cv_folds=5,
                        constants=dict(constants or {}), simplify=True,
                        device=resolve_device("auto"), random_state=random_state)
    return polish_model(best["expression"], dataset, settings, method="pysr", front=front,
                        info=info, started=started)
