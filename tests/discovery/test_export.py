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
    assert again.inputs == ["v", "theta"]
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
    assert model.inputs == ["lambda_", "my_d"]  # identifiers inside the formula
    expected = lam / d
    np.testing.assert_allclose(model.predict({"lambda": lam, "my d": d}), expected, rtol=1e-9)
    np.testing.assert_allclose(model.predict({"lambda_": lam, "my_d": d}), expected, rtol=1e-9)
