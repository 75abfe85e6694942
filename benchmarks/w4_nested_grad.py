"""W4, higher orders: d^n/dx^n tanh(x) at 0.5 by nesting ``grad``, n = 1..8.

Checked against sympy's exact value. Besides time, each case records the
graph sizes of the n-th derivative: as nested ``backward()`` builds it (raw),
as nested ``ad.grad`` returns it (simplified from the 3rd order on), and after
``ad.simplify`` of the raw one. The baseline is adjoint's nested ``ad.grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from harness import Case, Peers

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


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    return [case(peers, n) for n in range(1, 5 if quick else 9)]
