"""Shape ops that join or split tensors, and the reshapes with a name of their own.

Like :mod:`adjoint.ops.linear`, everything here is linear, and each gradient is
the op's adjoint:

=========================  ==============================================
op                         gradient (its adjoint)
=========================  ==============================================
stack(axis)                split along ``axis`` into the stacked slots
                           (``out_grad[..., k, ...]``, one GetItem each)
concatenate(axis)          split along ``axis`` at the input boundaries
                           (``out_grad[..., start:stop, ...]``)
split (slices)             getitem's adjoint, scatter-add: each piece's
                           adjoint goes back into its slice
flatten, expand_dims,      reshape back (they *are* reshapes: composites
squeeze                    with no gradient code of their own)
pad(widths)                crop: the slice of ``out_grad`` that holds the
                           input (``GetItem``, whose adjoint pads again)
flip(axes)                 flip(axes): a reversal is its own inverse
roll(shift)                roll(-shift): the inverse rotation
tile(reps)                 sum over the copies (reshape, then sum)
repeat(r, axis)            sum over the repeats of each element (reshape
                           and sum; per-element counts: scatter-add)
=========================  ==============================================

``split`` is a function returning a tuple of ``GetItem`` nodes rather than an
op: a node has one output, and slicing already has the right adjoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy import generic, ndarray

from adjoint.device import array_namespace
from adjoint.ops.common import (
    as_int,
    as_scalar,
    as_tensor,
    int_literal,
    ints_literal,
    is_int,
    literal,
    normalize_axes,
)
from adjoint.ops.indexing import GetItem, ScatterAdd
from adjoint.ops.linear import Reshape, Summation, reshape
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "Stack",
    "Concatenate",
    "Pad",
    "Flip",
    "Roll",
    "Tile",
    "Repeat",
    "stack",
    "concatenate",
    "split",
    "flatten",
    "expand_dims",
    "squeeze",
    "pad",
    "flip",
    "roll",
    "tile",
    "repeat",
]


def _along(axis: int, item: Any) -> tuple:
    """An index that applies ``item`` to ``axis`` and takes everything else."""
    return (slice(None),) * axis + (item,)


class Stack(TensorOp):
    """Join equally shaped tensors along a new axis ``axis``."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, *arrays):
        xp = np if type(arrays[0]) is ndarray else array_namespace(*arrays)
        return xp.stack(arrays, axis=self.axis)

    def source(self, args, const):
        return f"xp.stack([{', '.join(args)}], axis={int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        return tuple(GetItem(_along(self.axis, k))(out_grad) for k in range(len(node.inputs)))

    def infer_shape(self, *shapes):
        shape = shapes[0]
        return shape[: self.axis] + (len(shapes),) + shape[self.axis :]


class Concatenate(TensorOp):
    """Join tensors along the existing axis ``axis``."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, *arrays):
        if type(arrays[0]) is not ndarray and not isinstance(arrays[0], generic):
            return array_namespace(*arrays).concat(arrays, axis=self.axis)
        return np.concatenate(arrays, axis=self.axis)

    def source(self, args, const):
        return f"xp.concatenate([{', '.join(args)}], axis={int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        grads = []
        start = 0
        for x in node.inputs:
            stop = start + x.shape[self.axis]
            grads.append(GetItem(_along(self.axis, slice(start, stop)))(out_grad))
            start = stop
        return tuple(grads)

    def infer_shape(self, *shapes):
        shape = shapes[0]
        total = sum(s[self.axis] for s in shapes)
        return shape[: self.axis] + (total,) + shape[self.axis + 1 :]


def _pairs_literal(pairs: Any, const: Any) -> str:
    """Source for a tuple of (int, int) pairs (pad widths)."""
    if type(pairs) is tuple and all(
        type(p) is tuple and len(p) == 2 and all(type(k) is int for k in p) for p in pairs
    ):
        return repr(pairs)
    return const(pairs)


class Pad(TensorOp):
    """Pad each axis with ``pad_width[k] = (before, after)`` copies of ``value``
    (``np.pad``, mode ``"constant"``). Its adjoint is the crop ``out_grad[b0:b0+n0, ...]``."""

    formula = ("pad($0)", "\\operatorname{pad}($0)")
    partials = (("crop($g)", "\\operatorname{crop}($g)"),)

    def __init__(self, pad_width: tuple[tuple[int, int], ...], value: Any = 0) -> None:
        self.pad_width = pad_width
        self.value = value

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return _pad(array_namespace(a), a, self.pad_width, self.value)
        return np.pad(a, self.pad_width, constant_values=self.value)

    def source(self, args, const):
        widths = _pairs_literal(self.pad_width, const)
        return f"xp.pad({args[0]}, {widths}, constant_values={literal(self.value, const)})"

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        crop = tuple(slice(b, b + n) for (b, _), n in zip(self.pad_width, shape))
        return (GetItem(crop)(out_grad),)

    def compute_batched(self, batch, arrays, shapes):
        widths = ((0, 0),) * len(batch) + tuple(self.pad_width)
        if type(arrays[0]) is not ndarray:
            return _pad(array_namespace(arrays[0]), arrays[0], widths, self.value)
        return np.pad(arrays[0], widths, constant_values=self.value)

    def infer_shape(self, shape):
        return tuple(n + b + e for n, (b, e) in zip(shape, self.pad_width))


class Flip(TensorOp):
    """Reverse the order of the elements along ``axes`` (``np.flip``); its own adjoint."""

    formula = ("flip($0)", "\\operatorname{flip}($0)")
    partials = (("flip($g)", "\\operatorname{flip}($g)"),)

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.flip(a, axis=self.axes)

    def source(self, args, const):
        return f"xp.flip({args[0]}, {ints_literal(self.axes, const)})"

    def gradient(self, out_grad, node):
        return (_make(self, (out_grad,)),)

    def compute_batched(self, batch, arrays, shapes):
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.flip(arrays[0], axis=tuple(len(batch) + k for k in self.axes))

    def infer_shape(self, shape):
        return shape


class Roll(TensorOp):
    """Rotate the elements by ``shift[k]`` places along ``axes[k]`` (``np.roll``; ``axes``
    None rolls the flattened tensor). Its adjoint is the roll by ``-shift``."""

    formula = ("roll($0)", "\\operatorname{roll}($0)")
    partials = (("roll⁻¹($g)", "\\operatorname{roll}^{-1}($g)"),)

    def __init__(self, shift: tuple[int, ...], axes: tuple[int, ...] | None) -> None:
        self.shift = shift
        self.axes = axes

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.roll(a, self.shift, axis=self.axes)

    def source(self, args, const):
        axes = "None" if self.axes is None else ints_literal(self.axes, const)
        return f"xp.roll({args[0]}, {ints_literal(self.shift, const)}, {axes})"

    def gradient(self, out_grad, node):
        return (_make(Roll(tuple(-k for k in self.shift), self.axes), (out_grad,)),)

    def compute_batched(self, batch, arrays, shapes):
        if self.axes is None:
            return NotImplemented
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.roll(arrays[0], self.shift, axis=tuple(len(batch) + k for k in self.axes))

    def infer_shape(self, shape):
        return shape


def _tile_shapes(shape: tuple[int, ...], reps: tuple[int, ...]) -> tuple[tuple, tuple]:
    """``shape`` and ``reps`` padded with leading ones to one length, as ``np.tile`` does."""
    ndim = max(len(shape), len(reps))
    return (1,) * (ndim - len(shape)) + tuple(shape), (1,) * (ndim - len(reps)) + tuple(reps)


class Tile(TensorOp):
    """``np.tile(a, reps)``: ``reps[k]`` copies along each axis. Its adjoint sums the copies:
    ``out_grad`` reshaped to (r0, n0, r1, n1, ...) and summed over the r axes."""

    formula = ("tile($0)", "\\operatorname{tile}($0)")
    partials = (("Σ copies($g)", "\\textstyle\\sum_{\\text{copies}} $g"),)

    def __init__(self, reps: tuple[int, ...]) -> None:
        self.reps = reps

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.tile(a, self.reps)

    def source(self, args, const):
        return f"xp.tile({args[0]}, {ints_literal(self.reps, const)})"

    def gradient(self, out_grad, node):
        in_shape = node.inputs[0].shape
        shape, reps = _tile_shapes(in_shape, self.reps)
        split = tuple(k for pair in zip(reps, shape) for k in pair)
        g = _make(Reshape(split), (out_grad,))
        g = _make(Summation(tuple(range(0, 2 * len(shape), 2))), (g,))
        return (g if g.shape == in_shape else _make(Reshape(in_shape), (g,)),)

    def compute_batched(self, batch, arrays, shapes):
        shape, reps = _tile_shapes(shapes[0], self.reps)
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.tile(xp.reshape(arrays[0], batch + shape), (1,) * len(batch) + reps)

    def infer_shape(self, shape):
        shape, reps = _tile_shapes(shape, self.reps)
        return tuple(n * r for n, r in zip(shape, reps))


class Repeat(TensorOp):
    """``np.repeat(a, repeats, axis)``: each element along ``axis`` ``repeats`` times (an
    int), or ``repeats[k]`` times (a tuple, one count per element).

    The adjoint sums each element's copies: for an int count, ``out_grad``
    reshaped to (..., n, repeats, ...) and summed over the repeats; for
    per-element counts, a scatter-add of ``out_grad`` back to the element each
    copy came from (the adjoint of the gather ``a[..., [0, 0, 1, ...]]``).
    """

    formula = ("repeat($0)", "\\operatorname{repeat}($0)")
    partials = (("Σ repeats($g)", "\\textstyle\\sum_{\\text{repeats}} $g"),)

    def __init__(self, repeats: int | tuple[int, ...], axis: int) -> None:
        self.repeats = repeats
        self.axis = axis

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return _repeat(array_namespace(a), a, self.repeats, self.axis)
        return np.repeat(a, self.repeats, axis=self.axis)

    def source(self, args, const):
        repeats = self.repeats
        # counts as an array (hoisted): jax.numpy.repeat takes no tuple
        text = repr(repeats) if type(repeats) is int else const(np.asarray(repeats))
        return f"xp.repeat({args[0]}, {text}, {int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        axis, repeats = self.axis, self.repeats
        if is_int(repeats):
            split = shape[:axis] + (shape[axis], repeats) + shape[axis + 1 :]
            g = _make(Reshape(split), (out_grad,))
            return (_make(Reshape(shape), (_make(Summation((axis + 1,)), (g,)),)),)
        source = np.repeat(np.arange(shape[axis]), repeats)
        source.flags.writeable = False
        return (ScatterAdd(_along(axis, source), shape)(out_grad),)

    def compute_batched(self, batch, arrays, shapes):
        if type(arrays[0]) is not ndarray:
            xp = array_namespace(arrays[0])
            return _repeat(xp, arrays[0], self.repeats, len(batch) + self.axis)
        return np.repeat(arrays[0], self.repeats, len(batch) + self.axis)

    def infer_shape(self, shape):
        count = shape[self.axis] * self.repeats if is_int(self.repeats) else sum(self.repeats)
        return shape[: self.axis] + (count,) + shape[self.axis + 1 :]


def _pad(xp: Any, a: Any, widths: Any, value: Any) -> Any:
    """``np.pad`` (constant mode) in any array namespace: ``value`` everywhere, then ``a``
    assigned into the middle (the array API standard has no pad)."""
    shape = tuple(n + b + e for n, (b, e) in zip(a.shape, widths))
    out = xp.full(shape, value, dtype=a.dtype)
    out[tuple(slice(b, b + n) for n, (b, _) in zip(a.shape, widths))] = a
    return out


def _repeat(xp: Any, a: Any, repeats: Any, axis: int) -> Any:
    """``np.repeat`` in any array namespace: per-element counts go as an array of the device
    (the standard's ``repeat`` takes an int or an array, not a tuple)."""
    if type(repeats) is not int:
        repeats = xp.asarray(np.asarray(repeats, dtype=np.int64))
    return xp.repeat(a, repeats, axis=axis)


# ------------------------------------------------------------------ functions


def _tensors(tensors: Sequence[Any], op_name: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op_name}: give a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op_name}: needs at least one tensor, got an empty sequence")
    return [as_tensor(t, op_name) for t in tensors]


def _axis(axis: Any, ndim: int, op_name: str, what: str = "axis") -> int:
    return normalize_axes(as_int(axis, op_name, what), ndim, op_name)[0]


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis (``np.stack``).

    >>> import adjoint as ad
    >>> ad.stack([ad.Tensor([1.0, 2.0]), ad.Tensor([3.0, 4.0])], axis=1).shape
    (2, 2)
    """
    tensors = _tensors(tensors, "stack")
    shape = tensors[0].shape
    for k, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(
                f"stack: all tensors must have the same shape, got {shape} at position 0 and "
                f"{t.shape} at position {k}"
            )
    return Stack(_axis(axis, len(shape) + 1, "stack"))(*tensors)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``); other axes must agree.

    >>> import adjoint as ad
    >>> ad.concatenate([ad.Tensor([[1.0]]), ad.Tensor([[2.0], [3.0]])]).shape
    (3, 1)
    """
    tensors = _tensors(tensors, "concatenate")
    shape = tensors[0].shape
    if not shape:
        raise ValueError("concatenate: 0-d tensors cannot be concatenated; use stack")
    axis = _axis(axis, len(shape), "concatenate")
    for k, t in enumerate(tensors):
        other = t.shape
        if len(other) != len(shape) or any(
            n != m for i, (n, m) in enumerate(zip(shape, other)) if i != axis
        ):
            raise ValueError(
                f"concatenate: shapes {shape} at position 0 and {other} at position {k} "
                f"must agree on every axis except axis {axis}"
            )
    return Concatenate(axis)(*tensors)


def split(a: Tensor, indices_or_sections: Any = None, axis: int = 0) -> tuple[Tensor, ...]:
    """Split along ``axis``: without sections, needle's unstack; with them, ``np.split``.

    ``split(a, axis=k)`` (needle's form) gives the ``a.shape[k]`` tensors that
    ``stack(pieces, axis=k)`` would join, with that axis removed: the adjoint
    pair stack/split. ``split(a, n, axis)`` or ``split(a, [i, j], axis)`` keeps
    the axis and cuts it into ``n`` equal parts or at the given indices, as
    ``np.split``; ``concatenate`` of those pieces gives ``a`` again. Either way
    the pieces are slices of ``a`` (``GetItem`` nodes), whose adjoints scatter
    back into place.

    >>> import adjoint as ad
    >>> [p.shape for p in ad.split(ad.Tensor([[1.0, 2.0, 3.0]]), [1], axis=1)]
    [(1, 1), (1, 2)]
    >>> [p.shape for p in ad.split(ad.init.ones(2, 3), axis=1)]
    [(2,), (2,), (2,)]
    """
    a = as_tensor(a, "split")
    if not a.shape:
        raise ValueError("split: a 0-d tensor has no axis to split")
    axis = _axis(axis, a.ndim, "split")
    size = a.shape[axis]
    if indices_or_sections is None:
        return tuple(GetItem(_along(axis, k))(a) for k in range(size))
    if is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0 or size % sections:
            raise ValueError(
                f"split: axis {axis} of size {size} (shape {a.shape}) does not divide into "
                f"{sections} equal sections; give a divisor of {size} or a list of split points"
            )
        bounds = [k * (size // sections) for k in range(sections + 1)]
    else:
        if not isinstance(indices_or_sections, (list, tuple, np.ndarray)):
            raise TypeError(
                f"split: indices_or_sections must be an int or a list of ints, got "
                f"{indices_or_sections!r} of type {type(indices_or_sections).__name__}"
            )
        points = [as_int(k, "split", "each split point") for k in indices_or_sections]
        bounds = [0, *points, size]
    return tuple(
        GetItem(_along(axis, slice(start, stop)))(a) for start, stop in zip(bounds, bounds[1:])
    )


def flatten(a: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes ``start_axis..end_axis`` (all by default, giving 1-D) into one (a reshape).

    >>> import adjoint as ad
    >>> ad.flatten(ad.init.ones(2, 3, 4)).shape
    (24,)
    >>> ad.flatten(ad.init.ones(2, 3, 4), 1).shape
    (2, 12)
    """
    a = as_tensor(a, "flatten")
    shape = a.shape
    if not shape:
        as_int(start_axis, "flatten", "start_axis")
        as_int(end_axis, "flatten", "end_axis")
        return reshape(a, (1,))
    start = _axis(start_axis, len(shape), "flatten", "start_axis")
    end = _axis(end_axis, len(shape), "flatten", "end_axis")
    if start > end:
        raise ValueError(
            f"flatten: start_axis {start_axis} comes after end_axis {end_axis} for shape {shape}"
        )
    merged = int(np.prod(shape[start : end + 1], dtype=np.int64))
    return reshape(a, shape[:start] + (merged,) + shape[end + 1 :])


def expand_dims(a: Tensor, axis: Any) -> Tensor:
    """Insert axes of length 1 at ``axis`` (an int or a tuple, as ``np.expand_dims``).

    >>> import adjoint as ad
    >>> ad.expand_dims(ad.Tensor([1.0, 2.0]), (0, -1)).shape
    (1, 2, 1)
    """
    a = as_tensor(a, "expand_dims")
    if axis is None:
        raise TypeError("expand_dims: axis must be an int or a tuple of ints, got None")
    count = len(axis) if isinstance(axis, (tuple, list)) else 1  # normalize_axes checks types
    axes = normalize_axes(axis, a.ndim + count, "expand_dims", what="axis")
    rest = iter(a.shape)
    return reshape(a, tuple(1 if k in axes else next(rest) for k in range(a.ndim + count)))


def squeeze(a: Tensor, axis: Any = None) -> Tensor:
    """Remove axes of length 1: all of them, or those in ``axis`` (each must have length 1).

    >>> import adjoint as ad
    >>> ad.squeeze(ad.init.ones(1, 2, 1)).shape
    (2,)
    """
    a = as_tensor(a, "squeeze")
    shape = a.shape
    axes = normalize_axes(axis, len(shape), "squeeze", what="axis")
    if axes is None:
        axes = tuple(k for k, n in enumerate(shape) if n == 1)
    for k in axes:
        if shape[k] != 1:
            raise ValueError(
                f"squeeze: cannot squeeze axis {k} of shape {shape}: its size is {shape[k]}, not 1"
            )
    return reshape(a, tuple(n for k, n in enumerate(shape) if k not in axes))


_make = Tensor.make_from_op


def pad(a: Tensor, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """Pad with ``constant_values`` (``np.pad``'s constant mode; the only mode, as the others
    are not linear in one simple way): ``pad_width`` is an int, a ``(before, after)`` pair for
    every axis, or one pair per axis.

    >>> import adjoint as ad
    >>> ad.pad(ad.Tensor([[1.0, 2.0]]), ((0, 1), (2, 0))).numpy()
    array([[0., 0., 1., 2.],
           [0., 0., 0., 0.]])
    """
    a = as_tensor(a, "pad")
    if mode != "constant":
        raise ValueError(
            f"pad: mode {mode!r} is not supported; only mode='constant' (whose adjoint is a slice)"
        )
    widths = np.asarray(pad_width, dtype=object) if pad_width is not None else None
    if widths is None or not all(is_int(k) for k in widths.reshape(-1)) or widths.ndim > 2:
        raise TypeError(
            f"pad: pad_width must be an int, a (before, after) pair of ints or one pair per "
            f"axis, got {pad_width!r}"
        )
    ndim = a.ndim
    try:
        pairs = np.broadcast_to(widths.astype(np.int64), (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {a.shape}; give an "
            f"int, one (before, after) pair, or {ndim} pairs"
        ) from None
    if (pairs < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    value = as_scalar(constant_values, "pad")
    if ndim == 0:
        return a  # nothing to pad (NumPy returns the value as it is)
    return Pad(tuple((int(b), int(e)) for b, e in pairs), value)(a)


def _axes_or_all(a: Tensor, axis: Any, op_name: str) -> tuple[int, ...]:
    axes = normalize_axes(axis, a.ndim, op_name, what="axis")
    return tuple(range(a.ndim)) if axes is None else axes


def flip(a: Tensor, axis: Any = None) -> Tensor:
    """Reverse the order along ``axis`` (an int, a tuple, or None for all axes): ``np.flip``.

    >>> import adjoint as ad
    >>> ad.flip(ad.Tensor([[1.0, 2.0], [3.0, 4.0]]), 1).numpy()
    array([[2., 1.],
           [4., 3.]])
    """
    a = as_tensor(a, "flip")
    return Flip(_axes_or_all(a, axis, "flip"))(a)


def roll(a: Tensor, shift: Any, axis: Any = None) -> Tensor:
    """Rotate by ``shift`` places along ``axis`` (``np.roll``): ints or equal-length tuples;
    ``axis`` None rolls the flattened tensor and keeps the shape.

    >>> import adjoint as ad
    >>> ad.roll(ad.Tensor([1.0, 2.0, 3.0]), 1).numpy()
    array([3., 1., 2.])
    """
    a = as_tensor(a, "roll")
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    shifts = tuple(as_int(k, "roll", "shift") for k in shifts)
    if axis is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: with axis None, shift must be one int, got {shift!r}")
        return Roll(shifts, None)(a)
    axes = normalize_axes(axis, a.ndim, "roll", sort=False, what="axis")
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(
            f"roll: shift {shift!r} and axis {axis!r} must have the same length (or shift one int)"
        )
    return Roll(shifts, axes)(a)


def tile(a: Tensor, reps: Any) -> Tensor:
    """``reps[k]`` copies along each axis (``np.tile``; an int tiles the last axis).

    >>> import adjoint as ad
    >>> ad.tile(ad.Tensor([1.0, 2.0]), (2, 2)).numpy()
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    """
    a = as_tensor(a, "tile")
    items = reps if isinstance(reps, (tuple, list)) else (reps,)
    counts = tuple(as_int(k, "tile", "each count in reps") for k in items)
    if any(k < 0 for k in counts):
        raise ValueError(f"tile: reps must be non-negative counts, got {reps!r}")
    return Tile(counts)(a)


def repeat(a: Tensor, repeats: Any, axis: Any = None) -> Tensor:
    """Each element ``repeats`` times along ``axis`` (``np.repeat``): an int, or one count per
    element; ``axis`` None repeats the elements of the flattened tensor.

    >>> import adjoint as ad
    >>> ad.repeat(ad.Tensor([1.0, 2.0]), [1, 3]).numpy()
    array([1., 2., 2., 2.])
    """
    a = as_tensor(a, "repeat")
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    (axis,) = normalize_axes(as_int(axis, "repeat", "axis"), a.ndim, "repeat", what="axis")
    size = a.shape[axis]
    if isinstance(repeats, (tuple, list, np.ndarray)):
        counts = tuple(as_int(k, "repeat", "each count in repeats") for k in np.ravel(repeats))
        if len(counts) == 1:
            counts = counts[0]
        elif len(counts) != size:
            raise ValueError(
                f"repeat: {len(counts)} counts for axis {axis} of size {size} (shape "
                f"{a.shape}); give one int or one count per element"
            )
    else:
        counts = as_int(repeats, "repeat", "repeats")
    if min(counts if isinstance(counts, tuple) else (counts,), default=0) < 0:
        raise ValueError(f"repeat: repeats must be non-negative counts, got {repeats!r}")
    return Repeat(counts, axis)(a)
