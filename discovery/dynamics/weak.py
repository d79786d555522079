"""The weak (integral) form of the equations (Messenger & Bortz 2021)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import Library, as_symbols

from ..model import Model
from .intervals import block_intervals, term_values
from .runs import target_name

__all__ = ["WeakColumns", "weak_table", "weak_equation"]

#: Exponent of the weak form's test functions ``(4s(1 − s))^p``: smooth to order
#: p − 1 at the ends, so trapezoid sums of them are accurate (Messenger & Bortz 2021).
_TEST_POWER = 8


def weak_table(runs: list[pd.DataFrame], time: str, searched: list[str], inputs: list[str],
               library: Library, positions: Mapping[str, str] | None = None
               ) -> tuple[dict[str, tuple[np.ndarray, ...]], dict[str, object], WeakColumns]:
    """The weak form of every searched state's equation: for test functions ``φₖ``
    on windows of each run, ``−∫φₖ' x dt = Σⱼ cⱼ ∫φₖ θⱼ dt`` (integration by
    parts, φ vanishing at the window's ends), both sides divided by ``∫φₖ``.

    This is weak SINDy (Messenger & Bortz 2021; PySINDy's ``WeakPDELibrary``):
    no derivative of the data is taken, and each row averages the noise of a
    window. A window spans the derivative filter's cross-validated width (at
    least 21 samples, at most a third of the run) and windows start every
    quarter window. Returns, per state, the library's columns, the target,
    each row's run and the target again from every other sample (its
    difference from the target measures the quadrature's resolution), and
    a summary. For a second-order system (``positions`` maps each searched
    velocity to its position), the target is ``∫φₖ'' x dt`` from the measured
    positions: only the library's columns use estimated velocities. The
    last value weighs any other term the same way (:class:`WeakColumns`).
    """
    from .derivatives import gcv_window

    measured = {s: (positions or {}).get(s, s) for s in searched}
    operators: list[np.ndarray] = []
    samples: list[np.ndarray] = []
    targets: dict[str, list[np.ndarray]] = {s: [] for s in searched}
    coarse: dict[str, list[np.ndarray]] = {s: [] for s in searched}
    runs_of: list[np.ndarray] = []
    widths = []
    for number, run in enumerate(runs):
        t = run[time].to_numpy(dtype=float)
        data = [run[c].to_numpy(dtype=float) for c in inputs]
        n = len(t)
        w = max(gcv_window(run[measured[s]].to_numpy(dtype=float), t)
                for s in searched) if n >= 9 else 3
        m = min(max(w, 21), max(n // 3, 5), n)
        widths.append(m)
        starts = np.unique(np.r_[np.arange(0, n - m + 1, max(1, m // 4)), n - m])
        phi, dphi, ddphi = _test_functions(t, starts, m)
        weights = _trapezoid(t)
        half = np.zeros(n)
        half[::2] = _trapezoid(t[::2])
        mass, half_mass = phi @ weights, phi @ half
        operators.append(phi * weights / mass[:, None])
        samples.append(np.column_stack(data))
        for s in searched:
            if measured[s] != s:  # ∫φ ẍ = ∫φ'' x: the position itself, twice by parts
                x = run[measured[s]].to_numpy(dtype=float)
                targets[s].append((ddphi * weights) @ x / mass)
                coarse[s].append((ddphi * half) @ x / half_mass)
                continue
            x = run[s].to_numpy(dtype=float)
            targets[s].append(-(dphi * weights) @ x / mass)
            coarse[s].append(-(dphi * half) @ x / half_mass)
        runs_of.append(np.full(len(starts), number))
    weak = WeakColumns(inputs, operators, samples)
    G = weak.columns(library.terms)
    run_index = np.concatenate(runs_of)
    tables: dict[str, tuple[np.ndarray, ...]] = {
        s: (G, np.concatenate(targets[s]), run_index, np.concatenate(coarse[s]))
        for s in searched}
    return tables, {"rows": int(G.shape[0]), "window_samples": int(np.median(widths))}, weak


@dataclass(frozen=True)
class WeakColumns:
    """The weak form's weighing of any term: each run's test-function weights
    (rows: test functions, columns: samples) and the inputs at its samples."""

    inputs: Sequence[str]
    operators: Sequence[np.ndarray]
    samples: Sequence[np.ndarray]

    def values(self, terms: Sequence[sympy.Expr]) -> list[np.ndarray]:
        """Each run's terms at its samples (samples × terms)."""
        from ..symbolic.evaluate import evaluate_terms

        every = evaluate_terms(terms, self.inputs, np.vstack(self.samples))
        return np.split(every, np.cumsum([len(d) for d in self.samples])[:-1])

    def columns(self, terms: Sequence[sympy.Expr]) -> np.ndarray:
        """The terms' weak columns, ``∫φₖ θ dt / ∫φₖ`` for every test function."""
        return self.weigh(self.values(terms))

    def weigh(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """Weak columns of per-run sample values (as :meth:`values` gives)."""
        return np.vstack([op @ v for op, v in zip(self.operators, values)])


def _test_functions(t: np.ndarray, starts: np.ndarray, m: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``φₖ(t) = (4s(1 − s))^p`` on the window of ``m`` samples from each start
    (``s`` the window's time from 0 to 1; zero outside), ``dφₖ/dt`` and ``d²φₖ/dt²``."""
    n, p = len(t), _TEST_POWER
    phi, dphi, ddphi = (np.zeros((len(starts), n)) for _ in range(3))
    for k, a in enumerate(starts):
        lo, hi = t[a], t[a + m - 1]
        length = hi - lo
        s = (t[a:a + m] - lo) / length
        base, slope = 4 * s * (1 - s), 4 * (1 - 2 * s)
        phi[k, a:a + m] = base**p
        dphi[k, a:a + m] = p * base ** (p - 1) * slope / length
        ddphi[k, a:a + m] = (p * (p - 1) * base ** (p - 2) * slope**2
                             - 8 * p * base ** (p - 1)) / length**2
    return phi, dphi, ddphi


def _trapezoid(t: np.ndarray) -> np.ndarray:
    """Trapezoid-rule weights on the (possibly uneven) times ``t``."""
    gaps = np.diff(t)
    weights = np.zeros(len(t))
    weights[:-1] += gaps / 2
    weights[1:] += gaps / 2
    return weights


def weak_equation(table: tuple[np.ndarray, ...], library: Library, inputs: list[str],
                  state: str, constants: Mapping[str, float] | None, n_bootstrap: int,
                  confidence: float, random_state: int | None, options: Mapping[str, Any],
                  clean: bool) -> Model:
    """The engine on the weak form of one equation, its terms then written back
    in the states: the search sees one input per library term (its weak
    column) and a library of those inputs alone. On clean data the terms
    below the quadrature's resolution are then dropped
    (:func:`_above_resolution`) and the rest refitted."""
    from .._discover import discover

    G, b, run, b_coarse = table
    terms = list(library.terms)
    names = [f"w{j}" for j in range(len(terms))]
    constant = [j for j, t in enumerate(terms) if t == 1]
    others = [j for j in range(len(terms)) if j not in constant]
    inner = [names[j] for j in others]
    frame = pd.DataFrame({names[j]: G[:, j] for j in others})
    frame["__b__"] = b
    basis = (["1"] if constant else []) + inner

    def fit(basis: list[str]) -> Model:
        return discover(frame, target="__b__", inputs=inner, basis=basis,
                        constants=constants, n_bootstrap=0, random_state=random_state,
                        **dict(options))

    model = fit(basis)
    if clean:
        resolution = float(np.sqrt(np.mean((b - b_coarse) ** 2)))
        A = term_values(model.terms, frame, inner)
        kept = _above_resolution(A, b, resolution)
        if len(kept) < len(model.terms):
            model = fit([str(model.terms[i].term) for i in kept])
        model = model.replace(verdict=_at_resolution(model.verdict, resolution))
    if n_bootstrap:
        model = block_intervals(model, term_values(model.terms, frame, inner), b, run,
                                n_bootstrap, confidence, random_state)
    back = dict(zip(as_symbols(inner), [terms[j] for j in others]))
    return _rewritten(model, back, inputs, target_name(state))


def _at_resolution(verdict: Mapping[str, Any], resolution: float) -> dict[str, Any]:
    """The verdict of a clean-data fit whose only fault is structured residuals that
    are within three times the quadrature's resolution: ``law`` (what is left is
    the error of the sums, smooth in time, not a missing term)."""
    out = dict(verdict)
    reasons = [str(r) for r in out.get("reasons", [])]
    evidence = dict(out.get("evidence") or {})
    residual = math.sqrt(max(float(evidence.get("residual_var", math.inf)), 0.0))
    if (out.get("status") == "approximation" and reasons
            and all(r.startswith("the residuals are structured") for r in reasons)
            and residual <= 3 * resolution):
        out["status"] = "law"
        out["reasons"] = [f"the residuals (RMS {residual:.2g}) are within 3 times the weak "
                          f"form's quadrature resolution ({resolution:.2g}): the data are "
                          "noise-free and the terms explain them to that resolution"]
        out["evidence"] = {**evidence, "resolution": resolution}
    return out


def _above_resolution(A: np.ndarray, y: np.ndarray, resolution: float) -> list[int]:
    """The columns of ``A`` left after dropping, one at a time, the column whose
    removal raises the RSS least while that rise is below ``n·(3·resolution)²``.

    On clean data the fit's residual is the error of the weak form's sums
    (or of estimated derivatives), not noise, and it is smooth in time: a
    term can fit it and pass every test made against noise. A term that
    explains no more than three times that error's size is not resolved by
    the data (PySINDy's threshold plays this part, as a fixed number).
    """
    n = len(y)
    keep = list(range(A.shape[1]))
    limit = n * (3 * resolution) ** 2

    def rss(columns: list[int]) -> float:
        if not columns:
            return float(y @ y)
        coef = np.linalg.lstsq(A[:, columns], y, rcond=None)[0]
        r = y - A[:, columns] @ coef
        return float(r @ r)

    current = rss(keep)
    while len(keep) > 1:
        rises = [(rss(keep[:i] + keep[i + 1:]) - current, i) for i in range(len(keep))]
        rise, i = min(rises)
        if rise >= limit:
            break
        keep.pop(i)
        current = rss(keep)
    return keep


def _rewritten(model: Model, back: Mapping[sympy.Symbol, sympy.Expr], inputs: list[str],
               target: str) -> Model:
    """``model`` over the weak columns, written back over the states."""
    table = dict(back)
    terms = [replace(t, term=t.term.xreplace(table)) for t in model.terms]
    names = {str(k): str(v) for k, v in table.items()}
    verdict = dict(model.verdict)
    verdict["reasons"] = [re.sub(r"\bw\d+\b", lambda m: names.get(m.group(0), m.group(0)),
                                 str(r)) for r in verdict.get("reasons", [])]
    # The engine's state is over the weak columns: it does not travel.
    return model.updated(expression=model.expression.xreplace(table),
                         raw_expression=model.raw_expression.xreplace(table), inputs=inputs,
                         target=target, terms=terms, library={**model.library, "weak": True},
                         info={"weak_form": True}, verdict=verdict, fit_state=None)
