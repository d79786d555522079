"""The route of transformed targets (AI Feynman's trick): fit ``y²``, ``1/y``, ``log y``,
``√y``, ``sin y`` or the logit ``log(y/(1 − y))`` with the library, then invert, for
laws such as ``sqrt(x² + y²)``, ``1/(1/a + 1/b)``, ``exp(-x/y)``, ``asin(n·sin θ)`` and
the logistic ``1/(1 + exp(−r(t − t₀)))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace

import numpy as np
import sympy
import torch

from basis_library import Design, Library, LibraryError, compile_numpy

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..stats.criteria import exact_floor
from .base import NUMERICAL, Proposal, RouteContext, RouteKind, exact_enough, model_of, route_bic
from .library import Settings, fit_library
from .shapes import Shapes, shape_libraries

__all__ = ["TRANSFORMS", "TransformRoute", "transform_route", "transformed"]


def _sine(y: np.ndarray) -> np.ndarray:
    """sin y where every |y| ≤ π/2 and some |y| ≥ 1/2; else NaN (not applicable)."""
    if np.all(np.abs(y) <= np.pi / 2) and np.max(np.abs(y)) >= 0.5:
        return np.sin(y)
    return np.full_like(y, np.nan)


def _logit(y: np.ndarray) -> np.ndarray:
    """log(y/(1 − y)) where every y lies in (0, 1); else NaN (not applicable)."""
    if np.all((y > 0) & (y < 1)):
        return np.log(y / (1 - y))
    return np.full_like(y, np.nan)


#: (name, forward on the data, inverse on the fitted expression, the forward
#: map's derivative). Noise of sd σ on y is noise of sd |g'(y)| σ on g(y) (the
#: delta method), so a fit of g(y) weights each row by 1/g'(y)²: least squares
#: in the transformed space then approximates least squares on y.
TRANSFORMS = (
    ("y**2", lambda y: y**2, lambda e: sympy.sqrt(e), lambda y: 2 * y),
    ("1/y", lambda y: 1 / y, lambda e: 1 / e, lambda y: -1 / y**2),
    ("log(y)", lambda y: np.log(y), lambda e: sympy.exp(e), lambda y: 1 / y),
    ("sqrt(y)", lambda y: np.sqrt(y), lambda e: e**2, lambda y: 0.5 / np.sqrt(y)),
    # Only where every y lies in asin's range, so that sin is invertible on the data
    # (refraction and diffraction angles: asin(n·sin θ), asin(λ/d)), and some |y|
    # reaches 1/2: below, sin y is within 4% of y, and the fit of sin y is a near
    # copy of y's with a nonlinearity the data hardly test (on 1% noise
    # asin(0.0795 p cos θ/(εr²)) then edged out p cos θ/(4πεr²)).
    ("sin(y)", _sine, sympy.asin, np.cos),
    # The logit, the link of a probability in a generalised linear model (McCullagh &
    # Nelder 1989): a logistic in any linear combination of terms, r·t − r·t₀ with r
    # and t columns, is linear in the library after it. Only where every y is in (0, 1).
    ("log(y/(1 - y))", _logit, lambda e: 1 / (1 + sympy.exp(-e)), lambda y: 1 / (y * (1 - y))),
)


def transformed(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Transform ``name`` of ``y`` and each row's root weight 1/|g'(y)| (the delta
    method: the fit of g(y) then approximates least squares on y), normalised;
    None where the transform does not apply."""
    _, forward, _, slope = next(t for t in TRANSFORMS if t[0] == name)
    with np.errstate(all="ignore"):
        z = forward(y)
        root_weight = 1 / np.abs(slope(y))
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(root_weight))) or np.ptp(z) == 0:
        return None
    # The linearisation fails where the noise is comparable to y (1/|2y| for y² grows
    # without bound as a noisy y nears 0, and a few such rows would steer the fit):
    # no row weighs more than ten times the median.
    root_weight = np.minimum(root_weight, 10 * float(np.median(root_weight)))
    return z, root_weight / math.sqrt(float(np.mean(root_weight**2)))


def transform_route(name: str, dataset: Dataset, settings: Settings, started: float,
                     first: tuple[Library, Design] | None) -> tuple[float, Model] | None:
    """The fit of transformed target ``name`` of lowest BIC on y over the
    libraries of :func:`~discovery.routes.shapes.shape_libraries` (in turn, until one
    is exact), and its BIC: ``first`` and a power law, or (``first`` None) the grown
    monomials. None where the transform does not apply."""
    floor = exact_floor(dataset.y, per_row=True)
    best: tuple[float, Model] | None = None
    target = transformed(name, dataset.y)
    if target is None:
        return None
    for shapes in shape_libraries(name, target, dataset, settings, first):
        fitted = _transform_fit(name, dataset, shapes, settings, started)
        if fitted is None:
            continue
        inner, inverted = fitted
        # Every inner coefficient and exponent is a fitted parameter, plus the
        # choice of transform.
        score = route_bic(inverted, dataset.n,
                     len(inner.terms) + shapes.exponents + 1 - len(inverted.terms),
                     floor, shapes.charge(len(inner.terms)))
        if best is None or score < best[0]:
            best = (score, inverted)
        if exact_enough(inverted, dataset):
            break
    return best


def _transform_fit(name: str, dataset: Dataset, shapes: Shapes, settings: Settings,
                   started: float) -> tuple[Model, Model] | None:
    """The fit of transformed target ``name`` with ``shapes`` (built for it by
    :func:`~discovery.routes.shapes.shape_libraries`) and the model it gives for y.

    Rows are weighted by 1/|g'(y)| (the delta method), so the fit approximates
    least squares on y. None where the transform does not apply or its
    weighted R² is below 0.99.
    """
    inverse = next(t for t in TRANSFORMS if t[0] == name)[2]
    if shapes.target is None:
        return None
    z, root_weight = shapes.target
    design = shapes.design
    scale = torch.as_tensor(root_weight, dtype=design.matrix.dtype, device=design.matrix.device)
    weighted = replace(design, matrix=design.matrix * scale[:, None])
    try:
        inner = fit_library(replace(dataset, y=z * root_weight), shapes.library,
                            shapes.settings(settings), started=started, timings={},
                            design=weighted, search=shapes.search)
    except (FitError, LibraryError, *NUMERICAL):
        return None
    # R² of the weighted fit; training metrics on z would mix weighted and not.
    zw = z * root_weight
    mean = float(np.sum(zw * root_weight) / np.sum(root_weight**2))
    tss = float(np.sum((zw - mean * root_weight) ** 2))
    rss = float(inner.metrics["mse_refit"]) * dataset.n  # type: ignore[arg-type]
    if tss <= 0 or 1 - rss / tss < 0.99:
        return None
    expression, inner_terms = _refit_inverted(inverse, inner, dataset, settings.constants)
    inverted = model_of(expression, dataset, inner, f"{RouteKind.TRANSFORM.value} {name}, inverted",
                        inner_terms,
                         f"it is a fit of {name}, inverted and refined by least squares on "
                         "y; its terms are in info['inner_terms']")
    return None if inverted is None else (inner, inverted)


def _refit_inverted(inverse: Callable[[sympy.Expr], sympy.Expr], inner: Model, dataset: Dataset,
                    named: Mapping[str, float]
                    ) -> tuple[sympy.Expr, list[dict[str, object]]]:
    """``inverse(Σ cⱼ φⱼ)`` with the inner fit's terms φⱼ, its coefficients refitted
    on y, then snapped to closed forms only where honest; and the terms' records.

    The weighted fit of g(y) is only the linearisation of least squares on y:
    g(y + ε) is biased where the noise is not small against y (E[1/(y + ε)] ≠
    1/y), and its standard errors are of the transformed scale, so a closed
    form judged on them is judged on the wrong precision. Nonlinear least
    squares of ``y − g⁻¹(Σ cⱼ φⱼ)`` from the inner coefficients is the
    maximum-likelihood fit under noise on y; its Jacobian gives the standard
    errors that :func:`snap_parameters` weighs (its look-elsewhere test and
    likelihood-ratio test, as for a library fit). Where the refit fails the
    inner fit is inverted as it is.
    """
    from ..stats.nls import fit_parameters, standard_errors
    from ..symbolic.evaluate import term_columns
    from ..symbolic.snap import snap_parameters

    records = [t.to_dict() for t in inner.terms]
    plain = inverse(inner.expression)
    u = sympy.Symbol("u")
    outer = compile_numpy([u], inverse(u))
    terms = [t.term for t in inner.terms]
    Phi = term_columns(terms, dataset)
    y = dataset.y

    def residual(c: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(outer(Phi @ c), dtype=float) - y

    start = np.array([t.coefficient for t in inner.terms], dtype=float)
    try:
        if not np.all(np.isfinite(residual(start))):
            return plain, records
        coef, rss, J = fit_parameters(residual, start)
    except (ValueError, np.linalg.LinAlgError):
        return plain, records
    if not (np.all(np.isfinite(coef)) and math.isfinite(rss)
            and np.all(np.isfinite(residual(coef)))):
        return plain, records
    se = standard_errors(J, rss, dataset.n)
    floor = exact_floor(y)
    exprs, values, _ = snap_parameters(residual, coef, rss, se, named, floor, dataset.n)
    for record, expr, value, error in zip(records, exprs, values, se):
        record.update(coefficient=float(value), std_error=float(error),
                      closed_form=None if isinstance(expr, sympy.Float) else str(expr))
    return inverse(sympy.Add(*[e * t for e, t in zip(exprs, terms)])), records


class TransformRoute:
    """Each transform of :data:`TRANSFORMS` in turn, fitted with the first fit's library
    and a power law (``first``), or with grown monomials (after the grown route); a
    formula found before is no new proposal."""

    kind = RouteKind.TRANSFORM

    def __init__(self, *, first: bool) -> None:
        self.first = first

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        first = (context.library, context.design) if self.first else None
        for name, *_ in TRANSFORMS:
            scored = transform_route(name, context.dataset, context.settings, context.started,
                                     first)
            if scored is not None:
                yield Proposal(*scored, new_only=True)
