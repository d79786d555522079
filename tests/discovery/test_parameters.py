"""Every parameter of discover is checked before any work, with a message naming it."""

import numpy as np
import pytest

import discovery._discover as engine
from discovery import FitError, discover


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, 50)
    return {"x": x, "y": 2 * x}


@pytest.mark.parametrize("option, message", [
    ({"cv_folds": 1}, "cv_folds must be an integer of at least 2; got 1"),
    ({"cv_folds": 2.5}, "cv_folds must be an integer"),
    ({"validation_fraction": 2.0}, "validation_fraction must be between 0 and 1 .*got 2.0"),
    ({"validation_fraction": 0}, "validation_fraction must be between 0 and 1"),
    ({"time_limit": -1}, "time_limit must be a positive number"),
    ({"max_evaluations": 0}, "max_evaluations must be a positive integer; got 0"),
    ({"random_state": "seed"}, "random_state must be an integer or None"),
    ({"max_terms": 0}, "max_terms must be a positive integer"),
    ({"confidence": 1.5}, "confidence must be between 0 and 1"),
    ({"solver": "lars"}, "Unknown solver 'lars'"),
    ({"method": "opron"}, "Unknown method 'opron'; expected one of: sparse, operon, gplearn"),
    ({"method": "gplearn", "max_evaluations": 10}, "max_evaluations is not available for gplearn"),
])
def test_a_bad_parameter_fails_before_any_fit(data, option, message, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a fit started before the parameters were checked")

    monkeypatch.setattr(engine, "fit_library", no_fit)
    monkeypatch.setattr(engine, "prepare", no_fit)  # not even the data is read
    with pytest.raises(FitError, match=message):
        discover(data, target="y", device="cpu", **option)


def test_more_folds_than_rows_fails_before_any_fit(data, monkeypatch):
    monkeypatch.setattr(engine, "fit_library", None)  # calling it would be a TypeError
    with pytest.raises(FitError, match="cv_folds=51 is more folds than the 50 rows"):
        discover(data, target="y", device="cpu", selection="kfold", cv_folds=51)
