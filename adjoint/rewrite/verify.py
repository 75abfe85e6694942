"""``simplify(..., verify=True)``: every rewrite checked where it is made.

A rewrite must keep the value of the node it replaces, up to rounding, and the
sources it depends on (kept nodes and variables): a rule that looked through a
kept node once kept every value and made nested ``grad`` return wrong
derivatives (issue 16). :func:`verify_rewrites`, or ``ADJOINT_VERIFY_SIMPLIFY=1``
for a whole process (the test suite runs so), switches the check on for every
:func:`~adjoint.rewrite.simplify`, nested ``grad``'s included; a failed check
raises :class:`RewriteError` naming the rule and the node.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from adjoint.autograd import Value, _flag_arg
from adjoint.graph.census import _source
from adjoint.ops import (
    AddScalar,
    BroadcastTo,
    DivScalar,
    EWiseAdd,
    EWiseMul,
    MulScalar,
    Negate,
    Permute,
    PowerScalar,
    Reshape,
    Summation,
    TanhBackward,
    Transpose,
)
from adjoint.rewrite.polynomial import POLY_KINDS, Pending, integer, real
from adjoint.walk import toposort

#: The default of ``simplify(..., verify=None)``, and so of the simplification
#: that nested ``grad`` runs: on when the environment variable
#: ``ADJOINT_VERIFY_SIMPLIFY`` is set to anything but ``0`` (the test suite sets it).
VERIFY = os.environ.get("ADJOINT_VERIFY_SIMPLIFY", "0") not in ("", "0")

#: Relative tolerance of the verification by float itemsize, on top of the
#: magnitude bound (see :class:`_Verifier`): a rewrite may change the last bits.
_RTOL = {2: 3e-2, 4: 1e-4}

#: The ops whose magnitude bound follows their inputs' (the rest: ``|value|``).
_SHAPE_KINDS = (Summation, Reshape, BroadcastTo, Transpose, Permute)
_MAG_KINDS = POLY_KINDS | set(_SHAPE_KINDS)


class RewriteError(RuntimeError):
    """A rewrite of :func:`simplify` changed a value or cut a dependence (``verify=True``).

    ``rule`` names the rewrite and ``node`` is the original node it rewrote.
    """

    def __init__(self, message: str, rule: str, node: Value) -> None:
        super().__init__(message)
        self.rule = rule
        self.node = node


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


def _walk(node: Any, memo: dict, children: Any, combine: Any) -> Any:
    """``combine(n, [results of children(n)])`` for ``node`` and what it reaches,
    memoized in ``memo`` (by id, with the node kept alive): one :func:`toposort`
    that stops at nodes already in ``memo``."""
    found = memo.get(id(node))
    if found is not None:
        return found[1]
    new = lambda n: [c for c in children(n) if id(c) not in memo]  # noqa: E731
    for n in toposort([node], new):
        memo[id(n)] = (n, combine(n, [memo[id(c)][1] for c in children(n)]))
    return memo[id(node)][1]


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

    def __init__(self, builder: Any, kept: set[int]) -> None:
        self.b = builder
        self.kept = kept
        self.deps: dict[int, tuple[Any, int]] = {}
        self.values: dict[int, tuple[Any, np.ndarray | None]] = {}
        self.mags: dict[int, tuple[Any, np.ndarray | None]] = {}
        self.bits: dict[int, int] = {}

    # ---- dependence
    def _children(self, node: Any) -> list[Any]:
        if type(node) is Pending:
            keep = self.b.keep
            return [keep[r] for m in node.poly for r, _ in m]
        return [] if id(node) in self.kept else list(node.inputs)

    def _is_source(self, node: Any) -> bool:
        return id(node) in self.kept or (type(node) is not Pending and node.op is None)

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

        return _walk(node, self.deps, children, combine)

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
        if type(node) is not Pending:
            return node.cached_data
        found = self.values.get(id(node))
        if found is None:
            found = self.values[id(node)] = (node, self._poly_value(node.poly, False))
        return found[1]

    @staticmethod
    def _abs_eval(op: Any, mags: list[Any], value: Any) -> Any:
        """A bound on the rounding-free size of ``op``'s terms, from its inputs' bounds."""
        kind = type(op)
        if any(m is None for m in mags):
            return None if value is None else np.abs(value)
        if kind is EWiseAdd:
            return mags[0] + mags[1]
        if kind is EWiseMul:
            return mags[0] * mags[1]
        if kind is AddScalar and real(op.scalar):
            return mags[0] + abs(op.scalar)
        if kind is MulScalar and real(op.scalar):
            return mags[0] * abs(op.scalar)
        if kind is DivScalar and real(op.scalar) and op.scalar != 0:
            return mags[0] / abs(op.scalar)
        if kind is Negate:
            return mags[0]
        if kind is PowerScalar and integer(op.scalar) and op.scalar >= 1:
            return mags[0] ** int(op.scalar)
        if kind is TanhBackward:
            return mags[0] * (1 + mags[1] ** 2)
        if kind in _SHAPE_KINDS:
            return op.compute(mags[0])
        return None if value is None else np.abs(value)

    def magnitude(self, node: Any) -> np.ndarray | None:
        """``node``'s polynomial structure evaluated with absolute values (None if lazy)."""

        def children(n: Any) -> list[Any]:
            if type(n) is Pending:
                return self._children(n)
            if n.op is None or id(n) in self.kept or type(n.op) not in _MAG_KINDS:
                return []
            return list(n.inputs)

        def combine(n: Any, mags: list[Any]) -> Any:
            if type(n) is Pending:
                return self._poly_value(n.poly, True)
            if not mags:
                return None if n.cached_data is None else np.abs(n.cached_data)
            return self._abs_eval(n.op, mags, n.cached_data)

        return _walk(node, self.mags, children, combine)

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

    def check_built(self, old: Value, pending: Pending, result: Value) -> None:
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
