"""Best-subset search, exact-fit stopping, small samples, and the richer-library property."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.nguyen import PROBLEMS, generate
from discovery import check, discover
from discovery.search.select import Candidate, choose, term_cap
from discovery.search.sparse import forward_path, scale_columns
from discovery.search.subset import _Gram, best_subsets

#: Terms correlated with x, x², x³ on [-1, 1] that a greedy path takes first.
CORRELATED = ["x*exp(x)", "sin(x)", "x**2*exp(-x)", "exp(x)", "x*cos(x)", "sinh(x)",
              "x**4", "x**5", "log(x + 2)", "x*sin(3*x)", "x**2*cos(x)", "tanh(x)"]


def _nguyen1(n: int = 20, seed: int = 0, noise: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = x**3 + x**2 + x
    return pd.DataFrame({"x": x, "y": y + noise * np.sqrt(np.mean(y**2)) * rng.normal(size=n)})


def _design(data: pd.DataFrame, names: list[str]) -> torch.Tensor:
    x = torch.as_tensor(data.x.to_numpy().copy())
    table = {"x": x, "exp": torch.exp, "sin": torch.sin, "cos": torch.cos, "sinh": torch.sinh,
             "log": torch.log, "tanh": torch.tanh}
    return torch.stack([eval(n, {}, table) for n in names], dim=1)  # noqa: S307 - test's own


def test_the_issues_example_greedy_misses_the_law_the_subset_search_finds_it():
    data = _nguyen1()
    names = ["x", "x**2", "x**3", *CORRELATED]
    Xs, _ = scale_columns(_design(data, names))
    y = torch.as_tensor(data.y.to_numpy().copy())
    greedy = forward_path(Xs, y, 3)[-1]
    assert greedy != (0, 1, 2)  # x*exp(x) is taken first and never let go
    found = best_subsets(Xs, y, 6)
    assert (0, 1, 2) in found
    assert max(len(s) for s in found) == 3  # the exact fit at size 3 ends the search


def test_the_subset_search_is_deterministic_and_finds_planted_supports():
    rng = np.random.default_rng(3)
    X = torch.as_tensor(rng.normal(size=(60, 40)))
    X[:, 5] = X[:, 1] + X[:, 2] + 0.3 * X[:, 5]  # a decoy correlated with two true columns
    y = X[:, 1] - X[:, 2] + 2 * X[:, 7] + X[:, 30]
    Xs, _ = scale_columns(X)
    first = best_subsets(Xs, y, 6)
    assert first == best_subsets(Xs, y, 6)
    assert (1, 2, 7, 30) in first


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(0, 3))
def test_each_sizes_best_is_the_exhaustive_optimum_on_small_problems(seed, k, noise_level):
    rng = np.random.default_rng(seed)
    n, p = 30, 12
    X = torch.as_tensor(rng.normal(size=(n, p)) + 0.8 * rng.normal(size=(n, 1)))  # correlated
    y = X[:, :k] @ torch.as_tensor(rng.uniform(0.5, 2, k)) + \
        [0.0, 0.01, 0.1, 1.0][noise_level] * torch.as_tensor(rng.normal(size=n))
    Xs, _ = scale_columns(X)
    gram = _Gram(Xs, y)
    found = best_subsets(Xs, y, k)
    for size in range(1, k + 1):
        searched = [s for s in found if len(s) == size]
        if not searched:  # stopped early: an exact fit at a smaller size
            break
        optimum = min(gram.rss(s) for s in itertools.combinations(range(p), size))
        # rtol 1e-6: Gram-based RSS values of two supports agree to ~1e-12 of y·y
        assert gram.rss(searched[0]) <= optimum * (1 + 1e-6) + 1e-12 * gram.yy


@settings(max_examples=8, deadline=None)
@given(st.sets(st.sampled_from(CORRELATED), min_size=1, max_size=len(CORRELATED)),
       st.sampled_from([0.0, 0.001]))
def test_a_richer_library_does_not_change_the_law(extra, noise):
    # noise 0.001 of RMS on 200 rows: the law's terms stand far above it.
    data = _nguyen1(n=20 if noise == 0 else 200, noise=noise)
    plain = discover(data, target="y", basis=["x", "x**2", "x**3"], n_bootstrap=0)
    rich = discover(data, target="y", basis=["x", "x**2", "x**3", *sorted(extra)],
                    n_bootstrap=0)
    assert {str(t.term) for t in rich.terms} == {str(t.term) for t in plain.terms} \
        == {"x", "x**2", "x**3"}
    assert rich.expression == plain.expression


def _candidate(support, rss, bic, n=20):
    return Candidate(support=support, coef=np.ones(len(support)), std_error=np.zeros(len(support)),
                     rss=rss, mse=rss / n, complexity=3 * len(support), bic=bic, aic=bic,
                     exact=rss < 1e-20, admissible=len(support) <= term_cap(n, rss < 1e-20))


def test_the_smallest_exact_fit_wins_whatever_the_criteria_say():
    candidates = [_candidate((0,), 1.0, 10.0), _candidate((0, 1, 2), 1e-30, -900.0),
                  _candidate((0, 1, 2, 3), 1e-31, -1000.0),
                  _candidate(tuple(range(8)), 1e-25, -2000.0)]
    for criterion in ("bic", "aic", "validation"):
        assert candidates[choose(candidates, criterion)].support == (0, 1, 2)


def test_terms_are_capped_by_the_rows():
    assert term_cap(20) == 5 and term_cap(20, exact=True) == 9 and term_cap(1000) == 250
    candidates = [_candidate((0,), 1.0, 10.0), _candidate(tuple(range(9)), 1e-6, -400.0)]
    assert candidates[choose(candidates)].support == (0,)


def test_the_issues_example_from_the_command_line_gives_the_three_terms(tmp_path):
    from discovery.cli import main

    path = tmp_path / "data.csv"
    _nguyen1(n=20).to_csv(path, index=False)
    out = tmp_path / "model.json"
    assert main(["fit", str(path), "--target", "y", "--json", str(out), "--bootstrap", "0",
                 "--truth", "x**3 + x**2 + x"]) == 0
    import json

    model = json.loads(out.read_text())
    assert len(model["terms"]) == 3


def test_twenty_noisy_rows_do_not_buy_eleven_terms():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 20)
    y = x**3 + x**2 + x + 0.05 * rng.normal(size=20)
    model = discover({"x": x, "y": y}, target="y", n_bootstrap=0)
    assert len(model.terms) <= term_cap(20)
    noise = discover({"x": x, "y": rng.normal(size=20)}, target="y", n_bootstrap=0)
    assert len(noise.terms) <= 2


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_nguyen_laws_are_recovered_by_the_default_discover(problem):
    data = generate(problem, random_state=0)
    model = discover(data, target="f", n_bootstrap=0)
    assert check(model, problem.formula, positive=problem.positive).symbolic, model.expression
    assert math.isclose(float(model.metrics["r2"]), 1.0, abs_tol=1e-9)


@pytest.mark.slow
def test_the_output_says_when_the_rows_cannot_identify_the_law(cannon, tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 20)
    frame = pd.DataFrame({"x": x, "y": rng.normal(size=20)})
    model = discover(frame, target="y", n_bootstrap=0)
    assert model.metrics["identifiability"], model.expression
    law = discover(cannon, target="s", constants={"g": 9.81}, n_bootstrap=0)
    assert law.metrics["identifiability"] == ()
    from discovery.cli import main

    frame.to_csv(tmp_path / "noise.csv", index=False)
    assert main(["fit", str(tmp_path / "noise.csv"), "--target", "y", "--bootstrap", "0"]) == 0
    assert "Identifiable?" in capsys.readouterr().out


def test_a_block_of_terms_that_only_fit_together_joins_the_support():
    # (x1 - x2)² is three large columns that cancel; none alone explains what
    # the y-block leaves, so additions one at a time miss them.
    rng = np.random.default_rng(0)
    x1, x2, y1, y2 = (torch.as_tensor(rng.uniform(1, 5, 400)) for _ in range(4))
    names = ["y1**2", "y1*y2", "y2**2", "x1**2", "x1*x2", "x2**2", "x1**1.5", "x2**1.5",
             "x1/x2", "x2/x1", "y1/y2", "exp(-x1)", "x1*x2**2"]
    X = torch.stack([eval(n, {"exp": torch.exp}, {"x1": x1, "x2": x2, "y1": y1, "y2": y2})  # noqa: S307
                     for n in names], dim=1)
    y = (x1 - x2) ** 2 + (y1 - y2) ** 2
    Xs, _ = scale_columns(X)
    from discovery.search.subset import _grown_by_block

    joined = _grown_by_block(Xs, y, (0, 1, 2), 3, budget=50_000)
    assert joined[0] == (0, 1, 2, 3, 4, 5)
    assert _Gram(Xs, y).rss(joined[0]) < 1e-9 * float(y @ y) / len(y)
