"""The engine: topological order, the backward walk, gradients as graphs, lazy mode, depth."""

import copy
import gc
import math
import pickle
import sys
import weakref

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd


def test_topo_sort_is_needles_post_order():
    a = ad.Tensor(np.array([[0.1, 0.2], [0.3, 0.4]]))
    b = ad.Tensor(np.array([[0.5, 0.6], [0.7, 0.8]]))
    c = 3 * a * a + 4 * b * a - a
    order = ad.find_topo_sort([c])
    assert len(order) == 9
    three_a = order[1]
    assert order[0] is a and three_a.inputs == (a,)
    assert isinstance(three_a.op, ad.ops.MulScalar) and three_a.op.scalar == 3
    assert order[2].inputs == (three_a, a)
    assert order[3] is b
    assert order[4].inputs == (b,) and order[4].op.scalar == 4
    assert order[5].inputs == (order[4], a)
    assert order[6].inputs == (order[2], order[5]) and isinstance(order[6].op, ad.ops.EWiseAdd)
    assert order[7].inputs == (a,) and isinstance(order[7].op, ad.ops.Negate)
    assert order[8] is c and c.inputs == (order[6], order[7])


def test_topo_sort_matches_recursive_dfs_on_a_random_dag():
    rng = np.random.default_rng(0)
    leaves = [ad.Tensor(rng.random(2)) for _ in range(3)]
    nodes = list(leaves)
    for _ in range(40):
        i, j = rng.integers(len(nodes), size=2)
        nodes.append(nodes[i] * nodes[j] if rng.random() < 0.5 else nodes[i] + nodes[j])

    def recursive(node_list):
        visited, order = set(), []

        def dfs(node):
            if node in visited:
                return
            for x in node.inputs:
                dfs(x)
            visited.add(node)
            order.append(node)

        for n in node_list:
            dfs(n)
        return order

    roots = [nodes[-1], nodes[-5]]
    assert ad.find_topo_sort(roots) == recursive(roots)


def test_lazy_elementwise_chains_share_one_metadata_tuple():
    """No extra object per lazy elementwise node (fewer for the cyclic GC): the nodes of an
    elementwise chain share the first one's (shape, dtype) tuple; other ops make their own."""
    with ad.lazy_mode():
        x = ad.Tensor(np.ones((2, 3), np.float32))
        c = ad.Tensor(np.full((2, 3), 2.0, np.float32), requires_grad=False)
        h = x * c
        chain = [h, ad.tanh(h), ad.tanh(h) * 3.0 + 1.0, ad.relu(h) * h]
        ad.sum(chain[-1] + chain[-2]).backward()
        total = ad.sum(h)
    assert all(node._meta is h._meta for node in chain)
    assert h._meta == ((2, 3), np.float32) and total._meta == ((), np.float32)
    lazy = [n for n in ad.find_topo_sort([x.grad, *chain]) if n._meta is not None]
    # 17 lazy nodes, 3 tuples: the forward chain's, and the adjoint chain's (which starts
    # at the sum's Reshape and BroadcastTo)
    assert len(lazy) == 17 and len({id(n._meta) for n in lazy}) == 3
    assert x.grad.numpy().shape == (2, 3)


def test_lazy_realization_computes_in_the_recursive_evaluators_order():
    """Inputs first, left before right, each node once, realized nodes not entered."""
    rng = np.random.default_rng(1)
    computed = []

    class Logged(ad.ops.ElementwiseOp):
        def compute(self, a, b):
            computed.append(self)
            return a + b

    with ad.lazy_mode():
        nodes = [ad.Tensor(rng.random(2)) for _ in range(3)]
        for _ in range(60):
            i, j = rng.integers(len(nodes), size=2)
            nodes.append(Logged()(nodes[i], nodes[j]))
        nodes[20].numpy()  # realized before: its subgraph is not entered again

        def recursive(node, order, done):
            if node.cached_data is not None or node in done:
                return
            for x in node.inputs:
                recursive(x, order, done)
            done.add(node)
            order.append(node.op)

        want = []
        recursive(nodes[-1], want, set())
        computed.clear()
        nodes[-1].numpy()
    assert computed == want and len(want) >= 10
    assert len(set(map(id, computed))) == len(computed)  # each node once


def test_broadcast_adjoint_is_one_sum_unless_a_length_one_axis_needs_a_reshape():
    x = ad.Tensor(np.ones((4, 3)))
    for shape, ops in [((3,), ["Summation"]), ((1, 3), ["Summation", "Reshape"])]:
        b = ad.Tensor(np.arange(3.0).reshape(shape))
        ad.sum((x + b) * x).backward()
        chain, node = [], b.grad
        while node.op is not None and type(node.op).__name__ in ("Summation", "Reshape"):
            chain.insert(0, type(node.op).__name__)
            node = node.inputs[0]
        assert chain == ops and b.grad.shape == shape
        np.testing.assert_array_equal(b.grad.numpy(), np.full(shape, 4.0))


def test_fan_out_sums_every_use():
    x = ad.Tensor([1.5, -2.0])
    y = x * x + x * 3 + ad.exp(x) * x  # x used five times
    y.sum().backward()
    x0 = np.array([1.5, -2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * x0 + 3 + np.exp(x0) * (x0 + 1), rtol=1e-14)


def test_grad_is_a_graph_node_and_gives_the_second_derivative():
    x = ad.Tensor([0.3, 0.7])
    ad.summation(ad.exp(x) * x).backward()
    g = x.grad
    assert isinstance(g, ad.Tensor) and g.op is not None and g.requires_grad
    ad.summation(g).backward()
    x0 = np.array([0.3, 0.7])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x0) * (x0 + 2), rtol=1e-14)


def test_third_and_fourth_derivatives_by_repeated_backward():
    x = ad.Tensor(0.4)
    y = ad.exp(x * x)
    derivs = []
    for _ in range(4):
        y.backward()
        y = x.grad
        derivs.append(float(y))
    t = 0.4
    e = math.exp(t * t)
    exact = [
        2 * t * e,
        (2 + 4 * t**2) * e,
        (12 * t + 8 * t**3) * e,
        (12 + 48 * t**2 + 16 * t**4) * e,
    ]
    np.testing.assert_allclose(derivs, exact, rtol=1e-13)


def test_backward_overwrites_and_grad_is_settable():
    x = ad.Tensor([1.0, 2.0])
    (x * 2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    x.grad = None
    assert x.grad is None


def test_intermediate_nodes_keep_no_grad_unless_retained():
    x = ad.Tensor([1.0, 2.0])
    h = x * x
    k = (x * 3).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.numpy(), [1.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), 9 * np.array([1.0, 4.0]))


def test_backward_default_and_explicit_out_grad():
    x = ad.Tensor([1.0, 2.0, 3.0])
    y = x * x
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    y.backward(ad.Tensor([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])
    with pytest.raises(
        ValueError, match=r"out_grad has shape \(2,\) but the output has shape \(3,\)"
    ):
        y.backward(ad.Tensor([1.0, 2.0]))


def test_create_graph_false_gives_constants():
    x = ad.Tensor([0.5])
    ad.exp(x).sum().backward(create_graph=False)
    assert x.grad.op is None and not x.grad.requires_grad
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5]))


def test_unused_leaf_keeps_no_grad_and_constant_gets_none():
    x = ad.Tensor([1.0])
    unused = ad.Tensor([2.0])
    c = ad.Tensor([3.0], requires_grad=False)
    (x * c).sum().backward()
    assert unused.grad is None and c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0])


def test_detach_data_and_no_grad():
    x = ad.Tensor([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.op is None and not d.requires_grad and d.inputs == ()
    np.testing.assert_array_equal(y.data.numpy(), [2.0, 4.0])
    with ad.no_grad():
        z = x * x
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()
    assert not z.requires_grad and z.op is None  # eager: cut off the graph at once


def test_writing_data_replaces_values():
    w = ad.Tensor([1.0, 2.0])
    w.data = w.data - 0.5 * ad.Tensor([1.0, 1.0])
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5])
    with pytest.raises(TypeError, match="dtype float32 differs from float64"):
        w.data = ad.Tensor(np.float32([1, 2]))


# ----------------------------------------------------------------- lazy mode


def test_lazy_mode_computes_nothing_on_construction_and_matches_eager():
    rng = np.random.default_rng(1)
    a0, b0 = rng.random((3, 4)), rng.random((4,))

    def build(a, b):
        return ad.log(ad.exp(a) + b) @ ad.transpose(a) / 3.0 - a.sum(1)

    eager = build(ad.Tensor(a0), ad.Tensor(b0))
    with ad.lazy_mode():
        a, b = ad.Tensor(a0), ad.Tensor(b0)
        lazy = build(a, b)
        assert autograd.LAZY_MODE
        nodes = ad.find_topo_sort([lazy])
        assert all(n.cached_data is None for n in nodes if n.op is not None)
        assert lazy.shape == eager.shape and lazy.dtype == eager.dtype  # inferred, not computed
        assert all(n.cached_data is None for n in nodes if n.op is not None)
        lazy.sum().backward()
        assert a.grad.cached_data is None  # the gradient graph is lazy too
    assert not autograd.LAZY_MODE
    assert np.array_equal(lazy.numpy(), eager.numpy())  # bit for bit
    x = ad.Tensor(a0)
    build(x, ad.Tensor(b0)).sum().backward()
    assert np.array_equal(a.grad.numpy(), x.grad.numpy())


def test_lazy_mode_flag_plain_assignment_and_set_lazy_mode():
    try:
        autograd.LAZY_MODE = True
        y = ad.Tensor([1.0]) + 1
        assert y.cached_data is None
        np.testing.assert_array_equal(y.numpy(), [2.0])
        assert y.cached_data is not None
        ad.set_lazy_mode(False)
        assert ad.Tensor([1.0]).__add__(1).cached_data is not None
    finally:
        autograd.LAZY_MODE = False


def test_lazy_mode_restores_previous_state_on_exception():
    with pytest.raises(RuntimeError), ad.lazy_mode():
        assert autograd.LAZY_MODE
        raise RuntimeError("boom")
    assert not autograd.LAZY_MODE
    with ad.lazy_mode(), ad.lazy_mode(False):
        assert not autograd.LAZY_MODE
    assert not autograd.LAZY_MODE


def test_lazy_realization_computes_each_node_once():
    calls = []

    class Counted(ad.ops.ElementwiseOp):  # infers its shape, so it stays lazy
        def compute(self, a):
            calls.append(1)
            return a + 1

        def gradient(self, out_grad, node):
            return (out_grad,)

    with ad.lazy_mode():
        x = ad.Tensor([1.0])
        shared = Counted()(x)
        y = shared * shared + shared
    assert calls == []
    np.testing.assert_array_equal(y.numpy(), [6.0])
    assert calls == [1]


def test_lazy_op_without_shape_rule_is_computed_once_when_its_shape_is_needed():
    calls = []

    class Opaque(ad.TensorOp):  # no infer_shape: only computing can tell its shape
        def compute(self, a):
            calls.append(1)
            return np.concatenate([a, a])

        def gradient(self, out_grad, node):
            raise NotImplementedError

    with ad.lazy_mode():
        y = Opaque()(ad.Tensor([1.0]))
        assert calls == []
        z = y + ad.Tensor([1.0, 2.0])  # broadcasting needs y's shape
        assert calls == [1] and z.cached_data is None
    np.testing.assert_array_equal(z.numpy(), [2.0, 3.0])
    assert calls == [1]


# ----------------------------------------------------------------- depth and memory


def test_deep_chain_forward_backward_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = ad.Tensor([0.5])
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0000001**100_000], rtol=1e-9)
    assert len(ad.find_topo_sort([y])) == 100_001
    del y
    x.grad = None


def test_deep_lazy_chain_realizes_iteratively():
    with ad.lazy_mode():
        x = ad.Tensor([1.0])
        y = x
        for _ in range(100_000):
            y = y + 1.0
    np.testing.assert_array_equal(y.numpy(), [100_001.0])


def _holds(nodes, node):
    return any(n is node for n in nodes)


# Issue 17, item 10: pickling a tensor whose .grad was a 3,000-op graph raised
# RecursionError (the default state of a node holds its inputs: about 100 ops).
def test_pickle_and_deepcopy_of_deep_graphs_at_default_recursion_limit():
    x = ad.Tensor(0.3, name="x")
    h = x
    for _ in range(3_000):
        h = ad.sin(h) * 1.0001
    h.backward()
    assert len(ad.find_topo_sort([x.grad])) > 3_000
    for copy_of in (lambda t: pickle.loads(pickle.dumps(t)), copy.deepcopy):
        y = copy_of(x)
        assert y is not x and y.name == "x" and float(y.grad) == float(x.grad)
        # The gradient graph came along, and its leaf is the copy itself.
        nodes = ad.find_topo_sort([y.grad])
        assert len(nodes) == len(ad.find_topo_sort([x.grad])) and _holds(nodes, y)
        assert ad.Graph(y.grad).run({y: 0.3}) == ad.Graph(x.grad).run({x: 0.3})
    with ad.lazy_mode():
        z = x
        for _ in range(20_000):
            z = ad.sin(z)
    w = pickle.loads(pickle.dumps(z))
    assert w.cached_data is None and float(w) == float(z)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_keeps_identity_and_state(protocol):
    x = ad.Tensor([0.3, 0.5], name="x")
    w = ad.Tensor(2.0, name="w")
    y = (ad.sin(x) * w).sum()
    y.backward()
    for objects in ([x, y, w], [y, w, x]):
        copies = dict(zip(map(id, objects), pickle.loads(pickle.dumps(objects, protocol))))
        x2, y2, w2 = copies[id(x)], copies[id(y)], copies[id(w)]
        assert _holds(ad.find_topo_sort([y2]), x2) and _holds(ad.find_topo_sort([y2]), w2)
        assert _holds(ad.find_topo_sort([x2.grad]), w2)  # the grad graphs share the leaves
        assert (x2.name, w2.name, y2.name) == ("x", "w", None)
        assert type(y2.op) is type(y.op) and y2.requires_grad
        np.testing.assert_array_equal(x2.grad.numpy(), x.grad.numpy())
        assert x2.cached_data is not x.cached_data
    shallow = copy.copy(y)  # copy.copy stays shallow: same inputs and data
    assert shallow is not y and shallow.inputs is y.inputs and shallow.cached_data is y.cached_data
    # A state in Python's default form (older pickles) still loads.
    make, args, state = object.__reduce_ex__(w, protocol)[:3]
    restored = make(*args)
    restored.__setstate__(state)
    assert restored.name == "w" and float(restored) == 2.0


def test_dropping_output_and_grads_frees_every_node_without_gc():
    gc.collect()
    gc.disable()
    try:
        x = ad.Tensor([0.3, 0.4])
        y = ad.exp(x) * x + ad.log(x) @ ad.Tensor([1.0, 2.0])
        refs = [weakref.ref(n) for n in ad.find_topo_sort([y]) if n is not x]
        y.backward()
        ad.summation(x.grad).backward()  # a second-order gradient graph too
        assert any(r() is not None for r in refs)
        del y
        x.grad = None
        assert all(r() is None for r in refs), "a node survived: a reference cycle"
    finally:
        gc.enable()


# ----------------------------------------------------------------- the classic example


@pytest.mark.parametrize("lazy", [False, True])
def test_classic_example(lazy):
    with ad.lazy_mode(lazy):
        x1 = ad.Tensor(2.0, name="x1")
        x2 = ad.Tensor(5.0, name="x2")
        y = ad.log(x1) + x1 * x2 - ad.sin(x2)
        y.backward()
    assert abs(float(y) - 11.652) < 1e-3
    assert abs(float(x1.grad) - 5.5) < 1e-12
    assert abs(float(x2.grad) - (2.0 - math.cos(5.0))) < 1e-12


def test_needle_classic_task():
    np.random.seed(0)
    x = ad.Tensor(np.random.rand(1), requires_grad=True)
    y = ad.exp(x) + x
    z = x * y
    t = ad.sum(z)
    t.backward()
    x0 = x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x0) * (1 + x0) + 2 * x0, rtol=1e-14)
