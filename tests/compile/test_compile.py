"""Compiled graphs (issue 19's compiler core): ``ad.compile``, ``Graph.compile``, ``Graph.run``.

Every compiled graph equals the eager graph to the last bit on NumPy (values
and dtypes), over random graphs and their derivatives to the 3rd order,
Hessians and lazy graphs; on JAX (where installed) within 1e-12 relative in
float64. The source is readable (names, comments, one line per node after
CSE); mismatched inputs raise errors that name them; ops without a source
form fall back to their ``compute`` and are counted.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings

import adjoint as ad
from adjoint.compiler import CompiledGraph, generate
from adjoint.graph.run import run_graph
from tests.helpers.exprgen import scalar_program, tensor_program
from tests.helpers.random_graphs import random_graphs

FEW = settings(max_examples=25, derandomize=True, deadline=None, database=None)


def assert_bits(got, want):
    """Equal values to the last bit (NaNs in the same places) and equal dtypes."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


def _eager(fn, *values):
    out = fn(*[ad.Tensor(v) for v in values])
    if isinstance(out, tuple):
        return [o.numpy() for o in out]
    return out.numpy()


def _derivatives(fn, n_inputs):
    """fn (summed to a scalar) and its gradients of order 1..3 in the first argument."""
    total = lambda *xs: ad.summation(fn(*xs))  # noqa: E731
    d1 = ad.grad(total)
    d2 = ad.grad(lambda *xs: ad.summation(d1(*xs)))
    d3 = ad.grad(lambda *xs: ad.summation(d2(*xs) * d2(*xs)))
    return [fn, d1, d2, d3]


# ------------------------------------------------------------------ NumPy: bits


@FEW
@given(random_graphs())
def test_random_graphs_and_their_derivatives_compile_to_the_same_bits(graph):
    values = graph.values()
    for fn in _derivatives(graph.fn, len(values)):
        want = _eager(fn, *values)
        got = ad.compile(fn)(*values)
        assert_bits(got, want)


@pytest.mark.parametrize("seed", range(6))
def test_tensor_programs_hessians_and_third_derivatives_compile_to_the_same_bits(seed):
    program = tensor_program(seed)
    x = np.random.default_rng(seed).uniform(-1.4, 1.4, size=program.input_shape)
    for fn in [program.fn, ad.grad(program.fn), ad.hessian(program.fn)]:
        assert_bits(ad.compile(fn)(x), _eager(fn, x))
    d3 = ad.grad(lambda x: ad.summation(ad.hessian(program.fn)(x)))
    assert_bits(ad.compile(d3)(x), _eager(d3, x))


@pytest.mark.parametrize("seed", range(6))
def test_scalar_programs_of_two_inputs_and_their_derivatives(seed):
    program = scalar_program(seed, inputs=2)
    x, y = np.random.default_rng(seed).uniform(-1.4, 1.4, size=2)
    fns = [program.fn, ad.grad(program.fn, argnums=(0, 1))]
    fns.append(ad.grad(lambda x, y: ad.grad(program.fn, 1)(x, y), 0))
    fns.append(ad.grad(ad.grad(ad.grad(program.fn))))
    for fn in fns:
        got = ad.compile(fn)(np.float64(x), np.float64(y))
        want = _eager(fn, x, y)
        if isinstance(got, tuple):
            for a, b in zip(got, want):
                assert_bits(a, b)
        else:
            assert_bits(got, want)


@pytest.mark.slow  # 5 to 35 s a case: every order is traced three times
@pytest.mark.parametrize("seed", range(4))
def test_nested_grad_to_the_8th_order_compiles_to_the_same_bits(seed, mode):
    """As users reach scalar derivatives: nested ad.grad with its default settings (simplified
    from the 3rd order on), eager or lazy; ad.compile and Graph.run's compiled plan."""
    program = scalar_program(seed)
    x = np.float64(np.random.default_rng(seed).uniform(-1.4, 1.4))
    fn = program.fn
    for _ in range(8):
        fn = ad.grad(fn)
        want = _eager(fn, x)
        assert_bits(ad.compile(fn)(x), want)
    leaf = ad.Tensor(x, name="x")
    graph = ad.Graph(fn(leaf))
    first, second = graph.run({leaf: x + 0.25}), graph.run({leaf: x + 0.25})  # plain, compiled
    assert graph._plan  # the second run took the compiled plan
    assert_bits(second[0], first[0])


def test_the_8th_derivative_of_the_tour_compiles_to_the_same_bits(mode):
    fn = lambda x: x * ad.log(1 + x**2)  # noqa: E731
    for _ in range(8):
        fn = ad.grad(fn)
    x = np.float64(-0.939)
    compiled = ad.compile(fn)
    assert_bits(compiled(x), _eager(fn, x))
    assert_bits(compiled(x + 1), _eager(fn, x + 1))  # the cached program, new values


def test_lazy_graphs_compile_to_the_bits_of_their_realized_values():
    x = ad.Tensor(np.linspace(-1, 1, 5), name="x", requires_grad=True)
    with ad.lazy_mode():
        y = ad.tanh(x) * ad.exp(x) + ad.summation(x * x)
        (g,) = ad.autograd.gradients(ad.summation(y), [x])
        (h,) = ad.autograd.gradients(ad.summation(g * g), [x])
    compiled = ad.Graph([y, g, h]).compile(inputs=[x])
    assert y.cached_data is None and h.cached_data is None  # compiling computes nothing
    got = compiled(x.numpy())
    for out, want in zip(got, [y, g, h]):
        assert_bits(out, want.numpy())
    new = np.linspace(0, 2, 5)
    for out, want in zip(compiled(new), ad.Graph([y, g, h]).run({x: new})):
        assert_bits(out, want)


def test_the_compiled_function_returns_what_f_returns_and_caches_per_shape_and_dtype():
    f = ad.compile(lambda x, y: (x * y, ad.exp(x) + y))
    a, b = f(np.ones(2), np.arange(2.0))
    assert_bits(a, np.arange(2.0))
    assert isinstance(f(np.ones(3), np.ones(3)), tuple)
    assert len(f.compiled) == 2
    f(np.ones(3), np.ones(3))
    assert len(f.compiled) == 2  # cached
    single = ad.compile(lambda x: ad.sin(x))
    assert isinstance(single(0.5), np.ndarray) and single(0.5).shape == ()
    assert_bits(single(0.5), np.asarray(np.sin(0.5)))
    assert single.source.startswith("def compiled(x):")


def test_outputs_never_share_memory_with_inputs_or_constants():
    c = ad.Tensor([1.0, 2.0])
    x = ad.Tensor([3.0, 4.0], requires_grad=True)
    y = ad.reshape(x, (2, 1))
    compiled = ad.Graph([x, y, c + 0 * x]).compile(inputs=[x])
    data = np.array([5.0, 6.0])
    outs = compiled(data)
    for out in outs:
        assert not np.shares_memory(out, data)
        assert not np.shares_memory(out, c.cached_data)
    outs[0][0] = 99.0
    assert data[0] == 5.0


# -------------------------------------------------------------- the source


def test_the_source_has_names_comments_and_one_line_per_node():
    x = ad.Tensor([0.5, 1.5], name="x", requires_grad=True)
    w = ad.Tensor([2.0, 3.0], name="weight 1")  # a constant leaf, named
    hidden = ad.tanh(x * w)
    hidden.name = "hidden"
    y = ad.summation(hidden)
    (g,) = ad.autograd.gradients(y, [x])
    g.name = "dy/dx"
    compiled = ad.Graph([y, g]).compile(inputs=[x])
    src = compiled.source
    lines = src.splitlines()
    assert lines[0] == "def compiled(x):"
    assert "weight_1" in src and "hidden = " in src and "dy_dx = " in src
    body = [line for line in lines if " = " in line and not line.lstrip().startswith("#")]
    assert len(body) == compiled.stats["lines"]
    assert all("# " in line and ", order " in line for line in body)
    assert any("order 1" in line for line in body) and any("order 0" in line for line in body)
    assert any("(Tanh rule)" in line for line in body)
    assert lines[-1].strip() == "return (y, dy_dx)" or lines[-1].strip().startswith("return (")
    compile(src, "<test>", "exec")  # valid Python


def test_unnamed_nodes_take_the_textbook_labels_of_the_tables():
    x = ad.Tensor(0.5, requires_grad=True)
    y = ad.exp(x) * x
    graph = ad.Graph(y)
    program = generate([y], [x])
    assert program.params == [graph.label(x)]
    assert f"{graph.label(y)} = " in program.source


def test_cse_merges_nodes_of_one_op_with_equal_attributes_and_inputs():
    x = ad.Tensor([0.5, 1.5], requires_grad=True)
    a, b = ad.exp(x), ad.exp(x)  # two nodes, one line
    s1, s2 = x + 2.0, x + 2.0
    s3 = x + 3.0  # another scalar: another line
    y = a * b + s1 * s2 + s3
    compiled = ad.Graph(y).compile(inputs=[x])
    counts = ad.Graph(y).op_counts()
    assert counts["Exp"] == 2 and counts["AddScalar"] == 3
    assert compiled.source.count("Exp, order 0") == 1
    assert compiled.source.count("AddScalar, order 0") == 2
    assert compiled.stats["lines"] == compiled.stats["op_nodes"] - 2
    assert_bits(compiled(x.numpy())[0], y.numpy())


def test_cse_tells_zero_from_negative_zero():
    x = ad.Tensor([1.0], requires_grad=True)
    y = ad.mul_scalar(x, 0.0) + ad.mul_scalar(x, -0.0)
    compiled = ad.Graph(y).compile(inputs=[x])
    assert compiled.source.count("MulScalar") == 2


class Cube(ad.TensorOp):
    """x ** 3 with a source form (a user op)."""

    def compute(self, a):
        return a * a * a

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return out_grad * a * a * 3.0

    def source(self, args, const):
        return f"{args[0]} * {args[0]} * {args[0]}"


class Twice(ad.TensorOp):
    """2 x with no source form: the compiled code calls its compute."""

    def compute(self, a):
        return a * 2.0

    def gradient(self, out_grad, node):
        return Twice()(out_grad)


def test_an_op_with_a_source_form_is_written_inline_and_one_without_calls_compute():
    x = ad.Tensor([0.5, 2.0], name="x", requires_grad=True)
    y = Twice()(Cube()(x))
    compiled = ad.Graph(y).compile(inputs=[x])
    assert "x * x * x" in compiled.source
    assert "twice_op(" in compiled.source and "no source form" in compiled.source
    assert compiled.fallbacks.get("Twice") == 1 and "Cube" not in compiled.fallbacks
    assert_bits(compiled(np.array([1.0, 3.0]))[0], np.array([2.0, 54.0]))


def test_a_subclass_that_redefines_compute_does_not_inherit_the_source_form():
    class DoubledExp(ad.ops.Exp):  # a user's op built on one of adjoint's
        def compute(self, a):
            return np.exp(a) * 2

    x = ad.Tensor(np.array([0.5, -1.0]), name="x")
    y = DoubledExp()(x) + ad.exp(x)
    compiled = ad.Graph(y).compile(inputs=[x])
    assert "xp.exp(x)" in compiled.source and "doubledexp_op(x)" in compiled.source
    np.testing.assert_array_equal(compiled(x.numpy())[0], y.numpy())


def test_hoisted_constants_are_names_not_literals():
    class Pick(ad.TensorOp):
        def __init__(self, index):
            self.index = index

        def compute(self, a):
            return a[self.index]

        def gradient(self, out_grad, node):
            raise NotImplementedError

        def source(self, args, const):
            return f"{args[0]}[{const(self.index)}]"

    x = ad.Tensor(np.arange(5.0), requires_grad=True)
    index = np.array([4, 0, 4])
    y = Pick(index)(x) + Pick(np.array([4, 0, 4]))(x)
    compiled = ad.Graph(y).compile(inputs=[x])
    assert "c1 = int64[3] [4, 0, 4]" in compiled.source
    assert compiled.source.count("Pick, order 0") == 1  # equal index arrays: one line
    assert_bits(compiled(np.arange(5.0) + 1)[0], np.array([10.0, 2.0, 10.0]))


# ------------------------------------------------------------------ errors


def test_a_wrong_shape_or_dtype_names_the_input_and_both():
    x = ad.Tensor(np.zeros(3), name="x", requires_grad=True)
    compiled = ad.Graph(ad.exp(x)).compile(inputs=[x])
    with pytest.raises(ValueError, match=r"'x' has shape \(4,\).*compiled for shape \(3,\)"):
        compiled(np.zeros(4))
    with pytest.raises(TypeError, match="not supported"):
        compiled(np.zeros(3, dtype=complex))
    x32 = ad.Tensor(np.zeros(3, dtype=np.float32), name="x32", requires_grad=True)
    compiled32 = ad.Graph(ad.exp(x32)).compile(inputs=[x32])
    with pytest.raises(TypeError, match=r"'x32' was compiled for dtype float32, got dtype float64"):
        compiled32(np.zeros(3))
    with pytest.raises(TypeError, match="takes 1 input"):
        compiled(np.zeros(3), np.zeros(3))
    assert_bits(compiled(np.zeros(3, dtype=np.int32))[0], np.ones(3))  # safe casts convert
    assert_bits(compiled([0, 0, 0])[0], np.ones(3))


def test_bad_arguments_to_compile():
    x = ad.Tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="backend must be one of"):
        ad.compile(lambda x: x, backend="torch")
    with pytest.raises(TypeError, match="give the inputs too"):
        ad.compile(ad.exp(x))
    with pytest.raises(TypeError, match="must return a Tensor"):
        ad.compile(lambda x: 3)(1.0)
    assert isinstance(ad.compile(ad.exp(x), [x]), CompiledGraph)


def test_without_jax_the_jax_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(ImportError, match=r'pip install "adjoint\[jax\]"'):
        ad.compile(lambda x: x, backend="jax")


# ------------------------------------------------------------ Graph.run


def test_graph_run_takes_the_compiled_path_with_the_same_bits():
    x = ad.Tensor(np.linspace(-1, 1, 4), name="x", requires_grad=True)
    c = ad.Tensor(np.array([1.0, 2.0, 3.0, 4.0]))
    y = ad.summation(ad.sin(x) * c)
    (g,) = ad.autograd.gradients(y, [x])
    graph = ad.Graph([y, g])
    feeds = [{x: np.linspace(0, 1, 4)}, {"x": np.arange(4)}, None]
    for feed in feeds:
        first = graph.run(feed)
        again = graph.run(feed)  # compiled from the second run on
        for a, b, want in zip(first, again, run_graph(graph, feed)):
            assert_bits(a, want)
            assert_bits(b, want)
    assert isinstance(graph._plan, CompiledGraph)
    # A leaf given new data is read at each run.
    c.cached_data = np.array([0.0, 0.0, 0.0, 1.0])
    for a, want in zip(graph.run(), run_graph(graph)):
        assert_bits(a, want)
    # A batch takes the plain path, with its semantics.
    batch = graph.run({x: np.zeros((3, 4))})
    assert batch[0].shape == (3,) and batch[1].shape == (3, 4)
    # Outputs that are leaves are copies.
    out = ad.Graph([x]).run()
    out = ad.Graph([x]).run()
    assert not np.shares_memory(out[0], x.cached_data)


def test_graph_run_errors_are_those_of_the_plain_path():
    x = ad.Tensor(np.zeros(3), requires_grad=True)
    graph = ad.Graph(ad.exp(x))
    graph.run()
    graph.run()
    with pytest.raises(TypeError, match="Graph.run"):
        graph.run({x: np.zeros(3, dtype=complex)})
    with pytest.raises(KeyError, match="Graph.run"):
        graph.run({"nope": 1.0})


# -------------------------------------------------------------------- JAX


def _close(got, want):
    """Within 1e-12 relative, for each output as a whole: each element within 1e-12 of
    itself or of the output's largest magnitude. XLA's exp, tanh and log differ from
    NumPy's by an ulp or two, and a Hessian entry that is a difference of such terms
    (0.007 from terms near 1) carries that error relative to the terms, not to itself."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = float(np.max(np.abs(want), initial=0.0)) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=max(1e-12 * scale, 1e-300))


@pytest.mark.parametrize("seed", range(4))
def test_jax_backend_within_1e_12_on_programs_and_their_derivatives(seed):
    pytest.importorskip("jax")
    program = tensor_program(seed)
    x = np.random.default_rng(seed).uniform(-1.4, 1.4, size=program.input_shape)
    fns = [program.fn, ad.grad(program.fn), ad.hessian(program.fn)]
    fns.append(ad.grad(lambda x: ad.summation(ad.grad(program.fn)(x) ** 2)))
    for fn in fns:
        _close(ad.compile(fn, backend="jax")(x), _eager(fn, x))


@settings(max_examples=8, derandomize=True, deadline=None, database=None)
@given(random_graphs())
def test_jax_backend_on_random_graphs(graph):
    pytest.importorskip("jax")
    values = graph.values()
    for fn in _derivatives(graph.fn, len(values))[:3]:
        _close(ad.compile(fn, backend="jax")(*values), _eager(fn, *values))


def test_jax_runs_ops_it_cannot_trace_on_the_host_and_counts_them():
    pytest.importorskip("jax")

    def numpy_only(a):
        out = np.zeros(a.shape)
        out[...] = np.asarray(a) * 2.0  # writes in place: no JAX form
        return out

    class Doubled(Twice):
        def source(self, args, const):
            return f"{const(numpy_only)}({args[0]})"

    x = ad.Tensor([1.0, 2.0], name="x", requires_grad=True)
    y = ad.exp(Doubled()(x))
    compiled = ad.Graph(y).compile(inputs=[x], backend="jax")
    assert compiled.fallbacks.get("Doubled") == 1
    _close(compiled(np.array([0.5, 1.0]))[0], np.exp(np.array([1.0, 2.0])))
    assert compiled.backend == "jax"


# ------------------------------------------------- Jacobians in compiled code


def _rosenbrock(x):
    a, b = x[::2], x[1::2]
    return ad.summation(100 * (b - a * a) * (b - a * a) + (1 - a) * (1 - a))


def test_a_hessian_compiles_to_a_kernel_line_not_a_fallback_and_equals_eager():
    x = np.random.default_rng(7).uniform(-1.5, 1.5, 12)
    h = ad.compile(ad.hessian(_rosenbrock))
    assert_bits(h(x), _eager(ad.hessian(_rosenbrock), x))
    (compiled,) = h.compiled.values()
    assert compiled.fallbacks == {}
    assert "= c1(xp, x)  # Jacobian, order 0" in h.source and "Jacobian of" in h.source


def _no_host_calls(compiled, *args):
    import jax

    return "pure_callback" not in str(jax.make_jaxpr(compiled._function)(*args))


@pytest.mark.parametrize("chunked", [False, True])
def test_jax_compiles_the_whole_hessian_without_host_calls(chunked, monkeypatch):
    pytest.importorskip("jax")
    if chunked:  # basis cotangents in chunks of a few: the jax.lax.map path
        monkeypatch.setattr(ad.functional, "BATCH_ELEMENTS", 40)
    x = np.random.default_rng(8).uniform(-1.5, 1.5, 10)
    h = ad.compile(ad.hessian(_rosenbrock), backend="jax")
    _close(h(x), _eager(ad.hessian(_rosenbrock), x))
    (compiled,) = h.compiled.values()
    assert compiled.fallbacks == {} and _no_host_calls(compiled, x)
    # and the same Jacobian through its gradient rule, third derivatives included
    d3 = ad.grad(lambda x: ad.summation(ad.hessian(_rosenbrock)(x) * x))
    _close(ad.compile(d3, backend="jax")(x), _eager(d3, x))


def test_jax_jacobians_of_several_arguments_and_of_an_unused_one():
    pytest.importorskip("jax")
    x = np.array([0.3, -0.7, 1.1])
    y = np.array([[1.0, 2.0], [0.5, -1.0]])

    def f(x, y):
        return ad.sin(x) * ad.summation(y * y)

    for argnum in (0, 1):
        jac = ad.jacobian(f, argnums=argnum)
        _close(ad.compile(jac, backend="jax")(x, y), _eager(jac, x, y))
    unused = ad.jacobian(lambda x, y: y * 2.0, argnums=0)  # no path from x: zeros
    got = ad.compile(unused, backend="jax")(x, y)
    _close(got, _eager(unused, x, y))
    assert got.shape == (2, 2, 3) and not got.any()


def test_the_package_and_the_function_do_not_hide_each_other():
    import adjoint.compiler.codegen as codegen

    assert codegen.generate is generate
    assert callable(ad.compile) and ad.compile.__module__ == "adjoint.compiler.function"


@pytest.mark.parametrize(
    "index",
    [np.s_[::2], np.s_[1::3], np.s_[-5:], np.s_[2:9:4, 1:], np.s_[:0], np.s_[::2, ::5]],
)
def test_jax_scatter_of_slices_is_embedded_without_scatters(index):
    """The adjoint of a slice on JAX interleaves and concatenates zeros (no XLA scatter);
    its value and its gradient's equal the eager ones."""
    pytest.importorskip("jax")
    import jax

    x0 = np.random.default_rng(9).normal(size=(10, 11))
    x = ad.Tensor(x0, name="x", requires_grad=True)
    (g,) = ad.autograd.gradients(ad.summation(ad.sin(x[index]) * 3.0), [x])
    compiled = ad.Graph(g).compile(inputs=[x], backend="jax")
    _close(compiled(x0)[0], g.numpy())
    assert compiled.fallbacks == {}
    assert "scatter" not in str(jax.make_jaxpr(compiled._function)(x0))
