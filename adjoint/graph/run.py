"""``Graph.run``: the graph evaluated again on new leaf values, or on a batch of points.

Each op's ``compute`` runs over the topological order into a private table;
nothing is built and no node is written. On a batch (leaves fed extra leading
axes) an op whose class says ``compute_broadcasts`` (the elementwise ops) runs
its ``compute`` at once with no shape work; any other asks its
``compute_batched`` (shape ops shift their axes past the batch, matmul aligns
it), and an op that gives none runs point by point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from adjoint.anomaly import check_value, is_anomaly_enabled
from adjoint.autograd import Value, declared, evaluate
from adjoint.device import (
    DeviceMismatchError,
    array_namespace,
    device_dtype,
    device_of,
    host_dtype,
    to_numpy,
)
from adjoint.graph.base import GraphBase, _describe
from adjoint.tensor import _in_dtype, _is_foreign_array

__all__ = ["run_graph"]


def run_graph(graph: GraphBase, feed: Mapping[Value | str, Any] | None = None) -> list[np.ndarray]:
    """``graph.run(feed)``: see :meth:`adjoint.graph.Graph.run`."""
    values: dict[Value, np.ndarray] = {}
    shapes_changed = False
    if feed is not None and not isinstance(feed, Mapping):
        raise TypeError(
            "Graph.run: feed must be a dict from leaves (Tensors or their names) to new "
            f"values, got {type(feed).__name__}"
        )
    if feed:
        leaves = graph.leaves
        for key, data in feed.items():
            leaf = _feed_leaf(graph, key, leaves)
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
    broadcasts: dict[type, bool] = {}  # declared(op, "compute_broadcasts"), by op class
    for node in graph.nodes:
        op = node.op
        if op is None:
            if node not in values:
                values[node] = node.cached_data
            continue
        arrays = [values[x] for x in node.inputs]
        if shapes_changed and type(op) not in broadcasts:
            broadcasts[type(op)] = declared(op, "compute_broadcasts")
        if shapes_changed and not broadcasts[type(op)]:
            values[node] = _run_op(node, arrays)
        else:
            try:
                values[node] = evaluate(op, arrays)
            except Exception as error:
                if not shapes_changed:
                    raise
                raise _shape_error(node, arrays, error) from error
        if checked:
            check_value(node, values[node], arrays)
    # A view (reshape, broadcast) or a leaf's own array would let the caller
    # write into the graph's leaves: those are copied.
    return [_private(values[out], out.op is not None) for out in graph.outputs]


def _private(array: Any, computed: bool) -> Any:
    """``array`` if it is a computed array that owns its data, else a copy (any device)."""
    flags = getattr(array, "flags", None)  # NumPy and CuPy; array-API modules have none
    if flags is not None and flags.owndata and computed:
        return array
    if type(array) is np.ndarray:
        return array.copy()
    return array_namespace(array).asarray(array, copy=True)


def _feed_leaf(graph: GraphBase, key: Value | str, leaves: list[Value]) -> Value:
    if isinstance(key, str):
        found = [x for x in leaves if x.name == key]
        if len(found) != 1:
            names = sorted({x.name for x in leaves if x.name})
            why = "no leaf" if not found else f"{len(found)} leaves"
            raise KeyError(f"Graph.run: {why} of this graph named {key!r}; named leaves: {names}")
        return found[0]
    if not isinstance(key, Value):
        raise TypeError(
            f"Graph.run: feed keys must be leaf Tensors or leaf names, got {type(key).__name__}"
        )
    if any(x is key for x in leaves):
        return key
    if key not in graph:
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


def _fed_array(leaf: Value, data: Any) -> Any:
    """New data for ``leaf``, as a private array of the leaf's dtype on the leaf's device
    (see :meth:`Graph.run`): host data is copied there, another device's is refused."""
    recorded = leaf.cached_data
    if isinstance(data, Value):
        data = data.realize_cached_data()
    if type(recorded) is np.ndarray and not _is_foreign_array(data):
        return _host_array(leaf, data, recorded.dtype)
    device = device_of(recorded)
    if not _is_foreign_array(data):
        if device.kind == "cpu":
            return _host_array(leaf, data, recorded.dtype)
        return device.from_numpy(_host_array(leaf, data, host_dtype(recorded.dtype)))
    if device_of(data) != device:
        raise DeviceMismatchError(
            f"Graph.run: {_describe(leaf)} lives on {device} and its feed on "
            f"{device_of(data)}; move the feed with .to(device) or feed host data"
        )
    dtype, given = host_dtype(recorded.dtype), host_dtype(data.dtype)
    if given == dtype:
        return device.xp.asarray(data, copy=True)
    if np.can_cast(given, dtype, "safe"):
        return device.xp.astype(data, device_dtype(device, dtype))
    return _host_array(leaf, to_numpy(data), dtype)  # refused, in the host's words


def _host_array(leaf: Value, data: Any, dtype: np.dtype) -> np.ndarray:
    """``data`` as a private host array of ``dtype``, refusing what the conversion loses."""
    where = f"Graph.run: the feed for {_describe(leaf)}"
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
            return evaluate(op, arrays)
        batch = _batch_shape(arrays, recorded)
        if batch is None:
            return evaluate(op, arrays)
        result = declared(op, "compute_batched")(op, batch, arrays, recorded)
        if result is NotImplemented:
            return _pointwise(op, batch, arrays, recorded)
        return result if not isinstance(result, np.generic) else np.asarray(result)
    except Exception as error:
        raise _shape_error(node, arrays, error) from error


def _shape_error(node: Value, arrays: list[np.ndarray], error: Exception) -> ValueError:
    op = node.op
    recorded = [_recorded_shape(x) for x in node.inputs]
    return ValueError(
        f"Graph.run: {op!r} cannot run on input shapes "
        f"{[a.shape for a in arrays]} (the graph was built with {recorded}): {error}. "
        f"{op.name} fixes the shapes it works on; feed the recorded shapes, or add "
        "leading axes to them to evaluate a batch of points"
    )


def _pointwise(op: Any, batch: tuple, arrays: list[np.ndarray], recorded: list) -> np.ndarray:
    """Run ``op`` once per point of the batch and stack the results (any op, slowly)."""
    xp = np if type(arrays[0]) is np.ndarray else array_namespace(*arrays)
    full = [xp.broadcast_to(a, batch + s) for a, s in zip(arrays, recorded)]
    results = [evaluate(op, [a[index] for a in full]) for index in np.ndindex(*batch)]
    if not results:  # an empty batch: no point to run, so the shape and dtype one would have
        zeros = [xp.zeros(s, dtype=a.dtype) for a, s in zip(arrays, recorded)]
        with np.errstate(all="ignore"):
            point = evaluate(op, zeros)
        return xp.empty(batch + point.shape, dtype=point.dtype)
    out = xp.stack(results)
    return xp.reshape(out, batch + out.shape[1:])
