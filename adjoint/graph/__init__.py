"""Graphs seen from their outputs: inspect, re-run, draw and tabulate.

The layers, each importing only those above it in this list (no cycles):
:mod:`~adjoint.graph.base` (the nodes, textbook labels and inspection),
:mod:`~adjoint.graph.run` (``Graph.run``, batches included),
:mod:`~adjoint.graph.drawing` (DOT, SVG, PNG) and
:mod:`~adjoint.graph.tracing` (the textbook tables, evaluation you can watch),
then :mod:`~adjoint.graph.graph`, whose :class:`Graph` adds the methods that
call them; :mod:`~adjoint.graph.census` counts the nodes of gradient graphs
by derivative order and by the op whose rule made them.
"""

from adjoint.graph.census import Census, census
from adjoint.graph.drawing import GraphTooLargeError
from adjoint.graph.graph import MAX_DRAWN_NODES, Graph
from adjoint.graph.tracing import evaluation_steps, trace_evaluation

__all__ = [
    "Graph",
    "MAX_DRAWN_NODES",
    "GraphTooLargeError",
    "evaluation_steps",
    "trace_evaluation",
    "census",
    "Census",
]
