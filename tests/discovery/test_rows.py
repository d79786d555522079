"""Many rows: the search on a random subsample, the estimate on the other rows."""

import numpy as np
import pandas as pd
import pytest
import sympy
import torch

from discovery import discover
from discovery._data import Dataset
from discovery.bigdata.rows import held_out_fit, split_rows
from discovery.errors import FitError

CPU = torch.device("cpu")


def _dataset(columns: dict, y: np.ndarray) -> Dataset:
    return Dataset(columns, y, list(columns), "y", 0, "test")


def test_group_qr_equals_least_squares_on_all_rows():
    rng = np.random.default_rng(1)
    x, z = rng.uniform(0.5, 3, 5003), rng.normal(size=5003)
    y = 2 * x**2 - 0.3 * z + rng.normal(0, 0.1, x.size)
    X_, Z_ = sympy.symbols("x z")
    terms = [X_**2, Z_, sympy.exp(X_), sympy.Integer(1)]
    held = held_out_fit(terms, _dataset({"x": x, "z": z}, y), device=CPU, n_bootstrap=0,
                        random_state=0)
    A = np.column_stack([x**2, z, np.exp(x), np.ones_like(x)])
    coef, rss, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(held.fit.coef.numpy(), coef, rtol=1e-10, atol=1e-12)
    assert held.fit.rss == pytest.approx(float(rss[0]), rel=1e-10)
    cov = rss[0] / (x.size - 4) * np.linalg.inv(A.T @ A)
    np.testing.assert_allclose(held.fit.std_error.numpy(), np.sqrt(np.diag(cov)), rtol=1e-6)


def test_group_bootstrap_spread_matches_the_standard_errors():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 2, 20_000)
    y = 1.5 * x + 0.5 + rng.normal(0, 0.2 + 0.2 * x, x.size)  # heteroscedastic noise too
    X_ = sympy.Symbol("x")
    held = held_out_fit([X_, sympy.Integer(1)], _dataset({"x": x}, y), device=CPU,
                        n_bootstrap=400, random_state=0)
    # The sandwich (heteroscedasticity-robust) standard errors the bootstrap estimates.
    A = np.column_stack([x, np.ones_like(x)])
    bread = np.linalg.inv(A.T @ A)
    r = y - A @ held.fit.coef.numpy()
    robust = np.sqrt(np.diag(bread @ (A.T * r**2) @ A @ bread))
    np.testing.assert_allclose(held.boot.std(axis=0), robust, rtol=0.2)


def test_terms_not_finite_on_the_other_rows_are_not_refitted():
    x = np.linspace(-1, 1, 101)
    held = held_out_fit([1 / sympy.Symbol("x")], _dataset({"x": x}, x), device=CPU,
                        n_bootstrap=0, random_state=0)
    assert held is None


def test_split_is_random_and_reproducible():
    d = _dataset({"x": np.arange(1000.0)}, np.arange(1000.0))
    a, b = split_rows(d, 100, 3), split_rows(d, 100, 3)
    np.testing.assert_array_equal(a.search.y, b.search.y)
    assert not np.array_equal(a.search.y, np.arange(100.0))
    assert split_rows(d, None, 0) is None


@pytest.fixture(scope="module")
def many_rows():
    rng = np.random.default_rng(0)
    n = 4000
    v, theta = rng.uniform(0, 10, n), rng.uniform(0, np.pi / 2, n)
    s = v**2 * np.sin(2 * theta) / 9.81 + rng.normal(0, 0.01, n)
    return pd.DataFrame({"v": v, "theta": theta, "s": s})


@pytest.mark.slow
def test_the_law_is_found_on_a_subsample_and_estimated_on_the_rest(many_rows):
    model = discover(many_rows, target="s", constants={"g": 9.81}, search_rows=1000)
    assert str(model.expression) == "v**2*sin(2*theta)/g"
    assert model.info["rows"] == {**model.info["rows"], "search": 1000, "estimate": 3000,
                                  "total": 4000}
    assert model.metrics["n_samples"] == 4000
    assert "held-out" in model.uncertainty["interval"]
    low, high = model.terms[0].interval
    assert low < 1 / 9.81 < high
    g = model.uncertainty["constants"]["g"]
    assert g["low"] < 9.81 < g["high"]
    # Three times the rows estimate the coefficient: about half the standard error.
    alone = discover(many_rows.iloc[:1000], target="s", constants={"g": 9.81}, n_bootstrap=0)
    assert model.terms[0].std_error < 0.7 * alone.terms[0].std_error


def test_search_rows_decides_whether_rows_are_split():
    x = np.linspace(0.1, 2, 800)
    data = pd.DataFrame({"x": x, "y": 2 * x**2 + 1 + 0.01 * np.cos(40 * x)})
    every = discover(data, basis="poly(degree=3)", search_rows=None, n_bootstrap=0)
    split = discover(data, basis="poly(degree=3)", search_rows=400, n_bootstrap=0)
    assert "rows" not in every.info and every.metrics["n_samples"] == 800
    assert split.info["rows"]["search"] == 400 and split.metrics["n_samples"] == 800


@pytest.mark.parametrize("bad", [5, 0, 2.5, True])
def test_search_rows_is_checked_first(bad):
    with pytest.raises(FitError, match="search_rows"):
        discover(pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 3]}), search_rows=bad)


@pytest.mark.slow
def test_the_cli_says_which_rows_chose_and_which_estimated(capsys, tmp_path, many_rows):
    from discovery.cli import main

    path = tmp_path / "shots.csv"
    many_rows.iloc[:3000].to_csv(path, index=False)
    code = main(["fit", str(path), "--target", "s", "--search-rows", "800", "--bootstrap", "0",
                 "--constants", "g=9.81", "--json", str(tmp_path / "m.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "terms chosen on 800 random rows, estimated on the other 2,200" in out
    saved = __import__("json").loads((tmp_path / "m.json").read_text())
    assert saved["info"]["rows"]["estimate"] == 2200


def test_halves_of_random_groups_select_as_halves_of_rows(monkeypatch):
    from discovery.uncertainty import bootstrap
    from discovery.uncertainty.bootstrap import bootstrap_selection

    g = torch.Generator().manual_seed(3)
    n = 6000
    X = torch.rand(n, 40, generator=g, dtype=torch.float64)
    # One clear term, one weak one (picked in about 40% of the halves), noise.
    y = 2 * X[:, 0] + 0.06 * X[:, 5] + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    supports = [(0,), (0, 5), (0, 5, 9)]
    grouped = bootstrap_selection(X, y, supports, (0,), n_resamples=300)
    monkeypatch.setattr(bootstrap, "GROUPED_ROWS", 10**9)
    rows = bootstrap_selection(X, y, supports, (0,), n_resamples=300)
    assert grouped.inclusion[0] == rows.inclusion[0] == 1.0
    assert grouped.columns[1] == 5 and 0.2 < rows.inclusion[1] < 0.8
    np.testing.assert_allclose(grouped.inclusion, rows.inclusion, atol=0.1)
    np.testing.assert_allclose(grouped.coef.std(), rows.coef.std(), rtol=0.25)
