"""More of NumPy (issue 20): einsum, cumsum, cumprod, clip, where, log1p, expm1, logaddexp,
softplus, square, reciprocal, pad, flip, roll, tile, repeat, sort, argsort, take_along_axis,
var and std.

One table (SPECS, the oracle of tests/helpers/oracle.py) checks values, first and second
derivatives against sympy exactly and central finite differences; the scalar-valued ones
go to the third order with ``symbolic.check`` and ``gradcheck``; PyTorch, where installed,
gives the values, gradients and Hessian-vector products of the same functions. Then the
kinks and the rules chosen there (clip's bounds, sort's ties, cumprod at zeros), the
errors, the Tensor methods and Graph.run on batches.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint import symbolic
from tests.helpers.oracle import OpSpec, check_inputs_untouched, check_spec, elementwise


def sym_sort(a, axis=-1):
    """Sorted object arrays: the k-th smallest of a lane is Min over (k+1)-sets of their Max."""
    moved = np.moveaxis(a, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for pos in np.ndindex(moved.shape[:-1]):
        items = list(moved[pos])
        for k in range(len(items)):
            out[pos + (k,)] = sympy.Min(
                *(sympy.Max(*c) for c in itertools.combinations(items, k + 1))
            )
    return np.moveaxis(out, -1, axis)


def sym_cumprod(a, axis):
    return np.cumprod(a, axis=axis)


def half(x):
    return sympy.Rational(1, 2) if x is None else x


LOW, HIGH = sympy.Rational(-1, 2), sympy.Float(0.7, 30)
COND = np.array([[[True, False, True]], [[False, False, True]]])
ZEROS = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
PICK = np.array([[2, 0, 0], [1, 1, 2]])

SPECS = [
    # ------------------------------------------------------------- elementwise
    OpSpec("log1p", ad.log1p, elementwise(lambda x: sympy.log(1 + x)), [(2, 3)], -0.5, 2.0),
    OpSpec(
        "expm1", lambda a: ad.expm1(a) * a, lambda a: (elementwise(sympy.exp)(a) - 1) * a, [(5,)]
    ),
    OpSpec(
        "logaddexp broadcast",
        lambda a, b: ad.logaddexp(a, b) ** 2,
        lambda a, b: elementwise(lambda x, y: sympy.log(sympy.exp(x) + sympy.exp(y)))(a, b) ** 2,
        [(2, 3), (3,)],
    ),
    OpSpec(
        "logaddexp scalar",
        lambda a: ad.logaddexp(0.5, a),
        elementwise(lambda x: sympy.log(sympy.exp(sympy.Rational(1, 2)) + sympy.exp(x))),
        [(4,)],
    ),
    OpSpec(
        "softplus",
        lambda a: ad.softplus(a) * a,
        lambda a: elementwise(lambda x: sympy.log(1 + sympy.exp(x)))(a) * a,
        [(2, 3)],
        -4.0,
        4.0,
    ),
    OpSpec("square", lambda a: ad.square(a) * a, lambda a: a**3, [(2, 3)]),
    OpSpec("reciprocal", ad.reciprocal, lambda a: 1 / a, [(2, 3)], 0.5, 2.0),
    OpSpec(
        "clip",
        lambda a: ad.clip(a, -0.5, 0.7) * a,
        lambda a: elementwise(lambda x: sympy.Min(sympy.Max(x, LOW), HIGH))(a) * a,
        [(3, 4)],
    ),
    OpSpec(
        "clip one bound method",
        lambda a: a.clip(None, 0.7) ** 2,
        lambda a: elementwise(lambda x: sympy.Min(x, HIGH))(a) ** 2,
        [(6,)],
    ),
    OpSpec(
        "where three-way broadcast",
        lambda a, b: ad.where(COND, a * a, b) * b,
        lambda a, b: np.where(COND, a * a, b) * b,
        [(3,), (2, 1, 1)],
    ),
    # ------------------------------------------------------------------ einsum
    OpSpec(
        "einsum matmul",
        lambda a, b: ad.einsum("ij,jk->ik", a, b) ** 2,
        lambda a, b: (a @ b) ** 2,
        [(2, 3), (3, 2)],
    ),
    OpSpec(
        "einsum trace",
        lambda a: ad.einsum("ii", a) * a,
        lambda a: np.trace(a) * a,
        [(3, 3)],
    ),
    OpSpec(
        "einsum diagonal",
        lambda a: ad.einsum("ii->i", a) ** 3,
        lambda a: np.diagonal(a) ** 3,
        [(3, 3)],
    ),
    OpSpec(
        "einsum sum and outer",
        lambda a, b: ad.einsum("ij,k->ik", a, b) ** 2,
        lambda a, b: np.outer(a.sum(axis=1), b) ** 2,
        [(2, 3), (2,)],
    ),
    OpSpec(
        "einsum batched ellipsis",
        lambda a, b: ad.einsum("...ij,...jk", a, b) * a[..., :1],
        lambda a, b: np.matmul(a, b) * a[..., :1],
        [(2, 2, 3), (3, 2)],
    ),
    OpSpec(
        "einsum broadcast axis of length 1",
        lambda a, b: ad.einsum("ij,ij->i", a, b) ** 2,
        lambda a, b: np.sum(a * b, axis=1) ** 2,
        [(2, 3), (1, 3)],
    ),
    OpSpec(
        "einsum three operands",
        lambda a, b, c: ad.einsum("i,ij,j->", a, b, c) ** 2,
        lambda a, b, c: np.array((a @ b @ c) ** 2, dtype=object),
        [(2,), (2, 3), (3,)],
    ),
    # -------------------------------------------------------- along one axis
    OpSpec(
        "cumsum axis",
        lambda a: ad.cumsum(a, 1) ** 2,
        lambda a: np.cumsum(a, axis=1) ** 2,
        [(2, 4)],
    ),
    OpSpec(
        "cumsum flattened method",
        lambda a: a.cumsum() * a.reshape(-1),
        lambda a: np.cumsum(a) * a.reshape(-1),
        [(2, 3)],
    ),
    OpSpec(
        "cumprod axis",
        lambda a: ad.cumprod(a, 0) * a,
        lambda a: sym_cumprod(a, 0) * a,
        [(5, 2)],
    ),
    OpSpec(
        "cumprod through zeros",
        lambda a: ad.cumprod(a * ZEROS, -1) * a,
        lambda a: sym_cumprod(a * ZEROS, -1) * a,
        [(2, 4)],
    ),
    OpSpec(
        "cumprod method",
        lambda a: a.cumprod(1).sum(),
        lambda a: np.array(np.sum(sym_cumprod(a, 1)), dtype=object),
        [(2, 3)],
    ),
    OpSpec("sort", lambda a: ad.sort(a) ** 2, lambda a: sym_sort(a) ** 2, [(2, 3)]),
    OpSpec(
        "sort axis 0 method",
        lambda a: a.sort(0) * a,
        lambda a: sym_sort(a, 0) * a,
        [(3, 2)],
    ),
    OpSpec(
        "argsort take_along_axis",
        lambda a: ad.take_along_axis(a, ad.argsort(a, 1), 1) ** 3,
        lambda a: sym_sort(a, 1) ** 3,
        [(2, 3)],
    ),
    OpSpec(
        "take_along_axis repeated",
        lambda a: ad.take_along_axis(a, PICK, 1) ** 2,
        lambda a: np.take_along_axis(a, PICK, 1) ** 2,
        [(2, 3)],
    ),
    # ------------------------------------------------------------ shape ops
    OpSpec(
        "pad",
        lambda a: ad.pad(a, ((1, 0), (0, 2)), constant_values=0.5) ** 2,
        lambda a: np.pad(a, ((1, 0), (0, 2)), constant_values=sympy.Rational(1, 2)) ** 2,
        [(2, 3)],
    ),
    OpSpec("flip", lambda a: ad.flip(a, 1) * a, lambda a: np.flip(a, 1) * a, [(2, 3)]),
    OpSpec("flip all", lambda a: ad.flip(a) * a, lambda a: np.flip(a) * a, [(2, 3)]),
    OpSpec(
        "roll axes",
        lambda a: ad.roll(a, (1, -1), (0, 1)) * a,
        lambda a: np.roll(a, (1, -1), (0, 1)) * a,
        [(2, 3)],
    ),
    OpSpec("roll flattened", lambda a: ad.roll(a, 2) * a, lambda a: np.roll(a, 2) * a, [(2, 3)]),
    OpSpec(
        "tile", lambda a: ad.tile(a, (2, 1, 2)) ** 2, lambda a: np.tile(a, (2, 1, 2)) ** 2, [(2, 3)]
    ),
    OpSpec(
        "repeat int method",
        lambda a: a.repeat(2, 0) ** 2,
        lambda a: np.repeat(a, 2, 0) ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "repeat counts",
        lambda a: ad.repeat(a, [2, 0, 1], axis=1) ** 2,
        lambda a: np.repeat(a, [2, 0, 1], axis=1) ** 2,
        [(2, 3)],
    ),
    OpSpec(
        "repeat flattened", lambda a: ad.repeat(a, 2) ** 3, lambda a: np.repeat(a, 2) ** 3, [(2, 2)]
    ),
    # -------------------------------------------------------------- var, std
    OpSpec(
        "var axis ddof",
        lambda a: ad.var(a, 1, ddof=1),
        lambda a: np.sum((a - np.sum(a, axis=1, keepdims=True) / 4) ** 2, axis=1) / 3,
        [(2, 4)],
    ),
    OpSpec(
        "var all method",
        lambda a: a.var(),
        lambda a: np.array(np.sum((a - np.sum(a) / 6) ** 2) / 6, dtype=object),
        [(2, 3)],
    ),
    OpSpec(
        "std axes keepdims",
        lambda a: ad.std(a, (0, 2), keepdims=True) * a,
        lambda a: (
            elementwise(sympy.sqrt)(
                np.sum(
                    (a - np.sum(a, axis=(0, 2), keepdims=True) / 4) ** 2, axis=(0, 2), keepdims=True
                )
                / 4
            )
            * a
        ),
        [(2, 3, 2)],
    ),
    OpSpec(
        "std ddof method",
        lambda a: a.std(ddof=1.5),
        lambda a: np.array(
            sympy.sqrt(np.sum((a - np.sum(a) / 4) ** 2) / sympy.Rational(5, 2)), dtype=object
        ),
        [(4,)],
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_derivatives_against_sympy_and_finite_differences(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_inputs_untouched(spec):
    check_inputs_untouched(spec)


def test_every_new_op_is_in_the_table():
    new_ops = {
        ad.ops.Log1p, ad.ops.Expm1, ad.ops.LogAddExp, ad.ops.Softplus, ad.ops.Clip,
        ad.ops.ClipBackward, ad.ops.Einsum, ad.ops.Cumsum, ad.ops.Cumprod, ad.ops.Sort,
        ad.ops.Argsort, ad.ops.TakeAlongAxis, ad.ops.ScatterAddAlongAxis, ad.ops.Pad,
        ad.ops.Flip, ad.ops.Roll, ad.ops.Tile, ad.ops.Repeat, ad.ops.Where,
    }  # fmt: skip
    seen = set()
    for spec in SPECS:
        rng = np.random.default_rng(1)
        leaves = [ad.Tensor(rng.uniform(0.5, 1.0, s)) for s in spec.shapes]
        out = spec.fn(*leaves)
        out.backward(ad.init.ones(*out.shape))
        grads = [x.grad for x in leaves]
        ad.sum(sum((g * g).sum() for g in grads)).backward()
        nodes = ad.find_topo_sort([out, *grads, *[x.grad for x in leaves]])
        seen |= {type(n.op) for n in nodes if n.op is not None}
    assert new_ops <= seen, new_ops - seen
    for name in (
        "einsum", "cumsum", "cumprod", "clip", "where", "log1p", "expm1", "logaddexp",
        "softplus", "square", "reciprocal", "sign", "pad", "flip", "roll", "tile", "repeat",
        "sort", "argsort", "take_along_axis", "var", "std",
    ):  # fmt: skip
        assert getattr(ad, name) is getattr(ad.ops, name), name


# ------------------------------------------------------- third order, scalar-valued

SCALAR = [
    ("log1p", ad.log1p, [0.3]),
    ("expm1", ad.expm1, [-0.4]),
    ("softplus", ad.softplus, [0.6]),
    ("square", lambda x: ad.square(x) * ad.sin(x), [0.7]),
    ("reciprocal", ad.reciprocal, [1.3]),
    ("logaddexp", ad.logaddexp, [0.2, -0.5]),
    ("clip", lambda x: ad.clip(x, -1, 1) * ad.exp(x), [0.3]),
    ("var", lambda x: ad.var(x, ddof=1) ** 2, [np.array([0.3, -0.2, 0.9])]),
    ("std", lambda x: ad.std(x, ddof=1), [np.array([0.3, -0.2])]),
    (
        "einsum",
        lambda a, b: ad.einsum("i,i->", a, b) ** 2,
        [np.array([0.5, -1.0]), np.array([0.25, 2.0])],
    ),
    ("cumprod", lambda x: ad.cumprod(x).sum(), [np.array([0.5, -1.5, 2.0])]),
    (
        "sort",
        lambda x: (ad.sort(x) * ad.Tensor([1.0, 2.0, 3.0])).sum() ** 2,
        [np.array([0.5, -1.5, 2.0])],
    ),
]


@pytest.mark.parametrize("name, fn, inputs", SCALAR, ids=[row[0] for row in SCALAR])
def test_scalar_valued_to_the_third_order(name, fn, inputs):
    report = symbolic.check(fn, *inputs, order=3)
    assert report.ok, str(report)
    ad.gradcheck(fn, *inputs, order=3)


# ---------------------------------------------------------------- PyTorch

TORCH = [
    ("log1p", ad.log1p, lambda t, a: t.log1p(a), [(2, 3)], (-0.5, 2.0)),
    ("expm1", ad.expm1, lambda t, a: t.expm1(a), [(2, 3)], (-2.0, 2.0)),
    ("logaddexp", ad.logaddexp, lambda t, a, b: t.logaddexp(a, b), [(2, 3), (3,)], (-2, 2)),
    ("softplus", ad.softplus, lambda t, a: t.nn.functional.softplus(a), [(2, 3)], (-3, 3)),
    ("square", ad.square, lambda t, a: t.square(a), [(2, 3)], (-2, 2)),
    ("reciprocal", ad.reciprocal, lambda t, a: t.reciprocal(a), [(2, 3)], (0.5, 2)),
    ("clip", lambda a: ad.clip(a, -0.5, 0.5), lambda t, a: t.clamp(a, -0.5, 0.5), [(8,)], (-2, 2)),
    (
        "where",
        lambda a, b: ad.where(COND, a, b),
        lambda t, a, b: t.where(t.as_tensor(COND), a, b),
        [(3,), (2, 1, 1)],
        (-2, 2),
    ),
    (
        "einsum",
        lambda a, b: ad.einsum("bij,jk->bik", a, b),
        lambda t, a, b: t.einsum("bij,jk->bik", a, b),
        [(2, 2, 3), (3, 2)],
        (-2, 2),
    ),
    (
        "einsum trace",
        lambda a: ad.einsum("ii", a),
        lambda t, a: t.einsum("ii", a),
        [(3, 3)],
        (-2, 2),
    ),
    ("cumsum", lambda a: ad.cumsum(a, 1), lambda t, a: t.cumsum(a, 1), [(2, 4)], (-2, 2)),
    ("cumprod", lambda a: ad.cumprod(a, 1), lambda t, a: t.cumprod(a, 1), [(2, 5)], (-2, 2)),
    (
        "pad",
        lambda a: ad.pad(a, ((1, 0), (2, 1))),
        lambda t, a: t.nn.functional.pad(a, (2, 1, 1, 0)),
        [(2, 3)],
        (-2, 2),
    ),
    ("flip", lambda a: ad.flip(a, 0), lambda t, a: t.flip(a, (0,)), [(3, 2)], (-2, 2)),
    ("roll", lambda a: ad.roll(a, 2, 1), lambda t, a: t.roll(a, 2, 1), [(2, 3)], (-2, 2)),
    ("tile", lambda a: ad.tile(a, (2, 3)), lambda t, a: t.tile(a, (2, 3)), [(2, 2)], (-2, 2)),
    (
        "repeat",
        lambda a: ad.repeat(a, [1, 3], 0),
        lambda t, a: t.repeat_interleave(a, t.tensor([1, 3]), 0),
        [(2, 3)],
        (-2, 2),
    ),
    ("sort", lambda a: ad.sort(a, 1), lambda t, a: t.sort(a, 1).values, [(3, 4)], (-2, 2)),
    (
        "var",
        lambda a: ad.var(a, 0, ddof=1),
        lambda t, a: t.var(a, 0, correction=1),
        [(4, 3)],
        (-2, 2),
    ),
    ("std", lambda a: ad.std(a, 1), lambda t, a: t.std(a, 1, correction=0), [(2, 5)], (-2, 2)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, domain", TORCH, ids=[r[0] for r in TORCH])
def test_against_pytorch_to_the_second_order(name, fn, torch_fn, shapes, domain):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    arrays = [rng.uniform(*domain, s) for s in shapes]
    xs = [ad.Tensor(a) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = fn(*xs), torch_fn(torch, *ts)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.standard_normal(out.shape)
    # first order: <w, f>'s gradient; second: the gradient of <u, that gradient>
    loss = (out * ad.Tensor(w)).sum()
    grads = ad.grad(lambda *v: (fn(*v) * ad.Tensor(w)).sum(), argnums=tuple(range(len(xs))))(*xs)
    t_loss = (want * torch.tensor(w)).sum()
    t_grads = torch.autograd.grad(t_loss, ts, create_graph=True)
    assert float(loss) == pytest.approx(float(t_loss.detach()), rel=1e-12)
    us = [rng.standard_normal(a.shape) for a in arrays]
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    projected = sum((g * ad.Tensor(u)).sum() for g, u in zip(grads, us))
    second = ad.grad(
        lambda *v: sum(
            (g * ad.Tensor(u)).sum()
            for g, u in zip(
                ad.grad(lambda *z: (fn(*z) * ad.Tensor(w)).sum(), argnums=tuple(range(len(v))))(*v),
                us,
            )
        ),
        argnums=tuple(range(len(xs))),
    )(*xs)
    t_projected = sum((tg * torch.tensor(u)).sum() for tg, u in zip(t_grads, us))
    assert float(projected) == pytest.approx(float(t_projected.detach()), rel=1e-10, abs=1e-12)
    if t_projected.requires_grad:
        t_second = torch.autograd.grad(t_projected, ts, allow_unused=True)
    else:
        t_second = [None] * len(ts)
    for h, th in zip(second, t_second):
        want_h = np.zeros(h.shape) if th is None else th.numpy()
        np.testing.assert_allclose(h.numpy(), want_h, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ rules at kinks


def _grad(fn, data):
    x = ad.Tensor(data)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_clip_passes_the_gradient_on_its_closed_interval():
    data = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan])
    np.testing.assert_array_equal(_grad(lambda x: ad.clip(x, -1, 1), data), [0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(_grad(lambda x: ad.clip(x, 1, -1), data), np.zeros(6))
    np.testing.assert_array_equal(ad.clip(ad.Tensor(data), 1, -1).numpy()[:5], -np.ones(5))
    x = ad.Tensor([0.5, 3.0])
    g = ad.grad(lambda t: (ad.clip(t, None, 1.0) ** 3).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [0.75, 0.0])
    h = ad.grad(lambda t: (ad.grad(lambda s: (ad.clip(s, None, 1.0) ** 3).sum())(t)).sum())(x)
    np.testing.assert_array_equal(h.numpy(), [3.0, 0.0])


def test_sign_has_a_zero_gradient_at_every_order():
    x = ad.Tensor([-1.5, 0.0, 2.0])
    g = ad.grad(lambda t: (ad.sign(t) * t).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda t: ad.sign(t).sum())(x).numpy(), [0, 0, 0])


def test_sort_ties_and_argsort_has_no_gradient():
    x = ad.Tensor([2.0, 1.0, 2.0])
    (ad.sort(x) * ad.Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 1.0, 100.0])  # stable: first 2 first
    idx = ad.argsort(x)
    assert idx.dtype == np.intp and idx.numpy().tolist() == [1, 0, 2]
    y = ad.Tensor([3.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda t: ad.argsort(t).sum())(y).numpy(), [0, 0])


def test_cumprod_gradient_is_exact_at_zeros():
    data = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    x = ad.Tensor(data)
    ad.cumprod(x).sum().backward()
    want = [sum(np.prod(np.delete(data[: k + 1], i)) for k in range(i, 5)) for i in range(5)]
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_einsum_adjoint_is_an_einsum():
    a, b = ad.Tensor(np.ones((2, 3))), ad.Tensor(np.ones((3, 4)))
    ad.einsum("ij,jk->ik", a, b).backward(ad.Tensor(np.ones((2, 4))))
    assert type(a.grad.op) is ad.ops.Einsum and a.grad.op.spec == "ik,jk->ij"
    assert type(b.grad.op) is ad.ops.Einsum and b.grad.op.spec == "ik,ij->jk"
    m = ad.Tensor(np.arange(9.0).reshape(3, 3))
    ad.einsum("ii", m).backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.eye(3))


@pytest.mark.parametrize(
    "spec, shapes",
    [
        ("ij,jk", [(2, 3), (3, 4)]),
        ("...i,i->...", [(2, 3, 4), (4,)]),
        ("i...,i...", [(2, 3), (2, 1)]),
        ("iij->ji", [(2, 2, 3)]),
        ("ab,cd->abcd", [(1, 2), (2, 1)]),
        ("i,i,i->", [(3,), (3,), (3,)]),
    ],
)
def test_einsum_spellings_match_numpy(mode, spec, shapes):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in shapes]
    out = ad.einsum(spec, *[ad.Tensor(a) for a in arrays])
    want = np.einsum(spec, *arrays)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-13, atol=1e-14)
    ad.gradcheck(lambda *t: ad.einsum(spec, *t) ** 2, *arrays, order=2, trials=1)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ad.cumsum(x, 1),
        lambda x: ad.cumprod(x, 0),
        lambda x: ad.sort(x, 1),
        lambda x: ad.argsort(x, 0),
        lambda x: ad.flip(x, 1),
        lambda x: ad.roll(x, 1, 1),
        lambda x: ad.pad(x, 1),
        lambda x: ad.tile(x, (2, 1)),
        lambda x: ad.repeat(x, 2, 1),
        lambda x: ad.einsum("ij,jk->ik", x, x.T),
        lambda x: ad.clip(x, -0.2, 0.3),
        lambda x: ad.take_along_axis(x, ad.argsort(x, 1), 1),
    ],
    ids=lambda f: "",
)
def test_graph_run_on_a_batch_equals_each_point(fn):
    rng = np.random.default_rng(4)
    x = ad.Tensor(rng.standard_normal((2, 3)))
    y = fn(x)
    batch = rng.standard_normal((4, 2, 3))
    (got,) = ad.Graph(y).run({x: batch})
    for k in range(4):
        (one,) = ad.Graph(y).run({x: batch[k]})
        np.testing.assert_array_equal(got[k], one)


# ------------------------------------------------------------------- errors

ERRORS = [
    (lambda x: ad.cumsum(x, 2), ValueError, r"^cumsum: axis 2 is out of range"),
    (lambda x: ad.cumprod(x, 1.0), TypeError, r"^cumprod: axis must be an int"),
    (lambda x: ad.sort(ad.Tensor(1.0), 0), ValueError, r"^sort: a 0-d tensor has no axis"),
    (lambda x: ad.argsort(x, -3), ValueError, r"^argsort: axis -3 is out of range"),
    (lambda x: ad.var(x, 0, ddof=2), ValueError, r"^var: ddof 2 must be less than the number"),
    (lambda x: ad.std(x, ddof=True), TypeError, r"^std: the scalar operand must be a real"),
    (lambda x: ad.var(x, 5), ValueError, r"^var: axis 5 is out of range"),
    (lambda x: ad.clip(x, x, 1.0), TypeError, r"^clip: a_min must be a number or None"),
    (lambda x: ad.clip(x, "0", 1.0), TypeError, r"^clip: a_min must be a number or None, got str"),
    (lambda x: ad.clip(x, 0, True), TypeError, r"^clip: the scalar operand must be a real"),
    (lambda x: ad.pad(x, ((1, 2), (3, 4), (5, 6))), ValueError, r"^pad: pad_width .* does not"),
    (lambda x: ad.pad(x, -1), ValueError, r"^pad: pad widths must be non-negative"),
    (lambda x: ad.pad(x, 1.5), TypeError, r"^pad: pad_width must be an int"),
    (lambda x: ad.pad(x, 1, mode="reflect"), ValueError, r"^pad: mode 'reflect' is not"),
    (lambda x: ad.flip(x, 2), ValueError, r"^flip: axis 2 is out of range"),
    (lambda x: ad.roll(x, 1.5), TypeError, r"^roll: shift must be an int"),
    (lambda x: ad.roll(x, (1, 2), 0), ValueError, r"^roll: shift .* same length"),
    (lambda x: ad.tile(x, -1), ValueError, r"^tile: reps must be non-negative"),
    (lambda x: ad.repeat(x, [1, 2], 1), ValueError, r"^repeat: 2 counts for axis 1 of size 3"),
    (lambda x: ad.repeat(x, -1), ValueError, r"^repeat: repeats must be non-negative"),
    (lambda x: ad.einsum("ij,jk", x, x), ValueError, r"^einsum: axis 'j' has size 3 .* and 2"),
    (lambda x: ad.einsum("ijk", x), ValueError, r"^einsum: operand subscripts 'ijk' name 3"),
    (lambda x: ad.einsum("ij->k", x), ValueError, r"^einsum: output subscript 'k'"),
    (lambda x: ad.einsum("i1", x), ValueError, r"^einsum: subscripts 'i1' hold '1'"),
    (lambda x: ad.einsum("ij", x, x), ValueError, r"^einsum: subscripts 'ij' name 1 operand"),
    (lambda x: ad.einsum(3, x), TypeError, r"^einsum: subscripts must be a string"),
    (lambda x: ad.einsum("ij"), ValueError, r"^einsum: needs at least one operand"),
    (lambda x: ad.take_along_axis(x, x, 1), IndexError, r"^take_along_axis: indices of dtype"),
    (
        lambda x: ad.take_along_axis(x, np.array([[5]]), 1),
        IndexError,
        r"^take_along_axis: an index is out of range",
    ),
    (
        lambda x: ad.take_along_axis(x, np.array([0]), 1),
        ValueError,
        r"^take_along_axis: indices of shape \(1,\) must have as many",
    ),
]


@pytest.mark.parametrize("call, exc, pattern", ERRORS, ids=[e[2][1:30] for e in ERRORS])
def test_bad_arguments_name_the_op(mode, call, exc, pattern):
    data = np.ones((2, 3))
    x = ad.Tensor(data)
    with pytest.raises(exc, match=pattern):
        call(x)
    np.testing.assert_array_equal(x.numpy(), data)
