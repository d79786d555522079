"""One check shared by the tests of data read in parts (streamed here, or on Dask)."""

import numpy as np
import pytest


def assert_same_fit(parts, memory) -> None:  # noqa: ANN001
    """``parts`` (a fit of data read in parts) is ``memory``'s: the cannon law, the same
    rows, coefficients to 1e-10, standard errors to 1e-8, R² to 1e-10, two rows dropped."""
    assert str(parts.expression) == str(memory.expression) == "v**2*sin(2*theta)/g"
    assert parts.info["rows"] == memory.info["rows"]
    np.testing.assert_allclose([t.coefficient for t in parts.terms],
                               [t.coefficient for t in memory.terms], rtol=1e-10, atol=0)
    np.testing.assert_allclose([t.std_error for t in parts.terms],
                               [t.std_error for t in memory.terms], rtol=1e-8)
    assert parts.metrics["r2"] == pytest.approx(memory.metrics["r2"], abs=1e-10)
    assert parts.metrics["rows_dropped"] == memory.metrics["rows_dropped"] == 2
