"""Reductions beyond the sum: max, min, mean, logsumexp, softmax, log_softmax, logsoftmax.

Every function takes ``axes`` as None (all axes), an int or a tuple (negatives
allowed), and the reductions take ``keepdims``. ``summation`` itself, with its
adjoint ``broadcast_to``, lives in :mod:`adjoint.ops.linear`.

Only ``Max`` and ``Min`` are primitives with gradient rules. **Ties share the
gradient equally** (PyTorch's rule for ``max()`` of a whole tensor): if k
elements tie for the maximum, each gets 1/k of the adjoint. The rule finds the
ties with :class:`~adjoint.ops.elementwise.EqualMask` (1 where an element equals
the maximum), a zero-gradient op, so the rule is built of graph nodes and its
own derivative is correct (zero from the mask, as for relu's step).

NaN and inf. A NaN makes the max (and min) NaN, as in NumPy, and the NaN
elements are the ones that attain it: they share the adjoint and every other
element gets 0 (PyTorch's ``max()``; its ``amax`` gives NaN to all). Infinities
are ordinary values (tied infinities share).

``mean``, ``logsumexp``, ``softmax`` and ``log_softmax`` are composites with no
gradient code of their own (needle's ``logsoftmax``, over axis 1 of a matrix, is
a dedicated op: see :class:`LogSoftmax`). The last three subtract the maximum along the
reduced axes before ``exp``: ``logsumexp(a) = m + log(sum(exp(a - m)))`` holds
for any m, so m is taken under ``no_grad`` (a constant of the graph; the
derivative is exactly that of the naive formula, and no exp ever sees a
positive argument, so ±1000 neither overflows nor underflows to 0/0). A row
whose maximum is -inf is shifted by 0 instead, so -inf entries (masked logits)
get probability 0 and gradient 0, and logsumexp of a row of -inf is -inf
(softmax of it 0/0 = NaN). A +inf entry: logsumexp is +inf (its gradient NaN at
that entry, inf/inf, and 0 elsewhere), softmax and log_softmax are NaN over the
row: inf/inf has no value, and a limit is not guessed. All of this is PyTorch's
behaviour too. In eager mode m is a constant leaf: re-running a graph on new
inputs (``Graph.run``) keeps the old shift, which is still exact unless the new
inputs are hundreds larger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy import generic, ndarray

from adjoint.autograd import no_grad
from adjoint.device import array_namespace
from adjoint.ops.common import (
    as_flag,
    as_int,
    as_scalar,
    as_tensor,
    axes_keywords,
    int_literal,
    no_adjoint,
    normalize_axes,
    sympy_number,
)
from adjoint.ops.elementwise import abs, divide_scalar, equal_mask, exp, log, sqrt, where
from adjoint.ops.indexing import GetItem, ScatterAddAlongAxis
from adjoint.ops.linear import broadcast_to, reshape, summation
from adjoint.ops.shape import Flip, Pad
from adjoint.tensor import Tensor, TensorOp

__all__ = [
    "Max",
    "Min",
    "Cumsum",
    "Cumprod",
    "Sort",
    "Argsort",
    "max",
    "min",
    "mean",
    "logsumexp",
    "softmax",
    "log_softmax",
    "LogSoftmax",
    "logsoftmax",
    "var",
    "std",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
]


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes set to 1 (the ``keepdims=True`` shape)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` without the reduced axes (the ``keepdims=False`` shape)."""
    if axes is None:
        return ()
    return tuple(n for k, n in enumerate(shape) if k not in axes)


def _reshaped(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    return a if a.shape == shape else reshape(a, shape)


def _share_among_ties(out_grad: Tensor, node: Tensor, axes: tuple[int, ...] | None) -> Tensor:
    """The adjoint of a max or min: out_grad split equally among the elements that attain it."""
    a = node.inputs[0]
    shape = a.shape
    kept = _kept_shape(shape, axes)
    mask = equal_mask(a, broadcast_to(_reshaped(node, kept), shape))
    share = _reshaped(out_grad, kept) / summation(mask, axes, keepdims=True)
    return broadcast_to(share, shape) * mask


def _sympy_reduce(a: np.ndarray, axes: Any, keepdims: bool, fn: Any) -> np.ndarray:
    """``fn`` (sympy's Max or Min) of the elements of ``a`` over ``axes``: their sympy form."""
    axes = tuple(range(a.ndim)) if axes is None else tuple(int(k) for k in np.atleast_1d(axes))
    rest = [k for k in range(a.ndim) if k not in axes]
    moved = np.transpose(a, rest + list(axes))
    rows = moved.reshape(moved.shape[: len(rest)] + (-1,))
    out = np.empty(rows.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = fn(*rows[index])
    if keepdims:
        out = out.reshape(tuple(1 if k in axes else n for k, n in enumerate(a.shape)))
    return out


class Max(TensorOp):
    """The maximum over ``axes``; k tied maxima each get 1/k of the adjoint."""

    formula = ("max($0)", "\\max $0")
    partials = (("$g · [$0 = $y] / #ties", "$g \\cdot [$0 = $y] / \\#\\text{ties}"),)

    def __init__(self, axes: tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.max(a, axis=self.axes, keepdims=self.keepdims)

    def source(self, args, const):
        return f"xp.max({args[0]}{axes_keywords(self.axes, self.keepdims, const)})"

    def gradient(self, out_grad, node):
        return (_share_among_ties(out_grad, node, self.axes),)

    def sympy(self, a):
        import sympy

        return _sympy_reduce(a, self.axes, self.keepdims, sympy.Max)

    def infer_shape(self, shape):
        return _kept_shape(shape, self.axes) if self.keepdims else _reduced_shape(shape, self.axes)


class Min(TensorOp):
    """The minimum over ``axes``; k tied minima each get 1/k of the adjoint."""

    formula = ("min($0)", "\\min $0")
    partials = (("$g · [$0 = $y] / #ties", "$g \\cdot [$0 = $y] / \\#\\text{ties}"),)

    def __init__(self, axes: tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.min(a, axis=self.axes, keepdims=self.keepdims)

    def source(self, args, const):
        return f"xp.min({args[0]}{axes_keywords(self.axes, self.keepdims, const)})"

    def gradient(self, out_grad, node):
        return (_share_among_ties(out_grad, node, self.axes),)

    def sympy(self, a):
        import sympy

        return _sympy_reduce(a, self.axes, self.keepdims, sympy.Min)

    def infer_shape(self, shape):
        return _kept_shape(shape, self.axes) if self.keepdims else _reduced_shape(shape, self.axes)


# ------------------------------------------------------------- along one axis

_make = Tensor.make_from_op


def _accumulated_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype NumPy's cumsum and cumprod give: bool and small integers widen, as sums do."""
    if dtype.kind == "f" and dtype.isnative:
        return dtype
    return np.cumsum(np.zeros(1, dtype)).dtype


class Cumsum(TensorOp):
    """Running sums along ``axis`` (``np.cumsum``). Linear; its adjoint is the running sum
    from the other end: ``flip(cumsum(flip(out_grad)))``."""

    formula = ("cumsum($0)", "\\operatorname{cumsum}($0)")
    partials = (("flip(cumsum(flip($g)))", "\\operatorname{revcumsum}($g)"),)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return array_namespace(a).cumulative_sum(a, axis=self.axis)
        return np.cumsum(a, self.axis)

    def source(self, args, const):
        return f"xp.cumsum({args[0]}, {int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        flip = Flip((self.axis,))
        return (_make(flip, (_make(self, (_make(flip, (out_grad,)),)),)),)

    def compute_batched(self, batch, arrays, shapes):
        if type(arrays[0]) is not ndarray:
            xp = array_namespace(arrays[0])
            return xp.cumulative_sum(arrays[0], axis=len(batch) + self.axis)
        return np.cumsum(arrays[0], len(batch) + self.axis)

    def infer_shape(self, shape):
        return shape

    def infer_dtype(self, dtype):
        return _accumulated_dtype(dtype)


def _shifted_in(x: Tensor, s: int, axis: int, fill: float) -> Tensor:
    """``x`` moved ``s`` places up along ``axis``, the first ``s`` places ``fill``."""
    n = x.shape[axis]
    widths = tuple((s, 0) if k == axis else (0, 0) for k in range(x.ndim))
    return _make(Pad(widths, fill), (GetItem(_along(axis, slice(0, n - s)))(x),))


def _shifted_out(y: Tensor, s: int, axis: int) -> Tensor:
    """The adjoint of ``_shifted_in``: ``y`` moved ``s`` places down, zeros at the end."""
    n = y.shape[axis]
    widths = tuple((0, s) if k == axis else (0, 0) for k in range(y.ndim))
    return _make(Pad(widths, 0), (GetItem(_along(axis, slice(s, n)))(y),))


def _along(axis: int, item: Any) -> tuple:
    return (slice(None),) * axis + (item,)


class Cumprod(TensorOp):
    """Running products along ``axis`` (``np.cumprod``).

    The gradient has no division, so it is exact where elements are 0 (the
    textbook ``revcumsum(g * y) / a`` is NaN there). It is the reverse sweep of
    the scan that computes the products in log2(n) steps,
    ``x <- x * shift(x, s)`` for s = 1, 2, 4, ...: each step's adjoint is
    ``g * shift(x, s) + shift⁻¹(g * x, s)``, with the step's inputs recomputed
    from ``a``. All of it is products, pads and slices, so it differentiates
    again; its cost is O(n log n) along the axis.
    """

    formula = ("cumprod($0)", "\\operatorname{cumprod}($0)")
    partials = (("scan⁻¹($g)", "\\operatorname{scan}^{*}($g)"),)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return array_namespace(a).cumulative_prod(a, axis=self.axis)
        return np.cumprod(a, self.axis)

    def source(self, args, const):
        return f"xp.cumprod({args[0]}, {int_literal(self.axis, const)})"

    def gradient(self, out_grad, node):
        axis = self.axis
        x = node.inputs[0]
        n = x.shape[axis]
        steps, inputs = [], []
        s = 1
        while s < n:
            steps.append(s)
            inputs.append(x)
            x = x * _shifted_in(x, s, axis, 1)
            s *= 2
        g = out_grad
        for s, x in zip(reversed(steps), reversed(inputs)):
            g = g * _shifted_in(x, s, axis, 1) + _shifted_out(g * x, s, axis)
        return (g,)

    def compute_batched(self, batch, arrays, shapes):
        if type(arrays[0]) is not ndarray:
            xp = array_namespace(arrays[0])
            return xp.cumulative_prod(arrays[0], axis=len(batch) + self.axis)
        return np.cumprod(arrays[0], len(batch) + self.axis)

    def infer_shape(self, shape):
        return shape

    def infer_dtype(self, dtype):
        return _accumulated_dtype(dtype)


def _lanes(a: np.ndarray, axis: int):
    """Each 1-D lane of ``a`` along ``axis``: (the index of the lane with ``axis`` as a
    slice, its elements)."""
    for pos in np.ndindex(a.shape[:axis] + a.shape[axis + 1 :]):
        index = pos[:axis] + (slice(None),) + pos[axis:]
        yield index, list(a[index])


def _order_statistics(items: list) -> list:
    """The sorted values of sympy expressions: the k-th smallest is the Min over all sets of
    k + 1 elements of their Max (sympy.Min and Max: exact, and differentiable)."""
    import itertools

    import sympy

    n = len(items)
    out = []
    for k in range(n):
        if k == 0:
            out.append(sympy.Min(*items))
        elif k == n - 1:
            out.append(sympy.Max(*items))
        else:
            out.append(sympy.Min(*(sympy.Max(*c) for c in itertools.combinations(items, k + 1))))
    return out


def _ranks(items: list) -> list:
    """argsort of sympy expressions (stable): numbers if all are numbers, else the index
    of the k-th smallest as a sum of Piecewise indicators of the ranks."""
    import sympy

    n = len(items)
    if all(getattr(x, "is_number", False) for x in items):
        return sorted(range(n), key=lambda i: float(items[i]))  # stable, as np.argsort's

    def below(j, i):
        test = items[j] <= items[i] if j < i else items[j] < items[i]
        return sympy.Piecewise((1, test), (0, True))

    rank = [sympy.Add(*(below(j, i) for j in range(n) if j != i)) for i in range(n)]
    return [
        sympy.Add(*(i * sympy.Piecewise((1, sympy.Eq(rank[i], k)), (0, True)) for i in range(n)))
        for k in range(n)
    ]


class Sort(TensorOp):
    """The elements in ascending order along ``axis`` (``np.sort``, stable; NaN last).

    ``sort(a)`` is the gather ``take_along_axis(a, argsort(a))``, so its adjoint
    scatters ``out_grad`` back to where each element came from
    (:class:`~adjoint.ops.indexing.ScatterAddAlongAxis` at an :class:`Argsort`
    node of the input), and the adjoint of that is the gather again: any order.
    Tied elements each get the adjoint of the place the stable sort gave them.
    """

    formula = ("sort($0)", "\\operatorname{sort}($0)")
    partials = (
        ("scatter($g, argsort($0))", "\\operatorname{scatter}($g, \\operatorname{argsort}($0))"),
    )

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.sort(a, axis=self.axis, stable=True)

    def source(self, args, const):
        return f"xp.sort({args[0]}, {int_literal(self.axis, const)}, stable=True)"

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        order = _make(Argsort(self.axis), (a,))
        return (_make(ScatterAddAlongAxis(self.axis, a.shape), (out_grad, order)),)

    def sympy(self, a):
        out = np.empty(a.shape, dtype=object)
        for index, items in _lanes(a, self.axis):
            out[index] = _order_statistics(items)
        return out

    def compute_batched(self, batch, arrays, shapes):
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.sort(arrays[0], axis=len(batch) + self.axis, stable=True)

    def infer_shape(self, shape):
        return shape


class Argsort(TensorOp):
    """The indices that sort ``a`` along ``axis`` (``np.argsort``, stable): integers, with no
    gradient (its input gets a zero adjoint: the indices are piecewise constant)."""

    formula = ("argsort($0)", "\\operatorname{argsort}($0)")
    partials = (("0", "0"),)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.argsort(a, axis=self.axis, stable=True)

    def source(self, args, const):
        return f"xp.argsort({args[0]}, {int_literal(self.axis, const)}, stable=True)"

    def gradient(self, out_grad, node):
        return (no_adjoint(node.inputs[0]),)

    def sympy(self, a):
        out = np.empty(a.shape, dtype=object)
        for index, items in _lanes(a, self.axis):
            out[index] = [sympy_number(k) if isinstance(k, int) else k for k in _ranks(items)]
        return out

    def compute_batched(self, batch, arrays, shapes):
        xp = np if type(arrays[0]) is ndarray else array_namespace(arrays[0])
        return xp.argsort(arrays[0], axis=len(batch) + self.axis, stable=True)

    def infer_shape(self, shape):
        return shape

    def infer_dtype(self, dtype):
        return np.dtype(np.intp)


# ------------------------------------------------------------------ functions


def _axes(a: Tensor, axes: Any, op_name: str) -> tuple[int, ...] | None:
    return normalize_axes(axes, a.ndim, op_name)


def _nonempty(a: Tensor, axes: tuple[int, ...] | None, op_name: str) -> None:
    shape = a.shape
    for k in range(len(shape)) if axes is None else axes:
        if shape[k] == 0:
            raise ValueError(
                f"{op_name}: cannot reduce over axis {k} of size 0 (shape {shape}); "
                "the reduction of no elements is undefined"
            )


def max(a: Tensor, axes: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The maximum over ``axes`` (all by default); ties share the gradient equally.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 3.0, 3.0])
    >>> ad.max(x).backward()
    >>> x.grad.numpy()
    array([0. , 0.5, 0.5])
    """
    a = as_tensor(a, "max")
    axes = _axes(a, axes, "max")
    _nonempty(a, axes, "max")
    return Max(axes, as_flag(keepdims, "max", "keepdims"))(a)


def min(a: Tensor, axes: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The minimum over ``axes`` (all by default); ties share the gradient equally."""
    a = as_tensor(a, "min")
    axes = _axes(a, axes, "min")
    _nonempty(a, axes, "min")
    return Min(axes, as_flag(keepdims, "min", "keepdims"))(a)


def mean(a: Tensor, axes: Any = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axes``: ``summation`` divided by the number of elements reduced.

    >>> import adjoint as ad
    >>> ad.mean(ad.Tensor([[1.0, 2.0], [3.0, 5.0]]), axes=0).numpy()
    array([2. , 3.5])
    """
    a = as_tensor(a, "mean")
    axes = _axes(a, axes, "mean")
    keepdims = as_flag(keepdims, "mean", "keepdims")
    shape = a.shape
    count = int(np.prod([shape[k] for k in range(len(shape)) if axes is None or k in axes]))
    return divide_scalar(summation(a, axes, keepdims), count)


def _shifted(
    a: Tensor, axes: tuple[int, ...] | None, op_name: str, *, exact_inf: bool = False
) -> tuple[Tensor, Tensor]:
    """``a - m`` and ``m = max(a, axes, keepdims=True)``, a constant (taken under ``no_grad``).

    A row whose maximum is -inf (all masked) is shifted by 0, not by -inf (which
    would give NaN). With ``exact_inf`` (logsumexp) a +inf maximum is shifted by
    0 too, so the value is +inf exactly; softmax shifts it by +inf, so its row is
    NaN (see the module doc).
    """
    _nonempty(a, axes, op_name)
    with no_grad():
        m = Max(axes, True)(a)
        m = where(equal_mask(abs(m) if exact_inf else m, np.inf if exact_inf else -np.inf), 0.0, m)
    return a - m, m


def logsumexp(a: Tensor, axes: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axes``, computed stably as m + log(sum(exp(a - m))).

    >>> import adjoint as ad
    >>> float(ad.logsumexp(ad.Tensor([1000.0, 1000.0])))  # no overflow
    1000.6931471805599
    """
    a = as_tensor(a, "logsumexp")
    axes = _axes(a, axes, "logsumexp")
    keepdims = as_flag(keepdims, "logsumexp", "keepdims")
    shifted, m = _shifted(a, axes, "logsumexp", exact_inf=True)
    if not keepdims:
        with no_grad():
            m = reshape(m, _reduced_shape(a.shape, axes))
    return log(summation(exp(shifted), axes, keepdims)) + m


def softmax(a: Tensor, axes: Any = -1) -> Tensor:
    """exp(a) / sum(exp(a)) over ``axes`` (the last axis by default), stably.

    >>> import adjoint as ad
    >>> ad.softmax(ad.Tensor([0.0, 1000.0])).numpy()
    array([0., 1.])
    """
    a = as_tensor(a, "softmax")
    axes = _axes(a, axes, "softmax")
    e = exp(_shifted(a, axes, "softmax")[0])
    return e / summation(e, axes, keepdims=True)


def log_softmax(a: Tensor, axes: Any = -1) -> Tensor:
    """log(softmax(a)) over ``axes`` (the last axis by default): a - logsumexp(a), stably.

    >>> import adjoint as ad
    >>> ad.log_softmax(ad.Tensor([0.0, 1000.0])).numpy()
    array([-1000.,     0.])
    """
    a = as_tensor(a, "log_softmax")
    axes = _axes(a, axes, "log_softmax")
    shifted = _shifted(a, axes, "log_softmax")[0]
    return shifted - log(summation(exp(shifted), axes, keepdims=True))


# ------------------------------------------------------------ needle's LogSoftmax


def stable_log_softmax(xp: Any, a: Any) -> Any:
    """log(softmax(a)) over axis 1, over the array namespace ``xp``: :class:`LogSoftmax`'s compute.

    The row maximum is subtracted first (0 for a row whose maximum is -inf), as
    :func:`log_softmax` does, so ``exp`` never sees a positive argument.
    """
    m = xp.max(a, axis=1, keepdims=True)
    s = a - xp.where(m == -xp.inf, 0.0, m)
    return s - xp.log(xp.sum(xp.exp(s), axis=1, keepdims=True))


class LogSoftmax(TensorOp):
    """needle's log-softmax: log(softmax(a)) over axis 1 (a batch of rows of logits), stably.

    A dedicated op, where :func:`log_softmax` (any ``axes``) is a composition:
    one node instead of eight, half the time forward and backward on a 128 x 10
    batch. Its adjoint ``out_grad - exp(y) * sum(out_grad)`` reads only its own
    output ``y``, whose ``exp`` is at most 1, so nothing overflows at any
    order. Tested against the composition and against sympy.
    """

    formula = ("log_softmax($0)", "\\log\\operatorname{softmax}($0)")
    partials = (("$g − exp($y) · Σ$g", "$g - e^{$y} \\textstyle\\sum $g"),)

    def compute(self, a):
        return stable_log_softmax(np if type(a) is ndarray else array_namespace(a), a)

    def source(self, args, const):
        return f"{const(stable_log_softmax)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad - exp(node) * summation(out_grad, (1,), keepdims=True),)

    def sympy(self, a):
        import sympy

        rows = np.moveaxis(a, 1, -1)
        out = np.empty(rows.shape, dtype=object)
        for index in np.ndindex(rows.shape[:-1]):
            lse = sympy.log(sum(sympy.exp(v) for v in rows[index]))
            out[index] = [v - lse for v in rows[index]]
        return np.moveaxis(out, -1, 1)

    def infer_shape(self, shape):
        return shape

    def infer_dtype(self, dtype):
        # Floats keep their type; bools and integers meet the shift's 0.0: float64 (NumPy).
        return dtype if dtype.kind == "f" else np.dtype(np.float64)


def logsoftmax(a: Tensor) -> Tensor:
    """needle's ``logsoftmax``: log(softmax) over axis 1 of a 2-D Tensor, one :class:`LogSoftmax`.

    For other shapes and axes use :func:`log_softmax`.

    >>> import adjoint as ad
    >>> ad.logsoftmax(ad.Tensor([[0.0, 1000.0], [3.0, 3.0]])).numpy().round(3).tolist()
    [[-1000.0, 0.0], [-0.693, -0.693]]
    """
    a = as_tensor(a, "logsoftmax")
    if a.ndim != 2:
        raise ValueError(
            f"logsoftmax: expected a 2-D input (rows of logits; needle's op works over axis 1), "
            f"got shape {a.shape}; use log_softmax(a, axes=...) for other shapes"
        )
    _nonempty(a, (1,), "logsoftmax")
    return LogSoftmax()(a)


def _variance(a: Any, axes: Any, ddof: Any, keepdims: Any, op_name: str) -> Tensor:
    a = as_tensor(a, op_name)
    axes = _axes(a, axes, op_name)
    keepdims = as_flag(keepdims, op_name, "keepdims")
    ddof = as_scalar(ddof, op_name)
    shape = a.shape
    count = int(np.prod([shape[k] for k in range(len(shape)) if axes is None or k in axes]))
    if count - ddof <= 0:
        raise ValueError(
            f"{op_name}: ddof {ddof} must be less than the number of elements reduced "
            f"({count}, shape {shape}, axes {axes}); N - ddof is the divisor"
        )
    centered = a - mean(a, axes, keepdims=True)
    return divide_scalar(summation(centered * centered, axes, keepdims), count - ddof)


def var(a: Tensor, axes: Any = None, ddof: Any = 0, keepdims: bool = False) -> Tensor:
    """The variance over ``axes``: the mean square deviation from the mean, divided by
    N - ``ddof`` instead of N (``ddof=1``: the unbiased estimate), as ``np.var``.

    A composite of mean, subtract, multiply and sum (no gradient code).

    >>> import adjoint as ad
    >>> float(ad.var(ad.Tensor([1.0, 2.0, 3.0, 4.0]), ddof=1))
    1.6666666666666667
    """
    return _variance(a, axes, ddof, keepdims, "var")


def std(a: Tensor, axes: Any = None, ddof: Any = 0, keepdims: bool = False) -> Tensor:
    """The standard deviation over ``axes``: ``sqrt(var(a, axes, ddof))``, as ``np.std``.

    Its gradient is infinite (NaN) where the deviation is 0, as sqrt's at 0.

    >>> import adjoint as ad
    >>> float(ad.std(ad.Tensor([1.0, 3.0])))
    1.0
    """
    return sqrt(_variance(a, axes, ddof, keepdims, "std"))


def _one_axis(a: Tensor, axis: Any, op_name: str) -> tuple[Tensor, int]:
    """``a`` and ``axis`` as a non-negative int; ``axis`` None: ``a`` flattened, axis 0."""
    if axis is None:
        return reshape(a, (-1,)), 0
    axis = as_int(axis, op_name, "axis")
    if a.ndim == 0:
        raise ValueError(f"{op_name}: a 0-d tensor has no axis {axis}; use axis=None")
    return a, normalize_axes(axis, a.ndim, op_name, what="axis")[0]


def cumsum(a: Tensor, axis: Any = None) -> Tensor:
    """Running sums along ``axis`` (``np.cumsum``; None: of the flattened tensor).

    >>> import adjoint as ad
    >>> ad.cumsum(ad.Tensor([1.0, 2.0, 3.0])).numpy()
    array([1., 3., 6.])
    """
    a, axis = _one_axis(as_tensor(a, "cumsum"), axis, "cumsum")
    return Cumsum(axis)(a)


def cumprod(a: Tensor, axis: Any = None) -> Tensor:
    """Running products along ``axis`` (``np.cumprod``; None: of the flattened tensor); the
    gradient is exact at zeros (see :class:`Cumprod`).

    >>> import adjoint as ad
    >>> x = ad.Tensor([2.0, 0.0, 3.0])
    >>> ad.cumprod(x).sum().backward()
    >>> x.grad.numpy()
    array([1., 8., 0.])
    """
    a, axis = _one_axis(as_tensor(a, "cumprod"), axis, "cumprod")
    return Cumprod(axis)(a)


def sort(a: Tensor, axis: Any = -1) -> Tensor:
    """The elements sorted along ``axis`` (the last by default; None: flattened), as
    ``np.sort`` (stable). The gradient goes back to each element's place.

    >>> import adjoint as ad
    >>> x = ad.Tensor([3.0, 1.0, 2.0])
    >>> (ad.sort(x) * ad.Tensor([1.0, 10.0, 100.0])).sum().backward()
    >>> x.grad.numpy()
    array([100.,   1.,  10.])
    """
    a, axis = _one_axis(as_tensor(a, "sort"), axis, "sort")
    return Sort(axis)(a)


def argsort(a: Tensor, axis: Any = -1) -> Tensor:
    """The indices (int64) that sort ``a`` along ``axis`` (``np.argsort``, stable); no
    gradient flows through them.

    >>> import adjoint as ad
    >>> ad.argsort(ad.Tensor([3.0, 1.0, 2.0])).numpy()
    array([1, 2, 0])
    """
    a, axis = _one_axis(as_tensor(a, "argsort"), axis, "argsort")
    return Argsort(axis)(a)
