"""Memory: no reference cycles, flat memory in a training loop, million-node graphs.

A graph is freed by reference counting alone: nodes point only at their
inputs, intermediate nodes keep no adjoint, and a leaf's ``.grad`` is the one
way back from a gradient graph to the forward graph. The million-node test runs
in a subprocess, so that a crash in deallocation would fail one test instead of
killing the whole run.
"""

import gc
import os
import subprocess
import sys
import textwrap
import tracemalloc
import weakref

import numpy as np
import pytest
import sympy as sp

import adjoint as ad
from adjoint import autograd


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _varied_graph(x, w):
    """Many op kinds: broadcasting, matmul, reductions, indexing, shape ops, composites."""
    h = ad.tanh(x @ w + ad.Tensor([0.1, -0.2, 0.3], requires_grad=False))
    h = ad.maximum(h, h * 0.5) + ad.relu(-h) + ad.sqrt(h * h + 1.0)
    h = ad.concatenate([h[:, :2], ad.exp(h[:, 2:])], axis=1)
    h = ad.stack([h, h.T.T], axis=0).sum(axes=0)
    return ad.logsumexp(h, axes=(1,)).mean() + ad.max(h) + (h**2).sum() / w.sum()


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_dropping_outputs_and_grads_frees_every_node_without_gc(no_gc, lazy):
    rng = np.random.default_rng(0)
    with ad.lazy_mode(lazy):
        x = ad.Tensor(rng.standard_normal((4, 2)))
        w = ad.Tensor(rng.standard_normal((2, 3)) + 2.0)
        y = _varied_graph(x, w)
        y.backward()
        gx, gw = x.grad, w.grad
        second = (gx * gx).sum() + (gw * gw).sum()
        second.backward()  # a second-order graph on top of the first
        x.grad.numpy(), w.grad.numpy()
    nodes = ad.find_topo_sort([y, gx, gw, second, x.grad, w.grad])
    refs = [weakref.ref(n) for n in nodes if n is not x and n is not w]
    assert len(refs) > 100
    del y, gx, gw, second, nodes
    x.grad = None
    w.grad = None
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} node(s) survived, e.g. {alive[0].op}: a reference cycle"


def test_anomaly_mode_and_the_functional_api_make_no_cycles(no_gc):
    x = ad.Tensor([0.3, 0.9])
    with ad.detect_anomaly():
        y = ad.exp(x) * ad.sin(x)
        y.sum().backward()
        h = ad.hessian(lambda t: (ad.exp(t) * ad.sin(t)).sum())(x)
        g = ad.grad(ad.grad(lambda t: (t**3).sum() * 1.0))  # noqa: F841 - built, not called
    refs = [weakref.ref(n) for n in ad.find_topo_sort([y, h, x.grad]) if n is not x]
    del y, h
    x.grad = None
    assert all(r() is None for r in refs), "a node survived: a reference cycle"


def test_simplify_and_higher_order_grad_make_no_cycles(no_gc):
    """The pass's pending polynomials must not refer back to the pass: that cycle left
    every node of each simplification (427 objects at n = 6) to the cyclic collector."""
    d6 = ad.tanh
    for _ in range(6):
        d6 = ad.grad(d6)  # simplified from the third order on
    value = float(d6(ad.Tensor(0.5)))
    x = ad.Tensor(0.3, requires_grad=True)
    raw = ad.grad(ad.grad(ad.grad(ad.tanh), simplify=False), simplify=False)(x)
    s = ad.simplify(raw)
    assert s.after < s.before
    refs = [weakref.ref(n) for n in ad.find_topo_sort([raw, *s.outputs]) if n is not x]
    del s, raw
    assert all(r() is None for r in refs), "a node of the simplified graph survived"
    assert gc.collect() == 0, "simplify or grad left cyclic garbage"
    t = sp.Symbol("t")
    assert value == pytest.approx(float(sp.diff(sp.tanh(t), t, 6).subs(t, 0.5)), rel=1e-12)


def _tanh_x(x):
    return ad.tanh(x) * x


def _trained_mlp_step():
    model = ad.nn.Sequential(ad.nn.Linear(4, 8), ad.nn.ReLU(), ad.nn.Linear(8, 2))
    opt = ad.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.reset_grad()
        loss = (model(ad.Tensor(np.ones((3, 4)))) ** 2).sum()
        loss.backward(create_graph=False)
        opt.step()


def _lazy_backward_then_clear():
    x = ad.Tensor([0.3, 0.5])
    with ad.lazy_mode():
        (_tanh_x(x).sum()).backward()
        x.grad.numpy()
    x.grad = None  # the one documented cycle (leaf <-> grad), cleared


def _drawn_and_traced():
    from adjoint.graph import drawing, tracing

    g = ad.grad(lambda t: _tanh_x(t).sum())(np.array([0.3, 0.5]))
    graph = ad.Graph(g)
    drawing.to_dot(graph)
    drawing.to_svg(graph, engine="python")
    tracing.forward_trace(graph)
    tracing.reverse_trace(graph)
    ad.census(g)
    with ad.lazy_mode():
        y = (ad.tanh(ad.Tensor([0.3, 0.5])) * 2).sum()
        list(ad.evaluation_steps(y))


def _conv_grad():
    x = ad.Tensor(np.ones((1, 2, 5, 5)))
    w = np.ones((3, 3, 2, 4))
    ad.grad(lambda k: ad.max_pool2d(ad.conv2d(x, k), 2).sum())(w)


NO_CYCLE_CASES = {
    "grad to the 4th order (simplified)": lambda: ad.grad(ad.grad(ad.grad(ad.grad(ad.tanh))))(0.5),
    "value_and_grad, vjp, jvp, hvp": lambda: (
        ad.value_and_grad(lambda t: _tanh_x(t).sum())(np.array([0.3, 0.5])),
        ad.vjp(_tanh_x, ad.Tensor([0.3, 0.5]))[1](np.ones(2)),
        ad.jvp(_tanh_x, ad.Tensor([0.3, 0.5]), ad.Tensor([1.0, 0.0])),
        ad.hvp(lambda t: _tanh_x(t).sum(), np.array([0.3, 0.5]), np.ones(2)),
    ),
    "jacobian and hessian": lambda: (
        ad.jacobian(_tanh_x)(np.array([0.3, 0.5])),
        ad.hessian(lambda t: _tanh_x(t).sum())(np.array([0.3, 0.5])),
    ),
    "simplify without polynomials": lambda: ad.simplify(
        ad.grad(ad.grad(ad.tanh))(ad.Tensor(0.3)), polynomials=False
    ),
    "gradcheck to second order": lambda: ad.gradcheck(_tanh_x, [0.3, 0.5], order=2),
    "symbolic.check to second order": lambda: ad.symbolic.check(
        _tanh_x, np.array([0.3, 0.5]), order=2
    ),
    "nn and optim training steps": _trained_mlp_step,
    "lazy backward, grads cleared": _lazy_backward_then_clear,
    "Graph, drawings, traces, census": _drawn_and_traced,
    "conv2d and max_pool2d gradient": _conv_grad,
}


@pytest.mark.parametrize("case", sorted(NO_CYCLE_CASES))
def test_the_library_leaves_no_cyclic_garbage_of_its_own(no_gc, case):
    """Everything is freed by reference counting: no adjoint object waits for the
    cyclic collector (sympy's own cycles are not ours). gradcheck's leaves once held
    their grads, symbolic.check's derivative was a recursive closure, and simplify's
    pending polynomials referred to the pass."""
    # Objects older than this case (say, a failed test's traceback that pytest lets
    # go later) are not its garbage; held here, their ids cannot be reused.
    older = gc.get_objects()
    older_ids = {id(o) for o in older}
    NO_CYCLE_CASES[case]()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        ours = [
            o
            for o in gc.garbage
            if id(o) not in older_ids
            and (isinstance(o, ad.Value) or str(getattr(o, "__module__", "")).startswith("adjoint"))
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        del older
    assert not ours, f"cyclic garbage from adjoint: {ours[:3]}"


def test_backward_keeps_the_forward_graph_alive_until_grad_is_cleared(no_gc):
    """What the backward() docstring promises: .grad (create_graph=True) holds the graph."""
    x = ad.Tensor([0.5, 2.0])
    e = ad.exp(x)
    y = e * x
    forward = weakref.ref(e)
    ad.sum(y).backward()
    del y, e
    assert forward() is not None  # x.grad = e^x x + e^x refers to the forward node e^x
    x.grad = None
    assert forward() is None

    e = ad.exp(x)
    y = e * x
    forward = weakref.ref(e)
    ad.sum(y).backward(create_graph=False)
    assert x.grad.op is None and not x.grad.requires_grad  # a plain constant
    del y, e
    assert forward() is None  # nothing kept: the graph went with its output


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_backward_without_create_graph_stores_constants_and_makes_no_cycle(no_gc, lazy):
    """Issue 17: lazily, ``create_graph=False`` left ``x.grad`` an unrealized EWiseMul node
    that referred back to ``x`` (a cycle, and a graph kept alive). Both modes store
    realized constant leaves, of derivative order 1, with the same values."""
    with ad.lazy_mode(lazy):
        x = ad.Tensor([0.5, 2.0])
        h = (ad.tanh(x) * x).retain_grad()
        y = ad.sum(h * h)
        y.backward(create_graph=False)
    for grad in (x.grad, h.grad):
        assert grad.op is None and grad.inputs == () and not grad.requires_grad
        assert grad.cached_data is not None and autograd.derivative_order(grad) == 1
    t = np.array([0.5, 2.0])
    value = np.tanh(t) * t
    np.testing.assert_allclose(h.grad.numpy(), 2 * value, rtol=1e-15)
    np.testing.assert_allclose(
        x.grad.numpy(), 2 * value * ((1 - np.tanh(t) ** 2) * t + np.tanh(t)), rtol=1e-15
    )
    refs = [weakref.ref(n) for n in ad.find_topo_sort([y])]
    del x, h, y
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"{len(alive)} node(s) survived, e.g. {alive[0].op}: a reference cycle"


def test_the_one_cycle_is_a_leaf_and_the_grad_that_depends_on_it(no_gc):
    """What the backward() docstring says: x -> x.grad -> ... -> x when the gradient uses x;
    clearing the grad breaks it, create_graph=False never makes it."""
    for create_graph, clear in [(True, False), (True, True), (False, False)]:
        x = ad.Tensor([0.5, 2.0])
        ad.sum(ad.tanh(x) * x).backward(create_graph=create_graph)
        leaf = weakref.ref(x)
        if clear:
            x.grad = None
        del x
        assert (leaf() is not None) == (create_graph and not clear), (create_graph, clear)
        gc.collect()  # the cycle is garbage: the collector frees it
        assert leaf() is None


class _GCProbe(ad.ops.ElementwiseOp):
    """Identity whose gradient rule records whether the cyclic GC is on, and may run a
    nested backward pass or raise."""

    def __init__(self, seen, nested=False, fail=False):
        self.seen, self.nested, self.fail = seen, nested, fail

    def compute(self, a):
        return a * 1.0

    def gradient(self, out_grad, node):
        self.seen.append(gc.isenabled())
        if self.nested:
            with ad.enable_grad():  # backward(create_graph=False) runs rules in no_grad
                z = ad.Tensor([3.0])
                _GCProbe(self.seen)(z).sum().backward()
            self.seen.append(gc.isenabled())
        if self.fail:
            raise RuntimeError("rule failed")
        return (out_grad * 1.0,)


@pytest.mark.parametrize("create_graph", [True, False])
def test_backward_pauses_the_cyclic_gc_and_restores_it(create_graph):
    seen = []
    x = ad.Tensor([1.0, 2.0])
    _GCProbe(seen, nested=True)(x).sum().backward(create_graph=create_graph)
    assert seen == [False, False, False]  # the outer rule, the nested walk's rule, after it
    assert gc.isenabled()
    gc.disable()  # a collector the user switched off stays off
    try:
        _GCProbe(seen)(x).sum().backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_pause_ends_when_a_rule_raises_and_can_be_switched_off(monkeypatch):
    seen = []
    x = ad.Tensor([1.0])
    with pytest.raises(RuntimeError, match="rule failed"):
        autograd.gradients(_GCProbe(seen, fail=True)(x).sum(), [x])
    assert seen == [False] and gc.isenabled() and autograd._gc_pauses == 0
    monkeypatch.setattr(autograd, "PAUSE_GC", False)
    _GCProbe(seen)(x).sum().backward()
    assert seen == [False, True]


def test_simplify_pauses_the_cyclic_gc_too():
    class Probe(ad.ops.ElementwiseOp):  # computes again when simplify rebuilds it
        def compute(self, a):
            seen.append(gc.isenabled())
            return a * 1.0

        def gradient(self, out_grad, node):
            return (out_grad,)

    seen = []
    x = ad.Tensor([1.0, 2.0])
    y = Probe()(x * 1.0)  # x * 1.0 becomes x: the Probe node is built again
    ad.simplify(y)
    # built with the GC on; rebuilt (and, verified, computed once more) with it paused
    assert seen[0] and len(seen) >= 2 and not any(seen[1:]) and gc.isenabled()


@pytest.mark.parametrize("create_graph", [True, False])
def test_training_loop_memory_stays_flat(create_graph):
    """300 steps of SGD on a tiny MLP written with raw ops: memory after step 50 == after 300."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((32, 4))
    target = np.sin(data.sum(axis=1, keepdims=True))
    w1 = ad.Tensor(rng.standard_normal((4, 16)) * 0.5, name="w1")
    b1 = ad.Tensor(np.zeros(16), name="b1")
    w2 = ad.Tensor(rng.standard_normal((16, 1)) * 0.5, name="w2")
    params = [w1, b1, w2]
    lr = 0.05

    def step():
        x = ad.Tensor(data, requires_grad=False)
        hidden = ad.relu(x @ w1 + b1)
        loss = (((hidden @ w2) - target) ** 2).sum() / len(data)
        loss.backward(create_graph=create_graph)
        for p in params:
            p.data = p.data - lr * p.grad.data
        return float(loss.numpy())

    tracemalloc.start()
    try:
        losses = []
        for i in range(300):
            losses.append(step())
            if i == 49:
                gc.collect()
                at_50 = tracemalloc.get_traced_memory()[0]
        gc.collect()
        at_300 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert losses[-1] < 0.5 * losses[0]  # it trains
    # One step's graph is a few dozen kB; a leak of one node per step would add
    # far more than this over 250 steps.
    assert at_300 - at_50 < 64 * 1024, f"memory grew by {at_300 - at_50} bytes"


MILLION = textwrap.dedent(
    """
    import gc, sys, weakref
    import numpy as np
    import adjoint as ad

    assert sys.getrecursionlimit() <= 1000
    n = 1_000_000
    with ad.lazy_mode():
        x = ad.Tensor([0.5])
        y = x
        for i in range(n):
            y = y * 1.0000001 if i % 2 else y + 1e-7
            if i == 0:
                first = weakref.ref(y)
        assert y.cached_data is None
        value = float(y.numpy()[0])               # realized lazily, iteratively
        y.sum().backward()                        # the gradient graph: lazy too
        grad = float(x.grad.numpy()[0])
        last_grad = weakref.ref(x.grad)
    assert abs(grad - 1.0000001 ** (n // 2)) < 1e-9, grad
    assert value > 0.5
    del y
    assert first() is None                        # the forward chain is freed ...
    x.grad = None
    assert last_grad() is None                    # ... and so is the gradient chain
    gc.collect()
    print("ok")
    """
)


@pytest.mark.slow
def test_million_node_chain_builds_realizes_differentiates_and_frees():
    """No RecursionError, and no crash in CPython's deallocation of a long chain."""
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    result = subprocess.run(
        [sys.executable, "-c", MILLION], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
    assert "RecursionError" not in result.stderr
