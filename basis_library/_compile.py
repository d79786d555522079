"""Compile sympy terms once into one batched torch (or numpy) function."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy
import torch

from .errors import LibraryError

__all__ = ["resolve_device", "compile_torch", "compile_numpy", "compile_scalar",
           "TORCH_FUNCTIONS"]

TORCH_FUNCTIONS: dict[str, object] = {
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "Abs": torch.abs,
    "pi": math.pi,
    "E": math.e,
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Map ``"auto"``, ``"cpu"``, ``"cuda"`` (or a torch device) to a torch device.

    Raises
    ------
    LibraryError
        If CUDA is asked for but not available, or the name is unknown.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, str) and device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise LibraryError(f"Device {device!r} was asked for, but CUDA is not available here; "
                               "use device='cpu' or 'auto'.")
        return torch.device(device)
    if device == "cpu":
        return torch.device("cpu")
    raise LibraryError(f"Unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'.")


def _constants_as_floats(term: sympy.Expr) -> sympy.Expr:
    """``term`` with each function or root of no symbol (``exp(-1)``, ``sin(2)``,
    ``sqrt(2)``) as its value: torch's functions take tensors, not Python numbers.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> _constants_as_floats(sympy.exp(x * sympy.exp(-1)))
    exp(0.367879441171442*x)
    >>> _constants_as_floats(sympy.exp(sympy.sqrt(2) * x))
    exp(1.4142135623731*x)
    """
    if not isinstance(term, sympy.Basic):
        return term
    constant = [f for f in term.atoms(sympy.Function, sympy.Pow) if not f.free_symbols]
    return term.xreplace({f: f.evalf() for f in constant}) if constant else term


def compile_torch(
    symbols: Sequence[sympy.Symbol], terms: Sequence[sympy.Expr]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Compile ``terms`` to one function from an (n, d) tensor to an (n, p) tensor.

    Common subexpressions are shared, so ``v**2*sin(theta)`` and
    ``v**2*cos(theta)`` compute ``v**2`` once.
    """
    if not terms:
        raise LibraryError("Cannot compile an empty library.")
    raw = sympy.lambdify(list(symbols), [_constants_as_floats(t) for t in terms],
                         modules=[TORCH_FUNCTIONS], cse=True)

    def evaluate(X: torch.Tensor) -> torch.Tensor:
        columns = raw(*X.unbind(dim=1)) if X.shape[1] else raw()
        n = X.shape[0]
        out = torch.empty((n, len(columns)), dtype=X.dtype, device=X.device)
        for j, column in enumerate(columns):
            out[:, j] = column  # broadcasts constant terms
        return out

    return evaluate


def compile_numpy(
    symbols: Sequence[sympy.Symbol], expression: sympy.Expr | Sequence[sympy.Expr]
) -> Callable[..., np.ndarray]:
    """Compile an expression to a numpy function of the columns, broadcasting constants.

    A sequence of expressions gives one function whose value stacks theirs
    (expressions × rows). Floating-point warnings are silenced: a value out of
    an expression's domain is nan or inf, for the caller to judge.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> compile_numpy([x], 2 * x)(np.array([1.0, 2.0])).tolist()
    [2.0, 4.0]
    >>> compile_numpy([x], [x, sympy.Integer(1)])(np.array([3.0, 4.0])).tolist()
    [[3.0, 4.0], [1.0, 1.0]]
    """
    many = isinstance(expression, (list, tuple))
    raw = sympy.lambdify(list(symbols), list(expression) if many else expression,
                         modules="numpy")

    def evaluate(*columns: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            value = raw(*columns)
        shape = np.broadcast_shapes(*(np.shape(c) for c in columns)) if columns else ()
        if many:
            return np.stack([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in value])
        return np.broadcast_to(np.asarray(value, dtype=float), shape).copy()

    return evaluate


def compile_scalar(
    symbols: Sequence[sympy.Symbol], expressions: Sequence[sympy.Expr]
) -> Callable[..., list[float]]:
    """Compile expressions to one function of scalars returning their values as a list.

    Python's ``math`` module, not numpy: an ODE integrator calls the right-hand
    side thousands of times with one state each, where numpy's per-call
    overhead would dominate. Raises as ``math`` does (ValueError, OverflowError,
    ZeroDivisionError) outside an expression's domain.

    Examples
    --------
    >>> import sympy
    >>> x, c = sympy.symbols("x c")
    >>> compile_scalar([x, c], [c * x, sympy.sin(x)])(0.0, 2.0)
    [0.0, 0.0]
    """
    return sympy.lambdify(list(symbols), list(expressions), modules="math")
