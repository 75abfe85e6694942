"""W4, higher orders: d^n/dx^n tanh(x) at 0.5 by nesting ``grad``, n = 1..8.

Checked against sympy's exact value. Besides time, each case records the
graph sizes of the n-th derivative: as nested ``backward()`` builds it (raw),
as nested ``ad.grad`` returns it (simplified from the 3rd order on), and after
``ad.simplify`` of the raw one. The baseline is adjoint's nested ``ad.grad``.

The variant at many points: the n-th derivative of tanh at 1,000 points
(n = 4 and 8; ``--quick``: 4), each derivative taken of the sum of the one
before (tanh acts elementwise, so that is the derivative at every point). The
NumPy row is the closed form (a polynomial in tanh(x)), so its ratio is only a
floor; the compiling frameworks (``ad.compile``, JAX ``jit``, PyTensor's C
linker, CasADi SX mapped over the points) build the n-th derivative once.
"""

from __future__ import annotations

from collections.abc import Callable
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
)

import adjoint as ad

DESCRIPTION = "d^n/dx^n tanh(x) at 0.5 by nesting grad, n = 1..8; time and graph nodes"

AT = 0.5


def tanh_derivative(n: int, at: float = AT) -> float:
    """sympy's n-th derivative of tanh at ``at``, to 30 digits."""
    import sympy

    s = sympy.Symbol("x")
    return float(sympy.diff(sympy.tanh(s), s, n).subs(s, sympy.Rational(str(at))).evalf(30))


def nested_grad(grad: Callable, f: Callable, n: int) -> Callable:
    for _ in range(n):
        f = grad(f)
    return f


def _nested_backward(n: int, at: float = AT) -> ad.Tensor:
    x = ad.Tensor(at)
    y = ad.tanh(x)
    for _ in range(n):
        y.backward()
        y = x.grad
    return y


def node_counts(n: int, at: float = AT) -> dict[str, Any]:
    """Graph sizes of the n-th derivative: raw, as ``ad.grad`` returns it, simplified."""
    raw = _nested_backward(n, at)
    counts: dict[str, Any] = {
        "nodes raw": len(ad.find_topo_sort([raw])),
        "nodes ad.grad": len(ad.find_topo_sort([nested_grad(ad.grad, ad.tanh, n)(ad.Tensor(at))])),
    }
    try:
        counts["nodes simplified"] = len(ad.find_topo_sort(list(ad.simplify(raw).outputs)))
    except Exception as error:  # noqa: BLE001 - reported, never fatal
        counts["nodes simplified"] = f"unavailable ({type(error).__name__}: {error})"
    return counts


def case(peers: Peers, n: int) -> Case:
    exact = tanh_derivative(n)
    case = Case(
        "W4", f"W4 d^{n}/dx^{n} tanh(x) at {AT}, nested grad", lambda: [np.float64(exact)], {}
    )
    case.rtol, case.atol = 1e-9, 1e-9 * max(1.0, abs(exact))
    case.baseline = "adjoint"

    def adjoint_setup():
        g = nested_grad(ad.grad, ad.tanh, n)
        return lambda: [g(ad.Tensor(AT)).numpy()]

    case.runners["adjoint"] = adjoint_setup
    case.runners["adjoint nested backward"] = lambda: lambda: [_nested_backward(n).numpy()]
    case.extra.update(node_counts(n))
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def run():
                x = torch.tensor(AT, dtype=torch.float64, requires_grad=True)
                y = torch.tanh(x)
                for _ in range(n):
                    (y,) = torch.autograd.grad(y, x, create_graph=True)
                return [y.detach().numpy()]

            return run

        case.runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            g = nested_grad(lib.grad, xnp.tanh, n)
            return lambda: [np.asarray(g(AT))]

        case.runners[label] = numpy_like_setup
    return case


#: The points of the many-points variant.
POINTS = np.linspace(-2.0, 2.0, 1000)

#: The runners that compile, in the order of the compile table.
COMPILING = (COMPILED_NUMPY, COMPILED_JAX, JAX_JIT, PYTENSOR, CASADI_SX)


def tanh_polynomial(n: int) -> list[int]:
    """The coefficients (lowest power first) of P with d^n/dx^n tanh(x) = P(tanh(x)).

    tanh' = 1 - tanh^2, so P_0(t) = t and P_(k+1)(t) = P_k'(t) (1 - t^2).
    """
    p = [0, 1]
    for _ in range(n):
        dp = [k * c for k, c in enumerate(p)][1:] or [0]
        p = [0] * (len(dp) + 2)
        for k, c in enumerate(dp):
            p[k] += c
            p[k + 2] -= c
    return p


def points_reference(n: int) -> Callable[[], list[np.ndarray]]:
    """sympy's n-th derivative of tanh, evaluated by NumPy at the points."""

    def reference() -> list[np.ndarray]:
        import sympy

        s = sympy.Symbol("x")
        return [sympy.lambdify(s, sympy.diff(sympy.tanh(s), s, n), "numpy")(POINTS)]

    return reference


def elementwise_derivative(grad: Callable, total: Callable, f: Callable, n: int) -> Callable:
    """The n-th derivative of an elementwise ``f``: each one the gradient of the sum of the last."""
    for _ in range(n):
        f = (lambda g: grad(lambda x: total(g(x))))(f)
    return f


def points_case(peers: Peers, n: int) -> Case:
    x0 = POINTS
    case = Case("W4", f"W4 d^{n}/dx^{n} tanh(x) at {x0.size:,} points", points_reference(n), {})
    case.rtol, case.atol = 1e-9, 1e-12
    coefficients = [float(c) for c in reversed(tanh_polynomial(n))]

    def numpy_closed_form() -> list[np.ndarray]:
        return [np.polyval(coefficients, np.tanh(x0))]

    case.runners[FLOOR] = lambda: numpy_closed_form
    d_n = elementwise_derivative(ad.grad, ad.sum, ad.tanh, n)
    case.runners["adjoint"] = lambda: lambda: [d_n(ad.Tensor(x0)).numpy()]
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def run():
                x = torch.tensor(x0, requires_grad=True)
                y = torch.tanh(x)
                for _ in range(n):
                    (y,) = torch.autograd.grad(y.sum(), x, create_graph=True)
                return [y.detach().numpy()]

            return run

        case.runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            g = elementwise_derivative(lib.grad, xnp.sum, xnp.tanh, n)
            return lambda: [np.asarray(g(x0))]

        case.runners[label] = numpy_like_setup
    case.runners.update(adjoint_compiled_runners(peers, d_n, [x0]))
    if peers.jax is not None:
        jax, jnp = peers.jax

        def jax_setup():
            g = jax.jit(elementwise_derivative(jax.grad, jnp.sum, jnp.tanh, n))
            return lambda: [np.asarray(g(x0))]

        case.runners[JAX_JIT] = jax_setup
    if peers.pytensor is not None:
        pytensor, pt, mode = peers.pytensor

        def pytensor_setup():
            x = pt.dvector("x")
            y = pt.tanh(x)
            for _ in range(n):
                y = pytensor.grad(y.sum(), x)
            g = pytensor.function([x], y, mode=mode)
            return lambda: [g(x0)]

        case.runners[PYTENSOR] = pytensor_setup
    if peers.casadi is not None:
        ca = peers.casadi

        def casadi_setup():
            x = ca.SX.sym("x")
            y = ca.tanh(x)
            for _ in range(n):
                y = ca.gradient(y, x)
            g = ca.Function("g", [x], [y]).map(x0.size)
            row = x0.reshape(1, -1)
            return lambda: [np.asarray(g(row)).reshape(-1)]

        case.runners[CASADI_SX] = casadi_setup
    case.compiled = tuple(name for name in COMPILING if name in case.runners)
    case.compile_baseline = COMPILED_NUMPY
    return case


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    at_one = [case(peers, n) for n in range(1, 5 if quick else 9)]
    return at_one + [points_case(peers, n) for n in ((4,) if quick else (4, 8))]
