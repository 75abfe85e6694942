"""The ops beyond needle's set: values, first and second derivatives against sympy and FD.

One table drives one parametrized test (see oracle.py for the checks). Every
op has an entry, and each entry is differentiated twice. Most entries square
or multiply the op's output so that the second derivative is not trivially
zero and runs the op's gradient rule's own gradient (ScatterAdd's, for
indexing). Random sample points lie away from kinks and ties; the subgradient
at each kink is tested by value below.
"""

import numpy as np
import pytest
import sympy

import adjoint as ad
from tests.helpers.oracle import OpSpec, check_inputs_untouched, check_spec, elementwise


def sym_reduce(fn, axes=None, keepdims=False):
    """A reduction of object arrays: ``fn`` applied to the list of elements along ``axes``."""

    def apply(a):
        ndim = a.ndim
        red = tuple(range(ndim)) if axes is None else tuple(k % ndim for k in np.atleast_1d(axes))
        rest = [k for k in range(ndim) if k not in red]
        moved = np.transpose(a, rest + list(red))
        flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
        out = np.empty(flat.shape[:-1], dtype=object)
        for pos in np.ndindex(out.shape):
            out[pos] = fn(list(flat[pos]))
        if keepdims:
            out = out.reshape(tuple(1 if k in red else n for k, n in enumerate(a.shape)))
        return out

    return apply


def sym_logsumexp(items):
    return sympy.log(sympy.Add(*[sympy.exp(x) for x in items]))


def sym_softmax(a, axes):
    e = elementwise(sympy.exp)(a)
    return e / np.sum(e, axis=axes, keepdims=True)


def sym_log_softmax(a, axes):
    e = elementwise(sympy.exp)(a)
    return a - elementwise(sympy.log)(np.sum(e, axis=axes, keepdims=True))


def sym_scatter_add(g, index, shape):
    out = np.empty(shape, dtype=object)
    out[...] = sympy.Integer(0)
    np.add.at(out, index, g)
    return out


def sym_equal_max_row(a):
    """a * [a == max of its row], as a sympy Piecewise."""
    out = np.empty(a.shape, dtype=object)
    for i, j in np.ndindex(a.shape):
        top = sympy.Max(*a[i])
        out[i, j] = sympy.Piecewise((a[i, j], sympy.Eq(a[i, j], top)), (0, True))
    return out


MASK = np.array([[True], [False]])
BOOL = np.array([[True, False, True], [False, False, True]])
REPEATS = [0, 2, 0, -1]

SPECS = [
    # ------------------------------------------------------------- elementwise
    OpSpec("tanh", ad.tanh, elementwise(sympy.tanh), [(2, 3)]),
    OpSpec("tanh method", lambda a: a.tanh() * a, lambda a: elementwise(sympy.tanh)(a) * a, [(3,)]),
    OpSpec(
        "tanh_backward",  # tanh's adjoint rule as an op; squared, so its own rule runs twice
        lambda g, y: ad.tanh_backward(g, y) ** 2,
        lambda g, y: (g * (1 - y**2)) ** 2,
        [(2, 3), (2, 3)],
    ),
    OpSpec(
        "relu_backward",  # relu's adjoint rule as an op; times g, so its own rule runs
        lambda g, a: ad.relu_backward(g, a) * g,
        lambda g, a: g * elementwise(lambda v: sympy.Heaviside(v, 0))(a) * g,
        [(2, 3), (2, 3)],
    ),
    OpSpec(
        "tanh_backward broadcast",
        lambda g, y: ad.tanh_backward(g, y) * y,
        lambda g, y: g * (1 - y**2) * y,
        [(3,), (2, 3)],
    ),
    OpSpec(
        "sigmoid",
        ad.sigmoid,
        elementwise(lambda a: 1 / (1 + sympy.exp(-a))),
        [(2, 3)],
        -4.0,
        4.0,
    ),
    OpSpec("sqrt", ad.sqrt, elementwise(sympy.sqrt), [(2, 3)], 0.3, 3.0),
    OpSpec("abs", lambda a: abs(a) * a, lambda a: elementwise(sympy.Abs)(a) * a, [(2, 3)]),
    OpSpec("abs function", ad.abs, elementwise(sympy.Abs), [(4,)]),
    OpSpec(
        "sign", lambda a: ad.sign(a) * a**2, lambda a: elementwise(sympy.sign)(a) * a**2, [(5,)]
    ),
    OpSpec(
        "maximum broadcast",
        lambda a, b: ad.maximum(a, b) ** 2,
        lambda a, b: elementwise(sympy.Max)(a, b) ** 2,
        [(2, 3), (3,)],
    ),
    OpSpec(
        "maximum scalar",
        lambda a: ad.maximum(a, 0.3) * a,
        lambda a: elementwise(lambda x: sympy.Max(x, sympy.Float(0.3, 30)))(a) * a,
        [(2, 3)],
    ),
    OpSpec(
        "minimum broadcast both",
        lambda a, b: ad.minimum(a, b) * a,
        lambda a, b: elementwise(sympy.Min)(a, b) * a,
        [(2, 1), (1, 3)],
    ),
    OpSpec(
        "where broadcast",
        lambda a, b: ad.where(MASK, a * b, b**2),
        lambda a, b: np.where(MASK, a * b, b**2),
        [(1, 3), (2, 3)],
    ),
    OpSpec(
        "where scalar branch",
        lambda a: ad.where(BOOL, a**3, 0.5),
        lambda a: np.where(BOOL, a**3, sympy.Float(0.5, 30)),
        [(2, 3)],
    ),
    OpSpec(
        "equal_mask",
        lambda a: a * ad.equal_mask(a, ad.max(a, 1, keepdims=True)) * a,
        lambda a: sym_equal_max_row(a) * a,
        [(2, 3)],
    ),
    # ---------------------------------------------------------------- indexing
    OpSpec("getitem int", lambda a: a[1] ** 2, lambda a: a[1] ** 2, [(2, 3)]),
    OpSpec("getitem negative int", lambda a: a[-1, -2] ** 3, lambda a: a[-1, -2] ** 3, [(2, 3)]),
    OpSpec(
        "getitem slices with steps",
        lambda a: a[::-1, 1::2] ** 2,
        lambda a: a[::-1, 1::2] ** 2,
        [(3, 4)],
    ),
    OpSpec(
        "getitem None and Ellipsis",
        lambda a: a[None, ..., 0] * a[..., 1, None].T,
        lambda a: a[None, ..., 0] * a[..., 1, None].T,
        [(2, 3)],
    ),
    OpSpec(
        "getitem repeated int array",
        lambda a: a[REPEATS] ** 2,
        lambda a: a[REPEATS] ** 2,
        [(3, 2)],
    ),
    OpSpec(
        "getitem boolean mask",
        lambda a: a[BOOL] ** 2,
        lambda a: a[BOOL] ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "getitem arrays split by a slice",
        lambda a: a[[0, 1, 1], :, [2, 0, 2]] ** 2,
        lambda a: a[[0, 1, 1], :, [2, 0, 2]] ** 2,
        [(2, 2, 3)],
    ),
    OpSpec(
        "getitem broadcast index arrays",
        lambda a: a[np.array([[0], [1]]), np.array([2, 2, 0])] * a[0, 0],
        lambda a: a[np.array([[0], [1]]), np.array([2, 2, 0])] * a[0, 0],
        [(2, 3)],
    ),
    OpSpec(
        "getitem method-chain",
        lambda a: ad.getitem(a, (Ellipsis, slice(None, None, -2))) ** 2,
        lambda a: a[..., ::-2] ** 2,
        [(2, 5)],
    ),
    OpSpec(
        "scatter_add repeated",
        lambda g: ad.scatter_add(g, (REPEATS,), (3, 2)) ** 2,
        lambda g: sym_scatter_add(g, (REPEATS,), (3, 2)) ** 2,
        [(4, 2)],
    ),
    # ------------------------------------------------------------------- shape
    OpSpec(
        "permute",
        lambda a: ad.permute(a, (2, 0, 1)) ** 2,
        lambda a: np.transpose(a, (2, 0, 1)) ** 2,
        [(2, 3, 2)],
    ),
    OpSpec("T", lambda a: a.T * a.T, lambda a: a.T**2, [(2, 3, 2)]),
    OpSpec(
        "stack broadcast",
        lambda a, b: ad.stack([a * b, a], axis=1) ** 2,
        lambda a, b: np.stack([a * b, a], axis=1) ** 2,
        [(2, 3), (3,)],
    ),
    OpSpec(
        "stack negative axis",
        lambda a, b: ad.stack([a, b, a * b], axis=-1) * a[..., None],
        lambda a, b: np.stack([a, b, a * b], axis=-1) * a[..., None],
        [(3,), (3,)],
    ),
    OpSpec(
        "concatenate",
        lambda a, b: ad.concatenate([a, b * b, a], axis=1) ** 2,
        lambda a, b: np.concatenate([a, b * b, a], axis=1) ** 2,
        [(2, 3), (2, 1)],
    ),
    OpSpec(
        "split points",
        lambda a: (lambda p: p[0] * p[2] + p[1].sum(1, keepdims=True))(ad.split(a, [1, 3], 1)),
        lambda a: a[:, 0:1] * a[:, 3:4] + np.sum(a[:, 1:3], axis=1, keepdims=True),
        [(2, 4)],
    ),
    OpSpec(
        "split sections",
        lambda a: (lambda p: p[0] * p[1])(ad.split(a, 2, axis=0)),
        lambda a: a[:2] * a[2:],
        [(4, 2)],
    ),
    OpSpec("flatten", lambda a: a.flatten() ** 2, lambda a: a.reshape(-1) ** 2, [(2, 3, 2)]),
    OpSpec(
        "flatten range",
        lambda a: ad.flatten(a, 1) ** 3,
        lambda a: a.reshape(2, -1) ** 3,
        [(2, 2, 2)],
    ),
    OpSpec(
        "expand_dims",
        lambda a: ad.expand_dims(a, (0, -1)) ** 2,
        lambda a: a[None, :, :, None] ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "squeeze",
        lambda a, b: ad.squeeze(a, 1) * b,
        lambda a, b: a[:, 0, :] * b,
        [(2, 1, 3), (3,)],
    ),
    # -------------------------------------------------------------- reductions
    OpSpec(
        "max all",
        lambda a: ad.max(a) ** 2,
        lambda a: np.array(sympy.Max(*a.ravel()) ** 2, dtype=object),
        [(2, 3)],
    ),
    OpSpec(
        "max axes keepdims broadcast",
        lambda a, b: a.max((0, 2), keepdims=True) * b,
        lambda a, b: sym_reduce(lambda xs: sympy.Max(*xs), (0, 2), True)(a) * b,
        [(2, 3, 2), (3, 1)],
    ),
    OpSpec(
        "min axis",
        lambda a: ad.min(a, -1) ** 2,
        lambda a: sym_reduce(lambda xs: sympy.Min(*xs), -1)(a) ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "mean axes",
        lambda a: a.mean((0, -1)) ** 2,
        lambda a: (np.sum(a, axis=(0, 2)) / 4) ** 2,
        [(2, 3, 2)],
    ),
    OpSpec(
        "mean all",
        lambda a: ad.mean(a * a),
        lambda a: np.array(np.sum(a * a) / 6, dtype=object),
        [(2, 3)],
    ),
    OpSpec(
        "logsumexp axis",
        lambda a: ad.logsumexp(a, 1),
        sym_reduce(sym_logsumexp, 1),
        [(2, 3)],
    ),
    OpSpec(
        "logsumexp all keepdims",
        lambda a: ad.logsumexp(a, keepdims=True) * a,
        lambda a: sym_reduce(sym_logsumexp, None, True)(a) * a,
        [(2, 2)],
    ),
    OpSpec("softmax", ad.softmax, lambda a: sym_softmax(a, -1), [(2, 3)]),
    OpSpec(
        "softmax axes",
        lambda a: ad.softmax(a, (0, 1)),
        lambda a: sym_softmax(a, (0, 1)),
        [(2, 2, 2)],
    ),
    OpSpec("log_softmax", ad.log_softmax, lambda a: sym_log_softmax(a, -1), [(2, 3)]),
    OpSpec("logsoftmax", ad.logsoftmax, lambda a: sym_log_softmax(a, 1), [(3, 2)]),
    OpSpec(
        "log_softmax axis 0",
        lambda a: a.log_softmax(0) * a,
        lambda a: sym_log_softmax(a, 0) * a,
        [(3, 2)],
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_leaves_its_inputs_untouched(spec):
    check_inputs_untouched(spec)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_derivatives(spec):
    check_spec(spec)


def _ops_in(spec, backward=False):
    rng = np.random.default_rng(1)
    leaves = [ad.Tensor(rng.uniform(0.5, 1.0, s)) for s in spec.shapes]
    out = spec.fn(*leaves)
    nodes = ad.find_topo_sort([out])
    if backward:
        out.backward(ad.init.ones(*out.shape))
        nodes += ad.find_topo_sort([x.grad for x in leaves])
    return {type(n.op) for n in nodes if n.op is not None}


def test_every_new_op_is_in_the_table():
    """Each primitive and each function added beyond needle's set has an entry."""
    new_ops = {
        ad.ops.Tanh, ad.ops.TanhBackward, ad.ops.ReLUBackward, ad.ops.Sigmoid, ad.ops.Sqrt,
        ad.ops.Abs, ad.ops.Sign, ad.ops.EqualMask, ad.ops.Maximum, ad.ops.Minimum, ad.ops.Where,
        ad.ops.GetItem, ad.ops.ScatterAdd, ad.ops.Stack, ad.ops.Concatenate, ad.ops.Max,
        ad.ops.Min, ad.ops.Permute, ad.ops.LogSoftmax,
    }  # fmt: skip
    seen = set().union(*(_ops_in(spec) for spec in SPECS))
    assert new_ops <= seen, new_ops - seen
    names = {spec.name.split()[0] for spec in SPECS}
    functions = {
        "tanh", "tanh_backward", "relu_backward", "sigmoid", "sqrt", "abs", "sign", "maximum",
        "minimum", "where", "getitem", "scatter_add", "stack", "split", "concatenate", "max",
        "min", "mean", "logsumexp", "softmax", "log_softmax", "flatten", "expand_dims",
        "squeeze", "permute", "equal_mask", "logsoftmax",
    }  # fmt: skip
    assert functions <= names, functions - names


def test_every_new_function_is_exported():
    for name in [
        "tanh", "tanh_backward", "relu_backward", "sigmoid", "sqrt", "abs", "sign", "maximum",
        "minimum", "where", "getitem", "stack", "split", "concatenate", "max", "min", "mean",
        "logsumexp", "softmax", "log_softmax", "flatten", "expand_dims", "squeeze",
    ]:  # fmt: skip
        assert callable(getattr(ad, name)), name
        assert getattr(ad, name) is getattr(ad.ops, name), name


# --------------------------------------------------------------------- kinks


def _grad(fn, x):
    x = ad.Tensor(x)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_relu_abs_sign_subgradients_at_zero():
    x = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(_grad(ad.relu, x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(ad.abs, x), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(abs, x), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(ad.sign, x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.sign(ad.Tensor(x)).numpy(), [-1.0, 0.0, 1.0])


def test_maximum_and_minimum_ties_split_the_gradient():
    a = ad.Tensor([1.0, 2.0, 3.0])
    b = ad.Tensor([2.0, 2.0, 2.0])
    (ad.maximum(a, b) * ad.Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 5.0, 100.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 5.0, 0.0])
    ad.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.5, 1.0])
    x = ad.Tensor(2.0)
    ad.maximum(x, x).backward()  # both halves come back to x
    assert float(x.grad) == 1.0


def test_max_and_min_ties_share_the_gradient_equally():
    x = ad.Tensor([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]])
    x.max(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.min(keepdims=True).backward(ad.Tensor([[6.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[6.0, 0, 0], [0, 0, 0]])
    y = ad.Tensor([[2.0, 2.0], [1.0, 2.0]])
    ad.max(y, 0).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[1.0, 0.5], [0.0, 0.5]])


def test_max_with_ties_second_derivative():
    """d2/dx2 of max(x)**2 with a two-way tie: the share of 2*max is linear in x."""
    x = ad.Tensor([3.0, 1.0, 3.0])
    (ad.max(x) ** 2).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 3.0])
    g = x.grad
    x.grad = None
    (g * ad.Tensor([1.0, 0.0, 0.0])).sum().backward()
    # g = 2 m mask / 2 = m mask and m is the max: dm/dx = [1/2, 0, 1/2]
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 0.5])


def test_where_sends_nothing_to_the_unselected_branch():
    a = ad.Tensor([1.0, -2.0])
    b = ad.Tensor([3.0, 4.0])
    ad.where(a > 0, a * 10, b * 100).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [10.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 100.0])
    c = ad.Tensor([0.0, 1.0])
    ad.where(ad.step(c), c, -c).sum().backward()  # a numeric condition, lazy-friendly
    np.testing.assert_array_equal(c.grad.numpy(), [-1.0, 1.0])


def test_repeated_indices_accumulate():
    x = ad.Tensor([1.0, 2.0, 3.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    (x[[1, 1]] ** 2).sum().backward()
    g = x.grad
    np.testing.assert_array_equal(g.numpy(), [0.0, 8.0, 0.0])
    x.grad = None
    g.sum().backward()  # d/dx of 2 * 2 * x1 summed over the repeats
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 0.0])


def test_indexing_matches_numpy_for_every_index_kind():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4, 5))
    x = ad.Tensor(data)
    mask = data[:, :, 0] > 0
    indexes = [
        0, -1, (1, -2, 3), slice(None, None, -1), (slice(1, None, 2), Ellipsis, slice(None, 1)),
        (None, 1), (Ellipsis, None), ([2, 0, 2],),
        (np.array([[0, 1], [2, 2]]), slice(1, 3), [4, 0]), (mask,), (mask, 0), (1, mask[0]),
        (Ellipsis, [1, 1]), (0, None, [1, 2], slice(None, None, -1)), (), np.int64(2),
        (slice(None), np.array([True, False, True, True])), ad.Tensor([1, 0], dtype=np.int64),
    ]  # fmt: skip
    for index in indexes:
        want = data[index.numpy() if isinstance(index, ad.Tensor) else index]
        got = x[index]
        np.testing.assert_array_equal(got.numpy(), want)
        assert got.shape == want.shape


def test_iteration_and_len_follow_the_first_axis():
    x = ad.Tensor(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[2].numpy(), [4.0, 5.0])
    with pytest.raises(TypeError, match="0-d"):
        iter(ad.Tensor(1.0))


def test_split_without_sections_is_needles_unstack():
    rng = np.random.default_rng(3)
    parts = [ad.Tensor(rng.standard_normal((2, 3))) for _ in range(4)]
    stacked = ad.stack(parts, axis=1)
    pieces = ad.split(stacked, axis=1)
    assert len(pieces) == 4
    for piece, part in zip(pieces, parts):
        assert piece.shape == (2, 3)
        np.testing.assert_array_equal(piece.numpy(), part.numpy())
    (pieces[2] * pieces[2]).sum().backward()
    np.testing.assert_array_equal(parts[2].grad.numpy(), 2 * parts[2].numpy())
    np.testing.assert_array_equal(parts[0].grad.numpy(), np.zeros((2, 3)))


def test_split_and_concatenate_are_inverse():
    x = ad.Tensor(np.arange(12.0).reshape(2, 6))
    pieces = ad.split(x, [1, 4], axis=-1)
    assert [p.shape for p in pieces] == [(2, 1), (2, 3), (2, 2)]
    np.testing.assert_array_equal(ad.concatenate(pieces, axis=1).numpy(), x.numpy())
    ad.concatenate(pieces[::-1], axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 6)))
    u = ad.stack(list(x), axis=0)
    np.testing.assert_array_equal(u.numpy(), x.numpy())


# ------------------------------------------------------- tanh's adjoint as one op


def test_tanh_adjoint_is_one_node_with_the_bits_of_the_composition():
    """TanhBackward replaces ``g * (1 - y * y)`` (four nodes) and computes the same bits."""
    rng = np.random.default_rng(5)
    x = ad.Tensor(rng.uniform(-4, 4, (3, 5)))
    g = ad.Tensor(rng.standard_normal((3, 5)), requires_grad=False)
    y = ad.tanh(x)
    y.backward(g)
    assert type(x.grad.op) is ad.ops.TanhBackward
    assert x.grad.inputs[0] is not None and x.grad.inputs[1] is y
    np.testing.assert_array_equal(x.grad.numpy(), (g * (1 - y * y)).numpy())


def test_relu_adjoint_is_one_node_with_the_bits_of_the_composition():
    """ReLUBackward replaces ``g * step(a)`` and computes the same bits, signed zeros and
    NaN included."""
    a = ad.Tensor([-2.0, -0.0, 0.0, 1e-300, 3.0, np.inf, -np.inf])
    g = ad.Tensor([1.5, -1.0, 2.0, -3.0, np.nan, -4.0, np.inf], requires_grad=False)
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN on purpose
        ad.relu(a).backward(g)
        fused, composed = a.grad.numpy(), (g * ad.step(a)).numpy()
    assert type(a.grad.op) is ad.ops.ReLUBackward and a.grad.inputs[1] is a
    np.testing.assert_array_equal(fused, composed)
    assert (np.signbit(fused) == np.signbit(composed)).all()
    for lazy in (False, True):  # the boolean mask never promotes: the adjoint has g's dtype
        with ad.lazy_mode(lazy):
            out = ad.relu_backward(ad.Tensor(np.ones(3, np.float32)), ad.Tensor([-1.0, 0.0, 2.0]))
            assert out.dtype == np.float32
        assert out.numpy().dtype == np.float32


def test_tanh_backward_simplifies_as_the_polynomial_it_is():
    """The simplifier reads TanhBackward as g - g y**2: in a larger polynomial it gives the
    same normal form as the composition it replaces (here g, plus the cancelled term that
    the pass keeps as 0 * g y**2)."""
    x = ad.Tensor(0.7)
    g, y = ad.sin(x), ad.tanh(x)
    fused = ad.simplify(ad.tanh_backward(g, y) + g * y * y)
    composed = ad.simplify(g * (1 - y * y) + g * y * y)
    assert ad.Graph(fused.output).summary() == ad.Graph(composed.output).summary()
    assert "TanhBackward" not in ad.Graph(fused.output).op_counts()
    assert float(fused.output) == float(g)
    alone = ad.simplify(ad.tanh_backward(g, y))  # alone, one node is the smaller form
    assert alone.after == alone.before == 4


# ------------------------------------------------------- sigmoid's dedicated op


def test_sigmoid_op_equals_its_compositions():
    """Sigmoid is a dedicated op (see its docstring); it agrees with the formulas it replaces,
    to second order, where those formulas are accurate."""
    data = np.linspace(-20.0, 20.0, 41)
    naive = lambda t: 1 / (1 + ad.exp(-t))
    via_tanh = lambda t: 0.5 + 0.5 * ad.tanh(t * 0.5)
    results = []
    for fn in (ad.sigmoid, naive, via_tanh):
        x = ad.Tensor(data)
        y = fn(x)
        y.backward(ad.init.ones(*y.shape))
        g = x.grad
        x.grad = None
        g.sum().backward()
        results.append([y.numpy(), g.numpy(), x.grad.numpy()])
    for other in results[1:]:
        for mine, theirs in zip(results[0], other):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


def test_sigmoid_is_accurate_in_both_tails():
    x = np.array([-745.0, -40.0, -30.0, 30.0, 40.0])
    want = np.exp(-np.logaddexp(0.0, -x))  # the log-domain formula, accurate to rounding
    np.testing.assert_allclose(ad.sigmoid(ad.Tensor(x)).numpy(), want, rtol=1e-14)
    t = ad.Tensor(x)
    ad.sigmoid(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), want * np.exp(-np.logaddexp(0.0, x)), rtol=1e-14)
    # the tanh composition loses the left tail entirely
    assert float(0.5 + 0.5 * ad.tanh(ad.Tensor(-40.0) * 0.5)) == 0.0


def test_indexing_ops_compute_on_sympy_object_arrays():
    """Symbolic translation runs compute on object arrays: elements stay expressions."""
    g = np.empty((), dtype=object)
    g[()] = sympy.Symbol("g")
    out = ad.ops.ScatterAdd((1,), (3,)).compute(g)
    assert out.dtype == object and out[1] == sympy.Symbol("g") and out[0] == 0
    repeated = ad.ops.ScatterAdd((np.array([0, 0]),), (2,)).compute(np.array([g[()], g[()]]))
    assert repeated[0] == 2 * sympy.Symbol("g")


# ------------------------------------------------------- lazy shape and dtype inference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_lazy_inference_agrees_with_the_computed_data(spec, dtype):
    """Every node of each op's forward and gradient graphs, recorded lazily, has the shape
    and dtype that computing it gives (the inference rules, and the elementwise shortcut
    of ``keeps_float_meta``)."""
    rng = np.random.default_rng(3)
    with ad.lazy_mode():
        leaves = [ad.Tensor(rng.uniform(spec.low, spec.high, s).astype(dtype)) for s in spec.shapes]
        out = spec.fn(*leaves)
        out.backward(ad.init.ones(*out.shape, dtype=out.dtype))
        nodes = ad.find_topo_sort([out, *[x.grad for x in leaves]])
        inferred = {id(n): (n.shape, n.dtype) for n in nodes if n.cached_data is None}
    assert inferred, "nothing was recorded lazily"
    for node in nodes:
        data = node.realize_cached_data()
        if id(node) in inferred:
            computed = (data.shape, ad.device.host_dtype(data.dtype))  # NumPy's, any device
            assert inferred[id(node)] == computed, node.op
