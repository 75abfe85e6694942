"""Every op's ``source``: its expression, evaluated with ``xp = numpy``, is ``compute``.

``op.source(args, const)`` writes ``compute`` as one Python expression over the
array namespace ``xp`` (for compiled graphs). Here each op of adjoint, the
gradient-only ones included, is built with several attributes, its expression
is evaluated on seeded random inputs of several shapes and dtypes, edge values
included (0, -0, ±1, ±inf, NaN), and the result must equal ``compute``'s to the
bit (NaNs where compute has them), with the same dtype, shape and type (array
or NumPy scalar). The expression sees only ``xp``, its inputs and the names
``const`` gave: no builtins. Each case runs again with inputs that are
expressions rather than names, which catches a missing parenthesis.

Where jax is installed, the same expressions run under ``jax.jit`` on
``jax.numpy`` in float64 and must agree to 1e-12 relative.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import adjoint as ad
import adjoint.ops as ops
from adjoint.autograd import Op
from adjoint.ops.conv import im2col_by_slices
from adjoint.ops.indexing import _indexed_shape, normalize_index

# Ops without a source form: (module, class). None: even adjoint.functional's Jacobian,
# whose compute runs a traced graph of its own, has one (a kernel call, tests/compile).
EXPECTED_NONE: set[tuple[str, str]] = set()

FLOATS = ("float64", "float32")
NUMERIC = ("float64", "float32", "int64")
ALL = ("float64", "float32", "int64", "bool")
UNARY_FLOAT = ("float64", "float32", "float16", "int64", "bool")
EDGES = (0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan)
# On jax: XLA's functions differ from NumPy's at infinities ((-inf) ** 0.5 is inf, not NaN).
FINITE_EDGES = (0.0, -0.0, 1.0, -1.0)


def sample(
    shape: tuple[int, ...], dtype: str, rng: np.random.Generator, edges: tuple = EDGES
) -> np.ndarray:
    """Random values of ``dtype``; floats with ``edges`` at random places."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        low = 0 if dtype.kind == "u" else -4
        return rng.integers(low, 5, size=shape).astype(dtype)
    values = rng.normal(scale=2.0, size=shape).reshape(-1)
    for k in range(values.size):
        if rng.random() < 0.35:
            values[k] = edges[rng.integers(len(edges))]
    return values.reshape(shape).astype(dtype)


@dataclass
class Case:
    """An op, the input shapes to try it on, and the dtypes (one, or one per input)."""

    op: Op
    shapes: list[tuple[tuple[int, ...], ...]]
    dtypes: tuple = ALL
    # Draws one input: (shape, dtype, rng, position) -> array; ``sample`` by default.
    draw: Callable[..., np.ndarray] | None = None
    label: str = ""
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.label or repr(self.op)


def _scalar_attr(op: Op, value: Any) -> Op:
    """``op`` with its ``scalar`` set to ``value`` as it is (a NumPy scalar stays one)."""
    op.scalar = value
    return op


def _nonnegative(shape, dtype, rng, position, edges=EDGES):
    """Exponents for integer powers: NumPy refuses negative integer exponents."""
    x = sample(shape, dtype, rng, edges)
    return np.abs(x) if position == 1 and np.dtype(dtype).kind in "iu" else x


def _spd(shape, dtype, rng, position, edges=EDGES):
    """Input 0: finite symmetric positive definite matrices (a identity for bools); input 1
    (a right-hand side): any values."""
    dtype = np.dtype(dtype)
    if position == 1:
        return sample(shape, dtype, rng, FINITE_EDGES)
    n = shape[-1]
    if dtype.kind == "b":
        return np.broadcast_to(np.eye(n, dtype=bool), shape).copy()
    m = rng.integers(-2, 3, size=shape) if dtype.kind in "iu" else rng.normal(size=shape)
    return (m @ np.swapaxes(m, -1, -2) + n * np.eye(n, dtype=m.dtype)).astype(dtype)


SQUARE = [((2, 2),), ((3, 3, 3),), ((1, 1),)]
LINALG_UNARY = (
    ops.Inverse, ops.Det, ops.LogDet, ops.LogAbsDet, ops.DetSign, ops.Cholesky, ops.EighValues,
    ops.EighVectors,
)  # fmt: skip
E1 = [((),), ((3,),), ((2, 5),)]  # one input: 0-d, vector, matrix
E2 = [((), ()), ((4,), (4,)), ((2, 3), (2, 3))]
MIXED = (("float32", "float64"), ("int64", "float32"), ("bool", "int64"), ("float64", "int64"))

CASES: list[Case] = [
    Case(ops.EWiseAdd(), E2, ALL + MIXED),
    Case(ops.EWiseMul(), E2, ALL + MIXED),
    Case(ops.EWiseDiv(), E2, ALL + MIXED),
    Case(ops.EWisePow(), E2, NUMERIC + (("float32", "float64"),), _nonnegative),
    Case(ops.Maximum(), E2, ALL + MIXED),
    Case(ops.Minimum(), E2, ALL + MIXED),
    Case(ops.EqualMask(), E2, ALL + MIXED + (("float64", "float32"),)),
    Case(ops.ReLUBackward(), E2, ALL + MIXED),
    Case(ops.TanhBackward(), E2, NUMERIC + MIXED),
    Case(
        ops.Where(),
        [((), (), ()), ((5,), (5,), (5,)), ((2, 3), (2, 3), (2, 3))],
        (
            ("bool", "float64", "float64"),
            ("float64", "float32", "float32"),
            ("int64", "int64", "int64"),
            ("bool", "bool", "bool"),
            ("bool", "float32", "float64"),
        ),
    ),
    Case(ops.Negate(), E1, NUMERIC),
    Case(ops.Log(), E1, UNARY_FLOAT),
    Case(ops.Exp(), E1, UNARY_FLOAT),
    Case(ops.Sin(), E1, UNARY_FLOAT),
    Case(ops.Cos(), E1, UNARY_FLOAT),
    Case(ops.Tanh(), E1, UNARY_FLOAT),
    Case(ops.Sqrt(), E1, UNARY_FLOAT),
    Case(ops.Sigmoid(), E1, UNARY_FLOAT),
    Case(ops.Step(), E1, ALL + ("float16", "uint8")),
    Case(ops.ReLU(), E1, ALL + ("float16", "uint8")),
    Case(ops.Sign(), E1, ALL + ("float16", "uint8")),
    Case(ops.Abs(), E1, ALL + ("float16", "uint8")),
    *(
        Case(cls(c), E1, ALL)
        for cls in (ops.AddScalar, ops.MulScalar, ops.DivScalar)
        for c in (2.5, -1.5, 3, -2, 0.1, -0.0, 0.0, math.inf, -math.inf, math.nan, 1e300)
    ),
    Case(_scalar_attr(ops.AddScalar(1.0), np.float32(0.1)), E1, ALL, label="AddScalar(np.f32)"),
    Case(_scalar_attr(ops.MulScalar(1.0), np.float32(1.5)), E1, ALL, label="MulScalar(np.f32)"),
    Case(_scalar_attr(ops.AddScalar(1.0), -math.nan), E1, FLOATS, label="AddScalar(-nan)"),
    *(Case(ops.PowerScalar(c), E1, ALL) for c in (0, 1, 2, 3, 0.5, 2.2, -0.5)),
    *(Case(ops.PowerScalar(c), E1, FLOATS) for c in (-1, -2, -1.0, math.inf, math.nan)),
    *(
        Case(
            ops.ScalarPower(c),
            E1,
            UNARY_FLOAT + ("int32", "int16", "int8", "uint8"),
        )
        for c in (2.0, 2, 0.0, 0, -2.0, 0.5, 1e5, 100000, -3, math.inf, math.nan)
    ),
    *(
        Case(_scalar_attr(ops.ScalarPower(1.0), c), E1, UNARY_FLOAT + ("int8",), label=f"{c!r}**")
        for c in (np.float32(2.5), np.int8(3), np.float64(0.5))
    ),
    # ---- linear and shape ops
    Case(ops.Transpose(), [((2, 3),), ((2, 3, 4),)]),
    Case(ops.Transpose((0, 2)), [((2, 3, 4),)]),
    Case(ops.Transpose((-1, 0)), [((2, 3, 4),)]),
    Case(ops.Transpose([1, np.int64(0)]), [((2, 3),)], label="Transpose(list)"),
    Case(ops.Permute((1, 2, 0)), [((2, 3, 4),)]),
    Case(ops.Permute(()), [((),)]),
    Case(ops.Permute((np.int64(1), 0)), [((2, 3),)], label="Permute(np.int64)"),
    Case(ops.Reshape((6, 4)), [((2, 3, 4),)]),
    Case(ops.Reshape((-1,)), [((2, 3, 4),)]),
    Case(ops.Reshape(()), [((1, 1),)]),
    Case(ops.BroadcastTo((2, 3, 4)), [((3, 1),), ((4,),), ((),)]),
    *(
        Case(ops.Summation(axes, keepdims), [((2, 3, 4),)], ALL + ("int8", "float16"))
        for axes, keepdims in [
            (None, False),
            (None, True),
            ((0,), False),
            ((0, 2), True),
            (1, False),
            ((-1,), False),
            ((), False),
        ]
    ),
    *(
        Case(cls(axes, keepdims), [((2, 3, 4),)], ALL)
        for cls in (ops.Max, ops.Min)
        for axes, keepdims in [
            (None, False),
            (None, True),
            ((1,), False),
            ((0, 2), True),
            (2, False),
        ]
    ),
    Case(ops.LogSoftmax(), [((2, 5),), ((3, 1),), ((2, 3, 4),)], ALL + ("float16", "int8")),
    Case(ops.MatMul(), [((2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 1), (1, 1))], ALL),
    Case(ops.MatMul(), [((2, 3), (3, 4))], MIXED[:2]),
    Case(ops.Stack(0), [((3,), (3,)), ((), (), ())]),
    Case(ops.Stack(1), [((2, 3), (2, 3), (2, 3))]),
    Case(ops.Stack(-1), [((2, 3), (2, 3))]),
    Case(ops.Concatenate(0), [((2, 3), (1, 3)), ((3,), (2,), (1,))]),
    Case(ops.Concatenate(1), [((2, 3), (2, 1))], ALL + (("float32", "float64"),)),
    # ---- more of NumPy (issue 20)
    Case(ops.Log1p(), E1, UNARY_FLOAT),
    Case(ops.Expm1(), E1, UNARY_FLOAT),
    Case(ops.Softplus(), E1, UNARY_FLOAT),
    Case(ops.LogAddExp(), E2, ALL + MIXED),
    *(
        Case(cls(low, high), E1 if cls is ops.Clip else E2, ALL + ("float16",))
        for cls in (ops.Clip, ops.ClipBackward)
        for low, high in [(-1, 1), (-0.5, None), (None, 2.5), (None, None), (1.5, -1.0)]
    ),
    Case(ops.Einsum("ij,jk->ik"), [((2, 3), (3, 4))], ALL + MIXED[:2]),
    Case(ops.Einsum("ii->"), [((3, 3),)]),
    Case(ops.Einsum("ii->i"), [((3, 3),)]),
    Case(ops.Einsum("i,j,k->kji"), [((2,), (3,), (1,))], ALL),
    Case(ops.Einsum("aij,ij->a"), [((2, 3, 4), (3, 4))], FLOATS),
    Case(ops.Pad(((1, 2), (0, 1)), 0), [((2, 3),)]),
    Case(ops.Pad(((1, 0),), 1.5), [((3,),)], FLOATS),
    Case(ops.Flip((1,)), [((2, 3),), ((2, 3, 4),)]),
    Case(ops.Flip((0, 2)), [((2, 3, 4),)]),
    Case(ops.Roll((1,), (0,)), [((3, 2),)]),
    Case(ops.Roll((-2, 1), (1, 0)), [((2, 3),)]),
    Case(ops.Roll((4,), None), [((2, 3),)]),
    Case(ops.Tile((2, 1, 3)), [((2, 3),), ((4,),), ((),)]),
    Case(ops.Tile(()), [((2, 3),)]),
    Case(ops.Repeat(2, 0), [((3,),), ((2, 3),)]),
    Case(ops.Repeat((1, 0, 3), 1), [((2, 3),)]),
    Case(ops.Cumsum(0), [((4,),), ((2, 3),)], ALL + ("int8", "float16")),
    Case(ops.Cumsum(-1), [((2, 3),)], ALL),
    Case(ops.Cumprod(1), [((2, 3),)], ALL + ("int8", "float16")),
    Case(ops.Sort(0), [((5,),), ((3, 2),)]),
    Case(ops.Sort(1), [((3, 4),)]),
    Case(ops.Argsort(0), [((5,),), ((3, 2),)]),
    Case(ops.Argsort(1), [((3, 4),)]),
    # ---- linear algebra (issue 20): positive definite matrices, then any (edges included)
    Case(ops.Solve(), [((2, 2), (2, 3)), ((3, 2, 2), (3, 2, 1))], NUMERIC + MIXED[:2], _spd),
    *(Case(cls(), SQUARE, ALL, _spd) for cls in LINALG_UNARY),
    *(Case(cls(), [((3, 3),), ((2, 2, 2),)], FLOATS) for cls in (ops.Det, ops.LogAbsDet)),
    *(
        Case(ops.SolveTriangular(lower, unit), [((3, 3), (3, 2))], NUMERIC, _spd)
        for lower in (True, False)
        for unit in (False, True)
    ),
]


def _indices(shape, dtype, rng, position, edges=EDGES):
    """Values, then integer indices into axis 1 of size 3 (negatives too)."""
    if position == 1:
        return rng.integers(-3, 3, size=shape)
    return sample(shape, dtype, rng, edges)


CASES += [
    Case(ops.TakeAlongAxis(1), [((2, 3), (2, 4)), ((2, 3), (1, 2))], ALL, _indices),
    Case(ops.ScatterAddAlongAxis(1, (2, 3)), [((2, 4), (2, 4)), ((2, 2), (1, 2))], ALL, _indices),
]

INDEX_SHAPE = (4, 5, 3)
INDICES = [
    1,
    -1,
    (slice(None), 2),
    (slice(1, 3), slice(None, None, 2), None),
    (slice(None, None, -1), Ellipsis, 0),
    (Ellipsis, [0, 0, 2]),
    ([0, 3, 3], slice(None), [2, 1, 2]),
    ([[0], [3]], [1, 1]),
    (np.arange(20).reshape(4, 5) % 3 == 0,),
    (slice(None), np.array([True, False, True, True, False])),
    True,
    (),
    (None, 2, slice(-3, None), -2),
]
for index in INDICES:
    normalized = normalize_index(index, INDEX_SHAPE)
    CASES.append(Case(ops.GetItem(normalized), [(INDEX_SHAPE,)], label=f"GetItem[{index!r}]"))
    CASES.append(
        Case(
            ops.ScatterAdd(normalized, INDEX_SHAPE),
            [(_indexed_shape(INDEX_SHAPE, normalized),)],
            label=f"ScatterAdd[{index!r}]",
        )
    )
CASES.append(Case(ops.GetItem((slice(1, None, None),)), [((3, 2),)], label="GetItem[1:]"))
# A compiled graph computes in one namespace: the copy to a device is a copy there.
CASES.append(Case(ops.ToDevice(ad.cpu()), [((),), ((2, 3),)], ALL + ("float16",)))

for kernel, stride, padding in [((2, 2), 1, 0), ((3, 3), 2, 1), ((1, 2), 1, 0), ((3, 2), 3, 2)]:
    im2col = ops.Im2Col(kernel, stride, padding)
    image = (2, 3, 5, 6)
    CASES.append(Case(im2col, [(image,)]))
    CASES.append(Case(ops.Col2Im(image, kernel, stride, padding), [(im2col.infer_shape(image),)]))


# ------------------------------------------------------------------- machinery


class Consts:
    """A ``const`` that collects the hoisted values into a namespace, one name each."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        for name, held in self.namespace.items():
            if held is value:
                return name
        name = f"const{len(self.namespace)}"
        self.namespace[name] = value
        return name


def _source(op: Op, names: tuple[str, ...]) -> tuple[str | None, dict[str, Any]]:
    consts = Consts()
    return op.source(names, consts), consts.namespace


def _evaluate(expr: str, xp: Any, consts: dict, names: tuple[str, ...], arrays) -> Any:
    namespace = {"xp": xp, **consts, **{f"in{k}": a for k, a in enumerate(arrays)}}
    return eval(expr, {"__builtins__": {}}, namespace)


def _inputs(case: Case, shapes, dtypes, rng, edges) -> list[np.ndarray]:
    if isinstance(dtypes, str):
        dtypes = (dtypes,) * len(shapes)
    draw = case.draw or (
        lambda shape, dtype, rng, position, edges: sample(shape, dtype, rng, edges)
    )
    return [
        draw(shape, dtype, rng, k, edges) for k, (shape, dtype) in enumerate(zip(shapes, dtypes))
    ]


def _runs(case: Case, edges: tuple = EDGES):
    """Every (inputs) of a case that ``compute`` accepts, with compute's result."""
    rng = np.random.default_rng(len(str(case)) * 7919 + 17)
    for shapes in case.shapes:
        for dtypes in case.dtypes:
            arrays = _inputs(case, shapes, dtypes, rng, edges)
            with np.errstate(all="ignore"):
                try:
                    expected = case.op.compute(*[a.copy() for a in arrays])
                except (TypeError, ValueError):
                    continue  # not an input compute takes (a bool negated, int ** -1)
            yield arrays, expected


def assert_same(actual: Any, expected: Any, what: str) -> None:
    assert type(actual) is type(expected), f"{what}: type {type(actual)} != {type(expected)}"
    assert np.shape(actual) == np.shape(expected), f"{what}: shape"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    np.testing.assert_array_equal(actual, expected, err_msg=what, strict=True)
    if expected.dtype.kind == "f":  # to the bit: the signs of zeros too
        assert np.array_equal(np.signbit(actual), np.signbit(expected)), f"{what}: sign bits"


def _op_classes() -> list[type]:
    """Every op class of adjoint (its own compute), gradient-only ones included."""
    for module in pkgutil.walk_packages(ad.__path__, "adjoint."):
        if module.name.startswith("adjoint.__main__") or ".cli" in module.name:
            continue
        importlib.import_module(module.name)
    found, stack = set(), [Op]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return sorted(
        (c for c in found if c.__module__.startswith("adjoint.") and "compute" in vars(c)),
        key=lambda c: (c.__module__, c.__name__),
    )


def _has_source(cls: type) -> bool:
    """Whether ``cls`` has a source form of its own compute: a ``source`` method no further
    up than the class that defines its ``compute`` (a base's source is not for a subclass
    that computes differently), and not Op's default."""
    for base in cls.__mro__:
        if base is Op:
            return False
        if "source" in vars(base):
            return True
        if "compute" in vars(base):
            return False
    return False


# ----------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=str)
def test_source_is_compute_on_numpy(case):
    runs = 0
    for arrays, expected in _runs(case):
        names = tuple(f"in{k}" for k in range(len(arrays)))
        expr, consts = _source(case.op, names)
        assert expr is not None, f"{case}: no source"
        # The inputs as expressions, not names: the source must parenthesize them.
        wrapped = tuple(f"{n} if {n} is not None else {n}" for n in names)
        expr_wrapped, consts_wrapped = _source(case.op, wrapped)
        for source, held in ((expr, consts), (expr_wrapped, consts_wrapped)):
            with np.errstate(all="ignore"):
                actual = _evaluate(source, np, held, names, arrays)
            dtypes = ", ".join(str(a.dtype) for a in arrays)
            assert_same(actual, expected, f"{case} on {dtypes}: {source}")
        runs += 1
    assert runs, f"{case}: no input was accepted by compute"


def test_every_op_class_is_covered():
    covered = {type(case.op) for case in CASES}
    classes = [c for c in _op_classes() if c.__module__.startswith("adjoint.ops.")]
    missing = [c.__name__ for c in classes if c not in covered]
    assert not missing, f"ops without a source case: {missing}"


def test_the_ops_without_a_source_are_the_expected_ones():
    without = {(c.__module__, c.__name__) for c in _op_classes() if not _has_source(c)}
    assert without == EXPECTED_NONE
    for case in CASES:  # and no covered op's source declines
        names = tuple(f"x{k}" for k in range(len(case.shapes[0])))
        assert case.op.source(names, Consts()) is not None, str(case)


def test_source_reads_as_numpy():
    names = ("x", "y")
    consts = Consts()
    assert ops.EWiseAdd().source(names, consts) == "x + y"
    assert ops.AddScalar(-1.0).source(("x",), consts) == "x - 1.0"
    assert ops.PowerScalar(-2).source(("x",), consts) == "x ** (-2)"
    assert ops.TanhBackward().source(("g", "x * y"), consts) == "g * (1 - (x * y) * (x * y))"
    assert ops.Summation((0, 2), True).source(("x",), consts) == (
        "xp.sum(x, axis=(0, 2), keepdims=True)"
    )
    assert ops.Max().source(("x",), consts) == "xp.max(x)"
    index = normalize_index((slice(None), 1, None, slice(None, None, -1)), (2, 3, 4))
    assert ops.GetItem(index).source(("x",), consts) == "x[:, 1, None, ::-1]"
    assert ops.Reshape((2, -1)).source(("x",), consts) == "xp.reshape(x, (2, -1))"
    assert not consts.namespace  # nothing hoisted: all of it has a literal
    scatter = ops.ScatterAdd((slice(None), 1), (2, 3)).source(("g",), consts)
    assert scatter == "const0(xp, g, xp.s_[:, 1], (2, 3))"
    assert ops.ScatterAdd((1,), (2,)).source(("g",), consts) == "const0(xp, g, xp.s_[1,], (2,))"


def test_im2col_by_slices_is_compute():
    """The windows by slicing (the way of namespaces without sliding_window_view) on NumPy."""
    rng = np.random.default_rng(3)
    for kernel, stride, padding in [((2, 2), 1, 0), ((3, 3), 2, 1), ((3, 2), 3, 2)]:
        for dtype in ALL:
            a = sample((2, 3, 5, 6), dtype, rng)
            padded = np.pad(a, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            expected = ops.Im2Col(kernel, stride, padding).compute(a)
            assert_same(im2col_by_slices(np, padded, kernel, stride), expected, f"{kernel}")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_source_on_jax_in_float64(case):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        for arrays, expected in _runs(case, FINITE_EDGES):
            kinds = {a.dtype for a in arrays}
            if np.dtype(np.float64) not in kinds or not kinds <= {np.dtype(np.float64), bool}:
                continue  # float64 (and a bool condition)
            names = tuple(f"in{k}" for k in range(len(arrays)))
            expr, consts = _source(case.op, names)
            fn = jax.jit(lambda *xs, expr=expr, consts=consts: _evaluate(expr, jnp, consts, (), xs))
            actual = np.asarray(fn(*arrays))
            assert actual.shape == np.shape(expected), f"{case}: {expr}"
            np.testing.assert_allclose(
                actual, expected, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{case}: {expr}"
            )
    finally:
        jax.config.update("jax_enable_x64", previous)
