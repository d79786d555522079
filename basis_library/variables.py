"""Input variables and their hints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy

from .errors import LibraryError

__all__ = ["Variable", "as_symbols"]


@dataclass(frozen=True)
class Variable:
    """An input variable with optional hints.

    Parameters
    ----------
    name
        The column name in the data.
    positive
        Values are strictly positive (enables logs, roots, negative powers and
        lets sympy simplify ``sqrt(v**2)`` to ``v``).
    angle
        True: the variable is an angle in radians (the auto library adds
        Fourier harmonics of it); False: it is not one; None (default): the
        auto library decides from its name and its range.
    integer
        Values are integers.

    Examples
    --------
    >>> Variable("theta", angle=True).symbol
    theta
    """

    name: str
    positive: bool = False
    angle: bool | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise LibraryError(
                f"A variable name must be a Python identifier; got {self.name!r}."
            )

    @property
    def symbol(self) -> sympy.Symbol:
        """The sympy symbol, carrying the hints as assumptions."""
        assumptions = {"real": True}
        if self.positive:
            assumptions["positive"] = True
        if self.integer:
            assumptions["integer"] = True
        return sympy.Symbol(self.name, **assumptions)


def as_symbols(variables: Iterable[str | Variable | sympy.Symbol] | str | Variable | sympy.Symbol,
               ) -> tuple[sympy.Symbol, ...]:
    """Turn names, :class:`Variable` objects or symbols into sympy symbols.

    Examples
    --------
    >>> as_symbols(["v", Variable("theta", angle=True)])
    (v, theta)
    """
    if isinstance(variables, (str, Variable, sympy.Symbol)):
        variables = [variables]
    symbols = []
    for item in variables:
        if isinstance(item, sympy.Symbol):
            symbols.append(item)
        elif isinstance(item, Variable):
            symbols.append(item.symbol)
        elif isinstance(item, str):
            symbols.append(Variable(item).symbol)
        else:
            raise LibraryError(
                f"A variable must be a name, a Variable or a sympy Symbol; got {item!r}."
            )
    return tuple(symbols)
