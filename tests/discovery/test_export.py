import dataclasses
import json
import pickle

import numpy as np
import pytest
import torch

from discovery import ParseError, discover, load


@pytest.fixture(scope="module")
def model(cannon):
    return discover(cannon, target="s", constants={"g": 9.81}, device="cpu")


def test_latex(model):
    assert model.latex() == r"\frac{v^{2} \sin{\left(2 \theta \right)}}{g}"
    assert model.latex(numeric=True).startswith("0.1019367")  # 1/9.81


def test_a_notebook_shows_the_formula_the_verdict_and_the_terms(model):
    assert model._repr_latex_() == (r"$\displaystyle s = "
                                    r"\frac{v^{2} \sin{\left(2 \theta \right)}}{g}$")
    html = model._repr_html_()
    assert html.startswith('<div class="discovery-model">') and html.endswith("</div>")
    assert r"$$s = \frac{v^{2} \sin{\left(2 \theta \right)}}{g}$$" in html
    assert "<b>Verdict:</b> law" in html
    assert "<td>v**2*sin(2*theta)</td>" in html and "<th>interval</th>" in html


def test_json_round_trip(model, tmp_path, cannon):
    path = model.save(tmp_path / "model.json")
    data = json.loads(path.read_text())
    for key in ("expression", "latex", "r2", "terms", "pareto", "library", "versions",
                "constants", "inputs", "target"):
        assert key in data, key
    assert data["versions"]["sympy"] and data["versions"]["torch"]
    again = load(path)
    assert again.expression == model.expression
    assert again.constants == model.constants
    assert again.inputs == ("v", "theta")
    assert [t.coefficient for t in again.terms] == [t.coefficient for t in model.terms]
    assert len(again.pareto) == len(model.pareto)
    # rtol=1e-12: the same formula evaluated twice.
    np.testing.assert_allclose(again.predict(cannon), model.predict(cannon), rtol=1e-12)


@pytest.mark.parametrize("field", ["symbolic_expression", "raw_expression"])
def test_loading_never_executes_code(model, tmp_path, field):
    data = model.to_dict()
    marker = tmp_path / "pwned"
    data[field] = f"__import__('os').system('touch {marker}')"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ParseError):
        load(path)
    assert not marker.exists()


def test_loading_rejects_files_that_are_not_models(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(ParseError, match="Not a saved model"):
        load(path)
    path.write_text("not json")
    with pytest.raises(ParseError, match="not JSON"):
        load(path)


def test_callables_and_sympy(model, cannon):
    X = cannon[["v", "theta"]].to_numpy()
    expected = X[:, 0] ** 2 * np.sin(2 * X[:, 1]) / 9.81
    # rtol=1e-12: exact formula, float64.
    np.testing.assert_allclose(model.to_numpy()(X[:, 0], X[:, 1]), expected, rtol=1e-12)
    np.testing.assert_allclose(model.to_torch()(torch.tensor(X)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-12)
    assert model.sympy() == model.expression


def test_model_pickles(model, cannon):
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict(cannon), model.predict(cannon), rtol=1e-12)


def test_a_model_cannot_be_changed_and_replace_gives_a_changed_copy(model, cannon):
    from discovery import Uncertainty, Verdict

    with pytest.raises(AttributeError, match="model.replace"):
        model.expression = model.raw_expression
    with pytest.raises(TypeError, match="read-only"):
        model.metrics["r2"] = 0.0
    with pytest.raises(TypeError, match="read-only"):
        model.info["timings"]["total"] = 0.0  # nested entries too
    with pytest.raises(AttributeError):
        model.terms.append(model.terms[0])  # a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.verdict.status = "law"
    front = model.pareto
    front.loc[0, "error"] = -1.0  # a copy: the model's front is untouched
    assert (model.pareto["error"] >= 0).all()
    # The typed parts read as attributes and as the dicts they replace.
    assert isinstance(model.verdict, Verdict) and isinstance(model.uncertainty, Uncertainty)
    assert model.verdict.status == model.verdict["status"] == "law"
    assert dict(model.uncertainty)["level"] == model.uncertainty.level == 0.95
    assert "reason" not in model.uncertainty and model.uncertainty.get("reason") is None
    renamed = model.replace(target="range")
    assert renamed.target == "range" and model.target == "s"
    assert renamed.expression == model.expression and renamed._fit is model._fit
    later = model.updated(metrics={"note": 1}, timings={"extra": 2.0})
    assert later.metrics["note"] == 1 and later.metrics["r2"] == model.metrics["r2"]
    assert later.info["timings"]["extra"] == 2.0 and "total" in later.info["timings"]
    assert "note" not in model.metrics
    with pytest.raises(TypeError, match="unknown field"):
        model.replace(colour="red")
    with pytest.raises(TypeError, match="Verdict has no field"):
        model.replace(verdict={"status": "law", "colour": "red"})
    # rtol=1e-12: the copy predicts with the same formula.
    np.testing.assert_allclose(renamed.predict(cannon), model.predict(cannon), rtol=1e-12)


def test_pareto_front_is_a_dataframe_with_the_chosen_model(model):
    front = model.pareto
    assert {"complexity", "error", "expression", "chosen"} <= set(front.columns)
    assert front["chosen"].sum() == 1
    assert front["complexity"].is_monotonic_increasing
    assert front["error"].is_monotonic_decreasing


def test_predict_takes_the_original_column_names_of_renamed_inputs():
    rng = np.random.default_rng(0)
    lam, d = rng.uniform(1, 2, 200), rng.uniform(5, 10, 200)
    model = discover({"lambda": lam, "my d": d, "y": lam / d}, target="y", device="cpu")
    assert model.inputs == ("lambda_", "my_d")  # identifiers inside the formula
    expected = lam / d
    np.testing.assert_allclose(model.predict({"lambda": lam, "my d": d}), expected, rtol=1e-9)
    np.testing.assert_allclose(model.predict({"lambda_": lam, "my_d": d}), expected, rtol=1e-9)


def test_parity_and_residual_plots_draw_on_given_axes_or_their_own(model, cannon, tmp_path):
    pytest.importorskip("matplotlib")
    from discovery.plots import figure, plot_parity, plot_residuals

    fig = plot_parity(model, cannon, path=tmp_path / "parity.png")
    assert (tmp_path / "parity.png").stat().st_size > 0
    [axes] = fig.axes
    assert axes.get_xlabel() == "predicted s" and axes.get_ylabel() == "observed s"
    # A law's points lie on the identity line: the residuals are the noise.
    assert len(axes.collections[0].get_offsets()) == len(cannon)
    mine = figure(8, 3)
    panels = [mine.add_subplot(1, 2, i + 1) for i in range(2)]
    assert plot_residuals(model, cannon, ax=panels) is mine
    assert [a.get_xlabel() for a in panels] == ["v", "theta"]
