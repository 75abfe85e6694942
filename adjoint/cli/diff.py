"""``python -m adjoint diff``: differentiate a typed formula to any order and check it.

    python -m adjoint diff "tanh(x)*exp(-x**2)" --wrt x --order 3 --at x=0.3

The formula is parsed (safely, see below), turned into an adjoint graph by
:func:`adjoint.symbolic.from_sympy`, and differentiated two ways, the two
*paths* that :func:`adjoint.symbolic.check` compares too:

* ``grad``: nested :func:`adjoint.grad` with its default settings, the way
  users write derivatives (``ad.grad(ad.grad(f, argnums=1), argnums=0)``),
  which runs :func:`adjoint.rewrite.simplify` from the third order on;
* ``backward``: repeated reverse sweeps, order k the sweep applied to the
  order-(k-1) gradient graphs, never simplified.

With several ``--wrt`` variables every mixed partial is computed once
(partials commute, so only sorted multi-indices are taken). Each derivative is
printed on both paths beside sympy's exact one evaluated at the same point,
with whether each path agrees, and the graph sizes per order. The exit code is
1 when a derivative on either path disagrees.

``--code`` also prints each derivative as generated code
(:func:`compile_derivative`): the graph the ``grad`` path built, compiled by
:class:`adjoint.compiler.CompiledGraph` on the NumPy backend, one assignment
per node, a function of the ``--at`` variables::

    python -m adjoint diff "sin(x)*y" --wrt x y --order 2 --at x=0.5,y=2 --code

Each block is Python that runs on its own (``import numpy as xp``, the
hoisted constants, the function) and ends with the compiled function's value
at the point, which must equal nested ``ad.grad``'s to the last bit (exit
code 1 otherwise).

The formula is parsed by :func:`adjoint.symbolic.parse.parse_formula`,
which never ``eval``s user text and holds it to limits (length, nesting,
exponents, constants). Every user error (malformed formula, unknown function,
missing value, a limit) becomes :class:`UsageError`, which the entry point
prints as one line, exit code 2. The command line adds its own limits:

* :data:`MAX_VARIABLES` variables in EXPR, ``--wrt`` and ``--at`` together,
  and :data:`MAX_DERIVATIVES` derivatives in all, ``C(order + n, n)`` for ``n``
  ``--wrt`` variables (each is built twice and checked);
* :data:`DEFAULT_TIMEOUT` seconds (``--timeout``) for the rest: within the
  limits a high order of a nested formula can still take long
  (the 10th derivative of ``sin(sin(sin(sin(sin(x)))))`` took 67 s), so the
  work stops then with a usage error. POSIX only (``SIGALRM``, main thread).

A formula deeper than Python's parser can take, or a derivative sympy cannot
evaluate to a number (``abs(x)`` twice at 0 is ``2*DiracDelta(0)``), is a
usage error too; exit code 1 means only that a derivative disagrees with sympy.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from adjoint.autograd import derivative_order, find_topo_sort, gradients
from adjoint.functional import grad
from adjoint.progress import progress
from adjoint.symbolic import from_sympy
from adjoint.symbolic.parse import (  # noqa: F401 (importable from here too)
    CONSTANTS,
    FUNCTIONS,
    MAX_CONSTANT_DIGITS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    UsageError,
    _shown,
    check_limits,
    parse_formula,
)
from adjoint.tensor import Tensor

#: The most variables EXPR, --wrt and --at may name together.
MAX_VARIABLES = 10
#: The most derivatives one command computes, all orders together.
MAX_DERIVATIVES = 100
#: Seconds of work before the command gives up (--timeout; 0: no limit).
DEFAULT_TIMEOUT = 60.0


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
    #: The leaf Tensors the derivative is a function of, one per ``--at`` variable.
    variables: tuple[Tensor, ...] = ()

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
    _check_overflow(top, point)
    current: dict[tuple[str, ...], Tensor] = {(): top}
    # sympy's derivatives, each from the one of one order less (not from expr again)
    exact: dict[tuple[str, ...], sympy.Expr] = {(): expr}
    inputs = tuple(leaves.values())
    derivatives = [_derivative((), top, top, expr, point, inputs)]
    by_order = [[top]]
    wrt_leaves = [leaves[variables[name]] for name in wrt]
    for _ in progress(range(order), desc="orders"):  # a bar on a terminal (stderr)
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
            exact[index] = sympy.diff(exact[index[:-1]], variables[index[-1]])
            derivatives.append(_derivative(index, g, by_grad, exact[index], point, inputs))
        by_order.append(list(following.values()))
        current = following
    return derivatives, by_order


def _check_overflow(top: Tensor, point: dict) -> None:
    """Refuse an expression whose float64 value overflows in an exponential or a power.

    sympy evaluates such a value exactly, and ``exp`` of a number that is itself
    far beyond float64 takes it hours (``exp(exp(exp(x)))`` at x = 10), while
    the float64 graph says at once. A power of 0 (``1/x**2`` at 0) is left to
    sympy, which calls it not finite.
    """
    from adjoint import ops

    kinds = (ops.Exp, ops.PowerScalar, ops.ScalarPower, ops.EWisePow)
    for node in find_topo_sort([top]):
        if not isinstance(node.op, kinds) or not np.isinf(node.cached_data).any():
            continue
        inputs = [x.cached_data for x in node.inputs]
        if all(np.isfinite(a).all() and a.all() for a in inputs):
            where = ", ".join(f"{s}={v:g}" for s, v in point.items())
            values = [f"{float(v):.6g}" for v in inputs]
            a, b = values[0], values[1] if len(values) > 1 else f"{getattr(node.op, 'scalar', '')}"
            step = {
                ops.Exp: f"exp({a})",
                ops.PowerScalar: f"{a}**{b}",
                ops.ScalarPower: f"{b}**{a}",
                ops.EWisePow: f"{a}**{b}",
            }[type(node.op)]
            raise UsageError(
                f"the expression overflows float64 at {where}: its step {step} is infinite"
            )


def _derivative(wrt, tensor, grad_tensor, exact, point, variables=()) -> Derivative:
    try:
        exact_number = exact.evalf(subs=point, n=30)
    except (ZeroDivisionError, ArithmeticError):
        exact_number = sympy.zoo
    where = ", ".join(f"{s}={v:g}" for s, v in point.items())
    what = "the expression" if not wrt else "a derivative"
    # Not a number at all: DiracDelta(0) (abs twice at 0), or what evalf leaves.
    if not exact_number.is_Number or not exact_number.is_real or not exact_number.is_finite:
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
        tuple(variables),
    )


def graph_sizes(by_order: list[list[Tensor]]) -> list[tuple[int, int, int]]:
    """Per order k: nodes in the graph of all order-k derivatives, nodes made by backward
    pass k, and nodes after :func:`adjoint.rewrite.simplify` of that graph.

    The derivatives are built raw (repeated ``gradients``, no simplification), so
    the counts show the geometric growth of reverse mode applied k times, and the
    last number how much of it is redundant.
    """
    from adjoint.rewrite import simplify

    sizes = []
    for k, tensors in enumerate(by_order):
        nodes = find_topo_sort(tensors)
        made = sum(1 for n in nodes if derivative_order(n) == k)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            simplified = simplify(*tensors).after
        sizes.append((len(nodes), made, simplified))
    return sizes


# ----------------------------------------------------------------- --code


@dataclass
class Code:
    """One derivative's graph on the ``grad`` path, compiled (``--code``).

    ``text`` is a block of Python that runs on its own: a heading comment,
    ``import numpy as xp``, the hoisted constants, the generated function (the
    :attr:`adjoint.compiler.CompiledGraph.source`) and, as a comment, its value
    at the point. ``value`` is what the compiled function returns there;
    ``same`` whether that is nested :func:`adjoint.grad`'s value to the last bit.
    """

    derivative: Derivative
    name: str
    text: str
    value: float
    same: bool


def function_name(d: Derivative) -> str:
    """The generated function's name: ``f``, ``df_dx``, ``d2f_dxdy``, ``d3f_dx2dy``."""
    if not d.wrt:
        return "f"
    counts = Counter(d.wrt)
    bottom = "".join(f"d{v}{k if k > 1 else ''}" for v, k in counts.items())
    return f"d{d.order if d.order > 1 else ''}f_{bottom}"


def compile_derivative(d: Derivative) -> Code:
    """The graph nested :func:`adjoint.grad` built for ``d``, as generated code of the
    ``--at`` variables (:class:`adjoint.compiler.CompiledGraph`, NumPy backend)."""
    from adjoint.compiler import CompiledGraph, generate

    name = function_name(d)
    names = {v.name for v in d.variables}
    while name in names or name == "xp":  # the parameters keep the variables' names
        name += "_"
    output = _tensor(d.grad_tensor)
    compiled = CompiledGraph([output], list(d.variables), name=name)
    # The same source again, for the constants it expects bound outside the function.
    program = generate([output], list(d.variables), name=name)
    point = [float(v.cached_data) for v in d.variables]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = float(compiled(*point)[0])
    same = bool(np.array_equal(value, d.grad_value, equal_nan=True))
    stats = compiled.stats
    merged = stats["op_nodes"] - stats["lines"]
    what = "the graph nested ad.grad builds" if d.wrt else "the function itself"
    lines = [
        f"# {d.label()} on the grad path ({what}), compiled: "
        f"{_count(stats['lines'], 'line')} for {_count(stats['op_nodes'], 'op node')}"
        + (f", {merged} merged as common subexpressions" if merged else ""),
        "import numpy as xp",
    ]
    for const, data in program.constants.items():
        lines.append(f"{const} = {_literal(data)}")
    for call, node in program.fallbacks.items():  # none today: every op has a source form
        lines.append(f"# {call}: {node.op.name}'s compute, bound by ad.compile")
    lines.append(compiled.source.rstrip("\n"))
    args = ", ".join(repr(x) for x in point)
    check = (
        "the same as nested ad.grad's, to the last bit"
        if same
        else f"MISMATCH: nested ad.grad gives {d.grad_value!r}"
    )
    lines.append(f"# {name}({args})[0] = {value!r}   ({check})")
    return Code(d, name, "\n".join(lines), value, same)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _literal(value: Any) -> str:
    """Python source for a hoisted constant, over ``xp``; floats keep every bit."""

    def number(x: Any) -> str:
        if isinstance(x, float) and not math.isfinite(x):
            return f'float("{x}")'
        return repr(x)

    def nested(x: Any) -> str:
        if isinstance(x, list):
            return "[" + ", ".join(nested(item) for item in x) + "]"
        return number(x)

    if isinstance(value, np.ndarray):
        if value.dtype == np.float64:
            return f"xp.asarray({nested(value.tolist())})"
        return f"xp.asarray({nested(value.tolist())}, dtype=xp.{value.dtype.name})"
    if isinstance(value, np.generic):
        return f"xp.{value.dtype.name}({number(value.item())})"
    return number(value)


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
            "ad.grad returns them; with --code, each derivative as generated Python code. "
            "Exit code: 0 when all derivatives agree on both paths, "
            "1 when one does not (the output names the path), 2 for a usage error."
        ),
        epilog=(
            "EXPR uses numbers, variables, + - * / ** (or ^), parentheses, the constants "
            "pi and E and the functions " + ", ".join(sorted(set(FUNCTIONS))) + ". Give "
            "EXPR before --wrt (which takes several names). "
            f"Limits (a usage error, exit code 2, beyond them): EXPR of at most {MAX_LENGTH} "
            f"characters, nested at most {MAX_DEPTH} levels (a call, a power or a sign is a "
            "level; a run of + - or of * / is one), exponents without variables within "
            f"±{MAX_EXPONENT}, integers of at most {MAX_CONSTANT_DIGITS} digits and constant "
            f"powers within 10**±{MAX_CONSTANT_DIGITS}; at most {MAX_VARIABLES} variables "
            f"in EXPR, --wrt and --at together, and {MAX_DERIVATIVES} derivatives in all "
            "(C(order + n, n) for n --wrt variables). "
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
        "--formulas",
        action="store_true",
        help="also print sympy's formula of each derivative (simplified, for "
        f"{SIMPLIFY_SECONDS:g} s in all)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up after this many seconds, exit code 2 (default {DEFAULT_TIMEOUT:g}; "
        "0: no limit; POSIX only)",
    )
    parser.add_argument(
        "--code",
        action="store_true",
        help="also print the generated source of each derivative: the graph nested "
        "ad.grad builds (the grad path), compiled by ad.compile (NumPy backend), as "
        "a block of Python that runs on its own, with its value at the point",
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
    if not 0 <= args.timeout < math.inf:
        raise UsageError(f"--timeout must be a number of seconds >= 0, got {args.timeout}")
    if args.draw:
        _check_draw_path(args.draw)
    expr = parse_formula(args.expr)
    at = parse_assignments(args.at)
    wrt = _split_names(args.wrt) or sorted(str(s) for s in expr.free_symbols)
    if not wrt and args.order > 0:
        raise UsageError(f"{_shown(args.expr)} has no variables to differentiate; give --wrt")
    check_counts(expr, wrt, at, args.order)
    try:
        with _time_limit(args.timeout):
            derivatives, by_order = _differentiate(expr, wrt, args.order, at, args.expr)
            sizes = graph_sizes(by_order)
            nested = [
                len(find_topo_sort([d.grad_tensor for d in derivatives if d.order == k]))
                for k in range(len(by_order))
            ]
            if args.draw:
                _draw([t for tensors in by_order for t in tensors], args.draw)
            codes = [compile_derivative(d) for d in derivatives] if args.code else []
    except _TimeUp:
        raise UsageError(
            f"gave up on {_shown(args.expr)} after {args.timeout:g} s (--timeout): lower "
            "--order, name fewer --wrt variables or simplify the formula; --timeout 0 "
            "waits as long as it takes"
        ) from None
    formulas = _formulas([d.exact for d in derivatives]) if args.formulas else []

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
    if formulas:
        print()
        for d, formula in zip(derivatives, formulas):
            print(f"{d.label()} = {formula}")
    print()
    print("graph sizes (nodes in the graph of all derivatives of that order):")
    for k, (total, made, simplified) in enumerate(sizes):
        extra = f", {made} made by backward pass {k}" if k else ""
        returned = f"; {nested[k]} as nested ad.grad returns them" if k else ""
        print(f"  order {k}: {total}{extra}; {simplified} after ad.simplify{returned}")
    if args.draw:
        print(f"\ngraph drawn to {args.draw}")
    if codes:
        print()
        print(
            "generated source of each derivative (--code), on the grad path: the graph "
            "nested\nad.grad builds, compiled with ad.compile; each block runs on its own."
        )
        for code in codes:
            print()
            print(code.text)
    print()
    ok = all(d.agrees for d in derivatives) and all(code.same for code in codes)
    if ok:
        print("all derivatives agree with sympy, by nested ad.grad and by repeated backward()")
    for name, title in (("grad", "nested ad.grad"), ("backward", "repeated backward()")):
        wrong = [d.label() for d in derivatives if name in d.disagreeing]
        if wrong:
            print(f"MISMATCH with sympy ({name}): {title} disagrees at {', '.join(wrong)}")
    wrong = [code.derivative.label() for code in codes if not code.same]
    if wrong:
        where = ", ".join(wrong)
        print(f"MISMATCH (--code): the compiled code differs from nested ad.grad at {where}")
    return 0 if ok else 1


def check_counts(expr: sympy.Expr, wrt: Sequence[str], at: dict[str, float], order: int) -> None:
    """Refuse (:class:`UsageError`) more than :data:`MAX_VARIABLES` variables or
    :data:`MAX_DERIVATIVES` derivatives.

    With ``n`` variables to differentiate in, the derivatives of every order up
    to ``order`` are the multisets of at most ``order`` of them: ``C(order + n, n)``.

    >>> check_counts(sympy.Symbol("x"), ["x", "y", "z"], {"x": 1, "y": 2, "z": 3}, 7)
    Traceback (most recent call last):
    ...
    adjoint.symbolic.parse.UsageError: --order 7 in 3 variables asks for 120 derivatives ...
    """
    names = {str(s) for s in expr.free_symbols} | set(wrt) | set(at)
    if len(names) > MAX_VARIABLES:
        raise UsageError(
            f"{len(names)} variables in EXPR, --wrt and --at together (limit {MAX_VARIABLES})"
        )
    count = math.comb(order + len(wrt), len(wrt))
    if count > MAX_DERIVATIVES:
        raise UsageError(
            f"--order {order} in {len(wrt)} variables asks for {count:,} derivatives (every "
            f"mixed partial up to order {order}); the limit is {MAX_DERIVATIVES}: lower "
            "--order or name fewer --wrt variables"
        )


def _differentiate(expr, wrt, order, at, text):
    """:func:`differentiate`, with adjoint's and sympy's refusals of the formula as
    :class:`UsageError`."""
    try:
        return differentiate(expr, wrt, order, at)
    except UsageError:
        raise
    except (ValueError, ArithmeticError, NotImplementedError) as error:
        # adjoint refuses the formula itself (a constant that is not finite, the
        # gradient of a negative base ** x): the user's formula, so one line.
        raise UsageError(f"cannot differentiate {_shown(text)}: {error}") from None
    except RecursionError:
        # The limits keep formulas far shallower than this; kept as a usage error
        # for any way around them.
        raise UsageError(
            f"cannot differentiate {_shown(text)}: nested too deeply for sympy"
        ) from None


def _formulas(exact: list[sympy.Expr]) -> list[sympy.Expr]:
    """sympy's derivatives, simplified in order while :data:`SIMPLIFY_SECONDS` last.

    ``sympy.simplify`` has no bound of its own: the 10th derivative of
    ``(x+1)**1000`` took it 43 s. The rest are printed as sympy's ``diff``
    gave them.
    """
    result = []
    deadline = time.monotonic() + SIMPLIFY_SECONDS
    for expr in progress(exact, desc="simplifying"):
        left = deadline - time.monotonic()
        try:
            with _time_limit(left if left > 0 else 0):
                if left > 0:
                    expr = sympy.simplify(expr)
        except _TimeUp:
            pass
        result.append(expr)
    return result


#: --formulas: seconds in all for simplifying the formulas (where the time
#: limit can be kept: POSIX, main thread).
SIMPLIFY_SECONDS = 5.0


class _TimeUp(BaseException):
    """--timeout expired. A BaseException, as KeyboardInterrupt is, so that no
    ``except Exception`` on the way (sympy's, adjoint's) takes it for an error."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_TimeUp` in the body after ``seconds`` (0: never).

    Uses ``SIGALRM``, so only where it exists (POSIX) and in the main thread;
    elsewhere the body runs without a limit.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _flag(agrees: bool) -> str:
    return "yes" if agrees else "NO"


_DRAW_FORMATS = (".svg", ".png", ".dot", ".gv")


def _check_draw_path(path: str) -> None:
    if not path.lower().endswith(_DRAW_FORMATS):
        raise UsageError(f"--draw {path}: use a file name ending in .svg, .png or .dot")


def _draw(tensors: list[Tensor], path: str) -> None:
    from adjoint.graph import MAX_DRAWN_NODES, Graph, GraphTooLargeError

    graph = Graph(*tensors)
    try:
        graph.render(path)
    except GraphTooLargeError:
        raise UsageError(
            f"--draw: the graph of all derivatives has {len(graph):,} nodes, more than "
            f"{MAX_DRAWN_NODES} (too big to read as a picture); lower --order, or draw to "
            "a .dot file (written at any size)"
        ) from None
    except OSError as error:
        raise UsageError(f"--draw: cannot write {path}: {error.strerror or error}") from None
    except RuntimeError as error:  # PNG with neither Graphviz nor matplotlib installed
        raise UsageError(f"--draw: {error}") from None


__all__ = ["UsageError", "parse_formula", "parse_assignments", "differentiate", "PATHS"]
