"""Random expression programs, built at once as adjoint functions and as sympy expressions.

A :class:`Program` is a straight-line program over its inputs (one scalar or
small tensor ``x``, or two scalars ``x`` and ``y``): each step applies one op
to earlier values (the inputs are the first values), so a value used by
several later steps makes a DAG, not a tree. The same steps are run twice: on
Tensors with adjoint's ops (:meth:`Program.fn`) and on NumPy object arrays of
sympy expressions (:meth:`Program.sym`), so the two agree by construction.
The program's output is a scalar: a weighted sum of the elements of its sinks
(the values no step reads), so that every step counts. Every program has a
non-polynomial op and reads every input.

Domains and magnitudes are safe by construction. Every value carries an
interval that contains all its elements for all inputs in ``[-X_RANGE,
X_RANGE]``, computed with (conservative) interval arithmetic as the program is
drawn; a step is only drawn if its arguments fit the op's domain with a margin
(divisors and bases of real powers bounded away from zero, ``exp`` of values
at most :data:`EXP_MAX`, ...) and its result stays within ``[-BOUND, BOUND]``.
So the functions are smooth and moderate on the whole input range, and their
8th derivatives cannot overflow; any input in the range is a valid point.

Constants are dyadic rationals (exact in binary floating point), so the sympy
expression is the exact function that adjoint evaluates in float64 (divisions
by 3 round, as any float64 operation does).

Each op has several adjoint spellings (``1 + u ** 2``, ``u * u + 1.0`` and
``u ** 2 + Tensor(1.0)``; ``u * c``, ``c * u``, ``u * Tensor(c)`` and
``mul_scalar(u, c)``; ...), chosen at random, to reach different ops
(``AddScalar``, ``EWiseAdd`` with a constant leaf, ``PowerScalar``,
``EWiseMul`` of a node with itself) and so different rewrites of
:func:`adjoint.simplify`; identities such as ``u + 0``, ``u * 1`` and
``u ** 1`` are drawn too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

import adjoint as ad

#: Inputs (every element of x) are drawn from [-X_RANGE, X_RANGE].
X_RANGE = 1.5
#: Every value stays within [-BOUND, BOUND].
BOUND = 6.0
#: exp is only applied to values at most this large.
EXP_MAX = 2.0
#: Divisors, bases of negative integer powers: |value| at least this.
AWAY = 0.5
#: Bases of real powers and of tensor ** tensor: at least this.
POSITIVE = 0.25

#: Dyadic constants: exact in float64, so sympy's Rational is adjoint's float.
CONSTANTS = (0.5, 0.75, 1.25, 1.5, 2.0, 3.0, -0.5, -1.5, -2.0, 0.25, 2.5, -0.75)
SMALL_CONSTANTS = (0.5, 0.75, 1.25, 1.5, -0.5, -0.75, 0.25, -1.25)


def rational(c: float) -> sympy.Rational:
    """The exact value of a float as a sympy Rational."""
    return sympy.Rational(c)


# ------------------------------------------------------------------ intervals


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    @property
    def mag(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    @property
    def mig(self) -> float:
        """The smallest |value|: 0 if the interval contains 0."""
        if self.lo <= 0 <= self.hi:
            return 0.0
        return min(abs(self.lo), abs(self.hi))

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other: Interval) -> Interval:
        return self + (-other)

    def __mul__(self, other: Interval) -> Interval:
        products = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(products), max(products))

    def scale(self, c: float) -> Interval:
        return Interval(min(self.lo * c, self.hi * c), max(self.lo * c, self.hi * c))

    def shift(self, c: float) -> Interval:
        return Interval(self.lo + c, self.hi + c)

    def monotone(self, f: Callable[[float], float]) -> Interval:
        a, b = f(self.lo), f(self.hi)
        return Interval(min(a, b), max(a, b))

    def square(self) -> Interval:
        return Interval(self.mig**2, self.mag**2)

    def union(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def ipow(self, n: int) -> Interval:
        if n >= 0:
            if n % 2 == 0:
                return Interval(self.mig**n, self.mag**n)
            return Interval(self.lo**n, self.hi**n)
        # negative: the interval does not contain 0 (checked by the caller)
        return (
            Interval(*sorted((self.lo**n, self.hi**n)))
            if n % 2
            else Interval(self.mag**n, self.mig**n)
        )


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def _within(iv: Interval) -> bool:
    return iv.lo >= -BOUND and iv.hi <= BOUND


# ------------------------------------------------------------ elementwise ops

# An elementwise op: arity, the domain test on the argument intervals (and the
# parameter), the result interval, the adjoint spellings (each a function of
# Tensors and the parameter) and the sympy function of scalars.


@dataclass(frozen=True)
class Elementwise:
    name: str
    arity: int
    params: tuple  # parameter values to draw from (None: no parameter)
    ok: Callable[..., bool]
    interval: Callable[..., Interval]
    spellings: tuple[Callable[..., Any], ...]
    sym: Callable[..., Any]
    fmt: str  # how the step prints: {0}, {1} are the arguments, {p} the parameter


def _c(p: float) -> ad.Tensor:
    """A constant scalar Tensor (needs no grad)."""
    return ad.Tensor(p, requires_grad=False)


def _always(*_: Any) -> bool:
    return True


def _log1p2_iv(u: Interval, p: Any) -> Interval:
    return Interval(math.log1p(u.mig**2), math.log1p(u.mag**2))


def _rat_iv(u: Interval, p: Any) -> Interval:
    return Interval(1 / (1 + u.mag**2), 1 / (1 + u.mig**2))


def _sqrt1p2_iv(u: Interval, p: Any) -> Interval:
    return Interval(math.sqrt(1 + u.mig**2), math.sqrt(1 + u.mag**2))


def _realpow_iv(u: Interval, p: float) -> Interval:
    return Interval(*sorted((u.lo**p, u.hi**p)))


def _ewpow_iv(a: Interval, b: Interval, p: Any) -> Interval:
    corners = [x**y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return Interval(min(corners), max(corners))


def _div_iv(a: Interval, b: Interval, p: Any) -> Interval:
    return a * Interval(*sorted((1 / b.lo, 1 / b.hi)))


ELEMENTWISE: dict[str, Elementwise] = {
    op.name: op
    for op in [
        Elementwise(
            "sin",
            1,
            (None,),
            _always,
            lambda u, p: Interval(-1, 1),
            (lambda u, p: ad.sin(u),),
            sympy.sin,
            "sin({0})",
        ),
        Elementwise(
            "cos",
            1,
            (None,),
            _always,
            lambda u, p: Interval(-1, 1),
            (lambda u, p: ad.cos(u),),
            sympy.cos,
            "cos({0})",
        ),
        Elementwise(
            "tanh",
            1,
            (None,),
            _always,
            lambda u, p: u.monotone(math.tanh),
            (lambda u, p: ad.tanh(u),),
            sympy.tanh,
            "tanh({0})",
        ),
        Elementwise(
            "sigmoid",
            1,
            (None,),
            _always,
            lambda u, p: u.monotone(_sigmoid),
            (lambda u, p: ad.sigmoid(u),),
            lambda u: 1 / (1 + sympy.exp(-u)),
            "sigmoid({0})",
        ),
        Elementwise(
            "exp",
            1,
            (None,),
            lambda u, p: u.hi <= EXP_MAX,
            lambda u, p: u.monotone(math.exp),
            (lambda u, p: ad.exp(u), lambda u, p: u.exp()),
            sympy.exp,
            "exp({0})",
        ),
        Elementwise(
            "log1p2",
            1,
            (None,),
            _always,
            _log1p2_iv,
            (
                lambda u, p: ad.log(1 + u**2),
                lambda u, p: ad.log(u * u + 1.0),
                lambda u, p: (u**2 + _c(1.0)).log(),
            ),
            lambda u: sympy.log(1 + u**2),
            "log(1 + {0}^2)",
        ),
        Elementwise(
            "rat",
            1,
            (None,),
            _always,
            _rat_iv,
            (
                lambda u, p: 1 / (1 + u**2),
                lambda u, p: (u * u + 1) ** -1,
                lambda u, p: _c(1.0) / (_c(1.0) + u * u),
            ),
            lambda u: 1 / (1 + u**2),
            "1/(1 + {0}^2)",
        ),
        Elementwise(
            "sqrt1p2",
            1,
            (None,),
            _always,
            _sqrt1p2_iv,
            (lambda u, p: ad.sqrt(1 + u**2), lambda u, p: (u * u + 1) ** 0.5),
            lambda u: sympy.sqrt(1 + u**2),
            "sqrt(1 + {0}^2)",
        ),
        Elementwise(
            "neg",
            1,
            (None,),
            _always,
            lambda u, p: -u,
            (lambda u, p: -u, lambda u, p: ad.negate(u), lambda u, p: 0 - u),
            lambda u: -u,
            "-{0}",
        ),
        Elementwise(
            "addc",
            1,
            (0.0, 1.0, 2.0, -1.0, 0.5, -0.75),
            _always,
            lambda u, p: u.shift(p),
            (
                lambda u, p: u + p,
                lambda u, p: p + u,
                lambda u, p: u - (-p),
                lambda u, p: u + _c(p),
            ),
            None,
            "({0} + {p})",
        ),
        Elementwise(
            "mulc",
            1,
            (1.0, -1.0, 3.0, 0.5, -2.0, 0.75, 2.0),
            _always,
            lambda u, p: u.scale(p),
            (
                lambda u, p: u * p,
                lambda u, p: p * u,
                lambda u, p: u * _c(p),
                lambda u, p: ad.mul_scalar(u, p),
            ),
            None,
            "({p} * {0})",
        ),
        Elementwise(
            "divc",
            1,
            (4.0, 2.0, 3.0, -0.5, 1.0),
            _always,
            lambda u, p: u.scale(1 / p),
            (lambda u, p: u / p, lambda u, p: u / _c(p)),
            None,
            "({0} / {p})",
        ),
        Elementwise(
            "powi",
            1,
            (2, 3, 4, -1, -2, 1, 0),
            lambda u, p: p >= 0 or u.mig >= AWAY,
            lambda u, p: u.ipow(p),
            (lambda u, p: u**p, lambda u, p: ad.power_scalar(u, p)),
            None,
            "{0}^{p}",
        ),
        Elementwise(
            "powr",
            1,
            (0.5, 1.5, -0.5, 2.5, -1.5, 0.75),
            lambda u, p: u.lo >= POSITIVE,
            _realpow_iv,
            (lambda u, p: u**p,),
            None,
            "{0}^{p}",
        ),
        Elementwise(
            "cpow",
            1,
            (2.0, 0.5, 3.0),
            lambda u, p: u.mag <= 2.5,
            lambda u, p: u.monotone(lambda t: p**t),
            (lambda u, p: p**u,),
            None,
            "{p}^{0}",
        ),
        Elementwise(
            "add",
            2,
            (None,),
            _always,
            lambda a, b, p: a + b,
            (lambda a, b, p: a + b, lambda a, b, p: ad.add(b, a)),
            lambda a, b: a + b,
            "({0} + {1})",
        ),
        Elementwise(
            "sub",
            2,
            (None,),
            _always,
            lambda a, b, p: a - b,
            (lambda a, b, p: a - b, lambda a, b, p: a + (-b)),
            lambda a, b: a - b,
            "({0} - {1})",
        ),
        Elementwise(
            "mul",
            2,
            (None,),
            _always,
            lambda a, b, p: a * b,
            (lambda a, b, p: a * b, lambda a, b, p: ad.multiply(b, a)),
            lambda a, b: a * b,
            "({0} * {1})",
        ),
        Elementwise(
            "div",
            2,
            (None,),
            lambda a, b, p: b.mig >= AWAY,
            _div_iv,
            (lambda a, b, p: a / b, lambda a, b, p: ad.divide(a, b)),
            lambda a, b: a / b,
            "({0} / {1})",
        ),
        Elementwise(
            "pow",
            2,
            (None,),
            lambda a, b, p: a.lo >= POSITIVE and b.mag <= 2.5,
            _ewpow_iv,
            (lambda a, b, p: a**b, lambda a, b, p: ad.power(a, b)),
            lambda a, b: a**b,
            "{0}^{1}",
        ),
    ]
}


def _scalar_sym(name: str, p: Any) -> Callable[..., Any]:
    """The sympy function of one elementwise step (parameterized ones need ``p``)."""
    op = ELEMENTWISE[name]
    if op.sym is not None:
        return op.sym
    if name == "addc":
        return lambda u: u + rational(p)
    if name == "mulc":
        return lambda u: u * rational(p)
    if name == "divc":
        return lambda u: u / rational(p)
    if name in ("powi",):
        return lambda u: u ** sympy.Integer(p)
    if name == "powr":
        return lambda u: u ** rational(p)
    if name == "cpow":
        return lambda u: rational(p) ** u
    raise KeyError(name)


#: Draw weights of the elementwise ops (transcendental ones, scalar ops, binary ops).
WEIGHTS = {
    "sin": 3, "cos": 3, "tanh": 3, "sigmoid": 2, "exp": 3, "log1p2": 3, "rat": 3,
    "sqrt1p2": 2, "neg": 1, "addc": 2, "mulc": 2, "divc": 1, "powi": 3, "powr": 4,
    "cpow": 1, "add": 3, "sub": 2, "mul": 5, "div": 8, "pow": 4,
}  # fmt: skip


#: The ops that are not polynomials.
NONLINEAR = ("sin", "cos", "tanh", "sigmoid", "exp", "log1p2", "rat", "sqrt1p2", "div", "pow")


# -------------------------------------------------------------------- programs


@dataclass
class Step:
    """One step: ``op`` (an elementwise op's name or a tensor op) on earlier values."""

    op: str
    args: tuple[int, ...]
    param: Any = None
    spelling: int = 0
    shape: tuple[int, ...] = ()
    interval: Interval = field(default_factory=lambda: Interval(0, 0))


@dataclass
class Program:
    """A straight-line program over x; the output is ``sum_k sum(weights_k * v[outputs_k])``."""

    input_shape: tuple[int, ...]
    steps: list[Step]
    outputs: list[tuple[int, np.ndarray]]
    seed: int = 0
    attempts: int = 1
    constants: dict[int, np.ndarray] = field(default_factory=dict)
    inputs: int = 1

    # ----------------------------------------------------------- adjoint side
    def fn(self, *xs: ad.Tensor) -> ad.Tensor:
        values: list[Any] = list(xs)
        for k, step in enumerate(self.steps, start=self.inputs):
            values.append(
                _adjoint_step(step, [values[a] for a in step.args], self.constants.get(k))
            )
        return self._output(values, adjoint=True)

    # ------------------------------------------------------------- sympy side
    def sym(self, *xs: Any) -> sympy.Expr:
        """The output as a sympy expression of the inputs (symbols, or object arrays of them)."""
        values: list[Any] = [np.asarray(x, dtype=object) for x in xs]
        for k, step in enumerate(self.steps, start=self.inputs):
            args = [values[a] for a in step.args]
            values.append(np.asarray(_sympy_step(step, args, self.constants.get(k)), dtype=object))
        return self._output(values, adjoint=False)

    def _output(self, values: list[Any], adjoint: bool) -> Any:
        total = None
        for index, weights in self.outputs:
            v = values[index]
            if adjoint:
                if weights.shape == () and float(weights) == 1.0:
                    term = ad.sum(v) if v.shape != () else v
                else:
                    term = ad.sum(v * ad.Tensor(weights, requires_grad=False))
                total = term if total is None else total + term
            else:
                w = np.vectorize(rational, otypes=[object])(weights)
                term = sympy.Add(*np.asarray(v * w, dtype=object).ravel())
                total = term if total is None else total + term
        return total

    # ---------------------------------------------------------------- printing
    def name(self, index: int) -> str:
        """How value ``index`` prints: x, y (the inputs), v1, v2, ... (the steps)."""
        return "xyz"[index] if index < self.inputs else f"v{index - self.inputs + 1}"

    def __str__(self) -> str:
        inputs = ", ".join(self.name(k) for k in range(self.inputs))
        lines = [f"{inputs}: shape {self.input_shape}, seed {self.seed}"]
        for k, step in enumerate(self.steps, start=self.inputs):
            names = [self.name(a) for a in step.args]
            if step.op in ELEMENTWISE:
                text = ELEMENTWISE[step.op].fmt.format(*names, p=step.param)
            else:
                text = f"{step.op}({', '.join(names)}; {step.param!r})"
            lines.append(
                f"{self.name(k)} = {text}    # spelling {step.spelling}, shape {step.shape}"
            )
        outs = []
        for index, weights in self.outputs:
            name = self.name(index)
            outs.append(
                f"sum({weights.tolist()} * {name})"
                if weights.shape
                else f"{float(weights)} * {name}"
            )
        lines.append("out = " + " + ".join(outs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Program(seed={self.seed}, steps={len(self.steps)}, shape={self.input_shape})"


def _adjoint_step(step: Step, args: list[Any], const: np.ndarray | None) -> Any:
    if step.op in ELEMENTWISE:
        op = ELEMENTWISE[step.op]
        spelling = op.spellings[step.spelling % len(op.spellings)]
        return spelling(*args, step.param)
    return TENSOR_OPS[step.op].adjoint(step, args, const)


def _sympy_step(step: Step, args: list[np.ndarray], const: np.ndarray | None) -> Any:
    if step.op in ELEMENTWISE:
        f = _scalar_sym(step.op, step.param)
        if all(a.shape == () for a in args):
            return f(*[a[()] for a in args])
        return np.vectorize(f, otypes=[object])(*args)
    return TENSOR_OPS[step.op].sym(step, args, const)


# ----------------------------------------------------------------- tensor ops


@dataclass(frozen=True)
class TensorOpSpec:
    """A shape-changing op: draw(rng, shapes) -> (param, shape) or None; adjoint; sympy."""

    name: str
    arity: int
    adjoint: Callable[..., Any]
    sym: Callable[..., Any]


def _sum_adjoint(step, args, const):
    axes, keepdims, spelling = step.param
    (a,) = args
    if spelling == 0:
        return ad.summation(a, axes=axes, keepdims=keepdims)
    return a.sum(axes=axes, keepdims=keepdims)


def _sum_sym(step, args, const):
    axes, keepdims, _ = step.param
    return np.asarray(args[0].sum(axis=axes, keepdims=keepdims), dtype=object)


def _mean_adjoint(step, args, const):
    axes, keepdims, spelling = step.param
    (a,) = args
    if spelling == 0:
        return ad.mean(a, axes=axes, keepdims=keepdims)
    return a.mean(axes=axes, keepdims=keepdims)


def _mean_sym(step, args, const):
    axes, keepdims, _ = step.param
    (a,) = args
    total = np.asarray(a.sum(axis=axes, keepdims=keepdims), dtype=object)
    count = a.size // total.size
    return np.asarray(total / sympy.Integer(count), dtype=object)


def _index(param: Any) -> Any:
    return tuple(slice(*p) if isinstance(p, tuple) else p for p in param)


def _getitem_adjoint(step, args, const):
    return args[0][_index(step.param)]


def _getitem_sym(step, args, const):
    return np.asarray(args[0][_index(step.param)], dtype=object)


def _matmul_adjoint(step, args, const):
    a, b = (args + [None])[:2]
    if step.param == "const_right":
        return a @ ad.Tensor(const, requires_grad=False)
    if step.param == "const_left":
        return ad.matmul(ad.Tensor(const, requires_grad=False), a)
    return ad.matmul(a, b)


def _as_sympy_const(const: np.ndarray) -> np.ndarray:
    return np.vectorize(rational, otypes=[object])(const)


def _matmul_sym(step, args, const):
    a, b = (args + [None])[:2]
    if step.param == "const_right":
        return np.asarray(np.matmul(a, _as_sympy_const(const)), dtype=object)
    if step.param == "const_left":
        return np.asarray(np.matmul(_as_sympy_const(const), a), dtype=object)
    return np.asarray(np.matmul(a, b), dtype=object)


def _reshape_adjoint(step, args, const):
    shape, spelling = step.param
    return ad.reshape(args[0], shape) if spelling == 0 else args[0].reshape(shape)


def _reshape_sym(step, args, const):
    return args[0].reshape(step.param[0])


def _transpose_adjoint(step, args, const):
    axes, spelling = step.param
    if spelling == 0:
        return ad.transpose(args[0], axes)
    return args[0].transpose(*axes)


def _transpose_sym(step, args, const):
    axes, _ = step.param
    return np.swapaxes(args[0], *axes)


def _permute_adjoint(step, args, const):
    axes, spelling = step.param
    if spelling == 2:
        return args[0].T
    if spelling == 0:
        return ad.permute(args[0], axes)
    return args[0].permute(*axes)


def _permute_sym(step, args, const):
    axes, _ = step.param
    return np.transpose(args[0], axes)


def _broadcast_adjoint(step, args, const):
    return ad.broadcast_to(args[0], step.param)


def _broadcast_sym(step, args, const):
    return np.broadcast_to(args[0], step.param).copy()


def _constop_adjoint(step, args, const):
    """An elementwise op with a constant tensor: ``a * C`` or ``a + C`` (broadcasting)."""
    kind = step.param
    c = ad.Tensor(const, requires_grad=False)
    return args[0] * c if kind == "mul" else args[0] + c


def _constop_sym(step, args, const):
    c = _as_sympy_const(const)
    return np.asarray(args[0] * c if step.param == "mul" else args[0] + c, dtype=object)


def _stack_adjoint(step, args, const):
    return ad.stack(list(args), axis=step.param)


def _stack_sym(step, args, const):
    return np.stack(args, axis=step.param)


def _concat_adjoint(step, args, const):
    return ad.concatenate(list(args), axis=step.param)


def _concat_sym(step, args, const):
    return np.concatenate(args, axis=step.param)


TENSOR_OPS: dict[str, TensorOpSpec] = {
    spec.name: spec
    for spec in [
        TensorOpSpec("sum", 1, _sum_adjoint, _sum_sym),
        TensorOpSpec("mean", 1, _mean_adjoint, _mean_sym),
        TensorOpSpec("getitem", 1, _getitem_adjoint, _getitem_sym),
        TensorOpSpec("matmul", 2, _matmul_adjoint, _matmul_sym),
        TensorOpSpec("reshape", 1, _reshape_adjoint, _reshape_sym),
        TensorOpSpec("transpose", 1, _transpose_adjoint, _transpose_sym),
        TensorOpSpec("permute", 1, _permute_adjoint, _permute_sym),
        TensorOpSpec("broadcast", 1, _broadcast_adjoint, _broadcast_sym),
        TensorOpSpec("constop", 1, _constop_adjoint, _constop_sym),
        TensorOpSpec("stack", 2, _stack_adjoint, _stack_sym),
        TensorOpSpec("concat", 2, _concat_adjoint, _concat_sym),
    ]
}


# ------------------------------------------------------------------ generation


class _Pool:
    """The values drawn so far: shapes and intervals, for choosing arguments."""

    def __init__(self, shape: tuple[int, ...], inputs: int = 1) -> None:
        self.inputs = inputs
        self.shapes = [shape] * inputs
        self.intervals = [Interval(-X_RANGE, X_RANGE)] * inputs

    def __len__(self) -> int:
        return len(self.shapes)

    def pick(self, rng: np.random.Generator, candidates: Sequence[int] | None = None) -> int:
        """An earlier value, the recent ones (and the inputs) more likely: long chains and
        reuse."""
        if candidates is None:
            candidates = range(len(self.shapes))
        candidates = list(candidates)
        weights = np.array([(1.0 + c) ** 1.5 for c in candidates])
        weights[np.array(candidates) < self.inputs] += 0.5 * weights.sum() / max(1, len(candidates))
        return int(rng.choice(candidates, p=weights / weights.sum()))


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _draw_elementwise(rng, pool: _Pool, names: Sequence[str]) -> Step | None:
    weights = np.array([WEIGHTS[n] for n in names], dtype=float)
    name = str(rng.choice(list(names), p=weights / weights.sum()))
    op = ELEMENTWISE[name]
    param = op.params[int(rng.integers(len(op.params)))]
    everything = range(len(pool))
    if op.arity == 1:  # arguments in the op's domain (a divisor away from 0, ...)
        candidates = [k for k in everything if op.ok(pool.intervals[k], param)]
        if not candidates:
            return None
        args = [pool.pick(rng, candidates)]
    else:
        first_ok, second_ok = {
            "div": (lambda iv: True, lambda iv: iv.mig >= AWAY),
            "pow": (lambda iv: iv.lo >= POSITIVE, lambda iv: iv.mag <= 2.5),
        }.get(name, (lambda iv: True, lambda iv: True))
        firsts = [k for k in everything if first_ok(pool.intervals[k])]
        if not firsts:
            return None
        first = pool.pick(rng, firsts)
        seconds = [
            k
            for k in everything
            if second_ok(pool.intervals[k]) and _broadcastable(pool.shapes[k], pool.shapes[first])
        ]
        if not seconds:
            return None
        second = pool.pick(rng, seconds)
        if second == first and len(seconds) > 1 and rng.random() < 0.7:
            second = pool.pick(rng, seconds)  # u - u, u / u: drawn, but less often
        args = [first, second]
        if name in ("add", "mul") and rng.random() < 0.5:
            args.reverse()
    intervals = [pool.intervals[a] for a in args]
    assert op.ok(*intervals, param)
    iv = op.interval(*intervals, param)
    if not _within(iv):
        return None
    shape = np.broadcast_shapes(*[pool.shapes[a] for a in args])
    spelling = int(rng.integers(len(op.spellings)))
    return Step(name, tuple(args), param, spelling, shape=tuple(shape), interval=iv)


def _finish(
    rng,
    pool: _Pool,
    steps: list[Step],
    shape: tuple[int, ...],
    seed: int,
    attempts: int,
    constants: dict,
) -> Program:
    """The program whose output is a weighted sum over its sinks (values no step reads),
    so that every step counts."""
    used = {a for step in steps for a in step.args}
    sinks = [k for k in range(pool.inputs, len(pool)) if k not in used] or [len(pool) - 1]
    outputs = []
    for index in sinks:
        s = pool.shapes[index]
        if s == () and rng.random() < 0.6:
            weights = np.array(1.0)
        else:
            weights = rng.choice(np.array(CONSTANTS), size=s)
        outputs.append((index, np.asarray(weights, dtype=np.float64)))
    return Program(shape, steps, outputs, seed, attempts, constants, pool.inputs)


def scalar_program(
    seed: int, attempt: int = 0, min_steps: int = 3, max_steps: int = 8, inputs: int = 1
) -> Program:
    """A random program over scalars (``inputs`` of them: x, y, ...): elementwise ops only,
    a DAG of scalar ops. It has a non-polynomial op and it reads every input."""
    rng = np.random.default_rng([seed, attempt, 1] if inputs == 1 else [seed, attempt, 1, inputs])
    n = int(rng.integers(min_steps, max_steps + 1))
    names = list(ELEMENTWISE)
    while True:  # (drawn again, from the same stream, until every input is read)
        pool = _Pool((), inputs)
        steps: list[Step] = []
        while len(steps) < n or not any(step.op in NONLINEAR for step in steps):
            # at least one non-polynomial op, so that no program is a polynomial
            step = _draw_elementwise(rng, pool, names if len(steps) < n else NONLINEAR)
            if step is None:
                continue
            steps.append(step)
            pool.shapes.append(step.shape)
            pool.intervals.append(step.interval)
        if {a for step in steps for a in step.args} >= set(range(inputs)):
            return _finish(rng, pool, steps, (), seed, attempt + 1, {})


#: Input shapes of tensor programs (at most 6 elements: sympy's 3rd derivatives stay cheap).
TENSOR_SHAPES = ((3,), (2, 3), (3, 2), (2, 2), (4,), (1, 3), (2, 1, 3), (6,))


def _draw_tensor_op(rng, pool: _Pool, constants: dict) -> Step | None:
    name = str(rng.choice(list(TENSOR_OPS)))
    a = pool.pick(rng)
    shape = pool.shapes[a]
    iv = pool.intervals[a]
    ndim = len(shape)
    k = len(pool)  # the index the new value gets (for its constant)
    if name in ("sum", "mean"):
        if ndim == 0:
            return None
        if rng.random() < 0.25:
            axes = None
        else:
            count = int(rng.integers(1, ndim + 1))
            axes = tuple(sorted(int(v) for v in rng.choice(ndim, size=count, replace=False)))
            if len(axes) == 1 and rng.random() < 0.5:
                axes = axes[0]
            elif rng.random() < 0.3:
                axes = tuple(ax - ndim for ax in axes)  # negative axes
        keepdims = bool(rng.random() < 0.3)
        out = np.zeros(shape).sum(axis=axes, keepdims=keepdims).shape
        reduced = max(1, int(np.prod(shape)) // max(1, int(np.prod(out))))
        new_iv = iv.scale(reduced) if name == "sum" else iv
        return Step(
            name, (a,), (axes, keepdims, int(rng.integers(2))), shape=tuple(out), interval=new_iv
        )
    if name == "getitem":
        if ndim == 0:
            return None
        index = []
        for size in shape[: int(rng.integers(1, ndim + 1))]:
            r = rng.random()
            if r < 0.35:
                index.append(int(rng.integers(-size, size)))
            elif r < 0.7 and size > 1:
                start = int(rng.integers(0, size - 1))
                index.append((start, int(rng.integers(start + 1, size + 1)), None))
            elif r < 0.85 and size > 2:
                index.append((None, None, 2))
            else:
                index.append((None, None, None))
        out = np.zeros(shape)[_index(tuple(index))].shape
        if int(np.prod(out)) == 0:
            return None
        return Step(name, (a,), tuple(index), shape=tuple(out), interval=iv)
    if name == "matmul":
        if ndim == 0 or ndim > 2:
            return None
        kind = str(rng.choice(["const_right", "const_left", "pair"]))
        if kind == "pair":
            inner = shape[-1]
            candidates = [
                b
                for b in range(len(pool))
                if 1 <= len(pool.shapes[b]) <= 2 and pool.shapes[b][0] == inner
            ]
            if not candidates:
                return None
            b = pool.pick(rng, candidates)
            out = np.matmul(np.zeros(shape), np.zeros(pool.shapes[b])).shape
            new_iv = iv * pool.intervals[b]
            new_iv = new_iv.scale(inner)
            if not _within(new_iv):
                return None
            return Step(name, (a, b), "pair", shape=tuple(out), interval=new_iv)
        if kind == "const_right":
            inner = shape[-1]
            cshape = (inner,) if rng.random() < 0.3 else (inner, int(rng.integers(1, 4)))
            const = rng.choice(np.array(SMALL_CONSTANTS), size=cshape)
            out = np.matmul(np.zeros(shape), const).shape
        else:
            inner = shape[0]
            cshape = (inner,) if rng.random() < 0.3 else (int(rng.integers(1, 4)), inner)
            const = rng.choice(np.array(SMALL_CONSTANTS), size=cshape)
            out = np.matmul(const, np.zeros(shape)).shape
        new_iv = (iv * Interval(-1.25, 1.25)).scale(inner)
        if not _within(new_iv):
            return None
        constants[k] = const
        return Step(name, (a,), kind, shape=tuple(out), interval=new_iv)
    if name == "reshape":
        size = int(np.prod(shape))
        options = {
            (size,),
            (1, size),
            (size, 1),
            *[(d, size // d) for d in range(1, size + 1) if size % d == 0],
            *[(1, d, size // d) for d in range(2, size) if size % d == 0],
        }
        if size == 1:
            options.add(())
        options.discard(tuple(shape))
        options = sorted(options)
        if not options:
            return None
        new = options[int(rng.integers(len(options)))]
        return Step(name, (a,), (new, int(rng.integers(2))), shape=new, interval=iv)
    if name == "transpose":
        if ndim < 2:
            return None
        axes = tuple(int(v) for v in sorted(rng.choice(ndim, size=2, replace=False)))
        out = np.swapaxes(np.zeros(shape), *axes).shape
        return Step(name, (a,), (axes, int(rng.integers(2))), shape=tuple(out), interval=iv)
    if name == "permute":
        if ndim < 2:
            return None
        spelling = int(rng.integers(3))
        axes = (
            tuple(reversed(range(ndim)))
            if spelling == 2
            else tuple(int(v) for v in rng.permutation(ndim))
        )
        out = np.transpose(np.zeros(shape), axes).shape
        return Step(name, (a,), (axes, spelling), shape=tuple(out), interval=iv)
    if name == "broadcast":
        if int(np.prod(shape)) > 4 or ndim > 2:
            return None
        if ndim >= 1 and 1 in shape and rng.random() < 0.5:
            new = tuple(int(rng.integers(2, 4)) if s == 1 else s for s in shape)
        else:
            new = (int(rng.integers(2, 4)),) + tuple(shape)
        return Step(name, (a,), new, shape=new, interval=iv)
    if name == "constop":
        kind = "mul" if rng.random() < 0.6 else "add"
        # the constant's shape broadcasts against the value's: a suffix, with some axes 1
        tail = list(shape[len(shape) - int(rng.integers(0, ndim + 1)) :]) if ndim else []
        tail = [1 if rng.random() < 0.3 else s for s in tail]
        const = rng.choice(np.array(SMALL_CONSTANTS), size=tuple(tail))
        c_iv = Interval(-1.25, 1.25)
        new_iv = iv * c_iv if kind == "mul" else iv + c_iv
        if not _within(new_iv):
            return None
        constants[k] = np.asarray(const, dtype=np.float64)
        return Step(name, (a,), kind, shape=tuple(shape), interval=new_iv)
    if name in ("stack", "concat"):
        same = [b for b in range(len(pool)) if pool.shapes[b] == shape]
        b = pool.pick(rng, same)
        if name == "stack":
            axis = int(rng.integers(0, ndim + 1))
            out = np.stack([np.zeros(shape), np.zeros(shape)], axis=axis).shape
        else:
            if ndim == 0:
                return None
            axis = int(rng.integers(0, ndim))
            out = np.concatenate([np.zeros(shape), np.zeros(shape)], axis=axis).shape
        if int(np.prod(out)) > 12:
            return None
        return Step(name, (a, b), axis, shape=tuple(out), interval=iv.union(pool.intervals[b]))
    raise KeyError(name)


def tensor_program(seed: int, attempt: int = 0, min_steps: int = 6, max_steps: int = 12) -> Program:
    """A random program over a small tensor x: elementwise ops with broadcasting,
    reductions, indexing, matmul, reshapes, transposes, stacking."""
    rng = np.random.default_rng([seed, attempt, 2])
    shape = TENSOR_SHAPES[int(rng.integers(len(TENSOR_SHAPES)))]
    n = int(rng.integers(min_steps, max_steps + 1))
    pool = _Pool(shape)
    steps: list[Step] = []
    constants: dict[int, np.ndarray] = {}
    names = list(ELEMENTWISE)
    tries = 0
    while (len(steps) < n or not any(step.op in NONLINEAR for step in steps)) and tries < 500:
        tries += 1
        if len(steps) >= n:  # at least one non-polynomial op
            step = _draw_elementwise(rng, pool, NONLINEAR)
        elif rng.random() < 0.4:
            step = _draw_tensor_op(rng, pool, constants)
        else:
            step = _draw_elementwise(rng, pool, names)
        if step is None or int(np.prod(step.shape)) > 12:
            constants.pop(len(pool), None)
            continue
        steps.append(step)
        pool.shapes.append(step.shape)
        pool.intervals.append(step.interval)
    return _finish(rng, pool, steps, shape, seed, attempt + 1, constants)
