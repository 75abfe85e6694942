"""Bad arguments to the linear ops and to the rest of the public API, as tables.

Covered here: every public name of :mod:`adjoint.ops.linear` (functions and op
classes called directly), the functional API (:mod:`adjoint.functional`),
``Tensor`` construction and every public ``Tensor`` method that takes an
argument, :class:`adjoint.Graph`, ``simplify``, ``census``, ``verify_rewrites``,
``gradcheck``, :mod:`adjoint.init`, ``lazy_mode`` and ``set_lazy_mode``.
(``Graph.run``'s feeds are tabled in ``test_graph.py``; the other ops in
``test_errors_table_ops.py``; nn, optim and data in ``test_errors_table_nn.py``.)

Each row gives the exception type, the name the message must start with (the
function, method or class) and a fragment that says what is wrong or valid.
Classes of bad argument: a wrong type, a non-integer where an integer is needed
(bools are not ints), out of range, a wrong shape, empty, and a wrong dtype
(bool, int, complex, object, str). Every row runs in eager and in lazy mode; a
call that returns a Tensor is realized, so an error that lazy mode would only
raise later, or a wrong shape it would record, fails the row too. The last
tests check that the tables name every public function they are meant to cover.
"""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
import pytest

import adjoint as ad
from adjoint import init
from adjoint.functional import Jacobian
from adjoint.ops import BroadcastTo, Permute, Reshape, Summation, Transpose
from tests.ops.test_errors import BAD_OPERANDS

linear = importlib.import_module("adjoint.ops.linear")  # ad.ops.linear is not the module

_T = TypeError
_V = ValueError
_I = IndexError


def X():  # noqa: N802 - a valid operand of shape (2, 3)
    return ad.Tensor(np.ones((2, 3)))


def S():  # noqa: N802 - a 0-d tensor
    return ad.Tensor(2.0)


def V():  # noqa: N802 - a 1-D tensor
    return ad.Tensor([1.0, 2.0, 3.0])


def INTS():  # noqa: N802 - an integer leaf that requires grad
    return ad.Tensor(np.array([1, 2]))


def _realized(result):
    """Realize every Tensor in ``result``, so lazy mode raises what eager mode raises."""
    for r in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(r, ad.Tensor):
            r.realize_cached_data()
    return result


def _check(call, exc, prefix, fragment):
    """``call()`` raises ``exc`` whose message starts with ``prefix`` and holds ``fragment``."""
    pattern = rf"(?s)^{re.escape(prefix)}[: ].*{fragment}"
    with pytest.raises(exc, match=pattern), np.errstate(all="raise"):
        _realized(call())


def _table(rows):
    """pytest parameters of rows ``(subject, kind, call, exception, prefix, fragment)``."""
    ids = [f"{row[0]}-{row[1]}" for row in rows]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    return pytest.mark.parametrize("subject, kind, call, exc, prefix, fragment", rows, ids=ids)


def _enter(context_manager):
    with context_manager:
        pass


# ======================================================= adjoint.ops.linear
# Each function and op class with each bad operand (the ops table's classes of
# bad operand), then each one's own arguments.

LINEAR_OPERAND = {
    "transpose": lambda a: ad.transpose(a),
    "permute": lambda a: ad.permute(a, (1, 0)),
    "reshape": lambda a: ad.reshape(a, (-1,)),
    "broadcast_to": lambda a: ad.broadcast_to(a, (2, 2, 3)),
    "summation": lambda a: ad.summation(a, 0),
    "sum": lambda a: ad.sum(a),
    "sum_to_shape": lambda a: ad.sum_to_shape(a, (3,)),
    "Transpose": lambda a: Transpose()(a),
    "Permute": lambda a: Permute((1, 0))(a),
    "Reshape": lambda a: Reshape((6,))(a),
    "BroadcastTo": lambda a: BroadcastTo((2, 2, 3))(a),
    "Summation": lambda a: Summation((0,))(a),
}
#: the name each one's messages start with (ad.sum is summation)
LINEAR_PREFIX = {"sum": "summation"}


def _operand_cases():
    for subject, call in LINEAR_OPERAND.items():
        for label, bad, exc, fragment in BAD_OPERANDS:
            # a complex number is refused as data, named by the function
            yield pytest.param(subject, call, bad, exc, fragment, id=f"{subject}-{label}")


@pytest.mark.parametrize("subject, call, bad, exc, fragment", list(_operand_cases()))
def test_linear_ops_refuse_bad_operands(mode, subject, call, bad, exc, fragment):
    _check(lambda: call(bad()), exc, LINEAR_PREFIX.get(subject, subject), fragment)


def _float_axes():
    return np.array([0.0, 1.0])


def _sum(name, *args):
    return getattr(ad, name)(*args)  # ad.summation or its alias ad.sum


LINEAR = [
    # ---- transpose: two axes to swap, the last two by default
    ("transpose", "str", lambda: ad.transpose(X(), "01"), _T, "transpose", "None or two ints"),
    ("transpose", "array", lambda: ad.transpose(X(), np.array([0, 1])), _T, "transpose", "or two"),
    ("transpose", "non-integer", lambda: ad.transpose(X(), (0.0, 1)), _T, "transpose", "axes must"),
    ("transpose", "bool", lambda: ad.transpose(X(), (True, 0)), _T, "transpose", "bools, floats"),
    ("transpose", "three", lambda: ad.transpose(X(), (0, 1, 1)), _V, "transpose", "two axes"),
    ("transpose", "empty", lambda: ad.transpose(X(), ()), _V, "transpose", "two axes to swap"),
    ("transpose", "out of range", lambda: ad.transpose(X(), (0, 2)), _V, "transpose", "axis 2"),
    ("transpose", "repeated", lambda: ad.transpose(X(), (0, -2)), _V, "transpose", "repeated"),
    ("transpose", "1-D", lambda: ad.transpose(V()), _V, "transpose", r"at least 2 dim.*\(3,\)"),
    ("transpose", "0-d", lambda: ad.transpose(S(), (0, 0)), _V, "transpose", "0-d"),
    # ---- permute: a permutation of all axes
    ("permute", "None", lambda: ad.permute(X(), None), _T, "permute", "a tuple of ints"),
    ("permute", "int", lambda: ad.permute(X(), 0), _T, "permute", "a tuple of ints, got 0"),
    ("permute", "non-integer", lambda: ad.permute(X(), (0.5, 1)), _T, "permute", "each axis"),
    ("permute", "whole float", lambda: ad.permute(X(), (1.0, 0)), _T, "permute", "must be an int"),
    ("permute", "bool", lambda: ad.permute(X(), (True, False)), _T, "permute", "of type bool"),
    ("permute", "str", lambda: ad.permute(X(), "10"), _T, "permute", "a tuple of ints"),
    ("permute", "short", lambda: ad.permute(X(), (0,)), _V, "permute", "not a permutation"),
    ("permute", "empty", lambda: ad.permute(X(), ()), _V, "permute", r"give each of 0\.\.1 once"),
    ("permute", "out of range", lambda: ad.permute(X(), (0, 2)), _V, "permute", "not a permut"),
    ("permute", "repeated", lambda: ad.permute(X(), (1, -1)), _V, "permute", "not a permutation"),
    ("permute", "0-d", lambda: ad.permute(S(), (0,)), _V, "permute", r"give \(\) for a 0-d"),
    # ---- reshape: non-negative ints, one -1, the same size
    ("reshape", "None", lambda: ad.reshape(X(), None), _T, "reshape", "an int or a tuple of"),
    ("reshape", "non-integer", lambda: ad.reshape(X(), (2.5, 2)), _T, "reshape", "got 2.5"),
    ("reshape", "whole float", lambda: ad.reshape(X(), (2.0, 3)), _T, "reshape", "each size"),
    ("reshape", "float array", lambda: ad.reshape(X(), _float_axes()), _T, "reshape", "float64"),
    ("reshape", "str", lambda: ad.reshape(X(), "6"), _T, "reshape", "got '6' of type str"),
    ("reshape", "bool", lambda: ad.reshape(X(), (True, 6)), _T, "reshape", "of type bool"),
    ("reshape", "2-D array", lambda: ad.reshape(X(), np.array([[2, 3]])), _T, "reshape", "ndarray"),
    ("reshape", "negative", lambda: ad.reshape(X(), (-2, 3)), _V, "reshape", "non-negative"),
    ("reshape", "two -1", lambda: ad.reshape(X(), (-1, -1)), _V, "reshape", "at most one -1"),
    ("reshape", "wrong size", lambda: ad.reshape(X(), 4), _V, "reshape", r"\(6 elements\)"),
    ("reshape", "empty", lambda: ad.reshape(X(), ()), _V, "reshape", r"into \(\) \(1 elem"),
    ("reshape", "-1 with 0", lambda: ad.reshape(X(), (0, -1)), _V, "reshape", "cannot reshape"),
    # ---- broadcast_to: NumPy's rules
    ("broadcast_to", "None", lambda: ad.broadcast_to(X(), None), _T, "broadcast_to", "tuple"),
    ("broadcast_to", "float", lambda: ad.broadcast_to(X(), (2.0, 3)), _T, "broadcast_to", "int"),
    ("broadcast_to", "bool", lambda: ad.broadcast_to(X(), (True, 3)), _T, "broadcast_to", "bool"),
    ("broadcast_to", "str", lambda: ad.broadcast_to(X(), "23"), _T, "broadcast_to", "of type str"),
    ("broadcast_to", "negative", lambda: ad.broadcast_to(X(), (-1, 3)), _V, "broadcast_to", "non"),
    ("broadcast_to", "fewer", lambda: ad.broadcast_to(X(), (3,)), _V, "broadcast_to", "cannot"),
    ("broadcast_to", "shape", lambda: ad.broadcast_to(X(), (4, 3)), _V, "broadcast_to", "or be 1"),
    ("broadcast_to", "empty", lambda: ad.broadcast_to(X(), ()), _V, "broadcast_to", r"to \(\)"),
    # ---- summation (ad.sum): axes and keepdims
    *[
        row
        for n in ("summation", "sum")
        for row in [
            (n, "non-integer", lambda n=n: _sum(n, X(), 1.5), _T, "summation", "axes must be"),
            (n, "str", lambda n=n: _sum(n, X(), "0"), _T, "summation", "axes must be"),
            (n, "bool", lambda n=n: _sum(n, X(), True), _T, "summation", "bools"),
            (n, "array", lambda n=n: _sum(n, X(), _float_axes()), _T, "summation", "tuple of"),
            (n, "out of range", lambda n=n: _sum(n, X(), 2), _V, "summation", "axis 2 is out"),
            (n, "repeated", lambda n=n: _sum(n, X(), (0, -2)), _V, "summation", "repeated axis"),
            (n, "0-d", lambda n=n: _sum(n, S(), 0), _V, "summation", "none .*0-d"),
            (n, "keepdims str", lambda n=n: _sum(n, X(), 0, "no"), _T, "summation", "keepdims"),
            (n, "keepdims None", lambda n=n: _sum(n, X(), 0, None), _T, "summation", "a bool"),
            (n, "keepdims float", lambda n=n: _sum(n, X(), 0, 0.5), _T, "summation", "got 0.5"),
        ]
    ],
    # ---- sum_to_shape: a target that broadcasts to the input
    ("sum_to_shape", "None", lambda: ad.sum_to_shape(X(), None), _T, "sum_to_shape", "tuple of"),
    ("sum_to_shape", "float", lambda: ad.sum_to_shape(X(), (2.5,)), _T, "sum_to_shape", "int"),
    ("sum_to_shape", "bool", lambda: ad.sum_to_shape(X(), True), _T, "sum_to_shape", "got True"),
    ("sum_to_shape", "str", lambda: ad.sum_to_shape(X(), "3"), _T, "sum_to_shape", "got '3'"),
    ("sum_to_shape", "neg", lambda: ad.sum_to_shape(X(), (-1, 3)), _V, "sum_to_shape", "non-neg"),
    ("sum_to_shape", "ndim", lambda: ad.sum_to_shape(X(), (1, 2, 3)), _V, "sum_to_shape", "most 2"),
    ("sum_to_shape", "shape", lambda: ad.sum_to_shape(X(), (2,)), _V, "sum_to_shape", "broadcast"),
    # ---- the op classes called directly check as the functions do, naming the class
    ("Transpose", "out of range", lambda: Transpose((0, 5))(X()), _V, "Transpose", "axis 5 is out"),
    ("Transpose", "non-integer", lambda: Transpose((0.0, 1))(X()), _T, "Transpose", "axes must be"),
    ("Transpose", "wrong type", lambda: Transpose("01")(X()), _T, "Transpose", "two ints to swap"),
    ("Transpose", "three", lambda: Transpose((0, 1, 2))(X()), _V, "Transpose", "two axes to swap"),
    ("Transpose", "1-D", lambda: Transpose()(V()), _V, "Transpose", "at least 2 dimensions"),
    ("Transpose", "two inputs", lambda: Transpose()(X(), X()), _T, "Transpose", "one input tensor"),
    ("Permute", "None", lambda: Permute(None), _T, "Permute", "axes must be a tuple of ints"),
    ("Permute", "short", lambda: Permute((0,))(X()), _V, "Permute", "not a permutation"),
    ("Permute", "non-integer", lambda: Permute((0.5, 1))(X()), _T, "Permute", "each axis must"),
    ("Permute", "out of range", lambda: Permute((0, 2))(X()), _V, "Permute", "not a permutation"),
    ("Reshape", "wrong size", lambda: Reshape((4,))(X()), _V, "Reshape", "the sizes must match"),
    ("Reshape", "None", lambda: Reshape(None), _T, "Reshape", "an int or a tuple of ints"),
    ("Reshape", "negative", lambda: Reshape((-2, 3))(X()), _V, "Reshape", "non-negative sizes"),
    ("Reshape", "non-integer", lambda: Reshape((2.5, 2))(X()), _T, "Reshape", "got 2.5"),
    ("Reshape", "no input", lambda: Reshape((6,))(), _T, "Reshape", "one input tensor, got 0"),
    ("BroadcastTo", "wrong shape", lambda: BroadcastTo((4, 3))(X()), _V, "BroadcastTo", "cannot"),
    ("BroadcastTo", "negative", lambda: BroadcastTo((-1, 3))(X()), _V, "BroadcastTo", "non-neg"),
    ("BroadcastTo", "str", lambda: BroadcastTo("23")(X()), _T, "BroadcastTo", "each size"),
    ("Summation", "out of range", lambda: Summation((5,))(X()), _V, "Summation", "axis 5 is out"),
    ("Summation", "non-integer", lambda: Summation((1.5,))(X()), _T, "Summation", "axes must be"),
    ("Summation", "keepdims str", lambda: Summation(0, "no")(X()), _T, "Summation", "keepdims"),
]  # fmt: skip


@_table(LINEAR)
def test_linear_op_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda x: Summation((-1,))(x), (2,)),  # lazy mode recorded (2, 3)
        (lambda x: Summation(1)(x), (2,)),  # an int: lazy mode raised a raw TypeError
        (lambda x: Summation((1, 0), True)(x), (1, 1)),
        (lambda x: Reshape((-1,))(x), (6,)),  # lazy mode recorded (-1,)
        (lambda x: Reshape(np.array([3, 2]))(x), (3, 2)),
        (lambda x: Permute((-1, 0))(x), (3, 2)),
        (lambda x: Transpose((-1, -2))(x), (3, 2)),
        (lambda x: BroadcastTo([2, 2, 3])(x), (2, 2, 3)),
    ],
    ids=["Summation-negative", "Summation-int", "Summation-keepdims", "Reshape--1",
         "Reshape-array", "Permute-negative", "Transpose-negative", "BroadcastTo-list"],
)  # fmt: skip
def test_op_classes_called_directly_record_the_shape_they_compute(mode, call, shape):
    y = call(ad.Tensor(np.arange(6.0).reshape(2, 3)))
    assert y.shape == shape and y.numpy().shape == shape
    assert all(type(n) is int for n in y.shape)


def test_permute_called_directly_with_negative_axes_has_the_right_gradient(mode):
    x = ad.Tensor(np.arange(6.0).reshape(2, 3))
    w = ad.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=False)
    (Permute((-1, 0))(x) * w).sum().backward()  # argsort of (-1, 0) is no inverse
    assert x.grad.numpy().tolist() == w.numpy().T.tolist()


def test_an_op_class_called_with_checked_arguments_is_the_node_s_op(mode):
    for op in (Summation((0,)), Reshape((3, 2)), Permute((1, 0)), Transpose(), BroadcastTo((2, 3))):
        assert op(X()).op is op


# ======================================================= adjoint.functional


def sq(x):
    return (x * x).sum()


def f2(x, y):
    return (x * y).sum()


def double(x):
    return x * 2


def _argnums_rows(name, make):
    """``make(f, argnums)`` builds the derivative; it is called with (X(), X())."""
    bad_type = {
        "float": 0.0,
        "bool": True,
        "str": "0",
        "None": None,
        "set": {0, 1},
        "dict": {0: 1},
        "array": np.array([0, 1]),
        "0-d array": np.array(0),
        "tuple float": (0, 1.0),
        "tuple bool": (0, True),
        "tuple str": ("0",),
    }
    rows = [
        (name, f"argnums {label}", lambda v=v: make(f2, v)(X(), X()), _T, name,
         "argnums must be an int or a tuple of ints")
        for label, v in bad_type.items()
    ]  # fmt: skip
    return rows + [
        (name, "argnums out of range", lambda: make(f2, 2)(X(), X()), _I, name, "argnums 2 is out"),
        (name, "argnums negative", lambda: make(f2, -3)(X(), X()), _I, name, r"-2\.\.-1"),
        (name, "argnums empty", lambda: make(f2, ())(X(), X()), _V, name, "argnums is empty"),
        (name, "argnums twice", lambda: make(f2, (0, 0))(X(), X()), _V, name, "names an arg"),
        (name, "argnums twice neg", lambda: make(f2, (1, -1))(X(), X()), _V, name, "twice"),
        (name, "no arguments", lambda: make(sq, 0)(), _I, name, "valid argnums: none"),
    ]


def _primal_rows(name, call):
    """``call(p)`` differentiates at primal ``p``."""
    bad = {
        "str": ("abc", "strings are not numbers"),
        "complex": (1j, "complex numbers are not supported"),
        "complex array": (np.array([1j]), "dtype complex128 is not supported"),
        "object array": (np.array([1.0, None]), "dtype object is not supported"),
        "str array": (np.array(["a"]), "dtype <U1 is not supported"),
        "ragged": ([[1.0], [1.0, 2.0]], "ragged"),
        "None": (None, "NoneType"),
        "dict": ({"a": 1}, "of type dict"),
    }
    return [
        (name, f"primal {label}", lambda p=p: call(p), _T, name,
         rf"cannot differentiate with respect to argument 0 .*{fragment}")
        for label, (p, fragment) in bad.items()
    ]  # fmt: skip


NOT_CALLABLE = {"int": 3, "None": None, "str": "f", "list": [sq]}


def _callable_rows(name, call):
    return [
        (name, f"f {label}", lambda f=f: call(f), _T, name, "f must be a function of Tensors")
        for label, f in NOT_CALLABLE.items()
    ]


def _output_rows(name, call, *, scalar):
    """``call(f)`` differentiates ``f`` at X()."""
    returns = {"float": 1.0, "ndarray": np.ones(3), "None": None, "list": [1.0]}
    rows = [
        (name, f"returns {label}", lambda r=r: call(lambda x: r), _T, name,
         "needs a function that returns a Tensor")
        for label, r in returns.items()
    ]  # fmt: skip
    if scalar:
        rows += [
            (name, "non-scalar output", lambda: call(double), _V, name, r"scalar output.*\(2, 3\)"),
            (name, "empty output", lambda: call(lambda x: x[:0].sum(0)), _V, name, r"\(3,\)"),
        ]
    return rows


def _vjp_fn(out=double):
    return ad.vjp(out, X())[1]


def _int_output(x):
    return INTS() * 2  # an integer output (x plays no part)


def _cotangent_rows(name, call, what):
    """``call(value)`` passes ``value`` as the cotangent (tangent, vector) for X()."""
    return [
        (name, f"{what} wrong shape", lambda: call(np.ones(3)), _V, name, r"shape \(3,\) but"),
        (name, f"{what} empty", lambda: call(np.ones(0)), _V, name, r"must have shape \(2, 3\)"),
        (name, f"{what} Tensor shape", lambda: call(V()), _V, name, r"has shape \(3,\) but must"),
        (name, f"{what} str", lambda: call("a"), _T, name, r"strings are not numbers"),
        (name, f"{what} None", lambda: call(None), _T, name, r"it holds None"),
        (name, f"{what} complex", lambda: call(np.ones((2, 3)) * 1j), _T, name, r"complex128"),
        (name, f"{what} object", lambda: call(np.ones((2, 3), object)), _T, name, r"dtype object"),
        (name, f"{what} ragged", lambda: call([[1.0], [2.0, 3.0]]), _V, name, r"ragged"),
        (name, f"{what} dict", lambda: call({"a": 1}), _T, name, r"of type dict"),
    ]


HESSIAN_ARGNUMS = {"float": 0.0, "bool": False, "tuple": (0,), "str": "0", "None": None}

FUNCTIONAL = [
    *_argnums_rows("grad", lambda f, a: ad.grad(f, a)),
    *_argnums_rows("value_and_grad", lambda f, a: ad.value_and_grad(f, a)),
    *_argnums_rows("jacobian", lambda f, a: ad.jacobian(lambda x, y: x * y, a)),
    *[
        ("hessian", f"argnums {label}", lambda v=v: ad.hessian(f2, v)(X(), X()), _T, "hessian",
         "argnums must be one int")
        for label, v in HESSIAN_ARGNUMS.items()
    ],  # fmt: skip
    ("hessian", "argnums out of range", lambda: ad.hessian(sq, 1)(X()), _I, "hessian", "out of"),
    ("hessian", "no arguments", lambda: ad.hessian(sq)(), _I, "hessian", "valid argnums: none"),
    ("grad", "simplify str", lambda: ad.grad(sq, simplify="yes"), _T, "grad", "True, False or"),
    ("grad", "simplify int", lambda: ad.grad(sq, simplify=1), _T, "grad", "simplify must be"),
    # ---- f: a callable returning a Tensor (a scalar where the derivative needs one)
    *_callable_rows("grad", lambda f: ad.grad(f)),
    *_callable_rows("value_and_grad", lambda f: ad.value_and_grad(f)),
    *_callable_rows("jacobian", lambda f: ad.jacobian(f)),
    *_callable_rows("hessian", lambda f: ad.hessian(f)),
    *_callable_rows("vjp", lambda f: ad.vjp(f, X())),
    *_callable_rows("jvp", lambda f: ad.jvp(f, X(), X())),
    *_callable_rows("hvp", lambda f: ad.hvp(f, X(), X())),
    *_output_rows("grad", lambda f: ad.grad(f)(X()), scalar=True),
    *_output_rows("value_and_grad", lambda f: ad.value_and_grad(f)(X()), scalar=True),
    *_output_rows("hessian", lambda f: ad.hessian(f)(X()), scalar=True),
    *_output_rows("hvp", lambda f: ad.hvp(f, X(), X()), scalar=True),
    *_output_rows("jacobian", lambda f: ad.jacobian(f)(X()), scalar=False),
    *_output_rows("vjp", lambda f: ad.vjp(f, X()), scalar=False),
    *_output_rows("jvp", lambda f: ad.jvp(f, X(), X()), scalar=False),
    # ---- primals: numeric data; at least one
    *_primal_rows("grad", lambda p: ad.grad(sq)(p)),
    *_primal_rows("value_and_grad", lambda p: ad.value_and_grad(sq)(p)),
    *_primal_rows("jacobian", lambda p: ad.jacobian(double)(p)),
    *_primal_rows("hessian", lambda p: ad.hessian(sq)(p)),
    *_primal_rows("vjp", lambda p: ad.vjp(double, p)),
    *_primal_rows("jvp", lambda p: ad.jvp(double, (p,), (1.0,))),
    *_primal_rows("hvp", lambda p: ad.hvp(sq, (p,), (1.0,))),
    ("vjp", "no primals", lambda: ad.vjp(sq), _V, "vjp", "give at least one primal"),
    ("jvp", "no primals", lambda: ad.jvp(sq, (), ()), _V, "jvp", "give at least one primal"),
    ("hvp", "no primals", lambda: ad.hvp(sq, (), ()), _V, "hvp", "give at least one primal"),
    # ---- cotangents, tangents and vectors: numeric, of the right shape, never cast lossily
    *_cotangent_rows("vjp", lambda u: _vjp_fn()(u), "cotangent"),
    *_cotangent_rows("jvp", lambda t: ad.jvp(double, X(), t), "tangent"),
    *_cotangent_rows("hvp", lambda v: ad.hvp(sq, X(), v), "v"),
    ("vjp", "float into int", lambda: _vjp_fn(_int_output)([0.5, 1.5]), _V, "vjp", "exactly"),
    ("vjp", "float array into int", lambda: _vjp_fn(_int_output)(np.ones(2)), _T, "vjp", "los"),
    ("jvp", "too few tangents", lambda: ad.jvp(f2, (X(), X()), (X(),)), _V, "jvp", "1 tangent"),
    ("jvp", "tangents None", lambda: ad.jvp(f2, (X(), X()), None), _V, "jvp", "2 primal"),
    ("hvp", "too many vectors", lambda: ad.hvp(sq, (X(),), (X(), X())), _V, "hvp", "2 vector"),
    # ---- Jacobian, the node jacobian() makes
    ("Jacobian", "f int", lambda: Jacobian(3, (X(),), (0,), 0), _T, "Jacobian", "f must be"),
    ("Jacobian", "args list", lambda: Jacobian(double, [X()], (0,), 0), _T, "Jacobian", "tuples"),
    ("Jacobian", "slot not a Tensor", lambda: Jacobian(double, (1.0,), (0,), 0), _V, "Jacobian",
     "positions of Tensors"),
    ("Jacobian", "argnum not a slot", lambda: Jacobian(double, (X(),), (0,), 1), _V, "Jacobian",
     r"argnum 1 must be one of the Tensor positions \(0,\)"),
    ("Jacobian", "argnum bool", lambda: Jacobian(double, (X(),), (0,), False), _V, "Jacobian",
     "argnum False"),
]  # fmt: skip


@_table(FUNCTIONAL)
def test_functional_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_cotangents_convert_within_a_kind_and_from_bool_and_int(mode):
    out, pullback = ad.vjp(double, X())
    for u in (np.ones((2, 3), bool), np.ones((2, 3), np.int8), np.ones((2, 3), np.float32)):
        assert pullback(u)[0].numpy().tolist() == [[2.0] * 3] * 2
    assert ad.vjp(_int_output, X())[1]([2.0, 3.0])[0].shape == (2, 3)  # whole floats: exact


# ======================================================= Tensor


def _backward(out_grad, y=double, **kwargs):
    y(X()).backward(out_grad, **kwargs)


def _int_y(x):
    return INTS() * 2  # an integer output that requires grad


def _set_data(t, value):
    t.data = value


TENSOR = [
    # ---- Tensor(data): numbers, nested lists of numbers, bool/int/float arrays
    ("Tensor", "str", lambda: ad.Tensor("abc"), _T, "Tensor", r"str data .*strings are not"),
    ("Tensor", "bytes", lambda: ad.Tensor(b"ab"), _T, "Tensor", "strings are not numbers"),
    ("Tensor", "object", lambda: ad.Tensor(object()), _T, "Tensor", "of type object"),
    ("Tensor", "object array", lambda: ad.Tensor(np.array([1, None])), _T, "Tensor", "object is"),
    ("Tensor", "str array", lambda: ad.Tensor(np.array(["1"])), _T, "Tensor", "dtype <U1 is not"),
    ("Tensor", "ragged", lambda: ad.Tensor([[1.0], [1.0, 2.0]]), _V, "Tensor", "data is ragged"),
    ("Tensor", "ragged deep", lambda: ad.Tensor([[[1.0], [2.0, 3.0]]]), _V, "Tensor", "ragged"),
    ("Tensor", "complex", lambda: ad.Tensor(1 + 2j), _T, "Tensor", "complex numbers are not"),
    ("Tensor", "complex array", lambda: ad.Tensor(np.array([1j])), _T, "Tensor", "complex128"),
    ("Tensor", "complex in list", lambda: ad.Tensor([1.0, 1j]), _T, "Tensor", "complex numbers"),
    ("Tensor", "None", lambda: ad.Tensor(None), _T, "Tensor", "it holds None"),
    ("Tensor", "None in list", lambda: ad.Tensor([1.0, None]), _T, "Tensor", "it holds None"),
    ("Tensor", "dict", lambda: ad.Tensor({"a": 1}), _T, "Tensor", "of type dict"),
    ("Tensor", "set", lambda: ad.Tensor({1.0}), _T, "Tensor", "of type set"),
    ("Tensor", "datetime array", lambda: ad.Tensor(np.array(["2020"], "M8[D]")), _T, "Tensor",
     "datetime64"),
    # dtype=: a NumPy dtype of bool, integer or float; Python ints must fit it
    ("Tensor", "dtype unknown", lambda: ad.Tensor([1.0], dtype="float33"), _T, "Tensor",
     "dtype 'float33' is not a NumPy dtype"),
    ("Tensor", "dtype int", lambda: ad.Tensor([1.0], dtype=5), _T, "Tensor", "dtype 5 is not a"),
    ("Tensor", "dtype complex", lambda: ad.Tensor([1.0], dtype=complex), _T, "Tensor", "complex"),
    ("Tensor", "dtype object", lambda: ad.Tensor([1.0], dtype=object), _T, "Tensor", "object"),
    ("Tensor", "dtype str", lambda: ad.Tensor([1.0], dtype=str), _T, "Tensor", "<U32"),
    ("Tensor", "int8 overflow", lambda: ad.Tensor([1, 300], dtype="int8"), _V, "Tensor",
     r"dtype int8 cannot hold the value 300 \(its range is -128\.\.127\)"),
    ("Tensor", "uint8 negative", lambda: ad.Tensor(-1, dtype=np.uint8), _V, "Tensor", "hold the"),
    ("Tensor", "int64 overflow", lambda: ad.Tensor([2**70], dtype="int64"), _V, "Tensor",
     "cannot hold the value 1180591620717411303424"),
    # requires_grad=, device=, name=
    ("Tensor", "requires_grad str", lambda: ad.Tensor(1.0, requires_grad="no"), _T, "Tensor",
     "requires_grad must be True or False, got 'no'"),
    ("Tensor", "requires_grad None", lambda: ad.Tensor(1.0, requires_grad=None), _T, "Tensor",
     "requires_grad must be True or False"),
    ("Tensor", "requires_grad int", lambda: ad.Tensor(1.0, requires_grad=1), _T, "Tensor",
     "requires_grad must be True or False, got 1"),
    ("Tensor", "device str", lambda: ad.Tensor(1.0, device="cuda"), _T, "Tensor",
     "device must be ad.cpu"),
    ("Tensor", "device int", lambda: ad.Tensor(1.0, device=0), _T, "Tensor", "got 0"),
    ("Tensor", "name int", lambda: ad.Tensor(1.0, name=3), _T, "Tensor", "name must be a str"),
    # ---- Tensor.from_numpy: a bool, integer or float NumPy array, held as it is
    ("from_numpy", "list", lambda: ad.Tensor.from_numpy([1.0]), _T, "Tensor.from_numpy",
     "give a NumPy array, got list"),
    ("from_numpy", "str array", lambda: ad.Tensor.from_numpy(np.array(["a"])), _T,
     "Tensor.from_numpy", "dtype <U1 is not supported"),
    ("from_numpy", "complex array", lambda: ad.Tensor.from_numpy(np.ones(2) * 1j), _T,
     "Tensor.from_numpy", "complex128"),
    ("from_numpy", "requires_grad", lambda: ad.Tensor.from_numpy(np.ones(2), requires_grad="x"),
     _T, "Tensor.from_numpy", "requires_grad must be True or False"),
    # ---- backward(out_grad, create_graph=): the output's shape; no lossy conversion
    ("backward", "wrong shape", lambda: _backward(np.ones(3)), _V, "backward",
     r"out_grad has shape \(3,\) but the output has shape \(2, 3\)"),
    ("backward", "empty", lambda: _backward(np.ones(0)), _V, "backward", r"shape \(0,\) but"),
    ("backward", "Tensor shape", lambda: _backward(V()), _V, "backward", r"shape \(3,\) but"),
    ("backward", "scalar for vector", lambda: _backward(1.0), _V, "backward", r"shape \(\) but"),
    ("backward", "float into int", lambda: _backward([0.5, 1.0], _int_y), _V, "backward",
     "out_grad holds the value 0.5, which the output's dtype int64 cannot represent"),
    ("backward", "float array into int", lambda: _backward(np.ones(2), _int_y), _T, "backward",
     "out_grad of dtype float64 cannot be converted to the output's dtype int64"),
    ("backward", "create_graph str", lambda: _backward(None, create_graph="no"), _T,
     "backward", "create_graph must be True or False"),
    ("backward", "create_graph None", lambda: _backward(None, create_graph=None), _T,
     "backward", "create_graph must be True or False, got None"),
    # data that is no number at all is refused as Tensor(out_grad) refuses it
    ("backward", "str", lambda: _backward("a"), _T, "Tensor", "strings are not numbers"),
    ("backward", "None in list", lambda: _backward([[None] * 3] * 2), _T, "Tensor", "holds None"),
    ("backward", "complex", lambda: _backward(np.ones((2, 3)) * 1j), _T, "Tensor", "complex128"),
    ("backward", "object", lambda: _backward(np.ones((2, 3), object)), _T, "Tensor", "object"),
    ("backward", "ragged", lambda: _backward([[1.0], [1.0, 2.0]]), _V, "Tensor", "ragged"),
    # ---- data =, item(), float(), int(), bool()
    ("data", "ndarray", lambda: _set_data(X(), np.ones((2, 3))), _T, "Tensor.data", "assign a"),
    ("data", "float32 ndarray", lambda: _set_data(X(), np.ones(3, "f4")), _T, "Tensor.data", "nd"),
    ("data", "Tensor dtype", lambda: _set_data(X(), ad.Tensor(np.ones(2, "f4"))), _T,
     "Tensor.data", "dtype float32 differs from float64"),
    ("item", "several", lambda: X().item(), _V, "item", r"shape \(2, 3\) has 6 elements"),
    ("item", "empty", lambda: ad.Tensor(np.ones(0)).item(), _V, "item", "0 elements"),
    ("float", "several", lambda: float(X()), _T, "float", "only a tensor of one element"),
    ("int", "several", lambda: int(V()), _T, "int", r"shape \(3,\) has 3 elements"),
    ("bool", "several", lambda: bool(V()), _V, "bool", "has 3 elements"),
    ("bool", "empty", lambda: bool(ad.Tensor(np.ones(0))), _V, "bool", "has 0 elements"),
    ("len", "0-d", lambda: len(S()), _T, "len()", "of a 0-d Tensor"),
    ("iter", "0-d", lambda: iter(S()), _T, "iteration", "over a 0-d Tensor"),
    # ---- comparisons: a number, an array or a Tensor that broadcasts
    ("less", "str", lambda: X() < "a", _T, "less", "strings are not numbers"),
    ("less", "wrong shape", lambda: X() < np.ones(4), _V, "less", r"\(2, 3\) and \(4,\) do not"),
    ("less_equal", "object", lambda: X() <= object(), _T, "less_equal", "of type object"),
    ("greater", "None", lambda: X() > None, _T, "greater", "it holds None"),
    ("greater", "Tensor shape", lambda: X() > ad.Tensor(np.ones(2)), _V, "greater",
     r"\(2, 3\) and \(2,\) do not broadcast"),
    ("greater_equal", "complex", lambda: X() >= 1j, _T, "greater_equal", "complex numbers"),
    ("greater_equal", "ragged", lambda: X() >= [[1], [1, 2]], _V, "greater_equal", "ragged"),
    # ---- methods mirroring the ops: their errors name the op
    ("reshape", "method non-integer", lambda: X().reshape(2.5, 2), _T, "reshape", "got 2.5"),
    ("reshape", "method None", lambda: X().reshape(None), _T, "reshape", "got None"),
    ("reshape", "method empty", lambda: X().reshape(), _V, "reshape", r"into \(\)"),
    ("reshape", "method wrong size", lambda: X().reshape([4]), _V, "reshape", "sizes must match"),
    ("reshape", "method bool", lambda: X().reshape(True, 6), _T, "reshape", "of type bool"),
    ("transpose", "method three", lambda: X().transpose(0, 1, 2), _V, "transpose", "two axes"),
    ("transpose", "method one", lambda: X().transpose(0), _V, "transpose", r"got \(0,\)"),
    ("transpose", "method float", lambda: X().transpose(0.0, 1), _T, "transpose", "axes must be"),
    ("transpose", "method 1-D", lambda: V().transpose(), _V, "transpose", "at least 2"),
    ("permute", "method float", lambda: X().permute(0.5, 1), _T, "permute", "each axis must"),
    ("permute", "method empty", lambda: X().permute(), _V, "permute", "not a permutation"),
    ("permute", "method repeated", lambda: X().permute((0, 0)), _V, "permute", "not a permut"),
    ("sum", "method str", lambda: X().sum("0"), _T, "summation", "axes must be"),
    ("sum", "method keepdims", lambda: X().sum(0, "yes"), _T, "summation", "keepdims must"),
    ("sum", "method out of range", lambda: X().sum(axes=(0, 2)), _V, "summation", "axis 2 is"),
    ("broadcast_to", "method negative", lambda: X().broadcast_to((-1, 3)), _V, "broadcast_to",
     "non-negative"),
    ("broadcast_to", "method None", lambda: X().broadcast_to(None), _T, "broadcast_to", "None"),
    ("mean", "method float", lambda: X().mean(1.5), _T, "mean", "axes must be"),
    ("mean", "method keepdims", lambda: X().mean(0, None), _T, "mean", "keepdims must be"),
    ("max", "method bool", lambda: X().max(True), _T, "max", "axes must be"),
    ("max", "method empty", lambda: ad.Tensor(np.ones((0, 2))).max(0), _V, "max", "size 0"),
    ("min", "method str", lambda: X().min("0"), _T, "min", "axes must be"),
    ("logsumexp", "method out of range", lambda: X().logsumexp(2), _V, "logsumexp", "axis 2"),
    ("softmax", "method str", lambda: X().softmax("x"), _T, "softmax", "axes must be"),
    ("log_softmax", "method float", lambda: X().log_softmax(1.5), _T, "log_softmax", "axes"),
    ("flatten", "method float", lambda: X().flatten(0.5), _T, "flatten", "start_axis must be"),
    ("flatten", "method end", lambda: X().flatten(0, "1"), _T, "flatten", "end_axis must be"),
    ("squeeze", "method not 1", lambda: X().squeeze(0), _V, "squeeze", "cannot squeeze axis 0"),
    ("expand_dims", "method float", lambda: X().expand_dims(1.5), _T, "expand_dims", "axis"),
    ("getitem", "method str", lambda: X()["a"], _I, "getitem", "'a' of type str is not valid"),
]  # fmt: skip


@_table(TENSOR)
def test_tensor_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_valid_tensor_arguments_still_work(mode):
    assert ad.Tensor([1, 2], dtype="int8").dtype == np.int8
    assert ad.Tensor(1.0, requires_grad=np.bool_(False)).requires_grad is False
    assert ad.Tensor(1.0, device=ad.cpu()).device == ad.cpu()
    assert ad.Tensor([1.5], dtype="int64").numpy().tolist() == [1]  # dtype= converts, as NumPy
    assert float(ad.Tensor([2.5])) == 2.5 and int(ad.Tensor([[3]])) == 3 and bool(V()[0])
    assert (X() < ad.Tensor(np.ones(3))).shape == (2, 3) and (X() >= [1, 2, 3]).dtype == bool
    y = _int_y(None)
    y.backward([1, 2])  # integers into an integer output: exact
    x = ad.Tensor(np.float32([1.0, 2.0]))
    (x * 2).backward(np.ones(2))  # float64 into float32: within the kind
    assert x.grad.dtype == np.float32


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
    verify = ad.simplify.__globals__["VERIFY"]
    _check(call, exc, prefix, fragment)
    assert ad.autograd.LAZY_MODE is mode and ad.simplify.__globals__["VERIFY"] is verify
    assert list(tmp_path.iterdir()) == []


# ======================================================= gradcheck

GRADCHECK = [
    ("gradcheck", "f int", lambda: ad.gradcheck(3, [1.0]), _T, "gradcheck", "f must be a func"),
    ("gradcheck", "no inputs", lambda: ad.gradcheck(sq), _V, "gradcheck", "at least one input"),
    ("gradcheck", "returns float", lambda: ad.gradcheck(lambda x: 1.0, [1.0]), _T, "gradcheck",
     "f must return a Tensor, got float"),
    ("gradcheck", "returns ndarray", lambda: ad.gradcheck(lambda x: x.numpy(), [1.0]), _T,
     "gradcheck", "got ndarray"),
    ("gradcheck", "input str", lambda: ad.gradcheck(sq, "a"), _T, "gradcheck", "strings are"),
    ("gradcheck", "input complex", lambda: ad.gradcheck(sq, 1j), _T, "gradcheck", "complex"),
    ("gradcheck", "input complex array", lambda: ad.gradcheck(sq, np.array([1j])), _T,
     "gradcheck", "complex128"),
    ("gradcheck", "input object", lambda: ad.gradcheck(sq, np.array([1, None])), _T,
     "gradcheck", "dtype object"),
    ("gradcheck", "input ragged", lambda: ad.gradcheck(sq, [[1], [1, 2]]), _V, "gradcheck",
     "ragged"),
    ("gradcheck", "input None", lambda: ad.gradcheck(sq, None), _T, "gradcheck", "holds None"),
    *[
        ("gradcheck", f"{name} {label}", lambda k={name: v}: ad.gradcheck(sq, [1.0], **k), exc,
         "gradcheck", f"{name} must be {fragment}")
        for name, table in {
            "order": {"0": (0, _V, "a positive int"), "negative": (-1, _V, "a positive int"),
                      "float": (1.5, _T, "an int"), "whole float": (2.0, _T, "an int"),
                      "bool": (True, _T, "an int"), "str": ("2", _T, "an int"),
                      "None": (None, _T, "an int")},
            "trials": {"0": (0, _V, "a positive int"), "float": (1.5, _T, "an int"),
                       "bool": (True, _T, "an int")},
            "eps": {"0": (0, _V, "a finite number > 0"), "negative": (-1e-6, _V, "a finite"),
                    "nan": (float("nan"), _V, "a finite"), "inf": (float("inf"), _V, "a fin"),
                    "str": ("1e-6", _T, "a real number"), "bool": (True, _T, "a real number"),
                    "complex": (1e-6j, _T, "a real number")},
            "rtol": {"negative": (-1, _V, "a finite number >= 0"),
                     "str": ("a", _T, "a real number"), "array": (np.ones(2), _T, "a real")},
            "atol": {"nan": (float("nan"), _V, "a finite number >= 0"),
                     "None": (None, _T, "a real number")},
            "seed": {"str": ("a", _T, "an int"), "float": (1.5, _T, "an int"),
                     "bool": (True, _T, "an int"), "negative": (-1, _V, "an int >= 0")},
        }.items()
        for label, (v, exc, fragment) in table.items()
    ],
]  # fmt: skip


@_table(GRADCHECK)
def test_gradcheck_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_gradcheck_still_takes_bool_int_and_empty_inputs_and_numpy_numbers():
    assert ad.gradcheck(f2, np.array([True, False]), [1, 2])
    assert ad.gradcheck(sq, np.ones(0), eps=np.float64(1e-6), seed=np.int64(1), order=np.int64(2))


# ======================================================= adjoint.init

SHAPED = {
    "zeros": init.zeros,
    "ones": init.ones,
    "constant": init.constant,
    "rand": init.rand,
    "randn": init.randn,
    "randb": init.randb,
}
BAD_SHAPES = {
    "negative": ((-1, 2), _V, r"invalid shape \(-1, 2\); use non-negative sizes"),
    "non-integer": ((2.5, 2), _T, "each size in shape must be an int, got 2.5"),
    "whole float": ((2.0,), _T, "got 2.0 of type float"),
    "bool": ((True, 2), _T, "got True of type bool"),
    "str": (("2",), _T, "got '2' of type str"),
    "None": ((None,), _T, "got None"),
    "tuple non-integer": (((2.5, 2),), _T, "got 2.5"),
    "nested": (((2, (3,)),), _T, r"got \(3,\) of type tuple"),
    "tuple and int": (((2,), 3), _T, r"got \(2,\) of type tuple"),
    "numpy float": ((np.float64(2),), _T, "of type float64"),
}
BAD_DTYPES = {
    "unknown": ("float33", _T, "dtype 'float33' is not a NumPy dtype"),
    "complex": (complex, _T, "dtype must be .*got complex128"),
    "object": (object, _T, "dtype must be .*got object"),
    "str": (str, _T, "dtype must be .*got <U"),
}
FLOAT_ONLY = ("rand", "randn", "xavier_uniform", "xavier_normal", "kaiming_uniform",
              "kaiming_normal")  # fmt: skip
BAD_FLOAT_DTYPES = {
    **BAD_DTYPES,
    "int": ("int64", _T, r"dtype must be a floating-point dtype \(float16, float32 or float64\)"),
    "bool": (bool, _T, "dtype must be a floating-point dtype"),
}
OPTIONS = {
    "requires_grad str": ({"requires_grad": "yes"}, _T, "requires_grad must be True or False"),
    "requires_grad int": ({"requires_grad": 1}, _T, "requires_grad must be True or False"),
    "device": ({"device": "cuda"}, _T, "device must be ad.cpu"),
}
RNG = {
    "rng int": ({"rng": 0}, _T, "rng must be a numpy.random.Generator or None, got int"),
    "rng RandomState": ({"rng": np.random.RandomState(0)}, _T, "got RandomState"),
}

# fan_in, fan_out of the Glorot and He initializations: positive ints
FANNED = {name: getattr(init, name) for name in FLOAT_ONLY[2:]}
BAD_FANS = {
    "zero": (0, _V, "must be a positive int, got 0"),
    "negative": (-2, _V, "must be a positive int, got -2"),
    "non-integer": (2.5, _T, "must be an int, got 2.5"),
    "bool": (True, _T, "must be an int, got True"),
    "str": ("2", _T, "must be an int, got '2'"),
    "None": (None, _T, "must be an int, got None"),
}


def _init_rows():
    rows = []
    for name, f in SHAPED.items():
        for label, (shape, exc, fragment) in BAD_SHAPES.items():
            rows.append((name, f"shape {label}", lambda f=f, s=shape: f(*s), exc, name, fragment))
    for name in (*SHAPED, *FANNED, "one_hot"):
        f = getattr(init, name)
        args = (3, [0]) if name == "one_hot" else (2, 3)
        dtypes = BAD_FLOAT_DTYPES if name in FLOAT_ONLY else BAD_DTYPES
        for label, (dtype, exc, fragment) in dtypes.items():
            rows.append(
                (name, f"dtype {label}", lambda f=f, a=args, d=dtype: f(*a, dtype=d), exc, name,
                 fragment)
            )  # fmt: skip
        options = {**OPTIONS, **(RNG if name in (*FLOAT_ONLY, "randb") else {})}
        for label, (kwargs, exc, fragment) in options.items():
            rows.append(
                (name, label, lambda f=f, a=args, k=kwargs: f(*a, **k), exc, name, fragment)
            )
    for name, f in FANNED.items():
        for label, (v, exc, fragment) in BAD_FANS.items():
            rows.append((name, f"fan_in {label}", lambda f=f, v=v: f(v, 3), exc, name,
                         f"fan_in {fragment}"))  # fmt: skip
            rows.append((name, f"fan_out {label}", lambda f=f, v=v: f(3, v), exc, name,
                         f"fan_out {fragment}"))  # fmt: skip
    return rows


I = init  # noqa: E741 - short, for the table below

INIT = [
    *_init_rows(),
    # ---- the fill value of constant: a real number its dtype holds
    ("constant", "c str", lambda: I.constant(2, c="a"), _T, "constant", "c must be a real"),
    ("constant", "c complex", lambda: I.constant(2, c=1j), _T, "constant", "got 1j"),
    ("constant", "c None", lambda: I.constant(2, c=None), _T, "constant", "got None"),
    ("constant", "c array", lambda: I.constant(2, c=np.ones(3)), _T, "constant", "ndarray"),
    ("constant", "c fraction into int", lambda: I.constant(2, c=1.5, dtype=int), _V, "constant",
     "dtype int64 cannot hold the fill value c=1.5"),
    ("constant", "c overflow int8", lambda: I.constant(2, c=300, dtype="int8"), _V, "constant",
     "c=300"),
    ("constant", "c nan into int", lambda: I.constant(2, c=float("nan"), dtype=int), _V,
     "constant", "c=nan"),
    ("constant", "c overflow float32", lambda: I.constant(2, c=1e300, dtype="float32"), _V,
     "constant", "float32 cannot hold"),
    ("constant", "c huge int", lambda: I.constant(2, c=2**70, dtype=int), _V, "constant",
     "cannot hold"),
    ("constant", "c 2 into bool", lambda: I.constant(2, c=2, dtype=bool), _V, "constant", "c=2"),
    # ---- low/high, mean/std, p: finite reals in range
    ("rand", "low str", lambda: I.rand(2, low="a"), _T, "rand", "low must be a real number"),
    ("rand", "high complex", lambda: I.rand(2, high=1j), _T, "rand", "high must be a real"),
    ("rand", "low bool", lambda: I.rand(2, low=False), _T, "rand", "low must be a real"),
    ("rand", "low nan", lambda: I.rand(2, low=float("nan")), _V, "rand", "a finite number"),
    ("rand", "high inf", lambda: I.rand(2, high=float("inf")), _V, "rand", "a finite number"),
    ("rand", "low above high", lambda: I.rand(2, low=1, high=0), _V, "rand", "low must be <="),
    ("randn", "std negative", lambda: I.randn(2, std=-1), _V, "randn", "std must be a finite"),
    ("randn", "std str", lambda: I.randn(2, std="1"), _T, "randn", "std must be a real number"),
    ("randn", "mean complex", lambda: I.randn(2, mean=1j), _T, "randn", "mean must be a real"),
    ("randn", "mean nan", lambda: I.randn(2, mean=float("nan")), _V, "randn", "finite"),
    ("randb", "p above 1", lambda: I.randb(2, p=2), _V, "randb", r"p must lie in \[0, 1\]"),
    ("randb", "p negative", lambda: I.randb(2, p=-0.5), _V, "randb", r"lie in \[0, 1\]"),
    ("randb", "p nan", lambda: I.randb(2, p=float("nan")), _V, "randb", "a finite number"),
    ("randb", "p str", lambda: I.randb(2, p="x"), _T, "randb", "p must be a real number"),
    # ---- ones_like, zeros_like: a Tensor
    ("ones_like", "list", lambda: I.ones_like([1.0]), _T, "ones_like", "give a Tensor"),
    ("ones_like", "requires_grad", lambda: I.ones_like(X(), requires_grad="x"), _T, "ones_like",
     "requires_grad must be"),
    ("zeros_like", "None", lambda: I.zeros_like(None), _T, "zeros_like", "got NoneType"),
    ("zeros_like", "device", lambda: I.zeros_like(X(), device="gpu"), _T, "zeros_like",
     "device must be"),
    # ---- one_hot(n, labels): n a positive int, labels integer class indices in [0, n)
    ("one_hot", "n float", lambda: I.one_hot(3.5, [0]), _T, "one_hot", "n must be an int"),
    ("one_hot", "n bool", lambda: I.one_hot(True, [0]), _T, "one_hot", "got True"),
    ("one_hot", "n str", lambda: I.one_hot("3", [0]), _T, "one_hot", "got '3'"),
    ("one_hot", "n zero", lambda: I.one_hot(0, []), _V, "one_hot", "a positive int, got 0"),
    ("one_hot", "n negative", lambda: I.one_hot(-1, [0]), _V, "one_hot", "positive int, got -1"),
    ("one_hot", "label out of range", lambda: I.one_hot(3, [3]), _V, "one_hot", r"\[0, 2\]"),
    ("one_hot", "label negative", lambda: I.one_hot(3, [-1]), _V, "one_hot", r"got -1\.\.-1"),
    ("one_hot", "label bool", lambda: I.one_hot(3, [True]), _T, "one_hot", "got dtype bool"),
    ("one_hot", "label fraction", lambda: I.one_hot(3, [0.5]), _V, "one_hot", "whole numbers"),
    ("one_hot", "label nan", lambda: I.one_hot(3, [float("nan")]), _V, "one_hot", "got nan"),
    ("one_hot", "label str", lambda: I.one_hot(3, ["a"]), _T, "one_hot", "strings are not"),
    ("one_hot", "label str array", lambda: I.one_hot(3, np.array(["a"])), _T, "one_hot", "<U1"),
    ("one_hot", "label complex", lambda: I.one_hot(3, [1j]), _T, "one_hot", "complex numbers"),
    ("one_hot", "label object", lambda: I.one_hot(3, np.array([1, None])), _T, "one_hot", "obj"),
    ("one_hot", "label ragged", lambda: I.one_hot(3, [[0], [0, 1]]), _V, "one_hot", "ragged"),
    ("one_hot", "label None", lambda: I.one_hot(3, None), _T, "one_hot", "holds None"),
    # ---- gain, nonlinearity, shape
    ("xavier_uniform", "gain str", lambda: I.xavier_uniform(2, 3, gain="a"), _T,
     "xavier_uniform", "gain must be a real number"),
    ("xavier_uniform", "gain negative", lambda: I.xavier_uniform(2, 3, gain=-1), _V,
     "xavier_uniform", "gain must be a finite number >= 0"),
    ("xavier_normal", "gain nan", lambda: I.xavier_normal(2, 3, gain=float("nan")), _V,
     "xavier_normal", "gain must be a finite"),
    ("xavier_uniform", "low", lambda: I.xavier_uniform(2, 3, low=0), _T, "xavier_uniform()",
     "unexpected keyword argument 'low'"),
    ("kaiming_uniform", "nonlinearity", lambda: I.kaiming_uniform(2, 3, nonlinearity="tanh"),
     _V, "kaiming_uniform", "only nonlinearity='relu' is supported, got 'tanh'"),
    ("kaiming_normal", "nonlinearity int", lambda: I.kaiming_normal(2, 3, nonlinearity=3), _V,
     "kaiming_normal", "got 3"),
    ("kaiming_uniform", "shape non-integer", lambda: I.kaiming_uniform(2, 3, shape=(2.5, 3)),
     _T, "kaiming_uniform", "got 2.5"),
    ("kaiming_uniform", "shape str", lambda: I.kaiming_uniform(2, 3, shape="ab"), _T,
     "kaiming_uniform", "shape must be None or a tuple of ints"),
    ("kaiming_normal", "shape negative", lambda: I.kaiming_normal(2, 3, shape=(-1, 3)), _V,
     "kaiming_normal", "non-negative"),
    ("kaiming_normal", "unknown keyword", lambda: I.kaiming_normal(2, 3, foo=1), _T,
     "kaiming_normal()", "unexpected keyword argument 'foo'"),
]  # fmt: skip


@_table(INIT)
def test_init_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_init_takes_what_needle_code_passes(mode):
    assert init.ones(2, 3, device=ad.cpu(), dtype="float32").dtype == np.float32
    assert init.zeros((2, 3)).shape == (2, 3) and init.zeros().shape == ()
    assert init.ones(np.int64(2)).shape == (2,) and init.rand(0, 2).shape == (0, 2)
    assert init.constant(2, c=7, dtype="int8").numpy().tolist() == [7, 7]
    assert init.constant(2, c=True, dtype=bool).dtype == bool
    assert init.randb(3, p=1.0, dtype="float32").numpy().tolist() == [1.0, 1.0, 1.0]
    assert init.one_hot(3, ad.Tensor([2.0, 0.0])).numpy().argmax(1).tolist() == [2, 0]
    assert init.ones_like(np.ones(2)).shape == (2,)
    rng = np.random.default_rng(0)
    w = init.kaiming_uniform(4, 5, shape=(3, 3, 4, 5), dtype="float32", rng=rng)
    assert w.shape == (3, 3, 4, 5) and w.dtype == np.float32
    assert init.xavier_normal(2, 3, gain=0.0).numpy().tolist() == [[0.0] * 3] * 2


# ======================================================= coverage

#: Public names covered elsewhere or taking no argument to check, with the reason.
NOT_TABLED = {
    "init.Device": "takes no arguments",
    "init.cpu": "takes no arguments",
    "init.default_device": "takes no arguments",
    "Tensor.make_const": "the engine's constructor, called by every gradient rule: unchecked",
    "Tensor.make_from_op": "the engine's node maker, called by every op: unchecked",
    "Graph.run": "its feeds are tabled in test_graph.py",
}

TABLES = {
    "operands": set(LINEAR_OPERAND),
    "linear": {row[0] for row in LINEAR},
    "functional": {row[0] for row in FUNCTIONAL},
    "tensor": {row[0] for row in TENSOR},
    "graph": {row[0] for row in GRAPH},
    "gradcheck": {row[0] for row in GRADCHECK},
    "init": {row[0] for row in INIT},
}


def _tabled():
    return set().union(*TABLES.values())


def _takes_arguments(function):
    parameters = inspect.signature(function).parameters
    return any(name not in ("self", "cls") for name in parameters)


def test_the_tables_cover_every_public_name_of_the_modules_they_cover():
    tabled = _tabled()
    modules = {
        "": linear.__all__,
        "functional": importlib.import_module("adjoint.functional").__all__,
        "numerical": importlib.import_module("adjoint.numerical").__all__,
        "init": init.__all__,
    }
    missing = {
        name
        for prefix, names in modules.items()
        for name in names
        if name not in tabled and f"{prefix}.{name}" not in NOT_TABLED
    }
    assert missing == set()
    for name in ("simplify", "census", "verify_rewrites", "lazy_mode", "set_lazy_mode", "Graph"):
        assert name in tabled
    for name in ("Transpose", "Permute", "Reshape", "BroadcastTo", "Summation"):
        assert name in TABLES["operands"] and name in TABLES["linear"]  # called directly


def test_the_tables_cover_every_public_tensor_and_graph_method_with_arguments():
    tabled = _tabled()
    missing = set()
    for cls in (ad.Tensor, ad.Graph):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not callable(member) or not _takes_arguments(member):
                continue
            label = name if cls is ad.Tensor else f"Graph.{name}"
            if label not in tabled and f"{cls.__name__}.{name}" not in NOT_TABLED:
                missing.add(label)
    assert missing == set()
    # the constructor, the data setter, the conversions and the comparisons
    assert {"Tensor", "data", "item", "float", "int", "bool", "len", "iter"} <= tabled
    assert {"less", "less_equal", "greater", "greater_equal"} <= tabled
