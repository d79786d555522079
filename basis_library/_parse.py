"""A whitelist parser from text to sympy.

Text from users and files is parsed with Python's :mod:`ast` and built into
sympy node by node. Only numbers, names, arithmetic and calls of listed
functions are accepted. Nothing is passed to ``eval``, ``sympify`` or
``parse_expr``, which can run code.
"""

from __future__ import annotations

import ast
import difflib
import io
import keyword
import tokenize
from collections.abc import Mapping

import sympy

from .errors import ParseError

__all__ = ["parse_expression", "FUNCTIONS"]

#: Functions a formula may call, by every name users commonly write.
FUNCTIONS: dict[str, sympy.FunctionClass | object] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "Abs": sympy.Abs,
    "cbrt": sympy.cbrt,
    "square": lambda x: x**2,
    "cube": lambda x: x**3,
    "inv": lambda x: 1 / x,
    "neg": lambda x: -x,
}

_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}

_MAX_LENGTH = 20_000
_KEYWORD_PREFIX = "__keyword_"


def _rename_keywords(source: str) -> str:
    """Let Python keywords be variable names (``lambda`` is a wavelength)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    renamed = [(t.type, _KEYWORD_PREFIX + t.string
                if t.type == tokenize.NAME and keyword.iskeyword(t.string) else t.string)
               for t in tokens]
    return tokenize.untokenize(renamed)
_MAX_EXPONENT = 64


def parse_expression(
    text: str,
    symbols: Mapping[str, sympy.Symbol] | None = None,
    *,
    allow_new_symbols: bool = True,
    where: str = "formula",
) -> sympy.Expr:
    """Parse ``text`` into a sympy expression without executing any code.

    Parameters
    ----------
    text
        A formula such as ``"v**2*sin(2*theta)/g"``. ``^`` means power, as in
        Julia and most papers.
    symbols
        Names to map onto existing symbols (carrying their assumptions).
    allow_new_symbols
        If false, a name that is neither in ``symbols`` nor ``pi``/``E``
        raises :class:`ParseError`.
    where
        What the text is, for error messages.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        If the text is not a formula built from numbers, names, arithmetic and
        the functions in :data:`FUNCTIONS`.

    Examples
    --------
    >>> parse_expression("v^2*sin(2*theta)/g")
    v**2*sin(2*theta)/g
    >>> parse_expression("__import__('os').system('ls')")
    Traceback (most recent call last):
    ...
    basis_library.errors.ParseError: ...
    """
    if not isinstance(text, str):
        raise ParseError(f"The {where} must be a string; got {type(text).__name__}.")
    if len(text) > _MAX_LENGTH:
        raise ParseError(f"The {where} is {len(text)} characters long; the limit is {_MAX_LENGTH}.")
    source = text.strip().replace("^", "**")
    if not source:
        raise ParseError(f"The {where} is empty.")
    try:
        tree = ast.parse(_rename_keywords(source), mode="eval")
    except (SyntaxError, tokenize.TokenError, IndentationError, UnicodeDecodeError) as exc:
        # Python 3.12's tokenizer raises UnicodeDecodeError on some control bytes
        # ('0\r\x80'); it is a text that is not a formula like any other.
        message = (exc.msg if isinstance(exc, SyntaxError) else exc.reason
                   if isinstance(exc, UnicodeDecodeError) else str(exc.args[0]))
        raise ParseError(f"The {where} {text!r} is not a formula: {message}.") from exc
    builder = _Builder(dict(symbols or {}), allow_new_symbols, where, text)
    return builder.build(tree.body)


class _Builder:
    def __init__(
        self, symbols: dict[str, sympy.Symbol], allow_new: bool, where: str, text: str
    ) -> None:
        self.symbols = symbols
        self.allow_new = allow_new
        self.where = where
        self.text = text

    def fail(self, what: str) -> ParseError:
        return ParseError(f"The {self.where} {self.text!r} has {what}.")

    def build(self, node: ast.AST) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            raise self.fail(f"an operator that is not allowed ({type(node.op).__name__})")
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"a {type(node).__name__} element; only numbers, names, + - * / ** "
                        "and function calls are allowed")

    def number(self, value: object) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"a literal that is not a number ({value!r})")
        if isinstance(value, int):
            if abs(value) > 10**18:
                raise self.fail(f"an integer too large ({value})")
            return sympy.Integer(value)
        return sympy.Float(value, 17)

    def name(self, name: str) -> sympy.Expr:
        if name.startswith(_KEYWORD_PREFIX):
            name = name[len(_KEYWORD_PREFIX):]
        if name in self.symbols:
            return self.symbols[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.fail(f"the function name {name!r} used without arguments")
        if not self.allow_new:
            known = sorted(self.symbols)
            near = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known names: {', '.join(known)}"
            raise self.fail(f"the unknown name {name!r}{hint}")
        symbol = sympy.Symbol(name, real=True)
        self.symbols[name] = symbol
        return symbol

    def binop(self, node: ast.BinOp) -> sympy.Expr:
        left = self.build(node.left)
        right = self.build(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise self.fail("a division by zero")
            return left / right
        if isinstance(op, ast.Pow):
            if right.is_Number and abs(float(right)) > _MAX_EXPONENT:
                raise self.fail(f"an exponent above the limit of {_MAX_EXPONENT} ({right})")
            return left**right
        raise self.fail(f"an operator that is not allowed ({type(op).__name__})")

    def call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail("a call of something other than a plain function name")
        name = node.func.id
        if name not in FUNCTIONS:
            near = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise self.fail(f"a call of {name!r}, which is not an allowed function{hint}")
        if node.keywords or len(node.args) != 1:
            raise self.fail(f"a call of {name!r} with other than one positional argument")
        function = FUNCTIONS[name]
        return function(self.build(node.args[0]))  # type: ignore[operator]
