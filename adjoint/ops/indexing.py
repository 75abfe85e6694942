"""Indexing ``a[index]`` with NumPy's semantics, and its adjoint, scatter-add.

``GetItem`` and ``ScatterAdd`` are linear maps and each other's adjoints:

==================  =================================================
op                  gradient (its adjoint)
==================  =================================================
getitem(index)      scatter_add(index, input shape): put the adjoint
                    back where the elements came from, adding where an
                    index repeats (``a[[0, 0]]`` sends two adjoints to
                    ``a[0]``)
scatter_add(index)  getitem(index): read the adjoint back out
take_along_axis     scatter-add along the axis (``ScatterAddAlongAxis``)
                    at the same indices, and back: the pair again, with
                    the indices an input (an integer Tensor, e.g. an
                    ``argsort`` node) rather than part of the op
==================  =================================================

So a second derivative through indexing is indexing again, and any order
works. Every kind of NumPy index is accepted: ints (negative too), slices with
steps, ``None``, ``Ellipsis``, integer arrays (lists or Tensors) and boolean
masks, in any combination; the result is exactly NumPy's ``a[index]``. Index
arrays given as Tensors are read (realized) when the node is made: an index is
part of the op, not a differentiable input. The op keeps a private, read-only
copy of every index array and mask, so changing the caller's array later
changes neither the gradient nor a re-run of the graph.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy import generic, ndarray

from adjoint.autograd import Value
from adjoint.device import array_namespace, to_numpy
from adjoint.ops.common import (
    as_int,
    as_shape,
    as_tensor,
    int_literal,
    ints_literal,
    no_adjoint,
    normalize_axes,
    operand,
)
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "GetItem",
    "ScatterAdd",
    "TakeAlongAxis",
    "ScatterAddAlongAxis",
    "getitem",
    "scatter_add",
    "take_along_axis",
]

_VALID = "valid indices are ints, slices, None, Ellipsis, integer arrays and boolean masks"


def _indexed_shape(shape: tuple[int, ...], index: tuple) -> tuple[int, ...]:
    """The shape of ``a[index]`` for an ``a`` of ``shape``, without any data of that size.

    Indexes a zero-strided int8 view (``np.broadcast_to`` of one element), so
    basic indexing costs nothing and advanced indexing only the result's size
    in bytes.
    """
    return np.broadcast_to(np.empty((), dtype=np.int8), shape)[index].shape


def _has_arrays(index: tuple) -> bool:
    return any(isinstance(item, np.ndarray) for item in index)


def _index_item_source(item: Any, const: Callable[[Any], str]) -> str:
    """One entry of an index as subscript source: ``1``, ``None``, ``...``, ``1:5:2``;
    index arrays (and anything else) hoisted by ``const``."""
    if item is None:
        return "None"
    if item is Ellipsis:
        return "..."
    if type(item) is int or type(item) is bool:
        return repr(item)
    if isinstance(item, slice):
        parts = (item.start, item.stop, item.step)
        if all(part is None or type(part) is int for part in parts):
            start, stop, step = ("" if part is None else repr(part) for part in parts)
            return f"{start}:{stop}" + ("" if item.step is None else f":{step}")
    return const(item)


def index_source(index: Any, const: Callable[[Any], str]) -> str:
    """``index`` as the source between the brackets of ``a[...]``: ``:, 1, None, index0``."""
    if not isinstance(index, tuple):
        return _index_item_source(index, const)
    if not index:
        return "()"
    return ", ".join(_index_item_source(item, const) for item in index)


def scatter_add_into_zeros(xp: Any, g: Any, index: tuple, shape: tuple[int, ...]) -> Any:
    """:class:`ScatterAdd`'s compute over the array namespace ``xp``: zeros of ``shape``
    with ``g`` added at ``index``.

    NumPy arrays are written in place, exactly as ``compute`` does (``np.add.at``,
    or an assignment when no index array can repeat a position); arrays that
    cannot change (jax.numpy's) take the functional ``out.at[index].add(g)``,
    except under slices alone, where ``g`` is embedded by interleaving zeros and
    concatenating (:func:`_embed_in_zeros`): XLA compiles a scatter to a loop on
    the CPU, and this to copies (the Hessian of W3 in a third of the time).
    """
    if xp is not np and _only_slices(index, g.ndim, len(shape)):
        return _embed_in_zeros(xp, g, index, shape)
    out = xp.zeros(shape, dtype=g.dtype)
    if not isinstance(out, np.ndarray):
        return out.at[index].add(g) if _has_arrays(index) else out.at[index].set(g)
    if _has_arrays(index):
        np.add.at(out, index, g)
    else:
        out[index] = g[()] if g.ndim == 0 else g
    return out


def _only_slices(index: tuple, g_ndim: int, ndim: int) -> bool:
    """True if ``index`` is slices with positive steps, one per leading axis, no axis dropped."""
    return g_ndim == ndim and all(
        type(item) is slice and (item.step is None or item.step > 0) for item in index
    )


def _embed_in_zeros(xp: Any, g: Any, index: tuple, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` holding ``g`` at ``index`` (slices with positive steps), with no writes.

    Axis by axis: a step ``s`` interleaves ``s - 1`` zeros after each element
    (stack, then merge the two axes), and zeros before and after make up the
    axis's length (concatenate). Array-API calls only.
    """
    out = g
    for k, item in enumerate(index):
        n = shape[k]
        start, _, step = item.indices(n)
        m = out.shape[k]
        if m == 0:
            return xp.zeros(shape, dtype=g.dtype)
        kept = (m - 1) * step + 1
        if step > 1:
            zeros = xp.zeros(out.shape, dtype=g.dtype)
            out = xp.stack([out] + [zeros] * (step - 1), axis=k + 1)
            out = xp.reshape(out, out.shape[:k] + (m * step,) + out.shape[k + 2 :])
            out = out[(slice(None),) * k + (slice(0, kept),)]
        parts = [out]
        if start:
            parts.insert(0, xp.zeros(out.shape[:k] + (start,) + out.shape[k + 1 :], dtype=g.dtype))
        if n - start - kept:
            after = out.shape[:k] + (n - start - kept,) + out.shape[k + 1 :]
            parts.append(xp.zeros(after, dtype=g.dtype))
        if len(parts) > 1:
            out = xp.concatenate(parts, axis=k)
    return out


def _on_device(xp: Any, index: tuple) -> tuple:
    """An index tuple whose NumPy index arrays are copied to ``xp``'s device (an index is
    part of the op, given on the host, as NumPy's and needle's indexing take it)."""
    return tuple(xp.asarray(k) if isinstance(k, np.ndarray) else k for k in index)


def _full_indexing(a: Any) -> bool:
    """True for arrays that take every NumPy index (CuPy); the array API standard takes
    ints, slices and Ellipsis, one index per axis (and index arrays in few forms)."""
    return type(a).__module__.startswith("cupy")


def _standard_index(index: tuple) -> tuple | None:
    """``index`` as the standard takes it (an Ellipsis for the axes it leaves out), or None
    where it needs more: index arrays, masks or new axes (None)."""
    if any(item is None or isinstance(item, np.ndarray) for item in index):
        return None
    return index if Ellipsis in index else index + (Ellipsis,)


def _positions(shape: tuple[int, ...], index: tuple) -> np.ndarray:
    """The flat position in an array of ``shape`` of each element of ``array[index]`` (host
    integers, from NumPy's own indexing: every kind of index means what NumPy says)."""
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]


def _get_item(xp: Any, a: Any, index: tuple) -> Any:
    """:class:`GetItem`'s compute in another namespace: CuPy indexes as NumPy; elsewhere a
    standard index directly, any other one as a gather (``take``) of the flat positions."""
    if _full_indexing(a):
        return a[_on_device(xp, index)]
    standard = _standard_index(index)
    if standard is not None:
        return a[standard]
    positions = _positions(a.shape, index)
    flat = xp.take(xp.reshape(a, (-1,)), xp.asarray(positions.reshape(-1)))
    return xp.reshape(flat, positions.shape)


def _scatter_add(xp: Any, g: Any, index: tuple, shape: tuple) -> Any:
    """:class:`ScatterAdd`'s compute in another namespace: ``ufunc.at`` on CuPy; elsewhere
    an assignment for a standard index, else gathers only (the standard has no scatter):
    each output element sums the ``g`` elements that land on it, in their order."""
    if _full_indexing(g) or _standard_index(index) is not None:
        out = xp.zeros(shape, dtype=g.dtype)
        if _has_arrays(index):
            xp.add.at(out, _on_device(xp, index), g)
        else:
            out[_standard_index(index) or index] = g
        return out
    landing = np.broadcast_to(_positions(shape, index), g.shape).reshape(-1)
    size = math.prod(shape)
    order = np.argsort(landing, kind="stable")  # contributors of each position, in order
    counts = np.bincount(landing, minlength=size)
    k = int(counts.max(initial=0))
    sources = np.full((size, max(k, 1)), landing.size, dtype=np.int64)  # landing.size: a 0
    starts = np.cumsum(counts) - counts
    rank = np.arange(landing.size) - np.repeat(starts, counts)
    sources[landing[order], rank] = order
    values = xp.concat([xp.reshape(g, (-1,)), xp.zeros((1,), dtype=g.dtype)])
    picked = xp.reshape(xp.take(values, xp.asarray(sources.reshape(-1))), sources.shape)
    return xp.reshape(xp.sum(picked, axis=1, dtype=g.dtype), shape)


class GetItem(TensorOp):
    """``a[index]`` (NumPy's basic and advanced indexing); ``index`` is a normalized tuple."""

    formula = ("$0[index]", "$0[\\text{index}]")
    partials = (("scatter_add($g)", "\\operatorname{scatter\\_add}($g)"),)

    def __init__(self, index: tuple) -> None:
        self.index = index

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return _get_item(array_namespace(a), a, self.index)
        return a[self.index]

    def source(self, args, const):
        return f"{operand(args[0])}[{index_source(self.index, const)}]"

    def gradient(self, out_grad, node):
        return (ScatterAdd(self.index, node.inputs[0].shape)(out_grad),)

    def compute_batched(self, batch, arrays, shapes):
        if _has_arrays(self.index):  # index arrays would move the batch axes
            return NotImplemented
        index = (slice(None),) * len(batch) + self.index
        if type(arrays[0]) is not ndarray and not _full_indexing(arrays[0]):
            index = _standard_index(index)
            if index is None:  # a new axis: point by point
                return NotImplemented
        return arrays[0][index]

    def infer_shape(self, shape):
        return _indexed_shape(shape, self.index)


class ScatterAdd(TensorOp):
    """Zeros of ``shape`` with ``g`` added at ``index``: ``np.add.at(zeros, index, g)``.

    Repeated integer indices accumulate. Without index arrays no position can
    repeat, and a plain assignment into the zeros does the same, faster. Its
    ``source`` calls :func:`scatter_add_into_zeros`, which adds in place on NumPy
    and with ``.at[index].add`` on jax.numpy (bool values: NumPy only).
    """

    formula = ("scatter_add($0)", "\\operatorname{scatter\\_add}($0)")
    partials = (("$g[index]", "$g[\\text{index}]"),)

    def __init__(self, index: tuple, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = tuple(shape)

    def compute(self, g):
        if type(g) is not ndarray and not isinstance(g, generic):
            return _scatter_add(array_namespace(g), g, self.index, self.shape)
        out = np.zeros(self.shape, dtype=g.dtype)
        if _has_arrays(self.index):
            np.add.at(out, self.index, g)
        else:
            out[self.index] = g[()] if g.ndim == 0 else g  # an element, not a 0-d array
        return out

    def source(self, args, const):
        index = self.index
        if isinstance(index, tuple):  # xp.s_[...] makes the tuple: xp.s_[:, 1,] is (slice(None), 1)
            index = f"xp.s_[{index_source(index, const)}{',' if len(index) == 1 else ''}]"
        else:
            index = const(index)
        shape = ints_literal(self.shape, const)
        return f"{const(scatter_add_into_zeros)}(xp, {args[0]}, {index}, {shape})"

    def gradient(self, out_grad, node):
        return (GetItem(self.index)(out_grad),)

    def compute_batched(self, batch, arrays, shapes):
        if _has_arrays(self.index):
            return NotImplemented
        (g,) = arrays
        index = (slice(None),) * len(batch) + self.index
        if type(g) is not ndarray and not _full_indexing(g):
            index = _standard_index(index)
            if index is None:  # a new axis: point by point
                return NotImplemented
        xp = np if type(g) is ndarray else array_namespace(g)
        out = xp.zeros(batch + self.shape, dtype=g.dtype)
        out[index] = g
        return out

    def infer_shape(self, shape):
        return self.shape


def along_axis_index(xp: Any, indices: Any, axis: int, shape: tuple[int, ...]) -> tuple:
    """The advanced index that ``take_along_axis(a, indices, axis)`` reads with: ``indices``
    on ``axis`` and broadcast ranges of ``shape`` (the result's) on every other axis."""
    ndim = len(shape)
    index = []
    for k in range(ndim):
        if k == axis:
            index.append(indices)
        else:
            index.append(
                xp.reshape(xp.arange(shape[k]), (1,) * k + (shape[k],) + (1,) * (ndim - k - 1))
            )
    return tuple(index)


def scatter_add_along_axis(xp: Any, g: Any, indices: Any, axis: int, shape: tuple) -> Any:
    """:class:`ScatterAddAlongAxis`'s compute over ``xp``: zeros of ``shape``, with each
    element of ``g`` added at its index along ``axis`` (repeats accumulate)."""
    out = xp.zeros(shape, dtype=g.dtype)
    if not isinstance(out, np.ndarray) and not hasattr(out, "at"):
        # a namespace with neither ufunc.at nor .at (the standard's): ScatterAdd's gathers,
        # at host positions
        index = along_axis_index(np, to_numpy(indices), axis, g.shape)
        return _scatter_add(xp, g, index, shape)
    index = along_axis_index(xp, indices, axis, g.shape)
    if not isinstance(out, np.ndarray):
        return out.at[index].add(g)
    np.add.at(out, index, g)
    return out


def _concrete(indices: np.ndarray) -> np.ndarray | None:
    """Object-array indices as ints, or None if some are expressions (symbolic ranks)."""
    try:
        return np.asarray([int(k) for k in indices.reshape(-1)], dtype=np.intp).reshape(
            indices.shape
        )
    except TypeError:
        return None


def _indicator(index: Any, k: int) -> Any:
    import sympy

    return sympy.Piecewise((1, sympy.Eq(index, k)), (0, True))


class TakeAlongAxis(TensorOp):
    """``np.take_along_axis(a, indices, axis)``: inputs ``a`` and the integer ``indices``
    (which get a zero adjoint). The adjoint of ``a`` scatter-adds ``out_grad`` back to
    the indices (:class:`ScatterAddAlongAxis`); ``sort`` is this gather at ``argsort``."""

    formula = ("take($0, $1)", "\\operatorname{take}($0, $1)")
    partials = (("scatter_add($g, $1)", "\\operatorname{scatter\\_add}($g, $1)"), ("0", "0"))

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, a, indices):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.take_along_axis(a, indices, axis=self.axis)

    def source(self, args, const):
        return f"xp.take_along_axis({args[0]}, {args[1]}, {int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        a, indices = node.inputs
        scatter = ScatterAddAlongAxis(self.axis, a.shape)
        return (
            Tensor.make_from_op(scatter, (out_grad, indices)) if a.requires_grad else no_adjoint(a),
            no_adjoint(indices),
        )

    def sympy(self, a, indices):
        concrete = _concrete(indices)
        if concrete is not None:
            return self.compute(a, concrete)
        shape = self.infer_shape(a.shape, indices.shape)
        indices = np.broadcast_to(indices, shape)
        out = np.empty(shape, dtype=object)
        axis = self.axis
        for pos in np.ndindex(shape):
            picks = (a[pos[:axis] + (j,) + pos[axis + 1 :]] for j in range(a.shape[axis]))
            out[pos] = sum(x * _indicator(indices[pos], j) for j, x in enumerate(picks))
        return out

    def infer_shape(self, shape, index_shape):
        return shape[: self.axis] + (index_shape[self.axis],) + shape[self.axis + 1 :]

    def infer_dtype(self, dtype, index_dtype):
        return dtype


class ScatterAddAlongAxis(TensorOp):
    """Zeros of ``shape`` with each element of ``g`` added at its index along ``axis``: the
    adjoint of :class:`TakeAlongAxis` (and its adjoint is that gather again). Inputs: ``g``
    and the integer ``indices`` (zero adjoint)."""

    formula = ("scatter_add($0, $1)", "\\operatorname{scatter\\_add}($0, $1)")
    partials = (("take($g, $1)", "\\operatorname{take}($g, $1)"), ("0", "0"))

    def __init__(self, axis: int, shape: tuple[int, ...]) -> None:
        self.axis = axis
        self.shape = tuple(shape)

    def compute(self, g, indices):
        xp = np if type(g) is ndarray else array_namespace(g)
        return scatter_add_along_axis(xp, g, indices, self.axis, self.shape)

    def source(self, args, const):
        axis, shape = int_literal(self.axis, const), ints_literal(self.shape, const)
        return f"{const(scatter_add_along_axis)}(xp, {args[0]}, {args[1]}, {axis}, {shape})"

    def gradient(self, out_grad, node):
        g, indices = node.inputs
        take = TakeAlongAxis(self.axis)
        return (
            Tensor.make_from_op(take, (out_grad, indices)) if g.requires_grad else no_adjoint(g),
            no_adjoint(indices),
        )

    def sympy(self, g, indices):
        import sympy

        concrete = _concrete(indices)
        if concrete is not None:
            out = np.empty(self.shape, dtype=object)
            out[...] = sympy.Integer(0)
            np.add.at(out, along_axis_index(np, concrete, self.axis, g.shape), g)
            return out
        indices = np.broadcast_to(indices, g.shape)
        out = np.empty(self.shape, dtype=object)
        out[...] = sympy.Integer(0)
        for pos in np.ndindex(g.shape):
            for j in range(self.shape[self.axis]):
                target = pos[: self.axis] + (j,) + pos[self.axis + 1 :]
                out[target] = out[target] + g[pos] * _indicator(indices[pos], j)
        return out

    def infer_shape(self, shape, index_shape):
        return self.shape

    def infer_dtype(self, dtype, index_dtype):
        return dtype


# ------------------------------------------------------------------ functions


def _index_item(item: Any, op_name: str) -> Any:
    """One entry of an index as NumPy takes it, or an IndexError saying what is valid."""
    if isinstance(item, Value):
        item = to_numpy(item.realize_cached_data())  # an index is the op's, on the host
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, np.bool_)):
        array = np.array(item)
        array.flags.writeable = False
        return array
    if isinstance(item, (numbers.Integral, np.integer)):
        return int(item)
    if isinstance(item, slice):
        for part in (item.start, item.stop, item.step):
            if part is not None and not isinstance(part, (numbers.Integral, np.integer)):
                raise IndexError(
                    f"{op_name}: slice {item} has a non-integer bound {part!r}; "
                    "slice bounds and steps must be ints or None"
                )
        if item.step is not None and int(item.step) == 0:
            raise IndexError(f"{op_name}: slice {item} has step 0; the step must be nonzero")
        return item
    if isinstance(item, (list, tuple, np.ndarray)):
        try:
            array = np.array(item)  # a private copy: the caller may change theirs later
        except ValueError:
            raise IndexError(
                f"{op_name}: index list {item!r} is ragged (nested lists of different "
                f"lengths); {_VALID}"
            ) from None
        if array.dtype == np.bool_ or array.dtype.kind in "iu":
            array.flags.writeable = False
            return array
        if array.size == 0:
            array = array.astype(np.intp)
            array.flags.writeable = False
            return array
        raise IndexError(
            f"{op_name}: index array of dtype {array.dtype} is not valid; {_VALID} "
            "(a Tensor made from a list is float64: give dtype=np.int64)"
        )
    raise IndexError(f"{op_name}: {item!r} of type {type(item).__name__} is not valid; {_VALID}")


def _consumed(item: Any) -> int:
    """How many axes of the indexed tensor one index entry uses up."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return item.ndim
    return 1


def normalize_index(index: Any, shape: tuple[int, ...], op_name: str = "getitem") -> tuple:
    """``index`` as a tuple NumPy accepts for ``shape``, checked against it.

    Out-of-range ints and integer arrays, masks of the wrong shape and too
    many indices raise an IndexError that names the index, the shape and the
    valid range.
    """
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_index_item(item, op_name) for item in items)
    ndim = len(shape)
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError(f"{op_name}: an index can only have a single Ellipsis (...)")
    used = sum(_consumed(item) for item in items)
    if used > ndim:
        raise IndexError(
            f"{op_name}: too many indices for shape {shape}: the index {index!r} uses "
            f"{used} axes but the tensor has {ndim}"
        )
    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += ndim - used
            continue
        if item is None or isinstance(item, slice):
            axis += item is not None
            continue
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            covered = shape[axis : axis + item.ndim]
            if item.ndim and item.shape != covered:
                raise IndexError(
                    f"{op_name}: boolean mask of shape {item.shape} does not match axes "
                    f"{axis}..{axis + item.ndim - 1} of shape {shape} (sizes {covered})"
                )
            axis += item.ndim
            continue
        size = shape[axis]
        values = np.asarray(item)
        bad = values[(values < -size) | (values >= size)]
        if bad.size:
            valid = f"[{-size}, {size - 1}]" if size else "none (the axis is empty)"
            raise IndexError(
                f"{op_name}: index {bad.flat[0]} is out of range for axis {axis} of size "
                f"{size} (shape {shape}); valid indices: {valid}"
            )
        axis += 1
    try:
        _indexed_shape(shape, items)
    except (IndexError, ValueError) as error:
        raise IndexError(
            f"{op_name}: index {index!r} is not valid for shape {shape}: {error}"
        ) from None
    return items


def getitem(a: Tensor, index: Any) -> Tensor:
    """``a[index]`` with NumPy's semantics; the gradient scatters back (see the module doc).

    >>> import adjoint as ad
    >>> x = ad.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> y = x[:, [0, 0, 2]].sum()
    >>> y.backward()
    >>> x.grad.numpy()
    array([[2., 0., 1.],
           [2., 0., 1.]])
    """
    a = as_tensor(a, "getitem")
    return GetItem(normalize_index(index, a.shape, "getitem"))(a)


def scatter_add(g: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate).

    The adjoint of :func:`getitem`: ``g`` must have the shape of
    ``zeros(shape)[index]``.

    >>> import adjoint as ad
    >>> ad.scatter_add(ad.Tensor([1.0, 2.0]), [0, 0], (3,)).numpy()
    array([3., 0., 0.])
    """
    g = as_tensor(g, "scatter_add")
    shape = as_shape(shape, "scatter_add")
    index = normalize_index(index, shape, "scatter_add")
    want = _indexed_shape(shape, index)
    if g.shape != want:
        raise ValueError(
            f"scatter_add: values of shape {g.shape} do not fit index {index!r} into shape "
            f"{shape}; the values must have shape {want}"
        )
    return ScatterAdd(index, shape)(g)


def take_along_axis(a: Tensor, indices: Any, axis: Any) -> Tensor:
    """``np.take_along_axis``: the elements of ``a`` at ``indices`` (integers, of a's number
    of dimensions) along ``axis``; the other axes broadcast. ``indices`` may be a graph
    node (``argsort(x)``), which then stays part of the graph.

    >>> import adjoint as ad
    >>> x = ad.Tensor([[3.0, 1.0, 2.0]])
    >>> ad.take_along_axis(x, ad.argsort(x, axis=1), axis=1).numpy()
    array([[1., 2., 3.]])
    """
    a = as_tensor(a, "take_along_axis")
    indices = as_tensor(indices, "take_along_axis")
    (axis,) = normalize_axes(as_int(axis, "take_along_axis", "axis"), a.ndim, "take_along_axis")
    if indices.dtype.kind not in "iu":
        raise IndexError(
            f"take_along_axis: indices of dtype {indices.dtype} are not valid; give integers "
            "(a Tensor made from a list is float64: give dtype=np.int64)"
        )
    if indices.ndim != a.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} must have as many dimensions "
            f"as the tensor of shape {a.shape}"
        )
    if any(m not in (1, n) for k, (n, m) in enumerate(zip(a.shape, indices.shape)) if k != axis):
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} do not fit the tensor of shape "
            f"{a.shape}: outside axis {axis} each size must equal the tensor's or be 1"
        )
    data = indices.cached_data
    if data is not None and data.size:
        size = a.shape[axis]
        if data.min() < -size or data.max() >= size:
            raise IndexError(
                f"take_along_axis: an index is out of range for axis {axis} of size {size} "
                f"(shape {a.shape}); valid indices: [{-size}, {size - 1}]"
            )
    return TakeAlongAxis(axis)(a, indices)
