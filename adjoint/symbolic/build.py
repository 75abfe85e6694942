"""Formulas to graphs: :func:`from_sympy` turns a sympy expression into a function of Tensors.

sympy's work (recursive through the formula's nesting) is done once, when the
function is made, into a plan of adjoint ops, children first; the function only
runs that plan. A formula string is parsed by :mod:`adjoint.symbolic.parse`,
never evaluated as Python.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from adjoint import ops
from adjoint.autograd import Value
from adjoint.ops.common import as_tensor
from adjoint.symbolic.deep import _deep
from adjoint.symbolic.parse import UsageError, parse_formula
from adjoint.tensor import Tensor
from adjoint.walk import toposort

__all__ = ["from_sympy"]


def _heaviside(x, h0=None):
    if h0 is not None and float(h0) == 0:
        return ops.step(x)
    h0 = 0.5 if h0 is None else float(h0)
    s = ops.sign(x)
    return (s + 1) * 0.5 + (h0 - 0.5) * (1 - s * s)


def _fold(fn):
    def apply(*args):
        result = args[0]
        for a in args[1:]:
            result = fn(result, a)
        return result

    return apply


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    sympy.exp: ops.exp,
    sympy.log: ops.log,
    sympy.sin: ops.sin,
    sympy.cos: ops.cos,
    sympy.tan: lambda x: ops.sin(x) / ops.cos(x),
    sympy.tanh: ops.tanh,
    sympy.sinh: lambda x: (ops.exp(x) - ops.exp(-x)) * 0.5,
    sympy.cosh: lambda x: (ops.exp(x) + ops.exp(-x)) * 0.5,
    sympy.Abs: ops.abs,
    sympy.sign: ops.sign,
    sympy.Max: _fold(ops.maximum),
    sympy.Min: _fold(ops.minimum),
    sympy.Heaviside: _heaviside,
}


def _is_number(value: Any) -> bool:
    return not isinstance(value, Value)


def _from_number(expr: sympy.Expr) -> float | int:
    if expr.is_Integer:
        return int(expr)
    value = complex(expr.evalf(30))
    if value.imag or not math.isfinite(value.real):
        raise ValueError(f"from_sympy: {expr} is not a finite real number")
    return value.real


def _build_add(args: list[Any]) -> Any:
    constant = sum(a for a in args if _is_number(a))
    tensors = [a for a in args if not _is_number(a)]
    result = tensors[0]
    for t in tensors[1:]:
        result = result + t
    return result + constant if constant else result


def _mul_parts(expr: sympy.Mul) -> tuple:
    """``expr`` as (p, q, numerator factors, denominator factors): p/q * prod(num) / prod(den)."""
    coeff, factors = expr.as_coeff_mul()
    numerator, denominator = [], []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if exponent.is_Number and exponent < 0 and not base.is_Number:
            denominator.append(base if exponent == -1 else base**-exponent)
        else:
            numerator.append(factor)
    p, q = (int(coeff.p), int(coeff.q)) if coeff.is_Rational else (_from_number(coeff), 1)
    return p, q, numerator, denominator


def _build_mul(parts: tuple, built: Mapping[sympy.Basic, Any]) -> Any:
    p, q, numerator, denominator = parts
    if not numerator:
        result = p / q
        for d in denominator:
            result = result / built[d]
        return result
    result = built[numerator[0]]
    for a in numerator[1:]:
        result = result * built[a]
    if p == -1:
        result = -result
    elif p != 1:
        result = result * p
    for d in denominator:
        result = result / built[d]
    return result / q if q != 1 else result


def _pow_parts(expr: sympy.Pow) -> tuple:
    """``expr`` as (how, base, exponent): each a sympy expression or, where a number, its value."""
    base, exponent = expr.args
    if base is sympy.E:
        return "exp", None, exponent
    if exponent == sympy.Rational(1, 2) and not base.is_Number:
        return "sqrt", base, None
    if exponent.is_Number:
        return "power_scalar", base, _from_number(exponent)
    if base.is_Number:
        return "scalar_power", _from_number(base), exponent
    return "power", base, exponent


def _build_pow(parts: tuple, built: Mapping[sympy.Basic, Any]) -> Any:
    how, base, exponent = parts
    if how == "exp":
        return ops.exp(built[exponent])
    if how == "sqrt":
        return ops.sqrt(built[base])
    if how == "power_scalar":
        return ops.power_scalar(built[base], exponent)
    if how == "scalar_power":
        return ops.scalar_power(base, built[exponent])
    return ops.power(built[base], built[exponent])


def _children(expr: sympy.Basic) -> tuple:
    if isinstance(expr, sympy.Mul):
        _, factors = expr.as_coeff_mul()
        children = []
        for factor in factors:
            base, exponent = factor.as_base_exp()
            if exponent.is_Number and exponent < 0 and not base.is_Number:
                children.append(base if exponent == -1 else base**-exponent)
            else:
                children.append(factor)
        return tuple(children)
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if base is sympy.E:
            return (exponent,)
        return tuple(a for a in (base, exponent) if not a.is_Number)
    if isinstance(expr, sympy.Heaviside):
        return expr.args[:1]
    return expr.args


def _formula(expr: Any) -> sympy.Expr:
    """``expr`` as a sympy expression: a string is parsed as ``python -m adjoint diff``
    parses formulas (an ``ast`` check and size bounds first; never evaluated as Python,
    as ``sympy.sympify`` would), a number becomes a sympy number."""
    if isinstance(expr, str):
        try:
            return parse_formula(expr)
        except UsageError as error:
            raise ValueError(f"from_sympy: {error}") from None
    if isinstance(expr, numbers.Number) and not isinstance(expr, bool):
        expr = sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise TypeError(
            f"from_sympy: expected a sympy expression, a formula string or a number, "
            f"got {type(expr).__name__}"
        )
    return expr


def from_sympy(expr: Any, symbols: Sequence[sympy.Symbol] | None = None) -> Callable[..., Tensor]:
    """A Python function of Tensors that computes ``expr`` with adjoint's ops.

    Its arguments are the values of ``symbols`` in order (default: the free
    symbols sorted by name); each may be a Tensor, an array or a number, and
    they broadcast. Supported: numbers (and pi, E), ``+ * / **``, exp, log,
    sin, cos, tan, tanh, sinh, cosh, sqrt, Abs, sign, Max, Min and
    Heaviside; anything else raises ``NotImplementedError`` naming it.

    >>> import sympy
    >>> import adjoint as ad
    >>> x = sympy.Symbol("x")
    >>> f = from_sympy(x**3 + sympy.sin(x))
    >>> t = ad.Tensor(0.0)
    >>> f(t).backward()
    >>> float(t.grad)
    1.0
    """
    expr = _formula(expr)
    free = _deep(getattr, expr, "free_symbols")  # recursive through the nesting
    if symbols is None:
        symbols = sorted(free, key=lambda s: s.name)
    elif isinstance(symbols, (str, bytes)) or not isinstance(symbols, Sequence):
        raise TypeError(
            "from_sympy: symbols must be a list of sympy Symbols (the arguments in order), "
            f"got {type(symbols).__name__} {symbols!r}"
        )
    symbols = list(symbols)
    for symbol in symbols:
        if not isinstance(symbol, sympy.Symbol):
            raise TypeError(
                f"from_sympy: symbols must be sympy Symbols, got {symbol!r} "
                f"({type(symbol).__name__})"
            )
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"from_sympy: symbols {symbols} repeat a symbol; give each once")
    missing = free - set(symbols)
    if missing:
        names = ", ".join(sorted(s.name for s in missing))
        raise ValueError(
            f"from_sympy: the expression uses {names}, not among the symbols {symbols}"
        )
    # All of sympy's work (recursive through the formula's nesting) is done here,
    # once, with _deep's room; fn below only runs adjoint's ops.
    plan = _deep(_plan, expr, set(symbols))

    def fn(*args: Any) -> Tensor:
        if len(args) != len(symbols):
            raise TypeError(
                f"from_sympy function of {[s.name for s in symbols]} takes {len(symbols)} "
                f"argument(s), got {len(args)}"
            )
        tensors = [as_tensor(a, "from_sympy") for a in args]
        built: dict[sympy.Basic, Any] = dict(zip(symbols, tensors))
        for node, how, parts in plan:
            if node in built:
                continue
            if how == "number":
                built[node] = parts
            elif how == "add":
                built[node] = _build_add([built[a] for a in parts])
            elif how == "mul":
                built[node] = _build_mul(parts, built)
            elif how == "pow":
                built[node] = _build_pow(parts, built)
            else:
                function, children, extra = parts
                built[node] = function(*[built[a] for a in children], *extra)
        result = built[expr]
        if _is_number(result):
            shape = np.broadcast_shapes(*[t.shape for t in tensors]) if tensors else ()
            return Tensor(np.full(shape, float(result)), requires_grad=False)
        return result

    return fn


def _plan(expr: sympy.Expr, symbols: set) -> list[tuple[sympy.Basic, str, Any]]:
    """How :func:`from_sympy` builds ``expr``: (node, how, parts), children first.

    Checks that every function is supported; a constant subexpression becomes
    its number here (``ValueError`` if it is not a finite real).
    """
    order = _postorder(expr)
    for node in order:
        if node.is_Number or node.is_NumberSymbol or node.is_Symbol:
            continue
        if isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)):
            continue
        if node.func not in _FUNCTIONS and node.free_symbols:
            supported = ", ".join(
                ["Add", "Mul", "Pow"] + [getattr(f, "__name__", str(f)) for f in _FUNCTIONS]
            )
            raise NotImplementedError(
                f"from_sympy: {type(node).__name__} (in {node}) is not supported; "
                f"supported: {supported}, numbers and symbols"
            )
    plan: list[tuple[sympy.Basic, str, Any]] = []
    for node in order:
        if node in symbols:
            continue
        if not node.free_symbols:
            plan.append((node, "number", _from_number(node)))
        elif isinstance(node, sympy.Add):
            plan.append((node, "add", node.args))
        elif isinstance(node, sympy.Mul):
            plan.append((node, "mul", _mul_parts(node)))
        elif isinstance(node, sympy.Pow):
            plan.append((node, "pow", _pow_parts(node)))
        else:
            extra = node.args[1:] if isinstance(node, sympy.Heaviside) else ()
            plan.append((node, "call", (_FUNCTIONS[node.func], _children(node), extra)))
    return plan


def _postorder(expr: sympy.Basic) -> list[sympy.Basic]:
    """Subexpressions, children before parents, each once."""
    return toposort([expr], _operands)


def _operands(node: sympy.Basic) -> tuple:
    """What :func:`from_sympy` builds ``node`` from: nothing for symbols and constants."""
    return _children(node) if node.free_symbols and not node.is_Symbol else ()
