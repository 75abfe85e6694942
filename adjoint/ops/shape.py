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
=========================  ==============================================

``split`` is a function returning a tuple of ``GetItem`` nodes rather than an
op: a node has one output, and slicing already has the right adjoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adjoint.ops.common import as_int, as_tensor, int_literal, is_int, normalize_axes
from adjoint.ops.indexing import GetItem
from adjoint.ops.linear import reshape
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "Stack",
    "Concatenate",
    "stack",
    "concatenate",
    "split",
    "flatten",
    "expand_dims",
    "squeeze",
]


def _along(axis: int, item: Any) -> tuple:
    """An index that applies ``item`` to ``axis`` and takes everything else."""
    return (slice(None),) * axis + (item,)


class Stack(TensorOp):
    """Join equally shaped tensors along a new axis ``axis``."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, *arrays):
        return np.stack(arrays, axis=self.axis)

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
