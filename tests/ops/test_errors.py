"""Bad arguments to the ops: each error names the op, the shapes or values involved and
what is valid, and reads the same in eager and lazy mode (validation happens in the
front end, when the node is made, not when it is computed).

Tables: every public op function with each class of bad operand (first and, for binary
ops, second) and with its own bad arguments; then :mod:`adjoint.ops.linear`'s functions
and op classes called directly (each bad operand, then each one's own arguments).
Classes of bad argument: a wrong type, a non-integer where an integer is needed (bools
are not ints), out of range, a wrong shape, empty, and a wrong dtype (bool, int,
complex, object, str). A coverage test checks that the tables name every public
function of the op modules, and that nothing raises NumPy's or Python's own error
instead of adjoint's. Hand-written cases follow: indexing, axes, shapes, matmul,
broadcasting, sum_to_shape and the op classes called directly.
"""

import importlib

import numpy as np
import pytest

import adjoint as ad
from adjoint.ops import BroadcastTo, Permute, Reshape, Summation, Transpose
from tests.helpers.errors import S, V
from tests.helpers.errors import check as _check
from tests.helpers.errors import table as _table

linear = importlib.import_module("adjoint.ops.linear")  # ad.ops.linear is not the module


def X():  # noqa: N802 - a valid operand of shape (2, 3)
    return ad.Tensor(np.ones((2, 3)))


def IMG():  # noqa: N802 - a valid NCHW image batch
    return ad.Tensor(np.ones((1, 2, 4, 4)))


def W():  # noqa: N802 - a valid conv2d weight for IMG: (KH, KW, C_in, C_out)
    return ad.Tensor(np.ones((2, 2, 2, 3)))


def INTS():  # noqa: N802
    return ad.Tensor(np.array([1, 2, 3]))


def BOOLS():  # noqa: N802
    return ad.Tensor(np.array([True, False, True]))


# ------------------------------------------------------------- bad operands
# Each public function called with ``a`` in one operand slot, the others valid.

FIRST_OPERAND = {
    "add": lambda a: ad.add(a, X()),
    "add_scalar": lambda a: ad.add_scalar(a, 1.0),
    "subtract": lambda a: ad.subtract(a, X()),
    "multiply": lambda a: ad.multiply(a, X()),
    "mul_scalar": lambda a: ad.mul_scalar(a, 2.0),
    "divide": lambda a: ad.divide(a, X()),
    "divide_scalar": lambda a: ad.divide_scalar(a, 2.0),
    "power": lambda a: ad.power(a, X()),
    "power_scalar": lambda a: ad.power_scalar(a, 2),
    "scalar_power": lambda a: ad.scalar_power(2.0, a),
    "negate": lambda a: ad.negate(a),
    "log": lambda a: ad.log(a),
    "exp": lambda a: ad.exp(a),
    "sin": lambda a: ad.sin(a),
    "cos": lambda a: ad.cos(a),
    "step": lambda a: ad.step(a),
    "relu": lambda a: ad.relu(a),
    "relu_backward": lambda a: ad.relu_backward(a, X()),
    "tanh": lambda a: ad.tanh(a),
    "tanh_backward": lambda a: ad.tanh_backward(a, X()),
    "sigmoid": lambda a: ad.sigmoid(a),
    "sqrt": lambda a: ad.sqrt(a),
    "sign": lambda a: ad.sign(a),
    "abs": lambda a: ad.abs(a),
    "equal_mask": lambda a: ad.equal_mask(a, X()),
    "maximum": lambda a: ad.maximum(a, X()),
    "minimum": lambda a: ad.minimum(a, X()),
    "where": lambda a: ad.where(a, X(), X()),
    "matmul": lambda a: ad.matmul(a, X()),
    "getitem": lambda a: ad.getitem(a, 0),
    "scatter_add": lambda a: ad.scatter_add(a, [0, 1], (3,)),
    "stack": lambda a: ad.stack([a, X()]),
    "concatenate": lambda a: ad.concatenate([a, X()]),
    "split": lambda a: ad.split(a, axis=0),
    "flatten": lambda a: ad.flatten(a),
    "expand_dims": lambda a: ad.expand_dims(a, 0),
    "squeeze": lambda a: ad.squeeze(a),
    "max": lambda a: ad.max(a),
    "min": lambda a: ad.min(a),
    "mean": lambda a: ad.mean(a),
    "logsumexp": lambda a: ad.logsumexp(a),
    "softmax": lambda a: ad.softmax(a),
    "log_softmax": lambda a: ad.log_softmax(a),
    "logsoftmax": lambda a: ad.logsoftmax(a),
    "im2col": lambda a: ad.im2col(a, 2),
    "col2im": lambda a: ad.col2im(a, (1, 1, 3, 3), 2),
    "conv2d": lambda a: ad.conv2d(a, W()),
    "conv": lambda a: ad.conv(a, W()),
    "avg_pool2d": lambda a: ad.avg_pool2d(a, 2),
    "max_pool2d": lambda a: ad.max_pool2d(a, 2),
    "global_avg_pool2d": lambda a: ad.global_avg_pool2d(a),
    "log1p": lambda a: ad.log1p(a),
    "expm1": lambda a: ad.expm1(a),
    "logaddexp": lambda a: ad.logaddexp(a, X()),
    "softplus": lambda a: ad.softplus(a),
    "square": lambda a: ad.square(a),
    "reciprocal": lambda a: ad.reciprocal(a),
    "clip": lambda a: ad.clip(a, 0, 1),
    "pad": lambda a: ad.pad(a, 1),
    "flip": lambda a: ad.flip(a),
    "roll": lambda a: ad.roll(a, 1),
    "tile": lambda a: ad.tile(a, 2),
    "repeat": lambda a: ad.repeat(a, 2),
    "cumsum": lambda a: ad.cumsum(a),
    "cumprod": lambda a: ad.cumprod(a),
    "sort": lambda a: ad.sort(a, None),
    "argsort": lambda a: ad.argsort(a, None),
    "var": lambda a: ad.var(a),
    "std": lambda a: ad.std(a),
    "take_along_axis": lambda a: ad.take_along_axis(a, np.zeros((1, 1), np.int64), 0),
    "einsum": lambda a: ad.einsum("...", a),
}

SECOND_OPERAND = {
    "add": lambda b: ad.add(X(), b),
    "subtract": lambda b: ad.subtract(X(), b),
    "multiply": lambda b: ad.multiply(X(), b),
    "divide": lambda b: ad.divide(X(), b),
    "power": lambda b: ad.power(X(), b),
    "relu_backward": lambda b: ad.relu_backward(X(), b),
    "tanh_backward": lambda b: ad.tanh_backward(X(), b),
    "equal_mask": lambda b: ad.equal_mask(X(), b),
    "maximum": lambda b: ad.maximum(X(), b),
    "minimum": lambda b: ad.minimum(X(), b),
    "where": lambda b: ad.where(X() > 0, X(), b),
    "matmul": lambda b: ad.matmul(X(), b),
    "conv2d": lambda b: ad.conv2d(IMG(), b),
    "conv": lambda b: ad.conv(ad.Tensor(np.ones((1, 4, 4, 2))), b),
    "logaddexp": lambda b: ad.logaddexp(X(), b),
}

# (label, the bad operand, exception, fragment after "<op>: ")
BAD_OPERANDS = [
    ("None", lambda: None, TypeError, r"cannot use an operand of type NoneType; give a Tensor"),
    ("dict", lambda: {"a": 1}, TypeError, r"cannot use an operand of type dict"),
    ("object", lambda: object(), TypeError, r"cannot use an operand of type object"),
    ("str", lambda: "abc", TypeError, r"cannot use an operand of type str"),
    ("str array", lambda: np.array(["a", "b"]), TypeError, r"data of dtype <U1 is not supported"),
    ("complex array", lambda: np.array([1j]), TypeError, r"data of dtype complex128 is not sup"),
    # a Python number goes to an op's scalar slot (named by its class, e.g. AddScalar) or
    # becomes a tensor operand (named by the function): either way "complex" is refused
    ("complex", lambda: 1 + 2j, TypeError, r"complex"),
    (
        "object array",
        lambda: np.array([1.0, None], dtype=object),
        TypeError,
        r"data of dtype object is not supported",
    ),
    (
        "ragged list",
        lambda: [[1.0], [2.0, 3.0]],
        ValueError,
        r"data is ragged \(nested sequences of different lengths\)",
    ),
]


def _first_cases():
    for name, call in FIRST_OPERAND.items():
        for label, bad, exc, fragment in BAD_OPERANDS:
            yield pytest.param(name, call, bad, exc, fragment, id=f"{name}-{label}")


def _second_cases():
    for name, call in SECOND_OPERAND.items():
        for label, bad, exc, fragment in BAD_OPERANDS:
            yield pytest.param(name, call, bad, exc, fragment, id=f"{name}-{label}")


def _raises(exc, name, fragment, call, *args):
    """``call(*args)`` raises ``exc`` whose message starts with ``name: `` and has ``fragment``."""
    with pytest.raises(exc, match=rf"^{name}: .*{fragment}"):
        call(*args)


def _operand_name(name, bad):
    return r"\w+" if isinstance(bad, complex) else name


@pytest.mark.parametrize("name, call, bad, exc, fragment", list(_first_cases()))
def test_bad_first_operand(mode, name, call, bad, exc, fragment):
    bad = bad()
    _raises(exc, _operand_name(name, bad), fragment, call, bad)


@pytest.mark.parametrize("name, call, bad, exc, fragment", list(_second_cases()))
def test_bad_second_operand(mode, name, call, bad, exc, fragment):
    bad = bad()
    _raises(exc, _operand_name(name, bad), fragment, call, bad)


# ------------------------------------------------------------- each op's arguments
# (op, class of bad argument, call, exception, fragment after "<op>: ")

_T = TypeError
_V = ValueError
_I = IndexError

ARGUMENTS = [
    # ---- scalar operands (named by the op's class, which holds the scalar)
    ("AddScalar", "wrong type", lambda: ad.add_scalar(X(), "a"), _T, r"the scalar operand must"),
    ("AddScalar", "bool", lambda: ad.add_scalar(X(), True), _T, r".* real number, got bool"),
    ("AddScalar", "complex", lambda: ad.add_scalar(X(), 1j), _T, r".* real number, got complex"),
    ("MulScalar", "wrong shape", lambda: ad.mul_scalar(X(), np.ones(2)), _V, r".* one element"),
    ("DivScalar", "wrong type", lambda: ad.divide_scalar(X(), [1, 2]), _T, r".*got list"),
    ("DivScalar", "empty", lambda: ad.divide_scalar(X(), np.ones(0)), _V, r".* one element"),
    ("PowerScalar", "str", lambda: ad.power_scalar(X(), "2"), _T, r".* real number, got str"),
    ("ScalarPower", "wrong type", lambda: ad.scalar_power(None, X()), _T, r".*got NoneType"),
    ("ScalarPower", "bool", lambda: ad.scalar_power(True, X()), _T, r".* real number, got bool"),
    # ---- dtypes NumPy refuses
    ("negate", "bool", lambda: ad.negate(BOOLS()), _T, r"a bool tensor has no negative"),
    ("negate", "bool operator", lambda: -BOOLS(), _T, r"a bool tensor has no negative"),
    ("subtract", "bool", lambda: ad.subtract(INTS(), BOOLS()), _T, r"a bool tensor has no neg"),
    ("subtract", "bool rsub", lambda: 1 - BOOLS(), _T, r"a bool tensor has no negative"),
    ("power", "int ** -1", lambda: INTS() ** -1, _V, r"integers to negative integer powers"),
    ("power", "bool ** -2", lambda: BOOLS() ** -2, _V, r"integers to negative integer powers"),
    ("power_scalar", "int", lambda: ad.power_scalar(INTS(), -3), _V, r"integers to negative"),
    # ---- shapes that do not broadcast
    ("add", "wrong shape", lambda: X() + ad.Tensor(np.ones(2)), _V, r"shapes \(2, 3\) and \(2,"),
    ("subtract", "wrong shape", lambda: X() - np.ones((3, 3)), _V, r"shapes \(2, 3\) and \(3"),
    ("multiply", "wrong shape", lambda: X() * np.ones(4), _V, r"shapes .* do not broadcast"),
    ("divide", "wrong shape", lambda: X() / np.ones((2, 2)), _V, r"shapes .* do not broadcast"),
    ("power", "wrong shape", lambda: X() ** np.ones(2), _V, r"shapes .* do not broadcast"),
    ("maximum", "wrong shape", lambda: ad.maximum(X(), np.ones(2)), _V, r"shapes .* do not"),
    ("minimum", "wrong shape", lambda: ad.minimum(X(), np.ones(2)), _V, r"shapes .* do not"),
    ("equal_mask", "wrong shape", lambda: ad.equal_mask(X(), np.ones(2)), _V, r"shapes .* not"),
    ("relu_backward", "wrong shape", lambda: ad.relu_backward(X(), np.ones(2)), _V, r"shapes"),
    ("tanh_backward", "wrong shape", lambda: ad.tanh_backward(X(), np.ones(2)), _V, r"shapes"),
    ("where", "wrong shape", lambda: ad.where(np.ones(2), X(), X()), _V, r"condition of shape"),
    ("EWiseMul", "class, unequal shapes", lambda: ad.ops.EWiseMul()(X(), INTS()), _V, r"inputs"),
    ("EWiseAdd", "class, unequal shapes", lambda: ad.ops.EWiseAdd()(X(), X()[0]), _V, r"inputs"),
    # ---- matmul
    ("matmul", "0-d", lambda: ad.matmul(ad.Tensor(2.0), X()), _V, r"at least 1 dimension"),
    ("matmul", "wrong shape", lambda: X() @ X(), _V, r"shapes \(2, 3\) and \(2, 3\) do not align"),
    ("matmul", "batch", lambda: ad.Tensor(np.ones((2, 2, 3))) @ np.ones((3, 3, 2)), _V, r"batch"),
    ("MatMul", "class, 1-D", lambda: ad.ops.MatMul()(INTS(), X()), _V, r"operands of shapes"),
    # ---- indexing
    ("getitem", "wrong type", lambda: X()["a"], _I, r"'a' of type str is not valid"),
    ("getitem", "non-integer", lambda: X()[1.5], _I, r"1.5 of type float is not valid"),
    ("getitem", "non-integer slice", lambda: X()[0.5:], _I, r"slice .* non-integer bound"),
    ("getitem", "zero step", lambda: X()[::0], _I, r"slice .* has step 0"),
    ("getitem", "out of range", lambda: X()[2], _I, r"index 2 is out of range for axis 0"),
    ("getitem", "out of range array", lambda: X()[:, [0, 3]], _I, r"index 3 is out of range"),
    ("getitem", "too many", lambda: X()[0, 0, 0], _I, r"too many indices for shape \(2, 3\)"),
    ("getitem", "two ellipses", lambda: X()[..., ...], _I, r"a single Ellipsis"),
    ("getitem", "mask shape", lambda: X()[np.array([True])], _I, r"boolean mask of shape \(1,\)"),
    ("getitem", "empty axis", lambda: ad.Tensor(np.ones((0, 2)))[0], _I, r"the axis is empty"),
    ("getitem", "arrays mismatch", lambda: X()[[0, 1], [0, 1, 2]], _I, r"not valid for shape"),
    ("getitem", "ragged list", lambda: X()[[[0, 1], [0]]], _I, r"index list .* is ragged"),
    ("getitem", "float", lambda: X()[np.array([0.0])], _I, r"index array of dtype float64"),
    ("getitem", "float Tensor", lambda: X()[ad.Tensor([0, 1])], _I, r"dtype float64 .*int64"),
    ("getitem", "complex", lambda: X()[np.array([1j])], _I, r"index array of dtype complex128"),
    ("getitem", "object", lambda: X()[np.array([0, None])], _I, r"index array of dtype object"),
    ("getitem", "str array", lambda: X()[np.array(["0"])], _I, r"index array of dtype <U1"),
    ("getitem", "None entry list", lambda: X()[[0, None]], _I, r"index array of dtype object"),
    ("scatter_add", "non-integer", lambda: ad.scatter_add(X(), 0, (2.5, 3)), _T, r"each size"),
    ("scatter_add", "negative", lambda: ad.scatter_add(X(), 0, (-1, 3)), _V, r"invalid shape"),
    ("scatter_add", "wrong type", lambda: ad.scatter_add(X(), 0, None), _T, r"shape must be"),
    ("scatter_add", "wrong shape", lambda: ad.scatter_add(X(), 0, (3, 3)), _V, r"do not fit"),
    ("scatter_add", "out of range", lambda: ad.scatter_add(X(), 5, (2, 3)), _I, r"index 5 is"),
    # ---- shape ops
    ("stack", "wrong type", lambda: ad.stack(X()), _T, r"give a list or tuple of tensors"),
    ("stack", "empty", lambda: ad.stack([]), _V, r"needs at least one tensor"),
    ("stack", "wrong shape", lambda: ad.stack([X(), INTS()]), _V, r"the same shape"),
    ("stack", "non-integer", lambda: ad.stack([X()], axis=0.0), _T, r"axis must be an int, got"),
    ("stack", "bool axis", lambda: ad.stack([X()], axis=False), _T, r"axis must be an int"),
    ("stack", "out of range", lambda: ad.stack([X()], axis=3), _V, r"axis 3 is out of range"),
    ("concatenate", "wrong type", lambda: ad.concatenate(None), _T, r"give a list or tuple"),
    ("concatenate", "empty", lambda: ad.concatenate(()), _V, r"needs at least one tensor"),
    ("concatenate", "0-d", lambda: ad.concatenate([ad.Tensor(1.0)]), _V, r"0-d tensors"),
    ("concatenate", "wrong shape", lambda: ad.concatenate([X(), INTS()]), _V, r"must agree"),
    ("concatenate", "non-integer", lambda: ad.concatenate([X()], axis="0"), _T, r"axis must"),
    ("concatenate", "out of range", lambda: ad.concatenate([X()], 2), _V, r"axis 2 is out of"),
    ("split", "0-d", lambda: ad.split(ad.Tensor(1.0)), _V, r"a 0-d tensor has no axis"),
    ("split", "non-integer point", lambda: ad.split(X(), [1.5]), _T, r"each split point must"),
    ("split", "bool sections", lambda: ad.split(X(), True), _T, r"indices_or_sections must"),
    ("split", "wrong type", lambda: ad.split(X(), "1"), _T, r"indices_or_sections must be"),
    ("split", "sections", lambda: ad.split(X(), 4, axis=1), _V, r"does not divide into 4 equal"),
    ("split", "zero sections", lambda: ad.split(X(), 0), _V, r"does not divide into 0"),
    ("split", "out of range", lambda: ad.split(X(), axis=-3), _V, r"axis -3 is out of range"),
    ("split", "non-integer axis", lambda: ad.split(X(), axis=1.0), _T, r"axis must be an int"),
    ("flatten", "non-integer", lambda: ad.flatten(X(), 0.5), _T, r"start_axis must be an int"),
    ("flatten", "non-integer end", lambda: ad.flatten(X(), 0, "1"), _T, r"end_axis must be"),
    ("flatten", "0-d non-integer", lambda: ad.flatten(ad.Tensor(1.0), 0.5), _T, r"start_axis"),
    ("flatten", "out of range", lambda: ad.flatten(X(), 2), _V, r"axis 2 is out of range"),
    ("flatten", "reversed", lambda: ad.flatten(X(), 1, 0), _V, r"comes after end_axis"),
    ("expand_dims", "non-integer", lambda: ad.expand_dims(X(), 1.5), _T, r"axis must be None"),
    ("expand_dims", "None", lambda: ad.expand_dims(X(), None), _T, r"axis must be an int or"),
    ("expand_dims", "str", lambda: ad.expand_dims(X(), "0"), _T, r"axis must be None, an int"),
    ("expand_dims", "out of range", lambda: ad.expand_dims(X(), 3), _V, r"axis 3 is out of"),
    ("expand_dims", "repeated", lambda: ad.expand_dims(X(), (0, 0)), _V, r"repeated axis"),
    ("squeeze", "not length 1", lambda: ad.squeeze(X(), 0), _V, r"cannot squeeze axis 0"),
    ("squeeze", "non-integer", lambda: ad.squeeze(X(), 0.0), _T, r"axis must be None, an int"),
    ("squeeze", "out of range", lambda: ad.squeeze(X(), 5), _V, r"axis 5 is out of range"),
    # ---- reductions (and the keepdims flag)
    *[
        row
        for name in ("max", "min", "mean", "logsumexp", "softmax", "log_softmax")
        for row in [
            (name, "non-integer", lambda n=name: getattr(ad, n)(X(), 1.5), _T, r"axes must be"),
            (name, "str axes", lambda n=name: getattr(ad, n)(X(), "0"), _T, r"axes must be"),
            (name, "bool axes", lambda n=name: getattr(ad, n)(X(), True), _T, r"axes must be"),
            (name, "Tensor axes", lambda n=name: getattr(ad, n)(X(), ad.Tensor(0)), _T, r"axes"),
            (name, "out of range", lambda n=name: getattr(ad, n)(X(), 2), _V, r"axis 2 is out"),
            (name, "repeated", lambda n=name: getattr(ad, n)(X(), (0, -2)), _V, r"repeated axis"),
        ]
    ],
    *[
        (name, "empty", lambda n=name: getattr(ad, n)(ad.Tensor(np.ones((0, 2))), 0), _V, r"size 0")
        for name in ("max", "min", "logsumexp", "softmax", "log_softmax")
    ],
    *[
        (name, "keepdims", lambda n=name: getattr(ad, n)(X(), 0, "no"), _T, r"keepdims must be a")
        for name in ("max", "min", "mean", "logsumexp")
    ],
    # ---- convolution and pooling
    ("conv2d", "wrong shape", lambda: ad.conv2d(X(), W()), _V, r"expected an NCHW image batch"),
    ("conv2d", "weight shape", lambda: ad.conv2d(IMG(), X()), _V, r"weight must have shape \(KH"),
    ("conv2d", "channels", lambda: ad.conv2d(IMG(), np.ones((2, 2, 3, 1))), _V, r"expects 3 in"),
    ("conv2d", "empty kernel", lambda: ad.conv2d(IMG(), np.ones((0, 0, 2, 1))), _V, r"0 x 0 ker"),
    ("conv2d", "kernel too large", lambda: ad.conv2d(IMG(), np.ones((5, 5, 2, 1))), _V, r"larger"),
    ("conv2d", "bool stride", lambda: ad.conv2d(IMG(), W(), stride=True), _T, r"stride must be"),
    ("conv2d", "float stride", lambda: ad.conv2d(IMG(), W(), 1.5), _T, r"stride must be an int"),
    ("conv2d", "zero stride", lambda: ad.conv2d(IMG(), W(), 0), _V, r"stride must be a positive"),
    ("conv2d", "str padding", lambda: ad.conv2d(IMG(), W(), 1, "1"), _T, r"padding must be an"),
    ("conv2d", "negative padding", lambda: ad.conv2d(IMG(), W(), 1, -1), _V, r"non-negative int"),
    ("conv", "wrong shape", lambda: ad.conv(X(), W()), _V, r"expected an NHWC batch of 4"),
    ("im2col", "zero kernel", lambda: ad.im2col(IMG(), 0), _V, r"kernel_size must be a positive"),
    ("im2col", "float kernel", lambda: ad.im2col(IMG(), 2.5), _T, r"kernel_size must be a pos"),
    ("im2col", "float in pair", lambda: ad.im2col(IMG(), (2, 2.0)), _T, r"kernel_size must be an"),
    ("im2col", "triple", lambda: ad.im2col(IMG(), (2, 2, 2)), _V, r"kernel_size must be a pos"),
    ("im2col", "bool stride", lambda: ad.im2col(IMG(), 2, True), _T, r"stride must be an int"),
    ("im2col", "wrong shape", lambda: ad.im2col(X(), 2), _V, r"expected an NCHW image batch"),
    ("col2im", "shape", lambda: ad.col2im(np.ones((1, 2, 2, 2, 2, 1)), (1, 3, 3), 2), _V, r"NCHW"),
    ("col2im", "float shape", lambda: ad.col2im(X(), (1, 1, 3.0, 3), 2), _T, r"each size in"),
    ("col2im", "rows", lambda: ad.col2im(np.ones((1, 2, 2)), (1, 1, 3, 3), 2), _V, r"rows of sh"),
    ("avg_pool2d", "float stride", lambda: ad.avg_pool2d(IMG(), 2, 2.0), _T, r"stride must"),
    ("avg_pool2d", "zero kernel", lambda: ad.avg_pool2d(IMG(), (0, 2)), _V, r"kernel_size must"),
    ("max_pool2d", "str kernel", lambda: ad.max_pool2d(IMG(), "2"), _T, r"kernel_size must be"),
    ("max_pool2d", "negative padding", lambda: ad.max_pool2d(IMG(), 2, 2, -1), _V, r"padding"),
    ("max_pool2d", "kernel too large", lambda: ad.max_pool2d(IMG(), 5), _V, r"is larger than"),
    ("global_avg_pool2d", "wrong shape", lambda: ad.global_avg_pool2d(X()), _V, r"NCHW image"),
    # ---- more of NumPy (issue 20)
    ("logaddexp", "wrong shape", lambda: ad.logaddexp(X(), np.ones(2)), _V, r"shapes .* not"),
    ("clip", "tensor bound", lambda: ad.clip(X(), X(), None), _T, r"a_min must be a number"),
    ("clip", "bool bound", lambda: ad.clip(X(), None, True), _T, r"real number, got bool"),
    ("pad", "negative", lambda: ad.pad(X(), -1), _V, r"pad widths must be non-negative"),
    ("pad", "wrong shape", lambda: ad.pad(X(), [[1, 1]] * 3), _V, r"does not fit a tensor"),
    ("pad", "non-integer", lambda: ad.pad(X(), 0.5), _T, r"pad_width must be an int"),
    ("pad", "mode", lambda: ad.pad(X(), 1, "edge"), _V, r"mode 'edge' is not supported"),
    ("pad", "str value", lambda: ad.pad(X(), 1, constant_values="0"), _T, r"real number"),
    ("flip", "out of range", lambda: ad.flip(X(), 2), _V, r"axis 2 is out of range"),
    ("flip", "non-integer", lambda: ad.flip(X(), 0.5), _T, r"axis must be None, an int"),
    ("roll", "non-integer", lambda: ad.roll(X(), 0.5), _T, r"shift must be an int"),
    ("roll", "lengths", lambda: ad.roll(X(), (1, 2, 3), (0, 1)), _V, r"the same length"),
    ("roll", "axis None", lambda: ad.roll(X(), (1, 2)), _V, r"with axis None, shift must"),
    ("roll", "out of range", lambda: ad.roll(X(), 1, 3), _V, r"axis 3 is out of range"),
    ("tile", "negative", lambda: ad.tile(X(), (2, -1)), _V, r"reps must be non-negative"),
    ("tile", "non-integer", lambda: ad.tile(X(), 1.5), _T, r"each count in reps must be"),
    ("repeat", "negative", lambda: ad.repeat(X(), -2, 0), _V, r"must be non-negative"),
    ("repeat", "counts", lambda: ad.repeat(X(), [1, 2], 1), _V, r"2 counts for axis 1 of size 3"),
    ("repeat", "non-integer", lambda: ad.repeat(X(), 1.5), _T, r"repeats must be an int"),
    ("repeat", "out of range", lambda: ad.repeat(X(), 2, 2), _V, r"axis 2 is out of range"),
    *[
        row
        for name in ("cumsum", "cumprod", "sort", "argsort")
        for row in [
            (name, "out of range", lambda n=name: getattr(ad, n)(X(), 2), _V, r"axis 2 is out"),
            (name, "non-integer", lambda n=name: getattr(ad, n)(X(), 0.5), _T, r"axis must be"),
            (name, "0-d", lambda n=name: getattr(ad, n)(ad.Tensor(1.0), 0), _V, r"0-d tensor"),
        ]
    ],
    *[
        row
        for name in ("var", "std")
        for row in [
            (name, "ddof", lambda n=name: getattr(ad, n)(X(), 1, ddof=3), _V, r"ddof 3 must be"),
            (name, "bool ddof", lambda n=name: getattr(ad, n)(X(), ddof=True), _T, r"got bool"),
            (name, "out of range", lambda n=name: getattr(ad, n)(X(), 2), _V, r"axis 2 is out"),
            (name, "keepdims", lambda n=name: getattr(ad, n)(X(), 0, 0, "no"), _T, r"keepdims"),
            (name, "empty", lambda n=name: getattr(ad, n)(ad.Tensor(np.ones(0))), _V, r"ddof 0"),
        ]
    ],
    ("einsum", "operands", lambda: ad.einsum("ij,jk", X()), _V, r"name 2 operand\(s\) but 1"),
    ("einsum", "sizes", lambda: ad.einsum("ij,ij", X(), X().T), _V, r"axis 'i' has size 2"),
    ("einsum", "wrong type", lambda: ad.einsum(None, X()), _T, r"subscripts must be a string"),
    ("einsum", "character", lambda: ad.einsum("i j!", X()), _V, r"hold '!'"),
    ("einsum", "output", lambda: ad.einsum("ij->iz", X()), _V, r"output subscript 'z'"),
    ("einsum", "repeated output", lambda: ad.einsum("ij->ii", X()), _V, r"repeat a letter"),
    ("einsum", "axes", lambda: ad.einsum("i", X()), _V, r"name 1 axes but the operand has 2"),
    ("take_along_axis", "float", lambda: ad.take_along_axis(X(), X(), 0), _I, r"dtype float64"),
    (
        "take_along_axis",
        "out of range",
        lambda: ad.take_along_axis(X(), np.array([[3]]), 1),
        _I,
        r"out of range for axis 1 of size 3",
    ),
    (
        "take_along_axis",
        "wrong shape",
        lambda: ad.take_along_axis(X(), np.zeros((3, 1), np.int64), 1),
        _V,
        r"outside axis 1 each size must",
    ),
]


@pytest.mark.parametrize(
    "name, kind, call, exc, fragment",
    ARGUMENTS,
    ids=[f"{row[0]}-{row[1]}" for row in ARGUMENTS],
)
def test_bad_argument(mode, name, kind, call, exc, fragment):
    _raises(exc, name, fragment, call)


# ------------------------------------------------ bool and integer operands are valid
# Every op takes bool and integer tensors (NumPy's promotions decide the result's
# dtype) except where NumPy refuses the operation: those are the rows above.

VALID_FIRST = {
    **{name: IMG for name in ("im2col", "conv2d", "avg_pool2d", "max_pool2d")},
    "global_avg_pool2d": IMG,
    "conv": lambda: ad.Tensor(np.ones((1, 4, 4, 2))),
    "col2im": lambda: ad.Tensor(np.ones((1, 2, 2, 2, 2, 1))),
    "scatter_add": lambda: ad.Tensor(np.ones(2)),
    "matmul": lambda: ad.Tensor(np.ones((2, 2))),
}
VALID_SECOND = {"matmul": lambda: ad.Tensor(np.ones((3, 2))), "conv2d": W, "conv": W}
REFUSED = {("first", "negate", "bool"), ("second", "subtract", "bool")}


def _dtype_cases():
    for slot, calls, valid in (
        ("first", FIRST_OPERAND, VALID_FIRST),
        ("second", SECOND_OPERAND, VALID_SECOND),
    ):
        for name, call in calls.items():
            for dtype in ("bool", "int8", "int64"):
                yield pytest.param(
                    slot, name, call, valid.get(name, X), dtype, id=f"{slot}-{name}-{dtype}"
                )


@pytest.mark.parametrize("slot, name, call, valid, dtype", list(_dtype_cases()))
def test_bool_and_integer_operands(mode, slot, name, call, valid, dtype):
    operand = ad.Tensor(valid().numpy().astype(dtype))
    if (slot, name, dtype) in REFUSED:
        _raises(TypeError, name, "a bool tensor has no negative", call, operand)
        return
    with np.errstate(all="ignore"):
        out = call(operand)
        for y in out if isinstance(out, tuple) else (out,):
            recorded = (y.shape, y.dtype)  # inferred in lazy mode
            assert recorded == (y.numpy().shape, y.numpy().dtype)


# ======================================================= adjoint.ops.linear
# Each function and op class with each bad operand (the ops table's classes of
# bad operand), then each one's own arguments.

LINEAR_OPERAND = {
    "transpose": lambda a: ad.transpose(a),
    "permute": lambda a: ad.permute(a, (1, 0)),
    "reshape": lambda a: ad.reshape(a, (-1,)),
    "broadcast_to": lambda a: ad.broadcast_to(a, (2, 2, 3)),
    "summation": lambda a: ad.summation(a, 0),
    "sum": lambda a: ad.sum(a),
    "sum_to_shape": lambda a: ad.sum_to_shape(a, (3,)),
    "Transpose": lambda a: Transpose()(a),
    "Permute": lambda a: Permute((1, 0))(a),
    "Reshape": lambda a: Reshape((6,))(a),
    "BroadcastTo": lambda a: BroadcastTo((2, 2, 3))(a),
    "Summation": lambda a: Summation((0,))(a),
}
#: the name each one's messages start with (ad.sum is summation)
LINEAR_PREFIX = {"sum": "summation"}


def _operand_cases():
    for subject, call in LINEAR_OPERAND.items():
        for label, bad, exc, fragment in BAD_OPERANDS:
            # a complex number is refused as data, named by the function
            yield pytest.param(subject, call, bad, exc, fragment, id=f"{subject}-{label}")


@pytest.mark.parametrize("subject, call, bad, exc, fragment", list(_operand_cases()))
def test_linear_ops_refuse_bad_operands(mode, subject, call, bad, exc, fragment):
    _check(lambda: call(bad()), exc, LINEAR_PREFIX.get(subject, subject), fragment)


def _float_axes():
    return np.array([0.0, 1.0])


def _sum(name, *args):
    return getattr(ad, name)(*args)  # ad.summation or its alias ad.sum


LINEAR = [
    # ---- transpose: two axes to swap, the last two by default
    ("transpose", "str", lambda: ad.transpose(X(), "01"), _T, "transpose", "None or two ints"),
    ("transpose", "array", lambda: ad.transpose(X(), np.array([0, 1])), _T, "transpose", "or two"),
    ("transpose", "non-integer", lambda: ad.transpose(X(), (0.0, 1)), _T, "transpose", "axes must"),
    ("transpose", "bool", lambda: ad.transpose(X(), (True, 0)), _T, "transpose", "bools, floats"),
    ("transpose", "three", lambda: ad.transpose(X(), (0, 1, 1)), _V, "transpose", "two axes"),
    ("transpose", "empty", lambda: ad.transpose(X(), ()), _V, "transpose", "two axes to swap"),
    ("transpose", "out of range", lambda: ad.transpose(X(), (0, 2)), _V, "transpose", "axis 2"),
    ("transpose", "repeated", lambda: ad.transpose(X(), (0, -2)), _V, "transpose", "repeated"),
    ("transpose", "1-D", lambda: ad.transpose(V()), _V, "transpose", r"at least 2 dim.*\(3,\)"),
    ("transpose", "0-d", lambda: ad.transpose(S(), (0, 0)), _V, "transpose", "0-d"),
    # ---- permute: a permutation of all axes
    ("permute", "None", lambda: ad.permute(X(), None), _T, "permute", "a tuple of ints"),
    ("permute", "int", lambda: ad.permute(X(), 0), _T, "permute", "a tuple of ints, got 0"),
    ("permute", "non-integer", lambda: ad.permute(X(), (0.5, 1)), _T, "permute", "each axis"),
    ("permute", "whole float", lambda: ad.permute(X(), (1.0, 0)), _T, "permute", "must be an int"),
    ("permute", "bool", lambda: ad.permute(X(), (True, False)), _T, "permute", "of type bool"),
    ("permute", "str", lambda: ad.permute(X(), "10"), _T, "permute", "a tuple of ints"),
    ("permute", "short", lambda: ad.permute(X(), (0,)), _V, "permute", "not a permutation"),
    ("permute", "empty", lambda: ad.permute(X(), ()), _V, "permute", r"give each of 0\.\.1 once"),
    ("permute", "out of range", lambda: ad.permute(X(), (0, 2)), _V, "permute", "not a permut"),
    ("permute", "repeated", lambda: ad.permute(X(), (1, -1)), _V, "permute", "not a permutation"),
    ("permute", "0-d", lambda: ad.permute(S(), (0,)), _V, "permute", r"give \(\) for a 0-d"),
    # ---- reshape: non-negative ints, one -1, the same size
    ("reshape", "None", lambda: ad.reshape(X(), None), _T, "reshape", "an int or a tuple of"),
    ("reshape", "non-integer", lambda: ad.reshape(X(), (2.5, 2)), _T, "reshape", "got 2.5"),
    ("reshape", "whole float", lambda: ad.reshape(X(), (2.0, 3)), _T, "reshape", "each size"),
    ("reshape", "float array", lambda: ad.reshape(X(), _float_axes()), _T, "reshape", "float64"),
    ("reshape", "str", lambda: ad.reshape(X(), "6"), _T, "reshape", "got '6' of type str"),
    ("reshape", "bool", lambda: ad.reshape(X(), (True, 6)), _T, "reshape", "of type bool"),
    ("reshape", "2-D array", lambda: ad.reshape(X(), np.array([[2, 3]])), _T, "reshape", "ndarray"),
    ("reshape", "negative", lambda: ad.reshape(X(), (-2, 3)), _V, "reshape", "non-negative"),
    ("reshape", "two -1", lambda: ad.reshape(X(), (-1, -1)), _V, "reshape", "at most one -1"),
    ("reshape", "wrong size", lambda: ad.reshape(X(), 4), _V, "reshape", r"\(6 elements\)"),
    ("reshape", "empty", lambda: ad.reshape(X(), ()), _V, "reshape", r"into \(\) \(1 elem"),
    ("reshape", "-1 with 0", lambda: ad.reshape(X(), (0, -1)), _V, "reshape", "cannot reshape"),
    # ---- broadcast_to: NumPy's rules
    ("broadcast_to", "None", lambda: ad.broadcast_to(X(), None), _T, "broadcast_to", "tuple"),
    ("broadcast_to", "float", lambda: ad.broadcast_to(X(), (2.0, 3)), _T, "broadcast_to", "int"),
    ("broadcast_to", "bool", lambda: ad.broadcast_to(X(), (True, 3)), _T, "broadcast_to", "bool"),
    ("broadcast_to", "str", lambda: ad.broadcast_to(X(), "23"), _T, "broadcast_to", "of type str"),
    ("broadcast_to", "negative", lambda: ad.broadcast_to(X(), (-1, 3)), _V, "broadcast_to", "non"),
    ("broadcast_to", "fewer", lambda: ad.broadcast_to(X(), (3,)), _V, "broadcast_to", "cannot"),
    ("broadcast_to", "shape", lambda: ad.broadcast_to(X(), (4, 3)), _V, "broadcast_to", "or be 1"),
    ("broadcast_to", "empty", lambda: ad.broadcast_to(X(), ()), _V, "broadcast_to", r"to \(\)"),
    # ---- summation (ad.sum): axes and keepdims
    *[
        row
        for n in ("summation", "sum")
        for row in [
            (n, "non-integer", lambda n=n: _sum(n, X(), 1.5), _T, "summation", "axes must be"),
            (n, "str", lambda n=n: _sum(n, X(), "0"), _T, "summation", "axes must be"),
            (n, "bool", lambda n=n: _sum(n, X(), True), _T, "summation", "bools"),
            (n, "array", lambda n=n: _sum(n, X(), _float_axes()), _T, "summation", "tuple of"),
            (n, "out of range", lambda n=n: _sum(n, X(), 2), _V, "summation", "axis 2 is out"),
            (n, "repeated", lambda n=n: _sum(n, X(), (0, -2)), _V, "summation", "repeated axis"),
            (n, "0-d", lambda n=n: _sum(n, S(), 0), _V, "summation", "none .*0-d"),
            (n, "keepdims str", lambda n=n: _sum(n, X(), 0, "no"), _T, "summation", "keepdims"),
            (n, "keepdims None", lambda n=n: _sum(n, X(), 0, None), _T, "summation", "a bool"),
            (n, "keepdims float", lambda n=n: _sum(n, X(), 0, 0.5), _T, "summation", "got 0.5"),
        ]
    ],
    # ---- sum_to_shape: a target that broadcasts to the input
    ("sum_to_shape", "None", lambda: ad.sum_to_shape(X(), None), _T, "sum_to_shape", "tuple of"),
    ("sum_to_shape", "float", lambda: ad.sum_to_shape(X(), (2.5,)), _T, "sum_to_shape", "int"),
    ("sum_to_shape", "bool", lambda: ad.sum_to_shape(X(), True), _T, "sum_to_shape", "got True"),
    ("sum_to_shape", "str", lambda: ad.sum_to_shape(X(), "3"), _T, "sum_to_shape", "got '3'"),
    ("sum_to_shape", "neg", lambda: ad.sum_to_shape(X(), (-1, 3)), _V, "sum_to_shape", "non-neg"),
    ("sum_to_shape", "ndim", lambda: ad.sum_to_shape(X(), (1, 2, 3)), _V, "sum_to_shape", "most 2"),
    ("sum_to_shape", "shape", lambda: ad.sum_to_shape(X(), (2,)), _V, "sum_to_shape", "broadcast"),
    # ---- the op classes called directly check as the functions do, naming the class
    ("Transpose", "out of range", lambda: Transpose((0, 5))(X()), _V, "Transpose", "axis 5 is out"),
    ("Transpose", "non-integer", lambda: Transpose((0.0, 1))(X()), _T, "Transpose", "axes must be"),
    ("Transpose", "wrong type", lambda: Transpose("01")(X()), _T, "Transpose", "two ints to swap"),
    ("Transpose", "three", lambda: Transpose((0, 1, 2))(X()), _V, "Transpose", "two axes to swap"),
    ("Transpose", "1-D", lambda: Transpose()(V()), _V, "Transpose", "at least 2 dimensions"),
    ("Transpose", "two inputs", lambda: Transpose()(X(), X()), _T, "Transpose", "one input tensor"),
    ("Permute", "None", lambda: Permute(None), _T, "Permute", "axes must be a tuple of ints"),
    ("Permute", "short", lambda: Permute((0,))(X()), _V, "Permute", "not a permutation"),
    ("Permute", "non-integer", lambda: Permute((0.5, 1))(X()), _T, "Permute", "each axis must"),
    ("Permute", "out of range", lambda: Permute((0, 2))(X()), _V, "Permute", "not a permutation"),
    ("Reshape", "wrong size", lambda: Reshape((4,))(X()), _V, "Reshape", "the sizes must match"),
    ("Reshape", "None", lambda: Reshape(None), _T, "Reshape", "an int or a tuple of ints"),
    ("Reshape", "negative", lambda: Reshape((-2, 3))(X()), _V, "Reshape", "non-negative sizes"),
    ("Reshape", "non-integer", lambda: Reshape((2.5, 2))(X()), _T, "Reshape", "got 2.5"),
    ("Reshape", "no input", lambda: Reshape((6,))(), _T, "Reshape", "one input tensor, got 0"),
    ("BroadcastTo", "wrong shape", lambda: BroadcastTo((4, 3))(X()), _V, "BroadcastTo", "cannot"),
    ("BroadcastTo", "negative", lambda: BroadcastTo((-1, 3))(X()), _V, "BroadcastTo", "non-neg"),
    ("BroadcastTo", "str", lambda: BroadcastTo("23")(X()), _T, "BroadcastTo", "each size"),
    ("Summation", "out of range", lambda: Summation((5,))(X()), _V, "Summation", "axis 5 is out"),
    ("Summation", "non-integer", lambda: Summation((1.5,))(X()), _T, "Summation", "axes must be"),
    ("Summation", "keepdims str", lambda: Summation(0, "no")(X()), _T, "Summation", "keepdims"),
]  # fmt: skip


@_table(LINEAR)
def test_linear_op_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda x: Summation((-1,))(x), (2,)),  # lazy mode recorded (2, 3)
        (lambda x: Summation(1)(x), (2,)),  # an int: lazy mode raised a raw TypeError
        (lambda x: Summation((1, 0), True)(x), (1, 1)),
        (lambda x: Reshape((-1,))(x), (6,)),  # lazy mode recorded (-1,)
        (lambda x: Reshape(np.array([3, 2]))(x), (3, 2)),
        (lambda x: Permute((-1, 0))(x), (3, 2)),
        (lambda x: Transpose((-1, -2))(x), (3, 2)),
        (lambda x: BroadcastTo([2, 2, 3])(x), (2, 2, 3)),
    ],
    ids=["Summation-negative", "Summation-int", "Summation-keepdims", "Reshape--1",
         "Reshape-array", "Permute-negative", "Transpose-negative", "BroadcastTo-list"],
)  # fmt: skip
def test_op_classes_called_directly_record_the_shape_they_compute(mode, call, shape):
    y = call(ad.Tensor(np.arange(6.0).reshape(2, 3)))
    assert y.shape == shape and y.numpy().shape == shape
    assert all(type(n) is int for n in y.shape)


def test_permute_called_directly_with_negative_axes_has_the_right_gradient(mode):
    x = ad.Tensor(np.arange(6.0).reshape(2, 3))
    w = ad.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=False)
    (Permute((-1, 0))(x) * w).sum().backward()  # argsort of (-1, 0) is no inverse
    assert x.grad.numpy().tolist() == w.numpy().T.tolist()


def test_an_op_class_called_with_checked_arguments_is_the_node_s_op(mode):
    for op in (Summation((0,)), Reshape((3, 2)), Permute((1, 0)), Transpose(), BroadcastTo((2, 3))):
        assert op(X()).op is op


# ------------------------------------------------------------- hand-written cases


def test_matmul_misaligned(mode):
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align \(3 != 4\)"
    ):
        ad.Tensor(np.ones((2, 3))) @ ad.Tensor(np.ones((4, 5)))


def test_binary_shapes_that_do_not_broadcast(mode):
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        ad.Tensor(np.ones((2, 3))) + ad.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"multiply: shapes \(3,\) and \(2,\)"):
        ad.Tensor(np.ones(3)) * np.ones(2)


def test_reshape_to_another_size(mode):
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape shape \(2, 3\) \(6 elements\) into \(4,\)"
    ):
        ad.Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape shape \(2, 3\) \(6 elements\) into \(-1, 4\)"
    ):
        ad.Tensor(np.ones((2, 3))).reshape(-1, 4)


def test_impossible_broadcast_to(mode):
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(3,\) to \(4,\)"):
        ad.broadcast_to(ad.Tensor(np.ones(3)), (4,))


def test_axes_out_of_range(mode):
    with pytest.raises(
        ValueError,
        match=r"summation: axis 2 is out of range .* 2 dimension\(s\); valid axes: \[-2, 1\]",
    ):
        ad.summation(ad.Tensor(np.ones((2, 3))), axes=2)
    with pytest.raises(ValueError, match=r"transpose: axis -4 is out of range"):
        ad.transpose(ad.Tensor(np.ones((2, 3))), (0, -4))
    with pytest.raises(ValueError, match=r"permute: axes \(0, 0\) are not a permutation"):
        ad.permute(ad.Tensor(np.ones((2, 3))), (0, 0))


@pytest.fixture
def x():
    return ad.Tensor(np.ones((3, 4)))


# ------------------------------------------------------------------ indexing


def test_integer_index_out_of_range(mode, x):
    with pytest.raises(
        IndexError,
        match=r"getitem: index 3 is out of range for axis 0 of size 3 \(shape \(3, 4\)\); "
        r"valid indices: \[-3, 2\]",
    ):
        x[3]
    with pytest.raises(
        IndexError, match=r"index -5 is out of range for axis 1 of size 4 .*\[-4, 3\]"
    ):
        x[0, -5]
    with pytest.raises(IndexError, match=r"index 9 is out of range for axis 1 of size 4"):
        x[..., [0, 9, 1]]
    with pytest.raises(IndexError, match=r"index 0 is out of range for axis 0 of size 0 .*empty"):
        ad.Tensor(np.ones((0, 2)))[0]


def test_boolean_mask_of_the_wrong_shape(mode, x):
    with pytest.raises(
        IndexError,
        match=r"getitem: boolean mask of shape \(2,\) does not match axes 0\.\.0 of shape \(3, 4\)",
    ):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match=r"boolean mask of shape \(3, 3\) does not match"):
        x[np.ones((3, 3), dtype=bool)]


def test_too_many_indices_and_two_ellipses(mode, x):
    with pytest.raises(
        IndexError, match=r"getitem: too many indices for shape \(3, 4\): .* uses 3 axes"
    ):
        x[0, 1, 2]
    with pytest.raises(IndexError, match=r"single Ellipsis"):
        x[..., 0, ...]


def test_invalid_index_types(mode, x):
    with pytest.raises(IndexError, match=r"getitem: 1.5 of type float is not valid; valid indices"):
        x[1.5]
    with pytest.raises(IndexError, match=r"getitem: index array of dtype float64 is not valid"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"slice .* has step 0"):
        x[::0]
    with pytest.raises(IndexError, match=r"non-integer bound 0.5"):
        x[0.5:]
    with pytest.raises(IndexError, match=r"getitem: 'a' of type str is not valid"):
        x["a"]


def test_index_arrays_that_do_not_broadcast(mode, x):
    with pytest.raises(
        IndexError, match=r"getitem: index .* is not valid for shape \(3, 4\): shape mismatch"
    ):
        x[[0, 1], [0, 1, 2]]


def test_scatter_add_values_of_the_wrong_shape(mode):
    with pytest.raises(
        ValueError,
        match=r"scatter_add: values of shape \(3,\) do not fit .* into shape \(4,\); "
        r"the values must have shape \(2,\)",
    ):
        ad.scatter_add(ad.Tensor(np.ones(3)), [0, 0], (4,))


# ---------------------------------------------------------------------- axes


@pytest.mark.parametrize("name", ["max", "min", "mean", "logsumexp", "softmax", "log_softmax"])
def test_reduction_axes_out_of_range(mode, x, name):
    fn = getattr(ad, name)
    with pytest.raises(
        ValueError,
        match=rf"{name}: axis 2 is out of range for a tensor with 2 dimension\(s\); "
        r"valid axes: \[-2, 1\]",
    ):
        fn(x, 2)
    with pytest.raises(ValueError, match=rf"{name}: repeated axis"):
        fn(x, (1, -1))


@pytest.mark.parametrize("name", ["max", "min", "logsumexp", "softmax", "log_softmax"])
def test_reductions_over_an_empty_axis(mode, name):
    with pytest.raises(
        ValueError, match=rf"{name}: cannot reduce over axis 0 of size 0 \(shape \(0, 2\)\)"
    ):
        getattr(ad, name)(ad.Tensor(np.ones((0, 2))), 0)


def test_shape_op_axes(mode, x):
    with pytest.raises(ValueError, match=r"stack: axis 3 is out of range .* valid axes: \[-3, 2\]"):
        ad.stack([x, x], axis=3)
    with pytest.raises(ValueError, match=r"concatenate: axis -3 is out of range"):
        ad.concatenate([x, x], axis=-3)
    with pytest.raises(ValueError, match=r"split: axis 2 is out of range"):
        ad.split(x, 2, axis=2)
    with pytest.raises(ValueError, match=r"expand_dims: axis 3 is out of range .* \[-3, 2\]"):
        ad.expand_dims(x, 3)
    with pytest.raises(ValueError, match=r"flatten: start_axis 1 comes after end_axis 0"):
        x.flatten(1, 0)
    with pytest.raises(
        ValueError, match=r"squeeze: cannot squeeze axis 1 of shape \(3, 4\): its size is 4, not 1"
    ):
        x.squeeze(1)


# -------------------------------------------------------------------- shapes


def test_stack_and_concatenate_shape_mismatch(mode, x):
    y = ad.Tensor(np.ones((3, 5)))
    with pytest.raises(
        ValueError,
        match=r"stack: all tensors must have the same shape, got \(3, 4\) at position 0 and "
        r"\(3, 5\) at position 1",
    ):
        ad.stack([x, y])
    with pytest.raises(
        ValueError,
        match=r"concatenate: shapes \(3, 4\) at position 0 and \(3, 5\) at position 1 must agree "
        r"on every axis except axis 0",
    ):
        ad.concatenate([x, y])
    ad.concatenate([x, y], axis=1)  # fine along the axis that differs
    with pytest.raises(ValueError, match=r"concatenate: 0-d tensors cannot be concatenated"):
        ad.concatenate([ad.Tensor(1.0), ad.Tensor(2.0)])
    with pytest.raises(ValueError, match=r"stack: needs at least one tensor"):
        ad.stack([])
    with pytest.raises(TypeError, match=r"concatenate: give a list or tuple of tensors"):
        ad.concatenate(x)


def test_split_into_unequal_sections(mode, x):
    with pytest.raises(
        ValueError,
        match=r"split: axis 1 of size 4 \(shape \(3, 4\)\) does not divide into 3 equal sections",
    ):
        ad.split(x, 3, axis=1)
    with pytest.raises(ValueError, match=r"split: a 0-d tensor has no axis to split"):
        ad.split(ad.Tensor(1.0), 1)


def test_elementwise_shapes_that_do_not_broadcast(mode, x):
    with pytest.raises(ValueError, match=r"maximum: shapes \(3, 4\) and \(3,\) do not broadcast"):
        ad.maximum(x, ad.Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"minimum: shapes \(3, 4\) and \(2, 4\) do not broadcast"):
        ad.minimum(x, np.ones((2, 4)))
    with pytest.raises(
        ValueError,
        match=r"where: condition of shape \(2,\) does not broadcast with operands of shape "
        r"\(3, 4\)",
    ):
        ad.where(np.array([True, False]), x, 0.0)
    with pytest.raises(ValueError, match=r"where: shapes \(3, 4\) and \(5,\) do not broadcast"):
        ad.where(True, x, np.ones(5))


# -------------------------------------------------------------- sum_to_shape

BAD_TARGETS = [  # (target, error, message) for an input of shape (2, 3)
    ((3, 2), ValueError, r"cannot sum shape \(2, 3\) to \(3, 2\): the target must broadcast"),
    ((2,), ValueError, r"cannot sum shape \(2, 3\) to \(2,\): the target must broadcast"),
    ((4, 3), ValueError, r"to \(4, 3\): the target must broadcast to \(2, 3\)"),
    ((0, 3), ValueError, r"to \(0, 3\): the target must broadcast"),
    ((2, 3, 1), ValueError, r"to \(2, 3, 1\): .* at most 2 dimension\(s\)"),
    ((1, 2, 3), ValueError, r"to \(1, 2, 3\): .* at most 2 dimension\(s\)"),
    (6, ValueError, r"cannot sum shape \(2, 3\) to \(6,\)"),
    ((-1, 3), ValueError, r"to \(-1, 3\): sizes must be non-negative"),
    ((2, -3), ValueError, r"to \(2, -3\): sizes must be non-negative"),
    (None, TypeError, r"target shape must be a tuple of ints, got None"),
    ("23", TypeError, r"target shape must be a tuple of ints, got '23'"),
    (2.0, TypeError, r"target shape must be a tuple of ints, got 2.0"),
    ((2.0, 3), TypeError, r"got \(2.0, 3\) \(summing a tensor of shape \(2, 3\)\)"),
    ((True, 3), TypeError, r"got \(True, 3\)"),
    ({2: 3}, TypeError, r"got \{2: 3\}"),
]


@pytest.mark.parametrize(
    ("target", "error", "message"), BAD_TARGETS, ids=[repr(t) for t, _, _ in BAD_TARGETS]
)
def test_sum_to_shape_refuses_targets_that_do_not_broadcast(mode, target, error, message):
    a = ad.Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(error, match=rf"^sum_to_shape: (.* )?{message}"):
        ad.sum_to_shape(a, target)


GOOD_TARGETS = [  # target, the sum NumPy gives for an input of shape (2, 3)
    ((2, 3), lambda a: a),
    ((1, 3), lambda a: a.sum(0, keepdims=True)),
    ((3,), lambda a: a.sum(0)),
    ((2, 1), lambda a: a.sum(1, keepdims=True)),
    ((1, 1), lambda a: a.sum(keepdims=True)),
    ((1,), lambda a: a.sum(keepdims=True)[0]),
    ((), lambda a: a.sum()),
    ([1, 3], lambda a: a.sum(0, keepdims=True)),
    (3, lambda a: a.sum(0)),
    ((np.int64(2), np.int64(1)), lambda a: a.sum(1, keepdims=True)),
]


@pytest.mark.parametrize(
    ("target", "expected"), GOOD_TARGETS, ids=[repr(t) for t, _ in GOOD_TARGETS]
)
def test_sum_to_shape_sums_over_broadcast_axes(mode, target, expected):
    data = np.arange(6.0).reshape(2, 3)
    a = ad.Tensor(data)
    out = ad.sum_to_shape(a, target)
    want = expected(data)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    if out.shape == a.shape:
        assert out is a
    # sum_to_shape is the adjoint of broadcast_to: <sum_to_shape(a), v> = <a, broadcast(v)>
    v = np.arange(1.0, 1.0 + want.size).reshape(want.shape)
    assert np.vdot(out.numpy(), v) == np.vdot(data, np.broadcast_to(v, data.shape))


def test_sum_to_shape_in_gradients_still_works(mode):
    # BroadcastTo's rule (unchecked) and MatMul's broadcast batch axes (checked).
    w = ad.Tensor(np.array([[0.5], [-1.0]]))
    b = ad.Tensor(np.array([0.1, 0.2, 0.3]))
    x = ad.Tensor(np.arange(24.0).reshape(4, 2, 3) / 10)
    m = ad.Tensor(np.arange(6.0).reshape(3, 2) / 10)
    loss = ad.sum(ad.tanh((x + b) * w) @ m)
    loss.backward()
    assert w.grad.shape == w.shape and b.grad.shape == b.shape and m.grad.shape == m.shape
    assert ad.gradcheck(lambda w, b, m: ad.sum(ad.tanh((x + b) * w) @ m), w, b, m, order=2)


def ones(*shape):
    return ad.Tensor(np.ones(shape))


# ------------------------------------------------------------------------ matmul


def test_matmul_batches_vectors_scalars_and_arrays(mode):
    with pytest.raises(
        ValueError,
        match=r"matmul: batch shapes \(2,\) and \(5,\) of operands \(2, 3, 4\) and "
        r"\(5, 4, 2\) do not broadcast",
    ):
        ones(2, 3, 4) @ ones(5, 4, 2)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4, 2\) do not align"):
        ones(3) @ ones(4, 2)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align"):
        np.ones((2, 3)) @ ones(4, 5)  # NumPy defers to the reflected operator
    with pytest.raises(
        ValueError, match=r"matmul: operands must have at least 1 dimension, got shapes \(\) and"
    ):
        ad.Tensor(2.0) @ ones(3)


# ------------------------------------------------------------- broadcasting binary ops


@pytest.mark.parametrize(
    "name, fn",
    [
        ("subtract", lambda a, b: a - b),  # add(a, negate(b)), named as the user wrote it
        ("divide", lambda a, b: a / b),
        ("power", lambda a, b: a**b),
        ("add", lambda a, b: b.numpy() + a),  # an array on the left
    ],
)
def test_binary_ops_name_themselves_and_both_shapes(mode, name, fn):
    with pytest.raises(
        ValueError,
        match=rf"{name}: shapes \(2, 3\) and \(2,\) do not broadcast; trailing dimensions "
        "must be equal or 1",
    ):
        fn(ones(2, 3), ones(2))


# ------------------------------------------------------------------- shape ops


def test_reshape_invalid_shapes(mode):
    with pytest.raises(ValueError, match=r"reshape: invalid shape \(-1, -1\); .*at most one -1"):
        ones(6).reshape(-1, -1)
    with pytest.raises(ValueError, match=r"reshape: invalid shape \(-2, 3\); use non-negative"):
        ones(6).reshape(-2, 3)


def test_broadcast_to_fewer_dimensions(mode):
    with pytest.raises(
        ValueError,
        match=r"broadcast_to: cannot broadcast shape \(3, 4\) to \(4,\); each dimension of "
        "the input must equal the target's trailing dimension or be 1",
    ):
        ones(3, 4).broadcast_to((4,))


# ------------------------------------------------------------------------- axes


@pytest.mark.parametrize(
    "name, fn, axis",
    [
        ("summation", lambda t: t.sum(5), 5),
        ("summation", lambda t: ad.summation(t, axes=(0, -3)), -3),
        ("flatten", lambda t: ad.flatten(t, 5), 5),
    ],
)
def test_axes_out_of_range_through_methods_tuples_and_flatten(mode, name, fn, axis):
    with pytest.raises(
        ValueError,
        match=rf"{name}: axis {axis} is out of range for a tensor with 2 dimension\(s\); "
        r"valid axes: \[-2, 1\]",
    ):
        fn(ones(2, 3))


def test_axes_repeated_of_the_wrong_type_or_of_a_0d_tensor(mode):
    with pytest.raises(ValueError, match=r"summation: repeated axis in \(0, 0\)"):
        ones(2, 3).sum((0, 0))
    with pytest.raises(TypeError, match=r"summation: axes must be None, an int or a tuple of ints"):
        ones(2, 3).sum(1.5)
    with pytest.raises(ValueError, match=r"summation: axis 0 .* valid axes: none \(.*0-d\)"):
        ad.Tensor(1.0).sum(0)
    with pytest.raises(ValueError, match=r"transpose: needs at least 2 dimensions, got shape"):
        ad.transpose(ones(3))
    with pytest.raises(ValueError, match=r"transpose: axes must be two axes to swap, got"):
        ones(2, 3, 4).transpose(0, 1, 2)


# ----------------------------------------------------------------------- indexing


def test_indexing_a_0d_tensor(mode):
    with pytest.raises(IndexError, match=r"getitem: too many indices for shape \(\)"):
        ad.Tensor(2.0)[0]


def test_elementwise_op_classes_called_directly_need_equal_shapes(mode):
    """The functions broadcast; the op classes, whose rules assume one shape, say so."""
    a_data, b_data = np.array([1.0, 2.0, 3.0]), np.ones((2, 3))
    a, b = ad.Tensor(a_data), ad.Tensor(b_data)
    for op in (ad.ops.EWiseAdd(), ad.ops.EWiseMul(), ad.ops.Maximum(), ad.ops.TanhBackward()):
        with pytest.raises(
            ValueError,
            match=rf"{op.name}: inputs of shapes \(3,\), \(2, 3\) "
            r"differ; the op needs equal shapes \(call the function",
        ):
            op(a, b)
    np.testing.assert_array_equal(a.numpy(), a_data)
    assert (ad.ops.EWiseMul()(b, b).numpy() == 1.0).all() and (a * b).shape == (2, 3)


def test_matmul_op_class_called_directly_needs_matrices(mode):
    """ad.matmul handles 1-D operands; the op class, whose rule transposes, says so."""
    v, m = ad.Tensor([1.0, 2.0]), ad.Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"MatMul: operands of shapes \(2,\) and \(2, 3\); the op needs at least 2 "
        r"dimensions each \(call ad.matmul",
    ):
        ad.ops.MatMul()(v, m)
    assert (v @ m).shape == (3,) and ad.ops.MatMul()(ad.reshape(v, (1, 2)), m).shape == (1, 3)


# ---------------------------------------------------------------- coverage


#: The op modules of this table (adjoint.ops.linear has its own); imported by name, as
#: ``adjoint.ops.conv`` and ``adjoint.ops.matmul`` are also functions.
MODULES = [
    importlib.import_module(f"adjoint.ops.{name}")
    for name in ("elementwise", "indexing", "matmul", "shape", "reductions", "conv", "einsum")
]


def _public_functions():
    return {n for m in MODULES for n in m.__all__ if n[0].islower()}


def test_the_tables_cover_every_public_function_of_the_op_modules():
    named = set(FIRST_OPERAND) | {row[0] for row in ARGUMENTS}
    assert _public_functions() - named == set()
    assert set(SECOND_OPERAND) <= set(FIRST_OPERAND)
    # adjoint.ops.linear: its functions and the op classes called directly
    linear_tabled = set(LINEAR_OPERAND) | {row[0] for row in LINEAR}
    assert {name for name in linear.__all__ if name not in linear_tabled} == set()
    for name in ("Transpose", "Permute", "Reshape", "BroadcastTo", "Summation"):
        assert name in LINEAR_OPERAND and name in linear_tabled  # called directly
