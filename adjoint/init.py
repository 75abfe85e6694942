"""Tensor constructors: constants, random tensors and weight initializations.

needle's ``init`` module, with float64 as the default dtype (adjoint's rule for
numbers and lists). Random constructors draw from NumPy's global generator by
default (so ``np.random.seed`` makes them reproducible, as in needle) or from
the ``numpy.random.Generator`` passed as ``rng=``.

Every argument is checked where it is given, with an error naming the
function: sizes are non-negative ints (``zeros(2, 3)`` or ``zeros((2, 3))``;
bools and floats are refused, never truncated), fans are positive ints, dtypes
are bool, integer or floating point (floating point only for the random
initializations, whose samples an integer dtype would truncate), and
``requires_grad`` is True or False.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from adjoint.autograd import Value, _flag_arg
from adjoint.device import Device, cpu, default_device, to_numpy
from adjoint.ops.common import as_shape, is_int
from adjoint.tensor import Tensor, _device_arg, _dtype_arg, _from_python

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


def _shape(shape: tuple[Any, ...], name: str) -> tuple[int, ...]:
    """The sizes given as ``f(2, 3)`` or ``f((2, 3))``, as non-negative Python ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return as_shape(shape, name)


def _dtype(dtype: Any, name: str, *, default: Any = np.float64, kinds: str = "biuf") -> np.dtype:
    """``dtype`` (None for ``default``) as a NumPy dtype of one of ``kinds``."""
    if dtype is None:
        return np.dtype(default)
    dtype = _dtype_arg(dtype, name)
    if dtype.kind not in kinds:
        valid = (
            "a floating-point dtype (float16, float32 or float64)"
            if kinds == "f"
            else "a bool, integer or floating-point dtype"
        )
        raise TypeError(f"{name}: dtype must be {valid}, got {dtype}")
    return dtype


def _real(value: Any, name: str, what: str, *, low: float = -math.inf) -> float:
    """A finite real number (at least ``low``); bools, complex numbers and strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name}: {what} must be a real number, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not math.isfinite(value) or value < low:
        valid = "a finite number" + (f" >= {low:g}" if low > -math.inf else "")
        raise ValueError(f"{name}: {what} must be {valid}, got {value}")
    return value


def _options(
    name: str, device: Any, requires_grad: Any, rng: Any = None
) -> tuple[bool, np.random.Generator | None]:
    """The keyword arguments every constructor takes, checked."""
    if device is not None:
        _device_arg(device, name)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name}: rng must be a numpy.random.Generator or None, got {type(rng).__name__}"
        )
    return _flag_arg(requires_grad, name, "requires_grad"), rng


def _tensor(
    array: np.ndarray, dtype: np.dtype, requires_grad: bool, device: Any, name: str
) -> Tensor:
    """A leaf of host data ``array`` in ``dtype``, copied to ``device`` (the default if None):
    random numbers are drawn on the host, so a seed gives the same values on every device."""
    data = np.asarray(array, dtype=dtype)
    device = _device_arg(device, name)
    if device.kind != "cpu":
        data = device.from_numpy(data)
    return Tensor.make_const(data, requires_grad=requires_grad)


def constant(
    *shape: Any, c: float = 1.0, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``shape`` filled with ``c`` (float64 unless ``dtype`` says otherwise).

    ``c`` must be a real number that ``dtype`` represents: ``c=1.5`` with an
    integer dtype is an error, not a silent 1.
    """
    return _constant(shape, c, device, dtype, requires_grad, "constant")


def _constant(
    shape: tuple, c: Any, device: Any, dtype: Any, requires_grad: Any, name: str
) -> Tensor:
    shape = _shape(shape, name)
    dtype = _dtype(dtype, name)
    requires_grad, _ = _options(name, device, requires_grad)
    # ones() and zeros() (and any float into float64) need no check
    if not (type(c) is float and (c == 0.0 or c == 1.0 or dtype == np.float64)):
        if isinstance(c, np.bool_):
            c = bool(c)
        if not isinstance(c, numbers.Real):
            raise TypeError(
                f"{name}: the fill value c must be a real number, got {c!r} ({type(c).__name__})"
            )
        with np.errstate(all="ignore"):
            try:
                held = np.array(c).astype(dtype)
            except (OverflowError, ValueError):  # a Python int beyond int64
                held = None
            if held is None:
                exact = False
            elif dtype.kind == "f":
                exact = np.isfinite(held) or not math.isfinite(c)
            else:
                exact = held == c
        if not exact:
            raise ValueError(f"{name}: dtype {dtype} cannot hold the fill value c={c!r}")
    return _tensor(np.full(shape, c, dtype=dtype), dtype, requires_grad, device, name)


def ones(*shape: Any, device: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _constant(shape, 1.0, device, dtype, requires_grad, "ones")


def zeros(
    *shape: Any, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _constant(shape, 0.0, device, dtype, requires_grad, "zeros")


def _like(array: Any, name: str) -> Value | np.ndarray:
    if not isinstance(array, (Value, np.ndarray)):
        raise TypeError(f"{name}: give a Tensor (or a NumPy array), got {type(array).__name__}")
    return array


def ones_like(array: Tensor, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``array``'s shape and dtype."""
    array = _like(array, "ones_like")
    requires_grad, _ = _options("ones_like", device, requires_grad)
    device = device if device is not None else _device_of_like(array)
    return _tensor(np.ones(array.shape, array.dtype), None, requires_grad, device, "ones_like")


def zeros_like(array: Tensor, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``array``'s shape and dtype."""
    array = _like(array, "zeros_like")
    requires_grad, _ = _options("zeros_like", device, requires_grad)
    device = device if device is not None else _device_of_like(array)
    return _tensor(np.zeros(array.shape, array.dtype), None, requires_grad, device, "zeros_like")


def _device_of_like(array: Any) -> Any:
    """The device of a ``*_like`` argument: a Tensor's own, the CPU for a NumPy array."""
    return array.device if isinstance(array, Value) else cpu()


def rand(
    *shape: Any,
    low: float = 0.0,
    high: float = 1.0,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [low, high) (``low <= high``, finite), of a floating-point dtype."""
    return _rand("rand", shape, low, high, device, dtype, requires_grad, rng)


def _rand(
    name: str,
    shape: Any,
    low: Any,
    high: Any,
    device: Any,
    dtype: Any,
    requires_grad: Any,
    rng: Any,
) -> Tensor:
    shape = _shape(shape, name)
    dtype = _dtype(dtype, name, kinds="f")
    requires_grad, rng = _options(name, device, requires_grad, rng)
    low, high = _real(low, name, "low"), _real(high, name, "high")
    if low > high:
        raise ValueError(f"{name}: low must be <= high, got low={low} and high={high}")
    sample = rng.random(shape) if rng is not None else np.random.rand(*shape)
    return _tensor(low + (high - low) * sample, dtype, requires_grad, device, name)


def randn(
    *shape: Any,
    mean: float = 0.0,
    std: float = 1.0,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Normal samples with the given mean and standard deviation (``std >= 0``, finite)."""
    return _randn("randn", shape, mean, std, device, dtype, requires_grad, rng)


def _randn(
    name: str,
    shape: Any,
    mean: Any,
    std: Any,
    device: Any,
    dtype: Any,
    requires_grad: Any,
    rng: Any,
) -> Tensor:
    shape = _shape(shape, name)
    dtype = _dtype(dtype, name, kinds="f")
    requires_grad, rng = _options(name, device, requires_grad, rng)
    mean, std = _real(mean, name, "mean"), _real(std, name, "std", low=0.0)
    sample = rng.standard_normal(shape) if rng is not None else np.random.randn(*shape)
    return _tensor(mean + std * sample, dtype, requires_grad, device, name)


def randb(
    *shape: Any,
    p: float = 0.5,
    device: Any = None,
    dtype: Any = "bool",
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Bernoulli samples: True with probability ``p`` (in [0, 1])."""
    shape = _shape(shape, "randb")
    dtype = _dtype(dtype, "randb", default=bool)
    requires_grad, rng = _options("randb", device, requires_grad, rng)
    p = _real(p, "randb", "p")
    if not 0 <= p <= 1:
        raise ValueError(f"randb: p must lie in [0, 1], got {p}")
    sample = rng.random(shape) if rng is not None else np.random.rand(*shape)
    return _tensor(sample <= p, dtype, requires_grad, device, "randb")


def one_hot(
    n: int, i: Any, *, device: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Rows of the n-by-n identity picked by the integer labels ``i``."""
    n = _positive_int(n, "one_hot", "n")
    dtype = _dtype(dtype, "one_hot")
    requires_grad, _ = _options("one_hot", device, requires_grad)
    labels = to_numpy(i.realize_cached_data()) if isinstance(i, Value) else i
    if not isinstance(labels, np.ndarray):
        labels = _from_python(labels, "one_hot")  # refuses ragged lists, strings, None
    if labels.dtype.kind not in "iuf":
        raise TypeError(f"one_hot: labels must be integer class indices, got dtype {labels.dtype}")
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            bad = labels[~whole].flat[0]
            raise ValueError(
                f"one_hot: float labels must be whole numbers (0.0, 2.0, ...), got {bad}"
            )
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"one_hot: labels must lie in [0, {n - 1}], got {labels.min()}..{labels.max()}"
        )
    return _tensor(np.eye(n)[labels.astype(np.int64)], dtype, requires_grad, device, "one_hot")


def _positive_int(value: Any, name: str, what: str) -> int:
    if not is_int(value):
        raise TypeError(
            f"{name}: {what} must be an int, got {value!r} ({type(value).__name__}; bools "
            "and floats are not accepted)"
        )
    if value < 1:
        raise ValueError(f"{name}: {what} must be a positive int, got {value}")
    return int(value)


def _fans(fan_in: Any, fan_out: Any, name: str) -> tuple[int, int]:
    return _positive_int(fan_in, name, "fan_in"), _positive_int(fan_out, name, "fan_out")


def xavier_uniform(
    fan_in: int,
    fan_out: int,
    gain: float = 1.0,
    *,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    ``fan_in`` and ``fan_out`` are positive ints (the shape), ``gain`` a finite
    number >= 0; the dtype is floating point (float64 by default).
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "xavier_uniform")
    a = _real(gain, "xavier_uniform", "gain", low=0.0) * math.sqrt(6.0 / (fan_in + fan_out))
    return _rand("xavier_uniform", (fan_in, fan_out), -a, a, device, dtype, requires_grad, rng)


def xavier_normal(
    fan_in: int,
    fan_out: int,
    gain: float = 1.0,
    *,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(fan_in, fan_out, "xavier_normal")
    std = _real(gain, "xavier_normal", "gain", low=0.0) * math.sqrt(2.0 / (fan_in + fan_out))
    return _randn("xavier_normal", (fan_in, fan_out), 0.0, std, device, dtype, requires_grad, rng)


def _relu_gain(nonlinearity: str, name: str) -> float:
    if nonlinearity != "relu":
        raise ValueError(f"{name}: only nonlinearity='relu' is supported, got {nonlinearity!r}")
    return math.sqrt(2.0)


def _weight_shape(shape: Any, fan_in: int, fan_out: int, name: str) -> tuple[int, ...]:
    """The weight's shape: ``shape`` if given (a tuple of sizes), else (fan_in, fan_out)."""
    if shape is None:
        return (fan_in, fan_out)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name}: shape must be None or a tuple of ints, got {shape!r}")
    return as_shape(tuple(shape), name)


def kaiming_uniform(
    fan_in: int,
    fan_out: int,
    nonlinearity: str = "relu",
    shape: Any = None,
    *,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan_in); ``shape`` overrides (fan_in, fan_out)."""
    fan_in, fan_out = _fans(fan_in, fan_out, "kaiming_uniform")
    bound = _relu_gain(nonlinearity, "kaiming_uniform") * math.sqrt(3.0 / fan_in)
    shape = _weight_shape(shape, fan_in, fan_out, "kaiming_uniform")
    return _rand("kaiming_uniform", shape, -bound, bound, device, dtype, requires_grad, rng)


def kaiming_normal(
    fan_in: int,
    fan_out: int,
    nonlinearity: str = "relu",
    shape: Any = None,
    *,
    device: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan_in); ``shape`` overrides (fan_in, fan_out)."""
    fan_in, fan_out = _fans(fan_in, fan_out, "kaiming_normal")
    std = _relu_gain(nonlinearity, "kaiming_normal") / math.sqrt(fan_in)
    shape = _weight_shape(shape, fan_in, fan_out, "kaiming_normal")
    return _randn("kaiming_normal", shape, 0.0, std, device, dtype, requires_grad, rng)
