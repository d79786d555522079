"""The Nguyen benchmark: problems, data, the command, resume."""

import json

import numpy as np
import pytest

from benchmarks.nguyen import PROBLEMS, generate, select
from discovery.cli import main


def test_the_twelve_problems_and_their_data():
    assert [p.name for p in PROBLEMS] == [f"Nguyen-{i}" for i in range(1, 13)]
    data = generate(PROBLEMS[10], random_state=3)  # x**y on [0, 1]
    assert data.shape == (20, 3) and data[["x", "y"]].to_numpy().min() >= 0
    np.testing.assert_allclose(data.f, data.x**data.y, rtol=1e-15)  # exact, noiseless
    assert generate(PROBLEMS[0], 3).equals(generate(PROBLEMS[0], 3))
    assert [p.name for p in select("Nguyen-1,Nguyen-1?")] == ["Nguyen-1", "Nguyen-10",
                                                               "Nguyen-11", "Nguyen-12"]


def test_the_command_runs_resumes_and_writes_its_tables(tmp_path, capsys):
    args = ["benchmark", "nguyen", "--seeds", "2", "--problems", "Nguyen-8", "--workers", "1",
            "--out", str(tmp_path)]
    assert main(args) == 0
    assert "Mean exact recovery: 100.0%" in capsys.readouterr().out
    assert main(args) == 0  # resumed: nothing is run twice
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["recovered"] for line in lines)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["mean_recovery"] == 100.0
    assert "| Nguyen-8 |" in (tmp_path / "summary.md").read_text()


def test_an_unknown_problem_is_a_clear_error(capsys):
    assert main(["benchmark", "nguyen", "--problems", "Nguyen-99"]) == 2
    assert "No Nguyen problem matches" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["Nguyen-7", "Nguyen-11"])
def test_the_shifted_logs_and_the_input_power_are_recovered_exactly(name):
    """Issue 15's two Nguyen laws, log(x + 1) + log(x² + 1) and x**y, on 20 points."""
    from discovery import check, discover

    problem = next(p for p in PROBLEMS if p.name == name)
    for seed in (0, 1):
        model = discover(generate(problem, seed), target="f", random_state=seed, device="cpu")
        assert check(model, problem.formula, positive=problem.positive).symbolic, \
            f"{name}, seed {seed}: {model.expression}"
