"""Watching lazy evaluation; the textbook tables (Wengert list, reverse sweep) of real graphs."""

import threading

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd
from adjoint.graph.tracing import _value_text
from tests.helpers.graphs import classic

# ---------------------------------------------------------------------- tables


def test_forward_trace_of_the_classic_example():
    x1, x2, y = classic()
    table = ad.Graph(y).forward_trace()
    assert table.rows == [
        ["v1", "x1", "2"],
        ["v2", "x2", "5"],
        ["v3", "ln(v1)", "0.6931"],
        ["v4", "v1 · v2", "10"],
        ["v5", "v3 + v4", "10.69"],
        ["v6", "sin(v2)", "-0.9589"],
        ["v7", "−v6", "0.9589"],
        ["v8", "v5 + v7", "11.65"],
        ["y", "v8", "11.65"],
    ]
    assert "\\ln(v_{1})" in table.to_markdown()
    assert table.to_latex().startswith("\\begin{array}{lll}")


def test_reverse_sweep_of_the_classic_example_matches_the_textbook():
    x1, x2, y = classic()
    table = ad.Graph(y).reverse_trace()
    equations = [row[0] for row in table.rows]
    assert equations[0] == "v\u03048 = y\u0304"
    assert "v̄2 = v̄6 · cos(v2)" in equations
    assert "v̄2 += v̄4 · v1" in equations
    assert "v̄1 += v̄3 / v1" in equations
    assert table.rows[-2:] == [["∂y/∂x1 = v̄1", "5.5"], ["∂y/∂x2 = v̄2", "1.716"]]
    assert "\\bar{v}_{1} \\mathrel{+}= \\bar{v}_{3} / v_{1}" in table.to_markdown()
    # the table's values are the engine's gradients
    y.backward()
    assert _value_text(x1.grad.numpy()) == "5.5"
    assert x1.grad is not None and table.rows[-1][1] == _value_text(x2.grad.numpy())


def test_exp_rows_read_as_in_the_issue():
    x = ad.Tensor(1.0, name="x")
    w = ad.Tensor(3.0, name="w")
    y = ad.exp(x) * w
    g = ad.Graph(y)
    assert ["v3", "exp(v1)", "2.718"] in g.forward_trace().rows
    assert "v̄1 = v̄3 · exp(v1)" in [row[0] for row in g.reverse_trace().rows]


@pytest.mark.parametrize("seed", [0, 1])
def test_reverse_sweep_values_equal_backward(seed):
    rng = np.random.default_rng(seed)
    a = ad.Tensor(rng.random(3) + 0.5, name="a")
    b = ad.Tensor(rng.random(3) + 0.5, name="b")
    y = ad.sum(a**3 / b + ad.exp(a) * 2.0 - ad.cos(b) * a + (b**a))
    table = ad.Graph(y).reverse_trace()
    y.backward()
    assert table.rows[-2] == ["∂y/∂a = v̄1", _value_text(a.grad.numpy())]
    assert table.rows[-1] == ["∂y/∂b = v̄2", _value_text(b.grad.numpy())]


def test_rows_for_selection_ops_follow_their_gradient_rules():
    a = ad.Tensor([1.0, 3.0], name="a")
    b = ad.Tensor([2.0, 2.0], name="b")
    y = ad.sum(ad.maximum(a, b) * ad.where(a > b, a, b)) + ad.max(a) + a[0]
    table = ad.Graph(y).reverse_trace()
    equations = [row[0] for row in table.rows]
    assert "v̄2 = where(v3, 0, v̄5)" in equations
    assert "v̄1 += v̄4 · [v1 = v4] / #attaining" in equations
    assert "v̄1 = scatter_add(v̄10)" in equations
    y.backward()
    assert table.rows[-2][1] == _value_text(a.grad.numpy()) == "[1., 7.]"
    assert table.rows[-1][1] == _value_text(b.grad.numpy()) == "[4., 0.]"


def test_unknown_ops_get_a_generic_row():
    class Twice(ad.TensorOp):
        def compute(self, a):
            return 2 * a

        def gradient(self, out_grad, node):
            return (out_grad * 2.0,)

    x = ad.Tensor(1.5, name="x")
    y = Twice()(x)
    g = ad.Graph(y)
    assert g.forward_trace().rows[1] == ["v2", "Twice(v1)", "3"]
    assert g.reverse_trace().rows[1] == ["v̄1 = v̄2 · ∂v2/∂v1", "2"]


def test_tables_of_a_lazy_graph_compute_it():
    with ad.lazy_mode():
        x = ad.Tensor(0.0, name="x")
        y = ad.exp(x) + 1.0
    rows = ad.Graph(y).forward_trace().rows
    assert rows[-1] == ["y", "v3", "2"]


# ------------------------------------------------------------------ evaluation


def lazy_pair():
    with ad.lazy_mode():
        x = ad.Tensor([1.0, 2.0], name="x")
        w = ad.Tensor([0.5, -1.0], name="w")
        h = ad.exp(x) * w  # shared by y and z
        y = ad.sum(h + x)
        z = ad.sin(h) * 3.0
    return x, w, h, y, z


def test_evaluation_steps_compute_exactly_what_the_output_needs_once():
    x, w, h, y, z = lazy_pair()
    needed = [n for n in ad.Graph(y).nodes if n.op is not None]
    steps = ad.evaluation_steps(y)
    first = next(steps)
    assert first.index == 0 and first.op.name == "Exp" and first.node.cached_data is not None
    assert first.pulled_by is y and first.label == "v3"
    assert h.cached_data is None  # one node per step
    rest = list(steps)
    computed = [first.node, *(s.node for s in rest)]
    assert computed == needed  # topological order, each once
    assert [s.index for s in rest] == list(range(1, len(needed)))
    assert z.cached_data is None and z.inputs[0].cached_data is None
    # z now needs only its own two nodes; shared ones are not recomputed
    later = list(ad.evaluation_steps(y, z))
    assert [s.op.name for s in later] == ["Sin", "MulScalar"]
    assert all(s.pulled_by is z for s in later)
    np.testing.assert_allclose(z.numpy(), np.sin(np.exp([1.0, 2.0]) * [0.5, -1.0]) * 3)


@pytest.mark.parametrize("requires_grad", [False, True], ids=["no_grad_leaf", "grad_leaf"])
def test_evaluation_steps_include_nodes_that_need_no_gradient(requires_grad):
    # What is computed does not depend on what is differentiated: with a leaf that
    # needs no gradient, Log and EWiseMul were once computed inside Exp's step.
    with ad.lazy_mode():
        x = ad.Tensor(2.0, name="x", requires_grad=requires_grad)
        c = ad.Tensor(3.0, name="c", requires_grad=False)
        y = ad.exp(ad.log(x) * x)
        z = ad.exp(ad.log(c) * x) + c
    ops = [n for n in ad.Graph(y, z).nodes if n.op is not None]
    names = []
    for step in ad.evaluation_steps(y, z):
        names.append(step.op.name)
        assert step.node.cached_data is not None
        assert sum(n.cached_data is not None for n in ops) == step.index + 1  # one per step
    assert names == ["Log", "EWiseMul", "Exp", "Log", "EWiseMul", "Exp", "EWiseAdd"]
    assert float(y.numpy()) == pytest.approx(4.0, rel=1e-15)
    assert float(z.numpy()) == pytest.approx(np.exp(np.log(3.0) * 2.0) + 3.0, rel=1e-15)


@pytest.mark.parametrize("requires_grad", [False, True], ids=["no_grad_leaf", "grad_leaf"])
def test_evaluation_steps_skip_what_is_computed(requires_grad):
    with ad.lazy_mode():
        x = ad.Tensor(2.0, name="x", requires_grad=requires_grad)
        m = ad.log(x) * x
        y = ad.exp(m)
    m.numpy()  # computes Log and EWiseMul, not Exp
    assert [s.op.name for s in ad.evaluation_steps(y)] == ["Exp"]
    assert list(ad.evaluation_steps(y)) == []
    # Eager nodes are computed as they are made: there is nothing left to step through.
    x = ad.Tensor(2.0, name="x", requires_grad=requires_grad)
    assert list(ad.evaluation_steps(ad.exp(ad.log(x) * x))) == []


def test_trace_records_steps_and_who_pulled_them():
    x, w, h, y, z = lazy_pair()
    with ad.trace_evaluation(y, z) as trace:
        y.numpy()
        z.numpy()
        y.numpy()  # nothing left to compute
    assert len(trace.nodes) == len({id(n) for n in trace.nodes}) == 6
    by = {step.op.name: step.pulled_by for step in trace.steps}
    assert by == {
        "Exp": y,
        "EWiseMul": y,
        "EWiseAdd": y,
        "Summation": y,
        "Sin": z,
        "MulScalar": z,
    }
    step = trace.steps[1]
    assert step.inputs == (h.inputs[0], w) and step.shape == (2,) and step.seconds >= 0
    text = str(trace)
    assert "Summation" in text and "v4" in text
    assert "| step |" in trace._repr_markdown_()
    assert autograd._observers == []


def test_trace_ignores_other_threads_and_unwatched_outputs():
    with ad.lazy_mode():
        a = ad.Tensor(1.0)
        other = ad.exp(a)
        mine = ad.sin(a)
        loose = ad.cos(a)
    with ad.trace_evaluation(mine) as trace:
        worker = threading.Thread(target=other.numpy)
        worker.start()
        worker.join()
        loose.numpy()
        mine.numpy()
    assert other.cached_data is not None
    assert [s.node for s in trace.steps] == [loose, mine]
    assert trace.steps[0].pulled_by is None and trace.steps[1].pulled_by is mine


def test_no_observer_without_a_trace():
    x, w, h, y, z = lazy_pair()
    trace = ad.trace_evaluation(y)
    assert autograd._observers == []
    y.numpy()
    assert trace.steps == []
