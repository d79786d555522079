"""``discover``: data in, verified formula out."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import sympy
import torch
from scipy import stats

from basis_library import (
    Design,
    Library,
    LibraryError,
    Variable,
    as_symbols,
    auto_library,
    custom,
    parse_basis,
    resolve_device,
    term_complexity,
)

from ._assess import FitState, assess
from ._backends import BACKENDS, backend
from ._constants import ALPHA, consistent_with
from ._data import Dataset, prepare
from ._select import (
    EXACT_RSS,
    SELECTIONS,
    VALIDATIONS,
    Splits,
    backward_prune,
    choose,
    ebic,
    identifiability,
    log_comb,
    pareto_front,
    score_candidates,
    validation_splits,
)
from ._simplify import simplify_expression
from ._sparse import candidate_supports, scale_columns
from ._verdict import signal_test, verdict
from .errors import FitError
from .model import Model, ModelTerm

__all__ = ["discover", "METHODS", "SOLVERS"]

log = logging.getLogger(__name__)

#: The sparse engine, then every genetic backend of :data:`~discovery._backends.BACKENDS`.
METHODS = ("sparse", *BACKENDS)
PRUNE_BEST = 5
SOLVERS = ("auto", "greedy", "lasso", "stlsq", "subset")


def _library(basis: object, columns: Mapping[str, np.ndarray], inputs: list[str],
             hints: Mapping[str, Variable]) -> Library:
    if isinstance(basis, Library):
        return basis
    if basis == "auto" and hints:
        return auto_library(columns, [hints.get(name, Variable(name)) for name in inputs])
    if isinstance(basis, str):
        return parse_basis(basis, columns, inputs)
    if isinstance(basis, Sequence):
        return custom(*basis)
    raise LibraryError(f"basis must be 'auto', a spec string, a Library or a list of terms; "
                       f"got {type(basis).__name__}.")


def discover(
    data: object,
    target: object = None,
    inputs: Sequence[str | Variable] | None = None,
    *,
    basis: str | Library | Sequence[str] = "auto",
    method: str = "sparse",
    solver: str = "auto",
    selection: str = "bic",
    max_terms: int = 12,
    cv_folds: int = 5,
    validation_fraction: float = 0.25,
    split_on: str | None = None,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    constants: Mapping[str, float] | None = None,
    simplify: bool = True,
    device: str = "auto",
    random_state: int | None = 0,
    time_limit: float | None = None,
    max_evaluations: int | None = None,
    polish: bool = True,
    backend_options: Mapping[str, object] | None = None,
) -> Model:
    """Find the formula behind the data.

    A library of candidate terms is generated (or given), evaluated on the
    device, and searched by sparse regression (forward greedy selection, an L1
    path and STLSQ); each candidate support is refitted by least squares and
    one is chosen by BIC (or AIC, or a validation split). Coefficients are
    turned into closed forms where that costs no more than noise, and the
    result is simplified. Then the model is assessed: each coefficient gets a
    confidence interval and each term an inclusion probability (from
    ``n_bootstrap`` resampled re-selections, batched on the device), and
    :attr:`Model.diagnostics` records how the choice was made.

    Parameters
    ----------
    data
        A DataFrame, a CSV/Parquet path, a mapping of name to array, or a 2-D
        array (then ``inputs`` names its columns and ``target`` is an array).
    target
        The target column (default: the last column).
    inputs
        Input columns (default: all others); a :class:`~basis_library.Variable`
        carries hints (``positive``, ``angle``, ``integer``) for the auto library.
    basis
        ``"auto"``, a spec like ``"poly(degree=3) * (1 + fourier(theta, 3))"``,
        a :class:`~basis_library.Library`, or a list of term strings.
    method
        ``"sparse"`` (the basis library and sparse regression), ``"operon"``
        (genetic search with pyoperon, offline), ``"gplearn"`` (gplearn's
        genetic programming, SRBench's baseline) or ``"pysr"`` (PySR, run in a
        separate process; needs Julia). ``basis`` and ``solver`` apply to
        ``"sparse"``.
    solver
        ``"auto"`` pools candidate supports from ``"greedy"``, ``"lasso"`` and
        ``"stlsq"``; or one of them alone.
    selection
        How the number of terms is chosen: ``"bic"`` (default, the extended
        BIC), ``"aic"``, or the least validation error of ``"kfold"``
        (``cv_folds`` folds; ``"cv"`` is another name for it), ``"holdout"``
        (a random ``validation_fraction`` of the rows held out) or
        ``"extrapolation"`` (the rows with the largest ``split_on`` values held
        out: is the law still right beyond the data it was fitted on?).
        Whatever chooses, every candidate is scored by all of them and
        :attr:`Model.diagnostics` says what each would have chosen.
    max_terms
        The largest number of terms a model may have.
    cv_folds, validation_fraction
        The folds of ``"kfold"``; the fraction held out by ``"holdout"`` and
        ``"extrapolation"``.
    split_on
        The input the extrapolation split is made on. Given with ``"bic"`` or
        ``"aic"``, the validation errors reported are the extrapolation split's
        (otherwise k-fold CV's).
    n_bootstrap
        Resamples for the inclusion probabilities and percentile intervals (0:
        Student-t intervals from the refit's standard errors only).
    confidence
        The level of the coefficient intervals.
    constants
        Named constants to recognise, e.g. ``{"g": 9.81}``; they appear as
        symbols in :attr:`Model.expression`.
    simplify
        Simplify the final expression.
    device
        ``"auto"`` (CUDA if present), ``"cpu"`` or ``"cuda"``.
    random_state
        Seed for the CV folds and the genetic backends.
    time_limit
        Seconds for a genetic backend's search (default 20 for Operon and
        gplearn, 60 for PySR).
    max_evaluations
        An evaluation budget for a genetic backend (Operon's ``max_evaluations``,
        PySR's ``max_evals``); the search stops at whichever budget ends first.
    polish
        For genetic methods: split the found expression into additive terms,
        snap constants inside functions (``sin(1.9997*x)`` → ``sin(2*x)``) where
        that costs no more than noise, and refit the terms with the sparse
        engine (least squares, BIC, constant recognition). The backend's own
        expression stays in :attr:`Model.raw_expression`.
    backend_options
        Extra keyword arguments for the genetic backend's regressor.

    Returns
    -------
    Model

    Raises
    ------
    DataError, LibraryError, FitError, ParseError
        On bad input, each naming the problem.

    Examples
    --------
    >>> from discovery import cannon_data
    >>> model = discover(cannon_data(n=300, random_state=1), target="s",
    ...                  constants={"g": 9.81})
    >>> model.expression
    v**2*sin(2*theta)/g
    """
    started = time.perf_counter()
    if method not in METHODS:
        raise FitError(f"Unknown method {method!r}; expected one of: {', '.join(METHODS)}.")
    if solver not in SOLVERS:
        raise FitError(f"Unknown solver {solver!r}; expected one of: {', '.join(SOLVERS)}.")
    if selection not in SELECTIONS:
        raise FitError(f"Unknown selection {selection!r}; expected one of: "
                       f"{', '.join(SELECTIONS)}.")
    if not isinstance(max_terms, (int, np.integer)) or max_terms < 1:
        raise FitError(f"max_terms must be a positive integer; got {max_terms!r}.")
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise FitError(f"n_bootstrap must be a non-negative integer; got {n_bootstrap!r}.")
    if not 0 < confidence < 1:
        raise FitError(f"confidence must be between 0 and 1; got {confidence!r}.")
    # Every parameter is checked before any work (scikit-learn's rule), so a
    # bad one fails at once, not after a minute of fitting.
    if isinstance(cv_folds, bool) or not isinstance(cv_folds, (int, np.integer)) or cv_folds < 2:
        raise FitError(f"cv_folds must be an integer of at least 2; got {cv_folds!r}.")
    if not (isinstance(validation_fraction, (int, float)) and 0 < validation_fraction < 1):
        raise FitError(f"validation_fraction must be between 0 and 1 (the share of rows held "
                       f"out); got {validation_fraction!r}.")
    if time_limit is not None and not (isinstance(time_limit, (int, float))
                                       and math.isfinite(time_limit) and time_limit > 0):
        raise FitError(f"time_limit must be a positive number of seconds or None; "
                       f"got {time_limit!r}.")
    if max_evaluations is not None and (
            isinstance(max_evaluations, bool)
            or not isinstance(max_evaluations, (int, np.integer)) or max_evaluations < 1):
        raise FitError(f"max_evaluations must be a positive integer; got {max_evaluations!r}.")
    if random_state is not None and (isinstance(random_state, bool)
                                     or not isinstance(random_state, (int, np.integer))):
        raise FitError(f"random_state must be an integer or None; got {random_state!r}.")
    torch_device = resolve_device(device)
    options = {} if method == "sparse" else backend(method).options(
        dict(backend_options or {}), max_evaluations)
    named = dict(constants or {})
    hints = {v.name: v for v in (inputs or []) if isinstance(v, Variable)}
    names = None if inputs is None else [v.name if isinstance(v, Variable) else v
                                         for v in inputs]
    dataset = prepare(data, target, names)
    clash = sorted(set(named) & set(dataset.inputs))
    if clash:
        raise FitError(f"Constant name(s) {', '.join(clash)} are also input columns; "
                       "rename the constant.")
    if selection == "extrapolation" and split_on is None:
        raise FitError(f"selection='extrapolation' needs split_on=INPUT, the input to "
                       f"extrapolate along; inputs are: {', '.join(dataset.inputs)}.")
    if split_on is not None and split_on not in dataset.inputs:
        raise FitError(f"split_on={split_on!r} is not an input; inputs are: "
                       f"{', '.join(dataset.inputs)}.")
    if selection in ("kfold", "cv") and cv_folds > dataset.n:
        raise FitError(f"cv_folds={cv_folds} is more folds than the {dataset.n} rows.")
    validation = selection if selection in VALIDATIONS else (
        "extrapolation" if split_on is not None and selection != "cv" else "kfold")
    settings = _Settings(solver=solver, selection=selection, max_terms=max_terms,
                         cv_folds=cv_folds, constants=named, simplify=simplify,
                         device=torch_device, random_state=random_state,
                         validation=validation, validation_fraction=validation_fraction,
                         split_on=split_on)
    if method != "sparse":
        from ._genetic import discover_genetic

        model = discover_genetic(dataset, method, settings, started=started, polish=polish,
                                 time_limit=time_limit, options=options)
        _assess(model, dataset, settings, n_bootstrap, confidence)
        library = _library("auto", dataset.columns, dataset.inputs, hints)
        design = library.evaluate(dataset.columns, device=settings.device)
        _judge(model, dataset, settings, design.matrix)
        model.names = dict(dataset.names)
        return model
    t0 = time.perf_counter()
    library = _library(basis, dataset.columns, dataset.inputs, hints)
    if not (isinstance(basis, str) and basis == "auto"):
        t1 = time.perf_counter()
        design = _evaluate(library, dataset, settings)
        model = fit_library(dataset, library, settings, started=started, design=design,
                            timings={"library": t1 - t0, "evaluate": time.perf_counter() - t1})
    else:
        # Every route is fitted unsimplified (sympy.simplify on a long losing
        # expression can take a minute); only the winner is simplified.
        search = replace(settings, simplify=False)
        t1 = time.perf_counter()
        design = _evaluate(library, dataset, settings)
        model = fit_library(dataset, library, search, started=started, design=design,
                            timings={"library": t1 - t0, "evaluate": time.perf_counter() - t1})
        model = _other_routes(model, library, design, dataset, search, started)
        if settings.simplify:
            _simplify_model(model)
    _assess(model, dataset, settings, n_bootstrap, confidence)
    if not _exact_enough(model, dataset) and (n_bootstrap == 0 or model.metrics.get("strategy")):
        # The bootstrap re-selected only library fits; the others are replicated on halves.
        t = time.perf_counter()
        model.metrics["replication"] = _replication(model, library, design, dataset,
                                                    replace(settings, simplify=False))
        model.info["timings"]["replication"] = time.perf_counter() - t  # type: ignore[index]
    _judge(model, dataset, settings, design.matrix)
    model.names = dict(dataset.names)
    # The total covers every route tried, whichever won, and the assessment.
    model.info["timings"] = {**(model.info.get("timings") or {}),  # type: ignore[dict-item]
                             "total": time.perf_counter() - started}
    log.info("Discovered %s", model)
    return model


def _assess(model: Model, dataset: Dataset, settings: _Settings, n_bootstrap: int,
            confidence: float) -> None:
    """Intervals and diagnostics where the sparse engine chose the model's terms.

    Every route fits ``dataset``'s rows, so the splits drawn here are those a
    validation criterion chose by.
    """
    t = time.perf_counter()
    state = model._fit
    if state is None:
        model.uncertainty = {"reason": model.info.get(
            "no_uncertainty", "the model's coefficients were not fitted by least squares")}
        return
    splits = state.splits or settings.splits(dataset)
    model.metrics["validation"] = splits.description
    seconds = assess(model, state, splits, n_bootstrap=n_bootstrap, level=confidence,
                     max_terms=settings.max_terms, random_state=settings.random_state,
                     selection=settings.selection)
    model.info["timings"] = {**(model.info.get("timings") or {}),  # type: ignore[dict-item]
                             **seconds, "uncertainty": time.perf_counter() - t}


def _evaluate(library: Library, dataset: Dataset, settings: _Settings) -> Design:
    """``library`` on ``dataset``'s inputs, with the message fit_library gives for unknown names."""
    unknown = sorted(s.name for s in library.symbols if s.name not in dataset.columns)
    if unknown:
        raise LibraryError(f"The basis uses {', '.join(unknown)}, which are not inputs; "
                           f"inputs are: {', '.join(dataset.inputs)}.")
    return library.evaluate(dataset.columns, device=settings.device)


def _judge(model: Model, dataset: Dataset, settings: _Settings, design: torch.Tensor) -> None:
    """Attach :attr:`Model.verdict`; ``design`` is the library evaluated on the rows."""
    t = time.perf_counter()
    exact = bool(model.metrics.get("exact_fit")) or _exact_enough(model, dataset)
    signal = None
    if not exact:
        y = torch.tensor(dataset.y, dtype=design.dtype, device=design.device)
        signal = signal_test(design, y, max_terms=settings.max_terms,
                             random_state=settings.random_state)
    model.verdict = verdict(model, dataset, signal, exact=exact, max_terms=settings.max_terms,
                            random_state=settings.random_state)
    model.info["timings"] = {**(model.info.get("timings") or {}),  # type: ignore[dict-item]
                             "verdict": time.perf_counter() - t}


def _simplify_model(model: Model) -> None:
    t = time.perf_counter()
    model.expression = simplify_expression(model.expression)
    model.metrics["complexity"] = model.complexity
    timings = dict(model.info.get("timings") or {})  # type: ignore[call-overload]
    timings["constants_simplify"] = timings.get("constants_simplify", 0.0) + (
        time.perf_counter() - t)
    model.info["timings"] = timings


def _bic(model: Model, n: int, extra: int, floor: float, search: float = 0.0) -> float:
    """BIC on the original scale; ``extra`` counts fitted parameters beyond the terms.

    ``search`` is the log of the number of structures the route chose among
    (``log C(p, k)`` for k terms picked from p library columns, the extended
    BIC's price of the search, Chen & Chen 2008, γ = 1/2): twelve terms
    picked from hundreds fit noise better than a power law with two exponents
    and must not win by that alone; a factor picked from hundreds of
    candidates likewise pays for the picking.
    """
    rss = float(model.metrics["mse"]) * n  # type: ignore[arg-type]
    return ebic(rss, n, 0, len(model.terms) + extra, floor * n, gamma=0.0) + search


def _other_routes(model: Model, library: Library, design: Design, dataset: Dataset,
                  settings: _Settings, started: float) -> Model:
    """Try power laws in log space and fits of transformed targets; keep the lowest BIC.

    Every alternative is judged on the original target, with its extra fitted
    parameters (exponents, the choice of transform) charged to it. The
    transformed targets reuse ``library``, already built (with the user's
    variable hints), compiled and evaluated (``design``) for the first fit.
    """
    from ._strategies import TRANSFORMS, power_laws

    n = dataset.n
    floor = EXACT_RSS * float(np.mean(dataset.y**2))
    p = len(design.terms)
    best, best_bic = model, _bic(model, n, 0, floor, log_comb(p, len(model.terms)))
    if _exact_enough(model, dataset):
        return model
    tried = [(best_bic, model)]
    for shape, n_exponents, search in power_laws(dataset, random_state=settings.random_state):
        if _exact_enough(best, dataset):
            break
        try:
            alternative = fit_library(dataset, Library([shape], spec="power law (log-space fit)"),
                                      settings, started=started, timings={})
        except (FitError, LibraryError):
            continue
        alternative.metrics["strategy"] = "power law"
        score = _bic(alternative, n, n_exponents, floor, search)
        tried.append((score, alternative))
        if score < best_bic:
            best, best_bic = alternative, score
    factored = None if _exact_enough(best, dataset) else _best_factored(
        dataset, library, design, settings, started)
    if factored is not None:
        # The exponents of every input were estimated to propose the factor.
        score = _bic(factored, n, len(dataset.inputs), floor, log_comb(p, len(factored.terms)))
        tried.append((score, factored))
        if score < best_bic:
            best, best_bic = factored, score
    rational = None if _exact_enough(best, dataset) else _rational_route(
        dataset, library, design, settings, model)
    if rational is not None:
        score = _bic(rational, n,
                     int(rational.info["n_parameters"]) - len(rational.terms),  # type: ignore[call-overload]
                     floor, float(rational.info["search"]))  # type: ignore[arg-type]
        tried.append((score, rational))
        if score < best_bic:
            best, best_bic = rational, score
    for name, *_ in TRANSFORMS:
        if _exact_enough(best, dataset):
            break
        fitted = _transform_fit(name, dataset, library, design, settings, started)
        if fitted is None:
            continue
        inner, inverted = fitted
        # Every inner coefficient is a fitted parameter, plus the choice of transform.
        score = _bic(inverted, n, len(inner.terms) + 1 - len(inverted.terms), floor,
                     log_comb(p, len(inner.terms)))
        tried.append((score, inverted))
        if score < best_bic:
            best, best_bic = inverted, score
    _note_rival_routes(best, best_bic, tried, dataset)
    return best


def _rational_route(dataset: Dataset, library: Library, design: Design,
                    settings: _Settings, base: Model) -> Model | None:
    """The rational law P/Q of :mod:`discovery._rational` as a Model, or None."""
    from ._rational import rational_fit, rational_model

    fitted = rational_fit(dataset, library, design, settings)
    model = None if fitted is None else rational_model(fitted, dataset, base)
    if model is not None and fitted is not None:
        model.info.update(n_parameters=fitted.n_parameters, search=fitted.search)
    return model


def _factored_fit(factor: sympy.Expr, dataset: Dataset, library: Library, design: Design,
                  settings: _Settings, started: float) -> Model | None:
    """The library fit of y with every column multiplied by the monomial ``factor``."""
    from ._strategies import _evaluate as values_of

    values = values_of(factor, dataset)
    if values is None:
        return None
    scale = torch.tensor(np.array(values), dtype=design.matrix.dtype, device=design.matrix.device)
    scaled = replace(design, matrix=design.matrix * scale[:, None],
                     terms=tuple(factor * t for t in design.terms))
    try:
        model = fit_library(dataset, library, settings, started=started, timings={},
                            design=scaled)
    except (FitError, LibraryError):
        return None
    model.metrics["strategy"] = f"library times {factor}"
    model.info["common_factor"] = str(factor)
    return model


def _best_factored(dataset: Dataset, library: Library, design: Design, settings: _Settings,
                   started: float, also: sympy.Expr | None = None) -> Model | None:
    """The factored fit (:func:`_factored_fit`) of lowest BIC over the factors
    proposed for ``dataset`` (and ``also``)."""
    from ._strategies import common_factors

    factors = common_factors(dataset)
    if also is not None and also not in factors:
        factors.append(also)
    best, best_bic = None, math.inf
    floor = EXACT_RSS * float(np.mean(dataset.y**2))
    for factor in factors:
        fitted = _factored_fit(factor, dataset, library, design, settings, started)
        if fitted is None:
            continue
        # The exponents of every input were estimated to propose the factor.
        score = _bic(fitted, dataset.n, len(dataset.inputs), floor,
                     log_comb(len(design.terms), len(fitted.terms)))
        if score < best_bic:
            best, best_bic = fitted, score
        if _exact_enough(fitted, dataset):
            break
    return best


def _transform_fit(name: str, dataset: Dataset, library: Library, design: Design,
                   settings: _Settings, started: float) -> tuple[Model, Model] | None:
    """The library fit of transformed target ``name`` and the model it gives for y.

    Rows are weighted by 1/|g'(y)| (the delta method), so the fit approximates
    least squares on y. None where the transform does not apply or its
    weighted R² is below 0.99.
    """
    from ._strategies import TRANSFORMS

    _, forward, inverse, slope = next(t for t in TRANSFORMS if t[0] == name)
    with np.errstate(all="ignore"):
        z = forward(dataset.y)
        root_weight = 1 / np.abs(slope(dataset.y))
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(root_weight))) or np.ptp(z) == 0:
        return None
    # The linearisation fails where the noise is comparable to y (1/|2y| for y² grows
    # without bound as a noisy y nears 0, and a few such rows would steer the fit):
    # no row weighs more than ten times the median.
    root_weight = np.minimum(root_weight, 10 * float(np.median(root_weight)))
    root_weight = root_weight / math.sqrt(float(np.mean(root_weight**2)))
    scale = torch.as_tensor(root_weight, dtype=design.matrix.dtype, device=design.matrix.device)
    weighted = replace(design, matrix=design.matrix * scale[:, None])
    try:
        inner = fit_library(replace(dataset, y=z * root_weight), library, settings,
                            started=started, timings={}, design=weighted)
    except (FitError, LibraryError):
        return None
    # R² of the weighted fit; training metrics on z would mix weighted and not.
    zw = z * root_weight
    mean = float(np.sum(zw * root_weight) / np.sum(root_weight**2))
    tss = float(np.sum((zw - mean * root_weight) ** 2))
    rss = float(inner.metrics["mse_refit"]) * dataset.n  # type: ignore[arg-type]
    if tss <= 0 or 1 - rss / tss < 0.99:
        return None
    inverted = _model_of(inverse(inner.expression), dataset, inner, name)
    return None if inverted is None else (inner, inverted)


def _structure(model: Model) -> frozenset[str]:
    """The terms a route chose: the inner fit's for a transformed target, else the model's."""
    inner: list[dict[str, object]] = model.info.get("inner_terms") or []  # type: ignore[assignment]
    if inner:
        return frozenset(str(t["term"]) for t in inner)
    return frozenset(str(t.term) for t in model.terms)


def _replication(model: Model, library: Library, design: Design, dataset: Dataset,
                 settings: _Settings) -> dict[str, object]:
    """Refit the winning route on each half of the rows: do both halves choose its terms?

    Split-half replication (the two-half case of stability selection,
    Meinshausen & Bühlmann 2010), for models the bootstrap did not assess
    (power laws, transformed targets, ``n_bootstrap=0``): a formula whose
    terms only one half of the data would choose is not established by them.
    """
    from ._strategies import power_laws

    strategy = str(model.metrics.get("strategy") or "library")
    generator = np.random.default_rng(0 if settings.random_state is None
                                      else settings.random_state + 11)
    order = generator.permutation(dataset.n)
    mine = _structure(model)
    halves = []
    for rows in (np.sort(order[: dataset.n // 2]), np.sort(order[dataset.n // 2:])):
        half = replace(dataset, y=dataset.y[rows],
                       columns={k: v[rows] for k, v in dataset.columns.items()})
        half_design = replace(design, matrix=design.matrix[torch.as_tensor(
            rows, device=design.matrix.device)])
        try:
            if strategy == "power law":
                # The same law may come back spelled otherwise (c³/(v·sqrt(c²/v² − 1))
                # is c²/sqrt(1 − v²/c²) for positive c, v): compared by values.
                shapes = [s for s, *_ in power_laws(half, random_state=settings.random_state)]
                same = any(_proportional(s, model.terms[0].term, dataset) for s in shapes)
                halves.append(mine if same else frozenset(str(s) for s in shapes))
            elif strategy.startswith("library times "):
                # Another factor may carry the same terms (G m₁m₂/(r₁r₂) · r₁ is G m₁m₂ · 1/r₂).
                factored = _best_factored(half, library, half_design, settings, 0.0,
                                          sympy.sympify(model.info["common_factor"], locals={
                                              str(s): s for s in as_symbols(dataset.inputs)}))
                halves.append(frozenset() if factored is None else _structure(factored))
            elif strategy == "rational":
                from ._rational import rational_fit

                rational = rational_fit(half, library, half_design, settings)
                halves.append(frozenset() if rational is None else frozenset(rational.terms))
            elif strategy.startswith("fit of "):
                name = strategy[len("fit of "):].split(",")[0]
                fitted = _transform_fit(name, half, library, half_design, settings, 0.0)
                halves.append(frozenset() if fitted is None else _structure(fitted[1]))
            else:
                halves.append(_structure(fit_library(half, library, settings, started=0.0,
                                                     timings={}, design=half_design)))
        except (FitError, LibraryError):
            halves.append(frozenset())
    return {"replicated": all(h == mine for h in halves),
            "halves": [sorted(h) for h in halves]}


def _proportional(a: sympy.Expr, b: sympy.Expr, dataset: Dataset) -> bool:
    """Whether ``a`` is a constant multiple of ``b`` on ``dataset``'s rows (to 1e-6)."""
    from ._strategies import _evaluate

    va, vb = _evaluate(a, dataset), _evaluate(b, dataset)
    if va is None or vb is None or np.any(vb == 0):
        return False
    ratio = va / vb
    return bool(np.ptp(ratio) <= 1e-6 * np.max(np.abs(ratio)))


def _note_rival_routes(best: Model, best_bic: float, tried: list[tuple[float, Model]],
                       dataset: Dataset) -> None:
    """Note on ``best`` the other routes' formulas that score within 2 of it.

    A formula of another shape that predicts the rows differently but scores
    as well means the data do not decide between them (Kass & Raftery 1995:
    a BIC difference below 2 is "not worth more than a bare mention").
    Formulas that predict the same rows to 1e-6 are the same law.
    """
    if _exact_enough(best, dataset):
        return
    mine = best.predict(dataset.columns)
    scale = float(np.sqrt(np.mean(mine**2))) or 1.0
    rivals = []
    for score, other in tried:
        if other is best or not score < best_bic + 2:
            continue
        with np.errstate(all="ignore"):
            theirs = other.predict(dataset.columns)
        if np.all(np.isfinite(theirs)) and np.max(np.abs(theirs - mine)) > 1e-6 * scale:
            rivals.append(str(other.metrics.get("strategy", "library fit")))
    if rivals:
        notes: list[str] = list(best.metrics.get("identifiability") or [])  # type: ignore[call-overload]
        notes.append(f"{len(rivals)} formula(s) of another shape ({', '.join(rivals)}) score "
                     "within 2 of it (BIC): the data barely prefer this one")
        best.metrics["identifiability"] = notes


def _exact_enough(model: Model, dataset: Dataset) -> bool:
    """A fit at the rounding floor (:data:`EXACT_RSS` of y·y) needs no other route.

    Not R² > 1 - 1e-12: twelve smooth terms found by the subset search can
    approximate exp(-θ²/2) that closely on a finite range, and would then
    hide the exact one-term power law.
    """
    rss = float(model.metrics["mse"]) * dataset.n  # type: ignore[arg-type]
    return rss <= EXACT_RSS * float(dataset.y @ dataset.y)


def _model_of(expression: sympy.Expr, dataset: Dataset, inner: Model,
              transform: str) -> Model | None:
    """A model that is ``expression`` on the original target (from a transformed fit)."""
    from ._genetic import model_from_expression

    try:
        model = model_from_expression(expression, dataset, method="sparse", front=[],
                                      info=dict(inner.info), constants=dict(inner.constants))
    except (FitError, ValueError, TypeError, ZeroDivisionError):
        return None
    if not math.isfinite(float(model.metrics["mse"])):  # type: ignore[arg-type]
        return None
    model.pareto = inner.pareto
    model.library = inner.library
    model.metrics["strategy"] = f"fit of {transform}, inverted"
    model.info["inner_terms"] = [t.to_dict() for t in inner.terms]
    model.info["no_uncertainty"] = (f"it is a least-squares fit of {transform}, inverted; the "
                                    "inner fit's terms are in info['inner_terms']")
    return model


@dataclass(frozen=True)
class _Settings:
    """The sparse engine's settings, validated once by :func:`discover`."""

    solver: str
    selection: str
    max_terms: int
    cv_folds: int
    constants: dict[str, float]
    simplify: bool
    device: torch.device
    random_state: int | None
    validation: str = "kfold"
    validation_fraction: float = 0.25
    split_on: str | None = None

    @property
    def criterion(self) -> str:
        """``"bic"``, ``"aic"`` or ``"validation"``."""
        return self.selection if self.selection in ("bic", "aic") else "validation"

    def splits(self, dataset: Dataset) -> Splits:
        values = None if self.split_on is None else dataset.columns[self.split_on]
        return validation_splits(dataset.n, self.validation, folds=self.cv_folds,
                                 fraction=self.validation_fraction, values=values,
                                 name=self.split_on or "", random_state=self.random_state)


def fit_library(dataset: Dataset, library: Library, settings: _Settings, *,
                started: float, timings: dict[str, float], method: str = "sparse",
                design: Design | None = None) -> Model:
    """The sparse engine on one library: evaluate, search, refit, select, recognise.

    ``design`` is the library already evaluated on ``dataset``'s inputs (fits
    of a transformed target reuse it; only y changes).
    """
    t1 = time.perf_counter()
    if design is None:
        design = _evaluate(library, dataset, settings)
    if design.matrix.shape[1] == 0:
        raise FitError("Every candidate term is non-finite or zero on the data; "
                       "try another basis.")
    t2 = time.perf_counter()
    X = design.matrix
    y = torch.tensor(dataset.y, dtype=X.dtype, device=X.device)
    Xs, _ = scale_columns(X)
    supports = candidate_supports(Xs, y, solver=settings.solver, max_terms=settings.max_terms,
                                  complexity=[_complexity(t) for t in design.terms])
    if not supports:
        raise FitError("No candidate model was found; the target may be constant zero.")
    # Validation errors are needed here only to choose by them; otherwise the
    # assessment draws the splits and scores the winning route's candidates alone.
    splits = settings.splits(dataset) if settings.criterion == "validation" else None
    candidates = score_candidates(X, y, supports, design.terms, splits=splits)
    # Backward elimination from the best few candidates adds what forward
    # selection cannot reach (a support without its early, now redundant, terms).
    best_few = sorted(candidates, key=lambda c: c.bic)[:PRUNE_BEST]
    pruned = {backward_prune(X, y, c.support) for c in best_few} - set(supports)
    if pruned:
        candidates += score_candidates(X, y, sorted(pruned), design.terms, splits=splits)
    best = choose(candidates, settings.criterion)
    t3 = time.perf_counter()

    chosen = candidates[best]
    chosen_terms = [design.terms[i] for i in chosen.support]
    named = settings.constants
    closed, consistent, fixed = _closed_forms(X, y, chosen, chosen_terms, named)
    raw = sympy.Add(*[sympy.Float(c, 15) * t for c, t in zip(chosen.coef, chosen_terms)])
    expression = sympy.Add(*[(f if f is not None else sympy.Float(c, 15)) * t
                             for c, f, t in zip(chosen.coef, closed, chosen_terms)])
    if settings.simplify:
        expression = simplify_expression(expression)
    t4 = time.perf_counter()

    model_terms = [ModelTerm(term=t, coefficient=float(c), std_error=float(s), closed_form=f,
                             consistent_with=w)
                   for t, c, s, f, w in zip(chosen_terms, chosen.coef, chosen.std_error, closed,
                                            consistent)]
    front = pareto_front(candidates)
    if best not in front:
        front = sorted([*front, best], key=lambda i: candidates[i].complexity)
    pareto = pd.DataFrame([{
        "complexity": candidates[i].complexity, "n_terms": candidates[i].n_terms,
        "error": candidates[i].mse, "bic": candidates[i].bic, "aic": candidates[i].aic,
        "validation_mse": candidates[i].validation_mse,
        "expression": str(sympy.Add(*[sympy.Float(c, 6) * design.terms[j] for c, j in
                                      zip(candidates[i].coef, candidates[i].support)])),
        "chosen": i == best} for i in front])
    model = Model(expression=expression, raw_expression=raw, inputs=dataset.inputs,
                  target=dataset.target, terms=model_terms, constants=named, pareto=pareto,
                  library={**library.to_dict(), "evaluated": len(design.terms),
                           "dropped": design.dropped, "collinear": design.collinear},
                  method=method)
    model.metrics = {**training_metrics(model, dataset), "mse_refit": chosen.mse,
                     "n_terms": chosen.n_terms, "library_size": len(library),
                     "constants_fixed": fixed, "selection": settings.selection,
                     "solver": settings.solver, "n_candidates": len(candidates),
                     "exact_fit": bool(chosen.exact),
                     "identifiability": identifiability(candidates, best, dataset.n,
                                                        settings.criterion)}
    model.info = {"device": str(settings.device), "source": dataset.source, "timings": {
        "library": timings.get("library", 0.0), "evaluate": timings.get("evaluate", t2 - t1),
        "fit": t3 - t2, "constants_simplify": t4 - t3, "total": time.perf_counter() - started}}
    model._fit = FitState(X=X, y=y, terms=tuple(design.terms), candidates=tuple(candidates),
                          chosen=best, splits=splits, criterion=settings.criterion,
                          front=tuple(front))
    return model


@functools.lru_cache(maxsize=20_000)
def _complexity(term: sympy.Expr) -> int:
    """:func:`term_complexity`, remembered: every route of one fit sizes the same terms."""
    return term_complexity(term)


def training_metrics(model: Model, dataset: Dataset) -> dict[str, object]:
    """R², MSE, complexity and row counts of a model on its training data."""
    prediction = model.predict(dataset.columns)
    residual = dataset.y - prediction
    tss = float(((dataset.y - dataset.y.mean()) ** 2).sum())
    mse = float(np.mean(residual**2))
    return {"r2": 1.0 - float((residual**2).sum()) / tss if tss > 0 else float(mse == 0),
            "mse": mse, "n_samples": dataset.n, "rows_dropped": dataset.n_dropped,
            "complexity": model.complexity}


def _closed_forms(X: torch.Tensor, y: torch.Tensor, chosen, terms, named):  # noqa: ANN001, ANN202
    """Closed forms for the chosen coefficients, kept only while the fit stays within noise.

    Each is claimed only where :func:`recognise` finds it honest (few chance
    matches at this precision); together they are kept only while a
    likelihood-ratio test does not reject them: the RSS with the snapped
    values, the other coefficients refitted, may exceed the free fit's by at
    most the 99% quantile of χ² with one degree of freedom per snapped value,
    in units of the noise variance. The least certain are dropped first.
    Also returns, for each coefficient without a claim, the simplest form it
    is consistent with, and how many were kept.
    """
    # One catalogue scan a coefficient: the simplest form in its window, claimed
    # where recognise's chance test passes, else only "consistent with".
    nearest = [consistent_with(float(c), float(s), named)
               for c, s in zip(chosen.coef, chosen.std_error)]
    forms = [f if f is not None and f.chance <= ALPHA else None for f in nearest]
    n, k = X.shape[0], len(terms)
    sigma2 = chosen.rss / max(n - k, 1)
    index = torch.as_tensor(list(chosen.support), device=X.device)
    A = X[:, index]

    def rss_with(active: list[int]) -> float:
        coef = torch.as_tensor(chosen.coef, dtype=X.dtype, device=X.device).clone()
        for i in active:
            coef[i] = forms[i].value  # type: ignore[union-attr]
        free = [i for i in range(k) if i not in active]
        target = y - A[:, active] @ coef[active] if active else y
        if free:
            sol = torch.linalg.lstsq(A[:, free].cpu(), target.cpu()[:, None]).solution[:, 0]
            coef[free] = sol.to(X.device)
        resid = y - A @ coef
        return float(resid @ resid)

    active = [i for i, f in enumerate(forms) if f is not None]
    # Below the rounding floor (an exact fit) a snapped constant costs nothing measurable.
    floor = EXACT_RSS * float(y @ y)
    tolerance = lambda m: (chosen.rss * 1e-9 + float(stats.chi2.ppf(0.99, m)) * sigma2  # noqa: E731
                           + floor)
    # Drop the least certain recognitions until the joint RSS is within noise.
    order = sorted(active, key=lambda i: abs(chosen.coef[i] - forms[i].value)  # type: ignore[union-attr]
                   / max(float(chosen.std_error[i]), 1e-300))
    while order and rss_with(order) - chosen.rss > tolerance(len(order)):
        order.pop()
    kept = set(order)
    final = [f.expr if (f is not None and i in kept) else None for i, f in enumerate(forms)]
    if not math.isfinite(sigma2):
        final = [None] * k
    consistent = [None if f is not None or c is None else c.expr for f, c in zip(final, nearest)]
    return final, consistent, sum(f is not None for f in final)
