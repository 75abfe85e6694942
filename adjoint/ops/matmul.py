"""Matrix product with NumPy's full ``@`` semantics.

The front end turns 1-D operands into matrices with explicit reshapes (and
removes the added axis after). ``MatMul`` multiplies operands of at least two
dimensions whose batch axes broadcast, as ``np.matmul`` does; its gradient sums
each adjoint over the batch axes its input was broadcast along
(:func:`~adjoint.ops.linear.sum_to_shape`, the same adjoint ``BroadcastTo``
uses). Batch broadcasting stays inside the op, rather than in explicit
``BroadcastTo`` nodes, because needle's homework calls ``MatMul``'s
``gradient`` directly on broadcast batches and expects input-shaped adjoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adjoint.device import array_namespace
from adjoint.ops.common import as_tensor, broadcast_shapes, no_adjoint, operand
from adjoint.ops.linear import Transpose, reshape, sum_to_shape
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "MatMul",
    "matmul",
]


class MatMul(TensorOp):
    """a @ b for operands of at least 2 dimensions whose batch axes broadcast.

    Called directly (``MatMul()(a, b)``), the op refuses operands of fewer than
    2 dimensions, which its gradient rule cannot transpose; :func:`matmul`
    (``a @ b``) turns 1-D operands into matrices first.
    """

    formula = ("$0 @ $1", "$0 $1")
    partials = (("$g @ $1ᵀ", "$g $1^{\\top}"), ("$0ᵀ @ $g", "$0^{\\top} $g"))

    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(
                f"MatMul: operands of shapes {a.shape} and {b.shape}; the op needs at least "
                "2 dimensions each (call ad.matmul or a @ b, which handle 1-D operands)"
            )
        return Tensor.make_from_op(self, (a, b))

    def compute(self, a, b):
        return a @ b

    def source(self, args, const):
        a, b = map(operand, args)
        return f"{a} @ {b}"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        # A constant operand (the data batch of a layer) gets no adjoint: a whole
        # matrix product saved.
        return (
            sum_to_shape(_mm(out_grad, _t(b)), a.shape) if a.requires_grad else no_adjoint(a),
            sum_to_shape(_mm(_t(a), out_grad), b.shape) if b.requires_grad else no_adjoint(b),
        )

    def compute_batched(self, batch, arrays, shapes):
        # The batch axes go in front of both operands' own (broadcast) batch axes.
        xp = np if type(arrays[0]) is np.ndarray else array_namespace(*arrays)
        ndim = max(len(s) for s in shapes)
        aligned = []
        for a, s in zip(arrays, shapes):
            own = a.shape[: a.ndim - len(s)]
            lead = (1,) * (len(batch) - len(own))
            aligned.append(xp.reshape(a, lead + own + (1,) * (ndim - len(s)) + s))
        return xp.matmul(*aligned)

    def infer_shape(self, shape_a, shape_b):
        return broadcast_shapes(shape_a[:-2], shape_b[:-2], "matmul") + (shape_a[-2], shape_b[-1])


_MATMUL = MatMul()
_TRANSPOSE = Transpose()


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` without the checks of ``matmul``, for the gradient rule (valid operands)."""
    return Tensor.make_from_op(_MATMUL, (a, b))


def _t(a: Tensor) -> Tensor:
    """The last two axes swapped, without the checks of ``transpose``."""
    return Tensor.make_from_op(_TRANSPOSE, (a,))


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b as NumPy defines it: 1-D operands, batches that broadcast.

    >>> import adjoint as ad
    >>> (ad.Tensor([[1.0, 2.0]]) @ ad.Tensor([3.0, 4.0])).numpy()
    array([11.])
    """
    a, b = as_tensor(a, "matmul"), as_tensor(b, "matmul")
    shape_a, shape_b = a.shape, b.shape
    if not shape_a or not shape_b:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {shape_a} and "
            f"{shape_b}; use multiply for scalars"
        )
    inner_a = shape_a[-1]
    inner_b = shape_b[-2] if len(shape_b) >= 2 else shape_b[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {shape_a} and {shape_b} do not align ({inner_a} != {inner_b})"
        )
    vector_a, vector_b = len(shape_a) == 1, len(shape_b) == 1
    if vector_a:
        a = reshape(a, (1, inner_a))
    if vector_b:
        b = reshape(b, (inner_b, 1))
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    if batch_a != batch_b:
        try:
            broadcast_shapes(batch_a, batch_b, "matmul")
        except ValueError:
            raise ValueError(
                f"matmul: batch shapes {batch_a} and {batch_b} of operands {shape_a} and "
                f"{shape_b} do not broadcast"
            ) from None
    out = MatMul()(a, b)
    if vector_a or vector_b:
        shape = out.shape
        if vector_b:
            shape = shape[:-1]
        if vector_a:
            shape = shape[:-2] + shape[-1:] if not vector_b else shape[:-1]
        out = reshape(out, shape)
    return out
