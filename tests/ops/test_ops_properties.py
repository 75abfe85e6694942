"""Property-based tests: binary ops, matmul and reductions over random shapes and broadcasts.

Each property compares against NumPy formulas that do not share code with
adjoint (values, and first derivatives written out by hand and reduced over
the broadcast axes), then runs ``ad.gradcheck`` to second order. Bounded:
few examples, derandomized, no deadline, so the file runs in seconds.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import adjoint as ad

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape`` (NumPy's broadcasting, undone)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for k, n in enumerate(shape):
        if n == 1 and grad.shape[k] != 1:
            grad = grad.sum(axis=k, keepdims=True)
    return grad


# name: (adjoint function, NumPy value, d/da, d/db, input domain); the partials broadcast.
ONE = lambda a, b: np.ones(np.broadcast_shapes(np.shape(a), np.shape(b)))
BINARY = {
    "add": (lambda a, b: a + b, np.add, ONE, ONE, (-2, 2)),
    "subtract": (lambda a, b: a - b, np.subtract, ONE, lambda a, b: -ONE(a, b), (-2, 2)),
    "multiply": (
        lambda a, b: a * b,
        np.multiply,
        lambda a, b: b * ONE(a, b),
        lambda a, b: a * ONE(a, b),
        (-2, 2),
    ),
    "divide": (
        lambda a, b: a / b,
        np.divide,
        lambda a, b: ONE(a, b) / b,
        lambda a, b: -a / b**2,
        (0.5, 2),
    ),
    "power": (
        lambda a, b: a**b,
        np.power,
        lambda a, b: b * a ** (b - 1),
        lambda a, b: a**b * np.log(a),
        (0.5, 2),
    ),
    "maximum": (
        ad.maximum,
        np.maximum,
        lambda a, b: (a > b) * 1.0,
        lambda a, b: (b > a) * 1.0,
        (-2, 2),
    ),
    "minimum": (
        ad.minimum,
        np.minimum,
        lambda a, b: (a < b) * 1.0,
        lambda a, b: (b < a) * 1.0,
        (-2, 2),
    ),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_like_numpy(name, shapes, seed):
    fn, value, d_a, d_b, (low, high) = BINARY[name]
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(low, high, shape_a), rng.uniform(low, high, shape_b)
    x, y = ad.Tensor(a), ad.Tensor(b)
    out = fn(x, y)
    np.testing.assert_allclose(out.numpy(), value(a, b), rtol=1e-14)
    assert out.shape == shapes.result_shape

    w = rng.standard_normal(out.shape)
    out.backward(ad.Tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), unbroadcast(w * d_a(a, b), shape_a), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), unbroadcast(w * d_b(a, b), shape_b), rtol=1e-12)
    assert x.grad.shape == shape_a and y.grad.shape == shape_b

    ad.gradcheck(fn, a, b, order=2, seed=seed, trials=1)


@st.composite
def matmul_shapes(draw):
    """Operand shapes for ``@``: 1-D or batched, with batch shapes that broadcast."""
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    vector_a, vector_b = draw(st.booleans()), draw(st.booleans())
    shape_a = (k,) if vector_a else batch.input_shapes[0] + (n, k)
    shape_b = (k,) if vector_b else batch.input_shapes[1] + (k, m)
    return shape_a, shape_b


def _linear_gradient(f, shape: tuple[int, ...], w: np.ndarray) -> np.ndarray:
    """Gradient of <w, f(x)> for a linear f, exactly: its value at each basis vector."""
    grad = np.zeros(shape)
    for pos in np.ndindex(shape):
        basis = np.zeros(shape)
        basis[pos] = 1.0
        grad[pos] = np.sum(w * f(basis))
    return grad


@SETTINGS
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul_has_numpy_semantics(shapes, seed):
    shape_a, shape_b = shapes
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    x, y = ad.Tensor(a), ad.Tensor(b)
    out = x @ y
    want = np.matmul(a, b)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-13, atol=1e-14)

    w = rng.standard_normal(want.shape)
    out.backward(ad.Tensor(w))
    grad_a = _linear_gradient(lambda e: np.matmul(e, b), shape_a, w)
    grad_b = _linear_gradient(lambda e: np.matmul(a, e), shape_b, w)
    np.testing.assert_allclose(x.grad.numpy(), grad_a, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y.grad.numpy(), grad_b, rtol=1e-12, atol=1e-13)

    ad.gradcheck(lambda p, q: (p @ q) * (p @ q), a, b, order=2, seed=seed, trials=1)


@st.composite
def reduction_cases(draw):
    """A shape, axes in any accepted spelling (None, int, tuple, negatives), and keepdims."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape)
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    negate = draw(st.lists(st.booleans(), min_size=len(chosen), max_size=len(chosen)))
    axes = tuple(k - ndim if neg else k for k, neg in zip(chosen, negate))
    spelling = draw(st.sampled_from(["tuple", "int", "none"]))
    if spelling == "none" or not axes:
        axes = None
    elif spelling == "int":
        axes = axes[0]
    return shape, axes, draw(st.booleans())


def _np_axes(shape, axes):
    if axes is None:
        return tuple(range(len(shape)))
    return tuple(k % len(shape) for k in np.atleast_1d(axes))


def _kept(shape, axes):
    red = _np_axes(shape, axes)
    return tuple(1 if k in red else n for k, n in enumerate(shape))


def _onehot_extreme(a, axes, pick):
    """Where the (unique) max/min along ``axes`` sits, as 0/1."""
    red = _np_axes(a.shape, axes)
    return (a == pick(a, axis=red, keepdims=True)).astype(float)


def _softmax(a, axes):
    red = _np_axes(a.shape, axes)
    e = np.exp(a - a.max(axis=red, keepdims=True))
    return e / e.sum(axis=red, keepdims=True)


# name: (adjoint reduction, NumPy value, gradient of <1, f> as a function of (a, axes))
REDUCTIONS = {
    "sum": (ad.summation, np.sum, lambda a, axes: np.ones_like(a)),
    "mean": (ad.mean, np.mean, lambda a, axes: np.ones_like(a) / (a.size / _count(a, axes))),
    "max": (ad.max, np.max, lambda a, axes: _onehot_extreme(a, axes, np.max)),
    "min": (ad.min, np.min, lambda a, axes: _onehot_extreme(a, axes, np.min)),
    "logsumexp": (
        ad.logsumexp,
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
        _softmax,
    ),
}


def _count(a, axes):
    """Number of output elements of a reduction over ``axes``."""
    red = _np_axes(a.shape, axes)
    return int(np.prod([n for k, n in enumerate(a.shape) if k not in red]))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(case=reduction_cases(), seed=st.integers(0, 2**16))
def test_reductions_over_any_axes(name, case, seed):
    fn, value, grad = REDUCTIONS[name]
    shape, axes, keepdims = case
    rng = np.random.default_rng(seed)
    # A permutation of distinct values: no ties, so max/min have a unique argmax.
    a = rng.permutation(np.prod(shape)).reshape(shape) / 3.0 - 1.0
    x = ad.Tensor(a)
    out = fn(x, axes, keepdims=keepdims)
    np_axes = _np_axes(shape, axes)
    want = value(a, axis=np_axes, keepdims=keepdims)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-13)

    # A cotangent that varies along the kept axes only checks the broadcast back.
    w = rng.standard_normal(out.shape)
    out.backward(ad.Tensor(w))
    w_kept = np.reshape(w, _kept(shape, axes))
    np.testing.assert_allclose(x.grad.numpy(), w_kept * grad(a, axes), rtol=1e-12, atol=1e-15)

    ad.gradcheck(lambda t: fn(t, axes, keepdims=keepdims) ** 2, a, order=2, seed=seed, trials=1)


@SETTINGS
@given(case=reduction_cases(), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 1000.0]))
def test_softmax_and_log_softmax_properties(case, seed, scale):
    shape, axes, _ = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * scale
    red = _np_axes(shape, axes)
    s = ad.softmax(ad.Tensor(a), axes).numpy()
    log_s = ad.log_softmax(ad.Tensor(a), axes).numpy()
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(log_s))
    np.testing.assert_allclose(s.sum(axis=red), 1.0, rtol=1e-13)
    np.testing.assert_allclose(s, _softmax(a, axes), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(np.exp(log_s), s, rtol=1e-12, atol=1e-300)
    shifted = ad.softmax(ad.Tensor(a + 7.5), axes).numpy()
    np.testing.assert_allclose(shifted, s, rtol=1e-9, atol=1e-300)


@SETTINGS
@given(
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_basic_indexing_and_its_gradient(shape, data, seed):
    index = tuple(
        data.draw(
            st.one_of(
                st.integers(-n, n - 1),
                st.builds(
                    slice,
                    st.none() | st.integers(-n, n),
                    st.none() | st.integers(-n, n),
                    st.none() | st.sampled_from([-2, -1, 1, 2]),
                ),
                st.lists(st.integers(-n, n - 1), min_size=1, max_size=3),
            )
        )
        for n in shape[: data.draw(st.integers(1, len(shape)))]
    )
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    want = a[index]
    x = ad.Tensor(a)
    out = x[index]
    np.testing.assert_array_equal(out.numpy(), want)
    w = rng.standard_normal(want.shape)
    out.backward(ad.Tensor(w))
    expected = np.zeros(shape)
    np.add.at(expected, index, w)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)
    if want.size:
        ad.gradcheck(lambda t: t[index] ** 2, a, order=2, seed=seed, trials=1)


shape_st = array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(shape_a=shape_st, shape_b=shape_st)
def test_broadcast_shapes_agrees_with_numpy_or_names_both_shapes(shape_a, shape_b):
    from adjoint.ops.common import broadcast_shapes

    try:
        want = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        with pytest.raises(ValueError, match=r"add: shapes .* do not broadcast"):
            broadcast_shapes(shape_a, shape_b, "add")
    else:
        assert broadcast_shapes(shape_a, shape_b, "add") == want
