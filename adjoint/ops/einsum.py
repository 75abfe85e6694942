"""``einsum``: Einstein summation, whose adjoint is another einsum.

``einsum("ij,jk->ik", a, b)`` is linear in each operand. The adjoint of
operand k takes the output's adjoint and the *other* operands and contracts
them back onto operand k's subscripts:

========================  ======================================
op                        adjoint of each operand
========================  ======================================
einsum("ij,jk->ik", a, b) a: einsum("ik,jk->ij", g, b)  (g bᵀ)
                          b: einsum("ik,ij->jk", g, a)  (aᵀ g)
einsum("ii->", a)         a: g times the identity (the trace's adjoint)
einsum("ij->i", a)        a: g broadcast along j (a sum's adjoint)
========================  ======================================

So matmul, transpose, trace, diagonal, outer products, sums and batched
contractions share one gradient rule, and every derivative of an einsum is
einsums again. Two cases need more than swapping subscripts: a letter that
only operand k has (summed away, as j in ``"ij->i"``) comes back as a
contraction with a vector of ones, and a letter repeated in operand k (the
diagonal in ``"ii->"``) as a contraction with the identity, since einsum
cannot write a repeated output letter.

The front end turns every spelling into one explicit form of letters only
(``"...ij"`` and implicit outputs are expanded, ``->`` always present) and
broadcasts axes of length 1 with explicit ``BroadcastTo`` nodes, so the op
sees operands whose equal letters have equal sizes.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from adjoint.device import array_namespace
from adjoint.ops.common import as_tensor, no_adjoint
from adjoint.ops.linear import broadcast_to
from adjoint.tensor import Tensor, TensorOp

__all__ = ["Einsum", "einsum"]

_LETTERS = string.ascii_letters


def _parse(spec: str) -> tuple[list[str], str]:
    inputs, output = spec.split("->")
    return inputs.split(","), output


def _sizes(terms: list[str], shapes: tuple[tuple[int, ...], ...]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for letter, n in zip(term, shape):
            sizes[letter] = n
    return sizes


class Einsum(TensorOp):
    """``np.einsum(spec, *operands)`` for an explicit ``spec`` of letters (``"ij,jk->ik"``).

    The adjoint of each operand is one einsum of the output's adjoint and the
    other operands (see the module docstring). Called directly the op expects
    the explicit form and operands whose equal letters have equal sizes:
    :func:`einsum` makes it from any spelling.
    """

    formula = ("einsum($0, ...)", "\\operatorname{einsum}($0, \\dots)")

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def compute(self, *arrays):
        if type(arrays[0]) is not np.ndarray and not isinstance(arrays[0], np.generic):
            return _einsum(array_namespace(*arrays))(self.spec, *arrays)
        return np.einsum(self.spec, *arrays)

    def source(self, args, const):
        return f"xp.einsum({self.spec!r}, {', '.join(args)})"

    def gradient(self, out_grad, node):
        terms, output = _parse(self.spec)
        inputs = node.inputs
        sizes = _sizes(terms, tuple(x.shape for x in inputs))
        grads = []
        for k, (x, term) in enumerate(zip(inputs, terms)):
            if not x.requires_grad:
                grads.append(no_adjoint(x))
                continue
            operands = [out_grad] + [y for j, y in enumerate(inputs) if j != k]
            subs = [output] + [t for j, t in enumerate(terms) if j != k]
            present = set("".join(subs))
            free = iter(c for c in _LETTERS if c not in set(self.spec))
            target = ""
            for letter in term:
                if letter in target:  # repeated: a new letter tied to it by the identity
                    twin = next(free)
                    operands.append(_constant(np.eye(sizes[letter]), out_grad))
                    subs.append(letter + twin)
                    target += twin
                    continue
                if letter not in present:  # only this operand has it: ones along it
                    operands.append(_constant(np.ones(sizes[letter]), out_grad))
                    subs.append(letter)
                    present.add(letter)
                target += letter
            grads.append(Einsum(f"{','.join(subs)}->{target}")(*operands))
        return tuple(grads)

    def compute_batched(self, batch, arrays, shapes):
        terms, output = _parse(self.spec)
        spec = ",".join("..." + t for t in terms) + "->..." + output
        if type(arrays[0]) is not np.ndarray:
            return _einsum(array_namespace(*arrays))(spec, *arrays)
        return np.einsum(spec, *arrays)

    def infer_shape(self, *shapes):
        terms, output = _parse(self.spec)
        sizes = _sizes(terms, shapes)
        return tuple(sizes[c] for c in output)


def _constant(array: np.ndarray, like: Tensor) -> Tensor:
    """A constant of the dtype and on the device of ``like`` (the adjoint): ones or the
    identity."""
    return Tensor.make_const(like.device.from_numpy(array.astype(like.dtype)))


def _einsum(xp: Any) -> Any:
    """``xp.einsum`` (NumPy, CuPy), or a TypeError naming the namespace: the array API
    standard has no einsum (array_api_strict)."""
    einsum = getattr(xp, "einsum", None)
    if einsum is None:
        raise TypeError(
            f"Einsum: the array namespace {getattr(xp, '__name__', xp)} has no einsum (the "
            "array API standard defines none); use matmul, tensordot-style sums or the CPU"
        )
    return einsum


def _explicit(subscripts: Any, ndims: list[int]) -> str:
    """``subscripts`` for operands of ``ndims`` dimensions in the explicit form: letters
    only, ``...`` replaced by letters of its own, the output after ``->``."""
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: subscripts must be a string such as 'ij,jk->ik', got "
            f"{type(subscripts).__name__}"
        )
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    left, arrow, right = spec.partition("->")
    terms = left.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s) but "
            f"{len(ndims)} were given"
        )
    for part in [*terms, right]:
        rest = part.replace("...", "", 1)
        bad = [c for c in rest if c not in _LETTERS]
        if bad:
            raise ValueError(
                f"einsum: subscripts {subscripts!r} hold {bad[0]!r}; use letters a-z and "
                "A-Z, commas, one '->' and at most one '...' per operand"
            )
    used = set(spec)
    spare = iter(c for c in _LETTERS if c not in used)
    ellipsis_dims = 0
    for term, ndim in zip(terms, ndims):
        letters = len(term.replace("...", ""))
        if "..." in term:
            if letters > ndim:
                raise ValueError(
                    f"einsum: operand subscripts {term!r} name {letters} axes but the operand "
                    f"has {ndim}"
                )
            ellipsis_dims = max(ellipsis_dims, ndim - letters)
        elif letters != ndim:
            raise ValueError(
                f"einsum: operand subscripts {term!r} name {letters} axes but the operand has "
                f"{ndim} dimension(s)"
            )
    try:
        broadcast = "".join(next(spare) for _ in range(ellipsis_dims))
    except StopIteration:
        raise ValueError("einsum: too many axes; einsum has 52 letters") from None
    expanded = []
    for term, ndim in zip(terms, ndims):
        if "..." in term:
            own = ndim - len(term.replace("...", ""))
            term = term.replace("...", broadcast[len(broadcast) - own :])
        expanded.append(term)
    letters = "".join(expanded)
    if arrow:
        if "..." in right:
            right = right.replace("...", broadcast)
        elif broadcast and any("..." in t for t in terms):
            pass  # NumPy sums the broadcast axes away when the output omits '...'
        for c in right:
            if c not in letters:
                raise ValueError(
                    f"einsum: output subscript {c!r} of {subscripts!r} names no operand's axis"
                )
        if len(set(right)) != len(right):
            raise ValueError(f"einsum: output subscripts of {subscripts!r} repeat a letter")
        output = right
    else:
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in broadcast)
        output = broadcast + "".join(once)
    return ",".join(expanded) + "->" + output


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``np.einsum`` (``...``, implicit outputs and broadcasting of
    axes of length 1 included); the adjoint of each operand is an einsum too.

    >>> import adjoint as ad
    >>> a = ad.Tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.einsum("ii->", a).numpy()          # the trace
    array(5.)
    >>> ad.einsum("ij,j->i", a, ad.Tensor([1.0, 1.0])).numpy()
    array([3., 7.])
    """
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    tensors = [as_tensor(x, "einsum") for x in operands]
    spec = _explicit(subscripts, [t.ndim for t in tensors])
    terms, output = _parse(spec)
    sizes: dict[str, int] = {}
    for term, t in zip(terms, tensors):
        for letter, n in zip(term, t.shape):
            m = sizes.setdefault(letter, n)
            if m != n and 1 not in (m, n):
                raise ValueError(
                    f"einsum: axis {letter!r} has size {m} in one operand and {n} in another "
                    f"(shapes {', '.join(str(x.shape) for x in tensors)}, subscripts "
                    f"{subscripts!r}); sizes must be equal or 1"
                )
            if m == 1:
                sizes[letter] = n
    for k, (term, t) in enumerate(zip(terms, tensors)):
        want = tuple(sizes[c] for c in term)
        if t.shape != want:
            tensors[k] = broadcast_to(t, want)
    return Einsum(spec)(*tensors)
