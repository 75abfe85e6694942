"""adjoint.optim: SGD and Adam against hand-computed steps, clipping, a graph that stays flat."""

import gc

import numpy as np
import pytest

import adjoint as ad
from adjoint import nn, optim


def quadratic_step(opt, w):
    """One step on L(w) = sum(c * w**2) with c = (1, 2, 3): the gradient is 2 c w."""
    opt.reset_grad()
    (ad.Tensor([1.0, 2.0, 3.0], requires_grad=False) * w * w).sum().backward()
    opt.step()


C = np.array([1.0, 2.0, 3.0])


def test_sgd_plain_and_weight_decay():
    w0 = np.array([1.0, -2.0, 0.5])
    w = ad.Tensor(w0)
    quadratic_step(optim.SGD([w], lr=0.1), w)
    np.testing.assert_allclose(w.numpy(), w0 - 0.1 * 2 * C * w0, rtol=1e-14)
    w = ad.Tensor(w0)
    quadratic_step(optim.SGD([w], lr=0.1, weight_decay=0.5), w)
    np.testing.assert_allclose(w.numpy(), w0 - 0.1 * (2 * C * w0 + 0.5 * w0), rtol=1e-14)


def test_sgd_momentum_is_needles_exponential_average():
    w0 = np.array([1.0, -2.0, 0.5])
    w = ad.Tensor(w0)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    quadratic_step(opt, w)
    u1 = 0.1 * (2 * C * w0)
    w1 = w0 - 0.1 * u1
    np.testing.assert_allclose(w.numpy(), w1, rtol=1e-14)
    quadratic_step(opt, w)
    u2 = 0.9 * u1 + 0.1 * (2 * C * w1)
    np.testing.assert_allclose(w.numpy(), w1 - 0.1 * u2, rtol=1e-14)


def test_adam_two_steps_with_bias_correction():
    w0 = np.array([1.0, -2.0, 0.5])
    w = ad.Tensor(w0)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    opt = optim.Adam([w], lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd)
    m = v = 0.0
    expected = w0
    for t in (1, 2):
        quadratic_step(opt, w)
        g = 2 * C * expected + wd * expected
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-13)
    # The first bias-corrected step moves every coordinate by about lr, whatever its gradient.
    w = ad.Tensor(w0)
    quadratic_step(optim.Adam([w], lr=lr), w)
    np.testing.assert_allclose(np.abs(w.numpy() - w0), lr, rtol=1e-6)


def test_parameters_without_grad_are_left_alone_and_dtype_is_kept():
    a = ad.Tensor(np.float32([1.0, 2.0]))
    b = ad.Tensor([3.0])
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert a.dtype == np.float32
    np.testing.assert_array_equal(b.numpy(), [3.0])
    opt.reset_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.SGD([], lr=0.1)


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = ad.Tensor([3.0, 0.0]), ad.Tensor([[4.0]])
    opt = optim.SGD([a, b], lr=1.0)
    ((a * a).sum() / 2 + (b * b).sum() / 2).backward()  # grads (3, 0) and (4): norm 5
    assert opt.clip_grad_norm(max_norm=1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0])
    np.testing.assert_allclose(b.grad.numpy(), [[0.8]])
    assert optim.clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(1.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0])  # below the bound: unchanged


def live_values():
    gc.collect()
    return sum(isinstance(o, ad.autograd.Value) for o in gc.get_objects())


@pytest.mark.parametrize("create_graph", [False, True])
def test_live_tensors_stay_flat_across_100_steps(create_graph):
    np.random.seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = ad.Tensor(np.random.randn(16, 4), requires_grad=False)
    y = np.random.randint(0, 3, 16)
    counts = []
    for step in range(100):
        loss = nn.SoftmaxLoss()(model(x), y)
        opt.reset_grad()
        loss.backward(create_graph=create_graph)
        opt.step()
        del loss
        if step in (9, 99):
            counts.append(live_values())
    assert counts[0] == counts[1], counts


def test_adam_and_sgd_minimize_a_quadratic():
    for opt_class, kwargs in [(optim.SGD, {"lr": 0.1, "momentum": 0.5}), (optim.Adam, {"lr": 0.1})]:
        w = ad.Tensor([1.0, -2.0, 0.5])
        opt = opt_class([w], **kwargs)
        for _ in range(200):
            quadratic_step(opt, w)
        assert np.abs(w.numpy()).max() < 1e-2, opt_class.__name__


# ------------------------------------------------------------ arguments (issue 17)


def test_a_parameter_listed_twice_is_refused_not_updated_twice():
    w = ad.Tensor([1.0, -2.0])
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] are the same tensor"):
        optim.SGD([w, w], lr=0.1)
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"params\[0\] and params\[2\] are the same tensor"):
        optim.Adam([*model.parameters(), model.weight])
    shared = nn.Sequential(model, model)  # parameters() lists a shared layer once
    assert len(optim.SGD(shared.parameters()).params) == 2


def test_a_bare_tensor_is_a_type_error_not_an_optimizer_that_does_nothing():
    w = ad.Tensor([1.0, -2.0])
    for opt_class in (optim.SGD, optim.Adam):
        with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
            opt_class(w)


@pytest.mark.parametrize(
    "opt_class, kwargs, message",
    [
        (optim.SGD, {"lr": float("nan")}, r"SGD: lr must lie in \[0, inf\), got nan"),
        (optim.SGD, {"lr": -0.1}, r"SGD: lr must lie in \[0, inf\), got -0.1"),
        (optim.SGD, {"lr": float("inf")}, r"SGD: lr must lie in \[0, inf\), got inf"),
        (optim.SGD, {"momentum": 1.5}, r"SGD: momentum must lie in \[0, 1\), got 1.5"),
        (optim.SGD, {"momentum": 1.0}, r"SGD: momentum must lie in \[0, 1\), got 1.0"),
        (optim.SGD, {"weight_decay": -1}, r"SGD: weight_decay must lie in \[0, inf\)"),
        (optim.Adam, {"eps": -1e-8}, r"Adam: eps must lie in \[0, inf\), got -1e-08"),
        (optim.Adam, {"beta1": 1}, r"Adam: beta1 must lie in \[0, 1\), got 1.0"),
        (optim.Adam, {"beta2": 1.0}, r"Adam: beta2 must lie in \[0, 1\), got 1.0"),
        (optim.Adam, {"lr": float("nan")}, r"Adam: lr must lie in \[0, inf\), got nan"),
    ],
)
def test_hyperparameters_out_of_range_are_value_errors(opt_class, kwargs, message):
    with pytest.raises(ValueError, match=message):
        opt_class([ad.Tensor([1.0])], **kwargs)


def test_the_edges_of_the_ranges_are_accepted():
    w = ad.Tensor([1.0])
    optim.SGD([w], lr=0, momentum=0.999, weight_decay=0)
    optim.Adam([w], lr=0, beta1=0, beta2=0.9999, eps=0)
