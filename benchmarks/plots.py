"""Pictures for the benchmarks, drawn with matplotlib's object API (no global state)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from discovery.plots import figure

__all__ = ["figure", "plot_data", "plot_maps", "plot_slice", "plot_sample_efficiency",
           "plot_parity", "plot_along"]

Predictor = Callable[[np.ndarray], np.ndarray]


def _save(fig, path: Path) -> Path:  # noqa: ANN001
    fig.savefig(path)
    return path


def plot_data(v: np.ndarray, theta: np.ndarray, s: np.ndarray, path: Path) -> Path:
    """The training shots: speed against angle, coloured by range."""
    fig = figure(6, 4.5)
    ax = fig.add_subplot()
    points = ax.scatter(v, theta, c=s, s=8, cmap="viridis")
    fig.colorbar(points, ax=ax, label="range s")
    ax.set(xlabel="speed v", ylabel="angle θ (rad)", title=f"Training data: {len(s)} shots")
    return _save(fig, path)


def _grid(v_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v, theta = np.meshgrid(np.linspace(0, v_max, 160), np.linspace(0, np.pi / 2, 90))
    return v, theta, np.column_stack([v.ravel(), theta.ravel()])


def plot_maps(models: Mapping[str, Predictor], truth: Predictor, path: Path, *,
              v_max: float = 20.0, v_train: float = 10.0, residual: bool = False) -> Path:
    """Each model over (v, θ), or its absolute error (log scale), beside the truth."""
    from matplotlib.colors import LogNorm

    v, theta, X = _grid(v_max)
    exact = truth(X).reshape(v.shape)
    panels = ({} if residual else {"truth": exact}) | {
        name: (np.abs(f(X).reshape(v.shape) - exact) if residual else f(X).reshape(v.shape))
        for name, f in models.items()}
    cols = 3
    rows = -(-len(panels) // cols)
    fig = figure(4.2 * cols, 3.3 * rows)
    for i, (name, values) in enumerate(panels.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        if residual:
            norm = LogNorm(vmin=1e-4, vmax=1e2)
            image = ax.pcolormesh(v, theta, np.clip(values, 1e-4, 1e2), norm=norm, cmap="magma",
                                  shading="auto")
        else:
            image = ax.pcolormesh(v, theta, values, vmin=exact.min(), vmax=exact.max(),
                                  cmap="viridis", shading="auto")
        ax.axvline(v_train, color="white", ls="--", lw=1)
        ax.set(title=name, xlabel="v", ylabel="θ")
        fig.colorbar(image, ax=ax, label="|error|" if residual else "s")
    kind = "absolute error (log)" if residual else "prediction"
    fig.suptitle(f"Each model's {kind} over (v, θ); dashed: edge of the training range")
    return _save(fig, path)


def plot_slice(models: Mapping[str, Predictor], truth: Predictor, path: Path, *,
               v_max: float = 20.0, v_train: float = 10.0, theta: float = np.pi / 4) -> Path:
    """Predictions along v at a fixed angle: where each model leaves the truth."""
    v = np.linspace(0, v_max, 400)
    X = np.column_stack([v, np.full_like(v, theta)])
    fig = figure(7.5, 4.8)
    ax = fig.add_subplot()
    ax.axvspan(0, v_train, color="0.92", label="training range")
    ax.plot(v, truth(X), color="black", lw=3, label="truth v² sin 2θ / g")
    for i, (name, f) in enumerate(models.items()):
        ax.plot(v, f(X), lw=1.6, ls=("-", "--", "-.", ":")[i % 4], label=name)
    top = truth(X).max()
    ax.set(xlabel="speed v", ylabel="range s", ylim=(-0.2 * top, 1.4 * top),
           title=f"Extrapolation along v at θ = {theta:.3g} rad")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_sample_efficiency(rows: Sequence[dict[str, object]], path: Path) -> Path:
    """Test and extrapolation MSE against the number of shots (median, min–max band)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    fig = figure(11, 4.5)
    for k, metric in enumerate(("test_mse", "extrap_mse")):
        ax = fig.add_subplot(1, 2, k + 1)
        for name, group in frame.groupby("approach", sort=False):
            stats = group.groupby("n")[metric].agg(["median", "min", "max"])
            ax.plot(stats.index, stats["median"], marker="o", label=name)
            ax.fill_between(stats.index, stats["min"], stats["max"], alpha=0.15)
        ax.set(xscale="log", yscale="log", xlabel="number of shots",
               ylabel=metric.replace("_", " "),
               title="in range" if metric == "test_mse" else "extrapolation")
        ax.axhline(1e-4, color="0.5", ls=":", lw=1)
    ax.legend(fontsize=8)
    fig.suptitle("Sample efficiency: data is easy, mathematics is hard (dotted: noise variance)")
    return _save(fig, path)


def plot_parity(models: Mapping[str, Predictor], X: np.ndarray, y: np.ndarray,
                path: Path, title: str) -> Path:
    """Predicted against actual for each model."""
    cols = min(len(models), 3)
    rows = -(-len(models) // cols)
    fig = figure(4 * cols, 3.6 * rows)
    low, high = float(np.min(y)), float(np.max(y))
    for i, (name, f) in enumerate(models.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.scatter(y, f(X), s=6, alpha=0.6)
        ax.plot([low, high], [low, high], color="black", lw=1)
        ax.set(title=name, xlabel="actual", ylabel="predicted")
    fig.suptitle(title)
    return _save(fig, path)


def plot_along(models: Mapping[str, Predictor], X: np.ndarray, y: np.ndarray, column: int,
               name: str, split: float, path: Path) -> Path:
    """Predictions against one input, with the extrapolation split marked."""
    order = np.argsort(X[:, column])
    fig = figure(7.5, 4.8)
    ax = fig.add_subplot()
    ax.scatter(X[order, column], y[order], s=5, color="black", label="data")
    for label, f in models.items():
        ax.scatter(X[order, column], f(X[order]), s=3, label=label)
    ax.axvline(split, color="0.4", ls="--", label="train | extrapolate")
    ax.set(xlabel=name, ylabel="target", title=f"Predictions along {name}")
    ax.legend(fontsize=8, markerscale=3)
    return _save(fig, path)
