"""needle hw2's engine-level names: ``ops.logsoftmax`` / ``ops.LogSoftmax`` and
``autograd.TENSOR_COUNTER``, against numbers computed here without adjoint
(Python's ``math`` row by row, NumPy formulas) and against adjoint's composite
``log_softmax``."""

import math
import weakref

import numpy as np
import pytest

import adjoint as ndl
from adjoint import autograd


def _needle_tensor(*shape, entropy=1):
    """needle hw2's ``get_tensor``: integers / 20 from a seed of the shape, float32."""
    np.random.seed(np.prod(shape) * len(shape) * entropy)
    return np.random.randint(0, 100, size=shape) / 20


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log softmax over axis 1, one row at a time in Python floats (shifted by the row max)."""
    out = np.empty(z.shape)
    for i, row in enumerate(z.tolist()):
        m = max(row)
        lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
        out[i] = [v - lse for v in row]
    return out


@pytest.mark.parametrize("shape, mult", [((3, 3), 1), ((3, 5), 1), ((3, 3), 1e5), ((4, 6), 1e5)])
def test_logsoftmax_forward_is_stable_and_keeps_float32(shape, mult):
    z = _needle_tensor(*shape) * mult
    y = ndl.ops.logsoftmax(ndl.Tensor(z, dtype="float32"))
    assert y.dtype == np.float32 and y.shape == shape
    np.testing.assert_allclose(y.numpy(), _log_softmax_rows(z.astype(np.float32)), rtol=1e-6)
    assert np.isfinite(y.numpy()).all()


def test_logsoftmax_values_needle_publishes():
    """The first rows of needle's test_op_logsoftmax_forward_1 and _stable_forward_1."""
    z = _needle_tensor(3, 3)
    y = ndl.ops.logsoftmax(ndl.Tensor(z, dtype="float32")).numpy()
    np.testing.assert_allclose(y[0], [-1.6436583, -2.7936583, -0.29365814], rtol=1e-5)
    y = ndl.ops.logsoftmax(ndl.Tensor(z, dtype="float32") * 1e5).numpy()
    np.testing.assert_allclose(y[0], [-135000.02, -250000.0, 0.0], rtol=1e-5)


@pytest.mark.parametrize("mult", [1.0, 1e5])
def test_logsoftmax_backward_is_the_textbook_adjoint(mult):
    """d/dz of sum(y ** 2) with y = logsoftmax(z): g - softmax(z) * sum(g), g = 2y."""
    z = _needle_tensor(3, 6)
    x = ndl.Tensor(z)
    (ndl.ops.logsoftmax(x * mult) ** 2).sum().backward()
    y = _log_softmax_rows(z * mult)
    g = 2 * y
    expected = mult * (g - np.exp(y) * g.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-9 * mult)


def test_logsoftmax_op_equals_the_composition_to_the_second_order():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))

    def loss(fn):
        return lambda t: ndl.sum(fn(t) * w * fn(t * 0.5))

    op = loss(ndl.logsoftmax)
    composite = loss(lambda t: ndl.log_softmax(t, axes=1))
    np.testing.assert_allclose(
        ndl.grad(op)(ndl.Tensor(z)).numpy(), ndl.grad(composite)(ndl.Tensor(z)).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        ndl.hessian(op)(ndl.Tensor(z)).numpy(),
        ndl.hessian(composite)(ndl.Tensor(z)).numpy(),
        rtol=1e-10,
        atol=1e-12,
    )
    assert ndl.gradcheck(op, ndl.Tensor(z), order=2)


def test_logsoftmax_is_one_node_and_lazy_mode_knows_its_shape():
    x = ndl.Tensor(np.zeros((2, 3)))
    y = ndl.ops.LogSoftmax()(x)
    assert isinstance(y.op, ndl.ops.LogSoftmax) and y.inputs == (x,)
    with ndl.lazy_mode():
        z = ndl.logsoftmax(ndl.Tensor(np.arange(6).reshape(3, 2)))
        assert z.cached_data is None and z.shape == (3, 2) and z.dtype == np.float64
    np.testing.assert_allclose(z.numpy(), _log_softmax_rows(np.arange(6.0).reshape(3, 2)))


def test_logsoftmax_masked_logits_match_the_composition():
    z = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]])
    w = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    grads = []
    for fn in (ndl.logsoftmax, lambda t: ndl.log_softmax(t, 1)):
        x = ndl.Tensor(z)
        y = fn(x)
        y.backward(ndl.Tensor(w))
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(y.numpy()[1], [-np.inf, -np.inf, 0.0])
    np.testing.assert_allclose(grads[0], grads[1])
    # -inf entries have probability 0: their adjoint is w itself (d(z - lse)/dz = 1 - 0).
    np.testing.assert_allclose(grads[0][1], [0.5, -1.0, 2.0 - 1.5])


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_logsoftmax_needs_a_matrix(shape):
    with pytest.raises(ValueError, match=r"logsoftmax: expected a 2-D input .* log_softmax"):
        ndl.logsoftmax(ndl.Tensor(np.zeros(shape)))
    with pytest.raises(ValueError, match="logsoftmax: cannot reduce over axis 1 of size 0"):
        ndl.logsoftmax(ndl.Tensor(np.zeros((2, 0))))


# ------------------------------------------------------------------- TENSOR_COUNTER


def test_tensor_counter_counts_live_tensors_exactly():
    before = autograd.TENSOR_COUNTER
    assert isinstance(before, int)
    x = ndl.Tensor([1.0, 2.0])
    y = ndl.sum(x * x)  # two more nodes
    assert autograd.TENSOR_COUNTER - before == 3
    y.backward()  # x.grad refers back to x: a cycle, counted while alive
    grad_nodes = len(ndl.find_topo_sort([x.grad])) - 1  # without x itself
    assert autograd.TENSOR_COUNTER - before == 3 + grad_nodes
    proxy = weakref.proxy(x)  # looks like a Tensor to isinstance, is not one
    assert autograd.TENSOR_COUNTER - before == 3 + grad_nodes
    del x, y, proxy  # the cycle is unreachable now: not counted
    assert autograd.TENSOR_COUNTER - before == 0
    assert autograd.live_tensor_count() == before
    with pytest.raises(AttributeError, match="has no attribute 'TENSOR_COUNTERS'"):
        autograd.TENSOR_COUNTERS  # noqa: B018


def test_tensor_counter_stays_flat_over_optimizer_steps():
    """needle's memory check, made strict: a training step leaves no Tensor behind."""
    rng = np.random.default_rng(0)
    model = ndl.nn.Sequential(ndl.nn.Linear(4, 8), ndl.nn.ReLU(), ndl.nn.Linear(8, 3))
    for opt in (
        ndl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01),
        ndl.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01),
    ):
        counts = []
        for _ in range(4):
            x = ndl.Tensor(rng.normal(size=(5, 4)), requires_grad=False)
            y = ndl.Tensor(rng.integers(0, 3, size=5), requires_grad=False)
            opt.reset_grad()
            ndl.nn.SoftmaxLoss()(model(x), y).backward()
            opt.step()
            del x, y
            counts.append(autograd.TENSOR_COUNTER)
        assert counts[1] == counts[2] == counts[3], counts
