"""The printed-forms benchmark: ten laws, one fitted, the tables."""

import json

from benchmarks.printing import LAWS, run_job, summarise, write_summary


def test_ten_laws_with_their_written_forms():
    assert len(LAWS) == 10
    assert all(isinstance(formula, str) and ranges for formula, ranges, _ in LAWS.values())


def test_a_law_is_fitted_compared_and_tabled(tmp_path):
    record = {"key": "damped oscillation", **run_job({"law": "damped oscillation"})}
    assert record["symbolic"] and record["as_short"]
    assert record["printed"] == "5*exp(-3*t/10)*cos(2*t)/2"
    wrong = {"key": "velocity addition", "written": "(u + v)/(1 + u*v/c**2)", "raw": "u + v",
             "printed": "u + v", "symbolic": False, "as_short": True, "size": 3,
             "written_size": 12}
    table = summarise([record, wrong])
    assert list(table["the law"]) == ["yes", "no"]
    md, js = write_summary([record, wrong], tmp_path)
    assert "| damped oscillation | `5/2*exp(-3*t/10)*cos(2*t)` |" in md.read_text()
    assert json.loads(js.read_text())["the_law"] == 1
