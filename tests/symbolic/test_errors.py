"""Bad arguments to symbolic, tracing, anomaly, drawing and io, as tables.

Covered here: every public function of :mod:`adjoint.symbolic` (``to_sympy``,
``leaf_symbols``, ``from_sympy``, ``check``, ``register_translation``,
``has_translation``), :mod:`adjoint.tracing` (``trace_evaluation``,
``EvaluationTrace``, ``evaluation_steps``, ``forward_trace``,
``reverse_trace``), :mod:`adjoint.anomaly` (``detect_anomaly``),
:mod:`adjoint.drawing` (``to_dot``, ``to_svg``, ``layout``, ``render``) and
:mod:`adjoint.io` (``save``, ``load``; the rows ``test_io.py`` already has are
not repeated here).

Each row gives the exception type, the name the message must start with (the
function or class) and a fragment that says what is wrong or valid. Classes of
bad argument: a wrong type, a non-integer where an integer is needed (bools are
not ints, nor flags), out of range, a wrong shape, empty, and a wrong dtype
(bool, int, complex, object, str). Every row runs in eager and in lazy mode
(the graphs are built inside the row, so lazy rows get lazy graphs). The last
test checks that the tables name every public name of these modules, or say
in ``NOT_TABLED`` why not.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint import anomaly, drawing, io, symbolic, tracing

_T = TypeError
_V = ValueError
_F = FileNotFoundError
_D = IsADirectoryError


def Y():  # noqa: N802 - a small graph's output: sin(x) * x
    x = ad.Tensor(0.5, name="x")
    return ad.sin(x) * x


def G():  # noqa: N802 - a Graph of Y()
    return ad.Graph(Y())


def _table(rows):
    """pytest parameters of rows ``(subject, kind, call, exception, prefix, fragment)``."""
    ids = [f"{row[0]}-{row[1]}" for row in rows]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    return pytest.mark.parametrize("subject, kind, call, exc, prefix, fragment", rows, ids=ids)


def _check(call, exc, prefix, fragment):
    """``call()`` raises ``exc`` whose message starts with ``prefix`` and holds ``fragment``."""
    pattern = rf"(?s)^{re.escape(prefix)}[: ].*{fragment}"
    with pytest.raises(exc, match=pattern):
        result = call()
        if isinstance(result, ad.Tensor):
            result.realize_cached_data()


_X = sympy.Symbol("x")


def _my_op():
    return type("MyOp", (ad.TensorOp,), {})


def _enter(context_manager):
    with context_manager:
        pass


# ======================================================= adjoint.symbolic

SYMBOLIC = [
    # ---- to_sympy: a Tensor, and a dict from leaves to symbols
    ("to_sympy", "None", lambda p: symbolic.to_sympy(None), _T, "to_sympy", "a Tensor, got None"),
    ("to_sympy", "array", lambda p: symbolic.to_sympy(np.ones(2)), _T, "to_sympy", "got ndarray"),
    ("to_sympy", "Graph", lambda p: symbolic.to_sympy(G()), _T, "to_sympy", "got Graph"),
    ("to_sympy", "symbols list", lambda p: symbolic.to_sympy(Y(), [1]), _T, "to_sympy", "a dict"),
    ("to_sympy", "symbols str", lambda p: symbolic.to_sympy(Y(), "x"), _T, "to_sympy", "got str"),
    (
        "to_sympy",
        "symbols key str",
        lambda p: symbolic.to_sympy(Y(), {"x": _X}),
        _T,
        "to_sympy",
        "keys of symbols must be leaf Tensors, got 'x'",
    ),
    # ---- leaf_symbols: a Tensor (named as itself, not as to_sympy)
    ("leaf_symbols", "None", lambda p: symbolic.leaf_symbols(None), _T, "leaf_symbols", "Tensor"),
    ("leaf_symbols", "int", lambda p: symbolic.leaf_symbols(3), _T, "leaf_symbols", "got int"),
    ("leaf_symbols", "Graph", lambda p: symbolic.leaf_symbols(G()), _T, "leaf_symbols", "Graph"),
    # ---- from_sympy: an expression and a list of distinct Symbols
    ("from_sympy", "None", lambda p: symbolic.from_sympy(None), _T, "from_sympy", "sympy expr"),
    (
        "from_sympy",
        "symbols str",
        lambda p: symbolic.from_sympy(_X, "x"),
        _T,
        "from_sympy",
        "a list of sympy Symbols",
    ),
    (
        "from_sympy",
        "symbols int",
        lambda p: symbolic.from_sympy(_X, 3),
        _T,
        "from_sympy",
        "got int",
    ),
    (
        "from_sympy",
        "symbols of int",
        lambda p: symbolic.from_sympy(_X, [1]),
        _T,
        "from_sympy",
        r"sympy Symbols, got 1 \(int\)",
    ),
    (
        "from_sympy",
        "symbols repeated",
        lambda p: symbolic.from_sympy(_X, [_X, _X]),
        _V,
        "from_sympy",
        "repeat a symbol",
    ),
    (
        "from_sympy",
        "complex",
        lambda p: symbolic.from_sympy(sympy.I * _X),
        _V,
        "from_sympy",
        "not a finite real",
    ),
    ("from_sympy", "call None", lambda p: symbolic.from_sympy(_X)(None), _T, "from_sympy", "None"),
    # ---- check: f, the inputs, order, names, rtol, atol, samples, seed
    ("check", "f None", lambda p: symbolic.check(None, 0.5), _T, "check", "f must be a func"),
    ("check", "f int", lambda p: symbolic.check(3, 0.5), _T, "check", "callable.*got int"),
    ("check", "order bool", lambda p: symbolic.check(ad.sin, 0.5, order=True), _T, "check", "True"),
    ("check", "order float", lambda p: symbolic.check(ad.sin, 0.5, order=1.0), _T, "check", "1.0"),
    ("check", "order str", lambda p: symbolic.check(ad.sin, 0.5, order="1"), _T, "check", "int"),
    ("check", "order -1", lambda p: symbolic.check(ad.sin, 0.5, order=-1), _V, "check", "positive"),
    ("check", "input str", lambda p: symbolic.check(ad.sin, "a"), _T, "check", "input 0 must be"),
    ("check", "input None", lambda p: symbolic.check(ad.sin, None), _T, "check", "NoneType"),
    ("check", "input bool", lambda p: symbolic.check(ad.sin, True), _T, "check", "dtype bool"),
    ("check", "input complex", lambda p: symbolic.check(ad.sin, 1j), _T, "check", "complex128"),
    ("check", "input object", lambda p: symbolic.check(ad.sin, object()), _T, "check", "object"),
    (
        "check",
        "input bool array",
        lambda p: symbolic.check(ad.sin, np.array([True, False])),
        _T,
        "check",
        "dtype bool",
    ),
    (
        "check",
        "input object array",
        lambda p: symbolic.check(ad.sin, np.array([1.0, None], dtype=object)),
        _T,
        "check",
        "dtype object",
    ),
    (
        "check",
        "input ragged",
        lambda p: symbolic.check(ad.sin, [[1.0], [1.0, 2.0]]),
        _V,
        "check",
        "rect",
    ),
    ("check", "input nan", lambda p: symbolic.check(ad.sin, np.nan), _V, "check", "nan or inf"),
    ("check", "names str", lambda p: symbolic.check(ad.sin, 0.5, names="x"), _T, "check", "a list"),
    ("check", "names int", lambda p: symbolic.check(ad.sin, 0.5, names=[1]), _T, "check", "str"),
    ("check", "names empty", lambda p: symbolic.check(ad.sin, 0.5, names=[""]), _T, "check", "non"),
    (
        "check",
        "names short",
        lambda p: symbolic.check(ad.sin, 0.5, names=[]),
        _V,
        "check",
        "0 names",
    ),
    (
        "check",
        "names repeated",
        lambda p: symbolic.check(ad.multiply, 0.5, 0.2, names=["x", "x"]),
        _V,
        "check",
        "repeat",
    ),
    (
        "check",
        "rtol str",
        lambda p: symbolic.check(ad.sin, 0.5, rtol="a"),
        _T,
        "check",
        "rtol must",
    ),
    ("check", "rtol bool", lambda p: symbolic.check(ad.sin, 0.5, rtol=True), _T, "check", "bool"),
    ("check", "rtol negative", lambda p: symbolic.check(ad.sin, 0.5, rtol=-1), _V, "check", ">= 0"),
    (
        "check",
        "rtol nan",
        lambda p: symbolic.check(ad.sin, 0.5, rtol=np.nan),
        _V,
        "check",
        "finite",
    ),
    ("check", "atol None", lambda p: symbolic.check(ad.sin, 0.5, atol=None), _T, "check", "atol"),
    ("check", "atol complex", lambda p: symbolic.check(ad.sin, 0.5, atol=1j), _T, "check", "real"),
    (
        "check",
        "samples float",
        lambda p: symbolic.check(ad.sin, 0.5, samples=1.5),
        _T,
        "check",
        "1.5",
    ),
    (
        "check",
        "samples bool",
        lambda p: symbolic.check(ad.sin, 0.5, samples=True),
        _T,
        "check",
        "bool",
    ),
    ("check", "samples -1", lambda p: symbolic.check(ad.sin, 0.5, samples=-1), _V, "check", ">= 0"),
    (
        "check",
        "seed str",
        lambda p: symbolic.check(ad.sin, 0.5, seed="a"),
        _T,
        "check",
        "seed must",
    ),
    ("check", "seed bool", lambda p: symbolic.check(ad.sin, 0.5, seed=True), _T, "check", "bool"),
    ("check", "seed float", lambda p: symbolic.check(ad.sin, 0.5, seed=1.5), _T, "check", "float"),
    ("check", "seed -1", lambda p: symbolic.check(ad.sin, 0.5, seed=-1), _V, "check", "got -1"),
    # ---- register_translation / has_translation: an Op subclass
    (
        "register_translation",
        "None",
        lambda p: symbolic.register_translation(None),
        _T,
        "register_translation",
        "op_class must be an Op subclass",
    ),
    (
        "register_translation",
        "class",
        lambda p: symbolic.register_translation(int),
        _T,
        "register_translation",
        "the class int",
    ),
    (
        "register_translation",
        "instance",
        lambda p: symbolic.register_translation(ad.ops.Sin()),
        _T,
        "register_translation",
        "an instance of Sin",
    ),
    (
        "register_translation",
        "not a function",
        lambda p: symbolic.register_translation(_my_op())(3),
        _T,
        "register_translation",
        "MyOp must be a function",
    ),
    (
        "has_translation",
        "None",
        lambda p: symbolic.has_translation(None),
        _T,
        "has_translation",
        "Op",
    ),
    (
        "has_translation",
        "str",
        lambda p: symbolic.has_translation("Sin"),
        _T,
        "has_translation",
        "str",
    ),
    (
        "has_translation",
        "class",
        lambda p: symbolic.has_translation(int),
        _T,
        "has_translation",
        "int",
    ),
]


# ======================================================= adjoint.tracing

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
        lambda p: tracing.trace_evaluation(G()),
        _T,
        "trace_evaluation",
        "Graph",
    ),
    (
        "trace_evaluation",
        "list",
        lambda p: tracing.trace_evaluation([Y()]),
        _T,
        "trace_evaluation",
        "got list .give the outputs as separate arguments",
    ),
    (
        "trace_evaluation",
        "second",
        lambda p: tracing.trace_evaluation(Y(), "y"),
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
        lambda p: tracing.evaluation_steps(G()),
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
        lambda p: tracing.forward_trace(Y()),
        _T,
        "forward_trace",
        r"got Tensor; give ad.Graph\(y\)",
    ),
    ("forward_trace", "list", lambda p: tracing.forward_trace([Y()]), _T, "forward_trace", "list"),
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
        lambda p: tracing.reverse_trace(Y()),
        _T,
        "reverse_trace",
        "Tensor",
    ),
    (
        "reverse_trace",
        "output str",
        lambda p: tracing.reverse_trace(G(), "y"),
        _T,
        "reverse_trace",
        "output must be a Tensor of the graph or None, got str",
    ),
    (
        "reverse_trace",
        "output foreign",
        lambda p: tracing.reverse_trace(G(), ad.Tensor(1.0)),
        _V,
        "reverse_trace",
        "not a node of this graph",
    ),
]


# ======================================================= adjoint.anomaly

ANOMALY = [
    # refused when called, as well as when entered
    ("detect_anomaly", "int", lambda p: anomaly.detect_anomaly(1), _T, "detect_anomaly", "got 1"),
    ("detect_anomaly", "zero", lambda p: anomaly.detect_anomaly(0), _T, "detect_anomaly", "got 0"),
    (
        "detect_anomaly",
        "None",
        lambda p: anomaly.detect_anomaly(None),
        _T,
        "detect_anomaly",
        "None",
    ),
    (
        "detect_anomaly",
        "str",
        lambda p: _enter(anomaly.detect_anomaly("yes")),
        _T,
        "detect_anomaly",
        "enabled must be True or False, got 'yes'",
    ),
    (
        "detect_anomaly",
        "array",
        lambda p: anomaly.detect_anomaly(np.ones(2)),
        _T,
        "detect_anomaly",
        "True",
    ),
]


# ======================================================= adjoint.drawing

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
        (name, "graph Tensor", lambda p, d=draw: d(Y(), p), _T, name, r"draw ad.Graph\(y\)")
        for name, draw in DRAWERS.items()
    ],
    *[
        (name, f"values {label}", lambda p, d=draw, v=bad: d(G(), p, values=v), _T, name, frag)
        for name, draw in DRAWERS.items()
        for label, bad, frag in [
            ("str", "x", "values must be True or False, got 'x'"),
            ("int", 1, "values must be True or False, got 1"),
            ("None", None, "got None"),
        ]
    ],
    ("to_svg", "engine int", lambda p: drawing.to_svg(G(), engine=1), _T, "to_svg", "engine must"),
    (
        "to_svg",
        "engine neato",
        lambda p: drawing.to_svg(G(), engine="neato"),
        _V,
        "to_svg",
        "'dot'",
    ),
    (
        "to_svg",
        "max_nodes float",
        lambda p: drawing.to_svg(G(), max_nodes=1.5),
        _T,
        "to_svg",
        "int",
    ),
    (
        "layout",
        "sweeps float",
        lambda p: drawing.layout(G(), sweeps=1.5),
        _T,
        "layout",
        "sweeps must",
    ),
    ("layout", "sweeps bool", lambda p: drawing.layout(G(), sweeps=True), _T, "layout", "bool"),
    ("layout", "sweeps str", lambda p: drawing.layout(G(), sweeps="6"), _T, "layout", "str"),
    ("layout", "sweeps None", lambda p: drawing.layout(G(), sweeps=None), _T, "layout", "None"),
    ("layout", "sweeps -1", lambda p: drawing.layout(G(), sweeps=-1), _V, "layout", "int >= 0"),
    ("layout", "max_nodes -1", lambda p: drawing.layout(G(), max_nodes=-1), _V, "layout", ">= 0"),
    ("render", "path None", lambda p: drawing.render(G(), None), _T, "render", "a file name"),
    ("render", "path bytes", lambda p: drawing.render(G(), b"g.svg"), _T, "render", "bytes"),
    (
        "render",
        "path .txt",
        lambda p: drawing.render(G(), p / "g.txt"),
        _V,
        "render",
        r"\.svg, \.png",
    ),
    ("render", "path empty", lambda p: drawing.render(G(), ""), _V, "render", "cannot tell"),
    (
        "render",
        "no directory",
        lambda p: drawing.render(G(), p / "no" / "g.dot"),
        _F,
        "render",
        "directory .* does not exist",
    ),
    (
        "render",
        "engine int",
        lambda p: drawing.render(G(), p / "g.dot", engine=2),
        _T,
        "render",
        "engine must be",
    ),
    (
        "render",
        "engine neato",
        lambda p: drawing.render(G(), p / "g.dot", engine="neato"),
        _V,
        "render",
        "engine must be",
    ),
    (
        "render",
        "max_nodes str",
        lambda p: drawing.render(G(), p / "g.svg", max_nodes="5"),
        _T,
        "render",
        "str",
    ),
]


# ======================================================= adjoint.io
# (test_io.py has the state dict's keys and values, a missing directory or
# file, load(None) and load of a directory)

IO = [
    *[
        ("save", f"obj {label}", lambda p, b=bad: io.save(b, p / "a.npz"), _T, "save", frag)
        for label, bad, frag in [
            ("None", None, "obj must be a state dict.*got NoneType"),
            ("int", 3, "got int"),
            ("str", "abc", "got str"),
            ("list", [1.0, 2.0], "got list"),
            ("Graph", ad.Graph(ad.Tensor(1.0)), "got Graph"),
            ("Module", ad.nn.Linear(2, 2), r"save model\.state_dict\(\)"),
        ]
    ],
    *[
        ("save", f"{label} array", lambda p, b=bad: io.save(b, p / "a.npz"), _T, "save", frag)
        for label, bad, frag in [
            ("object", np.array([None]), "'data' has dtype object"),
            ("str", np.array(["a"]), "'data' has dtype <U1"),
            ("complex", np.array([1j]), "'data' has dtype complex128"),
        ]
    ],
    ("save", "path None", lambda p: io.save(np.ones(1), None), _T, "save", "path must be a str"),
    ("save", "path int", lambda p: io.save(np.ones(1), 3), _T, "save", "got int"),
    ("save", "path bytes", lambda p: io.save(np.ones(1), b"a.npz"), _T, "save", "got bytes"),
    ("save", "path empty", lambda p: io.save(np.ones(1), ""), _V, "save", "path is empty"),
    ("save", "path directory", lambda p: io.save(np.ones(1), p), _D, "save", "Is a directory"),
    ("load", "path int", lambda p: io.load(3), _T, "load", "path must be a str"),
    ("load", "path bytes", lambda p: io.load(b"a.npz"), _T, "load", "got bytes"),
    ("load", "path empty", lambda p: io.load(""), _V, "load", "path is empty"),
    ("load", "missing", lambda p: io.load(p / "absent.npz"), _F, "load", "no such file"),
]

ROWS = SYMBOLIC + TRACING + ANOMALY + DRAWING + IO


@_table(ROWS)
def test_bad_argument(mode, tmp_path, subject, kind, call, exc, prefix, fragment):
    _check(lambda: call(tmp_path), exc, prefix, fragment)
    assert sorted(q.name for q in tmp_path.iterdir()) == []  # nothing written, no temp file


def test_detect_anomaly_refuses_a_bad_flag_before_it_turns_anything_on():
    with pytest.raises(TypeError):
        anomaly.detect_anomaly(1)
    assert not anomaly.is_anomaly_enabled()
    with anomaly.detect_anomaly(np.bool_(True)):
        assert anomaly.is_anomaly_enabled()
        with anomaly.detect_anomaly(False):
            assert not anomaly.is_anomaly_enabled()
    assert not anomaly.is_anomaly_enabled()


def test_the_valid_arguments_next_to_the_refused_ones_still_work(tmp_path):
    assert symbolic.check(ad.sin, np.int64(1), samples=0, seed=np.int64(2), rtol=0, atol=1).ok
    assert symbolic.check(ad.multiply, 0.5, ad.Tensor(2), names=("a", "b")).ok
    assert symbolic.has_translation(ad.ops.Sin) and not symbolic.has_translation(_my_op())
    x = sympy.Symbol("x")
    assert float(symbolic.from_sympy(x + 1, (x,))(1.0).numpy()) == 2.0
    y = Y()
    assert str(symbolic.to_sympy(y, {y.inputs[1]: x})) == "x*sin(x)"
    assert len(list(tracing.evaluation_steps(y))) == 0  # eager: computed already
    with tracing.trace_evaluation() as trace:
        pass
    assert trace.steps == []
    g = G()
    assert tracing.reverse_trace(g, None).rows
    assert "digraph" in drawing.to_dot(g, values=np.bool_(True))
    assert drawing.layout(g, sweeps=np.int64(0), max_nodes=None).boxes
    assert str(drawing.render(g, tmp_path / "g.dot", engine=None)).endswith("g.dot")
    io.save(np.ones(1), tmp_path / "a.npz")
    assert io.load(str(tmp_path / "a.npz")).tolist() == [1.0]


# ======================================================= coverage

#: Public names that take no argument to check, or are not called with user
#: arguments, with the reason.
NOT_TABLED = {
    "symbolic.CheckReport": "check's result, built by check",
    "symbolic.Derivative": "a row of check's result, built by check",
    "symbolic.PathResult": "a part of check's result, built by check",
    "symbolic.PATHS": "a constant",
    "symbolic.FormulaTooDeepError": "an exception class",
    "symbolic.DEEP_RECURSION_LIMIT": "a constant",
    "tracing.Step": "a record evaluation_steps yields, built by it",
    "tracing.Table": "a result of forward_trace and reverse_trace, built by them",
    "anomaly.AnomalyError": "an exception class, raised by detect_anomaly's checks",
    "anomaly.is_anomaly_enabled": "takes no arguments",
    "drawing.GraphTooLargeError": "an exception class",
    "drawing.ORDER_COLOURS": "a constant",
}


def test_the_tables_cover_every_public_name_of_the_modules_they_cover():
    tabled = {row[0] for row in ROWS}
    modules = {"symbolic": symbolic, "tracing": tracing, "anomaly": anomaly}
    modules.update(drawing=drawing, io=io)
    public = {f"{prefix}.{name}": name for prefix, m in modules.items() for name in m.__all__}
    missing = {label for label, name in public.items() if name not in tabled}
    assert missing == set(NOT_TABLED)
    assert set(NOT_TABLED) <= set(public)  # no stale reasons
