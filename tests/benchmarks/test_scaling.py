"""The scaling benchmark's rows case, read from a Parquet file whole and streamed."""

import pytest

from benchmarks.scaling import run_case, summary

pytest.importorskip("pyarrow", reason="the parquet extra is not installed")


def test_a_parquet_case_streamed_gives_the_whole_read_formula():
    records = []
    for stream in (False, True):
        job = {"kind": "rows", "size": 600, "parquet": True, "stream": stream,
               "device": "cpu", "seed": 0}
        records.append({**job, **run_case(job)})
    whole, streamed = records
    assert whole["status"] == streamed["status"] == "ok"
    assert streamed["expression"] == whole["expression"]
    assert streamed["rows"] == whole["rows"]
    table = summary(records)
    assert "600 rows (Parquet) |" in table and "600 rows (Parquet, streamed) |" in table
