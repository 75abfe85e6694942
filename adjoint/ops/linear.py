"""Linear ops: the ones that only move, copy or add up elements.

For a linear map L, reverse mode needs only its adjoint (transpose) L*, the map
with <L x, y> = <x, L* y>. That is the whole gradient rule of each op here,
and the pairs are each other's adjoints:

==================  ==========================================
op                  gradient (its adjoint)
==================  ==========================================
transpose(i, j)     transpose(i, j): a swap is its own inverse
permute(p)          permute(argsort(p)): the inverse permutation
reshape(shape)      reshape back to the input's shape
broadcast_to(s)     summation over the broadcast axes
summation(axes)     broadcast_to back over the summed axes
==================  ==========================================

The library's name comes from exactly this: reverse mode runs the adjoints.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy import generic, ndarray

from adjoint.device import array_namespace
from adjoint.ops.common import (
    as_flag,
    as_int,
    as_shape,
    as_tensor,
    axes_keywords,
    broadcast_shapes,
    int_literal,
    ints_literal,
    is_int,
    normalize_axes,
)
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "Transpose",
    "Permute",
    "Reshape",
    "BroadcastTo",
    "Summation",
    "transpose",
    "permute",
    "reshape",
    "broadcast_to",
    "summation",
    "sum",
    "sum_to_shape",
]


class Transpose(TensorOp):
    """Swap two axes (the last two when ``axes`` is None), as needle's transpose.

    Called directly (``Transpose(axes)(a)``) the op checks ``axes`` against
    ``a``, as :func:`transpose` does, and names itself in the error; gradient
    rules make their nodes without the check.
    """

    formula = ("$0ᵀ", "$0^{\\top}")
    partials = (("$gᵀ", "$g^{\\top}"),)

    def __init__(self, axes: tuple[int, int] | None = None) -> None:
        self.axes = axes

    def __call__(self, *args: Any) -> Tensor:
        a = _single_input(args, "Transpose")
        _swap_axes(self.axes, a, "Transpose")  # negative axes work as they are
        return _make(self, (a,))

    def _pair(self, ndim: int) -> tuple[int, int]:
        return (ndim - 2, ndim - 1) if self.axes is None else self.axes

    def compute(self, a):
        i, j = self._pair(a.ndim)
        if type(a) is not ndarray and not isinstance(a, generic):
            axes = list(range(a.ndim))
            axes[i], axes[j] = axes[j], axes[i]
            return array_namespace(a).permute_dims(a, tuple(axes))
        return np.swapaxes(a, i, j)

    def source(self, args, const):
        if self.axes is None:  # the last two axes: (ndim - 2, ndim - 1)
            return f"xp.swapaxes({args[0]}, -2, -1)"
        i, j = (int_literal(k, const) for k in self.axes)
        return f"xp.swapaxes({args[0]}, {i}, {j})"

    def gradient(self, out_grad, node):
        return (transpose(out_grad, self.axes),)

    def compute_batched(self, batch, arrays, shapes):
        i, j = self._pair(len(shapes[0]))
        a, b = arrays[0], len(batch)
        if type(a) is not ndarray:
            axes = list(range(a.ndim))
            axes[b + i], axes[b + j] = axes[b + j], axes[b + i]
            return array_namespace(a).permute_dims(a, tuple(axes))
        return np.swapaxes(a, b + i, b + j)

    def infer_shape(self, shape):
        i, j = self._pair(len(shape))
        result = list(shape)
        result[i], result[j] = result[j], result[i]
        return tuple(result)


class Permute(TensorOp):
    """Reorder all axes: output axis k is input axis ``axes[k]`` (np.transpose).

    Called directly, the op checks that ``axes`` is a permutation of the input's
    axes, as :func:`permute` does; negative axes are stored as their positive
    equivalents (the gradient's inverse permutation needs them so).
    """

    formula = ("permute($0)", "\\operatorname{permute}($0)")
    partials = (("permute⁻¹($g)", "\\operatorname{permute}^{-1}($g)"),)

    def __init__(self, axes: tuple[int, ...]) -> None:
        try:
            self.axes = tuple(axes)
        except TypeError:
            raise TypeError(f"Permute: axes must be a tuple of ints, got {axes!r}") from None

    def __call__(self, *args: Any) -> Tensor:
        a = _single_input(args, "Permute")
        axes = _permutation(self.axes, a, "Permute")
        return _make(self if _same(axes, self.axes) else Permute(axes), (a,))

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return array_namespace(a).permute_dims(a, self.axes)
        return np.transpose(a, self.axes)

    def source(self, args, const):
        return f"xp.transpose({args[0]}, {ints_literal(self.axes, const)})"

    def gradient(self, out_grad, node):
        return (permute(out_grad, tuple(int(k) for k in np.argsort(self.axes))),)

    def compute_batched(self, batch, arrays, shapes):
        b = len(batch)
        axes = tuple(range(b)) + tuple(b + k for k in self.axes)
        if type(arrays[0]) is not ndarray:
            return array_namespace(arrays[0]).permute_dims(arrays[0], axes)
        return np.transpose(arrays[0], axes)

    def infer_shape(self, shape):
        return tuple(shape[k] for k in self.axes)


class Reshape(TensorOp):
    """Same elements, C order, new shape.

    Called directly, the op checks ``shape`` against the input, as
    :func:`reshape` does, and resolves a -1 (lazy mode records the full shape).
    """

    formula = ("reshape($0)", "\\operatorname{reshape}($0)")
    partials = (("reshape($g)", "\\operatorname{reshape}($g)"),)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = _shape_tuple(shape, "Reshape")

    def __call__(self, *args: Any) -> Tensor:
        a = _single_input(args, "Reshape")
        shape = _reshaped(self.shape, a, "Reshape")
        return _make(self if _same(shape, self.shape) else Reshape(shape), (a,))

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.reshape(a, self.shape)

    def source(self, args, const):
        return f"xp.reshape({args[0]}, {ints_literal(self.shape, const)})"

    def gradient(self, out_grad, node):
        return (_reshape(out_grad, node.inputs[0].shape),)

    def compute_batched(self, batch, arrays, shapes):
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.reshape(arrays[0], batch + self.shape)

    def infer_shape(self, shape):
        return self.shape


class BroadcastTo(TensorOp):
    """Repeat along new leading axes and along axes of length 1 (NumPy's rules).

    Called directly, the op checks ``shape`` against the input, as
    :func:`broadcast_to` does.
    """

    formula = ("broadcast($0)", "\\operatorname{broadcast}($0)")
    partials = (("sum_to_shape($g)", "\\operatorname{sum\\_to\\_shape}($g)"),)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = _shape_tuple(shape, "BroadcastTo")

    def __call__(self, *args: Any) -> Tensor:
        a = _single_input(args, "BroadcastTo")
        shape = _broadcast_target(self.shape, a, "BroadcastTo")
        return _make(self if _same(shape, self.shape) else BroadcastTo(shape), (a,))

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.broadcast_to(a, self.shape)

    def source(self, args, const):
        return f"xp.broadcast_to({args[0]}, {ints_literal(self.shape, const)})"

    def gradient(self, out_grad, node):
        return (_sum_to_shape(out_grad, node.inputs[0].shape),)

    def compute_batched(self, batch, arrays, shapes):
        (shape,) = shapes
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        a = xp.reshape(arrays[0], batch + (1,) * (len(self.shape) - len(shape)) + shape)
        return xp.broadcast_to(a, batch + self.shape)

    def infer_shape(self, shape):
        return self.shape


class Summation(TensorOp):
    """Sum over ``axes`` (all when None), keeping them as length 1 if ``keepdims``.

    Called directly (needle's ``Summation(axes)(a)``), the op checks ``axes``
    and ``keepdims`` as :func:`summation` does and stores the axes as a sorted
    tuple of non-negative ints (an int or negative axes would give lazy mode a
    wrong shape).
    """

    formula = ("sum($0)", "\\textstyle\\sum $0")
    partials = (("broadcast($g)", "\\operatorname{broadcast}($g)"),)

    def __init__(self, axes: tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.axes = axes
        self.keepdims = keepdims

    def __call__(self, *args: Any) -> Tensor:
        a = _single_input(args, "Summation")
        axes = normalize_axes(self.axes, a.ndim, "Summation")
        keepdims = as_flag(self.keepdims, "Summation", "keepdims")
        if _same(axes, self.axes) and keepdims is self.keepdims:
            return _make(self, (a,))
        return _make(Summation(axes, keepdims), (a,))

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return array_namespace(a).sum(a, axis=self.axes, keepdims=self.keepdims)
        return a.sum(axis=self.axes, keepdims=self.keepdims)

    def source(self, args, const):
        return f"xp.sum({args[0]}{axes_keywords(self.axes, self.keepdims, const)})"

    def infer_dtype(self, dtype):
        if dtype.kind == "f" and dtype.isnative:  # lazy mode's hot path: floats stay
            return dtype
        # NumPy widens bool and the small integers to the platform's (u)int64;
        # an empty sum tells which, at no cost.
        return np.zeros(0, dtype).sum().dtype

    def gradient(self, out_grad, node):
        in_shape = node.inputs[0].shape
        kept = _kept_shape(in_shape, self.axes)
        return (_broadcast_to(_reshape(out_grad, kept), in_shape),)

    def compute_batched(self, batch, arrays, shapes):
        b = len(batch)
        axes = range(b, b + len(shapes[0])) if self.axes is None else (b + k for k in self.axes)
        if type(arrays[0]) is not ndarray:
            xp = array_namespace(arrays[0])
            return xp.sum(arrays[0], axis=tuple(axes), keepdims=self.keepdims)
        return np.asarray(np.sum(arrays[0], axis=tuple(axes), keepdims=self.keepdims))

    def infer_shape(self, shape):
        kept = _kept_shape(shape, self.axes)
        if self.keepdims:
            return kept
        axes = range(len(shape)) if self.axes is None else self.axes
        return tuple(n for k, n in enumerate(shape) if k not in axes)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes set to 1 (the ``keepdims=True`` shape)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


# ------------------------------------------------------------------ checks
# Shared by the functions and by the op classes called directly; ``name`` is the
# one the error names (``reshape`` or ``Reshape``).


def _single_input(args: tuple, name: str) -> Tensor:
    if len(args) != 1:
        raise TypeError(f"{name}: takes one input tensor, got {len(args)}")
    return as_tensor(args[0], name)


def _same(checked: tuple | None, stored: Any) -> bool:
    """Whether an op's stored parameter is already the checked one (Python ints, a tuple)."""
    if checked is None or stored is None:
        return checked is stored
    return type(stored) is tuple and stored == checked and all(type(k) is int for k in stored)


def _shape_tuple(shape: Any, name: str) -> tuple:
    """An op class's stored shape; checked in full when the op is called."""
    if type(shape) is tuple:  # gradient rules: no check
        return shape
    if is_int(shape):
        return (shape,)
    try:
        return tuple(shape)
    except TypeError:
        raise TypeError(
            f"{name}: shape must be an int or a tuple of ints, got {shape!r} of type "
            f"{type(shape).__name__}"
        ) from None


def _swap_axes(axes: Any, a: Tensor, name: str) -> tuple[int, int] | None:
    ndim = a.ndim
    if axes is None:
        if ndim < 2:
            raise ValueError(f"{name}: needs at least 2 dimensions, got shape {a.shape}")
        return None
    if not isinstance(axes, (tuple, list)):
        raise TypeError(f"{name}: axes must be None or two ints to swap, got {axes!r}")
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"{name}: axes must be two axes to swap, got {axes!r}")
    return normalize_axes(axes, ndim, name)


def _permutation(axes: Any, a: Tensor, name: str) -> tuple[int, ...]:
    ndim = a.ndim
    if not isinstance(axes, (tuple, list)):
        raise TypeError(f"{name}: axes must be a tuple of ints, got {axes!r}")
    axes = tuple(as_int(k, name, "each axis") for k in axes)
    normalized = tuple(k % ndim for k in axes) if ndim else ()
    if (
        len(axes) != ndim
        or sorted(normalized) != list(range(ndim))
        or any(not -ndim <= k < ndim for k in axes)
    ):
        valid = f"give each of 0..{ndim - 1} once" if ndim else "give () for a 0-d tensor"
        raise ValueError(
            f"{name}: axes {axes} are not a permutation of the {ndim} axes of shape "
            f"{a.shape}; {valid}"
        )
    return normalized


def _reshaped(shape: Any, a: Tensor, name: str) -> tuple[int, ...]:
    shape = as_shape(shape, name, infer=True)
    size = math.prod(a.shape)
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or size % known:
            raise ValueError(
                f"{name}: cannot reshape shape {a.shape} ({size} elements) into {shape}"
            )
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        raise ValueError(
            f"{name}: cannot reshape shape {a.shape} ({size} elements) into {shape} "
            f"({math.prod(shape)} elements); the sizes must match"
        )
    return shape


def _broadcast_target(shape: Any, a: Tensor, name: str) -> tuple[int, ...]:
    shape = as_shape(shape, name)
    in_shape = a.shape
    ok = len(shape) >= len(in_shape) and all(
        n == 1 or n == m for n, m in zip(reversed(in_shape), reversed(shape))
    )
    if not ok:
        raise ValueError(
            f"{name}: cannot broadcast shape {in_shape} to {shape}; each dimension "
            "of the input must equal the target's trailing dimension or be 1"
        )
    return shape


# ------------------------------------------------------------------ functions

_make = Tensor.make_from_op


def _reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``reshape`` without its checks, for gradient rules (their shapes are valid)."""
    return _make(Reshape(shape), (a,))


def _broadcast_to(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``broadcast_to`` without its checks, for gradient rules (their shapes are valid)."""
    return _make(BroadcastTo(shape), (a,))


def broadcast_pair(a: Tensor, b: Tensor, op_name: str) -> tuple[Tensor, Tensor]:
    """Both operands broadcast to their common shape with explicit BroadcastTo nodes."""
    data_a, data_b = a.cached_data, b.cached_data
    if data_a is not None and data_b is not None:  # eager: skip the shape properties
        shape_a, shape_b = data_a.shape, data_b.shape
    else:  # lazy: the inferred shapes, read as the shape property would
        meta_a, meta_b = a._meta, b._meta
        shape_a = data_a.shape if data_a is not None else meta_a and meta_a[0] or a.shape
        shape_b = data_b.shape if data_b is not None else meta_b and meta_b[0] or b.shape
    if shape_a == shape_b:
        return a, b
    shape = broadcast_shapes(shape_a, shape_b, op_name)
    if shape_a != shape:
        a = _broadcast_to(a, shape)
    if shape_b != shape:
        b = _broadcast_to(b, shape)
    return a, b


def sum_to_shape(a: Tensor, shape: Any) -> Tensor:
    """Sum ``a`` over the axes that broadcasting ``shape`` to ``a.shape`` created.

    The adjoint of broadcasting: used by ``MatMul``'s broadcast batch axes (and,
    unchecked, by ``BroadcastTo``). Returns ``a`` itself when the shapes already
    agree. ``shape`` (a tuple or list of ints, or an int) must broadcast to
    ``a.shape``: at most ``a.ndim`` sizes, each 1 or equal to the input's size on
    that trailing axis; anything else is refused with the shapes named, never
    silently reshaped. The check compares the shapes in Python: it costs a
    gradient rule about a microsecond.

    >>> import numpy as np, adjoint as ad
    >>> ad.sum_to_shape(ad.Tensor(np.ones((2, 3))), (3,))
    Tensor([2. 2. 2.], shape=(3,), dtype=float64, op=Summation, requires_grad=True)
    """
    if not isinstance(a, Tensor):
        a = as_tensor(a, "sum_to_shape")
    big = a.shape
    if type(shape) is not tuple or not all(type(n) is int for n in shape):
        shape = _shape_of(shape, big)
    if shape == big:  # the common case in gradient rules
        return a
    lead = len(big) - len(shape)
    if lead < 0:
        _cannot_sum(big, shape)
    for n, m in zip(shape, big[lead:]):
        if n != 1 and n != m:
            _cannot_sum(big, shape)
    return _sum_to_shape(a, shape)


def _shape_of(shape: Any, big: tuple[int, ...]) -> tuple[int, ...]:
    """A target shape given as a list, an int or NumPy ints, as a tuple of ints."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(n, (numbers.Integral, np.integer)) and not isinstance(n, bool) for n in shape
    ):
        raise TypeError(
            f"sum_to_shape: the target shape must be a tuple of ints, got {shape!r} "
            f"(summing a tensor of shape {big})"
        )
    return tuple(int(n) for n in shape)


def _cannot_sum(big: tuple[int, ...], shape: tuple[int, ...]) -> None:
    if any(n < 0 for n in shape):
        raise ValueError(
            f"sum_to_shape: cannot sum shape {big} to {shape}: sizes must be non-negative"
        )
    raise ValueError(
        f"sum_to_shape: cannot sum shape {big} to {shape}: the target must broadcast to "
        f"{big}, with at most {len(big)} dimension(s), each 1 or equal to the input's "
        "trailing dimension"
    )


def _sum_to_shape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``sum_to_shape`` without its checks, for gradient rules (their shapes are valid)."""
    big = a.shape
    if big == shape:
        return a
    lead = len(big) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + k for k, n in enumerate(shape) if n == 1 and big[lead + k] != 1
    )
    summed = _make(Summation(axes), (a,))
    # Summing leading axes away gives the shape already; axes of length 1 need a reshape.
    return summed if summed.shape == shape else _reshape(summed, shape)


def transpose(a: Tensor, axes: tuple[int, int] | None = None) -> Tensor:
    """Swap two axes, the last two by default (needle's transpose).

    >>> import adjoint as ad
    >>> ad.transpose(ad.Tensor([[1.0, 2.0, 3.0]])).shape
    (3, 1)
    """
    a = as_tensor(a, "transpose")
    axes = _swap_axes(axes, a, "transpose")
    return _make(Transpose(axes), (a,))


def permute(a: Tensor, axes: tuple[int, ...]) -> Tensor:
    """Reorder the axes: ``permute(a, (2, 0, 1))`` makes axis 2 the first (np.transpose)."""
    a = as_tensor(a, "permute")
    return _make(Permute(_permutation(axes, a, "permute")), (a,))


def reshape(a: Tensor, shape: Any) -> Tensor:
    """Reshape to ``shape``; one entry may be -1 and is inferred."""
    a = as_tensor(a, "reshape")
    return _make(Reshape(_reshaped(shape, a, "reshape")), (a,))


def broadcast_to(a: Tensor, shape: Any) -> Tensor:
    """Broadcast to ``shape`` by NumPy's rules (new leading axes, axes of length 1)."""
    a = as_tensor(a, "broadcast_to")
    return _make(BroadcastTo(_broadcast_target(shape, a, "broadcast_to")), (a,))


def summation(a: Tensor, axes: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axes`` (None for all, an int, or a tuple; negatives allowed).

    >>> import adjoint as ad
    >>> ad.summation(ad.Tensor([[1.0, 2.0], [3.0, 4.0]]), axes=0)
    Tensor([4. 6.], shape=(2,), dtype=float64, op=Summation, requires_grad=True)
    """
    a = as_tensor(a, "summation")
    axes = normalize_axes(axes, a.ndim, "summation")
    return _make(Summation(axes, as_flag(keepdims, "summation", "keepdims")), (a,))


sum = summation  # noqa: A001 - needle and DESIGN.md name it ad.sum
