"""needle's op set: values, first and second derivatives against sympy and finite differences.

One table, one parametrized test (see oracle.py for what each check does).
Shapes exercise broadcasting: the front end's BroadcastTo nodes are part of
every differentiated graph here.
"""

import numpy as np
import pytest
import sympy

import adjoint as ad
from tests.helpers.oracle import OpSpec, check_inputs_untouched, check_spec, elementwise

SPECS = [
    OpSpec("add", lambda a, b: a + b, lambda a, b: a + b, [(2, 3), (2, 3)]),
    OpSpec("add broadcast", lambda a, b: ad.add(a, b), lambda a, b: a + b, [(2, 3), (3,)]),
    OpSpec("add broadcast both", lambda a, b: a + b, lambda a, b: a + b, [(2, 1), (1, 3)]),
    OpSpec("add_scalar", lambda a: ad.add_scalar(a, 1.5), lambda a: a + 1.5, [(2, 3)]),
    OpSpec("radd", lambda a: 2.5 + a, lambda a: a + 2.5, [(3,)]),
    OpSpec("subtract", lambda a, b: a - b, lambda a, b: a - b, [(2, 3), (2, 3)]),
    OpSpec("rsub", lambda a: 5 - a, lambda a: 5 - a, [(3,)]),
    OpSpec("multiply", lambda a, b: a * b, lambda a, b: a * b, [(2, 3), (2, 3)]),
    OpSpec("multiply broadcast", lambda a, b: a * b, lambda a, b: a * b, [(4, 1, 3), (2, 1)]),
    OpSpec("mul_scalar", lambda a: ad.mul_scalar(a, -3.0), lambda a: -3.0 * a, [(2, 3)]),
    OpSpec("divide", lambda a, b: a / b, lambda a, b: a / b, [(2, 3), (2, 3)], 0.5, 2.0),
    OpSpec("divide broadcast", lambda a, b: a / b, lambda a, b: a / b, [(2, 3), (3,)], 0.5, 2.0),
    OpSpec("rtruediv", lambda a: 2 / a, lambda a: 2 / a, [(3,)], 0.5, 2.0),
    OpSpec("divide_scalar", lambda a: ad.divide_scalar(a, 4.0), lambda a: a / 4, [(2, 3)]),
    OpSpec("power_scalar 2", lambda a: a**2, lambda a: a**2, [(2, 3)]),
    OpSpec("power_scalar 3", lambda a: ad.power_scalar(a, 3), lambda a: a**3, [(2, 3)]),
    OpSpec(
        "power_scalar 2.2",
        lambda a: a**2.2,
        elementwise(lambda a: a ** sympy.Float(2.2, 30)),
        [(2, 3)],
        0.5,
        2.0,
    ),
    OpSpec("power_scalar -1", lambda a: a**-1, lambda a: a**-1, [(3,)], 0.5, 2.0),
    OpSpec("power", lambda a, b: a**b, lambda a, b: a**b, [(2, 3), (2, 3)], 0.5, 2.0),
    OpSpec(
        "power broadcast", lambda a, b: ad.power(a, b), lambda a, b: a**b, [(2, 3), (3,)], 0.5, 2.0
    ),
    OpSpec(
        "scalar ** tensor",
        lambda a: 5.0**a,
        elementwise(lambda a: sympy.Integer(5) ** a),
        [(2, 3)],
    ),
    OpSpec("negate", lambda a: -a, lambda a: -a, [(2, 3)]),
    OpSpec("log", ad.log, elementwise(sympy.log), [(2, 3)], 0.2, 3.0),
    OpSpec("exp", ad.exp, elementwise(sympy.exp), [(2, 3)]),
    OpSpec("sin", ad.sin, elementwise(sympy.sin), [(2, 3)]),
    OpSpec("cos", ad.cos, elementwise(sympy.cos), [(2, 3)]),
    OpSpec("relu", ad.relu, elementwise(lambda a: sympy.Max(a, 0)), [(2, 3)]),
    OpSpec(
        "transpose last two",
        lambda a: ad.transpose(a) * ad.transpose(a),
        lambda a: np.swapaxes(a, -1, -2) ** 2,
        [(2, 3, 4)],
    ),
    OpSpec(
        "transpose axes",
        lambda a: ad.transpose(a, (0, 2)) ** 2,
        lambda a: np.swapaxes(a, 0, 2) ** 2,
        [(2, 3, 4)],
    ),
    OpSpec(
        "reshape",
        lambda a: ad.reshape(a, (3, 2)) ** 2,
        lambda a: np.reshape(a, (3, 2)) ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "reshape -1",
        lambda a: a.reshape(-1, 2) ** 3,
        lambda a: np.reshape(a, (-1, 2)) ** 3,
        [(2, 3)],
    ),
    OpSpec(
        "broadcast_to",
        lambda a: ad.broadcast_to(a, (4, 2, 3)) ** 2,
        lambda a: np.broadcast_to(a, (4, 2, 3)) ** 2,
        [(2, 1)],
    ),
    OpSpec(
        "summation all",
        lambda a: ad.summation(a**2),
        lambda a: np.array(np.sum(a**2), dtype=object),
        [(2, 3)],
    ),
    OpSpec(
        "summation axis",
        lambda a: ad.summation(a**2, axes=1),
        lambda a: np.sum(a**2, axis=1),
        [(2, 3)],
    ),
    OpSpec(
        "summation axes keepdims",
        lambda a: a.sum((0, -1), keepdims=True) ** 2,
        lambda a: np.sum(a, axis=(0, 2), keepdims=True) ** 2,
        [(2, 3, 2)],
    ),
    OpSpec("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (3, 4)]),
    OpSpec(
        "matmul batched", lambda a, b: ad.matmul(a, b), lambda a, b: a @ b, [(2, 2, 3), (2, 3, 2)]
    ),
    OpSpec(
        "matmul batch broadcast", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)]
    ),
    OpSpec("matmul vector-matrix", lambda a, b: a @ b, lambda a, b: a @ b, [(3,), (3, 2)]),
    OpSpec("matmul matrix-vector", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 2, 3), (3,)]),
    OpSpec(
        "matmul vector-vector",
        lambda a, b: a @ b,
        lambda a, b: np.array(np.dot(a, b), dtype=object),
        [(3,), (3,)],
    ),
    OpSpec(
        "composite",
        lambda a, b: ad.log(ad.exp(a) + b * b) / (1 + a * b),
        lambda a, b: elementwise(sympy.log)(elementwise(sympy.exp)(a) + b * b) / (1 + a * b),
        [(2,), (2,)],
        0.1,
        1.0,
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_leaves_its_inputs_untouched(spec):
    check_inputs_untouched(spec)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_derivatives(spec):
    check_spec(spec)


def test_every_needle_op_is_in_the_table():
    """The table covers each op class of needle's set (by the function that builds it)."""
    needle_ops = {
        ad.ops.EWiseAdd, ad.ops.AddScalar, ad.ops.EWiseMul, ad.ops.MulScalar,
        ad.ops.PowerScalar, ad.ops.EWisePow, ad.ops.EWiseDiv, ad.ops.DivScalar,
        ad.ops.Transpose, ad.ops.Reshape, ad.ops.BroadcastTo, ad.ops.Summation,
        ad.ops.MatMul, ad.ops.Negate, ad.ops.Log, ad.ops.Exp, ad.ops.ReLU,
    }  # fmt: skip
    seen = set()
    rng = np.random.default_rng(0)
    for spec in SPECS:
        leaves = [ad.Tensor(rng.uniform(0.5, 1.0, s)) for s in spec.shapes]
        seen |= {type(n.op) for n in ad.find_topo_sort([spec.fn(*leaves)]) if n.op is not None}
    assert needle_ops <= seen, needle_ops - seen
