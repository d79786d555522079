"""Parquet parts on a Dask cluster: the same formula and coefficients as in memory."""

import numpy as np
import pandas as pd
import pytest
from same_fit import assert_same_fit

from discovery import discover
from discovery.cli import main

pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    rng = np.random.default_rng(5)
    for i, n in enumerate([1200, 700, 1100]):
        v, theta = rng.uniform(0, 10, n), rng.uniform(0, np.pi / 2, n)
        s = v**2 * np.sin(2 * theta) / 9.81 + rng.normal(0, 0.01, n)
        frame = pd.DataFrame({"v": v, "theta": theta, "s": s})
        if i == 1:
            frame.loc[[3, 50], "s"] = np.nan  # dropped, and counted, in both paths
        frame.to_parquet(folder / f"part-{i}.parquet")
    return folder


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.mark.slow
def test_dask_gives_the_in_memory_formula_and_coefficients(parts, cluster):
    options = dict(target="s", constants={"g": 9.81}, search_rows=1000, n_bootstrap=0)
    memory = discover(parts, **options)
    spread = discover(parts, dask=cluster, **options)
    assert_same_fit(spread, memory)
    assert memory.info["rows"]["estimate"] == 3000 - 2 - 1000


def test_the_cli_reads_parts_on_the_cluster(capsys, parts, cluster):
    code = main(["fit", str(parts), "--target", "s", "--dask", cluster, "--search-rows", "1000",
                 "--bootstrap", "0", "--constants", "g=9.81"])
    out = capsys.readouterr().out
    assert code == 0
    assert "v**2*sin(2*theta)/g" in out
    assert "terms chosen on 1,000 random rows, estimated on the other 1,998" in out


def test_dask_needs_parquet(tmp_path, cluster):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    with pytest.raises(Exception, match="Parquet"):
        discover(tmp_path, target="y", dask=cluster)


def test_parts_with_different_columns_are_refused(tmp_path, cluster):
    pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"z": [1.0, 2.0], "y": [1.0, 2.0]}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(Exception, match="different columns"):
        discover(tmp_path, target="y", dask=cluster)
