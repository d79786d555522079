"""A model's report: its terms with intervals, how it was chosen, and the pictures.

:func:`write_report` is what ``discover fit ... --report DIR`` writes; it reads
only the model (so a model loaded from JSON reports the same).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .errors import DataError
from .model import Model, level_label, plus_minus, terms_rows

__all__ = ["constant_lines", "selection_lines", "write_report"]


def constant_lines(model: Model) -> list[str]:
    """``g = 9.8114 ± 0.0020 (95% CI 9.8093 to 9.8133; given 9.81), from 1/g``."""
    level = level_label(model.uncertainty.get("level"))
    lines = []
    for name, c in (model.uncertainty.get("constants") or {}).items():
        value, half = plus_minus(c["estimate"], (c["high"] - c["low"]) / 2)
        lines.append(f"{name} = {value} ± {half} ({level} CI {c['low']:.6g} to {c['high']:.6g}; "
                     f"given {c['value']:g}), from the coefficient of {c['term']} "
                     f"= {c['closed_form']}")
    return lines


def selection_lines(model: Model) -> list[str]:
    """How the model was chosen, and what each criterion would have chosen."""
    found = model.diagnostics.get("selection")
    if not found:
        return []
    names = {"bic": "BIC", "aic": "AIC", "validation": "validation error"}
    chosen = found["chosen"]
    by = names.get(found["selection"], found["selection"])
    lines = [f"chosen by {by}: {chosen['n_terms']} term(s), training MSE "
             f"{chosen['train_mse']:.3g}, validation MSE {_maybe(chosen['validation_mse'])} "
             f"({found['validation']})"]
    for criterion, pick in found["choices"].items():
        if criterion == found["criterion"]:
            continue
        same = pick["expression"] == chosen["expression"]
        lines.append(f"{names.get(criterion, criterion)} would choose "
                     + ("the same model" if same else
                        f"{pick['n_terms']} term(s): {pick['expression']} (validation MSE "
                        f"{_maybe(pick['validation_mse'])})"))
    return lines


def report_folder(directory: str | Path) -> Path:
    """``directory``, created if missing; DataError naming it if it cannot be."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the report folder {str(out)!r}: {exc.strerror}.") from exc
    return out


def write_report(model: Model, directory: str | Path) -> list[Path]:
    """Write ``summary.md``, ``terms.csv``, ``model.json`` and the pictures into ``directory``.

    The pictures (``complexity.png``, ``path.png``, ``inclusion.png``,
    ``pareto.png``) need matplotlib (the ``plots`` extra); each one the model
    has no data for is left out and named in ``summary.md``.

    Returns
    -------
    list of Path
        The files written.
    """
    from . import plots
    from .errors import FitError

    out = report_folder(directory)
    written = [model.save(out / "model.json")]
    rows = []
    for term, row in zip(model.terms, terms_rows(model)):
        # Numbers a spreadsheet can read: the interval as two columns, not text.
        row = {k: v for k, v in row.items() if k != "interval"}
        low, high = term.interval if term.interval is not None else ("", "")
        rows.append({**row, "low": f"{low:.6g}" if low != "" else "",
                     "high": f"{high:.6g}" if high != "" else ""})
    with open(out / "terms.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["term"])
        writer.writeheader()
        writer.writerows(rows)
    written.append(out / "terms.csv")
    pictures, missing = [], []
    for name, draw in (("complexity.png", plots.plot_complexity), ("path.png", plots.plot_path),
                       ("inclusion.png", plots.plot_inclusion),
                       ("pareto.png", plots.plot_pareto)):
        try:
            pictures.append(draw(model, out / name))
        except FitError as exc:
            missing.append(f"{name}: {exc}")
    written += pictures
    summary = out / "summary.md"
    summary.write_text(_summary(model, rows, [p.name for p in pictures], missing))
    written.append(summary)
    return written


def _summary(model: Model, rows: list[dict[str, str]], pictures: list[str],
             missing: list[str]) -> str:
    lines = [f"# {model.target} = {model.expression}", "",
             f"$$ {model.latex()} $$", ""]
    if rows and all(t.interval is not None for t in model.terms):
        lines += ["With intervals:", "", f"$$ {model.latex(uncertainty=True)} $$", ""]
    m = model.metrics
    if m:
        lines += [f"R² = {m.get('r2', float('nan')):.6f}, training MSE = "
                  f"{m.get('mse', float('nan')):.3g}, {m.get('n_samples')} rows; method "
                  f"{model.method}.", ""]
    if rows:
        lines += ["## Terms", "", _markdown(rows), ""]
        u = model.uncertainty
        if "n_resamples" in u:
            lines += [f"Intervals: {level_label(u['level'])} {u['interval']} over "
                      f"{u['n_resamples']} bootstrap resamples; inclusion: the fraction of "
                      f"{u['n_resamples']} re-selections on random halves of the rows that kept "
                      f"the term; {u['support_rate']:.0%} of them chose exactly this model.", ""]
        elif "interval" in u:
            lines += [f"Intervals: {level_label(u['level'])} Student-t intervals from the "
                      "least-squares standard errors.", ""]
    if model.uncertainty.get("reason"):
        lines += [f"No intervals: {model.uncertainty['reason']}.", ""]
    constants = constant_lines(model)
    if constants:
        lines += ["## Constants", "", *(f"- {c}" for c in constants), ""]
    selection = selection_lines(model)
    if selection:
        lines += ["## Model selection", "", *(f"- {s}" for s in selection), ""]
    curve = model.diagnostics.get("complexity")
    if curve:
        lines += ["## Error against complexity", "", _markdown([
            {"terms": str(r["n_terms"]), "complexity": str(r["complexity"]),
             "training MSE": f"{r['train_mse']:.4g}",
             "validation MSE": _maybe(r["validation_mse"]),
             "chosen": "*" if r["chosen"] else "", "model": r["expression"]} for r in curve]), ""]
    if pictures:
        lines += ["## Pictures", "", *(f"![{p}]({p})" for p in pictures), ""]
    if missing:
        lines += ["Not drawn:", "", *(f"- {m}" for m in missing), ""]
    return "\n".join(lines)


def _markdown(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    body = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    body += ["| " + " | ".join(r[h].replace("|", "\\|") for h in header) + " |" for r in rows]
    return "\n".join(body)


def _maybe(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3g}"
