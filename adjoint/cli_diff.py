"""``python -m adjoint diff``: differentiate a typed formula to any order and check it.

    python -m adjoint diff "tanh(x)*exp(-x**2)" --wrt x --order 3 --at x=0.3

The formula is parsed by sympy, turned into an adjoint graph by
:func:`adjoint.symbolic.from_sympy`, and differentiated two ways, the two
*paths* that :func:`adjoint.symbolic.check` compares too:

* ``grad``: nested :func:`adjoint.grad` with its default settings, the way
  users write derivatives (``ad.grad(ad.grad(f, argnums=1), argnums=0)``),
  which runs :func:`adjoint.simplify.simplify` from the third order on;
* ``backward``: repeated reverse sweeps, order k the sweep applied to the
  order-(k-1) gradient graphs, never simplified.

With several ``--wrt`` variables every mixed partial is computed once
(partials commute, so only sorted multi-indices are taken). Each derivative is
printed on both paths beside sympy's exact one evaluated at the same point,
with whether each path agrees, and the graph sizes per order. The exit code is
1 when a derivative on either path disagrees.

Parsing never ``eval``s user text as Python: the text is first checked with
:mod:`ast` (only numbers, names, arithmetic and calls of the allowed functions
pass), then parsed by ``sympy.parsing.sympy_parser.parse_expr`` with a
namespace that holds only those functions and sympy's number constructors.
Every user error (malformed formula, unknown function, missing value) becomes
:class:`UsageError`, which the entry point prints as one line, exit code 2.
"""

from __future__ import annotations

import argparse
import ast
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from adjoint.autograd import Tensor, derivative_order, find_topo_sort, gradients
from adjoint.functional import grad
from adjoint.symbolic import from_sympy

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


class UsageError(ValueError):
    """A mistake in the command line: printed as one line, exit code 2."""


# ------------------------------------------------------------------ parsing


def parse_formula(text: str) -> sympy.Expr:
    """The sympy expression of ``text``, or :class:`UsageError` saying what is wrong.

    >>> parse_formula("tanh(x)*exp(-x^2)")  # variables are real symbols
    exp(-x**2)*tanh(x)
    """
    python_text = text.replace("^", "**")
    try:
        tree = ast.parse(python_text.strip(), mode="eval")
    except SyntaxError as error:
        column = f" at column {error.offset}" if error.offset else ""
        raise UsageError(f"malformed expression {text!r}: {error.msg}{column}") from None
    for node in ast.walk(tree):
        _check_node(node, text)
    try:
        expr = parse_expr(
            python_text,
            local_dict={**FUNCTIONS, **CONSTANTS},
            global_dict={**_NUMBER_TYPES, "__builtins__": {}},
            transformations=(*standard_transformations, convert_xor),
        )
    except Exception as error:  # sympy raises many types for bad input; all are the user's
        raise UsageError(f"cannot parse expression {text!r}: {error}") from None
    if not isinstance(expr, sympy.Expr):
        raise UsageError(f"expression {text!r} is not a number-valued formula")
    # Variables are real (adjoint computes on reals): d|x|/dx is then sign(x), not a
    # formula in re(x) and im(x).
    return expr.xreplace({s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols})


def _check_node(node: ast.AST, text: str) -> None:
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            shown = name or ast.unparse(node.func)
            raise UsageError(
                f"unknown function {shown!r} in {text!r}; known functions: "
                + ", ".join(sorted(set(FUNCTIONS)))
            )
        if node.keywords or len(node.args) != 1:
            raise UsageError(f"{name}() takes exactly one argument in {text!r}")
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise UsageError(f"invalid variable name {node.id!r} in {text!r}")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise UsageError(f"only numbers may appear as constants in {text!r}")
    elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_AST_OPERATORS)):
        raise UsageError(
            f"unsupported syntax {type(node).__name__} in {text!r}; use numbers, variables, "
            "+ - * / ** (or ^) and function calls"
        )


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=0.3", "y=1,z=2"]`` as ``{"x": 0.3, "y": 1.0, "z": 2.0}``."""
    values: dict[str, float] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, number = part.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier():
                raise UsageError(f"--at expects name=value, got {part!r}")
            try:
                values[name] = float(number)
            except ValueError:
                raise UsageError(f"--at {name}: {number.strip()!r} is not a number") from None
    return values


def _split_names(items: Sequence[str]) -> list[str]:
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"--wrt expects variable names, got {name!r}")
    return list(dict.fromkeys(names))


def _tensor(value: Tensor | float) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value, requires_grad=False)


# --------------------------------------------------------------- differentiation


#: The paths each derivative is built by, as named in the output.
PATHS = ("grad", "backward")


@dataclass
class Derivative:
    """One derivative: which variables (with repeats), adjoint's values and sympy's.

    ``tensor`` and ``value`` are the derivative built by repeated backward
    passes (the ``backward`` path), ``grad_tensor`` and ``grad_value`` the one
    nested :func:`adjoint.grad` returns (the ``grad`` path).
    """

    wrt: tuple[str, ...]
    tensor: Tensor | float
    exact: sympy.Expr
    value: float
    exact_value: float
    grad_tensor: Tensor | float
    grad_value: float

    @property
    def order(self) -> int:
        return len(self.wrt)

    @property
    def agrees_by_path(self) -> dict[str, bool]:
        """Per path (``"grad"``, ``"backward"``): does its value agree with sympy's?"""
        close = lambda v: bool(np.isclose(v, self.exact_value, rtol=1e-9, atol=1e-12))  # noqa: E731
        return {"grad": close(self.grad_value), "backward": close(self.value)}

    @property
    def disagreeing(self) -> tuple[str, ...]:
        """The paths whose value disagrees with sympy's."""
        return tuple(name for name, ok in self.agrees_by_path.items() if not ok)

    @property
    def agrees(self) -> bool:
        return not self.disagreeing

    def label(self, f: str = "f") -> str:
        if not self.wrt:
            return f
        counts = Counter(self.wrt)
        power = lambda k: f"^{k}" if k > 1 else ""
        bottom = "".join(f"d{v}{power(k)}" for v, k in counts.items())
        return f"d{power(self.order)}{f}/{bottom}"


def differentiate(
    expr: sympy.Expr, wrt: Sequence[str], order: int, at: dict[str, float]
) -> tuple[list[Derivative], list[list[Tensor]]]:
    """All derivatives of ``expr`` up to ``order`` in the ``wrt`` variables, at ``at``.

    Each derivative is built on both paths (module docstring). Returns the
    derivatives (order 0 first) and, per order, the backward-built adjoint
    Tensors of that order (for graph sizes and drawings).
    """
    symbols = {str(s): s for s in expr.free_symbols}
    missing = sorted(set(symbols) - set(at))
    if missing:
        raise UsageError(
            f"no value for {', '.join(missing)}; give one with --at "
            + ",".join(f"{name}=..." for name in missing)
        )
    unknown = [name for name in wrt if name not in at]
    if unknown:
        raise UsageError(f"--wrt {unknown[0]}: no value given; add --at {unknown[0]}=...")
    variables = {name: sympy.Symbol(name, real=True) for name in set(at) | set(wrt)}
    variables.update(symbols)
    leaves = {variables[name]: Tensor(value, name=name) for name, value in at.items()}
    point = {variables[name]: value for name, value in at.items()}
    position = {name: k for k, name in enumerate(at)}

    function = from_sympy(expr, list(leaves))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        top = _tensor(function(*leaves.values()))
    current: dict[tuple[str, ...], Tensor] = {(): top}
    derivatives = [_derivative((), top, top, expr, point)]
    by_order = [[top]]
    wrt_leaves = [leaves[variables[name]] for name in wrt]
    for _ in range(order):
        following: dict[tuple[str, ...], Tensor] = {}
        for index, tensor in current.items():
            first = wrt.index(index[-1]) if index else 0
            todo = list(range(first, len(wrt)))
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                grads = gradients(tensor, [wrt_leaves[i] for i in todo])
            for i, g in zip(todo, grads):
                following[(*index, wrt[i])] = g
        for index, g in following.items():
            nested = function
            for name in index:
                nested = grad(nested, argnums=position[name])
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                by_grad = nested(*leaves.values())
            exact = sympy.diff(expr, *[variables[name] for name in index])
            derivatives.append(_derivative(index, g, by_grad, exact, point))
        by_order.append(list(following.values()))
        current = following
    return derivatives, by_order


def _derivative(wrt, tensor, grad_tensor, exact, point) -> Derivative:
    try:
        exact_number = exact.evalf(subs=point, n=30)
    except (ZeroDivisionError, ArithmeticError):
        exact_number = sympy.zoo
    where = ", ".join(f"{s}={v:g}" for s, v in point.items())
    what = "the expression" if not wrt else "a derivative"
    if not exact_number.is_real or not exact_number.is_finite:
        raise UsageError(
            f"{what} is not a finite real number at {where} (sympy gives {exact_number.evalf(6)})"
        )
    if not np.isfinite(float(exact_number)):
        raise UsageError(
            f"{what} overflows float64 at {where} (sympy gives {exact_number.evalf(6)})"
        )
    return Derivative(
        tuple(wrt),
        tensor,
        exact,
        float(tensor),
        float(exact_number),
        grad_tensor,
        float(grad_tensor),
    )


def graph_sizes(by_order: list[list[Tensor]]) -> list[tuple[int, int, int]]:
    """Per order k: nodes in the graph of all order-k derivatives, nodes made by backward
    pass k, and nodes after :func:`adjoint.simplify.simplify` of that graph.

    The derivatives are built raw (repeated ``gradients``, no simplification), so
    the counts show the geometric growth of reverse mode applied k times, and the
    last number how much of it is redundant.
    """
    from adjoint.simplify import simplify

    sizes = []
    for k, tensors in enumerate(by_order):
        nodes = find_topo_sort(tensors)
        made = sum(1 for n in nodes if derivative_order(n) == k)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            simplified = simplify(*tensors).after
        sizes.append((len(nodes), made, simplified))
    return sizes


# ------------------------------------------------------------------- command


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``diff`` on the ``python -m adjoint`` parser."""
    parser = subparsers.add_parser(
        "diff",
        help="differentiate a formula to any order and check it against sympy",
        description=(
            "Differentiate EXPR with adjoint up to --order in the --wrt variables, at the "
            "point given by --at, on two paths: nested ad.grad with its default settings "
            "(as users call it; simplified from the 3rd order on) and repeated backward() "
            "(reverse mode applied again and again to the raw gradient graphs), and "
            "compare every derivative on each path with sympy's exact one. With several "
            "--wrt variables all mixed partials are computed. Also prints the size of "
            "the graph of each order's derivatives, raw, after ad.simplify and as nested "
            "ad.grad returns them. Exit code: 0 when all derivatives agree on both paths, "
            "1 when one does not (the output names the path), 2 for a usage error."
        ),
        epilog=(
            "EXPR uses numbers, variables, + - * / ** (or ^), parentheses, the constants "
            "pi and E and the functions " + ", ".join(sorted(set(FUNCTIONS))) + ". Give "
            "EXPR before --wrt (which takes several names). "
            'Example: python -m adjoint diff "tanh(x)*exp(-x**2)" --wrt x --order 3 --at x=0.3'
        ),
    )
    parser.add_argument("expr", metavar="EXPR", help='the formula, e.g. "x*y + sin(x)"')
    parser.add_argument(
        "--wrt",
        nargs="+",
        default=[],
        metavar="VAR",
        help="variables to differentiate with respect to (space or comma separated; "
        "default: every variable of EXPR)",
    )
    parser.add_argument(
        "--order", type=int, default=1, help="highest derivative order, 0 to 10 (default 1)"
    )
    parser.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of a variable, e.g. --at x=0.3 --at y=2 or --at x=0.3,y=2; "
        "every variable of EXPR needs one",
    )
    parser.add_argument(
        "--formulas", action="store_true", help="also print sympy's formula of each derivative"
    )
    parser.add_argument(
        "--draw",
        metavar="PATH",
        help="write a drawing of the graph of all derivatives, coloured by order "
        "(.svg, .png or .dot)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``diff`` on parsed arguments; raises :class:`UsageError` for the user's mistakes."""
    if not 0 <= args.order <= 10:
        raise UsageError(f"--order must be between 0 and 10, got {args.order}")
    if args.draw:
        _check_draw_path(args.draw)
    expr = parse_formula(args.expr)
    at = parse_assignments(args.at)
    wrt = _split_names(args.wrt) or sorted(str(s) for s in expr.free_symbols)
    if not wrt and args.order > 0:
        raise UsageError(f"{args.expr!r} has no variables to differentiate; give --wrt")
    try:
        derivatives, by_order = differentiate(expr, wrt, args.order, at)
    except (ValueError, ArithmeticError, NotImplementedError) as error:
        if isinstance(error, UsageError):
            raise
        # adjoint refuses the formula itself (a constant that is not finite, the
        # gradient of a negative base ** x): the user's formula, so one line.
        raise UsageError(f"cannot differentiate {args.expr!r}: {error}") from None

    where = ", ".join(f"{name} = {value:g}" for name, value in at.items())
    print(f"f = {expr}" + (f"   at {where}" if where else ""))
    print()
    print(
        "adjoint's derivatives two ways: nested ad.grad (as users call it, simplified "
        "from the\n3rd order on) and repeated backward() (raw); the last two columns say "
        "whether each\nagrees with sympy."
    )
    print()
    width = max(12, *(len(d.label()) + 2 for d in derivatives))
    print(
        f"{'derivative':<{width}}{'nested ad.grad':>24}{'repeated backward()':>24}"
        f"{'sympy (exact)':>24}   grad  backward"
    )
    for d in derivatives:
        flags = d.agrees_by_path
        print(
            f"{d.label():<{width}}{d.grad_value:>24.16g}{d.value:>24.16g}"
            f"{d.exact_value:>24.16g}   {_flag(flags['grad']):<4}  {_flag(flags['backward'])}"
        )
    if args.formulas:
        print()
        for d in derivatives:
            print(f"{d.label()} = {sympy.simplify(d.exact)}")
    print()
    print("graph sizes (nodes in the graph of all derivatives of that order):")
    for k, (total, made, simplified) in enumerate(graph_sizes(by_order)):
        extra = f", {made} made by backward pass {k}" if k else ""
        nested = ""
        if k:
            tensors = [d.grad_tensor for d in derivatives if d.order == k]
            nested = f"; {len(find_topo_sort(tensors))} as nested ad.grad returns them"
        print(f"  order {k}: {total}{extra}; {simplified} after ad.simplify{nested}")
    if args.draw:
        _draw([t for tensors in by_order for t in tensors], args.draw)
        print(f"\ngraph drawn to {args.draw}")
    print()
    ok = all(d.agrees for d in derivatives)
    if ok:
        print("all derivatives agree with sympy, by nested ad.grad and by repeated backward()")
    for name, title in (("grad", "nested ad.grad"), ("backward", "repeated backward()")):
        wrong = [d.label() for d in derivatives if name in d.disagreeing]
        if wrong:
            print(f"MISMATCH with sympy ({name}): {title} disagrees at {', '.join(wrong)}")
    return 0 if ok else 1


def _flag(agrees: bool) -> str:
    return "yes" if agrees else "NO"


_DRAW_FORMATS = (".svg", ".png", ".dot", ".gv")


def _check_draw_path(path: str) -> None:
    if not path.lower().endswith(_DRAW_FORMATS):
        raise UsageError(f"--draw {path}: use a file name ending in .svg, .png or .dot")


def _draw(tensors: list[Tensor], path: str) -> None:
    from adjoint.graph import Graph

    try:
        Graph(*tensors).render(path)
    except OSError as error:
        raise UsageError(f"--draw: cannot write {path}: {error.strerror or error}") from None
    except RuntimeError as error:  # PNG with neither Graphviz nor matplotlib installed
        raise UsageError(f"--draw: {error}") from None


__all__ = ["UsageError", "parse_formula", "parse_assignments", "differentiate", "PATHS"]
