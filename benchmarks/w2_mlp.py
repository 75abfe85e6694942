"""W2, an MLP step: batch 128, 784 -> 256 -> 10, relu, mean squared error.

Forward and backward to all four weights, in float64 and float32. The arrays
are large, so the time is mostly NumPy's (five matrix products); the ratio to
the hand-written step is what the engine adds around them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from harness import FLOOR, Case, Peers, rng

import adjoint as ad

DESCRIPTION = (
    "MLP: batch 128, 784 -> 256 -> 10, relu, mean squared error, forward and backward "
    "to all weights, float64 and float32"
)


def data(dtype: Any) -> tuple[np.ndarray, ...]:
    """x, y, w1, b1, w2, b2 in ``dtype``."""
    r = rng(2)
    x = r.standard_normal((128, 784))
    y = r.standard_normal((128, 10))
    w1 = r.standard_normal((784, 256)) / math.sqrt(784)
    b1 = r.standard_normal(256) * 0.1
    w2 = r.standard_normal((256, 10)) / math.sqrt(256)
    b2 = r.standard_normal(10) * 0.1
    return tuple(a.astype(dtype) for a in (x, y, w1, b1, w2, b2))


def tolerances(dtype: Any) -> tuple[float, float]:
    return (1e-9, 1e-12) if np.dtype(dtype) == np.float64 else (2e-3, 1e-5)


def reference_for(dtype: Any):
    """The hand-written step: gradients of w1, b1, w2, b2."""
    x, y, w1, b1, w2, b2 = data(dtype)
    n = y.size

    def reference() -> list[np.ndarray]:
        z1 = x @ w1 + b1
        h = np.maximum(z1, 0)
        d = h @ w2 + b2 - y
        g_out = d * (2 / n)
        g_w2 = h.T @ g_out
        g_b2 = g_out.sum(axis=0)
        g_z1 = (g_out @ w2.T) * (z1 > 0)
        return [x.T @ g_z1, g_z1.sum(axis=0), g_w2, g_b2]

    return reference


def adjoint_runner(dtype: Any, create_graph: bool = True, lazy: bool = False):
    """The setup of adjoint's runner (also used by W6, in lazy mode)."""
    x, y, w1, b1, w2, b2 = data(dtype)
    n = y.size

    def setup():
        params = [ad.Tensor(p) for p in (w1, b1, w2, b2)]
        xt = ad.Tensor(x, requires_grad=False)
        yt = ad.Tensor(y, requires_grad=False)

        def run():
            with ad.lazy_mode(lazy):
                p_w1, p_b1, p_w2, p_b2 = params
                for p in params:  # as the PyTorch runner does (and optimizers)
                    p.grad = None
                d = ad.relu(xt @ p_w1 + p_b1) @ p_w2 + p_b2 - yt
                loss = ad.sum(d * d) / n
                loss.backward(create_graph=create_graph)
                return [p.grad.numpy() for p in params]

        return run

    return setup


def case(peers: Peers, dtype: Any) -> Case:
    x, y, w1, b1, w2, b2 = data(dtype)
    n = y.size
    rtol, atol = tolerances(dtype)
    runners: dict[str, Any] = {
        FLOOR: lambda: reference_for(dtype),
        "adjoint": adjoint_runner(dtype),
        "adjoint create_graph=False": adjoint_runner(dtype, create_graph=False),
    }
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            params = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
            xt, yt = torch.tensor(x), torch.tensor(y)

            def run():
                p_w1, p_b1, p_w2, p_b2 = params
                for p in params:
                    p.grad = None
                d = torch.relu(xt @ p_w1 + p_b1) @ p_w2 + p_b2 - yt
                loss = (d * d).sum() / n
                loss.backward()
                return [p.grad.numpy() for p in params]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            def loss(params):
                p_w1, p_b1, p_w2, p_b2 = params
                d = xnp.dot(xnp.maximum(xnp.dot(x, p_w1) + p_b1, 0), p_w2) + p_b2 - y
                return xnp.sum(d * d) / n

            g = lib.grad(loss)
            params = [xnp.asarray(p) for p in (w1, b1, w2, b2)]
            return lambda: [np.asarray(a) for a in g(params)]

        runners[label] = numpy_like_setup
    name = np.dtype(dtype).name
    return Case(
        "W2",
        f"W2 MLP 784-256-10, batch 128, {name}, fwd+bwd",
        reference_for(dtype),
        runners,
        rtol=rtol,
        atol=atol,
    )


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    return [case(peers, np.float64), case(peers, np.float32)]
