"""All ops: each a ``TensorOp`` subclass plus a lowercase function.

Grouped by kind: :mod:`~adjoint.ops.elementwise` (arithmetic, exp, log,
relu, ...), :mod:`~adjoint.ops.linear` (the shape ops and sums, each one's
gradient its adjoint op), :mod:`~adjoint.ops.matmul`, :mod:`~adjoint.ops.indexing`
(``a[...]`` and its adjoint, scatter-add; take_along_axis), :mod:`~adjoint.ops.shape`
(stack, concatenate, split, flatten, pad, flip, roll, tile, repeat, ...),
:mod:`~adjoint.ops.reductions` (max, min, mean, var, std, logsumexp, softmax,
log_softmax; cumsum, cumprod, sort, argsort), :mod:`~adjoint.ops.einsum` and
:mod:`~adjoint.ops.linalg` (solve, inv, det, cholesky, eigh, ...: :mod:`adjoint.linalg`
is their namespace; trace, diagonal, diag and outer are here too).

Each op's ``source(args, const)``, beside its ``compute``, writes that compute as one Python
expression over an array namespace ``xp`` (NumPy, to the bit, or jax.numpy): compiled graphs.
"""

import sys

import adjoint.tensor as _tensor
from adjoint.ops.common import ElementwiseOp, ScalarOp, UnaryFloatOp
from adjoint.ops.conv import *
from adjoint.ops.conv import __all__ as _conv_all
from adjoint.ops.einsum import *
from adjoint.ops.einsum import __all__ as _einsum_all
from adjoint.ops.elementwise import *
from adjoint.ops.elementwise import __all__ as _elementwise_all
from adjoint.ops.indexing import *
from adjoint.ops.indexing import __all__ as _indexing_all
from adjoint.ops.linalg import *
from adjoint.ops.linalg import __all__ as _linalg_all
from adjoint.ops.linear import *
from adjoint.ops.linear import __all__ as _linear_all
from adjoint.ops.matmul import *
from adjoint.ops.matmul import __all__ as _matmul_all
from adjoint.ops.reductions import *
from adjoint.ops.reductions import __all__ as _reductions_all
from adjoint.ops.shape import *
from adjoint.ops.shape import __all__ as _shape_all
from adjoint.ops.transfer import *
from adjoint.ops.transfer import __all__ as _transfer_all

# The Tensor methods and operators reach the ops through this binding (see
# adjoint.tensor.ops): this package builds on adjoint.tensor, not the reverse.
_tensor.ops = sys.modules[__name__]

__all__ = [
    *_elementwise_all,
    *_linear_all,
    *_matmul_all,
    *_shape_all,
    *_reductions_all,
    *_indexing_all,
    *_conv_all,
    *_einsum_all,
    *_linalg_all,
    *_transfer_all,
    "ElementwiseOp",
    "ScalarOp",
    "UnaryFloatOp",
]
