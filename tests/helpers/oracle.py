"""The test oracles, shared by every test area.

An :class:`OpSpec` describes one op the way the op table does: a function of
Tensors, the same function on NumPy object arrays of sympy symbols, the input
shapes and the input domain. :func:`check_spec` then verifies, at a seeded
random point:

1. values equal sympy's (evaluated at 30 digits) to 1e-10 relative;
2. first derivatives: ``backward`` with a random cotangent ``w`` equals the
   sympy gradient of ``<w, f>``, exactly differentiated;
3. second derivatives: the gradient of ``<grad, u>`` (a gradient graph
   differentiated again) equals sympy's Hessian-vector product;
4. central finite differences agree to second order (``ad.gradcheck``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy

import adjoint as ad
from adjoint.ops import Cos, Sin

RTOL = 1e-10
ATOL = 1e-12


@dataclass
class OpSpec:
    """One row of an op table."""

    name: str
    fn: Callable[..., ad.Tensor]
    sym: Callable[..., np.ndarray] | None
    shapes: list[tuple[int, ...]]
    low: float = -2.0
    high: float = 2.0
    orders: tuple[int, ...] = (1, 2)
    gradcheck_kwargs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def symbols_like(shape: tuple[int, ...], prefix: str) -> np.ndarray:
    """An object array of distinct real sympy symbols of ``shape``."""
    count = int(np.prod(shape, dtype=np.int64))
    flat = [sympy.Symbol(f"{prefix}_{k}", real=True) for k in range(count)]
    array = np.empty(count, dtype=object)
    array[:] = flat
    return array.reshape(shape)


def elementwise(fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """Apply a scalar sympy function to every element of an object array."""

    def apply(*arrays: np.ndarray) -> np.ndarray:
        return np.vectorize(fn, otypes=[object])(*arrays)

    return apply


def _evaluate(expr, values: dict) -> float:
    return float(sympy.sympify(expr).xreplace(values).evalf(30))


def sample_inputs(spec: OpSpec, rng: np.random.Generator) -> list[np.ndarray]:
    """Random float64 inputs in the spec's domain."""
    return [rng.uniform(spec.low, spec.high, size=shape) for shape in spec.shapes]


def assert_close(actual, expected, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        raise AssertionError(f"{what}:\n adjoint {actual!r}\n   sympy {expected!r}")


def check_spec(spec: OpSpec, seed: int = 0) -> None:
    """Run all the checks in the module docstring on one op specification."""
    rng = np.random.default_rng(seed)
    arrays = sample_inputs(spec, rng)
    leaves = [ad.Tensor(a) for a in arrays]
    out = spec.fn(*leaves)
    out_shape = out.shape

    if spec.sym is not None:
        syms = [symbols_like(a.shape, f"x{i}") for i, a in enumerate(arrays)]
        values = {
            s: sympy.Float(float(v), 30)
            for sym_array, array in zip(syms, arrays)
            for s, v in zip(sym_array.ravel(), array.ravel())
        }
        sym_out = np.asarray(spec.sym(*syms), dtype=object)
        assert sym_out.shape == out_shape, (
            f"{spec.name}: shape {out_shape} != sympy {sym_out.shape}"
        )
        expected = np.array([_evaluate(e, values) for e in sym_out.ravel()]).reshape(out_shape)
        assert_close(out.numpy(), expected, f"{spec.name} value")

        w = rng.standard_normal(out_shape)
        loss = sympy.Add(*[wi * e for wi, e in zip(w.ravel(), sym_out.ravel())])
        flat_syms = [s for sym_array in syms for s in sym_array.ravel()]
        first = {s: sympy.diff(loss, s) for s in flat_syms}

        if 1 in spec.orders:
            out.backward(ad.Tensor(w, dtype=out.dtype, requires_grad=False))
            for i, (leaf, sym_array) in enumerate(zip(leaves, syms)):
                want = np.array([_evaluate(first[s], values) for s in sym_array.ravel()])
                got = leaf.grad.numpy() if leaf.grad is not None else np.zeros(leaf.shape)
                assert_close(got, want.reshape(leaf.shape), f"{spec.name} d/dx{i}")

        if 2 in spec.orders:
            u = [rng.standard_normal(a.shape) for a in arrays]
            fresh = [ad.Tensor(a) for a in arrays]
            y = spec.fn(*fresh)
            y.backward(ad.Tensor(w, dtype=y.dtype, requires_grad=False))
            grads = [x.grad if x.grad is not None else ad.init.zeros_like(x) for x in fresh]
            assert all(isinstance(g, ad.Tensor) for g in grads)
            projected = None
            for g, ui in zip(grads, u):
                term = (g * ad.Tensor(ui, requires_grad=False)).sum()
                projected = term if projected is None else projected + term
            for x in fresh:
                x.grad = None
            if projected.requires_grad:
                projected.backward()
            flat_u = np.concatenate([ui.ravel() for ui in u])
            hvp_expr = {
                t: sympy.Add(*[ui * sympy.diff(first[s], t) for ui, s in zip(flat_u, flat_syms)])
                for t in flat_syms
            }
            for i, (x, sym_array) in enumerate(zip(fresh, syms)):
                want = np.array([_evaluate(hvp_expr[s], values) for s in sym_array.ravel()])
                got = x.grad.numpy() if x.grad is not None else np.zeros(x.shape)
                assert_close(got, want.reshape(x.shape), f"{spec.name} second derivative x{i}")

    max_order = max(spec.orders) if spec.orders else 0
    if max_order:
        ad.gradcheck(spec.fn, *arrays, order=max_order, seed=seed, **spec.gradcheck_kwargs)


# Ops with deliberately wrong gradients: the checkers must catch them.


class WrongSin(Sin):
    """sin whose derivative is sin (it should be cos)."""

    def gradient(self, out_grad, node):
        return (out_grad * ad.sin(node.inputs[0]),)


class WrongCos(Cos):
    """cos whose derivative is +sin (it should be -sin)."""

    def gradient(self, out_grad, node):
        return (out_grad * ad.sin(node.inputs[0]),)


class SinWrongSecond(Sin):
    """sin with the right first derivative (cos, built with WrongCos) and a wrong second."""

    def gradient(self, out_grad, node):
        return (out_grad * WrongCos()(node.inputs[0]),)


def check_inputs_untouched(spec: OpSpec) -> None:
    """compute() and gradient() of ``spec``'s op leave their inputs' data as it was,
    to the 2nd order (the op tables run it on every row)."""
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(spec.low, spec.high, size=shape) for shape in spec.shapes]
    copies = [a.copy() for a in arrays]
    leaves = [ad.Tensor(a) for a in arrays]
    out = spec.fn(*leaves)
    seed = rng.standard_normal(out.shape)
    seed_copy = seed.copy()
    if out.requires_grad:
        out.backward(seed)
        grads = [x.grad for x in leaves if x.grad is not None]
        total = sum((g * g).sum() for g in grads if g.requires_grad)
        if isinstance(total, ad.Tensor):
            total.backward()
    for leaf, copy in zip(leaves, copies):
        np.testing.assert_array_equal(leaf.numpy(), copy)
    np.testing.assert_array_equal(seed, seed_copy)
