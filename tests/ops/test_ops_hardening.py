"""Issue 17 for the ops: kept arrays are private, integers are integers, NaN and inf
have decided gradients, no cache holds user-sized data, and dtypes NumPy refuses or
promotes get adjoint's answer.

The NaN/inf conventions are asserted as values (so they hold without PyTorch) and,
where adjoint agrees with PyTorch, compared with it when it is installed.
"""

import math
import tracemalloc
import warnings

import numpy as np
import pytest

import adjoint as ad
from adjoint.ops import common

NAN, INF = math.nan, math.inf


@pytest.fixture(params=[False, True], ids=["eager", "lazy"])
def mode(request):
    with ad.lazy_mode(request.param):
        yield request.param


def _grad(fn, values, *, seed=None):
    """fn's value and the gradient of sum(fn(x)) (or fn(x) . seed) at ``values``."""
    x = ad.Tensor(np.array(values, dtype=np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = fn(x)
        out = y.numpy().copy()
        (y * (1.0 if seed is None else ad.Tensor(seed))).sum().backward()
        return out, x.grad.numpy()


# ------------------------------------------------------- 1. private index arrays


@pytest.mark.parametrize(
    "index, changed",
    [
        (np.array([0, 1]), [2, 2]),
        (np.array([True, True, False]), [False, False, True]),
        (ad.Tensor(np.array([0, 1])), [2, 2]),
    ],
    ids=["int array", "bool mask", "int Tensor"],
)
def test_index_arrays_are_private_copies(mode, index, changed):
    x = ad.Tensor([1.0, 2.0, 3.0])
    y = (x[index] * ad.Tensor([1.0, 10.0], requires_grad=False)).sum()
    user = index.numpy() if isinstance(index, ad.Tensor) else index
    before = user.copy()
    assert user.flags.writeable  # not made read-only
    user[:] = changed  # the user reuses their array
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 0.0])
    assert ad.Graph(y).run({x: np.array([5.0, 6.0, 7.0])})[0] == 65.0
    user[:] = before
    np.testing.assert_array_equal(user, before)  # never written by adjoint


def test_kept_index_arrays_are_read_only_and_the_callers_untouched(mode):
    idx = np.array([[0, 1], [1, 0]])
    mask = np.array([True, False, True])
    x = ad.Tensor([1.0, 2.0, 3.0])
    for index in (idx, mask, [0, 2], (mask,)):
        node = x[index]
        kept = [item for item in node.op.index if isinstance(item, np.ndarray)]
        assert kept and all(not a.flags.writeable for a in kept)
        assert all(a is not idx and a is not mask for a in kept)
    assert idx.flags.writeable and mask.flags.writeable
    np.testing.assert_array_equal(idx, [[0, 1], [1, 0]])


def test_scatter_add_keeps_a_private_index(mode):
    idx = np.array([0, 0])
    out = ad.scatter_add(ad.Tensor([1.0, 2.0]), idx, (3,))
    idx[:] = 2
    np.testing.assert_array_equal(out.numpy(), [3.0, 0.0, 0.0])


# --------------------------------------------------- 6. integers must be integers


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda x: ad.sum(x, axes=[1.5]), r"summation: axes must be None, an int or a tuple"),
        (lambda x: ad.sum(x, axes="0"), r"summation: axes must be .* got '0'"),
        (lambda x: ad.sum(x, axes=True), r"summation: axes .* got True"),
        (lambda x: x.max((0, 1.0)), r"max: axes must be"),
        (lambda x: ad.mean(x, np.float64(1)), r"mean: axes must be"),
        (lambda x: ad.split(x, [1.5], axis=1), r"split: each split point must be an int, got 1.5"),
        (lambda x: ad.split(x, True), r"split: indices_or_sections must be an int or a list"),
        (lambda x: ad.split(x, axis=0.0), r"split: axis must be an int, got 0.0"),
        (lambda x: ad.stack([x, x], axis=True), r"stack: axis must be an int, got True"),
        (lambda x: ad.flatten(x, 0.5), r"flatten: start_axis must be an int"),
        (lambda x: ad.expand_dims(x, 1.5), r"expand_dims: axis must be None, an int or a tuple"),
        (lambda x: ad.expand_dims(x, None), r"expand_dims: axis must be an int or a tuple"),
        (lambda x: ad.max(x, 0, keepdims="no"), r"max: keepdims must be a bool, got 'no'"),
    ],
)
def test_non_integer_axes_are_refused(mode, call, fragment):
    with pytest.raises(TypeError, match=fragment):
        call(ad.Tensor(np.ones((2, 3))))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"stride": True}, r"conv2d: stride must be an int, got True of type bool"),
        ({"stride": 1.5}, r"conv2d: stride must be an int, got 1.5"),
        ({"stride": 1.0}, r"conv2d: stride must be an int"),
        ({"padding": False}, r"conv2d: padding must be an int, got False"),
        ({"padding": "1"}, r"conv2d: padding must be an int, got '1'"),
    ],
)
def test_conv2d_geometry_must_be_ints(mode, kwargs, fragment):
    x, w = ad.Tensor(np.ones((1, 1, 3, 3))), ad.Tensor(np.ones((1, 1, 1, 1)))
    with pytest.raises(TypeError, match=fragment):
        ad.conv2d(x, w, **kwargs)


def test_pooling_and_im2col_geometry_must_be_ints(mode):
    x = ad.Tensor(np.ones((1, 1, 4, 4)))
    with pytest.raises(TypeError, match=r"max_pool2d: kernel_size must be a positive int .* 2.5"):
        ad.max_pool2d(x, 2.5)
    with pytest.raises(TypeError, match=r"avg_pool2d: kernel_size must be a positive int or"):
        ad.avg_pool2d(x, "2")
    with pytest.raises(TypeError, match=r"avg_pool2d: stride must be an int, got True"):
        ad.avg_pool2d(x, 2, stride=True)
    with pytest.raises(TypeError, match=r"im2col: kernel_size must be an int, got True"):
        ad.im2col(x, (True, 2))
    with pytest.raises(TypeError, match=r"col2im: each size in shape must be an int, got 4.0"):
        ad.col2im(ad.Tensor(np.ones((1, 4, 4, 1, 1, 1))), (1, 1, 4.0, 4), 1)


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda x: x.reshape(2.5, 2), TypeError, r"reshape: each size in shape must be an int"),
        (lambda x: x.reshape((2.0, 2)), TypeError, r"reshape: each size in shape must be an int"),
        (lambda x: ad.reshape(x, None), TypeError, r"reshape: shape must be an int or a tuple"),
        (lambda x: x.permute(0.5, 1), TypeError, r"permute: each axis must be an int, got 0.5"),
        (lambda x: ad.permute(x, None), TypeError, r"permute: axes must be a tuple of ints"),
        (lambda x: x.broadcast_to((2.0, 2)), TypeError, r"broadcast_to: each size in shape"),
        (lambda x: x.broadcast_to((-1, 2)), ValueError, r"broadcast_to: invalid shape \(-1, 2\)"),
        (lambda x: ad.transpose(x, 1), TypeError, r"transpose: axes must be None or two ints"),
        (lambda x: ad.sum(x, 0, keepdims="no"), TypeError, r"summation: keepdims must be a bool"),
    ],
)
def test_linear_ops_refuse_non_integer_shapes_and_axes(mode, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(ad.Tensor(np.ones((2, 2))))


def test_numpy_integers_are_still_integers(mode):
    x = ad.Tensor(np.ones((2, 3, 4)))
    assert ad.sum(x, np.int64(1)).shape == (2, 4)
    assert ad.sum(x, [np.int32(0), -1]).shape == (3,)
    assert ad.max(x, 0, keepdims=np.bool_(True)).shape == (1, 3, 4)
    assert [p.shape for p in ad.split(x, np.array([1]), axis=np.int8(1))] == [(2, 1, 4), (2, 2, 4)]
    assert ad.conv2d(x[None], ad.Tensor(np.ones((1, 1, 2, 1))), stride=np.int64(1)).shape == (
        1,
        1,
        3,
        4,
    )


# ------------------------------------------------------------- 7. wrong results


def test_conv2d_refuses_an_empty_kernel(mode):
    x = ad.Tensor(np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: weight of shape \(0, 0, 1, 1\) has a 0 x 0"):
        ad.conv2d(x, ad.Tensor(np.ones((0, 0, 1, 1))))
    with pytest.raises(ValueError, match=r"has a 1 x 0 kernel"):
        ad.conv2d(x, ad.Tensor(np.ones((1, 0, 1, 1))))


def test_conv2d_with_no_channels_or_no_images_is_exact(mode):
    """0 input channels: every output is an empty sum, 0; 0 outputs or 0 images: empty."""
    x = ad.Tensor(np.ones((2, 0, 3, 3)))
    w = ad.Tensor(np.ones((2, 2, 0, 3)))
    y = ad.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(y.numpy(), np.zeros((2, 3, 4, 4)))
    y.sum().backward()
    assert x.grad.shape == (2, 0, 3, 3) and w.grad.shape == (2, 2, 0, 3)
    y = ad.conv2d(ad.Tensor(np.ones((2, 2, 3, 3))), ad.Tensor(np.ones((2, 2, 2, 0))))
    assert y.shape == (2, 0, 2, 2) and y.numpy().shape == (2, 0, 2, 2)
    w = ad.Tensor(np.ones((2, 2, 2, 3)))
    y = ad.conv2d(ad.Tensor(np.ones((0, 2, 3, 3))), w)
    assert y.numpy().shape == (0, 3, 2, 2)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((2, 2, 2, 3)))


def test_graph_run_over_an_empty_batch_through_stack():
    a, b = ad.Tensor(np.ones(2)), ad.Tensor(np.ones(2))
    out = ad.Graph(ad.stack([a, b * 2.0])).run({a: np.ones((0, 2)), b: np.ones((0, 2))})[0]
    assert out.shape == (0, 2, 2) and out.dtype == np.float64


def test_nan_in_max_and_min_sends_the_gradient_to_the_nan(mode):
    np.testing.assert_array_equal(_grad(ad.max, [1.0, NAN, 3.0])[1], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_grad(ad.min, [1.0, NAN, 3.0])[1], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_grad(ad.max, [NAN, 1.0, NAN])[1], [0.5, 0.0, 0.5])
    value, grad = _grad(lambda x: x.max(1), [[1.0, NAN, 3.0], [1.0, 2.0, 2.0]])
    np.testing.assert_array_equal(value, [NAN, 2.0])
    np.testing.assert_array_equal(grad, [[0.0, 1.0, 0.0], [0.0, 0.5, 0.5]])
    np.testing.assert_array_equal(_grad(ad.max, [1.0, INF, INF])[1], [0.0, 0.5, 0.5])


def test_equal_mask_treats_nan_as_equal_to_nan(mode):
    a = ad.Tensor([NAN, NAN, 1.0, 2.0])
    b = ad.Tensor([NAN, 1.0, NAN, 2.0])
    np.testing.assert_array_equal(ad.equal_mask(a, b).numpy(), [1.0, 0.0, 0.0, 1.0])


#: The decided conventions: (name, function, input, value, gradient, PyTorch agrees).
#: Where PyTorch differs, the op's docstring says why.
CONVENTIONS = [
    ("max nan", lambda x: x.max(), [1.0, NAN, 3.0], NAN, [0.0, 1.0, 0.0], True),
    ("max two nans", lambda x: x.max(), [1.0, NAN, NAN], NAN, [0.0, 0.5, 0.5], True),
    ("min nan", lambda x: x.min(), [1.0, NAN, 3.0], NAN, [0.0, 1.0, 0.0], True),
    ("max inf", lambda x: x.max(), [1.0, INF, 3.0], INF, [0.0, 1.0, 0.0], True),
    ("max ties", lambda x: x.max(), [3.0, 1.0, 3.0], 3.0, [0.5, 0.0, 0.5], True),
    ("relu", ad.relu, [0.0, -0.0, INF, -INF], [0, 0, INF, 0], [0.0, 0.0, 1.0, 0.0], True),
    ("relu nan", ad.relu, [NAN], [NAN], [0.0], False),  # PyTorch: 1
    ("abs", ad.abs, [0.0, -0.0, INF, -INF], [0, 0, INF, INF], [0.0, 0.0, 1.0, -1.0], True),
    ("abs nan", ad.abs, [NAN], [NAN], [NAN], False),  # PyTorch: 0
    ("x**x", lambda x: x**x, [1.0, 2.0], [1.0, 4.0], [1.0, 4 * (math.log(2) + 1)], True),
    ("x**x at 0", lambda x: x**x, [0.0], [1.0], [NAN], False),  # PyTorch: 0
    ("x**0", lambda x: x**0, [0.0, NAN, INF], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], True),
    ("x**0.5 at 0", lambda x: x**0.5, [0.0], [0.0], [INF], True),
    ("0**x", lambda x: 0.0**x, [1.0, 2.0, -1.0, NAN], [0, 0, INF, NAN], [0, 0, -INF, NAN], True),
    ("0**x at 0", lambda x: 0.0**x, [0.0], [1.0], [-INF], False),  # PyTorch: 0
    ("softmax inf", lambda x: ad.softmax(x), [INF, 1.0, 2.0], [NAN] * 3, [NAN] * 3, True),
    ("log_softmax inf", lambda x: ad.log_softmax(x), [INF, 1.0], [NAN] * 2, [NAN] * 2, True),
    ("softmax -inf", lambda x: ad.softmax(x)[1], [-INF, 0.0, 0.0], 0.5, [0.0, 0.25, -0.25], True),
    ("softmax all -inf", lambda x: ad.softmax(x), [-INF, -INF], [NAN] * 2, [NAN] * 2, True),
    ("lse inf", lambda x: ad.logsumexp(x), [INF, 1.0, 2.0], INF, [NAN, 0.0, 0.0], True),
    ("lse two infs", lambda x: ad.logsumexp(x), [INF, INF, 2.0], INF, [NAN, NAN, 0.0], True),
    ("lse inf -inf", lambda x: ad.logsumexp(x), [INF, -INF], INF, [NAN, 0.0], True),
    ("lse -inf", lambda x: ad.logsumexp(x), [-INF, 0.0], 0.0, [0.0, 1.0], True),
    ("lse all -inf", lambda x: ad.logsumexp(x), [-INF, -INF], -INF, [NAN, NAN], True),
    ("lse nan", lambda x: ad.logsumexp(x), [NAN, 1.0], NAN, [NAN, NAN], True),
]


def _maximum_grads(a, b):
    x, y = ad.Tensor(np.array(a)), ad.Tensor(np.array(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ad.maximum(x, y).sum().backward()
    return x.grad.numpy(), y.grad.numpy()


@pytest.mark.parametrize("case", CONVENTIONS, ids=lambda c: c[0])
def test_nan_and_inf_conventions(mode, case):
    _, fn, values, value, grad, _ = case
    out, g = _grad(fn, values)
    np.testing.assert_array_equal(out, np.broadcast_to(value, out.shape))
    np.testing.assert_array_equal(g, grad)


@pytest.mark.parametrize("case", [c for c in CONVENTIONS if c[5]], ids=lambda c: c[0])
def test_nan_and_inf_conventions_agree_with_pytorch(case):
    torch = pytest.importorskip("torch")
    name, fn, values, value, grad, _ = case
    torch_fns = {
        "max": lambda t: t.max(),
        "min": lambda t: t.min(),
        "relu": torch.relu,
        "abs": torch.abs,
        "x**x": lambda t: t**t,
        "x**0": lambda t: t**0,
        "x**0.5": lambda t: t**0.5,
        "0**x": lambda t: 0.0**t,
        "softmax -inf": lambda t: torch.softmax(t, 0)[1],
        "softmax": lambda t: torch.softmax(t, 0),
        "log_softmax": lambda t: torch.log_softmax(t, 0),
        "lse": lambda t: torch.logsumexp(t, 0),
    }
    key = max((k for k in torch_fns if name.startswith(k)), key=len)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y = torch_fns[key](t)
    y.sum().backward()
    ours_value, ours_grad = _grad(fn, values)
    np.testing.assert_array_equal(ours_value, y.detach().numpy())
    np.testing.assert_array_equal(ours_grad, t.grad.numpy())


def test_maximum_and_minimum_at_nan_and_infinite_ties(mode):
    # the NaN operand takes the adjoint; two NaNs or two equal infinities split it
    a = [NAN, 1.0, 3.0, NAN, INF, -INF, INF]
    b = [2.0, 2.0, NAN, NAN, INF, -INF, 1.0]
    ga, gb = _maximum_grads(a, b)
    np.testing.assert_array_equal(ga, [1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(gb, [0.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.0])
    x, y = ad.Tensor([INF, 1.0, NAN]), ad.Tensor([INF, 2.0, 0.0])
    ad.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 0.0, 0.0])


def test_maximum_agrees_with_pytorch_where_pytorch_sums_to_out_grad():
    torch = pytest.importorskip("torch")
    a, b = [INF, -INF, INF, 1.0, 2.0], [INF, -INF, 1.0, 2.0, 2.0]
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    ga, gb = _maximum_grads(a, b)
    np.testing.assert_array_equal(ga, ta.grad.numpy())
    np.testing.assert_array_equal(gb, tb.grad.numpy())


def test_scalar_power_with_base_zero_has_a_gradient(mode):
    """0 ** x used to refuse its gradient; it is 0 where 0 ** x is constant (x > 0)."""
    value, grad = _grad(lambda x: ad.scalar_power(0.0, x), [0.5, 3.0, 0.0, -2.0])
    np.testing.assert_array_equal(value, [0.0, 0.0, 1.0, INF])
    np.testing.assert_array_equal(grad, [0.0, 0.0, -INF, -INF])
    with pytest.raises(ValueError, match=r"ScalarPower: the gradient of -2.0 \*\* x needs a base"):
        _grad(lambda x: (-2.0) ** x, [1.0])


# ------------------------------------------------ 11. no cache of user-sized data


def test_the_zeros_cache_holds_no_user_sized_data():
    common._zeros_constant.cache_clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [common.no_adjoint(ad.Tensor(np.ones((n, 1000)))) for n in range(100, 180)]
        for t in kept:
            assert t.shape[1] == 1000 and not t.numpy().any()
            assert not t.numpy().flags.writeable
        del kept
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000  # 64 entries of (n, 1000) float64 zeros held ~70 MB
    info = common._zeros_constant.cache_info()
    assert info.currsize == 64
    # what stays: for each entry a view of one zero, whatever its shape
    for n in range(150, 180):
        data = common._zeros_constant((n, 1000), np.dtype(np.float64)).numpy()
        base = data
        while base.base is not None:
            base = base.base
        assert base.nbytes <= 8 and data.strides == (0, 0)


# --------------------------------------- 13. dtypes NumPy refuses or promotes


def test_true_division_of_integers_and_bools_gives_floats(mode):
    for data, expected in [([1, 2, 4], [1.0, 0.5, 0.25]), ([True, True], [1.0, 1.0])]:
        x = ad.Tensor(np.array(data))
        y = 1 / x
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y.numpy(), expected)
        z = 3 / x
        np.testing.assert_array_equal(z.numpy(), 3 * np.array(expected))
    x = ad.Tensor(np.array([1, 2, 4], dtype=np.int8))
    y = 2.0 / x
    assert y.dtype == (2.0 / np.array([1], np.int8)).dtype
    y.backward(np.full(3, 0.5))
    np.testing.assert_allclose(x.grad.numpy(), -0.5 * 2.0 / np.array([1.0, 4.0, 16.0]))
    assert (1 / ad.Tensor([2.0], dtype=np.float32)).dtype == np.float32  # floats: x ** -1


def test_negative_integer_powers_of_integers_are_refused(mode):
    x = ad.Tensor(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"power: integers to negative integer powers .*int64"):
        x**-1
    with pytest.raises(ValueError, match=r"power_scalar: integers to negative integer powers"):
        ad.power_scalar(ad.Tensor(np.array([True])), -2)
    np.testing.assert_array_equal((x**-1.0).numpy(), [1.0, 0.5])  # a float exponent works


def test_bool_tensors_have_no_negative(mode):
    mask = ad.Tensor(np.array([True, False]))
    for call in (lambda: -mask, lambda: ad.negate(mask), lambda: 1.0 - mask):
        with pytest.raises(TypeError, match=r"(negate|subtract): a bool tensor has no negative"):
            call()
    with pytest.raises(TypeError, match=r"subtract: a bool tensor has no negative"):
        ad.Tensor([1.0, 2.0]) - mask
    np.testing.assert_array_equal((mask - 1.0).numpy(), [0.0, -1.0])  # bool - number is fine


def test_sign_and_sigmoid_of_bools(mode):
    mask = ad.Tensor(np.array([True, False]))
    assert ad.sign(mask).dtype == np.bool_
    np.testing.assert_array_equal(ad.sign(mask).numpy(), [True, False])
    s = ad.sigmoid(mask)
    assert s.dtype == np.float16  # as NumPy's exp of a bool
    np.testing.assert_allclose(s.numpy(), [1 / (1 + np.exp(-1.0)), 0.5], rtol=1e-3)


def test_a_ragged_index_list_is_an_index_error(mode):
    with pytest.raises(IndexError, match=r"getitem: index list \[\[0, 1\], \[0\]\] is ragged"):
        ad.Tensor(np.ones((3, 3)))[[[0, 1], [0]]]


def test_operands_of_bad_dtypes_name_the_op(mode):
    with pytest.raises(TypeError, match=r"exp: data of dtype <U1 is not supported"):
        ad.exp(np.array(["a"]))
    with pytest.raises(TypeError, match=r"multiply: data of dtype complex128 is not supported"):
        ad.Tensor([1.0]) * np.array([1j])
    with pytest.raises(ValueError, match=r"add: data is ragged"):
        ad.Tensor([1.0]) + [[1.0], [2.0, 3.0]]
