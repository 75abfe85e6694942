"""Fuzzing: random expression graphs, differentiated twice, against sympy and finite differences.

Graphs come from ``tests/helpers/random_graphs.py`` (random shapes, broadcasting,
reductions, indexing, kinks). For each one:

* the oracle (tests/helpers/oracle.py) checks values and first and second derivatives
  against sympy's exact derivatives of an independent sympy version of the
  graph, numerically at a random point, plus ``gradcheck`` to second order;
* ``to_sympy`` of the graph equals that independent sympy version, and
  ``symbolic.check`` finds adjoint's first and second derivative graphs equal
  to ``sympy.diff`` of it.

The default profile is small and derandomized (the same examples every run),
so the suite stays fast. Run more by hand with, for example::

    ADJOINT_FUZZ_EXAMPLES=500 python -m pytest tests/ops/test_fuzz.py -q

and add ``ADJOINT_FUZZ_RANDOM=1`` to draw new examples on every run instead of
the fixed ones (hypothesis then prints a reproducing ``@seed`` on failure).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("hypothesis")
import sympy  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

import adjoint as ad  # noqa: E402
from adjoint import symbolic  # noqa: E402
from tests.helpers.oracle import OpSpec, check_spec  # noqa: E402
from tests.helpers.random_graphs import ALL_KINDS, RandomGraph, random_graphs  # noqa: E402

EXAMPLES = int(os.environ.get("ADJOINT_FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("ADJOINT_FUZZ_RANDOM", "") != "1",
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _symbols(graph: RandomGraph) -> list[np.ndarray]:
    result = []
    for k, shape in enumerate(graph.shapes):
        array = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            name = f"x{k}" + "".join(f"_{i}" for i in index)
            array[index] = sympy.Symbol(name, real=True)
        result.append(array)
    return result


@FUZZ
@given(random_graphs())
def test_random_graph_derivatives_match_sympy_and_finite_differences(graph):
    spec = OpSpec(repr(graph), graph.fn, graph.sym, graph.shapes, graph.low, graph.high)
    check_spec(spec, seed=graph.seed % 1000)


@FUZZ
@given(random_graphs(max_depth=2))
def test_random_graph_to_sympy_and_check(graph):
    values = graph.values()
    leaves = [ad.Tensor(v, name=f"x{k}") for k, v in enumerate(values)]
    out = graph.fn(*leaves)
    mine = np.asarray(symbolic.to_sympy(out), dtype=object)
    theirs = graph.sym(*_symbols(graph))
    assert mine.shape == theirs.shape == out.shape
    point = {s: v for sym, val in zip(_symbols(graph), values) for s, v in zip(sym.flat, val.flat)}
    for a, b in zip(mine.flat, theirs.flat):
        difference = sympy.sympify(a - b).xreplace(
            {s: sympy.Float(v, 30) for s, v in point.items()}
        )
        assert abs(complex(difference.evalf(30))) < 1e-12, (graph, a, b)

    weights = np.random.default_rng(graph.seed % 1000).standard_normal(out.shape)

    def scalar(*xs):
        return ad.sum(graph.fn(*xs) * ad.Tensor(weights, requires_grad=False))

    order = 2 if sum(v.size for v in values) <= 6 else 1
    report = symbolic.check(scalar, *values, order=order)
    assert report.ok, f"{graph}\n{report}"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_kind_runs_the_same_in_both_backends(kind):
    from hypothesis import strategies as st

    seen: set[str] = set()

    @settings(max_examples=6, derandomize=True, deadline=None, database=None)
    @given(st.data())
    def run(data):
        graph = data.draw(random_graphs(max_depth=2, kinds=(kind, "add")))
        stack = [graph.root]
        while stack:
            node = stack.pop()
            seen.add(node.kind)
            stack.extend(node.children)
        values = graph.values()
        out = graph.fn(*[ad.Tensor(v) for v in values])
        sym = graph.sym(*[np.asarray(v, dtype=object) for v in values])
        expected = np.array([float(sympy.sympify(e)) for e in sym.flat]).reshape(sym.shape)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
        assert repr(graph).startswith("RandomGraph(")

    run()
    assert kind in seen
