"""``Tensor``: the graph node users hold, with NumPy's operators and methods.

:class:`Tensor` is a :class:`~adjoint.autograd.Value` whose ops make Tensors
(:class:`TensorOp`). It converts user data (Python numbers and lists become
float64, NumPy arrays keep their dtype), prints, and spells every op as an
operator or a method. Each method is one line that calls an op of
:mod:`adjoint.ops`; ``ops`` imports this module, so the methods reach it
through the name ``ops``, which that package binds when it is imported.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from adjoint import autograd
from adjoint.autograd import (
    Op,
    Value,
    _flag_arg,
    _on_device_of,
    _seed,
    compute_gradient_of_variables,
)
from adjoint.device import (
    Device,
    check_same_device,
    default_device,
    device_dtype,
    device_of,
    host_dtype,
    to_numpy,
)

#: :mod:`adjoint.ops`, bound by that package when it is imported. ``ops``
#: builds on this module, so this module cannot import it; every method that
#: makes a node reaches its op through this name (``ops.add(self, other)``).
ops: Any = None


def _to_array(data: Any, dtype: Any, op_name: str = "Tensor") -> np.ndarray:
    """A private, writable NumPy copy of ``data`` following the dtype rules.

    Python numbers and (nested) lists become float64; NumPy arrays and scalars
    keep their dtype; ``dtype=`` converts. Strings, objects, complex numbers and
    ragged lists are refused with a message that says what is valid.
    """
    if isinstance(data, Value):
        data = data.realize_cached_data()
    python = not isinstance(data, (np.ndarray, np.generic))
    if dtype is not None and type(dtype) is not np.dtype:
        dtype = _dtype_arg(dtype, op_name)
    if python:
        data = _from_python(data, op_name)
        if dtype is None:
            dtype = np.float64
        elif dtype.kind in "iu" and data.dtype.kind in "iuO":
            _check_fits(data, dtype, op_name)
    elif data.dtype.kind not in "biuf":  # checked before dtype= could cast it away
        raise TypeError(
            f"{op_name}: data of dtype {data.dtype} is not supported; "
            "valid dtypes are bool, integer and floating point"
        )
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except ValueError as error:
        if "inhomogeneous" in str(error) or "sequence" in str(error):
            raise ValueError(
                f"{op_name}: data is ragged (nested sequences of different lengths); "
                "give a rectangular nested list or an array"
            ) from None
        raise TypeError(
            f"{op_name}: cannot convert {type(data).__name__} data to a numeric array "
            f"({error}); give numbers, nested lists of numbers or a NumPy array"
        ) from None
    except TypeError as error:
        raise TypeError(
            f"{op_name}: cannot convert {type(data).__name__} data to a numeric array "
            f"({error}); give numbers, nested lists of numbers or a NumPy array"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{op_name}: data of dtype {array.dtype} is not supported; "
            "valid dtypes are bool, integer and floating point"
        )
    return array


def _dtype_arg(dtype: Any, op_name: str) -> np.dtype:
    """``dtype`` as a NumPy dtype, or a TypeError naming the op (kinds are checked later)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{op_name}: dtype {dtype!r} is not a NumPy dtype; give one such as "
            "'float64', np.float32 or 'int64'"
        ) from None


def _check_fits(data: np.ndarray, dtype: np.dtype, op_name: str) -> None:
    """Python ints converted to an integer ``dtype`` must fit it (NumPy refuses them too)."""
    if not data.size:
        return
    info = np.iinfo(dtype)
    for value in data.flat if data.dtype.kind == "O" else (data.min(), data.max()):
        if isinstance(value, numbers.Integral) and not info.min <= int(value) <= info.max:
            raise ValueError(
                f"{op_name}: dtype {dtype} cannot hold the value {int(value)} "
                f"(its range is {info.min}..{info.max})"
            )


def _device_arg(device: Any, op_name: str) -> Device:
    """``device`` checked (a :class:`~adjoint.device.Device`), or the default one for None."""
    if device is None:
        return default_device()
    if not isinstance(device, Device):
        raise TypeError(
            f"{op_name}: device must be ad.cpu(), ad.cuda(i) or another adjoint Device, or "
            f"None for ad.default_device(), got {device!r}"
        )
    return device


def _default_is_cpu() -> bool:
    return default_device().kind == "cpu"


def _is_foreign_array(data: Any) -> bool:
    """True for arrays of another library (CuPy, an array-API module): device data."""
    return (
        not isinstance(data, (np.ndarray, np.generic))
        and hasattr(data, "shape")
        and (hasattr(data, "__array_namespace__") or type(data).__module__.startswith("cupy"))
    )


def _device_data(data: Any, dtype: Any, device: Any, op_name: str) -> Any:
    """A private copy of ``data`` on ``device`` (the default if None), ``dtype`` applied.

    Host data follows :func:`_to_array`'s rules and is then copied to the device;
    an array of a device (CuPy, an array-API module) is copied there, through the
    host only if it lives on another device (constructing a tensor is an explicit
    request; ops never copy between devices).
    """
    if isinstance(data, Value):
        data = data.realize_cached_data()
    if _is_foreign_array(data):
        source = device_of(data)
        device = source if device is None else _device_arg(device, op_name)
        if dtype is not None:
            dtype = _dtype_arg(dtype, op_name)
        if source == device:
            xp = device.xp
            if dtype is not None and host_dtype(data.dtype) != dtype:
                return xp.astype(data, device_dtype(device, dtype))
            return xp.asarray(data, copy=True)
        data = to_numpy(data)
    else:
        device = _device_arg(device, op_name)
    array = _to_array(data, dtype, op_name)
    return array if device.kind == "cpu" else device.from_numpy(array)


def _adjoint_array(
    value: Any, dtype: np.dtype, where: str, data_name: str | None = None
) -> np.ndarray:
    """An out_grad or cotangent given as data, as a private array of the output's ``dtype``.

    Conversions that would lose the values are refused, as :meth:`adjoint.graph.Graph.run`
    refuses them: an array must keep its kind (bool and integers may become floats;
    float64 may become float32, rounded), and Python numbers must be represented
    in ``dtype`` (0.5 into an integer output: no). Data that is not numeric at all
    (strings, None, complex numbers, ragged lists) is refused by the conversion
    :class:`Tensor` uses, named ``data_name`` (``where`` by default).
    """
    array, lost = _in_dtype(value, dtype, "same_kind", data_name or where)
    if array is not None:
        return array
    kind, detail = lost
    if kind == "dtype":
        raise TypeError(
            f"{where} of dtype {detail} cannot be converted to the output's dtype "
            f"{dtype} without losing its values; convert it yourself if that is meant"
        )
    raise ValueError(
        f"{where} holds the value {detail!r}, which the output's dtype {dtype} cannot "
        "represent exactly"
    )


def _in_dtype(
    value: Any, dtype: np.dtype, casting: str, data_name: str
) -> tuple[np.ndarray | None, tuple[str, Any] | None]:
    """``value`` as a private array of ``dtype``, or None and what would be lost.

    Arrays (and Tensors) convert when NumPy's ``casting`` rule allows it, else
    ``("dtype", their dtype)``; Python data must be represented in ``dtype``
    (:func:`_represented`), else ``("value", a value it loses)``. Data that is
    not numeric is refused by :func:`_to_array`, named ``data_name``. Shared by
    cotangents (``"same_kind"``) and :meth:`adjoint.graph.Graph.run` feeds
    (``"safe"``).
    """
    if isinstance(value, Value):
        value = value.realize_cached_data()
    if isinstance(value, (np.ndarray, np.generic)):
        array = _to_array(value, None, data_name)
        if array.dtype == dtype:
            return array, None
        if not np.can_cast(array.dtype, dtype, casting):
            return None, ("dtype", array.dtype)
        return array.astype(dtype), None
    converted, bad = _represented(_from_python(value, data_name), dtype)
    return (converted, None) if converted is not None else (None, ("value", bad))


def _represented(array: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray | None, Any]:
    """``array`` (NumPy's reading of Python data) in ``dtype``, or None and a value it loses.

    An integer or bool dtype must hold each value exactly; a floating dtype
    rounds (as NumPy rounds Python floats) but must not overflow a finite value.
    """
    with np.errstate(all="ignore"):
        try:
            converted = array.astype(dtype)
        except (OverflowError, TypeError, ValueError):  # an int beyond int64, an object
            for value in array.flat:
                try:
                    np.asarray(value).astype(dtype)
                except (OverflowError, TypeError, ValueError):
                    return None, value
            raise
        if dtype.kind == "f":
            lost = np.isinf(converted) & ~np.isinf(array.astype(np.float64))
        else:
            lost = converted.astype(array.dtype) != array
    if lost.any():
        value = array[lost].flat[0]
        return None, value.item() if isinstance(value, np.generic) else value
    return converted, None


def _from_python(data: Any, op_name: str) -> np.ndarray:
    """NumPy's own reading of Python data, refusing what a float conversion would hide.

    ``np.array(None, dtype=float)`` is NaN and ``np.array("1.5", dtype=float)``
    is 1.5: reading without a dtype first lets None, strings and other objects
    be refused (Python ints too large for int64 are still accepted).
    """
    try:
        array = np.array(data)
    except ValueError:
        raise ValueError(
            f"{op_name}: data is ragged (nested sequences of different lengths); "
            "give a rectangular nested list or an array"
        ) from None
    kind = array.dtype.kind
    if kind in "US":
        reason = "strings are not numbers"
    elif kind == "c":
        reason = "complex numbers are not supported"
    elif kind == "O":
        bad = [v for v in array.flat if not isinstance(v, numbers.Real)]
        if not bad:
            return array
        reason = f"it holds {bad[0]!r} of type {type(bad[0]).__name__}"
    else:
        return array
    raise TypeError(
        f"{op_name}: cannot convert {type(data).__name__} data to a numeric array ({reason}); "
        "give numbers, nested lists of numbers or a NumPy array"
    )


class TensorOp(Op):
    """An op whose output is a :class:`Tensor`."""

    def __call__(self, *args: Value) -> Tensor:
        return Tensor.make_from_op(self, args)


class Tensor(Value):
    """A NumPy-backed tensor that records the operations applied to it.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 2.0], name="x")
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad            # dy/dx, itself a node of the gradient graph
    Tensor([2. 4.], shape=(2,), dtype=float64, op=EWiseAdd, requires_grad=True)

    Python numbers and lists become float64; NumPy arrays keep their dtype and
    ``dtype=`` converts. The data is a private copy: the caller's array is never
    changed. ``requires_grad`` defaults to True, as in needle.
    """

    __slots__ = ()
    __array_ufunc__ = None  # NumPy defers to our reflected operators: arr + t -> t.__radd__

    def __init__(
        self,
        array: Any,
        *,
        device: Any = None,
        dtype: Any = None,
        requires_grad: bool = True,
        name: str | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a str, got {type(name).__name__}")
        if requires_grad is not True and requires_grad is not False:
            requires_grad = _flag_arg(requires_grad, "Tensor", "requires_grad")
        if isinstance(array, Value):
            array = array.realize_cached_data()
        if device is None and _default_is_cpu() and not _is_foreign_array(array):
            data = _to_array(array, dtype)
        else:
            data = _device_data(array, dtype, device, "Tensor")
        self._init(
            None,
            (),
            cached_data=data,
            requires_grad=requires_grad,
            name=name,
        )

    @staticmethod
    def from_numpy(array: np.ndarray, *, requires_grad: bool = False) -> Tensor:
        """A constant leaf that holds ``array`` itself (no copy)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"Tensor.from_numpy: give a NumPy array, got {type(array).__name__} "
                "(ad.Tensor(data) converts numbers and lists)"
            )
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor.from_numpy: data of dtype {array.dtype} is not supported; "
                "valid dtypes are bool, integer and floating point"
            )
        requires_grad = _flag_arg(requires_grad, "Tensor.from_numpy", "requires_grad")
        return Tensor.make_const(array, requires_grad=requires_grad)

    # ---- data access
    @property
    def data(self) -> Tensor:
        """The same data as a new leaf cut off the graph (needle's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: assign a Tensor, got {type(value).__name__}")
        if value.dtype != self.dtype:
            raise TypeError(f"Tensor.data: dtype {value.dtype} differs from {self.dtype}")
        self.cached_data = value.realize_cached_data()

    def detach(self) -> Tensor:
        """A new leaf with the same data, not attached to any graph."""
        return Tensor.make_const(self.realize_cached_data())

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (computed if lazy): on the CPU the array itself
        (shared, not copied), on another device a copy on the host."""
        data = self.realize_cached_data()
        return data if type(data) is np.ndarray else to_numpy(data)

    def to(self, device: Device) -> Tensor:
        """This tensor on ``device``: itself if it is there, else a copy (a differentiable
        op, whose adjoint is the copy back), as in needle and PyTorch.

        >>> import adjoint as ad
        >>> x = ad.Tensor([1.0, 2.0])
        >>> x.to(ad.cpu()) is x
        True
        """
        return ops.to_device(self, device)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = self.numpy()
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    def retain_grad(self) -> Tensor:
        """Keep this node's adjoint in ``.grad`` after ``backward()`` (leaves always do)."""
        self._retain = True
        return self

    def backward(self, out_grad: Tensor | None = None, *, create_graph: bool = True) -> None:
        """Compute adjoints of everything that requires grad and store them in ``.grad``.

        ``out_grad`` defaults to ones of this tensor's shape (an array or number
        is converted; its shape must be this tensor's). Each ``.grad`` is a
        graph node (``create_graph=True``, the default), so it can be
        differentiated again; ``backward`` overwrites ``.grad``, it does not
        accumulate. ``create_graph=False`` builds plain constants instead:
        cheaper, first order only (in lazy mode too: the adjoints are computed
        when ``backward`` runs, since a constant holds data, not a recipe).

        What stays alive: with ``create_graph=True`` a leaf's ``.grad`` is the
        root of a gradient graph whose rules refer to forward nodes (``exp``'s
        output, a product's other factor, ...), so the forward graph lives as
        long as any ``.grad`` that uses it, even after the output is dropped.
        Nothing refers from a node to its consumers, and only leaves (and
        ``retain_grad()`` nodes) hold an adjoint. So the one reference cycle is
        that of a leaf whose gradient depends on the leaf itself (``x * x``,
        ``tanh(x)``): ``x -> x.grad -> ... -> x``, as in PyTorch with
        ``create_graph=True``. Clear the grads (``x.grad = None``, or the next
        ``backward`` overwrites them) and the whole graph is freed at once; a
        leaf dropped with its ``.grad`` still set leaves its graph to CPython's
        cyclic garbage collector, which frees it later and at a cost. In a
        training loop update with detached data (``w.data = w.data - lr *
        w.grad.data``) or use ``create_graph=False`` (constants: no cycle);
        either way memory stays flat.
        """
        if create_graph is not True and create_graph is not False:
            create_graph = _flag_arg(create_graph, "backward", "create_graph")
        if out_grad is None:
            out_grad = _seed(self)
        elif not isinstance(out_grad, Tensor):
            # Data that is no number at all is refused as Tensor(out_grad) refuses it.
            out_grad = Tensor.make_const(
                _on_device_of(
                    self, _adjoint_array(out_grad, self.dtype, "backward: out_grad", "Tensor")
                )
            )
        if out_grad.shape != self.shape:
            raise ValueError(
                f"backward: out_grad has shape {out_grad.shape} but the output has shape "
                f"{self.shape}; give an out_grad of the output's shape"
            )
        compute_gradient_of_variables(self, out_grad, create_graph=create_graph)

    # ---- printing
    def __repr__(self) -> str:
        """The data, then name (if any), shape, dtype, the op that made it (none for a
        leaf) and requires_grad: ``Tensor([2. 4.], shape=(2,), dtype=float64, op=MulScalar,
        requires_grad=True)``. A lazy node is computed to print it; ``str()`` is the data."""
        body = np.array2string(self.numpy(), separator=" ", prefix="Tensor(")
        extras = [] if self.name is None else [f"name={self.name!r}"]
        extras += [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.op is not None:
            extras.append(f"op={self.op.name}")
        extras.append(f"requires_grad={self.requires_grad}")
        return f"Tensor({body}, {', '.join(extras)})"

    def __str__(self) -> str:
        return str(self.numpy())

    # ---- Python protocol
    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Tensor")
        return self.shape[0]

    def _one_element(self, what: str) -> float | int | bool:
        """The single element as a Python number, or an error naming ``what`` and the shape."""
        data = self.numpy()
        if data.size != 1:
            error = ValueError if what in ("item", "bool") else TypeError
            raise error(
                f"{what}: a tensor of shape {data.shape} has {data.size} elements; only a "
                "tensor of one element converts to a Python number (index it, or reduce it "
                "with .sum(), .max(), ...)"
            )
        return data.item()

    def __bool__(self) -> bool:
        return bool(self._one_element("bool"))

    def __float__(self) -> float:
        return float(self._one_element("float"))

    def __int__(self) -> int:
        return int(self._one_element("int"))

    def item(self) -> float | int | bool:
        """The single element as a Python number."""
        return self._one_element("item")

    __hash__ = object.__hash__  # nodes are dict keys by identity

    # ---- operators (the front end: broadcasting and scalar ops live in adjoint.ops)
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        return ops.subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.multiply(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        return ops.divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.negate(self)

    def __pos__(self) -> Tensor:
        return self

    # Comparisons give constant boolean tensors (no gradient flows through them).
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        if isinstance(other, Value):
            other_data = other.realize_cached_data()
        elif type(other) is float or type(other) is int:
            other_data = other
        else:  # refuses strings, None, objects and complex numbers, naming the comparison
            other_data = _to_array(other, None, ufunc.__name__)
        data = self.realize_cached_data()
        if type(data) is not np.ndarray or (
            hasattr(other_data, "shape") and type(other_data) is not np.ndarray
        ):  # another device: its namespace's comparison, on data of one device
            check_same_device(ufunc.__name__, (data, other_data))
            ufunc = getattr(device_of(data).xp, ufunc.__name__)
        try:
            return Tensor.make_const(ufunc(data, other_data))
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {data.shape} and {np.shape(other_data)} do not "
                "broadcast; trailing dimensions must be equal or 1"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    # ---- methods mirroring the ops
    def sum(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axes`` (all by default); see :func:`adjoint.ops.summation`."""
        return ops.summation(self, axes, keepdims=keepdims)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """Broadcast to ``shape`` with NumPy's rules; see :func:`adjoint.ops.broadcast_to`."""
        return ops.broadcast_to(self, shape)

    def reshape(self, *shape: Any) -> Tensor:
        """Reshape to ``shape`` (a tuple or separate ints; one entry may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Swap two axes: ``t.transpose(i, j)``, ``t.transpose((i, j))``, last two by default."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def permute(self, *axes: Any) -> Tensor:
        """Reorder all axes: ``t.permute(2, 0, 1)`` or ``t.permute((2, 0, 1))``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.permute(self, axes)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """All axes reversed, as NumPy's ``.T``."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return ops.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return ops.log(self)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return ops.relu(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + e**-x); see :func:`adjoint.ops.sigmoid`."""
        return ops.sigmoid(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise |x| (subgradient 0 at 0)."""
        return ops.abs(self)

    __abs__ = abs

    def __getitem__(self, index: Any) -> Tensor:
        """``t[index]`` with NumPy's semantics; see :func:`adjoint.ops.getitem`."""
        return ops.getitem(self, index)

    def __iter__(self) -> Iterator[Tensor]:
        if not self.shape:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[k] for k in range(self.shape[0]))

    def mean(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axes`` (all by default); see :func:`adjoint.ops.mean`."""
        return ops.mean(self, axes, keepdims=keepdims)

    def max(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axes`` (ties share the gradient); see :func:`adjoint.ops.max`."""
        return ops.max(self, axes, keepdims=keepdims)

    def min(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axes`` (ties share the gradient); see :func:`adjoint.ops.min`."""
        return ops.min(self, axes, keepdims=keepdims)

    def logsumexp(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``axes``, stably; see :func:`adjoint.ops.logsumexp`."""
        return ops.logsumexp(self, axes, keepdims=keepdims)

    def softmax(self, axes: Any = -1) -> Tensor:
        """Softmax over ``axes`` (the last by default); see :func:`adjoint.ops.softmax`."""
        return ops.softmax(self, axes)

    def log_softmax(self, axes: Any = -1) -> Tensor:
        """Log-softmax over ``axes`` (the last by default); see :func:`adjoint.ops.log_softmax`."""
        return ops.log_softmax(self, axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge axes ``start_axis..end_axis`` (all by default: 1-D); a reshape."""
        return ops.flatten(self, start_axis, end_axis)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove axes of length 1 (all, or those in ``axis``)."""
        return ops.squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        """Insert axes of length 1 at ``axis`` (an int or a tuple)."""
        return ops.expand_dims(self, axis)

    # NumPy's ndarray methods for the ops of issue 20 (sort and argsort return new
    # tensors: NumPy's ndarray.sort sorts in place).
    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        """Limit to [a_min, a_max]; see :func:`adjoint.ops.clip`."""
        return ops.clip(self, a_min, a_max)

    def cumsum(self, axis: Any = None) -> Tensor:
        """Running sums along ``axis``; see :func:`adjoint.ops.cumsum`."""
        return ops.cumsum(self, axis)

    def cumprod(self, axis: Any = None) -> Tensor:
        """Running products along ``axis``; see :func:`adjoint.ops.cumprod`."""
        return ops.cumprod(self, axis)

    def repeat(self, repeats: Any, axis: Any = None) -> Tensor:
        """Repeat each element; see :func:`adjoint.ops.repeat`."""
        return ops.repeat(self, repeats, axis)

    def sort(self, axis: Any = -1) -> Tensor:
        """A sorted copy along ``axis`` (not in place); see :func:`adjoint.ops.sort`."""
        return ops.sort(self, axis)

    def argsort(self, axis: Any = -1) -> Tensor:
        """The indices that sort along ``axis``; see :func:`adjoint.ops.argsort`."""
        return ops.argsort(self, axis)

    def var(self, axes: Any = None, ddof: Any = 0, keepdims: bool = False) -> Tensor:
        """Variance over ``axes`` with divisor N - ddof; see :func:`adjoint.ops.var`."""
        return ops.var(self, axes, ddof=ddof, keepdims=keepdims)

    def std(self, axes: Any = None, ddof: Any = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axes``; see :func:`adjoint.ops.std`."""
        return ops.std(self, axes, ddof=ddof, keepdims=keepdims)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum along a diagonal (NumPy's ``a.trace``); see :func:`adjoint.ops.trace`."""
        return ops.trace(self, offset, axis1, axis2)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """A diagonal (NumPy's ``a.diagonal``); see :func:`adjoint.ops.diagonal`."""
        return ops.diagonal(self, offset, axis1, axis2)


# needle's names in its autograd module (see the note there).
autograd.Tensor = Tensor
autograd.TensorOp = TensorOp
