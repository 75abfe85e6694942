"""Random expression graphs for property-based tests (hypothesis strategies).

:func:`random_graphs` is a hypothesis strategy of :class:`RandomGraph`: a
random expression over a few inputs of random small shapes, built from the op
set (elementwise functions, arithmetic with broadcasting, scalar ops, sums,
means, max/min reductions, reshape, transpose, permute, broadcast_to, matmul,
indexing with slices, ints and repeated index arrays, stack and concatenate,
and ``ad.linalg``: inv, solve, solve_triangular, det, logdet, cholesky, eigvalsh,
eigenvectors, trace, diagonal, outer, norm).
Each graph can be run two ways: :meth:`RandomGraph.fn` with adjoint's ops on
Tensors, and :meth:`RandomGraph.sym` with NumPy and sympy on object arrays of
symbols, written independently of :mod:`adjoint.symbolic`. So a test can
compare adjoint's derivatives of any order with sympy's.

Inputs are kept in the domain of every function: log, sqrt and division only
see ``x*x + c`` with ``c > 0``, and powers with a tensor exponent have such a
base. Kinks (relu, abs, maximum, max) are included; input values come from a
seeded uniform draw, so no input sits on a kink except where the graph makes
a tie identically (``maximum(x, x)``), and there the function is smooth.

hypothesis is imported when a strategy is asked for, never when adjoint is
imported; it is a dev dependency only.

>>> from hypothesis import given, settings
>>> import adjoint as ad
>>> @settings(max_examples=5, derandomize=True, deadline=None)
... @given(random_graphs())
... def test_gradients(graph):
...     ad.gradcheck(graph.fn, *graph.values(), order=2)
>>> test_gradients()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

__all__ = ["RandomGraph", "Node", "random_graphs", "SHAPES"]

#: Shapes drawn for the output and the inputs (intermediate nodes may have more axes).
SHAPES: tuple[tuple[int, ...], ...] = ((), (2,), (3,), (1, 2), (2, 1), (2, 2), (3, 2))

_MAX_SIZE = 8
_CONSTANTS = (0.5, -1.25, 2.0, 3.0)


@dataclass(frozen=True)
class Node:
    """One node of a random expression: ``kind`` applied to ``children`` with ``param``."""

    kind: str
    children: tuple[Node, ...]
    param: Any
    shape: tuple[int, ...]


def _ops():
    import adjoint as ad

    return ad


def _objects(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(object)
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def _map(fn: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    return _objects(np.frompyfunc(fn, len(arrays), 1)(*arrays))


def _exact(c: float) -> sympy.Rational:
    return sympy.Rational(Fraction(c).numerator, Fraction(c).denominator)


def _sym_reduce(a: np.ndarray, axis: int, fn: Callable[..., Any]) -> np.ndarray:
    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = fn(*moved[index])
    return out


def _fmt(template: str) -> Callable[..., str]:
    return lambda param, *args: template.format(*args)


def _index_array(n: int) -> np.ndarray:
    return np.array([1, 0, 1][:n])


# kind -> (adjoint implementation, sympy implementation, text); each gets
# (param, *children).
_KINDS: dict[str, tuple[Callable, Callable, Callable]] = {
    "exp": (lambda p, a: _ops().exp(a), lambda p, a: _map(sympy.exp, a), _fmt("exp({})")),
    "log": (
        lambda p, a: _ops().log(a * a + 1.0),
        lambda p, a: _map(lambda v: sympy.log(v**2 + 1), a),
        _fmt("log({0}*{0} + 1)"),
    ),
    "sin": (lambda p, a: _ops().sin(a), lambda p, a: _map(sympy.sin, a), _fmt("sin({})")),
    "cos": (lambda p, a: _ops().cos(a), lambda p, a: _map(sympy.cos, a), _fmt("cos({})")),
    "tanh": (lambda p, a: _ops().tanh(a), lambda p, a: _map(sympy.tanh, a), _fmt("tanh({})")),
    "sigmoid": (
        lambda p, a: _ops().sigmoid(a),
        lambda p, a: _map(lambda v: 1 / (1 + sympy.exp(-v)), a),
        _fmt("sigmoid({})"),
    ),
    "sqrt": (
        lambda p, a: _ops().sqrt(a * a + 0.5),
        lambda p, a: _map(lambda v: sympy.sqrt(v**2 + sympy.Rational(1, 2)), a),
        _fmt("sqrt({0}*{0} + 0.5)"),
    ),
    "relu": (
        lambda p, a: _ops().relu(a),
        lambda p, a: _map(lambda v: sympy.Max(v, 0), a),
        _fmt("relu({})"),
    ),
    "abs": (lambda p, a: _ops().abs(a), lambda p, a: _map(sympy.Abs, a), _fmt("abs({})")),
    "neg": (lambda p, a: -a, lambda p, a: -a, _fmt("-({})")),
    "add_c": (lambda p, a: a + p, lambda p, a: a + _exact(p), lambda p, a: f"({a} + {p})"),
    "mul_c": (lambda p, a: a * p, lambda p, a: a * _exact(p), lambda p, a: f"{p}*{a}"),
    "div_c": (lambda p, a: a / p, lambda p, a: a / _exact(p), lambda p, a: f"{a}/{p}"),
    "rsub_c": (lambda p, a: p - a, lambda p, a: _exact(p) - a, lambda p, a: f"({p} - {a})"),
    "rdiv_c": (
        lambda p, a: p / (a * a + 1.0),
        lambda p, a: _exact(p) / (a * a + 1),
        lambda p, a: f"{p}/({a}*{a} + 1)",
    ),
    "pow_c": (lambda p, a: a**p, lambda p, a: a**p, lambda p, a: f"{a}**{p}"),
    "rpow_c": (lambda p, a: 2.0**a, lambda p, a: _map(lambda v: 2**v, a), _fmt("2**{}")),
    "add": (lambda p, a, b: a + b, lambda p, a, b: a + b, lambda p, a, b: f"({a} + {b})"),
    "sub": (lambda p, a, b: a - b, lambda p, a, b: a - b, lambda p, a, b: f"({a} - {b})"),
    "mul": (lambda p, a, b: a * b, lambda p, a, b: a * b, lambda p, a, b: f"{a}*{b}"),
    "div": (
        lambda p, a, b: a / (b * b + 1.0),
        lambda p, a, b: a / (b * b + 1),
        lambda p, a, b: f"{a}/({b}*{b} + 1)",
    ),
    "pow": (
        lambda p, a, b: (a * a + 0.5) ** b,
        lambda p, a, b: _map(lambda u, v: (u**2 + sympy.Rational(1, 2)) ** v, a, b),
        lambda p, a, b: f"({a}*{a} + 0.5)**{b}",
    ),
    "maximum": (
        lambda p, a, b: _ops().maximum(a, b),
        lambda p, a, b: _map(sympy.Max, a, b),
        lambda p, a, b: f"maximum({a}, {b})",
    ),
    "minimum": (
        lambda p, a, b: _ops().minimum(a, b),
        lambda p, a, b: _map(sympy.Min, a, b),
        lambda p, a, b: f"minimum({a}, {b})",
    ),
    "sum": (
        lambda p, a: _ops().summation(a, axes=p),
        lambda p, a: _objects(np.sum(a, axis=p)),
        lambda p, a: f"sum({a}, axes={p})",
    ),
    "mean": (
        lambda p, a: _ops().mean(a, axes=p),
        lambda p, a: _objects(np.sum(a, axis=p)) / sympy.Integer(a.shape[p]),
        lambda p, a: f"mean({a}, axes={p})",
    ),
    "max": (
        lambda p, a: _ops().max(a, axes=p),
        lambda p, a: _sym_reduce(a, p, sympy.Max),
        lambda p, a: f"max({a}, axes={p})",
    ),
    "min": (
        lambda p, a: _ops().min(a, axes=p),
        lambda p, a: _sym_reduce(a, p, sympy.Min),
        lambda p, a: f"min({a}, axes={p})",
    ),
    "sum_all": (
        lambda p, a: _ops().summation(a),
        lambda p, a: _objects(np.sum(a)),
        lambda p, a: f"sum({a})",
    ),
    "reshape": (
        lambda p, a: _ops().reshape(a, p),
        lambda p, a: np.reshape(a, p),
        lambda p, a: f"reshape({a}, {p})",
    ),
    "transpose": (
        lambda p, a: _ops().transpose(a),
        lambda p, a: np.swapaxes(a, -1, -2),
        lambda p, a: f"transpose({a})",
    ),
    "permute": (lambda p, a: a.T, lambda p, a: np.transpose(a), lambda p, a: f"{a}.T"),
    "broadcast_to": (
        lambda p, a: _ops().broadcast_to(a, p),
        lambda p, a: np.broadcast_to(a, p),
        lambda p, a: f"broadcast_to({a}, {p})",
    ),
    "matmul": (lambda p, a, b: a @ b, lambda p, a, b: _objects(a @ b), lambda p, a, b: f"{a}@{b}"),
    "slice": (lambda p, a: a[1:], lambda p, a: a[1:], lambda p, a: f"{a}[1:]"),
    "reverse": (lambda p, a: a[::-1], lambda p, a: a[::-1], lambda p, a: f"{a}[::-1]"),
    "take": (lambda p, a: a[1], lambda p, a: a[1], lambda p, a: f"{a}[1]"),
    "gather": (
        lambda p, a: a[_index_array(p)],
        lambda p, a: a[_index_array(p)],
        lambda p, a: f"{a}[{_index_array(p).tolist()}]",
    ),
    "stack": (
        lambda p, a, b: _ops().stack([a, b]),
        lambda p, a, b: np.stack([a, b]),
        lambda p, a, b: f"stack([{a}, {b}])",
    ),
    "concatenate": (
        lambda p, a, b: _ops().concatenate([a, b]),
        lambda p, a, b: np.concatenate([a, b]),
        lambda p, a, b: f"concatenate([{a}, {b}])",
    ),
    # more of NumPy (issue 20)
    "log1p": (
        lambda p, a: _ops().log1p(a * a),
        lambda p, a: _map(lambda v: sympy.log(1 + v**2), a),
        _fmt("log1p({0}*{0})"),
    ),
    "expm1": (
        lambda p, a: _ops().expm1(a),
        lambda p, a: _map(lambda v: sympy.exp(v) - 1, a),
        _fmt("expm1({})"),
    ),
    "softplus": (
        lambda p, a: _ops().softplus(a),
        lambda p, a: _map(lambda v: sympy.log(1 + sympy.exp(v)), a),
        _fmt("softplus({})"),
    ),
    "square": (lambda p, a: _ops().square(a), lambda p, a: a * a, _fmt("square({})")),
    "reciprocal": (
        lambda p, a: _ops().reciprocal(a * a + 1.0),
        lambda p, a: _map(lambda v: 1 / (v**2 + 1), a),
        _fmt("reciprocal({0}*{0} + 1)"),
    ),
    "clip": (
        lambda p, a: _ops().clip(a, -0.5, 0.5),
        lambda p, a: _map(
            lambda v: sympy.Min(sympy.Max(v, -sympy.Rational(1, 2)), sympy.Rational(1, 2)), a
        ),
        _fmt("clip({}, -0.5, 0.5)"),
    ),
    "logaddexp": (
        lambda p, a, b: _ops().logaddexp(a, b),
        lambda p, a, b: _map(lambda u, v: sympy.log(sympy.exp(u) + sympy.exp(v)), a, b),
        lambda p, a, b: f"logaddexp({a}, {b})",
    ),
    "cumsum": (
        lambda p, a: _ops().cumsum(a, p),
        lambda p, a: _objects(np.cumsum(a, axis=p)),
        lambda p, a: f"cumsum({a}, {p})",
    ),
    "cumprod": (
        lambda p, a: _ops().cumprod(a, p),
        lambda p, a: _objects(np.cumprod(a, axis=p)),
        lambda p, a: f"cumprod({a}, {p})",
    ),
    "flip": (
        lambda p, a: _ops().flip(a, p),
        lambda p, a: np.flip(a, p),
        lambda p, a: f"flip({a}, {p})",
    ),
    "roll": (
        lambda p, a: _ops().roll(a, 1, p),
        lambda p, a: np.roll(a, 1, p),
        lambda p, a: f"roll({a}, 1, {p})",
    ),
    "sort": (
        lambda p, a: _ops().sort(a, p),
        lambda p, a: _sym_sort(a, p),
        lambda p, a: f"sort({a}, {p})",
    ),
    "pad": (
        lambda p, a: _ops().pad(a, _widths(p, a.ndim), constant_values=0.5),
        lambda p, a: np.pad(a, _widths(p, a.ndim), constant_values=sympy.Rational(1, 2)),
        lambda p, a: f"pad({a}, axis {p}, 0.5)",
    ),
    "tile": (
        lambda p, a: _ops().tile(a, _reps(p, a.ndim)),
        lambda p, a: np.tile(a, _reps(p, a.ndim)),
        lambda p, a: f"tile({a}, {_reps(p, 0)})",
    ),
    "repeat": (
        lambda p, a: _ops().repeat(a, 2, p),
        lambda p, a: np.repeat(a, 2, p),
        lambda p, a: f"repeat({a}, 2, {p})",
    ),
    "einsum": (
        lambda p, a, b: _ops().einsum(p, a, b),
        lambda p, a, b: _objects(np.einsum(p, a, b)),
        lambda p, a, b: f"einsum({p!r}, {a}, {b})",
    ),
    "var": (
        lambda p, a: _ops().var(a, axes=p),
        lambda p, a: (
            _objects(np.sum((a - np.sum(a, axis=p, keepdims=True) / a.shape[p]) ** 2, axis=p))
            / sympy.Integer(a.shape[p])
        ),
        lambda p, a: f"var({a}, axes={p})",
    ),
    # linear algebra (issue 20): matrices made invertible (m mᵀ + I, positive definite; a
    # unit triangle) where the op needs it; eigenvectors through V diag(c) Vᵀ, free of signs
    "inv": (
        lambda p, a: _ops().linalg.inv(_spd(a)),
        lambda p, a: _from_matrix(_sym_spd(a).inv()),
        _fmt("inv({0} {0}ᵀ + I)"),
    ),
    "solve": (
        lambda p, a, b: _ops().linalg.solve(_spd(a), b),
        lambda p, a, b: _from_matrix(_sym_spd(a).LUsolve(sympy.Matrix(b.tolist())), b.shape),
        _fmt("solve({0} {0}ᵀ + I, {1})"),
    ),
    "solve_triangular": (
        lambda p, a, b: _ops().linalg.solve_triangular(a, b, lower=True, unit_diagonal=True),
        lambda p, a, b: _from_matrix(
            (sympy.Matrix(a.tolist()).lower_triangular(-1) + sympy.eye(2)).LUsolve(
                sympy.Matrix(b.tolist())
            ),
            b.shape,
        ),
        _fmt("solve_triangular({0}, {1}, lower, unit)"),
    ),
    "det": (  # shifted: a matrix the graph makes singular (outer, broadcast rows) has no
        # inverse, which det's gradient needs (adjoint.ops.linalg's doc)
        lambda p, a: _ops().linalg.det(a + 3.0 * _identity()),
        lambda p, a: _objects((sympy.Matrix(a.tolist()) + 3 * sympy.eye(2)).det()),
        _fmt("det({} + 3 I)"),
    ),
    "logdet": (
        lambda p, a: _ops().linalg.logdet(_spd(a)),
        lambda p, a: _objects(sympy.log(_sym_spd(a).det())),
        _fmt("logdet({0} {0}ᵀ + I)"),
    ),
    "cholesky": (
        lambda p, a: _ops().linalg.cholesky(_spd(a)),
        lambda p, a: _from_matrix(_sym_spd(a).cholesky(hermitian=False)),
        _fmt("cholesky({0} {0}ᵀ + I)"),
    ),
    "eigvalsh": (
        lambda p, a: _ops().linalg.eigvalsh(a),
        lambda p, a: _objects(np.array(_sym_eigenvalues(a), dtype=object)),
        _fmt("eigvalsh({})"),
    ),
    "eigh_project": (
        lambda p, a: (lambda v: v @ (_weights(p) * _ops().transpose(v)))(_ops().linalg.eigh(a)[1]),
        lambda p, a: _sym_project(a, p),
        lambda p, a: f"V diag({p}) Vᵀ of eigh({a})",
    ),
    "trace": (
        lambda p, a: _ops().trace(a),
        lambda p, a: _objects(np.trace(a)),
        _fmt("trace({})"),
    ),
    "diagonal": (
        lambda p, a: _ops().diagonal(a),
        lambda p, a: _objects(np.diagonal(a)),
        _fmt("diagonal({})"),
    ),
    "outer": (
        lambda p, a, b: _ops().outer(a, b),
        lambda p, a, b: _objects(np.outer(a, b)),
        lambda p, a, b: f"outer({a}, {b})",
    ),
    "norm": (
        lambda p, a: _ops().linalg.norm(a),
        lambda p, a: _objects(_sym_root(sum(v**2 for v in a.flat))),
        _fmt("norm({})"),
    ),
}


def _identity() -> Any:
    return _ops().Tensor(np.eye(2), requires_grad=False)


def _spd(a: Any) -> Any:
    """``a aᵀ + I``: symmetric positive definite whatever ``a`` is."""
    return a @ _ops().transpose(a) + _identity()


def _sym_spd(a: np.ndarray) -> Any:
    m = sympy.Matrix(a.tolist())
    return m * m.T + sympy.eye(2)


def _from_matrix(m: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    out = _objects(np.array(m.tolist(), dtype=object))
    return out.reshape(shape) if shape is not None else out


def _sym_eigenvalues(a: np.ndarray) -> list:
    """The ascending eigenvalues of the symmetric part of a 2 x 2 matrix, in closed form."""
    p, q, r = a[0, 0], (a[0, 1] + a[1, 0]) / 2, a[1, 1]
    mid, radius = (p + r) / 2, sympy.sqrt((p - r) ** 2 / 4 + q**2)
    return [mid - radius, mid + radius]


def _weights(p: tuple) -> Any:
    return _ops().Tensor(np.array(p).reshape(2, 1), requires_grad=False)


def _sym_project(a: np.ndarray, p: tuple) -> np.ndarray:
    """``V diag(p) Vᵀ`` of the symmetric part of ``a`` from its spectral projectors."""
    m = sympy.Matrix(a.tolist())
    m = (m + m.T) / 2
    w1, w2 = _sym_eigenvalues(a)
    eye = sympy.eye(2)
    c1, c2 = (_exact(c) for c in p)
    return _from_matrix(c1 * (m - w2 * eye) / (w1 - w2) + c2 * (m - w1 * eye) / (w2 - w1))


def _sym_root(total: Any) -> Any:
    """sqrt(total), and 0 where total is 0 with the derivative 0 there (norm's subgradient)."""
    return sympy.Piecewise((0, sympy.Eq(total, 0)), (sympy.sqrt(total), True))


def _sym_sort(a: np.ndarray, axis: int) -> np.ndarray:
    """Sorted along ``axis``: the k-th smallest is the Min over (k+1)-sets of their Max."""
    import itertools

    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for index in np.ndindex(moved.shape[:-1]):
        items = list(moved[index])
        for k in range(len(items)):
            out[index + (k,)] = sympy.Min(
                *(sympy.Max(*c) for c in itertools.combinations(items, k + 1))
            )
    return np.moveaxis(out, -1, axis)


def _widths(axis: int, ndim: int) -> tuple:
    return tuple((1, 0) if k == axis else (0, 0) for k in range(ndim))


def _reps(axis: int, ndim: int) -> tuple:
    return tuple(2 if k == axis else 1 for k in range(ndim))


_UNARY = (
    "exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "relu", "abs", "neg", "log1p",
    "expm1", "softplus", "square", "reciprocal", "clip",
)  # fmt: skip
_SCALAR = ("add_c", "mul_c", "div_c", "rsub_c", "rdiv_c", "pow_c", "rpow_c")
_BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "logaddexp")
_REDUCE = ("sum", "mean", "max", "min", "var")
_ALONG = ("cumsum", "cumprod", "flip", "roll", "sort")  # shape kept, one axis
_GROW = ("pad", "tile", "repeat")  # one axis grows
_MATRIX_FUNCTIONS = (
    "inv",
    "solve",
    "solve_triangular",
    "det",
    "logdet",
    "cholesky",
    "eigvalsh",
    "eigh_project",
)
_LINALG = _MATRIX_FUNCTIONS + ("trace", "diagonal", "outer", "norm")


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _smaller_compatible(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes other than ``shape`` that broadcast to it."""
    found = {shape[k:] for k in range(1, len(shape) + 1)}
    for k, n in enumerate(shape):
        if n != 1:
            found.add(shape[:k] + (1,) + shape[k + 1 :])
    found.discard(shape)
    return sorted(found, key=lambda s: (len(s), s))


def _same_size(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    n = _size(shape)
    found = {(n,), tuple(reversed(shape)), shape + (1,)}
    if n == 4:
        found.add((2, 2))
    if n == 6:
        found.update({(2, 3), (3, 2)})
    found.discard(shape)
    return sorted(found, key=lambda s: (len(s), s))


def _applicable(kind: str, shape: tuple[int, ...]) -> bool:
    n = len(shape)
    if kind in _REDUCE:
        return _size(shape) * 2 <= _MAX_SIZE and n < 3
    if kind == "sum_all":
        return n == 0
    if kind == "reshape":
        return bool(_same_size(shape))
    if kind in ("transpose", "permute"):
        return n == 2
    if kind == "broadcast_to":
        return bool(_smaller_compatible(shape))
    if kind == "matmul":
        return n <= 2
    if kind in ("slice", "gather"):
        return n >= 1 and shape[0] <= 3 and _size(shape) <= 6
    if kind == "reverse":
        return n >= 1
    if kind == "take":
        return _size(shape) * 2 <= _MAX_SIZE and n < 3
    if kind == "stack":
        return n >= 1 and shape[0] == 2
    if kind == "concatenate":
        return n >= 1 and shape[0] >= 2
    if kind in _ALONG:
        return n >= 1
    if kind == "pad":
        return any(k >= 2 for k in shape)
    if kind in ("tile", "repeat"):
        return any(k % 2 == 0 for k in shape)
    if kind == "einsum":
        return n <= 2
    if kind in ("inv", "cholesky", "eigh_project"):
        return shape == (2, 2)
    if kind in ("solve", "solve_triangular"):
        return shape in ((2,), (2, 1), (2, 2))
    if kind in ("det", "logdet", "trace", "norm"):
        return n == 0
    if kind in ("eigvalsh", "diagonal"):
        return shape == (2,)
    if kind == "outer":
        return n == 2
    return True


def _available(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds whose ops this version of adjoint has."""
    ad = _ops()
    needs = {
        "tanh": "tanh",
        "sigmoid": "sigmoid",
        "sqrt": "sqrt",
        "abs": "abs",
        "maximum": "maximum",
        "minimum": "minimum",
        "mean": "mean",
        "max": "max",
        "min": "min",
        "stack": "stack",
        "concatenate": "concatenate",
        **{k: k for k in ("log1p", "expm1", "softplus", "square", "reciprocal", "clip")},
        **{k: k for k in ("logaddexp", "var", "pad", "tile", "repeat", "einsum", *_ALONG)},
    }
    if not hasattr(ad, "linalg"):
        kinds = tuple(k for k in kinds if k not in _LINALG)
    if not hasattr(ad.default_device().xp, "einsum"):  # the array API has none: refused
        kinds = tuple(k for k in kinds if k != "einsum")
    has_getitem = hasattr(ad.Tensor, "__getitem__")
    indexing = ("slice", "reverse", "take", "gather")
    return tuple(
        k
        for k in kinds
        if (k not in needs or hasattr(ad, needs[k])) and (k not in indexing or has_getitem)
    )


ALL_KINDS: tuple[str, ...] = tuple(_KINDS)


@dataclass
class RandomGraph:
    """A random expression over inputs of ``shapes``; see the module docstring."""

    root: Node
    shapes: list[tuple[int, ...]]
    seed: int
    low: float = -1.0
    high: float = 1.0

    def values(self) -> list[np.ndarray]:
        """The inputs: float64 arrays drawn uniformly from ``[low, high)`` with ``seed``."""
        rng = np.random.default_rng(self.seed)
        return [rng.uniform(self.low, self.high, size=shape) for shape in self.shapes]

    def fn(self, *inputs: Any) -> Any:
        """The expression computed with adjoint's ops on Tensors."""
        return self._run(0, inputs)

    def sym(self, *inputs: np.ndarray) -> np.ndarray:
        """The expression computed with NumPy and sympy on object arrays."""
        return _objects(self._run(1, [_objects(np.asarray(x, dtype=object)) for x in inputs]))

    def _run(self, backend: int, inputs: Any) -> Any:
        results: dict[int, Any] = {}
        for node in _postorder(self.root):
            if node.kind == "input":
                value = inputs[node.param]
            elif node.kind == "const":
                value = _constant(node, backend)
            else:
                args = [results[id(c)] for c in node.children]
                value = _KINDS[node.kind][backend](node.param, *args)
            results[id(node)] = value
        return results[id(self.root)]

    def text(self) -> str:
        """The expression as a formula, inputs named x0, x1, ..."""
        results: dict[int, str] = {}
        for node in _postorder(self.root):
            if node.kind == "input":
                results[id(node)] = f"x{node.param}"
            elif node.kind == "const":
                results[id(node)] = f"full({node.shape}, {node.param})"
            else:
                args = [results[id(c)] for c in node.children]
                results[id(node)] = _KINDS[node.kind][2](node.param, *args)
        return results[id(self.root)]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        shapes = ", ".join(f"x{k}: {s}" for k, s in enumerate(self.shapes))
        return f"RandomGraph({self.text()}; {shapes}; seed={self.seed})"


def _constant(node: Node, backend: int) -> Any:
    if backend == 0:
        return _ops().Tensor(np.full(node.shape, float(node.param)), requires_grad=False)
    return _objects(np.full(node.shape, _exact(node.param), dtype=object))


def _postorder(root: Node) -> list[Node]:
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))
    return order


class _Builder:
    def __init__(self, draw: Any, st: Any, max_inputs: int, kinds: tuple[str, ...]) -> None:
        self.draw = draw
        self.st = st
        self.max_inputs = max_inputs
        self.kinds = kinds
        self.shapes: list[tuple[int, ...]] = []

    def leaf(self, shape: tuple[int, ...]) -> Node:
        draw, st = self.draw, self.st
        same = [k for k, s in enumerate(self.shapes) if s == shape]
        full = len(self.shapes) >= self.max_inputs or _size(shape) > _MAX_SIZE
        if same and (full or draw(st.booleans())):
            return Node("input", (), draw(st.sampled_from(same)), shape)
        if not full:
            self.shapes.append(shape)
            return Node("input", (), len(self.shapes) - 1, shape)
        smaller = [
            k for k, s in enumerate(self.shapes) if s in _smaller_compatible(shape) or s == shape
        ]
        if smaller:
            k = draw(st.sampled_from(smaller))
            child = Node("input", (), k, self.shapes[k])
            return child if child.shape == shape else Node("broadcast_to", (child,), shape, shape)
        return Node("const", (), draw(st.sampled_from(_CONSTANTS)), shape)

    def node(self, shape: tuple[int, ...], depth: int, root: bool = False) -> Node:
        draw, st = self.draw, self.st
        if depth <= 0 or (not root and draw(st.integers(0, 3)) == 3):
            return self.leaf(shape)
        options = [k for k in self.kinds if _applicable(k, shape)]
        if not options:
            return self.leaf(shape)
        kind = draw(st.sampled_from(options))
        sub = depth - 1
        n = len(shape)
        if kind in _UNARY:
            return Node(kind, (self.node(shape, sub),), None, shape)
        if kind in _SCALAR:
            param = draw(st.sampled_from((2, 3) if kind == "pow_c" else _CONSTANTS))
            return Node(kind, (self.node(shape, sub),), param, shape)
        if kind in _BINARY:
            other = draw(st.sampled_from([shape, *_smaller_compatible(shape)]))
            shapes = [shape, other] if draw(st.booleans()) else [other, shape]
            return Node(kind, tuple(self.node(s, sub) for s in shapes), None, shape)
        if kind in _REDUCE:
            axis = draw(st.integers(0, n))
            size = draw(st.sampled_from((2, 3) if _size(shape) * 3 <= _MAX_SIZE else (2,)))
            child = shape[:axis] + (size,) + shape[axis:]
            return Node(kind, (self.node(child, sub),), axis, shape)
        if kind == "sum_all":
            child = draw(st.sampled_from([s for s in SHAPES if s]))
            return Node(kind, (self.node(child, sub),), None, shape)
        if kind == "reshape":
            child = draw(st.sampled_from(_same_size(shape)))
            return Node(kind, (self.node(child, sub),), shape, shape)
        if kind in ("transpose", "permute"):
            child = shape[:-2] + (shape[-1], shape[-2])
            return Node(kind, (self.node(child, sub),), None, shape)
        if kind == "broadcast_to":
            child = draw(st.sampled_from(_smaller_compatible(shape)))
            return Node(kind, (self.node(child, sub),), shape, shape)
        if kind == "matmul":
            k = draw(st.sampled_from((1, 2)))
            if n == 0:
                a, b = (k,), (k,)
            elif n == 1:
                a, b = (k,), (k, shape[0])
            else:
                a, b = (shape[0], k), (k, shape[1])
            return Node(kind, (self.node(a, sub), self.node(b, sub)), None, shape)
        if kind == "slice":
            return Node(kind, (self.node((shape[0] + 1,) + shape[1:], sub),), None, shape)
        if kind == "reverse":
            return Node(kind, (self.node(shape, sub),), None, shape)
        if kind == "take":
            return Node(kind, (self.node((2,) + shape, sub),), None, shape)
        if kind == "gather":
            return Node(kind, (self.node((2,) + shape[1:], sub),), shape[0], shape)
        if kind == "stack":
            children = (self.node(shape[1:], sub), self.node(shape[1:], sub))
            return Node(kind, children, None, shape)
        if kind == "concatenate":
            first = draw(st.integers(1, shape[0] - 1))
            children = (
                self.node((first,) + shape[1:], sub),
                self.node((shape[0] - first,) + shape[1:], sub),
            )
            return Node(kind, children, None, shape)
        if kind in _ALONG:
            return Node(kind, (self.node(shape, sub),), draw(st.integers(0, n - 1)), shape)
        if kind in _GROW:
            step = 1 if kind == "pad" else 2
            axes = [k for k, m in enumerate(shape) if (m >= 2 if step == 1 else m % 2 == 0)]
            axis = draw(st.sampled_from(axes))
            size = shape[axis] - 1 if step == 1 else shape[axis] // 2
            child = shape[:axis] + (size,) + shape[axis + 1 :]
            return Node(kind, (self.node(child, sub),), axis, shape)
        if kind == "einsum":
            k = draw(st.sampled_from((1, 2)))
            if n == 0:
                spec, a, b = "i,i", (k,), (k,)
            elif n == 1:
                spec, a, b = "j,jk", (k,), (k, shape[0])
            else:
                spec, a, b = "ij,jk->ik", (shape[0], k), (k, shape[1])
            return Node(kind, (self.node(a, sub), self.node(b, sub)), spec, shape)
        if kind in _MATRIX_FUNCTIONS:
            # no matrix function below another: sympy's formulas of nested inverses and
            # roots grow so fast that one graph would take minutes
            saved, self.kinds = (
                self.kinds,
                tuple(k for k in self.kinds if k not in _MATRIX_FUNCTIONS),
            )
            try:
                if kind == "eigh_project":
                    weights = (draw(st.sampled_from(_CONSTANTS)), draw(st.sampled_from(_CONSTANTS)))
                    return Node(kind, (self.node((2, 2), sub),), weights, shape)
                if kind in ("solve", "solve_triangular"):
                    return Node(kind, (self.node((2, 2), sub), self.node(shape, sub)), None, shape)
                return Node(kind, (self.node((2, 2), sub),), None, shape)
            finally:
                self.kinds = saved
        if kind in ("trace", "diagonal"):
            child = draw(st.sampled_from(((2, 2), (2, 3), (3, 2))))
            return Node(kind, (self.node(child, sub),), None, shape)
        if kind == "outer":
            return Node(kind, (self.node(shape[:1], sub), self.node(shape[1:], sub)), None, shape)
        if kind == "norm":
            child = draw(st.sampled_from([s for s in SHAPES if s]))
            return Node(kind, (self.node(child, sub),), None, shape)
        raise AssertionError(kind)


def random_graphs(
    max_depth: int = 3,
    max_inputs: int = 3,
    kinds: tuple[str, ...] | None = None,
    shapes: tuple[tuple[int, ...], ...] = SHAPES,
) -> Any:
    """A hypothesis strategy of :class:`RandomGraph` (hypothesis is imported here).

    ``kinds`` restricts the node kinds (default: all whose ops exist, see
    ``ALL_KINDS``); ``max_depth`` bounds the nesting, ``max_inputs`` the number
    of distinct inputs (further leaves reuse them, so graphs fan out).
    Shrinking goes towards leaves and the first shapes of ``shapes``.
    """
    from hypothesis import strategies as st

    chosen = _available(tuple(kinds) if kinds is not None else ALL_KINDS)
    unknown = set(chosen) - set(_KINDS)
    if unknown:
        raise ValueError(f"random_graphs: unknown kinds {sorted(unknown)}; valid: {ALL_KINDS}")

    @st.composite
    def build(draw: Any) -> RandomGraph:
        builder = _Builder(draw, st, max_inputs, chosen)
        root = builder.node(draw(st.sampled_from(shapes)), max_depth, root=True)
        seed = draw(st.integers(0, 2**32 - 1))
        if not builder.shapes:  # a graph of constants only: give it an input
            builder.shapes.append(root.shape)
            root = Node("add", (root, Node("input", (), 0, root.shape)), None, root.shape)
        return RandomGraph(root, builder.shapes, seed)

    return build()
