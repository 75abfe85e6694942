"""adjoint.symbolic: to_sympy on every op, check() against sympy.diff, from_sympy.

One table of small graphs (CASES) drives the round trips: for each, the
formula of the forward graph has the graph's values, and check() finds
adjoint's first and second derivative graphs identical to sympy's. A census
test runs the same cases under an observer and fails if some TensorOp of the
package never appeared in them (so a new op needs a case here, and a sympy
method in its class if its compute does not work on sympy object arrays).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint import symbolic
from adjoint.autograd import Op
from adjoint.ops.common import sympy_number
from adjoint.symbolic import deep
from adjoint.tensor import TensorOp
from tests.helpers.oracle import SinWrongSecond, WrongSin

RNG = np.random.default_rng(7)


def rand(*shape, low=-1.5, high=1.5):
    return RNG.uniform(low, high, size=shape)


SPD2 = np.array([[2.5, 0.75], [0.75, 1.5]])  # symmetric positive definite, for ad.linalg


# name, function, inputs[, proved]: proved=False where check() may find some
# derivatives only equal in value (at the inputs and nearby points), not
# identical: Max's tie masks are Piecewise(Eq(a, Max(a, b))), which simplify
# cannot decide, and softmax's shift by the (constant) maximum folds float
# constants such as exp(-m)**2 numerically.
CASES = [
    ("add", lambda a, b: a + b, [rand(2), rand(2)]),
    ("add broadcast", lambda a, b: (a + b) * a, [rand(2, 2), rand(2)]),
    ("add_scalar", lambda a: (a + 1.5) * a, [rand(2)]),
    ("subtract", lambda a, b: (a - b) * b, [rand(2), rand(2)]),
    ("multiply", lambda a, b: a * b * a, [rand(2), rand(2)]),
    ("mul_scalar", lambda a: ad.mul_scalar(a * a, -3.0), [rand(2)]),
    ("divide", lambda a, b: a / b, [rand(2), rand(2, low=0.5, high=2)]),
    ("divide_scalar", lambda a: ad.divide_scalar(a * a, 4.0), [rand(2)]),
    ("rtruediv", lambda a: 2 / a, [rand(2, low=0.5, high=2)]),
    ("power_scalar int", lambda a: a**3, [rand(2)]),
    ("power_scalar float", lambda a: a**2.2, [rand(2, low=0.5, high=2)]),
    ("power", lambda a, b: a**b, [rand(2, low=0.5, high=2), rand(2)]),
    ("scalar_power", lambda a: 5.0**a, [rand(2)]),
    ("negate", lambda a: -(a * a), [rand(2)]),
    ("log", ad.log, [rand(2, low=0.2, high=3)]),
    ("exp", ad.exp, [rand(2)]),
    ("sin", ad.sin, [rand(2)]),
    ("cos", ad.cos, [rand(2)]),
    ("tanh", ad.tanh, [rand(2)]),
    ("sqrt", ad.sqrt, [rand(2, low=0.2, high=3)]),
    ("sigmoid", ad.sigmoid, [rand(2)]),
    ("relu", lambda a: ad.relu(a) * a, [np.array([-0.5, 0.0, 0.7])]),
    ("step", lambda a: ad.step(a) * a, [np.array([-0.5, 0.0, 0.7])]),
    ("abs", lambda a: ad.abs(a) * a, [np.array([-0.5, 0.0, 0.7])]),
    ("sign", lambda a: ad.sign(a) * a * a, [np.array([-0.5, 0.0, 0.7])]),
    (
        "maximum",
        lambda a, b: ad.maximum(a, b) * a,
        [np.array([1.0, 2.0, 3.0]), np.full(3, 2.0)],
        False,  # its adjoint masks are Piecewise(Eq(...)), undecidable as max's
    ),
    (
        "minimum",
        lambda a, b: ad.minimum(a, b) * b,
        [np.array([1.0, 2.0, 3.0]), np.full(3, 2.0)],
        False,  # its adjoint masks are Piecewise(Eq(...)), undecidable as max's
    ),
    ("equal_mask", lambda a, b: ad.equal_mask(a, b) * a, [np.array([1.0, 2.0]), np.full(2, 2.0)]),
    ("where", lambda a: ad.where(a > 0, a * a, ad.exp(a)), [np.array([-0.5, 0.7])]),
    ("transpose", lambda a: ad.transpose(a) * ad.transpose(a), [rand(2, 2)]),
    ("permute", lambda a: ad.permute(a, (1, 0)) ** 2, [rand(1, 2)]),
    ("reshape", lambda a: ad.reshape(a, (3,)) ** 2, [rand(3, 1)]),
    ("broadcast_to", lambda a: ad.broadcast_to(a, (2, 2)) ** 3, [rand(2)]),
    ("summation", lambda a: ad.summation(a * a, axes=1), [rand(2, 2)]),
    ("matmul", lambda a, b: (a @ b) ** 2, [rand(2, 2), rand(2)]),
    ("matmul batched", lambda a, b: ad.sum(a @ b), [rand(2, 1, 2), rand(2, 1)]),
    ("getitem", lambda a: a[::-1] * a[0], [rand(3)]),
    ("getitem repeated", lambda a: a[np.array([1, 0, 1])] ** 2, [rand(2)]),
    ("stack", lambda a, b: ad.stack([a, b * a]) ** 2, [rand(2), rand(2)]),
    ("concatenate", lambda a, b: ad.concatenate([a, b]) ** 3, [rand(2), rand(1)]),
    ("max", lambda a: ad.max(a * a, axes=1), [np.array([[1.0, -2.0], [0.5, 0.3]])], False),
    ("max ties", lambda a: ad.max(ad.broadcast_to(a, (2, 2)), axes=0) * a, [rand(2)]),
    ("min", lambda a: ad.min(a, axes=0, keepdims=True) * a, [rand(2, 2)], False),
    ("mean logsumexp", lambda a: ad.logsumexp(a, axes=0) + ad.mean(a), [rand(2)]),
    ("softmax", lambda a: ad.softmax(a, axes=0)[0], [rand(2)], False),
    ("logsoftmax", lambda a: ad.logsoftmax(a)[:, 1], [rand(2, 3)]),
    ("im2col", lambda a: ad.im2col(a, 2) ** 2, [rand(1, 1, 2, 2)]),
    (
        "conv2d",
        lambda a, w: ad.sum(ad.conv2d(a, w, padding=1) ** 2),
        [rand(1, 1, 2, 2), rand(2, 2, 1, 1)],
    ),
    ("jacobian", lambda a: ad.jacobian(lambda y: y * y * ad.sin(y))(a).sum(), [rand(2)]),
    # more of NumPy (issue 20)
    ("log1p", ad.log1p, [rand(2, low=-0.5, high=2)]),
    ("expm1", lambda a: ad.expm1(a) * a, [rand(2)]),
    ("logaddexp", lambda a, b: ad.logaddexp(a, b), [rand(2), rand(2)], False),
    ("softplus", ad.softplus, [rand(2)], False),  # sympy's sigmoid: 1/(1+e^-x) vs e^x/(1+e^x)
    ("clip", lambda a: ad.clip(a, -0.5, 0.5) * a, [np.array([-1.0, 0.2, 0.9])], False),
    ("einsum", lambda a, b: ad.einsum("ij,jk->ik", a, b) ** 2, [rand(2, 2), rand(2, 1)]),
    ("einsum trace", lambda a: ad.einsum("ii", a) * a, [rand(2, 2)]),
    ("pad flip roll", lambda a: ad.roll(ad.flip(ad.pad(a, 1), 0), 1) ** 2, [rand(2)]),
    ("tile repeat", lambda a: ad.tile(a, 2) * ad.repeat(a, [2, 2], 0), [rand(2)]),
    ("cumsum", lambda a: ad.cumsum(a) ** 2, [rand(3)]),
    ("cumprod", lambda a: ad.cumprod(a), [rand(3)]),
    ("var std", lambda a: ad.var(a, ddof=1) + ad.std(a), [rand(3)], False),
    ("sort", lambda a: ad.sort(a) * ad.sort(a * a), [np.array([0.7, -0.3])], False),
    # linear algebra (issue 20): sympy's Matrix (adjugates over Berkowitz determinants,
    # Cholesky, closed-form eigenvalues and eigenvectors of 2 x 2 matrices)
    ("solve", lambda a, b: ad.linalg.solve(a, b) ** 2, [SPD2, rand(2)], False),
    ("inv", lambda a: ad.linalg.inv(a) * a, [SPD2]),
    ("det logdet", lambda a: ad.linalg.det(a) * ad.linalg.logdet(a), [SPD2]),
    ("slogdet", lambda a: ad.linalg.slogdet(-a)[0] * ad.linalg.slogdet(-a)[1], [SPD2]),
    ("cholesky", lambda a: ad.linalg.cholesky(a) ** 2, [SPD2], False),
    ("solve_triangular", lambda a, b: ad.linalg.solve_triangular(a, b) * b, [SPD2, rand(2)]),
    ("eigvalsh", lambda a: ad.linalg.eigvalsh(a) ** 2, [SPD2], False),
    ("eigh", lambda a: ad.linalg.eigh(a)[1] * a, [SPD2], False),  # Piecewise signs
    ("norm trace diag", lambda a: ad.linalg.norm(a) + ad.trace(a) * ad.diag(a), [SPD2], False),
    # a copy between devices is the identity to sympy; its values are read on the host
    ("to_device", lambda a: ad.ops.ToDevice(ad.cpu())(a) ** 2, [rand(2)]),
    (
        "take_along_axis",
        lambda a: ad.take_along_axis(a, ad.argsort(a), 0) ** 2,
        [np.array([0.7, -0.3])],
        False,
    ),
]


def _case_id(case):
    return case[0]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_round_trip(case):
    name, fn, inputs, *proved = case
    leaves = [ad.Tensor(a, name=f"v{k}") for k, a in enumerate(inputs)]
    out = fn(*leaves)
    formula = np.asarray(symbolic.to_sympy(out), dtype=object)
    assert formula.shape == out.shape
    point = {
        s: a[idx]
        for leaf, a in zip(leaves, inputs)
        for idx, s in np.ndenumerate(np.asarray(symbolic.leaf_symbols(out).get(leaf, np.empty(0))))
    }
    values = np.array(
        [
            float(
                sympy.sympify(e)
                .xreplace({k: sympy.Float(v, 30) for k, v in point.items()})
                .evalf(30)
            )
            for e in formula.ravel()
        ]
    ).reshape(out.shape)
    np.testing.assert_allclose(values, out.numpy(), rtol=1e-12, atol=1e-14)

    report = symbolic.check(fn, *inputs, order=2)
    assert report.ok, str(report)
    if proved != [False]:
        assert report.identical, str(report)
    assert report.max_abs_diff < 1e-9


def _concrete_ops() -> set[type]:
    import adjoint

    for module in pkgutil.walk_packages(adjoint.__path__, "adjoint."):
        importlib.import_module(module.name)
    found, stack = set(), [TensorOp]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return {
        cls
        for cls in found
        if cls.__module__.startswith("adjoint.")
        and any("compute" in c.__dict__ for c in cls.__mro__ if c is not Op)
    }


class _Census:
    def __init__(self):
        self.ops: set[type] = set()

    def created(self, node):
        self.ops.add(type(node.op))

    def computed(self, node, data, seconds):
        pass


def test_every_op_has_a_round_trip_case():
    census = _Census()
    ad.autograd.add_observer(census)
    try:
        for _, fn, inputs, *_ in CASES:
            leaves = [ad.Tensor(a) for a in inputs]
            out = fn(*leaves)
            out.backward(ad.Tensor(RNG.standard_normal(out.shape), requires_grad=False))
            grads = [x.grad for x in leaves if x.grad is not None]
            graphs = [out, *grads]
            total = sum(ad.sum(g * g) for g in grads if g.requires_grad)
            if isinstance(total, ad.Tensor):
                total.backward()
                graphs += [x.grad for x in leaves if x.grad is not None]
            for graph in graphs:
                symbolic.to_sympy(graph)
    finally:
        ad.autograd.remove_observer(census)
    missing = sorted(f"{cls.__module__}.{cls.__name__}" for cls in _concrete_ops() - census.ops)
    assert not missing, (
        f"ops with no round-trip case in tests/symbolic/test_symbolic.py: {missing}; add a case to "
        "CASES (and a sympy method in the op's class if compute fails on object arrays)"
    )


# ------------------------------------------------------------------ to_sympy details


def test_symbols_names_and_numbers():
    x = ad.Tensor(0.3, name="x")
    w = ad.Tensor([1.0, 2.0], name="w")
    m = ad.Tensor(np.ones((2, 2)), name="M")
    expr = symbolic.to_sympy(ad.sum(m @ w) * x + 2.0 * x + 0.5)
    xs, w0, w1 = sympy.symbols("x w_0 w_1", real=True)
    m01 = sympy.Symbol("M_0_1", real=True)
    assert isinstance(expr, sympy.Expr)
    assert {xs, w0, w1, m01} <= expr.free_symbols
    assert sympy.diff(expr, m01) == xs * w1
    assert expr.subs({s: 0 for s in expr.free_symbols}) == sympy.Rational(1, 2)


def test_unnamed_leaves_numbered_in_topological_order_and_constants():
    a, b = ad.Tensor(1.0), ad.Tensor([2.0, 3.0])
    c = ad.Tensor(0.1234567, requires_grad=False)
    expr = symbolic.to_sympy(ad.sum(a * b) * c + a)
    x0, x1_0, x1_1 = sympy.symbols("x0 x1_0 x1_1", real=True)
    assert expr.free_symbols == {x0, x1_0, x1_1}
    assert sympy.Float(0.1234567) in expr.atoms(sympy.Float)
    assert sympy.expand(expr - (sympy.Float(0.1234567) * x0 * (x1_0 + x1_1) + x0)) == 0


@pytest.mark.parametrize(
    "value, expected",
    [
        (2.0, sympy.Integer(2)),
        (np.int64(-3), sympy.Integer(-3)),
        (True, sympy.Integer(1)),
        (0.5, sympy.Rational(1, 2)),
        (1 / 3, sympy.Rational(1, 3)),
        (2.2 - 1 - 1, sympy.Rational(1, 5)),
        (np.log(5.0), sympy.log(5)),
        (np.pi / 2, sympy.pi / 2),
        (0.123456789, sympy.Float(0.123456789)),
    ],
)
def test_constants_are_exact_where_sensible(value, expected):
    assert sympy_number(value) == expected


def test_array_result_is_object_array_and_lazy_graphs_work():
    with ad.lazy_mode():
        x = ad.Tensor([1.0, 2.0], name="x")
        y = ad.exp(x) * 3
    assert y.cached_data is None
    result = symbolic.to_sympy(y)
    assert isinstance(result, np.ndarray) and result.dtype == object and result.shape == (2,)
    assert result[1] == 3 * sympy.exp(sympy.Symbol("x_1", real=True))


def test_gradient_graph_of_any_order():
    x = ad.Tensor(0.7, name="x")
    y = ad.sin(x) * x
    for _ in range(3):
        y.backward()
        y = x.grad
    xs = sympy.Symbol("x", real=True)
    assert sympy.simplify(symbolic.to_sympy(y) - sympy.diff(sympy.sin(xs) * xs, xs, 3)) == 0


def test_symbols_mapping_and_leaf_symbols():
    x = ad.Tensor([1.0, 2.0])
    a, b = sympy.symbols("a b")
    assert list(symbolic.to_sympy(x * x, symbols={x: [a, b]})) == [a**2, b**2]
    syms = symbolic.leaf_symbols(x * x)
    assert list(syms) == [x] and list(syms[x]) == list(sympy.symbols("x0_0 x0_1", real=True))
    with pytest.raises(ValueError, match="shape"):
        symbolic.to_sympy(x * x, symbols={x: [a]})


def test_two_leaves_with_one_name_are_refused():
    x1, x2 = ad.Tensor(1.0, name="x"), ad.Tensor(2.0, name="x")
    with pytest.raises(ValueError, match="'x'.*distinct names"):
        symbolic.to_sympy(x1 + x2)


def test_op_without_translation_is_named():
    class Opaque(TensorOp):
        def compute(self, a):
            return np.arctan(a)

        def gradient(self, out_grad, node):
            return (out_grad,)

    with pytest.raises(TypeError, match="Opaque has no sympy translation.*register_translation"):
        symbolic.to_sympy(Opaque()(ad.Tensor(1.0)))


def test_registered_translation_is_used():
    class Arctan(TensorOp):
        def compute(self, a):
            return np.arctan(a)

        def gradient(self, out_grad, node):
            (a,) = node.inputs
            return (out_grad / (a * a + 1),)

    symbolic.register_translation(Arctan)(lambda op, a: np.frompyfunc(sympy.atan, 1, 1)(a))
    xs = sympy.Symbol("x", real=True)
    assert symbolic.to_sympy(Arctan()(ad.Tensor(0.5, name="x"))) == sympy.atan(xs)
    assert symbolic.check(lambda x: Arctan()(x) * x, 0.5, order=2).identical


# ------------------------------------------------------------------------- check


def test_check_passes_on_correct_ops_and_reads_well():
    report = symbolic.check(lambda x, y: ad.exp(x * y) / y, 0.3, [1.5, 2.0], order=2)
    assert report.ok and bool(report) and report.identical
    assert len(report.derivatives) == 2 * 9
    text = str(report)
    assert text.startswith("check f, order 2: OK, grad and backward agree (18 of 18 identical")
    assert "∂²f[1]/∂x0∂x1_0" in text
    assert "paths: grad = nested ad.grad; backward = repeated backward()" in text
    markdown = report._repr_markdown_()
    assert r"\frac{\partial^{2} f_{1}}{\partial x_{0}\,\partial x_{1 0}}" in markdown
    assert "| nested ad.grad | repeated backward() |" in markdown
    assert markdown.count("\n|") == 2 + 18
    assert report.paths == {"grad": True, "backward": True} and report.failed_paths == ()
    for d in report.derivatives:
        assert list(d.paths) == ["grad", "backward"] and d.failed_paths == ()
        assert d.adjoint_value == d.paths["backward"].value
        assert d.paths["grad"].value == pytest.approx(d.sympy_value, rel=1e-12)


def test_check_catches_a_wrong_gradient():
    report = symbolic.check(lambda x: WrongSin()(x) * x, 0.4)
    assert not report.ok and not bool(report)
    (d,) = report.derivatives
    assert d.status == "DIFFERENT"
    xs = sympy.Symbol("x0", real=True)
    assert sympy.simplify(d.sympy_expr - sympy.diff(sympy.sin(xs) * xs, xs)) == 0
    text = str(report)
    assert "FAILED" in text and "x0*cos(x0)" in text and "x0*sin(x0)" in text
    assert "at x0 = 0.4" in text
    # A wrong rule is wrong on both paths, and the report says so.
    assert d.failed_paths == ("grad", "backward") == report.failed_paths
    assert "grad DISAGREES, backward DISAGREES" in text


def test_check_catches_a_wrong_second_derivative_only_at_order_two():
    fn = lambda x: SinWrongSecond()(x)  # noqa: E731
    assert symbolic.check(fn, 0.4, order=1).ok
    report = symbolic.check(fn, 0.4, order=2)
    assert not report.ok
    assert "DIFFERENT" in str(report)


def test_check_names_inputs_and_handles_independent_inputs():
    report = symbolic.check(lambda a, b: a * a, 1.0, 2.0, names=["a", "b"], order=2)
    assert report.ok and report.identical
    labels = [d.label for d in report.derivatives]
    assert labels == ["∂²f/∂a∂a", "∂²f/∂a∂b", "∂²f/∂b∂a", "∂²f/∂b∂b"]
    assert [d.sympy_expr for d in report.derivatives] == [2, 0, 0, 0]
    named = symbolic.check(lambda t: t * 2, ad.Tensor(1.0, name="t"))
    assert named.derivatives[0].label == "∂f/∂t"


def test_check_errors():
    with pytest.raises(ValueError, match="order must be a positive int"):
        symbolic.check(ad.exp, 1.0, order=0)
    with pytest.raises(ValueError, match="at least one input"):
        symbolic.check(ad.exp)
    with pytest.raises(TypeError, match="must return a Tensor"):
        symbolic.check(lambda x: 1.0, 1.0)


def test_check_third_order():
    report = symbolic.check(lambda x: ad.tanh(x) * ad.log(x), 0.8, order=3)
    assert report.ok and report.identical


# Issue 16: nested ad.grad (simplified from the 3rd order on) gave 0.0 for the 4th
# derivative of log(1 + x**2) * x at -0.939 while check, which then built derivatives
# by repeated backward() only, said all was right. check now follows both paths.
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(
    ("fn", "x"),
    [
        (lambda x: ad.log(1 + x**2) * x, -0.939),
        (lambda x: ad.tanh(x) * ad.exp(-(x**2)), 0.3),
    ],
    ids=["log(1+x^2)*x", "tanh(x)*exp(-x^2)"],
)
def test_check_both_paths_to_the_fifth_order(fn, x, order):
    report = symbolic.check(fn, x, order=order)
    assert report.ok and report.identical, report
    (d,) = report.derivatives
    assert d.paths["grad"].status == d.paths["backward"].status == "identical"
    # The grad path is exactly what users compute: nested ad.grad, default settings.
    nested = fn
    for _ in range(order):
        nested = ad.grad(nested)
    assert d.paths["grad"].value == float(nested(ad.Tensor(x)))
    assert d.paths["grad"].value == pytest.approx(d.sympy_value, rel=1e-12, abs=1e-12)


def test_check_grad_path_takes_mixed_partials_with_argnums_and_indexing():
    # Two arguments, one a vector, a vector output: each third partial is
    # ad.grad(ad.grad(ad.grad(f_e, argnums=i)[..], argnums=j)[..], argnums=k)[..].
    fn = lambda w, s: ad.tanh(w * s) * w[::-1]  # noqa: E731
    report = symbolic.check(fn, [0.3, -0.2], 0.7, order=3)
    assert report.ok and report.paths == {"grad": True, "backward": True}, report
    assert len(report.derivatives) == 2 * 3**3
    mixed = next(d for d in report.derivatives if d.label == "∂³f[1]/∂x0_0∂x1∂x0_1")
    g = ad.grad(lambda w, s: fn(w, s)[1], argnums=0)
    g2 = ad.grad(lambda w, s: g(w, s)[0], argnums=1)
    g3 = ad.grad(lambda w, s: g2(w, s), argnums=0)
    value = g3(ad.Tensor([0.3, -0.2]), ad.Tensor(0.7))[1]
    assert mixed.paths["grad"].value == float(value)


def _constant_of_same_value(*outputs, keep=(), polynomials=True):
    """A broken simplifier: each output replaced by a constant of the same value, which
    cuts its dependence on the variables (the kind of bug of issue 16)."""
    cut = tuple(ad.Tensor(o.numpy(), requires_grad=False) for o in outputs)
    return types.SimpleNamespace(outputs=cut)


def test_check_catches_a_simplifier_that_cuts_the_graph(monkeypatch):
    import adjoint.functional

    fn = lambda x: ad.log(1 + x**2) * x  # noqa: E731
    monkeypatch.setattr(adjoint.functional, "_simplify_graph", _constant_of_same_value)
    # Orders 1 and 2 are not simplified by default: nothing to catch.
    assert symbolic.check(fn, -0.939, order=2).ok
    # Order 3: the value is right, but the formula is a number, not a function of x.
    third = symbolic.check(fn, -0.939, order=3)
    assert not third.ok and third.failed_paths == ("grad",)
    (d,) = third.derivatives
    assert d.status == "DIFFERENT" and d.failed_paths == ("grad",)
    assert d.paths["grad"].status == "DIFFERENT" and d.paths["grad"].expr.is_Number
    assert d.paths["backward"].status == "identical"
    assert third.max_abs_diff < 1e-12
    assert "FAILED: grad DISAGREES, backward agrees" in str(third)
    assert "DIFFERENT (grad)" in third._repr_markdown_()
    # Order 4: the report, a wrong number (0.0 against 1.619...).
    fourth = symbolic.check(fn, -0.939, order=4)
    assert fourth.failed_paths == ("grad",)
    (d,) = fourth.derivatives
    assert d.paths["grad"].value == 0.0
    assert d.sympy_value == pytest.approx(1.619306749360434, rel=1e-12)
    assert d.paths["backward"].value == pytest.approx(d.sympy_value, rel=1e-12)
    assert fourth.max_abs_diff == pytest.approx(1.619306749360434, rel=1e-12)


# -------------------------------------------------------------------- from_sympy

X, Y = sympy.symbols("x y", real=True)
FORMULAS = [
    X**3 + sympy.sin(X),
    X / Y,
    2 / X + Y / 3,
    X * Y**-2 / 3,
    sympy.exp(X) * sympy.log(Y),
    sympy.tanh(X) + sympy.sqrt(Y),
    sympy.tan(X) * sympy.cosh(Y) - sympy.sinh(X),
    sympy.Abs(X - Y) + sympy.Max(X, Y, 1) - sympy.Min(X, 0),
    5**X + X**Y + X ** sympy.Rational(1, 3),
    sympy.pi * X - Y + sympy.sign(Y) * Y,
    sympy.Heaviside(X) * X + sympy.Heaviside(Y, 0) * Y**2,
]


@pytest.mark.parametrize("formula", FORMULAS, ids=str)
def test_from_sympy_values_and_derivatives_equal_sympys(formula):
    fn = symbolic.from_sympy(formula)
    syms = sorted(formula.free_symbols, key=lambda s: s.name)
    point = {X: 0.7, Y: 1.3}
    at = {s: sympy.Float(point[s], 30) for s in syms}
    leaves = [ad.Tensor(point[s]) for s in syms]
    out = fn(*leaves)
    assert float(out) == pytest.approx(float(formula.evalf(30, subs=at)), rel=1e-13)
    out.backward()
    grads = [x.grad for x in leaves]
    for s, g in zip(syms, grads):
        assert float(g) == pytest.approx(
            float(sympy.diff(formula, s).evalf(30, subs=at)), rel=1e-12
        )
    for t, g in zip(syms, grads):
        for x in leaves:
            x.grad = None
        if g.requires_grad:
            g.backward()
        for s, x in zip(syms, leaves):
            got = 0.0 if x.grad is None else float(x.grad)
            second = sympy.diff(formula, t, s)
            second = second.xreplace({d: 0 for d in second.atoms(sympy.DiracDelta)})
            want = float(second.evalf(30, subs=at))
            assert got == pytest.approx(want, rel=1e-11, abs=1e-13), (t, s)


def test_from_sympy_round_trips_through_to_sympy():
    for formula in FORMULAS[:7]:
        fn = symbolic.from_sympy(formula)
        syms = sorted(formula.free_symbols, key=lambda s: s.name)
        leaves = [ad.Tensor(0.5, name=s.name) for s in syms]
        difference = (symbolic.to_sympy(fn(*leaves)) - formula).rewrite(sympy.exp)
        assert sympy.simplify(difference) == 0


def test_from_sympy_arguments_broadcast_and_follow_symbols_order():
    fn = symbolic.from_sympy(X - Y, symbols=[Y, X])
    out = fn(ad.Tensor([1.0, 2.0]), 10.0)
    np.testing.assert_array_equal(out.numpy(), [9.0, 8.0])
    const = symbolic.from_sympy(sympy.Integer(3), symbols=[X])(ad.Tensor([1.0, 2.0]))
    np.testing.assert_array_equal(const.numpy(), [3.0, 3.0])


def test_from_sympy_errors():
    with pytest.raises(NotImplementedError, match="gamma.*not supported; supported: Add"):
        symbolic.from_sympy(sympy.gamma(X))
    with pytest.raises(ValueError, match="uses y, not among"):
        symbolic.from_sympy(X + Y, symbols=[X])
    with pytest.raises(TypeError, match="takes 2 argument"):
        symbolic.from_sympy(X + Y)(1.0)


def test_markdown_cells_survive_absolute_values():
    report = symbolic.check(lambda x: ad.abs(x) * x, -0.5)
    rows = report._repr_markdown_().splitlines()[2:]
    assert all(row.count("|") - row.count(r"\|") == 7 for row in rows), rows


# ------------------------------------------------------------------ deep formulas
# Issue 17, item 10: to_sympy and check hit RecursionError on a chain of 165 steps
# of h = sin(h) * 1.0001. The walks were iterative; the recursion was sympy's own.


def _chain(x, steps, c=1.0001):
    h = x
    for _ in range(steps):
        h = ad.sin(h) * c if c is not None else ad.sin(h)
    return h


@pytest.fixture
def deep_calls(monkeypatch):
    """The functions that needed symbolic's deep thread, by name, in order.

    sympy's cache is cleared first: formulas an earlier test in this process
    built are cached with their hashes, and need no recursion to build again.
    """
    sympy.core.cache.clear_cache()
    calls = []
    run = deep._in_deep_thread

    def spy(fn, args):
        calls.append(getattr(fn, "__name__", repr(fn)))
        return run(fn, args)

    monkeypatch.setattr(deep, "_in_deep_thread", spy)
    return calls


def test_to_sympy_of_a_chain_deeper_than_the_recursion_limit(deep_calls):
    limit = sys.getrecursionlimit()
    x = ad.Tensor(0.3, name="x")
    h = _chain(x, 165)  # the case
    expr = symbolic.to_sympy(h)
    assert deep_calls == ["_apply_all"]  # the default limit was not enough
    assert sys.getrecursionlimit() == limit
    # The formula is the chain's: from_sympy (deep-safe too) rebuilds its value.
    assert expr.func is sympy.Mul and sympy.Float(1.0001) in expr.args
    rebuilt = symbolic.from_sympy(expr)(ad.Tensor(0.3))
    assert float(rebuilt) == pytest.approx(float(h), rel=1e-14)


def test_check_of_a_chain_deeper_than_the_recursion_limit(deep_calls):
    limit = sys.getrecursionlimit()
    report = symbolic.check(lambda x: _chain(x, 150, c=None), 0.3)
    assert report.ok and report.identical, report
    assert "_derivative_of" in deep_calls  # sympy.diff needed the room
    assert sys.getrecursionlimit() == limit
    text = str(report)  # printing the formulas recurses too: it gets the room
    assert text.startswith("check f, order 1: OK") and "cos(sin(sin(" in text


def test_deep_room_is_a_thread_with_the_limit_raised_then_restored():
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    limit = sys.getrecursionlimit()
    assert deep._deep(depth, 5_000) == 5_000
    assert sys.getrecursionlimit() == limit
    # sympy's per-thread parameters follow the work into the thread.
    with sympy.evaluate(False):
        seen = deep._deep(lambda: (depth(3_000), sympy.Add(X, X))[1])
    assert seen.args == (X, X)
    # Past DEEP_RECURSION_LIMIT: a RecursionError that says what happened.
    with pytest.raises(symbolic.FormulaTooDeepError, match="DEEP_RECURSION_LIMIT"):
        deep._deep(depth, symbolic.DEEP_RECURSION_LIMIT + 1_000)
    assert sys.getrecursionlimit() == limit
    # Other errors pass through unchanged.
    with pytest.raises(ZeroDivisionError):
        deep._deep(lambda: depth(3_000) / 0)


def test_too_deep_a_formula_raises_formula_too_deep(monkeypatch):
    sympy.core.cache.clear_cache()  # see deep_calls: cached formulas need no recursion
    monkeypatch.setattr(symbolic, "DEEP_RECURSION_LIMIT", sys.getrecursionlimit() + 200)
    h = _chain(ad.Tensor(0.3, name="x"), 400)
    with pytest.raises(RecursionError, match="nested too deeply for sympy") as info:
        symbolic.to_sympy(h)
    assert isinstance(info.value, symbolic.FormulaTooDeepError)


def test_from_sympy_parses_a_string_safely():
    """A formula string is parsed as ``diff`` parses it, never evaluated as Python."""
    fn = symbolic.from_sympy("x**3 + sin(x)")
    np.testing.assert_allclose(float(fn(ad.Tensor(0.5))), 0.5**3 + np.sin(0.5), rtol=1e-15)
    for text, fragment in [
        ('__import__("os").system("true")', "unknown function"),
        ("10**10**10*x", "beyond the limit"),
        ("x +* 2", ""),
    ]:
        with pytest.raises(ValueError, match=f"from_sympy: .*{fragment}"):
            symbolic.from_sympy(text)
