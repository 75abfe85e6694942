"""``python -m adjoint``: a short tour that differentiates and checks against sympy.

With no arguments it differentiates the course's example
y = ln(x1) + x1*x2 - sin(x2) at (2, 5) to second order, then x ln(1 + x^2) to
the 5th (where nested ``grad`` runs :func:`adjoint.simplify`), on the two paths that
``diff`` and :func:`adjoint.symbolic.check` compare: nested :func:`adjoint.grad`
(as users call it) and repeated ``backward()`` on the gradient graphs, and
checks every derivative on each path against sympy's exact one.
"""

from __future__ import annotations

import numpy as np
import sympy

import adjoint as ad


def _example(x1: ad.Tensor, x2: ad.Tensor) -> ad.Tensor:
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


#: The point and the highest order of the tour's second part.
_HIGHER_AT, _HIGHER_ORDER = -0.939, 5


def _higher(x: ad.Tensor) -> ad.Tensor:
    return x * ad.log(1 + x**2)


def _higher_orders() -> list[tuple[str, float, float, float]]:
    """d^n f / dx^n for n = 1.._HIGHER_ORDER by nested ad.grad, by backward() and by sympy."""
    s = sympy.Symbol("x")
    exact = s * sympy.log(1 + s**2)
    x = ad.Tensor(_HIGHER_AT, name="x")
    rows = []
    derivative, by_grad = _higher(x), _higher
    for n in range(1, _HIGHER_ORDER + 1):
        x.grad = None
        derivative.backward()
        derivative = x.grad
        by_grad = ad.grad(by_grad)
        want = float(sympy.diff(exact, s, n).subs(s, sympy.Float(_HIGHER_AT, 30)))
        rows.append((f"d{n}f/dx{n}", float(by_grad(x)), float(derivative), want))
    return rows


def _table(rows: list[tuple[str, float, float, float]]) -> bool:
    """Print rows (label, by nested ad.grad, by backward(), sympy); True if all agree."""
    ok = True
    print(
        f"{'quantity':<14}{'nested ad.grad':>22}{'backward()':>22}{'sympy (exact)':>22}"
        "   grad  backward"
    )
    for label, by_grad, got, want in rows:
        flags = [bool(np.isclose(v, want, rtol=1e-12, atol=1e-14)) for v in (by_grad, got)]
        ok &= all(flags)
        shown = ["yes" if f else "NO" for f in flags]
        print(
            f"{label:<14}{by_grad:>22.15g}{got:>22.15g}{want:>22.15g}   {shown[0]:<4}  {shown[1]}"
        )
    return ok


def tour() -> int:
    """Differentiate the examples two ways and compare with sympy; 0 if all agree."""
    s1, s2 = sympy.symbols("x1 x2")
    exact = sympy.log(s1) + s1 * s2 - sympy.sin(s2)
    at = {s1: 2, s2: 5}
    x1, x2 = ad.Tensor(2.0, name="x1"), ad.Tensor(5.0, name="x2")
    leaves, symbols = (x1, x2), (s1, s2)

    y = _example(x1, x2)
    print("adjoint tour: y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5\n")
    print(
        "Each derivative two ways: nested ad.grad (ad.grad(ad.grad(f, argnums=i), "
        "argnums=j))\nand repeated backward() on the gradient graphs; the last two "
        "columns say whether\neach agrees with sympy.\n"
    )
    # rows: (label, by nested ad.grad, by backward(), sympy)
    rows = [("y", float(y), float(y), float(exact.subs(at)))]
    y.backward()
    grads = [x.grad for x in leaves]
    for i, (s, g) in enumerate(zip(symbols, grads)):
        by_grad = float(ad.grad(_example, argnums=i)(x1, x2))
        rows.append((f"dy/d{s}", by_grad, float(g), float(sympy.diff(exact, s).subs(at))))
    sizes = {"forward graph": len(ad.find_topo_sort([y]))}
    for i, (s, g) in enumerate(zip(symbols, grads)):
        g.backward()  # differentiate the gradient graph: one row of the Hessian
        for j, (t, x) in enumerate(zip(symbols, leaves)):
            value = float(x.grad) if x.grad is not None else 0.0
            by_grad = float(ad.grad(ad.grad(_example, argnums=i), argnums=j)(x1, x2))
            rows.append((f"d2y/d{s}d{t}", by_grad, value, float(sympy.diff(exact, s, t).subs(at))))
    sizes["gradient graphs"] = len(ad.find_topo_sort(grads))
    sizes["gradient graphs after ad.simplify"] = ad.simplify(*grads).after
    ok = _table(rows)
    print()
    for label, n in sizes.items():
        print(f"{label}: {n} nodes")

    print(
        f"\nHigher orders: f(x) = x*ln(1 + x**2) at x = {_HIGHER_AT}, where nested ad.grad "
        "simplifies\nits graphs from the 3rd order on (ad.simplify) and repeated backward() "
        "does not.\n"
    )
    ok &= _table(_higher_orders())
    if ok:
        print("\nall derivatives agree with sympy, by nested ad.grad and by repeated backward()")
    else:
        print("\nMISMATCH with sympy")
    return 0 if ok else 1
