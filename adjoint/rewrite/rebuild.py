"""The pass of :func:`simplify`: rebuild a graph from its outputs, smaller.

Reverse mode applied n times grows graphs geometrically: each backward pass
copies the graph it differentiates and adds the adjoint of every node. The pass
walks the topological order once (no recursion, so any depth) and sends each
node through, in order, constant folding (inputs that need no gradient: a
leaf), the polynomial normal form (:mod:`~adjoint.rewrite.polynomial`), the
local rules of its op class (:mod:`~adjoint.rewrite.rules`), and last
hash-consing: nodes with the same op type, attributes and (already simplified)
inputs become one node, constants with equal dtype, shape and values one leaf.

The given graph is never modified: unchanged nodes are reused, everything else
is a new node with its census tag copied, and variables stay the same objects,
so the result can be differentiated with respect to them or re-run with
:meth:`Graph.run`. A node given in ``keep`` (and every variable of a running
functional call, :mod:`~adjoint.rewrite.active`) is a leaf to every rule.

Nested :func:`~adjoint.functional.grad` simplifies by itself from the third
order on: there it keeps graphs linear in the order instead of geometric
(faster from the 7th order on), while at orders 1 and 2 it costs about twice
the derivative's own time for a 1.3-2.8x smaller graph and would hide the graph
reverse mode builds. The measurements are in ``benchmarks/README.md``
("Simplifying nested gradients").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adjoint import autograd
from adjoint.autograd import Value, _flag_arg, declared, find_topo_sort
from adjoint.ops import AddScalar, EWiseAdd, EWiseMul, MulScalar, Negate, PowerScalar
from adjoint.rewrite import polynomial, rules
from adjoint.rewrite import verify as verification
from adjoint.rewrite.active import active_variables
from adjoint.rewrite.polynomial import (
    MAX_DEGREE,
    MAX_TERMS,
    POLY_KINDS,
    Pending,
    expandable,
    integer,
    real,
    uniform,
)
from adjoint.rewrite.rules import COMMUTE, REGROUPING, regroupable
from adjoint.rewrite.verify import _Verifier
from adjoint.tensor import Tensor

__all__ = ["simplify", "Simplified", "MAX_CONSTANT_SIZE", "MAX_TERMS", "MAX_DEGREE"]

#: Constants up to this many elements are compared by value for hash-consing.
MAX_CONSTANT_SIZE = 4096


class _Unhashable(Exception):
    pass


def _freeze(value: Any) -> Any:
    """A hashable stand-in for an op attribute, equal exactly when the attributes are."""
    kind = type(value)
    if kind is float or kind is int:  # scalar ops' attribute: the common case first
        if value == 0 and kind is float:  # 0.0 == -0.0, but x * -0.0 is not x * 0.0
            return ("float", value, math.copysign(1.0, value))
        return (kind.__name__, value)
    if value is None or value is Ellipsis or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Number):
        return (type(value).__name__, value)
    if isinstance(value, np.generic):
        return (value.dtype.str, value.item())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, slice):
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if isinstance(value, np.ndarray) and value.size <= MAX_CONSTANT_SIZE:
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    raise _Unhashable


def _op_key(op: Any) -> Any:
    attributes = vars(op)
    if not attributes:
        return (type(op), ())
    try:
        return (type(op), tuple([(k, _freeze(v)) for k, v in sorted(attributes.items())]))
    except _Unhashable:
        return (type(op), id(op))


def _constant_key(node: Value) -> Any:
    data = node.cached_data
    if data is None or type(data) is not np.ndarray or data.size > MAX_CONSTANT_SIZE:
        return ("leaf", id(node))  # (another device's constants are not merged by value)
    return ("constant", data.dtype.str, data.shape, data.tobytes())


@dataclass
class Simplified:
    """The result of :func:`simplify`: new outputs and node counts before and after."""

    outputs: tuple[Tensor, ...]
    before: int
    _after: int | None = field(default=None, repr=False)

    @property
    def after(self) -> int:
        """The number of nodes of the new graph (counted when first asked for)."""
        if self._after is None:
            self._after = len(find_topo_sort(self.outputs))
        return self._after

    @property
    def output(self) -> Tensor:
        """The single output (for a call with one output)."""
        if len(self.outputs) != 1:
            raise ValueError(
                f"Simplified.output: there are {len(self.outputs)} outputs; use .outputs"
            )
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"Simplified({len(self.outputs)} output(s): {self.before} -> {self.after} nodes)"


#: The ops the rewrites make, with their keys, by (op class, frozen scalar).
_NEW_OPS: dict[Any, tuple[Any, Any]] = {}


class _Builder:
    """The rebuilt graph: a table of nodes by key (hash-consing) and the rewrites."""

    def __init__(self, use_polys: bool = True, opaque: frozenset[int] = frozenset()) -> None:
        self.rules = rules.RULES
        self.use_polys = use_polys
        self.opaque = opaque  # kept nodes: leaves to every rule (see op_of)
        self.pending: list[Pending] = []  # keeps every id in ``polys`` alive and unique
        self.polys: dict[int, dict] = {}
        self.table: dict[Any, Value] = {}
        self.rank: dict[int, int] = {}
        self.keep: list[Value] = []  # keeps every id in ``rank`` alive and unique
        self.rule = ""  # the rule that made the last rewrite (for verification)

    def op_of(self, node: Value) -> Any:
        """The op of ``node`` for a rule to look through, or None for a kept node.

        A kept node (a variable an enclosing ``grad`` differentiates with
        respect to, such as ``x + 0``) is a leaf to the rules: looking through
        it (``(x + 0) + 1`` to ``x + 1``) would keep the value and cut the
        dependence on it, so the outer derivative would come out zero.
        """
        return None if id(node) in self.opaque else node.op

    # ---- node making
    def _ranked(self, node: Value) -> Value:
        if id(node) not in self.rank:
            self.rank[id(node)] = len(self.rank)
            self.keep.append(node)
        return node

    def leaf(self, node: Value) -> Value:
        if node.requires_grad:
            return self._ranked(node)
        key = _constant_key(node)
        found = self.table.get(key)
        if found is None:
            found = self.table[key] = self._ranked(node)
        return found

    def make(self, op: Any, inputs: tuple[Value, ...], like: Value, op_key: Any = None) -> Value:
        """The node ``op(*inputs)``: found in the table, or ``like`` reused, or built."""
        if op_key is None:
            op_key = _op_key(op)
        key = (op_key, tuple(map(id, inputs)))
        found = self.table.get(key)
        if found is not None:
            return found
        if like.inputs == inputs and like.op is not None and _op_key(like.op) == op_key:
            node = like
        else:
            node = self._build(op, inputs, like)
            if node.op is None:
                return self.leaf(node)
        self.table[key] = node
        return self._ranked(node)

    def make_new(
        self, kind: type, inputs: tuple[Value, ...], like: Value, scalar: Any = None
    ) -> Value:
        """:meth:`make` with a new op ``kind()`` (``kind(scalar)`` for scalar ops).

        Ops hold no state, so rebuilt nodes share them, as the nodes a backward
        pass makes share one ``EWiseMul``: each op and its key is made once (in
        a bounded table), which saves most of the key computations.
        """
        cache_key = (kind, _freeze(scalar))
        found = _NEW_OPS.get(cache_key)
        if found is None:
            if len(_NEW_OPS) >= MAX_CONSTANT_SIZE:
                _NEW_OPS.clear()
            op = kind() if scalar is None else kind(scalar)
            found = _NEW_OPS[cache_key] = (op, _op_key(op))
        return self.make(found[0], inputs, like, found[1])

    def _build(self, op: Any, inputs: tuple[Value, ...], like: Value) -> Value:
        node = Tensor.__new__(Tensor)
        requires_grad, computable, arrays = False, True, []
        for x in inputs:
            data = x.cached_data
            if data is None:
                computable = False
            if x.requires_grad:
                requires_grad = True
            arrays.append(data)
        node._init(op, inputs, requires_grad=requires_grad)
        node._tag = like._tag
        if computable and (not autograd.LAZY_MODE or not requires_grad):
            node.cached_data = autograd.evaluate(op, arrays)
        else:
            node._meta = (like.shape, like.dtype)
        if not requires_grad:
            node.op = None
            node.inputs = ()
        return node

    def built(self, inputs: tuple[Any, ...]) -> tuple[Value, ...]:
        """``inputs`` with every pending polynomial (:class:`Pending`) built as nodes."""
        for x in inputs:
            if type(x) is Pending:
                return tuple([x.build(self) if type(x) is Pending else x for x in inputs])
        return inputs

    # ---- helpers of the rules
    def scaled(self, base: Value, factor: float, like: Value) -> Value:
        """``factor * base`` as ``base``, ``-base`` or one ``MulScalar``."""
        if factor == 1:
            return base
        if factor == -1:
            return self.make_new(Negate, (base,), like)
        return self.make_new(MulScalar, (base,), like, factor)

    def split_scale(self, node: Value) -> tuple[Value, float]:
        """``node`` as ``factor * base`` when it is a scalar multiple, else ``(node, 1)``."""
        op = self.op_of(node)
        if isinstance(op, Negate):
            return node.inputs[0], -1.0
        if type(op) is MulScalar and real(op.scalar):
            return node.inputs[0], op.scalar
        return node, 1

    def power(self, node: Value) -> tuple[Value, int]:
        """``node`` as ``base ** p`` for a positive integer ``p``, else ``(node, 1)``."""
        op = self.op_of(node)
        if type(op) is PowerScalar and integer(op.scalar) and op.scalar > 0:
            return node.inputs[0], int(op.scalar)
        return node, 1

    # ---- polynomials: elementwise sums and products over "atoms" in normal form
    def poly_of(self, node: Value) -> dict:
        found = self.polys.get(id(node))
        if found is not None:
            return found
        k = uniform(node)
        if k is not None:
            found = {(): k} if k != 0 else {}
        else:
            found = {((self.rank[id(node)], 1),): 1.0}
        self.polys[id(node)] = found  # ``node`` is ranked: kept alive, its id unique
        return found

    def from_poly(self, poly: dict, old: Value) -> Value | None:
        """Build ``poly`` as a sum of scaled monomials in canonical order (hash-consed)."""
        shift = poly.get((), 0.0)
        monomials = sorted([m for m in poly if m])
        if not monomials:
            return None
        total = None
        for monomial in monomials:
            term = None
            for rank, exponent in monomial:
                atom = self.keep[rank]
                factor = (
                    atom if exponent == 1 else self.make_new(PowerScalar, (atom,), old, exponent)
                )
                term = factor if term is None else self.make_new(EWiseMul, (term, factor), old)
            term = self.scaled(term, poly[monomial], old)
            total = term if total is None else self.make_new(EWiseAdd, (total, term), old)
        if shift != 0:
            total = self.make_new(AddScalar, (total,), old, shift)
        self.polys[id(total)] = poly
        return total

    def rewrite(self, old: Value, inputs: tuple[Any, ...], absorbed: bool = False) -> Any:
        """The simplified ``old`` from its simplified inputs; ``self.rule`` names the rule.

        The rules are tried in order: constant folding, the polynomial normal
        form, then the local rules of ``old``'s op (:data:`~adjoint.rewrite.rules.RULES`), and last
        hash-consing, which every node goes through. ``absorbed``: every
        consumer of ``old`` reads it as a polynomial, so a polynomial result
        may stay a :class:`~adjoint.rewrite.polynomial.Pending` (built as nodes
        only if a consumer turns out to need them).
        """
        for x in inputs:
            if x.requires_grad:
                break
        else:  # no input requires grad: a constant
            self.rule = "constant folding"
            return self.leaf(self._build(old.op, self.built(inputs), old))
        kind = type(old.op)
        dtype = old.dtype
        if self.use_polys and expandable(dtype) and kind in POLY_KINDS:
            poly = polynomial.of_op(old.op, inputs, self.poly_of)
            if poly is not None and all([x.dtype == dtype for x in inputs]):
                self.rule = "polynomial normal form"
                if absorbed and any(poly):  # a monomial, not a constant alone
                    pending = Pending(poly, old)
                    self.polys[id(pending)] = poly
                    self.pending.append(pending)
                    return pending
                built = self.from_poly(poly, old)
                if built is not None:
                    return built
        inputs = self.built(inputs)
        regroup = regroupable(dtype)
        kind_rules = self.rules.get(kind)
        if kind_rules is None:
            kind_rules = COMMUTE if declared(kind, "commutative") else ()
        for name, rule in kind_rules:
            if not regroup and name in REGROUPING:
                continue
            result = rule(self, old, inputs)
            if result is not None:
                self.rule = name
                return result
        self.rule = "hash-consing"
        return self.make(old.op, inputs, old)


def simplify(
    *outputs: Value | Sequence[Value],
    keep: Sequence[Value] = (),
    polynomials: bool = True,
    verify: bool | None = None,
) -> Simplified:
    """An equivalent, smaller graph for ``outputs``, and the node counts before and after.

    The rewrites are listed in :mod:`adjoint.rewrite`. The pass is one loop over
    the topological order (no recursion, so any depth works) and never
    modifies the given graph. It never returns more nodes than it was given:
    should the polynomial normal forms cost nodes (sums rebuilt in canonical
    order can duplicate shared partial sums), the pass runs again without
    them, and failing that returns the outputs unchanged.

    ``keep``: nodes to keep as they are, as if they were leaves. A graph that
    will be differentiated with respect to an intermediate node (as the
    functional API does: it differentiates with respect to ``x + 0``) must
    keep that node, or a rewrite such as ``x + 0 -> x`` would cut the
    dependence on it. The variables of every functional call whose function
    is running (:func:`~adjoint.rewrite.active.active_variables`) are always
    kept, so ``simplify`` is safe inside a function given to ``grad``.

    ``polynomials=False`` leaves out the polynomial normal form
    (:mod:`~adjoint.rewrite.polynomial`), keeping sums and products factored
    as they were: an expanded polynomial can lose precision where its terms
    cancel (``(x + 1e8) (x - 1e8)`` becomes ``x**2 - 1e16``).

    ``verify=True`` checks every rewrite as it is made
    (:class:`~adjoint.rewrite.verify._Verifier`):
    the rebuilt node must have the value of the op it replaces, at the current
    point, up to rounding, and depend on the same variables; a rewrite that
    fails raises :class:`RewriteError` naming the rule and the node. ``None``
    (the default) follows :data:`adjoint.rewrite.verify.VERIFY`, which
    :func:`verify_rewrites` and the environment variable
    ``ADJOINT_VERIFY_SIMPLIFY=1`` switch on.

    >>> import adjoint as ad
    >>> x = ad.Tensor(0.3)
    >>> d2 = ad.grad(ad.grad(ad.tanh))(x)
    >>> s = ad.simplify(d2)
    >>> s.after < s.before, abs(float(s.output) - float(d2)) < 1e-12
    (True, True)
    """
    if len(outputs) == 1 and isinstance(outputs[0], (list, tuple)):
        outputs = tuple(outputs[0])
    if not outputs:
        raise ValueError("simplify: give at least one output Tensor, e.g. simplify(y)")
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TypeError(f"simplify: output {i} is a {type(out).__name__}; give Tensors")
    if not isinstance(keep, (list, tuple, set, frozenset)) or not all(
        isinstance(node, Value) for node in keep
    ):
        raise TypeError(
            f"simplify: keep must be a list or tuple of Tensors (nodes to keep as they "
            f"are), got {keep!r}"
        )
    polynomials = _flag_arg(polynomials, "simplify", "polynomials")
    if verify is not None and verify is not True and verify is not False:
        if not isinstance(verify, np.bool_):
            raise TypeError(f"simplify: verify must be True, False or None, got {verify!r}")
        verify = bool(verify)
    topo = find_topo_sort(outputs)
    before = len(topo)
    kept = {id(node) for node in [*keep, *active_variables()]}
    if verify is None:
        verify = verification.VERIFY
    with autograd._gc_paused:  # many new objects, no reference cycles (see PAUSE_GC)
        for use_polys in (True, False) if polynomials else (False,):
            new_outputs, made = _rebuild(topo, outputs, use_polys, kept, verify)
            if made <= before:  # the new graph's nodes are among those made: no count needed
                return Simplified(new_outputs, before)
            after = len(find_topo_sort(new_outputs))
            if after <= before:
                return Simplified(new_outputs, before, after)
    return Simplified(tuple(outputs), before, before)


def _rebuild(
    topo: list[Value], outputs: Sequence[Value], use_polys: bool, kept: set[int], verify: bool
) -> tuple[tuple[Value, ...], int]:
    """The simplified outputs, and how many nodes the pass made or kept (at least as
    many as the new graph has)."""
    builder = _Builder(use_polys, frozenset(kept))
    verifier = _Verifier(builder, kept) if verify else None
    # Nodes that only polynomial consumers read need not be built as nodes: their
    # consumers' normal forms absorb them (about a third of the nodes a nested
    # derivative's pass would build and then drop).
    needed = {id(out) for out in outputs}
    if use_polys:
        for node in topo:
            if node.op is not None and not (type(node.op) in POLY_KINDS and expandable(node.dtype)):
                needed.update(map(id, node.inputs))
    else:
        needed = None
    mapped: dict[int, Any] = {}
    for old in topo:
        if id(old) in kept:
            mapped[id(old)] = builder._ranked(old)
        elif old.op is None:
            mapped[id(old)] = builder.leaf(old)
        else:
            inputs = tuple([mapped[id(x)] for x in old.inputs])
            absorbed = needed is not None and id(old) not in needed
            mapped[id(old)] = result = builder.rewrite(old, inputs, absorbed)
            if verifier is not None:
                verifier.check(old, inputs, result, builder.rule)
    new_outputs = tuple(builder.built(tuple(mapped[id(out)] for out in outputs)))
    if verifier is not None:  # outputs left as polynomials: their nodes against them
        for out, new in zip(outputs, new_outputs):
            if type(mapped[id(out)]) is Pending:
                verifier.check_built(out, mapped[id(out)], new)
    return new_outputs, len(builder.rank)  # every node of the new graph is ranked
