"""W2, an MLP step: batch 128, 784 -> 256 -> 10, relu, mean squared error.

Forward and backward to all four weights, in float64 and float32. The arrays
are large, so the time is mostly NumPy's (five matrix products); the ratio to
the hand-written step is what the engine adds around them.

The compiling frameworks compile the gradient with respect to the four
weights once, with the batch as a constant. CasADi runs MX (its matrix graph;
SX would expand the products into scalar ones) and only in float64, the one
dtype it has.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from harness import (
    CASADI_MX,
    COMPILED_JAX,
    COMPILED_NUMPY,
    FLOOR,
    JAX_JIT,
    PYTENSOR,
    Case,
    Peers,
    adjoint_compiled_runners,
    rng,
)

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
    runners.update(compiling_runners(peers, dtype))
    name = np.dtype(dtype).name
    return Case(
        "W2",
        f"W2 MLP 784-256-10, batch 128, {name}, fwd+bwd",
        reference_for(dtype),
        runners,
        rtol=rtol,
        atol=atol,
        compiled=tuple(n for n in COMPILING if n in runners),
        compile_baseline=COMPILED_NUMPY,
    )


#: The runners that compile, in the order of the compile table.
COMPILING = (COMPILED_NUMPY, COMPILED_JAX, JAX_JIT, PYTENSOR, CASADI_MX)


def compiling_runners(peers: Peers, dtype: Any) -> dict[str, Any]:
    """The gradient of the loss compiled once: adjoint's rows and the compiling peers."""
    x, y, w1, b1, w2, b2 = data(dtype)
    n = y.size
    weights = [w1, b1, w2, b2]

    def adjoint_loss(p_w1, p_b1, p_w2, p_b2):
        xt = ad.Tensor(x, requires_grad=False)
        yt = ad.Tensor(y, requires_grad=False)
        d = ad.relu(xt @ p_w1 + p_b1) @ p_w2 + p_b2 - yt
        return ad.sum(d * d) / n

    runners: dict[str, Any] = adjoint_compiled_runners(
        peers, ad.grad(adjoint_loss, argnums=(0, 1, 2, 3)), weights
    )
    if peers.jax is not None:
        jax, jnp = peers.jax

        def jax_setup():
            def loss(p_w1, p_b1, p_w2, p_b2):
                d = jnp.maximum(x @ p_w1 + p_b1, 0) @ p_w2 + p_b2 - y
                return jnp.sum(d * d) / n

            g = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))
            return lambda: [np.asarray(a) for a in g(*weights)]

        runners[JAX_JIT] = jax_setup
    if peers.pytensor is not None:
        pytensor, pt, mode = peers.pytensor

        def pytensor_setup():
            dt = np.dtype(dtype).name
            ps = [
                pt.matrix("w1", dtype=dt),
                pt.vector("b1", dtype=dt),
                pt.matrix("w2", dtype=dt),
                pt.vector("b2", dtype=dt),
            ]
            p_w1, p_b1, p_w2, p_b2 = ps
            d = pt.maximum(pt.dot(x, p_w1) + p_b1, 0).dot(p_w2) + p_b2 - y
            loss = (d * d).sum() / n
            g = pytensor.function(ps, pytensor.grad(loss, ps), mode=mode)
            return lambda: g(*weights)

        runners[PYTENSOR] = pytensor_setup
    if peers.casadi is not None and np.dtype(dtype) == np.float64:
        ca = peers.casadi

        def casadi_setup():
            # CasADi is column-major; its vectors are columns: b1, b2 as (k, 1).
            names = ("w1", "b1", "w2", "b2")
            ps = [
                ca.MX.sym(k, *(w.shape if w.ndim == 2 else (w.size, 1)))
                for k, w in zip(names, weights)
            ]
            p_w1, p_b1, p_w2, p_b2 = ps
            xs, ys = ca.DM(x), ca.DM(y)
            ones = ca.DM.ones(x.shape[0], 1)
            z = ca.fmax(ca.mtimes(xs, p_w1) + ca.mtimes(ones, p_b1.T), 0)
            d = ca.mtimes(z, p_w2) + ca.mtimes(ones, p_b2.T) - ys
            loss = ca.sumsqr(d) / n
            g = ca.Function("g", ps, [ca.gradient(loss, p) for p in ps])
            shapes = [w.shape for w in weights]

            def run():
                return [np.asarray(r).reshape(s) for r, s in zip(g(*weights), shapes)]

            return run

        runners[CASADI_MX] = casadi_setup
    return runners


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    return [case(peers, np.float64), case(peers, np.float32)]
