"""Optimizers with needle's API: ``SGD`` and ``Adam``, plus gradient clipping.

An optimizer holds the parameters and its own state (momenta) as arrays on
the parameters' devices. ``step()`` reads each parameter's ``.grad`` and writes
the new value into the parameter's data: plain array arithmetic on detached
data, so no update ever becomes a graph node and the graph does not grow from
step to step. A gradient on another device than its parameter is an error.

>>> import numpy as np, adjoint as ad
>>> w = ad.Tensor([1.0, -2.0])
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward(create_graph=False)
>>> opt.step()
>>> w.numpy()
array([ 0.8, -1.6])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from adjoint.device import array_namespace, check_same_device, host_dtype
from adjoint.nn import _real_arg
from adjoint.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "clip_grad_norm"]


class Optimizer:
    """Base class: ``params``, ``step()``, ``reset_grad()``.

    ``params`` is a list (or other ordered iterable) of distinct floating-point
    leaf Tensors, as PyTorch requires: a bare Tensor or a set is a ``TypeError``,
    an empty list, a computed tensor or a tensor listed twice a ``ValueError``.
    """

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = _param_list(params, type(self).__name__)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def reset_grad(self) -> None:
        """Drop every parameter's ``.grad`` (and the graph it may keep alive)."""
        for p in self.params:
            p.grad = None

    zero_grad = reset_grad

    def clip_grad_norm(self, max_norm: float = 0.25) -> float:
        """Scale all gradients together so that their joint L2 norm is at most ``max_norm``."""
        return clip_grad_norm(self.params, max_norm)

    def _grads(self) -> Iterable[tuple[int, Tensor, np.ndarray]]:
        for i, p in enumerate(self.params):
            if p.grad is not None:
                grad = p.grad.realize_cached_data()
                w = p.cached_data
                if type(grad) is not np.ndarray or type(w) is not np.ndarray:
                    check_same_device(f"{type(self).__name__}.step", (w, grad))
                yield i, p, grad


def _param_list(params: Any, owner: str) -> list[Tensor]:
    """``params`` as a list of distinct floating-point leaf Tensors, as PyTorch checks them.

    A bare Tensor, a set (its order changes from run to run) or anything not
    iterable is a ``TypeError``; an empty list, a tensor computed by an op or a
    tensor listed twice (it would be updated twice per step) a ``ValueError``.
    """
    if isinstance(params, Tensor):
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors, such as model.parameters() or "
            f"[w, b], got a single {type(params).__name__}; wrap it in a list"
        )
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"{owner}: params must be an ordered collection such as a list, got a set "
            "(its order changes from run to run)"
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors, such as model.parameters(), "
            f"got {type(params).__name__}"
        ) from None
    if not params:
        raise ValueError(f"{owner}: got an empty list of parameters")
    first: dict[int, int] = {}
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: params[{i}] must be a Tensor, got {type(p).__name__}")
        if not p.is_leaf():
            raise ValueError(
                f"{owner}: params[{i}] is computed by {type(p.op).__name__}, not a leaf; "
                "only leaf tensors (parameters) can be optimized"
            )
        if p.dtype.kind != "f":
            raise TypeError(
                f"{owner}: params[{i}] has dtype {p.dtype}; only floating-point tensors "
                "can be optimized"
            )
        if id(p) in first:
            raise ValueError(
                f"{owner}: params[{first[id(p)]}] and params[{i}] are the same tensor; list "
                "each parameter once (it would be updated twice per step)"
            )
        first[id(p)] = i
    return params


def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Rescale the ``.grad`` of ``params`` to a joint L2 norm of at most ``max_norm``.

    Returns the norm before clipping. The clipped gradients are new constant
    tensors (the old ones are not changed in place: they may be graph nodes).
    """
    max_norm = _real_arg(max_norm, "max_norm", "clip_grad_norm", 0.0, high_open=False)
    if isinstance(params, Tensor):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"clip_grad_norm: params must be a Tensor or an iterable of Tensors, "
            f"got {type(params).__name__}"
        ) from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm: params[{i}] must be a Tensor, got {type(p).__name__}")
    params = [p for p in params if p.grad is not None]
    squares = 0.0
    for p in params:
        g = p.grad.realize_cached_data()
        squares += float((np if type(g) is np.ndarray else array_namespace(g)).sum(g * g))
    total = math.sqrt(squares)
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for p in params:  # on the gradient's own device
            p.grad = Tensor.make_const(p.grad.realize_cached_data() * scale)
    return total


def _write(p: Tensor, value: Any) -> None:
    """The new data of ``p`` (on its device), in its dtype."""
    if type(value) is np.ndarray:
        p.cached_data = value.astype(p.dtype, copy=False)
    elif host_dtype(value.dtype) == p.dtype:
        p.cached_data = value
    else:
        p.cached_data = array_namespace(value).astype(value, p.realize_cached_data().dtype)


class SGD(Optimizer):
    """Stochastic gradient descent with needle's momentum and L2 weight decay.

    With ``g = grad + weight_decay * w``:
    ``u = momentum * u + (1 - momentum) * g`` and ``w = w - lr * u``
    (needle's exponential average; PyTorch's ``u = momentum * u + g`` is the
    same with ``lr`` scaled by ``1 - momentum``). ``u`` starts at zero.

    ``lr`` and ``weight_decay`` must be finite and non-negative and ``momentum``
    lie in [0, 1) (at 1 needle's average would never move): else a ``ValueError``.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = _real_arg(lr, "lr", "SGD", 0.0)
        self.momentum = _real_arg(momentum, "momentum", "SGD", 0.0, 1.0)
        self.weight_decay = _real_arg(weight_decay, "weight_decay", "SGD", 0.0)
        self.u: dict[int, np.ndarray] = {}

    def step(self) -> None:
        for i, p, grad in self._grads():
            w = p.realize_cached_data()
            g = grad + self.weight_decay * w if self.weight_decay else grad
            if self.momentum:
                u = self.u.get(i)
                u = (
                    (1 - self.momentum) * g
                    if u is None
                    else self.momentum * u + (1 - self.momentum) * g
                )
                self.u[i] = u
                g = u
            _write(p, w - self.lr * g)


class Adam(Optimizer):
    """Adam (Kingma and Ba) with bias correction and L2 weight decay (needle's rule).

    With ``g = grad + weight_decay * w`` and step count ``t`` from 1:
    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g**2``,
    ``w = w - lr * m_hat / (sqrt(v_hat) + eps)`` where
    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``.

    ``lr``, ``eps`` and ``weight_decay`` must be finite and non-negative and the
    betas lie in [0, 1) (PyTorch's ranges; at 1 the bias correction divides by
    zero): else a ``ValueError``.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = _real_arg(lr, "lr", "Adam", 0.0)
        self.beta1 = _real_arg(beta1, "beta1", "Adam", 0.0, 1.0)
        self.beta2 = _real_arg(beta2, "beta2", "Adam", 0.0, 1.0)
        self.eps = _real_arg(eps, "eps", "Adam", 0.0)
        self.weight_decay = _real_arg(weight_decay, "weight_decay", "Adam", 0.0)
        self.t = 0
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction1, correction2 = 1 - b1**self.t, 1 - b2**self.t
        for i, p, grad in self._grads():
            w = p.realize_cached_data()
            g = grad + self.weight_decay * w if self.weight_decay else grad
            m = b1 * self.m.get(i, 0.0) + (1 - b1) * g
            v = b2 * self.v.get(i, 0.0) + (1 - b2) * g * g
            self.m[i], self.v[i] = m, v
            sqrt = np.sqrt if type(v) is np.ndarray else array_namespace(v).sqrt
            _write(p, w - self.lr * (m / correction1) / (sqrt(v / correction2) + self.eps))
