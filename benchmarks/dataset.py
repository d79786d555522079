"""Any dataset: nearest neighbour, linear, MLP and discovery on a train/test split.

Run: ``discover benchmark DATA.csv --target COL [--inputs A,B] [--extrapolate COL]``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from discovery import DataError, prepare

from . import plots
from .baselines import MLP, Baseline, Discovery, LinearLeastSquares, NearestNeighbour
from .report import write_results

__all__ = ["run_dataset"]


def _models(inputs: list[str], device: str, seed: int, quick: bool) -> list[Baseline]:
    common: dict[str, Any] = {"inputs": inputs, "device": device, "seed": seed}
    return [NearestNeighbour(**common), LinearLeastSquares(name="linear", **common),
            MLP(**common, standardize=True, epochs=300 if quick else 1000),
            Discovery(**common)]


def _mse(model: Baseline, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((model.predict(X) - y) ** 2)) if len(y) else float("nan")


def run_dataset(path: str | Path, target: str, *, inputs: list[str] | None = None,
                extrapolate: str | None = None, test_fraction: float = 0.2, seed: int = 0,
                device: str = "auto", quick: bool = False,
                out: Path | None = None) -> tuple[list[dict[str, object]], list[Path]]:
    """Fit each approach on a random split, and on an extrapolation split if asked.

    The extrapolation split trains on the rows whose ``extrapolate`` column is
    in its lowest ``1 - test_fraction`` and tests on the rest.
    """
    data = prepare(path, target, inputs)
    X, y = data.matrix(), data.y
    if extrapolate is not None and extrapolate not in data.inputs:
        raise DataError(f"--extrapolate {extrapolate!r} is not an input; inputs are: "
                        f"{', '.join(data.inputs)}.")
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(round(len(y) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    extra_train = extra_test = None
    if extrapolate is not None:
        column = data.inputs.index(extrapolate)
        split = float(np.quantile(X[:, column], 1 - test_fraction))
        extra_train = np.flatnonzero(X[:, column] <= split)
        extra_test = np.flatnonzero(X[:, column] > split)
    rows: list[dict[str, object]] = []
    paths: list[Path] = []
    fitted: dict[str, Baseline] = {}
    extrap_models: dict[str, Baseline] = {}
    for model in _models(data.inputs, device, seed, quick):
        model.fit(X[train], y[train])
        fitted[model.name] = model
        row = {"approach": model.name, "n_params": model.n_params,
               "train_mse": _mse(model, X[train], y[train]),
               "test_mse": _mse(model, X[test], y[test]), "fit_s": model.fit_seconds,
               "formula": model.formula}
        if extra_train is not None and extra_test is not None:
            twin = _models(data.inputs, device, seed, quick)[len(rows)]
            twin.fit(X[extra_train], y[extra_train])
            extrap_models[model.name] = twin
            row["extrap_mse"] = _mse(twin, X[extra_test], y[extra_test])
        rows.append(row)
    if out is not None:
        meta = {"data": str(path), "target": data.target, "inputs": ",".join(data.inputs),
                "rows": len(y), "rows_dropped": data.n_dropped, "test_fraction": test_fraction,
                "extrapolate": extrapolate, "seed": seed, "device": device,
                "torch": torch.__version__}
        paths = write_results(out, "benchmark", rows, meta, f"Benchmark on {Path(path).name}")
        predictors = {name: m.predict for name, m in fitted.items()}
        paths.append(plots.plot_parity(predictors, X[test], y[test], out / "parity.png",
                                       "Predicted against actual on the held-out rows"))
        if extrapolate is not None and extra_test is not None:
            column = data.inputs.index(extrapolate)
            split = float(np.quantile(X[:, column], 1 - test_fraction))
            paths.append(plots.plot_along({k: m.predict for k, m in extrap_models.items()},
                                          X, y, column, extrapolate, split,
                                          out / "extrapolation.png"))
    return rows, paths
