"""The polynomial normal form: sums, products, scalar ops and integer powers as
polynomials in their "atoms" (every other node: tanh(x), a leaf, a matmul, ...).

A polynomial is a dict ``{monomial: coefficient}``, a monomial a sorted tuple of
``(rank, exponent)`` pairs, where ``rank`` numbers the atom in the order the
pass first met it (``()`` is the constant term). Two nodes that compute equal
polynomials get equal dicts, and so, built in canonical order
(:meth:`~adjoint.rewrite.rebuild._Builder.from_poly`), hash alike. The form is
bounded (:data:`MAX_TERMS` monomials, :data:`MAX_DEGREE`): beyond, the
functions here give None and the node keeps its structure, as an atom.

Only float32 and float64 expand (:func:`expandable`): an expansion computes
terms the factored form never does, and can lose precision where they cancel,
which ``simplify(..., polynomials=False)`` avoids.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from adjoint.autograd import Value
from adjoint.ops import (
    AddScalar,
    DivScalar,
    EWiseAdd,
    EWiseMul,
    MulScalar,
    Negate,
    PowerScalar,
    TanhBackward,
)

#: The most terms a sum is flattened into when like terms are collected, and the
#: most monomials a polynomial normal form may have.
MAX_TERMS = 16

#: The highest total degree of a monomial in a polynomial normal form.
MAX_DEGREE = 24

#: The op classes whose algebra :func:`of_op` holds, among them those that declare
#: ``polynomial`` (:class:`adjoint.Op`): the nodes the normal form reads.
POLY_KINDS = frozenset(
    op
    for op in (
        AddScalar,
        MulScalar,
        DivScalar,
        Negate,
        EWiseAdd,
        EWiseMul,
        TanhBackward,
        PowerScalar,
    )
    if op.polynomial
)


def real(value: Any) -> bool:
    """Whether a scalar op's scalar is a finite real number (not a bool)."""
    kind = type(value)
    if kind is float or kind is int:  # scalar ops hold these (the ABC check is slow)
        return kind is int or math.isfinite(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def integer(value: Any) -> bool:
    return real(value) and float(value).is_integer()


def uniform(node: Value) -> float | None:
    """The common value of a constant whose elements are all equal (else None)."""
    if node.requires_grad or node.op is not None or node.cached_data is None:
        return None
    data = node.cached_data
    if type(data) is not np.ndarray or data.dtype.kind != "f":  # another device's: opaque
        return None
    if data.size == 1:
        first = float(data.item())
        return first if math.isfinite(first) else None
    if data.size == 0:
        return None
    first = data.flat[0]
    if not np.isfinite(first) or not np.all(data == first):
        return None
    return float(first)


def expandable(dtype: np.dtype) -> bool:
    """Whether nodes of ``dtype`` get the polynomial normal form: float32 and wider.

    Expanding a product multiplies out terms that the factored form never
    computes; float16 (largest value 65504) overflows in them easily, and an
    overflowed expansion gives ``inf - inf = nan`` where the factored form
    gives ``inf`` (or a finite value).
    """
    return dtype.kind == "f" and dtype.itemsize >= 4


def of_op(op: Any, inputs: tuple[Any, ...], poly_of: Callable[[Any], dict]) -> dict | None:
    """The polynomial ``op`` computes from its inputs' polynomials (``poly_of``), or None."""
    kind = type(op)
    if kind is AddScalar and real(op.scalar):
        return add(poly_of(inputs[0]), {(): float(op.scalar)})
    if kind is MulScalar and real(op.scalar):
        return scale(poly_of(inputs[0]), float(op.scalar))
    if kind is DivScalar and real(op.scalar) and op.scalar != 0:
        return scale(poly_of(inputs[0]), 1.0 / op.scalar)
    if kind is Negate:
        return scale(poly_of(inputs[0]), -1.0)
    if kind is EWiseAdd:
        return add(poly_of(inputs[0]), poly_of(inputs[1]))
    if kind is EWiseMul:
        return multiply(poly_of(inputs[0]), poly_of(inputs[1]))
    if kind is TanhBackward:  # g (1 - y**2)
        y = poly_of(inputs[1])
        return multiply(poly_of(inputs[0]), add({(): 1.0}, scale(multiply(y, y), -1.0)))
    if kind is PowerScalar and integer(op.scalar) and 1 <= op.scalar <= MAX_DEGREE:
        base = poly_of(inputs[0])
        power = int(op.scalar)
        if len(base) == 1:  # a monomial (an atom, most often): exponents multiply
            ((monomial, c),) = base.items()
            if c in (1.0, -1.0) and sum(e for _, e in monomial) * power <= MAX_DEGREE:
                return {tuple((r, e * power) for r, e in monomial): c**power}
        result: dict | None = {(): 1.0}
        for _ in range(power):
            result = multiply(result, base) if result is not None else None
        return result
    return None


class Pending:
    """A node's polynomial normal form, not built yet: its consumers so far read it as
    a polynomial (``_Builder.poly_of``), and it becomes nodes only if one needs them."""

    # No reference to the builder, which holds every Pending: a cycle would leave
    # the whole pass (its tables and nodes) to the cyclic collector.
    __slots__ = ("poly", "old", "node", "requires_grad", "dtype")

    def __init__(self, poly: dict, old: Value) -> None:
        self.poly, self.old, self.node = poly, old, None
        self.dtype = old.dtype
        # Made only from inputs of which one requires grad; its polynomial keeps
        # every atom of theirs (cancelled terms stay, with coefficient 0).
        self.requires_grad = True

    def build(self, builder: Any) -> Value:
        if self.node is None:
            self.node = builder.from_poly(self.poly, self.old)
        return self.node


def _trim(poly: dict) -> dict | None:
    return None if len(poly) > MAX_TERMS else poly


def add(p: dict | None, q: dict | None) -> dict | None:
    if p is None or q is None:
        return None
    result = dict(p)
    for m, c in q.items():
        result[m] = result.get(m, 0.0) + c
    return _trim(result)


def scale(p: dict | None, c: float) -> dict | None:
    if p is None:
        return None
    return _trim({m: c * v for m, v in p.items()})


def multiply(p: dict | None, q: dict | None) -> dict | None:
    if p is None or q is None or len(p) * len(q) > 4 * MAX_TERMS:
        return None
    result: dict = {}
    get = result.get
    for mp, cp in p.items():
        for mq, cq in q.items():
            # Every monomial held has degree <= MAX_DEGREE, so a product with a
            # constant (the empty monomial) needs no check.
            if not mp:
                m = mq
            elif not mq:
                m = mp
            elif len(mp) == 1 and len(mq) == 1:  # one atom each: the common case
                (rp, ep), (rq, eq) = mp[0], mq[0]
                if ep + eq > MAX_DEGREE:
                    return None
                m = ((rp, ep + eq),) if rp == rq else (mp[0], mq[0]) if rp < rq else (mq[0], mp[0])
            else:
                exponents = dict(mp)
                for rank, e in mq:
                    exponents[rank] = exponents.get(rank, 0) + e
                if sum(exponents.values()) > MAX_DEGREE:
                    return None
                m = tuple(sorted(exponents.items()))
            result[m] = get(m, 0.0) + cp * cq
    return _trim(result)
