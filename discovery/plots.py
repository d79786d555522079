"""Pictures of a model, drawn with matplotlib's object API (no global state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._optional import optional_import
from .errors import FitError

__all__ = ["figure", "plot_complexity", "plot_inclusion", "plot_parity", "plot_pareto", "plot_path",
           "plot_residuals"]


def figure(width: float, height: float) -> Any:
    """A matplotlib Figure with an Agg canvas, or a clear error naming the extra."""
    optional_import("matplotlib", "plots", purpose="plots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _short(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with an ellipsis: labels stay on the picture."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _caption(fig: Any, text: str, width: int = 110, lines: int = 3) -> None:
    """A long formula as a wrapped caption under the axes (at most ``lines`` lines)."""
    import textwrap

    wrapped = textwrap.wrap(text, width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines - 1] + [_short(" ".join(wrapped[lines - 1:]), width)]
    fig.supxlabel("\n".join(wrapped), fontsize=7, ha="center")


def plot_pareto(model: Any, path: str | Path) -> Path:
    """Complexity against error along the model's Pareto front, the chosen model marked."""
    front = model.pareto
    fig = figure(7, 4.5)
    ax = fig.add_subplot()
    ax.plot(front["complexity"], front["error"], marker="o", color="tab:blue",
            label="Pareto front")
    chosen = front[front["chosen"].astype(bool)]
    ax.scatter(chosen["complexity"], chosen["error"], s=160, facecolors="none",
               edgecolors="tab:red", linewidths=2, zorder=3,
               label=f"chosen: {len(model.terms)} term(s), formula below")
    positive = (front["error"] > 0).all()
    ax.set(xlabel="complexity (nodes)", ylabel="training MSE", yscale="log" if positive else
           "linear", title=f"Pareto front ({model.method})")
    ax.legend(fontsize=8)
    _caption(fig, f"{model.target} = {model.expression}")
    path = Path(path)
    fig.savefig(path)
    return path


def _diagnostic(model: Any, key: str) -> Any:
    found = model.diagnostics.get(key)
    if not found:
        reason = model.uncertainty.get("reason", "it was not fitted by the sparse engine")
        raise FitError(f"This model has no {key} diagnostics ({reason}).")
    return found


def plot_complexity(model: Any, path: str | Path) -> Path:
    """Training and validation error of the best model of each size: the bias–variance picture.

    Too few terms and both errors are high (under-fitting); too many and the
    training error keeps falling while the validation error stops or rises
    (over-fitting). The chosen model is circled.
    """
    curve = _diagnostic(model, "complexity")
    selection = model.diagnostics.get("selection", {})
    x = [row["complexity"] for row in curve]
    train = [row["train_mse"] for row in curve]
    held = [row["validation_mse"] if row["validation_mse"] is not None else float("nan")
            for row in curve]
    fig = figure(7, 4.5)
    ax = fig.add_subplot()
    ax.plot(x, train, marker="o", color="tab:blue", label="training MSE")
    ax.plot(x, held, marker="s", color="tab:orange",
            label=f"validation MSE ({selection.get('validation', 'validation')})")
    for row in curve:
        if row["chosen"]:
            ax.scatter([row["complexity"]], [row["train_mse"]], s=180, facecolors="none",
                       edgecolors="tab:red", linewidths=2, zorder=3,
                       label=f"chosen by {selection.get('selection', '?')}: "
                             f"{row['n_terms']} term(s)")
    for row, label in zip(curve, (r["n_terms"] for r in curve)):
        ax.annotate(str(label), (row["complexity"], row["train_mse"]), fontsize=7,
                    textcoords="offset points", xytext=(0, -11), ha="center")
    positive = all(v > 0 for v in train + [h for h in held if h == h])
    ax.set(xlabel="complexity (nodes); numbers: terms", ylabel="mean squared error",
           yscale="log" if positive else "linear",
           title="Under- and over-fitting: error against complexity")
    ax.legend(fontsize=8)
    path = Path(path)
    fig.savefig(path)
    return path


def plot_path(model: Any, path: str | Path) -> Path:
    """The L1 regularisation path: each term's coefficient against the penalty."""
    found = _diagnostic(model, "path")
    fig = figure(9, 4.5)
    ax = fig.add_subplot()
    others = False
    for term, chosen, coefficients in zip(found["terms"], found["chosen"],
                                          found["coefficients"]):
        # The chosen terms are named (outside the axes, so the curves stay
        # visible); the others are drawn in grey, one legend entry for all.
        label = _short(term) if chosen else (None if others else "other terms")
        others = others or not chosen
        ax.plot(found["alphas"], coefficients, linewidth=2.0 if chosen else 0.8,
                color=None if chosen else "0.7", label=label, zorder=2 if chosen else 1)
    ax.set(xscale="log", xlabel="L1 penalty alpha", ylabel="coefficient (unit-RMS column)",
           title="Regularisation path (chosen terms named)")
    ax.invert_xaxis()
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    path = Path(path)
    fig.savefig(path)
    return path


def plot_inclusion(model: Any, path: str | Path, limit: int = 20) -> Path:
    """Each term's inclusion probability over the resampled re-selections."""
    rows = model.uncertainty.get("inclusion")
    if not rows:
        raise FitError("This model has no inclusion probabilities; fit it with n_bootstrap > 0.")
    rows = rows[:limit]
    kept = {str(t.term) for t in model.terms}
    fig = figure(7, 0.8 + 0.3 * len(rows))
    ax = fig.add_subplot()
    terms = [r["term"] for r in rows][::-1]
    values = [r["probability"] for r in rows][::-1]
    colours = ["tab:red" if term in kept else "tab:gray" for term in terms]
    ax.barh(range(len(terms)), values, color=colours)
    ax.set_yticks(range(len(terms)), [_short(t) for t in terms], fontsize=8)
    ax.set(xlim=(0, 1), xlabel=f"inclusion probability ({model.uncertainty['n_resamples']} "
                               "half-subsamples)",
           title="Which terms the data insist on (red: in the model)")
    path = Path(path)
    fig.savefig(path)
    return path


def _observed(model: Any, data: Any) -> tuple[Any, Any, dict[str, Any]]:
    """The target's measured values, the model's predictions and the inputs' columns,
    by the user's column names (``data``: a DataFrame or a mapping of columns)."""
    import numpy as np

    target = model.names.get(model.target, model.target)
    if target not in data:
        raise FitError(f"The data have no column {target!r} (the model's target).")
    columns = {model.names.get(c, c): np.asarray(data[model.names.get(c, c)], dtype=float)
               for c in model.inputs}
    return np.asarray(data[target], dtype=float), np.asarray(model.predict(data)), columns


def _axes(ax: Any, width: float, height: float, panels: int = 1) -> tuple[Any, list[Any]]:
    """The figure and ``panels`` axes to draw on: ``ax`` (one, or a list) where given,
    else a new figure's."""
    if ax is not None:
        axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
        return axes[0].figure, axes
    fig = figure(width, height)
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def plot_parity(model: Any, data: Any, *, ax: Any = None, path: str | Path | None = None) -> Any:
    """Observed against predicted, with the identity line: a law's points lie on it,
    scattered by the noise alone. Draws on ``ax`` where given; saves to ``path`` where
    given; returns the figure."""
    observed, predicted, _ = _observed(model, data)
    fig, (axes,) = _axes(ax, 5, 5)
    axes.scatter(predicted, observed, s=6, alpha=0.5, color="tab:blue", label="rows")
    low = float(min(observed.min(), predicted.min()))
    high = float(max(observed.max(), predicted.max()))
    axes.plot([low, high], [low, high], color="tab:red", linewidth=1, label="observed = predicted")
    target = model.names.get(model.target, model.target)
    axes.set(xlabel=f"predicted {target}", ylabel=f"observed {target}",
             title=f"Parity ({model.verdict.get('status', '')})")
    axes.legend(fontsize=8)
    if path is not None:
        fig.savefig(Path(path))
    return fig


def plot_residuals(model: Any, data: Any, *, ax: Any = None,
                   path: str | Path | None = None) -> Any:
    """The residuals (observed − predicted) against each input, one panel an input: a
    law leaves no trend in any of them. Draws on ``ax`` (one axes an input) where given;
    saves to ``path`` where given; returns the figure."""
    observed, predicted, columns = _observed(model, data)
    residual = observed - predicted
    fig, axes = _axes(ax, 3.2 * len(columns), 3.2, len(columns))
    if len(axes) != len(columns):
        raise FitError(f"plot_residuals needs one axes an input ({len(columns)}); "
                       f"got {len(axes)}.")
    for axis, (name, values) in zip(axes, columns.items()):
        axis.scatter(values, residual, s=5, alpha=0.5, color="tab:blue")
        axis.axhline(0, color="tab:red", linewidth=1)
        axis.set(xlabel=_short(name), ylabel="residual" if axis is axes[0] else None)
    if path is not None:
        fig.savefig(Path(path))
    return fig
