"""Numerical checks of gradients by central finite differences.

The checker follows HIPS autograd's: instead of one finite difference per
input element it compares directional derivatives along random directions,

    <grad L(x), v>  ~  (L(x + eps v) - L(x - eps v)) / (2 eps),

where L(x) = <w, f(x)> for a random cotangent w of f's output shape. That is
O(1) function evaluations per check, whatever the input size. Second order
applies the same check to the function x -> <grad L(x), u>, which is itself an
adjoint graph: the check recurses, so it tests gradient-of-gradient graphs,
not a separate code path.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adjoint.autograd import compute_gradient_of_variables, no_grad
from adjoint.init import ones, zeros_like
from adjoint.tensor import Tensor, _to_array

__all__ = ["gradcheck"]


def _gradients(output: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
    """Adjoints of a scalar ``output`` for ``inputs`` (zeros where it does not depend)."""
    for x in inputs:
        x.grad = None
    if output.requires_grad:
        compute_gradient_of_variables(output, ones(*output.shape, dtype=output.dtype))
    grads = [x.grad if x.grad is not None else zeros_like(x) for x in inputs]
    for x in inputs:  # a leaf holding a grad that depends on it is a reference cycle
        x.grad = None
    return grads


def _evaluate(fn: Callable[..., Tensor], arrays: Sequence[np.ndarray]) -> float:
    # Leaves require grad: at order 2 and up, ``fn`` itself differentiates.
    return float(fn(*[Tensor(a) for a in arrays]).numpy())


def gradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    order: int = 1,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    seed: int = 0,
    trials: int = 2,
) -> bool:
    """Check adjoint's derivatives of ``f`` at ``inputs`` against central differences.

    ``f`` takes Tensors and returns a Tensor of any shape. Inputs are converted
    to float64. Each of ``trials`` random directions is checked to every order
    up to ``order`` (1 or 2 for most uses; any positive int works). ``eps`` is the
    finite-difference step (a finite number > 0), ``rtol`` and ``atol`` the
    tolerances of ``np.isclose`` (finite, >= 0), ``seed`` (an int >= 0) fixes the
    random directions and ``trials`` (at least 1) says how many. Returns True,
    or raises ``AssertionError`` showing the analytic and the numerical value,
    the order, and which input differs.

    >>> import adjoint as ad
    >>> ad.gradcheck(lambda x: ad.exp(x) * x, [0.3, -1.2], order=2)
    True
    """
    if not callable(f):
        raise TypeError(
            f"gradcheck: f must be a function of Tensors (a callable), got {f!r} of type "
            f"{type(f).__name__}"
        )
    order = _count(order, "order")
    trials = _count(trials, "trials")
    eps = _positive(eps, "eps", zero=False)
    rtol = _positive(rtol, "rtol", zero=True)
    atol = _positive(atol, "atol", zero=True)
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"gradcheck: seed must be an int, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"gradcheck: seed must be an int >= 0, got {seed}")
    if not inputs:
        raise ValueError("gradcheck: give at least one input")
    arrays = [_to_array(x, np.float64, "gradcheck") for x in inputs]
    rng = np.random.default_rng(seed)
    with no_grad():
        out = f(*[Tensor(a, requires_grad=False) for a in arrays])
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    out_shape = out.shape
    for _ in range(trials):
        weights = rng.standard_normal(out_shape)

        def scalar(*ts: Tensor, _w: np.ndarray = weights) -> Tensor:
            out = f(*ts)
            if not isinstance(out, Tensor):
                raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
            return (out * Tensor(_w, requires_grad=False)).sum()

        _check(scalar, arrays, order, 1, rng, eps, rtol, atol)
    return True


def _count(value: Any, name: str) -> int:
    """A positive int argument (``order``, ``trials``); bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"gradcheck: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"gradcheck: {name} must be a positive int, got {value}")
    return int(value)


def _positive(value: Any, name: str, *, zero: bool) -> float:
    """A finite real step or tolerance: positive (``eps``) or non-negative (``rtol``, ``atol``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"gradcheck: {name} must be a real number, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
        valid = "a finite number >= 0" if zero else "a finite number > 0"
        raise ValueError(f"gradcheck: {name} must be {valid}, got {value}")
    return value


def _check(
    fn: Callable[..., Tensor],
    arrays: list[np.ndarray],
    order: int,
    level: int,
    rng: np.random.Generator,
    eps: float,
    rtol: float,
    atol: float,
) -> None:
    directions = [rng.standard_normal(a.shape) for a in arrays]
    leaves = [Tensor(a) for a in arrays]
    grads = _gradients(fn(*leaves), leaves)
    partial = [float(np.sum(g.numpy() * v)) for g, v in zip(grads, directions)]
    analytic = sum(partial)
    numeric = _directional(fn, arrays, directions, eps)
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        raise AssertionError(_report(fn, arrays, directions, partial, level, eps, rtol, atol))
    if level < order:
        cotangents = [rng.standard_normal(a.shape) for a in arrays]

        def projected(*ts: Tensor) -> Tensor:
            gs = _gradients(fn(*ts), ts)
            total = None
            for g, u in zip(gs, cotangents):
                term = (g * Tensor(u, requires_grad=False)).sum()
                total = term if total is None else total + term
            return total

        _check(projected, arrays, order, level + 1, rng, eps, rtol, atol)


def _directional(fn, arrays, directions, eps) -> float:
    plus = [a + eps * v for a, v in zip(arrays, directions)]
    minus = [a - eps * v for a, v in zip(arrays, directions)]
    return (_evaluate(fn, plus) - _evaluate(fn, minus)) / (2 * eps)


def _report(fn, arrays, directions, partial, level, eps, rtol, atol) -> str:
    """Name the first input whose directional derivative disagrees, with both numbers."""
    lines = [f"gradcheck failed at derivative order {level}:"]
    for i, (a, v) in enumerate(zip(arrays, directions)):
        only = [v if k == i else np.zeros_like(d) for k, d in enumerate(directions)]
        numeric = _directional(fn, arrays, only, eps)
        if not np.isclose(partial[i], numeric, rtol=rtol, atol=atol):
            lines.append(
                f"  input {i} (shape {a.shape}): analytic {partial[i]!r} vs "
                f"numerical {numeric!r} (difference {partial[i] - numeric:.3e}, "
                f"rtol={rtol}, atol={atol})"
            )
            lines.append(f"  at input {i} = {np.array2string(a, precision=6, threshold=20)}")
    if len(lines) == 1:
        lines.append(f"  the directional derivatives disagree in sum: {sum(partial)!r}")
    return "\n".join(lines)
