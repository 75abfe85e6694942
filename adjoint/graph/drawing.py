"""Drawing graphs: DOT text, and SVG or PNG pictures with or without Graphviz.

:func:`to_dot` is a pure function (DeZero's ``get_dot_graph``): the graph in
Graphviz's DOT language. The pictures use Graphviz's ``dot`` program where it
is installed. Where it is not (it is not a Python package, and adjoint's only
runtime dependencies are NumPy and sympy), adjoint lays the graph out itself:
longest-path layers, barycentric ordering to reduce crossings, edges routed
through one bend point per layer they cross, written as plain SVG. So a
notebook always shows its picture; PNG then comes from matplotlib if it is
installed (the ``dev`` extra has it).

Size. A picture of more than :data:`~adjoint.graph.MAX_DRAWN_NODES` (400)
nodes is refused with a :class:`GraphTooLargeError` that says how to draw a
part of the graph; ``max_nodes=`` raises the limit (``None``: no limit). The
notebook display uses the same limit (above it a Graph shows as text). DOT
text (:func:`to_dot`, ``render("g.dot")``) is written at any size.

Cost. adjoint's own layout takes time and memory near-linear in nodes plus
edges. Bend points once made it quadratic: an edge crossing ``L`` layers
needs ``L - 1``, and gradient graphs are full of edges from forward nodes to
backward nodes far below (a 5,001-node gradient graph needed 2 million). So
edges get bend points shortest first, within a budget linear in the graph's
size (:func:`_bend_budget`); the longer ones left are drawn as one light grey
curve (behind the boxes it passes). Graphs of a few hundred nodes keep every
bend point and draw as before. Measured (layout and SVG text, one core): the
gradient graph of a chain of ``sin`` and ``* 1.0001``, 5,001 nodes, took
65 s and 1 GB before, 0.4 s and 22 MB after; 10,001 nodes 229 s and 4 GB
before, 0.75 s and 45 MB after.

What the drawings show: variables (leaves that require grad) are gold
ellipses, constants grey dashed ellipses, op nodes boxes coloured by
derivative order (forward nodes blue, nodes made by the first backward pass
orange, the second green, ...), outputs have a double border. Labels give the
node's textbook name (``v3``, as in the tables of :mod:`adjoint.graph.tracing`), its
op or leaf name, and its shape; ``values=True`` adds the data. The edges into
an op with several inputs are numbered, unless its class declares it
``commutative`` (see :class:`adjoint.Op`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from adjoint.autograd import Value, _flag_arg, declared, derivative_order
from adjoint.device import to_numpy
from adjoint.graph.base import GraphBase

__all__ = ["to_dot", "to_svg", "render", "layout", "GraphTooLargeError", "ORDER_COLOURS"]

#: Above this many nodes a Graph shows as text in a notebook rather than as a picture.
MAX_DRAWN_NODES = 400

#: Fill colour of op nodes by derivative order (0: forward), cycling after the last.
ORDER_COLOURS = ["#dbe9f6", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#fff2ae"]
VARIABLE_COLOUR = "#ffe082"
CONSTANT_COLOUR = "#f0f0f0"
_FONT = "Helvetica, Arial, sans-serif"
_FONT_SIZE = 11
_CHAR_W = 6.4
_LINE_H = 14


def order_colour(order: int) -> str:
    """The fill colour for nodes of a derivative order."""
    return ORDER_COLOURS[order % len(ORDER_COLOURS)]


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "shape ?"
    return "scalar" if shape == () else "shape " + "×".join(str(n) for n in shape)


def _short_value(data: np.ndarray | None) -> str:
    if data is None:
        return "not computed"
    data = to_numpy(data)  # a device's values are drawn from a host copy
    if data.size == 1:
        return f"{data.reshape(()).item():.4g}"
    text = "".join(np.array2string(data, precision=3, threshold=4, separator=",").split())
    return text if len(text) <= 28 else text[:25] + "..."


@dataclass
class NodeStyle:
    """How one node is drawn."""

    kind: str  # "variable", "constant" or "op"
    lines: list[str]
    fill: str
    order: int
    output: bool
    tooltip: str


def node_style(
    graph: Any, node: Value, values: bool = False, *, outputs: set[int] | None = None
) -> NodeStyle:
    """Kind, label lines, colour and tooltip of a node (shared by DOT and SVG).

    ``outputs``: the ids of ``graph.outputs``, computed once by callers that
    style every node (else each call scans the outputs).
    """
    label = graph.label(node)
    order = derivative_order(node)
    data = node.cached_data
    shape = data.shape if data is not None else (node._meta[0] if node._meta else None)
    if node.op is None:
        kind = "variable" if node.requires_grad else "constant"
        title = f"{label}: {node.name or ('input' if kind == 'variable' else 'const')}"
        fill = VARIABLE_COLOUR if kind == "variable" else CONSTANT_COLOUR
    else:
        kind = "op"
        title = f"{label}: {node.op.name}"
        if node.name:
            title += f" ({node.name})"
        fill = order_colour(order)
    lines = [title, _shape_text(shape)]
    if values or (node.op is None and kind == "constant" and data is not None and data.size == 1):
        lines.append(_short_value(data))
    tooltip = f"{label} {repr(node.op) if node.op is not None else kind}"
    if order:
        rule = node._tag[1]
        made_by = f"the gradient of {rule.name}" if rule is not None else "summing adjoints"
        tooltip += f"; derivative order {order}, made by {made_by}"
    if outputs is None:
        outputs = {id(o) for o in graph.outputs}
    return NodeStyle(kind, lines, fill, order, id(node) in outputs, tooltip)


def _edge_labels(node: Value) -> list[str]:
    if len(node.inputs) > 1 and not declared(node.op, "commutative"):
        return [str(k) for k in range(len(node.inputs))]
    return [""] * len(node.inputs)


# ------------------------------------------------------------------------- DOT


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _graph_arg(graph: Any, values: Any, where: str) -> bool:
    """Check a drawing function's graph and ``values`` flag; return the flag."""
    if not isinstance(graph, GraphBase):
        hint = "; draw ad.Graph(y)" if isinstance(graph, Value) else ""
        raise TypeError(f"{where}: graph must be an ad.Graph, got {type(graph).__name__}{hint}")
    return _flag_arg(values, where, "values")


def to_dot(graph: Any, *, values: bool = False) -> str:
    """The graph in Graphviz's DOT language: one node per graph node, one edge per input.

    Node ids are ``n0``, ``n1``, ... in topological order; edges point from
    an input to the node that uses it.

    >>> import adjoint as ad
    >>> x = ad.Tensor(1.0, name="x")
    >>> print(ad.Graph(ad.exp(x)).to_dot().splitlines()[5])
      n1 [label="v2: Exp\\nscalar", shape=box, style="rounded,filled", fillcolor="#dbe9f6", \
peripheries=2, tooltip="v2 Exp()"];
    """
    values = _graph_arg(graph, values, "to_dot")
    lines = [
        "digraph adjoint {",
        "  rankdir=TB;",
        f'  node [fontname="{_FONT}", fontsize={_FONT_SIZE}, penwidth=1.2];',
        '  edge [arrowsize=0.7, color="#555555"];',
    ]
    index = graph._positions()
    outputs = {id(o) for o in graph.outputs}
    orders = set()
    for i, node in enumerate(graph.nodes):
        style = node_style(graph, node, values, outputs=outputs)
        label = _dot_quote("\n".join(style.lines)).replace("\n", "\\n")
        attrs = [f"label={label}"]
        if style.kind == "op":
            attrs += ["shape=box", 'style="rounded,filled"']
            orders.add(style.order)
        else:
            attrs += ["shape=ellipse"]
            attrs += ['style="filled"' if style.kind == "variable" else 'style="filled,dashed"']
        attrs.append(f'fillcolor="{style.fill}"')
        if style.output:
            attrs.append("peripheries=2")
        attrs.append(f"tooltip={_dot_quote(style.tooltip)}")
        lines.append(f"  n{i} [{', '.join(attrs)}];")
    for i, node in enumerate(graph.nodes):
        if node.op is None:
            continue
        for x, edge_label in zip(node.inputs, _edge_labels(node)):
            extra = f' [label="{edge_label}", fontsize=9]' if edge_label else ""
            lines.append(f"  n{index[id(x)]} -> n{i}{extra};")
    if any(o > 0 for o in orders):
        lines.append('  subgraph cluster_legend { label="derivative order"; fontsize=10;')
        for o in sorted(orders):
            name = "forward" if o == 0 else f"order {o}"
            lines.append(
                f'    legend{o} [label="{name}", shape=box, style="rounded,filled", '
                f'fillcolor="{order_colour(o)}"];'
            )
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- layout


@dataclass
class Box:
    """A laid-out node: centre, size and style."""

    x: float
    y: float
    w: float
    h: float
    style: NodeStyle


@dataclass
class Layout:
    """Positions of nodes and edge polylines, in pixels (y grows downwards).

    ``express``: the indices in ``edges`` of the edges drawn without bend
    points (see :func:`_bend_budget`); they are drawn in a lighter grey.
    ``vertices`` (nodes plus bend points) and ``work`` (the vertex and edge
    visits of the ordering and placement passes) measure what the layout
    cost, independently of the machine.
    """

    boxes: list[Box]
    edges: list[tuple[list[tuple[float, float]], str]]
    width: float
    height: float
    legend: list[tuple[str, str, str]] = field(default_factory=list)
    legend_width: float = 0.0
    vertices: int = 0
    express: list[int] = field(default_factory=list)
    work: int = 0


_H_GAP = 24.0
_V_GAP = 46.0
_MARGIN = 16.0
_RELAX_ROUNDS = 8
_EXPRESS_COLOUR = "#a8a8a8"


class GraphTooLargeError(ValueError):
    """A picture was asked of a graph with more nodes than ``max_nodes``."""


def _check_max_nodes(max_nodes: int | None, where: str) -> None:
    if max_nodes is None:
        return
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)):
        raise TypeError(
            f"{where}: max_nodes must be an int or None (no limit), "
            f"got {type(max_nodes).__name__} {max_nodes!r}"
        )
    if max_nodes < 0:
        raise ValueError(f"{where}: max_nodes must be >= 0 or None (no limit), got {max_nodes}")


def _check_size(graph: Any, max_nodes: int | None, where: str) -> None:
    """Refuse a picture of more than ``max_nodes`` nodes, saying how to draw a part."""
    _check_max_nodes(max_nodes, where)
    n = len(graph.nodes)
    if max_nodes is not None and n > max_nodes:
        raise GraphTooLargeError(
            f"{where}: the graph has {n:,} nodes, more than max_nodes={max_nodes:,}; a "
            "picture that big is hard to read (the notebook display shows such a graph as "
            f"text above {MAX_DRAWN_NODES}). Draw a part of it: ad.Graph(node) draws what one "
            "node depends on (an intermediate Tensor, or g.nodes[k]); "
            "ad.Graph(*ad.simplify(*g.outputs).outputs) draws a smaller equivalent graph; "
            "g.render('g.dot') writes DOT text at any size. Or draw it all with "
            f"max_nodes={n} (max_nodes=None: no limit; adjoint's own layout takes about "
            "0.1 s per 1,000 nodes)"
        )


def _bend_budget(n_nodes: int, n_edges: int) -> int:
    """How many bend points a layout may make: linear in the graph's size.

    The floor keeps every bend point of the graphs people draw: the second
    derivative of ``tanh(x) * exp(-x**2)`` by nested ``ad.grad`` needs 41, its
    fifth (236 nodes) 690, within a budget of 3,228.
    """
    return 2_000 + 2 * (n_nodes + n_edges)


def layout(
    graph: Any,
    *,
    values: bool = False,
    sweeps: int = 6,
    max_nodes: int | None = MAX_DRAWN_NODES,
) -> Layout:
    """A layered drawing of the graph in pure Python (used where Graphviz is missing).

    Layers are longest paths from the leaves (each leaf sits just above its
    first consumer), long edges get one dummy point per layer crossed (the
    shortest edges first, within :func:`_bend_budget`; longer ones are drawn
    as one curve), each layer is ordered by the barycentre of its neighbours
    (alternating downward and upward sweeps), and x positions are relaxed
    toward the neighbours' mean without overlaps. Time and memory are
    linear in nodes plus edges, up to the sorting of each layer.
    ``max_nodes``: see :class:`GraphTooLargeError` and the module docstring.
    """
    values = _graph_arg(graph, values, "layout")
    if isinstance(sweeps, bool) or not isinstance(sweeps, (int, np.integer)):
        raise TypeError(
            f"layout: sweeps must be an int >= 0, got {sweeps!r} ({type(sweeps).__name__})"
        )
    if sweeps < 0:
        raise ValueError(f"layout: sweeps must be an int >= 0, got {sweeps}")
    _check_size(graph, max_nodes, "layout")
    nodes = graph.nodes
    n = len(nodes)
    index = graph._positions()
    outputs = {id(o) for o in graph.outputs}
    styles = [node_style(graph, node, values, outputs=outputs) for node in nodes]
    inputs = [[index[id(x)] for x in node.inputs] for node in nodes]
    rank = [0] * n
    for i in range(n):
        if inputs[i]:
            rank[i] = 1 + max(rank[j] for j in inputs[i])
    consumers: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in inputs[i]:
            consumers[j].append(i)
    for i in range(n):
        if not inputs[i] and consumers[i]:
            rank[i] = min(rank[c] for c in consumers[i]) - 1
    edge_list = [
        (j, i, k, edge_label)
        for i in range(n)
        if inputs[i]
        for k, (j, edge_label) in enumerate(zip(inputs[i], _edge_labels(nodes[i])))
    ]
    # the edges that get bend points: shortest first while the budget lasts
    bent = [True] * len(edge_list)
    budget = _bend_budget(n, len(edge_list))
    if sum(rank[i] - rank[j] - 1 for j, i, _, _ in edge_list) > budget:
        by_span = sorted(
            range(len(edge_list)), key=lambda e: rank[edge_list[e][1]] - rank[edge_list[e][0]]
        )
        for e in by_span:
            j, i = edge_list[e][0], edge_list[e][1]
            budget -= rank[i] - rank[j] - 1
            if budget < 0:
                bent[e] = False
    # vertices: real nodes 0..n-1, then dummies; edges between adjacent layers
    width = [max(len(line) for line in st.lines) * _CHAR_W + 18 for st in styles]
    height = [len(st.lines) * _LINE_H + 12 for st in styles]
    vrank = list(rank)
    up: list[list[int]] = [[] for _ in range(n)]  # neighbours in the layer above
    down: list[list[int]] = [[] for _ in range(n)]
    far: dict[int, list[int]] = {}  # ends of express edges (no bend points)
    chains: list[tuple[int, int, int, list[int] | None, str]] = []
    for (j, i, k, edge_label), with_bends in zip(edge_list, bent):
        if not with_bends:
            far.setdefault(i, []).append(j)
            far.setdefault(j, []).append(i)
            chains.append((j, i, k, None, edge_label))
            continue
        prev, chain = j, []
        for r in range(rank[j] + 1, rank[i]):
            v = len(vrank)
            vrank.append(r)
            width.append(2.0)
            height.append(0.0)
            up.append([prev])
            down.append([])
            down[prev].append(v)
            chain.append(v)
            prev = v
        up[i].append(prev)
        down[prev].append(i)
        chains.append((j, i, k, chain, edge_label))
    n_vertices = len(vrank)
    segments = sum(len(u) for u in up)
    layers: list[list[int]] = [[] for _ in range(max(vrank, default=0) + 1)]
    for v in range(n_vertices):
        layers[vrank[v]].append(v)
    pos = [0.0] * n_vertices
    for layer in layers:
        for k, v in enumerate(layer):
            pos[v] = k
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        sequence = layers[1:] if downward else layers[-2::-1]
        for layer in sequence:

            def key(v: int, downward: bool = downward) -> float:
                nbrs = up[v] if downward else down[v]
                return sum(pos[u] for u in nbrs) / len(nbrs) if nbrs else pos[v]

            layer.sort(key=key)
            for k, v in enumerate(layer):
                pos[v] = k
    # x coordinates: packed, then relaxed toward neighbours
    xs = [0.0] * n_vertices
    for layer in layers:
        x = 0.0
        for v in layer:
            xs[v] = x + width[v] / 2
            x += width[v] + _H_GAP
    for _ in range(_RELAX_ROUNDS):
        for layer in layers:
            want = []
            for v in layer:
                nbrs = up[v] + down[v]
                if v in far:
                    nbrs += far[v]
                want.append(sum(xs[u] for u in nbrs) / len(nbrs) if nbrs else xs[v])
            _place(layer, want, width, xs)
    left = min((xs[v] - width[v] / 2 for v in range(n_vertices)), default=0.0)
    layer_h = [max((height[v] for v in layer), default=0.0) for layer in layers]
    ys, y = [], _MARGIN
    for h in layer_h:
        ys.append(y + h / 2)
        y += h + _V_GAP
    boxes = [
        Box(xs[i] - left + _MARGIN, ys[vrank[i]], width[i], height[i], styles[i]) for i in range(n)
    ]
    edges = []
    for j, i, k, chain, edge_label in chains:
        src, dst = boxes[j], boxes[i]
        m = len(inputs[i])
        spread = min(16.0, dst.w / (m + 1))
        start = (src.x, src.y + src.h / 2)
        end = (dst.x + (k - (m - 1) / 2) * spread, dst.y - dst.h / 2)
        if chain is None:  # express: leave and arrive vertically, one curve between
            points = [start, (start[0], start[1] + _V_GAP / 2), (end[0], end[1] - _V_GAP / 2), end]
        else:
            points = [start, *((xs[v] - left + _MARGIN, ys[vrank[v]]) for v in chain), end]
        edges.append((points, edge_label))
    total_w = max((b.x + b.w / 2 for b in boxes), default=0.0) + _MARGIN
    legend = _legend(styles)
    legend_w = 40.0 + 6.0 * max((len(name) for name, _, _ in legend), default=0)
    total_w += legend_w if legend else 0.0
    total_h = max(y - _V_GAP + _MARGIN, 24.0 + 18.0 * len(legend))
    express = [e for e, with_bends in enumerate(bent) if not with_bends]
    work = sweeps * (n_vertices + segments) + _RELAX_ROUNDS * (
        n_vertices + 2 * segments + 2 * len(express)
    )
    return Layout(boxes, edges, total_w, total_h, legend, legend_w, n_vertices, express, work)


def _place(layer: list[int], want: list[float], width: list[float], xs: list[float]) -> None:
    """Move a layer's vertices toward ``want`` keeping their order and no overlap."""
    k = len(layer)
    placed = list(want)
    for a in range(1, k):
        low = placed[a - 1] + (width[layer[a - 1]] + width[layer[a]]) / 2 + _H_GAP
        placed[a] = max(placed[a], low)
    # shift back toward the wanted centre as a block
    shift = sum(w - p for w, p in zip(want, placed)) / k if k else 0.0
    for a in range(k):
        xs[layer[a]] = placed[a] + shift


def _legend(styles: list[NodeStyle]) -> list[tuple[str, str, str]]:
    kinds = {st.kind for st in styles}
    items = []
    if "variable" in kinds:
        items.append(("variable (requires grad)", VARIABLE_COLOUR, "ellipse"))
    if "constant" in kinds:
        items.append(("constant", CONSTANT_COLOUR, "dashed"))
    for o in sorted({st.order for st in styles if st.kind == "op"}):
        name = "op, forward" if o == 0 else f"op, derivative order {o}"
        items.append((name, order_colour(o), "box"))
    if any(st.output for st in styles):
        items.append(("output (double border)", "#ffffff", "double"))
    return items


# ------------------------------------------------------------------------ SVG


def _svg_shape(box: Box, inset: float = 0.0) -> str:
    st = box.style
    stroke = 'stroke="#333333" stroke-width="1.2"'
    dash = ' stroke-dasharray="4,3"' if st.kind == "constant" else ""
    if st.kind == "op":
        return (
            f'<rect x="{box.x - box.w / 2 - inset:.1f}" y="{box.y - box.h / 2 - inset:.1f}" '
            f'width="{box.w + 2 * inset:.1f}" height="{box.h + 2 * inset:.1f}" rx="6" '
            f'fill="{st.fill if not inset else "none"}" {stroke}{dash}/>'
        )
    return (
        f'<ellipse cx="{box.x:.1f}" cy="{box.y:.1f}" rx="{box.w / 2 + inset:.1f}" '
        f'ry="{box.h / 2 + inset:.1f}" fill="{st.fill if not inset else "none"}" {stroke}{dash}/>'
    )


def _smooth_path(points: list[tuple[float, float]]) -> str:
    """An SVG path through ``points``: straight for two, a Catmull-Rom curve through bends."""
    if len(points) == 2:
        (x0, y0), (x1, y1) = points
        return f"M {x0:.1f} {y0:.1f} L {x1:.1f} {y1:.1f}"
    p = [points[0], *points, points[-1]]
    d = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
    for i in range(1, len(p) - 2):
        (ax, ay), (bx, by), (cx, cy), (ex, ey) = p[i - 1], p[i], p[i + 1], p[i + 2]
        c1 = (bx + (cx - ax) / 6, by + (cy - ay) / 6)
        c2 = (cx - (ex - bx) / 6, cy - (ey - by) / 6)
        d.append(f"C {c1[0]:.1f} {c1[1]:.1f} {c2[0]:.1f} {c2[1]:.1f} {cx:.1f} {cy:.1f}")
    return " ".join(d)


def layout_to_svg(lay: Layout) -> str:
    """SVG text for a :class:`Layout` (boxes, ellipses, arrows and a colour legend)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
        f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" '
        f'font-family="{_FONT}" font-size="{_FONT_SIZE}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        '<g class="edges" fill="none" stroke="#555555" stroke-width="1.1">',
    ]
    express = set(lay.express)
    for e, (points, edge_label) in enumerate(lay.edges):
        d = _smooth_path(points)
        grey = f' stroke="{_EXPRESS_COLOUR}"' if e in express else ""
        out.append(f'<path d="{d}"{grey} marker-end="url(#arrow)"/>')
        if edge_label:
            x, y = points[-1]
            out.append(
                f'<text x="{x + 3:.1f}" y="{y - 6:.1f}" font-size="9" fill="#555555" '
                f'stroke="none">{edge_label}</text>'
            )
    out.append("</g>")
    out.append('<g class="nodes">')
    for box in lay.boxes:
        st = box.style
        out.append(f"<g><title>{escape(st.tooltip)}</title>")
        out.append(_svg_shape(box))
        if st.output:
            out.append(_svg_shape(box, inset=3.0))
        top = box.y - (len(st.lines) - 1) * _LINE_H / 2
        for k, line in enumerate(st.lines):
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(
                f'<text x="{box.x:.1f}" y="{top + k * _LINE_H + 4:.1f}" text-anchor="middle"'
                f"{weight}>{escape(line)}</text>"
            )
        out.append("</g>")
    out.append("</g>")
    if lay.legend:
        x0 = lay.width - lay.legend_width + 8.0
        out.append('<g class="legend" font-size="10">')
        for k, (name, fill, kind) in enumerate(lay.legend):
            y = _MARGIN + 18.0 * k
            dash = ' stroke-dasharray="3,2"' if kind == "dashed" else ""
            if kind in ("ellipse", "dashed"):
                shape = f'<ellipse cx="{x0 + 9}" cy="{y + 6}" rx="9" ry="6"'
            else:
                shape = f'<rect x="{x0}" y="{y}" width="18" height="12" rx="3"'
            out.append(f'{shape} fill="{fill}" stroke="#333333"{dash}/>')
            if kind == "double":
                out.append(
                    f'<rect x="{x0 + 2}" y="{y + 2}" width="14" height="8" rx="2" '
                    'fill="none" stroke="#333333"/>'
                )
            out.append(f'<text x="{x0 + 24}" y="{y + 10}">{escape(name)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _dot_program() -> str | None:
    return shutil.which("dot")


def to_svg(
    graph: Any,
    *,
    values: bool = False,
    engine: str | None = None,
    max_nodes: int | None = MAX_DRAWN_NODES,
) -> str:
    """SVG text of the drawing: Graphviz's ``dot`` if found, else adjoint's own layout.

    ``engine`` forces ``"dot"`` or ``"python"``. Above ``max_nodes`` nodes
    (default :data:`~adjoint.graph.MAX_DRAWN_NODES`, the notebook's limit) a
    :class:`GraphTooLargeError` says how to draw a part; ``None``: no limit.
    """
    values = _graph_arg(graph, values, "to_svg")
    _check_size(graph, max_nodes, "to_svg")
    engine = _engine(engine, "to_svg")
    if engine == "dot":
        return _run_dot(to_dot(graph, values=values), "svg").decode("utf-8")
    return layout_to_svg(layout(graph, values=values, max_nodes=None))


def _engine_name(engine: Any, where: str) -> None:
    """Refuse an ``engine`` that is not None, 'dot' or 'python' (installed or not)."""
    if engine is None:
        return
    if not isinstance(engine, str):
        raise TypeError(
            f"{where}: engine must be 'dot', 'python' or None, got {type(engine).__name__} "
            f"{engine!r}"
        )
    if engine not in ("dot", "python"):
        raise ValueError(f"{where}: engine must be 'dot', 'python' or None, got {engine!r}")


def _engine(engine: str | None, where: str = "drawing") -> str:
    if engine is None:
        return "dot" if _dot_program() else "python"
    _engine_name(engine, where)
    if engine == "dot" and not _dot_program():
        raise RuntimeError(
            "drawing: Graphviz's dot program is not installed; install Graphviz "
            "(apt install graphviz, brew install graphviz, conda install graphviz) or "
            "use engine='python'"
        )
    return engine


def _run_dot(dot_text: str, fmt: str) -> bytes:
    result = subprocess.run(
        [_dot_program(), f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"drawing: dot failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def render(
    graph: Any,
    path: str | os.PathLike[str],
    *,
    values: bool = False,
    engine: str | None = None,
    max_nodes: int | None = MAX_DRAWN_NODES,
) -> str:
    """Write the drawing to ``path``: ``.svg``, ``.png`` or ``.dot`` (by the extension).

    SVG comes from ``dot`` where installed, else from adjoint's own layout.
    PNG comes from ``dot`` where installed, else from matplotlib drawing the
    same layout; without either, a RuntimeError says how to get one.
    A picture (SVG or PNG) of more than ``max_nodes`` nodes (default
    :data:`~adjoint.graph.MAX_DRAWN_NODES`, the notebook's limit; ``None``:
    no limit) is refused with a :class:`GraphTooLargeError` that says how to
    draw a part; DOT text is written at any size.
    """
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(
            "render: path must be a file name (a str or pathlib.Path) ending in .svg, .png "
            f"or .dot, got {type(path).__name__} {path!r}"
        )
    values = _graph_arg(graph, values, "render")
    _check_max_nodes(max_nodes, "render")
    _engine_name(engine, "render")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".dot", ".gv", ".svg", ".png"):
        raise ValueError(
            f"render: cannot tell the format of {path!r}; use a .svg, .png or .dot file name"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"render: directory {directory} of {path} does not exist")
    if ext == ".dot" or ext == ".gv":
        data = to_dot(graph, values=values).encode("utf-8")
    elif ext == ".svg":
        _check_size(graph, max_nodes, "render")
        data = to_svg(graph, values=values, engine=engine, max_nodes=None).encode("utf-8")
    else:  # .png
        _check_size(graph, max_nodes, "render")
        if _engine(engine, "render") == "dot":
            data = _run_dot(to_dot(graph, values=values), "png")
        else:
            _png_with_matplotlib(layout(graph, values=values, max_nodes=None), path)
            return path
    with open(path, "wb") as f:
        f.write(data)
    return path


def _png_with_matplotlib(lay: Layout, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.patches import Ellipse, FancyBboxPatch
    except ImportError:
        raise RuntimeError(
            "render: PNG needs Graphviz's dot program or matplotlib, and neither is "
            "installed; pip install matplotlib (or adjoint[dev]), install Graphviz, or "
            "render to .svg"
        ) from None
    dpi = 100
    fig = plt.figure(figsize=(lay.width / dpi, lay.height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.axis("off")
    express = set(lay.express)
    for e, (points, _) in enumerate(lay.edges):
        xs, ys = zip(*points)
        colour = _EXPRESS_COLOUR if e in express else "#555555"
        ax.plot(xs[:-1] + (xs[-1],), ys[:-1] + (ys[-1],), color=colour, lw=1.0, zorder=1)
        ax.annotate(
            "",
            xy=points[-1],
            xytext=points[-2],
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.0},
            zorder=1,
        )
    for box in lay.boxes:
        st = box.style
        style = "--" if st.kind == "constant" else "-"
        if st.kind == "op":
            patch = FancyBboxPatch(
                (box.x - box.w / 2, box.y - box.h / 2),
                box.w,
                box.h,
                boxstyle="round,pad=0,rounding_size=6",
                fc=st.fill,
                ec="#333333",
                ls=style,
                zorder=2,
            )
        else:
            patch = Ellipse((box.x, box.y), box.w, box.h, fc=st.fill, ec="#333333", ls=style)
            patch.set_zorder(2)
        ax.add_patch(patch)
        if st.output:
            ring = (
                FancyBboxPatch(
                    (box.x - box.w / 2 - 3, box.y - box.h / 2 - 3),
                    box.w + 6,
                    box.h + 6,
                    boxstyle="round,pad=0,rounding_size=8",
                    fc="none",
                    ec="#333333",
                )
                if st.kind == "op"
                else Ellipse((box.x, box.y), box.w + 6, box.h + 6, fc="none", ec="#333333")
            )
            ring.set_zorder(2)
            ax.add_patch(ring)
        top = box.y - (len(st.lines) - 1) * _LINE_H / 2
        for k, line in enumerate(st.lines):
            ax.text(
                box.x,
                top + k * _LINE_H,
                line,
                ha="center",
                va="center",
                fontsize=_FONT_SIZE * 0.72,
                fontweight="bold" if k == 0 else "normal",
                zorder=3,
            )
    x0 = lay.width - lay.legend_width + 8.0
    for k, (name, fill, _) in enumerate(lay.legend):
        y = _MARGIN + 18.0 * k
        ax.add_patch(FancyBboxPatch((x0, y), 18, 12, boxstyle="round,pad=0", fc=fill, ec="#333333"))
        ax.text(x0 + 24, y + 6, name, va="center", fontsize=7.5)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
