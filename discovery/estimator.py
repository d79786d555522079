"""A scikit-learn compatible estimator over the discovery engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from basis_library import Library

from ._data import MIN_ROWS
from ._discover import discover
from .bigdata.rows import SEARCH_ROWS

__all__ = ["SparseSymbolicRegressor"]


class SparseSymbolicRegressor(RegressorMixin, BaseEstimator):
    """Sparse symbolic regression with scikit-learn's fit/predict contract.

    Parameters are those of :func:`discovery.discover`. Inputs are named
    ``x0, x1, ...`` unless ``X`` is a DataFrame, whose column names are used;
    ``units`` names them so, and the target ``y``:
    ``SparseSymbolicRegressor(units={"x0": "kg", "x1": "m/s", "y": "J"})``.

    Attributes
    ----------
    model_ : Model
        The fitted model.
    expression_ : sympy.Expr
        Its formula.
    coef_ : ndarray
        Coefficients of its terms.
    intervals_ : ndarray
        ``(k, 2)`` confidence intervals of the coefficients (NaN where none).
    inclusion_ : ndarray
        Each term's inclusion probability (NaN without the bootstrap).
    verdict_ : str
        ``"law"``, ``"approximation"`` or ``"none"`` (:attr:`Model.verdict`).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 2, size=(200, 2))
    >>> est = SparseSymbolicRegressor().fit(X, 3 * X[:, 0] * X[:, 1] ** 2)
    >>> est.expression_
    3*x0*x1**2
    """

    def __init__(self, *, basis: str | Library | Sequence[str] = "auto", solver: str = "auto",
                 selection: str = "bic",
                 max_terms: int = 12, cv_folds: int = 5, validation_fraction: float = 0.25,
                 split_on: str | None = None, n_bootstrap: int = 200, confidence: float = 0.95,
                 constants: Mapping[str, float] | None = None, simplify: bool = True,
                 device: str = "auto", random_state: int | None = 0,
                 search_rows: int | None = SEARCH_ROWS,
                 units: Mapping[str, str] | str | None = None) -> None:
        self.basis = basis
        self.solver = solver
        self.selection = selection
        self.max_terms = max_terms
        self.cv_folds = cv_folds
        self.validation_fraction = validation_fraction
        self.split_on = split_on
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.constants = constants
        self.simplify = simplify
        self.device = device
        self.random_state = random_state
        self.search_rows = search_rows
        self.units = units

    def fit(self, X: object, y: object) -> SparseSymbolicRegressor:
        names = getattr(X, "columns", None)
        X_arr, y_arr = validate_data(self, X, y, y_numeric=True, dtype=np.float64,
                                     ensure_min_samples=MIN_ROWS)
        if names is not None:
            inputs = [str(c) for c in names]
        else:
            inputs = [f"x{i}" for i in range(X_arr.shape[1])]
        self.model_ = discover(
            X_arr, target=y_arr, inputs=inputs, basis=self.basis, solver=self.solver,
            selection=self.selection, max_terms=self.max_terms, cv_folds=self.cv_folds,
            validation_fraction=self.validation_fraction, split_on=self.split_on,
            n_bootstrap=self.n_bootstrap, confidence=self.confidence, constants=self.constants,
            simplify=self.simplify, device=self.device, random_state=self.random_state,
            search_rows=self.search_rows, units=self.units)
        self.expression_ = self.model_.expression
        terms = self.model_.terms
        self.coef_ = np.array([t.coefficient for t in terms])
        self.intervals_ = np.array([t.interval or (np.nan, np.nan) for t in terms]).reshape(-1, 2)
        self.inclusion_ = np.array([np.nan if t.inclusion is None else t.inclusion
                                    for t in terms])
        self.verdict_ = self.model_.verdict.get("status")
        return self

    def predict(self, X: object, return_std: bool = False,
                interval: float | None = None) -> Any:
        """Predictions; the same contract as :meth:`Model.predict`.

        ``return_std`` adds the standard deviation of a new observation and
        ``interval`` (a level such as 0.95) the limits of its prediction
        interval: an ndarray, or ``(prediction, std)``, ``(prediction, lower,
        upper)`` or ``(prediction, std, lower, upper)``.
        """
        check_is_fitted(self)
        X_arr = validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.predict(X_arr, return_std=return_std, interval=interval)
