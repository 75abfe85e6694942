"""ad.Graph: inspection of forward and gradient graphs, and define-then-run re-evaluation."""

import re
import sys

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd
from tests.helpers.graphs import classic


def nth_derivative(f, x, n):
    d = f(x)
    for _ in range(n):
        d.backward()
        d = x.grad
    return d


# ------------------------------------------------------------------ inspection


def test_nodes_leaves_and_counts_of_a_hand_checked_graph():
    x1, x2, y = classic()
    g = ad.Graph(y)
    # post-order: x1, ln, x2, mul, add, sin, negate, add
    assert len(g) == 8 and list(g) == list(g.nodes)
    log_node, mul, add1 = g.nodes[1], g.nodes[3], g.nodes[4]
    assert g.nodes[0] is x1 and g.nodes[2] is x2 and g.nodes[-1] is y
    assert isinstance(log_node.op, ad.ops.Log) and mul.inputs == (x1, x2)
    assert add1.inputs == (log_node, mul)
    assert g.leaves == [x1, x2] and g.variables == [x1, x2] and g.constants == []
    assert g.outputs == (y,)
    assert g.op_counts() == {"Log": 1, "EWiseMul": 1, "EWiseAdd": 2, "Sin": 1, "Negate": 1}
    assert g.depth == 3  # x2 -> sin -> negate -> add
    assert g.order_counts() == {0: 8}
    assert [g.label(n) for n in g.nodes] == ["v1", "v3", "v2", "v4", "v5", "v6", "v7", "v8"]
    assert "8 nodes" in repr(g) and "depth 3" in repr(g)


def test_membership_is_by_identity():
    x1, x2, y = classic()
    g = ad.Graph(y)
    other = ad.Tensor(2.0)
    assert x1 in g and y in g and other not in g and 3 not in g
    assert g.index(x2) == 2
    with pytest.raises(ValueError, match="not a node of this graph"):
        g.index(other)


def test_constants_and_shared_nodes_are_counted_once():
    x = ad.Tensor([1.0, 2.0], name="x")
    c = ad.Tensor([3.0, 4.0], requires_grad=False)
    e = ad.exp(x)
    y = e * c + e  # e used twice
    g = ad.Graph(y)
    assert len(g) == 5  # x, exp, c, mul, add
    assert g.leaves == [x, c] and g.constants == [c] and g.variables == [x]
    assert g.op_counts() == {"Exp": 1, "EWiseMul": 1, "EWiseAdd": 1}


def test_gradient_graphs_and_mixtures():
    x1, x2, y = classic()
    y.backward()
    g1, g2 = x1.grad, x2.grad
    grads = ad.Graph(g1, g2)
    assert grads.outputs == (g1, g2)
    assert grads.order_counts()[1] > 0
    assert autograd.derivative_order(g2) == 1
    both = ad.Graph(y, g1, g2)
    forward = ad.Graph(y)
    assert all(n in both for n in forward)
    assert all(n in both for n in grads)
    assert len(both) == len(set(map(id, list(forward) + list(grads))))
    # every node comes after its inputs
    pos = {id(n): i for i, n in enumerate(both.nodes)}
    assert all(pos[id(x)] < pos[id(n)] for n in both for x in n.inputs)


def test_graph_of_a_list_and_bad_outputs():
    x1, x2, y = classic()
    assert ad.Graph([y, x1]).outputs == (y, x1)
    with pytest.raises(TypeError, match="output 0 is a float"):
        ad.Graph(1.0)
    with pytest.raises(ValueError, match="at least one output"):
        ad.Graph()


# ------------------------------------------------------------------------ run


def test_run_matches_rebuilding_the_graph():
    rng = np.random.default_rng(0)
    a = ad.Tensor(rng.random((3, 4)), name="a")
    b = ad.Tensor(rng.random((4, 2)), name="b")
    c = ad.Tensor(rng.random(2), name="c")

    def f(a, b, c):
        return ad.sum(ad.exp(a @ b) * c + ad.sin(a).sum(axes=1).reshape((3, 1)))

    y = f(a, b, c)
    g = ad.Graph(y)
    before = {id(n): n.cached_data for n in g}
    new_a, new_c = rng.random((3, 4)), rng.random(2)
    (got,) = g.run({a: new_a, "c": new_c})
    want = f(ad.Tensor(new_a), b, ad.Tensor(new_c)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # nothing cached changed, no leaf changed
    assert all(n.cached_data is before[id(n)] for n in g)
    np.testing.assert_array_equal(g.run()[0], y.numpy())


def test_run_results_do_not_alias_the_leaves():
    x = ad.Tensor([1.0, 2.0, 3.0, 4.0])
    r = ad.reshape(x, (2, 2))
    out_r, out_x = ad.Graph(r, x).run()
    out_r[0, 0] = out_x[1] = 99.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0, 4.0])


def test_run_on_a_gradient_graph_matches_backward_at_the_new_point():
    x1, x2, y = classic()
    y.backward()
    g = ad.Graph(y, x1.grad, x2.grad)
    values = g.run({x1: 3.0, x2: 0.5})
    np.testing.assert_allclose(
        values, [np.log(3) + 1.5 - np.sin(0.5), 1 / 3 + 0.5, 3 - np.cos(0.5)], rtol=1e-12
    )


def test_run_does_not_build_nodes():
    x1, x2, y = classic()
    created = []

    class Spy:
        def created(self, node):
            created.append(node)

        def computed(self, node, data, seconds):
            created.append(node)

    g = ad.Graph(y)
    spy = Spy()
    autograd.add_observer(spy)
    try:
        g.run({x1: 1.5})
    finally:
        autograd.remove_observer(spy)
    assert created == []


def test_run_works_on_unrealized_lazy_graphs_without_realizing_them():
    with ad.lazy_mode():
        x = ad.Tensor([1.0, 2.0])
        y = ad.exp(x) * 2.0
    g = ad.Graph(y)
    np.testing.assert_allclose(g.run({x: [0.0, 1.0]})[0], 2 * np.exp([0.0, 1.0]))
    assert y.cached_data is None


def f_composite(x):
    return ad.exp(ad.sin(x)) * x**3 - ad.cos(x) / (x * x + 1.0)


@pytest.mark.parametrize("start", [ad.Tensor(0.3), ad.Tensor([0.3])], ids=["0-d", "1-element"])
def test_fourth_derivative_built_once_runs_on_a_grid(start):
    d4 = nth_derivative(f_composite, start, 4)
    grid = np.linspace(-2.0, 2.0, 1000)
    (values,) = ad.Graph(d4).run({start: grid})
    values = values.reshape(1000)
    for i in [0, 137, 500, 999]:
        x = ad.Tensor(grid[i])
        np.testing.assert_allclose(values[i], nth_derivative(f_composite, x, 4).numpy(), rtol=1e-10)


def test_grid_run_through_broadcast_and_summation():
    # the derivative of sum(exp(x c)) for a scalar x contains BroadcastTo, Summation
    # and Reshape nodes: on a grid they act on each point separately
    c = ad.Tensor([1.0, -2.0, 0.5], requires_grad=False)
    x = ad.Tensor(0.1)
    y = ad.sum(ad.exp(x * c))
    d2 = nth_derivative(lambda x: ad.sum(ad.exp(x * c)), x, 2)
    assert {"BroadcastTo", "Summation"} <= set(ad.Graph(d2).op_counts())
    grid = np.array([-1.0, 0.0, 0.7])
    values_y, values_d2 = ad.Graph(y, d2).run({x: grid})
    cs = c.numpy()
    np.testing.assert_allclose(values_y, [np.exp(p * cs).sum() for p in grid])
    np.testing.assert_allclose(values_d2, [(cs**2 * np.exp(p * cs)).sum() for p in grid])


def test_grid_run_of_a_batch_of_matrices():
    rng = np.random.default_rng(1)
    w = ad.Tensor(rng.random((3, 2)), name="w")
    v = ad.Tensor(rng.random(3), name="v")
    y = ad.sum(ad.transpose(w) @ v)
    batch = rng.random((5, 3, 2))
    (got,) = ad.Graph(y).run({w: batch})
    np.testing.assert_allclose(got, [(m.T @ v.numpy()).sum() for m in batch])


def test_run_on_another_size_where_ops_allow_it():
    x = ad.Tensor([1.0, 2.0, 3.0])
    y = ad.sum(ad.exp(x) * x)
    (got,) = ad.Graph(y).run({x: np.arange(5.0)})
    np.testing.assert_allclose(got, (np.exp(np.arange(5.0)) * np.arange(5.0)).sum())


class _Twice(ad.TensorOp):
    """2 a, recording the shapes its compute sees."""

    compute_broadcasts = True
    shapes: list = []

    def compute(self, a):
        _Twice.shapes.append(a.shape)
        return 2 * a

    def gradient(self, out_grad, node):
        return (out_grad * 2.0,)


class _TwicePointwise(_Twice):
    compute_broadcasts = False  # the default: no compute_batched, so point by point


@pytest.mark.parametrize("cls, seen", [(_Twice, [(4, 3)]), (_TwicePointwise, [(3,)] * 4)])
def test_an_op_that_says_its_compute_broadcasts_runs_once_on_a_batch(cls, seen):
    x = ad.Tensor([1.0, 2.0, 3.0])
    y = cls()(x)
    _Twice.shapes = []
    (got,) = ad.Graph(y).run({x: np.arange(12.0).reshape(4, 3)})
    np.testing.assert_array_equal(got, 2 * np.arange(12.0).reshape(4, 3))
    assert _Twice.shapes == seen
    assert ad.ElementwiseOp.compute_broadcasts and not ad.Op.compute_broadcasts


def test_an_op_that_fixes_shapes_is_named():
    x = ad.Tensor([1.0, 2.0, 3.0, 4.0])
    y = ad.sum(ad.reshape(x, (2, 2)) * 2.0)
    with pytest.raises(ValueError, match=r"Reshape\(shape=\(2, 2\)\).*\[\(6,\)\].*\[\(4,\)\]"):
        ad.Graph(y).run({x: np.arange(6.0)})
    c = ad.Tensor([1.0, 2.0, 3.0], requires_grad=False)
    t = ad.Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"EWiseMul.*\(5,\).*\(3,\)"):
        ad.Graph(t * c).run({t: np.ones(5)})


def test_feeding_something_that_is_not_a_leaf_of_the_graph():
    x1, x2, y = classic()
    g = ad.Graph(y)
    with pytest.raises(ValueError, match="not a node of this graph.*cut off"):
        g.run({ad.Tensor(1.0): 2.0})
    with pytest.raises(ValueError, match="computed by EWiseMul"):
        g.run({g.nodes[3]: 2.0})
    with pytest.raises(KeyError, match="named leaves: \\['x1', 'x2'\\]"):
        g.run({"z": 2.0})
    # a node that needs no gradient is cut off in eager mode: its inputs are not in the graph
    a = ad.Tensor(1.0, requires_grad=False)
    b = ad.exp(a)
    with pytest.raises(ValueError, match="not a node of this graph"):
        ad.Graph(b * x1).run({a: 0.0})


def _cube_graph(dtype=np.float64):
    x = ad.Tensor(np.array([1, 2, 3], dtype=dtype), name="x")
    return x, ad.Graph(x * x * x)


def test_the_feed_is_converted_to_the_leafs_dtype_where_nothing_is_lost():
    """Issue 17: an int8 feed of a float64 graph overflowed in int8 ([-24, 64, 120])."""
    x, g = _cube_graph()
    (got,) = g.run({x: np.array([10, 20, 30], np.int8)})
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [1000.0, 8000.0, 27000.0])
    # NumPy's "safe" casts: bool, ints, float32 into float64; bool, int8 into int32
    safe = [np.array([True, False, True]), np.arange(3, dtype=np.uint16), np.float32([1, 2, 3])]
    for data in safe:
        (got,) = g.run({x: data})
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, data.astype(np.float64) ** 3)
    i, gi = _cube_graph(np.int32)
    for data in [np.array([True, False, True]), np.int8([-4, 5, 6]), np.int32(7)]:
        (got,) = gi.run({i: data})
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, np.asarray(data, np.int32) ** 3)


@pytest.mark.parametrize(
    "leaf_dtype, data",
    [
        (np.float32, np.float64([1.0, 2.0, 3.0])),  # precision
        (np.float64, np.float16([1.0]).astype(np.longdouble)),  # precision
        (np.int64, np.float64([1.0, 2.0, 3.0])),  # a float into an integer
        (np.int8, np.int16([1, 2, 3])),  # range
        (np.int8, np.uint8([1, 2, 3])),  # range
        (np.bool_, np.int8([1, 0, 1])),  # an integer into bool
        (np.float32, np.float64(2.0)),  # a NumPy scalar has its dtype
    ],
    ids=str,
)
def test_a_feed_that_would_lose_information_is_refused_naming_the_leaf(leaf_dtype, data):
    x, g = _cube_graph(leaf_dtype)
    want = f"the leaf 'x' of shape \\(3,\\) and dtype {np.dtype(leaf_dtype)}.*{data.dtype}"
    with pytest.raises(TypeError, match=want + ".*safe.*np.asarray"):
        g.run({x: data})


def test_python_numbers_and_lists_take_the_leafs_dtype_when_exactly_representable():
    f, gf = _cube_graph(np.float32)
    (got,) = gf.run({f: [0.5, 2, 1e3]})  # rounding a Python float is NumPy's rule for them
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.float32([0.5, 2, 1e3]) ** 3)
    (got,) = gf.run({"x": 0.1})
    assert got.dtype == np.float32 and got == np.float32(0.1) ** 3
    i, gi = _cube_graph(np.int8)
    (got,) = gi.run({i: [1, -2.0, True]})
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, [1, -8, 1])
    b, gb = _cube_graph(np.bool_)
    (got,) = gb.run({b: [1, 0, True]})
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, [True, False, True])
    for graph, data, bad in [
        (gi, [1, 2, 300], "300"),
        (gi, [1.5, 2, 3], "1.5"),
        (gi, [1, float("nan"), 3], "nan"),
        (gi, 2**70, str(2**70)),
        (gb, [1, 2, 0], "2"),
        (gf, [1e40, 1, 2], "1e\\+40"),
        (_cube_graph(np.float16)[1], [70000.0], "70000"),
    ]:
        leaf = graph.leaves[0]
        with pytest.raises(ValueError, match=f"leaf 'x'.*dtype {leaf.dtype}.*value {bad}"):
            graph.run({leaf: data})


@pytest.mark.parametrize(
    "feed, error, message",
    [
        ([(0, 1.0)], TypeError, "feed must be a dict .* got list"),
        ("x", TypeError, "feed must be a dict .* got str"),
        ({"x": [[1, 2], [3]]}, ValueError, "feed for the leaf 'x' of shape \\(3,\\).*ragged"),
        ({"x": "abc"}, TypeError, "feed for the leaf 'x' of shape \\(3,\\).*strings"),
        ({"x": None}, TypeError, "feed for the leaf 'x' of shape \\(3,\\).*None"),
        ({"x": np.array([1j, 2, 3])}, TypeError, "feed for the leaf 'x'.*complex128"),
        ({"x": object()}, TypeError, "feed for the leaf 'x'.*object"),
        ({"y": 1.0}, KeyError, "no leaf of this graph named 'y'; named leaves: \\['x'\\]"),
        ({3: 1.0}, TypeError, "feed keys must be leaf Tensors or leaf names, got int"),
        ({"x": np.ones((2, 2))}, ValueError, "Reshape.*\\[\\(2, 2\\)\\].*\\[\\(3,\\)\\]"),
    ],
    ids=lambda value: re.sub(r" at 0x[0-9a-f]+", "", str(value)),  # the same in every worker
)
def test_a_bad_feed_gets_a_named_error(feed, error, message):
    x = ad.Tensor([1.0, 2.0, 3.0], name="x")
    g = ad.Graph(ad.reshape(x, (1, 3)) @ ad.Tensor(np.ones((3, 2))))
    if isinstance(feed, list) and feed and feed[0][0] == 0:
        feed = [(x, 1.0)]
    with pytest.raises(error, match=message):
        g.run(feed)


def test_a_leaf_fed_twice_is_refused():
    x, g = _cube_graph()
    with pytest.raises(ValueError, match="the leaf 'x' of shape \\(3,\\) is fed twice"):
        g.run({x: [1.0, 2.0, 3.0], "x": [4.0, 5.0, 6.0]})


@pytest.mark.parametrize("path", [123, None, 1.5, b"g.svg", ["g.svg"]], ids=repr)
def test_render_refuses_a_path_that_is_not_a_file_name(path):
    x, g = _cube_graph()
    with pytest.raises(TypeError, match="render: path must be a file name"):
        g.render(path)


def test_render_takes_a_pathlib_path(tmp_path):
    x, g = _cube_graph()
    path = tmp_path / "g.dot"
    assert g.render(path) == path
    assert path.read_text().startswith("digraph")


# -------------------------------------------------------------- million nodes


@pytest.mark.slow
def test_a_million_node_chain_is_inspected_and_run():
    n = 1_000_000
    x = ad.Tensor(0.0, name="x")
    op = ad.ops.AddScalar(1.0)
    y = x
    # built node by node as lazy make_from_op does, without the front end, for speed
    for _ in range(n):
        node = ad.Tensor.__new__(ad.Tensor)
        node._init(op, (y,))
        y = node
    limit = sys.getrecursionlimit()
    g = ad.Graph(y)
    assert len(g) == n + 1 and g.nodes[0] is x and g.nodes[-1] is y
    assert g.leaves == [x]
    assert g.op_counts() == {"AddScalar": n}
    assert g.depth == n
    assert g.run({x: 2.0}) == [n + 2.0]
    assert y.cached_data is None
    assert sys.getrecursionlimit() == limit
