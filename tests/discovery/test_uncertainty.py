"""Intervals, inclusion probabilities, validation splits and the report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from discovery import FitError, Model, ModelTerm, cannon_data, discover, load
from discovery.cli import main
from discovery.search.select import validation_splits
from discovery.search.sparse import forward_path, refit, scale_columns
from discovery.uncertainty.bootstrap import (
    _forward_sweeps,
    _refit_all,
    _weighted_grams,
    bootstrap_counts,
    bootstrap_selection,
)

G = 9.81


@pytest.fixture(scope="module")
def cannon_model(cannon):
    return discover(cannon, target="s", constants={"g": G}, device="cpu")


def _design(rng, n=300, p=8):
    X = rng.normal(size=(n, p))
    X[:, 3] = X[:, 2] + 0.3 * rng.normal(size=n)  # a correlated pair
    y = 2.0 * X[:, 0] - 1.0 * X[:, 2] + 0.5 * X[:, 5] + 0.1 * rng.normal(size=n)
    return torch.tensor(X), torch.tensor(y)


def test_batched_sweeps_select_what_forward_selection_selects(rng):
    X, y = _design(rng)
    Xs, _ = scale_columns(X)
    Z = torch.cat([Xs, y[:, None]], dim=1)
    gram = (Z.T @ Z)[None]
    rss, masks = _forward_sweeps(gram, 6)
    swept = [tuple(int(i) for i in torch.nonzero(m).flatten()) for m in masks[0]]
    assert swept == forward_path(Xs, y, 6)
    # The corner after each sweep is that support's residual sum of squares (rtol: float64
    # normal equations on a well-conditioned 8-column design).
    for support, value in zip(swept, rss[0]):
        assert float(value) == pytest.approx(refit(Xs, y, support).rss, rel=1e-8)


def test_weighted_refits_equal_least_squares_on_the_repeated_rows(rng):
    X, y = _design(rng, n=120)
    counts = bootstrap_counts(120, 3, torch.Generator().manual_seed(1))
    Z = torch.cat([X, y[:, None]], dim=1)
    rss, coef = _refit_all(_weighted_grams(Z, counts, block=2), [(0, 2, 5), (1,)])
    for b in range(3):
        rows = np.repeat(np.arange(120), counts[b].long().numpy())
        fit = refit(X[rows], y[rows], (0, 2, 5))
        # rtol 1e-8: the same least squares by normal equations and by QR.
        np.testing.assert_allclose(coef[0][b].numpy(), fit.coef.numpy(), rtol=1e-8)
        assert float(rss[b, 0]) == pytest.approx(fit.rss, rel=1e-6)


def test_inclusion_separates_true_from_spurious_terms(rng):
    X, y = _design(rng)
    boot = bootstrap_selection(X, y, [(0,), (0, 2), (0, 2, 5), (0, 2, 3, 5)], (0, 2, 5),
                               n_resamples=100)
    inclusion = dict(zip(boot.columns, boot.inclusion))
    assert all(inclusion[i] >= 0.95 for i in (0, 2, 5))
    assert all(inclusion[i] <= 0.2 for i in (1, 3, 4, 6, 7))
    # The bootstrap spread of each coefficient is its least-squares standard error
    # (rtol 0.2: 100 resamples estimate a standard deviation to about 7%).
    fit = refit(X, y, (0, 2, 5))
    np.testing.assert_allclose(boot.coef.std(axis=0), fit.std_error.numpy(), rtol=0.2)
    np.testing.assert_allclose(boot.coef.mean(axis=0), fit.coef.numpy(), atol=0.005)


def test_cannon_true_term_is_kept_and_spurious_ones_are_rare(cannon_model):
    u = cannon_model.uncertainty
    assert u["interval"] == "bootstrap percentile" and u["n_resamples"] == 200
    (term,) = cannon_model.terms
    assert str(term.term) == "v**2*sin(2*theta)" and term.inclusion >= 0.95
    spurious = [r for r in u["inclusion"] if r["term"] != "v**2*sin(2*theta)"]
    assert all(r["probability"] <= 0.2 for r in spurious), spurious
    low, high = term.interval
    assert low < 1 / G < high
    g = u["constants"]["g"]
    assert g["low"] < g["estimate"] < g["high"] and g["low"] < G < g["high"]
    assert g["closed_form"] == "1/g"


def test_latex_with_uncertainty_writes_coefficient_plus_minus_half_width(cannon_model):
    text = cannon_model.latex(uncertainty=True)
    assert re.fullmatch(r"\(0\.1019\d* \\pm 0\.0000\d\)\\, v\^\{2\} "
                        r"\\sin\{\\left\(2 \\theta \\right\)\}", text), text


def test_prediction_intervals_cover_new_shots_at_their_level(cannon_model):
    fresh = cannon_data(n=2000, random_state=1)
    prediction, std, low, high = cannon_model.predict(fresh, return_std=True, interval=0.95)
    assert np.all(low < prediction) and np.all(prediction < high)
    # The noise sd is 0.01; the coefficient adds almost nothing at these inputs.
    assert np.median(std) == pytest.approx(0.01, rel=0.05)
    covered = np.mean((fresh["s"] >= low) & (fresh["s"] <= high))
    assert 0.93 <= covered <= 0.97  # 4 binomial sd around 0.95 on 2000 shots


def test_uncertainty_survives_json(cannon_model, tmp_path):
    loaded = load(cannon_model.save(tmp_path / "m.json"))
    assert loaded.terms[0].interval == cannon_model.terms[0].interval
    assert loaded.terms[0].inclusion == cannon_model.terms[0].inclusion
    head = cannon_data(n=5, random_state=3)
    np.testing.assert_allclose(loaded.predict(head, return_std=True)[1],
                               cannon_model.predict(head, return_std=True)[1], rtol=1e-12)
    assert loaded.latex(uncertainty=True) == cannon_model.latex(uncertainty=True)
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["terms"][0]["interval"] == list(cannon_model.terms[0].interval)


def test_without_bootstrap_intervals_are_student_t(cannon):
    model = discover(cannon, target="s", n_bootstrap=0, confidence=0.9, device="cpu")
    (term,) = model.terms
    assert model.uncertainty["interval"] == "t" and term.inclusion is None
    # A 90% t interval on 999 degrees of freedom is 1.646 standard errors each side.
    assert term.half_width == pytest.approx(1.6464 * term.std_error, rel=1e-3)


def test_a_model_without_covariance_refuses_intervals():
    model = Model(expression=__import__("sympy").Symbol("x"),
                  raw_expression=__import__("sympy").Symbol("x"), inputs=["x"], target="y",
                  terms=[ModelTerm(term=__import__("sympy").Symbol("x"), coefficient=1.0,
                                   std_error=float("nan"))])
    with pytest.raises(FitError, match="covariance"):
        model.predict(np.ones((3, 1)), return_std=True)
    with pytest.raises(FitError, match="no coefficient intervals"):
        model.latex(uncertainty=True)


@pytest.mark.parametrize("strategy", ["kfold", "holdout", "extrapolation"])
def test_validation_splits_hold_out_the_promised_rows(strategy):
    values = np.random.default_rng(0).uniform(size=103)
    splits = validation_splits(103, strategy, folds=4, fraction=0.2, values=values, name="v")
    held = np.concatenate([h for _, h in splits.parts])
    for train, h in splits.parts:
        assert len(np.intersect1d(train, h)) == 0 and len(train) + len(h) == 103
    if strategy == "kfold":
        assert sorted(held.tolist()) == list(range(103))
    else:
        assert len(held) == round(0.2 * 103)
    if strategy == "extrapolation":
        train, h = splits.parts[0]
        assert values[train].max() < values[h].min()
        assert splits.description.startswith("extrapolation on v: train v <=")


@pytest.mark.slow
def test_extrapolation_split_picks_the_law_as_kfold_does(cannon):
    for selection in ("extrapolation", "kfold"):
        model = discover(cannon, target="s", selection=selection, split_on="v",
                         constants={"g": G}, n_bootstrap=0, device="cpu")
        assert str(model.expression) == "v**2*sin(2*theta)/g", selection
        found = model.diagnostics["selection"]
        assert found["selection"] == selection and found["criterion"] == "validation"
        assert found["validation"].startswith(
            "extrapolation on v" if selection == "extrapolation" else "5-fold CV")
        # Every size of model was scored on training and validation rows.
        curve = model.diagnostics["complexity"]
        assert [r["n_terms"] for r in curve] == sorted({r["n_terms"] for r in curve})
        assert all(r["validation_mse"] is not None for r in curve)
        assert sum(r["chosen"] for r in curve) == 1


def test_extrapolation_needs_an_input_to_split_on(cannon):
    with pytest.raises(FitError, match="split_on=INPUT"):
        discover(cannon, target="s", selection="extrapolation")
    with pytest.raises(FitError, match="'speed' is not an input; inputs are: v, theta"):
        discover(cannon, target="s", selection="extrapolation", split_on="speed")


def test_report_writes_table_and_pictures(cannon, tmp_path, capsys):
    data = tmp_path / "cannon.csv"
    cannon.to_csv(data, index=False)
    out = tmp_path / "report"
    code = main(["fit", str(data), "--target", "s", "--constants", "g=9.81", "--device", "cpu",
                 "--selection", "extrapolation", "--split-on", "v", "--report", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "± (95%)" in printed and "inclusion" in printed
    assert re.search(r"Constants: +g = 9\.8\d* ± 0\.0\d+ \(95% CI", printed), printed
    assert "chosen by extrapolation" in printed
    names = {p.name for p in out.iterdir()}
    assert {"summary.md", "terms.csv", "model.json", "complexity.png", "path.png",
            "inclusion.png", "pareto.png"} <= names
    assert all((out / n).stat().st_size > 1000 for n in names if n.endswith(".png"))
    table = pd.read_csv(out / "terms.csv")
    assert list(table["term"]) == ["v**2*sin(2*theta)"] and table["inclusion"][0] >= 0.95
    # The interval as numbers: low < coefficient < high, readable by a spreadsheet.
    assert "interval" not in table and table["low"][0] < table["coefficient"][0] < table["high"][0]
    assert "\\pm" in (out / "summary.md").read_text()


def test_cli_bootstrap_zero_and_bad_selection(cannon, tmp_path, capsys):
    data = tmp_path / "cannon.csv"
    cannon.iloc[:300].to_csv(data, index=False)
    assert main(["fit", str(data), "--target", "s", "--bootstrap", "0", "--device", "cpu"]) == 0
    assert "inclusion" not in capsys.readouterr().out
    assert main(["fit", str(data), "--target", "s", "--selection", "extrapolate"]) == 2
    assert "did you mean 'extrapolation'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("n_bootstrap", [200, 0])
def test_95_percent_intervals_cover_the_truth_in_at_least_90_percent_of_repetitions(n_bootstrap):
    truth = np.array([0.5, 1.5, -0.7])
    hits = np.zeros(3)
    for seed in range(100):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2, 2, size=200)
        y = truth[0] + truth[1] * x + truth[2] * x**2 + 0.3 * rng.normal(size=200)
        model = discover({"x": x, "y": y}, target="y", basis=["1", "x", "x**2"],
                         n_bootstrap=n_bootstrap, random_state=seed, device="cpu")
        assert len(model.terms) == 3, model
        by_term = {str(t.term): t.interval for t in model.terms}
        for i, term in enumerate(["1", "x", "x**2"]):
            low, high = by_term[term]
            hits[i] += low <= truth[i] <= high
    assert np.all(hits >= 90), hits


def test_pictures_of_a_twelve_term_model_with_long_names_keep_labels_short(tmp_path,
                                                                         monkeypatch):
    pytest.importorskip("matplotlib")
    from discovery import plots

    rng = np.random.default_rng(0)
    names = ["temperature_of_reservoir", "pressure_in_chamber", "mass_flow_rate",
             "valve_opening_fraction"]
    data = {n: rng.uniform(1, 3, 400) for n in names}
    X = np.column_stack(list(data.values()))
    pairs = [(a, b) for a in range(4) for b in range(a, 4)]
    y = sum((1 + k / 4) * X[:, a] * X[:, b] for k, (a, b) in enumerate(pairs))
    data["output_power"] = y + np.exp(-X[:, 2]) * 3 + 0.1 * rng.normal(size=400)
    model = discover(data, target="output_power", basis="poly(degree=3) + unary()",
                     n_bootstrap=20, device="cpu")
    assert len(model.terms) >= 10 and len(str(model.expression)) > 300
    made = []
    original = plots.figure

    def keep(*args):
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(plots, "figure", keep)
    for draw in (plots.plot_pareto, plots.plot_path, plots.plot_inclusion):
        assert draw(model, tmp_path / f"{draw.__name__}.png").stat().st_size > 1000
    for fig in made:
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert all(len(text) <= 40 for text in labels + ticks), labels + ticks
