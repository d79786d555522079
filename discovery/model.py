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

from basis_library import DataError, ParseError, as_symbols, parse_expression
from basis_library._compile import compile_numpy, compile_torch

__all__ = ["Model", "ModelTerm", "load", "FORMAT"]

FORMAT = "discovery-model/1"


@dataclass(frozen=True)
class ModelTerm:
    """One additive term of a model: ``coefficient * term``."""

    term: sympy.Expr
    coefficient: float
    std_error: float
    closed_form: sympy.Expr | None = None

    def to_dict(self) -> dict[str, object]:
        return {"term": str(self.term), "coefficient": self.coefficient,
                "std_error": self.std_error if math.isfinite(self.std_error) else None,
                "closed_form": None if self.closed_form is None else str(self.closed_form),
                "latex": sympy.latex(self.term)}


class Model:
    """A discovered formula.

    Attributes
    ----------
    expression
        The simplified formula (sympy), recognised constants as closed forms;
        user-named constants (``g``) appear as symbols.
    numeric_expression
        ``expression`` with named constants replaced by their values.
    raw_expression
        The least-squares fit before constant recognition.
    terms
        The additive terms with coefficients and standard errors.
    pareto
        DataFrame of the complexity/error front: ``complexity``, ``n_terms``,
        ``error`` (training MSE), ``bic``, ``aic``, ``cv_mse``, ``expression``,
        ``chosen``.
    metrics
        ``r2``, ``mse``, ``n_samples``, ``rows_dropped`` and more.
    """

    def __init__(self, *, expression: sympy.Expr, raw_expression: sympy.Expr,
                 inputs: Sequence[str], target: str, terms: Sequence[ModelTerm],
                 constants: Mapping[str, float] | None = None,
                 pareto: pd.DataFrame | None = None, library: Mapping[str, object] | None = None,
                 metrics: Mapping[str, object] | None = None, method: str = "sparse",
                 info: Mapping[str, object] | None = None) -> None:
        self.expression = expression
        self.raw_expression = raw_expression
        self.inputs = list(inputs)
        self.target = target
        self.terms = list(terms)
        self.constants = dict(constants or {})
        self.pareto = pareto if pareto is not None else pd.DataFrame(
            columns=["complexity", "n_terms", "error", "bic", "expression", "chosen"])
        self.library = dict(library or {})
        self.metrics = dict(metrics or {})
        self.method = method
        self.info = dict(info or {})
        self._numpy: Callable[..., np.ndarray] | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_numpy"] = None  # compiled closures are rebuilt on demand
        return state

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

    def latex(self, *, numeric: bool = False) -> str:
        """The formula as LaTeX, e.g. ``\\frac{v^{2} \\sin{\\left(2 \\theta \\right)}}{g}``.

        Parameters
        ----------
        numeric
            Write named constants as their values.
        """
        return sympy.latex(self.numeric_expression if numeric else self.expression)

    def sympy(self) -> sympy.Expr:
        """The formula as a sympy expression (named constants as symbols)."""
        return self.expression

    # --- evaluation ------------------------------------------------------------
    def _columns(self, X: object) -> list[np.ndarray]:
        if isinstance(X, pd.DataFrame) or isinstance(X, Mapping):
            from ._data import _safe_name

            keys = list(X.keys() if isinstance(X, Mapping) else X.columns)
            # Columns were renamed to identifiers when fitting ("lambda" → "lambda_",
            # "my col" → "my_col"); either spelling is accepted here.
            by_safe = {_safe_name(k): k for k in keys}
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

    def predict(self, X: object) -> np.ndarray:
        """Evaluate the formula on new inputs (DataFrame, mapping or 2-D array)."""
        return self.to_numpy()(*self._columns(X))

    def to_numpy(self) -> Callable[..., np.ndarray]:
        """A numpy function of the input columns, in the order of :attr:`inputs`."""
        if self._numpy is None:
            self._numpy = compile_numpy(self.symbols, self.numeric_expression)
        return self._numpy

    def to_torch(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """A torch function from an (n, d) tensor (columns as :attr:`inputs`) to (n,)."""
        inner = compile_torch(self.symbols, [self.numeric_expression])
        return lambda X: inner(X)[:, 0]

    def check(self, truth: object, **kwargs: Any):  # noqa: ANN201
        """:func:`discovery.check` of this model against ``truth``."""
        from ._check import check

        return check(self, truth, **kwargs)

    # --- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of everything needed to rebuild and audit the model."""
        return {
            "format": FORMAT,
            "target": self.target,
            "inputs": self.inputs,
            "expression": str(self.numeric_expression),
            "symbolic_expression": str(self.expression),
            "raw_expression": str(self.raw_expression),
            "latex": self.latex(),
            "constants": self.constants,
            "method": self.method,
            "terms": [t.to_dict() for t in self.terms],
            "r2": self.metrics.get("r2"),
            "metrics": self.metrics,
            "pareto": json.loads(self.pareto.to_json(orient="records")),
            "library": self.library,
            "info": self.info,
            "versions": _versions(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON; :func:`discovery.load` reads it back."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """Rebuild a model from :meth:`to_dict` output. Formulas are parsed safely."""
        if data.get("format") != FORMAT:
            raise ParseError(f"Not a saved model: format is {data.get('format')!r}, "
                             f"expected {FORMAT!r}.")
        try:
            inputs = [str(i) for i in data["inputs"]]
            constants = {str(k): float(v) for k, v in dict(data["constants"]).items()}
            table: dict[str, sympy.Symbol] = {s.name: s for s in as_symbols(inputs)}
            table.update({k: sympy.Symbol(k, positive=True) for k in constants})
            parse = lambda text, where: parse_expression(  # noqa: E731
                str(text), table, allow_new_symbols=False, where=where)
            terms = [ModelTerm(term=parse(t["term"], "saved term"),
                               coefficient=float(t["coefficient"]),
                               std_error=float("nan") if t.get("std_error") is None
                               else float(t["std_error"]),
                               closed_form=None if t.get("closed_form") is None
                               else parse(t["closed_form"], "saved closed form"))
                     for t in data["terms"]]
            return cls(expression=parse(data["symbolic_expression"], "saved expression"),
                       raw_expression=parse(data["raw_expression"], "saved raw expression"),
                       inputs=inputs, target=str(data["target"]), terms=terms,
                       constants=constants, pareto=pd.DataFrame(data.get("pareto") or []),
                       library=dict(data.get("library") or {}),
                       metrics=dict(data.get("metrics") or {}),
                       method=str(data.get("method", "sparse")),
                       info=dict(data.get("info") or {}))
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
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise DataError(f"Cannot read the model file {str(path)!r}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise ParseError(f"The model file {str(path)!r} is not JSON: {exc.msg}.") from exc
    if not isinstance(data, dict):
        raise ParseError(f"The model file {str(path)!r} does not hold a JSON object.")
    return Model.from_dict(data)


def _versions() -> dict[str, str]:
    out = {}
    for package in ("discovery-sr", "numpy", "scipy", "sympy", "torch", "pandas"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def _json_default(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
