"""Bad arguments to adjoint.nn, adjoint.optim, adjoint.data, adjoint.init and
adjoint.io, as tables.

Each public class and function appears with every class of bad argument that
applies to it (wrong type, a non-integer where an integer is needed, out of
range, wrong shape, empty, wrong dtype: bool, int, complex, object, str) and
the exception it must raise, with a fragment of the message that names the
class and the argument. Arguments are checked where they are given (in the
constructor), so these errors read the same in eager and lazy mode; the
forward cases run in both. A coverage test checks that the init and io tables
name every public name of those modules.
"""

import math
import re

import numpy as np
import pytest

import adjoint as ad
from adjoint import data, init, io, nn, optim
from tests.helpers.errors import _T, _V, X
from tests.helpers.errors import check as _check
from tests.helpers.errors import table as _table

_F = FileNotFoundError
_D = IsADirectoryError


def ones(*shape, dtype=np.float64):
    return ad.Tensor(np.ones(shape, dtype=dtype), requires_grad=False)


def case(fn, exception, fragment, id):
    return pytest.param(fn, exception, fragment, id=id)


def check(fn, exception, fragment):
    with pytest.raises(exception, match=re.escape(fragment)):
        fn()


# ----------------------------------------------------------- constructor arguments
# (class, how to call it with one argument replaced, argument name, what it takes)

POSITIVE_INT = {
    "2.5": (2.5, TypeError, "must be an int"),
    "np.float64": (np.float64(2.0), TypeError, "must be an int"),
    "bool": (True, TypeError, "must be an int"),
    "str": ("3", TypeError, "must be an int"),
    "None": (None, TypeError, "must be an int"),
    "complex": (2 + 0j, TypeError, "must be an int"),
    "zero": (0, ValueError, "must be a positive int, got 0"),
    "negative": (-1, ValueError, "must be a positive int, got -1"),
}
OPTIONAL_POSITIVE_INT = {k: v for k, v in POSITIVE_INT.items() if k != "None"}
NON_NEGATIVE_INT = {
    **{k: v for k, v in POSITIVE_INT.items() if k not in ("zero", "negative")},
    "negative": (-1, ValueError, "must be an int >= 0, got -1"),
}


def real(low, high, *, high_open=True):
    interval = f"[{low:g}, {high:g}{')' if high_open else ']'}"
    table = {
        "str": ("0.5", TypeError, "must be a real number"),
        "bool": (True, TypeError, "must be a real number"),
        "None": (None, TypeError, "must be a real number"),
        "complex": (0.5 + 0j, TypeError, "must be a real number"),
        "array": (np.array([0.5]), TypeError, "must be a real number"),
        "nan": (math.nan, ValueError, f"must lie in {interval}, got nan"),
        "below": (low - 0.5, ValueError, f"must lie in {interval}"),
    }
    if high_open:
        table["at the open end"] = (high, ValueError, f"must lie in {interval}, got {high}")
    if high != math.inf:
        table["above"] = (high + 0.5, ValueError, f"must lie in {interval}")
    return table


FLOAT_DTYPE = {
    "int32": ("int32", TypeError, "must be a floating-point dtype (float16, float32 or float64)"),
    "bool": (bool, TypeError, "must be a floating-point dtype"),
    "complex": (np.complex64, TypeError, "must be a floating-point dtype"),
    "object": (object, TypeError, "must be a floating-point dtype"),
    "str": (str, TypeError, "must be a floating-point dtype"),
    "unknown": ("float33", TypeError, "'float33' is not a NumPy dtype"),
}
BOOL = {
    "str": ("yes", TypeError, "must be True or False"),
    "int": (1, TypeError, "must be True or False"),
    "None": (None, TypeError, "must be True or False"),
}
GENERATOR = {
    "seed": (0, TypeError, "must be a numpy.random.Generator or None, got int"),
    "str": ("rng", TypeError, "must be a numpy.random.Generator or None, got str"),
    "RandomState": (np.random.RandomState(0), TypeError, "must be a numpy.random.Generator"),
}
SEED = {
    "str": ("seed", TypeError, "must be a numpy.random.Generator, an int seed or None"),
    "float": (1.5, TypeError, "must be a numpy.random.Generator, an int seed or None"),
    "bool": (True, TypeError, "must be a numpy.random.Generator, an int seed or None"),
    "negative": (-1, ValueError, "(a seed) must be an int >= 0, got -1"),
}

W = ad.Tensor([1.0, 2.0])

CONSTRUCTORS = [
    # owner, builder(**override), argument, table
    ("Linear", lambda **a: nn.Linear(**{"in_features": 2, "out_features": 3, **a}),
     "in_features", POSITIVE_INT),
    ("Linear", lambda **a: nn.Linear(**{"in_features": 2, "out_features": 3, **a}),
     "out_features", POSITIVE_INT),
    ("Linear", lambda **a: nn.Linear(2, 3, **a), "bias", BOOL),
    ("Linear", lambda **a: nn.Linear(2, 3, **a), "dtype", FLOAT_DTYPE),
    ("Linear", lambda **a: nn.Linear(2, 3, **a), "rng", GENERATOR),
    ("Dropout", lambda **a: nn.Dropout(**a), "p", real(0, 1)),
    ("Dropout", lambda **a: nn.Dropout(**a), "rng", GENERATOR),
    ("BatchNorm1d", lambda **a: nn.BatchNorm1d(**{"dim": 3, **a}), "dim", POSITIVE_INT),
    ("BatchNorm1d", lambda **a: nn.BatchNorm1d(3, **a), "eps", real(0, math.inf)),
    ("BatchNorm1d", lambda **a: nn.BatchNorm1d(3, **a), "momentum",
     real(0, 1, high_open=False)),
    ("BatchNorm1d", lambda **a: nn.BatchNorm1d(3, **a), "dtype", FLOAT_DTYPE),
    ("BatchNorm2d", lambda **a: nn.BatchNorm2d(**{"dim": 3, **a}), "dim", POSITIVE_INT),
    ("BatchNorm2d", lambda **a: nn.BatchNorm2d(3, **a), "momentum",
     real(0, 1, high_open=False)),
    ("LayerNorm1d", lambda **a: nn.LayerNorm1d(**{"dim": 3, **a}), "dim", POSITIVE_INT),
    ("LayerNorm1d", lambda **a: nn.LayerNorm1d(3, **a), "eps", real(0, math.inf)),
    ("LayerNorm1d", lambda **a: nn.LayerNorm1d(3, **a), "dtype", FLOAT_DTYPE),
    *[
        ("Conv2d", lambda **a: nn.Conv2d(**{"in_channels": 1, "out_channels": 2,
                                            "kernel_size": 3, **a}), name, POSITIVE_INT)
        for name in ("in_channels", "out_channels", "kernel_size", "stride")
    ],
    ("Conv2d", lambda **a: nn.Conv2d(1, 2, 3, **a), "padding", NON_NEGATIVE_INT),
    ("Conv2d", lambda **a: nn.Conv2d(1, 2, 3, **a), "bias", BOOL),
    ("Conv2d", lambda **a: nn.Conv2d(1, 2, 3, **a), "dtype", FLOAT_DTYPE),
    ("Conv2d", lambda **a: nn.Conv2d(1, 2, 3, **a), "rng", GENERATOR),
    *[
        ("Conv", lambda **a: nn.Conv(**{"in_channels": 1, "out_channels": 2,
                                        "kernel_size": 3, **a}), name, POSITIVE_INT)
        for name in ("in_channels", "out_channels", "kernel_size", "stride")
    ],
    *[
        (cls.__name__, lambda cls=cls, **a: cls(**{"kernel_size": 2, **a}), name, table)
        for cls in (nn.MaxPool2d, nn.AvgPool2d)
        for name, table in [("kernel_size", POSITIVE_INT), ("stride", OPTIONAL_POSITIVE_INT),
                            ("padding", NON_NEGATIVE_INT)]
    ],
    ("SGD", lambda **a: optim.SGD([W], **a), "lr", real(0, math.inf)),
    ("SGD", lambda **a: optim.SGD([W], **a), "momentum", real(0, 1)),
    ("SGD", lambda **a: optim.SGD([W], **a), "weight_decay", real(0, math.inf)),
    ("Adam", lambda **a: optim.Adam([W], **a), "lr", real(0, math.inf)),
    ("Adam", lambda **a: optim.Adam([W], **a), "beta1", real(0, 1)),
    ("Adam", lambda **a: optim.Adam([W], **a), "beta2", real(0, 1)),
    ("Adam", lambda **a: optim.Adam([W], **a), "eps", real(0, math.inf)),
    ("Adam", lambda **a: optim.Adam([W], **a), "weight_decay", real(0, math.inf)),
    ("clip_grad_norm", lambda **a: optim.clip_grad_norm(**{"params": [W], "max_norm": 1.0, **a}),
     "max_norm", real(0, math.inf, high_open=False)),
    ("RandomFlipHorizontal", lambda **a: data.RandomFlipHorizontal(**a), "p",
     real(0, 1, high_open=False)),
    ("RandomFlipHorizontal", lambda **a: data.RandomFlipHorizontal(**a), "rng", SEED),
    ("RandomCrop", lambda **a: data.RandomCrop(**a), "padding", NON_NEGATIVE_INT),
    ("RandomCrop", lambda **a: data.RandomCrop(**a), "rng", SEED),
    ("DataLoader", lambda **a: data.DataLoader(data.NDArrayDataset(np.zeros((4, 2))), **a),
     "batch_size", POSITIVE_INT),
    ("DataLoader", lambda **a: data.DataLoader(data.NDArrayDataset(np.zeros((4, 2))), **a),
     "shuffle", BOOL),
    ("DataLoader", lambda **a: data.DataLoader(data.NDArrayDataset(np.zeros((4, 2))), **a),
     "drop_last", BOOL),
    ("DataLoader", lambda **a: data.DataLoader(data.NDArrayDataset(np.zeros((4, 2))), **a),
     "rng", SEED),
]  # fmt: skip


ARGUMENT_CASES = [
    case(
        lambda build=build, name=name, value=value: build(**{name: value}),
        exception,
        f"{owner}: {name} {fragment}",
        id=f"{owner}-{name}-{label}",
    )
    for owner, build, name, table in CONSTRUCTORS
    for label, (value, exception, fragment) in table.items()
]


@pytest.mark.parametrize("fn, exception, fragment", ARGUMENT_CASES)
def test_constructor_arguments(fn, exception, fragment):
    check(fn, exception, fragment)


def test_every_constructor_argument_table_has_a_valid_call():
    """The tables vary one argument of a call that is valid as it stands."""
    for _, build, _, _ in CONSTRUCTORS:
        build()


def test_integral_numpy_scalars_and_bools_where_bools_are_meant_are_accepted():
    assert nn.Linear(np.int64(2), np.int32(3)).weight.shape == (2, 3)
    assert nn.Conv2d(1, 2, 3, bias=np.True_).bias is not None
    assert data.DataLoader(data.NDArrayDataset(np.zeros((4, 2))), np.int64(3)).batch_size == 3
    assert optim.SGD([W], lr=np.float32(0.5), momentum=0).lr == 0.5
    assert nn.MaxPool2d((2, 3)).kernel_size == (2, 3)


# ------------------------------------------------------------------- layer inputs
# (layer, a valid input shape): each is fed the wrong type, dtype and shape.

LAYERS = [
    (nn.Linear(3, 2), (2, 3)),
    (nn.Flatten(), (2, 3)),
    (nn.ReLU(), (2, 3)),
    (nn.Tanh(), (2, 3)),
    (nn.Sigmoid(), (2, 3)),
    (nn.Residual(nn.Linear(3, 3)), (2, 3)),
    (nn.Dropout(0.5, rng=np.random.default_rng(0)), (2, 3)),
    (nn.BatchNorm1d(3), (2, 3)),
    (nn.BatchNorm2d(3), (2, 3, 4, 4)),
    (nn.LayerNorm1d(3), (2, 3)),
    (nn.Conv2d(3, 2, 3, padding=1), (2, 3, 4, 4)),
    (nn.Conv(3, 2, 3), (2, 3, 4, 4)),
    (nn.MaxPool2d(2), (2, 3, 4, 4)),
    (nn.AvgPool2d(2), (2, 3, 4, 4)),
    (nn.GlobalAvgPool2d(), (2, 3, 4, 4)),
]


def layer_input_cases():
    for layer, shape in LAYERS:
        name = owner = type(layer).__name__
        yield case(lambda layer=layer: layer("x"), TypeError,
                   f"{owner}: cannot use an operand of type str", f"{name}-str")  # fmt: skip
        yield case(lambda layer=layer: layer(None), TypeError,
                   f"{owner}: cannot use an operand of type NoneType", f"{name}-None")  # fmt: skip
        for dtype in (complex, object, str):
            array = np.ones(shape).astype(dtype)
            yield case(
                lambda layer=layer, array=array: layer(array),
                TypeError,
                f"{owner}: input of dtype {array.dtype} is not numeric",
                f"{name}-{array.dtype}",
            )
        yield case(
            lambda layer=layer, shape=shape: layer(ones(*shape, dtype=bool)),
            TypeError,
            f"{owner}: input must be floating-point (or integer) data, got dtype bool",
            f"{name}-bool",
        )
    zero_d = "Linear Flatten LayerNorm1d BatchNorm1d Conv2d Conv MaxPool2d GlobalAvgPool2d"
    messages = {
        "Linear": "Linear: input must have at least 1 dimension, shape (..., 3), got a 0-d",
        "Flatten": "Flatten: input must have a batch axis, got a 0-d input",
        "LayerNorm1d": "LayerNorm1d: input of shape () has not 3 features on its last axis",
        "BatchNorm1d": "BatchNorm1d: input of shape () does not match 3 features/channels",
        "Conv2d": "Conv2d: input must have 4 dimension(s), got shape ()",
        "Conv": "Conv: input must have 4 dimension(s), got shape ()",
        "MaxPool2d": "MaxPool2d: input must have 4 dimension(s), got shape ()",
        "GlobalAvgPool2d": "GlobalAvgPool2d: input must have 4 dimension(s), got shape ()",
    }
    for layer, _ in LAYERS:
        name = type(layer).__name__
        if name in zero_d.split():
            yield case(lambda layer=layer: layer(ad.Tensor(1.0)), ValueError, messages[name],
                       f"{name}-0d")  # fmt: skip
    wrong_shape = [
        (nn.Linear(3, 2), (2, 4), "Linear: input of shape (2, 4) has 4 features, expected 3"),
        (nn.LayerNorm1d(3), (2, 4), "LayerNorm1d: input of shape (2, 4) has not 3 features"),
        (nn.BatchNorm1d(3), (2, 4), "BatchNorm1d: input of shape (2, 4) does not match 3"),
        (nn.BatchNorm1d(3), (2, 3, 1), "BatchNorm1d: input of shape (2, 3, 1) does not match"),
        (nn.BatchNorm2d(3), (2, 3), "BatchNorm2d: input of shape (2, 3) does not match"),
        (nn.Conv2d(3, 2, 3), (2, 3, 4), "Conv2d: input must have 4 dimension(s), got shape"),
        (nn.Conv2d(3, 2, 3), (2, 4, 4, 4), "Conv2d: input of shape (2, 4, 4, 4) has 4 channels"),
        (nn.Conv2d(3, 2, 5), (1, 3, 4, 4), "conv2d: kernel (5, 5) is larger than the padded"),
        (nn.AvgPool2d(2), (3, 4, 4), "AvgPool2d: input must have 4 dimension(s), got shape"),
        (nn.MaxPool2d(5), (1, 1, 4, 4), "max_pool2d: kernel (5, 5) is larger than the padded"),
        (nn.GlobalAvgPool2d(), (2, 3), "GlobalAvgPool2d: input must have 4 dimension(s)"),
        (nn.Residual(nn.Linear(3, 1)), (2, 3), "Residual: fn maps shape (2, 3) to (2, 1)"),
        # empty: batch statistics of nothing would be NaN (and poison the running ones)
        (nn.BatchNorm1d(3), (0, 3), "BatchNorm1d: training needs at least one value per"),
        (nn.BatchNorm2d(3), (2, 3, 0, 4), "BatchNorm2d: training needs at least one value"),
    ]
    for layer, shape, message in wrong_shape:
        yield case(lambda layer=layer, shape=shape: layer(ones(*shape)), ValueError, message,
                   f"{type(layer).__name__}-shape{shape}")  # fmt: skip


@pytest.mark.parametrize("fn, exception, fragment", list(layer_input_cases()))
def test_layer_inputs(mode, fn, exception, fragment):
    check(fn, exception, fragment)


@pytest.mark.parametrize("layer, shape", LAYERS, ids=[type(m).__name__ for m, _ in LAYERS])
def test_layers_accept_integer_and_float32_inputs(mode, layer, shape):
    """The valid side of the dtype rows: integers promote (NumPy's rules), float32 stays."""
    out = layer(ones(*shape, dtype=np.int32))
    assert out.dtype.kind == "f" or type(layer).__name__ in ("ReLU", "Flatten", "MaxPool2d")
    assert layer(ones(*shape, dtype=np.float32)).shape == out.shape


def test_identity_returns_anything_and_batchnorm_in_eval_takes_an_empty_batch():
    marker = object()
    assert nn.Identity()(marker) is marker
    assert nn.BatchNorm1d(3).eval()(ones(0, 3)).shape == (0, 3)


# ------------------------------------------------------------------- other calls

LOGITS = ones(2, 3)
OTHER_CASES = [
    # SoftmaxLoss: logits
    case(lambda: nn.SoftmaxLoss()(ones(3), [0, 1, 2]), ValueError,
         "SoftmaxLoss: logits must be (N, k), got shape (3,)", "SoftmaxLoss-logits-1d"),
    case(lambda: nn.SoftmaxLoss()(ones(2, 3, dtype=np.int64), [0, 1]), TypeError,
         "SoftmaxLoss: input must be floating-point data, got dtype int64", "SoftmaxLoss-int"),
    case(lambda: nn.SoftmaxLoss()(ones(2, 3, dtype=bool), [0, 1]), TypeError,
         "SoftmaxLoss: input must be floating-point data, got dtype bool", "SoftmaxLoss-bool"),
    case(lambda: nn.SoftmaxLoss()("logits", [0, 1]), TypeError,
         "SoftmaxLoss: cannot use an operand of type str", "SoftmaxLoss-logits-str"),
    case(lambda: nn.SoftmaxLoss()(ones(0, 3), []), ValueError,
         "SoftmaxLoss: logits of shape (0, 3) are empty", "SoftmaxLoss-no-rows"),
    case(lambda: nn.SoftmaxLoss()(ones(2, 0), [0, 0]), ValueError,
         "SoftmaxLoss: logits of shape (2, 0) are empty", "SoftmaxLoss-no-classes"),
    # SoftmaxLoss: labels
    case(lambda: nn.SoftmaxLoss()(LOGITS, [0.9, 1.9]), ValueError,
         "SoftmaxLoss: labels must be integer class indices; label 0 is 0.9", "labels-0.9"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [1.0, 1.5]), ValueError,
         "label 1 is 1.5 (float labels are accepted only when they are whole numbers)",
         "labels-1.5"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [np.nan, 1]), ValueError,
         "SoftmaxLoss: labels must be integer class indices; label 0 is nan", "labels-nan"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [0, np.inf]), ValueError,
         "label 1 is inf", "labels-inf"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, np.array([True, False])), TypeError,
         "SoftmaxLoss: labels must be integer class indices in [0, 2], got dtype bool",
         "labels-bool"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, ["a", "b"]), TypeError,
         "SoftmaxLoss: labels must be integer class indices in [0, 2], got dtype <U1",
         "labels-str"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, np.array([0, 1], dtype=object)), TypeError,
         "got dtype object", "labels-object"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, np.array([0j, 1j])), TypeError,
         "got dtype complex128", "labels-complex"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, "01"), TypeError,
         "SoftmaxLoss: labels must be a Tensor, an array or a list of class indices, got str",
         "labels-str-object"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, None), TypeError,
         "labels must be a Tensor, an array or a list of class indices, got NoneType",
         "labels-None"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [[0], [1, 2]]), ValueError,
         "SoftmaxLoss: labels are ragged", "labels-ragged"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [0, 3]), ValueError,
         "SoftmaxLoss: labels must lie in [0, 2] for logits of 3 classes; label 1 is 3",
         "labels-too-large"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [-1, 0]), ValueError,
         "labels must lie in [0, 2] for logits of 3 classes; label 0 is -1", "labels-negative"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, np.array([0, 3.0])), ValueError,
         "label 1 is 3.0", "labels-float-too-large"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, np.array([0, 2**63], dtype=np.uint64)), ValueError,
         "label 1 is 9223372036854775808", "labels-uint64-huge"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, [0, 1, 2]), ValueError,
         "SoftmaxLoss: 3 labels for 2 rows of logits", "labels-count"),
    case(lambda: nn.SoftmaxLoss()(ones(4, 3), np.zeros((2, 2), int)), ValueError,
         "SoftmaxLoss: labels must have shape (4,), got shape (2, 2)", "labels-shape"),
    case(lambda: nn.SoftmaxLoss()(LOGITS, []), ValueError,
         "SoftmaxLoss: 0 labels for 2 rows", "labels-empty"),
    # Sequential, Residual, Parameter, Module
    case(lambda: nn.Sequential(nn.ReLU(), 3), TypeError,
         "Sequential: argument 1 must be a Module, got int", "Sequential-int"),
    case(lambda: nn.Sequential(nn.ReLU), TypeError,
         "Sequential: argument 0 must be a Module, got type", "Sequential-class"),
    case(lambda: nn.Residual(lambda x: x), TypeError,
         "Residual: fn must be a Module, got function", "Residual-function"),
    case(lambda: nn.Parameter(np.arange(3)), TypeError,
         "Parameter: data must be floating point, got dtype int64", "Parameter-int"),
    case(lambda: nn.Parameter(np.array([True])), TypeError,
         "Parameter: data must be floating point, got dtype bool", "Parameter-bool"),
    case(lambda: nn.Parameter(np.array([1j])), TypeError,
         "Tensor: data of dtype complex128 is not supported", "Parameter-complex"),
    case(lambda: nn.Parameter(np.array(["a"])), TypeError,
         "Tensor: data of dtype <U1 is not supported", "Parameter-str"),
    case(lambda: nn.Parameter(np.array([None])), TypeError,
         "Tensor: data of dtype object is not supported", "Parameter-object"),
    case(lambda: nn.Parameter([[1.0], [1.0, 2.0]]), ValueError,
         "Tensor: data is ragged", "Parameter-ragged"),
    case(lambda: nn.Linear(2, 2).train("no"), TypeError,
         "Linear.train: mode must be True or False, got 'no'", "train-str"),
    case(lambda: nn.Module()(ones(1)), NotImplementedError,
         "Module must define forward()", "Module-forward"),
    # optimizers: params
    case(lambda: optim.SGD(W), TypeError,
         "SGD: params must be an iterable of Tensors, such as model.parameters() or [w, b], "
         "got a single Tensor; wrap it in a list", "SGD-bare-tensor"),
    case(lambda: optim.Adam(nn.Linear(2, 2).weight), TypeError,
         "Adam: params must be an iterable of Tensors", "Adam-bare-parameter"),
    case(lambda: optim.SGD({W}), TypeError,
         "SGD: params must be an ordered collection such as a list, got a set", "SGD-set"),
    case(lambda: optim.Adam(3), TypeError,
         "Adam: params must be an iterable of Tensors, such as model.parameters(), got int",
         "Adam-int"),
    case(lambda: optim.SGD(nn.Linear(2, 2)), TypeError,
         "SGD: params must be an iterable of Tensors, such as model.parameters(), got Linear",
         "SGD-module"),
    case(lambda: optim.SGD([]), ValueError, "SGD: got an empty list of parameters", "SGD-empty"),
    case(lambda: optim.Adam(iter([])), ValueError, "Adam: got an empty list", "Adam-empty"),
    case(lambda: optim.SGD([W, 1.0]), TypeError,
         "SGD: params[1] must be a Tensor, got float", "SGD-float-param"),
    case(lambda: optim.SGD([np.ones(2)]), TypeError,
         "SGD: params[0] must be a Tensor, got ndarray", "SGD-array-param"),
    case(lambda: optim.SGD([W, W]), ValueError,
         "SGD: params[0] and params[1] are the same tensor", "SGD-duplicate"),
    case(lambda: optim.Adam([W * 2]), ValueError,
         "Adam: params[0] is computed by MulScalar, not a leaf", "Adam-non-leaf"),
    case(lambda: optim.SGD([ad.Tensor(np.arange(2))]), TypeError,
         "SGD: params[0] has dtype int64; only floating-point tensors", "SGD-int-param"),
    case(lambda: optim.SGD([ad.Tensor(np.array([True]))]), TypeError,
         "SGD: params[0] has dtype bool", "SGD-bool-param"),
    case(lambda: optim.clip_grad_norm([W, "w"], 1.0), TypeError,
         "clip_grad_norm: params[1] must be a Tensor, got str", "clip_grad_norm-str-param"),
    case(lambda: optim.clip_grad_norm(3, 1.0), TypeError,
         "clip_grad_norm: params must be a Tensor or an iterable of Tensors, got int",
         "clip_grad_norm-int"),
    # data
    case(lambda: data.RandomFlipHorizontal(p=1)(np.float64(1.0)), ValueError,
         "RandomFlipHorizontal: expected an image of shape (H, W) or (H, W, C) "
         "(layout='HWC'), got shape ()",
         "RandomFlipHorizontal-0d"),
    case(lambda: data.RandomCrop(1, layout="CHW")(np.ones(3)), ValueError,
         "RandomCrop: expected an image of shape (H, W) or (C, H, W) (layout='CHW'), "
         "got shape (3,)",
         "RandomCrop-1d"),
    case(lambda: data.RandomCrop(1, layout="NCHW"), ValueError,
         "RandomCrop: layout must be 'HWC' (needle's images, the default) or 'CHW' "
         "(adjoint's conv layers, per sample), got 'NCHW'",
         "RandomCrop-layout"),
    case(lambda: data.Transform()(np.ones(2)), NotImplementedError,
         "Transform must define __call__()", "Transform-call"),
    case(lambda: data.Dataset()[0], NotImplementedError,
         "Dataset must define __getitem__()", "Dataset-getitem"),
    case(lambda: len(data.Dataset()), NotImplementedError,
         "Dataset must define __len__()", "Dataset-len"),
    case(lambda: optim.Optimizer([W]).step(), NotImplementedError,
         "Optimizer must define step()", "Optimizer-step"),
    case(lambda: data.Dataset(transforms=data.RandomCrop(1)), TypeError,
         "Dataset: transforms must be a list of transforms or None, got RandomCrop",
         "Dataset-one-transform"),
    case(lambda: data.NDArrayDataset(np.ones(2), transforms="flip"), TypeError,
         "NDArrayDataset: transforms must be a list of transforms or None, got str",
         "NDArrayDataset-transforms-str"),
    case(lambda: data.NDArrayDataset(np.ones(2), transforms=[1]), TypeError,
         "NDArrayDataset: transforms[0] must be callable (a Transform), got int",
         "NDArrayDataset-transform-int"),
    case(lambda: data.NDArrayDataset(), ValueError,
         "NDArrayDataset: give at least one array", "NDArrayDataset-none"),
    case(lambda: data.NDArrayDataset(np.zeros(3), np.zeros(4)), ValueError,
         "NDArrayDataset: arrays have different lengths [3, 4]", "NDArrayDataset-lengths"),
    case(lambda: data.NDArrayDataset(np.float64(1.0)), ValueError,
         "NDArrayDataset: array 0 is 0-d; samples lie along axis 0", "NDArrayDataset-0d"),
    case(lambda: data.NDArrayDataset(np.ones(2), np.array(["a", "b"])), TypeError,
         "NDArrayDataset: array 1 has dtype <U1; batches become Tensors", "NDArrayDataset-str"),
    case(lambda: data.NDArrayDataset(np.array([None, 1])), TypeError,
         "NDArrayDataset: array 0 has dtype object", "NDArrayDataset-object"),
    case(lambda: data.NDArrayDataset(np.ones(2) * 1j), TypeError,
         "NDArrayDataset: array 0 has dtype complex128", "NDArrayDataset-complex"),
    case(lambda: data.NDArrayDataset([[1.0], [1.0, 2.0]]), ValueError,
         "NDArrayDataset: array 0 is ragged", "NDArrayDataset-ragged"),
    case(lambda: data.NDArrayDataset(np.ones(3))[1.5], TypeError,
         "NDArrayDataset: index must be an int, a slice or a 1-D array of ints, got float",
         "NDArrayDataset-index-float"),
    case(lambda: data.NDArrayDataset(np.ones(3))[True], TypeError,
         "NDArrayDataset: index must be an int, a slice or a 1-D array of ints, got bool",
         "NDArrayDataset-index-bool"),
    case(lambda: data.NDArrayDataset(np.ones(3))[3], IndexError,
         "NDArrayDataset: index 3 is out of range for 3 samples", "NDArrayDataset-index-3"),
    case(lambda: data.NDArrayDataset(np.ones(3))[-4], IndexError,
         "NDArrayDataset: index -4 is out of range for 3 samples", "NDArrayDataset-index--4"),
    case(lambda: data.DataLoader(np.ones((4, 2))), TypeError,
         "DataLoader: dataset must be an adjoint.data.Dataset, such as NDArrayDataset(x, y), "
         "got ndarray", "DataLoader-array"),
    case(lambda: data.DataLoader(None), TypeError,
         "DataLoader: dataset must be an adjoint.data.Dataset", "DataLoader-None"),
]  # fmt: skip


@pytest.mark.parametrize("fn, exception, fragment", OTHER_CASES)
def test_other_calls(mode, fn, exception, fragment):
    check(fn, exception, fragment)


# ======================================================= adjoint.init

SHAPED = {
    "zeros": init.zeros,
    "ones": init.ones,
    "constant": init.constant,
    "rand": init.rand,
    "randn": init.randn,
    "randb": init.randb,
}
BAD_SHAPES = {
    "negative": ((-1, 2), _V, r"invalid shape \(-1, 2\); use non-negative sizes"),
    "non-integer": ((2.5, 2), _T, "each size in shape must be an int, got 2.5"),
    "whole float": ((2.0,), _T, "got 2.0 of type float"),
    "bool": ((True, 2), _T, "got True of type bool"),
    "str": (("2",), _T, "got '2' of type str"),
    "None": ((None,), _T, "got None"),
    "tuple non-integer": (((2.5, 2),), _T, "got 2.5"),
    "nested": (((2, (3,)),), _T, r"got \(3,\) of type tuple"),
    "tuple and int": (((2,), 3), _T, r"got \(2,\) of type tuple"),
    "numpy float": ((np.float64(2),), _T, "of type float64"),
}
BAD_DTYPES = {
    "unknown": ("float33", _T, "dtype 'float33' is not a NumPy dtype"),
    "complex": (complex, _T, "dtype must be .*got complex128"),
    "object": (object, _T, "dtype must be .*got object"),
    "str": (str, _T, "dtype must be .*got <U"),
}
FLOAT_ONLY = ("rand", "randn", "xavier_uniform", "xavier_normal", "kaiming_uniform",
              "kaiming_normal")  # fmt: skip
BAD_FLOAT_DTYPES = {
    **BAD_DTYPES,
    "int": ("int64", _T, r"dtype must be a floating-point dtype \(float16, float32 or float64\)"),
    "bool": (bool, _T, "dtype must be a floating-point dtype"),
}
OPTIONS = {
    "requires_grad str": ({"requires_grad": "yes"}, _T, "requires_grad must be True or False"),
    "requires_grad int": ({"requires_grad": 1}, _T, "requires_grad must be True or False"),
    "device": ({"device": "cuda"}, _T, "device must be ad.cpu"),
}
RNG = {
    "rng int": ({"rng": 0}, _T, "rng must be a numpy.random.Generator or None, got int"),
    "rng RandomState": ({"rng": np.random.RandomState(0)}, _T, "got RandomState"),
}

# fan_in, fan_out of the Glorot and He initializations: positive ints
FANNED = {name: getattr(init, name) for name in FLOAT_ONLY[2:]}
BAD_FANS = {
    "zero": (0, _V, "must be a positive int, got 0"),
    "negative": (-2, _V, "must be a positive int, got -2"),
    "non-integer": (2.5, _T, "must be an int, got 2.5"),
    "bool": (True, _T, "must be an int, got True"),
    "str": ("2", _T, "must be an int, got '2'"),
    "None": (None, _T, "must be an int, got None"),
}


def _init_rows():
    rows = []
    for name, f in SHAPED.items():
        for label, (shape, exc, fragment) in BAD_SHAPES.items():
            rows.append((name, f"shape {label}", lambda f=f, s=shape: f(*s), exc, name, fragment))
    for name in (*SHAPED, *FANNED, "one_hot"):
        f = getattr(init, name)
        args = (3, [0]) if name == "one_hot" else (2, 3)
        dtypes = BAD_FLOAT_DTYPES if name in FLOAT_ONLY else BAD_DTYPES
        for label, (dtype, exc, fragment) in dtypes.items():
            rows.append(
                (name, f"dtype {label}", lambda f=f, a=args, d=dtype: f(*a, dtype=d), exc, name,
                 fragment)
            )  # fmt: skip
        options = {**OPTIONS, **(RNG if name in (*FLOAT_ONLY, "randb") else {})}
        for label, (kwargs, exc, fragment) in options.items():
            rows.append(
                (name, label, lambda f=f, a=args, k=kwargs: f(*a, **k), exc, name, fragment)
            )
    for name, f in FANNED.items():
        for label, (v, exc, fragment) in BAD_FANS.items():
            rows.append((name, f"fan_in {label}", lambda f=f, v=v: f(v, 3), exc, name,
                         f"fan_in {fragment}"))  # fmt: skip
            rows.append((name, f"fan_out {label}", lambda f=f, v=v: f(3, v), exc, name,
                         f"fan_out {fragment}"))  # fmt: skip
    return rows


I = init  # noqa: E741 - short, for the table below

INIT = [
    *_init_rows(),
    # ---- the fill value of constant: a real number its dtype holds
    ("constant", "c str", lambda: I.constant(2, c="a"), _T, "constant", "c must be a real"),
    ("constant", "c complex", lambda: I.constant(2, c=1j), _T, "constant", "got 1j"),
    ("constant", "c None", lambda: I.constant(2, c=None), _T, "constant", "got None"),
    ("constant", "c array", lambda: I.constant(2, c=np.ones(3)), _T, "constant", "ndarray"),
    ("constant", "c fraction into int", lambda: I.constant(2, c=1.5, dtype=int), _V, "constant",
     "dtype int64 cannot hold the fill value c=1.5"),
    ("constant", "c overflow int8", lambda: I.constant(2, c=300, dtype="int8"), _V, "constant",
     "c=300"),
    ("constant", "c nan into int", lambda: I.constant(2, c=float("nan"), dtype=int), _V,
     "constant", "c=nan"),
    ("constant", "c overflow float32", lambda: I.constant(2, c=1e300, dtype="float32"), _V,
     "constant", "float32 cannot hold"),
    ("constant", "c huge int", lambda: I.constant(2, c=2**70, dtype=int), _V, "constant",
     "cannot hold"),
    ("constant", "c 2 into bool", lambda: I.constant(2, c=2, dtype=bool), _V, "constant", "c=2"),
    # ---- low/high, mean/std, p: finite reals in range
    ("rand", "low str", lambda: I.rand(2, low="a"), _T, "rand", "low must be a real number"),
    ("rand", "high complex", lambda: I.rand(2, high=1j), _T, "rand", "high must be a real"),
    ("rand", "low bool", lambda: I.rand(2, low=False), _T, "rand", "low must be a real"),
    ("rand", "low nan", lambda: I.rand(2, low=float("nan")), _V, "rand", "a finite number"),
    ("rand", "high inf", lambda: I.rand(2, high=float("inf")), _V, "rand", "a finite number"),
    ("rand", "low above high", lambda: I.rand(2, low=1, high=0), _V, "rand", "low must be <="),
    ("randn", "std negative", lambda: I.randn(2, std=-1), _V, "randn", "std must be a finite"),
    ("randn", "std str", lambda: I.randn(2, std="1"), _T, "randn", "std must be a real number"),
    ("randn", "mean complex", lambda: I.randn(2, mean=1j), _T, "randn", "mean must be a real"),
    ("randn", "mean nan", lambda: I.randn(2, mean=float("nan")), _V, "randn", "finite"),
    ("randb", "p above 1", lambda: I.randb(2, p=2), _V, "randb", r"p must lie in \[0, 1\]"),
    ("randb", "p negative", lambda: I.randb(2, p=-0.5), _V, "randb", r"lie in \[0, 1\]"),
    ("randb", "p nan", lambda: I.randb(2, p=float("nan")), _V, "randb", "a finite number"),
    ("randb", "p str", lambda: I.randb(2, p="x"), _T, "randb", "p must be a real number"),
    # ---- ones_like, zeros_like: a Tensor
    ("ones_like", "list", lambda: I.ones_like([1.0]), _T, "ones_like", "give a Tensor"),
    ("ones_like", "requires_grad", lambda: I.ones_like(X(), requires_grad="x"), _T, "ones_like",
     "requires_grad must be"),
    ("zeros_like", "None", lambda: I.zeros_like(None), _T, "zeros_like", "got NoneType"),
    ("zeros_like", "device", lambda: I.zeros_like(X(), device="gpu"), _T, "zeros_like",
     "device must be"),
    # ---- one_hot(n, labels): n a positive int, labels integer class indices in [0, n)
    ("one_hot", "n float", lambda: I.one_hot(3.5, [0]), _T, "one_hot", "n must be an int"),
    ("one_hot", "n bool", lambda: I.one_hot(True, [0]), _T, "one_hot", "got True"),
    ("one_hot", "n str", lambda: I.one_hot("3", [0]), _T, "one_hot", "got '3'"),
    ("one_hot", "n zero", lambda: I.one_hot(0, []), _V, "one_hot", "a positive int, got 0"),
    ("one_hot", "n negative", lambda: I.one_hot(-1, [0]), _V, "one_hot", "positive int, got -1"),
    ("one_hot", "label out of range", lambda: I.one_hot(3, [3]), _V, "one_hot", r"\[0, 2\]"),
    ("one_hot", "label negative", lambda: I.one_hot(3, [-1]), _V, "one_hot", r"got -1\.\.-1"),
    ("one_hot", "label bool", lambda: I.one_hot(3, [True]), _T, "one_hot", "got dtype bool"),
    ("one_hot", "label fraction", lambda: I.one_hot(3, [0.5]), _V, "one_hot", "whole numbers"),
    ("one_hot", "label nan", lambda: I.one_hot(3, [float("nan")]), _V, "one_hot", "got nan"),
    ("one_hot", "label str", lambda: I.one_hot(3, ["a"]), _T, "one_hot", "strings are not"),
    ("one_hot", "label str array", lambda: I.one_hot(3, np.array(["a"])), _T, "one_hot", "<U1"),
    ("one_hot", "label complex", lambda: I.one_hot(3, [1j]), _T, "one_hot", "complex numbers"),
    ("one_hot", "label object", lambda: I.one_hot(3, np.array([1, None])), _T, "one_hot", "obj"),
    ("one_hot", "label ragged", lambda: I.one_hot(3, [[0], [0, 1]]), _V, "one_hot", "ragged"),
    ("one_hot", "label None", lambda: I.one_hot(3, None), _T, "one_hot", "holds None"),
    # ---- gain, nonlinearity, shape
    ("xavier_uniform", "gain str", lambda: I.xavier_uniform(2, 3, gain="a"), _T,
     "xavier_uniform", "gain must be a real number"),
    ("xavier_uniform", "gain negative", lambda: I.xavier_uniform(2, 3, gain=-1), _V,
     "xavier_uniform", "gain must be a finite number >= 0"),
    ("xavier_normal", "gain nan", lambda: I.xavier_normal(2, 3, gain=float("nan")), _V,
     "xavier_normal", "gain must be a finite"),
    ("xavier_uniform", "low", lambda: I.xavier_uniform(2, 3, low=0), _T, "xavier_uniform()",
     "unexpected keyword argument 'low'"),
    ("kaiming_uniform", "nonlinearity", lambda: I.kaiming_uniform(2, 3, nonlinearity="tanh"),
     _V, "kaiming_uniform", "only nonlinearity='relu' is supported, got 'tanh'"),
    ("kaiming_normal", "nonlinearity int", lambda: I.kaiming_normal(2, 3, nonlinearity=3), _V,
     "kaiming_normal", "got 3"),
    ("kaiming_uniform", "shape non-integer", lambda: I.kaiming_uniform(2, 3, shape=(2.5, 3)),
     _T, "kaiming_uniform", "got 2.5"),
    ("kaiming_uniform", "shape str", lambda: I.kaiming_uniform(2, 3, shape="ab"), _T,
     "kaiming_uniform", "shape must be None or a tuple of ints"),
    ("kaiming_normal", "shape negative", lambda: I.kaiming_normal(2, 3, shape=(-1, 3)), _V,
     "kaiming_normal", "non-negative"),
    ("kaiming_normal", "unknown keyword", lambda: I.kaiming_normal(2, 3, foo=1), _T,
     "kaiming_normal()", "unexpected keyword argument 'foo'"),
]  # fmt: skip


@_table(INIT)
def test_init_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_init_takes_what_needle_code_passes(mode):
    assert init.ones(2, 3, device=ad.cpu(), dtype="float32").dtype == np.float32
    assert init.zeros((2, 3)).shape == (2, 3) and init.zeros().shape == ()
    assert init.ones(np.int64(2)).shape == (2,) and init.rand(0, 2).shape == (0, 2)
    assert init.constant(2, c=7, dtype="int8").numpy().tolist() == [7, 7]
    assert init.constant(2, c=True, dtype=bool).dtype == bool
    assert init.randb(3, p=1.0, dtype="float32").numpy().tolist() == [1.0, 1.0, 1.0]
    assert init.one_hot(3, ad.Tensor([2.0, 0.0])).numpy().argmax(1).tolist() == [2, 0]
    assert init.ones_like(np.ones(2)).shape == (2,)
    rng = np.random.default_rng(0)
    w = init.kaiming_uniform(4, 5, shape=(3, 3, 4, 5), dtype="float32", rng=rng)
    assert w.shape == (3, 3, 4, 5) and w.dtype == np.float32
    assert init.xavier_normal(2, 3, gain=0.0).numpy().tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize(
    "labels, error, fragment",
    [
        ([0.9, 1.9], ValueError, "whole numbers"),
        ([np.nan], ValueError, "whole numbers"),
        ([np.inf], ValueError, "whole numbers"),
        ([True, False], TypeError, "integer class indices"),
        (["a"], TypeError, "integer class indices"),
        ([0, 5], ValueError, r"\[0, 2\]"),
        ([-1], ValueError, r"\[0, 2\]"),
    ],
)
def test_one_hot_refuses_labels_that_are_not_class_indices(labels, error, fragment):
    with pytest.raises(error, match=fragment):
        ad.init.one_hot(3, np.array(labels))


def test_one_hot_accepts_whole_float_labels():
    np.testing.assert_array_equal(ad.init.one_hot(3, [2.0, 0.0]).numpy(), np.eye(3)[[2, 0]])


# ======================================================= adjoint.io
# (test_io.py has the state dict's keys and values, a missing directory or
# file, load(None) and load of a directory)

IO = [
    *[
        ("save", f"obj {label}", lambda p, b=bad: io.save(b, p / "a.npz"), _T, "save", frag)
        for label, bad, frag in [
            ("None", None, "obj must be a state dict.*got NoneType"),
            ("int", 3, "got int"),
            ("str", "abc", "got str"),
            ("list", [1.0, 2.0], "got list"),
            ("Graph", ad.Graph(ad.Tensor(1.0)), "got Graph"),
            ("Module", ad.nn.Linear(2, 2), r"save model\.state_dict\(\)"),
        ]
    ],
    *[
        ("save", f"{label} array", lambda p, b=bad: io.save(b, p / "a.npz"), _T, "save", frag)
        for label, bad, frag in [
            ("object", np.array([None]), "'data' has dtype object"),
            ("str", np.array(["a"]), "'data' has dtype <U1"),
            ("complex", np.array([1j]), "'data' has dtype complex128"),
        ]
    ],
    ("save", "path None", lambda p: io.save(np.ones(1), None), _T, "save", "path must be a str"),
    ("save", "path int", lambda p: io.save(np.ones(1), 3), _T, "save", "got int"),
    ("save", "path bytes", lambda p: io.save(np.ones(1), b"a.npz"), _T, "save", "got bytes"),
    ("save", "path empty", lambda p: io.save(np.ones(1), ""), _V, "save", "path is empty"),
    ("save", "path directory", lambda p: io.save(np.ones(1), p), _D, "save", "Is a directory"),
    ("load", "path int", lambda p: io.load(3), _T, "load", "path must be a str"),
    ("load", "path bytes", lambda p: io.load(b"a.npz"), _T, "load", "got bytes"),
    ("load", "path empty", lambda p: io.load(""), _V, "load", "path is empty"),
    ("load", "missing", lambda p: io.load(p / "absent.npz"), _F, "load", "no such file"),
]


@_table(IO)
def test_io_arguments(mode, tmp_path, subject, kind, call, exc, prefix, fragment):
    _check(lambda: call(tmp_path), exc, prefix, fragment, trap_float_errors=False)
    assert sorted(q.name for q in tmp_path.iterdir()) == []  # nothing written, no temp file


# ======================================================= coverage

#: Public names taking no argument to check, with the reason.
NOT_TABLED = {
    "init.Device": "takes no arguments",
    "init.cpu": "takes no arguments",
    "init.default_device": "takes no arguments",
}


def test_the_tables_cover_every_public_name_of_init_and_io():
    tabled = {row[0] for row in INIT}
    assert {n for n in init.__all__ if n not in tabled and f"init.{n}" not in NOT_TABLED} == set()
    assert {n for n in io.__all__ if n not in {row[0] for row in IO}} == set()
