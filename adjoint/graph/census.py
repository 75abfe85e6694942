"""A census of a graph: its nodes counted by derivative order and by the forward op
whose gradient rule made them, from the tags every node made during a backward
pass carries (:func:`adjoint.autograd.derivative_order`). It shows where nested
derivatives grow, and what :func:`adjoint.simplify` removes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adjoint.autograd import Value, derivative_order, find_topo_sort

__all__ = ["census", "Census"]


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
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError(
                "Census.plot needs matplotlib, an optional dependency: pip install matplotlib "
                '(or "adjoint[examples]"); print(census) shows the same table as text'
            ) from None

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
