"""Shape and dtype of lazy nodes, inferred from their inputs' without computing.

Lazy mode records a node's ``(shape, dtype)`` metadata when it is made (see
:meth:`~adjoint.autograd.Value.make_from_op`). Elementwise ops on floats share
their input's metadata tuple (a :class:`_FloatMeta`, recognized by its type);
other dtypes follow NumPy's own rules, found by running the op on one-element
arrays (cached per op class, attributes and dtypes); other ops answer with
their :meth:`~adjoint.autograd.Op.infer_shape` and ``infer_dtype``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adjoint.autograd import Op, Value

_ndarray = np.ndarray


def _meta_of(x: Value) -> tuple[Any, Any, tuple | None]:
    """A node's shape and dtype, and its metadata tuple when it has a complete one to share."""
    data = x.cached_data
    if data is not None:
        return data.shape, data.dtype if type(data) is _ndarray else x.dtype, None
    meta = x._meta
    if meta is None or meta[0] is None or meta[1] is None:
        return x.shape, x.dtype, None
    return meta[0], meta[1], meta


def _infer_meta(op: Op, inputs: tuple[Value, ...]) -> tuple[tuple | None, np.dtype | None]:
    """Shape and dtype of ``op(*inputs)`` from the inputs' own, without computing.

    The dtype follows NumPy's rules, found as :func:`_infer_dtype` says. When
    the result has the shape and dtype of a lazy input (most elementwise ops),
    that input's metadata tuple itself is returned: lazy nodes then cost no
    extra object each for CPython's cyclic GC to traverse.
    """
    # Lazy mode pays this on every node whose metadata make_from_op could not
    # share (its elementwise case): one and two inputs spelled out, no star-calls.
    n = len(inputs)
    if n == 1:
        shape, dtype, meta = _meta_of(inputs[0])
        if op.keeps_float_meta and dtype.kind == "f" and dtype.isnative:
            out_dtype = dtype  # the elementwise promise: a float keeps its dtype
        else:
            out_dtype = _infer_dtype(op, (dtype,), (shape,))
        out_shape = op.infer_shape(shape)
        if meta is not None and out_dtype is dtype and out_shape == shape:
            return meta
        return _new_meta(out_shape, out_dtype)
    if n == 2:
        shape_a, dtype_a, meta_a = _meta_of(inputs[0])
        shape_b, dtype_b, meta_b = _meta_of(inputs[1])
        if op.keeps_float_meta and dtype_a is dtype_b and dtype_a.kind == "f" and dtype_a.isnative:
            out_dtype = dtype_a
        else:
            out_dtype = _infer_dtype(op, (dtype_a, dtype_b), (shape_a, shape_b))
        out_shape = op.infer_shape(shape_a, shape_b)
        if meta_a is not None and out_dtype is dtype_a and out_shape == shape_a:
            return meta_a
        if meta_b is not None and out_dtype is dtype_b and out_shape == shape_b:
            return meta_b
        return _new_meta(out_shape, out_dtype)
    metas = [_meta_of(x) for x in inputs]
    shapes = tuple(m[0] for m in metas)
    dtype = _infer_dtype(op, tuple(m[1] for m in metas), shapes)
    return _new_meta(op.infer_shape(*shapes), dtype)


def _infer_dtype(op: Op, dtypes: tuple[np.dtype, ...], shapes: tuple) -> np.dtype | None:
    """The dtype of ``op``'s output for inputs of ``dtypes``, by NumPy's own rules.

    Elementwise ops (:attr:`Op.keeps_float_meta`) run their ``compute`` on
    one-element arrays of the input dtypes (and dimensions): whatever NumPy
    makes of them (``int / int`` is float64, ``bool ** 2`` int8, the sum of a
    bool and a Python int int64, ``-bool`` an error) is the answer, with no
    rule restated here that could drift from NumPy's. Such a run costs about
    4 us; for this package's ops its result is cached per op class, scalar
    attributes, dtypes and dimensions, and a cached answer costs 0.4 us, less
    than ``np.result_type`` (1 us). (Lazy float nodes never get here: their
    metadata is shared, see :meth:`Value.make_from_op`.) An error raised by
    ``compute`` is the one eager mode raises for these dtypes, and it is
    raised now, at the line that recorded the node.

    Other ops (shape ops, reductions, matmul) cannot run on one-element
    arrays in general, and some would build arrays as large as their
    attributes say: their own :meth:`Op.infer_dtype` decides; a rule that
    raises leaves the dtype unknown (computing tells it).
    """
    if not op.keeps_float_meta:
        try:
            return op.infer_dtype(*dtypes)
        except (TypeError, ValueError):
            return None
    key = _dtype_key(op, dtypes, shapes)
    if key is not None:
        dtype = _dtype_cache.get(key)
        if dtype is not None:
            return dtype
    arrays = [np.ones((1,) * len(shape), dtype=dtype) for shape, dtype in zip(shapes, dtypes)]
    with np.errstate(all="ignore"):
        result = op.compute(*arrays)
    dtype = result.dtype if type(result) is _ndarray else np.asarray(result).dtype
    if key is not None and len(_dtype_cache) < _DTYPE_CACHE_SIZE:
        _dtype_cache[key] = dtype
    return dtype


#: Answers of :func:`_infer_dtype`'s runs, by (op class, attributes, dtypes, ndims).
#: Bounded; its keys hold only classes of this package, dtypes and Python numbers.
_dtype_cache: dict[tuple, np.dtype] = {}
_DTYPE_CACHE_SIZE = 4096

#: Attribute values a cache key may hold: small, immutable, never user-sized data.
_KEY_TYPES = frozenset({int, float, bool, str, type(None)})


def _dtype_key(op: Op, dtypes: tuple, shapes: tuple) -> tuple | None:
    """The cache key of an elementwise op's dtype, or None when it must not be cached.

    Only ops of this package are cached (a class defined in a function, with
    whatever its closures hold, is never kept alive by the cache), and only
    attributes that are plain Python scalars, each with its type: ``x + 1``
    and ``x + 1.0`` differ, and so do ``int8 + 100`` (int8) and
    ``int8 + 1000`` (an OverflowError).
    """
    if not op.trusted_gradient:
        return None
    attrs = getattr(op, "__dict__", None)
    key: list[Any] = [type(op), dtypes, tuple(len(shape) for shape in shapes)]
    if attrs:
        for name, value in attrs.items():
            kind = type(value)
            if kind not in _KEY_TYPES:
                return None
            key.append((name, kind, value))
    return tuple(key)


class _FloatMeta(tuple):
    """A complete ``(shape, dtype)`` of a floating dtype: the metadata that elementwise
    nodes share (see :attr:`Op.keeps_float_meta`), recognized by its type alone."""

    __slots__ = ()


def _new_meta(shape: tuple | None, dtype: np.dtype | None) -> tuple:
    """Inferred metadata, as a :class:`_FloatMeta` when complete, floating and native."""
    if shape is not None and dtype is not None and dtype.kind == "f" and dtype.isnative:
        return _FloatMeta((shape, dtype))
    return shape, dtype
