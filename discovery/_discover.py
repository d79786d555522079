"""``discover``: data in, verified formula out."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import sympy
import torch

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
)

from ._data import Dataset, prepare
from ._progress import Stages
from .backends.registry import BACKENDS, backend
from .bigdata.distributed import TableParts, streams
from .bigdata.rows import (
    SEARCH_ROWS,
    RowSplit,
    held_out_fit,
    held_out_intervals,
    held_out_noise,
    split_rows,
)
from .bigdata.screen import KEEP_AT_MOST, SCREEN_ABOVE, screen_inputs, screen_residual
from .errors import FitError
from .model import Model
from .routes.base import RouteKind, exact_enough
from .routes.compare import other_routes, replication, route_refit
from .routes.dimensional import (
    SEARCHED,
    Engine,
    admitted,
    differences_model,
    dimensional_model,
    lower_bic,
    units_verdict,
)
from .routes.library import (
    Settings,
    evaluate_library,
    expressions,
    fit_library,
)
from .routes.symmetry import symmetry_model
from .search.select import (
    SELECTIONS,
    VALIDATIONS,
)
from .search.sparse import SOLVERS
from .symbolic.simplify import simplify_expression
from .symbolic.snap import closed_forms
from .uncertainty.assess import assess, constant_intervals
from .uncertainty.verdict import signal_test, verdict
from .units import Units

__all__ = ["discover", "METHODS", "SOLVERS"]

log = logging.getLogger(__name__)

#: The sparse engine, then every genetic backend of :data:`~discovery.backends.registry.BACKENDS`.
METHODS = ("sparse", *BACKENDS)


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
    search_rows: int | None = SEARCH_ROWS,
    verbose: bool | None = None,
    dask: str | None = None,
    stream: bool | None = None,
    units: Mapping[str, str] | str | None = None,
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
    search_rows
        Past this many rows the terms are chosen on a random subsample of
        this size and their coefficients and intervals estimated on the other
        rows, read in groups (sample splitting: valid intervals after
        selection, memory that does not grow with the rows). ``None``: every
        row takes part in the search.
    verbose
        A progress bar through the fit's stages on stderr: ``None`` (default)
        where stderr is a terminal, ``True`` always, ``False`` never.
    dask
        The address of a Dask scheduler (``tcp://host:8786``): ``data`` is then
        a Parquet file or a folder of Parquet parts, read by the workers; the
        client receives only the search rows and, from the other rows, small
        matrices (:mod:`discovery.bigdata.distributed`). Needs the ``dask`` and
        ``parquet`` extras.
    stream
        Read ``data`` (a path: CSV, a Parquet file, a folder of Parquet files)
        one part at a time, never whole: a Parquet file's row groups, or a CSV
        file first copied a million rows at a time into a temporary Parquet
        file. Only the search rows and small matrices are held, so data larger
        than memory can be fitted; formula and coefficients are the in-memory
        fit's. ``None`` (default) streams a path larger than 1 GiB on disk.
        Needs the ``parquet`` extra.
    units
        The unit of each input, the target and named constants, e.g.
        ``{"v": "m/s", "theta": "rad", "s": "m", "g": "m/s^2"}`` (or
        ``"v=m/s,theta=rad,s=m,g=m/s^2"``): anything pint reads. Terms must
        then balance them: no sine of a mass, every coefficient dimensionless
        or made of named constants (0.1019 s²/m is recognised as 1/g, never as
        1/π²); with every input and the target declared, the search runs on
        dimensionless groups (Buckingham π). Columns without a unit constrain
        nothing (:mod:`discovery.units`).

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
    if search_rows is not None and (isinstance(search_rows, bool) or not isinstance(
            search_rows, (int, np.integer)) or search_rows < 100):
        raise FitError(f"search_rows must be an integer of at least 100, or None for every "
                       f"row; got {search_rows!r}.")
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
    source = None
    if dask is not None:
        if method != "sparse":
            raise FitError(f"dask= runs the sparse method; got method={method!r}.")
        if not isinstance(data, (str, Path)):
            raise FitError("dask= needs data as a path: a Parquet file or a folder of them.")
        source = TableParts.open(data, target, names, dask)
    elif streams(data, stream) and (method == "sparse" or stream):
        if method != "sparse":
            raise FitError(f"stream=True runs the sparse method; got method={method!r}.")
        if not isinstance(data, (str, Path)):
            raise FitError("stream= needs data as a path: a CSV or Parquet file, or a folder "
                           "of Parquet files.")
        source = TableParts.open(data, target, names)
    try:
        if source is None:
            dataset = prepare(data, target, names)
            split = split_rows(dataset, search_rows, random_state)
        else:
            dataset, split = source.split(search_rows, random_state)
        _check_columns(dataset, named, selection, split_on, cv_folds)
        bound = None if units is None else Units.bind(
            units, inputs=dataset.inputs, target=dataset.target, constants=named,
            names=dataset.names, angles=[n for n, v in hints.items() if v.angle])
        if split is not None:
            log.info("Searching on %d random rows of %d; the rest estimate the formula.",
                     split.search.n, split.search.n + split.held_out.n)
            dataset = split.search
        validation = selection if selection in VALIDATIONS else (
            "extrapolation" if split_on is not None and selection != "cv" else "kfold")
        settings = Settings(solver=solver, selection=selection, max_terms=max_terms,
                            cv_folds=cv_folds, constants=named, simplify=simplify,
                            device=torch_device, random_state=random_state,
                            validation=validation, validation_fraction=validation_fraction,
                            split_on=split_on, units=bound)
        bar = Stages(verbose)
        try:
            model = _run(dataset, split, settings, bar, method=method, basis=basis,
                         hints=hints, n_bootstrap=n_bootstrap, confidence=confidence,
                         started=started, polish=polish, time_limit=time_limit,
                         options=options)
        finally:
            bar.close()
    finally:
        if source is not None:
            source.close()
    log.info("Discovered %s", model)
    return model


def _check_columns(dataset: Dataset, named: Mapping[str, float], selection: str,
                   split_on: str | None, cv_folds: int) -> None:
    """The checks of the arguments that need the data's columns."""
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


def _run(dataset: Dataset, split: RowSplit | None, settings: Settings,
         bar: Stages, *, method: str, basis: object, hints: Mapping[str, Variable],
         n_bootstrap: int, confidence: float, started: float, polish: bool,
         time_limit: float | None, options: dict[str, object]) -> Model:
    """Everything :func:`discover` does after checking its arguments."""
    random_state = settings.random_state
    if method != "sparse":
        from .backends.genetic import discover_genetic

        model = discover_genetic(dataset, method, settings, started=started, polish=polish,
                                 time_limit=time_limit, options=options)
        bar.done("other routes")
        model = _assess(model, dataset, settings, n_bootstrap, confidence)
        bar.done("intervals")
        library = _library("auto", dataset.columns, dataset.inputs, hints)
        design = library.evaluate(dataset.columns, device=settings.device)
        model = _judge(model, dataset, settings, design.matrix)
        bar.done("verdict")
        model = model.replace(names=dataset.names)
        if split is not None:
            model = _estimate_held_out(model, split, settings, n_bootstrap, confidence)
        bar.done("estimate on the other rows")
        return model
    screening = None
    if isinstance(basis, str) and basis == "auto" and len(dataset.inputs) > SCREEN_ABOVE:
        t = time.perf_counter()
        screening = screen_inputs(dataset.columns, dataset.inputs, dataset.y, random_state)
        log.info("Screening: %s", screening.describe())
        every, dataset = dataset, _with_inputs(dataset, screening.kept or dataset.inputs[:1])
        screened_s = time.perf_counter() - t
    bar.done("screen inputs")
    model, library, design = _search(dataset, basis, hints, settings, started, bar)
    if screening is not None:
        # Iterated screening: inputs left out that explain the residual join, once.
        more = screen_residual(every.columns, [c for c in every.inputs if c not in dataset.inputs],
                               dataset.y - model.predict(dataset.columns), random_state,
                               KEEP_AT_MOST + 2 - len(dataset.inputs))
        if more:
            log.info("Screening the residual adds %s.", ", ".join(more))
            dataset = _with_inputs(every, [c for c in every.inputs
                                           if c in dataset.inputs or c in more])
            model, library, design = _search(dataset, basis, hints, settings, started, bar)
        model = model.updated(
            metrics={"screening": {**screening.to_dict(), "kept": list(dataset.inputs),
                                   "from_residual": more}},
            timings={"screening": screened_s})
    model = _assess(model, dataset, settings, n_bootstrap, confidence)
    routed = RouteKind.of(model) is not RouteKind.LIBRARY
    if not exact_enough(model, dataset) and (n_bootstrap == 0 or routed):
        # The bootstrap re-selected only library fits; the others are replicated on halves.
        t = time.perf_counter()
        replicated = replication(model, library, design, dataset,
                                 replace(settings, simplify=False))
        model = model.updated(metrics={"replication": replicated},
                              timings={"replication": time.perf_counter() - t})
    bar.done("intervals")
    model = _discrete_inputs(model, dataset)
    model = _judge(model, dataset, settings, design.matrix, design.terms)
    if settings.units is not None:
        model = units_verdict(model, settings.units)
    bar.done("verdict")
    model = model.replace(names=dataset.names)
    if screening is not None:
        # The formula uses the kept inputs; predict takes every input it was given.
        model = model.replace(inputs=every.inputs)
    if split is not None:
        model = _estimate_held_out(model, split, settings, n_bootstrap, confidence)
    bar.done("estimate on the other rows")
    # The total covers every route tried, whichever won, and the assessment.
    return model.updated(timings={"total": time.perf_counter() - started})


#: Symmetries of the inputs used in a row by one search (:mod:`discovery.routes.symmetry`).
SYMMETRY_DEPTH = 2


def _search(dataset: Dataset, basis: object, hints: Mapping[str, Variable],
            settings: Settings, started: float, bar: Stages,
            extra: Sequence[sympy.Expr] = (), differences: bool = True,
            depth: int = SYMMETRY_DEPTH) -> tuple[Model, Library, Design]:
    """The sparse engine on ``dataset``: the library fit, and for the auto library the
    other routes; the winner simplified. ``extra`` terms join the library; with
    ``differences`` and units, differences of like-unit inputs are tried as inputs;
    where the fit is long and not exact, the inputs' symmetries (up to ``depth`` in a
    row, :mod:`discovery.routes.symmetry`)."""
    t0 = time.perf_counter()
    library = _library(basis, dataset.columns, dataset.inputs, hints)
    if extra:
        library = Library([*library.terms, *extra], spec=library.spec)
    auto = isinstance(basis, str) and basis == "auto"
    units = settings.units if auto else None
    fitted = library
    if units is not None:  # the library fit takes terms that balance; routes, any unit
        fitted, library = admitted(library, units, dataset, settings.constants)
    t1 = time.perf_counter()
    design = evaluate_library(library, dataset, settings)
    bar.done("library")
    # With the auto library every route is fitted unsimplified (sympy.simplify on
    # a long losing expression can take a minute); only the winner is simplified.
    search = replace(settings, simplify=False) if auto else settings
    t2 = time.perf_counter()
    reduced = None
    if units is not None and units.complete(dataset.inputs):
        reduced = dimensional_model(dataset, search, _engine(search, started))
    t3 = time.perf_counter()
    if reduced is not None and exact_enough(reduced, dataset) and len(reduced.terms) <= 2:
        model = reduced  # the units and a short F settle it
    else:
        model = fit_library(dataset, fitted, search, started=started,
                            design=design if fitted is library else None,
                            timings={"library": t1 - t0, "evaluate": t2 - t1})
        if auto:
            model = other_routes(model, library, design, dataset, search, started)
        if reduced is not None:
            model = lower_bic(model, reduced, dataset, len(design.terms))
        if units is not None and differences and not exact_enough(model, dataset) \
                and len(model.terms) > 3:
            model = differences_model(model, dataset, hints, search, _engine(search, started),
                                      len(design.terms))
        # A symmetry is sought where the fit is long (terms or fitted numbers) and not
        # exact, and on a problem already made smaller by one wherever it is not exact.
        if auto and depth > 0 and not exact_enough(model, dataset) and (
                depth < SYMMETRY_DEPTH
                or max(len(model.terms), len(model.expression.atoms(sympy.Float))) > 3):
            model = symmetry_model(model, dataset, hints, search, _engine(search, started),
                                   len(design.terms), depth)
    if units is not None:
        model = model.updated(timings={"dimensional": t3 - t2})
    bar.done("search")
    if auto:
        if settings.simplify:
            model = _simplify_model(model)
        bar.done("other routes")
    return model, library, design


def _engine(settings: Settings, started: float) -> Engine:
    """The search and the polish that the units' routes call back
    (:mod:`discovery.routes.dimensional`)."""
    from .backends.genetic import polish_model

    def search(data: Dataset, hints: Mapping[str, Variable], inner: Settings,
               extra: Sequence[sympy.Expr] = (), differences: bool = False,
               depth: int = SYMMETRY_DEPTH) -> Model:
        model, _, design = _search(data, "auto", hints, inner, started, Stages(False), extra,
                                   differences, depth)
        # The columns its terms were chosen among, or a nested search's where more.
        searched = max(len(design.terms), int(model.metrics.get(SEARCHED, 0)))
        return model.updated(metrics={SEARCHED: searched})

    def polish(expr: sympy.Expr, data: Dataset) -> Model:
        return polish_model(expr, data, settings, method="sparse", front=[], info={},
                            started=started)

    return Engine(search, polish)


def _with_inputs(dataset: Dataset, inputs: list[str]) -> Dataset:
    """``dataset`` with only ``inputs`` (in its order)."""
    keep = [c for c in dataset.inputs if c in inputs]
    return replace(dataset, inputs=keep, columns={c: dataset.columns[c] for c in keep})


def _assess(model: Model, dataset: Dataset, settings: Settings, n_bootstrap: int,
            confidence: float) -> Model:
    """``model`` with intervals and diagnostics where the sparse engine chose its terms.

    Every route fits ``dataset``'s rows, so the splits drawn here are those a
    validation criterion chose by.
    """
    t = time.perf_counter()
    state = model._fit
    if state is None:
        return model.replace(uncertainty={"reason": model.info.get(
            "no_uncertainty", "the model's coefficients were not fitted by least squares")})
    splits = state.splits or settings.splits(dataset)
    model, seconds = assess(model, state, splits, n_bootstrap=n_bootstrap, level=confidence,
                            max_terms=settings.max_terms, random_state=settings.random_state,
                            selection=settings.selection)
    return model.updated(metrics={"validation": splits.description},
                         timings={**seconds, "uncertainty": time.perf_counter() - t})


#: An input with at most this many distinct values is discrete (:func:`_discrete_inputs`).
_FEW_VALUES = 12


def _discrete_inputs(model: Model, dataset: Dataset) -> Model:
    """Say where an input takes few values: its form in the law is then weakly identified.

    On k distinct values every function of one input is a combination of k
    columns (the indicators of its values), so the library's forms of it are
    collinear there (those numerically so were dropped as collinear pairs).
    With as many terms in that input alone, plus a constant, as it has
    values, any function of it would fit: its form is not identified, and
    the note becomes a reason against the verdict ``law``. Otherwise the
    note (``metrics['discrete_inputs']``) says the form was chosen among the
    library's as the sparsest that fits.
    """
    notes, unidentified = [], []
    for name, symbol in zip(dataset.inputs, as_symbols(dataset.inputs)):
        k = int(np.unique(dataset.columns[name]).size)
        if k > _FEW_VALUES:
            continue
        alone = [t for t in model.terms if t.term.free_symbols == {symbol}]
        if not alone:
            continue
        notes.append(f"{name} takes only {k} distinct values: its form "
                     f"({', '.join(str(t.term) for t in alone)}) is the sparsest of the "
                     "library's that fits, not the only function that would")
        if k <= len(alone) + 1:
            unidentified.append(f"{name} takes only {k} values and the law has {len(alone)} "
                                "term(s) in it alone: any function of it would fit as well")
    metrics: dict[str, object] = {}
    if notes:
        metrics["discrete_inputs"] = notes
    if unidentified:
        metrics["identifiability"] = [*(model.metrics.get("identifiability") or []),
                                      *unidentified]
    return model.updated(metrics=metrics) if metrics else model


def _judge(model: Model, dataset: Dataset, settings: Settings, design: torch.Tensor,
           terms: Sequence[sympy.Expr] | None = None) -> Model:
    """``model`` with its :attr:`Model.verdict`; ``design`` is the library evaluated on the
    rows, ``terms`` its terms (where given, a model of other terms is refitted on the
    halves of the held-out test in its own terms: :func:`route_refit`)."""
    t = time.perf_counter()
    exact = bool(model.metrics.get("exact_fit")) or exact_enough(model, dataset)
    signal = None
    if not exact:
        y = torch.tensor(dataset.y, dtype=design.dtype, device=design.device)
        signal = signal_test(design, y, max_terms=settings.max_terms,
                             random_state=settings.random_state,
                             route=route_refit(model, dataset, settings, terms))
    found = verdict(model, dataset, signal, exact=exact, max_terms=settings.max_terms,
                    random_state=settings.random_state)
    return model.updated(verdict=found, timings={"verdict": time.perf_counter() - t})


def _estimate_held_out(model: Model, split: RowSplit, settings: Settings,
                       n_bootstrap: int, confidence: float) -> Model:
    """``model`` refitted on the rows the search did not see (:mod:`._rows`).

    Only a sum of library terms is refitted (its coefficients enter linearly);
    a route with constants inside its terms keeps the search rows' fit, and
    ``info['rows']`` says so. Closed forms are judged again at the held-out
    precision; inclusion probabilities stay those of the search rows.
    """
    t = time.perf_counter()
    rows = split.description()
    held = None
    if model._fit is None or RouteKind.of(model) is not RouteKind.LIBRARY or not model.terms:
        reason = "its constants are not coefficients of library terms"
    else:
        terms = [term.term for term in model.terms]
        held = held_out_fit(terms, split.held_out, device=settings.device,
                            n_bootstrap=n_bootstrap, random_state=settings.random_state)
        reason = "the terms are not finite or independent on the other rows"
    if held is None:
        rows.update(estimate=0, reason=reason)
    else:
        k = len(terms)
        snapped = closed_forms(held.R[:, :k], held.R[:, k], held.fit, terms,
                               settings.constants, n=split.held_out.n, units=settings.units)
        raw, expression = expressions(held.fit.coef.numpy(), snapped, terms, settings.simplify)
        bounds, kind = held_out_intervals(held, confidence)
        refitted = [replace(term, coefficient=float(c), std_error=float(s), closed_form=f,
                            consistent_with=w, interval=(float(lo), float(hi)))
                    for term, c, s, f, w, lo, hi in zip(
                        model.terms, snapped.coef, snapped.std_error, snapped.closed,
                        snapped.consistent, bounds[0], bounds[1])]
        uncertainty = {
            **model.uncertainty, "level": confidence, "interval": f"{kind} (held-out rows)",
            "dof": held.dof, "noise_std": held_out_noise(held),
            "covariance": held.fit.covariance.numpy().tolist(),
            "constants": constant_intervals(refitted, model.constants)}
        if held.boot.shape[0]:
            uncertainty["n_resamples"] = int(held.boot.shape[0])
        model = model.updated(
            raw_expression=raw, expression=expression, terms=refitted, uncertainty=uncertainty,
            metrics={"constants_fixed": snapped.fixed,
                     "mse_refit": held.fit.rss / split.held_out.n})
    return model.updated(metrics=split.held_out.metrics(model), info={"rows": rows},
                         timings={"held_out": time.perf_counter() - t})


def _simplify_model(model: Model) -> Model:
    t = time.perf_counter()
    model = model.replace(expression=simplify_expression(model.expression))
    spent = model.info.get("timings", {}).get("constants_simplify", 0.0)
    return model.updated(metrics={"complexity": model.complexity},
                         timings={"constants_simplify": spent + time.perf_counter() - t})


































