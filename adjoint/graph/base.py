"""The graph's nodes, textbook labels and inspection: the layer the tools build on.

:class:`GraphBase` is what :mod:`~adjoint.graph.drawing`,
:mod:`~adjoint.graph.tracing` and :mod:`~adjoint.graph.run` read and make;
:class:`~adjoint.graph.Graph` adds to it the methods that call them. So every
import points down: base, then the tools, then ``Graph``, with no cycle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from adjoint.autograd import Value, derivative_order, find_topo_sort

__all__ = ["GraphBase"]


class GraphBase:
    """The nodes ``outputs`` depend on, inputs first, with their textbook labels.

    The tools accept any ``GraphBase``; users make :class:`~adjoint.graph.Graph`
    (see it for the examples).
    """

    def __init__(self, *outputs: Value | Sequence[Value]) -> None:
        if len(outputs) == 1 and isinstance(outputs[0], (list, tuple)):
            outputs = tuple(outputs[0])
        if not outputs:
            raise ValueError("Graph: give at least one output Tensor, e.g. ad.Graph(y)")
        for i, out in enumerate(outputs):
            if not isinstance(out, Value):
                raise TypeError(
                    f"Graph: output {i} is a {type(out).__name__}; outputs must be Tensors"
                )
        self.outputs: tuple[Value, ...] = tuple(outputs)
        self.nodes: tuple[Value, ...] = tuple(find_topo_sort(self.outputs))
        self._position: dict[int, int] | None = None
        self._labels: dict[int, str] | None = None

    # ------------------------------------------------------------ inspection
    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Value]:
        return iter(self.nodes)

    def __contains__(self, node: object) -> bool:
        return id(node) in self._positions()

    def _positions(self) -> dict[int, int]:
        if self._position is None:
            self._position = {id(node): i for i, node in enumerate(self.nodes)}
        return self._position

    def index(self, node: Value) -> int:
        """The node's position in ``g.nodes``; ValueError if it is not in the graph."""
        try:
            return self._positions()[id(node)]
        except KeyError:
            raise ValueError(
                f"Graph.index: {_describe(node)} is not a node of this graph"
            ) from None

    @property
    def leaves(self) -> list[Value]:
        """Nodes without an op (variables and constants), in topological order."""
        return [node for node in self.nodes if node.op is None]

    @property
    def variables(self) -> list[Value]:
        """Leaves that require grad: the inputs adjoints flow to."""
        return [node for node in self.nodes if node.op is None and node.requires_grad]

    @property
    def constants(self) -> list[Value]:
        """Leaves that need no gradient (numbers, and results cut off the graph in eager mode)."""
        return [node for node in self.nodes if node.op is None and not node.requires_grad]

    @property
    def ops(self) -> list[Value]:
        """Nodes made by an op, in topological order."""
        return [node for node in self.nodes if node.op is not None]

    @property
    def unrealized(self) -> list[Value]:
        """Nodes whose data is not computed yet (lazy mode): what evaluation would still do."""
        return [node for node in self.nodes if node.cached_data is None]

    def op_counts(self) -> dict[str, int]:
        """How many nodes each op made, by op name, in order of first appearance."""
        return dict(Counter(node.op.name for node in self.nodes if node.op is not None))

    def order_counts(self) -> dict[int, int]:
        """How many nodes of each derivative order (0: forward, n: made by the n-th backward)."""
        return dict(sorted(Counter(derivative_order(node) for node in self.nodes).items()))

    @property
    def depth(self) -> int:
        """Ops on the longest path from a leaf to an output (0 for a graph of leaves)."""
        level: dict[Value, int] = {}
        deepest = 0
        for node in self.nodes:
            inputs = node.inputs
            if node.op is None or not inputs:
                level[node] = 0 if node.op is None else 1
                continue
            d = 1 + (level[inputs[0]] if len(inputs) == 1 else max(level[x] for x in inputs))
            level[node] = d
            if d > deepest:
                deepest = d
        return deepest

    def label(self, node: Value) -> str:
        """The node's textbook name ``v1``, ``v2``, ...: leaves first, then ops, in topo order.

        The classic tables number the inputs before the intermediate values; so
        do the drawings, evaluation traces and tables of this graph.
        """
        if self._labels is None:
            labels: dict[int, str] = {}
            k = 0
            for node_ in self.nodes:
                if node_.op is None:
                    k += 1
                    labels[id(node_)] = f"v{k}"
            for node_ in self.nodes:
                if node_.op is not None:
                    k += 1
                    labels[id(node_)] = f"v{k}"
            self._labels = labels
        try:
            return self._labels[id(node)]
        except KeyError:
            raise ValueError(
                f"Graph.label: {_describe(node)} is not a node of this graph"
            ) from None

    def summary(self) -> str:
        """A few lines: node, leaf and op counts, depth, ops used and derivative orders."""
        leaves = self.leaves
        n_var = sum(1 for x in leaves if x.requires_grad)
        lines = [
            f"Graph of {len(self.outputs)} output(s): {len(self.nodes)} nodes "
            f"({n_var} variable(s), {len(leaves) - n_var} constant(s), "
            f"{len(self.nodes) - len(leaves)} op node(s)), depth {self.depth}"
        ]
        counts = self.op_counts()
        if counts:
            lines.append("  ops: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
        orders = self.order_counts()
        if set(orders) != {0}:
            lines.append(
                "  derivative orders: " + ", ".join(f"{k}: {n} node(s)" for k, n in orders.items())
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _describe(node: Any) -> str:
    if not isinstance(node, Value):
        return repr(node)
    what = "leaf" if node.op is None else f"{node.op.name} node"
    name = f" {node.name!r}" if node.name else ""
    shape = node.cached_data.shape if node.cached_data is not None else "?"
    return f"the {what}{name} of shape {shape}"
