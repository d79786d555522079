"""Check a discovered formula against a known truth."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from basis_library import (
    ParseError,
    as_symbols,
    compile_numpy,
    normalise_term,
    parse_expression,
    term_complexity,
)

from .simplify import round_floats, round_significant

__all__ = ["check", "CheckResult"]


@dataclass(frozen=True)
class CheckResult:
    """The verdicts of :func:`check`.

    Attributes
    ----------
    symbolic
        The SRBench criterion: after rounding floats to 6 decimals,
        ``truth - model`` or ``model / truth`` simplifies to a constant.
    exact
        The same additive terms, each coefficient within ``rtol``.
    precision, recall
        Of the model's additive terms (coefficients stripped) against the truth's.
    """

    symbolic: bool
    exact: bool
    precision: float
    recall: float
    model: sympy.Expr
    truth: sympy.Expr
    details: dict[str, object] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.symbolic


def _to_expr(item: object, symbols: dict[str, sympy.Symbol], what: str) -> sympy.Expr:
    if hasattr(item, "numeric_expression"):
        return item.numeric_expression  # a Model
    if isinstance(item, str):
        return parse_expression(item, symbols, where=what)
    if isinstance(item, sympy.Basic):
        return item  # type: ignore[return-value]
    raise ParseError(f"The {what} must be a model, a sympy expression or a string; "
                     f"got {type(item).__name__}.")


def _plain(expr: sympy.Expr, constants: Mapping[str, float],
           positive: frozenset[str] = frozenset()) -> sympy.Expr:
    """Substitute named constants and map every symbol to a real (or positive) one by name."""
    mapping: dict[sympy.Basic, sympy.Basic] = {}
    for s in expr.free_symbols:
        name = s.name  # type: ignore[attr-defined]
        if name in constants:
            mapping[s] = sympy.Float(constants[name])
        elif name in positive:
            mapping[s] = sympy.Symbol(name, positive=True)
        else:
            mapping[s] = sympy.Symbol(name, real=True)
    return expr.xreplace(mapping)


#: Models at most this size (nodes) are compared again with their decimals as rationals.
_RATIONAL_LIMIT = 30


def _same_law(mr: sympy.Expr, tr: sympy.Expr, at: Mapping[str, np.ndarray] | None = None
              ) -> tuple[bool, sympy.Expr, sympy.Expr | None]:
    """SRBench's criterion: the difference, or else the ratio, simplifies to a constant."""
    if _surely_different(mr, tr, at):
        return False, tr - mr, None
    difference = _simplified(tr - mr)
    symbolic = bool(difference.is_number)
    ratio = None
    if not symbolic and mr != 0 and tr != 0:
        ratio = _simplified(mr / tr)
        symbolic = bool(ratio.is_number and ratio != 0)
    return symbolic, difference, ratio


#: Seconds ``sympy.simplify`` may take on one difference or ratio.
_SIMPLIFY_SECONDS = 10.0


class _OutOfTime(BaseException):
    """Raised by the alarm that bounds :func:`_simplified` (not an Exception, so
    sympy's own ``except Exception`` blocks let it through)."""


def _simplified(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.simplify(expr)``, or ``expr`` itself where that takes longer than
    :data:`_SIMPLIFY_SECONDS`: a law sympy cannot show equal in that time is not
    counted as shown (``tanh`` against ``1/sqrt(cosh)`` with SRSD's 7.2e22
    inside ran for minutes). Bounded only in the main thread, where a signal
    can interrupt it."""
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "setitimer"):
        return sympy.simplify(expr)

    def stop(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, _SIMPLIFY_SECONDS)
    try:
        return sympy.simplify(expr)
    except _OutOfTime:
        return expr
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _surely_different(mr: sympy.Expr, tr: sympy.Expr, at: Mapping[str, np.ndarray] | None = None,
                      points: int = 8) -> bool:
    """Whether neither ``tr − mr`` nor ``mr/tr`` is constant at a few points: the
    first of ``at`` (values of the inputs, by name), else random ones in [0.5, 2].

    A necessary condition for :func:`_same_law`, checked first because
    ``sympy.simplify`` can take minutes on a long wrong formula. Only a clear
    numerical answer counts: where either side cannot be evaluated (a domain
    error, a complex value), it is left to sympy.
    """
    symbols = sorted(mr.free_symbols | tr.free_symbols, key=str)
    if not symbols:
        return False
    values = np.random.default_rng(0).uniform(0.5, 2.0, (points, len(symbols)))
    if at is not None and all(str(s) in at for s in symbols):
        # On the data's domain: SRSD's exp(7.2e22·B·μ/T) is inf at B, μ, T near 1.
        values = np.column_stack([np.asarray(at[str(s)], dtype=float)[:points]
                                  for s in symbols])
        points = values.shape[0]
    try:
        with np.errstate(all="ignore"):
            a = compile_numpy(symbols, mr)(*values.T)
            b = compile_numpy(symbols, tr)(*values.T)
    except (TypeError, ValueError, ZeroDivisionError, NameError, AttributeError):
        return False
    a, b = np.broadcast_to(a, (points,)), np.broadcast_to(b, (points,))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or np.any(b == 0):
        return False
    scale = float(np.max(np.abs(a)) + np.max(np.abs(b)))
    difference, ratio = a - b, a / b
    # 1e-6: the rounded model and the truth agree to float64 rounding where they are
    # the same law; a law that differs does so at the rounding of 3 digits, far above.
    return bool(np.ptp(difference) > 1e-6 * scale and
                np.ptp(ratio) > 1e-6 * float(np.max(np.abs(ratio))))


def _folded(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with π and e as decimals, merged into the decimals beside them."""
    return expr.xreplace({c: sympy.Float(c.evalf(17)) for c in (sympy.pi, sympy.E)})


def _as_rationals(expr: sympy.Expr,
                  rounding: Callable[[sympy.Float], sympy.Expr] = lambda f: f) -> sympy.Expr:
    """Every float in ``expr``, rounded, as the rational its shortest decimal spells
    (3.3 → 33/10), in one replacement: a float left in the tree while it is
    rebuilt would let ``exp(−1.3(t − 4.1))`` evaluate to ``206.44·exp(−1.3t)``."""
    return expr.xreplace({f: sympy.Rational(repr(float(rounding(f))))
                          for f in expr.atoms(sympy.Float)})


def _terms(expr: sympy.Expr) -> dict[sympy.Expr, complex]:
    out: dict[sympy.Expr, complex] = {}
    for part in sympy.Add.make_args(sympy.expand(expr)):
        # Numeric factors (2*pi) are the coefficient, whichever way they are written.
        coeff, rest = part.as_independent(*part.free_symbols, as_Add=False)
        key = normalise_term(rest) if not rest.is_Number else sympy.Integer(1)
        if rest.is_Number:
            coeff = coeff * rest
        out[key] = out.get(key, 0) + complex(coeff)
    return {k: v for k, v in out.items() if v != 0}


def check(model: object, truth: object, *, constants: Mapping[str, float] | None = None,
          rtol: float = 0.01, digits: int = 6, significant: int | None = None,
          positive: Sequence[str] = (), at: Mapping[str, np.ndarray] | None = None
          ) -> CheckResult:
    """Compare a model with the true formula.

    Parameters
    ----------
    model
        A fitted :class:`~discovery.Model`, a sympy expression or a string.
    truth
        The known formula, a sympy expression or a string such as
        ``"v**2*sin(2*theta)/g"``.
    constants
        Values of named constants in either formula, e.g. ``{"g": 9.81}``.
        A model's own recognised constants are added.
    rtol
        Relative tolerance on coefficients for the exact criterion.
    digits
        Floats in both are rounded to this many decimals for the symbolic criterion.
    positive
        Variables known to be positive on the data's domain, so that
        ``sqrt(a)*sqrt(b)`` equals ``sqrt(a*b)`` and ``Abs(m)`` equals ``m``.
    significant
        If given, instead round floats to this many significant digits
        (SRBench's Feynman convention uses 3), so that constants however small
        survive: the model's always, the truth's where it has decimals (SRSD's
        physical constants), with π and e folded into them on both sides.
    at
        Values of the inputs, by name (a few rows of the data): where the two
        are first compared numerically, before sympy simplifies their
        difference. Without it, random points in [0.5, 2], where laws with
        SRSD's constants overflow and sympy is left to decide (which can take
        minutes).

    Returns
    -------
    CheckResult
        True in a boolean context when the symbolic (SRBench) criterion holds.

    Examples
    --------
    >>> r = check("0.101937*v**2*sin(2*theta)", "v**2*sin(2*theta)/g", constants={"g": 9.81})
    >>> r.symbolic, r.exact, r.precision, r.recall
    (True, True, 1.0, 1.0)
    >>> bool(check("0.1*v**2*sin(theta)", "v**2*sin(2*theta)/9.81"))
    False
    """
    named = dict(constants or {})
    named.update(getattr(model, "constants", {}) or {})
    symbols: dict[str, sympy.Symbol] = {}
    raw_model = _to_expr(model, symbols, "model")
    # The model's inputs name symbols in the truth too: an input called E is
    # not Euler's number there.
    symbols = {str(s): s for s in as_symbols(getattr(model, "inputs", None) or [])}
    symbols.update({s.name: s for s in raw_model.free_symbols  # type: ignore[attr-defined]
                    if isinstance(s, sympy.Symbol)})
    m = _plain(raw_model, named, frozenset(positive))
    if isinstance(truth, str):
        # The truth may use the user's column names ("speed (m/s)"), longest first.
        for symbol, column in sorted((getattr(model, "names", None) or {}).items(),
                                     key=lambda kv: -len(kv[1])):
            truth = truth.replace(column, symbol)
    t = _plain(_to_expr(truth, symbols, "truth"), named, frozenset(positive))
    if significant is not None:
        if t.has(sympy.Float):
            # A truth with decimal constants (SRSD's 8.854e-12, 2.99792458e8) is
            # rounded like the model, as SRBench rounds the whole difference
            # (``round_floats(true_model - model)``); its π and e are folded into
            # those decimals first, so 2.82e10/π and 8.99e9 round alike.
            m, t = _folded(m), _folded(t)
            t_rounded = round_significant(t, significant)
        else:
            t_rounded = t
        mr, tr = round_significant(m, significant), t_rounded
    else:
        mr, tr = round_floats(m, digits), round_floats(t, digits)
    symbolic, difference, ratio = _same_law(mr, tr, at)
    if not symbolic and raw_model.has(sympy.Float) and \
            term_complexity(raw_model) <= _RATIONAL_LIMIT:
        # Again with the rounded decimals as exact rationals: cos(3.3t + 0.7)
        # must equal cos(33t/10 + 7/10), and 3.3 − 3.2999999999999998 must not
        # be left over. The model's constants are rounded as printed, before
        # sympy evaluates anything (exp(−1.3(t − 4.1)) would become
        # 206.437974·exp(−1.3t)), and again once named constants are
        # substituted. Small models only: sympy.simplify on a long expression
        # with rational exponents can take minutes.
        def rounding(f: sympy.Float) -> sympy.Expr:
            return round_significant(f, significant) if significant is not None else \
                round_floats(f, digits)

        mr = _as_rationals(_plain(_as_rationals(raw_model, rounding), named,
                                  frozenset(positive)), rounding)
        tr = _as_rationals(t_rounded) if significant is not None else \
            _as_rationals(t, rounding)
        symbolic, difference, ratio = _same_law(mr, tr, at)
    mt, tt = _terms(m), _terms(t)
    if set(mt) != set(tt):
        mt2, tt2 = _terms(sympy.expand_trig(m)), _terms(sympy.expand_trig(t))
        if len(set(mt2) & set(tt2)) > len(set(mt) & set(tt)):
            mt, tt = mt2, tt2
    common = set(mt) & set(tt)
    precision = len(common) / len(mt) if mt else float(not tt)
    recall = len(common) / len(tt) if tt else 1.0
    exact = set(mt) == set(tt) and all(
        abs(mt[k] - tt[k]) <= rtol * abs(tt[k]) for k in common)
    return CheckResult(symbolic=symbolic, exact=exact, precision=precision, recall=recall,
                       model=m, truth=t,
                       details={"difference": str(difference),
                                "ratio": None if ratio is None else str(ratio)})
