"""The :class:`Library` of candidate terms and its evaluation on data."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy
import torch

from ._compile import compile_torch, resolve_device
from ._parse import parse_expression
from .errors import LibraryError

__all__ = ["Library", "Design", "term_complexity", "normalise_term", "check_size", "MAX_TERMS"]

log = logging.getLogger(__name__)

#: The most terms a generator or a product of libraries may build.
MAX_TERMS = 50_000


def check_size(size: int, what: str) -> None:
    """Refuse, before building it, a library of more than :data:`MAX_TERMS` terms.

    Examples
    --------
    >>> check_size(10, "ten terms")
    >>> check_size(10**6, "monomials of 100 inputs up to degree 3")
    Traceback (most recent call last):
    ...
    basis_library.errors.LibraryError: monomials of 100 inputs up to degree 3 would be ...
    """
    if size > MAX_TERMS:
        raise LibraryError(f"{what} would be {size:,} terms, more than the {MAX_TERMS:,} a "
                           "library may hold; use a lower degree, fewer inputs or the auto "
                           "library (it screens wide data first).")


def normalise_term(term: sympy.Expr) -> sympy.Expr:
    """Strip a term's numeric factor: ``3*x**2`` and ``x**2`` are the same term.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> normalise_term(-3 * x**2)
    x**2
    """
    term = sympy.sympify(term)
    if term.is_Number:
        return sympy.Integer(1) if term != 0 else sympy.Integer(0)
    _, rest = term.as_coeff_Mul()
    return rest


def term_complexity(term: sympy.Expr) -> int:
    """The number of nodes in the expression tree (PySR's notion of complexity).

    Examples
    --------
    >>> import sympy
    >>> v, t = sympy.symbols("v theta")
    >>> term_complexity(v**2 * sympy.sin(2 * t))
    8
    """
    return sum(1 for _ in sympy.preorder_traversal(term))


class Library:
    """An ordered set of distinct candidate terms, each a sympy expression.

    Libraries compose like PySINDy's: ``a + b`` is the union and ``a * b`` holds
    every pairwise product. Symbolically identical terms appear once; a term's
    numeric factor is dropped (``2*x`` is the term ``x``).

    Parameters
    ----------
    terms
        sympy expressions, or strings parsed by the whitelist parser.
    spec
        A human-readable description of how the library was built.

    Examples
    --------
    >>> from basis_library import constant, fourier, monomials
    >>> lib = monomials(["v"], 2) * (constant() + fourier(["theta"], 1))
    >>> len(lib), lib.names[:4]
    (9, ['1', 'sin(theta)', 'cos(theta)', 'v'])
    """

    def __init__(self, terms: Iterable[sympy.Expr | str], *, spec: str | None = None) -> None:
        unique: dict[sympy.Expr, None] = {}
        for term in terms:
            if isinstance(term, str):
                term = parse_expression(term, where="term")
            term = normalise_term(term)
            if term != 0:
                unique.setdefault(term, None)
        self._terms: tuple[sympy.Expr, ...] = tuple(unique)
        self.spec = spec if spec is not None else f"custom({len(self._terms)} terms)"

    # --- container protocol -------------------------------------------------
    @property
    def terms(self) -> tuple[sympy.Expr, ...]:
        """The terms, in order."""
        return self._terms

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[sympy.Expr]:
        return iter(self._terms)

    def __getitem__(self, index: int) -> sympy.Expr:
        return self._terms[index]

    def __contains__(self, term: object) -> bool:
        if isinstance(term, str):
            term = parse_expression(term, self.symbols_by_name(), where="term")
        return normalise_term(term) in set(self._terms)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Library({len(self)} terms: {self.spec})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Library) and self._terms == other._terms

    def __hash__(self) -> int:
        return hash(self._terms)

    # --- composition --------------------------------------------------------
    def __add__(self, other: Library) -> Library:
        if not isinstance(other, Library):
            return NotImplemented
        return Library(self._terms + other._terms, spec=f"{self.spec} + {other.spec}")

    def __mul__(self, other: Library) -> Library:
        if not isinstance(other, Library):
            return NotImplemented
        check_size(len(self) * len(other), f"the product of {self.spec} and {other.spec}")
        products = (a * b for a in self._terms for b in other._terms)
        return Library(products, spec=f"({self.spec}) * ({other.spec})")

    # --- derived views ------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Each term printed as a sympy-parsable string."""
        return [str(t) for t in self._terms]

    @property
    def latex_names(self) -> list[str]:
        """Each term in LaTeX."""
        return [sympy.latex(t) for t in self._terms]

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The free symbols of all terms, sorted by name."""
        free: set[sympy.Symbol] = set()
        for term in self._terms:
            free |= term.free_symbols
        return tuple(sorted(free, key=lambda s: s.name))

    def symbols_by_name(self) -> dict[str, sympy.Symbol]:
        return {s.name: s for s in self.symbols}

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form: the spec and every term as a string."""
        return {"spec": self.spec, "size": len(self), "terms": self.names}

    @classmethod
    def from_dict(cls, data: Mapping[str, object],
                  symbols: Mapping[str, sympy.Symbol] | None = None) -> Library:
        """Rebuild a library from :meth:`to_dict` output, parsing terms safely."""
        terms = data.get("terms")
        if not isinstance(terms, list):
            raise LibraryError("A saved library needs a 'terms' list of strings.")
        table = dict(symbols or {})
        parsed = [parse_expression(str(t), table, where="saved term") for t in terms]
        return cls(parsed, spec=str(data.get("spec", "loaded")))

    # --- evaluation ---------------------------------------------------------
    def evaluate(
        self,
        data: Mapping[str, np.ndarray | torch.Tensor],
        *,
        device: str | torch.device = "auto",
        dtype: torch.dtype = torch.float64,
        drop_invalid: bool = True,
        collinearity_tol: float = 1e-9,
    ) -> Design:
        """Evaluate every term on ``data`` and check the columns.

        Terms that are non-finite anywhere on the data (or zero everywhere) are
        dropped with a warning naming them. Numerically collinear pairs
        (``sin(2*theta)`` and ``sin(theta)*cos(theta)``) are reported and the
        simpler term kept.

        Parameters
        ----------
        data
            Columns by name; every symbol of the library must be present.
        device
            ``"auto"`` (CUDA if present), ``"cpu"`` or ``"cuda"``.
        drop_invalid
            If false, keep every column as evaluated.
        collinearity_tol
            Two unit-normalised columns closer than this are collinear.

        Returns
        -------
        Design
        """
        torch_device = resolve_device(device)
        symbols = self.symbols
        missing = [s.name for s in symbols if s.name not in data]
        if missing:
            raise LibraryError(
                f"The library uses {', '.join(missing)}, which the data does not have; "
                f"columns are: {', '.join(map(str, data))}."
            )
        n = _n_rows(data)
        if symbols:
            X = torch.stack([_column(data[s.name], dtype, torch_device) for s in symbols], dim=1)
        else:
            X = torch.empty((n, 0), dtype=dtype, device=torch_device)
        matrix = self.compile()(X)
        design = Design(matrix=matrix, terms=self._terms)
        if drop_invalid:
            design = design.checked(collinearity_tol)
        return design

    def compile(self):  # noqa: ANN201 - returns a closure
        """The library as one compiled torch function of an (n, d) tensor (cached)."""
        if not hasattr(self, "_compiled"):
            self._compiled = compile_torch(self.symbols, self._terms)
        return self._compiled


def _column(values: object, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.to(dtype=dtype, device=device)
    return torch.tensor(np.asarray(values, dtype=float), dtype=dtype, device=device)


def _n_rows(data: Mapping[str, object]) -> int:
    lengths = {len(v) for v in data.values()}  # type: ignore[arg-type]
    if len(lengths) > 1:
        raise LibraryError(f"Columns have different lengths: {sorted(lengths)}.")
    return lengths.pop() if lengths else 0


@dataclass(frozen=True)
class Design:
    """A library evaluated on data: the design matrix and what was removed.

    Attributes
    ----------
    matrix
        (n, p) tensor, one column per kept term.
    terms
        The kept terms, in column order.
    dropped
        ``(term, reason)`` for each term removed as non-finite or zero.
    collinear
        ``(kept, dropped)`` for each numerically collinear pair.
    """

    matrix: torch.Tensor
    terms: tuple[sympy.Expr, ...]
    dropped: list[tuple[str, str]] = field(default_factory=list)
    collinear: list[tuple[str, str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [str(t) for t in self.terms]

    def checked(self, tol: float = 1e-9) -> Design:
        """Drop non-finite and zero columns, then one of each collinear pair."""
        M = self.matrix
        finite = torch.isfinite(M).all(dim=0)
        norms = torch.linalg.vector_norm(torch.where(torch.isfinite(M), M, 0.0), dim=0)
        nonzero = norms > 0
        keep = (finite & nonzero).cpu().numpy()
        dropped = list(self.dropped)
        bad_finite = (~finite).cpu().numpy()
        for j in np.flatnonzero(~keep):
            reason = "non-finite on the data" if bad_finite[j] else "zero on the data"
            dropped.append((str(self.terms[j]), reason))
        if len(dropped) > len(self.dropped):
            new = dropped[len(self.dropped):]
            shown = ", ".join(name for name, _ in new[:10])
            more = f" and {len(new) - 10} more" if len(new) > 10 else ""
            warnings.warn(f"Dropped {len(new)} term(s) non-finite or zero on the data: "
                          f"{shown}{more}.", RuntimeWarning, stacklevel=3)
        index = np.flatnonzero(keep)
        M = M[:, torch.as_tensor(index, device=M.device)]
        terms = [self.terms[j] for j in index]
        drop, pairs = _collinear_pairs(M, terms, tol)
        collinear = list(self.collinear) + pairs
        if pairs:
            log.info("Collinear terms: %s", "; ".join(f"{a} ~ {b}" for a, b in pairs))
        keep2 = [j for j in range(len(terms)) if j not in drop]
        M = M[:, torch.as_tensor(keep2, dtype=torch.long, device=M.device)]
        return Design(matrix=M, terms=tuple(terms[j] for j in keep2), dropped=dropped,
                      collinear=collinear)


def _collinear_pairs(M: torch.Tensor, terms: Sequence[sympy.Expr],
                     tol: float) -> tuple[set[int], list[tuple[str, str]]]:
    """Find columns equal up to scale, in O(n p log p) by a random projection.

    Unit-normalised, sign-fixed columns that coincide have the same projection
    onto a random direction, so only neighbours in sorted order are compared.
    The direction is fixed (seed 0), not the caller's random_state: it is a
    numerical device, and which pairs coincide does not depend on it.
    """
    n, p = M.shape
    if p < 2:
        return set(), []
    U = M / torch.linalg.vector_norm(M, dim=0)
    leading = torch.argmax((U.abs() > 1e-12).to(torch.int8), dim=0)
    first = U[leading, torch.arange(p, device=U.device)]
    U = U * torch.where(first < 0, -1.0, 1.0).to(U.dtype)
    generator = torch.Generator(device="cpu").manual_seed(0)
    direction = torch.randn(n, generator=generator, dtype=U.dtype).to(U.device)
    projection = (direction @ U).cpu().numpy()
    order = np.argsort(projection, kind="stable")
    window = tol * (np.sqrt(n) * 4 + 1)
    complexity = [term_complexity(t) for t in terms]
    drop: set[int] = set()
    pairs: list[tuple[str, str]] = []
    for a in range(p):
        i = order[a]
        if i in drop:
            continue
        b = a + 1
        while b < p and projection[order[b]] - projection[i] <= window:
            j = order[b]
            b += 1
            if j in drop:
                continue
            if torch.linalg.vector_norm(U[:, i] - U[:, j]).item() <= tol:
                simple, other = sorted((i, j), key=lambda k: (complexity[k], len(str(terms[k]))))
                drop.add(other)
                pairs.append((str(terms[simple]), str(terms[other])))
                if other == i:
                    break
    return drop, pairs
