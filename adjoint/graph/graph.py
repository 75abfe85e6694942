"""``Graph``: a computation seen from its outputs, to inspect, re-run, draw and tabulate.

A :class:`Graph` holds no copy of anything: it is the list of nodes the outputs
depend on, in the engine's topological order (:func:`~adjoint.autograd.find_topo_sort`),
plus views of it. Gradient graphs are graphs like any other, so the same object
shows a forward pass, its adjoints, or both.

Every walk is iterative, so a chain of a million nodes can be inspected and
re-run at Python's default recursion limit.

:meth:`Graph.run` on a batch of points (leading axes) asks each op for its
``compute_batched`` (see :class:`adjoint.Op`: elementwise ops broadcast, the
shape ops shift their axes past the batch, matmul aligns it); an op that gives
none runs point by point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from adjoint.anomaly import check_value, is_anomaly_enabled
from adjoint.autograd import Value, _flag_arg, derivative_order, find_topo_sort
from adjoint.tensor import _in_dtype

__all__ = ["Graph"]

#: Above this many nodes a Graph shows as text in a notebook rather than as a picture.
MAX_DRAWN_NODES = 400


class Graph:
    """The computational graph of ``outputs``: every node they depend on, inputs first.

    >>> import adjoint as ad
    >>> x = ad.Tensor(2.0, name="x")
    >>> y = ad.exp(x) * x
    >>> g = ad.Graph(y)
    >>> len(g), g.op_counts()
    (3, {'Exp': 1, 'EWiseMul': 1})
    >>> g.run({x: 0.0})
    [array(0.)]

    ``g.nodes`` is in the engine's topological order (needle's post-order), so
    every node comes after its inputs. Leaves are the nodes without an op: the
    variables (``requires_grad``) and the constants. In eager mode a result that
    needs no gradient is cut off the graph at once and becomes a constant leaf.
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

    # ------------------------------------------------------------------- run
    def run(self, feed: Mapping[Value | str, Any] | None = None) -> list[np.ndarray]:
        """Evaluate the same graph again on new leaf values; one NumPy array per output.

        ``feed`` maps leaves (Tensors, or their ``name`` strings) to new data.
        Leaves not given keep their data; the arrays returned never share memory
        with the graph's leaves.

        Dtypes. The graph runs in its leaves' dtypes: new data is converted to
        its leaf's dtype where nothing is lost, and refused otherwise with an
        error that names the leaf. An array (or NumPy scalar, or Tensor) is
        converted where NumPy's ``"safe"`` casting allows it (int8 or float32
        into float64: yes; float64 into float32 or int64, int64 into int8:
        no, a TypeError; convert such data yourself if that is what you
        want). Python numbers and lists have no dtype of their own: they take
        the leaf's where each value is represented exactly (2.0 or True into
        an integer leaf: yes; 1.5 or 300 into int8: a ValueError) or, for a
        floating leaf, rounded to it (0.1 into float32, as NumPy treats Python
        floats) unless a finite value overflows. Nothing is built and no node's
        ``cached_data`` is read or written for op nodes: each op's ``compute``
        runs over the topological order into a private table. This is
        define-then-run: build a graph (a 4th derivative, say) once, evaluate it
        many times.

        New shapes. If a leaf's new data adds leading axes to its recorded
        shape, those axes are a batch of points, evaluated as if by a loop over
        them (ops that store shapes or axes, such as ``Reshape``, ``BroadcastTo``
        and ``Summation``, are shifted past the batch axes). A leaf that held one
        element takes an array of any shape as a batch of points. So a
        derivative graph built at a scalar evaluates on a grid:

        >>> import numpy as np, adjoint as ad
        >>> x = ad.Tensor(0.0)
        >>> y = ad.sin(x)
        >>> y.backward(); dy = x.grad
        >>> dy.backward(); d2y = x.grad
        >>> ad.Graph(d2y).run({x: np.array([np.pi / 2, 3 * np.pi / 2])})[0].round(6)
        array([-1.,  1.])

        Any other change of shape goes to each op's ``compute`` as it is;
        elementwise ops follow it, and an op that fixes shapes raises a
        ValueError that names it, its recorded shapes and the new ones.
        """
        values: dict[Value, np.ndarray] = {}
        shapes_changed = False
        if feed is not None and not isinstance(feed, Mapping):
            raise TypeError(
                "Graph.run: feed must be a dict from leaves (Tensors or their names) to new "
                f"values, got {type(feed).__name__}"
            )
        if feed:
            leaves = self.leaves
            for key, data in feed.items():
                leaf = self._feed_leaf(key, leaves)
                if leaf in values:
                    raise ValueError(
                        f"Graph.run: {_describe(leaf)} is fed twice (by the Tensor and by "
                        "its name, say); give each leaf one value"
                    )
                recorded = leaf.cached_data
                array = _fed_array(leaf, data)
                if recorded.size == 1 and not _extends(array.shape, recorded.shape):
                    array = array.reshape(array.shape + recorded.shape)
                shapes_changed = shapes_changed or array.shape != recorded.shape
                values[leaf] = array
        checked = is_anomaly_enabled()  # anomaly mode checks re-run values too
        for node in self.nodes:
            op = node.op
            if op is None:
                if node not in values:
                    values[node] = node.cached_data
                continue
            arrays = [values[x] for x in node.inputs]
            if shapes_changed:
                values[node] = _run_op(node, arrays)
            else:
                result = op.compute(*arrays)
                values[node] = result if type(result) is np.ndarray else np.asarray(result)
            if checked:
                check_value(node, values[node], arrays)
        # A view (reshape, broadcast) or a leaf's own array would let the caller
        # write into the graph's leaves: those are copied.
        return [
            values[out] if values[out].flags.owndata and out.op is not None else values[out].copy()
            for out in self.outputs
        ]

    def _feed_leaf(self, key: Value | str, leaves: list[Value]) -> Value:
        if isinstance(key, str):
            found = [x for x in leaves if x.name == key]
            if len(found) != 1:
                names = sorted({x.name for x in leaves if x.name})
                why = "no leaf" if not found else f"{len(found)} leaves"
                raise KeyError(
                    f"Graph.run: {why} of this graph named {key!r}; named leaves: {names}"
                )
            return found[0]
        if not isinstance(key, Value):
            raise TypeError(
                f"Graph.run: feed keys must be leaf Tensors or leaf names, got {type(key).__name__}"
            )
        if any(x is key for x in leaves):
            return key
        if key not in self:
            raise ValueError(
                f"Graph.run: {_describe(key)} is not a node of this graph. Feed the leaves "
                "the outputs depend on (g.leaves). In eager mode a result that needs no "
                "gradient is cut off the graph and becomes a constant: make the inputs you "
                "want to change Tensors with requires_grad=True before building the graph."
            )
        if key.op is not None:
            raise ValueError(
                f"Graph.run: {_describe(key)} is computed by {key.op.name} in this graph; "
                "only leaves can be fed new values (see g.leaves)"
            )
        return key

    # --------------------------------------------------------------- drawing
    def to_dot(self, *, values: bool = False) -> str:
        """The graph in Graphviz's DOT language (a pure function; see :mod:`adjoint.drawing`)."""
        from adjoint.graph.drawing import to_dot

        return to_dot(self, values=_flag_arg(values, "Graph.to_dot", "values"))

    def to_svg(
        self,
        *,
        values: bool = False,
        engine: str | None = None,
        max_nodes: int | None = MAX_DRAWN_NODES,
    ) -> str:
        """The drawing as SVG text: Graphviz's ``dot`` if installed, else adjoint's own layout.

        ``engine="dot"`` or ``engine="python"`` chooses; more than ``max_nodes``
        nodes is refused (``None``: no limit); see :mod:`adjoint.drawing`.
        """
        from adjoint.graph.drawing import to_svg

        values = _flag_arg(values, "Graph.to_svg", "values")
        return to_svg(self, values=values, engine=engine, max_nodes=max_nodes)

    def render(
        self,
        path: str,
        *,
        values: bool = False,
        engine: str | None = None,
        max_nodes: int | None = MAX_DRAWN_NODES,
    ) -> str:
        """Write the drawing to ``path`` (``.svg``, ``.png`` or ``.dot``); returns the path.

        A picture of more than ``max_nodes`` nodes is refused with an error that
        says how to draw a part (``None``: no limit); see :mod:`adjoint.drawing`.
        """
        from adjoint.graph.drawing import render

        values = _flag_arg(values, "Graph.render", "values")
        return render(self, path, values=values, engine=engine, max_nodes=max_nodes)

    def _repr_svg_(self) -> str | None:
        if len(self.nodes) > MAX_DRAWN_NODES:
            return None
        return self.to_svg()

    # ---------------------------------------------------------------- tables
    def forward_trace(self) -> Any:
        """The evaluation trace (Wengert list): ``v3 = exp(v1) = 2.718``, one row per node."""
        from adjoint.graph.tracing import forward_trace

        return forward_trace(self)

    def reverse_trace(self, output: Value | None = None) -> Any:
        """The reverse sweep as adjoint equations: ``v̄1 += v̄3 · exp(v1)``, with values."""
        from adjoint.graph.tracing import reverse_trace

        return reverse_trace(self, output)


# ------------------------------------------------------------- run helpers


def _fed_array(leaf: Value, data: Any) -> np.ndarray:
    """New data for ``leaf``, as a private array of the leaf's dtype (see :meth:`Graph.run`)."""
    where = f"Graph.run: the feed for {_describe(leaf)}"
    dtype = leaf.cached_data.dtype
    array, lost = _in_dtype(data, dtype, "safe", where)
    if array is not None:
        return array
    kind, detail = lost
    if kind == "dtype":
        raise TypeError(
            f"Graph.run: {_describe(leaf)} and dtype {dtype} cannot take data of dtype "
            f"{detail}: the conversion could lose information (NumPy's 'safe' "
            f"casting does not allow it); to accept that, convert the data yourself: "
            f"np.asarray(data, dtype=np.{dtype.name})"
        )
    raise ValueError(
        f"Graph.run: {_describe(leaf)} and dtype {dtype} cannot hold the value {detail!r} "
        "of its feed exactly; give values its dtype represents (or build the graph on "
        "a leaf of another dtype)"
    )


def _describe(node: Any) -> str:
    if not isinstance(node, Value):
        return repr(node)
    what = "leaf" if node.op is None else f"{node.op.name} node"
    name = f" {node.name!r}" if node.name else ""
    shape = node.cached_data.shape if node.cached_data is not None else "?"
    return f"the {what}{name} of shape {shape}"


def _extends(shape: tuple[int, ...], base: tuple[int, ...]) -> bool:
    """True if ``shape`` is ``base`` with zero or more leading axes added."""
    return len(shape) >= len(base) and shape[len(shape) - len(base) :] == base


def _recorded_shape(node: Value) -> tuple[int, ...] | None:
    if node.cached_data is not None:
        return node.cached_data.shape
    meta = node._meta
    return meta[0] if meta is not None else None


def _batch_shape(arrays: list[np.ndarray], recorded: list[tuple | None]) -> tuple | None:
    """The common batch shape if every input is its recorded shape plus leading axes."""
    batches = []
    for array, shape in zip(arrays, recorded):
        n = array.ndim - len(shape) if shape is not None else -1
        if n < 0 or array.shape[n:] != shape:
            return None
        batches.append(array.shape[:n])
    first = batches[0]
    for batch in batches:
        if batch != first:
            break
    else:
        return first  # the common case, without NumPy's slower broadcasting of shapes
    try:
        return np.broadcast_shapes(*batches)
    except ValueError:
        return None


def _run_op(node: Value, arrays: list[np.ndarray]) -> np.ndarray:
    """``node.op`` on new input arrays whose shapes may differ from the recorded ones."""
    op = node.op
    recorded = [_recorded_shape(x) for x in node.inputs]
    try:
        if all(a.shape == s for a, s in zip(arrays, recorded)):
            return np.asarray(op.compute(*arrays))
        batch = _batch_shape(arrays, recorded)
        if batch is None:
            return np.asarray(op.compute(*arrays))
        result = op.compute_batched(batch, arrays, recorded)
        if result is NotImplemented:
            return _pointwise(op, batch, arrays, recorded)
        return result if type(result) is np.ndarray else np.asarray(result)
    except Exception as error:
        raise ValueError(
            f"Graph.run: {op!r} cannot run on input shapes "
            f"{[a.shape for a in arrays]} (the graph was built with {recorded}): {error}. "
            f"{op.name} fixes the shapes it works on; feed the recorded shapes, or add "
            "leading axes to them to evaluate a batch of points"
        ) from error


def _pointwise(op: Any, batch: tuple, arrays: list[np.ndarray], recorded: list) -> np.ndarray:
    """Run ``op`` once per point of the batch and stack the results (any op, slowly)."""
    full = [np.broadcast_to(a, batch + s) for a, s in zip(arrays, recorded)]
    results = [np.asarray(op.compute(*[a[index] for a in full])) for index in np.ndindex(*batch)]
    if not results:  # an empty batch: no point to run, so the shape and dtype one would have
        zeros = [np.zeros(s, a.dtype) for a, s in zip(arrays, recorded)]
        with np.errstate(all="ignore"):
            point = np.asarray(op.compute(*zeros))
        return np.empty(batch + point.shape, point.dtype)
    out = np.stack(results)
    return out.reshape(batch + out.shape[1:])
