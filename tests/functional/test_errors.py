"""Bad arguments to the functional API (grad, value_and_grad, jacobian, hessian, vjp,
jvp, hvp) and to ``gradcheck``, as tables, in eager and lazy mode.

Each row gives the exception type, the name the message must start with and a
fragment that says what is wrong or valid. A coverage test checks that the tables
name every public function of :mod:`adjoint.functional` and :mod:`adjoint.numerical`.
"""

import importlib

import numpy as np
import pytest

import adjoint as ad
from adjoint.functional import Jacobian
from tests.helpers.errors import _I, _T, _V, INTS, V, X
from tests.helpers.errors import check as _check
from tests.helpers.errors import table as _table

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


def test_grad_of_a_non_scalar_function_says_what_to_use_instead(mode):
    x = ad.Tensor(np.ones(3))
    for name in ("grad", "value_and_grad", "hessian"):
        with pytest.raises(
            ValueError,
            match=rf"{name} needs a function with a scalar output, got shape \(3,\); use "
            "jacobian or vjp",
        ):
            getattr(ad, name)(lambda t: t * 2)(x)
    with pytest.raises(TypeError, match=r"grad needs a function that returns a Tensor, got float"):
        ad.grad(lambda t: 3.0)(x)


# ======================================================= coverage


def test_the_tables_cover_every_public_name_of_functional_and_numerical():
    tabled = {row[0] for row in FUNCTIONAL} | {row[0] for row in GRADCHECK}
    modules = {
        "functional": importlib.import_module("adjoint.functional").__all__,
        "numerical": importlib.import_module("adjoint.numerical").__all__,
    }
    missing = {name for names in modules.values() for name in names if name not in tabled}
    assert missing == set()
