"""Tensor constructors: constants, random tensors and weight initializations.

needle's ``init`` module, with float64 as the default dtype (adjoint's rule for
numbers and lists). Random constructors draw from NumPy's global generator by
default (so ``np.random.seed`` makes them reproducible, as in needle) or from
the ``numpy.random.Generator`` passed as ``rng=``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adjoint.autograd import Tensor

__all__ = [
    "Device",
    "cpu",
    "default_device",
    "constant",
    "ones",
    "zeros",
    "ones_like",
    "zeros_like",
    "rand",
    "randn",
    "randb",
    "one_hot",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
]


class Device:
    """The only device: NumPy on the CPU (kept for needle compatibility)."""

    def __repr__(self) -> str:
        return "cpu()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash("cpu")


_CPU = Device()


def cpu() -> Device:
    """The CPU device."""
    return _CPU


def default_device() -> Device:
    """The default (and only) device."""
    return _CPU


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _tensor(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor.make_const(
        np.asarray(array, dtype=dtype or np.float64), requires_grad=requires_grad
    )


def constant(
    *shape: Any, c: float = 1.0, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``shape`` filled with ``c``."""
    return _tensor(np.full(_shape(shape), c, dtype=dtype or np.float64), dtype, requires_grad)


def ones(*shape: Any, device: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return constant(*shape, c=1.0, dtype=dtype, requires_grad=requires_grad)


def zeros(
    *shape: Any, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return constant(*shape, c=0.0, dtype=dtype, requires_grad=requires_grad)


def ones_like(array: Tensor, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``array``'s shape and dtype."""
    return ones(*array.shape, dtype=array.dtype, requires_grad=requires_grad)


def zeros_like(array: Tensor, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``array``'s shape and dtype."""
    return zeros(*array.shape, dtype=array.dtype, requires_grad=requires_grad)


def _generator(rng: np.random.Generator | None) -> Any:
    return np.random if rng is None else rng


def rand(
    *shape: Any,
    low: float = 0.0,
    high: float = 1.0,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [low, high)."""
    shape = _shape(shape)
    sample = rng.random(shape) if rng is not None else np.random.rand(*shape)
    return _tensor(low + (high - low) * sample, dtype, requires_grad)


def randn(
    *shape: Any,
    mean: float = 0.0,
    std: float = 1.0,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    shape = _shape(shape)
    sample = rng.standard_normal(shape) if rng is not None else np.random.randn(*shape)
    return _tensor(mean + std * sample, dtype, requires_grad)


def randb(
    *shape: Any,
    p: float = 0.5,
    device: Any = None,
    dtype: Any = "bool",
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Bernoulli samples: True with probability ``p``."""
    shape = _shape(shape)
    sample = rng.random(shape) if rng is not None else np.random.rand(*shape)
    return _tensor(sample <= p, dtype, requires_grad)


def one_hot(
    n: int, i: Any, *, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Rows of the n-by-n identity picked by the integer labels ``i``."""
    labels = np.asarray(i.numpy() if isinstance(i, Tensor) else i)
    if labels.dtype.kind not in "iuf":
        raise TypeError(f"one_hot: labels must be integer class indices, got dtype {labels.dtype}")
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            bad = labels[~whole].flat[0]
            raise ValueError(
                f"one_hot: float labels must be whole numbers (0.0, 2.0, ...), got {bad}"
            )
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"one_hot: labels must lie in [0, {n - 1}], got {labels.min()}..{labels.max()}"
        )
    return _tensor(np.eye(n)[labels], dtype, requires_grad)


def xavier_uniform(fan_in: int, fan_out: int, gain: float = 1.0, **kwargs: Any) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rand(fan_in, fan_out, low=-a, high=a, **kwargs)


def xavier_normal(fan_in: int, fan_out: int, gain: float = 1.0, **kwargs: Any) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return randn(fan_in, fan_out, mean=0.0, std=std, **kwargs)


def _relu_gain(nonlinearity: str) -> float:
    if nonlinearity != "relu":
        raise ValueError(
            f"kaiming init: only nonlinearity='relu' is supported, got {nonlinearity!r}"
        )
    return math.sqrt(2.0)


def kaiming_uniform(
    fan_in: int, fan_out: int, nonlinearity: str = "relu", shape: Any = None, **kwargs: Any
) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan_in); ``shape`` overrides (fan_in, fan_out)."""
    bound = _relu_gain(nonlinearity) * math.sqrt(3.0 / fan_in)
    return rand(*(shape or (fan_in, fan_out)), low=-bound, high=bound, **kwargs)


def kaiming_normal(
    fan_in: int, fan_out: int, nonlinearity: str = "relu", shape: Any = None, **kwargs: Any
) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan_in); ``shape`` overrides (fan_in, fan_out)."""
    std = _relu_gain(nonlinearity) / math.sqrt(fan_in)
    return randn(*(shape or (fan_in, fan_out)), mean=0.0, std=std, **kwargs)
