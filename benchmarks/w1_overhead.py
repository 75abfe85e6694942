"""W1, per-op overhead: a chain of 1,000 elementwise ops on float64[8], forward and backward.

Each of 250 steps is ``h = tanh(h * c1) * c2 + x`` (mul, tanh, mul, add), so
the arrays are tiny and the time is the framework's own cost per op: building
a node, computing it, and its part of the backward walk. Reported in us per op.

The compiling frameworks (adjoint's ``ad.compile`` on ``ad.grad`` of the
chain, JAX ``jit``, PyTensor's C linker, CasADi SX) build the gradient
function once; their per-call time is that function's, and setup plus first
call is their compile time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from harness import (
    CASADI_SX,
    COMPILED_JAX,
    COMPILED_NUMPY,
    FLOOR,
    JAX_JIT,
    PYTENSOR,
    Case,
    Peers,
    adjoint_compiled_runners,
    deep_recursion,
    rng,
)

import adjoint as ad

DESCRIPTION = (
    "overhead: a chain of 1,000 elementwise ops (mul, tanh, mul, add) on float64[8], "
    "forward and backward; us per op"
)

STEPS = 250


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = rng(1)
    return r.uniform(-1, 1, 8), r.uniform(0.5, 1.0, 8), r.uniform(0.5, 1.0, 8)


#: The input x and the constants c1, c2.
X0, C1, C2 = _data()


def reference(steps: int = STEPS) -> list[np.ndarray]:
    """The gradient of sum(h) with respect to x, forward and backward written by hand."""
    x0, c1, c2 = X0, C1, C2
    us, vs = [], []
    h = x0
    for _ in range(steps):
        u = h * c1
        v = np.tanh(u)
        h = v * c2 + x0
        us.append(u)
        vs.append(v)
    g = np.ones_like(x0)
    gx = np.zeros_like(x0)
    for v in reversed(vs):
        gx += g
        g = g * c2 * (1 - v * v) * c1
    return [gx + g]


def adjoint_runner(create_graph: bool = True, lazy: bool = False, steps: int = STEPS):
    """The setup of adjoint's runner (also used by W6, in lazy mode)."""
    x0, c1, c2 = X0, C1, C2

    def setup():
        a = ad.Tensor(c1, requires_grad=False)
        b = ad.Tensor(c2, requires_grad=False)

        def run():
            with ad.lazy_mode(lazy):
                x = ad.Tensor(x0)
                h = x
                for _ in range(steps):
                    h = ad.tanh(h * a) * b + x
                ad.sum(h).backward(create_graph=create_graph)
                return [x.grad.numpy()]

        return run

    return setup


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    x0, c1, c2 = X0, C1, C2
    runners: dict[str, Any] = {
        FLOOR: lambda: reference,
        "adjoint": adjoint_runner(),
        "adjoint create_graph=False": adjoint_runner(create_graph=False),
    }
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            a, b = torch.tensor(c1), torch.tensor(c2)

            def run():
                x = torch.tensor(x0, requires_grad=True)
                h = x
                for _ in range(STEPS):
                    h = torch.tanh(h * a) * b + x
                h.sum().backward()
                return [x.grad.numpy()]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            def loss(x):
                h = x
                for _ in range(STEPS):
                    h = xnp.tanh(h * c1) * c2 + x
                return xnp.sum(h)

            g = lib.grad(loss)
            return lambda: [np.asarray(g(x0))]

        runners[label] = numpy_like_setup
    runners.update(compiling_runners(peers, quick))
    notes = []
    if quick and peers.pytensor is not None:
        notes.append(f"{PYTENSOR} left out of --quick: its rewrites of this graph take minutes")
    return [
        Case(
            "W1",
            f"W1 overhead: {4 * STEPS:,} ops (mul, tanh, mul, add) on float64[8], fwd+bwd",
            reference,
            runners,
            ops=4 * STEPS,
            compiled=tuple(n for n in COMPILING if n in runners),
            compile_baseline=COMPILED_NUMPY,
            notes=notes,
        )
    ]


#: The runners that compile, in the order of the compile table.
COMPILING = (COMPILED_NUMPY, COMPILED_JAX, JAX_JIT, PYTENSOR, CASADI_SX)


def _adjoint_loss(x):
    a = ad.Tensor(C1, requires_grad=False)
    b = ad.Tensor(C2, requires_grad=False)
    h = x
    for _ in range(STEPS):
        h = ad.tanh(h * a) * b + x
    return ad.sum(h)


def compiling_runners(peers: Peers, quick: bool = False) -> dict[str, Any]:
    """The gradient of the chain compiled once: adjoint's rows and the compiling peers.

    PyTensor only when not ``quick``: FAST_RUN's rewrites of the chain and its
    gradient took 5.5 minutes on the 2-core development machine (C modules
    cached or not).
    """
    x0, c1, c2 = X0, C1, C2
    runners: dict[str, Any] = adjoint_compiled_runners(peers, ad.grad(_adjoint_loss), [x0])
    if peers.jax is not None:
        jax, jnp = peers.jax

        def jax_setup():
            def loss(x):
                h = x
                for _ in range(STEPS):
                    h = jnp.tanh(h * c1) * c2 + x
                return jnp.sum(h)

            g = jax.jit(jax.grad(loss))
            return lambda: [np.asarray(g(x0))]

        runners[JAX_JIT] = jax_setup
    if peers.pytensor is not None and not quick:
        pytensor, pt, mode = peers.pytensor

        def pytensor_setup():
            with deep_recursion():
                x = pt.dvector("x")
                h = x
                for _ in range(STEPS):
                    h = pt.tanh(h * c1) * c2 + x
                g = pytensor.function([x], pytensor.grad(h.sum(), x), mode=mode)
            return lambda: [g(x0)]

        runners[PYTENSOR] = pytensor_setup
    if peers.casadi is not None:
        ca = peers.casadi

        def casadi_setup():
            x = ca.SX.sym("x", x0.size)
            a, b = ca.DM(c1), ca.DM(c2)
            h = x
            for _ in range(STEPS):
                h = ca.tanh(h * a) * b + x
            g = ca.Function("g", [x], [ca.gradient(ca.sum1(h), x)])
            return lambda: [np.asarray(g(x0)).reshape(-1)]

        runners[CASADI_SX] = casadi_setup
    return runners
