"""Formula strings to sympy, safely: what ``from_sympy(str)`` and ``python -m adjoint diff`` parse.

Parsing never ``eval``s user text as Python: the text is first checked with
:mod:`ast` (only numbers, names, arithmetic and calls of :data:`FUNCTIONS`
pass), then parsed by ``sympy.parsing.sympy_parser.parse_expr`` with a
namespace that holds only those functions and sympy's number constructors.
Every refusal is a :class:`UsageError` that says what is wrong.

Limits. sympy evaluates constant arithmetic while it parses (``10**10**10``
never returns, ``2**2**30`` takes 11 s and 500 MB), and its recursion and the
work of differentiating grow with the nesting. So before sympy sees a formula
its syntax tree is held to limits far above what hand-written formulas need
(:func:`check_limits`), each keeping one piece of the work small:

* :data:`MAX_LENGTH` characters: parsing, and the count of everything else;
* :data:`MAX_DEPTH` levels of nesting, where a function call, a power and a
  sign are one level each and a run of ``+ -`` (or ``* /``) is one level:
  sympy's and Python's recursion through the formula, at any order;
* :data:`MAX_EXPONENT` for the absolute value of an exponent without
  variables (``x**1000`` passes, ``x**10**6`` does not): the size of the
  polynomials that sympy builds;
* :data:`MAX_CONSTANT_DIGITS`: integers of at most that many digits, and
  constant powers (``2**1000``, ``(1/3)**50``) within ``10**±400``: exact
  numbers that sympy computes at once. Larger ones would overflow float64,
  whose largest value is about ``10**308``, anyway.

It sits in :mod:`adjoint.symbolic`, not in the CLI, because ``from_sympy``
uses it and the library does not import its command line.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from adjoint.walk import toposort

__all__ = [
    "parse_formula",
    "check_limits",
    "UsageError",
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_CONSTANT_DIGITS",
]

#: The functions a formula may call, by the name the user types.
FUNCTIONS: dict[str, sympy.Basic] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "abs": sympy.Abs,
    "Abs": sympy.Abs,
}
#: Named constants a formula may use.
CONSTANTS: dict[str, sympy.Basic] = {"pi": sympy.pi, "E": sympy.E}

_NUMBER_TYPES = {
    "Symbol": sympy.Symbol,
    "Integer": sympy.Integer,
    "Float": sympy.Float,
    "Rational": sympy.Rational,
    "Function": sympy.Function,
}
_AST_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


#: The most characters EXPR may have.
MAX_LENGTH = 1000
#: The deepest nesting EXPR may have: calls, powers and signs count one level
#: each; a run of ``+``/``-`` (or of ``*``/``/``) counts one level.
MAX_DEPTH = 20
#: The largest absolute value of an exponent that has no variables.
MAX_EXPONENT = 1000
#: Integers of at most this many digits; constant powers within 10**±this.
MAX_CONSTANT_DIGITS = 400


class UsageError(ValueError):
    """A formula refused, or a mistake in the command line: ``python -m adjoint diff``
    prints it as one line, exit code 2 (``from_sympy`` raises it as a ``ValueError``)."""


def _shown(text: str, width: int = 60) -> str:
    """``text`` quoted for a one-line message, cut to ``width`` characters."""
    return repr(text) if len(text) <= width else repr(text[: width - 3]) + "..."


def parse_formula(text: str) -> sympy.Expr:
    """The sympy expression of ``text``, or :class:`UsageError` saying what is wrong.

    >>> parse_formula("tanh(x)*exp(-x^2)")  # variables are real symbols
    exp(-x**2)*tanh(x)
    """
    if len(text) > MAX_LENGTH:
        raise UsageError(
            f"expression {_shown(text)} has {len(text):,} characters (limit {MAX_LENGTH:,})"
        )
    python_text = text.replace("^", "**")
    try:
        tree = ast.parse(python_text.strip(), mode="eval")
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        raise UsageError(f"malformed expression {_shown(text)}: {error.msg}{column}") from None
    except (RecursionError, MemoryError):  # Python's parser gives up on deep nesting
        raise UsageError(
            f"expression {_shown(text)} is nested too deeply to parse; the limit is "
            f"{MAX_DEPTH} levels"
        ) from None
    for node in ast.walk(tree):
        _check_node(node, text)
    check_limits(tree, text, python_text.strip())
    try:
        expr = parse_expr(
            python_text,
            local_dict={**FUNCTIONS, **CONSTANTS},
            global_dict={**_NUMBER_TYPES, "__builtins__": {}},
            transformations=(*standard_transformations, convert_xor),
        )
    except Exception as error:  # sympy raises many types for bad input; all are the user's
        raise UsageError(f"cannot parse expression {_shown(text)}: {error}") from None
    if not isinstance(expr, sympy.Expr):
        raise UsageError(f"expression {_shown(text)} is not a number-valued formula")
    # Variables are real (adjoint computes on reals): d|x|/dx is then sign(x), not a
    # formula in re(x) and im(x).
    return expr.xreplace({s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols})


def _check_node(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            shown = name or ast.unparse(node.func)
            raise UsageError(
                f"unknown function {shown!r} in {_shown(text)}; known functions: "
                + ", ".join(sorted(set(FUNCTIONS)))
            )
        if node.keywords or len(node.args) != 1:
            raise UsageError(f"{name}() takes exactly one argument in {_shown(text)}")
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise UsageError(f"invalid variable name {node.id!r} in {_shown(text)}")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise UsageError(f"only numbers may appear as constants in {_shown(text)}")
    elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_AST_OPERATORS)):
        raise UsageError(
            f"unsupported syntax {type(node).__name__} in {_shown(text)}; use numbers, variables, "
            "+ - * / ** (or ^) and function calls"
        )


_FAMILY = {ast.Add: "+", ast.Sub: "+", ast.Mult: "*", ast.Div: "*"}
_LOG10_2 = math.log10(2)
#: Float versions of the functions, to size constant subexpressions.
_MATH = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "abs": abs,
    "Abs": abs,
}
_MATH_CONSTANTS = {"pi": math.pi, "E": math.e}


@dataclass
class _Constant:
    """A subexpression without variables: its value as a float (inf or nan where
    floats fail) and the base-10 logarithm of its magnitude (-inf for 0)."""

    value: float
    log10: float


def check_limits(tree: ast.Expression, text: str, source: str | None = None) -> None:
    """Refuse (:class:`UsageError`) a parsed formula beyond :data:`MAX_DEPTH`,
    :data:`MAX_EXPONENT` or :data:`MAX_CONSTANT_DIGITS` (module docstring).

    ``text`` is the formula as the user typed it, for messages, and ``source``
    the text that was parsed (to quote its parts; default ``text``). Constant
    subexpressions are sized with floats and logarithms, which cannot blow up:
    ``2**2**30`` is refused from estimates, without computing the power.

    >>> check_limits(ast.parse("x**10**6", mode="eval"), "x**10**6")
    Traceback (most recent call last):
    ...
    adjoint.symbolic.parse.UsageError: the exponent 10**6 = 1e+06 in 'x**10**6' is beyond the ...
    """
    source = text if source is None else source
    # Depth, top down (iterative: the tree may be deep).
    stack: list[tuple[ast.AST, int, str | None]] = [(tree.body, 0, None)]
    while stack:
        node, depth, family = stack.pop()
        if isinstance(node, ast.BinOp):
            own = _FAMILY.get(type(node.op))
            depth += own is None or own != family
            children, family = [node.left, node.right], own
        elif isinstance(node, (ast.UnaryOp, ast.Call)):
            depth += 1
            children = [node.operand] if isinstance(node, ast.UnaryOp) else node.args
            family = None
        else:
            continue
        if depth > MAX_DEPTH:
            raise UsageError(
                f"expression {_shown(text)} is nested more than {MAX_DEPTH} levels deep "
                f"(the limit; a run of + - or of * / counts as one level)"
            )
        stack.extend((child, depth, family) for child in children)
    # Constants, bottom up.
    constants: dict[ast.AST, _Constant | None] = {}
    for node in toposort([tree.body], _operands):
        constants[node] = _constant(node, constants, text, source)


def _operands(node: ast.AST) -> list[ast.AST]:
    """The subexpressions of a formula node that :func:`check_limits` sizes."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _constant(node: ast.AST, known: dict, text: str, source: str) -> _Constant | None:
    """``node`` sized as a :class:`_Constant`, None if it has variables; refuses
    integers, exponents and constant powers beyond the limits."""

    def part(node: ast.AST, width: int) -> str:
        segment = ast.get_source_segment(source, node) or ast.unparse(node)
        return segment if len(segment) <= width else segment[: width - 3] + "..."

    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, int):
            digits = value.bit_length() * _LOG10_2
            if digits > MAX_CONSTANT_DIGITS:
                raise UsageError(
                    f"the integer {part(node, 20)} in {_shown(text)} has about "
                    f"{digits:,.0f} digits; the limit is {MAX_CONSTANT_DIGITS}"
                )
            return _Constant(_float(lambda: float(value)), _log10(value))
        if not math.isfinite(value):
            raise UsageError(
                f"the number {part(node, 30)} in {_shown(text)} is beyond float64 (infinite)"
            )
        return _Constant(value, _log10(value))
    if isinstance(node, ast.Name):
        value = _MATH_CONSTANTS.get(node.id)
        return None if value is None else _Constant(value, _log10(value))
    if isinstance(node, ast.UnaryOp):
        a = known[node.operand]
        return a and _Constant(-a.value if isinstance(node.op, ast.USub) else a.value, a.log10)
    if isinstance(node, ast.Call):
        a = known[node.args[0]]
        if a is None:
            return None
        value = _float(lambda: _MATH[node.func.id](a.value))
        if node.func.id == "exp" and math.isinf(value) and math.isfinite(a.value):
            return _Constant(value, a.value / math.log(10))
        return _Constant(value, _log10(value))
    a, b = known[node.left], known[node.right]
    if isinstance(node.op, ast.Pow):
        if b is None:
            return None
        if math.isnan(b.value):
            raise UsageError(
                f"the exponent {part(node.right, 30)} in {_shown(text)} is not a real number"
            )
        if abs(b.value) > MAX_EXPONENT:
            raise UsageError(
                f"the exponent {part(node.right, 30)} = {b.value:.4g} in {_shown(text)} is "
                f"beyond the limit of ±{MAX_EXPONENT}"
            )
        if a is None:
            return None
        if a.log10 == -math.inf:  # 0 ** b: 0, or 1/0 for sympy to refuse
            return _Constant(_float(lambda: a.value**b.value), -math.inf if b.value > 0 else 0.0)
        log10 = b.value * a.log10
        if not abs(log10) <= MAX_CONSTANT_DIGITS:
            raise UsageError(
                f"the constant {part(node, 30)} in {_shown(text)} is about "
                f"10**{log10:,.0f}; the limit is 10**±{MAX_CONSTANT_DIGITS}"
            )
        return _Constant(_float(lambda: a.value**b.value), log10)
    if a is None or b is None:
        return None
    if isinstance(node.op, ast.Mult):
        return _Constant(_float(lambda: a.value * b.value), a.log10 + b.log10)
    if isinstance(node.op, ast.Div):
        return _Constant(_float(lambda: a.value / b.value), a.log10 - b.log10)
    value = _float(lambda: a.value + b.value if isinstance(node.op, ast.Add) else a.value - b.value)
    if math.isfinite(value):
        return _Constant(value, _log10(value))
    return _Constant(value, max(a.log10, b.log10) + _LOG10_2)


def _float(compute) -> float:
    """``compute()`` as a float: inf where it overflows, nan where it has no real value."""
    try:
        value = compute()
    except OverflowError:
        return math.inf
    except (ZeroDivisionError, ValueError):
        return math.nan
    return value if isinstance(value, float) else math.nan


def _log10(value: float | int) -> float:
    """log10 |value|: -inf for 0; 0 where unknown (nan); inf for inf."""
    if isinstance(value, int):
        return math.log10(abs(value)) if value else -math.inf
    if value == 0:
        return -math.inf
    if math.isnan(value):
        return 0.0
    return math.log10(abs(value))
