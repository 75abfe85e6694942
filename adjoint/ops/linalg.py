"""Linear algebra to any order: solve, inv, det, slogdet, cholesky, solve_triangular, eigh.

Each primitive here computes with the ``linalg`` of its inputs' array namespace
(NumPy's, CuPy's, an array-API module's) and writes its gradient with the ops of
this package, itself included, so every adjoint is a graph that differentiates
again (the Hessian of a log-determinant, the third derivative of a solve):

=====================  ======================  ==========================================
op                     computes                gradient (adjoint of the input(s))
=====================  ======================  ==========================================
Solve(a, b)            x = a⁻¹ b               b̄ = solve(aᵀ, ḡ), ā = -b̄ xᵀ
Inverse(a)             y = a⁻¹                 ā = -yᵀ ḡ yᵀ
Det(a)                 d = det a               ā = ḡ d a⁻ᵀ
LogDet(a)              log det a               ā = ḡ a⁻ᵀ
LogAbsDet(a)           log |det a|             ā = ḡ a⁻ᵀ
DetSign(a)             sign det a              0 (piecewise constant)
Cholesky(a)            l, a = l lᵀ             ā = l⁻ᵀ sym(Φ(lᵀ ḡ)) l⁻¹ (Φ: lower
                                               triangle, diagonal halved)
SolveTriangular(a, b)  x = tri(a)⁻¹ b          b̄ = tri(a)⁻ᵀ ḡ, ā = -tri(b̄ xᵀ)
EighValues(a)          eigenvalues w           ā = V diag(w̄) Vᵀ
EighVectors(a)         eigenvectors V          ā = sym(V (F ∘ Vᵀ V̄) Vᵀ),
                                               F_ij = 1 / (w_j - w_i), F_ii = 0
=====================  ======================  ==========================================

(sym(m) = (m + mᵀ)/2.) ``trace``, ``diagonal``, ``diag``, ``outer`` and
``norm`` are compositions of indexing, sums, products and roots, with no
gradient code of their own. :mod:`adjoint.linalg` is the namespace users call
(``ad.linalg.solve``); ``trace``, ``diagonal``, ``diag`` and ``outer`` are also
``ad.trace`` and so on, with NumPy's top-level signatures.

Conventions, each chosen on purpose:

* **Batches.** Every function takes a matrix or a batch of them (leading axes),
  as NumPy does; ``solve``'s batch axes broadcast (explicit ``BroadcastTo``
  nodes), and a 1-D ``b`` is one vector (NumPy 2's rule).
* **Symmetric inputs.** ``cholesky`` and ``eigh`` factor the symmetric part
  ``(a + aᵀ)/2`` of their input, which is ``a`` itself, to the bit, when ``a``
  is symmetric. NumPy reads one triangle instead; reading both makes the
  function computed the function differentiated, so the gradient (symmetric,
  as PyTorch's and JAX's) is the true one for any input, and finite
  differences agree with it.
* **Eigenvectors** are normalized and signed so that each one's
  largest-magnitude component is positive (``svd_flip``'s rule), so they do not
  depend on LAPACK's arbitrary signs.
* **Repeated eigenvalues.** The eigenvalues' rule ``V diag(w̄) Vᵀ`` holds where
  the eigenvalues are distinct. At a tie it still gives the exact first
  derivative of a function symmetric in the tied eigenvalues (their sum,
  ``trace(f(a))``): any orthonormal basis of the eigenspace gives the same
  ``V diag(w̄) Vᵀ`` when ``w̄`` is equal on it. Individual tied eigenvalues have
  no derivative, and neither do their eigenvectors: ``F`` divides by
  ``w_j - w_i = 0``, so eigenvector adjoints are inf or NaN at a tie (as in
  PyTorch and JAX), even for a loss that does not depend on the choice of basis
  in the eigenspace; and so are second derivatives of eigenvalues there (the
  first derivative's rule is built of eigenvectors).
* **eigh's eigenvalues** are ``eigvalsh``'s (LAPACK's eigenvalue-only routine,
  which ``EighValues`` calls): they may differ from those ``np.linalg.eigh``
  returns beside its eigenvectors in the last bit.
* **Singular matrices.** ``det``'s and ``slogdet``'s gradient is ``a⁻ᵀ`` times
  a scalar, so it needs an invertible matrix (at a singular one the true
  gradient of ``det`` is the adjugate, which is not built here).
* **Triangular solves** compute ``np.linalg.solve`` of the triangle (NumPy has
  no triangular solver), so they cost as much as a general solve.
* **Norms** convert integers to float64, as NumPy does; a 2-norm, Frobenius or
  p-norm (p > 1) that is 0 has the gradient 0 there (PyTorch's subgradient; the
  root's derivative is infinite at 0), and so its higher derivatives are 0 too.
* **sympy** (``to_sympy``): inverses and solves are the adjugate over the
  determinant (Berkowitz's, free of division), one fraction each, which sympy
  differentiates and simplifies far faster than an LU's nested fractions;
  eigenvalues have a closed form up to 3 x 3, eigenvectors up to 2 x 2.
* **Compiled graphs** call the same helpers over ``xp`` as ``compute``
  (:func:`linalg_solve`, :func:`eigh_vectors`, ...), so they give the same bits
  and raise the same errors.
* **Errors.** A matrix an operation cannot take raises :class:`LinAlgError`
  (a ``ValueError``, and NumPy's ``LinAlgError``) naming the function, the
  shape, the batch element and the condition; a wrong shape or dtype raises
  when the node is made, in lazy mode too.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy import ndarray

from adjoint.device import array_namespace, host_dtype, to_numpy
from adjoint.ops.common import as_flag, as_int, as_tensor, no_adjoint
from adjoint.ops.elementwise import abs, equal_mask, sqrt, where
from adjoint.ops.indexing import GetItem, scatter_add
from adjoint.ops.linear import (
    BroadcastTo,
    Permute,
    Reshape,
    Summation,
    Transpose,
    broadcast_to,
    reshape,
    summation,
)
from adjoint.ops.matmul import MatMul
from adjoint.ops.reductions import max, min
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "Solve",
    "Inverse",
    "Det",
    "LogDet",
    "LogAbsDet",
    "DetSign",
    "Cholesky",
    "SolveTriangular",
    "EighValues",
    "EighVectors",
    "trace",
    "diagonal",
    "diag",
    "outer",
]

_make = Tensor.make_from_op


class LinAlgError(np.linalg.LinAlgError):
    """A matrix the operation cannot take: singular, not positive definite, no convergence.

    A subclass of NumPy's ``LinAlgError``, hence of ``ValueError``: code that
    catches either catches it. The message names the function, the matrix's
    shape, the batch element and the condition.
    """


# ------------------------------------------------------------------ helpers


def _t(a: Tensor) -> Tensor:
    """The last two axes swapped (a batch of transposes), unchecked: for gradient rules."""
    return _make(Transpose(), (a,))


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for matrices of one batch shape, unchecked: for gradient rules."""
    return _make(MatMul(), (a, b))


def _over_matrix(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """A batch of scalars ``g`` (shape ``(...,)``) spread over matrices of ``shape``."""
    return _make(BroadcastTo(shape), (_make(Reshape(g.shape + (1, 1)), (g,)),))


@functools.lru_cache(maxsize=64)
def _mask(n: int, kind: str, dtype: np.dtype) -> np.ndarray:
    """A read-only n x n constant: ``lower``/``upper`` triangles (``strict``: without the
    diagonal), ``phi`` (the strict lower triangle and 1/2 on the diagonal), ``offdiag``,
    ``eye``."""
    ones, eye = np.ones((n, n), dtype=dtype), np.eye(n, dtype=dtype)
    if kind == "lower":
        mask = np.tril(ones)
    elif kind == "upper":
        mask = np.triu(ones)
    elif kind == "strict lower":
        mask = np.tril(ones, -1)
    elif kind == "strict upper":
        mask = np.triu(ones, 1)
    elif kind == "phi":
        mask = np.tril(ones, -1) + eye / 2
    elif kind == "offdiag":
        mask = ones - eye
    else:
        mask = eye
    mask.flags.writeable = False
    return mask


def _constant_mask(n: int, kind: str, like: Tensor) -> Tensor:
    """:func:`_mask` as a constant of ``like``'s float dtype, on ``like``'s device."""
    mask = _mask(n, kind, _float_dtype(like.dtype))
    device = like.device
    return Tensor.make_const(mask if device.kind == "cpu" else device.from_numpy(mask))


def _float_dtype(*dtypes: np.dtype) -> np.dtype:
    """The dtype NumPy's linear algebra gives: float32 or float64 (ints and bools: float64)."""
    dtype = np.result_type(*dtypes)
    return dtype if dtype.kind == "f" and dtype.itemsize >= 4 else np.dtype(np.float64)


def as_float(xp: Any, a: Any) -> Any:
    """``a`` itself if it is floating point, else ``a`` in float64 (before ``a + aᵀ``, which
    would overflow small ints and is a logical or for bools)."""
    if type(a) is ndarray:
        return a if a.dtype.kind == "f" else a.astype(np.float64)
    return a if host_dtype(a.dtype).kind == "f" else xp.astype(a, xp.float64)


def matrix_transpose(xp: Any, a: Any) -> Any:
    """The last two axes of ``a`` swapped, in any array namespace."""
    if type(a) is ndarray:
        return np.swapaxes(a, -1, -2)
    n = a.ndim
    return xp.permute_dims(a, tuple(range(n - 2)) + (n - 1, n - 2))


def symmetric_part(xp: Any, a: Any) -> Any:
    """``(a + aᵀ) / 2`` over the last two axes: ``a`` itself, to the bit, if it is symmetric."""
    a = as_float(xp, a)
    return (a + matrix_transpose(xp, a)) / 2


def _batch_failure(fn_name: str, arrays: tuple[Any, ...]) -> tuple[int, ...] | None:
    """The index of the first batch element on which ``np.linalg.<fn_name>`` raises
    (run on host copies: this is only the error's path)."""
    arrays = tuple(to_numpy(a) for a in arrays)
    batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
    if not batch:
        return None
    fn = getattr(np.linalg, fn_name)
    full = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
    for index in np.ndindex(*batch):
        try:
            fn(*(a[index] for a in full))
        except np.linalg.LinAlgError:
            return index
    return None


def _checked(name: str, condition: str, xp: Any, fn_name: str, *arrays: Any) -> Any:
    """``xp.linalg.<fn_name>(*arrays)``, with NumPy's LinAlgError raised again as ours: the
    function's ``name``, the matrix's shape, the failing batch element and the ``condition``."""
    try:
        return getattr(xp.linalg, fn_name)(*arrays)
    except np.linalg.LinAlgError:
        pass
    shape = tuple(arrays[0].shape)
    index = _batch_failure(fn_name, arrays)
    where = f" (batch element {index} of a batch of shape {shape[:-2]})" if index else ""
    raise LinAlgError(f"{name}: the matrix of shape {shape[-2:]}{where} {condition}")


_SINGULAR = "is singular; the operation needs an invertible matrix"


def linalg_solve(xp: Any, a: Any, b: Any) -> Any:
    """``xp.linalg.solve(a, b)`` for ``b`` of shape (..., n, k); LinAlgError names solve."""
    return _checked("solve", _SINGULAR, xp, "solve", a, b)


def linalg_inv(xp: Any, a: Any) -> Any:
    """``xp.linalg.inv(a)``; a singular matrix raises LinAlgError naming inv."""
    return _checked("inv", _SINGULAR, xp, "inv", a)


def triangle(xp: Any, a: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The triangle of ``a`` that ``solve_triangular`` reads, zeros elsewhere (ones on the
    diagonal if ``unit_diagonal``): ``np.tril``/``np.triu``, bit for bit, in any namespace."""
    a = as_float(xp, a)
    n = a.shape[-1]
    rows = xp.reshape(xp.arange(n), (n, 1))
    cols = xp.reshape(xp.arange(n), (1, n))
    keep = (
        (rows > cols if lower else rows < cols)
        if unit_diagonal
        else (rows >= cols if lower else rows <= cols)
    )
    part = xp.where(keep, a, xp.zeros_like(a))
    if not unit_diagonal:
        return part
    return xp.where(rows == cols, xp.ones_like(a), part)


def linalg_solve_triangular(xp: Any, a: Any, b: Any, lower: bool, unit_diagonal: bool) -> Any:
    """``tri(a)⁻¹ b`` by ``xp.linalg.solve`` of the triangle; LinAlgError names solve_triangular."""
    condition = "has a zero on its diagonal: the triangular matrix is singular"
    t = triangle(xp, a, lower, unit_diagonal)
    return _checked("solve_triangular", condition, xp, "solve", t, b)


def log_det(xp: Any, a: Any) -> Any:
    """log det a: NaN where det a < 0, -inf where it is 0 (PyTorch's ``logdet``)."""
    sign, logabs = xp.linalg.slogdet(a)
    return xp.where(sign < 0, xp.full_like(logabs, xp.nan), logabs)


def linalg_cholesky(xp: Any, a: Any) -> Any:
    """The lower Cholesky factor of ``(a + aᵀ)/2``; LinAlgError names cholesky."""
    condition = "is not positive definite (nor is its symmetric part (a + aᵀ)/2)"
    return _checked("cholesky", condition, xp, "cholesky", symmetric_part(xp, a))


_NO_CONVERGENCE = "has eigenvalues that did not converge (does it hold NaN or inf?)"


def eigh_values(xp: Any, a: Any) -> Any:
    """The eigenvalues of ``(a + aᵀ)/2``, ascending; LinAlgError names eigh."""
    return _checked("eigh", _NO_CONVERGENCE, xp, "eigvalsh", symmetric_part(xp, a))


def eigh_vectors(xp: Any, a: Any) -> Any:
    """The eigenvectors (columns) of ``(a + aᵀ)/2``, in the order of the ascending
    eigenvalues, each signed so that its largest-magnitude component is positive (the
    first of equal ones). The component is read by a sum over a one-hot mask (exact: one
    term is not zero), which every namespace has."""
    v = _checked("eigh", _NO_CONVERGENCE, xp, "eigh", symmetric_part(xp, a))[1]
    n = v.shape[-1]
    if n == 0:
        return v
    top = xp.argmax(xp.abs(v), axis=-2, keepdims=True)
    hot = xp.reshape(xp.arange(n), (n, 1)) == top
    pick = xp.sum(xp.where(hot, v, xp.zeros_like(v)), axis=-2, keepdims=True)
    return xp.where(pick < 0, -v, v)


# ------------------------------------------------------------------ checks


def _one_input(args: tuple, name: str) -> Tensor:
    if len(args) != 1:
        raise TypeError(f"{name}: takes one input tensor, got {len(args)}")
    return as_tensor(args[0], name)


def _no_half(a: Tensor, name: str) -> None:
    if a.dtype == np.float16:
        raise TypeError(
            f"{name}: float16 is not supported (NumPy's linear algebra works in float32 "
            "and float64); give float32 or float64 data"
        )


def _square(a: Any, name: str, what: str = "a") -> Tensor:
    """``a`` as a Tensor holding a square matrix or a batch of them, or an error."""
    a = as_tensor(a, name)
    _no_half(a, name)
    shape = a.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(
            f"{name}: {what} must be a square matrix or a batch of them (shape (..., n, n)), "
            f"got shape {shape}"
        )
    return a


def _right_side(a: Tensor, b: Any, name: str) -> Tensor:
    """``b`` for ``a x = b`` in the op's form: (..., n, k) with a's batch shape."""
    b = as_tensor(b, name)
    _no_half(b, name)
    n = a.shape[-1]
    if b.ndim < 2 or b.shape[-2] != n or b.shape[:-2] != a.shape[:-2]:
        raise ValueError(
            f"{name}: b of shape {b.shape} does not fit a of shape {a.shape}; the op needs "
            f"b of shape {a.shape[:-2] + (n, 'k')} (call the function, which takes a "
            "vector b and broadcasts batches)"
        )
    return b


def _solve_operands(a: Any, b: Any, name: str) -> tuple[Tensor, Tensor, bool]:
    """``a`` and ``b`` of ``a x = b`` as the ops take them (b as (..., n, k), both batches
    broadcast), and whether ``b`` was one vector."""
    a = _square(a, name)
    b = as_tensor(b, name)
    _no_half(b, name)
    n = a.shape[-1]
    vector = b.ndim == 1
    if b.ndim == 0:
        raise ValueError(
            f"{name}: b must be a vector of shape ({n},) or matrices of shape (..., {n}, k), "
            "got a 0-d tensor"
        )
    rows = b.shape[0] if vector else b.shape[-2]
    if rows != n:
        raise ValueError(
            f"{name}: a of shape {a.shape} and b of shape {b.shape} do not align: b needs {n} "
            f"rows (b.shape[{0 if vector else -2}]), got {rows}"
        )
    if vector:
        b = reshape(b, (n, 1))
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    if batch_a != batch_b:
        try:
            batch = np.broadcast_shapes(batch_a, batch_b)
        except ValueError:
            raise ValueError(
                f"{name}: the batch shapes {batch_a} of a {a.shape} and {batch_b} of b "
                f"{b.shape} do not broadcast"
            ) from None
        if batch_a != batch:
            a = broadcast_to(a, batch + a.shape[-2:])
        if batch_b != batch:
            b = broadcast_to(b, batch + b.shape[-2:])
    return a, b, vector


def _vector_result(x: Tensor, vector: bool) -> Tensor:
    return reshape(x, x.shape[:-1]) if vector else x


# ------------------------------------------------------------------ op classes


class _MatrixOp(TensorOp):
    """Base of the ops of one square matrix (or batch): checks it when called directly."""

    def __call__(self, *args: Any) -> Tensor:
        a = _square(_one_input(args, self.name), self.name)
        return _make(self, (a,))

    def infer_dtype(self, dtype):
        return _float_dtype(dtype)


class _SolveOp(TensorOp):
    """Base of the ops of ``a x = b``: checks both when called directly."""

    def __call__(self, *args: Any) -> Tensor:
        if len(args) != 2:
            raise TypeError(f"{self.name}: takes two input tensors (a, b), got {len(args)}")
        a = _square(args[0], self.name)
        return _make(self, (a, _right_side(a, args[1], self.name)))

    def infer_shape(self, shape_a, shape_b):
        return shape_b

    def infer_dtype(self, dtype_a, dtype_b):
        return _float_dtype(dtype_a, dtype_b)


class Solve(_SolveOp):
    """``x = a⁻¹ b`` for square ``a`` (..., n, n) and ``b`` (..., n, k) of one batch shape.

    :func:`adjoint.linalg.solve` takes a vector ``b`` and broadcasts batches.
    """

    formula = ("solve($0, $1)", "$0^{-1} $1")
    partials = (
        ("-solve($0ᵀ, $g) $yᵀ", "-$0^{-\\top} $g\\, $y^{\\top}"),
        ("solve($0ᵀ, $g)", "$0^{-\\top} $g"),
    )
    compute_broadcasts = True

    def compute(self, a, b):
        return linalg_solve(np if type(a) is ndarray else array_namespace(a), a, b)

    def source(self, args, const):
        return f"{const(linalg_solve)}(xp, {args[0]}, {args[1]})"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        b_adjoint = _make(Solve(), (_t(a), out_grad))
        a_adjoint = -_mm(b_adjoint, _t(node)) if a.requires_grad else no_adjoint(a)
        return a_adjoint, b_adjoint

    def sympy(self, a, b):
        return _sympy_batch(lambda m, r: m.adjugate() * r / _sympy_det(m), a, b, out=b.shape)


class Inverse(_MatrixOp):
    """``a⁻¹`` of a square matrix or batch; its adjoint is ``-yᵀ ḡ yᵀ`` with y the inverse."""

    formula = ("$0⁻¹", "$0^{-1}")
    partials = (("-$yᵀ $g $yᵀ", "-$y^{\\top} $g\\, $y^{\\top}"),)
    compute_broadcasts = True

    def compute(self, a):
        return linalg_inv(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(linalg_inv)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        y_t = _t(node)
        return (-_mm(_mm(y_t, out_grad), y_t),)

    def infer_shape(self, shape):
        return shape

    def sympy(self, a):
        return _sympy_batch(lambda m: m.adjugate() / _sympy_det(m), a, out=a.shape)


def _inverse_transposed(a: Tensor) -> Tensor:
    """``a⁻ᵀ``, the gradient of log |det a|, as a graph node."""
    return _t(_make(Inverse(), (a,)))


class Det(_MatrixOp):
    """det a for a square matrix or batch (shape (...,)); gradient ``ḡ det(a) a⁻ᵀ``."""

    formula = ("det($0)", "\\det $0")
    partials = (("$g · $y · $0⁻ᵀ", "$g\\, $y\\, $0^{-\\top}"),)
    compute_broadcasts = True

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.linalg.det(a)

    def source(self, args, const):
        return f"xp.linalg.det({args[0]})"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        return (_over_matrix(out_grad * node, a.shape) * _inverse_transposed(a),)

    def infer_shape(self, shape):
        return shape[:-2]

    def sympy(self, a):
        return _sympy_batch(lambda m: _sympy_det(m), a, out=a.shape[:-2])


class LogDet(_MatrixOp):
    """log det a (shape (...,)): NaN where det a < 0 and -inf where it is 0, as PyTorch's
    ``logdet``; gradient ``ḡ a⁻ᵀ``. Computed from ``slogdet``, so it neither overflows
    nor underflows where det would."""

    formula = ("log det($0)", "\\log\\det $0")
    partials = (("$g · $0⁻ᵀ", "$g\\, $0^{-\\top}"),)
    compute_broadcasts = True

    def compute(self, a):
        return log_det(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(log_det)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        return (_over_matrix(out_grad, a.shape) * _inverse_transposed(a),)

    def infer_shape(self, shape):
        return shape[:-2]

    def sympy(self, a):
        import sympy

        return _sympy_batch(lambda m: sympy.log(_sympy_det(m)), a, out=a.shape[:-2])


class LogAbsDet(_MatrixOp):
    """log |det a| (shape (...,)): ``slogdet``'s second result; gradient ``ḡ a⁻ᵀ``."""

    formula = ("log |det($0)|", "\\log|\\det $0|")
    partials = (("$g · $0⁻ᵀ", "$g\\, $0^{-\\top}"),)
    compute_broadcasts = True

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.linalg.slogdet(a)[1]

    def source(self, args, const):
        return f"xp.linalg.slogdet({args[0]})[1]"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        return (_over_matrix(out_grad, a.shape) * _inverse_transposed(a),)

    def infer_shape(self, shape):
        return shape[:-2]

    def sympy(self, a):
        import sympy

        def fn(m):
            return sympy.log(sympy.Abs(_sympy_det(m)))

        return _sympy_batch(fn, a, out=a.shape[:-2])


class DetSign(_MatrixOp):
    """The sign of det a (-1, 0 or 1; shape (...,)): ``slogdet``'s first result. Its
    gradient is zero, as sign's: the true derivative is zero wherever it exists."""

    formula = ("sign(det($0))", "\\operatorname{sign}\\det $0")
    partials = (("0", "0"),)
    compute_broadcasts = True

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.linalg.slogdet(a)[0]

    def source(self, args, const):
        return f"xp.linalg.slogdet({args[0]})[0]"

    def gradient(self, out_grad, node):
        return (_over_matrix(out_grad * 0.0, node.inputs[0].shape),)

    def infer_shape(self, shape):
        return shape[:-2]

    def sympy(self, a):
        import sympy

        return _sympy_batch(lambda m: sympy.sign(_sympy_det(m)), a, out=a.shape[:-2])


class Cholesky(_MatrixOp):
    """The lower factor ``l`` of ``(a + aᵀ)/2 = l lᵀ`` (``a`` itself when symmetric).

    Gradient (Murray 2016; PyTorch's): ``ā = l⁻ᵀ sym(Φ(lᵀ ḡ)) l⁻¹`` with Φ the lower
    triangle, diagonal halved, computed with two triangular solves.
    """

    formula = ("cholesky($0)", "\\operatorname{chol}($0)")
    partials = (
        (
            "$y⁻ᵀ sym(Φ($yᵀ $g)) $y⁻¹",
            "$y^{-\\top} \\operatorname{sym}(\\Phi($y^{\\top} $g))\\, $y^{-1}",
        ),
    )
    compute_broadcasts = True

    def compute(self, a):
        return linalg_cholesky(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(linalg_cholesky)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        n = node.shape[-1]
        upper = _t(node)  # lᵀ
        phi = _mm(upper, out_grad) * _constant_mask(n, "phi", node)
        middle = (phi + _t(phi)) * 0.5
        solve_upper = SolveTriangular(lower=False)
        left = _make(solve_upper, (upper, middle))  # l⁻ᵀ m
        return (_t(_make(solve_upper, (upper, _t(left)))),)  # (l⁻ᵀ (l⁻ᵀ m)ᵀ)ᵀ = l⁻ᵀ m l⁻¹

    def infer_shape(self, shape):
        return shape

    def sympy(self, a):
        def fn(m):
            return ((m + m.T) / 2).cholesky(hermitian=False)

        return _sympy_batch(fn, a, out=a.shape)


class SolveTriangular(_SolveOp):
    """``x = tri(a)⁻¹ b``: tri(a) is the lower (or upper) triangle of ``a``, with ones on
    the diagonal if ``unit_diagonal``; the other entries of ``a`` are never read, and get
    a zero adjoint."""

    formula = ("solve_triangular($0, $1)", "\\operatorname{tri}($0)^{-1} $1")
    partials = (
        (
            "-tri(solve_triangular($0ᵀ, $g) $yᵀ)",
            "-\\operatorname{tri}($0^{-\\top} $g\\, $y^{\\top})",
        ),
        ("solve_triangular($0ᵀ, $g)", "\\operatorname{tri}($0)^{-\\top} $g"),
    )
    compute_broadcasts = True

    def __init__(self, lower: bool = True, unit_diagonal: bool = False) -> None:
        self.lower = lower
        self.unit_diagonal = unit_diagonal

    def compute(self, a, b):
        xp = np if type(a) is ndarray else array_namespace(a)
        return linalg_solve_triangular(xp, a, b, self.lower, self.unit_diagonal)

    def source(self, args, const):
        lower, unit = bool(self.lower), bool(self.unit_diagonal)
        return f"{const(linalg_solve_triangular)}(xp, {args[0]}, {args[1]}, {lower}, {unit})"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        transposed = SolveTriangular(not self.lower, self.unit_diagonal)
        b_adjoint = _make(transposed, (_t(a), out_grad))
        if not a.requires_grad:
            return no_adjoint(a), b_adjoint
        kind = ("strict " if self.unit_diagonal else "") + ("lower" if self.lower else "upper")
        mask = _constant_mask(a.shape[-1], kind, node)
        return -_mm(b_adjoint, _t(node)) * mask, b_adjoint

    def sympy(self, a, b):
        import sympy

        lower, unit = bool(self.lower), bool(self.unit_diagonal)

        def fn(m, r):
            n = m.shape[0]
            t = sympy.Matrix(n, n, lambda i, j: 1 if unit and i == j else m[i, j])
            t = t.lower_triangular() if lower else t.upper_triangular()
            return t.adjugate() * r / _sympy_det(t)

        return _sympy_batch(fn, a, b, out=b.shape)


class EighValues(_MatrixOp):
    """The eigenvalues of ``(a + aᵀ)/2``, ascending (shape (..., n)); gradient
    ``V diag(w̄) Vᵀ`` with V the eigenvectors (see the module doc on repeated eigenvalues).

    ``to_sympy`` gives their closed form for matrices up to 3 x 3 (the 3 x 3 one by
    the trigonometric formula for three real roots).
    """

    formula = ("eigvalsh($0)", "\\lambda($0)")
    partials = (("V diag($g) Vᵀ", "V \\operatorname{diag}($g)\\, V^{\\top}"),)
    compute_broadcasts = True

    def compute(self, a):
        return eigh_values(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(eigh_values)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        v = _make(EighVectors(), (a,))
        scaled = v * _make(Reshape(out_grad.shape[:-1] + (1, a.shape[-1])), (out_grad,))
        return (_mm(scaled, _t(v)),)

    def infer_shape(self, shape):
        return shape[:-1]

    def sympy(self, a):
        return _sympy_batch(_sympy_eigenvalues, a, out=a.shape[:-1])


class EighVectors(_MatrixOp):
    """The eigenvectors of ``(a + aᵀ)/2`` as columns (shape (..., n, n)), in the order of
    the ascending eigenvalues, each with its largest-magnitude component positive.

    Gradient: ``sym(V (F ∘ Vᵀ V̄) Vᵀ)``, ``F_ij = 1/(w_j - w_i)`` off the diagonal and
    0 on it: inf or NaN where eigenvalues repeat (see the module doc). ``to_sympy``
    gives their closed form for matrices up to 2 x 2.
    """

    formula = ("eigvecsh($0)", "V($0)")
    partials = (
        ("sym(V (F ∘ Vᵀ $g) Vᵀ)", "\\operatorname{sym}(V (F \\circ V^{\\top} $g) V^{\\top})"),
    )
    compute_broadcasts = True

    def compute(self, a):
        return eigh_vectors(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(eigh_vectors)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        n = a.shape[-1]
        batch = a.shape[:-2]
        w = _make(EighValues(), (a,))
        gaps = _make(Reshape(batch + (1, n)), (w,)) - _make(Reshape(batch + (n, 1)), (w,))
        f = _constant_mask(n, "offdiag", node) / (gaps + _constant_mask(n, "eye", node))
        inner = _mm(_mm(node, f * _mm(_t(node), out_grad)), _t(node))
        return ((inner + _t(inner)) * 0.5,)

    def infer_shape(self, shape):
        return shape

    def sympy(self, a):
        return _sympy_batch(_sympy_eigenvectors, a, out=a.shape)


# ------------------------------------------------------------------ sympy forms


def _sympy_batch(fn: Callable[..., Any], *arrays: np.ndarray, out: tuple[int, ...]) -> np.ndarray:
    """``fn`` on each batch element of object arrays of matrices, as sympy Matrices; the
    results (a Matrix or an expression) stacked into an object array of shape ``out``."""
    import sympy

    batch = arrays[0].shape[:-2]
    result = np.empty(out, dtype=object)
    for index in np.ndindex(*batch):
        value = fn(*(sympy.Matrix(a[index].tolist()) for a in arrays))
        if isinstance(value, sympy.MatrixBase):
            item = np.empty(value.shape, dtype=object)
            for i, j in np.ndindex(value.shape):
                item[i, j] = value[i, j]
            if len(out) - len(batch) == 1:  # a vector
                item = item.reshape(-1)
            result[index] = item
        else:
            result[index] = value
    return result


def _sympy_det(m: Any) -> Any:
    """det m as a polynomial in its entries (Berkowitz: no division, so no nested fractions;
    inverses and solves are the adjugate over it, one fraction each, which sympy's
    ``expand`` and ``cancel`` handle far faster than the nested fractions of an LU)."""
    return m.det(method="berkowitz")


def _sympy_eigenvalues(m: Any) -> Any:
    """The eigenvalues of the symmetric part of ``m``, ascending, in closed form (n <= 3)."""
    import sympy

    n = m.shape[0]
    s = (m + m.T) / 2
    if n == 1:
        return sympy.Matrix([s[0, 0]])
    if n == 2:
        mid = (s[0, 0] + s[1, 1]) / 2
        radius = sympy.sqrt(((s[0, 0] - s[1, 1]) / 2) ** 2 + s[0, 1] ** 2)
        return sympy.Matrix([mid - radius, mid + radius])
    if n == 3:
        # Three real roots (Smith 1961): q the mean eigenvalue, p = sqrt(tr((s - q I)²) / 6)
        # their spread, and r = det((s - q I) / p) / 2 = cos 3φ: w = q + 2 p cos(φ + 2πk/3).
        q = s.trace() / 3
        b = s - q * sympy.eye(3)
        p = sympy.sqrt((b * b).trace() / 6)
        r = (b / p).det() / 2
        phi = sympy.acos(r) / 3
        largest = q + 2 * p * sympy.cos(phi)
        smallest = q + 2 * p * sympy.cos(phi + 2 * sympy.pi / 3)
        return sympy.Matrix([smallest, 3 * q - largest - smallest, largest])
    raise TypeError(
        f"to_sympy: EighValues has a closed form here for matrices up to 3 x 3, got {n} x {n}"
    )


def _sympy_eigenvectors(m: Any) -> Any:
    """The eigenvectors (columns) of the symmetric part of ``m`` in closed form (n <= 2),
    signed as :func:`eigh_vectors` signs them (largest-magnitude component positive).

    For ``[[a, b], [b, c]]`` they are the columns of a rotation by
    ``θ = atan2(2b, a - c) / 2`` (in (-π/2, π/2]): ``(-sin θ, cos θ)`` for the smaller
    eigenvalue and ``(cos θ, sin θ)`` for the larger. Trigonometric functions of one
    angle stay small under differentiation and ``expand``, where normalized vectors
    (square roots within square roots) grow large. The sign flips that the convention
    asks for happen past θ = ±π/4, where the other component becomes the larger
    (the first of two equal ones counts, as ``argmax`` has it).
    """
    import sympy

    n = m.shape[0]
    if n == 1:
        return sympy.Matrix([[1]])
    if n != 2:
        raise TypeError(
            f"to_sympy: EighVectors has a closed form here for matrices up to 2 x 2, got {n} x {n}"
        )
    s = (m + m.T) / 2
    a, b, c = s[0, 0], s[0, 1], s[1, 1]
    theta = sympy.atan2(2 * b, a - c) / 2
    cos, sin = sympy.cos(theta), sympy.sin(theta)
    # the smaller's (-sin θ, cos θ): flipped where θ >= π/4 (-sin θ is the larger, negative)
    small = sympy.Piecewise((-1, sympy.And(a - c <= 0, b > 0)), (1, True))
    # the larger's (cos θ, sin θ): flipped where θ < -π/4 (sin θ is the larger, negative)
    large = sympy.Piecewise((-1, sympy.And(a - c < 0, b < 0)), (1, True))
    return sympy.Matrix([[-small * sin, large * cos], [small * cos, large * sin]])


# ------------------------------------------------------------------ functions


def _flag(value: Any, name: str, what: str) -> bool:
    if value is True or value is False or isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{name}: {what} must be True or False, got {value!r}")


def solve(a: Any, b: Any) -> Tensor:
    """The solution x of ``a @ x = b`` (``np.linalg.solve``): a square, b a vector of shape
    (n,) or matrices (..., n, k); the batch axes broadcast.

    >>> import adjoint as ad
    >>> ad.linalg.solve(ad.Tensor([[2.0, 0.0], [0.0, 4.0]]), ad.Tensor([1.0, 1.0])).numpy()
    array([0.5 , 0.25])
    """
    a, b, vector = _solve_operands(a, b, "solve")
    return _vector_result(_make(Solve(), (a, b)), vector)


def inv(a: Any) -> Tensor:
    """The inverse of a square matrix or of each in a batch (``np.linalg.inv``).

    >>> import adjoint as ad
    >>> ad.linalg.inv(ad.Tensor([[2.0, 0.0], [0.0, 4.0]])).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return _make(Inverse(), (_square(a, "inv"),))


def det(a: Any) -> Tensor:
    """The determinant of a square matrix or of each in a batch (``np.linalg.det``).

    >>> import adjoint as ad
    >>> a = ad.Tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.linalg.det(a).backward()   # d det / d a = det(a) a⁻ᵀ, the adjugate's transpose
    >>> a.grad.numpy()
    array([[ 4., -3.],
           [-2.,  1.]])
    """
    return _make(Det(), (_square(a, "det"),))


def logdet(a: Any) -> Tensor:
    """log det a, computed without forming det (``torch.logdet``): NaN where det a < 0.

    For a positive definite matrix (a covariance) it is the log-determinant of
    Gaussian likelihoods; use :func:`slogdet` for matrices of any sign.

    >>> import adjoint as ad
    >>> round(float(ad.linalg.logdet(ad.Tensor([[2.0, 1.0], [1.0, 2.0]]))), 12)  # log 3
    1.098612288668
    """
    return _make(LogDet(), (_square(a, "logdet"),))


class SlogdetResult(NamedTuple):
    """``slogdet``'s two results (NumPy's names): the sign of det and log |det|."""

    sign: Tensor
    logabsdet: Tensor


def slogdet(a: Any) -> SlogdetResult:
    """The sign and the log of the absolute value of det a (``np.linalg.slogdet``).

    ``sign`` has a zero gradient; ``logabsdet``'s is ``a⁻ᵀ``.

    >>> import adjoint as ad
    >>> sign, logabsdet = ad.linalg.slogdet(ad.Tensor([[0.0, 2.0], [3.0, 0.0]]))
    >>> float(sign), round(float(logabsdet), 6)   # det = -6
    (-1.0, 1.791759)
    """
    a = _square(a, "slogdet")
    return SlogdetResult(_make(DetSign(), (a,)), _make(LogAbsDet(), (a,)))


def cholesky(a: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive definite matrix or batch
    (``np.linalg.cholesky``): lower ``l`` with ``a = l lᵀ``, or ``lᵀ`` if ``upper``.

    The factor of the symmetric part ``(a + aᵀ)/2``, which is ``a`` for a symmetric
    ``a`` (see the module doc); a matrix that is not positive definite raises
    :class:`LinAlgError`.

    >>> import adjoint as ad
    >>> ad.linalg.cholesky(ad.Tensor([[4.0, 2.0], [2.0, 5.0]])).numpy()
    array([[2., 0.],
           [1., 2.]])
    """
    upper = _flag(upper, "cholesky", "upper")
    factor = _make(Cholesky(), (_square(a, "cholesky"),))
    return _t(factor) if upper else factor


def solve_triangular(a: Any, b: Any, lower: bool = False, unit_diagonal: bool = False) -> Tensor:
    """The solution of ``tri(a) @ x = b`` (``scipy.linalg.solve_triangular``'s arguments):
    tri(a) is the upper triangle of ``a`` (the lower one if ``lower``), with ones on the
    diagonal if ``unit_diagonal``; the other entries are never read. ``b`` as in
    :func:`solve`.

    >>> import adjoint as ad
    >>> l = ad.Tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> ad.linalg.solve_triangular(l, ad.Tensor([2.0, 3.0]), lower=True).numpy()
    array([1., 2.])
    """
    lower = _flag(lower, "solve_triangular", "lower")
    unit_diagonal = _flag(unit_diagonal, "solve_triangular", "unit_diagonal")
    a, b, vector = _solve_operands(a, b, "solve_triangular")
    return _vector_result(_make(SolveTriangular(lower, unit_diagonal), (a, b)), vector)


class EighResult(NamedTuple):
    """``eigh``'s two results (NumPy's names): ascending eigenvalues and eigenvectors."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def eigh(a: Any) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix or batch
    (``np.linalg.eigh``): of ``(a + aᵀ)/2``, with each eigenvector's largest-magnitude
    component positive. See the module doc for the rule and its limits at repeated
    eigenvalues.

    >>> import adjoint as ad
    >>> w, v = ad.linalg.eigh(ad.Tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> w.numpy()
    array([1., 3.])
    >>> v.numpy().round(6)
    array([[ 0.707107,  0.707107],
           [-0.707107,  0.707107]])
    """
    a = _square(a, "eigh")
    return EighResult(_make(EighValues(), (a,)), _make(EighVectors(), (a,)))


def eigvalsh(a: Any) -> Tensor:
    """The eigenvalues, ascending, of a symmetric matrix or batch (``np.linalg.eigvalsh``).

    >>> import adjoint as ad
    >>> x = ad.Tensor([[2.0, 1.0], [1.0, 2.0]])
    >>> ad.linalg.eigvalsh(x).numpy()
    array([1., 3.])
    """
    return _make(EighValues(), (_square(a, "eigvalsh"),))


# ---------------------------------------------------------- composites: diagonals


def _axis(value: Any, ndim: int, name: str, what: str) -> int:
    axis = as_int(value, name, what)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: {what} {axis} is out of range for a tensor with {ndim} dimension(s); "
            f"valid: [{-ndim}, {ndim - 1}]"
        )
    return axis % ndim


def _diagonal(a: Tensor, offset: int, axis1: int, axis2: int) -> Tensor:
    """``np.diagonal`` as a gather: the two axes moved last (a permute, if needed), then
    ``a[..., i, i + offset]`` (indexing, whose adjoint is a scatter-add)."""
    ndim = a.ndim
    if (axis1, axis2) != (ndim - 2, ndim - 1):
        rest = tuple(k for k in range(ndim) if k not in (axis1, axis2))
        a = _make(Permute(rest + (axis1, axis2)), (a,))
    rows, cols = a.shape[-2:]
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    count = builtins.max(0, builtins.min(rows - start_row, cols - start_col))
    index = np.arange(count)
    return GetItem((Ellipsis, index + start_row, index + start_col))(a)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal with the given ``offset`` of the 2-D slices over ``axis1`` and ``axis2``,
    as a new last axis (``np.diagonal``; ``ad.linalg.diagonal`` takes the last two axes).

    A composition (a gather), so its adjoint, a scatter-add, needs no code of its own.

    >>> import adjoint as ad
    >>> ad.diagonal(ad.Tensor([[1.0, 2.0], [3.0, 4.0]]), 1).numpy()
    array([2.])
    """
    a = as_tensor(a, "diagonal")
    offset = as_int(offset, "diagonal", "offset")
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {a.shape}")
    first = _axis(axis1, a.ndim, "diagonal", "axis1")
    second = _axis(axis2, a.ndim, "diagonal", "axis2")
    if first == second:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({first}); give two axes")
    return _diagonal(a, offset, first, second)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal (``np.trace``; ``ad.linalg.trace`` takes the last two axes).

    >>> import adjoint as ad
    >>> x = ad.Tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.trace(x).backward()
    >>> x.grad.numpy()
    array([[1., 0.],
           [0., 1.]])
    """
    a = as_tensor(a, "trace")
    offset = as_int(offset, "trace", "offset")
    if a.ndim < 2:
        raise ValueError(f"trace: needs at least 2 dimensions, got shape {a.shape}")
    first = _axis(axis1, a.ndim, "trace", "axis1")
    second = _axis(axis2, a.ndim, "trace", "axis2")
    if first == second:
        raise ValueError(f"trace: axis1 and axis2 are the same axis ({first}); give two axes")
    d = _diagonal(a, offset, first, second)
    return _make(Summation((d.ndim - 1,)), (d,))


def diag(v: Any, k: int = 0) -> Tensor:
    """``np.diag``: a 1-D ``v`` on the k-th diagonal of a square matrix, or the k-th
    diagonal of a 2-D ``v``. The matrix is a scatter-add of ``v``, whose adjoint reads
    the diagonal back (indexing).

    >>> import adjoint as ad
    >>> ad.diag(ad.Tensor([1.0, 2.0])).numpy()
    array([[1., 0.],
           [0., 2.]])
    """
    v = as_tensor(v, "diag")
    k = as_int(k, "diag", "k")
    if v.ndim == 2:
        return _diagonal(v, k, 0, 1)
    if v.ndim != 1:
        raise ValueError(
            f"diag: v must be 1-D (to make a matrix) or 2-D (to take its diagonal), got shape "
            f"{v.shape}; for a batch of matrices use diagonal(a, axis1=-2, axis2=-1)"
        )
    n = v.shape[0]
    size = n + builtins.max(k, -k)
    index = np.arange(n)
    rows, cols = (index, index + k) if k >= 0 else (index - k, index)
    return scatter_add(v, (rows, cols), (size, size))


def outer(a: Any, b: Any) -> Tensor:
    """The outer product of ``a`` and ``b``, both flattened (``np.outer``):
    ``out[i, j] = a[i] * b[j]``, as a product of a column and a row that broadcast.

    >>> import adjoint as ad
    >>> ad.outer(ad.Tensor([1.0, 2.0]), ad.Tensor([3.0, 4.0, 5.0])).numpy()
    array([[ 3.,  4.,  5.],
           [ 6.,  8., 10.]])
    """
    a, b = as_tensor(a, "outer"), as_tensor(b, "outer")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def linalg_outer(x1: Any, x2: Any) -> Tensor:
    """``np.linalg.outer``: the outer product of two 1-D tensors (others are refused)."""
    x1, x2 = as_tensor(x1, "outer"), as_tensor(x2, "outer")
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(
            f"outer: ad.linalg.outer takes two 1-D tensors, got shapes {x1.shape} and "
            f"{x2.shape}; ad.outer flattens its operands (np.outer)"
        )
    return outer(x1, x2)


def linalg_diagonal(x: Any, offset: int = 0) -> Tensor:
    """``np.linalg.diagonal``: the diagonals of the last two axes (a batch of matrices)."""
    return diagonal(x, offset, -2, -1)


def linalg_trace(x: Any, offset: int = 0) -> Tensor:
    """``np.linalg.trace``: the traces of the last two axes (a batch of matrices)."""
    return trace(x, offset, -2, -1)


# ---------------------------------------------------------- composites: norms


def _as_inexact(x: Tensor) -> Tensor:
    """Ints and bools in float64, as ``np.linalg.norm`` converts them (``x * 1.0``)."""
    return x if x.dtype.kind == "f" else x * 1.0


def _root(total: Tensor, p: float) -> Tensor:
    """``total ** (1/p)`` (a sqrt for p = 2) with the subgradient 0 where total is 0.

    The root's derivative is infinite at 0 and its argument's is 0 there: inf * 0 is
    NaN. Where the total is 0 the root of 1 is taken and then replaced by 0, so the
    derivative there is 0 (PyTorch's choice for norms; the 1-D 2-norm is then abs,
    whose subgradient at 0 is 0 here too).
    """
    zero = equal_mask(total, no_adjoint(total))  # zeros of its shape, dtype and device
    safe = where(zero, 1.0, total)
    root = sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return where(zero, 0.0, root)


def _ord(value: Any, name: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{name}: ord must be a number, 'fro' or 'nuc', got {value!r}")
    return float(value)


def _vector_norm(x: Tensor, p: Any, axes: Any, keepdims: bool, name: str) -> Tensor:
    if isinstance(p, str):
        raise ValueError(f"{name}: ord={p!r} is a matrix norm; a vector norm takes a number")
    x = _as_inexact(x)
    if p is None or p == 2:
        return _root(summation(x * x, axes, keepdims), 2)
    if p == math.inf:
        return max(abs(x), axes, keepdims)
    if p == -math.inf:
        return min(abs(x), axes, keepdims)
    if p == 0:  # the number of nonzero entries; its gradient is 0
        zero = equal_mask(x, no_adjoint(x))
        return summation(1.0 - zero, axes, keepdims)
    if p == 1:
        return summation(abs(x), axes, keepdims)
    return _root(summation(abs(x) ** p, axes, keepdims), p)


def _matrix_norm(x: Tensor, p: Any, axes: tuple[int, int], keepdims: bool, name: str) -> Tensor:
    row, col = axes
    x = _as_inexact(x)
    if p is None or p == "fro":
        return _root(summation(x * x, axes, keepdims), 2)
    if p in (2.0, -2.0, "nuc"):
        raise ValueError(
            f"{name}: ord={p!r} of a matrix is a function of its singular values, and "
            "adjoint has no singular value decomposition; use ord='fro', 1, -1, inf or -inf"
        )
    if p in (1.0, -1.0):
        summed, reduced = summation(abs(x), (row,), keepdims=True), col
    elif p in (math.inf, -math.inf):
        summed, reduced = summation(abs(x), (col,), keepdims=True), row
    else:
        raise ValueError(
            f"{name}: ord={p!r} is not a matrix norm; valid: None, 'fro', 1, -1, inf, -inf "
            "(2, -2 and 'nuc' need singular values)"
        )
    result = (max if p > 0 else min)(summed, (reduced,), keepdims=True)
    if keepdims:
        return result
    return reshape(result, tuple(n for k, n in enumerate(x.shape) if k not in axes))


def _norm_axes(axis: Any, ndim: int, name: str) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(_axis(k, ndim, name, "axis") for k in axis)
        if len(axes) not in (1, 2):
            raise ValueError(
                f"{name}: axis must be an int (a vector norm) or two ints (a matrix norm), "
                f"got {tuple(axis)!r}"
            )
        if len(set(axes)) != len(axes):
            raise ValueError(f"{name}: repeated axis in {tuple(axis)!r}")
        return axes
    return (_axis(axis, ndim, name, "axis"),)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """A vector or matrix norm (``np.linalg.norm``'s arguments and rules).

    Vector norms (``axis`` an int, or a 1-D ``x``): the 2-norm (``ord=None`` or 2),
    ``inf``, ``-inf``, 0 (the number of nonzero entries) and any p-norm
    ``sum(|x|**p) ** (1/p)``. Matrix norms (``axis`` two ints, or a 2-D ``x`` with an
    ``ord``): Frobenius (``None``, ``'fro'``), 1, -1, inf, -inf; 2, -2 and ``'nuc'``
    need singular values and are refused. With ``axis=None`` and ``ord=None`` the 2-norm
    of all the elements. Compositions of sums, products, abs, max and roots; where a
    2-norm, Frobenius norm or p-norm is 0 its gradient is 0 (PyTorch's choice).

    >>> import adjoint as ad
    >>> x = ad.Tensor([3.0, 4.0])
    >>> ad.linalg.norm(x).backward()
    >>> x.grad.numpy()
    array([0.6, 0.8])
    """
    x = as_tensor(x, "norm")
    keepdims = as_flag(keepdims, "norm", "keepdims")
    p = _ord(ord, "norm")
    axes = _norm_axes(axis, x.ndim, "norm")
    if axes is None:
        if p is None:  # the 2-norm of all the elements
            return _vector_norm(x, None, None, keepdims, "norm")
        if x.ndim == 1:
            axes = (0,)
        elif x.ndim == 2:
            axes = (0, 1)
        else:
            raise ValueError(
                f"norm: with ord={ord!r} and axis=None, x must be 1-D or 2-D, got shape "
                f"{x.shape}; give axis"
            )
    if len(axes) == 1:
        return _vector_norm(x, p, axes, keepdims, "norm")
    return _matrix_norm(x, p, axes, keepdims, "norm")


def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Tensor:  # noqa: A002
    """``np.linalg.vector_norm``: a vector norm over ``axis`` (all axes when None, an int
    or a tuple), whatever the dimensions; ``ord`` as in :func:`norm`'s vector norms.

    >>> import adjoint as ad
    >>> float(ad.linalg.vector_norm(ad.Tensor([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    """
    from adjoint.ops.common import normalize_axes

    x = as_tensor(x, "vector_norm")
    keepdims = as_flag(keepdims, "vector_norm", "keepdims")
    p = _ord(ord, "vector_norm")
    axes = normalize_axes(axis, x.ndim, "vector_norm", what="axis")
    return _vector_norm(x, p, axes, keepdims, "vector_norm")


def matrix_norm(x: Any, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    """``np.linalg.matrix_norm``: the norm of each matrix in the last two axes; ``ord`` as
    in :func:`norm`'s matrix norms.

    >>> import adjoint as ad
    >>> float(ad.linalg.matrix_norm(ad.Tensor([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    """
    x = as_tensor(x, "matrix_norm")
    keepdims = as_flag(keepdims, "matrix_norm", "keepdims")
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: needs at least 2 dimensions, got shape {x.shape}")
    p = _ord(ord, "matrix_norm")
    return _matrix_norm(x, p, (x.ndim - 2, x.ndim - 1), keepdims, "matrix_norm")
