"""adjoint.rewrite's rules one by one against sympy, the polynomial normal form as
one, and ``verify=True``, the check that makes a wrong rewrite fail loudly."""

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint.rewrite import RewriteError, polynomial, rebuild, rules, simplify, verify


@pytest.fixture
def fired(monkeypatch):
    """The names of the rules that a simplification applied (recorded by the verifier)."""
    names = []
    check = verify._Verifier.check

    def recording(self, old, inputs, result, rule):
        names.append(rule)
        return check(self, old, inputs, result, rule)

    monkeypatch.setattr(verify._Verifier, "check", recording)
    return names


def exact(node):
    return np.asarray(ad.symbolic.to_sympy(node), dtype=object)


def assert_same_formula(new, old):
    """sympy proves the rebuilt graph's formula equal to the original's."""
    a, b = exact(new), exact(old)
    assert a.shape == b.shape
    for u, v in zip(a.flat, b.flat):
        assert sympy.simplify(sympy.nsimplify(u - v, rational=True)) == 0, (u, v)


def assert_same_at_random_points(new, old, leaves, rng, points=3):
    for _ in range(points):
        feed = {leaf: rng.uniform(-2, 2, leaf.shape) for leaf in leaves}
        (want,) = ad.Graph(old).run({k: v for k, v in feed.items() if k in ad.Graph(old)})
        (got,) = ad.Graph(new).run({k: v for k, v in feed.items() if k in ad.Graph(new)})
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ the rules


def _x():
    return ad.Tensor(np.array([[0.3, -0.7, 1.1], [0.5, 0.9, -1.3]]), name="x")


def _sx():
    return ad.Tensor(0.4, name="x")


def _const(value, shape=(2, 3)):
    return ad.Tensor(np.full(shape, value), requires_grad=False)


def _wide_sum(x):
    """More terms than like terms collect, plus the first again: its operands swap."""
    terms = [ad.sin(x * float(k)) for k in range(1, polynomial.MAX_TERMS + 3)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total + terms[0]


# (rule, polynomials, leaf maker, graph maker): each graph is one where the rule applies.
RULES = [
    ("polynomial normal form", True, _x, lambda x: (ad.sin(x) + 1) * (ad.sin(x) - 1)),
    ("polynomial normal form", True, _sx, lambda x: (x + 2) ** 3 - x**2 * 0.5),
    ("shift chain", False, _x, lambda x: (ad.sin(x) + 1) + 2),
    ("shift chain", False, _x, lambda x: (ad.sin(x) + 1) + -1),
    ("scale chain", False, _x, lambda x: 3 * (2 * ad.sin(x))),
    ("scale chain", False, _x, lambda x: ad.negate(ad.negate(ad.sin(x)))),
    ("scale chain", False, _x, lambda x: ad.sin(x) / -1),
    ("x ** 1", False, _x, lambda x: ad.sin(x) ** 1),
    ("same shape", True, _x, lambda x: ad.reshape(ad.sin(x), (2, 3))),
    ("same shape", True, _x, lambda x: ad.reshape(ad.reshape(ad.sin(x), (3, 2)), (6,))),
    ("same shape", True, _x, lambda x: ad.broadcast_to(ad.sin(x), (2, 3))),
    ("sum over no axes", True, _x, lambda x: ad.summation(ad.sin(x), axes=())),
    ("identity permutation", True, _x, lambda x: ad.permute(ad.sin(x), (0, 1))),
    ("double transpose", True, _x, lambda x: ad.transpose(ad.transpose(ad.sin(x)))),
    ("uniform constant operand", False, _x, lambda x: ad.sin(x) + _const(0.0)),
    ("uniform constant operand", False, _x, lambda x: _const(2.5) + ad.sin(x)),
    ("uniform constant operand", False, _x, lambda x: (3 * ad.sin(x)) * _const(-2.0)),
    ("like terms", False, _x, lambda x: ad.sin(x) + ad.cos(x) - 2 * ad.sin(x) + 1),
    ("like terms", False, _x, lambda x: ad.sin(x) - ad.sin(x)),
    ("scalar factors and powers", False, _x, lambda x: (2 * ad.sin(x)) * (-3 * ad.cos(x))),
    ("scalar factors and powers", False, _x, lambda x: ad.sin(x) ** 2 * ad.sin(x) ** 3),
    ("canonical order", False, _x, _wide_sum),
    ("uniform divisor", False, _x, lambda x: ad.sin(x) / _const(4.0)),
    ("hash-consing", True, _x, lambda x: ad.exp(x) * ad.exp(x) + ad.exp(x)),
]


@pytest.mark.parametrize(
    "rule, polynomials, leaf, graph", RULES, ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)]
)
def test_each_rule_keeps_the_formula(fired, rule, polynomials, leaf, graph):
    x = leaf()
    old = graph(x)
    new = simplify(old, polynomials=polynomials).output
    assert rule in fired, f"{rule!r} did not apply; applied: {sorted(set(fired))}"
    assert new.shape == old.shape and new.dtype == old.dtype
    assert_same_formula(new, old)
    assert_same_at_random_points(new, old, [x], np.random.default_rng(0))
    # and derivatives alike, through reverse mode over the rebuilt graph
    (g_new,) = ad.autograd.gradients(ad.summation(new), [x])
    (g_old,) = ad.autograd.gradients(ad.summation(old), [x])
    np.testing.assert_allclose(g_new.numpy(), g_old.numpy(), rtol=1e-12, atol=1e-12)


def test_constant_folding_keeps_the_value(fired):
    x = _x()
    with ad.lazy_mode():
        c = _const(2.0) * 3  # recorded in lazy mode: an op node that needs no gradient
        old = ad.sin(x) * c
        new = simplify(old).output
    assert "constant folding" in fired
    assert_same_formula(new, old)
    np.testing.assert_allclose(new.numpy(), old.numpy(), rtol=1e-15)


def test_every_rule_has_a_test_above():
    named = {name for entries in rules.RULES.values() for name, _ in entries}
    assert named >= rules.REGROUPING  # names of rules, not typos
    named |= {"polynomial normal form", "hash-consing"}
    assert named == {r[0] for r in RULES}  # and constant folding: the test above


# ------------------------------------------------------- kept nodes are leaves


KEPT = [
    lambda t: t + 0,
    lambda t: t * 2,
    lambda t: -t,
    lambda t: t**2,
    lambda t: ad.reshape(t, (3, 2)),
    lambda t: ad.transpose(t),
]


@pytest.mark.parametrize(
    "graph",
    [
        lambda v: (v + 1) + 2,  # shift chain
        lambda v: 3 * v,  # scale chain
        lambda v: v * v * v,  # powers
        lambda v: ad.reshape(v, (6,)),  # reshape of a reshape
        lambda v: ad.transpose(v),  # transpose of a transpose
        lambda v: v + v * 2 - ad.sin(v),  # like terms
    ],
)
@pytest.mark.parametrize("polynomials", [True, False])
def test_rules_never_look_through_a_kept_node(graph, polynomials):
    """The root cause of the wrong nested derivatives: ``(v + 0) + 1`` became
    ``x + 1`` for the kept variable ``v = x + 0``, which cut the dependence on v."""
    x = _x()
    for make_v in KEPT:
        v = make_v(x)
        out = graph(v)
        new = simplify(out, keep=[v], polynomials=polynomials).output
        assert v in ad.Graph(new)
        (g_new,) = ad.autograd.gradients(ad.summation(new), [v])
        (g_old,) = ad.autograd.gradients(ad.summation(out), [v])
        np.testing.assert_allclose(g_new.numpy(), g_old.numpy(), rtol=1e-12)


# ------------------------------------------------------- the polynomial normal form


def _random_polynomial_graph(rng, atoms, size):
    pool = list(atoms)
    for _ in range(size):
        kind = rng.integers(8)
        a = pool[rng.integers(len(pool))]
        b = pool[rng.integers(len(pool))]
        c = float(rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 3.0]))
        if kind == 0:
            made = a + b
        elif kind == 1:
            made = a - b
        elif kind == 2:
            made = a * b
        elif kind == 3:
            made = a * c
        elif kind == 4:
            made = a + c
        elif kind == 5:
            made = a / c
        elif kind == 6:
            made = -a
        else:
            made = a ** int(rng.integers(1, 5))
        pool.append(made)
    return pool[-1]


@pytest.mark.parametrize("seed", range(40))
def test_polynomial_normal_form_equals_the_original_at_random_points(seed):
    rng = np.random.default_rng(seed)
    x = ad.Tensor(rng.uniform(-1, 1, 3), name="x")
    y = ad.Tensor(rng.uniform(-1, 1, 3), name="y")
    atoms = [x, y, ad.sin(x), ad.tanh(y), ad.exp(x * y)]
    old = _random_polynomial_graph(rng, atoms, int(rng.integers(3, 14)))
    s = simplify(old)
    assert s.after <= s.before
    for _ in range(4):
        feed = {x: rng.uniform(-1.5, 1.5, 3), y: rng.uniform(-1.5, 1.5, 3)}
        graph_old, graph_new = ad.Graph(old), ad.Graph(s.output)
        (want,) = graph_old.run({k: v for k, v in feed.items() if k in graph_old})
        (got,) = graph_new.run({k: v for k, v in feed.items() if k in graph_new})
        scale = 1 + np.abs(want)
        np.testing.assert_array_less(np.abs(got - want), 1e-9 * scale * 1e3)


@pytest.mark.parametrize(
    "terms", [polynomial.MAX_TERMS - 1, polynomial.MAX_TERMS, polynomial.MAX_TERMS + 1]
)
def test_polynomial_normal_form_at_its_term_bound(terms):
    """A sum with as many monomials as the bound is normalised; one more, it stays as built."""
    x = ad.Tensor(np.array([0.3, -0.9]), name="x")
    s = ad.sin(x)
    old = s * 0.5
    for k in range(2, terms + 1):
        old = old + s**k * (1.0 / k)
    new = simplify(old).output
    for point in (np.array([0.1, 1.2]), np.array([-1.4, 0.7])):
        (want,) = ad.Graph(old).run({x: point})
        (got,) = ad.Graph(new).run({x: point})
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize(
    "degree", [polynomial.MAX_DEGREE - 1, polynomial.MAX_DEGREE, polynomial.MAX_DEGREE + 1]
)
def test_polynomial_normal_form_at_its_degree_bound(degree):
    x = ad.Tensor(np.array([0.9, -1.05]), name="x")
    t = ad.tanh(x) + 0.5
    old = (t * t) ** (degree // 2) * t ** (degree % 2) - 2 * ad.tanh(x)
    new = simplify(old).output
    for point in (np.array([0.2, 0.8]), np.array([-0.6, 1.3])):
        (want,) = ad.Graph(old).run({x: point})
        (got,) = ad.Graph(new).run({x: point})
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------ verify=True


def test_the_suite_runs_with_verification_on():
    assert os.environ.get("ADJOINT_VERIFY_SIMPLIFY") == "1"
    assert verify.VERIFY is True


def test_verification_is_off_unless_asked_for():
    env = {k: v for k, v in os.environ.items() if k != "ADJOINT_VERIFY_SIMPLIFY"}
    code = "import sys, adjoint; print(sys.modules['adjoint.rewrite.verify'].VERIFY)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_verify_rewrites_switches_the_default_and_restores_it():
    before = verify.VERIFY
    with ad.verify_rewrites(False):
        assert verify.VERIFY is False
        with ad.verify_rewrites():
            assert verify.VERIFY is True
        assert verify.VERIFY is False
    assert verify.VERIFY is before


def _wrong_shift(b, old, inputs):
    """A wrong rule: ``x + c`` as ``x + (c + 1)``."""
    return b.make_new(ad.ops.AddScalar, inputs, old, old.op.scalar + 1)


def _patch_rule(monkeypatch, kind, name, rule):
    table = dict(rules.RULES)
    table[kind] = ((name, rule),)
    monkeypatch.setattr(rules, "RULES", table)


def test_a_rule_that_changes_a_value_is_named(monkeypatch):
    _patch_rule(monkeypatch, ad.ops.AddScalar, "wrong shift", _wrong_shift)
    x = _x()
    y = ad.sin(x) + 2
    with pytest.raises(RewriteError, match=r"'wrong shift' changed the value of node AddScalar"):
        simplify(y, polynomials=False)
    try:
        simplify(y, polynomials=False, verify=True)
    except RewriteError as error:
        assert error.rule == "wrong shift" and error.node is y
    wrong = simplify(y, polynomials=False, verify=False).output  # what verify protects from
    np.testing.assert_allclose(wrong.numpy(), y.numpy() + 1)


def test_a_rule_that_cuts_a_dependence_is_named(monkeypatch):
    """The original bug, put back: rules that look through kept nodes."""
    monkeypatch.setattr(rebuild._Builder, "op_of", lambda self, node: node.op)
    d = lambda x: ad.log(1 + x**2) * x
    for _ in range(4):
        d = ad.grad(d)
    with pytest.raises(RewriteError, match="cut the dependence on the kept node AddScalar"):
        d(ad.Tensor(-0.939))
    with ad.verify_rewrites(False):
        assert float(d(ad.Tensor(-0.939))) == 0.0  # the wrong value users got


def test_verification_in_lazy_mode_checks_dependence(monkeypatch):
    monkeypatch.setattr(rebuild._Builder, "op_of", lambda self, node: node.op)
    x = _x()
    with ad.lazy_mode():
        v = x + 0
        y = (v + 0) + 1
        assert y.cached_data is None
        with pytest.raises(RewriteError, match="cut the dependence"):
            simplify(y, keep=[v], polynomials=False)
        assert y.cached_data is None  # verification computed nothing


def test_verification_flags_infinities_and_nans(monkeypatch):
    def to_nan(b, old, inputs):
        return b.make_new(ad.ops.MulScalar, inputs, old, float("nan"))

    _patch_rule(monkeypatch, ad.ops.MulScalar, "to nan", to_nan)
    x = _x()
    with pytest.raises(RewriteError, match="NaN"):
        simplify(ad.sin(x) * 3.0, polynomials=False)


def test_verification_allows_rounding_where_terms_cancel():
    """``(x + 1e8) (x - 1e8)`` expands to ``x**2 - 1e16``, which rounds differently."""
    x = ad.Tensor(np.array([0.1, 3.0, -7.0]))
    y = (x + 1e8) * (x - 1e8) + 1e16
    s = simplify(y, verify=True)
    np.testing.assert_allclose(s.output.numpy(), y.numpy(), atol=8.0)


@pytest.mark.slow  # about 6 s
def test_repros_of_issue_16_at_every_setting():
    """The examples of the issue, by nested grad, against sympy's exact values."""
    cases = [
        (lambda x: ad.log(1 + x**2) * x, -0.939, 4, 1.619306749360434),
        (lambda x: ad.sin(3 * x) / (1 + x**2), 0.3, 4, 176.1417000003524),
    ]
    for f, x0, order, want in cases:
        for setting in (None, True, False):
            d = f
            for _ in range(order):
                d = ad.grad(d, simplify=setting)
            np.testing.assert_allclose(float(d(ad.Tensor(x0))), want, rtol=1e-12)
    t = sympy.Symbol("t")
    g = sympy.log(1 + sympy.tanh(t) ** 2) * ((2 * t) ** 2 - sympy.sin(t))
    f = lambda x: ad.log(1 + ad.tanh(x) ** 2) * ((2 * x) ** 2 - ad.sin(x))
    d = f
    for order in range(1, 9):
        d = ad.grad(d, simplify=True)
        want = float(sympy.diff(g, t, order).subs(t, sympy.Float(0.348, 30)).evalf(30))
        np.testing.assert_allclose(float(d(ad.Tensor(0.348))), want, rtol=1e-10)


def test_float16_graphs_are_not_regrouped_or_expanded(fired):
    """float16 overflows at 65504: regrouping a sum, or expanding a product, turned a
    finite value into an infinity and an infinity into NaN (found by verification)."""
    x = ad.Tensor(np.array([250.0, -255.0, 3.0], dtype=np.float16), name="x")
    with np.errstate(all="ignore"):
        wide = (x * x + 1.0) * (x * x - 1.0)  # expanded: x**4 overflows
        regrouped = (x * x + 6e4) - 6e4  # like terms: (x**2 + 6e4) overflows
        s = simplify(wide, regrouped, verify=True)
        for new, old in zip(s.outputs, (wide, regrouped)):
            np.testing.assert_array_equal(new.numpy(), old.numpy())
    assert not set(fired) & (rules.REGROUPING | {"polynomial normal form"})


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_nested_gradients_verify_in_every_float_dtype(dtype):
    x = ad.Tensor(np.array([0.3, -0.7, 1.2], dtype=dtype))
    g = ad.grad(lambda t: (ad.tanh(t) * ad.exp(-t * t) + t**3 * 0.5).sum())
    raw = g
    with np.errstate(all="ignore"):
        for _ in range(3):
            g = ad.grad(lambda t, g=g: (g(t) * g(t)).sum(), simplify=True)
            raw = ad.grad(lambda t, r=raw: (r(t) * r(t)).sum(), simplify=False)
        got, want = g(x).numpy(), raw(x).numpy()  # verified: the suite runs so
    assert got.dtype == want.dtype == dtype
    rtol = {np.float16: 5e-2, np.float32: 1e-4, np.float64: 1e-11}[dtype]
    np.testing.assert_allclose(got, want, rtol=rtol)
