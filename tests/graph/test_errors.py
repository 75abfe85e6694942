"""Bad arguments to :class:`adjoint.Graph`, ``simplify``, ``census``,
``verify_rewrites``, the lazy-mode switches, :mod:`adjoint.graph.tracing` and
:mod:`adjoint.graph.drawing`, as tables, in eager and lazy mode. (``Graph.run``'s feeds are
tabled in ``test_graph.py``.)

Each row gives the exception type, the name the message must start with and a
fragment that says what is wrong or valid. A coverage test checks that the tables
name every public Graph method that takes an argument and every public name of the
modules they cover.
"""

import inspect

import numpy as np

import adjoint as ad
from adjoint.graph import drawing, tracing
from adjoint.rewrite import verify as verification
from tests.helpers.errors import _T, _V, S, X
from tests.helpers.errors import check as _check
from tests.helpers.errors import enter as _enter
from tests.helpers.errors import table as _table

_D = IsADirectoryError
_F = FileNotFoundError


# ======================================================= Graph, simplify, census


def Y():  # noqa: N802 - a small graph's output
    x = X()
    return ad.exp(x) * x


GRAPH = [
    ("Graph", "no outputs", lambda: ad.Graph(), _V, "Graph", "give at least one output"),
    ("Graph", "empty list", lambda: ad.Graph([]), _V, "Graph", "give at least one output"),
    ("Graph", "int", lambda: ad.Graph(3), _T, "Graph", "output 0 is a int; outputs must be"),
    ("Graph", "ndarray", lambda: ad.Graph(np.ones(2)), _T, "Graph", "output 0 is a ndarray"),
    ("Graph", "None", lambda: ad.Graph(Y(), None), _T, "Graph", "output 1 is a NoneType"),
    ("Graph", "nested list", lambda: ad.Graph([[Y()]]), _T, "Graph", "output 0 is a list"),
    ("Graph.compile", "backend", lambda: ad.Graph(Y()).compile(backend="torch"), _V, "compile",
     "backend must be one of"),
    ("Graph.compile", "int inputs", lambda: ad.Graph(Y()).compile(inputs=3), _T, "compile",
     "inputs must be a list of Tensors, got int"),
    ("Graph.index", "not a node", lambda: ad.Graph(Y()).index(S()), _V, "Graph.index",
     "is not a node of this graph"),
    ("Graph.index", "int", lambda: ad.Graph(Y()).index(3), _V, "Graph.index", "3 is not a node"),
    ("Graph.label", "str", lambda: ad.Graph(Y()).label("v1"), _V, "Graph.label", "'v1' is not"),
    ("Graph.reverse_trace", "not a node", lambda: ad.Graph(Y()).reverse_trace(S()), _V,
     "reverse_trace", "the output is not a node of this graph"),
    ("Graph.to_dot", "values str", lambda: ad.Graph(Y()).to_dot(values="yes"), _T,
     "Graph.to_dot", "values must be True or False, got 'yes'"),
    ("Graph.to_svg", "values int", lambda: ad.Graph(Y()).to_svg(values=1), _T, "Graph.to_svg",
     "values must be True or False, got 1"),
    ("Graph.to_svg", "engine", lambda: ad.Graph(Y()).to_svg(engine="neato"), _V, "to_svg",
     "engine must be 'dot', 'python' or None"),
    ("Graph.render", "values None", lambda: ad.Graph(Y()).render("g.svg", values=None), _T,
     "Graph.render", "values must be True or False, got None"),
    # ---- simplify(*outputs, keep=, polynomials=, verify=)
    ("simplify", "no outputs", lambda: ad.simplify(), _V, "simplify", "give at least one output"),
    ("simplify", "int", lambda: ad.simplify(3), _T, "simplify", "output 0 is a int"),
    ("simplify", "list with None", lambda: ad.simplify([Y(), None]), _T, "simplify", "output 1"),
    ("simplify", "keep int", lambda: ad.simplify(Y(), keep=3), _T, "simplify",
     "keep must be a list or tuple of Tensors"),
    ("simplify", "keep Tensor", lambda: ad.simplify(Y(), keep=S()), _T, "simplify", "keep must"),
    ("simplify", "keep ints", lambda: ad.simplify(Y(), keep=[3]), _T, "simplify", r"got \[3\]"),
    ("simplify", "keep str", lambda: ad.simplify(Y(), keep="x"), _T, "simplify", "got 'x'"),
    ("simplify", "keep None", lambda: ad.simplify(Y(), keep=None), _T, "simplify", "got None"),
    ("simplify", "polynomials str", lambda: ad.simplify(Y(), polynomials="no"), _T, "simplify",
     "polynomials must be True or False"),
    ("simplify", "polynomials None", lambda: ad.simplify(Y(), polynomials=None), _T,
     "simplify", "polynomials must be"),
    ("simplify", "polynomials int", lambda: ad.simplify(Y(), polynomials=0), _T, "simplify",
     "got 0"),
    ("simplify", "verify str", lambda: ad.simplify(Y(), verify="no"), _T, "simplify",
     "verify must be True, False or None, got 'no'"),
    ("simplify", "verify int", lambda: ad.simplify(Y(), verify=1), _T, "simplify", "got 1"),
    # ---- census(*outputs)
    ("census", "no outputs", lambda: ad.census(), _V, "census", "give at least one output"),
    ("census", "int", lambda: ad.census(3), _T, "census", "output 0 is a int; give Tensors"),
    ("census", "str", lambda: ad.census("y"), _T, "census", "output 0 is a str"),
    ("census", "ndarray", lambda: ad.census(np.ones(2)), _T, "census", "output 0 is a ndarray"),
    ("census", "list with None", lambda: ad.census([Y(), None]), _T, "census", "output 1 is a"),
    # ---- the switches: True or False
    ("verify_rewrites", "str", lambda: _enter(ad.verify_rewrites("no")), _T, "verify_rewrites",
     "flag must be True or False, got 'no'"),
    ("verify_rewrites", "None", lambda: _enter(ad.verify_rewrites(None)), _T,
     "verify_rewrites", "got None"),
    ("verify_rewrites", "int", lambda: _enter(ad.verify_rewrites(0)), _T, "verify_rewrites",
     "got 0"),
    ("lazy_mode", "str", lambda: ad.lazy_mode("no"), _T, "lazy_mode",
     "flag must be True or False, got 'no'"),
    ("lazy_mode", "None", lambda: ad.lazy_mode(None), _T, "lazy_mode", "got None"),
    ("lazy_mode", "int", lambda: ad.lazy_mode(1), _T, "lazy_mode", "got 1"),
    ("set_lazy_mode", "str", lambda: ad.set_lazy_mode("no"), _T, "set_lazy_mode",
     "flag must be True or False"),
    ("set_lazy_mode", "None", lambda: ad.set_lazy_mode(None), _T, "set_lazy_mode", "got None"),
    ("set_lazy_mode", "int", lambda: ad.set_lazy_mode(0), _T, "set_lazy_mode", "got 0"),
]  # fmt: skip


@_table(GRAPH)
def test_graph_simplify_census_and_switch_arguments(
    mode, subject, kind, call, exc, prefix, fragment, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # nothing may be written; if it were, not here
    verify = verification.VERIFY
    _check(call, exc, prefix, fragment)
    assert ad.autograd.LAZY_MODE is mode and verification.VERIFY is verify
    assert list(tmp_path.iterdir()) == []


def YM():  # noqa: N802 - a small graph's output: sin(x) * x
    x = ad.Tensor(0.5, name="x")
    return ad.sin(x) * x


def GM():  # noqa: N802 - a Graph of YM()
    return ad.Graph(YM())


# ================================================= adjoint.graph.tracing

TRACING = [
    (
        "trace_evaluation",
        "None",
        lambda p: tracing.trace_evaluation(None),
        _T,
        "trace_evaluation",
        "Tensor",
    ),
    (
        "trace_evaluation",
        "array",
        lambda p: tracing.trace_evaluation(np.ones(2)),
        _T,
        "trace_evaluation",
        "nda",
    ),
    (
        "trace_evaluation",
        "Graph",
        lambda p: tracing.trace_evaluation(GM()),
        _T,
        "trace_evaluation",
        "Graph",
    ),
    (
        "trace_evaluation",
        "list",
        lambda p: tracing.trace_evaluation([YM()]),
        _T,
        "trace_evaluation",
        "got list .give the outputs as separate arguments",
    ),
    (
        "trace_evaluation",
        "second",
        lambda p: tracing.trace_evaluation(YM(), "y"),
        _T,
        "trace_evaluation",
        "output 1 must be a Tensor, got str",
    ),
    (
        "EvaluationTrace",
        "None",
        lambda p: tracing.EvaluationTrace(None),
        _T,
        "EvaluationTrace",
        "Tensor",
    ),
    # refused when called, not at the first next()
    (
        "evaluation_steps",
        "None",
        lambda p: tracing.evaluation_steps(None),
        _T,
        "evaluation_steps",
        "None",
    ),
    (
        "evaluation_steps",
        "str",
        lambda p: tracing.evaluation_steps("y"),
        _T,
        "evaluation_steps",
        "str",
    ),
    (
        "evaluation_steps",
        "Graph",
        lambda p: tracing.evaluation_steps(GM()),
        _T,
        "evaluation_steps",
        "Graph",
    ),
    (
        "evaluation_steps",
        "empty",
        lambda p: tracing.evaluation_steps(),
        _V,
        "evaluation_steps",
        "at least",
    ),
    (
        "forward_trace",
        "None",
        lambda p: tracing.forward_trace(None),
        _T,
        "forward_trace",
        "ad.Graph",
    ),
    ("forward_trace", "str", lambda p: tracing.forward_trace("g"), _T, "forward_trace", "got str"),
    (
        "forward_trace",
        "Tensor",
        lambda p: tracing.forward_trace(YM()),
        _T,
        "forward_trace",
        r"got Tensor; give ad.Graph\(y\)",
    ),
    ("forward_trace", "list", lambda p: tracing.forward_trace([YM()]), _T, "forward_trace", "list"),
    (
        "reverse_trace",
        "None",
        lambda p: tracing.reverse_trace(None),
        _T,
        "reverse_trace",
        "ad.Graph",
    ),
    (
        "reverse_trace",
        "Tensor",
        lambda p: tracing.reverse_trace(YM()),
        _T,
        "reverse_trace",
        "Tensor",
    ),
    (
        "reverse_trace",
        "output str",
        lambda p: tracing.reverse_trace(GM(), "y"),
        _T,
        "reverse_trace",
        "output must be a Tensor of the graph or None, got str",
    ),
    (
        "reverse_trace",
        "output foreign",
        lambda p: tracing.reverse_trace(GM(), ad.Tensor(1.0)),
        _V,
        "reverse_trace",
        "not a node of this graph",
    ),
]


# ================================================= adjoint.graph.drawing

NOT_GRAPHS = [("None", None, "NoneType"), ("str", "g", "str"), ("array", np.ones(2), "ndarray")]
DRAWERS = {
    "to_dot": lambda g, p, **kw: drawing.to_dot(g, **kw),
    "to_svg": lambda g, p, **kw: drawing.to_svg(g, engine="python", **kw),
    "layout": lambda g, p, **kw: drawing.layout(g, **kw),
    "render": lambda g, p, **kw: drawing.render(g, p / "g.svg", engine="python", **kw),
}

DRAWING = [
    *[
        (name, f"graph {label}", lambda p, d=draw, b=bad: d(b, p), _T, name, f"ad.Graph, got {got}")
        for name, draw in DRAWERS.items()
        for label, bad, got in NOT_GRAPHS
    ],
    *[
        (name, "graph Tensor", lambda p, d=draw: d(YM(), p), _T, name, r"draw ad.Graph\(y\)")
        for name, draw in DRAWERS.items()
    ],
    *[
        (name, f"values {label}", lambda p, d=draw, v=bad: d(GM(), p, values=v), _T, name, frag)
        for name, draw in DRAWERS.items()
        for label, bad, frag in [
            ("str", "x", "values must be True or False, got 'x'"),
            ("int", 1, "values must be True or False, got 1"),
            ("None", None, "got None"),
        ]
    ],
    ("to_svg", "engine int", lambda p: drawing.to_svg(GM(), engine=1), _T, "to_svg", "engine must"),
    (
        "to_svg",
        "engine neato",
        lambda p: drawing.to_svg(GM(), engine="neato"),
        _V,
        "to_svg",
        "'dot'",
    ),
    (
        "to_svg",
        "max_nodes float",
        lambda p: drawing.to_svg(GM(), max_nodes=1.5),
        _T,
        "to_svg",
        "int",
    ),
    (
        "layout",
        "sweeps float",
        lambda p: drawing.layout(GM(), sweeps=1.5),
        _T,
        "layout",
        "sweeps must",
    ),
    ("layout", "sweeps bool", lambda p: drawing.layout(GM(), sweeps=True), _T, "layout", "bool"),
    ("layout", "sweeps str", lambda p: drawing.layout(GM(), sweeps="6"), _T, "layout", "str"),
    ("layout", "sweeps None", lambda p: drawing.layout(GM(), sweeps=None), _T, "layout", "None"),
    ("layout", "sweeps -1", lambda p: drawing.layout(GM(), sweeps=-1), _V, "layout", "int >= 0"),
    ("layout", "max_nodes -1", lambda p: drawing.layout(GM(), max_nodes=-1), _V, "layout", ">= 0"),
    ("render", "path None", lambda p: drawing.render(GM(), None), _T, "render", "a file name"),
    ("render", "path bytes", lambda p: drawing.render(GM(), b"g.svg"), _T, "render", "bytes"),
    (
        "render",
        "path .txt",
        lambda p: drawing.render(GM(), p / "g.txt"),
        _V,
        "render",
        r"\.svg, \.png",
    ),
    ("render", "path empty", lambda p: drawing.render(GM(), ""), _V, "render", "cannot tell"),
    (
        "render",
        "no directory",
        lambda p: drawing.render(GM(), p / "no" / "g.dot"),
        _F,
        "render",
        "directory .* does not exist",
    ),
    (
        "render",
        "engine int",
        lambda p: drawing.render(GM(), p / "g.dot", engine=2),
        _T,
        "render",
        "engine must be",
    ),
    (
        "render",
        "engine neato",
        lambda p: drawing.render(GM(), p / "g.dot", engine="neato"),
        _V,
        "render",
        "engine must be",
    ),
    (
        "render",
        "max_nodes str",
        lambda p: drawing.render(GM(), p / "g.svg", max_nodes="5"),
        _T,
        "render",
        "str",
    ),
]


@_table(TRACING + DRAWING)
def test_tracing_and_drawing_arguments(mode, tmp_path, subject, kind, call, exc, prefix, fragment):
    _check(lambda: call(tmp_path), exc, prefix, fragment, trap_float_errors=False)
    assert sorted(q.name for q in tmp_path.iterdir()) == []  # nothing written, no temp file


# ======================================================= coverage


def _takes_arguments(function):
    parameters = inspect.signature(function).parameters
    return any(name not in ("self", "cls") for name in parameters)


#: Public names covered elsewhere or taking no argument to check, with the reason.
NOT_TABLED = {
    "Graph.run": "its feeds are tabled in test_graph.py",
    "tracing.Step": "a record evaluation_steps yields, built by it",
    "tracing.Table": "a result of forward_trace and reverse_trace, built by them",
    "drawing.GraphTooLargeError": "an exception class",
    "drawing.ORDER_COLOURS": "a constant",
}


def test_the_tables_cover_every_public_graph_method_with_arguments_tracing_and_drawing():
    tabled = {row[0] for row in GRAPH}
    for name in ("simplify", "census", "verify_rewrites", "lazy_mode", "set_lazy_mode", "Graph"):
        assert name in tabled
    missing = set()
    for name, member in inspect.getmembers(ad.Graph):
        if name.startswith("_") or not callable(member) or not _takes_arguments(member):
            continue
        if f"Graph.{name}" not in tabled and f"Graph.{name}" not in NOT_TABLED:
            missing.add(f"Graph.{name}")
    assert missing == set()
    rows = {row[0] for row in TRACING + DRAWING}
    modules = {"tracing": tracing, "drawing": drawing}
    public = {f"{prefix}.{name}": name for prefix, m in modules.items() for name in m.__all__}
    expected = {k for k in NOT_TABLED if k.split(".")[0] in modules}
    assert {label for label, name in public.items() if name not in rows} == expected
    assert expected <= set(public)  # no stale reasons
