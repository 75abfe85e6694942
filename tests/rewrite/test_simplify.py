"""adjoint.rewrite: the simplification pass (values never change) and the census."""

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adjoint as ad
from adjoint import autograd
from adjoint.graph.census import Census, census
from adjoint.rewrite import Simplified, simplify


def nodes(*outputs):
    return len(ad.find_topo_sort(outputs))


def snapshot(*outputs):
    return [
        (node, node.op, node.inputs, None if node.cached_data is None else node.cached_data.copy())
        for node in ad.find_topo_sort(outputs)
    ]


def assert_unchanged(before):
    for node, op, inputs, data in before:
        assert node.op is op and node.inputs == inputs
        if data is not None:
            np.testing.assert_array_equal(node.cached_data, data)


# ------------------------------------------------------------- derivatives of tanh


def test_tanh_derivatives_reach_the_targets_and_match_sympy():
    t = sympy.Symbol("t")
    x0 = 0.3
    raw = simplified = ad.tanh
    for order in range(1, 9):
        raw = ad.grad(raw, simplify=False)
        simplified = ad.grad(simplified)  # the default: simplify from the 3rd order on
        want = float(sympy.diff(sympy.tanh(t), t, order).subs(t, x0).evalf(30))
        y = raw(ad.Tensor(x0))
        result = simplify(y)
        assert result.before == nodes(y)
        assert result.after == nodes(result.output)
        np.testing.assert_allclose(result.output.numpy(), want, rtol=1e-11)
        nested = simplified(ad.Tensor(x0))
        np.testing.assert_allclose(nested.numpy(), want, rtol=1e-11)
        if order == 6:
            assert result.after <= 60 and nodes(nested) <= 60
        if order == 8:  # reverse mode applied 8 times: 1,421 nodes, geometric growth
            assert result.before > 1000
            assert result.after <= 150 and nodes(nested) <= 150


def test_nested_grad_simplifies_from_the_third_order_on_by_default():
    """First and second derivatives are the graphs reverse mode builds; higher ones are
    simplified (the rule in grad's docstring)."""
    f = lambda t: ad.sin(t) * ad.exp(t)  # noqa: E731
    raw = default = f
    for order in range(1, 5):
        raw = ad.grad(raw, simplify=False)
        default = ad.grad(default)
        x = ad.Tensor(0.5)
        got, want = nodes(default(x)), nodes(raw(x))
        if order <= 2:
            assert got == want, order
        else:
            assert got < want, order


def test_polynomials_absorbed_by_their_consumers_are_never_built(monkeypatch):
    """Simplifying the raw 8th derivative of tanh (1,421 nodes) builds about the nodes it
    returns, not every intermediate polynomial (it built 1,900 before)."""
    import importlib

    module = importlib.import_module("adjoint.rewrite.rebuild")
    built = []
    original = module._Builder._build
    monkeypatch.setattr(
        module._Builder, "_build", lambda self, *args: built.append(1) or original(self, *args)
    )
    d8 = ad.tanh
    for _ in range(8):
        d8 = ad.grad(d8, simplify=False)
    y = d8(ad.Tensor(0.3))
    result = simplify(y)
    assert result.before > 1000 and result.after <= 16
    assert len(built) <= 2 * result.after, len(built)
    want = float(sympy.diff(sympy.tanh(sympy.Symbol("t")), sympy.Symbol("t"), 8).subs("t", 0.3))
    np.testing.assert_allclose(result.output.numpy(), want, rtol=1e-11)


def test_simplified_graph_differentiates_like_the_original():
    x = ad.Tensor(0.4)
    d3 = ad.grad(ad.grad(ad.grad(ad.tanh, simplify=False), simplify=False), simplify=False)(x)
    s = simplify(d3).output
    (g_raw,) = autograd.gradients(d3, [x])
    (g_simple,) = autograd.gradients(s, [x])
    np.testing.assert_allclose(g_simple.numpy(), g_raw.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ rewrites


def test_identities_disappear():
    x = ad.Tensor(np.arange(6.0).reshape(2, 3), name="x")
    y = ad.exp(x)
    chain = ad.negate(ad.negate(y * 1 + 0))
    chain = ad.reshape(chain, (2, 3))
    chain = ad.broadcast_to(chain, (2, 3))
    chain = ad.summation(chain, axes=())
    chain = chain / 1
    chain = chain**1
    s = simplify(chain)
    assert s.output is y
    assert (s.before, s.after) == (nodes(chain), 2)


def test_hash_consing_merges_equal_nodes_and_constants():
    x = ad.Tensor([1.0, 2.0])
    y = ad.Tensor([3.0, 4.0])
    c1 = ad.Tensor([5.0, 6.0], requires_grad=False)
    c2 = ad.Tensor([5.0, 6.0], requires_grad=False)
    a = ad.exp(x * y + c1)
    b = ad.exp(y * x + c2)  # the same value, built separately, operands swapped
    z = ad.log(a) / ad.log(b)  # EWiseDiv is not commutative, so it stays
    s = simplify(z)
    # x, y, c, x*y, +c, exp, log, div
    assert s.after == 8 and s.before == 13
    np.testing.assert_allclose(s.output.numpy(), z.numpy())


def test_scalar_chains_fold():
    x = ad.Tensor([1.0, -2.0])
    y = ad.sin(x)
    s = simplify(3 * (2 * (-(y))) + 1 + 2)
    out = s.output
    assert out.op.name == "AddScalar" and out.op.scalar == 3
    inner = out.inputs[0]
    assert inner.op.name == "MulScalar" and inner.op.scalar == -6
    assert inner.inputs[0] is y
    np.testing.assert_allclose(out.numpy(), -6 * np.sin([1.0, -2.0]) + 3)


def test_like_terms_and_powers_collect():
    x = ad.Tensor(0.7)
    y = ad.sin(x)
    s = simplify(y * y * y + y + y - y**3)
    # 2 sin x + 0 sin^3 x: the cancelled term stays as a product with 0 (NaN-safe)
    assert s.after == 6 and s.before == 9
    out = s.output
    assert out.op.name == "EWiseAdd"
    twice, zero = out.inputs
    assert twice.op.name == "MulScalar" and twice.op.scalar == 2 and twice.inputs[0] is y
    assert zero.op.name == "MulScalar" and zero.op.scalar == 0
    assert zero.inputs[0].op.name == "PowerScalar" and zero.inputs[0].op.scalar == 3
    np.testing.assert_allclose(out.numpy(), 2 * np.sin(0.7), rtol=1e-14)


def test_products_with_zero_are_kept():
    x = ad.Tensor([np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        y = x * 0.0
        s = simplify(y)
    np.testing.assert_array_equal(np.isnan(s.output.numpy()), [True, False])


def test_constant_folding_in_lazy_mode():
    x = ad.Tensor([1.0, 2.0])
    with ad.lazy_mode():
        c = ad.exp(ad.Tensor([0.0, 1.0], requires_grad=False)) * 2
        y = x * c
        s = simplify(y)
    assert s.before == 5 and s.after == 3  # x, the folded constant, the product
    folded = [node for node in ad.find_topo_sort([s.output]) if node.op is None]
    assert any(not n.requires_grad for n in folded)
    np.testing.assert_allclose(s.output.numpy(), [2.0, 4 * np.e])


def test_the_original_graph_is_never_modified_and_variables_are_kept():
    x = ad.Tensor([0.2, 0.5], name="x")
    inner = ad.grad(lambda a: (ad.tanh(a) * a).sum(), simplify=False)
    g = ad.grad(lambda a: (inner(a) * a).sum(), simplify=False)
    y = ad.Tensor(np.ones(2))
    out = (g(x) * 1 + 0) * y
    before = snapshot(out)
    s = simplify(out)
    assert_unchanged(before)
    leaves = {id(n) for n in ad.find_topo_sort([s.output]) if n.op is None and n.requires_grad}
    assert id(x) in leaves and id(y) in leaves


def test_keep_stops_the_pass():
    x = ad.Tensor(2.0)
    w = x + 0
    y = ad.exp(w) * 1
    assert simplify(y).output.inputs == (x,)
    kept = simplify(y, keep=[w]).output
    assert kept.inputs == (w,)
    (g,) = autograd.gradients(kept, [w])
    np.testing.assert_allclose(g.numpy(), np.exp(2.0))


def test_a_deep_chain_needs_no_recursion():
    x = ad.Tensor(1.0)
    y = x
    for _ in range(3000):
        y = y * 1.0 + 0.0
    s = simplify(y)
    assert s.output is x and s.before == 6001


def test_never_more_nodes_than_given():
    # sums whose canonical order differs from the order they were built in
    xs = [ad.sin(ad.Tensor(float(k))) for k in range(30)]
    total = xs[-1]
    partials = [total]
    for x in reversed(xs[:-1]):
        total = total + x
        partials.append(total)
    s = simplify(*partials)
    assert s.after <= s.before
    for old, new in zip(partials, s.outputs):
        np.testing.assert_allclose(new.numpy(), old.numpy(), rtol=1e-12)


def test_misuse():
    with pytest.raises(TypeError, match="simplify: output 0 is a float"):
        simplify(1.0)
    with pytest.raises(ValueError, match="give at least one output"):
        simplify()
    s = simplify(ad.Tensor(1.0), ad.Tensor(2.0))
    assert isinstance(s, Simplified) and "2 output(s)" in repr(s)
    with pytest.raises(ValueError, match="there are 2 outputs"):
        _ = s.output


# --------------------------------------------------------- property: values


UNARY = [
    lambda a: ad.exp(a * 0.3),
    ad.sin,
    ad.tanh,
    lambda a: -a,
    lambda a: a * 1,
    lambda a: a + 0,
    lambda a: a * 2.5,
    lambda a: a + 1.5,
    lambda a: a**2,
    lambda a: a / 3,
    lambda a: ad.reshape(a, a.shape),
    lambda a: ad.broadcast_to(a, a.shape),
    lambda a: ad.summation(a, axes=()),
    lambda a: ad.broadcast_to(ad.summation(a, axes=0, keepdims=True), a.shape),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: b * a,
    lambda a, b: a - b,
    lambda a, b: a / (b * b + 1),
]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.booleans(),
            st.integers(0, 100),
            st.integers(0, 100),
            st.integers(0, 100),
        ),
        min_size=1,
        max_size=25,
    ),
    lazy=st.booleans(),
)
def test_simplify_never_changes_a_value(steps, lazy):
    rng = np.random.default_rng(0)
    x = ad.Tensor(rng.uniform(-1, 1, (2, 3)))
    y = ad.Tensor(rng.uniform(-1, 1, (2, 3)))
    c = ad.Tensor(np.full((2, 3), 2.0), requires_grad=False)
    with ad.lazy_mode(lazy):
        pool = [x, y, c]
        for binary, i, j, k in steps:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            if binary:
                pool.append(BINARY[k % len(BINARY)](a, b))
            else:
                pool.append(UNARY[k % len(UNARY)](a))
        outputs = [node for node in pool[-3:] if isinstance(node, ad.Tensor)]
        loss = sum((o * o).sum() for o in outputs)
        grads = autograd.gradients(loss, [x, y])
        before = snapshot(*outputs, *grads)
        s = simplify(*outputs, *grads)
    assert_unchanged(before)
    assert s.after <= s.before
    for old, new in zip([*outputs, *grads], s.outputs):
        assert new.shape == old.shape and new.dtype == old.dtype
        np.testing.assert_allclose(new.numpy(), old.numpy(), rtol=1e-9, atol=1e-12)
    # and on new values of the variables, through the graph itself
    xv, yv = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    feed_old = {v: d for v, d in ((x, xv), (y, yv)) if v in ad.Graph(*outputs, *grads)}
    feed_new = {v: d for v, d in ((x, xv), (y, yv)) if v in ad.Graph(*s.outputs)}
    for a, b in zip(ad.Graph(*outputs, *grads).run(feed_old), ad.Graph(*s.outputs).run(feed_new)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


# -------------------------------------------------------------------- census


def test_census_of_x_times_x_by_hand():
    x = ad.Tensor(2.0)
    y = x * x
    y.backward()
    # the seed ones and x (order 0); ones*x twice by EWiseMul's rule, and their
    # sum, the adjoint of the leaf x (order 1)
    c = census(x.grad)
    assert isinstance(c, Census)
    assert c.total == 5
    assert c.by_order == {0: 2, 1: 3}
    assert c.by_op == {"EWiseMul": 2, "forward": 2, "leaf": 1}
    assert c.table == {(0, "forward"): 2, (1, "EWiseMul"): 2, (1, "leaf"): 1}
    assert "order 1:" in repr(c)


def test_census_of_a_second_derivative_by_hand():
    x = ad.Tensor(0.5)
    d2 = ad.grad(ad.grad(ad.exp, simplify=False), simplify=False)(x)
    c = census(d2)
    # d2 = (ones * ones) * exp(x + 0 + 0): the first gradient ones * exp is not
    # part of it. Order 0: x, the outer x + 0, the inner x + 0, exp. Order 2:
    # ones * ones (EWiseMul's rule, folded to a constant) and the product with
    # exp made by Exp's rule.
    assert c.by_order == {0: 4, 2: 2}
    assert c.table == {(0, "forward"): 4, (2, "EWiseMul"): 1, (2, "Exp"): 1}
    assert c.total == 4 + 2
    assert ad.Graph(d2).order_counts() == c.by_order


def test_census_plot_draws_bars():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    d3 = ad.grad(ad.grad(ad.grad(ad.tanh, simplify=False), simplify=False), simplify=False)
    ax = census(d3(0.1)).plot()
    assert ax.get_xlabel() == "derivative order"


def test_simplify_inside_a_function_under_grad_keeps_the_outer_variable():
    def f(x):
        return simplify(x * 1 + 0).output * x

    np.testing.assert_allclose(ad.grad(f)(ad.Tensor(3.0)).numpy(), 6.0)
    from adjoint.functional import active_variables

    assert active_variables() == []


def test_cancelling_terms_keep_nan_for_infinite_values():
    x = ad.Tensor([np.inf, 2.0])
    y = ad.Tensor([1.0, 1.0])
    with np.errstate(invalid="ignore"):
        z = ad.exp(x) - ad.exp(x) + y  # inf - inf = NaN in the original graph
        s = simplify(z)
        out = s.output.numpy()
    np.testing.assert_array_equal(np.isnan(out), [True, False])
    np.testing.assert_allclose(out[1], 1.0)


def test_polynomials_false_keeps_products_factored():
    x = ad.Tensor(0.5)
    a = ad.sin(x)
    y = (a + 1) * (a + 1) - (a + 1) ** 2 + a
    expanded = simplify(y)
    factored = simplify(y, polynomials=False)
    assert expanded.after == 5  # x, sin x, sin^2, 0 * sin^2, 0 * sin^2 + sin x
    # factored: (sin x + 1)^2 is one node; it cancels with itself, kept as 0 * (...)
    ops = [n.op.name for n in ad.Graph(factored.output).ops]
    assert ops == ["Sin", "AddScalar", "PowerScalar", "MulScalar", "EWiseAdd"]
    for s in (expanded, factored):
        np.testing.assert_allclose(s.output.numpy(), y.numpy(), rtol=1e-14)


def test_hash_consing_tells_attributes_apart():
    x = ad.Tensor(np.arange(6.0).reshape(2, 3))
    y = ad.exp(x)
    rows, cols = ad.summation(y, axes=0), ad.summation(y, axes=1)
    again = ad.summation(ad.exp(x), axes=0)
    s = simplify(rows, cols, again)
    assert s.outputs[0] is not s.outputs[1]
    assert s.outputs[2] is s.outputs[0]
    assert s.after == 4  # x, exp, the two sums
    a, b = ad.sin(x) * 2, ad.sin(x) * 3
    s = simplify(a, b)
    assert s.outputs[0] is not s.outputs[1] and s.after == 4


def test_polynomial_normal_form_stops_at_its_degree_and_term_bounds():
    """MAX_DEGREE and MAX_TERMS bound the normal form; beyond, a node keeps its structure."""
    import sys

    module = sys.modules["adjoint.rewrite.polynomial"]
    x = ad.Tensor(1.1, name="x")

    def powers(out):
        return sorted(
            n.op.scalar for n in ad.find_topo_sort([out]) if type(n.op) is ad.ops.PowerScalar
        )

    at_bound = simplify((x**4) ** (module.MAX_DEGREE // 4)).output
    assert powers(at_bound) == [module.MAX_DEGREE]  # a power of an atom: exponents multiply
    beyond = (x**5) ** 5
    assert module.MAX_DEGREE < 25
    s = simplify(beyond)
    assert powers(s.output) == [5, 5] and s.after == 3
    np.testing.assert_allclose(float(s.output), 1.1**25, rtol=1e-14)
    negated = simplify((-x) ** 3).output  # (-1)**3 x**3, exactly
    assert float(negated) == float((-x) ** 3)
    # (1 + x)**20 has 21 terms when expanded: more than MAX_TERMS, so it stays a power
    wide = simplify((x + 1.0) ** 20)
    assert module.MAX_TERMS < 21 and powers(wide.output) == [20]
    np.testing.assert_allclose(float(wide.output), 2.1**20, rtol=1e-13)


def test_scaling_by_zero_and_by_minus_zero_stay_apart():
    """0.0 == -0.0, but x * -0.0 has the opposite sign bits: the two must not hash alike."""
    x = ad.Tensor([1.0, 2.0], name="x")
    s = simplify(x * 0.0, x * -0.0)
    plus, minus = (out.numpy() for out in s.outputs)
    assert not np.signbit(plus).any() and np.signbit(minus).all()
    assert s.outputs[0] is not s.outputs[1]
