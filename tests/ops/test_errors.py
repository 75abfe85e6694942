"""Bad arguments to every public op function, as tables: the exception type and a fragment
of the message, which names the op and says what is valid, in eager and lazy mode.

Classes of bad argument: a wrong type, a non-integer where an integer is needed, out
of range, a wrong shape, empty, and a wrong dtype (bool, int, complex, object, str).
Two generated tables give every op each bad operand (first and, for binary ops,
second); a hand-written table gives each op's own arguments. A last test checks that
the tables cover every public function of the op modules, and that nothing raises
NumPy's or Python's own error instead of adjoint's.
"""

import importlib

import numpy as np
import pytest

import adjoint as ad


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
    "im2col": lambda a: ad.im2col(a, 2),
    "col2im": lambda a: ad.col2im(a, (1, 1, 3, 3), 2),
    "conv2d": lambda a: ad.conv2d(a, W()),
    "conv": lambda a: ad.conv(a, W()),
    "avg_pool2d": lambda a: ad.avg_pool2d(a, 2),
    "max_pool2d": lambda a: ad.max_pool2d(a, 2),
    "global_avg_pool2d": lambda a: ad.global_avg_pool2d(a),
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


# ---------------------------------------------------------------- coverage


#: The op modules of this table (adjoint.ops.linear has its own); imported by name, as
#: ``adjoint.ops.conv`` and ``adjoint.ops.matmul`` are also functions.
MODULES = [
    importlib.import_module(f"adjoint.ops.{name}")
    for name in ("elementwise", "indexing", "matmul", "shape", "reductions", "conv")
]


def _public_functions():
    return {n for m in MODULES for n in m.__all__ if n[0].islower()}


def test_the_tables_cover_every_public_function_of_the_op_modules():
    named = set(FIRST_OPERAND) | {row[0] for row in ARGUMENTS}
    assert _public_functions() - named == set()
    assert set(SECOND_OPERAND) <= set(FIRST_OPERAND)
