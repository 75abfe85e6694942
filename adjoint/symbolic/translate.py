"""Symbolic truth: graphs to sympy and back, and exact checks of derivatives of any order.

:func:`to_sympy` runs a graph's own ops on NumPy object arrays of sympy
expressions, so the very graph that computes numbers yields formulas:

>>> import adjoint as ad
>>> x = ad.Tensor(0.5, name="x")
>>> y = ad.exp(x) * x
>>> y.backward()
>>> ad.symbolic.to_sympy(x.grad)
x*exp(x) + exp(x)

The linear and arithmetic ops (``+ * / **``, reshape, transpose, permute,
broadcast, sums, matmul, indexing, stack, concatenate, ...) need nothing: their
``compute`` works on object arrays as it is. Functions NumPy cannot apply to
sympy objects (exp, log, sin, tanh, ...) and the kinks declare their sympy
form, each op in its own class (its ``sympy`` method, see :class:`adjoint.Op`;
:func:`register_translation` adds or overrides one from outside, and an op
that declares none is tried with its ``compute``). The kinks translate so that
sympy's derivative agrees with the subgradient adjoint chose:

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

Dirac deltas, the distributional derivatives of jumps, are dropped from
sympy's derivatives: adjoint differentiates piecewise, so a jump's derivative
is 0, and so is sympy's everywhere but on the jump itself.

Symbols: a leaf that requires grad becomes real symbols named by its ``name``
(else ``x0``, ``x1``, ... in order of appearance in the topological order,
skipping names already taken). A 0-d leaf is one symbol ``x``; an array leaf
gives one symbol per element, named by its index: ``x_0, x_1`` for a vector,
``W_0_0, W_0_1, ...`` for a matrix (sympy prints them as subscripts).
Constants become their numbers, exactly where that is sensible: integers (and
integral floats) are ``Integer``; a float within 8 units in the last place
(of max(1, |v|)) of a fraction with denominator at most 1024 is that
``Rational`` (so ``0.5`` is 1/2 and ``2.2 - 1 - 1`` is 1/5); one as close to
the logarithm of such a fraction is that ``log`` (``math.log(5)`` in the
gradient of ``5 ** x`` is ``log(5)``), and one as close to a fraction (up to
/64) of pi is that multiple of ``pi``. Any other float is the ``Float`` of its
exact binary value. So gradient rules that compute constants in floating
point still give formulas that sympy can match exactly.

:func:`check` compares adjoint's n-th derivatives with ``sympy.diff``,
exactly, on both paths that build them: nested :func:`adjoint.grad`, as users
call it (simplified from the third order on), and repeated backward passes
(the raw gradient graphs); a bug in either, the simplifier's included, fails
the check and the report names the path. :func:`from_sympy` turns a formula
into a function of Tensors.
"""

from __future__ import annotations

import math
import numbers
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from adjoint.autograd import Op, Value, compute_gradient_of_variables, find_topo_sort
from adjoint.tensor import Tensor

__all__ = [
    "to_sympy",
    "leaf_symbols",
    "from_sympy",
    "check",
    "CheckReport",
    "Derivative",
    "PathResult",
    "PATHS",
    "register_translation",
    "has_translation",
    "FormulaTooDeepError",
    "DEEP_RECURSION_LIMIT",
]


# ------------------------------------------------------------------ deep formulas

#: The recursion limit, and the thread stack, that sympy's work on a deeply
#: nested formula runs under. The graph walks here are iterative, but sympy's
#: constructors (their assumption queries), ``diff``, printing and substitution
#: recurse once or more per level of nesting. Measured on the chain
#: ``h = sin(h) * 1.0001``, per step: about 4 Python frames to build its formula,
#: 9 to print it and 13 to differentiate it, so the default limit of 1,000 was
#: spent at 165 steps. Such work runs first as it is; on a ``RecursionError`` it
#: runs again in a thread of its own with this limit and a 256 MiB stack. The
#: stack is what makes a raised limit safe: sympy's frames take up to about
#: 850 bytes of C stack each (CPython 3.11), and a raised limit on the caller's
#: own stack (8 MB on Linux, 1 MB on Windows, 512 KB in macOS threads) could
#: crash the process instead of raising. 50,000 frames in 256 MiB leave 5 KB a
#: frame; only the pages used are committed, and only while the thread runs.
#: The limit is about 12,000 steps of that chain to build, 5,500 to print and
#: 3,800 to differentiate; sympy's time runs out long before (see to_sympy).
DEEP_RECURSION_LIMIT = 50_000
_DEEP_STACK_BYTES = 256 * 2**20

_deep_lock = threading.Lock()
_deep_threads = 0
_deep_saved_limit = 0
_deep_local = threading.local()


class FormulaTooDeepError(RecursionError):
    """sympy's work on a formula needed more than :data:`DEEP_RECURSION_LIMIT` frames."""


def _deep(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, with room for sympy to recurse through a deeply nested formula.

    Runs ``fn`` in the calling thread; if that raises ``RecursionError``, runs
    it again (it must be safe to repeat: translations and sympy calls are) in a
    thread with a large stack and the recursion limit raised to
    :data:`DEEP_RECURSION_LIMIT` (the limit is process-wide, so it is raised
    only while such a thread runs, and restored after the last one). Beyond
    that it raises :class:`FormulaTooDeepError`, a ``RecursionError`` that
    says so, rather than crashing.
    """
    if getattr(_deep_local, "inside", False):
        return fn(*args)  # already in a deep thread: its limit is the bound
    try:
        return fn(*args)
    except RecursionError:
        pass
    return _in_deep_thread(fn, args)


def _in_deep_thread(fn: Callable[..., Any], args: tuple) -> Any:
    from sympy.core.parameters import global_parameters

    # sympy's global parameters (``with sympy.evaluate(False)``) are per thread.
    parameters = dict(vars(global_parameters))
    outcome: list = []

    def work() -> None:
        _deep_local.inside = True
        for key, value in parameters.items():
            setattr(global_parameters, key, value)
        try:
            outcome.append(fn(*args))
        except BaseException as error:  # handed to the caller, raised there
            outcome.append(error)

    _raise_limit()
    try:
        with _deep_lock:
            old_size = threading.stack_size(_DEEP_STACK_BYTES)
            try:
                thread = threading.Thread(target=work, name="adjoint-sympy", daemon=True)
                thread.start()
            finally:
                threading.stack_size(old_size)
        thread.join()
    except (RuntimeError, ValueError, MemoryError) as error:
        if outcome:  # not from starting the thread
            raise
        outcome.append(RecursionError(f"no thread with a deeper stack could be started: {error}"))
    finally:
        _restore_limit()
    if not isinstance(outcome[0], BaseException):
        return outcome[0]
    error = outcome[0]
    if isinstance(error, RecursionError) and not isinstance(error, FormulaTooDeepError):
        raise FormulaTooDeepError(
            "the formula is nested too deeply for sympy: its work needs more than "
            f"{DEEP_RECURSION_LIMIT:,} levels of recursion "
            "(adjoint.symbolic.DEEP_RECURSION_LIMIT)"
        ) from None  # the chained error would keep 50,000 frames alive
    raise error


def _raise_limit() -> None:
    global _deep_threads, _deep_saved_limit
    with _deep_lock:
        if _deep_threads == 0:
            _deep_saved_limit = sys.getrecursionlimit()
        _deep_threads += 1
        sys.setrecursionlimit(max(_deep_saved_limit, DEEP_RECURSION_LIMIT))


def _restore_limit() -> None:
    global _deep_threads
    with _deep_lock:
        _deep_threads -= 1
        raised = max(_deep_saved_limit, DEEP_RECURSION_LIMIT)
        if _deep_threads == 0 and sys.getrecursionlimit() == raised:
            sys.setrecursionlimit(_deep_saved_limit)


# ----------------------------------------------------------------------- numbers


def _number(value: Any) -> sympy.Expr:
    """A NumPy or Python number as an exact sympy number where sensible (module docstring)."""
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


def _element(value: Any, op_name: str) -> sympy.Expr:
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return _number(value)
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
    for k, v in enumerate(np.asarray(data).reshape(-1).tolist()):
        flat[k] = _number(v)
    return array


# ------------------------------------------------------------------ translations

#: Translations registered by op class: ``fn(op, *object_arrays) -> object array``.
#: They take precedence over the ops' own ``sympy`` methods.
_TRANSLATIONS: dict[type, Callable[..., Any]] = {}


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def _count_arg(value: Any, name: str, what: str, least: int) -> int:
    """An int argument of at least ``least``; bools and floats are refused."""
    if not _is_int(value):
        raise TypeError(
            f"{name}: {what} must be an int >= {least}, got {value!r} ({type(value).__name__}; "
            "bools and floats are not counts)"
        )
    if value < least:
        raise ValueError(f"{name}: {what} must be an int >= {least}, got {value}")
    return int(value)


def _tolerance_arg(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(
            f"{name}: {what} must be a real number >= 0, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a finite number >= 0, got {value}")
    return value


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
        _TRANSLATIONS[op_class] = fn
        return fn

    return decorate


def _translation(op_class: type) -> Callable[..., Any] | None:
    """The registered translation or declared ``sympy`` method of ``op_class``, or of the
    nearest base whose ``compute`` it keeps; None: ``Op.sympy``'s fallback to compute."""
    for cls in op_class.__mro__:
        fn = _TRANSLATIONS.get(cls)
        if fn is not None:
            return fn
        if cls is Op:
            return None
        fn = cls.__dict__.get("sympy")
        if fn is not None:
            return fn
        if "compute" in cls.__dict__:
            return None
    return None


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


def _unwrap(array: np.ndarray) -> Any:
    return array[()] if array.ndim == 0 else array


def to_sympy(tensor: Value, symbols: Mapping[Value, Any] | None = None) -> Any:
    """The graph of ``tensor`` (a gradient graph of any order included) as sympy.

    Returns a sympy expression for a 0-d tensor, else a NumPy object array of
    expressions of the tensor's shape (``sympy.Array(result)`` converts it;
    NumPy's own functions keep working on it). Symbols and constants follow the
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


# ---------------------------------------------------------------- zero proofs


def _drop_deltas(expr: sympy.Expr) -> sympy.Expr:
    deltas = expr.atoms(sympy.DiracDelta)
    return expr.xreplace({d: sympy.Integer(0) for d in deltas}) if deltas else expr


def _heaviside_as_sign(expr: sympy.Expr) -> sympy.Expr:
    """Heaviside(z, h) = (sign(z) + 1)/2 + (h - 1/2)(1 - sign(z)**2): one normal form."""
    steps = expr.atoms(sympy.Heaviside)
    if not steps:
        return expr
    replace = {}
    for h in steps:
        z = h.args[0]
        h0 = h.args[1] if len(h.args) > 1 else sympy.Rational(1, 2)
        s = sympy.sign(z)
        replace[h] = (s + 1) / 2 + (h0 - sympy.Rational(1, 2)) * (1 - s**2)
    return expr.xreplace(replace)


_SIMPLIFY_LIMIT = 200


def _derivative_of(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    return _drop_deltas(sympy.diff(expr, symbol))


def _proved_zero_difference(a: sympy.Expr, b: sympy.Expr) -> bool:
    return _proved_zero(a - b)


def _proved_zero(expr: sympy.Expr) -> bool:
    """True if ``expr`` simplifies to 0 (False means only: not proved)."""
    if expr == 0:
        return True
    expanded = sympy.expand(expr)
    if expanded == 0:
        return True
    normal = sympy.expand(_heaviside_as_sign(expanded))
    if normal == 0:
        return True
    # Piecewise (Max's tie masks) defeats both steps below, and large
    # expressions make them slow: those are left to the comparison of values.
    if normal.has(sympy.Piecewise) or sympy.count_ops(normal) > _SIMPLIFY_LIMIT:
        return False
    # Exact rational arithmetic decides identities of rational functions (of
    # exp(x), sin(x), Max(x, y), ... as atoms), which softmax-like graphs need.
    floats = normal.atoms(sympy.Float)
    exact = normal.xreplace({f: sympy.Rational(f) for f in floats}) if floats else normal
    if sympy.cancel(sympy.together(exact)) == 0:
        return True
    # simplify rewrites Max and Min as Piecewise and can then run for minutes.
    if normal.has(sympy.Max, sympy.Min):
        return False
    return sympy.simplify(normal) == 0


def _evaluate(expr: sympy.Expr, values: Mapping[sympy.Symbol, float]) -> complex:
    point = {s: sympy.Float(v, 40) for s, v in values.items() if s in expr.free_symbols}
    result = sympy.sympify(expr).xreplace(point).evalf(30)
    try:
        return complex(result)
    except TypeError:
        return complex(math.nan)


# ------------------------------------------------------------------------- check


#: The ways :func:`check` builds each derivative, in the order it reports them.
PATHS = ("grad", "backward")
_PATH_TITLES = {"grad": "nested ad.grad", "backward": "repeated backward()"}


@dataclass
class PathResult:
    """One way of building a derivative, compared with sympy by :func:`check`.

    ``name`` is ``"grad"`` (nested :func:`adjoint.grad` with its default
    settings, the way users compute derivatives, simplification from the third
    order on included) or ``"backward"`` (repeated backward passes with one-hot
    cotangents, never simplified). ``expr`` is the graph as sympy, ``value``
    its number at the inputs, ``status`` as for :class:`Derivative`.
    """

    name: str
    expr: sympy.Expr
    value: float
    status: str  # "identical", "equal in value" or "DIFFERENT"

    @property
    def ok(self) -> bool:
        return self.status != "DIFFERENT"


def _worst(statuses: Sequence[str]) -> str:
    for status in ("DIFFERENT", "equal in value"):
        if status in statuses:
            return status
    return "identical"


@dataclass
class Derivative:
    """One derivative compared by :func:`check`: sympy's and adjoint's, as formulas and values.

    ``paths`` holds each way adjoint built it (:data:`PATHS`: ``"grad"`` and
    ``"backward"``, see :class:`PathResult`); ``status`` is the worst of
    theirs, so a derivative is ``ok`` only when every path agrees with sympy.
    ``adjoint_expr`` and ``adjoint_value`` are the backward-built one's.
    """

    label: str
    latex: str
    sympy_expr: sympy.Expr
    adjoint_expr: sympy.Expr
    sympy_value: float
    adjoint_value: float
    status: str  # "identical", "equal in value" or "DIFFERENT"
    paths: dict[str, PathResult] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "DIFFERENT"

    @property
    def failed_paths(self) -> tuple[str, ...]:
        """The names of the paths whose derivative disagrees with sympy's."""
        return tuple(name for name, p in self.paths.items() if not p.ok)

    @property
    def abs_diff(self) -> float:
        """The largest |adjoint - sympy| at the inputs, over the paths."""
        values = [p.value for p in self.paths.values()] or [self.adjoint_value]
        return max(abs(v - self.sympy_value) for v in values)


def _status_text(d: Derivative) -> str:
    """``d.status``, followed by the paths that have it when the paths differ."""
    worst = [p.name for p in d.paths.values() if p.status == d.status]
    if len(worst) == len(d.paths):
        return d.status
    return f"{d.status} ({', '.join(worst)})"


def _short(expr: Any, width: int = 60) -> str:
    text = str(expr)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class CheckReport:
    """The result of :func:`check`: true (``bool(report)``, ``report.ok``) when all agree.

    ``identical`` says that every difference, on every path, simplified to
    zero; ``max_abs_diff`` is the largest difference between adjoint's numbers
    and sympy's (evaluated to 30 digits) at the inputs. ``paths`` says per path
    (``"grad"``, ``"backward"``) whether all its derivatives agree, and
    ``failed_paths`` names those that do not. Prints as a table in a terminal
    and as Markdown with formulas in a notebook.
    """

    name: str
    order: int
    point: dict[str, Any]
    derivatives: list[Derivative]

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.derivatives)

    @property
    def identical(self) -> bool:
        return all(d.status == "identical" for d in self.derivatives)

    @property
    def max_abs_diff(self) -> float:
        return max((d.abs_diff for d in self.derivatives), default=0.0)

    @property
    def paths(self) -> dict[str, bool]:
        """Per path, in the order of :data:`PATHS`: True when all its derivatives agree."""
        names = [n for n in PATHS if any(n in d.paths for d in self.derivatives)]
        return {n: all(d.paths[n].ok for d in self.derivatives if n in d.paths) for n in names}

    @property
    def failed_paths(self) -> tuple[str, ...]:
        """The paths with at least one derivative that disagrees with sympy."""
        return tuple(n for n, ok in self.paths.items() if not ok)

    def __bool__(self) -> bool:
        return self.ok

    def _summary(self) -> str:
        n = len(self.derivatives)
        same = sum(d.status == "identical" for d in self.derivatives)
        bad = sum(not d.ok for d in self.derivatives)
        parts = [f"{same} of {n} identical"]
        if n - same - bad:
            parts.append(f"{n - same - bad} equal in value only")
        if bad:
            parts.append(f"{bad} DIFFERENT")
        paths = self.paths
        if self.ok:
            verdict = "OK" + (f", {' and '.join(paths)} agree" if paths else "")
        else:
            said = [f"{name} {'agrees' if ok else 'DISAGREES'}" for name, ok in paths.items()]
            verdict = ": ".join(["FAILED", ", ".join(said)] if said else ["FAILED"])
        return (
            f"check {self.name}, order {self.order}: {verdict} ({', '.join(parts)}; "
            f"max |adjoint - sympy| at the inputs = {self.max_abs_diff:.3g})"
        )

    def __str__(self) -> str:
        return _deep(self._text)  # printing a formula recurses through it

    def _text(self) -> str:
        lines = [self._summary()]
        width = max((len(d.label) for d in self.derivatives), default=0)
        shown = 0
        for d in self.derivatives:
            if d.ok and shown >= 12:
                continue
            shown += d.ok
            status = _status_text(d)
            lines.append(
                f"  {d.label:<{width}}  {status:<14}  |diff| {d.abs_diff:.2e}  "
                f"{_short(d.sympy_expr)}"
            )
            if not d.ok:
                lines.append(
                    f"  {'':<{width}}    {'sympy':<9}{'':<16}{d.sympy_expr}  = {d.sympy_value!r}"
                )
                for p in d.paths.values():
                    lines.append(
                        f"  {'':<{width}}    {p.name:<9}{p.status:<16}{p.expr}  = {p.value!r}"
                    )
        hidden = sum(d.ok for d in self.derivatives) - shown
        if hidden > 0:
            lines.append(f"  ... and {hidden} more that agree")
        point = ", ".join(
            f"{k} = {np.array2string(np.asarray(v), precision=6)}" for k, v in self.point.items()
        )
        lines.append(f"  at {point}")
        if self.paths:
            titles = (f"{n} = {_PATH_TITLES.get(n, n)}" for n in self.paths)
            lines.append("  paths: " + "; ".join(titles))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self._summary()}>"

    def _repr_markdown_(self) -> str:
        return _deep(self._markdown)

    def _markdown(self) -> str:
        names = list(self.paths)
        rows = [
            f"**{self._summary()}**",
            "",
            "| derivative | sympy | "
            + " | ".join(_PATH_TITLES.get(n, n) for n in names)
            + " | status | \\|diff\\| |",
            "|---|---|" + "---|" * len(names) + "---|---|",
        ]
        for d in self.derivatives:
            cells = []
            for n in names:
                p = d.paths.get(n)
                if p is None:
                    cells.append("")
                elif p.status == "identical":
                    cells.append("(same)")
                else:
                    cells.append(f"${_cell(p.expr)}$ ({p.status})")
            status = _status_text(d)
            rows.append(
                f"| ${d.latex}$ | ${_cell(d.sympy_expr)}$ | {' | '.join(cells)} | {status} "
                f"| {d.abs_diff:.2e} |"
            )
        return "\n".join(rows)


def _cell(expr: sympy.Expr) -> str:
    """LaTeX for a Markdown table cell: a bare | would end the cell (Abs prints as |x|)."""
    return sympy.latex(expr).replace("|", r"\vert ")


def _input_array(x: Any, k: int) -> np.ndarray:
    """Input ``k`` of :func:`check` as float64: real finite numbers, not bools or strings."""
    data = x.numpy() if isinstance(x, Tensor) else x
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"check: input {k} is not a rectangular array of numbers") from error
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"check: input {k} must be real numbers (int or float), got {type(x).__name__} "
            f"{x!r} of dtype {array.dtype} (bools, complex numbers, strings and objects "
            "are refused)"
        )
    array = np.array(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"check: input {k} holds nan or inf; give finite numbers")
    return array


def _input_names(inputs: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    if names is not None:
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise TypeError(
                f"check: names must be a list of str, one per input, got {type(names).__name__} "
                f"{names!r}"
            )
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"check: each name must be a non-empty str, got {name!r}")
        if len(names) != len(inputs):
            raise ValueError(f"check: {len(names)} names for {len(inputs)} inputs")
        if len(set(names)) != len(names):
            raise ValueError(f"check: the names {list(names)} repeat; give distinct names")
        return list(names)
    given = [x.name if isinstance(x, Tensor) else None for x in inputs]
    taken = {name for name in given if name is not None}
    result = []
    k = 0
    for name in given:
        if name is None:
            while f"x{k}" in taken:
                k += 1
            name = f"x{k}"
            taken.add(name)
        result.append(name)
    if len(set(result)) != len(result):
        raise ValueError(f"check: the inputs' names {result} repeat; give distinct names")
    return result


def _one_hot(shape: tuple[int, ...], index: tuple[int, ...]) -> Tensor:
    data = np.zeros(shape)
    data[index] = 1.0
    return Tensor(data, requires_grad=False)


def _adjoints(output: Tensor, index: tuple[int, ...], leaves: list[Tensor]) -> list[Tensor | None]:
    """Adjoint graphs of ``output[index]`` for each leaf (None: does not depend on it)."""
    if not output.requires_grad:
        return [None] * len(leaves)
    for leaf in leaves:
        leaf.grad = None
    compute_gradient_of_variables(output, _one_hot(output.shape, index))
    grads = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    return grads


def _label(name: str, out_index: tuple, out_ndim: int, syms: list[sympy.Symbol]) -> tuple:
    target = name + (f"[{', '.join(map(str, out_index))}]" if out_ndim else "")
    n = len(syms)
    power = "" if n == 1 else str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    text = f"∂{power}{target}/" + "".join(f"∂{s}" for s in syms)
    latex_target = sympy.latex(sympy.Symbol(name)) + (
        f"_{{{','.join(map(str, out_index))}}}" if out_ndim else ""
    )
    top = r"\partial" + (f"^{{{n}}}" if n > 1 else "") + " " + latex_target
    bottom = r"\,".join(r"\partial " + sympy.latex(s) for s in syms)
    return text, rf"\frac{{{top}}}{{{bottom}}}"


def _output_element(f: Callable[..., Tensor], index: tuple[int, ...]) -> Callable[..., Tensor]:
    """``f``'s output element ``index`` as a scalar function (``f`` itself for a 0-d output)."""
    if not index:
        return f
    return lambda *xs: f(*xs)[index]


def _partial(h: Callable[..., Tensor], j: int, index: tuple[int, ...]) -> Callable[..., Tensor]:
    """The derivative of the scalar function ``h`` in element ``index`` of argument ``j``,
    as users write it: ``ad.grad(h, argnums=j)``, indexed (default settings)."""
    from adjoint.functional import grad

    g = grad(h, argnums=j)
    if not index:
        return g
    return lambda *xs: g(*xs)[index]


def check(
    f: Callable[..., Tensor],
    *inputs: Any,
    order: int = 1,
    names: Sequence[str] | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    samples: int = 3,
    seed: int = 0,
) -> CheckReport:
    """Compare adjoint's derivatives of ``f`` of exactly ``order`` with ``sympy.diff``.

    ``f`` is applied to Tensors made from ``inputs`` (named by ``names``, a
    Tensor input's own name, or ``x0``, ``x1``, ...) and its graph becomes
    sympy with :func:`to_sympy`. Every ``order``-th partial derivative of every
    output element, mixed ones included and each order of differentiation
    separately, is built by adjoint as a graph in two ways (the *paths*,
    :data:`PATHS`), converted with :func:`to_sympy`, and compared with
    ``sympy.diff`` of the forward formula:

    * ``"grad"``: nested :func:`adjoint.grad` with its default settings, as
      users call it: ``ad.grad(ad.grad(f, argnums=j), argnums=i)``, each level
      indexed to the element it differentiates (and ``f``'s output to one
      element). From the third order on this path runs the simplifier, so
      ``check`` tests :func:`adjoint.simplify.simplify` where users meet it.
    * ``"backward"``: backward passes with one-hot cotangents, repeated on the
      gradient graphs, never simplified: the engine's own rules.

    Each path's derivative is

    * ``identical``: the difference simplifies to 0;
    * ``equal in value``: simplify could not prove it, but the difference is 0
      to ``rtol``/``atol`` at the inputs and at ``samples`` points nearby,
      evaluated to 30 digits;
    * ``DIFFERENT`` otherwise.

    Adjoint's numbers (the gradient graphs' values) are compared with sympy's
    at the inputs too (``max_abs_diff``). The report is true when nothing, on
    either path, is DIFFERENT; ``report.failed_paths`` names the paths that
    disagree and each :class:`Derivative` holds both results in ``paths``.
    The cost grows as (number of input elements) ** order: meant for small
    inputs. It grows with depth too: sympy's differentiation of a chain of
    ``h = sin(h)`` takes 2.6 s at 150 steps (where it needs more than the
    default recursion limit, see :func:`to_sympy`) and 5.5 s at 200, and of
    ``h = sin(h) * 1.0001`` 27 s at 165 steps, nearly all of it in sympy,
    which sorts each product's deeply nested factors by comparing them.

    >>> import adjoint as ad
    >>> report = ad.symbolic.check(lambda x, y: ad.sin(x * y), 0.5, 2.0, order=2)
    >>> report.ok, report.identical, report.paths
    (True, True, {'grad': True, 'backward': True})
    """
    if not callable(f):
        raise TypeError(
            f"check: f must be a function of Tensors (a callable), got {type(f).__name__}"
        )
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        error = ValueError if _is_int(order) else TypeError
        raise error(f"check: order must be a positive int, got {order!r}")
    if not inputs:
        raise ValueError("check: give at least one input")
    rtol = _tolerance_arg(rtol, "check", "rtol")
    atol = _tolerance_arg(atol, "check", "atol")
    samples = _count_arg(samples, "check", "samples", 0)
    seed = _count_arg(seed, "check", "seed", 0)
    labels = _input_names(inputs, names)
    arrays = [_input_array(x, k) for k, x in enumerate(inputs)]
    leaves = [Tensor(a, name=n) for a, n in zip(arrays, labels)]
    symbols = {leaf: _symbol_array(n, leaf.shape) for leaf, n in zip(leaves, labels)}
    translate = _Translator(symbols)
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"check: f must return a Tensor, got {type(out).__name__}")
    forward = translate(out)
    variables = [(j, idx) for j, leaf in enumerate(leaves) for idx in np.ndindex(leaf.shape)]
    point = {symbols[leaves[j]][idx]: float(arrays[j][idx]) for j, idx in variables}

    # The backward path. items: (out_index, path of variables, tensor or None, element index)
    items = [(e, (), out, e) for e in np.ndindex(out.shape)]
    for _ in range(order):
        extended = []
        for e, path, tensor, index in items:
            grads = _adjoints(tensor, index, leaves) if tensor is not None else None
            for v, (j, idx) in enumerate(variables):
                extended.append((e, path + (v,), None if grads is None else grads[j], idx))
        items = extended

    rng = np.random.default_rng(seed)
    # Nearby points keep each coordinate's sign (and zeros), so domains such as
    # log's are kept; points where either side is not a finite real are skipped.
    nearby = [
        {s: v * (1 + 0.05 * rng.standard_normal()) for s, v in point.items()}
        for _ in range(samples)
    ]
    exact: dict[tuple, sympy.Expr] = {}

    def sympy_derivative(e: tuple, path: tuple) -> sympy.Expr:
        # Each prefix of ``path`` differentiated once, in a loop: a recursive
        # closure would refer to itself (a reference cycle).
        expr = forward[e]
        for k in range(1, len(path) + 1):
            key = (e, path[:k])
            found = exact.get(key)
            if found is None:
                j, idx = variables[path[k - 1]]
                found = exact[key] = _deep(_derivative_of, expr, symbols[leaves[j]][idx])
            expr = found
        return expr

    # Both paths often give the same formula: compare each pair of formulas once.
    compared: dict[tuple[sympy.Expr, sympy.Expr], str] = {}

    def compare(got: sympy.Expr, want: sympy.Expr) -> str:
        status = compared.get((got, want))
        if status is not None:
            return status
        if _deep(_proved_zero_difference, got, want):
            status = "identical"
        else:
            status = "equal in value"
            for k, values in enumerate([point, *nearby]):
                a, b = _deep(_evaluate, got, values), _deep(_evaluate, want, values)
                if k and not all(np.isfinite([a.real, b.real]) & ([a.imag, b.imag] == [0, 0])):
                    continue
                if not np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                    status = "DIFFERENT"
                    break
        compared[(got, want)] = status
        return status

    def result(name: str, got: sympy.Expr, got_value: float, want: sympy.Expr, want_value: float):
        status = compare(got, want)
        if not np.isclose(got_value, want_value, rtol=1e-7, atol=1e-10, equal_nan=True):
            status = "DIFFERENT"
        return PathResult(name, got, got_value, status)

    name = getattr(f, "__name__", "f")
    name = name if name.isidentifier() else "f"
    derivatives = []
    for e, path, tensor, index in items:
        want = sympy_derivative(e, path)
        want_value = _deep(_evaluate, want, point).real
        if tensor is None:
            got, got_value = sympy.Integer(0), 0.0
        else:
            got = translate(tensor)[index]
            got_value = float(tensor.numpy()[index])
        backward = result("backward", got, got_value, want, want_value)
        # The grad path: nested ad.grad, one level per variable of the path.
        h = _output_element(f, e)
        for v in path:
            h = _partial(h, *variables[v])
        nested = h(*leaves)
        grad = result("grad", translate(nested)[()], float(nested.numpy()), want, want_value)
        syms = [symbols[leaves[variables[v][0]]][variables[v][1]] for v in path]
        text, latex = _label(name, e, out.ndim, syms)
        status = _worst([grad.status, backward.status])
        paths = {"grad": grad, "backward": backward}
        derivatives.append(Derivative(text, latex, want, got, want_value, got_value, status, paths))
    return CheckReport(name, order, dict(zip(labels, arrays)), derivatives)


# -------------------------------------------------------------------- from_sympy


def _ops():
    from adjoint import ops

    return ops


def _needs(name: str):
    fn = getattr(_ops(), name, None)
    if fn is None:
        raise NotImplementedError(f"from_sympy: adjoint.ops has no {name!r} yet")
    return fn


def _heaviside(x, h0=None):
    ops = _ops()
    if h0 is not None and float(h0) == 0:
        return ops.step(x)
    h0 = 0.5 if h0 is None else float(h0)
    s = _needs("sign")(x)
    return (s + 1) * 0.5 + (h0 - 0.5) * (1 - s * s)


def _fold(fn):
    def apply(*args):
        result = args[0]
        for a in args[1:]:
            result = fn(result, a)
        return result

    return apply


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    sympy.exp: lambda x: _ops().exp(x),
    sympy.log: lambda x: _ops().log(x),
    sympy.sin: lambda x: _ops().sin(x),
    sympy.cos: lambda x: _ops().cos(x),
    sympy.tan: lambda x: _ops().sin(x) / _ops().cos(x),
    sympy.tanh: lambda x: _needs("tanh")(x),
    sympy.sinh: lambda x: (_ops().exp(x) - _ops().exp(-x)) * 0.5,
    sympy.cosh: lambda x: (_ops().exp(x) + _ops().exp(-x)) * 0.5,
    sympy.Abs: lambda x: _needs("abs")(x),
    sympy.sign: lambda x: _needs("sign")(x),
    sympy.Max: _fold(lambda a, b: _needs("maximum")(a, b)),
    sympy.Min: _fold(lambda a, b: _needs("minimum")(a, b)),
    sympy.Heaviside: _heaviside,
}


def _is_number(value: Any) -> bool:
    return not isinstance(value, Value)


def _from_number(expr: sympy.Expr) -> float | int:
    if expr.is_Integer:
        return int(expr)
    value = complex(expr.evalf(30))
    if value.imag or not math.isfinite(value.real):
        raise ValueError(f"from_sympy: {expr} is not a finite real number")
    return value.real


def _build_add(args: list[Any]) -> Any:
    constant = sum(a for a in args if _is_number(a))
    tensors = [a for a in args if not _is_number(a)]
    result = tensors[0]
    for t in tensors[1:]:
        result = result + t
    return result + constant if constant else result


def _mul_parts(expr: sympy.Mul) -> tuple:
    """``expr`` as (p, q, numerator factors, denominator factors): p/q * prod(num) / prod(den)."""
    coeff, factors = expr.as_coeff_mul()
    numerator, denominator = [], []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if exponent.is_Number and exponent < 0 and not base.is_Number:
            denominator.append(base if exponent == -1 else base**-exponent)
        else:
            numerator.append(factor)
    p, q = (int(coeff.p), int(coeff.q)) if coeff.is_Rational else (_from_number(coeff), 1)
    return p, q, numerator, denominator


def _build_mul(parts: tuple, built: Mapping[sympy.Basic, Any]) -> Any:
    p, q, numerator, denominator = parts
    if not numerator:
        result = p / q
        for d in denominator:
            result = result / built[d]
        return result
    result = built[numerator[0]]
    for a in numerator[1:]:
        result = result * built[a]
    if p == -1:
        result = -result
    elif p != 1:
        result = result * p
    for d in denominator:
        result = result / built[d]
    return result / q if q != 1 else result


def _pow_parts(expr: sympy.Pow) -> tuple:
    """``expr`` as (how, base, exponent): each a sympy expression or, where a number, its value."""
    base, exponent = expr.args
    if base is sympy.E:
        return "exp", None, exponent
    if exponent == sympy.Rational(1, 2) and not base.is_Number:
        return "sqrt", base, None
    if exponent.is_Number:
        return "power_scalar", base, _from_number(exponent)
    if base.is_Number:
        return "scalar_power", _from_number(base), exponent
    return "power", base, exponent


def _build_pow(parts: tuple, built: Mapping[sympy.Basic, Any]) -> Any:
    how, base, exponent = parts
    ops = _ops()
    if how == "exp":
        return ops.exp(built[exponent])
    if how == "sqrt":
        return _needs("sqrt")(built[base])
    if how == "power_scalar":
        return ops.power_scalar(built[base], exponent)
    if how == "scalar_power":
        return ops.scalar_power(base, built[exponent])
    return ops.power(built[base], built[exponent])


def _children(expr: sympy.Basic) -> tuple:
    if isinstance(expr, sympy.Mul):
        _, factors = expr.as_coeff_mul()
        children = []
        for factor in factors:
            base, exponent = factor.as_base_exp()
            if exponent.is_Number and exponent < 0 and not base.is_Number:
                children.append(base if exponent == -1 else base**-exponent)
            else:
                children.append(factor)
        return tuple(children)
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if base is sympy.E:
            return (exponent,)
        return tuple(a for a in (base, exponent) if not a.is_Number)
    if isinstance(expr, sympy.Heaviside):
        return expr.args[:1]
    return expr.args


def _formula(expr: Any) -> sympy.Expr:
    """``expr`` as a sympy expression: a string is parsed as ``python -m adjoint diff``
    parses formulas (an ``ast`` check and size bounds first; never evaluated as Python,
    as ``sympy.sympify`` would), a number becomes a sympy number."""
    if isinstance(expr, str):
        from adjoint.cli.diff import UsageError, parse_formula

        try:
            return parse_formula(expr)
        except UsageError as error:
            raise ValueError(f"from_sympy: {error}") from None
    if isinstance(expr, numbers.Number) and not isinstance(expr, bool):
        expr = sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise TypeError(
            f"from_sympy: expected a sympy expression, a formula string or a number, "
            f"got {type(expr).__name__}"
        )
    return expr


def from_sympy(expr: Any, symbols: Sequence[sympy.Symbol] | None = None) -> Callable[..., Tensor]:
    """A Python function of Tensors that computes ``expr`` with adjoint's ops.

    Its arguments are the values of ``symbols`` in order (default: the free
    symbols sorted by name); each may be a Tensor, an array or a number, and
    they broadcast. Supported: numbers (and pi, E), ``+ * / **``, exp, log,
    sin, cos, tan, tanh, sinh, cosh, sqrt, Abs, sign, Max, Min and
    Heaviside; anything else raises ``NotImplementedError`` naming it.

    >>> import sympy
    >>> import adjoint as ad
    >>> x = sympy.Symbol("x")
    >>> f = from_sympy(x**3 + sympy.sin(x))
    >>> t = ad.Tensor(0.0)
    >>> f(t).backward()
    >>> float(t.grad)
    1.0
    """
    expr = _formula(expr)
    free = _deep(getattr, expr, "free_symbols")  # recursive through the nesting
    if symbols is None:
        symbols = sorted(free, key=lambda s: s.name)
    elif isinstance(symbols, (str, bytes)) or not isinstance(symbols, Sequence):
        raise TypeError(
            "from_sympy: symbols must be a list of sympy Symbols (the arguments in order), "
            f"got {type(symbols).__name__} {symbols!r}"
        )
    symbols = list(symbols)
    for symbol in symbols:
        if not isinstance(symbol, sympy.Symbol):
            raise TypeError(
                f"from_sympy: symbols must be sympy Symbols, got {symbol!r} "
                f"({type(symbol).__name__})"
            )
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"from_sympy: symbols {symbols} repeat a symbol; give each once")
    missing = free - set(symbols)
    if missing:
        names = ", ".join(sorted(s.name for s in missing))
        raise ValueError(
            f"from_sympy: the expression uses {names}, not among the symbols {symbols}"
        )
    # All of sympy's work (recursive through the formula's nesting) is done here,
    # once, with _deep's room; fn below only runs adjoint's ops.
    plan = _deep(_plan, expr, set(symbols))

    def fn(*args: Any) -> Tensor:
        from adjoint.ops.common import as_tensor

        if len(args) != len(symbols):
            raise TypeError(
                f"from_sympy function of {[s.name for s in symbols]} takes {len(symbols)} "
                f"argument(s), got {len(args)}"
            )
        tensors = [as_tensor(a, "from_sympy") for a in args]
        built: dict[sympy.Basic, Any] = dict(zip(symbols, tensors))
        for node, how, parts in plan:
            if node in built:
                continue
            if how == "number":
                built[node] = parts
            elif how == "add":
                built[node] = _build_add([built[a] for a in parts])
            elif how == "mul":
                built[node] = _build_mul(parts, built)
            elif how == "pow":
                built[node] = _build_pow(parts, built)
            else:
                function, children, extra = parts
                built[node] = function(*[built[a] for a in children], *extra)
        result = built[expr]
        if _is_number(result):
            shape = np.broadcast_shapes(*[t.shape for t in tensors]) if tensors else ()
            return Tensor(np.full(shape, float(result)), requires_grad=False)
        return result

    return fn


def _plan(expr: sympy.Expr, symbols: set) -> list[tuple[sympy.Basic, str, Any]]:
    """How :func:`from_sympy` builds ``expr``: (node, how, parts), children first.

    Checks that every function is supported; a constant subexpression becomes
    its number here (``ValueError`` if it is not a finite real).
    """
    order = _postorder(expr)
    for node in order:
        if node.is_Number or node.is_NumberSymbol or node.is_Symbol:
            continue
        if isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)):
            continue
        if node.func not in _FUNCTIONS and node.free_symbols:
            supported = ", ".join(
                ["Add", "Mul", "Pow"] + [getattr(f, "__name__", str(f)) for f in _FUNCTIONS]
            )
            raise NotImplementedError(
                f"from_sympy: {type(node).__name__} (in {node}) is not supported; "
                f"supported: {supported}, numbers and symbols"
            )
    plan: list[tuple[sympy.Basic, str, Any]] = []
    for node in order:
        if node in symbols:
            continue
        if not node.free_symbols:
            plan.append((node, "number", _from_number(node)))
        elif isinstance(node, sympy.Add):
            plan.append((node, "add", node.args))
        elif isinstance(node, sympy.Mul):
            plan.append((node, "mul", _mul_parts(node)))
        elif isinstance(node, sympy.Pow):
            plan.append((node, "pow", _pow_parts(node)))
        else:
            extra = node.args[1:] if isinstance(node, sympy.Heaviside) else ()
            plan.append((node, "call", (_FUNCTIONS[node.func], _children(node), extra)))
    return plan


def _postorder(expr: sympy.Basic) -> list[sympy.Basic]:
    """Subexpressions, children before parents, each once (iterative)."""
    seen: set = set()
    order: list = []
    stack = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if node.free_symbols and not node.is_Symbol:
            for child in reversed(_children(node)):
                if child not in seen:
                    stack.append((child, False))
    return order
