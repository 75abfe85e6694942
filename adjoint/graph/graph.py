"""``Graph``: a computation seen from its outputs, to inspect, re-run, draw and tabulate.

A :class:`Graph` holds no copy of anything: it is the list of nodes the outputs
depend on, in the engine's topological order, plus views of it. Gradient graphs
are graphs like any other, so the same object shows a forward pass, its
adjoints, or both. Its nodes, labels and inspection come from
:class:`~adjoint.graph.base.GraphBase`, the layer that :mod:`~adjoint.graph.run`,
:mod:`~adjoint.graph.drawing` and :mod:`~adjoint.graph.tracing` build on; the
methods here call those modules, so imports only point down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from adjoint.anomaly import is_anomaly_enabled
from adjoint.autograd import Value, _flag_arg
from adjoint.compiler.compiled import CompiledGraph
from adjoint.graph import drawing, tracing
from adjoint.graph.base import GraphBase
from adjoint.graph.drawing import MAX_DRAWN_NODES
from adjoint.graph.run import _fed_array, _feed_leaf, run_graph

__all__ = ["Graph", "MAX_DRAWN_NODES"]


class Graph(GraphBase):
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

    #: The compiled plan of :meth:`run` (compiled at the second run with the recorded
    #: shapes), False where compiling failed; how many runs could have used it.
    _plan: CompiledGraph | None | bool = None
    _plan_runs = 0

    # ------------------------------------------------------------------- run
    def compile(
        self, inputs: Sequence[Value] | None = None, *, backend: str = "numpy"
    ) -> CompiledGraph:
        """The outputs as generated code of ``inputs`` (default: the variables); see
        :class:`adjoint.compiler.CompiledGraph`.

        Shapes and dtypes are those the inputs have now, fixed: a call with
        another shape raises a ValueError naming the input and both shapes.
        Leaves that are not inputs are constants, bound when compiling.

        >>> import adjoint as ad, numpy as np
        >>> x = ad.Tensor(0.0, name="x", requires_grad=True)
        >>> c = ad.Graph(ad.sin(x) * x).compile(inputs=[x])
        >>> print(c.source)  # doctest: +ELLIPSIS
        def compiled(x):
        ...
        >>> round(float(c(np.pi / 2)[0]), 6)
        1.570796
        """
        return CompiledGraph(
            self.outputs, self.variables if inputs is None else inputs, backend=backend
        )

    def run(self, feed: Mapping[Value | str, Any] | None = None) -> list[np.ndarray]:
        """Evaluate the same graph again on new leaf values; one NumPy array per output.

        ``feed`` maps leaves (Tensors, or their ``name`` strings) to new data.
        Leaves not given keep their data; the arrays returned never share memory
        with the graph's leaves. On another device (``ad.cuda()``) the graph runs
        there and returns that device's arrays: host data fed to a leaf is copied
        to its device, another device's data is refused.

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

        The fast path. From the second run on, a run whose leaves all have their
        recorded shapes and dtypes (no batch) calls the graph's compiled code
        (:meth:`compile` with every leaf an input; anomaly mode excepted): the
        same values to the last bit, without a Python object per node. Any error
        there reruns the plain walk, whose errors name the op.
        """
        if self._plan_runs < 1 or is_anomaly_enabled():
            self._plan_runs += 1
            return run_graph(self, feed)
        if self._plan is None:
            try:
                self._plan = CompiledGraph(self.outputs, self.leaves)
            except Exception:
                self._plan = False
        plan = self._plan
        if plan is False:
            return run_graph(self, feed)
        arrays = _plan_arrays(self, plan, feed)
        if arrays is None:
            return run_graph(self, feed)
        try:
            return plan(*arrays)
        except Exception:
            return run_graph(self, feed)

    # --------------------------------------------------------------- drawing
    def to_dot(self, *, values: bool = False) -> str:
        """The graph in Graphviz's DOT language (see :mod:`adjoint.graph.drawing`)."""
        return drawing.to_dot(self, values=_flag_arg(values, "Graph.to_dot", "values"))

    def to_svg(
        self,
        *,
        values: bool = False,
        engine: str | None = None,
        max_nodes: int | None = MAX_DRAWN_NODES,
    ) -> str:
        """The drawing as SVG text: Graphviz's ``dot`` if installed, else adjoint's own layout.

        ``engine="dot"`` or ``engine="python"`` chooses; more than ``max_nodes``
        nodes is refused (``None``: no limit); see :mod:`adjoint.graph.drawing`.
        """
        values = _flag_arg(values, "Graph.to_svg", "values")
        return drawing.to_svg(self, values=values, engine=engine, max_nodes=max_nodes)

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
        says how to draw a part (``None``: no limit); see :mod:`adjoint.graph.drawing`.
        """
        values = _flag_arg(values, "Graph.render", "values")
        return drawing.render(self, path, values=values, engine=engine, max_nodes=max_nodes)

    def _repr_svg_(self) -> str | None:
        if len(self.nodes) > MAX_DRAWN_NODES:
            return None
        return self.to_svg()

    # ---------------------------------------------------------------- tables
    def forward_trace(self) -> tracing.Table:
        """The evaluation trace (Wengert list): ``v3 = exp(v1) = 2.718``, one row per node."""
        return tracing.forward_trace(self)

    def reverse_trace(self, output: Value | None = None) -> tracing.Table:
        """The reverse sweep as adjoint equations: ``v̄1 += v̄3 · exp(v1)``, with values."""
        return tracing.reverse_trace(self, output)


def _plan_arrays(graph: Graph, plan: CompiledGraph, feed: Any) -> list[np.ndarray] | None:
    """The compiled plan's arguments for ``graph.run(feed)``, or None where the plain walk
    must run (a batch, a leaf whose data changed shape or dtype, a feed to refuse)."""
    if not feed:
        fed = {}
    elif not isinstance(feed, Mapping):
        return None
    else:
        fed = {}
        leaves = plan.inputs
        try:
            for key, data in feed.items():
                leaf = _feed_leaf(graph, key, list(leaves))
                if leaf in fed:
                    return None
                fed[leaf] = _fed_array(leaf, data)
        except Exception:
            return None  # the plain walk raises it, worded as always
    arrays = []
    for leaf, shape, dtype in zip(plan.inputs, plan.shapes, plan.dtypes):
        data = fed.get(leaf)
        if data is None:
            data = leaf.cached_data
        if type(data) is not np.ndarray or data.shape != shape or data.dtype != dtype:
            return None
        arrays.append(data)
    return arrays
