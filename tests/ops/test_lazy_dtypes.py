"""Lazy mode against eager mode, for every public op and every dtype: same dtypes, same values.

Lazy mode promises to change when values are computed, never what they are.
Each op of ``adjoint.ops.__all__`` is called (the table below says how, and a
test checks that it covers every op) on leaves of each dtype of ``DTYPES``,
three ways: the forward pass alone, ``backward`` with an adjoint of 0.5 (which
an integer dtype truncates to 0: a wrong dtype shows in the values), and
``ad.vjp`` with a cotangent of 0.5. Eager and lazy runs must agree on:

* the output's and the gradients' dtypes and values (NaN equal to NaN);
* or the error, where eager mode refuses a dtype: the same exception type and
  message (lazy mode may raise it when the node is recorded or when its data
  is realized);
* and, in lazy mode, every node recorded has, before it is computed, the shape
  and dtype that computing it gives.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd, inference, ops
from adjoint.ops.indexing import normalize_index

DTYPES = [np.bool_, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64]

# The data of the leaves: small integers, so that every dtype holds them (bool: nonzero).
# "any" has negative values and zeros; "pos" is for the ops whose integer versions refuse
# negatives (an integer power with a negative exponent).
_PATTERN = {"any": [2, -1, 0, 3, -2, 1], "pos": [1, 2, 3, 1, 2, 3]}


def _spec(shapes, fn, domains=None):
    return shapes, fn, domains or ["any"] * len(shapes)


def _pick(index):
    return lambda a: ops.GetItem(normalize_index(index, a.shape))(a)


#: How to call each op: name -> {variant: (input shapes, function of the leaves, domains)}.
CALLS = {
    # elementwise ops (classes take equal shapes; the functions broadcast)
    "EWiseAdd": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.EWiseAdd()(a, b))},
    "AddScalar": {
        "int": _spec([(2, 3)], lambda a: ops.AddScalar(2)(a)),
        "float": _spec([(2, 3)], lambda a: ops.AddScalar(1.5)(a)),
    },
    "EWiseMul": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.EWiseMul()(a, b))},
    "MulScalar": {
        "int": _spec([(2, 3)], lambda a: ops.MulScalar(3)(a)),
        "float": _spec([(2, 3)], lambda a: ops.MulScalar(0.5)(a)),
    },
    "EWiseDiv": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.EWiseDiv()(a, b), ["any", "pos"])},
    "DivScalar": {"": _spec([(2, 3)], lambda a: ops.DivScalar(2)(a))},
    "PowerScalar": {
        "2": _spec([(2, 3)], lambda a: ops.PowerScalar(2)(a)),
        "0.5": _spec([(2, 3)], lambda a: ops.PowerScalar(0.5)(a), ["pos"]),
        "-1": _spec([(2, 3)], lambda a: ops.PowerScalar(-1)(a), ["pos"]),
    },
    "EWisePow": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.EWisePow()(a, b), ["pos", "pos"])},
    "ScalarPower": {"": _spec([(2, 3)], lambda a: ops.ScalarPower(2.0)(a))},
    "Negate": {"": _spec([(2, 3)], lambda a: ops.Negate()(a))},
    "Log": {"": _spec([(2, 3)], lambda a: ops.Log()(a), ["pos"])},
    "Exp": {"": _spec([(2, 3)], lambda a: ops.Exp()(a))},
    "Sin": {"": _spec([(2, 3)], lambda a: ops.Sin()(a))},
    "Cos": {"": _spec([(2, 3)], lambda a: ops.Cos()(a))},
    "Step": {"": _spec([(2, 3)], lambda a: ops.Step()(a))},
    "ReLU": {"": _spec([(2, 3)], lambda a: ops.ReLU()(a))},
    "ReLUBackward": {"": _spec([(2, 3), (2, 3)], lambda g, a: ops.ReLUBackward()(g, a))},
    "Tanh": {"": _spec([(2, 3)], lambda a: ops.Tanh()(a))},
    "TanhBackward": {"": _spec([(2, 3), (2, 3)], lambda g, y: ops.TanhBackward()(g, y))},
    "Sigmoid": {"": _spec([(2, 3)], lambda a: ops.Sigmoid()(a))},
    "Sqrt": {"": _spec([(2, 3)], lambda a: ops.Sqrt()(a), ["pos"])},
    "Sign": {"": _spec([(2, 3)], lambda a: ops.Sign()(a))},
    "Abs": {"": _spec([(2, 3)], lambda a: ops.Abs()(a))},
    "EqualMask": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.EqualMask()(a, b))},
    "Maximum": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.Maximum()(a, b))},
    "Minimum": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.Minimum()(a, b))},
    "Where": {"": _spec([(2, 3)] * 3, lambda c, a, b: ops.Where()(c, a, b))},
    "add": {
        "tensors": _spec([(2, 3), (3,)], ops.add),
        "int": _spec([(2, 3)], lambda a: ops.add(a, 2)),
        "float": _spec([(2, 3)], lambda a: ops.add(a, 1.5)),
    },
    "add_scalar": {"": _spec([(2, 3)], lambda a: ops.add_scalar(a, 2))},
    "subtract": {
        "tensors": _spec([(2, 3), (3,)], ops.subtract),
        "scalar": _spec([(2, 3)], lambda a: ops.subtract(a, 1)),
        "from scalar": _spec([(2, 3)], lambda a: ops.subtract(1, a)),
    },
    "multiply": {
        "tensors": _spec([(2, 3), (3,)], ops.multiply),
        "float": _spec([(2, 3)], lambda a: ops.multiply(a, 0.5)),
    },
    "mul_scalar": {"": _spec([(2, 3)], lambda a: ops.mul_scalar(a, 3))},
    "divide": {
        "tensors": _spec([(2, 3), (3,)], ops.divide, ["any", "pos"]),
        "by scalar": _spec([(2, 3)], lambda a: ops.divide(a, 2)),
        "into scalar": _spec([(2, 3)], lambda a: ops.divide(1, a), ["pos"]),
    },
    "divide_scalar": {"": _spec([(2, 3)], lambda a: ops.divide_scalar(a, 4))},
    "power": {
        "tensors": _spec([(2, 3), (3,)], ops.power, ["pos", "pos"]),
        "square": _spec([(2, 3)], lambda a: ops.power(a, 2)),
        "of scalar": _spec([(2, 3)], lambda a: ops.power(2, a)),
    },
    "power_scalar": {"": _spec([(2, 3)], lambda a: ops.power_scalar(a, 3))},
    "scalar_power": {"": _spec([(2, 3)], lambda a: ops.scalar_power(3, a))},
    "negate": {"": _spec([(2, 3)], ops.negate)},
    "log": {"": _spec([(2, 3)], ops.log, ["pos"])},
    "exp": {"": _spec([(2, 3)], ops.exp)},
    "sin": {"": _spec([(2, 3)], ops.sin)},
    "cos": {"": _spec([(2, 3)], ops.cos)},
    "step": {"": _spec([(2, 3)], ops.step)},
    "relu": {"": _spec([(2, 3)], ops.relu)},
    "relu_backward": {"": _spec([(2, 3), (3,)], ops.relu_backward)},
    "tanh": {"": _spec([(2, 3)], ops.tanh)},
    "tanh_backward": {"": _spec([(2, 3), (2, 3)], ops.tanh_backward)},
    "sigmoid": {"": _spec([(2, 3)], ops.sigmoid)},
    "sqrt": {"": _spec([(2, 3)], ops.sqrt, ["pos"])},
    "sign": {"": _spec([(2, 3)], ops.sign)},
    "abs": {"": _spec([(2, 3)], ops.abs)},
    "equal_mask": {"": _spec([(2, 3), (3,)], ops.equal_mask)},
    "maximum": {
        "tensors": _spec([(2, 3), (3,)], ops.maximum),
        "scalar": _spec([(2, 3)], lambda a: ops.maximum(a, 1)),
    },
    "minimum": {
        "tensors": _spec([(2, 3), (3,)], ops.minimum),
        "scalar": _spec([(2, 3)], lambda a: ops.minimum(a, 0.5)),
    },
    "where": {
        "tensors": _spec([(2, 3), (2, 3), (3,)], ops.where),
        "scalar": _spec([(2, 3), (2, 3)], lambda c, a: ops.where(c, a, 0.0)),
    },
    # linear ops
    "Transpose": {"": _spec([(2, 3)], lambda a: ops.Transpose()(a))},
    "Permute": {"": _spec([(2, 3, 1)], lambda a: ops.Permute((2, 0, 1))(a))},
    "Reshape": {"": _spec([(2, 3)], lambda a: ops.Reshape((3, 2))(a))},
    "BroadcastTo": {"": _spec([(1, 3)], lambda a: ops.BroadcastTo((2, 3))(a))},
    "Summation": {"": _spec([(2, 3)], lambda a: ops.Summation((0,))(a))},
    "transpose": {"": _spec([(2, 3)], ops.transpose)},
    "permute": {"": _spec([(2, 3, 1)], lambda a: ops.permute(a, (1, 2, 0)))},
    "reshape": {"": _spec([(2, 3)], lambda a: ops.reshape(a, (6,)))},
    "broadcast_to": {"": _spec([(3,)], lambda a: ops.broadcast_to(a, (2, 3)))},
    "summation": {
        "all": _spec([(2, 3)], ops.summation),
        "axis": _spec([(2, 3)], lambda a: ops.summation(a, 1, keepdims=True)),
    },
    "sum": {"": _spec([(2, 3)], lambda a: ops.sum(a, 0))},
    "sum_to_shape": {"": _spec([(2, 3)], lambda a: ops.sum_to_shape(a, (1, 3)))},
    "MatMul": {"": _spec([(2, 3), (3, 2)], lambda a, b: ops.MatMul()(a, b))},
    "matmul": {
        "matrices": _spec([(2, 3), (3, 2)], ops.matmul),
        "vector": _spec([(2, 3), (3,)], ops.matmul),
    },
    # shape ops
    "Stack": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.Stack(1)(a, b))},
    "Concatenate": {"": _spec([(2, 3), (1, 3)], lambda a, b: ops.Concatenate(0)(a, b))},
    "stack": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.stack([a, b]))},
    "concatenate": {"": _spec([(2, 3), (2, 1)], lambda a, b: ops.concatenate([a, b], 1))},
    "split": {
        "points": _spec([(2, 3)], lambda a: ops.split(a, [1], axis=1)[1]),
        "unstack": _spec([(2, 3)], lambda a: ops.split(a)[0]),
    },
    "flatten": {"": _spec([(2, 3, 1)], ops.flatten)},
    "expand_dims": {"": _spec([(2, 3)], lambda a: ops.expand_dims(a, 1))},
    "squeeze": {"": _spec([(2, 1, 3)], ops.squeeze)},
    # reductions
    "Max": {"": _spec([(2, 3)], lambda a: ops.Max((1,))(a))},
    "Min": {"": _spec([(2, 3)], lambda a: ops.Min(None, True)(a))},
    "max": {"": _spec([(2, 3)], lambda a: ops.max(a, 0))},
    "min": {"": _spec([(2, 3)], ops.min)},
    "mean": {
        "all": _spec([(2, 3)], ops.mean),
        "axis": _spec([(2, 3)], lambda a: ops.mean(a, 1, keepdims=True)),
    },
    "logsumexp": {"": _spec([(2, 3)], lambda a: ops.logsumexp(a, 1))},
    "softmax": {"": _spec([(2, 3)], ops.softmax)},
    "log_softmax": {"": _spec([(2, 3)], ops.log_softmax)},
    "LogSoftmax": {"": _spec([(2, 3)], lambda a: ops.LogSoftmax()(a))},
    "logsoftmax": {"": _spec([(3, 2)], ops.logsoftmax)},
    # indexing
    "GetItem": {"": _spec([(2, 3)], _pick((1, slice(None, None, 2))))},
    "ScatterAdd": {
        "": _spec([(2,)], lambda g: ops.ScatterAdd(normalize_index([0, 0], (3,)), (3,))(g))
    },
    "getitem": {
        "basic": _spec([(2, 3)], lambda a: ops.getitem(a, (slice(None), 1))),
        "array": _spec([(2, 3)], lambda a: a[:, [2, 0, 2]]),
    },
    "scatter_add": {"": _spec([(2,)], lambda g: ops.scatter_add(g, [1, 1], (3,)))},
    # convolution and pooling
    "Im2Col": {"": _spec([(1, 2, 3, 3)], lambda x: ops.Im2Col((2, 2), 1, 0)(x))},
    "Col2Im": {
        "": _spec([(1, 2, 2, 2, 2, 2)], lambda c: ops.Col2Im((1, 2, 3, 3), (2, 2), 1, 0)(c))
    },
    "im2col": {"": _spec([(1, 2, 3, 3)], lambda x: ops.im2col(x, 2, padding=1))},
    "col2im": {"": _spec([(1, 2, 2, 2, 2, 2)], lambda c: ops.col2im(c, (1, 2, 3, 3), 2))},
    "conv2d": {"": _spec([(1, 2, 3, 3), (2, 2, 2, 1)], ops.conv2d)},
    "conv": {"": _spec([(1, 3, 3, 2), (2, 2, 2, 1)], lambda a, b: ops.conv(a, b, padding=1))},
    "avg_pool2d": {"": _spec([(1, 2, 4, 4)], lambda x: ops.avg_pool2d(x, 2))},
    "max_pool2d": {"": _spec([(1, 2, 4, 4)], lambda x: ops.max_pool2d(x, 2))},
    "global_avg_pool2d": {"": _spec([(1, 2, 2, 3)], ops.global_avg_pool2d)},
    # more of NumPy (issue 20)
    "Log1p": {"": _spec([(2, 3)], lambda a: ops.Log1p()(a), ["pos"])},
    "Expm1": {"": _spec([(2, 3)], lambda a: ops.Expm1()(a))},
    "LogAddExp": {"": _spec([(2, 3), (2, 3)], lambda a, b: ops.LogAddExp()(a, b))},
    "Softplus": {"": _spec([(2, 3)], lambda a: ops.Softplus()(a))},
    "Clip": {"": _spec([(2, 3)], lambda a: ops.Clip(-1, 2)(a))},
    "ClipBackward": {"": _spec([(2, 3), (2, 3)], lambda g, a: ops.ClipBackward(0, None)(g, a))},
    "log1p": {"": _spec([(2, 3)], ops.log1p, ["pos"])},
    "expm1": {"": _spec([(2, 3)], ops.expm1)},
    "logaddexp": {
        "tensors": _spec([(2, 3), (3,)], ops.logaddexp),
        "scalar": _spec([(2, 3)], lambda a: ops.logaddexp(a, 1)),
    },
    "softplus": {"": _spec([(2, 3)], ops.softplus)},
    "square": {"": _spec([(2, 3)], ops.square)},
    "reciprocal": {"": _spec([(2, 3)], ops.reciprocal, ["pos"])},
    "clip": {
        "both": _spec([(2, 3)], lambda a: ops.clip(a, -1, 2)),
        "float upper": _spec([(2, 3)], lambda a: ops.clip(a, None, 1.5)),
    },
    "Einsum": {"": _spec([(2, 3), (3, 2)], lambda a, b: ops.Einsum("ij,jk->ik")(a, b))},
    "einsum": {
        "matmul": _spec([(2, 3), (3, 2)], lambda a, b: ops.einsum("ij,jk", a, b)),
        "trace": _spec([(3, 3)], lambda a: ops.einsum("ii", a)),
        "sum": _spec([(2, 3)], lambda a: ops.einsum("ij->j", a)),
    },
    "Pad": {"": _spec([(2, 3)], lambda a: ops.Pad(((1, 0), (0, 2)), 0)(a))},
    "Flip": {"": _spec([(2, 3)], lambda a: ops.Flip((1,))(a))},
    "Roll": {"": _spec([(2, 3)], lambda a: ops.Roll((1,), (1,))(a))},
    "Tile": {"": _spec([(2, 3)], lambda a: ops.Tile((2, 1))(a))},
    "Repeat": {"": _spec([(2, 3)], lambda a: ops.Repeat(2, 0)(a))},
    "pad": {"": _spec([(2, 3)], lambda a: ops.pad(a, 1))},
    "flip": {"": _spec([(2, 3)], ops.flip)},
    "roll": {"": _spec([(2, 3)], lambda a: ops.roll(a, -1, 0))},
    "tile": {"": _spec([(2, 3)], lambda a: ops.tile(a, (1, 2)))},
    "repeat": {
        "int": _spec([(2, 3)], lambda a: ops.repeat(a, 2, 1)),
        "counts": _spec([(2, 3)], lambda a: ops.repeat(a, [1, 0, 2], 1)),
    },
    "Cumsum": {"": _spec([(2, 3)], lambda a: ops.Cumsum(1)(a))},
    "Cumprod": {"": _spec([(2, 3)], lambda a: ops.Cumprod(1)(a))},
    "Sort": {"": _spec([(2, 3)], lambda a: ops.Sort(0)(a))},
    "Argsort": {"": _spec([(2, 3)], lambda a: ops.Argsort(1)(a))},
    "cumsum": {"": _spec([(2, 3)], lambda a: ops.cumsum(a, 0))},
    "cumprod": {"": _spec([(2, 3)], ops.cumprod)},
    "sort": {"": _spec([(2, 3)], ops.sort)},
    "argsort": {"": _spec([(2, 3)], lambda a: ops.argsort(a, 0))},
    "var": {"": _spec([(2, 3)], lambda a: ops.var(a, 1, ddof=1))},
    "std": {"": _spec([(2, 3)], ops.std)},
    "TakeAlongAxis": {
        "": _spec([(2, 3)], lambda a: ops.TakeAlongAxis(1)(a, ad.Tensor(np.array([[2], [0]]))))
    },
    "ScatterAddAlongAxis": {
        "": _spec(
            [(2, 1)],
            lambda g: ops.ScatterAddAlongAxis(1, (2, 3))(g, ad.Tensor(np.array([[2], [0]]))),
        )
    },
    "take_along_axis": {"": _spec([(2, 3)], lambda a: ops.take_along_axis(a, ops.argsort(a), 1))},
    # linear algebra (issue 20): the 2 x 2 leaves are [[2, -1], [0, 3]], invertible, with a
    # positive definite symmetric part (bools: [[1, 1], [0, 1]])
    "Solve": {"": _spec([(2, 2), (2, 1)], lambda a, b: ops.Solve()(a, b))},
    "Inverse": {"": _spec([(2, 2)], lambda a: ops.Inverse()(a))},
    "Det": {"": _spec([(2, 2)], lambda a: ops.Det()(a))},
    "LogDet": {"": _spec([(2, 2)], lambda a: ops.LogDet()(a))},
    "LogAbsDet": {"": _spec([(2, 2)], lambda a: ops.LogAbsDet()(a))},
    "DetSign": {"": _spec([(2, 2)], lambda a: ops.DetSign()(a))},
    "Cholesky": {"": _spec([(2, 2)], lambda a: ops.Cholesky()(a))},
    "SolveTriangular": {
        "": _spec([(2, 2), (2, 1)], lambda a, b: ops.SolveTriangular(False, True)(a, b))
    },
    "EighValues": {"": _spec([(2, 2)], lambda a: ops.EighValues()(a))},
    "EighVectors": {"": _spec([(2, 2)], lambda a: ops.EighVectors()(a))},
    "trace": {"": _spec([(2, 3)], ops.trace), "batch": _spec([(2, 3, 2)], ad.linalg.trace)},
    "diagonal": {"": _spec([(2, 3)], lambda a: ops.diagonal(a, 1))},
    "diag": {"vector": _spec([(3,)], ops.diag), "matrix": _spec([(2, 3)], ops.diag)},
    "outer": {"": _spec([(2,), (3,)], ops.outer)},
    "ToDevice": {"": _spec([(2, 3)], lambda a: ops.ToDevice(ad.cpu())(a))},
    "to_device": {
        "there and back": _spec(
            [(2, 3)], lambda a: ops.to_device(ops.to_device(a, _other_device()), ad.cpu())
        )
    },
}


def _other_device():
    """array_api_strict's device where it is installed (the dev extra), else the CPU."""
    try:
        import array_api_strict
    except ImportError:
        return ad.cpu()
    return ad.device.namespace_device(array_api_strict)


#: Public names that are not ops one calls: the bases that op classes derive from.
NOT_CALLED = {
    "ElementwiseOp": "base class of the elementwise ops",
    "ScalarOp": "base class of the tensor-and-number ops",
    "UnaryFloatOp": "base class of exp, log, sin, ...",
}

CASES = [
    pytest.param(name, variant, id=f"{name}-{variant}" if variant else name)
    for name, variants in CALLS.items()
    for variant in variants
]


def test_the_table_covers_every_public_op():
    assert set(CALLS).isdisjoint(NOT_CALLED)
    assert set(CALLS) | set(NOT_CALLED) == set(ops.__all__)


def _leaf_data(shape, dtype, domain):
    size = int(np.prod(shape, dtype=np.int64))
    pattern = _PATTERN[domain]
    values = np.resize(np.asarray(pattern), size).reshape(shape)
    if np.dtype(dtype).kind == "f":
        values = values + 0.25 * np.sign(values)  # no ties with integers, no kinks moved
    return values.astype(dtype)


def _describe(error):
    return ("error", type(error), str(error))


def _run(fn, arrays, lazy, how):
    """(outcome, wrongly inferred nodes)."""
    leaves = [ad.Tensor(a) for a in arrays]
    wrong = []
    with np.errstate(all="ignore"), ad.lazy_mode(lazy):
        try:
            out = fn(*leaves)
            recorded = (out.shape, out.dtype)
            if how == "backward":
                out.backward(np.full(out.shape, 0.5))
                grads = [x.grad for x in leaves]
            elif how == "vjp":
                out, pullback = ad.vjp(fn, *leaves)
                recorded = (out.shape, out.dtype)
                grads = list(pullback(np.full(out.shape, 0.5)))
            else:
                grads = []
            nodes = autograd.find_topo_sort([out, *[g for g in grads if g is not None]])
            inferred = {id(n): (n.shape, n.dtype) for n in nodes if n.cached_data is None}
            results = [out.numpy(), *[None if g is None else g.numpy() for g in grads]]
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            return _describe(error), wrong
        for node in nodes:
            data = node.cached_data
            computed = (data.shape, ad.device.host_dtype(data.dtype))  # NumPy's, any device
            if id(node) in inferred and inferred[id(node)] != computed:
                wrong.append((node.op, inferred[id(node)], computed))
        if lazy and recorded != (results[0].shape, results[0].dtype):
            wrong.append(("output", recorded, (results[0].shape, results[0].dtype)))
    return ("ok", [None if r is None else (r.dtype, r) for r in results]), wrong


def _assert_same(eager, lazy):
    assert eager[0] == lazy[0], (eager, lazy)
    if eager[0] == "error":
        assert eager == lazy
        return
    assert len(eager[1]) == len(lazy[1])
    for want, got in zip(eager[1], lazy[1]):
        if want is None or got is None:
            assert want is got
            continue
        assert want[0] == got[0], (want, got)  # the dtype
        np.testing.assert_array_equal(got[1], want[1], strict=True)


@pytest.mark.parametrize("how", ["forward", "backward", "vjp"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, variant", CASES)
def test_lazy_agrees_with_eager(name, variant, dtype, how):
    shapes, fn, domains = CALLS[name][variant]
    arrays = [_leaf_data(s, dtype, d) for s, d in zip(shapes, domains)]
    eager, _ = _run(fn, arrays, False, how)
    lazy, wrong = _run(fn, arrays, True, how)
    assert not wrong, wrong
    _assert_same(eager, lazy)


def test_the_issue_example_true_division_of_integers():
    """Issue 17: ``x / 2`` of an int64 tensor was int64 before it was computed, and the
    adjoint 0.5 given to backward became 0."""
    with ad.lazy_mode():
        x = ad.Tensor(np.array([1, 2]))
        y = x / 2
        assert y.cached_data is None and y.dtype == np.float64
        y.backward([0.5, 0.5])
    np.testing.assert_array_equal(x.grad.numpy(), [0.25, 0.25])
    assert x.grad.dtype == np.float64


class _NoBools(ops.ElementwiseOp):
    """An op of the user's that refuses bool inputs in ``compute``, as NumPy's ufuncs do."""

    def compute(self, a):
        if a.dtype == np.bool_:
            raise TypeError("NoBools: bool inputs are not supported")
        return a * 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: _NoBools()(ad.Tensor(np.array([True, False]))),
        lambda: -ad.Tensor(np.array([True, False])),
        lambda: ad.Tensor(np.array([1], np.int8)) + 1000,  # NumPy: out of bounds for int8
    ],
    ids=["op of the user's", "negate bool", "int8 + 1000"],
)
def test_a_dtype_eager_mode_refuses_is_refused_when_the_node_is_recorded(make):
    with pytest.raises(Exception) as eager:
        make()
    with ad.lazy_mode(), pytest.raises(eager.type) as lazy:
        make()
    assert str(lazy.value) == str(eager.value)


def test_float_nodes_share_their_metadata_and_run_nothing_to_infer_it(monkeypatch):
    """The float fast path: elementwise nodes of one float dtype never run ``compute``
    to find their dtype, and integer inputs run it once per op, dtype and attributes."""
    calls = []
    compute = ops.EWiseMul.compute

    def counted(self, a, b):
        calls.append(a.dtype)
        return compute(self, a, b)

    monkeypatch.setattr(ops.EWiseMul, "compute", counted)
    inference._dtype_cache.clear()
    with ad.lazy_mode():
        x = ad.Tensor(np.ones(3, np.float32))
        square = x * x
        assert calls == [] and (square * x)._meta is square._meta
        i = ad.Tensor(np.ones(3, np.int16))
        z = i * i * i * i
        assert z.dtype == np.int16 and calls == [np.int16]  # one run, then the cache
        b = ad.Tensor(np.ones(3, np.bool_))
        assert (i * b).dtype == np.int16 and (b * b).dtype == np.bool_
        assert len(calls) == 3


def test_the_dtype_cache_keeps_no_op_class_of_the_users_alive_and_stays_bounded(monkeypatch):
    class Halve(ops.ElementwiseOp):
        def compute(self, a):
            return a / 2

    with ad.lazy_mode():
        y = Halve()(ad.Tensor(np.array([1, 2], np.int8)))
        assert y.cached_data is None and y.dtype == np.float64
    cls = weakref.ref(Halve)
    del Halve, y
    gc.collect()  # a class is in reference cycles of its own
    assert cls() is None

    monkeypatch.setattr(inference, "_DTYPE_CACHE_SIZE", 8)
    inference._dtype_cache.clear()
    with ad.lazy_mode():
        x = ad.Tensor(np.array([1, 2], np.int16))
        for k in range(20):
            assert (x + k).dtype == np.int16 and (x * (k + 0.5)).dtype == np.float64
    assert len(inference._dtype_cache) == 8
