"""Devices, as in needle: where a tensor's data lives and which array library computes it.

``ad.cpu()`` is NumPy on the CPU (the default); ``ad.cuda(index)`` is CuPy on a
GPU (the optional ``cuda`` extra, ``pip install "adjoint[cuda]"``);
:func:`namespace_device` makes a device of any other module of the Python array
API standard (the test suite runs the ops on ``array_api_strict`` through it).
``Tensor(data, device=...)`` puts data on a device, ``tensor.to(device)`` copies
it (a differentiable op), ``tensor.numpy()`` copies it to the host. An op whose
inputs live on two devices is an error naming both (:class:`DeviceMismatchError`):
nothing is ever copied between devices silently.

Ops compute through the *array namespace* of their inputs, as the array API
standard defines it: ``xp = array_namespace(a)``, then ``xp.exp(a)``. The lookup
here is our own, about forty lines, rather than the ``array-api-compat``
package, for three reasons. The runtime dependencies stay NumPy and sympy. The
NumPy case must cost nothing: every ``compute`` spells it
``np if type(a) is ndarray else array_namespace(a)``, a type test of about 20 ns
(``array_api_compat.array_namespace`` takes microseconds, the time of a whole
node on small arrays). And only three kinds of arrays need it: NumPy 2 and
array-API modules name their namespace themselves (``__array_namespace__``),
and for CuPy (and NumPy 1.x) :class:`_Namespace` adds the few standard names the
ops use that those modules spell otherwise (``permute_dims``, ``concat``,
``astype``, ``pow``).

This module sits below :mod:`adjoint.tensor`; it imports no other part of adjoint.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

import numpy as np

__all__ = [
    "Device",
    "DeviceMismatchError",
    "array_namespace",
    "cpu",
    "cuda",
    "default_device",
    "device_of",
    "namespace_device",
    "set_default_device",
]

_ndarray = np.ndarray


class DeviceMismatchError(ValueError):
    """An op was given inputs that live on different devices."""


class _Namespace:
    """A module seen as an array-API namespace: its own names, plus the standard names
    it spells otherwise (CuPy, NumPy 1.x). Each name is looked up once, then cached."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        module = self.__dict__["_module"]
        try:
            value = getattr(module, name)
        except AttributeError:
            if name in _DTYPE_EXTRAS:
                value = getattr(module, _DTYPE_EXTRAS[name])
            else:
                extra = _EXTRAS.get(name)
                if extra is None:
                    raise
                value = functools.partial(extra, module)
        self.__dict__[name] = value
        return value

    def __repr__(self) -> str:
        return f"<array namespace {self._module.__name__}>"


def _astype(module: Any, x: Any, dtype: Any, /, *, copy: bool = True) -> Any:
    return x.astype(dtype, copy=copy)


def _concat(module: Any, arrays: Any, /, *, axis: int | None = 0) -> Any:
    return module.concatenate(arrays, axis=axis)


#: Standard names (array API 2023.12) that CuPy and NumPy 1.x lack, over their own spellings.
_EXTRAS = {
    "permute_dims": lambda module, x, axes: module.transpose(x, axes),
    "concat": _concat,
    "astype": _astype,
    "pow": lambda module, a, b: module.power(a, b),
    "cumulative_sum": lambda module, x, /, *, axis=None: module.cumsum(x, axis=axis),
    "cumulative_prod": lambda module, x, /, *, axis=None: module.cumprod(x, axis=axis),
}

#: Standard dtype names that CuPy and NumPy 1.x spell otherwise.
_DTYPE_EXTRAS = {"bool": "bool_"}


class Device:
    """A place for data and the array library that computes there.

    ``kind`` is ``"cpu"``, ``"cuda"`` or the name of an array-API module;
    ``index`` tells GPUs apart. Devices compare by kind and index. ``xp`` is the
    array namespace; :meth:`from_numpy` and :meth:`to_numpy` copy to and from the host.
    """

    def __init__(self, kind: str, index: int, xp: Any) -> None:
        self.kind = kind
        self.index = index
        self.xp = xp

    def __repr__(self) -> str:
        if self.kind == "cpu":
            return "cpu()"
        if self.kind == "cuda":
            return f"cuda({self.index})"
        return f"namespace_device({self.kind})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.kind == self.kind and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.kind, self.index))

    def enabled(self) -> bool:
        """True: a device object exists only where its library is (needle's method)."""
        return True

    def from_numpy(self, array: np.ndarray) -> Any:
        """A copy of the host array ``array`` on this device (the array itself on the CPU)."""
        if self.kind == "cpu":
            return array
        if self.kind == "cuda":
            with self.xp.cuda.Device(self.index):
                return self.xp.asarray(array)
        return self.xp.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        """``array`` (data of this device) as a host NumPy array (itself on the CPU)."""
        return to_numpy(array)

    def zeros(self, shape: tuple[int, ...], dtype: Any = np.float64) -> Any:
        """Zeros of ``shape`` and ``dtype`` (a NumPy dtype) on this device."""
        return self.from_numpy(np.zeros(shape, dtype=dtype))

    def ones(self, shape: tuple[int, ...], dtype: Any = np.float64) -> Any:
        """Ones of ``shape`` and ``dtype`` (a NumPy dtype) on this device."""
        return self.from_numpy(np.ones(shape, dtype=dtype))


#: NumPy 2.1 has every standard name the ops use; older NumPy gets them from _Namespace.
_CPU = Device("cpu", 0, np if hasattr(np, "astype") else _Namespace(np))
_lock = threading.Lock()
_devices: dict[tuple[str, int], Device] = {("cpu", 0): _CPU}
_default = _CPU


def cpu() -> Device:
    """The CPU: NumPy (the default device)."""
    return _CPU


def cuda(index: int = 0) -> Device:
    """GPU ``index`` through CuPy; an ImportError saying what to install when CuPy is missing.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 2.0], device=ad.cuda())  # doctest: +SKIP
    """
    if type(index) is not int or index < 0:
        raise TypeError(f"cuda: index must be a non-negative int, got {index!r}")
    device = _devices.get(("cuda", index))
    if device is not None:
        return device
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as error:
        raise ImportError(
            'ad.cuda() needs CuPy, which is not installed: pip install "adjoint[cuda]" '
            "(or the cupy-cuda12x / cupy-cuda11x wheel that matches your CUDA)"
        ) from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy without a driver or a GPU
        raise RuntimeError(f"ad.cuda(): CuPy finds no usable GPU ({error})") from error
    if index >= count:
        raise ValueError(f"ad.cuda({index}): there are {count} GPU(s), indices 0..{count - 1}")
    with _lock:
        device = _devices.setdefault(("cuda", index), Device("cuda", index, _Namespace(cupy)))
    return device


def namespace_device(xp: Any) -> Device:
    """The device of the array-API module ``xp`` (``array_api_strict``, ...): its arrays
    are that device's data and its functions compute the ops."""
    name = getattr(xp, "__name__", None)
    if not isinstance(name, str) or not hasattr(xp, "asarray"):
        raise TypeError(f"namespace_device: give an array-API module, got {xp!r}")
    if name == "numpy":
        return _CPU
    key = (name, 0)
    device = _devices.get(key)
    if device is None:
        with _lock:
            device = _devices.setdefault(key, Device(name, 0, xp))
    return device


def default_device() -> Device:
    """The device new tensors are made on when no ``device=`` is given (``cpu()`` to start)."""
    return _default


def set_default_device(device: Device) -> None:
    """Make ``device`` the default for new tensors (process-wide)."""
    global _default
    if not isinstance(device, Device):
        raise TypeError(
            f"set_default_device: give a device (ad.cpu(), ad.cuda(), ...), got {device!r}"
        )
    _default = device


def device_of(array: Any) -> Device:
    """The device whose data ``array`` is."""
    if type(array) is _ndarray or isinstance(array, (np.ndarray, np.generic)):
        return _CPU
    module = type(array).__module__
    if module.startswith("cupy"):
        return cuda(array.device.id)
    get = getattr(array, "__array_namespace__", None)
    if get is None:
        raise TypeError(f"{type(array).__name__} is not an array adjoint can compute with")
    return namespace_device(get())


def array_namespace(*arrays: Any) -> Any:
    """The array namespace that computes on ``arrays`` (NumPy, CuPy, an array-API module).

    Ops spell the NumPy case inline (``np if type(a) is ndarray else array_namespace(a)``),
    so this runs only for other arrays; it takes the first one's (the engine has
    already checked that an op's inputs share a device).
    """
    for array in arrays:
        if type(array) is _ndarray:
            return _CPU.xp
        if hasattr(array, "shape"):
            return device_of(array).xp
    return _CPU.xp


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as a host NumPy array: itself if it is one, else a copy."""
    if type(array) is _ndarray:
        return array
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    get = getattr(array, "get", None)  # CuPy
    if get is not None and type(array).__module__.startswith("cupy"):
        return get()
    return np.array(array, copy=True)  # a copy also where the library shares host memory


def check_same_device(op_name: str, arrays: Any) -> None:
    """A :class:`DeviceMismatchError` naming ``op_name`` and both devices if ``arrays`` differ."""
    first = None
    for array in arrays:
        if not hasattr(array, "shape"):
            continue
        device = device_of(array)
        if first is None:
            first = device
        elif device != first:
            raise DeviceMismatchError(
                f"{op_name}: inputs on different devices, {first} and {device}; move them to "
                "one device with .to(device) (adjoint never copies between devices silently)"
            )


def host_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of an array library's ``dtype`` (CuPy's are NumPy's already)."""
    if isinstance(dtype, np.dtype):
        return dtype
    inner = getattr(dtype, "_np_dtype", None)  # array_api_strict
    if isinstance(inner, np.dtype):
        return inner
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def device_dtype(device: Device, dtype: Any) -> Any:
    """The dtype that ``device``'s namespace calls NumPy's ``dtype`` (itself on the CPU, CuPy)."""
    if device.kind in ("cpu", "cuda"):
        return dtype
    return getattr(device.xp, np.dtype(dtype).name)
