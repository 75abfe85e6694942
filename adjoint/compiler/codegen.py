"""Readable Python source for a graph: one assignment per node, over an array namespace ``xp``.

:func:`generate` turns the outputs of a graph and the nodes that are its inputs
into a :class:`Program`: the text of one function, plus the names it expects to
find bound when it runs. The generator knows nothing about backends except the
name ``xp`` of the array namespace (NumPy, ``jax.numpy``, CuPy): whoever runs
the source binds ``xp``, the constants and the fallback calls
(:mod:`adjoint.compiler.compiled`).

What the source looks like::

    def f(x):
        v3 = xp.exp(x)                 # Exp, order 0
        v4 = v3 * x                    # EWiseMul, order 0
        v5 = v4 * v1                   # EWiseMul, order 1 (EWiseMul rule)
        return (v4, v5)

* Nodes come in the engine's topological order (:func:`adjoint.walk.toposort`),
  after common-subexpression elimination: two nodes of the same op class with
  equal attributes and the same (merged) inputs become one line.
* Names: a node's ``name`` (sanitized to an identifier, made unique), or its
  textbook label ``v<k>`` (leaves first, then ops, over the whole graph of the
  outputs: the numbering of :meth:`adjoint.graph.Graph.label`, the tracing
  tables and the drawings; spelled out here, since :mod:`adjoint.graph` builds
  on this package for ``Graph.compile``).
* Each line's comment: the op and the derivative order that made the node
  (:func:`adjoint.autograd.derivative_order`), and for gradient nodes the op
  whose rule made them.
* Constants (leaves that are not inputs, and the values an op's source form
  hoists with ``const``) are names bound outside the function, never inlined.
* An op's line is its :meth:`~adjoint.autograd.Op.source`; an op without one
  (``source`` returns None) becomes a call of a name bound to something that
  runs its ``compute`` (the documented fallback; :attr:`Program.fallbacks`).
* A node of shape ``()`` is wrapped in ``xp.asarray``: NumPy gives scalars for
  0-d results, the engine always holds arrays, and a NumPy scalar's operators
  need not round as the array's do (``**``), so this keeps bit equality.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adjoint.autograd import Value, declared, derivative_order, find_topo_sort
from adjoint.walk import toposort

__all__ = ["Program", "generate"]

#: Names the generated function uses for itself: never given to a node.
_RESERVED = {"xp", "np"}


@dataclass
class Program:
    """The generated source and what must be bound for it to run.

    ``source`` defines one function named ``name`` whose parameters are
    ``params`` (one per input, in order) and which returns a tuple of the
    outputs. ``constants`` maps the names the source reads to the values
    (leaf arrays and hoisted op attributes); ``fallbacks`` maps the name of each
    call of an op without a source form to its node (the op, and the shape and
    dtype it yields). ``lines`` maps the source's line numbers (1-based) to the
    node each computes, for error messages.
    """

    source: str
    name: str
    params: list[str]
    outputs: list[str]
    constants: dict[str, Any] = field(default_factory=dict)
    fallbacks: dict[str, Value] = field(default_factory=dict)
    lines: dict[int, Value] = field(default_factory=dict)
    #: Op nodes in the graph, and how many lines they became after CSE.
    op_nodes: int = 0
    op_lines: int = 0

    @property
    def fallback_counts(self) -> dict[str, int]:
        """How many lines call each op without a source form, by op name."""
        counts: dict[str, int] = {}
        for node in self.fallbacks.values():
            counts[node.op.name] = counts.get(node.op.name, 0) + 1
        return counts


# ------------------------------------------------------------------ naming


def _identifier(name: str) -> str:
    """``name`` as a Python identifier: other characters become ``_``."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in _RESERVED:
        text += "_"
    return text


class _Names:
    """Unique identifiers: the first asker of a name gets it, later ones ``name_2``, ..."""

    def __init__(self, taken: set[str]) -> None:
        self.used = set(taken)

    def fresh(self, wanted: str) -> str:
        name = _identifier(wanted)
        if name not in self.used:
            self.used.add(name)
            return name
        k = 2
        while f"{name}_{k}" in self.used:
            k += 1
        name = f"{name}_{k}"
        self.used.add(name)
        return name


# ---------------------------------------------------- attributes and constants


def _key(value: Any) -> Any:
    """A hashable key equal for equal op attributes (by type and bits), for CSE and hoisting.

    Floats compare by their bits (0.0 and -0.0 differ, NaN equals NaN), arrays
    by dtype, shape and bytes; values of unknown types by identity.
    """
    t = type(value)
    if value is None or t in (bool, int, str):
        return (t, value)
    if t is float:
        return (t, value.hex())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("generic", value.dtype.str, value.tobytes())
    if t in (tuple, list):
        return (t, tuple(_key(v) for v in value))
    if t is slice:
        return (t, _key(value.start), _key(value.stop), _key(value.step))
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if t is type(Ellipsis):
        return (t,)
    return ("id", id(value))


def _op_key(op: Any) -> Any:
    """The op's class and attributes: ops with equal keys compute the same function."""
    try:
        attrs = vars(op)
    except TypeError:  # __slots__: compare by identity
        return (type(op), ("id", id(op)))
    return (type(op), tuple(sorted((k, _key(v)) for k, v in attrs.items())))


def _describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return f"{value.dtype}{list(value.shape)} {value.tolist()}"
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, np.generic):
        return f"{value.dtype} {value!r}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- generator


def _labels(outputs: list[Value]) -> dict[Value, str]:
    """The textbook labels ``v1, v2, ...`` of the graph of ``outputs``: leaves, then ops."""
    order = find_topo_sort(outputs)
    numbered = [n for n in order if n.op is None] + [n for n in order if n.op is not None]
    return {node: f"v{k}" for k, node in enumerate(numbered, start=1)}


def _source(op: Any, args: tuple[str, ...], const: Any) -> str | None:
    """The op's source form as :func:`~adjoint.autograd.declared` finds it (a subclass
    that redefines ``compute`` does not inherit its base's), or None."""
    return declared(op, "source")(op, args, const)


def generate(
    outputs: Sequence[Value],
    inputs: Sequence[Value],
    *,
    name: str = "compiled",
    fallback: set[Value] | frozenset[Value] = frozenset(),
) -> Program:
    """The source of a function ``name(*inputs) -> tuple of outputs`` (see the module doc).

    ``inputs`` are nodes of the graph (usually its leaves); the walk stops at
    them, so an input that is an op node is taken as given. Every other leaf
    is a constant. The nodes in ``fallback`` call their op's ``compute`` even
    where it has a source form (the JAX backend's path for source forms JAX
    cannot trace).
    """
    outputs = list(outputs)
    inputs = list(inputs)
    input_set = set(inputs)
    if len(input_set) != len(inputs):
        raise ValueError("compile: an input is given twice; give each input node once")
    nodes = toposort(outputs, lambda n: () if n in input_set else n.inputs)
    labels = _labels(outputs)

    def label(node: Value) -> str:
        return labels.get(node, "v")

    # CSE: a node whose op has the key of an earlier node with the same inputs merges.
    rep: dict[Value, Value] = {}
    seen: dict[Any, Value] = {}
    kept: list[Value] = []
    op_nodes = 0
    for node in nodes:
        if node in input_set or node.op is None:
            rep[node] = node
            kept.append(node)
            continue
        op_nodes += 1
        key = (_op_key(node.op), tuple(id(rep[x]) for x in node.inputs))
        first = seen.get(key)
        if first is not None:
            rep[node] = first
            continue
        seen[key] = node
        rep[node] = node
        kept.append(node)

    names = _Names(_RESERVED | {name})
    var: dict[Value, str] = {}
    params = []
    for node in inputs:
        var[node] = names.fresh(node.name or label(node))
        params.append(var[node])
    program = Program("", name, params, [])
    constant_keys: dict[Any, str] = {}

    def const(value: Any) -> str:
        key = _key(value)
        found = constant_keys.get(key)
        if found is None:
            found = constant_keys[key] = names.fresh(f"c{len(constant_keys) + 1}")
            program.constants[found] = value
        return found

    header = [f"def {name}({', '.join(params)}):"]
    body: list[tuple[str, str, Value | None]] = []
    for node in kept:
        if node in input_set:
            continue
        if node.op is None:
            var[node] = names.fresh(node.name or label(node))
            program.constants[var[node]] = node.cached_data
            continue
        args = tuple(var[rep[x]] for x in node.inputs)
        expr = None if node in fallback else _source(node.op, args, const)
        if expr is None:
            call = names.fresh(f"{node.op.name.lower()}_op")
            program.fallbacks[call] = node
            expr = f"{call}({', '.join(args)})"
            how = "; no source form: calls its compute"
        else:
            how = ""
        if node.shape == ():
            expr = f"xp.asarray({expr})"
        var[node] = names.fresh(node.name or label(node))
        order = derivative_order(node)
        comment = f"{node.op.name}, order {order}"
        tag = node._tag
        if order and tag is not None and tag[1] is not None:
            comment += f" ({tag[1].name} rule)"
        comment += how
        body.append((f"    {var[node]} = {expr}", comment, node))
    program.outputs = [var[rep[out]] for out in outputs]
    width = min(48, max((len(text) for text, _, _ in body), default=0))
    lines = list(header)
    for const_name, value in program.constants.items():
        lines.append(f"    # {const_name} = {_describe_value(value)}  (constant)")
    for text, comment, node in body:
        lines.append(f"{text.ljust(width)}  # {comment}")
        program.lines[len(lines)] = node
    returned = ", ".join(program.outputs)
    lines.append(f"    return ({returned},)" if len(outputs) == 1 else f"    return ({returned})")
    program.source = "\n".join(lines) + "\n"
    program.op_nodes = op_nodes
    program.op_lines = len(body)
    return program
