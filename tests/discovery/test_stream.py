"""Data read one part at a time (``stream=True``): the in-memory formula and coefficients."""

import numpy as np
import pandas as pd
import pytest
from same_fit import assert_same_fit

from discovery import discover
from discovery.bigdata.distributed import TableParts, streams
from discovery.cli import main
from discovery.errors import DataError

pq = pytest.importorskip("pyarrow.parquet", reason="the parquet extra is not installed")

OPTIONS = dict(target="s", constants={"g": 9.81}, search_rows=1000, n_bootstrap=0)


def _shots(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    v, theta = rng.uniform(0, 10, n), rng.uniform(0, np.pi / 2, n)
    s = v**2 * np.sin(2 * theta) / 9.81 + rng.normal(0, 0.01, n)
    frame = pd.DataFrame({"v": v, "theta": theta, "s": s})
    frame.loc[[3, 1500], "s"] = np.nan  # dropped, and counted, in both paths
    return frame


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """The same 3,000 shots as CSV and as a Parquet file of three row groups."""
    folder = tmp_path_factory.mktemp("stream")
    frame = _shots(3000)
    frame.to_csv(folder / "shots.csv", index=False)
    frame.to_parquet(folder / "shots.parquet", row_group_size=1100)
    assert pq.ParquetFile(folder / "shots.parquet").num_row_groups == 3
    return folder


@pytest.fixture(scope="module")
def memory(shots):
    model = discover(shots / "shots.parquet", **OPTIONS, stream=False)
    assert model.info["rows"]["estimate"] == 3000 - 2 - 1000
    return model


@pytest.mark.slow
def test_a_csv_read_in_parts_gives_the_in_memory_fit(shots, memory):
    # The CSV is copied into row groups, then read as a Parquet file's are.
    assert_same_fit(discover(shots / "shots.csv", **OPTIONS, stream=True), memory)


def test_a_parquet_file_is_read_by_its_row_groups(shots):
    source = TableParts.open(shots / "shots.parquet", "s", None)
    try:
        assert [p.row_group for p in source.parts] == [0, 1, 2]
        assert [c["n"] for c in source.counts] == [1099, 1099, 800]  # a NaN in the 1st, 2nd
        assert source.scratch is None
    finally:
        source.close()


def test_a_csv_is_copied_in_chunks_of_the_given_rows(shots, monkeypatch):
    import discovery.bigdata.distributed as distributed

    seen = []
    real = distributed._read

    def spy(part):
        frame = real(part)
        seen.append(len(frame))
        return frame

    monkeypatch.setattr(distributed, "_read", spy)
    source = TableParts.open(shots / "shots.csv", "s", None, chunk_rows=700)
    try:
        assert [p.row_group for p in source.parts] == [0, 1, 2, 3, 4]
        assert max(seen) == 700  # no part is read whole
        assert sum(c["n"] for c in source.counts) == 2998
        scratch = source.scratch
        assert scratch is not None and scratch.exists()
    finally:
        source.close()
    assert not scratch.exists()


def test_only_large_paths_stream_by_default(shots, monkeypatch):
    import discovery.bigdata.distributed as distributed

    assert not streams(shots / "shots.csv", None)
    assert streams(shots / "shots.csv", True)
    assert not streams({"x": [1.0]}, None)
    monkeypatch.setattr(distributed, "STREAM_BYTES", 1000)
    assert streams(shots / "shots.csv", None) and streams(shots, None)


def test_the_cli_streams_a_csv(capsys, shots):
    code = main(["fit", str(shots / "shots.csv"), "--target", "s", "--stream", "--search-rows",
                 "1000", "--bootstrap", "0", "--constants", "g=9.81"])
    out = capsys.readouterr().out
    assert code == 0
    assert "v**2*sin(2*theta)/g" in out
    assert "terms chosen on 1,000 random rows, estimated on the other 1,998" in out


def test_a_csv_whose_columns_change_type_is_refused(tmp_path):
    rows = ["x,y"] + [f"{i},{i}" for i in range(10)] + ["a,1"]
    (tmp_path / "bad.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="changes its column types after row 10"):
        TableParts.open(tmp_path / "bad.csv", "y", None, chunk_rows=10)


def test_streaming_needs_a_path():
    with pytest.raises(Exception, match="needs data as a path"):
        discover({"x": np.arange(50.0), "y": np.arange(50.0)}, target="y", stream=True)
