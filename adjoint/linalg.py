"""``ad.linalg``: NumPy's ``np.linalg`` for Tensors, differentiable to any order.

======================  ================================================================
function                what it gives (NumPy's rules; every one takes batches of matrices)
======================  ================================================================
``solve(a, b)``         x with a x = b; ``b`` a vector (n,) or matrices (..., n, k)
``inv(a)``              a⁻¹
``det(a)``              det a
``slogdet(a)``          (sign, log |det a|), a named tuple
``logdet(a)``           log det a, NaN where det a < 0 (``torch.logdet``)
``cholesky(a)``         l with a = l lᵀ (``upper=True``: lᵀ)
``solve_triangular``    x with tri(a) x = b (``scipy.linalg.solve_triangular``'s arguments)
``eigh(a)``             (eigenvalues, eigenvectors), a named tuple; ``eigvalsh(a)``
``norm(x, ord, axis)``  vector and matrix norms (2, p, inf, Frobenius, ...);
                        ``vector_norm``, ``matrix_norm``
``trace(x)``            traces of the last two axes; ``diagonal(x)`` their diagonals
``outer(x1, x2)``       the outer product of two vectors
``matmul(a, b)``        ``a @ b``
======================  ================================================================

Each is an op whose gradient is written with ops, or a composition of ops,
so its derivatives of every order are graphs too: the Hessian of a Gaussian
log-likelihood through ``logdet`` and ``solve`` is ``ad.hessian`` of it. The
rules, and the conventions they rest on (the symmetric part for ``cholesky``
and ``eigh``, eigenvector signs, repeated eigenvalues, the gradient of a norm
at 0), are in :mod:`adjoint.ops.linalg`. A matrix an operation cannot take
(singular, not positive definite) raises :class:`LinAlgError`, a
``ValueError`` that names the function, the shape and the batch element.

>>> import adjoint as ad
>>> a = ad.Tensor([[2.0, 1.0], [1.0, 3.0]])
>>> h = ad.hessian(ad.linalg.logdet)(a)      # d²/da² log det a = -a⁻ᵀ ⊗ a⁻¹, 4 x 4
>>> h.shape
(2, 2, 2, 2)

``ad.trace``, ``ad.diagonal``, ``ad.diag`` and ``ad.outer`` are NumPy's
top-level functions (``np.trace`` works on axes 0 and 1, ``np.outer`` flattens);
the versions here follow ``np.linalg``'s (the last two axes, 1-D vectors).
"""

from adjoint.ops.linalg import (
    EighResult,
    LinAlgError,
    SlogdetResult,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    logdet,
    matrix_norm,
    norm,
    slogdet,
    solve,
    solve_triangular,
    vector_norm,
)
from adjoint.ops.linalg import linalg_diagonal as diagonal
from adjoint.ops.linalg import linalg_outer as outer
from adjoint.ops.linalg import linalg_trace as trace
from adjoint.ops.matmul import matmul

__all__ = [
    "solve",
    "inv",
    "det",
    "slogdet",
    "logdet",
    "cholesky",
    "solve_triangular",
    "eigh",
    "eigvalsh",
    "norm",
    "vector_norm",
    "matrix_norm",
    "trace",
    "diagonal",
    "outer",
    "matmul",
    "LinAlgError",
    "SlogdetResult",
    "EighResult",
]
