"""The fitted :class:`Model`: a formula with its terms, front, metrics and exports."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy
import torch

from basis_library import ParseError, as_symbols, parse_expression
from basis_library._compile import compile_numpy, compile_torch

from ._frozen import Record, freeze, thaw
from .errors import DataError, FitError

__all__ = ["Diagnostics", "Model", "ModelTerm", "Uncertainty", "Verdict", "load",
           "plus_minus", "FORMAT", "check_format", "json_default", "read_json_object",
           "level_label", "model_html", "terms_rows", "verdict_lines"]

FORMAT = "discovery-model/1"


@dataclass(frozen=True)
class ModelTerm:
    """One additive term of a model: ``coefficient * term``."""

    term: sympy.Expr
    coefficient: float
    std_error: float
    closed_form: sympy.Expr | None = None
    #: The coefficient's confidence interval (level in ``Model.uncertainty["level"]``)
    interval: tuple[float, float] | None = None
    #: The fraction of resampled re-selections that kept this term
    inclusion: float | None = None
    #: The simplest closed form within 3 standard errors where none is claimed
    #: (too likely a chance match at this precision): "consistent with 4/5"
    consistent_with: sympy.Expr | None = None

    @property
    def half_width(self) -> float:
        """Half the width of :attr:`interval` (NaN without one)."""
        if self.interval is None:
            return math.nan
        return (self.interval[1] - self.interval[0]) / 2

    def to_dict(self) -> dict[str, object]:
        return {"term": str(self.term), "coefficient": self.coefficient,
                "std_error": finite_or_none(self.std_error),
                "interval": (None if self.interval is None
                             else [finite_or_none(v) for v in self.interval]),
                "inclusion": self.inclusion,
                "closed_form": None if self.closed_form is None else str(self.closed_form),
                "consistent_with": None if self.consistent_with is None
                else str(self.consistent_with),
                "latex": sympy.latex(self.term)}


def _latex_text(text: str) -> str:
    """``text`` safe inside ``\\text{}``: LaTeX's special characters escaped."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
               "#": r"\#", "_": r"\_", "%": r"\%", "^": r"\^{}", "~": r"\~{}"}
    return "".join(special.get(c, c) for c in text)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _number(value: object) -> float:
    """A saved number back as a float (JSON null is NaN)."""
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False, repr=False)
class Verdict(Record):
    """Whether a fit is a law: :attr:`Model.verdict`, read as attributes or by key."""

    #: ``"law"``, ``"approximation"`` or ``"none"``; None for a model built by hand
    status: str | None = None
    #: Why, in sentences
    reasons: tuple[str, ...] | None = None
    #: The statistics the verdict rests on
    evidence: Mapping[str, Any] | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Uncertainty(Record):
    """How sure the coefficients are: :attr:`Model.uncertainty`, by attribute or by key."""

    #: The intervals' confidence level
    level: float | None = None
    #: How :attr:`ModelTerm.interval` was made ("t", "bootstrap percentile", ...)
    interval: str | None = None
    #: Residual degrees of freedom of the refit least squares
    dof: int | None = None
    #: The noise's standard deviation estimated from the refit
    noise_std: float | None = None
    #: The coefficients' covariance (rows of a matrix)
    covariance: tuple[tuple[float, ...], ...] | None = None
    #: Bootstrap resamples drawn
    n_resamples: int | None = None
    #: The fraction of resamples that chose exactly the model's terms
    support_rate: float | None = None
    #: Every term any resample picked, with its probability
    inclusion: tuple[Mapping[str, Any], ...] | None = None
    #: The interval of each named constant a coefficient was recognised as
    constants: Mapping[str, Any] | None = None
    #: Why there are no intervals, where there are none
    reason: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Diagnostics(Record):
    """How the model was chosen: :attr:`Model.diagnostics`, by attribute or by key."""

    #: The criterion, the validation split, and what BIC, AIC and validation error each choose
    selection: Mapping[str, Any] | None = None
    #: Training and validation error of the best model of each size
    complexity: Mapping[str, Any] | None = None
    #: The L1 regularisation path
    path: Mapping[str, Any] | None = None


#: Model's constructor arguments, what :meth:`Model.replace` may change.
_FIELDS = ("expression", "raw_expression", "inputs", "target", "terms", "constants", "pareto",
           "library", "metrics", "method", "info", "uncertainty", "diagnostics", "verdict",
           "names")


class Model:
    """A discovered formula, built once: :meth:`replace` gives a changed copy.

    Attributes
    ----------
    expression
        The simplified formula (sympy), recognised constants as closed forms;
        user-named constants (``g``) appear as symbols.
    numeric_expression
        ``expression`` with named constants replaced by their values.
    raw_expression
        The least-squares fit before constant recognition.
    inputs
        The input names, in the order :meth:`predict` takes columns (a tuple).
    terms
        The additive terms with coefficients and standard errors (a tuple of
        :class:`ModelTerm`).
    pareto
        DataFrame of the complexity/error front: ``complexity``, ``n_terms``,
        ``error`` (training MSE), ``bic``, ``aic``, ``validation_mse``, ``expression``,
        ``chosen`` (a copy on each access).
    metrics
        ``r2``, ``mse``, ``n_samples``, ``rows_dropped`` and more (read-only).
    uncertainty
        :class:`Uncertainty`: how sure the coefficients are (empty when not
        assessed): ``level``, ``interval`` (how :attr:`ModelTerm.interval` was
        made), ``covariance`` and ``noise_std`` of the refit least squares,
        ``dof``; with the bootstrap, ``n_resamples``, ``inclusion`` (every term
        any resample picked, with its probability) and ``support_rate``;
        ``constants``: the interval of each named constant that a coefficient
        was recognised as. ``reason`` says why it is missing where it is.
    diagnostics
        :class:`Diagnostics`: how the model was chosen: ``selection`` (the
        criterion, the validation split, and what BIC, AIC and validation
        error each choose), ``complexity`` (training and validation error of
        the best model of each size) and ``path`` (the L1 regularisation path).
    verdict
        :class:`Verdict`: ``status`` is ``"law"`` (a stable sparse formula
        explains the data down to the noise), ``"approximation"`` (it fits,
        but the residuals are structured, the fit is poor against the noise,
        the selection is unstable, or the terms are too many) or ``"none"``
        (nothing beats the mean on held-out rows); ``reasons`` says why,
        ``evidence`` the statistics. Empty for a model built by hand or imported.
    names
        The user's column name of each symbol that differs from it
        (``{"speed__m_s_": "speed (m/s)"}``): shown in LaTeX, the CLI and JSON.

    Every part reads as before (``model.verdict["status"]`` or
    ``model.verdict.status``) but none can be changed: setting an attribute
    or an entry raises, so what a fit printed is what the model holds.
    """

    def __init__(self, *, expression: sympy.Expr, raw_expression: sympy.Expr,
                 inputs: Sequence[str], target: str, terms: Sequence[ModelTerm],
                 constants: Mapping[str, float] | None = None,
                 pareto: pd.DataFrame | None = None, library: Mapping[str, object] | None = None,
                 metrics: Mapping[str, object] | None = None, method: str = "sparse",
                 info: Mapping[str, object] | None = None,
                 uncertainty: Mapping[str, Any] | None = None,
                 diagnostics: Mapping[str, Any] | None = None,
                 verdict: Mapping[str, Any] | None = None,
                 names: Mapping[str, str] | None = None, fit_state: Any = None) -> None:
        values = {
            "expression": expression, "raw_expression": raw_expression,
            "inputs": tuple(inputs), "target": target, "terms": tuple(terms),
            "constants": freeze(constants or {}),
            "_pareto": (pareto if pareto is not None else pd.DataFrame(
                columns=["complexity", "n_terms", "error", "bic", "expression", "chosen"])
                ).copy(),
            "library": freeze(library or {}), "metrics": freeze(metrics or {}),
            "method": method, "info": freeze(info or {}),
            "uncertainty": Uncertainty.of(uncertainty), "diagnostics": Diagnostics.of(diagnostics),
            "verdict": Verdict.of(verdict), "names": freeze(names or {}),
            # Compiled closures, rebuilt on demand (not part of the result).
            "_numpy": None, "_term_values": None,
            # The engine's state at selection (design matrix, candidates); not saved.
            "_fit": fit_state}
        self.__dict__.update(values)

    expression: sympy.Expr
    raw_expression: sympy.Expr
    inputs: tuple[str, ...]
    target: str
    terms: tuple[ModelTerm, ...]
    constants: Mapping[str, float]
    library: Mapping[str, Any]
    metrics: Mapping[str, Any]
    method: str
    info: Mapping[str, Any]
    uncertainty: Uncertainty
    diagnostics: Diagnostics
    verdict: Verdict
    names: Mapping[str, str]
    _fit: Any
    _pareto: pd.DataFrame
    _numpy: tuple[object, Callable[..., np.ndarray]] | None
    _term_values: tuple[object, list[Callable[..., np.ndarray]]] | None

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("_numpy", "_term_values"):  # caches of compiled functions
            self.__dict__[name] = value
            return
        raise AttributeError(f"A Model cannot be changed ({name!r}); build a changed copy with "
                             f"model.replace({name.lstrip('_')}=...).")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"A Model cannot be changed ({name!r}).")

    @property
    def pareto(self) -> pd.DataFrame:
        return self._pareto.copy()

    def replace(self, **changes: Any) -> Model:
        """A copy with ``changes`` (any constructor argument); the fit state travels along.

        Examples
        --------
        >>> import sympy
        >>> x = sympy.Symbol("x")
        >>> m = Model(expression=2 * x, raw_expression=2 * x, inputs=["x"], target="y",
        ...           terms=[ModelTerm(term=x, coefficient=2.0, std_error=0.0)])
        >>> m.replace(target="z")
        Model(z = 2*x)
        """
        unknown = sorted(set(changes) - set(_FIELDS) - {"fit_state"})
        if unknown:
            raise TypeError(f"Model.replace got unknown field(s) {', '.join(unknown)}; "
                            f"fields are: {', '.join(_FIELDS)}, fit_state.")
        current: dict[str, Any] = {name: self.__dict__["_pareto" if name == "pareto" else name]
                                   for name in _FIELDS}
        return Model(**{**current, "fit_state": self._fit, **changes})

    def updated(self, *, metrics: Mapping[str, Any] | None = None,
                info: Mapping[str, Any] | None = None,
                timings: Mapping[str, float] | None = None, **changes: Any) -> Model:
        """:meth:`replace` with ``metrics``, ``info`` and ``info['timings']`` entries added
        to (or overriding) the present ones rather than replacing them."""
        new_info = {**self.info, **(info or {})}
        if timings:
            new_info["timings"] = {**(self.info.get("timings") or {}), **timings}
        return self.replace(metrics={**self.metrics, **(metrics or {})}, info=new_info,
                            **changes)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        # Compiled closures are rebuilt on demand; the fit state is not kept.
        state.update(_numpy=None, _term_values=None, _fit=None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    # --- views ---------------------------------------------------------------
    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """Input symbols in the order of :attr:`inputs`."""
        free = self.expression.free_symbols | self.raw_expression.free_symbols
        by_name = {s.name: s for s in free}
        return tuple(by_name.get(n, as_symbols(n)[0]) for n in self.inputs)

    @property
    def numeric_expression(self) -> sympy.Expr:
        mapping = {s: sympy.Float(self.constants[s.name]) for s in self.expression.free_symbols
                   if s.name in self.constants}
        return self.expression.xreplace(mapping)

    @property
    def complexity(self) -> int:
        from basis_library import term_complexity

        return term_complexity(self.expression)

    def __repr__(self) -> str:
        return f"Model({self.target} = {self.expression})"

    def __str__(self) -> str:
        return f"{self.target} = {self.expression}"

    def _repr_latex_(self) -> str:
        """Jupyter's typeset formula (``$\\displaystyle s = …$``)."""
        return f"$\\displaystyle {_equation(self)}$"

    def _repr_html_(self) -> str:
        """Jupyter's view: the formula, the verdict and the terms with their intervals
        (:func:`model_html`)."""
        return model_html(self)

    def coefficient_unit(self, term: sympy.Expr, *, latex: bool = False) -> str | None:
        """The unit of ``term``'s coefficient where units were declared (``"s^2/m"``;
        ``"1"`` for a dimensionless one), else None."""
        key = "coefficient_unit_latex" if latex else "coefficient_unit"
        for row in (self.info.get("units") or {}).get("terms") or ():
            if row.get("term") == str(term):
                return row.get(key)
        return None

    def latex(self, *, numeric: bool = False, uncertainty: bool = False,
              units: bool = False) -> str:
        """The formula as LaTeX, e.g. ``\\frac{v^{2} \\sin{\\left(2 \\theta \\right)}}{g}``.

        Parameters
        ----------
        numeric
            Write named constants as their values.
        uncertainty
            Write each term with its fitted coefficient and the half-width of
            its interval, ``(0.10194 \\pm 0.00002)\\, v^{2} \\sin{...}``; the
            half-width is rounded to one significant digit and the coefficient
            to the same place.
        units
            Write each term with its fitted coefficient and the coefficient's
            unit, ``0.10194\\,\\mathrm{s^{2}/m}\\, v^{2} \\sin{...}`` (with
            ``uncertainty``, the coefficient ± half-width); needs a model fitted
            with ``units=``.

        Raises
        ------
        FitError
            If ``uncertainty`` is asked of a model without intervals.
        """
        if units and not self.info.get("units"):
            raise FitError("This model has no units; fit it with discover(..., units=...).")
        if not uncertainty and not units:
            return self._latex(self.numeric_expression if numeric else self.expression)
        if uncertainty and (not self.terms or any(t.interval is None for t in self.terms)):
            raise FitError("This model has no coefficient intervals"
                           + (f" ({self.uncertainty['reason']})" if self.uncertainty.get("reason")
                              else "") + "; fit it with discover(..., method='sparse').")
        parts = []
        for t in self.terms:
            if uncertainty:
                value, half = plus_minus(t.coefficient, t.half_width)
                number = f"({value} \\pm {half})"
            else:
                number = f"{t.coefficient:.6g}"
            unit = self.coefficient_unit(t.term, latex=True) if units else None
            if unit:
                number += f"\\,{unit}"
            parts.append(number if t.term == 1 else f"{number}\\, {self._latex(t.term)}")
        return " + ".join(parts)

    def _latex(self, expr: sympy.Expr) -> str:
        """LaTeX with the user's column names where they are not identifiers."""
        shown = {s: r"\text{" + _latex_text(self.names[s.name]) + "}"
                 for s in expr.free_symbols if getattr(s, "name", None) in self.names}
        return sympy.latex(expr, symbol_names=shown)

    def sympy(self) -> sympy.Expr:
        """The formula as a sympy expression (named constants as symbols)."""
        return self.expression

    # --- evaluation ------------------------------------------------------------
    def _columns(self, X: object) -> list[np.ndarray]:
        if isinstance(X, pd.DataFrame) or isinstance(X, Mapping):
            from ._data import safe_name

            keys = list(X.keys() if isinstance(X, Mapping) else X.columns)
            # Columns were renamed to identifiers when fitting ("lambda" → "lambda_",
            # "my col" → "my_col"); either spelling is accepted here.
            by_safe = {safe_name(k): k for k in keys}
            missing = [n for n in self.inputs if n not in X and n not in by_safe]
            if missing:
                raise DataError(f"predict needs the input column(s) {', '.join(missing)}; "
                                f"got: {', '.join(map(str, keys))}.")
            return [np.asarray(X[n] if n in X else X[by_safe[n]], dtype=float)
                    for n in self.inputs]
        array = np.asarray(X, dtype=float)
        if array.ndim == 1 and len(self.inputs) == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != len(self.inputs):
            raise DataError(f"predict needs an array with {len(self.inputs)} column(s) "
                            f"({', '.join(self.inputs)}); got shape {array.shape}.")
        return [array[:, j] for j in range(array.shape[1])]

    def predict(self, X: object, *, return_std: bool = False,
                interval: float | None = None) -> Any:
        """Evaluate the formula on new inputs (DataFrame, mapping or 2-D array).

        Parameters
        ----------
        return_std
            Also return the standard deviation of a new observation at each
            point, ``sqrt(noise² + φᵀ Σ φ)``, from the refit least squares
            (``φ`` the terms' values, ``Σ`` the coefficients' covariance).
        interval
            A level such as 0.95: also return the lower and upper limits of
            the Student-t prediction interval at that level.

        Returns
        -------
        ndarray, or a tuple ``(prediction, std)``, ``(prediction, lower,
        upper)`` or ``(prediction, std, lower, upper)``.

        Raises
        ------
        FitError
            If intervals are asked of a model that is not linear in fitted
            coefficients (a genetic expression as found, a fit of a
            transformed target).
        """
        columns = self._columns(X)
        prediction = self.to_numpy()(*columns)
        if not return_std and interval is None:
            return prediction
        std = self._prediction_std(columns)
        out: list[np.ndarray] = [prediction]
        if return_std:
            out.append(std)
        if interval is not None:
            if not 0 < interval < 1:
                raise FitError(f"interval must be a level between 0 and 1; got {interval!r}.")
            from .stats.intervals import t_interval

            out += list(t_interval(prediction, std, int(self.uncertainty["dof"]), interval))
        return tuple(out)

    def _prediction_std(self, columns: list[np.ndarray]) -> np.ndarray:
        covariance = self.uncertainty.get("covariance")
        if covariance is None:
            raise FitError("Prediction intervals need the covariance of a model linear in its "
                           "coefficients; this one has none"
                           + (f" ({self.uncertainty['reason']})" if self.uncertainty.get("reason")
                              else "") + ".")
        key = (tuple(self.inputs), tuple(t.term for t in self.terms))
        if self._term_values is None or self._term_values[0] != key:
            self._term_values = (key, [compile_numpy(self.symbols, t.term) for t in self.terms])
        phi = np.column_stack([f(*columns) for f in self._term_values[1]])
        sigma = np.asarray(covariance, dtype=float)
        variance = np.einsum("ij,jk,ik->i", phi, sigma, phi)
        return np.sqrt(np.maximum(variance, 0.0) + float(self.uncertainty["noise_std"]) ** 2)

    def to_numpy(self) -> Callable[..., np.ndarray]:
        """A numpy function of the input columns, in the order of :attr:`inputs`."""
        # Compiled once for each formula and inputs (a fit may still refine them).
        expression = self.numeric_expression
        key = (tuple(self.inputs), expression)
        if self._numpy is None or self._numpy[0] != key:
            self._numpy = (key, compile_numpy(self.symbols, expression))
        return self._numpy[1]

    def to_torch(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """A torch function from an (n, d) tensor (columns as :attr:`inputs`) to (n,)."""
        inner = compile_torch(self.symbols, [self.numeric_expression])
        return lambda X: inner(X)[:, 0]

    def check(self, truth: object, **kwargs: Any):  # noqa: ANN201
        """:func:`discovery.check` of this model against ``truth``."""
        from .symbolic.check import check

        return check(self, truth, **kwargs)

    # --- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of everything needed to rebuild and audit the model."""
        return {
            "format": FORMAT,
            "target": self.target,
            "inputs": list(self.inputs),
            "expression": str(self.numeric_expression),
            "symbolic_expression": str(self.expression),
            "raw_expression": str(self.raw_expression),
            "latex": self.latex(),
            "constants": thaw(self.constants),
            "units": thaw(self.info.get("units")),
            "method": self.method,
            "terms": [t.to_dict() for t in self.terms],
            "verdict": self.verdict.to_dict(),
            "names": thaw(self.names),
            "r2": self.metrics.get("r2"),
            "metrics": thaw(self.metrics),
            "uncertainty": self.uncertainty.to_dict(),
            "diagnostics": self.diagnostics.to_dict(),
            "pareto": json.loads(self._pareto.to_json(orient="records")),
            "library": thaw(self.library),
            "info": thaw(self.info),
            "versions": _versions(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON; :func:`discovery.load` reads it back."""
        path = Path(path)
        path.write_text(self.to_json())
        return path

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text, what :meth:`save` writes."""
        return json.dumps(self.to_dict(), indent=2, default=json_default) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """Rebuild a model from :meth:`to_dict` output. Formulas are parsed safely."""
        check_format(data, FORMAT, "model")
        try:
            inputs = [str(i) for i in data["inputs"]]
            constants = {str(k): float(v) for k, v in dict(data["constants"]).items()}
            table: dict[str, sympy.Symbol] = {s.name: s for s in as_symbols(inputs)}
            table.update({k: sympy.Symbol(k, positive=True) for k in constants})
            parse = lambda text, where: parse_expression(  # noqa: E731
                str(text), table, allow_new_symbols=False, where=where)
            terms = [ModelTerm(term=parse(t["term"], "saved term"),
                               coefficient=float(t["coefficient"]),
                               std_error=_number(t.get("std_error")),
                               closed_form=None if t.get("closed_form") is None
                               else parse(t["closed_form"], "saved closed form"),
                               interval=None if t.get("interval") is None
                               else (_number(t["interval"][0]), _number(t["interval"][1])),
                               inclusion=None if t.get("inclusion") is None
                               else float(t["inclusion"]),
                               consistent_with=None if t.get("consistent_with") is None
                               else parse(t["consistent_with"], "saved closed form"))
                     for t in data["terms"]]
            return cls(expression=parse(data["symbolic_expression"], "saved expression"),
                       raw_expression=parse(data["raw_expression"], "saved raw expression"),
                       inputs=inputs, target=str(data["target"]), terms=terms,
                       constants=constants, pareto=pd.DataFrame(data.get("pareto") or []),
                       library=dict(data.get("library") or {}),
                       metrics=dict(data.get("metrics") or {}),
                       method=str(data.get("method", "sparse")),
                       info=dict(data.get("info") or {}),
                       uncertainty=dict(data.get("uncertainty") or {}),
                       diagnostics=dict(data.get("diagnostics") or {}),
                       verdict=dict(data.get("verdict") or {}),
                       names={str(k): str(v) for k, v in dict(data.get("names") or {}).items()})
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ParseError):
                raise
            raise ParseError(f"The saved model is incomplete or malformed: {exc!r}.") from exc


def load(path: str | Path) -> Model:
    """Load a model saved by :meth:`Model.save`. Never executes code from the file.

    Raises
    ------
    ParseError
        If the file is not a saved model.
    DataError
        If the file cannot be read.
    """
    return Model.from_dict(read_json_object(path, "model file"))


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; DataError if unreadable, ParseError if not an object."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise DataError(f"Cannot read the {what} {str(path)!r}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(f"The {what} {str(path)!r} is not JSON: {exc.msg}.") from exc
    if not isinstance(data, dict):
        raise ParseError(f"The {what} {str(path)!r} does not hold a JSON object.")
    return data


def plus_minus(value: float, half_width: float) -> tuple[str, str]:
    """``value`` and ``half_width`` as text, the half-width to one significant digit.

    Examples
    --------
    >>> plus_minus(0.101936, 0.000172)
    ('0.1019', '0.0002')
    >>> plus_minus(9.8123, 0.0)
    ('9.8123', '0')
    >>> plus_minus(-1234.5, 12.0)
    ('-1230', '10')
    """
    if not math.isfinite(half_width) or half_width <= 0:
        text = f"{value:.6g}"
        return text, ("0" if half_width == 0 else "?")
    place = -math.floor(math.log10(half_width))
    rounded = round(half_width, place)
    if rounded >= 10.0 ** (1 - place):  # 0.00096 rounds up to 0.001: one place fewer
        place -= 1
        rounded = round(half_width, place)
    digits = max(place, 0)
    return f"{round(value, place):.{digits}f}", f"{rounded:.{digits}f}"


def _versions() -> dict[str, str]:
    out = {}
    for package in ("discovery-sr", "numpy", "scipy", "sympy", "torch", "pandas"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def check_format(data: Mapping[str, Any], expected: str, what: str) -> None:
    """Raise :class:`ParseError` unless ``data`` says it is a saved ``what`` of ``expected``
    format (a model, a system)."""
    if data.get("format") != expected:
        raise ParseError(f"Not a saved {what}: format is {data.get('format')!r}, "
                         f"expected {expected!r}.")


def json_default(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def level_label(level: Any) -> str:
    """An interval's level as a percentage, ``95%`` (empty without one)."""
    return f"{100 * float(level):g}%" if level else ""


def terms_rows(model: Model) -> list[dict[str, str]]:
    """One row a term: coefficient ± half-width, interval, inclusion, std error, closed form."""
    level = model.uncertainty.get("level")
    plus = f"± ({level_label(level)})" if level else "±"
    rows = []
    for t in model.terms:
        _, half = plus_minus(t.coefficient, t.half_width)
        rows.append({
            "term": str(t.term),
            "coefficient": f"{t.coefficient:.6g}",
            plus: "" if t.interval is None else half,
            "interval": "" if t.interval is None else
            f"[{t.interval[0]:.6g}, {t.interval[1]:.6g}]",
            "inclusion": "" if t.inclusion is None else f"{t.inclusion:.2f}",
            "std error": "" if math.isnan(t.std_error) else f"{t.std_error:.2g}",
            "closed form": str(t.closed_form) if t.closed_form is not None else
            "" if t.consistent_with is None else f"(consistent with {t.consistent_with})"})
    if model.info.get("units"):  # each coefficient's unit, beside it
        rows = [{**{k: v for k, v in r.items() if k == "term" or k == "coefficient"},
                 "unit": model.coefficient_unit(t.term) or "",
                 **{k: v for k, v in r.items() if k not in ("term", "coefficient")}}
                for r, t in zip(rows, model.terms)]
    return rows


def verdict_lines(model: Model) -> list[str]:
    """``law: 1 term(s) explain the data down to the noise ...`` and one line per further reason."""
    found = model.verdict
    if not found:
        return []
    reasons = list(found.get("reasons") or [])
    first = f"{found['status']}" + (f": {reasons[0]}" if reasons else "")
    return [first, *reasons[1:]]


def _equation(model: Model) -> str:
    """``target = formula`` in LaTeX, with the user's column names."""
    return f"{model._latex(sympy.Symbol(model.target))} = {model.latex()}"


def model_html(model: Model, formula: str | None = None) -> str:
    """The model as a notebook shows it (``Model._repr_html_``): the formula as LaTeX for
    the notebook's MathJax (``formula``, else ``target = …``), the verdict with its
    reasons, and the table of :func:`terms_rows` (coefficients, intervals, units)."""
    from html import escape

    if formula is None:
        formula = _equation(model)
    out = [f'<div class="discovery-model"><p>$${escape(formula)}$$</p>']
    verdict = verdict_lines(model)
    if verdict:
        out.append("<p><b>Verdict:</b> " + "<br>".join(escape(line) for line in verdict)
                   + "</p>")
    rows = terms_rows(model)
    if rows:
        header = list(rows[0])
        out.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header)
                   + "</tr></thead><tbody>"
                   + "".join("<tr>" + "".join(f"<td>{escape(r[h])}</td>" for h in header)
                             + "</tr>" for r in rows)
                   + "</tbody></table>")
    out.append("</div>")
    return "".join(out)
