import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from basis_library import LibraryError, resolve_device
from discovery.search.sparse import forward_path, lasso_path, refit, scale_columns, stlsq_path


def _problem(seed: int, n: int = 200, p: int = 30, k: int = 3):
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.normal(size=(n, p)))
    coef = torch.zeros(p, dtype=torch.float64)
    coef[:k] = torch.as_tensor(rng.uniform(1, 3, k))
    y = X @ coef + 0.01 * torch.as_tensor(rng.normal(size=n))
    return X, y


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 1.0), st.floats(1.0, 5.0))
def test_a_larger_threshold_never_adds_terms(seed, threshold, factor):
    X, y = _problem(seed)
    Xs, _ = scale_columns(X)
    def size(t: float) -> int:
        supports = stlsq_path(Xs, y, [t])  # an emptied support is not returned
        return len(supports[0]) if supports else 0

    assert size(threshold * factor) <= size(threshold)


def test_forward_path_is_nested_and_finds_the_true_support():
    X, y = _problem(0)
    path = forward_path(*scale_columns(X)[:1], y, max_terms=5)
    for a, b in zip(path, path[1:]):
        assert set(a) < set(b)
    assert path[2] == (0, 1, 2)


def test_lasso_path_finds_the_true_support():
    X, y = _problem(1)
    supports = lasso_path(scale_columns(X)[0], y)
    assert (0, 1, 2) in supports


def test_refit_matches_numpy_lstsq_and_reports_standard_errors():
    X, y = _problem(2)
    fit = refit(X, y, (0, 1, 2))
    expected, *_ = np.linalg.lstsq(X[:, :3].numpy(), y.numpy(), rcond=None)
    # rtol=1e-10: both are float64 least squares on a well-conditioned problem.
    np.testing.assert_allclose(fit.coef.numpy(), expected, rtol=1e-10)
    assert (fit.std_error > 0).all() and (fit.std_error < 0.01).all()


def test_unavailable_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(LibraryError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(LibraryError, match="Unknown device 'tpu'"):
        resolve_device("tpu")


def test_an_unknown_solver_is_a_clear_error_naming_the_choices():
    from discovery.search.sparse import candidate_supports

    X, y = _problem(3)
    with pytest.raises(ValueError, match="Unknown solver 'lars'; expected one of: auto, greedy"):
        candidate_supports(scale_columns(X)[0], y, solver="lars")


def test_the_lasso_path_is_the_exact_one_and_stops_at_max_terms():
    from sklearn.linear_model import lars_path

    X, y = _problem(4)
    Xs = scale_columns(X)[0]
    supports = lasso_path(Xs, y, max_terms=3)
    assert supports and all(len(s) <= 3 for s in supports)
    # The active sets at the kinks of scikit-learn's full lasso path, in order.
    _, _, coefs = lars_path(Xs.numpy(), y.numpy(), method="lasso")
    exact = []
    for column in coefs.T:
        s = tuple(int(i) for i in np.flatnonzero(column))
        if s and len(s) <= 3 and s not in exact:
            exact.append(s)
    assert supports == exact
