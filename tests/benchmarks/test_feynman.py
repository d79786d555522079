"""The Feynman suite: problems, data, the runner's time limits and resume, the command."""

import json
import time

import numpy as np
import pytest
from pool_targets import failing, sleepy

from benchmarks.feynman import SETS, generate, load_problems
from benchmarks.feynman.runner import ResultsFile, run_dask, run_isolated, run_pool
from discovery.cli import main


@pytest.mark.parametrize("set_name, count", [("feynman", 100), ("bonus", 20), ("srsd-easy", 30),
                                             ("srsd-medium", 40), ("srsd-hard", 50)])
def test_every_set_loads(set_name, count):
    assert len(load_problems(set_name)) == count


def test_every_problem_generates_finite_data():
    for problem in load_problems("all"):
        data, y = generate(problem, 50, random_state=1)
        assert set(data) == set(problem.inputs)
        assert np.isfinite(y).all() and all(np.isfinite(v).all() for v in data.values())


def test_ai_feynman_ranges_and_srbench_noise():
    problem = load_problems("feynman", "I.12.1")[0]  # F = mu * Nn
    data, clean = generate(problem, 20_000, random_state=3)
    for variable in problem.variables:
        values = data[variable.name]
        assert variable.low <= values.min() < values.max() <= variable.high
    _, noisy = generate(problem, 20_000, noise=0.1, random_state=3)
    # The same seed draws the same inputs; the noise sd is 0.1 * RMS(y), to 2% on 20k points.
    ratio = np.std(noisy - clean) / (0.1 * np.sqrt(np.mean(clean**2)))
    assert ratio == pytest.approx(1.0, rel=0.02)


def test_srsd_log_uniform_and_signs():
    problem = next(p for p in load_problems("srsd-hard") if p.name == "I.6.20b")
    data, _ = generate(problem, 4000, random_state=0)
    theta = data["theta"]
    assert (theta < 0).any() and (theta > 0).any()  # sign 'both'
    assert 0.1 <= np.abs(theta).min() and np.abs(theta).max() <= 10.0
    assert (data["sigma"] > 0).all()


def test_results_file_appends_whole_lines_and_survives_a_torn_line(tmp_path):
    results = ResultsFile(tmp_path / "r.jsonl")
    results.append({"key": "a", "x": 1})
    with open(results.path, "a") as handle:
        handle.write('{"key": "b", "x"')  # a write cut short by a kill
    results.append({"key": "c"})
    assert results.done() == {"a", "c"}


@pytest.mark.slow
def test_the_time_limit_is_enforced_from_outside():
    got = {}
    started = time.monotonic()
    run_pool([{"key": "quick", "sleep": 0.1}, {"key": "hung", "sleep": 600},
              {"key": "after", "sleep": 0.1}], sleepy, workers=1, limit_s=lambda job: 3.0,
             on_result=lambda job, record: got.__setitem__(job["key"], record))
    assert got["quick"]["status"] == "ok" and got["after"]["status"] == "ok"
    assert got["hung"]["status"] == "timeout"
    assert time.monotonic() - started < 60


def test_a_failing_job_is_recorded_not_raised():
    got = []
    run_pool([{"key": "x"}], failing, workers=1, limit_s=lambda job: 30.0,
             on_result=lambda job, record: got.append(record))
    assert got[0]["status"].startswith("error: ValueError: broken job")


def test_the_command_writes_results_and_resumes(tmp_path, capsys):
    out = tmp_path / "feyn"
    # Two seeds of the clean problem: two records at a fraction of a second each
    # (at noise 0.01 the fit tries every route, ~8 s; noise is tested elsewhere).
    argv = ["benchmark", "feynman", "--problems", "I.12.1", "--noise", "0", "--seeds", "2",
            "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    lines = (out / "results.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    assert all(r["symbolic"] for r in records), records  # F = mu*Nn is found
    for name in ("summary.csv", "summary.md", "per_problem.csv", "rate_vs_noise.png"):
        assert (out / name).exists(), name
    assert "AI Feynman" in (out / "summary.md").read_text()
    capsys.readouterr()
    assert main(argv) == 0  # resume: nothing left to run, and it says so
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    assert "2 of 2 runs are already in" in capsys.readouterr().err


def test_unknown_set_and_method_are_one_line_errors(capsys):
    assert main(["benchmark", "feynman", "--set", "feymnan"]) == 2
    assert "Unknown Feynman set" in capsys.readouterr().err
    assert main(["benchmark", "feynman", "--methods", "sparse,gp"]) == 2
    assert "unknown gp" in capsys.readouterr().err
    assert set(SETS) >= {"feynman", "bonus"}


def test_an_isolated_job_is_killed_at_its_limit_and_errors_are_records():
    started = time.monotonic()
    assert run_isolated("pool_targets:sleepy", {"sleep": 0.1}, 60)["status"] == "ok"
    assert run_isolated("pool_targets:sleepy", {"sleep": 600}, 5)["status"] == "timeout"
    failed = run_isolated("pool_targets:failing", {}, 60)["status"]
    assert failed.startswith("error: ValueError: broken job"), failed
    assert time.monotonic() - started < 90


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster


def test_dask_runs_jobs_under_the_same_limit(dask_cluster):
    got = {}
    run_dask([{"key": "quick", "sleep": 0.1}, {"key": "hung", "sleep": 600},
              {"key": "bad"}], sleepy, address=dask_cluster.scheduler_address,
             limit_s=lambda job: 5.0,
             on_result=lambda job, record: got.__setitem__(job["key"], record))
    assert got["quick"]["status"] == "ok" and got["hung"]["status"] == "timeout"
    assert got["bad"]["status"].startswith("error"), got["bad"]


def test_the_command_runs_on_a_dask_cluster_and_resumes(dask_cluster, tmp_path, capsys):
    out = tmp_path / "feyn"
    argv = ["benchmark", "feynman", "--problems", "I.12.1,I.12.5", "--noise", "0", "--out",
            str(out), "--dask", dask_cluster.scheduler_address]
    assert main(argv) == 0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["name"] for r in records) == ["I.12.1", "I.12.5"]
    assert all(r["status"] == "ok" and r["symbolic"] for r in records), records
    assert main(argv) == 0
    assert len((out / "results.jsonl").read_text().splitlines()) == 2


def test_every_ai_feynman_law_balances_the_units_table():
    """units.csv against every variable of the 100 + 20 equations: each law balances."""
    from benchmarks.feynman.problems import units_of
    from discovery.units import Units

    for set_name in ("feynman", "bonus"):
        for problem in load_problems(set_name):
            units = Units.bind(units_of(problem, "__y__"), inputs=problem.inputs,
                               target="__y__")
            assert units.balances(problem.formula) is True, problem.key


def test_srsd_physical_constants_are_named_with_their_units():
    from benchmarks.feynman.problems import units_of

    hard = {p.name: p for p in load_problems("srsd-hard")}
    gravity = hard["I.9.18"]
    assert gravity.constants == (("G", 6.6743e-11),) and gravity.source == "feynman/I.9.18"
    assert units_of(gravity, "y") == {**{n: units_of(gravity, "y")[n] for n in gravity.inputs},
                                      "G": "m^3*s^-2*kg^-1", "y": "m*s^-2*kg"}
    # SRSD's I.6.20b is AI Feynman's I.6.2b; its bonus laws are AI Feynman's test_k.
    assert hard["I.6.20b"].source == "feynman/I.6.2b"
    assert hard["Klein-Nishina"].source == "bonus/test_20"
    assert dict(hard["Klein-Nishina"].constants).keys() == {"alpha", "c", "h", "m_e"}
    for problem in hard.values():  # every hard law has its units, constants included
        assert set(units_of(problem, "y")) == {*problem.inputs,
                                               *dict(problem.constants), "y"}
