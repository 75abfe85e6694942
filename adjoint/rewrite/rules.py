"""The local rules of :func:`~adjoint.rewrite.simplify`, one small named function per
rewrite, in a table keyed by op class (:data:`RULES`).

``rule(builder, old, inputs)`` returns the node that stands for ``old`` (an op
of ``old``'s kind applied to the simplified ``inputs``), or None when the rule
does not apply; the pass tries an op's rules in order. Each is exact in real
arithmetic; in floating point it may change the last bits (``(2 x) 3`` and
``6 x`` round differently), and rules that regroup sums or products
(:data:`REGROUPING`) are left out for floats narrower than float32. Products
with zero are left alone: ``x * 0`` is NaN for infinite ``x``.

A rule looks through a node only with ``builder.op_of(node)``, which is None
for a kept node (issue 16: looking through the kept ``v = x + 0`` to rewrite
``(v + 0) + 1`` as ``x + 1`` keeps the value and cuts the dependence on ``v``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adjoint.autograd import Value
from adjoint.ops import (
    AddScalar,
    BroadcastTo,
    DivScalar,
    EWiseAdd,
    EWiseDiv,
    EWiseMul,
    Maximum,
    Minimum,
    MulScalar,
    Negate,
    Permute,
    PowerScalar,
    Reshape,
    Summation,
    Transpose,
)
from adjoint.rewrite.polynomial import MAX_TERMS, real, uniform


def same_meta(old: Value, new: Value) -> bool:
    """True if ``new`` can stand for ``old``: the same shape and dtype."""
    return old.shape == new.shape and old.dtype == new.dtype


def _shift_chain(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``(x + a) + c`` is ``x + (a + c)``, and ``x + 0`` is ``x``."""
    op = old.op
    if not real(op.scalar):
        return None
    (x,) = inputs
    shift = op.scalar
    inner = b.op_of(x)
    if type(inner) is AddScalar and real(inner.scalar):
        shift, x = shift + inner.scalar, x.inputs[0]
    if shift == 0 and same_meta(old, x):
        return x
    return b.make_new(AddScalar, (x,), old, shift)


def _scale_chain(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``c (a x)`` is ``(c a) x``, ``-(-x)`` is ``x``, ``x / 1`` is ``x``, ``1 x`` is ``x``."""
    op = old.op
    if type(op) is Negate:
        factor = -1.0
    elif type(op) is DivScalar:
        if op.scalar not in (1, -1):
            return None
        factor = op.scalar
    else:
        factor = op.scalar
    if not real(factor):
        return None
    base, inner = b.split_scale(inputs[0])
    if not same_meta(old, base):
        return None
    return b.scaled(base, factor * inner, old)


def _first_power(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x ** 1`` is ``x``."""
    if old.op.scalar == 1 and same_meta(old, inputs[0]):
        return inputs[0]
    return None


def _same_shape(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A reshape or broadcast to the shape it has is the node; a reshape of a reshape is one."""
    (x,) = inputs
    kind = type(old.op)
    if kind is Reshape and type(b.op_of(x)) is Reshape:
        x = x.inputs[0]
    if tuple(old.op.shape) == x.shape and same_meta(old, x):
        return x
    if x is not inputs[0]:
        return b.make(old.op, (x,), old)
    return None


def _empty_sum(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A sum over no axes (or of a scalar) is the node."""
    (x,) = inputs
    if same_meta(old, x) and (old.op.axes == () or x.ndim == 0):
        return x
    return None


def _identity_permute(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A permutation that keeps every axis in place is the node."""
    axes = tuple(old.op.axes)
    if axes == tuple(range(len(axes))) and same_meta(old, inputs[0]):
        return inputs[0]
    return None


def _double_transpose(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """Swapping the same two axes twice is the node."""
    (x,) = inputs
    inner = b.op_of(x)
    if type(inner) is Transpose and inner.axes == old.op.axes and same_meta(old, x.inputs[0]):
        return x.inputs[0]
    return None


def _uniform_operand(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x + k`` and ``k x`` for a constant ``k`` with equal elements are scalar ops."""
    is_add = type(old.op) is EWiseAdd
    a, c = inputs
    for x, const in ((a, c), (c, a)):
        k = uniform(const)
        if k is not None and same_meta(old, x):
            if is_add:
                return x if k == 0 else b.make_new(AddScalar, (x,), old, k)
            base, inner = b.split_scale(x)
            if same_meta(old, base):
                return b.scaled(base, k * inner, old)
            return b.make_new(MulScalar, (x,), old, k)
    return None


def _like_terms(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A sum of scaled terms with like terms collected, in canonical order.

    Flattens through ``EWiseAdd``, ``AddScalar``, ``Negate`` and ``MulScalar``
    nodes of the same shape and dtype, up to :data:`MAX_TERMS` terms (a cap
    that bounds the work and the nodes a rebuilt sum can cost), then rebuilds
    ``sum_k c_k t_k + shift`` with the terms in order of first appearance, so
    equal sums hash alike.
    """
    coefficients: dict[int, float] = {}
    terms: dict[int, Value] = {}
    shift = 0
    stack = [(inputs[1], 1), (inputs[0], 1)]
    while stack:
        node, c = stack.pop()
        op = b.op_of(node)
        if len(terms) + len(stack) > MAX_TERMS or not same_meta(old, node):
            return None
        if type(op) is EWiseAdd:
            stack.append((node.inputs[1], c))
            stack.append((node.inputs[0], c))
            continue
        if type(op) is AddScalar and real(op.scalar):
            shift += c * op.scalar
            stack.append((node.inputs[0], c))
            continue
        base, factor = b.split_scale(node)
        if base is not node:
            stack.append((base, c * factor))
            continue
        key = id(node)
        if key in terms:
            coefficients[key] += c
        else:
            terms[key] = node
            coefficients[key] = c
    parts = [(b.rank[k], terms[k], coefficients[k]) for k in terms]
    parts.sort(key=lambda part: part[0])
    if not parts:
        return None
    total = None
    for _, term, c in parts:
        scaled = b.scaled(term, c, old)
        total = scaled if total is None else b.make_new(EWiseAdd, (total, scaled), old)
    if shift != 0:
        total = b.make_new(AddScalar, (total,), old, shift)
    return total


def _product(b: Any, old: Value, x: Value, y: Value) -> Value:
    """``x * y`` with powers of one base collected, in canonical order."""
    base_x, px = b.power(x)
    base_y, py = b.power(y)
    if base_x is base_y and same_meta(old, base_x):
        return b.make_new(PowerScalar, (base_x,), old, px + py)
    if b.rank[id(y)] < b.rank[id(x)]:
        x, y = y, x
    return b.make_new(EWiseMul, (x, y), old)


def _scalar_factors(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``(c x) (d y)`` is ``(c d) (x y)``; ``x ** p * x ** q`` is ``x ** (p + q)``."""
    x, y = inputs
    base_x, fx = b.split_scale(x)
    base_y, fy = b.split_scale(y)
    factor = fx * fy
    if factor != 1 and base_x.shape == x.shape and base_y.shape == y.shape:
        return b.scaled(_product(b, old, base_x, base_y), factor, old)
    return _product(b, old, x, y)


def _canonical_order(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """The inputs of a commutative op in the order they were first made."""
    rank = b.rank
    if len(inputs) == 2:
        x, y = inputs
        if rank[id(y)] < rank[id(x)]:
            return b.make(old.op, (y, x), old)
        return None
    ordered = tuple(sorted(inputs, key=lambda x: rank[id(x)]))
    return b.make(old.op, ordered, old) if ordered != inputs else None


def _uniform_divisor(b: Any, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x / k`` for a nonzero constant ``k`` with equal elements is ``DivScalar(k)``."""
    x, divisor = inputs
    k = uniform(divisor)
    if k is not None and k != 0 and same_meta(old, x):
        return b.make_new(DivScalar, (x,), old, k)
    return None


#: The rules of an op class that has none in the table: canonical order if it declares
#: itself ``commutative`` (an op of the user's, say), else hash-consing alone.
COMMUTE = (("canonical order", _canonical_order),)

_SCALE = (("scale chain", _scale_chain),)

#: The local rules by op class: ``(name, rule)`` pairs, tried in order.
RULES: dict[type, tuple[tuple[str, Any], ...]] = {
    AddScalar: (("shift chain", _shift_chain),),
    MulScalar: _SCALE,
    Negate: _SCALE,
    DivScalar: _SCALE,
    PowerScalar: (("x ** 1", _first_power),),
    Reshape: (("same shape", _same_shape),),
    BroadcastTo: (("same shape", _same_shape),),
    Summation: (("sum over no axes", _empty_sum),),
    Permute: (("identity permutation", _identity_permute),),
    Transpose: (("double transpose", _double_transpose),),
    EWiseAdd: (
        ("uniform constant operand", _uniform_operand),
        ("like terms", _like_terms),
        ("canonical order", _canonical_order),
    ),
    EWiseMul: (
        ("uniform constant operand", _uniform_operand),
        ("scalar factors and powers", _scalar_factors),
    ),
    EWiseDiv: (("uniform divisor", _uniform_divisor),),
    # Commutative, but not bit for bit: np.maximum(0.0, -0.0) is -0.0 and
    # np.maximum(-0.0, 0.0) is 0.0. Their inputs keep their order.
    Maximum: (),
    Minimum: (),
}

#: The local rules that regroup sums or products (and so round, and can overflow,
#: differently): applied where :func:`regroupable`.
REGROUPING = frozenset(
    {"shift chain", "scale chain", "uniform constant operand", "like terms",
     "scalar factors and powers"}
)  # fmt: skip


def regroupable(dtype: np.dtype) -> bool:
    """Whether nodes of ``dtype`` may be regrouped: all but floats narrower than float32.

    Integer arithmetic wraps around associatively, so regrouping is exact;
    float16 overflows at 65504, so ``(a + b) + c`` and ``a + (b + c)`` can
    differ by an infinity for ordinary values (verification caught it in
    nested gradients of float16 graphs). float16 graphs keep their
    identities, hash-consing and constant folding.
    """
    return dtype.kind != "f" or dtype.itemsize >= 4
