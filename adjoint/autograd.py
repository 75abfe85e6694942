"""The engine: graph nodes, eager or lazy evaluation, and reverse-mode differentiation.

The design is CMU needle's (Deep Learning Systems, homework 1):

* :class:`Value` is a node of the computational graph: ``op``, ``inputs``,
  ``cached_data`` (a NumPy array, or ``None`` while not yet computed) and
  ``requires_grad``.
* :class:`Op` declares ``compute(*arrays) -> array`` and
  ``gradient(out_grad, node) -> tuple of Values``. ``gradient`` is written only
  with Tensor operations, so every adjoint is itself a graph node and can be
  differentiated again: higher-order derivatives cost no extra machinery.
* :func:`compute_gradient_of_variables` walks the graph in reverse topological
  order, sums each node's partial adjoints with Tensor additions and stores the
  result in ``.grad`` of the leaves (and of nodes marked with ``retain_grad()``).

Every walk over a graph is iterative (:func:`adjoint.walk.toposort`), so
graphs far deeper than Python's recursion limit work. The backward walk is a
plan (:func:`_plan`: what to visit, in what order) and needle's loop
(:func:`_backward`). It checks the adjoints that gradient rules return (one per
input, each of its input's shape) for ops defined outside this package; the
package's own rules are checked by the test suite instead, since the guard on
every node cost W1 18%.

Around this module: :mod:`adjoint.tensor` (the ``Tensor`` users hold, also
needle's ``autograd.Tensor``), :mod:`adjoint.inference` (lazy shapes and
dtypes), :mod:`adjoint.pickling` and :mod:`adjoint.walk`; none imports
anything above it (``tests/engine/test_layout.py``).

``TENSOR_COUNTER`` (needle's count of live Tensors, which its optimizer tests
read) is computed when read, by :func:`live_tensor_count`: nothing on the
path that makes nodes keeps it.

Lazy mode: while :data:`LAZY_MODE` is true, :meth:`Value.make_from_op` only
records the node, with its shape and dtype inferred from its inputs; the data
is computed when something asks for it. Eager mode (the default) computes each
node as it is made. The inferred dtype is NumPy's: an elementwise op's comes
from running its ``compute`` on one-element arrays of the input dtypes (cached),
so ``int / int`` is float64 before it is computed, and a dtype that eager mode
refuses (``-bool``) is refused when the node is recorded, with the same error.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import operator
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from adjoint.device import check_same_device, device_of, host_dtype
from adjoint.inference import _FloatMeta, _infer_meta
from adjoint.pickling import _empty_node, _GraphState, _pickle_members, _set_node_state
from adjoint.walk import toposort

#: ``np.ndarray``, read once per computed node on the hot paths (a module global
#: costs one lookup, ``np.ndarray`` two).
_ndarray = np.ndarray
_generic = np.generic

#: When true, ``make_from_op`` records nodes without computing them. needle's
#: name; a plain assignment ``adjoint.autograd.LAZY_MODE = True`` works.
LAZY_MODE = False

#: needle's ``autograd.Tensor`` and ``autograd.TensorOp``: defined in
#: :mod:`adjoint.tensor` (which builds on this module), bound here by it.
Tensor: type
TensorOp: type


class _ThreadState(threading.local):
    """Per-thread state: ``no_grad`` (as in PyTorch, each thread has its own) and the
    census tag of the backward walk running in this thread."""

    grad_enabled = True
    #: While a ``gradient()`` call runs inside this thread's backward walk: the
    #: derivative order being built and the forward op whose rule is running.
    #: Every node made meanwhile is tagged with it (the census of gradient
    #: graphs). Per thread: concurrent backward passes must not tag each other's
    #: nodes, nor leave a stale tag on every later forward node.
    grad_tag: tuple[int, Op] | None = None


_state = _ThreadState()

#: How many backward walks are running, in all threads. While none is, every
#: node's tag is None and node creation skips the thread-local read (a
#: threading.local attribute costs ~70 ns, a module global ~10 ns).
_backward_walks = 0
_walks_lock = threading.Lock()

#: Pause CPython's cyclic garbage collector while a backward walk (or
#: :func:`adjoint.simplify`) runs. A walk with ``create_graph=True``
#: makes a few objects per node that all stay alive; each time the allocations
#: cross the collector's threshold it traverses the whole live graph, which
#: took half the time of a 100,000-node backward pass. The walks make no
#: reference cycles of their own, so pausing frees nothing later than it would
#: be freed; cyclic garbage that a user's gradient rule makes is collected
#: after the walk. Set to False to leave the collector alone.
PAUSE_GC = True

_gc_pauses = 0
_gc_lock = threading.Lock()
_gc_was_enabled = False


class _GCPause:
    """``with _gc_paused:`` disables the cyclic GC for the block (see :data:`PAUSE_GC`).

    Nested and concurrent blocks share one pause; the collector is re-enabled
    when the last one ends, and only if it was enabled when the first began.
    (A class, not a generator: entering costs a fraction of a microsecond.)
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _gc_pauses, _gc_was_enabled
        with _gc_lock:
            if _gc_pauses == 0:
                if not PAUSE_GC:
                    return
                _gc_was_enabled = gc.isenabled()
                gc.disable()
            _gc_pauses += 1

    def __exit__(self, *exc_info: Any) -> None:
        global _gc_pauses
        with _gc_lock:
            if _gc_pauses == 0:  # PAUSE_GC was off when the block began
                return
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


_gc_paused = _GCPause()


#: How many ``no_grad`` blocks are open, in all threads. While none is, grad is
#: enabled in every thread and node creation skips the thread-local read.
_no_grad_blocks = 0

#: Observers of node creation and evaluation (see :func:`add_observer`). The hot
#: paths test this list once; when it is empty they pay nothing else.
_observers: list[Any] = []

# --------------------------------------------------------------------------- ops


class Op:
    """An operator: ``compute`` on NumPy arrays, ``gradient`` on Tensors.

    Subclasses set ``__call__`` (see :class:`TensorOp`) and may refine
    :meth:`infer_shape` / :meth:`infer_dtype`, which let lazy mode know a node's
    shape and dtype without computing it.
    """

    def __call__(self, *args: Value) -> Value:
        raise NotImplementedError()

    def compute(self, *args: np.ndarray) -> np.ndarray:
        """Compute the output array from the input arrays (NumPy in, NumPy out)."""
        raise NotImplementedError()

    def gradient(self, out_grad: Value, node: Value) -> Value | tuple[Value, ...]:
        """Partial adjoints of ``node``'s inputs given the adjoint ``out_grad`` of ``node``.

        Written with Tensor operations only, so the result is a graph node that
        can be differentiated again. Returns one Value per input, in order (a
        single Value is accepted for one-input ops).
        """
        raise NotImplementedError()

    def gradient_as_tuple(self, out_grad: Value, node: Value) -> tuple[Value, ...]:
        """``gradient`` as a tuple, one adjoint per input (needle's helper)."""
        output = self.gradient(out_grad, node)
        if isinstance(output, tuple):
            return output
        if isinstance(output, list):
            return tuple(output)
        return (output,)

    def infer_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...] | None:
        """Output shape from input shapes, or ``None`` if only computing can tell."""
        return None

    #: True for the ops of this package, whose gradient rules the test suite
    #: checks (against sympy, finite differences and by shape): the backward walk
    #: then skips its per-adjoint type and shape guard. Every class defined
    #: elsewhere, subclasses of these included, is checked at every use.
    trusted_gradient = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.trusted_gradient = cls.__module__.startswith("adjoint.")

    #: True for elementwise ops: ``compute`` works on inputs of any one shape
    #: and maps float inputs of one shape and dtype to an output of that same
    #: shape and dtype. Lazy mode then skips :meth:`infer_shape` and
    #: :meth:`infer_dtype` for float inputs, and finds the dtype for any other
    #: inputs (integers, bools, mixed dtypes) by running ``compute`` on
    #: one-element arrays, so NumPy's own rules decide (see ``_infer_dtype``).
    #: A promise about the op: set it only where it holds.
    keeps_float_meta = False

    def infer_dtype(self, *dtypes: np.dtype) -> np.dtype:
        """Output dtype from input dtypes (NumPy's promotion by default).

        Lazy mode asks it for ops that are not elementwise (elementwise ops run
        their ``compute`` on one-element arrays instead). The default is right
        for ops that move or combine elements without changing their type
        (reshapes, indexing, stacking, matmul); an op whose NumPy computation
        changes the dtype (a sum widens bool and small integers) must say so.
        """
        n = len(dtypes)
        if n and (n == 1 or (n == 2 and dtypes[0] is dtypes[1])) and dtypes[0].isnative:
            return dtypes[0]  # lazy mode's hot path: equal dtypes promote to themselves
        return np.result_type(*dtypes)

    @property
    def name(self) -> str:
        """The op's class name, used in error messages, drawings and censuses."""
        return type(self).__name__

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({attrs})"

    # ---- what the tools know about the op: declared here, next to compute/gradient.
    # An op declares what it can; the tools (adjoint.graph's tracing, drawing and run,
    # adjoint.symbolic, adjoint.simplify, adjoint.compile) read it through declared(),
    # so a subclass that redefines compute does not inherit facts about another one.
    # The engine never reads these, so they cost nothing when building or differentiating.

    #: True if swapping the inputs keeps the value: drawings then do not number the
    #: inputs, and the rewrite pass orders them canonically, so that ``op(a, b)`` and
    #: ``op(b, a)`` become one node (unless its rules for the class say otherwise:
    #: maximum and minimum keep their order, as swapped zeros differ in sign).
    commutative: bool = False

    #: True for the sums, products, scalar shifts and scales and integer powers that
    #: the rewrite pass's polynomial normal form reads through (it holds the algebra
    #: of each of adjoint's own such ops; elsewhere the flag changes nothing yet).
    polynomial: bool = False

    #: The forward expression for the tracing tables, as (plain text, LaTeX)
    #: templates: ``$0 $1 $2`` the inputs, ``$c`` the op's ``scalar`` (``$d`` is
    #: ``$c - 1``), e.g. ``("exp($0)", "\\exp($0)")``. None: ``Name(v1, v2)``.
    formula: tuple[str, str] | None = None

    #: One (plain text, LaTeX) template per input for the reverse-sweep table: the
    #: term the input's adjoint receives, with ``$g`` the node's adjoint and ``$y``
    #: the node, e.g. ``(("$g · exp($0)", "$g \\cdot \\exp($0)"),)``. None: the
    #: table shows the generic ``v̄3 · ∂v3/∂v1``.
    partials: tuple[tuple[str, str], ...] | None = None

    def sympy(self, *args: np.ndarray) -> Any:
        """The op on NumPy object arrays of sympy expressions (for ``to_sympy``).

        The default runs ``compute`` on them, which is right for ops made of
        arithmetic, reshapes and indexing. Override it where ``compute`` calls
        functions NumPy cannot apply to sympy objects (``np.exp``, comparisons):
        ``return np.frompyfunc(sympy.exp, 1, 1)(a)``.
        """
        try:
            return self.compute(*args)
        except Exception as error:
            raise TypeError(
                f"to_sympy: {self.name} has no sympy translation and its compute does not "
                f"work on sympy object arrays ({type(error).__name__}: {error}); define "
                f"{self.name}.sympy(self, *object_arrays), or register one with "
                f"adjoint.symbolic.register_translation({self.name})"
            ) from error

    #: True if ``compute`` given inputs with extra leading axes computes every point
    #: of the batch at once (NumPy broadcasting, as the elementwise ops): ``Graph.run``
    #: on a batch then calls ``compute`` directly, with no shape work.
    compute_broadcasts: bool = False

    def compute_batched(
        self, batch: tuple[int, ...], arrays: list[np.ndarray], shapes: list[tuple[int, ...]]
    ) -> Any:
        """The op on inputs with extra leading axes ``batch`` (for ``Graph.run``).

        ``arrays[k]`` has the shape ``shapes[k]`` the node was built with, plus
        leading axes that broadcast to ``batch``. Returns the stacked results
        (shape ``batch`` + the output's), as a loop over the points would, or
        ``NotImplemented`` (the default): then ``Graph.run`` runs the op point
        by point, which is always right and slower.
        """
        return NotImplemented

    def source(self, args: tuple[str, ...], const: Any) -> str | None:
        """A Python expression for the op over the array namespace ``xp`` (for ``ad.compile``).

        ``args`` are the input expressions; ``const(value)`` hoists a value that has
        no literal (arrays, index tuples, NumPy scalars) and returns its name. The
        expression must be bit-identical to ``compute`` on NumPy. None (the
        default): no source form, and the compiled code calls this op's ``compute``.
        """
        return None


def declared(op: Op | type, name: str) -> Any:
    """The fact ``name`` (``sympy``, ``source``, ``formula``, ``commutative``, ...) that
    ``op``'s class declares for the ``compute`` it runs; a method comes as its function.

    A fact declared beside a ``compute`` describes that compute, so a subclass that
    redefines ``compute`` does not inherit it: a user's ``class Twice(ad.ops.Exp)``
    with its own ``compute`` is no exponential to sympy, the compiler, the tables or
    the rewrite pass. A fact declared on a base without ``compute``
    (``ElementwiseOp.compute_batched``) promises something of any compute, and is
    inherited. Without a declaration: :class:`Op`'s default.
    """
    cls = op if isinstance(op, type) else type(op)
    past_compute = False
    for klass in cls.__mro__:
        if klass is Op:
            break
        attrs = klass.__dict__
        if name in attrs and not (past_compute and "compute" in attrs):
            return attrs[name]
        if "compute" in attrs:
            past_compute = True
    return Op.__dict__[name]


# ------------------------------------------------------------------------- nodes


class Value:
    """A node of the computational graph.

    ``op`` is ``None`` for leaves (data given by the user, or constants).
    ``cached_data`` is the node's NumPy array, or ``None`` while a lazy node has
    not been computed. ``requires_grad`` says whether adjoints flow to it.
    """

    __slots__ = (
        "op",
        "inputs",
        "cached_data",
        "requires_grad",
        "grad",
        "name",
        "_meta",
        "_retain",
        "_tag",
        "_site",
        "__weakref__",
    )

    op: Op | None
    inputs: tuple[Value, ...]
    cached_data: np.ndarray | None
    requires_grad: bool

    def _init(
        self,
        op: Op | None,
        inputs: tuple[Value, ...],
        *,
        cached_data: np.ndarray | None = None,
        requires_grad: bool | None = None,
        name: str | None = None,
    ) -> None:
        if requires_grad is None:
            requires_grad = _state.grad_enabled and any(x.requires_grad for x in inputs)
        self.op = op
        self.inputs = inputs
        self.cached_data = cached_data
        self.requires_grad = requires_grad
        self.grad = None
        self.name = name
        self._meta = None
        self._retain = False
        self._tag = _state.grad_tag if _backward_walks else None
        self._site = None

    def realize_cached_data(self) -> np.ndarray:
        """The node's data, computing it (and whatever it needs) if not yet done."""
        data = self.cached_data
        if data is None:
            _realize(self)
            data = self.cached_data
        return data

    def is_leaf(self) -> bool:
        """True for nodes made from data rather than by an op."""
        return self.op is None

    @classmethod
    def make_const(cls, data: Any, *, requires_grad: bool = False) -> Value:
        """A leaf holding ``data`` as it is (no copy, no dtype conversion)."""
        value = object.__new__(cls)  # _init inlined: gradient rules make many constants
        value.op = None
        value.inputs = ()
        value.cached_data = data
        value.requires_grad = requires_grad
        value.grad = None
        value.name = None
        value._meta = None
        value._retain = False
        value._tag = _state.grad_tag if _backward_walks else None
        value._site = None
        return value

    @classmethod
    def make_from_op(cls, op: Op, inputs: Iterable[Value]) -> Value:
        """The node ``op(*inputs)``: computed now in eager mode, recorded in lazy mode.

        In eager mode a node that needs no gradient is cut from the graph at
        once (it becomes a constant leaf), as in needle: nothing will ever
        differentiate through it, so keeping its inputs alive would only cost
        memory.
        """
        # The hot path of the whole library: ``_init`` is inlined and the common
        # case (eager, no observer, inputs realized) computes before the node is
        # built, so each slot is stored once.
        if type(inputs) is not tuple:
            inputs = tuple(inputs)
        requires_grad = False
        if not _no_grad_blocks or _state.grad_enabled:
            for x in inputs:
                if x.requires_grad:
                    requires_grad = True
                    break
        result = None
        if not _observers and not LAZY_MODE:
            # One and two inputs are spelled out: a star-call on a list costs
            # more than the NumPy work on small arrays.
            n = len(inputs)
            if n == 2:
                a = inputs[0].cached_data
                b = inputs[1].cached_data
                if a is not None and b is not None:
                    if type(a) is not _ndarray or type(b) is not _ndarray:
                        check_same_device(op.name, (a, b))
                    result = op.compute(a, b)
            elif n == 1:
                a = inputs[0].cached_data
                if a is not None:
                    result = op.compute(a)
            else:
                arrays = [x.cached_data for x in inputs]
                if all(a is not None for a in arrays):
                    if any(type(a) is not _ndarray for a in arrays):
                        check_same_device(op.name, arrays)
                    result = op.compute(*arrays)
        value = object.__new__(cls)
        value.grad = None
        value.name = None
        value._meta = None
        value._retain = False
        value._tag = _state.grad_tag if _backward_walks else None
        value._site = None
        value.requires_grad = requires_grad
        if result is not None:
            # NumPy gives scalars for 0-d results; cached data is always an array.
            value.cached_data = (
                result
                if type(result) is _ndarray
                else np.asarray(result)
                if isinstance(result, _generic)  # a NumPy scalar: the 0-d case, kept fast
                else _as_data(result)
            )
            if requires_grad:
                value.op = op
                value.inputs = inputs
            else:  # cut from the graph (see above)
                value.op = None
                value.inputs = ()
            return value
        value.op = op
        value.inputs = inputs
        value.cached_data = None
        if _observers:
            for observer in _observers:
                observer.created(value)
        if LAZY_MODE:
            # _infer_meta's elementwise case, inlined: a float input's metadata
            # shared when the other input (if any) has the same shape and dtype.
            if op.keeps_float_meta and inputs:
                meta = inputs[0]._meta
                if type(meta) is _FloatMeta:
                    n = len(inputs)
                    if n == 1:
                        value._meta = meta
                        return value
                    if n == 2:
                        other = inputs[1]
                        other_meta = other._meta
                        if other_meta is meta or (
                            type(other_meta) is _FloatMeta
                            and other_meta[1] is meta[1]
                            and other_meta[0] == meta[0]
                        ):
                            value._meta = meta
                            return value
                        data = other.cached_data
                        if data is not None and data.dtype is meta[1] and data.shape == meta[0]:
                            value._meta = meta
                            return value
            value._meta = _infer_meta(op, inputs)
            return value
        _realize(value)  # observers, or an input recorded lazily: realize what it needs
        if not requires_grad:
            value.op = None
            value.inputs = ()
        return value

    # Shape and dtype: from the data when there is data, else from inference.
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the node's data (inferred without computing in lazy mode)."""
        data = self.cached_data
        if data is not None:
            return data.shape
        meta = self._meta
        if meta is not None and meta[0] is not None:
            return meta[0]
        return self.realize_cached_data().shape

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the node's data (inferred without computing in lazy mode)."""
        data = self.cached_data
        if data is not None:
            return data.dtype if type(data) is _ndarray else host_dtype(data.dtype)
        meta = self._meta
        if meta is not None and meta[1] is not None:
            return meta[1]
        data = self.realize_cached_data()
        return data.dtype if type(data) is _ndarray else host_dtype(data.dtype)

    @property
    def device(self) -> Any:
        """The device of the node's data: ``ad.cpu()``, ``ad.cuda(i)``, ... (a lazy node's
        is its first input's; nothing is computed to tell)."""
        node = self
        while node.cached_data is None and node.inputs:
            target = getattr(node.op, "target_device", None)  # ToDevice
            if target is not None:
                return target
            node = node.inputs[0]
        data = node.cached_data
        return device_of(data if data is not None else node.realize_cached_data())

    # Pickling and copy.deepcopy without recursion through the graph: _GraphState.
    def __reduce_ex__(self, protocol: Any) -> tuple:
        if id(self) in _pickle_members():
            return _empty_node, (type(self),)  # its state is in an enclosing _GraphState
        return _empty_node, (type(self),), _GraphState(self)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, _GraphState):
            state.install(self)
        else:  # Python's default (dict, slots) state, as older pickles hold it
            _set_node_state(self, state)


def evaluate(op: Op, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """``op.compute`` on ``arrays``, as an ndarray (NumPy gives scalars for 0-d results).

    The one way a node's data is computed from its inputs' data: by lazy
    realization, :meth:`Graph.run <adjoint.graph.Graph.run>` and the rewrite
    pass's constant folding. (Eager construction, the hot path, does the same
    inline in :meth:`Value.make_from_op`.)
    """
    if any(type(a) is not _ndarray for a in arrays):
        check_same_device(op.name, arrays)
    result = op.compute(*arrays)
    return result if type(result) is _ndarray else _as_data(result)


def _as_data(result: Any) -> Any:
    """A ``compute`` result that is not an ndarray, as node data: NumPy scalars and
    subclasses as ndarrays, other libraries' arrays (CuPy, array-API) as they are."""
    if isinstance(result, (np.ndarray, np.generic)) or not hasattr(result, "shape"):
        return np.asarray(result)
    return result


def _compute(node: Value) -> np.ndarray:
    """:func:`evaluate` for a node whose inputs are realized, reported to the observers."""
    arrays = [x.cached_data for x in node.inputs]
    if not _observers:
        return evaluate(node.op, arrays)
    start = time.perf_counter()
    result = evaluate(node.op, arrays)
    seconds = time.perf_counter() - start
    for observer in _observers:
        observer.computed(node, result, seconds)
    return result


def _realize(root: Value) -> None:
    """Compute ``root`` and every unrealized node it needs, each once, inputs first.

    An explicit stack replaces recursion, so a lazy chain 100,000 nodes deep
    realizes at Python's default recursion limit. Inputs are computed in their
    order (left before right), as a recursive evaluator would: the post-order
    of :func:`find_topo_sort`, not descending into realized nodes. A node whose
    inputs are all computed is computed when popped; otherwise it goes back on
    the stack under a ``None`` marker, with its unrealized inputs on top (the
    rightmost first, so the leftmost comes off first), and is computed when the
    marker comes off again. An input pushed twice (two consumers) is computed
    the first time and skipped the second. No iterators and no visited set:
    on W1's lazy gradient graphs this walk takes half the time of one with
    iterators.
    """
    if root.cached_data is not None:
        return
    stack: list[Value | None] = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is None:  # the marker: the node below it has its inputs computed
            node = pop()
            inputs = node.inputs
            n = len(inputs)
        else:
            if node.cached_data is not None:  # computed since it was pushed
                continue
            inputs = node.inputs
            n = len(inputs)
            # One and two inputs spelled out (no reversed() iterator): 11% less time.
            if n == 2:
                first, second = inputs
                if first.cached_data is None:
                    push(node)
                    push(None)
                    if second.cached_data is None:
                        push(second)
                    push(first)
                    continue
                if second.cached_data is None:
                    push(node)
                    push(None)
                    push(second)
                    continue
            elif n == 1:
                first = inputs[0]
                if first.cached_data is None:
                    push(node)
                    push(None)
                    push(first)
                    continue
            else:
                pending = False
                for child in reversed(inputs):
                    if child.cached_data is None:
                        if not pending:
                            push(node)
                            push(None)
                            pending = True
                        push(child)
                if pending:
                    continue
        op = node.op
        if op is None:
            raise ValueError("cannot realize a leaf that holds no data")
        if _observers:
            node.cached_data = _compute(node)
            continue
        # evaluate(op, arrays), spelled out for one and two inputs: a list and a
        # star-call per node made lazy mode 25% slower than eager on W1 (W6).
        if n == 2:
            a = inputs[0].cached_data
            b = inputs[1].cached_data
            if type(a) is not _ndarray or type(b) is not _ndarray:
                check_same_device(op.name, (a, b))
            result = op.compute(a, b)
        elif n == 1:
            result = op.compute(inputs[0].cached_data)
        else:
            arrays = [x.cached_data for x in inputs]
            if any(type(a) is not _ndarray for a in arrays):
                check_same_device(op.name, arrays)
            result = op.compute(*arrays)
        node.cached_data = (
            result
            if type(result) is _ndarray
            else np.asarray(result)
            if isinstance(result, _generic)
            else _as_data(result)
        )


def add_observer(observer: Any) -> None:
    """Register an object with ``created(node)`` and ``computed(node, data, seconds)``.

    Used by evaluation tracing and anomaly detection; while no observer is
    registered, node creation and evaluation pay nothing for the mechanism.
    """
    _observers.append(observer)


def remove_observer(observer: Any) -> None:
    """Unregister an observer added by :func:`add_observer`."""
    _observers.remove(observer)


def live_tensor_count() -> int:
    """How many graph nodes (Tensors, any ``Value``) are alive: needle's ``TENSOR_COUNTER``.

    Counted when asked, not kept: needle adds one in ``_init`` and subtracts one
    in ``__del__``, which costs every node; here making and freeing nodes pays
    nothing, and this call runs a garbage collection (so unreachable cycles,
    such as a dropped leaf and the ``.grad`` graph that refers back to it, are
    not counted) and walks the collector's list of objects: milliseconds, for
    tests and debugging. ``adjoint.autograd.TENSOR_COUNTER`` reads it.

    needle's own count reads higher: its graphs hold cycles (a parameter and
    its ``.grad``) until the collector runs, and it keeps graphs that need no
    gradient, which eager adjoint cuts. After needle's hw2 optimizer tests 4
    nodes are alive here, where its Adam memory check expects 1,132 ± 1,000.

    >>> import adjoint as ad
    >>> before = live_tensor_count()
    >>> x = ad.Tensor([1.0, 2.0])
    >>> live_tensor_count() - before
    1
    """
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Value))


def __getattr__(name: str) -> Any:
    # TENSOR_COUNTER is computed when read (PEP 562), so node creation never updates it.
    if name == "TENSOR_COUNTER":
        return live_tensor_count()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ differentiation


_inputs = operator.attrgetter("inputs")


def find_topo_sort(node_list: Iterable[Value]) -> list[Value]:
    """All nodes the given nodes depend on, in topological order (needle's name).

    The post-order over ``inputs`` (in order), exactly as needle's recursive
    ``topo_sort_dfs`` gives it: :func:`toposort` with ``inputs`` as children.
    """
    return toposort(_nodes(node_list, "find_topo_sort", "node_list"), _inputs)


def _nodes(values: Any, name: str, what: str) -> list[Value]:
    """``values`` as a list of graph nodes, or a TypeError naming ``name`` and ``what``."""
    if isinstance(values, Value):
        raise TypeError(f"{name}: {what} must be a list of Tensors, got one Tensor; use [tensor]")
    try:
        nodes = list(values)
    except TypeError:
        raise TypeError(
            f"{name}: {what} must be a list of Tensors, got {type(values).__name__}"
        ) from None
    for i, node in enumerate(nodes):
        if not isinstance(node, Value):
            raise TypeError(
                f"{name}: {what}[{i}] is a {type(node).__name__}; give Tensors (graph nodes)"
            )
    return nodes


def _check_seed(name: str, output: Any, out_grad: Any) -> None:
    """The output and its seed adjoint of a backward walk must be nodes (the walk itself
    checks that their shapes agree)."""
    if not isinstance(output, Value):
        raise TypeError(f"{name}: the output is a {type(output).__name__}; give a Tensor")
    if not isinstance(out_grad, Value):
        raise TypeError(
            f"{name}: out_grad is a {type(out_grad).__name__}; give a Tensor of shape "
            f"{output.shape} (Tensor.backward converts arrays and numbers)"
        )


def _grad_inputs(node: Value) -> tuple[Value, ...]:
    """The children of the backward walk: a node that needs no gradient is not entered."""
    return node.inputs if node.requires_grad else ()


def derivative_order(node: Value) -> int:
    """0 for forward nodes; n for nodes made by the n-th backward pass (the census tag)."""
    tag = node._tag
    return 0 if tag is None else tag[0]


def compute_gradient_of_variables(
    output_tensor: Value, out_grad: Value, *, create_graph: bool = True
) -> None:
    """Reverse-mode differentiation of ``output_tensor`` seeded with ``out_grad``.

    Walks the nodes that require grad in reverse topological order. Each node's
    adjoint is the sum (with Tensor additions) of the partial adjoints its
    consumers sent it; its op's ``gradient`` then sends partial adjoints to its
    inputs. Adjoints accumulate in a dict keyed by node and are stored in
    ``.grad`` only on leaves that require grad and on nodes marked with
    ``retain_grad()``: an intermediate node holding its own adjoint would form
    a reference cycle.

    Every node made by a ``gradient`` rule is tagged with its derivative order
    (one more than the highest order in the graph being differentiated) and the
    forward op whose rule made it; the sum of a node's partial adjoints is
    tagged with that node's op. CPython's cyclic GC is paused during the walk
    (see :data:`PAUSE_GC`).
    """
    _check_seed("compute_gradient_of_variables", output_tensor, out_grad)
    if not create_graph:
        with no_grad(), _gc_paused:
            adjoints = _backward(output_tensor, out_grad.detach(), None)
        for node, adjoint in adjoints.items():
            if adjoint.op is not None:
                # Lazy mode recorded the adjoint: compute it and keep only its data.
                # A recorded node refers to its inputs, and through them back to
                # the forward graph and to ``node`` itself (x.grad = g * x): a
                # cycle, and a graph kept alive by what should be a constant.
                constant = type(adjoint).make_const(adjoint.realize_cached_data())
                constant._tag = adjoint._tag
                adjoint = constant
            node.grad = adjoint
        return
    with _gc_paused:
        adjoints = _backward(output_tensor, out_grad, None)
    for node, adjoint in adjoints.items():
        node.grad = adjoint


def _zeros(x: Value) -> Value:
    """A constant of zeros of ``x``'s shape and dtype (the adjoint of an unused input)."""
    return type(x).make_const(_on_device_of(x, np.zeros(x.shape, dtype=x.dtype)))


def _seed(output: Value) -> Value:
    """The default adjoint of an output: a constant of ones of its shape and dtype."""
    return type(output).make_const(_on_device_of(output, np.ones(output.shape, dtype=output.dtype)))


def _on_device_of(x: Value, host: np.ndarray) -> Any:
    """The host array ``host`` as data on ``x``'s device (itself on the CPU)."""
    if type(x.cached_data) is _ndarray:
        return host
    return x.device.from_numpy(host)


def gradients(output: Value, wrt: Iterable[Value], out_grad: Value | None = None) -> list[Value]:
    """Adjoints of ``output`` for the nodes ``wrt``, as graph nodes; no ``.grad`` is touched.

    ``out_grad`` defaults to ones of the output's shape. The walk treats the
    ``wrt`` nodes as independent variables: it stops at them (so they may be
    intermediate nodes of a larger graph, which is how nested derivatives stay
    connected to the outer graph) and it only visits nodes that depend on one
    of them. A node of ``wrt`` that the output does not depend on gets zeros
    of its shape, never ``None``.
    """
    wrt = _nodes(wrt, "gradients", "wrt")
    if out_grad is None:
        if not isinstance(output, Value):
            raise TypeError(f"gradients: the output is a {type(output).__name__}; give a Tensor")
        out_grad = _seed(output)
    _check_seed("gradients", output, out_grad)
    with _gc_paused:
        adjoints = _backward(output, out_grad, wrt)
    result = []
    for x in wrt:
        adjoint = adjoints.get(x)
        result.append(adjoint if adjoint is not None else _zeros(x))
    return result


def _plan(
    output: Value, wrt: list[Value] | None
) -> tuple[list[Value], set | None, set | None, int]:
    """What a backward walk visits: the topological order of the nodes that require
    grad, the ``wrt`` targets (the walk stops at them) and the nodes that depend on
    one of them (``relevant``), and the derivative order the walk builds.

    With ``wrt=None`` there are no targets and every node is relevant (``None``).
    The order is one more than the highest census tag among the nodes visited.
    """
    if wrt is None:
        topo = toposort([output], _grad_inputs)
        targets = relevant = None
    else:
        targets = set(wrt)
        topo = toposort([output], lambda n: () if n in targets else _grad_inputs(n))
        relevant = set()
        for node in topo:
            if node in targets or any(x in relevant for x in node.inputs):
                relevant.add(node)
    order = 0
    for node in topo:
        tag = node._tag
        if tag is not None and tag[0] > order and node.requires_grad:
            order = tag[0]
    return topo, targets, relevant, order + 1


def _backward(output: Value, out_grad: Value, wrt: list[Value] | None) -> dict[Value, Value]:
    """The one reverse walk, shared by :func:`compute_gradient_of_variables` and :func:`gradients`.

    needle's loop: for each node in reverse topological order, its adjoint is
    the sum of the partial adjoints its consumers sent it, and its op's
    ``gradient`` sends partial adjoints on to its inputs. With ``wrt=None`` it
    returns the adjoints of the leaves that require grad and of
    ``retain_grad()`` nodes; otherwise those of the ``wrt`` nodes (see
    :func:`_plan`). Every node a ``gradient`` rule makes is tagged with the
    walk's derivative order and the op whose rule made it (the census).
    """
    global _backward_walks
    if out_grad.shape != output.shape:
        raise ValueError(
            f"backward: out_grad has shape {out_grad.shape} but the output has shape "
            f"{output.shape}; give an out_grad of the output's shape"
        )
    if not output.requires_grad:
        return {}
    topo, targets, relevant, order = _plan(output, wrt)
    if relevant is not None and output not in relevant:
        return {}
    # A node's partial adjoints: the Value itself while it has one (most nodes),
    # a list from the second on (fewer container objects for CPython's cyclic GC
    # to traverse; so too one census tag per op, not per node).
    partials: dict[Value, Value | list[Value]] = {output: out_grad}
    adjoints: dict[Value, Value] = {}
    tags: dict[Op | None, tuple[int, Op | None]] = {}
    state = _state
    saved_tag = state.grad_tag
    with _walks_lock:
        _backward_walks += 1
    try:
        for node in reversed(topo):
            adjoint = partials.pop(node, None)
            if adjoint is None:
                continue
            op = node.op
            tag = tags.get(op)
            if tag is None:
                tag = tags[op] = (order, op)
            state.grad_tag = tag
            if type(adjoint) is list:
                adjoint = functools.reduce(operator.add, adjoint)
            if relevant is None:
                if op is None or node._retain:
                    adjoints[node] = adjoint
                if op is None:
                    continue
            elif node in targets:
                adjoints[node] = adjoint
                continue
            input_adjoints = op.gradient(adjoint, node)
            if type(input_adjoints) is not tuple:
                input_adjoints = (
                    tuple(input_adjoints) if type(input_adjoints) is list else (input_adjoints,)
                )
            if not op.trusted_gradient or len(input_adjoints) != len(node.inputs):
                _check_adjoints(node, input_adjoints)
            for x, x_adjoint in zip(node.inputs, input_adjoints):
                if not x.requires_grad or (relevant is not None and x not in relevant):
                    continue
                x_partials = partials.get(x)
                if x_partials is None:
                    partials[x] = x_adjoint
                elif type(x_partials) is list:
                    x_partials.append(x_adjoint)
                else:
                    partials[x] = [x_partials, x_adjoint]
    finally:
        state.grad_tag = saved_tag
        with _walks_lock:
            _backward_walks -= 1
    return adjoints


def _known_shape(value: Value) -> tuple[int, ...] | None:
    if value.cached_data is not None:
        return value.cached_data.shape
    return value._meta[0] if value._meta is not None else None


def _check_adjoints(node: Value, adjoints: tuple[Value, ...]) -> None:
    """The engine's guard on gradient rules: one adjoint per input, each of its shape."""
    op_name = node.op.name
    if len(adjoints) != len(node.inputs):
        raise ValueError(
            f"{op_name}.gradient returned {len(adjoints)} adjoint(s) for "
            f"{len(node.inputs)} input(s); it must return one per input, in order"
        )
    for i, (x, x_adjoint) in enumerate(zip(node.inputs, adjoints)):
        if not x.requires_grad:
            continue
        if not isinstance(x_adjoint, Value):
            raise TypeError(
                f"{op_name}.gradient returned {type(x_adjoint).__name__} for input {i}; "
                "gradient rules must return Tensors built with Tensor ops"
            )
        got, want = _known_shape(x_adjoint), _known_shape(x)
        if got is not None and want is not None and got != want:
            raise ValueError(
                f"{op_name}.gradient returned an adjoint of shape {got} for input {i} "
                f"of shape {want}; each adjoint must have its input's shape"
            )


# ----------------------------------------------------------------------- switches


def _flag_arg(value: Any, op_name: str, what: str) -> bool:
    """A flag given by the user: True or False (a NumPy bool too); ints are not flags."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{op_name}: {what} must be True or False, got {value!r}")


def set_lazy_mode(flag: bool) -> None:
    """Turn lazy evaluation on or off (process-wide, as needle's ``LAZY_MODE``)."""
    global LAZY_MODE
    LAZY_MODE = _flag_arg(flag, "set_lazy_mode", "flag")


_lazy_lock = threading.Lock()
#: The open ``lazy_mode`` blocks of every thread, oldest first: [token, value to restore].
_lazy_blocks: list[list[Any]] = []


def lazy_mode(flag: bool = True) -> contextlib.AbstractContextManager[None]:
    """Evaluate lazily inside the block; the previous mode returns on exit, also on errors.

    >>> import adjoint as ad
    >>> with ad.lazy_mode():
    ...     y = ad.Tensor([1.0, 2.0]) * 3
    ...     print(y.cached_data is None)
    True

    Threads: lazy mode is one process-wide flag, :data:`LAZY_MODE` (needle's
    contract), so a block also affects other threads while it is open. Blocks
    opened by several threads may close in any order: while any is open the
    flag is that of the most recently opened one, and when the last closes it
    is back to its value from before the first (a thread closing early never
    leaves the flag on, or off, for good). The mode changes when values are
    computed, never what they are; what other threads may notice is that their
    nodes are computed later, and an error from ``compute`` comes when the data
    is realized. ``no_grad`` and ``detect_anomaly`` are per thread.
    """
    return _lazy_block(_flag_arg(flag, "lazy_mode", "flag"))


@contextlib.contextmanager
def _lazy_block(flag: bool) -> Iterator[None]:
    global LAZY_MODE
    token = object()
    with _lazy_lock:
        _lazy_blocks.append([token, LAZY_MODE])
        LAZY_MODE = flag
    try:
        yield
    finally:
        with _lazy_lock:
            index = next(i for i, block in enumerate(_lazy_blocks) if block[0] is token)
            restore = _lazy_blocks.pop(index)[1]
            if index == len(_lazy_blocks):
                LAZY_MODE = restore
            else:  # a later block is still open: it restores what this one found
                _lazy_blocks[index][1] = restore


def is_grad_enabled() -> bool:
    """False inside ``no_grad()`` in the calling thread."""
    return _state.grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results require no grad.

    Per thread (as in PyTorch): a block in one thread never stops another
    thread from recording its graph. A thread starts with grad enabled.
    """
    global _no_grad_blocks
    saved = _state.grad_enabled
    with _walks_lock:
        _no_grad_blocks += 1
    _state.grad_enabled = False
    try:
        yield
    finally:
        _state.grad_enabled = saved
        with _walks_lock:
            _no_grad_blocks -= 1


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Record graphs again inside a ``no_grad`` block (per thread)."""
    saved = _state.grad_enabled
    _state.grad_enabled = True
    try:
        yield
    finally:
        _state.grad_enabled = saved
