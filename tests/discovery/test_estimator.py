import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import (
    check_dtype_object,
    check_estimators_dtypes,
    check_fit_idempotent,
    check_readonly_memmap_input,
    parametrize_with_checks,
)

from discovery import SparseSymbolicRegressor

# Checks that cannot pass, with the reason.
EXPECTED_FAILED: dict[str, str] = {}


# Every check of the contract, on the estimator with a fixed library: the
# contract is the estimator's (validation, attributes, fit/predict, pickling),
# which the library does not change, and a fixed library fits in a second
# where the auto search's routes take ten (~50 fits: 20 s against 3 minutes).
@parametrize_with_checks([SparseSymbolicRegressor(basis="poly(degree=2)")],
                         expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_scikit_learn_contract(estimator, check):
    check(estimator)


# The checks that feed the search unusual data (float32, integers, objects,
# read-only memory maps) or ask it for the same answer twice, on the default
# estimator: every route of the auto search sees that data.
@pytest.mark.parametrize("check", [check_estimators_dtypes, check_dtype_object,
                                   check_readonly_memmap_input, check_fit_idempotent],
                         ids=lambda check: check.__name__)
@pytest.mark.slow
def test_the_auto_search_keeps_the_contract_on_unusual_data(check):
    check("SparseSymbolicRegressor", SparseSymbolicRegressor())


def test_dataframe_columns_name_the_formula():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"v": rng.uniform(0, 10, 300), "theta": rng.uniform(0, 1.5, 300)})
    y = X.v**2 * np.sin(2 * X.theta) / 9.81
    est = SparseSymbolicRegressor(constants={"g": 9.81}).fit(X, y)
    assert str(est.expression_) == "v**2*sin(2*theta)/g"
    assert list(est.feature_names_in_) == ["v", "theta"]
    # rtol=1e-9: the recovered formula is exact on noise-free data.
    np.testing.assert_allclose(est.predict(X), y, rtol=1e-9)


def test_fit_does_not_change_parameters():
    est = SparseSymbolicRegressor(constants={"g": 9.81}, max_terms=5)
    before = est.get_params()
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (50, 2))
    est.fit(X, X[:, 0] * 2.0)
    assert est.get_params() == before


def test_predict_has_the_model_contract():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 2, (200, 2))
    y = 3 * X[:, 0] * X[:, 1] + 0.01 * rng.normal(size=200)
    est = SparseSymbolicRegressor(n_bootstrap=0).fit(X, y)
    prediction, std = est.predict(X[:5], return_std=True)
    assert prediction.shape == std.shape == (5,) and np.all(std > 0)
    four = est.predict(X[:5], return_std=True, interval=0.95)
    three = est.predict(X[:5], interval=0.95)
    assert len(four) == 4 and len(three) == 3
    for mine, models in zip(four, est.model_.predict(X[:5], return_std=True, interval=0.95)):
        np.testing.assert_array_equal(mine, models)  # the same numbers, not just the same shape
    assert np.all(three[1] < prediction) and np.all(prediction < three[2])
