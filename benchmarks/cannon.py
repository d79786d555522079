"""The cannon study's comparison: model-less, linear, black box, hand-picked basis, discovery.

Run: ``discover benchmark cannon [--device auto] [--n 1000] [--seed 0] [--out DIR]
[--sizes 30,100,300,1000 --repeats 3] [--quick]``
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from basis_library import resolve_device
from discovery import BackendUnavailable, cannon_data, check

from . import plots
from .baselines import (
    MLP,
    Baseline,
    BasisAdam,
    BasisLeastSquares,
    Discovery,
    LinearLeastSquares,
    LinearSGD,
    NearestNeighbour,
)
from .report import format_table, write_results

__all__ = ["CannonRun", "run_cannon", "sample_efficiency", "approaches", "TRUTH", "G"]

log = logging.getLogger(__name__)

G = 9.81
TRUTH = "v**2*sin(2*theta)/9.81"
INPUTS = ["v", "theta"]


def truth(X: np.ndarray) -> np.ndarray:
    """The noise-free law."""
    return X[:, 0] ** 2 * np.sin(2 * X[:, 1]) / G


def approaches(device: str, seed: int, *, quick: bool = False, progress: bool = False,
               methods: Sequence[str] = ("sparse",),
               time_limit: float | None = None) -> list[Baseline]:
    """The compared approaches, configured as the study describes them.

    ``quick`` shortens the training loops (MLP 700 epochs, Adam 1000) for tests.
    ``methods`` adds this project's genetic backends (``operon``, ``pysr``) beside
    the sparse method, with the given time limit.
    """
    common: dict[str, Any] = {"device": device, "seed": seed, "progress": progress}
    return [
        NearestNeighbour(**common),
        LinearSGD(**common),
        LinearLeastSquares(**common),
        MLP(**common, epochs=700 if quick else 1000),
        BasisAdam(**common, epochs=1000 if quick else 5000),
        BasisLeastSquares(**common),
        *[Discovery(**common, constants={"g": G}, method=m, time_limit=time_limit,
                    name="discover (this project)" if m == "sparse" else
                    f"discover, {m} + polish") for m in methods],
    ]


def _split(n: int, seed: int, n_test: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Training shots, fresh shots from the same ranges, and shots with v in [10, 20]."""
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31, size=3)
    train = cannon_data(n, random_state=int(seeds[0]))
    test = cannon_data(n_test, random_state=int(seeds[1]))
    extrap = cannon_data(n_test, v_range=(10.0, 20.0), random_state=int(seeds[2]))
    return train, test, extrap


def _mse(model: Baseline, frame: pd.DataFrame) -> float:
    return float(np.mean((model.predict(frame[INPUTS].to_numpy()) - frame["s"].to_numpy()) ** 2))


def _law(model: Baseline) -> str:
    if model.formula is None:
        return "n/a"
    return "yes" if check(model.formula, TRUTH, constants={"g": G}).symbolic else "no"


def _note(model: Baseline) -> str | None:
    if isinstance(model, Discovery) and model.method != "sparse":
        return f"found: {model.model.raw_expression}"
    return None


@dataclass
class CannonRun:
    """The fitted approaches and their metrics."""

    rows: list[dict[str, object]]
    models: list[Baseline]
    train: pd.DataFrame
    meta: dict[str, object]


def run_cannon(n: int = 1000, *, seed: int = 0, device: str = "auto", n_test: int = 1000,
               n_predict: int = 1_000_000, quick: bool = False, progress: bool = False,
               methods: Sequence[str] = ("sparse",),
               time_limit: float | None = None) -> CannonRun:
    """Fit every approach on ``n`` shots and measure it in and out of range."""
    train, test, extrap = _split(n, seed, n_test)
    X, y = train[INPUTS].to_numpy(), train["s"].to_numpy()
    probe = np.column_stack([np.random.default_rng(seed + 1).uniform(0, 10, n_predict),
                             np.random.default_rng(seed + 2).uniform(0, np.pi / 2, n_predict)])
    rows: list[dict[str, object]] = []
    fitted: list[Baseline] = []
    models = approaches(device, seed, quick=quick, progress=progress, methods=methods,
                        time_limit=time_limit)
    for model in tqdm(models, desc="approaches", leave=False, disable=not progress):
        try:
            model.fit(X, y)
        except BackendUnavailable as exc:
            rows.append({"approach": model.name, "note": f"unavailable: {exc}"})
            continue
        fitted.append(model)
        started = time.perf_counter()
        model.predict(probe)
        predict_s = time.perf_counter() - started
        rows.append({"approach": model.name, "n_params": model.n_params,
                     "train_mse": _mse(model, train), "test_mse": _mse(model, test),
                     "extrap_mse": _mse(model, extrap), "fit_s": model.fit_seconds,
                     "predict_s": predict_s, "law": _law(model), "formula": model.formula,
                     "note": _note(model)})
    meta = {"n": n, "seed": seed, "n_test": n_test, "n_predict": n_predict, "quick": quick,
            "device": str(resolve_device(device)), "torch": torch.__version__,
            "noise_sd": 0.01, "extrapolation": "v in [10, 20]"}
    return CannonRun(rows, fitted, train, meta)


def sample_efficiency(sizes: Sequence[int], repeats: int = 3, *, device: str = "auto",
                      quick: bool = False, progress: bool = False) -> list[dict[str, object]]:
    """Test and extrapolation MSE of each approach against the number of shots."""
    rows = []
    jobs = [(n, r) for n in sizes for r in range(repeats)]
    for n, r in tqdm(jobs, desc="sample efficiency", disable=not progress):
        train, test, extrap = _split(n, 1000 + r, 1000)
        X, y = train[INPUTS].to_numpy(), train["s"].to_numpy()
        for model in approaches(device, r, quick=quick):
            model.fit(X, y)
            rows.append({"approach": model.name, "n": n, "seed": r,
                         "test_mse": _mse(model, test), "extrap_mse": _mse(model, extrap),
                         "law": _law(model)})
    return rows


def write_cannon(run: CannonRun, out: Path,
                 efficiency: list[dict[str, object]] | None = None) -> list[Path]:
    """Results (JSON, CSV, markdown) and the pictures."""
    paths = write_results(out, "cannon", run.rows, run.meta,
                          "Cannon study: approaches compared in and out of range")
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        m.name: m.predict for m in run.models}
    paths.append(plots.plot_data(run.train.v.to_numpy(), run.train.theta.to_numpy(),
                                 run.train.s.to_numpy(), out / "data.png"))
    paths.append(plots.plot_maps(predictors, truth, out / "predictions.png"))
    paths.append(plots.plot_maps(predictors, truth, out / "residuals.png", residual=True))
    paths.append(plots.plot_slice(predictors, truth, out / "extrapolation.png"))
    if efficiency:
        meta = {k: run.meta[k] for k in ("device", "quick", "noise_sd")}
        paths += write_results(out, "sample_efficiency", efficiency, meta,
                               "Sample efficiency on the cannon data")
        paths.append(plots.plot_sample_efficiency(efficiency, out / "sample_efficiency.png"))
    return paths


def summary(run: CannonRun) -> str:
    return format_table(run.rows)
