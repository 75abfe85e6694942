"""Graphs seen from their outputs: inspect, re-run, draw and tabulate.

:mod:`~adjoint.graph.graph` holds :class:`Graph` (nodes, textbook labels,
inspection, ``run``); :mod:`~adjoint.graph.drawing` draws it (DOT, SVG, PNG)
and :mod:`~adjoint.graph.tracing` tabulates and watches its evaluation.
"""

from adjoint.graph.drawing import GraphTooLargeError
from adjoint.graph.graph import MAX_DRAWN_NODES, Graph
from adjoint.graph.tracing import evaluation_steps, trace_evaluation

__all__ = [
    "Graph",
    "MAX_DRAWN_NODES",
    "GraphTooLargeError",
    "evaluation_steps",
    "trace_evaluation",
]
