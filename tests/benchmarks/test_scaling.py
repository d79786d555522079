"""The scaling benchmark's rows case, its Parquet file streamed by row group."""

import pytest

from benchmarks.scaling import run_case, summary

pytest.importorskip("pyarrow", reason="the parquet extra is not installed")


def test_a_parquet_case_is_written_apart_and_streamed():
    # (The streamed fit equals the whole read's: tests/discovery/test_stream.py.)
    job = {"kind": "rows", "size": 600, "parquet": True, "stream": True, "device": "cpu",
           "seed": 0}
    streamed = {**job, **run_case(job)}
    assert streamed["status"] == "ok" and streamed["symbolic"], streamed["expression"]
    assert streamed["peak_before_fit_gb"] <= streamed["peak_gb"]
    whole = {**streamed, "stream": False}
    table = summary([whole, streamed])
    assert "600 rows (Parquet) |" in table and "600 rows (Parquet, streamed) |" in table
