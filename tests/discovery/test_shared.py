"""Shared constants: coefficients that are one constant, found and tested together."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch

from discovery import discover
from discovery.symbolic.shared import share


def _fit(columns: list[np.ndarray], y: np.ndarray, keys: list[object] | None = None):
    A = torch.tensor(np.column_stack(columns))
    t = torch.tensor(y)
    coef, *_ = np.linalg.lstsq(A.numpy(), y, rcond=None)
    rss = float(((y - A.numpy() @ coef) ** 2).sum())
    n, k = A.shape
    se = np.sqrt(np.diag(np.linalg.inv(A.numpy().T @ A.numpy())) * rss / (n - k))
    return share(A, t, coef, se, rss, n, 0.0, keys)


@pytest.fixture
def columns():
    rng = np.random.default_rng(0)
    return rng.uniform(1, 5, (3, 1000)), rng


def test_equal_coefficients_become_one_constant(columns):
    (a, b, c), rng = columns
    y = 2.3 * a + 2.3 * b + 0.7 * c + rng.normal(0, 0.1, 1000)
    sharing = _fit([a, b, c], y)
    assert sharing.groups == (((0, 1), (1, 1)), ((2, 1),))
    assert sharing.coef[0] == pytest.approx(2.3, rel=5e-3)
    # One constant measured twice is known better than either coefficient.
    free_se = np.sqrt(np.diag(np.linalg.inv(np.column_stack([a, b, c]).T
                                            @ np.column_stack([a, b, c]))) * 0.01)
    assert sharing.std_error[0] < min(free_se[:2])


def test_simple_ratios_and_opposite_signs_are_found(columns):
    (a, b, _), rng = columns
    y = 1.7 * a - 0.85 * b + rng.normal(0, 0.05, 1000)
    sharing = _fit([a, b], y)
    assert sharing.groups == (((0, 2), (1, -1)),)
    assert sharing.coef[0] == pytest.approx(0.85, rel=5e-3)


def test_constants_five_percent_apart_are_not_merged(columns):
    (a, b, _), rng = columns
    y = 2.0 * a + 2.1 * b
    y = y + rng.normal(0, 0.01 * np.sqrt(np.mean(y**2)), 1000)
    sharing = _fit([a, b], y)
    assert not sharing.shared
    assert [c.held for c in sharing.tested] in ([], [False])


def test_coefficients_of_different_units_are_not_compared(columns):
    (a, b, _), rng = columns
    y = 2.3 * a + 2.3 * b + rng.normal(0, 0.1, 1000)
    assert _fit([a, b], y, keys=["m", "s"]).tested == ()
    assert _fit([a, b], y, keys=["m", "m"]).shared


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["difference", "named", "halves", "squared sine"])
def test_the_shared_shapes_are_stated_factored_at_one_percent_noise(shape):
    """The four shapes of issue 36, 1,000 rows, noise 1% of the RMS of y."""
    rng = np.random.default_rng(1)
    n = 1000
    options: dict[str, object] = {}
    if shape == "difference":
        a, b = rng.uniform(1, 3, n), rng.uniform(1, 3, n)
        data, y = {"a": a, "b": b}, 1.1 * (np.log(a) - np.log(b))
    elif shape == "named":
        u, w, phi = rng.uniform(0, 2, n), rng.uniform(0, 2, n), rng.uniform(0, 1.5, n)
        data, y = {"u": u, "w": w, "phi": phi}, 9.81 * (u * np.cos(phi) + w * np.sin(phi))
        options["constants"] = {"g": 9.81}
    elif shape == "halves":
        p, q = rng.uniform(1, 5, n), rng.uniform(1, 5, n)
        data, y = {"p": p, "q": q}, p / 2 + q / 2
    else:
        r, phi = rng.uniform(1, 3, n), rng.uniform(0, 1.5, n)
        data, y = {"r": r, "phi": phi}, 0.051 * r * np.sin(phi) ** 2
    y = y + rng.normal(0, 0.01 * np.sqrt(np.mean(y**2)), n)
    model = discover({**data, "y": y}, target="y", n_bootstrap=0, **options)
    text = str(model.expression)
    assert model.verdict.status == "law", text
    assert model.metrics["shared_constants"]["groups"], text
    floats = model.expression.atoms(sympy.Float)
    if shape == "difference":
        assert len(floats) == 1 and "(log(a) - log(b))" in text, text
    elif shape == "named":
        assert text == "g*(u*cos(phi) + w*sin(phi))"
    elif shape == "halves":
        assert text == "(p + q)/2"
    else:
        assert len(floats) == 1 and "sin(phi)**2" in text, text
