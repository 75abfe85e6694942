"""Graphs to sympy: :func:`to_sympy` runs a graph's own ops on NumPy object arrays.

The linear and arithmetic ops need nothing: their ``compute`` works on object
arrays of sympy expressions as it is. Functions NumPy cannot apply to sympy
objects, and the kinks, declare their sympy form in their class (``Op.sympy``);
:func:`register_translation` adds or overrides one from outside. The kinks
translate so that sympy's derivative agrees with the subgradient adjoint chose:

==============  ===========================================  ============================
op              sympy                                        derivative (sympy = adjoint)
==============  ===========================================  ============================
relu(x)         ``x*Heaviside(x, 0)``                        ``Heaviside(x, 0)``: 0 at 0
step(x)         ``Heaviside(x, 0)``                          0
abs(x)          ``Abs(x)``                                   ``sign(x)``: 0 at 0
sign(x)         ``sign(x)``                                  0
maximum(a, b)   ``Max(a, b)`` (minimum: ``Min``)             ``Heaviside(a - b)``: 1/2 at a tie
max(a, axes)    ``Max(a_0, a_1, ...)`` (min: ``Min``)        ties share the adjoint
equal_mask      ``Piecewise((1, Eq(a, b)), (0, True))``      0
==============  ===========================================  ============================

Symbols: a leaf that requires grad becomes real symbols named by its ``name``
(else ``x0``, ``x1``, ... in topological order, skipping names taken); an
array leaf gives one per element, named by its index (``W_0_1``). Constants
become exact numbers where sensible (:func:`adjoint.ops.common.sympy_number`).

A Jacobian node (``ad.jacobian``, ``ad.hessian``) translates here, not in its
class: its form is the translation of its explicit Jacobian graph, and
:mod:`adjoint.functional` sits below this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy

from adjoint import autograd
from adjoint.autograd import Op, Value, declared, enable_grad, find_topo_sort
from adjoint.device import to_numpy
from adjoint.functional import Jacobian, _jacobian_graph
from adjoint.ops.common import sympy_number
from adjoint.symbolic.deep import _deep
from adjoint.tensor import Tensor

__all__ = ["to_sympy", "leaf_symbols", "register_translation", "has_translation", "FormulaArray"]


# ----------------------------------------------------------------------- numbers


def _element(value: Any, op_name: str) -> sympy.Expr:
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return sympy_number(value)
    raise TypeError(
        f"to_sympy: {op_name} produced a {type(value).__name__} ({value!r}), not an "
        "expression; define the op's sympy method (or adjoint.symbolic.register_translation)"
    )


def _objects(result: Any, op_name: str) -> np.ndarray:
    """``result`` as an object array of sympy expressions (NumPy gives scalars for 0-d)."""
    if isinstance(result, np.ndarray):
        array = result.astype(object)
    else:
        array = np.empty((), dtype=object)
        array[()] = result
    flat = array.reshape(-1)
    for k, item in enumerate(flat):
        flat[k] = _element(item, op_name)
    return flat.reshape(array.shape)


def _constant(data: np.ndarray) -> np.ndarray:
    array = np.empty(data.shape, dtype=object)
    flat = array.reshape(-1)
    for k, v in enumerate(to_numpy(data).reshape(-1).tolist()):  # a device's: a host copy
        flat[k] = sympy_number(v)
    return array


# ------------------------------------------------------------------ translations


def _op_class_arg(op_class: Any, name: str) -> type:
    if not (isinstance(op_class, type) and issubclass(op_class, Op)):
        got = (
            f"an instance of {type(op_class).__name__}"
            if not isinstance(op_class, type)
            else (f"the class {op_class.__name__}")
        )
        raise TypeError(f"{name}: op_class must be an Op subclass (e.g. ad.TensorOp's), got {got}")
    return op_class


def register_translation(op_class: type) -> Callable[[Callable], Callable]:
    """Register ``fn(op, *object_arrays) -> object array`` as the sympy form of ``op_class``.

    Needed only for ops whose ``compute`` does not work on NumPy object arrays
    of sympy expressions (NumPy's exp, comparisons, ...). An op of your own can
    define its ``sympy`` method instead; a registered translation takes
    precedence over it. Subclasses inherit a translation (registered or
    declared) unless they define their own ``compute``.

    >>> import numpy as np, sympy
    >>> import adjoint as ad
    >>> class Cube(ad.TensorOp):
    ...     def compute(self, a):
    ...         return np.cbrt(a)
    ...     def gradient(self, out_grad, node):
    ...         return (out_grad / (3 * node * node),)
    >>> @ad.symbolic.register_translation(Cube)
    ... def _(op, a):
    ...     return np.vectorize(sympy.cbrt, otypes=[object])(a)
    >>> ad.symbolic.to_sympy(Cube()(ad.Tensor(8.0, name="x")))
    x**(1/3)
    """

    _op_class_arg(op_class, "register_translation")

    def decorate(fn: Callable) -> Callable:
        if not callable(fn):
            raise TypeError(
                f"register_translation: the translation of {op_class.__name__} must be a "
                f"function fn(op, *object_arrays), got {type(fn).__name__}"
            )
        op_class.sympy = fn  # registering is declaring (see adjoint.autograd.declared)
        return fn

    return decorate


def _translation(op_class: type) -> Callable[..., Any] | None:
    """The ``sympy`` form ``op_class`` declares or was registered with, as
    :func:`~adjoint.autograd.declared` finds it; None: ``Op.sympy``'s fallback to compute."""
    fn = declared(op_class, "sympy")
    return None if fn is Op.sympy else fn


def has_translation(op_class: type) -> bool:
    """True if ``op_class`` has a sympy translation, registered or its own ``sympy`` method
    (else ``to_sympy`` tries its ``compute``)."""
    return _translation(_op_class_arg(op_class, "has_translation")) is not None


def _apply(op: Op, arrays: list[np.ndarray]) -> np.ndarray:
    """``op`` on object arrays: its registered translation, else its ``sympy`` method, else
    ``compute`` (``Op.sympy``, whose error names the op and what to define)."""
    fn = _translation(type(op))
    result = fn(op, *arrays) if fn is not None else Op.sympy(op, *arrays)
    return _objects(result, op.name)


# ---------------------------------------------------------------------- to_sympy


def _symbol_array(name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = np.empty(shape, dtype=object)
    if not shape:
        array[()] = sympy.Symbol(name, real=True)
        return array
    for index in np.ndindex(shape):
        array[index] = sympy.Symbol(name + "_" + "_".join(map(str, index)), real=True)
    return array


class _Translator:
    """Translates graphs node by node, memoizing, with one symbol table for all of them."""

    def __init__(self, symbols: Mapping[Value, Any] | None = None, strict: bool = True) -> None:
        self.strict = strict
        self.memo: dict[Value, np.ndarray] = {}
        self.leaves: dict[Value, np.ndarray] = {}
        self.owner: dict[str, Value] = {}
        self.counter = 0
        for leaf, value in (symbols or {}).items():
            array = _objects(np.asarray(value, dtype=object), "symbols")
            if array.shape != leaf.shape:
                raise ValueError(
                    f"to_sympy: the symbols given for a leaf of shape {leaf.shape} have shape "
                    f"{array.shape}; give one symbol per element"
                )
            self._claim(leaf, array)

    def _claim(self, leaf: Value, array: np.ndarray) -> None:
        for item in array.reshape(-1) if self.strict else ():
            for s in item.free_symbols:
                other = self.owner.setdefault(s.name, leaf)
                if other is not leaf:
                    raise ValueError(
                        f"to_sympy: two different leaves both give the symbol {s.name!r} "
                        f"(shapes {other.shape} and {leaf.shape}); give them distinct names"
                    )
        self.leaves[leaf] = array
        self.memo[leaf] = array

    def _fresh_name(self) -> str:
        while True:
            name = f"x{self.counter}"
            self.counter += 1
            if not any(n == name or n.startswith(name + "_") for n in self.owner):
                return name

    def __call__(self, root: Value) -> np.ndarray:
        if not isinstance(root, Value):
            raise TypeError(f"to_sympy: expected a Tensor, got {type(root).__name__}")
        order = find_topo_sort([root])
        unnamed = []
        for node in order:
            if node in self.memo:
                continue
            if node.op is None:
                if not node.requires_grad:
                    self.memo[node] = _constant(node.realize_cached_data())
                elif node.name is not None:
                    self._claim(node, _symbol_array(node.name, node.shape))
                else:
                    unnamed.append(node)
        for node in unnamed:
            self._claim(node, _symbol_array(self._fresh_name(), node.shape))
        # The walk is iterative, but sympy's constructors recurse through their
        # arguments (assumption queries): a deep graph needs _deep's room. A
        # repeat after a RecursionError resumes from the memo.
        _deep(self._apply_all, order)
        return self.memo[root]

    def _apply_all(self, order: list[Value]) -> None:
        memo = self.memo
        for node in order:
            if node not in memo:
                memo[node] = _apply(node.op, [memo[x] for x in node.inputs])


class FormulaArray(np.ndarray):
    """A NumPy object array of sympy expressions (what :func:`to_sympy` gives for a
    tensor with axes) that renders as LaTeX in notebooks, as sympy's own expressions do.

    It is an ``ndarray`` in every other way: index it, pass it to NumPy or to
    ``sympy.diff``. :meth:`to_array` gives the ``sympy.Array``.

    >>> import adjoint as ad
    >>> f = to_sympy(ad.Tensor([1.0, 2.0], name="w") * 3)
    >>> f[1], np.sum(f)
    (3*w_1, 3*w_0 + 3*w_1)
    >>> print(f._repr_latex_())
    $\\displaystyle \\left[\\begin{matrix}3 w_{0} & 3 w_{1}\\end{matrix}\\right]$
    """

    #: Past this many elements the notebook shows the plain text instead (LaTeX that
    #: large is slow to typeset and unreadable).
    LATEX_MAX_SIZE = 400

    def to_array(self) -> sympy.Array:
        """The same expressions as a ``sympy.Array`` of the same shape."""
        return sympy.Array(np.asarray(self).tolist(), self.shape)

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        # A reduction to one element gives the expression, as on a plain object array.
        if return_scalar or array.ndim == 0:
            return array[()]
        return super().__array_wrap__(array, context)

    def _repr_latex_(self) -> str | None:
        if self.dtype != object or not 0 < self.size <= self.LATEX_MAX_SIZE:
            return None
        return f"$\\displaystyle {sympy.latex(self.to_array())}$"


def _unwrap(array: np.ndarray) -> Any:
    """A 0-d result as its expression (sympy's own LaTeX), an array as a :class:`FormulaArray`."""
    return array[()] if array.ndim == 0 else array.view(FormulaArray)


def to_sympy(tensor: Value, symbols: Mapping[Value, Any] | None = None) -> Any:
    """The graph of ``tensor`` (a gradient graph of any order included) as sympy.

    Returns a sympy expression for a 0-d tensor, else a NumPy object array of
    expressions of the tensor's shape (a :class:`FormulaArray`: NumPy's own
    functions keep working on it, ``.to_array()`` gives the ``sympy.Array``).
    Both render as LaTeX in a notebook. Symbols and constants follow the
    module docstring; ``symbols`` maps leaves to the sympy symbols (or array of
    them, one per element) to use instead.

    Depth: the graph is walked iteratively, and sympy's own recursion through
    the formula gets room beyond Python's recursion limit (:data:`DEEP_RECURSION_LIMIT`,
    in a thread with a large stack). Measured on ``h = sin(h) * 1.0001``
    repeated: 165 steps (where the default limit stopped it before) take
    0.4 s, 400 steps 2 s, 1,000 steps 18 s and 2,000 steps 130 s. The time is
    sympy's: each new node's assumption queries walk its whole argument, so
    the cost grows faster than the square of the depth, and that, not the
    recursion limit, is the practical bound. Past the limit (about 12,000
    steps) it raises :class:`FormulaTooDeepError`. Printing such a formula
    yourself recurses too (about 9 frames a step): raise
    ``sys.setrecursionlimit`` for that, or print a :func:`check` report,
    which makes room itself.

    >>> import adjoint as ad
    >>> w = ad.Tensor([1.0, 2.0], name="w")
    >>> to_sympy(ad.sum(w * w) / 2)
    w_0**2/2 + w_1**2/2
    """
    if symbols is not None:
        if not isinstance(symbols, Mapping):
            raise TypeError(
                "to_sympy: symbols must be a dict from leaf Tensors to sympy symbols (or "
                f"arrays of them), got {type(symbols).__name__}"
            )
        for leaf in symbols:
            if not isinstance(leaf, Value):
                raise TypeError(
                    f"to_sympy: the keys of symbols must be leaf Tensors, got {leaf!r} "
                    f"({type(leaf).__name__})"
                )
    return _unwrap(_Translator(symbols)(tensor))


def leaf_symbols(tensor: Value) -> dict[Value, Any]:
    """The symbols :func:`to_sympy` gives the leaves of ``tensor``'s graph, by leaf.

    Each value is a symbol for a 0-d leaf, else an object array of symbols.
    """
    if not isinstance(tensor, Value):
        raise TypeError(f"leaf_symbols: expected a Tensor, got {type(tensor).__name__}")
    translator = _Translator()
    translator(tensor)
    return {leaf: _unwrap(array) for leaf, array in translator.leaves.items()}


@register_translation(Jacobian)
def _jacobian(op: Jacobian, *arrays: np.ndarray) -> np.ndarray:
    """The explicit Jacobian graph, built at the traced point, translated with the inputs' sympy."""
    args = list(op._args)
    leaves = []
    for k, leaf in zip(op._slots, op._leaves):
        args[k] = Tensor.make_const(leaf.realize_cached_data(), requires_grad=True)
        leaves.append(args[k])
    with enable_grad(), autograd.lazy_mode(False):
        explicit = _jacobian_graph(op._f, args, op.argnum)
    result = to_sympy(explicit, symbols=dict(zip(leaves, arrays)))
    return np.asarray(result, dtype=object) if isinstance(result, np.ndarray) else np.array(result)
