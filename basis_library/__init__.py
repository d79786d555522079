"""Candidate terms for symbolic regression: generated in sympy, compiled once to torch.

Importing this package has no side effects.
"""

from ._compile import compile_numpy, compile_scalar, compile_torch, resolve_device
from ._parse import FUNCTIONS, parse_expression
from .errors import DiscoveryError, LibraryError, ParseError
from .generators import (
    UNARY_MAPS,
    angles_of,
    auto_library,
    constant,
    custom,
    fourier,
    monomials,
    ode_library,
    poly,
    unary,
)
from .library import Design, Library, normalise_term, term_complexity
from .spec import parse_basis
from .variables import Variable, as_symbols

__all__ = [
    "Design",
    "DiscoveryError",
    "FUNCTIONS",
    "Library",
    "LibraryError",
    "ParseError",
    "UNARY_MAPS",
    "Variable",
    "angles_of",
    "as_symbols",
    "auto_library",
    "compile_numpy",
    "compile_scalar",
    "compile_torch",
    "constant",
    "custom",
    "fourier",
    "monomials",
    "normalise_term",
    "ode_library",
    "parse_basis",
    "parse_expression",
    "poly",
    "resolve_device",
    "term_complexity",
    "unary",
]
