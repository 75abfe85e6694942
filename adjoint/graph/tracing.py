"""Watching evaluation, and the textbook tables of a real graph.

Two things a course on autodiff shows, taken from the graph itself rather than
typed by hand:

* Evaluation you can watch (lazy mode). :func:`trace_evaluation` records every
  node computed while it is active (through the engine's observers, so it
  costs nothing when not in use), and :func:`evaluation_steps` computes one
  node per ``next()``. Both show that a lazy graph computes only what a
  requested output needs, and each node once.
* The tables of Griewank and Walther / Baydin et al.: the forward evaluation
  trace (Wengert list, ``v3 = exp(v1) = 2.718``) and the reverse sweep as
  adjoint equations (``v̄1 += v̄3 · exp(v1)``), with their values, as plain text,
  Markdown with LaTeX, or a LaTeX array.
  Each op gives its own row: the ``formula`` and ``partials`` templates its
  class declares (see :class:`adjoint.Op`); an op that declares none shows as
  ``Name(v1, v2)``, with the generic partial ``v̄3 · ∂v3/∂v1``.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from adjoint import autograd
from adjoint.autograd import Op, Value, declared, lazy_mode, no_grad
from adjoint.device import to_numpy
from adjoint.graph.base import GraphBase
from adjoint.tensor import Tensor
from adjoint.walk import toposort

__all__ = [
    "Step",
    "EvaluationTrace",
    "Table",
    "trace_evaluation",
    "evaluation_steps",
    "forward_trace",
    "reverse_trace",
]


def _outputs_arg(outputs: tuple[Any, ...], where: str) -> None:
    for k, output in enumerate(outputs):
        if not isinstance(output, Value):
            raise TypeError(
                f"{where}: output {k} must be a Tensor, got {type(output).__name__} "
                "(give the outputs as separate arguments)"
            )


def _graph_arg(graph: Any, where: str) -> None:
    if not isinstance(graph, GraphBase):
        hint = "; give ad.Graph(y)" if isinstance(graph, Value) else ""
        raise TypeError(f"{where}: graph must be an ad.Graph, got {type(graph).__name__}{hint}")


def _value_text(data: np.ndarray | None) -> str:
    if data is None:
        return "?"
    data = to_numpy(data)  # a device's values are shown from a host copy
    if data.size == 1:
        return f"{data.reshape(()).item():.4g}"
    text = np.array2string(data, precision=4, threshold=6, separator=", ")
    return " ".join(text.split())


# --------------------------------------------------------------------- tables


class Table:
    """Rows of text with headers; prints aligned, shows as Markdown in a notebook.

    ``rows`` holds plain-text cells; ``latex_rows`` the same cells as LaTeX
    math (shown between ``$`` in Markdown).
    """

    def __init__(
        self,
        title: str,
        headers: list[str],
        rows: list[list[str]],
        latex_rows: list[list[str]],
    ) -> None:
        self.title = title
        self.headers = headers
        self.rows = rows
        self.latex_rows = latex_rows

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        widths = [
            max(_width(h), *(_width(r[k]) for r in self.rows)) if self.rows else _width(h)
            for k, h in enumerate(self.headers)
        ]

        def line(cells: list[str]) -> str:
            return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

        lines = [self.title, line(self.headers), "  ".join("-" * w for w in widths)]
        lines.extend(line(row) for row in self.rows)
        return "\n".join(lines)

    __repr__ = __str__

    def to_markdown(self) -> str:
        """A Markdown table whose cells are LaTeX math (as notebooks render it)."""
        lines = [f"**{self.title}**", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
        for row in self.latex_rows:
            lines.append("| " + " | ".join(f"${c}$" if c else "" for c in row) + " |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_latex(self) -> str:
        """The table as a LaTeX ``array`` (one row per line, cells in math mode)."""
        body = " \\\\\n".join(" & ".join(row) for row in self.latex_rows)
        return "\\begin{array}{" + "l" * len(self.headers) + "}\n" + body + "\n\\end{array}"


def _width(text: str) -> int:
    """Printed width: combining marks (the bar of v̄) take no column."""
    return sum(1 for ch in text if not unicodedata.combining(ch))


def _latex_label(label: str) -> str:
    return f"{label[0]}_{{{label[1:]}}}" if label[1:].isdigit() else label


def _latex_bar(label: str) -> str:
    return "\\bar{" + label[0] + "}_{" + label[1:] + "}"


def _number(c: Any) -> str:
    return f"{c:g}" if isinstance(c, (int, float)) else str(c)


# Each op declares its row of the tables: ``formula`` and ``partials`` (templates
# with $0 $1 $2 the inputs, $y the node, $g the node's adjoint, $c the op's
# scalar, $d the scalar minus one; see adjoint.Op). An op that declares none
# shows as ``Name(v1, v2)`` and ``v̄3 · ∂v3/∂v1``.


def _fill(template: str, subs: dict[str, str]) -> str:
    for key in ("$0", "$1", "$2", "$y", "$g", "$c", "$d"):
        if key in template:
            template = template.replace(key, subs.get(key, key))
    return template


def _subs(graph: Any, node: Value, latex: bool) -> dict[str, str]:
    label = _latex_label if latex else (lambda s: s)
    subs = {f"${k}": label(graph.label(x)) for k, x in enumerate(node.inputs[:3])}
    subs["$y"] = label(graph.label(node))
    subs["$g"] = _latex_bar(graph.label(node)) if latex else _bar(graph.label(node))
    scalar = getattr(node.op, "scalar", None)
    if scalar is not None:
        subs["$c"] = _number(scalar)
        subs["$d"] = _number(scalar - 1)
    return subs


def _bar(label: str) -> str:
    return label[0] + "\u0304" + label[1:]


def _expression(graph: Any, node: Value, latex: bool) -> str:
    op = node.op
    templates = declared(op, "formula")
    if templates is None or len(node.inputs) > 3:
        args = ", ".join((_latex_label if latex else str)(graph.label(x)) for x in node.inputs)
        name = f"\\operatorname{{{op.name}}}" if latex else op.name
        return f"{name}({args})"
    return _fill(templates[latex], _subs(graph, node, latex))


def _partial(graph: Any, node: Value, k: int, latex: bool) -> str:
    templates = declared(node.op, "partials")
    subs = _subs(graph, node, latex)
    if templates is None or k >= len(templates):
        x = graph.label(node.inputs[k])
        if latex:
            return f"{subs['$g']} \\cdot \\partial {subs['$y']} / \\partial {_latex_label(x)}"
        return f"{subs['$g']} · ∂{subs['$y']}/∂{x}"
    return _fill(templates[k][latex], subs)


def _output_names(graph: Any) -> dict[int, str]:
    outs = graph.outputs
    names = {}
    for k, out in enumerate(outs):
        if id(out) not in names:
            names[id(out)] = out.name or ("y" if len(outs) == 1 else f"y{k + 1}")
    return names


def forward_trace(graph: Any) -> Table:
    """The forward evaluation trace (Wengert list) of a graph, with values.

    One row per node, leaves first (``v1 = x1 = 2``), then each op in
    topological order (``v3 = ln(v1) = 0.6931``), then the outputs
    (``y = v8``). Computes the outputs if they are lazy.

    >>> import adjoint as ad
    >>> x = ad.Tensor(1.0, name="x")
    >>> print(ad.Graph(ad.exp(x)).forward_trace())
    Forward evaluation trace
    node  expression  value
    ----  ----------  -----
    v1    x           1
    v2    exp(v1)     2.718
    y     v2          2.718
    """
    _graph_arg(graph, "forward_trace")
    for out in graph.outputs:
        out.realize_cached_data()
    rows, latex_rows = [], []
    ordered = [n for n in graph.nodes if n.op is None] + [
        n for n in graph.nodes if n.op is not None
    ]
    for node in ordered:
        label = graph.label(node)
        value = _value_text(node.cached_data)
        if node.op is None:
            what = node.name or ("const" if not node.requires_grad else "input")
            rows.append([label, what, value])
            latex_what = f"\\text{{{what}}}"
        else:
            rows.append([label, _expression(graph, node, False), value])
            latex_what = _expression(graph, node, True)
        latex_rows.append([_latex_label(label), latex_what, value])
    for out_id, name in _output_names(graph).items():
        node = next(n for n in graph.outputs if id(n) == out_id)
        rows.append([name, graph.label(node), _value_text(node.cached_data)])
        latex_rows.append([name, _latex_label(graph.label(node)), rows[-1][2]])
    return Table("Forward evaluation trace", ["node", "expression", "value"], rows, latex_rows)


def reverse_trace(graph: Any, output: Value | None = None) -> Table:
    """The reverse sweep of ``output`` (the graph's first output by default) as adjoint equations.

    The seed row sets the output's adjoint to ones; then, in reverse
    topological order, each op sends each input that requires grad its share
    (``v̄1 += v̄3 / v1``), with the running value of that adjoint; the last rows
    give the derivatives of the variables. The values come from the ops' own
    gradient rules (run on constants, so nothing joins the graph). For
    y = ln(x1) + x1·x2 − sin(x2) at (2, 5): v̄1 = 5.5, v̄2 = 1.716.
    """
    _graph_arg(graph, "reverse_trace")
    if output is None:
        output = graph.outputs[0]
    elif not isinstance(output, Value):
        raise TypeError(
            f"reverse_trace: output must be a Tensor of the graph or None, got "
            f"{type(output).__name__}"
        )
    elif output not in graph:
        raise ValueError("reverse_trace: the output is not a node of this graph")
    output.realize_cached_data()
    out_label = graph.label(output)
    out_name = _output_names(graph).get(id(output), out_label)
    seed = output.device.ones(output.shape, output.dtype)  # the sweep runs on its device
    rows = [[f"{_bar(out_label)} = {_bar(out_name)}", "1"]]
    latex_rows = [[f"{_latex_bar(out_label)} = \\bar{{{out_name}}}", "1"]]
    adjoints: dict[int, np.ndarray] = {id(output): seed}
    with no_grad(), lazy_mode(False):
        for node in reversed(graph.nodes):
            adjoint = adjoints.get(id(node))
            if adjoint is None or node.op is None:
                continue
            parts = node.op.gradient_as_tuple(Tensor.make_const(adjoint), node)
            for k, (x, part) in enumerate(zip(node.inputs, parts)):
                if not x.requires_grad:
                    continue
                value = part.realize_cached_data()
                first = id(x) not in adjoints
                adjoints[id(x)] = value if first else adjoints[id(x)] + value
                label = graph.label(x)
                eq = "=" if first else "+="
                latex_eq = "=" if first else "\\mathrel{+}="
                total = _value_text(adjoints[id(x)])
                rows.append([f"{_bar(label)} {eq} {_partial(graph, node, k, False)}", total])
                latex_rows.append(
                    [f"{_latex_bar(label)} {latex_eq} {_partial(graph, node, k, True)}", total]
                )
    for leaf in graph.variables:
        label = graph.label(leaf)
        total = _value_text(adjoints[id(leaf)]) if id(leaf) in adjoints else "0"
        name = leaf.name or label
        rows.append([f"∂{out_name}/∂{name} = {_bar(label)}", total])
        latex_rows.append([f"\\partial {out_name} / \\partial {name} = {_latex_bar(label)}", total])
    return Table("Reverse sweep (adjoints)", ["adjoint equation", "value"], rows, latex_rows)


# ----------------------------------------------------------------- evaluation


@dataclass
class Step:
    """One node computed: its place in the order, what it is, and what asked for it."""

    index: int
    node: Value
    op: Op
    inputs: tuple[Value, ...]
    shape: tuple[int, ...]
    seconds: float
    pulled_by: Value | None = None
    label: str = "?"

    def __repr__(self) -> str:
        return f"Step({self.index}: {self.label} = {self.op.name}, shape {self.shape})"


class EvaluationTrace:
    """Records each node computed while active: see :func:`trace_evaluation`."""

    def __init__(self, *outputs: Value) -> None:
        _outputs_arg(outputs, "EvaluationTrace")
        self.outputs = outputs
        self.steps: list[Step] = []
        self._graph = GraphBase(*outputs) if outputs else None
        self._thread: int | None = None
        self._pending: list[Step] = []
        self._ancestors: dict[int, set[int]] = {}

    # observer protocol
    def created(self, node: Value) -> None:
        pass

    def computed(self, node: Value, data: np.ndarray, seconds: float) -> None:
        if threading.get_ident() != self._thread:
            return
        step = Step(
            index=len(self.steps),
            node=node,
            op=node.op,
            inputs=node.inputs,
            shape=data.shape,
            seconds=seconds,
            label=self._label(node),
        )
        self.steps.append(step)
        self._pending.append(step)
        if any(node is out for out in self.outputs):
            self._close(node)

    def _label(self, node: Value) -> str:
        if self._graph is not None and node in self._graph:
            return self._graph.label(node)
        return f"<{node.op.name}>"

    def _close(self, output: Value) -> None:
        ancestors = self._ancestors.get(id(output))
        if ancestors is None:
            ancestors = {id(n) for n in autograd.find_topo_sort([output])}
            self._ancestors[id(output)] = ancestors
        for step in self._pending:
            if id(step.node) in ancestors:
                step.pulled_by = output
        self._pending = []

    def __enter__(self) -> EvaluationTrace:
        self._thread = threading.get_ident()
        autograd.add_observer(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        autograd.remove_observer(self)
        self._pending = []

    @property
    def nodes(self) -> list[Value]:
        """The nodes computed, in order."""
        return [step.node for step in self.steps]

    def table(self) -> Table:
        """The steps as a table: order, node, op, inputs, shape, time and requester."""
        return _steps_table(self.steps, self._graph)

    def __str__(self) -> str:
        return str(self.table())

    def _repr_markdown_(self) -> str:
        return self.table().to_markdown()


def _steps_table(steps: list[Step], graph: Any) -> Table:
    names = _output_names(graph) if graph is not None else {}
    rows, latex_rows = [], []
    for step in steps:
        inputs = ", ".join(
            graph.label(x) if graph is not None and x in graph else "?" for x in step.inputs
        )
        pulled = step.pulled_by
        by = "" if pulled is None else names.get(id(pulled), graph.label(pulled))
        cells = [
            str(step.index),
            step.label,
            step.op.name,
            inputs,
            str(step.shape),
            f"{step.seconds * 1e6:.1f} µs",
            by,
        ]
        rows.append(cells)
        latex_rows.append(
            [
                cells[0],
                _latex_label(step.label),
                f"\\text{{{step.op.name}}}",
                ", ".join(_latex_label(s) for s in inputs.split(", ")) if inputs else "",
                f"\\text{{{step.shape}}}",
                f"{step.seconds * 1e6:.1f}\\,\\mu s",
                by,
            ]
        )
    headers = ["step", "node", "op", "inputs", "shape", "time", "for"]
    return Table("Evaluation steps", headers, rows, latex_rows)


def trace_evaluation(*outputs: Value) -> EvaluationTrace:
    """A context manager that records every node computed in this thread while active.

    Give the outputs you will ask for: each step then says which of them
    pulled it in (the first that needed it), and nodes are labelled as in
    ``ad.Graph(*outputs)``. Computations in other threads are ignored; with no
    trace active, evaluation pays nothing for this mechanism.

    >>> import adjoint as ad
    >>> with ad.lazy_mode():
    ...     x = ad.Tensor(1.0)
    ...     y, z = ad.exp(x), ad.sin(x) * 2.0
    >>> with ad.trace_evaluation(y, z) as trace:
    ...     _ = y.numpy()
    >>> [step.op.name for step in trace.steps], z.cached_data is None
    (['Exp'], True)
    """
    _outputs_arg(outputs, "trace_evaluation")
    return EvaluationTrace(*outputs)


def _unrealized(root: Value) -> list[Value]:
    """The nodes ``root`` needs that hold no data yet, ``root`` last, in the order the
    engine computes them: :func:`~adjoint.walk.toposort` not descending into computed
    nodes (as lazy realization walks).

    Every input counts, whether it requires grad or not: what is computed does not
    depend on what is differentiated.
    """
    if root.cached_data is not None:
        return []
    return toposort([root], lambda node: [x for x in node.inputs if x.cached_data is None])


def evaluation_steps(*outputs: Value) -> Iterator[Step]:
    """Evaluate lazy ``outputs`` one node per ``next()``, yielding a :class:`Step` each time.

    The order is the engine's own (inputs first, left before right, outputs in
    the order given); nodes already computed are skipped, so every node is
    computed at most once, and nodes the outputs do not need never are.

    >>> import adjoint as ad
    >>> with ad.lazy_mode():
    ...     x = ad.Tensor(2.0, name="x")
    ...     y = ad.log(x) * x
    >>> [f"{s.label} = {s.op.name}" for s in ad.evaluation_steps(y)]
    ['v2 = Log', 'v3 = EWiseMul']
    """
    if not outputs:
        raise ValueError("evaluation_steps: give at least one output Tensor")
    _outputs_arg(outputs, "evaluation_steps")
    return _evaluation_steps(outputs, GraphBase(*outputs))


def _evaluation_steps(outputs: tuple[Value, ...], graph: Any) -> Iterator[Step]:
    index = 0
    for output in outputs:
        for node in _unrealized(output):
            if node.cached_data is not None:
                continue
            if node.op is None:
                raise ValueError("evaluation_steps: a leaf holds no data")
            start = time.perf_counter()
            data = node.realize_cached_data()
            seconds = time.perf_counter() - start
            yield Step(
                index=index,
                node=node,
                op=node.op,
                inputs=node.inputs,
                shape=data.shape,
                seconds=seconds,
                pulled_by=output,
                label=graph.label(node),
            )
            index += 1
