"""Whole programs: the issue's realistic expression, stability at ±1000, lazy equals eager."""

import numpy as np
import pytest

import adjoint as ad

# ------------------------------------------------------------ a realistic program


def program(x, y, z, lib=ad):
    """Integer indexing, .T, transpose(3, 4), permute, flatten, batched broadcasting @,
    5.0 ** x, x ** 2.2, division, reshape and mean((0, 2)), written once for adjoint
    Tensors and (with ``lib=None``) for NumPy arrays."""
    a = (5.0**x) / (y**2.2 + 1.0)  # (2, 4, 6, 3, 4)
    zt = z.transpose(3, 4) if lib else np.swapaxes(z, 3, 4)  # (2, 4, 1, 4, 1)
    b = a @ zt  # batches (2, 4, 6) and (2, 4, 1) broadcast: (2, 4, 6, 3, 1)
    c = b[1, :, ::2].T  # (4, 3, 3, 1) reversed: (1, 3, 3, 4)
    d = c.permute(0, 3, 1, 2) if lib else np.transpose(c, (0, 3, 1, 2))  # (1, 4, 3, 3)
    e = d.flatten() / (1.0 + x[0, -1, :3].flatten() ** 2)  # (36,)
    f = e.reshape(2, 3, 6)
    return f.mean((0, 2)) if lib else f.mean(axis=(0, 2))


@pytest.fixture
def program_inputs():
    rng = np.random.default_rng(42)
    x = rng.uniform(-1.0, 1.0, (2, 4, 6, 3, 4))
    y = rng.uniform(0.5, 1.5, (2, 4, 6, 3, 4))
    z = rng.uniform(-1.0, 1.0, (2, 4, 1, 1, 4))
    return x, y, z


def test_realistic_program_values_and_shapes(program_inputs):
    x, y, z = program_inputs
    tensors = [ad.Tensor(a) for a in program_inputs]
    out = program(*tensors)
    assert out.shape == (3,)
    np.testing.assert_allclose(out.numpy(), program(x, y, z, lib=None), rtol=1e-13)
    out.backward(ad.Tensor([1.0, -2.0, 0.5]))
    for t in tensors:
        assert t.grad.shape == t.shape
        assert np.all(np.isfinite(t.grad.numpy()))
    assert np.any(tensors[2].grad.numpy() != 0)


def test_realistic_program_gradients_match_finite_differences(program_inputs):
    assert ad.gradcheck(program, *program_inputs, order=1, trials=3)


def test_realistic_program_second_derivatives(program_inputs):
    assert ad.gradcheck(program, *program_inputs, order=2, trials=1)


# ------------------------------------------------------------------ stability


EXTREMES = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]])


def _first_and_second(fn, data):
    """Gradient of <w, fn(x)> and the gradient of <that, u>, as NumPy arrays."""
    rng = np.random.default_rng(0)
    x = ad.Tensor(data)
    out = fn(x)
    out.backward(ad.Tensor(rng.standard_normal(out.shape)))
    g = x.grad
    x.grad = None
    (g * ad.Tensor(rng.standard_normal(data.shape))).sum().backward()
    return out.numpy(), g.numpy(), x.grad.numpy()


@pytest.mark.parametrize(
    "name", ["softmax", "log_softmax", "logsumexp", "logsumexp keepdims", "sigmoid"]
)
def test_no_overflow_at_plus_minus_1000(name):
    fn = {
        "softmax": ad.softmax,
        "log_softmax": ad.log_softmax,
        "logsumexp": lambda t: ad.logsumexp(t, 1),
        "logsumexp keepdims": lambda t: ad.logsumexp(t, axes=(0, 1), keepdims=True),
        "sigmoid": ad.sigmoid,
    }[name]
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        value, first, second = _first_and_second(fn, EXTREMES)
    for array in (value, first, second):
        assert np.all(np.isfinite(array)), (name, array)


def test_stable_values_at_plus_minus_1000():
    log2 = np.log(2.0)
    np.testing.assert_allclose(
        ad.logsumexp(ad.Tensor(EXTREMES), 1).numpy(), [1000.0, -999.0 + np.log1p(2 * np.exp(-1))]
    )
    np.testing.assert_allclose(
        ad.logsumexp(ad.Tensor([-1000.0, -1000.0])).numpy(), -1000.0 + log2, rtol=1e-15
    )
    np.testing.assert_array_equal(ad.softmax(ad.Tensor(EXTREMES[0])).numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(
        ad.log_softmax(ad.Tensor(EXTREMES[0])).numpy(), [0.0, -1000.0, -2000.0]
    )
    np.testing.assert_array_equal(ad.sigmoid(ad.Tensor([-1000.0, 1000.0])).numpy(), [0.0, 1.0])
    x = ad.Tensor([1000.0, 1000.0])
    ad.logsumexp(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5])


def test_the_naive_formulas_would_overflow():
    """What the shift by the maximum buys: the textbook formula gives inf and NaN here."""
    x = ad.Tensor(EXTREMES[0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = ad.exp(x) / ad.exp(x).sum()
        assert np.isnan(naive.numpy()[0])
    assert np.all(np.isfinite(ad.softmax(x).numpy()))


def test_softmax_derivatives_are_exact_where_they_underflow():
    """log_softmax's gradient is w - softmax * sum(w): no 0 * inf anywhere."""
    x = ad.Tensor(EXTREMES[0])
    w = np.array([1.0, 2.0, 3.0])
    ad.log_softmax(x).backward(ad.Tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), w - np.array([1.0, 0.0, 0.0]) * w.sum())


# ------------------------------------------------------------ lazy equals eager


LAZY_CASES = {
    "getitem advanced": lambda t: t[[1, 0, 1], ::-1, None] * t[0, 0],
    "getitem mask": lambda t: t[np.array([True, False])].sum(1) ** 2,
    "stack split concatenate": lambda t: ad.concatenate(
        ad.split(ad.stack([t, t * t], axis=1), [1], axis=2)[::-1], axis=2
    ),
    "max min keepdims": lambda t: t.max(1, keepdims=True) * t.min(0),
    "mean": lambda t: t.mean((0, -1)) ** 2,
    "logsumexp softmax log_softmax": lambda t: (
        ad.logsumexp(t, 1) + ad.softmax(t, 1).sum(1) + ad.log_softmax(t, (0, 1)).sum((0, 1))
    ),
    "where maximum minimum": lambda t: ad.where(ad.step(t), ad.maximum(t, 0.1), ad.minimum(t, -t)),
    "tanh sqrt abs sigmoid sign": lambda t: (
        ad.tanh(t) * ad.sqrt(abs(t) + 1) + ad.sigmoid(t) * ad.sign(t)
    ),
    "flatten squeeze expand_dims": lambda t: ad.squeeze(ad.expand_dims(t.flatten(1), (0, 2))) ** 2,
}


@pytest.mark.parametrize("name", sorted(LAZY_CASES))
def test_lazy_mode_equals_eager_bit_for_bit(name):
    fn = LAZY_CASES[name]
    data = np.random.default_rng(3).uniform(-2.0, 2.0, (2, 3, 4))

    x = ad.Tensor(data)
    eager = fn(x)
    eager.backward(ad.init.ones(*eager.shape))
    eager_grad = x.grad
    eager_grad.sum().backward()

    with ad.lazy_mode():
        x_lazy = ad.Tensor(data)
        lazy = fn(x_lazy)
        assert lazy.cached_data is None
        assert lazy.shape == eager.shape and lazy.dtype == eager.dtype
        assert lazy.cached_data is None, "asking for the shape computed the node"
        computed = [n.op for n in ad.find_topo_sort([lazy]) if n.op and n.cached_data is not None]
        assert not computed, f"building the graph computed {computed}"
        lazy.backward(ad.init.ones(*lazy.shape))
        lazy_grad = x_lazy.grad
        assert lazy_grad.shape == data.shape
        lazy_grad.sum().backward()
        assert np.array_equal(lazy.numpy(), eager.numpy())
        assert np.array_equal(lazy_grad.numpy(), eager_grad.numpy())
        assert np.array_equal(x_lazy.grad.numpy(), x.grad.numpy())


def test_infinite_entries_as_in_masking():
    """-inf entries (masked logits) drop out; a row of -inf has logsumexp -inf, not NaN."""
    inf = np.inf
    rows = ad.Tensor([[-inf, -inf], [-inf, 0.0], [inf, 1.0]])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(ad.logsumexp(rows, 1).numpy(), [-inf, 0.0, inf])
    x = ad.Tensor([-inf, 0.0, 1.0])
    ad.logsumexp(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), ad.softmax(x).numpy(), rtol=1e-15)
    assert x.grad.numpy()[0] == 0.0
