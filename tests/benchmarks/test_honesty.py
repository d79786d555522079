"""The honesty benchmark: random-digit laws, pure-noise targets, the count of false claims."""

import json

import numpy as np
import sympy

from benchmarks.honesty import (
    LAWS,
    SHARED_LAWS,
    _false_claims,
    _merged,
    constants_for,
    generate_law,
    generate_noise,
    shared_constants_for,
)
from discovery import Model, ModelTerm
from discovery.cli import main


def test_laws_have_four_random_digits_and_reproducible_data():
    assert len(LAWS) == 20
    for i in range(len(LAWS)):
        for value in constants_for(i).values():
            digits = f"{abs(value):.4g}".replace(".", "").lstrip("0")
            assert 0.01 <= abs(value) < 100 and len(digits.rstrip("0")) <= 4
    data = generate_law(8, 0.0)  # c1*x + c2*y, noiseless
    c = constants_for(8)
    np.testing.assert_allclose(data.f, c["c1"] * data.x + c["c2"] * data.y, rtol=1e-12)
    assert generate_law(8, 0.01).equals(generate_law(8, 0.01))
    assert generate_noise(4).shape == (1000, 3)  # two inputs and the target


def test_a_claim_is_false_unless_it_is_the_true_coefficient_of_its_term():
    x, y = sympy.symbols("x y", positive=True)
    truth = 2.5 * x - 0.2505 * y

    def model(*terms):
        return Model(expression=x, raw_expression=x, inputs=["x", "y"], target="f",
                     terms=[ModelTerm(term=t, coefficient=c, std_error=1e-3, closed_form=f)
                            for t, c, f in terms])

    assert _false_claims(model((x, 2.5, sympy.Rational(5, 2))), truth) == []  # 2.500 is 5/2
    assert len(_false_claims(model((y, -0.2505, -sympy.Rational(1, 4))), truth)) == 1
    assert len(_false_claims(model((x * y, 0.001, sympy.Integer(0) + 1)), truth)) == 1


def test_shared_suites_set_the_ratio_exactly_or_five_to_thirty_percent_off():
    assert len(SHARED_LAWS) == 20
    for i in range(len(SHARED_LAWS)):
        equal, ratio = shared_constants_for(i, distinct=False)
        distinct, same = shared_constants_for(i, distinct=True)
        assert same == ratio and equal["c1"] == distinct["c1"]
        assert equal["c2"] == equal["c1"] * ratio
        assert 0.05 <= abs(distinct["c2"] / (distinct["c1"] * ratio) - 1) <= 0.30
    x, y = sympy.symbols("x y", positive=True)

    def model(a, b):
        return Model(expression=x, raw_expression=x, inputs=["x", "y"], target="f",
                     terms=[ModelTerm(term=x, coefficient=a, std_error=1e-3),
                            ModelTerm(term=y, coefficient=b, std_error=1e-3)])

    truth = 1.5 * x - 3.0 * y  # c1 = 1.5, ratio -2
    assert _merged(model(1.4987, -2.9974), truth, 1.5, -2.0)
    assert not _merged(model(1.4987, -2.9981), truth, 1.5, -2.0)


def test_the_command_runs_one_law_and_one_noise_target(tmp_path, capsys):
    args = ["benchmark", "honesty", "--problems", "constants|0|noise=0.01,noise|0",
            "--workers", "1", "--out", str(tmp_path)]
    assert main(args) == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    by_suite = {r["suite"]: r for r in records}
    assert by_suite["constants"]["n_false"] == 0 and by_suite["constants"]["symbolic"]
    assert by_suite["noise"]["verdict"] == "none"
    assert "false closed forms" in (tmp_path / "summary.md").read_text()
    assert main(["benchmark", "honesty", "--problems", "nothing*"]) == 2
