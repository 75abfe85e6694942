"""The graph tools on another device (issue 21): to_sympy, check, drawings, traces, Graph.run.

Each reads the values it shows from a host copy and leaves the graph's data on its
device; ``array_api_strict`` stands for the second device (its arrays refuse NumPy's
functions), and every result is compared with the same graph built on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint import symbolic
from adjoint.device import DeviceMismatchError, namespace_device, to_numpy

strict = pytest.importorskip("array_api_strict")
STRICT = namespace_device(strict)


def _graph(device):
    """y = sum(sin(x) * x * c + 2) on ``device``, x a named leaf, c a constant."""
    x = ad.Tensor(np.array([0.3, -0.2]), device=device, name="x")
    c = ad.Tensor(np.array([1.5, 2.0]), device=device, requires_grad=False, name="c")
    return x, c, ad.sum(ad.sin(x) * x * c + 2.0)


def test_to_sympy_of_a_device_graph_and_its_gradient_is_the_cpu_ones():
    (x, c, y), (x0, c0, y0) = _graph(STRICT), _graph(ad.cpu())
    assert y.device == STRICT
    assert sympy.simplify(symbolic.to_sympy(y) - symbolic.to_sympy(y0)) == 0
    g, g0 = (
        ad.grad(lambda a: ad.sum(ad.sin(a) * a * c))(x),
        ad.grad(lambda a: ad.sum(ad.sin(a) * a * c0))(x0),
    )
    assert g.device == STRICT
    assert (symbolic.to_sympy(g) == symbolic.to_sympy(g0)).all()


def test_check_runs_on_the_device_of_its_tensor_inputs():
    x, c, _ = _graph(STRICT)
    report = symbolic.check(lambda a: ad.sum(ad.sin(a) * a * c), x, order=2)
    assert report.ok and report.identical


def test_drawings_and_traces_show_the_device_values():
    texts = {}
    for device in (STRICT, ad.cpu()):
        _, _, y = _graph(device)
        graph = ad.Graph(y)
        texts[device] = [
            graph.to_dot(values=True),
            graph.to_svg(values=True),
            str(graph.forward_trace()),
            str(graph.reverse_trace()),
        ]
    assert texts[STRICT] == texts[ad.cpu()]
    assert "0.8732" in texts[STRICT][3]  # the adjoint of x, read from the device


def test_evaluation_traces_follow_a_lazy_device_graph():
    with ad.lazy_mode():
        a = ad.Tensor(np.array([0.3, -0.2]), device=STRICT)
        b = ad.exp(a) * 2.0
        with ad.trace_evaluation(b) as trace:
            b.numpy()
    assert [step.op.name for step in trace.steps] == ["Exp", "MulScalar"]


def test_graph_run_takes_host_or_device_feeds_and_gives_device_arrays():
    x, _, y = _graph(STRICT)
    x0, _, y0 = _graph(ad.cpu())
    (want,) = ad.Graph(y0).run({x0: np.array([1.0, 2.0])})
    for feed in (np.array([1.0, 2.0]), strict.asarray([1.0, 2.0]), [1, 2]):
        (got,) = ad.Graph(y).run({x: feed})
        assert type(got) is type(strict.asarray(0.0))
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-15)
    batched = ad.Graph(y, ad.grad(lambda a: ad.sum(ad.sin(a) * a))(x)).run(
        {x: np.array([[1.0, 2.0], [0.5, 0.25]])}
    )
    assert [r.shape for r in batched] == [(2,), (2, 2)]


def test_graph_run_refuses_another_devices_feed_and_a_lossy_one():
    x, _, y = _graph(ad.cpu())
    with pytest.raises(DeviceMismatchError, match="lives on cpu"):
        ad.Graph(y).run({x: strict.asarray([1.0, 2.0])})
    xs = ad.Tensor(np.float32([0.5, 1.5]), device=STRICT)
    ys = ad.sum(xs * xs)
    with pytest.raises(TypeError, match="cannot take data of dtype float64"):
        ad.Graph(ys).run({xs: strict.asarray([1.0, 2.0])})
    (got,) = ad.Graph(ys).run({xs: strict.asarray([1, 2], dtype=strict.int8)})  # safe: int8
    assert float(to_numpy(got)) == 5.0
