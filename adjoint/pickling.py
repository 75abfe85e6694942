"""Pickling and ``copy.deepcopy`` of graph nodes without recursion through the graph.

A node pickled first carries a flat list of ``(node, state)`` records for the
whole graph it reaches (:class:`_GraphState`), so the depth of the pickle is
the same for a graph of any depth; see :meth:`adjoint.autograd.Value.__reduce_ex__`.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from adjoint.walk import toposort

if TYPE_CHECKING:
    from adjoint.autograd import Value


def _is_node(x: Any) -> bool:
    """A graph node (a :class:`~adjoint.autograd.Value`), known by its methods."""
    return hasattr(type(x), "realize_cached_data")


def _linked(node: Any) -> list[Any]:
    """The nodes a node's state refers to: its inputs and its ``grad``."""
    return [x for x in (*getattr(node, "inputs", ()), getattr(node, "grad", None)) if _is_node(x)]


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
        nodes = toposort([self.root], _linked)
        members = _pickle_members()
        added = {id(node) for node in nodes} - members
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
