"""Bad arguments to :mod:`adjoint.symbolic` (``to_sympy``, ``leaf_symbols``,
``from_sympy``, ``check``, ``register_translation``, ``has_translation``), as a table,
in eager and lazy mode.

Each row gives the exception type, the name the message must start with (the
function or class) and a fragment that says what is wrong or valid. Classes of bad
argument: a wrong type, a non-integer where an integer is needed (bools are not ints,
nor flags), out of range, a wrong shape, empty, and a wrong dtype. A coverage test
checks that the table names every public name of the module.
"""

import numpy as np
import sympy

import adjoint as ad
from adjoint import io, symbolic
from adjoint.graph import drawing, tracing
from tests.helpers.errors import _T, _V
from tests.helpers.errors import check as _check
from tests.helpers.errors import table as _table


def Y():  # noqa: N802 - a small graph's output: sin(x) * x
    x = ad.Tensor(0.5, name="x")
    return ad.sin(x) * x


def G():  # noqa: N802 - a Graph of Y()
    return ad.Graph(Y())


_X = sympy.Symbol("x")


def _my_op():
    return type("MyOp", (ad.TensorOp,), {})


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


@_table(SYMBOLIC)
def test_bad_argument(mode, tmp_path, subject, kind, call, exc, prefix, fragment):
    _check(lambda: call(tmp_path), exc, prefix, fragment, trap_float_errors=False)
    assert sorted(q.name for q in tmp_path.iterdir()) == []  # nothing written, no temp file


# ======================================================= valid arguments


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
    "symbolic.FormulaArray": "to_sympy's result for a tensor with axes, built by to_sympy",
    "symbolic.PATHS": "a constant",
    "symbolic.FormulaTooDeepError": "an exception class",
    "symbolic.DEEP_RECURSION_LIMIT": "a constant",
}


def test_the_table_covers_every_public_name_of_symbolic():
    tabled = {row[0] for row in SYMBOLIC}
    public = {f"symbolic.{name}": name for name in symbolic.__all__}
    missing = {label for label, name in public.items() if name not in tabled}
    assert missing == set(NOT_TABLED)
    assert set(NOT_TABLED) <= set(public)  # no stale reasons
