"""All ops: each a ``TensorOp`` subclass plus a lowercase function.

Grouped by kind: :mod:`~adjoint.ops.elementwise` (arithmetic, exp, log,
relu, ...), :mod:`~adjoint.ops.linear` (the shape ops and sums, each one's
gradient its adjoint op) and :mod:`~adjoint.ops.matmul`.
"""

from adjoint.ops.common import ElementwiseOp, ScalarOp, UnaryFloatOp
from adjoint.ops.elementwise import *
from adjoint.ops.elementwise import __all__ as _elementwise_all
from adjoint.ops.linear import *
from adjoint.ops.linear import __all__ as _linear_all
from adjoint.ops.matmul import *
from adjoint.ops.matmul import __all__ as _matmul_all

__all__ = [
    *_elementwise_all,
    *_linear_all,
    *_matmul_all,
    "ElementwiseOp",
    "ScalarOp",
    "UnaryFloatOp",
]
