"""Keeping gradient graphs small: a simplification pass, and a census of graphs.

Reverse mode applied n times grows graphs geometrically: each backward pass
copies the graph it differentiates and adds the adjoint of every node.
:func:`simplify` rebuilds a graph from its outputs, in one iterative pass over
the topological order (any depth), with

* hash-consing: two nodes with the same op type, the same op attributes and
  the same (already simplified) inputs become one node; constants with equal
  dtype, shape and values become one leaf;
* canonical order of the inputs of commutative ops (``EWiseAdd``,
  ``EWiseMul``, and any op class that declares ``commutative``, see
  :class:`adjoint.Op`), so that ``a * b`` and ``b * a`` hash alike;
* identities: ``x + 0``, ``x * 1``, ``x / 1``, ``x ** 1``, ``-(-x)``,
  reshape, broadcast, transpose or permute to the same shape and order, sums
  over no axes, a reshape of a reshape;
* scalar algebra: chains of ``MulScalar``/``Negate`` fold into one factor
  (``3 * (2 * x)`` is ``6 * x``, ``-(2 * x)`` is ``-2 * x``), chains of
  ``AddScalar`` into one shift, scalar factors are pulled out of products
  (``(c a) * b`` is ``c (a * b)``), a product with a uniform constant tensor
  becomes a scalar op, ``x + x`` is ``2 x``, ``x * x`` is ``x ** 2`` and
  ``x ** p * x ** q`` is ``x ** (p + q)`` for integer powers;
* a polynomial normal form: float32 and float64 sums, products, scalar ops and
  integer powers (the op classes that declare ``polynomial``; their algebra is
  in ``_Builder.poly``) are polynomials in their "atoms" (every other node: tanh(x),
  a leaf, a matmul, ...); each such node is rebuilt from its polynomial, like
  terms collected and products expanded, as a sum of scaled monomials in
  canonical order (``x ** k`` nodes shared), so equal polynomials hash alike.
  It is bounded (:data:`MAX_TERMS` monomials, :data:`MAX_DEGREE`); beyond, a
  node keeps its structure and becomes an atom. Terms whose coefficients
  cancel stay as ``0 * term``, so an infinite term still gives NaN;
* constant folding: a node whose inputs all need no gradient becomes a
  constant leaf.

A rewrite may change the last bits of a result (``(2 x) 3`` and ``6 x`` round
differently). The polynomial normal form expands products of sums, and an
expanded polynomial can lose precision where its terms cancel (``(x + 1e8)
(x - 1e8)`` becomes ``x**2 - 1e16``); ``simplify(..., polynomials=False)``
keeps the factored form. Products with zero are
left alone: ``x * 0`` is NaN for infinite ``x``, so folding it to zeros would
change values.

Each rewrite is one small named rule (:func:`_rules`), exact in real
arithmetic. A node given in ``keep`` (and every variable of a running
functional call) is a leaf to all of them: a rule that looked through the
kept ``v = x + 0`` to rewrite ``(v + 0) + 1`` as ``x + 1`` kept the value but
cut the dependence on ``v``, which made nested ``grad`` return zero or wrong
derivatives from the 3rd order on (issue 16). ``simplify(..., verify=True)``,
or :func:`verify_rewrites`, or ``ADJOINT_VERIFY_SIMPLIFY=1`` for a whole
process (the test suite runs so), checks every rewrite as it is made, value
and dependence, and raises :class:`RewriteError` naming the rule and the node.

The original graph is never modified: unchanged nodes are reused as they are,
everything else is a new node (with its census tag copied). Variables (leaves
that require grad) stay the same objects, so the simplified graph can be
differentiated with respect to them or re-run with :meth:`Graph.run`.

``ad.simplify`` and ``ad.census`` are the functions; the top-level name
``simplify`` hides this module, so import from it with ``from adjoint.simplify
import ...`` (``import adjoint.simplify as m`` gives the function).

Automatic or not. Nested :func:`~adjoint.functional.grad` simplifies by
itself from the third order on (``grad(f, simplify=None)``, the default);
first and second derivatives are left as reverse mode builds them. Measured
on the n-th derivative of tanh at a scalar by nesting ``grad`` (best of 9, one
core):

=====  =====================  ==========================  =====================
order  raw graph: nodes, time  simplified once at the end  simplified every level
=====  =====================  ==========================  =====================
1        5 nodes,   0.02 ms      5 nodes,   0.06 ms           5 nodes, 0.06 ms
2        8 nodes,   0.04 ms      6 nodes,   0.10 ms           7 nodes, 0.14 ms
3       17 nodes,   0.07 ms      8 nodes,   0.16 ms           9 nodes, 0.25 ms
4       37 nodes,   0.11 ms      9 nodes,   0.28 ms          10 nodes, 0.37 ms
5       85 nodes,   0.22 ms     11 nodes,   0.52 ms          12 nodes, 0.52 ms
6      207 nodes,   0.47 ms     12 nodes,   1.14 ms          13 nodes, 0.69 ms
7      531 nodes,   1.09 ms     14 nodes,   2.96 ms          15 nodes, 0.87 ms
8     1421 nodes,   3.02 ms     15 nodes,   7.95 ms          16 nodes, 1.08 ms
=====  =====================  ==========================  =====================

(every level keeps one more node: the ``x + 0`` the functional API
differentiates with respect to). Simplifying at every level keeps each backward
pass small: the graph stays linear in the order where the raw one grows about
2.6-fold a level, so from the 7th order on it is faster than not simplifying at
all (1.25x at the 7th, 2.8x at the 8th), while simplifying only at the
end pays for walking the geometric graph twice. A node that only polynomial
consumers read is not built at all: its polynomial is absorbed into theirs
(simplifying the raw 8th derivative builds 14 nodes where it built 1,900, in
a quarter of the time). Below the 7th order, simplifying costs time (1.5x at
the 6th) and buys size (16x fewer nodes at the 6th), which is what drawings,
``to_sympy`` and memory need; ``grad(f, simplify=False)`` gives the raw
graph. The first two orders are where the pass costs most for least: a first
or second derivative's graph is linear in the size of ``f``'s, and
simplifying it takes 1.9 to 2.3 times as long as the derivative itself for
1.3 to 2.8 times fewer nodes (second derivatives of tanh, sin(x) e^x and
x^3 e^(-x^2)), and it would hide the graph that reverse mode really builds,
which the census and the drawings are meant to show; hence the rule (before
TanhBackward it started at the second order). ``grad``'s default thus gives
the raw column at orders 1 and 2 and about the last one from the 3rd on. The
polynomial normal form is what makes tanh's graphs small: its n-th derivative
is a polynomial in tanh(x), which the pass finds (the 8th: 4 powers, 5 scaled
terms, 4 sums). Without it (``polynomials=False``: hash-consing and the local
rewrites only), simplifying the raw 8th derivative keeps 184 nodes and the 6th 52.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adjoint import autograd
from adjoint.autograd import Value, _flag_arg, derivative_order, find_topo_sort
from adjoint.tensor import Tensor

__all__ = ["simplify", "Simplified", "census", "Census", "RewriteError", "verify_rewrites"]

#: Constants up to this many elements are compared by value for hash-consing.
MAX_CONSTANT_SIZE = 4096

#: The most terms a sum is flattened into when like terms are collected, and the
#: most monomials a polynomial normal form may have.
MAX_TERMS = 16

#: The highest total degree of a monomial in a polynomial normal form.
MAX_DEGREE = 24


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
    if data is None or data.size > MAX_CONSTANT_SIZE:
        return ("leaf", id(node))
    return ("constant", data.dtype.str, data.shape, data.tobytes())


def _uniform(node: Value) -> float | None:
    """The common value of a constant whose elements are all equal (else None)."""
    if node.requires_grad or node.op is not None or node.cached_data is None:
        return None
    data = node.cached_data
    if data.dtype.kind != "f":
        return None
    if data.size == 1:
        first = float(data.item())
        return first if math.isfinite(first) else None
    if data.size == 0:
        return None
    first = data.flat[0]
    if not np.isfinite(first) or not np.all(data == first):
        return None
    return float(first)


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


_OPS: tuple[dict[str, type], frozenset[type]] | None = None

#: The ops the rewrites make, with their keys, by (name, frozen scalar).
_NEW_OPS: dict[Any, tuple[Any, Any]] = {}


def _op_classes() -> tuple[dict[str, type], frozenset[type]]:
    """The op classes the rules name, and those that polynomials read (imported once:
    ``adjoint.ops`` imports this package's engine, so not at module level)."""
    global _OPS
    if _OPS is None:
        from adjoint.ops import (
            AddScalar,
            BroadcastTo,
            DivScalar,
            EWiseAdd,
            EWiseDiv,
            EWiseMul,
            Maximum,
            Minimum,
            MulScalar,
            Negate,
            Permute,
            PowerScalar,
            Reshape,
            Summation,
            TanhBackward,
            Transpose,
        )

        ops = {
            "add_scalar": AddScalar,
            "broadcast": BroadcastTo,
            "div_scalar": DivScalar,
            "add": EWiseAdd,
            "div": EWiseDiv,
            "mul": EWiseMul,
            "maximum": Maximum,
            "minimum": Minimum,
            "mul_scalar": MulScalar,
            "negate": Negate,
            "permute": Permute,
            "pow": PowerScalar,
            "reshape": Reshape,
            "sum": Summation,
            "tanh_backward": TanhBackward,
            "transpose": Transpose,
        }
        # The polynomial normal form reads the ops that declare ``polynomial`` among
        # those whose algebra it holds (``_Builder.poly``).
        poly_kinds = frozenset(op for op in ops.values() if op.polynomial)
        _OPS = (ops, poly_kinds)
    return _OPS


class RewriteError(RuntimeError):
    """A rewrite of :func:`simplify` changed a value or cut a dependence (``verify=True``).

    ``rule`` names the rewrite and ``node`` is the original node it rewrote.
    """

    def __init__(self, message: str, rule: str, node: Value) -> None:
        super().__init__(message)
        self.rule = rule
        self.node = node


class _Builder:
    """The rebuilt graph: a table of nodes by key (hash-consing) and the rewrites."""

    def __init__(self, use_polys: bool = True, opaque: frozenset[int] = frozenset()) -> None:
        self.ops, self.poly_kinds = _op_classes()
        self.rules = _rules()
        self.use_polys = use_polys
        self.opaque = opaque  # kept nodes: leaves to every rule (see op_of)
        self.pending: list[_Pending] = []  # keeps every id in ``polys`` alive and unique
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
        self, name: str, inputs: tuple[Value, ...], like: Value, scalar: Any = None
    ) -> Value:
        """:meth:`make` with a new op ``self.ops[name]`` (of ``scalar``, for scalar ops).

        Ops hold no state, so rebuilt nodes share them, as the nodes a backward
        pass makes share one ``EWiseMul``: each op and its key is made once (in
        a bounded table), which saves most of the key computations.
        """
        cache_key = (name, _freeze(scalar))
        found = _NEW_OPS.get(cache_key)
        if found is None:
            if len(_NEW_OPS) >= MAX_CONSTANT_SIZE:
                _NEW_OPS.clear()
            op = self.ops[name]() if scalar is None else self.ops[name](scalar)
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
            data = op.compute(*arrays)
            node.cached_data = data if type(data) is np.ndarray else np.asarray(data)
        else:
            node._meta = (like.shape, like.dtype)
        if not requires_grad:
            node.op = None
            node.inputs = ()
        return node

    def built(self, inputs: tuple[Any, ...]) -> tuple[Value, ...]:
        """``inputs`` with every :class:`_Pending` polynomial built as nodes."""
        for x in inputs:
            if type(x) is _Pending:
                return tuple([x.build(self) if type(x) is _Pending else x for x in inputs])
        return inputs

    # ---- helpers of the rules
    def scaled(self, base: Value, factor: float, like: Value) -> Value:
        """``factor * base`` as ``base``, ``-base`` or one ``MulScalar``."""
        if factor == 1:
            return base
        if factor == -1:
            return self.make_new("negate", (base,), like)
        return self.make_new("mul_scalar", (base,), like, factor)

    def split_scale(self, node: Value) -> tuple[Value, float]:
        """``node`` as ``factor * base`` when it is a scalar multiple, else ``(node, 1)``."""
        op = self.op_of(node)
        if isinstance(op, self.ops["negate"]):
            return node.inputs[0], -1.0
        if type(op) is self.ops["mul_scalar"] and _real(op.scalar):
            return node.inputs[0], op.scalar
        return node, 1

    def power(self, node: Value) -> tuple[Value, int]:
        """``node`` as ``base ** p`` for a positive integer ``p``, else ``(node, 1)``."""
        op = self.op_of(node)
        if type(op) is self.ops["pow"] and _integer(op.scalar) and op.scalar > 0:
            return node.inputs[0], int(op.scalar)
        return node, 1

    # ---- polynomials: elementwise sums and products over "atoms" in normal form
    def poly_of(self, node: Value) -> dict:
        found = self.polys.get(id(node))
        if found is not None:
            return found
        k = _uniform(node)
        if k is not None:
            found = {(): k} if k != 0 else {}
        else:
            found = {((self.rank[id(node)], 1),): 1.0}
        self.polys[id(node)] = found  # ``node`` is ranked: kept alive, its id unique
        return found

    def poly(self, old: Value, inputs: tuple[Value, ...]) -> dict | None:
        """The polynomial ``old`` computes from its inputs' polynomials, or None."""
        op = old.op
        ops = self.ops
        kind = type(op)
        if kind is ops["add_scalar"] and _real(op.scalar):
            return _padd(self.poly_of(inputs[0]), {(): float(op.scalar)})
        if kind is ops["mul_scalar"] and _real(op.scalar):
            return _pscale(self.poly_of(inputs[0]), float(op.scalar))
        if kind is ops["div_scalar"] and _real(op.scalar) and op.scalar != 0:
            return _pscale(self.poly_of(inputs[0]), 1.0 / op.scalar)
        if kind is ops["negate"]:
            return _pscale(self.poly_of(inputs[0]), -1.0)
        if kind is ops["add"]:
            return _padd(self.poly_of(inputs[0]), self.poly_of(inputs[1]))
        if kind is ops["mul"]:
            return _pmul(self.poly_of(inputs[0]), self.poly_of(inputs[1]))
        if kind is ops["tanh_backward"]:  # g (1 - y**2)
            y = self.poly_of(inputs[1])
            return _pmul(self.poly_of(inputs[0]), _padd({(): 1.0}, _pscale(_pmul(y, y), -1.0)))
        if kind is ops["pow"] and _integer(op.scalar) and 1 <= op.scalar <= MAX_DEGREE:
            base = self.poly_of(inputs[0])
            power = int(op.scalar)
            if len(base) == 1:  # a monomial (an atom, most often): exponents multiply
                ((monomial, c),) = base.items()
                if c in (1.0, -1.0) and sum(e for _, e in monomial) * power <= MAX_DEGREE:
                    return {tuple((r, e * power) for r, e in monomial): c**power}
            result: dict | None = {(): 1.0}
            for _ in range(power):
                result = _pmul(result, base) if result is not None else None
            return result
        return None

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
                factor = atom if exponent == 1 else self.make_new("pow", (atom,), old, exponent)
                term = factor if term is None else self.make_new("mul", (term, factor), old)
            term = self.scaled(term, poly[monomial], old)
            total = term if total is None else self.make_new("add", (total, term), old)
        if shift != 0:
            total = self.make_new("add_scalar", (total,), old, shift)
        self.polys[id(total)] = poly
        return total

    def rewrite(self, old: Value, inputs: tuple[Any, ...], absorbed: bool = False) -> Any:
        """The simplified ``old`` from its simplified inputs; ``self.rule`` names the rule.

        The rules are tried in order: constant folding, the polynomial normal
        form, then the local rules of ``old``'s op (:func:`_rules`), and last
        hash-consing, which every node goes through. ``absorbed``: every
        consumer of ``old`` reads it as a polynomial, so a polynomial result
        may stay a :class:`_Pending` (built as nodes only if a consumer turns
        out to need them).
        """
        for x in inputs:
            if x.requires_grad:
                break
        else:  # no input requires grad: a constant
            self.rule = "constant folding"
            return self.leaf(self._build(old.op, self.built(inputs), old))
        kind = type(old.op)
        dtype = old.dtype
        if self.use_polys and _expandable(dtype) and kind in self.poly_kinds:
            poly = self.poly(old, inputs)
            if poly is not None and all([x.dtype == dtype for x in inputs]):
                self.rule = "polynomial normal form"
                if absorbed and any(poly):  # a monomial, not a constant alone
                    pending = _Pending(poly, old)
                    self.polys[id(pending)] = poly
                    self.pending.append(pending)
                    return pending
                built = self.from_poly(poly, old)
                if built is not None:
                    return built
        inputs = self.built(inputs)
        regroup = _regroupable(dtype)
        rules = self.rules.get(kind)
        if rules is None:
            rules = _COMMUTE if kind.commutative else ()
        for name, rule in rules:
            if not regroup and name in _REGROUPING:
                continue
            result = rule(self, old, inputs)
            if result is not None:
                self.rule = name
                return result
        self.rule = "hash-consing"
        return self.make(old.op, inputs, old)

    def linear_combination(self, old: Value, a: Value, b: Value) -> Value | None:
        """``a + b`` with its sum tree flattened, like terms collected, in canonical order.

        Flattens through ``EWiseAdd``, ``AddScalar``, ``Negate`` and ``MulScalar``
        nodes of the same shape and dtype, up to :data:`MAX_TERMS` terms (a cap
        that bounds the work and the nodes a rebuilt sum can cost), then
        rebuilds ``sum_k c_k t_k + shift`` with the terms in order of first
        appearance, so equal sums hash alike.
        """
        ops = self.ops
        coefficients: dict[int, float] = {}
        terms: dict[int, Value] = {}
        shift = 0
        stack = [(b, 1), (a, 1)]
        while stack:
            node, c = stack.pop()
            op = self.op_of(node)
            if len(terms) + len(stack) > MAX_TERMS or not _same_meta(old, node):
                return None
            if type(op) is ops["add"]:
                stack.append((node.inputs[1], c))
                stack.append((node.inputs[0], c))
                continue
            if type(op) is ops["add_scalar"] and _real(op.scalar):
                shift += c * op.scalar
                stack.append((node.inputs[0], c))
                continue
            base, factor = self.split_scale(node)
            if base is not node:
                stack.append((base, c * factor))
                continue
            key = id(node)
            if key in terms:
                coefficients[key] += c
            else:
                terms[key] = node
                coefficients[key] = c
        parts = [(self.rank[k], terms[k], coefficients[k]) for k in terms]
        parts.sort(key=lambda part: part[0])
        if not parts:
            return None
        total = None
        for _, term, c in parts:
            scaled = self.scaled(term, c, old)
            total = scaled if total is None else self.make_new("add", (total, scaled), old)
        if shift != 0:
            total = self.make_new("add_scalar", (total,), old, shift)
        return total

    def product(self, old: Value, a: Value, b: Value) -> Value:
        """``a * b`` with powers of one base collected, in canonical order."""
        base_a, pa = self.power(a)
        base_b, pb = self.power(b)
        if base_a is base_b and _same_meta(old, base_a):
            return self.make_new("pow", (base_a,), old, pa + pb)
        if self.rank[id(b)] < self.rank[id(a)]:
            a, b = b, a
        return self.make_new("mul", (a, b), old)


# ------------------------------------------------------------------- the local rules
# One function per rewrite: ``rule(builder, old, inputs)`` returns the node that
# stands for ``old`` (an op of ``old``'s kind applied to the simplified
# ``inputs``), or None when the rule does not apply. Each is exact in real
# arithmetic; in floating point it may change the last bits.


def _shift_chain(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``(x + a) + c`` is ``x + (a + c)``, and ``x + 0`` is ``x``."""
    op = old.op
    if not _real(op.scalar):
        return None
    (x,) = inputs
    shift = op.scalar
    inner = b.op_of(x)
    if type(inner) is b.ops["add_scalar"] and _real(inner.scalar):
        shift, x = shift + inner.scalar, x.inputs[0]
    if shift == 0 and _same_meta(old, x):
        return x
    return b.make_new("add_scalar", (x,), old, shift)


def _scale_chain(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``c (a x)`` is ``(c a) x``, ``-(-x)`` is ``x``, ``x / 1`` is ``x``, ``1 x`` is ``x``."""
    op = old.op
    if type(op) is b.ops["negate"]:
        factor = -1.0
    elif type(op) is b.ops["div_scalar"]:
        if op.scalar not in (1, -1):
            return None
        factor = op.scalar
    else:
        factor = op.scalar
    if not _real(factor):
        return None
    base, inner = b.split_scale(inputs[0])
    if not _same_meta(old, base):
        return None
    return b.scaled(base, factor * inner, old)


def _first_power(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x ** 1`` is ``x``."""
    if old.op.scalar == 1 and _same_meta(old, inputs[0]):
        return inputs[0]
    return None


def _same_shape(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A reshape or broadcast to the shape it has is the node; a reshape of a reshape is one."""
    (x,) = inputs
    kind = type(old.op)
    if kind is b.ops["reshape"] and type(b.op_of(x)) is b.ops["reshape"]:
        x = x.inputs[0]
    if tuple(old.op.shape) == x.shape and _same_meta(old, x):
        return x
    if x is not inputs[0]:
        return b.make(old.op, (x,), old)
    return None


def _empty_sum(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A sum over no axes (or of a scalar) is the node."""
    (x,) = inputs
    if _same_meta(old, x) and (old.op.axes == () or x.ndim == 0):
        return x
    return None


def _identity_permute(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A permutation that keeps every axis in place is the node."""
    axes = tuple(old.op.axes)
    if axes == tuple(range(len(axes))) and _same_meta(old, inputs[0]):
        return inputs[0]
    return None


def _double_transpose(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """Swapping the same two axes twice is the node."""
    (x,) = inputs
    inner = b.op_of(x)
    if (
        type(inner) is b.ops["transpose"]
        and inner.axes == old.op.axes
        and _same_meta(old, x.inputs[0])
    ):
        return x.inputs[0]
    return None


def _uniform_operand(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x + k`` and ``k x`` for a constant ``k`` with equal elements are scalar ops."""
    is_add = type(old.op) is b.ops["add"]
    a, c = inputs
    for x, const in ((a, c), (c, a)):
        k = _uniform(const)
        if k is not None and _same_meta(old, x):
            if is_add:
                return x if k == 0 else b.make_new("add_scalar", (x,), old, k)
            base, inner = b.split_scale(x)
            if _same_meta(old, base):
                return b.scaled(base, k * inner, old)
            return b.make_new("mul_scalar", (x,), old, k)
    return None


def _like_terms(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """A sum of scaled terms with like terms collected, in canonical order."""
    return b.linear_combination(old, *inputs)


def _scalar_factors(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``(c x) (d y)`` is ``(c d) (x y)``; ``x ** p * x ** q`` is ``x ** (p + q)``."""
    x, y = inputs
    base_x, fx = b.split_scale(x)
    base_y, fy = b.split_scale(y)
    factor = fx * fy
    if factor != 1 and base_x.shape == x.shape and base_y.shape == y.shape:
        return b.scaled(b.product(old, base_x, base_y), factor, old)
    return b.product(old, x, y)


def _canonical_order(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """The inputs of a commutative op in the order they were first made."""
    rank = b.rank
    if len(inputs) == 2:
        x, y = inputs
        if rank[id(y)] < rank[id(x)]:
            return b.make(old.op, (y, x), old)
        return None
    ordered = tuple(sorted(inputs, key=lambda x: rank[id(x)]))
    return b.make(old.op, ordered, old) if ordered != inputs else None


#: The rules of an op class that has none in the table: canonical order if it declares
#: itself ``commutative`` (an op of the user's, say), else hash-consing alone.
_COMMUTE = (("canonical order", _canonical_order),)


def _uniform_divisor(b: _Builder, old: Value, inputs: tuple[Value, ...]) -> Value | None:
    """``x / k`` for a nonzero constant ``k`` with equal elements is ``DivScalar(k)``."""
    x, divisor = inputs
    k = _uniform(divisor)
    if k is not None and k != 0 and _same_meta(old, x):
        return b.make_new("div_scalar", (x,), old, k)
    return None


_RULES: dict[type, tuple[tuple[str, Any], ...]] | None = None


def _rules() -> dict[type, tuple[tuple[str, Any], ...]]:
    """The local rules by op class: ``(name, rule)`` pairs, tried in order."""
    global _RULES
    if _RULES is None:
        ops, _ = _op_classes()
        scale = (("scale chain", _scale_chain),)
        _RULES = {
            ops["add_scalar"]: (("shift chain", _shift_chain),),
            ops["mul_scalar"]: scale,
            ops["negate"]: scale,
            ops["div_scalar"]: scale,
            ops["pow"]: (("x ** 1", _first_power),),
            ops["reshape"]: (("same shape", _same_shape),),
            ops["broadcast"]: (("same shape", _same_shape),),
            ops["sum"]: (("sum over no axes", _empty_sum),),
            ops["permute"]: (("identity permutation", _identity_permute),),
            ops["transpose"]: (("double transpose", _double_transpose),),
            ops["add"]: (
                ("uniform constant operand", _uniform_operand),
                ("like terms", _like_terms),
                ("canonical order", _canonical_order),
            ),
            ops["mul"]: (
                ("uniform constant operand", _uniform_operand),
                ("scalar factors and powers", _scalar_factors),
            ),
            ops["div"]: (("uniform divisor", _uniform_divisor),),
            # Commutative, but not bit for bit: np.maximum(0.0, -0.0) is -0.0 and
            # np.maximum(-0.0, 0.0) is 0.0. Their inputs keep their order.
            ops["maximum"]: (),
            ops["minimum"]: (),
        }
    return _RULES


class _Pending:
    """A node's polynomial normal form, not built yet: its consumers so far read it as
    a polynomial (``_Builder.poly_of``), and it becomes nodes only if one needs them."""

    # No reference to the builder, which holds every _Pending: a cycle would leave
    # the whole pass (its tables and nodes) to the cyclic collector.
    __slots__ = ("poly", "old", "node", "requires_grad", "dtype")

    def __init__(self, poly: dict, old: Value) -> None:
        self.poly, self.old, self.node = poly, old, None
        self.dtype = old.dtype
        # Made only from inputs of which one requires grad; its polynomial keeps
        # every atom of theirs (cancelled terms stay, with coefficient 0).
        self.requires_grad = True

    def build(self, builder: _Builder) -> Value:
        if self.node is None:
            self.node = builder.from_poly(self.poly, self.old)
        return self.node


def _trim(poly: dict) -> dict | None:
    return None if len(poly) > MAX_TERMS else poly


def _padd(p: dict | None, q: dict | None) -> dict | None:
    if p is None or q is None:
        return None
    result = dict(p)
    for m, c in q.items():
        result[m] = result.get(m, 0.0) + c
    return _trim(result)


def _pscale(p: dict | None, c: float) -> dict | None:
    if p is None:
        return None
    return _trim({m: c * v for m, v in p.items()})


def _pmul(p: dict | None, q: dict | None) -> dict | None:
    if p is None or q is None or len(p) * len(q) > 4 * MAX_TERMS:
        return None
    result: dict = {}
    get = result.get
    for mp, cp in p.items():
        for mq, cq in q.items():
            # Every monomial held has degree <= MAX_DEGREE, so a product with a
            # constant (the empty monomial) needs no check.
            if not mp:
                m = mq
            elif not mq:
                m = mp
            elif len(mp) == 1 and len(mq) == 1:  # one atom each: the common case
                (rp, ep), (rq, eq) = mp[0], mq[0]
                if ep + eq > MAX_DEGREE:
                    return None
                m = ((rp, ep + eq),) if rp == rq else (mp[0], mq[0]) if rp < rq else (mq[0], mp[0])
            else:
                exponents = dict(mp)
                for rank, e in mq:
                    exponents[rank] = exponents.get(rank, 0) + e
                if sum(exponents.values()) > MAX_DEGREE:
                    return None
                m = tuple(sorted(exponents.items()))
            result[m] = get(m, 0.0) + cp * cq
    return _trim(result)


def _real(value: Any) -> bool:
    kind = type(value)
    if kind is float or kind is int:  # scalar ops hold these (the ABC check is slow)
        return kind is int or math.isfinite(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return _real(value) and float(value).is_integer()


def _expandable(dtype: np.dtype) -> bool:
    """Whether nodes of ``dtype`` get the polynomial normal form: float32 and wider.

    Expanding a product multiplies out terms that the factored form never
    computes; float16 (largest value 65504) overflows in them easily, and an
    overflowed expansion gives ``inf - inf = nan`` where the factored form
    gives ``inf`` (or a finite value).
    """
    return dtype.kind == "f" and dtype.itemsize >= 4


#: The local rules that regroup sums or products (and so round, and can overflow,
#: differently): applied where :func:`_regroupable`.
_REGROUPING = frozenset(
    {"shift chain", "scale chain", "uniform constant operand", "like terms",
     "scalar factors and powers"}
)  # fmt: skip


def _regroupable(dtype: np.dtype) -> bool:
    """Whether nodes of ``dtype`` may be regrouped: all but floats narrower than float32.

    Integer arithmetic wraps around associatively, so regrouping is exact;
    float16 overflows at 65504, so ``(a + b) + c`` and ``a + (b + c)`` can
    differ by an infinity for ordinary values (verification caught it in
    nested gradients of float16 graphs). float16 graphs keep their
    identities, hash-consing and constant folding.
    """
    return dtype.kind != "f" or dtype.itemsize >= 4


def _same_meta(old: Value, new: Value) -> bool:
    """True if ``new`` can stand for ``old``: the same shape and dtype."""
    return old.shape == new.shape and old.dtype == new.dtype


# ------------------------------------------------------------------- verification

#: The default of ``simplify(..., verify=None)``, and so of the simplification
#: that nested ``grad`` runs: on when the environment variable
#: ``ADJOINT_VERIFY_SIMPLIFY`` is set to anything but ``0`` (the test suite sets it).
VERIFY = os.environ.get("ADJOINT_VERIFY_SIMPLIFY", "0") not in ("", "0")

#: Relative tolerance of the verification by float itemsize, on top of the
#: magnitude bound (see :class:`_Verifier`): a rewrite may change the last bits.
_RTOL = {2: 3e-2, 4: 1e-4}


@contextlib.contextmanager
def verify_rewrites(flag: bool = True) -> Iterator[None]:
    """Verify every rewrite of :func:`simplify` in this block, nested ``grad``'s included.

    >>> import adjoint as ad
    >>> with ad.verify_rewrites():
    ...     d3 = ad.grad(ad.grad(ad.grad(ad.tanh)))(ad.Tensor(0.3))
    """
    global VERIFY
    flag = _flag_arg(flag, "verify_rewrites", "flag")
    saved, VERIFY = VERIFY, flag
    try:
        yield
    finally:
        VERIFY = saved


def _describe(node: Value) -> str:
    """``node`` for an error message: its op (or ``leaf``), shape, dtype and census tag."""
    what = "leaf" if node.op is None else f"node {type(node.op).__name__}"
    scalar = getattr(node.op, "scalar", None)
    if scalar is not None:
        what += f"({scalar!r})"
    if node.name:
        what += f" {node.name!r}"
    where = ""
    if node._tag is not None:
        where = f", made by backward pass {node._tag[0]} of {_source(node)}"
    return f"{what} of shape {node.shape} and dtype {node.dtype}{where}"


def _short(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), threshold=6, precision=17)


class _Verifier:
    """``verify=True``: every rewrite checked where it happens, at the current point.

    A rule replaces ``old.op(*inputs)`` by a new node. The check evaluates the
    original op on the simplified inputs' values and compares the rewrite's
    value with it, so each rule is checked alone (rounding differences of
    earlier rewrites do not add up). The tolerance is a running error bound:
    ``rtol * (|a| + |b| + m)``, where ``m`` evaluates the polynomial structure
    of both sides with absolute values (``|x| + |y|`` for ``x + y``,
    ``|x| |y|`` for ``x y``), so a sum that cancels may differ by the rounding
    of its terms and no more; infinities and NaNs must stay where they are.

    A value can survive a wrong rewrite: ``(v + 0) + 1`` rewritten to ``x +
    1``, for the kept variable ``v = x + 0``, has the same value and no
    derivative with respect to ``v``. So the check also compares the sources
    each side depends on (kept nodes and leaves that require grad): they must
    be the same. In lazy mode, where nodes have no values yet, only that part
    runs.
    """

    def __init__(self, builder: _Builder, kept: set[int]) -> None:
        self.b = builder
        self.kept = kept
        self.deps: dict[int, tuple[Any, int]] = {}
        self.values: dict[int, tuple[Any, np.ndarray | None]] = {}
        self.mags: dict[int, tuple[Any, np.ndarray | None]] = {}
        self.bits: dict[int, int] = {}
        ops = builder.ops
        self.mag_kinds = builder.poly_kinds | {
            ops[k] for k in ("sum", "reshape", "broadcast", "transpose", "permute")
        }

    # ---- dependence
    def _children(self, node: Any) -> list[Any]:
        if type(node) is _Pending:
            keep = self.b.keep
            return [keep[r] for m in node.poly for r, _ in m]
        return [] if id(node) in self.kept else list(node.inputs)

    @staticmethod
    def _walk(node: Any, memo: dict, children: Any, combine: Any) -> Any:
        """``combine(n, [results of children(n)])`` for ``node`` and what it reaches,
        memoized in ``memo`` (by id, with the node kept alive), without recursion."""
        stack = [node]
        while stack:
            n = stack[-1]
            if id(n) in memo:
                stack.pop()
                continue
            kids = children(n)
            missing = [c for c in kids if id(c) not in memo]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            memo[id(n)] = (n, combine(n, [memo[id(c)][1] for c in kids]))
        return memo[id(node)][1]

    def _is_source(self, node: Any) -> bool:
        return id(node) in self.kept or (type(node) is not _Pending and node.op is None)

    def dependence(self, node: Any) -> int:
        """The sources ``node`` depends on (kept nodes, leaves that require grad), as bits."""

        def children(n: Any) -> list[Any]:
            return [] if self._is_source(n) else self._children(n)

        def combine(n: Any, bits: list[int]) -> int:
            if self._is_source(n):
                return self.bits.setdefault(id(n), 1 << len(self.bits)) if n.requires_grad else 0
            total = 0
            for b in bits:
                total |= b
            return total

        return self._walk(node, self.deps, children, combine)

    # ---- values and magnitudes
    def _poly_value(self, poly: dict, absolute: bool) -> np.ndarray | None:
        total: Any = 0.0
        for monomial, c in poly.items():
            term: Any = abs(c) if absolute else c
            for rank, e in monomial:
                atom = self.b.keep[rank]
                v = self.magnitude(atom) if absolute else atom.cached_data
                if v is None:
                    return None
                term = term * v**e
            total = total + term
        return total

    def value(self, node: Any) -> np.ndarray | None:
        if type(node) is not _Pending:
            return node.cached_data
        found = self.values.get(id(node))
        if found is None:
            found = self.values[id(node)] = (node, self._poly_value(node.poly, False))
        return found[1]

    def _abs_eval(self, op: Any, mags: list[Any], value: Any) -> Any:
        """A bound on the rounding-free size of ``op``'s terms, from its inputs' bounds."""
        ops = self.b.ops
        kind = type(op)
        if any(m is None for m in mags):
            return None if value is None else np.abs(value)
        if kind is ops["add"]:
            return mags[0] + mags[1]
        if kind is ops["mul"]:
            return mags[0] * mags[1]
        if kind is ops["add_scalar"] and _real(op.scalar):
            return mags[0] + abs(op.scalar)
        if kind is ops["mul_scalar"] and _real(op.scalar):
            return mags[0] * abs(op.scalar)
        if kind is ops["div_scalar"] and _real(op.scalar) and op.scalar != 0:
            return mags[0] / abs(op.scalar)
        if kind is ops["negate"]:
            return mags[0]
        if kind is ops["pow"] and _integer(op.scalar) and op.scalar >= 1:
            return mags[0] ** int(op.scalar)
        if kind is ops["tanh_backward"]:
            return mags[0] * (1 + mags[1] ** 2)
        if kind in (ops["sum"], ops["reshape"], ops["broadcast"], ops["transpose"], ops["permute"]):
            return op.compute(mags[0])
        return None if value is None else np.abs(value)

    def magnitude(self, node: Any) -> np.ndarray | None:
        """``node``'s polynomial structure evaluated with absolute values (None if lazy)."""

        def children(n: Any) -> list[Any]:
            if type(n) is _Pending:
                return self._children(n)
            if n.op is None or id(n) in self.kept or type(n.op) not in self.mag_kinds:
                return []
            return list(n.inputs)

        def combine(n: Any, mags: list[Any]) -> Any:
            if type(n) is _Pending:
                return self._poly_value(n.poly, True)
            if not mags:
                return None if n.cached_data is None else np.abs(n.cached_data)
            return self._abs_eval(n.op, mags, n.cached_data)

        return self._walk(node, self.mags, children, combine)

    # ---- the check
    def check(self, old: Value, inputs: tuple[Any, ...], result: Any, rule: str) -> None:
        """Raise :class:`RewriteError` if ``result`` does not stand for ``old``'s op
        applied to the (simplified) ``inputs``."""
        expected = 0
        for x in inputs:
            expected |= self.dependence(x)
        self._same_sources(old, expected, result, rule)
        values = [self.value(x) for x in inputs]
        if any(v is None for v in values):
            return  # lazy: no values to compare yet
        with np.errstate(all="ignore"):
            reference = old.op.compute(*values)
            bound = self._abs_eval(old.op, [self.magnitude(x) for x in inputs], reference)
        self._same_value(old, reference, bound, result, rule)

    def check_built(self, old: Value, pending: _Pending, result: Value) -> None:
        """Raise :class:`RewriteError` if the nodes built for ``pending`` differ from it."""
        rule = "polynomial normal form"
        self._same_sources(old, self.dependence(pending), result, rule)
        reference = self.value(pending)
        if reference is not None:
            self._same_value(old, reference, self.magnitude(pending), result, rule)

    def _same_sources(self, old: Value, expected: int, result: Any, rule: str) -> None:
        got = self.dependence(result)
        if got == expected:
            return
        names = {bit: self.deps[key][0] for key, bit in self.bits.items()}
        lost = [names[b] for b in names if expected & b and not got & b]
        gained = [names[b] for b in names if got & b and not expected & b]
        what = "cut the dependence on" if lost else "added a dependence on"
        node = (lost or gained)[0]
        source = ("the kept " if id(node) in self.kept else "the variable ") + _describe(node)
        raise RewriteError(
            f"simplify (verify): the rule {rule!r} {what} {source} "
            f"when it rewrote {_describe(old)}: the new graph would differentiate differently",
            rule,
            old,
        )

    def _same_value(self, old: Value, reference: Any, bound: Any, result: Any, rule: str) -> None:
        new = self.value(result)
        if new is None:
            return
        with np.errstate(all="ignore"):
            problem = _mismatch(
                np.asarray(reference), np.asarray(new), bound, self.magnitude(result)
            )
        if problem:
            raise RewriteError(
                f"simplify (verify): the rule {rule!r} changed the value of {_describe(old)}: "
                f"the original op gives {_short(reference)}, the rewrite {_short(new)} "
                f"({problem})",
                rule,
                old,
            )


def _mismatch(expected: np.ndarray, got: np.ndarray, *bounds: Any) -> str:
    """Why ``got`` is not ``expected`` up to rounding (an empty string if it is)."""
    if expected.shape != got.shape:
        return f"shape {got.shape} where {expected.shape} is right"
    if expected.dtype.kind not in "fc":
        if expected.dtype != got.dtype or not np.array_equal(expected, got):
            return "integer or boolean values differ"
        return ""
    if expected.dtype != got.dtype:
        return f"dtype {got.dtype} where {expected.dtype} is right"
    nan = np.isnan(expected)
    if not np.array_equal(nan, np.isnan(got)):
        return "NaN where the original has none, or the other way round"
    finite = np.isfinite(expected)
    if not np.array_equal(finite, np.isfinite(got)) or np.any(~finite & ~nan & (expected != got)):
        return "an infinity changed"
    rtol = _RTOL.get(expected.dtype.itemsize, 1e-9)
    scale = np.abs(expected) + np.abs(got)
    for bound in bounds:
        if bound is not None:
            scale = scale + np.abs(bound)
    excess = np.where(finite, np.abs(expected - got) - rtol * scale, 0.0)
    if np.any(excess > 0):
        worst = int(np.argmax(excess))
        diff = np.abs(expected - got).flat[worst]
        return f"a difference of {diff:.3g} where rounding allows {rtol * scale.flat[worst]:.3g}"
    return ""


def simplify(
    *outputs: Value | Sequence[Value],
    keep: Sequence[Value] = (),
    polynomials: bool = True,
    verify: bool | None = None,
) -> Simplified:
    """An equivalent, smaller graph for ``outputs``, and the node counts before and after.

    The rewrites are listed in the module docstring. The pass is one loop over
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
    is running (:func:`adjoint.functional.active_variables`) are always kept,
    so ``simplify`` is safe inside a function given to ``grad``.

    ``polynomials=False`` leaves out the polynomial normal form (see the
    module docstring), keeping sums and products factored as they were.

    ``verify=True`` checks every rewrite as it is made (see :class:`_Verifier`):
    the rebuilt node must have the value of the op it replaces, at the current
    point, up to rounding, and depend on the same variables; a rewrite that
    fails raises :class:`RewriteError` naming the rule and the node. ``None``
    (the default) follows :data:`VERIFY`, which :func:`verify_rewrites` and
    the environment variable ``ADJOINT_VERIFY_SIMPLIFY=1`` switch on.

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
    from adjoint.functional import active_variables

    kept = {id(node) for node in [*keep, *active_variables()]}
    if verify is None:
        verify = VERIFY
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
            if node.op is not None and not (
                type(node.op) in builder.poly_kinds and _expandable(node.dtype)
            ):
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
            if type(mapped[id(out)]) is _Pending:
                verifier.check_built(out, mapped[id(out)], new)
    return new_outputs, len(builder.rank)  # every node of the new graph is ranked


# ------------------------------------------------------------------- census


def _source(node: Value) -> str:
    tag = node._tag
    if tag is None:
        return "forward"
    op = tag[1]
    return "leaf" if op is None else op.name


@dataclass
class Census:
    """Node counts of a graph by derivative order and by the forward op that made them.

    ``by_order[n]``: nodes made by the n-th backward pass (0: the forward
    graph and constants made outside any gradient rule). ``by_op[name]``: the
    nodes made by the gradient rule of forward op ``name`` (``"forward"`` for
    order 0; ``"leaf"`` for sums of partial adjoints of leaves).
    ``table[(n, name)]``: both at once.
    """

    total: int
    by_order: dict[int, int]
    by_op: dict[str, int]
    table: dict[tuple[int, str], int] = field(repr=False)

    def __repr__(self) -> str:
        lines = [f"Census of {self.total} nodes"]
        for order, count in self.by_order.items():
            ops = ", ".join(f"{name} {n}" for (o, name), n in self.table.items() if o == order)
            lines.append(f"  order {order}: {count:>6}  ({ops})")
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """A bar chart of nodes per derivative order, one colour per forward op (matplotlib)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        orders = list(self.by_order)
        bottom = np.zeros(len(orders))
        for name in self.by_op:
            heights = np.array([self.table.get((o, name), 0) for o in orders], dtype=float)
            ax.bar([str(o) for o in orders], heights, bottom=bottom, label=name)
            bottom += heights
        ax.set_xlabel("derivative order")
        ax.set_ylabel("nodes")
        ax.legend()
        return ax


def census(*outputs: Value | Sequence[Value]) -> Census:
    """Count the nodes of the graph of ``outputs`` per derivative order and per forward op.

    Every node made while a ``gradient()`` rule runs carries the tag
    ``(order, forward op)`` (see :func:`adjoint.autograd.derivative_order`).

    >>> import adjoint as ad
    >>> x = ad.Tensor(1.0)
    >>> c = ad.census(ad.grad(ad.exp)(x))
    >>> c.by_order       # x, x + 0, exp(x + 0), the seed ones; then ones * exp(x + 0)
    {0: 4, 1: 1}
    >>> c.by_op
    {'forward': 4, 'Exp': 1}
    """
    if len(outputs) == 1 and isinstance(outputs[0], (list, tuple)):
        outputs = tuple(outputs[0])
    if not outputs:
        raise ValueError("census: give at least one output Tensor, e.g. census(y)")
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TypeError(f"census: output {i} is a {type(out).__name__}; give Tensors")
    nodes = find_topo_sort(outputs)
    table = Counter((derivative_order(node), _source(node)) for node in nodes)
    table = dict(sorted(table.items(), key=lambda item: (item[0][0], -item[1], item[0][1])))
    by_order = dict(sorted(Counter(derivative_order(node) for node in nodes).items()))
    by_op: Counter[str] = Counter()
    for (_, name), n in table.items():
        by_op[name] += n
    return Census(len(nodes), by_order, dict(by_op.most_common()), table)
