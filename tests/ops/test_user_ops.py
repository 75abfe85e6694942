"""An op written by a user, as notebook 03 teaches, works with every tool.

An op class carries everything known about it (see :class:`adjoint.Op`): besides
``compute`` and ``gradient``, its ``formula`` and ``partials`` (the tracing
tables), ``sympy`` (``to_sympy``), ``compute_batched`` (``Graph.run`` on a
batch) and ``commutative`` (drawings and ``simplify``). Here a user op that
declares these facts is used by each tool, and one that declares nothing works
with each tool or fails with a message that names the op and what to define.
The last tests check that adjoint's own ops declare what the tools read.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint import symbolic

# ------------------------------------------------------------------ user ops


class Atan(ad.TensorOp):
    """arctan, elementwise: NumPy's arctan does not work on sympy objects, so it
    declares its sympy form; and its batch rule (counted, to see it is used)."""

    formula = ("atan($0)", "\\arctan($0)")
    partials = (("$g / (1 + $0²)", "$g / (1 + $0^{2})"),)
    batched_calls = 0

    def compute(self, a):
        return np.arctan(a)

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return (out_grad / (a * a + 1.0),)

    def sympy(self, a):
        return np.frompyfunc(sympy.atan, 1, 1)(a)

    def compute_batched(self, batch, arrays, shapes):
        Atan.batched_calls += 1
        return np.arctan(arrays[0])

    def infer_shape(self, shape):
        return shape


class Hypot(ad.TensorOp):
    """sqrt(a² + b²) of two equally shaped tensors: commutative."""

    commutative = True
    formula = ("hypot($0, $1)", "\\operatorname{hypot}($0, $1)")
    partials = (("$g · $0 / $y", "$g \\cdot $0 / $y"), ("$g · $1 / $y", "$g \\cdot $1 / $y"))

    def compute(self, a, b):
        return np.hypot(a, b)

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return out_grad * a / node, out_grad * b / node

    def sympy(self, a, b):
        return np.frompyfunc(lambda x, y: sympy.sqrt(x**2 + y**2), 2, 1)(a, b)

    def infer_shape(self, shape_a, shape_b):
        return shape_a


class Bare(ad.TensorOp):
    """Declares nothing but compute and gradient (np.arctan: no sympy form)."""

    def compute(self, a):
        return np.arctan(a)

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return (out_grad / (a * a + 1.0),)


class BareCube(ad.TensorOp):
    """Declares nothing, but its compute is arithmetic: works on sympy objects."""

    def compute(self, a):
        return a * a * a

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return (out_grad * a * a * 3.0,)


class BarePair(ad.TensorOp):
    """Two inputs, declares nothing: a - 2 b."""

    def compute(self, a, b):
        return a - 2 * b

    def gradient(self, out_grad, node):
        return out_grad, out_grad * -2.0


def _sym(name):
    return sympy.Symbol(name, real=True)


# ------------------------------------------------------------------ to_sympy


def test_to_sympy_uses_the_declared_sympy_forms():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    out = Atan()(x) * Hypot()(x, y)
    sx, sy = _sym("x"), _sym("y")
    assert symbolic.to_sympy(out) == sympy.atan(sx) * sympy.sqrt(sx**2 + sy**2)
    out.backward()
    expected = sympy.diff(sympy.atan(sx) * sympy.sqrt(sx**2 + sy**2), sx)
    assert sympy.simplify(symbolic.to_sympy(x.grad) - expected) == 0
    assert symbolic.has_translation(Atan) and symbolic.has_translation(Hypot)
    assert symbolic.check(lambda t: Atan()(t) * t, 0.5, order=2).identical


def test_a_registered_translation_takes_precedence_over_the_sympy_method():
    class Atan2(Atan):
        pass

    symbolic.register_translation(Atan2)(lambda op, a: np.frompyfunc(sympy.acot, 1, 1)(a))
    assert symbolic.to_sympy(Atan2()(ad.Tensor(0.5, name="x"))) == sympy.acot(_sym("x"))
    assert symbolic.to_sympy(Atan()(ad.Tensor(0.5, name="x"))) == sympy.atan(_sym("x"))


def test_a_subclass_that_redefines_compute_does_not_inherit_sympy():
    class Shifted(Atan):
        def compute(self, a):
            return a + 1

    assert not symbolic.has_translation(Shifted)
    assert symbolic.to_sympy(Shifted()(ad.Tensor(0.5, name="x"))) == _sym("x") + 1


def test_to_sympy_of_an_op_that_declares_nothing():
    x = ad.Tensor(0.5, name="x")
    assert symbolic.to_sympy(BareCube()(x)) == _sym("x") ** 3  # compute on object arrays
    assert not symbolic.has_translation(BareCube)
    with pytest.raises(
        TypeError, match=r"Bare has no sympy translation.*define Bare\.sympy.*register_translation"
    ):
        symbolic.to_sympy(Bare()(x))


class Difference(ad.ops.EWiseAdd):
    """A user's op built on adjoint's addition with a compute of its own (a - b): none of
    EWiseAdd's facts (commutative, formula, partials, sympy, source) describe it."""

    def compute(self, a, b):
        return a - b

    def gradient(self, out_grad, node):
        return out_grad, -out_grad


class FlatReshape(ad.ops.Reshape):
    """Reshape's batch rule does not hold for a compute that also reverses the data."""

    def compute(self, a):
        return np.reshape(a, self.shape)[::-1].copy()


def test_a_subclass_with_its_own_compute_inherits_no_fact_of_its_base():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(2.0, name="y")
    d = Difference()(x, y)
    # simplify: not commutative, so d(x, y) and d(y, x) stay two nodes, each right
    both = ad.simplify(d, Difference()(y, x)).outputs
    assert [float(t) for t in both] == [-1.5, 1.5]
    assert symbolic.to_sympy(d) == _sym("x") - _sym("y")  # compute on object arrays
    assert not symbolic.has_translation(Difference)
    assert "Difference(v1, v2)" in str(ad.Graph(d).forward_trace())  # the generic row
    numbered = _edge_lines(ad.Graph(d).to_dot())
    assert [e.split("label=")[1][:3] for e in numbered] == ['"0"', '"1"']
    compiled = ad.Graph(d).compile(inputs=[x, y])
    assert "difference_op(x, y)" in compiled.source
    assert float(compiled(np.array(0.5), np.array(2.0))[0]) == -1.5
    assert float(ad.grad(ad.grad(lambda t: Difference()(t * t, t)))(x)) == 2.0

    a = ad.Tensor(np.arange(6.0), name="a")
    z = FlatReshape((2, 3))(a)
    batch = np.arange(12.0).reshape(2, 6)
    got = ad.Graph(z).run({a: batch})[0]
    want = np.stack([FlatReshape((2, 3)).compute(row) for row in batch])
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------ Graph.run


def test_graph_run_on_a_batch_uses_the_declared_rule_and_matches_a_loop():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    out = Atan()(x) * Hypot()(x, y) + Bare()(y)
    out.backward()
    graph = ad.Graph(out, x.grad, y.grad)
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    before = Atan.batched_calls
    batched = graph.run({x: xs, y: ys})
    assert Atan.batched_calls > before
    for index in np.ndindex(4, 3):
        point = graph.run({x: xs[index], y: ys[index]})
        for got, want in zip(batched, point):
            np.testing.assert_allclose(got[index], want, rtol=1e-14)


def test_graph_run_on_a_batch_runs_an_op_that_declares_nothing_point_by_point():
    x = ad.Tensor(np.array([0.2, -0.4]), name="x")
    out = ad.summation(BarePair()(Bare()(x), x))
    xs = np.random.default_rng(1).normal(size=(5, 2))
    (batched,) = ad.Graph(out).run({x: xs})
    loop = [ad.Graph(out).run({x: row})[0] for row in xs]
    np.testing.assert_allclose(batched, np.array(loop), rtol=1e-14)


# ------------------------------------------------------------------ tracing


def test_tracing_tables_show_the_declared_formula_and_partials():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    graph = ad.Graph(Atan()(Hypot()(x, y)))
    forward = str(graph.forward_trace())
    assert "hypot(v1, v2)" in forward and "atan(v3)" in forward
    reverse = str(graph.reverse_trace())
    assert "v̄3 = v̄4 / (1 + v3²)" in reverse
    assert "v̄1 = v̄3 · v1 / v3" in reverse and "v̄2 = v̄3 · v2 / v3" in reverse
    markdown = graph.forward_trace().to_markdown()
    assert "\\operatorname{hypot}(v_{1}, v_{2})" in markdown and "\\arctan(v_{3})" in markdown
    latex = graph.reverse_trace().to_latex()
    assert "\\bar{v}_{3} = \\bar{v}_{4} / (1 + v_{3}^{2})" in latex


def test_tracing_tables_show_a_generic_row_for_an_op_that_declares_nothing():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    graph = ad.Graph(BarePair()(x, y))
    assert "BarePair(v1, v2)" in str(graph.forward_trace())
    assert "\\operatorname{BarePair}(v_{1}, v_{2})" in graph.forward_trace().to_markdown()
    reverse = str(graph.reverse_trace())
    assert "v̄1 = v̄3 · ∂v3/∂v1" in reverse and "v̄2 = v̄3 · ∂v3/∂v2" in reverse
    with ad.trace_evaluation() as trace, ad.lazy_mode():
        out = BarePair()(Atan()(x), y)
        out.realize_cached_data()
    assert [step.op.name for step in trace.steps] == ["Atan", "BarePair"]


# ------------------------------------------------------------------ drawing


def _edge_lines(dot):
    return [line.strip() for line in dot.splitlines() if "->" in line]


def test_drawing_numbers_the_inputs_of_ops_not_declared_commutative():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    commutative = _edge_lines(ad.Graph(Hypot()(x, y)).to_dot())
    assert len(commutative) == 2 and not any("label=" in e for e in commutative)
    numbered = _edge_lines(ad.Graph(BarePair()(x, y)).to_dot())
    assert [e.split("label=")[1][:3] for e in numbered] == ['"0"', '"1"']
    assert "<svg" in ad.Graph(Atan()(Hypot()(x, y)), Bare()(x)).to_svg(engine="python")


# ------------------------------------------------------------------ simplify


def _count(outputs, cls):
    return sum(type(n.op) is cls for n in ad.Graph(*outputs).nodes)


def test_simplify_hash_conses_user_ops_and_orders_commutative_inputs():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    out = Bare()(x) * Bare()(x) + Hypot()(x, y) * Atan()(Hypot()(y, x))
    assert _count([out], Bare) == 2 and _count([out], Hypot) == 2
    s = ad.simplify(out)
    assert _count(s.outputs, Bare) == 1 and _count(s.outputs, Hypot) == 1
    np.testing.assert_allclose(float(s.output), float(out), rtol=1e-14)
    # the simplified graph differentiates to the same gradients
    grads = ad.grad(lambda a, b: ad.simplify(_f(a, b)).output, argnums=(0, 1))(x, y)
    want = ad.grad(_f, argnums=(0, 1))(x, y)
    for got, exact in zip(grads, want):
        np.testing.assert_allclose(float(got), float(exact), rtol=1e-13)


def _f(a, b):
    return Bare()(a) * Bare()(a) + Hypot()(a, b) * Atan()(Hypot()(b, a))


def test_simplify_keeps_the_input_order_of_ops_not_declared_commutative():
    x, y = ad.Tensor(0.5, name="x"), ad.Tensor(1.5, name="y")
    out = BarePair()(x, y) * BarePair()(y, x)
    s = ad.simplify(out)
    assert _count(s.outputs, BarePair) == 2
    np.testing.assert_allclose(float(s.output), float(out), rtol=1e-14)


# ------------------------------------------------------------------ adjoint's own ops

#: The ops that had rows in the tracing tables before each op declared its own.
_TABLED = [
    "EWiseAdd",
    "AddScalar",
    "EWiseMul",
    "MulScalar",
    "EWiseDiv",
    "DivScalar",
    "PowerScalar",
    "EWisePow",
    "ScalarPower",
    "Negate",
    "Log",
    "Exp",
    "Sin",
    "Cos",
    "Tanh",
    "TanhBackward",
    "Sigmoid",
    "Sqrt",
    "Abs",
    "ReLU",
    "ReLUBackward",
    "Step",
    "Summation",
    "BroadcastTo",
    "Reshape",
    "Transpose",
    "Permute",
    "MatMul",
    "Maximum",
    "Minimum",
    "Max",
    "Min",
    "LogSoftmax",
    "Sign",
    "EqualMask",
    "Where",
    "GetItem",
    "ScatterAdd",
]
#: ... that had a sympy translation (their compute does not work on sympy objects).
_TRANSLATED = [
    "Exp",
    "Log",
    "Sin",
    "Cos",
    "Tanh",
    "Sqrt",
    "Abs",
    "Sign",
    "Step",
    "ReLU",
    "Sigmoid",
    "ReLUBackward",
    "TanhBackward",
    "AddScalar",
    "MulScalar",
    "DivScalar",
    "PowerScalar",
    "ScalarPower",
    "Maximum",
    "Minimum",
    "EqualMask",
    "Where",
    "Max",
    "Min",
    "LogSoftmax",
]


def _op_classes():
    return {
        name: cls
        for name, cls in vars(ad.ops).items()
        if isinstance(cls, type) and issubclass(cls, ad.Op) and "compute" in vars(cls)
    }


@pytest.mark.parametrize("name", _TABLED)
def test_builtin_ops_declare_their_formula_and_partials(name):
    cls = _op_classes()[name]
    assert "formula" in vars(cls) and "partials" in vars(cls)
    plain, latex = cls.formula
    assert "$0" in plain and "$0" in latex
    assert all(len(pair) == 2 for pair in cls.partials)
    n_inputs = max(int(k) for k in "012" if f"${k}" in plain) + 1
    assert len(cls.partials) == n_inputs


def test_builtin_ops_declare_sympy_batching_and_kinds():
    ops = _op_classes()
    for name in _TRANSLATED:
        assert "sympy" in vars(ops[name]) and symbolic.has_translation(ops[name]), name
    assert symbolic.has_translation(ad.functional.Jacobian)
    batched = {"Reshape", "BroadcastTo", "Summation", "Transpose", "Permute", "GetItem"}
    for name in batched | {"ScatterAdd", "MatMul"}:
        assert "compute_batched" in vars(ops[name]), name
    assert "compute_batched" in vars(ad.ElementwiseOp)
    assert {n for n, c in ops.items() if c.commutative} == {
        "EWiseAdd",
        "EWiseMul",
        "Maximum",
        "Minimum",
        "LogAddExp",
    }
    assert {n for n, c in ops.items() if c.polynomial} == {
        "AddScalar",
        "MulScalar",
        "DivScalar",
        "Negate",
        "EWiseAdd",
        "EWiseMul",
        "PowerScalar",
        "TanhBackward",
    }


def test_the_defaults_are_documented_on_op():
    op = ad.Op
    assert op.commutative is False and op.polynomial is False
    assert op.formula is None and op.partials is None
    assert Bare().compute_batched((2,), [np.zeros((2,))], [()]) is NotImplemented
    for name in ("sympy", "compute_batched"):
        assert getattr(op, name).__doc__
