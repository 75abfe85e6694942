"""W3, a full Hessian: the extended Rosenbrock function, n = 32 and 128.

The NumPy row is the closed-form Hessian (not a differentiation), so its
ratio is only a floor; the interesting ratios are between the frameworks.
``ad.hessian`` builds the Hessian-vector-product graph once and evaluates all
rows in one batched ``Graph.run``.

The compiling frameworks compile the Hessian function once: adjoint's
``ad.compile(ad.hessian(f))``, ``jax.jit(jax.hessian(f))``,
``pytensor.gradient.hessian`` with the C linker, and CasADi SX's ``hessian``.
"""

from __future__ import annotations

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
    rng,
)

import adjoint as ad

DESCRIPTION = "full Hessian of the extended Rosenbrock function, n = 32 and 128"


def rosenbrock(x, square):
    a, b = x[::2], x[1::2]
    return (100 * square(b - square(a)) + square(1 - a)).sum()


def _square(v):
    return v * v


def case(peers: Peers, n: int) -> Case:
    x0 = rng(3).uniform(-1.5, 1.5, n)

    def reference() -> list[np.ndarray]:
        a, b = x0[::2], x0[1::2]
        hess = np.zeros((n, n))
        k = np.arange(0, n, 2)
        hess[k, k] = 1200 * a * a - 400 * b + 2
        hess[k, k + 1] = hess[k + 1, k] = -400 * a
        hess[k + 1, k + 1] = 200
        return [hess]

    case = Case("W3", f"W3 Hessian of extended Rosenbrock, n = {n}", reference, {})
    case.runners[FLOOR] = lambda: reference

    def adjoint_setup():
        h = ad.hessian(lambda x: rosenbrock(x, _square))
        return lambda: [h(ad.Tensor(x0)).numpy()]

    case.runners["adjoint"] = adjoint_setup
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def f(x):
                return rosenbrock(x, _square)

            return lambda: [torch.autograd.functional.hessian(f, torch.tensor(x0)).numpy()]

        case.runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            h = lib.hessian(lambda x: rosenbrock(x, _square))
            return lambda: [np.asarray(h(xnp.asarray(x0)))]

        case.runners[label] = numpy_like_setup
    case.runners.update(compiling_runners(peers, x0))
    case.compiled = tuple(name for name in COMPILING if name in case.runners)
    case.compile_baseline = COMPILED_NUMPY
    return case


#: The runners that compile, in the order of the compile table.
COMPILING = (COMPILED_NUMPY, COMPILED_JAX, JAX_JIT, PYTENSOR, CASADI_SX)


def compiling_runners(peers: Peers, x0: np.ndarray) -> dict:
    """The Hessian function compiled once: adjoint's rows and the compiling peers."""
    n = x0.size
    runners = adjoint_compiled_runners(peers, ad.hessian(lambda x: rosenbrock(x, _square)), [x0])
    if peers.jax is not None:
        jax, _ = peers.jax

        def jax_setup():
            h = jax.jit(jax.hessian(lambda x: rosenbrock(x, _square)))
            return lambda: [np.asarray(h(x0))]

        runners[JAX_JIT] = jax_setup
    if peers.pytensor is not None:
        pytensor, pt, mode = peers.pytensor

        def pytensor_setup():
            from pytensor.gradient import hessian

            x = pt.dvector("x")
            h = pytensor.function([x], hessian(rosenbrock(x, _square), x), mode=mode)
            return lambda: [h(x0)]

        runners[PYTENSOR] = pytensor_setup
    if peers.casadi is not None:
        ca = peers.casadi

        def casadi_setup():
            x = ca.SX.sym("x", n)
            a, b = x[0:n:2], x[1:n:2]
            f = ca.sum1(100 * _square(b - _square(a)) + _square(1 - a))
            hess, _ = ca.hessian(f, x)
            h = ca.Function("h", [x], [hess])
            return lambda: [np.asarray(h(x0))]

        runners[CASADI_SX] = casadi_setup
    return runners


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    return [case(peers, n) for n in ((32,) if quick else (32, 128))]
