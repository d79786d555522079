"""Simplify a discovered expression: trig identities, common factors, the shortest form wins."""

from __future__ import annotations

import sympy

from basis_library import term_complexity

__all__ = ["simplify_expression", "round_floats", "round_significant"]

# Node counts above which sympy.simplify and trigsimp are skipped: on longer
# expressions they take tens of seconds and rarely shorten anything.
_SIMPLIFY_LIMIT = 60
_TRIGSIMP_LIMIT = 60


def simplify_expression(expr: sympy.Expr) -> sympy.Expr:
    """The shortest of a few equivalent forms of ``expr``.

    Tries ``factor_terms`` (collect common factors) and, for small
    expressions, ``trigsimp`` and ``sympy.simplify``; keeps the original on ties.

    Examples
    --------
    >>> import sympy
    >>> v, t = sympy.symbols("v theta", positive=True)
    >>> simplify_expression(2 * v**2 * sympy.sin(t) * sympy.cos(t) / 9)
    v**2*sin(2*theta)/9
    """
    forms = [expr]
    size = term_complexity(expr)
    trig = expr.has(sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)
    transforms = [sympy.factor_terms] + (
        [sympy.trigsimp] if trig and size <= _TRIGSIMP_LIMIT else [])
    for transform in transforms:
        try:
            forms.append(transform(expr))
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            continue
    if size <= _SIMPLIFY_LIMIT:
        try:
            forms.append(sympy.simplify(expr))
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            pass
    shortest = min(forms, key=lambda e: (term_complexity(e), len(str(e))))
    return _fewer_minus_signs(_unit_denominator(shortest))


def _unit_denominator(expr: sympy.Expr) -> sympy.Expr:
    """A quotient whose denominator's constant term, a decimal, is divided out,
    as the Feynman lectures write ``ω/(1 − v/c)``, not ``c·ω/(c − v)``: the same
    number of constants, and the fitted one is then v's scale (an exact integer
    or rational term is left: ``(2aρ + 3)/(3 − aρ)`` stays).

    Examples
    --------
    >>> import sympy
    >>> w, v = sympy.symbols("omega v", positive=True)
    >>> _unit_denominator(299792458.0 * w / (v * (299792458.0 / v - 1)))
    omega/(1 - 3.33564095198152e-9*v)
    """
    if term_complexity(expr) > _SIMPLIFY_LIMIT:
        return expr
    try:
        numerator, denominator = sympy.fraction(sympy.cancel(expr))  # v(1 − c/v) is v − c
    except (sympy.PolynomialError, TypeError, ValueError, NotImplementedError, RecursionError):
        return expr
    lead = denominator.as_coeff_Add()[0] if denominator.is_Add else sympy.Integer(0)
    if not lead.is_Float or lead == 0:
        return expr

    def divided(part: sympy.Expr) -> sympy.Expr:
        out = sympy.Add(*[term / lead for term in sympy.Add.make_args(part)])
        return out.xreplace({f: sympy.Integer(int(f)) for f in out.atoms(sympy.Float)
                             if float(f) in (1.0, -1.0)})

    out = divided(numerator) / divided(denominator)
    # Only a regrouping of the same functions: cancel expands exp(−1.3(t − 4.1))
    # into 206.44·exp(−1.3t), which hides the shift.
    return out if out.atoms(sympy.Function) == expr.atoms(sympy.Function) else expr


def _fewer_minus_signs(expr: sympy.Expr) -> sympy.Expr:
    """A quotient with numerator and denominator negated where that removes minus
    signs: ``(2aρ + 3)/(3 − aρ)``, not ``(−2aρ − 3)/(aρ − 3)``.

    Examples
    --------
    >>> import sympy
    >>> a, r = sympy.symbols("a rho", positive=True)
    >>> _fewer_minus_signs((-2*a*r - 3)/(a*r - 3))
    (2*a*rho + 3)/(-a*rho + 3)
    """
    numerator, denominator = expr.as_numer_denom()
    if not denominator.is_Add:
        return expr
    flipped = sympy.expand(-numerator) / sympy.expand(-denominator)  # the same value
    return flipped if str(flipped).count("-") < str(expr).count("-") else expr


def round_floats(expr: sympy.Expr, digits: int = 6) -> sympy.Expr:
    """Round every float in ``expr`` to ``digits`` decimals.

    Floats below 1 in magnitude keep ``digits`` significant digits instead, so
    a small constant (6.6743e-11) is never rounded to zero.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> round_floats(0.1019367991 * x + 6.6743e-11 + 12.3456789)
    0.101937*x + 12.345679
    >>> round_floats(sympy.Float(6.67430001e-11))
    6.67430000000000e-11
    """

    def rounded(value: float) -> float:
        return float(f"{value:.{digits}g}") if abs(value) < 1 else round(value, digits)

    replacements = {f: sympy.Float(rounded(float(f))) for f in expr.atoms(sympy.Float)}
    return expr.xreplace(replacements)


def round_significant(expr: sympy.Expr, digits: int = 3) -> sympy.Expr:
    """Round every float in ``expr`` to ``digits`` significant digits."""
    replacements = {f: sympy.Float(float(f"{float(f):.{digits}g}")) for f in
                    expr.atoms(sympy.Float)}
    return expr.xreplace(replacements)
