"""Pictures of a model, drawn with matplotlib's object API (no global state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._optional import optional_import

__all__ = ["figure", "plot_pareto"]


def figure(width: float, height: float) -> Any:
    """A matplotlib Figure with an Agg canvas, or a clear error naming the extra."""
    optional_import("matplotlib", "plots", purpose="plots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_pareto(model: Any, path: str | Path) -> Path:
    """Complexity against error along the model's Pareto front, the chosen model marked."""
    front = model.pareto
    fig = figure(7, 4.5)
    ax = fig.add_subplot()
    ax.plot(front["complexity"], front["error"], marker="o", color="tab:blue",
            label="Pareto front")
    chosen = front[front["chosen"].astype(bool)]
    ax.scatter(chosen["complexity"], chosen["error"], s=160, facecolors="none",
               edgecolors="tab:red", linewidths=2, label=f"chosen: {model.expression}", zorder=3)
    positive = (front["error"] > 0).all()
    ax.set(xlabel="complexity (nodes)", ylabel="training MSE", yscale="log" if positive else
           "linear", title=f"Pareto front ({model.method})")
    ax.legend(fontsize=8)
    path = Path(path)
    fig.savefig(path)
    return path
