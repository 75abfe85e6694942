"""needle hw1 code runs unchanged with ``import adjoint as ndl``."""

import numpy as np
import pytest

import adjoint as ndl


def gradient_check(f, *args, tol=1e-6, backward=False, **kwargs):
    """needle's own checker: per-element central differences against gradient_as_tuple."""
    eps = 1e-4
    numerical_grads = [np.zeros(a.shape) for a in args]
    for i in range(len(args)):
        for j in range(args[i].realize_cached_data().size):
            args[i].realize_cached_data().flat[j] += eps
            f1 = float(f(*args, **kwargs).numpy().sum())
            args[i].realize_cached_data().flat[j] -= 2 * eps
            f2 = float(f(*args, **kwargs).numpy().sum())
            args[i].realize_cached_data().flat[j] += eps
            numerical_grads[i].flat[j] = (f1 - f2) / (2 * eps)
    if not backward:
        out = f(*args, **kwargs)
        computed_grads = [
            x.numpy() for x in out.op.gradient_as_tuple(ndl.Tensor(np.ones(out.shape)), out)
        ]
    else:
        out = f(*args, **kwargs).sum()
        out.backward()
        computed_grads = [a.grad.numpy() for a in args]
    error = sum(np.linalg.norm(computed_grads[i] - numerical_grads[i]) for i in range(len(args)))
    assert error < tol
    return computed_grads


def test_forward_values():
    np.testing.assert_allclose(
        ndl.divide(ndl.Tensor([[3.3, 4.35]]), ndl.Tensor([[4.6, 4.35]])).numpy(),
        np.array([[0.717391304, 1.0]]),
    )
    np.testing.assert_allclose(
        ndl.divide_scalar(ndl.Tensor([[1.7, 1.45]]), scalar=12).numpy(),
        np.array([[0.141666667, 0.120833333]]),
    )
    np.testing.assert_allclose(
        ndl.power_scalar(ndl.Tensor([[0.5, 2.0, 3.0]]), scalar=2).numpy(), [[0.25, 4.0, 9.0]]
    )
    np.testing.assert_allclose(
        ndl.summation(ndl.Tensor([[2.2, 4.35], [3.2, 1.45]]), axes=1).numpy(), [6.55, 4.65]
    )
    np.testing.assert_allclose(
        ndl.summation(ndl.Tensor([[2.2, 4.35], [3.2, 1.45]]), axes=(0,)).numpy(), [5.4, 5.8]
    )
    assert ndl.broadcast_to(ndl.Tensor([[1.85, 0.85, 0.6]]), shape=(3, 3, 3)).shape == (3, 3, 3)
    assert ndl.reshape(ndl.Tensor(np.zeros((2, 6))), shape=(4, 3)).shape == (4, 3)
    assert ndl.transpose(ndl.Tensor(np.zeros((3, 1, 2))), axes=(1, 2)).shape == (3, 2, 1)
    assert ndl.transpose(ndl.Tensor(np.zeros((3, 1, 2)))).shape == (3, 2, 1)
    np.testing.assert_allclose(ndl.negate(ndl.Tensor([[1.45, 0.55]])).numpy(), [[-1.45, -0.55]])
    np.testing.assert_allclose(ndl.divide_scalar(ndl.Tensor([2.0]), np.array([4.0])).numpy(), [0.5])
    np.testing.assert_allclose(ndl.divide_scalar(ndl.Tensor([2.0]), np.float32(4)).numpy(), [0.5])


@pytest.mark.parametrize(
    "f, shapes",
    [
        (ndl.divide, [(3, 5), (3, 5)]),
        (lambda a, s=np.array([1.7]): ndl.divide_scalar(a, scalar=s), [(3, 5)]),  # noqa: B008
        (ndl.matmul, [(6, 5), (5, 4)]),
        (ndl.matmul, [(6, 6, 5, 4), (6, 6, 4, 3)]),
        (ndl.matmul, [(6, 6, 5, 4), (4, 3)]),
        (ndl.reshape, [(5, 4)]),
        (ndl.negate, [(5, 4)]),
        (lambda a: ndl.transpose(a, axes=(1, 2)), [(3, 5, 4)]),
        (lambda a: ndl.broadcast_to(a, shape=(3, 3, 3)), [(3, 1)]),
        (lambda a: ndl.summation(a, axes=(1,)), [(5, 4)]),
        (lambda a: ndl.summation(a, axes=None), [(5, 4, 1)]),
        (ndl.log, [(5, 4)]),
        (ndl.exp, [(5, 4)]),
        (ndl.relu, [(5, 4)]),
        (lambda a: ndl.power_scalar(a, 3), [(5, 4)]),
        (ndl.multiply, [(5, 4), (5, 4)]),
    ],
)
def test_gradient_as_tuple_against_needles_checker(f, shapes):
    np.random.seed(0)
    if f is ndl.reshape:
        f = lambda a: ndl.reshape(a, shape=(4, 5))  # noqa: E731
    args = [ndl.Tensor(np.random.rand(*s) + 0.5) for s in shapes]
    gradient_check(f, *args)
    gradient_check(f, *[ndl.Tensor(a.numpy().copy()) for a in args], backward=True)


def test_compute_gradient_backward():
    np.random.seed(0)
    gradient_check(
        lambda A, B, C: ndl.summation((A @ B + C) * (A @ B), axes=None),
        ndl.Tensor(np.random.randn(10, 9)),
        ndl.Tensor(np.random.randn(9, 8)),
        ndl.Tensor(np.random.randn(10, 8)),
        backward=True,
    )


def test_autograd_namespace_and_topo_sort():
    a = ndl.Tensor(np.asarray([[0.88282157]]))
    b = ndl.Tensor(np.asarray([[0.90170084]]))
    c = 3 * a * a + 4 * b * a - a
    soln = [[0.88282157], [2.64846471], [2.33812177], [0.90170084], [3.60680336],
            [3.18416272], [5.52228449], [-0.88282157], [4.63946292]]  # fmt: skip
    topo = [x.numpy() for x in ndl.autograd.find_topo_sort([c])]
    assert len(topo) == len(soln)
    for t, s in zip(topo, soln):
        np.testing.assert_allclose(t, np.array([s]), rtol=1e-6)
    assert ndl.autograd.LAZY_MODE is False
    assert callable(ndl.autograd.compute_gradient_of_variables)


def test_leaf_data_is_a_writable_private_copy():
    user = np.array([1.0, 2.0])
    t = ndl.Tensor(user)
    t.realize_cached_data()[0] = 10.0
    assert user[0] == 1.0 and t.numpy()[0] == 10.0


def test_init_helpers():
    np.random.seed(1)
    r = ndl.init.rand(2, 3)
    np.random.seed(1)
    np.testing.assert_array_equal(r.numpy(), np.random.rand(2, 3))
    assert ndl.init.ones(2, 2).numpy().sum() == 4 and ndl.init.zeros((3,)).shape == (3,)
    assert not ndl.init.ones(2).requires_grad
    np.testing.assert_array_equal(ndl.init.one_hot(3, [2, 0]).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert ndl.init.constant(2, c=7.0).numpy().tolist() == [7.0, 7.0]
    assert ndl.init.zeros_like(r).shape == (2, 3)
    assert ndl.init.xavier_uniform(4, 5).shape == (4, 5)
    g = ndl.init.randn(3, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(g.numpy(), np.random.default_rng(0).standard_normal((3, 3)))
    assert ndl.Tensor([1.0], device=ndl.cpu()).device == ndl.cpu()
