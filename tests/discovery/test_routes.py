"""The routes' registry and protocol: a route's identity is typed, the routes are tried
in the registry's order, and a new route is one class and one entry (issue 31)."""

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import sympy

import discovery.routes.compare as compare
from discovery import discover
from discovery.routes import (
    ROUTES,
    Proposal,
    RouteContext,
    RouteKind,
    model_from_expression,
)


@pytest.mark.parametrize("strategy, kind", [
    (None, RouteKind.LIBRARY),
    ("library", RouteKind.LIBRARY),
    ("power law", RouteKind.POWER_LAW),
    ("library times m1*m2/(r1*r2)", RouteKind.FACTORED),
    ("rational", RouteKind.RATIONAL),
    ("inner constants (damped oscillation in t)", RouteKind.INNER),
    ("fit of y**2, inverted", RouteKind.TRANSFORM),
    ("grown monomials", RouteKind.GROWN),
    ("power lawyer", RouteKind.LIBRARY),  # a prefix of a word is no route
])
def test_a_strategy_is_read_as_its_route(strategy, kind):
    assert RouteKind.of_strategy(strategy) is kind


def test_the_registry_tries_constrained_routes_before_flexible_ones():
    kinds = [route.kind for route in ROUTES]
    assert kinds == [RouteKind.POWER_LAW, RouteKind.FACTORED, RouteKind.RATIONAL,
                     RouteKind.INNER, RouteKind.TRANSFORM, RouteKind.GROWN,
                     RouteKind.TRANSFORM]
    assert all(callable(route.propose) for route in ROUTES)


class _Planted:
    """A route that proposes one given formula at a score no other route can beat."""

    kind = RouteKind.GROWN

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.asked = 0

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        self.asked += 1
        expr = sympy.sympify(self.expression, locals={"x": sympy.Symbol("x")})
        model = model_from_expression(expr, context.dataset, method="sparse", front=[],
                                      info={})
        yield Proposal(-1e9, model.updated(metrics={"strategy": "grown monomials"}))


def test_a_route_added_to_the_registry_is_tried_and_can_win(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 3, 300)
    data = pd.DataFrame({"x": x, "y": np.sin(3.3 * x) + 0.01 * rng.normal(size=300)})
    planted = _Planted("sin(3.3*x)")
    monkeypatch.setattr(compare, "ROUTES", (planted,))
    model = discover(data, target="y", n_bootstrap=0, verbose=False)
    assert planted.asked == 1
    assert str(model.expression) == "sin(3.3*x)"
    assert RouteKind.of(model) is RouteKind.GROWN


def test_no_route_is_asked_once_the_first_fit_is_exact(monkeypatch):
    x = np.linspace(1, 2, 200)
    planted = _Planted("x")
    monkeypatch.setattr(compare, "ROUTES", (planted,))
    model = discover(pd.DataFrame({"x": x, "y": 3 * x**2}), target="y", n_bootstrap=0,
                     verbose=False)
    assert planted.asked == 0
    assert str(model.expression) == "3*x**2"
