"""The one graph walk of the package: an iterative topological sort.

Every walk over a graph (sorting, differentiating, realizing lazily, pickling,
simplifying, translating to sympy, parsing formulas) is :func:`toposort` with
its own ``children`` function, so none of them is limited by Python's
recursion limit and all of them visit nodes in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def toposort(roots: Iterable[T], children: Callable[[T], Iterable[T]]) -> list[T]:
    """Every node reachable from ``roots`` through ``children``, each after its children.

    The one graph walk of the package (as HIPS autograd's ``toposort(end_node,
    parents)``): the post-order of a depth-first search that visits children in
    the order given, with an explicit stack, so depth is unlimited. Nodes are
    their own set keys (graph nodes hash by identity); a node whose children
    are empty is appended as soon as it is met.

    >>> import adjoint as ad
    >>> x = ad.Tensor(1.0, name="x")
    >>> y = ad.exp(x) * x
    >>> [n.op.name if n.op else n.name for n in ad.toposort([y], lambda n: n.inputs)]
    ['x', 'Exp', 'EWiseMul']
    """
    visited: set[T] = set()
    order: list[T] = []
    append, add = order.append, visited.add
    for root in roots:
        if root in visited:
            continue
        add(root)
        kids = children(root)
        if not kids:
            append(root)
            continue
        stack: list[tuple[T, Iterator[T]]] = [(root, iter(kids))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child in visited:
                    continue
                add(child)
                kids = children(child)
                if kids:
                    stack.append((child, iter(kids)))
                    break
                append(child)
            else:
                stack.pop()
                append(node)
    return order
