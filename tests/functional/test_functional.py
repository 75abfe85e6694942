"""adjoint.functional: grad, value_and_grad, jacobian, hessian, vjp, jvp, hvp.

Every derivative is checked against sympy (exact derivatives, ``sympy.hessian``,
``Matrix.jacobian``) and against finite differences (``ad.gradcheck``), for
scalar and array inputs, to third order where it applies.
"""

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint.autograd import gradients

RTOL = 1e-10


def close(actual, expected, rtol=RTOL, atol=1e-12):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def sym_values(expr, subs):
    return np.array(
        [float(e.subs(subs).evalf(30)) for e in np.ravel(np.asarray(expr, dtype=object))]
    )


# ---------------------------------------------------------------- scalars

t = sympy.Symbol("t", real=True)
SCALAR_CASES = [
    ("sin*exp", lambda x: ad.sin(x) * ad.exp(x), sympy.sin(t) * sympy.exp(t)),
    ("tanh", ad.tanh, sympy.tanh(t)),
    ("log(1+x^2)/x", lambda x: ad.log(x * x + 1) / x, sympy.log(t**2 + 1) / t),
    ("x^5 - 3x", lambda x: x**5 - 3 * x, t**5 - 3 * t),
]


@pytest.mark.parametrize("name,f,expr", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
@pytest.mark.parametrize("simplify", [False, True])
def test_nested_grad_matches_sympy_to_fourth_order(name, f, expr, simplify):
    x0 = 0.7
    g = f
    for order in range(1, 5):
        g = ad.grad(g, simplify=simplify)
        want = float(sympy.diff(expr, t, order).subs(t, x0).evalf(30))
        got = g(x0)
        assert isinstance(got, ad.Tensor) and got.shape == ()
        close(got.numpy(), want, rtol=1e-9)


def test_grad_of_a_tensor_stays_connected_to_the_outer_graph():
    # d/dx of f'(x^2) where f = sin: 2x cos(x^2)... differentiated again by backward.
    x = ad.Tensor(0.9)
    y = x * x
    inner = ad.grad(ad.sin)(y)  # cos(x^2), a node of the outer graph
    inner.backward()
    close(x.grad.numpy(), -2 * 0.9 * np.sin(0.81))
    third = ad.grad(lambda z: ad.grad(ad.grad(ad.sin))(z * z))(0.9)  # d/dx -sin(x^2)
    close(third.numpy(), -2 * 0.9 * np.cos(0.81))


def test_no_perturbation_confusion():
    x = ad.Tensor(3.0)
    # The closure's x is a constant for the inner derivative.
    close(ad.grad(lambda y: y * x)(x).numpy(), 3.0)
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (Siskind and Pearlmutter's example)
    close(ad.grad(lambda a: a * ad.grad(lambda b: a + b)(a))(2.0).numpy(), 1.0)


def test_value_and_grad():
    value, g = ad.value_and_grad(lambda x: ad.exp(x) * x)(0.5)
    close(value.numpy(), np.exp(0.5) * 0.5)
    close(g.numpy(), np.exp(0.5) * 1.5)


# ----------------------------------------------------------------- arrays


def vector_problem():
    xs = sympy.symbols("x0:3", real=True)
    expr = sympy.tanh(xs[0]) * xs[1] ** 2 + sympy.exp(xs[2] * xs[0]) + xs[1] * xs[2] ** 3

    def f(x):
        ex = [x.reshape(3)[i] for i in range(3)]
        return ad.tanh(ex[0]) * ex[1] ** 2 + ad.exp(ex[2] * ex[0]) + ex[1] * ex[2] ** 3

    x0 = np.array([0.3, -0.8, 0.5])
    return xs, expr, f, x0


def test_grad_and_hessian_of_an_array_function_match_sympy():
    xs, expr, f, x0 = vector_problem()
    subs = dict(zip(xs, x0))
    g = ad.grad(f)(x0)
    assert g.shape == (3,)
    close(g.numpy(), sym_values([sympy.diff(expr, s) for s in xs], subs))
    H = ad.hessian(f)(x0)
    assert H.shape == (3, 3)
    close(H.numpy(), sym_values(sympy.hessian(expr, xs), subs).reshape(3, 3))
    # jacobian(grad f) is the Hessian too, and so is the explicit graph form.
    close(ad.jacobian(ad.grad(f))(x0).numpy(), H.numpy())


def test_third_derivatives_through_hessian_match_sympy():
    xs, expr, f, x0 = vector_problem()
    subs = dict(zip(xs, x0))
    W = np.random.default_rng(1).standard_normal((3, 3))
    third = ad.grad(lambda x: (ad.hessian(f)(x) * ad.Tensor(W, requires_grad=False)).sum())(x0)
    contracted = sum(W[i, j] * sympy.diff(expr, xs[i], xs[j]) for i in range(3) for j in range(3))
    close(third.numpy(), sym_values([sympy.diff(contracted, s) for s in xs], subs))
    # the same through grad(grad(...)) and backward on the Hessian node
    x = ad.Tensor(x0)
    H = ad.hessian(f)(x)
    (H * ad.Tensor(W, requires_grad=False)).sum().backward()
    close(x.grad.numpy(), third.numpy())


def test_jacobian_of_a_matrix_input_matches_sympy():
    A = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    syms = sympy.Matrix(2, 2, sympy.symbols("m0:4", real=True))
    out = (sympy.Matrix(A) * syms).applyfunc(sympy.sin)  # (3, 2)

    def f(m):
        return ad.sin(ad.Tensor(A, requires_grad=False) @ m)

    m0 = np.array([[0.1, 0.4], [-0.3, 0.2]])
    J = ad.jacobian(f)(m0)
    assert J.shape == (3, 2, 2, 2)
    flat = sympy.Matrix(list(out)).jacobian(list(syms))  # (6, 4) row-major
    close(
        J.numpy().reshape(6, 4), sym_values(flat, dict(zip(list(syms), m0.ravel()))).reshape(6, 4)
    )
    ad.gradcheck(lambda m: ad.jacobian(f)(m), m0, order=2)


def test_jacobian_tuple_argnums_and_unused_argument():
    def f(x, y, z):
        return x * y + ad.sin(x)

    x0, y0 = np.array([0.2, 0.4]), np.array([1.5, -1.0])
    jx, jy, jz = ad.jacobian(f, argnums=(0, 1, 2))(x0, y0, np.ones(3))
    close(jx.numpy(), np.diag(y0 + np.cos(x0)))
    close(jy.numpy(), np.diag(x0))
    close(jz.numpy(), np.zeros((2, 3)))


def test_grad_tuple_argnums_and_zero_gradients_at_every_order():
    def f(x, y):
        return (x * y).sum() + 2 * x.sum()

    gx, gy = ad.grad(f, argnums=(0, 1))([1.0, 2.0], [3.0, 4.0])
    close(gx.numpy(), [5.0, 6.0])
    close(gy.numpy(), [1.0, 2.0])
    # an argument the output does not depend on: zeros of its shape
    g = ad.grad(lambda x, y: (x * 3).sum(), argnums=1)(ad.Tensor([1.0, 2.0]), np.ones((2, 2)))
    close(g.numpy(), np.zeros((2, 2)))
    # the second derivative of a linear function is zero, not None or an error
    d2 = ad.grad(ad.grad(lambda x: 3 * x + 1))(2.0)
    close(d2.numpy(), 0.0)
    H = ad.hessian(lambda x: (x * 2).sum())(np.ones(3))
    close(H.numpy(), np.zeros((3, 3)))


def test_vjp_jvp_hvp_match_sympy():
    xs, expr, f, x0 = vector_problem()
    subs = dict(zip(xs, x0))
    hess = sym_values(sympy.hessian(expr, xs), subs).reshape(3, 3)
    v = np.array([0.5, -1.0, 2.0])

    def g(x):  # R^3 -> R^3: the gradient field, whose Jacobian is the Hessian
        return ad.grad(f)(x)

    out, pullback = ad.vjp(g, x0)
    (pulled,) = pullback(v)
    close(pulled.numpy(), hess.T @ v)
    out2, pushed = ad.jvp(g, (x0,), (v,))
    close(pushed.numpy(), hess @ v)
    close(out2.numpy(), out.numpy())
    close(ad.hvp(f, x0, v).numpy(), hess @ v)
    # several primals
    hx, hy = ad.hvp(
        lambda a, b: (a * a * b).sum(), ([1.0, 2.0], [3.0, 4.0]), ([1.0, 0.0], [0.0, 1.0])
    )
    close(hx.numpy(), [2 * 3.0 * 1 + 2 * 1.0 * 0, 2 * 4.0 * 0 + 2 * 2.0 * 1])
    close(hy.numpy(), [2 * 1.0 * 1, 2 * 2.0 * 0])


def test_jvp_and_hvp_differentiate_again():
    # d/dx of jvp(sin, x, 1) = d/dx cos x = -sin x; d/dx hvp(x^4, x, 1) = 24 x
    close(ad.grad(lambda x: ad.jvp(ad.sin, x, 1.0)[1])(0.4).numpy(), -np.sin(0.4))
    close(ad.grad(lambda x: ad.hvp(lambda y: y**4, x, 1.0))(0.5).numpy(), 12.0)
    ad.gradcheck(
        lambda x: ad.jvp(lambda y: ad.exp(y) * y, (x,), (ad.Tensor([1.0, -1.0]),))[1],
        np.array([0.3, 0.1]),
        order=2,
    )


def test_finite_differences_of_grad_and_hessian():
    xs, expr, f, x0 = vector_problem()
    ad.gradcheck(ad.grad(f), x0, order=2)
    ad.gradcheck(ad.hessian(f), x0, order=1)


# --------------------------------------------------------------- behaviour


def test_functional_api_never_touches_grad_of_user_leaves():
    x = ad.Tensor([1.0, 2.0])
    sentinel = ad.Tensor([7.0, 7.0])
    x.grad = sentinel
    ad.grad(lambda a: (a * a).sum())(x)
    ad.hessian(lambda a: (a * a * a).sum())(x)
    ad.hvp(lambda a: (a * a).sum(), x, [1.0, 1.0])
    ad.jvp(lambda a: a * a, x, [1.0, 1.0])
    assert x.grad is sentinel


def test_gradients_helper_cuts_at_wrt_and_gives_zeros():
    x = ad.Tensor(2.0)
    y = x * x
    z = ad.exp(y) + 3 * x
    (gy, gx) = gradients(z, [y, x])
    close(gy.numpy(), np.exp(4.0))
    close(gx.numpy(), 3.0)  # y is a variable of its own: the path through y is not in d/dx
    (gw,) = gradients(z, [ad.Tensor(np.ones((2, 3)))])
    close(gw.numpy(), np.zeros((2, 3)))
    assert x.grad is None


def test_no_grad_gives_constants():
    with ad.no_grad():
        g = ad.grad(lambda x: x**3)(2.0)
        H = ad.hessian(lambda x: (x**3).sum())([1.0, 2.0])
    close(g.numpy(), 12.0)
    close(H.numpy(), np.diag([6.0, 12.0]))
    assert not g.requires_grad and g.op is None
    assert not H.requires_grad


def test_jacobian_node_reruns_on_new_values():
    x = ad.Tensor([1.0, 2.0])
    H = ad.hessian(lambda a: (a**3).sum())(x)
    (again,) = ad.Graph(H).run({x: np.array([3.0, -1.0])})
    close(again, np.diag([18.0, -6.0]))


def test_hessian_of_extended_rosenbrock():
    n = 6
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, n)
    xs = sympy.symbols(f"r0:{n}", real=True)
    expr = sum(
        100 * (xs[2 * i + 1] - xs[2 * i] ** 2) ** 2 + (1 - xs[2 * i]) ** 2 for i in range(n // 2)
    )
    odd = np.zeros((n // 2, n))
    even = np.zeros((n // 2, n))
    for i in range(n // 2):
        odd[i, 2 * i] = 1.0
        even[i, 2 * i + 1] = 1.0

    def rosen(x):
        a = ad.Tensor(odd, requires_grad=False) @ x
        b = ad.Tensor(even, requires_grad=False) @ x
        return (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()

    H = ad.hessian(rosen)(x0)
    close(
        H.numpy(), sym_values(sympy.hessian(expr, xs), dict(zip(xs, x0))).reshape(n, n), rtol=1e-9
    )


# ----------------------------------------------------------------- misuse


def test_grad_needs_a_scalar_output():
    with pytest.raises(
        ValueError,
        match=r"grad needs a function with a scalar output, got shape \(3,\); use jacobian or vjp",
    ):
        ad.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match="hvp needs a function with a scalar output"):
        ad.hvp(lambda x: x * 2, np.ones(3), np.ones(3))


def test_non_tensor_outputs_are_refused():
    with pytest.raises(TypeError, match="grad needs a function that returns a Tensor, got float"):
        ad.grad(lambda x: 3.0)(1.0)
    with pytest.raises(
        TypeError, match="jacobian needs a function that returns a Tensor, got ndarray"
    ):
        ad.jacobian(lambda x: np.ones(2))(1.0)


def test_argnums_out_of_range_names_the_valid_range():
    with pytest.raises(
        IndexError, match=r"argnums 2 is out of range .* 2 argument\(s\); valid argnums: 0..1"
    ):
        ad.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        ad.grad(lambda x: x, argnums="0")(1.0)
    with pytest.raises(ValueError, match="names an argument twice"):
        ad.grad(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(TypeError, match="hessian: argnums must be one int"):
        ad.hessian(lambda x, y: x * y, argnums=(0, 1))


def test_tangent_and_cotangent_shapes_are_checked():
    with pytest.raises(
        ValueError, match=r"jvp: tangent 0 has shape \(2,\) but must have shape \(3,\)"
    ):
        ad.jvp(lambda x: x * 2, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match=r"jvp: got 2 primal\(s\) but 1 tangent\(s\)"):
        ad.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    _, pullback = ad.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(
        ValueError, match=r"vjp: the cotangent has shape \(\) but must have shape \(3,\)"
    ):
        pullback(1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ad.jvp(lambda: ad.Tensor(1.0), (), ()), r"jvp: give at least one primal"),
        (lambda: ad.hvp(lambda: ad.Tensor(1.0), (), ()), r"hvp: give at least one primal"),
        (lambda: ad.vjp(lambda: ad.Tensor(1.0)), r"vjp: give at least one primal"),
    ],
    ids=["jvp", "hvp", "vjp"],
)
def test_no_primals_is_a_named_error(call, message):
    """Issue 17: ``jvp(f, (), ())`` gave AttributeError: 'NoneType' object has no attribute
    'shape' from deep inside; there is nothing to differentiate with respect to."""
    with pytest.raises(ValueError, match=message):
        call()


def test_jacobian_batches_are_chunked_without_changing_values(monkeypatch):
    import sys

    functional = sys.modules["adjoint.functional"]
    x0 = np.random.default_rng(1).uniform(-1, 1, 10)

    def f(x):
        return (ad.tanh(x) * x[::-1]).sum() * x.sum()

    whole = ad.hessian(f)(x0).numpy()
    monkeypatch.setattr(functional, "BATCH_ELEMENTS", 7)  # one direction per batch
    np.testing.assert_array_equal(ad.hessian(f)(x0).numpy(), whole)
    np.testing.assert_allclose(whole, whole.T, atol=1e-14)


def test_hvp_costs_a_small_constant_times_a_gradient():
    def rosen(x):
        a, b = x[0::2], x[1::2]
        return (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()

    for n in (8, 64, 512):
        x0 = np.linspace(-1, 1, n)
        g = ad.grad(rosen)(x0)
        h = ad.hvp(rosen, x0, np.ones(n))
        # the same number of nodes whatever n: graph size, not n backward passes
        assert len(ad.find_topo_sort([h])) <= 4 * len(ad.find_topo_sort([g]))


def test_hessian_matches_torch_where_installed():
    torch = pytest.importorskip("torch")

    def rosen(x):
        a, b = x[0::2], x[1::2]
        return (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()

    x0 = np.random.default_rng(2).uniform(-1, 1, 16)
    want = torch.autograd.functional.hessian(rosen, torch.tensor(x0)).numpy()
    np.testing.assert_allclose(ad.hessian(rosen)(x0).numpy(), want, rtol=1e-12, atol=1e-12)


def test_hessian_node_translates_to_sympy_exactly():
    x = ad.Tensor([0.3, 0.6], name="x")
    H = ad.hessian(lambda a: (ad.tanh(a) * a[::-1]).sum())(x)
    got = ad.symbolic.to_sympy(H)
    x0, x1 = sympy.symbols("x_0 x_1", real=True)
    want = sympy.hessian(sympy.tanh(x0) * x1 + sympy.tanh(x1) * x0, (x0, x1))
    assert got.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert sympy.simplify(got[i, j] - want[i, j]) == 0


@pytest.mark.parametrize("simplify", [None, False, True])
def test_nested_closures_over_outer_variables(simplify):
    # g(x) = d2/dy2 (y^3 x^2) at y = x = 6 x^3: the inner derivatives hold the
    # closure's x constant, the outer ones see both paths. g' = 18 x^2, g'' = 36 x.
    def g(x):
        inner = ad.grad(ad.grad(lambda y: y**3 * x**2, simplify=simplify), simplify=simplify)
        return inner(x)

    x = ad.Tensor(1.5)
    close(g(x).numpy(), 6 * 1.5**3)
    close(ad.grad(g, simplify=simplify)(x).numpy(), 18 * 1.5**2)
    close(ad.grad(ad.grad(g, simplify=simplify), simplify=simplify)(x).numpy(), 36 * 1.5)
    # the variable is a closure only: d/dx of [d2/dy2 y^3 x]_{y=1} = 6
    h = lambda x: ad.grad(ad.grad(lambda y: y**3 * x, simplify=simplify), simplify=simplify)(1.0)  # noqa: E731
    close(ad.grad(h)(x).numpy(), 6.0)


def test_graph_run_batches_matmul_and_indexing_as_a_loop_would():
    # Jacobian nodes run their traced graph on a batch of cotangents; the batch
    # rules must agree with running point by point.
    rng = np.random.default_rng(3)
    A = ad.Tensor(rng.standard_normal((3, 2, 4)), requires_grad=False)
    x = ad.Tensor(rng.standard_normal((4, 5)))
    y = ad.sin(A @ x)[:, 1:, ::2]
    (y * y).sum().backward()
    g = x.grad
    batch = rng.standard_normal((3, 4, 5))  # a batch of 3, as many as A's own batch axis
    graph = ad.Graph(y, g)
    batched = graph.run({x: batch})
    for k in range(3):
        for got, want in zip(batched, graph.run({x: batch[k]})):
            host = ad.device.to_numpy  # (Graph.run gives the graph's device's arrays)
            np.testing.assert_allclose(host(got)[k], host(want), rtol=1e-13)


def test_lazy_mode_records_and_evaluates_the_same_derivatives():
    def f(x):
        return (ad.tanh(x) * x).sum()

    x0 = np.array([0.3, -0.2])
    eager = [ad.grad(f)(x0).numpy(), ad.hessian(f)(x0).numpy(), ad.hvp(f, x0, [1.0, 2.0]).numpy()]
    with ad.lazy_mode():
        x = ad.Tensor(x0)
        lazy = [ad.grad(f)(x), ad.hessian(f)(x), ad.hvp(f, x, [1.0, 2.0])]
        assert all(t.cached_data is None for t in lazy)
        assert lazy[1].shape == (2, 2)
    for got, want in zip(lazy, eager):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)
