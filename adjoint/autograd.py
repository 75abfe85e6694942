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

Every walk over a graph (sorting, realizing, differentiating) uses an explicit
stack, so graphs far deeper than Python's recursion limit work.

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
import math
import numbers
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

#: ``np.ndarray``, read once per computed node on the hot paths (a module global
#: costs one lookup, ``np.ndarray`` two).
_ndarray = np.ndarray

#: When true, ``make_from_op`` records nodes without computing them. needle's
#: name; a plain assignment ``adjoint.autograd.LAZY_MODE = True`` works.
LAZY_MODE = False


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
#: :func:`adjoint.simplify.simplify`) runs. A walk with ``create_graph=True``
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


class TensorOp(Op):
    """An op whose output is a :class:`Tensor`."""

    def __call__(self, *args: Value) -> Tensor:
        return Tensor.make_from_op(self, args)


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
                    result = op.compute(a, b)
            elif n == 1:
                a = inputs[0].cached_data
                if a is not None:
                    result = op.compute(a)
            else:
                arrays = [x.cached_data for x in inputs]
                if all(a is not None for a in arrays):
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
            # NumPy gives scalars for 0-d results; cached data is always an ndarray.
            value.cached_data = result if type(result) is _ndarray else np.asarray(result)
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
            return data.dtype
        meta = self._meta
        if meta is not None and meta[1] is not None:
            return meta[1]
        return self.realize_cached_data().dtype

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


# ---------------------------------------------------------------------- pickling

_pickling = threading.local()
_slot_cache: weakref.WeakKeyDictionary[type, list[Any]] = weakref.WeakKeyDictionary()


def _pickle_members() -> set[int]:
    """Ids of the nodes whose state a _GraphState being written in this thread carries."""
    members = getattr(_pickling, "members", None)
    if members is None:
        members = _pickling.members = set()
    return members


def _empty_node(cls: type) -> Value:
    return object.__new__(cls)


def _slots(cls: type) -> list[Any]:
    """The slot descriptors of ``cls`` and its bases (read and written as pickle's default does)."""
    found = _slot_cache.get(cls)
    if found is None:
        found = []
        for klass in cls.__mro__:
            names = klass.__dict__.get("__slots__", ())
            for name in (names,) if isinstance(names, str) else names:
                if name not in ("__dict__", "__weakref__"):
                    if name.startswith("__") and not name.endswith("__"):
                        name = f"_{klass.__name__.lstrip('_')}{name}"
                    found.append(klass.__dict__[name])
        _slot_cache[cls] = found
    return found


def _node_state(node: Value) -> tuple[dict | None, dict[str, Any]]:
    slots = {}
    for slot in _slots(type(node)):
        with contextlib.suppress(AttributeError):  # a slot never set
            slots[slot.__name__] = slot.__get__(node)
    return getattr(node, "__dict__", None) or None, slots


def _set_node_state(node: Value, state: Any) -> None:
    attrs, slots = state if isinstance(state, tuple) else (state, None)
    if attrs:
        node.__dict__.update(attrs)
    by_name = {slot.__name__: slot for slot in _slots(type(node))}
    for name, value in (slots or {}).items():
        by_name[name].__set__(node, value)


class _GraphState(list):
    """The pickled state of a node: one ``(node, state)`` record per node of its graph.

    Pickle and ``copy.deepcopy`` follow references recursively, and a node's
    default state holds its inputs, so a chain of about 100 ops used up
    Python's recursion limit. Instead, the node pickled first (the root)
    carries a flat list of records, one for each node it reaches through
    ``inputs`` and ``grad``, and while the list is written those nodes pickle
    as empty shells: a record refers only to shells, arrays and ops, so the
    depth is the same for a graph of any depth. Unpickling makes the shells,
    then the root's ``__setstate__`` fills them in. Identity is kept as by
    default: a node reached twice is one object (the pickler's memo), so are
    nodes pickled beside the root, and the records of a graph's leaves refer
    to the same ``grad`` graphs as before.
    """

    __slots__ = ("root",)

    def __init__(self, root: Value | None = None) -> None:
        super().__init__()
        self.root = root

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return _GraphState, (), None, self._records()

    def _records(self) -> Iterator[tuple[Value, tuple]]:
        nodes = [self.root]
        seen = {id(self.root)}
        for node in nodes:  # grows while it is walked: a breadth-first search
            for other in (*getattr(node, "inputs", ()), getattr(node, "grad", None)):
                if isinstance(other, Value) and id(other) not in seen:
                    seen.add(id(other))
                    nodes.append(other)
        members = _pickle_members()
        added = seen - members
        members |= added
        try:
            for node in nodes:
                yield node, _node_state(node)
        finally:
            members -= added

    def install(self, node: Value) -> None:
        if self.root is not None:  # copy.copy: the records were never written
            _set_node_state(node, _node_state(self.root))
            return
        for other, state in self:
            _set_node_state(other, state)


def _meta_of(x: Value) -> tuple[Any, Any, tuple | None]:
    """A node's shape and dtype, and its metadata tuple when it has a complete one to share."""
    data = x.cached_data
    if data is not None:
        return data.shape, data.dtype, None
    meta = x._meta
    if meta is None or meta[0] is None or meta[1] is None:
        return x.shape, x.dtype, None
    return meta[0], meta[1], meta


def _infer_meta(op: Op, inputs: tuple[Value, ...]) -> tuple[tuple | None, np.dtype | None]:
    """Shape and dtype of ``op(*inputs)`` from the inputs' own, without computing.

    The dtype follows NumPy's rules, found as :func:`_infer_dtype` says. When
    the result has the shape and dtype of a lazy input (most elementwise ops),
    that input's metadata tuple itself is returned: lazy nodes then cost no
    extra object each for CPython's cyclic GC to traverse.
    """
    # Lazy mode pays this on every node whose metadata make_from_op could not
    # share (its elementwise case): one and two inputs spelled out, no star-calls.
    n = len(inputs)
    if n == 1:
        shape, dtype, meta = _meta_of(inputs[0])
        if op.keeps_float_meta and dtype.kind == "f" and dtype.isnative:
            out_dtype = dtype  # the elementwise promise: a float keeps its dtype
        else:
            out_dtype = _infer_dtype(op, (dtype,), (shape,))
        out_shape = op.infer_shape(shape)
        if meta is not None and out_dtype is dtype and out_shape == shape:
            return meta
        return _new_meta(out_shape, out_dtype)
    if n == 2:
        shape_a, dtype_a, meta_a = _meta_of(inputs[0])
        shape_b, dtype_b, meta_b = _meta_of(inputs[1])
        if op.keeps_float_meta and dtype_a is dtype_b and dtype_a.kind == "f" and dtype_a.isnative:
            out_dtype = dtype_a
        else:
            out_dtype = _infer_dtype(op, (dtype_a, dtype_b), (shape_a, shape_b))
        out_shape = op.infer_shape(shape_a, shape_b)
        if meta_a is not None and out_dtype is dtype_a and out_shape == shape_a:
            return meta_a
        if meta_b is not None and out_dtype is dtype_b and out_shape == shape_b:
            return meta_b
        return _new_meta(out_shape, out_dtype)
    metas = [_meta_of(x) for x in inputs]
    shapes = tuple(m[0] for m in metas)
    dtype = _infer_dtype(op, tuple(m[1] for m in metas), shapes)
    return _new_meta(op.infer_shape(*shapes), dtype)


def _infer_dtype(op: Op, dtypes: tuple[np.dtype, ...], shapes: tuple) -> np.dtype | None:
    """The dtype of ``op``'s output for inputs of ``dtypes``, by NumPy's own rules.

    Elementwise ops (:attr:`Op.keeps_float_meta`) run their ``compute`` on
    one-element arrays of the input dtypes (and dimensions): whatever NumPy
    makes of them (``int / int`` is float64, ``bool ** 2`` int8, the sum of a
    bool and a Python int int64, ``-bool`` an error) is the answer, with no
    rule restated here that could drift from NumPy's. Such a run costs about
    4 us; for this package's ops its result is cached per op class, scalar
    attributes, dtypes and dimensions, and a cached answer costs 0.4 us, less
    than ``np.result_type`` (1 us). (Lazy float nodes never get here: their
    metadata is shared, see :meth:`Value.make_from_op`.) An error raised by
    ``compute`` is the one eager mode raises for these dtypes, and it is
    raised now, at the line that recorded the node.

    Other ops (shape ops, reductions, matmul) cannot run on one-element
    arrays in general, and some would build arrays as large as their
    attributes say: their own :meth:`Op.infer_dtype` decides; a rule that
    raises leaves the dtype unknown (computing tells it).
    """
    if not op.keeps_float_meta:
        try:
            return op.infer_dtype(*dtypes)
        except (TypeError, ValueError):
            return None
    key = _dtype_key(op, dtypes, shapes)
    if key is not None:
        dtype = _dtype_cache.get(key)
        if dtype is not None:
            return dtype
    arrays = [np.ones((1,) * len(shape), dtype=dtype) for shape, dtype in zip(shapes, dtypes)]
    with np.errstate(all="ignore"):
        result = op.compute(*arrays)
    dtype = result.dtype if type(result) is _ndarray else np.asarray(result).dtype
    if key is not None and len(_dtype_cache) < _DTYPE_CACHE_SIZE:
        _dtype_cache[key] = dtype
    return dtype


#: Answers of :func:`_infer_dtype`'s runs, by (op class, attributes, dtypes, ndims).
#: Bounded; its keys hold only classes of this package, dtypes and Python numbers.
_dtype_cache: dict[tuple, np.dtype] = {}
_DTYPE_CACHE_SIZE = 4096

#: Attribute values a cache key may hold: small, immutable, never user-sized data.
_KEY_TYPES = frozenset({int, float, bool, str, type(None)})


def _dtype_key(op: Op, dtypes: tuple, shapes: tuple) -> tuple | None:
    """The cache key of an elementwise op's dtype, or None when it must not be cached.

    Only ops of this package are cached (a class defined in a function, with
    whatever its closures hold, is never kept alive by the cache), and only
    attributes that are plain Python scalars, each with its type: ``x + 1``
    and ``x + 1.0`` differ, and so do ``int8 + 100`` (int8) and
    ``int8 + 1000`` (an OverflowError).
    """
    if not op.trusted_gradient:
        return None
    attrs = getattr(op, "__dict__", None)
    key: list[Any] = [type(op), dtypes, tuple(len(shape) for shape in shapes)]
    if attrs:
        for name, value in attrs.items():
            kind = type(value)
            if kind not in _KEY_TYPES:
                return None
            key.append((name, kind, value))
    return tuple(key)


class _FloatMeta(tuple):
    """A complete ``(shape, dtype)`` of a floating dtype: the metadata that elementwise
    nodes share (see :attr:`Op.keeps_float_meta`), recognized by its type alone."""

    __slots__ = ()


def _new_meta(shape: tuple | None, dtype: np.dtype | None) -> tuple:
    """Inferred metadata, as a :class:`_FloatMeta` when complete, floating and native."""
    if shape is not None and dtype is not None and dtype.kind == "f" and dtype.isnative:
        return _FloatMeta((shape, dtype))
    return shape, dtype


def _compute(node: Value) -> np.ndarray:
    """Run ``node.op.compute`` on its inputs' data, which must all be realized."""
    arrays = [x.cached_data for x in node.inputs]
    if not _observers:
        result = node.op.compute(*arrays)
        # NumPy gives scalars for 0-d results; cached data is always an ndarray.
        return result if type(result) is np.ndarray else np.asarray(result)
    start = time.perf_counter()
    result = node.op.compute(*arrays)
    if type(result) is not np.ndarray:
        result = np.asarray(result)
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
        if n == 2:
            result = op.compute(inputs[0].cached_data, inputs[1].cached_data)
        elif n == 1:
            result = op.compute(inputs[0].cached_data)
        else:
            result = op.compute(*[x.cached_data for x in inputs])
        # NumPy gives scalars for 0-d results; cached data is always an ndarray.
        node.cached_data = result if type(result) is _ndarray else np.asarray(result)


def add_observer(observer: Any) -> None:
    """Register an object with ``created(node)`` and ``computed(node, data, seconds)``.

    Used by evaluation tracing and anomaly detection; while no observer is
    registered, node creation and evaluation pay nothing for the mechanism.
    """
    _observers.append(observer)


def remove_observer(observer: Any) -> None:
    """Unregister an observer added by :func:`add_observer`."""
    _observers.remove(observer)


# ------------------------------------------------------------------------ tensor


_ops_module: Any = None


def _ops() -> Any:
    """:mod:`adjoint.ops`, imported on first use (it imports this module).

    The arithmetic operators are the hot path: ``from adjoint import ops``
    inside each of them costs about 0.45 µs a call, this cached lookup 0.05 µs.
    """
    global _ops_module
    if _ops_module is None:
        from adjoint import ops

        _ops_module = ops
    return _ops_module


def _to_array(data: Any, dtype: Any, op_name: str = "Tensor") -> np.ndarray:
    """A private, writable NumPy copy of ``data`` following the dtype rules.

    Python numbers and (nested) lists become float64; NumPy arrays and scalars
    keep their dtype; ``dtype=`` converts. Strings, objects, complex numbers and
    ragged lists are refused with a message that says what is valid.
    """
    if isinstance(data, Value):
        data = data.realize_cached_data()
    python = not isinstance(data, (np.ndarray, np.generic))
    if dtype is not None and type(dtype) is not np.dtype:
        dtype = _dtype_arg(dtype, op_name)
    if python:
        data = _from_python(data, op_name)
        if dtype is None:
            dtype = np.float64
        elif dtype.kind in "iu" and data.dtype.kind in "iuO":
            _check_fits(data, dtype, op_name)
    elif data.dtype.kind not in "biuf":  # checked before dtype= could cast it away
        raise TypeError(
            f"{op_name}: data of dtype {data.dtype} is not supported; "
            "valid dtypes are bool, integer and floating point"
        )
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except ValueError as error:
        if "inhomogeneous" in str(error) or "sequence" in str(error):
            raise ValueError(
                f"{op_name}: data is ragged (nested sequences of different lengths); "
                "give a rectangular nested list or an array"
            ) from None
        raise TypeError(
            f"{op_name}: cannot convert {type(data).__name__} data to a numeric array "
            f"({error}); give numbers, nested lists of numbers or a NumPy array"
        ) from None
    except TypeError as error:
        raise TypeError(
            f"{op_name}: cannot convert {type(data).__name__} data to a numeric array "
            f"({error}); give numbers, nested lists of numbers or a NumPy array"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{op_name}: data of dtype {array.dtype} is not supported; "
            "valid dtypes are bool, integer and floating point"
        )
    return array


def _dtype_arg(dtype: Any, op_name: str) -> np.dtype:
    """``dtype`` as a NumPy dtype, or a TypeError naming the op (kinds are checked later)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{op_name}: dtype {dtype!r} is not a NumPy dtype; give one such as "
            "'float64', np.float32 or 'int64'"
        ) from None


def _check_fits(data: np.ndarray, dtype: np.dtype, op_name: str) -> None:
    """Python ints converted to an integer ``dtype`` must fit it (NumPy refuses them too)."""
    if not data.size:
        return
    info = np.iinfo(dtype)
    for value in data.flat if data.dtype.kind == "O" else (data.min(), data.max()):
        if isinstance(value, numbers.Integral) and not info.min <= int(value) <= info.max:
            raise ValueError(
                f"{op_name}: dtype {dtype} cannot hold the value {int(value)} "
                f"(its range is {info.min}..{info.max})"
            )


def _flag_arg(value: Any, op_name: str, what: str) -> bool:
    """A flag given by the user: True or False (a NumPy bool too); ints are not flags."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{op_name}: {what} must be True or False, got {value!r}")


def _device_arg(device: Any, op_name: str) -> None:
    from adjoint.init import Device

    if device is not None and not isinstance(device, Device):
        raise TypeError(
            f"{op_name}: device must be ad.cpu() or None (adjoint computes with NumPy on "
            f"the CPU), got {device!r}"
        )


def _adjoint_array(
    value: Any, dtype: np.dtype, where: str, data_name: str | None = None
) -> np.ndarray:
    """An out_grad or cotangent given as data, as a private array of the output's ``dtype``.

    Conversions that would lose the values are refused, as :meth:`adjoint.graph.Graph.run`
    refuses them: an array must keep its kind (bool and integers may become floats;
    float64 may become float32, rounded), and Python numbers must be represented
    in ``dtype`` (0.5 into an integer output: no). Data that is not numeric at all
    (strings, None, complex numbers, ragged lists) is refused by the conversion
    :class:`Tensor` uses, named ``data_name`` (``where`` by default).
    """
    array, lost = _in_dtype(value, dtype, "same_kind", data_name or where)
    if array is not None:
        return array
    kind, detail = lost
    if kind == "dtype":
        raise TypeError(
            f"{where} of dtype {detail} cannot be converted to the output's dtype "
            f"{dtype} without losing its values; convert it yourself if that is meant"
        )
    raise ValueError(
        f"{where} holds the value {detail!r}, which the output's dtype {dtype} cannot "
        "represent exactly"
    )


def _in_dtype(
    value: Any, dtype: np.dtype, casting: str, data_name: str
) -> tuple[np.ndarray | None, tuple[str, Any] | None]:
    """``value`` as a private array of ``dtype``, or None and what would be lost.

    Arrays (and Tensors) convert when NumPy's ``casting`` rule allows it, else
    ``("dtype", their dtype)``; Python data must be represented in ``dtype``
    (:func:`_represented`), else ``("value", a value it loses)``. Data that is
    not numeric is refused by :func:`_to_array`, named ``data_name``. Shared by
    cotangents (``"same_kind"``) and :meth:`adjoint.graph.Graph.run` feeds
    (``"safe"``).
    """
    if isinstance(value, Value):
        value = value.realize_cached_data()
    if isinstance(value, (np.ndarray, np.generic)):
        array = _to_array(value, None, data_name)
        if array.dtype == dtype:
            return array, None
        if not np.can_cast(array.dtype, dtype, casting):
            return None, ("dtype", array.dtype)
        return array.astype(dtype), None
    converted, bad = _represented(_from_python(value, data_name), dtype)
    return (converted, None) if converted is not None else (None, ("value", bad))


def _represented(array: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray | None, Any]:
    """``array`` (NumPy's reading of Python data) in ``dtype``, or None and a value it loses.

    An integer or bool dtype must hold each value exactly; a floating dtype
    rounds (as NumPy rounds Python floats) but must not overflow a finite value.
    """
    with np.errstate(all="ignore"):
        try:
            converted = array.astype(dtype)
        except (OverflowError, TypeError, ValueError):  # an int beyond int64, an object
            for value in array.flat:
                try:
                    np.asarray(value).astype(dtype)
                except (OverflowError, TypeError, ValueError):
                    return None, value
            raise
        if dtype.kind == "f":
            lost = np.isinf(converted) & ~np.isinf(array.astype(np.float64))
        else:
            lost = converted.astype(array.dtype) != array
    if lost.any():
        value = array[lost].flat[0]
        return None, value.item() if isinstance(value, np.generic) else value
    return converted, None


def _from_python(data: Any, op_name: str) -> np.ndarray:
    """NumPy's own reading of Python data, refusing what a float conversion would hide.

    ``np.array(None, dtype=float)`` is NaN and ``np.array("1.5", dtype=float)``
    is 1.5: reading without a dtype first lets None, strings and other objects
    be refused (Python ints too large for int64 are still accepted).
    """
    try:
        array = np.array(data)
    except ValueError:
        raise ValueError(
            f"{op_name}: data is ragged (nested sequences of different lengths); "
            "give a rectangular nested list or an array"
        ) from None
    kind = array.dtype.kind
    if kind in "US":
        reason = "strings are not numbers"
    elif kind == "c":
        reason = "complex numbers are not supported"
    elif kind == "O":
        bad = [v for v in array.flat if not isinstance(v, numbers.Real)]
        if not bad:
            return array
        reason = f"it holds {bad[0]!r} of type {type(bad[0]).__name__}"
    else:
        return array
    raise TypeError(
        f"{op_name}: cannot convert {type(data).__name__} data to a numeric array ({reason}); "
        "give numbers, nested lists of numbers or a NumPy array"
    )


class Tensor(Value):
    """A NumPy-backed tensor that records the operations applied to it.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 2.0], name="x")
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad            # dy/dx, itself a node of the gradient graph
    Tensor([2. 4.], op=EWiseAdd)

    Python numbers and lists become float64; NumPy arrays keep their dtype and
    ``dtype=`` converts. The data is a private copy: the caller's array is never
    changed. ``requires_grad`` defaults to True, as in needle.
    """

    __slots__ = ()
    __array_ufunc__ = None  # NumPy defers to our reflected operators: arr + t -> t.__radd__

    def __init__(
        self,
        array: Any,
        *,
        device: Any = None,
        dtype: Any = None,
        requires_grad: bool = True,
        name: str | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a str, got {type(name).__name__}")
        if requires_grad is not True and requires_grad is not False:
            requires_grad = _flag_arg(requires_grad, "Tensor", "requires_grad")
        if device is not None:
            _device_arg(device, "Tensor")
        self._init(
            None,
            (),
            cached_data=_to_array(array, dtype),
            requires_grad=requires_grad,
            name=name,
        )

    @staticmethod
    def from_numpy(array: np.ndarray, *, requires_grad: bool = False) -> Tensor:
        """A constant leaf that holds ``array`` itself (no copy)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"Tensor.from_numpy: give a NumPy array, got {type(array).__name__} "
                "(ad.Tensor(data) converts numbers and lists)"
            )
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor.from_numpy: data of dtype {array.dtype} is not supported; "
                "valid dtypes are bool, integer and floating point"
            )
        requires_grad = _flag_arg(requires_grad, "Tensor.from_numpy", "requires_grad")
        return Tensor.make_const(array, requires_grad=requires_grad)

    # ---- data access
    @property
    def data(self) -> Tensor:
        """The same data as a new leaf cut off the graph (needle's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: assign a Tensor, got {type(value).__name__}")
        if value.dtype != self.dtype:
            raise TypeError(f"Tensor.data: dtype {value.dtype} differs from {self.dtype}")
        self.cached_data = value.realize_cached_data()

    def detach(self) -> Tensor:
        """A new leaf with the same data, not attached to any graph."""
        return Tensor.make_const(self.realize_cached_data())

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (computed if lazy; shared, not copied)."""
        return self.realize_cached_data()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = self.realize_cached_data()
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def device(self) -> Any:
        """Always the CPU (NumPy); present for needle compatibility."""
        from adjoint.init import cpu

        return cpu()

    def retain_grad(self) -> Tensor:
        """Keep this node's adjoint in ``.grad`` after ``backward()`` (leaves always do)."""
        self._retain = True
        return self

    def backward(self, out_grad: Tensor | None = None, *, create_graph: bool = True) -> None:
        """Compute adjoints of everything that requires grad and store them in ``.grad``.

        ``out_grad`` defaults to ones of this tensor's shape (an array or number
        is converted; its shape must be this tensor's). Each ``.grad`` is a
        graph node (``create_graph=True``, the default), so it can be
        differentiated again; ``backward`` overwrites ``.grad``, it does not
        accumulate. ``create_graph=False`` builds plain constants instead:
        cheaper, first order only (in lazy mode too: the adjoints are computed
        when ``backward`` runs, since a constant holds data, not a recipe).

        What stays alive: with ``create_graph=True`` a leaf's ``.grad`` is the
        root of a gradient graph whose rules refer to forward nodes (``exp``'s
        output, a product's other factor, ...), so the forward graph lives as
        long as any ``.grad`` that uses it, even after the output is dropped.
        Nothing refers from a node to its consumers, and only leaves (and
        ``retain_grad()`` nodes) hold an adjoint. So the one reference cycle is
        that of a leaf whose gradient depends on the leaf itself (``x * x``,
        ``tanh(x)``): ``x -> x.grad -> ... -> x``, as in PyTorch with
        ``create_graph=True``. Clear the grads (``x.grad = None``, or the next
        ``backward`` overwrites them) and the whole graph is freed at once; a
        leaf dropped with its ``.grad`` still set leaves its graph to CPython's
        cyclic garbage collector, which frees it later and at a cost. In a
        training loop update with detached data (``w.data = w.data - lr *
        w.grad.data``) or use ``create_graph=False`` (constants: no cycle);
        either way memory stays flat.
        """
        if create_graph is not True and create_graph is not False:
            create_graph = _flag_arg(create_graph, "backward", "create_graph")
        if out_grad is None:
            out_grad = _seed(self)
        elif not isinstance(out_grad, Tensor):
            # Data that is no number at all is refused as Tensor(out_grad) refuses it.
            out_grad = Tensor.make_const(
                _adjoint_array(out_grad, self.dtype, "backward: out_grad", "Tensor")
            )
        if out_grad.shape != self.shape:
            raise ValueError(
                f"backward: out_grad has shape {out_grad.shape} but the output has shape "
                f"{self.shape}; give an out_grad of the output's shape"
            )
        compute_gradient_of_variables(self, out_grad, create_graph=create_graph)

    # ---- printing
    def __repr__(self) -> str:
        body = np.array2string(self.realize_cached_data(), separator=" ", prefix="Tensor(")
        extras = []
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        if self.dtype != np.float64:
            extras.append(f"dtype={self.dtype}")
        if self.op is not None:
            extras.append(f"op={self.op.name}")
        tail = "".join(", " + e for e in extras)
        return f"Tensor({body}{tail})"

    def __str__(self) -> str:
        return str(self.realize_cached_data())

    # ---- Python protocol
    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Tensor")
        return self.shape[0]

    def _one_element(self, what: str) -> float | int | bool:
        """The single element as a Python number, or an error naming ``what`` and the shape."""
        data = self.realize_cached_data()
        if data.size != 1:
            error = ValueError if what in ("item", "bool") else TypeError
            raise error(
                f"{what}: a tensor of shape {data.shape} has {data.size} elements; only a "
                "tensor of one element converts to a Python number (index it, or reduce it "
                "with .sum(), .max(), ...)"
            )
        return data.item()

    def __bool__(self) -> bool:
        return bool(self._one_element("bool"))

    def __float__(self) -> float:
        return float(self._one_element("float"))

    def __int__(self) -> int:
        return int(self._one_element("int"))

    def item(self) -> float | int | bool:
        """The single element as a Python number."""
        return self._one_element("item")

    __hash__ = object.__hash__  # nodes are dict keys by identity

    # ---- operators (the front end: broadcasting and scalar ops live in adjoint.ops)
    def __add__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).add(self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).multiply(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return (_ops_module or _ops()).matmul(other, self)

    def __neg__(self) -> Tensor:
        return (_ops_module or _ops()).negate(self)

    def __pos__(self) -> Tensor:
        return self

    # Comparisons give constant boolean tensors (no gradient flows through them).
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        if isinstance(other, Value):
            other_data = other.realize_cached_data()
        elif type(other) is float or type(other) is int:
            other_data = other
        else:  # refuses strings, None, objects and complex numbers, naming the comparison
            other_data = _to_array(other, None, ufunc.__name__)
        data = self.realize_cached_data()
        try:
            return Tensor.make_const(ufunc(data, other_data))
        except ValueError:
            raise ValueError(
                f"{ufunc.__name__}: shapes {data.shape} and {np.shape(other_data)} do not "
                "broadcast; trailing dimensions must be equal or 1"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    # ---- methods mirroring the ops
    def sum(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axes`` (all by default); see :func:`adjoint.ops.summation`."""
        from adjoint import ops

        return ops.summation(self, axes, keepdims=keepdims)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """Broadcast to ``shape`` with NumPy's rules; see :func:`adjoint.ops.broadcast_to`."""
        from adjoint import ops

        return ops.broadcast_to(self, shape)

    def reshape(self, *shape: Any) -> Tensor:
        """Reshape to ``shape`` (a tuple or separate ints; one entry may be -1)."""
        from adjoint import ops

        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Swap two axes: ``t.transpose(i, j)``, ``t.transpose((i, j))``, last two by default."""
        from adjoint import ops

        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def permute(self, *axes: Any) -> Tensor:
        """Reorder all axes: ``t.permute(2, 0, 1)`` or ``t.permute((2, 0, 1))``."""
        from adjoint import ops

        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.permute(self, axes)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """All axes reversed, as NumPy's ``.T``."""
        from adjoint import ops

        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        from adjoint import ops

        return ops.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        from adjoint import ops

        return ops.log(self)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        from adjoint import ops

        return ops.relu(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        from adjoint import ops

        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + e**-x); see :func:`adjoint.ops.sigmoid`."""
        from adjoint import ops

        return ops.sigmoid(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        from adjoint import ops

        return ops.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise |x| (subgradient 0 at 0)."""
        from adjoint import ops

        return ops.abs(self)

    __abs__ = abs

    def __getitem__(self, index: Any) -> Tensor:
        """``t[index]`` with NumPy's semantics; see :func:`adjoint.ops.getitem`."""
        from adjoint import ops

        return ops.getitem(self, index)

    def __iter__(self) -> Iterator[Tensor]:
        if not self.shape:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[k] for k in range(self.shape[0]))

    def mean(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axes`` (all by default); see :func:`adjoint.ops.mean`."""
        from adjoint import ops

        return ops.mean(self, axes, keepdims=keepdims)

    def max(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axes`` (ties share the gradient); see :func:`adjoint.ops.max`."""
        from adjoint import ops

        return ops.max(self, axes, keepdims=keepdims)

    def min(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axes`` (ties share the gradient); see :func:`adjoint.ops.min`."""
        from adjoint import ops

        return ops.min(self, axes, keepdims=keepdims)

    def logsumexp(self, axes: Any = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``axes``, stably; see :func:`adjoint.ops.logsumexp`."""
        from adjoint import ops

        return ops.logsumexp(self, axes, keepdims=keepdims)

    def softmax(self, axes: Any = -1) -> Tensor:
        """Softmax over ``axes`` (the last by default); see :func:`adjoint.ops.softmax`."""
        from adjoint import ops

        return ops.softmax(self, axes)

    def log_softmax(self, axes: Any = -1) -> Tensor:
        """Log-softmax over ``axes`` (the last by default); see :func:`adjoint.ops.log_softmax`."""
        from adjoint import ops

        return ops.log_softmax(self, axes)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge axes ``start_axis..end_axis`` (all by default: 1-D); a reshape."""
        from adjoint import ops

        return ops.flatten(self, start_axis, end_axis)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove axes of length 1 (all, or those in ``axis``)."""
        from adjoint import ops

        return ops.squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        """Insert axes of length 1 at ``axis`` (an int or a tuple)."""
        from adjoint import ops

        return ops.expand_dims(self, axis)


# ------------------------------------------------------------------ differentiation


def find_topo_sort(node_list: Iterable[Value]) -> list[Value]:
    """All nodes the given nodes depend on, in topological order.

    The order is the post-order of a depth-first search over ``inputs`` (in
    order), exactly as needle's recursive ``topo_sort_dfs`` gives it, but with
    an explicit stack so that depth is unlimited.
    """
    return _topo_sort(_nodes(node_list, "find_topo_sort", "node_list"))


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


def _topo_sort(
    node_list: Iterable[Value], grad_only: bool = False, stop: set[Value] | None = None
) -> list[Value]:
    """The post-order of :func:`find_topo_sort`, optionally over the inputs that require
    grad only (``grad_only``) and not descending below the nodes of ``stop``.

    Nodes are their own set keys (hashed by identity). A node without inputs
    to visit is appended as soon as it is met, which gives the same order as
    pushing it and popping it at once, with less work for the many leaves.
    """
    visited: set[Value] = set()
    order: list[Value] = []
    for root in node_list:
        if root in visited:
            continue
        visited.add(root)
        if not root.inputs or (stop is not None and root in stop):
            order.append(root)
            continue
        stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root.inputs))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child in visited or (grad_only and not child.requires_grad):
                    continue
                visited.add(child)
                if child.inputs and (stop is None or child not in stop):
                    stack.append((child, iter(child.inputs)))
                    break
                order.append(child)
            else:
                stack.pop()
                order.append(node)
    return order


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
                constant = Tensor.make_const(adjoint.realize_cached_data())
                constant._tag = adjoint._tag
                adjoint = constant
            node.grad = adjoint
        return
    with _gc_paused:
        adjoints = _backward(output_tensor, out_grad, None)
    for node, adjoint in adjoints.items():
        node.grad = adjoint


def _seed(output: Value) -> Tensor:
    """The default adjoint of an output: a constant of ones of its shape and dtype."""
    return Tensor.make_const(np.ones(output.shape, dtype=output.dtype))


def gradients(output: Value, wrt: Iterable[Value], out_grad: Value | None = None) -> list[Value]:
    """Adjoints of ``output`` for the nodes ``wrt``, as graph nodes; no ``.grad`` is touched.

    ``out_grad`` defaults to ones of the output's shape. The walk treats the
    ``wrt`` nodes as independent variables: it stops at them (so they may be
    intermediate nodes of a larger graph, which is how nested derivatives stay
    connected to the outer graph) and it only visits nodes that depend on one
    of them. A node of ``wrt`` that the output does not depend on gets zeros
    of its shape, never ``None``.
    """
    from adjoint.init import zeros_like

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
        result.append(adjoint if adjoint is not None else zeros_like(x, requires_grad=False))
    return result


def _backward(output: Value, out_grad: Value, wrt: list[Value] | None) -> dict[Value, Value]:
    """The one reverse walk, shared by :func:`compute_gradient_of_variables` and :func:`gradients`.

    With ``wrt=None`` it returns the adjoints of the leaves that require grad
    and of ``retain_grad()`` nodes; otherwise those of the ``wrt`` nodes, the
    walk cut at them and pruned to the nodes that depend on them.
    """
    global _backward_walks
    from adjoint.ops import add

    state = _state

    if out_grad.shape != output.shape:
        raise ValueError(
            f"backward: out_grad has shape {out_grad.shape} but the output has shape "
            f"{output.shape}; give an out_grad of the output's shape"
        )
    if not output.requires_grad:
        return {}
    if wrt is None:
        topo = _topo_sort([output], grad_only=True)
        relevant = targets = None
    else:
        targets = set(wrt)
        topo = _topo_sort([output], grad_only=True, stop=targets)
        relevant = set()
        for node in topo:
            if node in targets:
                relevant.add(node)
                continue
            for x in node.inputs:
                if x in relevant:
                    relevant.add(node)
                    break
        if output not in relevant:
            return {}
    order = 0
    for node in topo:
        tag = node._tag
        if tag is not None and tag[0] > order:
            order = tag[0]
    order += 1
    # A node's partial adjoints: the Value itself while it has one (most nodes),
    # a list from the second on. With create_graph=True everything the walk
    # makes stays alive, and each container object is more work for CPython's
    # cyclic GC; the same goes for the census tags, one tuple per op (shared
    # ops such as EWiseMul's are used by many nodes), not one per node.
    partials: dict[Value, Value | list[Value]] = {output: out_grad}
    adjoints: dict[Value, Value] = {}
    tags: dict[Op | None, tuple[int, Op | None]] = {}
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
                adjoint = functools.reduce(add, adjoint)
            if relevant is None:
                if op is None or node._retain:
                    adjoints[node] = adjoint
                if op is None:
                    continue
            elif node in targets:
                adjoints[node] = adjoint
                continue
            input_adjoints = op.gradient(adjoint, node)  # gradient_as_tuple, inlined
            if type(input_adjoints) is not tuple:
                input_adjoints = (
                    tuple(input_adjoints) if type(input_adjoints) is list else (input_adjoints,)
                )
            inputs = node.inputs
            if len(input_adjoints) != len(inputs):
                _check_adjoints(node, input_adjoints)
            checked = not op.trusted_gradient
            for x, x_adjoint in zip(inputs, input_adjoints):
                if not x.requires_grad or (relevant is not None and x not in relevant):
                    continue
                x_partials = partials.get(x)
                if x_partials is None:
                    partials[x] = x_adjoint
                elif type(x_partials) is list:
                    x_partials.append(x_adjoint)
                else:
                    partials[x] = [x_partials, x_adjoint]
                if not checked:
                    continue
                # The guards of _check_adjoints, inlined; it raises the error.
                if not isinstance(x_adjoint, Value):
                    _check_adjoints(node, input_adjoints)
                got, want = x_adjoint.cached_data, x.cached_data
                if got is None and x_adjoint._meta is x._meta:
                    got = want = None  # lazy, metadata shared (an elementwise rule)
                elif got is None or want is None:  # lazy: _known_shape, inlined
                    meta = x_adjoint._meta
                    got = got.shape if got is not None else meta and meta[0]
                    meta = x._meta
                    want = want.shape if want is not None else meta and meta[0]
                else:
                    got, want = got.shape, want.shape
                if got != want and got is not None and want is not None:
                    _check_adjoints(node, input_adjoints)
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
