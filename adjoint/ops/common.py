"""The op front end's shared pieces: operand conversion, broadcast shapes, axes.

Broadcasting itself is explicit: binary ops call
:func:`adjoint.ops.linear.broadcast_pair`, which inserts ``BroadcastTo`` nodes
(beside the op it makes), so no elementwise gradient ever has to undo a
broadcast (the broadcast node's own gradient, a sum, does).
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import re
import struct
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from numpy import ndarray

from adjoint.autograd import Value
from adjoint.device import array_namespace
from adjoint.tensor import Tensor, TensorOp, _to_array


class ElementwiseOp(TensorOp):
    """Base of ops whose output has the shape of their (equally shaped) inputs.

    Called directly (``EWiseMul()(a, b)``), the op checks that its inputs have
    one shape: its gradient rule relies on it, and the functions (``multiply``,
    ``a * b``), which broadcast with explicit ``BroadcastTo`` nodes, are what
    to call for operands of different shapes. The functions make their nodes
    without this call.
    """

    keeps_float_meta = True
    compute_broadcasts = True  # Graph.run on a batch calls compute as it is

    def __call__(self, *args: Value) -> Tensor:
        if len(args) < 2:  # one input: nothing to compare
            return Tensor.make_from_op(self, args)
        shapes = [x.shape for x in args if isinstance(x, Value)]
        if any(shape != shapes[0] for shape in shapes):
            raise ValueError(
                f"{self.name}: inputs of shapes {', '.join(map(str, shapes))} differ; the op "
                "needs equal shapes (call the function, e.g. ad.multiply or a * b, to "
                "broadcast)"
            )
        return Tensor.make_from_op(self, args)

    def infer_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return shapes[0]

    def compute_batched(self, batch, arrays, shapes):
        return self.compute(*arrays)  # NumPy broadcasts over the leading axes


class UnaryFloatOp(ElementwiseOp):
    """Base of elementwise functions that give floats (exp, log, sin, ...) even for ints."""


class ScalarOp(ElementwiseOp):
    """Base of ops between a tensor and a Python number held as ``self.scalar``."""

    def __init__(self, scalar: Any) -> None:
        self.scalar = as_scalar(scalar, type(self).__name__)


# ---------------------------------------------------------------- source forms
# The pieces of the ops' ``source`` methods: each op writes its ``compute`` as one
# Python expression over the array namespace ``xp`` (for compiled graphs).

#: A name (``v3``, ``xp.pi``) or an unsigned number literal (``2.0``, ``1e-05``).
_ATOM = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*|[0-9][0-9.]*(e[+-]?[0-9]+)?")
_NAN_BITS = struct.pack("<d", math.nan)


def operand(expr: str) -> str:
    """``expr`` ready to stand beside an operator or before ``.attribute``: as it is if it is
    a name or an unsigned number, else in parentheses (``-2.0`` becomes ``(-2.0)``)."""
    return expr if _ATOM.fullmatch(expr) else f"({expr})"


def literal(value: Any, const: Callable[[Any], str]) -> str:
    """Source for a scalar attribute, giving the very same object when evaluated.

    Python bools, ints and finite floats as ``repr`` (exact, floats included);
    infinities and NaN as ``xp.inf``, ``-xp.inf``, ``xp.nan`` (Python floats in
    both NumPy and jax.numpy); anything else (NumPy scalars, a NaN with another
    payload, fractions) hoisted by ``const``, so that it keeps its type.
    """
    kind = type(value)
    if kind is bool or kind is int:
        return repr(value)
    if kind is float:
        if math.isfinite(value):
            return repr(value)
        if math.isinf(value):
            return "xp.inf" if value > 0 else "-xp.inf"
        if struct.pack("<d", value) == _NAN_BITS:
            return "xp.nan"
    return const(value)


def int_literal(value: Any, const: Callable[[Any], str]) -> str:
    """Source for an int attribute (an axis): Python and NumPy ints as a Python int literal."""
    if is_int(value):
        return repr(int(value))
    return literal(value, const)


def ints_literal(values: Any, const: Callable[[Any], str]) -> str:
    """Source for a tuple of ints (a shape, axes): a tuple literal; anything else by ``const``."""
    if type(values) is tuple and all(is_int(k) for k in values):
        return repr(tuple(operator.index(k) for k in values))
    return const(values)


def axes_keywords(axes: Any, keepdims: Any, const: Callable[[Any], str]) -> str:
    """``, axis=..., keepdims=...`` for a reduction's source, leaving out the defaults."""
    text = ""
    if axes is not None:
        text += f", axis={int_literal(axes, const) if is_int(axes) else ints_literal(axes, const)}"
    if keepdims is not False:
        text += f", keepdims={literal(keepdims, const)}"
    return text


def sympy_elementwise(fn: Any, *arrays: np.ndarray) -> np.ndarray:
    """``fn`` applied to the elements of object arrays (sympy expressions): for ``Op.sympy``."""
    return np.frompyfunc(fn, len(arrays), 1)(*arrays)


def sympy_number(value: Any) -> Any:
    """A NumPy or Python number as an exact sympy number where that is sensible.

    ``to_sympy`` makes every constant so, the ops' ``sympy`` methods their
    scalars, so that gradient rules computing constants in floating point still
    give formulas sympy can match exactly. Integers (and integral floats) are
    ``Integer``; a float within 8 units in the last place (of max(1, |v|)) of a
    fraction with denominator at most 1024 is that ``Rational`` (``0.5`` is 1/2,
    ``2.2 - 1 - 1`` is 1/5); one as close to a fraction (up to /64) of pi is that
    multiple of ``pi``, and one as close to the logarithm of such a fraction is
    that ``log`` (``math.log(5)`` is ``log(5)``). Any other float is the
    ``Float`` of its exact binary value. (Here, below adjoint.symbolic, because
    the ops use it.)

    >>> sympy_number(0.5), sympy_number(math.log(5)), sympy_number(math.pi / 2)
    (1/2, log(5), pi/2)
    """
    import sympy

    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return sympy.Integer(int(value))
    v = float(value)
    if math.isnan(v):
        return sympy.nan
    if math.isinf(v):
        return sympy.oo if v > 0 else -sympy.oo
    if v.is_integer():
        return sympy.Integer(int(v))
    tolerance = 8 * math.ulp(max(1.0, abs(v)))
    frac = Fraction(v).limit_denominator(1024)
    if abs(float(frac) - v) <= tolerance:
        return sympy.Rational(frac.numerator, frac.denominator)
    frac = Fraction(v / math.pi).limit_denominator(64)
    if frac and abs(float(frac) * math.pi - v) <= tolerance:
        return sympy.Rational(frac.numerator, frac.denominator) * sympy.pi
    frac = Fraction(math.exp(v)).limit_denominator(1024) if abs(v) < 7 else None
    if frac and frac != 1 and abs(math.log(frac) - v) <= tolerance:
        candidate = sympy.log(sympy.Rational(frac.numerator, frac.denominator))
        if abs(float(candidate) - v) <= tolerance:
            return candidate
    return sympy.Float(v)


def is_scalar(value: Any) -> bool:
    """True for Python and NumPy numbers (not arrays, not Tensors)."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    if isinstance(value, Value):  # the common case, without the slow ABC check below
        return False
    return isinstance(value, (numbers.Number, np.number)) and not isinstance(value, np.ndarray)


def as_scalar(value: Any, op_name: str) -> float | int:
    """A Python number from a number, a NumPy scalar or a one-element array (needle)."""
    kind = type(value)
    if kind is float or kind is int:
        return value
    if isinstance(value, Value):
        value = value.realize_cached_data()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(
                f"{op_name}: the scalar operand must have one element, got shape {value.shape}"
            )
        value = value.reshape(()).item()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{op_name}: the scalar operand must be a real number, got {type(value).__name__}"
        )
    return value


def no_adjoint(x: Tensor) -> Tensor:
    """The adjoint a gradient rule gives an input that requires no grad: zeros, uncomputed.

    The engine discards adjoints of such inputs, so a rule may skip the real
    one (for ``MatMul`` a whole matrix product) and return this constant of
    the input's shape and dtype instead: one Tensor per input still holds for
    callers of ``gradient`` itself. The constant is shared by all adjoints of
    its shape and dtype (a few cached): it is made per backward step of every
    ``x * constant``, where building it cost as much as the product it replaces.
    """
    data = x.cached_data
    if data is not None:
        if type(data) is not ndarray:  # another device: zeros there, not cached
            return Tensor.make_const(array_namespace(data).zeros(data.shape, dtype=data.dtype))
        return _zeros_constant(data.shape, data.dtype)
    device = x.device
    if device.kind != "cpu":
        return Tensor.make_const(device.zeros(x.shape, x.dtype))
    return _zeros_constant(x.shape, x.dtype)


@functools.lru_cache(maxsize=64)
def _zeros_constant(shape: tuple[int, ...], dtype: np.dtype) -> Tensor:
    """Read-only zeros of any shape that hold one element: a zero-strided view of a 0-d zero.

    A cache must never hold data of the user's size (64 batch shapes of real
    operands once kept 896 MB alive): each entry here costs a few bytes.
    """
    return Tensor.make_const(np.broadcast_to(np.zeros((), dtype=dtype), shape))


def as_tensor(value: Any, op_name: str, like: Tensor | None = None) -> Tensor:
    """``value`` itself if it is a Tensor, else a constant Tensor (no gradient) of it.

    A number (a Python or NumPy scalar, or a 0-d array made of one) has no device: it
    is made on the device of ``like``, the op's other operand. Host arrays stay host
    data (an op refuses them beside another device's tensors: nothing is copied silently).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Value):
        raise TypeError(f"{op_name}: expected a Tensor, got {type(value).__name__}")
    if isinstance(value, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        # A private copy (the caller may change their array later), refused with the
        # op's name if it is not numeric (strings, objects, complex numbers, ragged lists).
        array = _to_array(value, None, op_name)
        if like is not None and array.ndim == 0 and not isinstance(value, (list, tuple)):
            device = like.device
            if device.kind != "cpu":
                return Tensor.make_const(device.from_numpy(array))
        return Tensor.make_const(array)
    raise TypeError(
        f"{op_name}: cannot use an operand of type {type(value).__name__}; "
        "give a Tensor, a NumPy array, a list or a number"
    )


def broadcast_shapes(shape_a: tuple[int, ...], shape_b: tuple[int, ...], op_name: str) -> tuple:
    """NumPy's broadcast of two shapes, or a ValueError naming the op and both shapes.

    Spelled out for two shapes: ``np.broadcast_shapes`` builds arrays to find
    the answer and costs six times as long, on every broadcasting op.
    """
    long, short = (shape_a, shape_b) if len(shape_a) >= len(shape_b) else (shape_b, shape_a)
    result = list(long)
    offset = len(long) - len(short)
    for i, m in enumerate(short):
        n = result[offset + i]
        if n == m or m == 1:
            continue
        if n == 1:
            result[offset + i] = m
            continue
        raise ValueError(
            f"{op_name}: shapes {shape_a} and {shape_b} do not broadcast; "
            "trailing dimensions must be equal or 1"
        )
    return tuple(result)


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers; bools are not ints here (``True`` is no axis)."""
    kind = type(value)
    if kind is int:
        return True
    return kind is not bool and isinstance(value, (numbers.Integral, np.integer))


def as_int(value: Any, op_name: str, what: str) -> int:
    """``value`` as a Python int, or a TypeError naming the op and the argument.

    Python and NumPy integers only: floats (``1.5``, and ``2.0`` too, as NumPy
    refuses them), strings, bools and arrays are refused, never truncated.
    """
    if type(value) is int:
        return value
    if is_int(value):
        return int(value)
    raise TypeError(
        f"{op_name}: {what} must be an int, got {value!r} of type {type(value).__name__} "
        "(bools and floats are not accepted)"
    )


def as_flag(value: Any, op_name: str, what: str) -> bool:
    """``value`` as a bool: bools and ints (as NumPy's ``keepdims``), else a TypeError."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_) or is_int(value):
        return bool(value)
    raise TypeError(
        f"{op_name}: {what} must be a bool, got {value!r} of type {type(value).__name__}"
    )


def as_shape(shape: Any, op_name: str, what: str = "shape", *, infer: bool = False) -> tuple:
    """``shape`` (an int or a sequence of ints) as a tuple of non-negative Python ints.

    A TypeError for anything but ints (``2.5``, ``"3"``, ``True``, ``None``), a
    ValueError for a negative size. With ``infer=True`` one size may be -1, to
    be inferred (``reshape``).
    """
    if type(shape) is tuple and all(type(n) is int and n >= 0 for n in shape):
        return shape  # the common case, checked in one pass
    if is_int(shape):
        shape = (shape,)
    elif not isinstance(shape, (tuple, list)) and not (
        isinstance(shape, np.ndarray) and shape.ndim == 1
    ):
        raise TypeError(
            f"{op_name}: {what} must be an int or a tuple of ints, got {shape!r} of type "
            f"{type(shape).__name__}"
        )
    sizes = tuple(as_int(n, op_name, f"each size in {what}") for n in shape)
    if any(n < 0 for n in sizes) and (
        not infer or sizes.count(-1) > 1 or any(n < -1 for n in sizes)
    ):
        valid = "non-negative sizes" + (" and at most one -1 (inferred)" if infer else "")
        raise ValueError(f"{op_name}: invalid {what} {sizes}; use {valid}")
    return sizes


def normalize_axes(
    axes: Any, ndim: int, op_name: str, *, sort: bool = True, what: str = "axes"
) -> tuple[int, ...] | None:
    """``axes`` (None, an int or a sequence, negatives allowed) as non-negative ints, sorted.

    ``None`` stays ``None`` (all axes). Anything but ints (``1.5``, ``"0"``,
    ``True``) raises a TypeError; out-of-range or repeated axes raise a
    ValueError that names the op and the valid range. ``sort=False`` keeps the
    given order (for permutations).
    """
    if axes is None:
        return None
    if is_int(axes):
        axes = (axes,)
    elif not isinstance(axes, (tuple, list)) or not all(is_int(a) for a in axes):
        raise TypeError(
            f"{op_name}: {what} must be None, an int or a tuple of ints, got {axes!r} "
            "(bools, floats and strings are not axes)"
        )
    axes = tuple(int(a) for a in axes)
    result = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            valid = f"[{-ndim}, {ndim - 1}]" if ndim else "none (the tensor is 0-d)"
            raise ValueError(
                f"{op_name}: axis {axis} is out of range for a tensor with {ndim} "
                f"dimension(s); valid axes: {valid}"
            )
        result.append(axis % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: repeated axis in {axes}")
    return tuple(sorted(result)) if sort else tuple(result)
