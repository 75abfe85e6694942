"""ad.linalg (issue 20): every op against sympy, finite differences and PyTorch.

* The table (SPECS): values, first and second derivatives against sympy's exact
  ones (an independent sympy version of each function, written with sympy's
  ``Matrix``: ``inv``, ``det``, ``LUsolve``, ``cholesky``, closed-form eigenvalues),
  and finite differences to the 2nd order (``ad.gradcheck``), through
  ``tests/helpers/oracle.py``. Inputs are shifted into each op's domain
  (``a + 3 I`` is invertible, ``a aᵀ + I`` positive definite).
* The scalar-valued ops to the 3rd order: ``symbolic.check`` (nested ``ad.grad``
  and repeated ``backward()`` against ``sympy.diff``, exactly) along a line of
  matrices, and finite differences on whole matrices.
* PyTorch (where installed): value, vector-Jacobian product and second-order term
  of every op against ``torch.linalg``; the 3rd order for the scalar-valued ones.
* The conventions of :mod:`adjoint.ops.linalg`, the errors, batches, lazy mode,
  ``Graph.run`` on a batch and compiled graphs.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import adjoint as ad
from tests.helpers.errors import check as _check
from tests.helpers.errors import table as _table
from tests.helpers.oracle import OpSpec, check_inputs_untouched, check_spec

L = ad.linalg
I2, I3 = np.eye(2), np.eye(3)

# ------------------------------------------------------------ sympy, independently


def _matrices(a: np.ndarray):
    """The sympy Matrices of the batch of object arrays ``a``, with their batch indices."""
    for index in np.ndindex(*a.shape[:-2]):
        yield index, sympy.Matrix(a[index].tolist())


def per_matrix(fn, core: int):
    """``fn`` (sympy Matrices -> Matrix or expression) over a batch; ``core``: the number of
    axes of one result (0 an expression, 1 a vector, 2 a matrix)."""

    def apply(*arrays):
        first = arrays[0]
        out = None
        for index, m in _matrices(first):
            others = [sympy.Matrix(b[index].tolist()) for b in arrays[1:]]
            value = fn(m, *others)
            item = np.array(value.tolist(), dtype=object) if hasattr(value, "tolist") else value
            if core == 1:
                item = np.asarray(item, dtype=object).reshape(-1)
            if out is None:
                shape = first.shape[:-2] + (np.shape(item) if core else ())
                out = np.empty(shape, dtype=object)
            out[index] = item
        return out

    return apply


def sym_eigenvalues(m):
    """Ascending eigenvalues of a symmetric 2 x 2 sympy Matrix, in closed form."""
    a, b, c = m[0, 0], m[0, 1], m[1, 1]
    mid, radius = (a + c) / 2, sympy.sqrt((a - c) ** 2 / 4 + b**2)
    return sympy.Matrix([mid - radius, mid + radius])


def sym_projector_sum(m, weights):
    """``V diag(weights) Vᵀ`` of a symmetric 2 x 2 Matrix without eigenvectors (so without
    their signs): the weighted spectral projectors ``(m - w_j I) / (w_i - w_j)``."""
    w1, w2 = sym_eigenvalues(m)
    eye = sympy.eye(2)
    return weights[0] * (m - w2 * eye) / (w1 - w2) + weights[1] * (m - w1 * eye) / (w2 - w1)


def sym_sym(m):
    return (m + m.T) / 2


def sym_norm(values, p):
    if p == 2:
        return sympy.sqrt(sum(v**2 for v in values))
    return sum(sympy.Abs(v) ** p for v in values) ** sympy.Rational(1, p)


def _sym_axis(fn, axis):
    """``fn`` of the list of elements along ``axis`` (of a 2-D object array)."""

    def apply(a):
        moved = np.moveaxis(a, axis, -1)
        out = np.empty(moved.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = fn(list(moved[index]))
        return out

    return apply


def _flat(a):
    return list(np.asarray(a, dtype=object).ravel())


NEG = np.diag([-1.0, 1.0, 1.0])  # a row sign flip: det < 0
W2 = np.array([0.5, -1.25])  # weights of the eigenvalues
SPD = lambda a: a @ ad.transpose(a) + I2  # noqa: E731 - positive definite from any a


SPECS = [
    # ---------------------------------------------------------------- solve
    OpSpec(
        "solve",
        lambda a, b: L.solve(a + 3 * I2, b),
        per_matrix(lambda m, r: (m + 3 * sympy.eye(2)).LUsolve(r), 2),
        [(2, 2), (2, 3)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "solve vector",
        lambda a, b: L.solve(a + 3 * I2, b) ** 2,
        lambda a, b: (
            per_matrix(lambda m, r: (m + 3 * sympy.eye(2)).LUsolve(r), 2)(
                a, b.reshape(2, 1)
            ).reshape(2)
            ** 2
        ),
        [(2, 2), (2,)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "solve broadcast batch",
        lambda a, b: L.solve(a + 3 * I2, b),
        lambda a, b: per_matrix(lambda m, r: (m + 3 * sympy.eye(2)).LUsolve(r), 2)(
            a, np.broadcast_to(b, (2, 2, 1))
        ),
        [(2, 2, 2), (2, 1)],
        -1.0,
        1.0,
    ),
    # ------------------------------------------------------------------ inv
    OpSpec(
        "inv",
        lambda a: L.inv(a + 3 * I3),
        per_matrix(lambda m: (m + 3 * sympy.eye(3)).inv(), 2),
        [(3, 3)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "inv batch",
        lambda a: L.inv(a + 3 * I2) * a,
        lambda a: per_matrix(lambda m: (m + 3 * sympy.eye(2)).inv(), 2)(a) * a,
        [(2, 2, 2)],
        -1.0,
        1.0,
    ),
    # ------------------------------------------------------------ det and logs
    OpSpec("det", L.det, per_matrix(lambda m: m.det(), 0), [(3, 3)]),
    OpSpec("det batch", L.det, per_matrix(lambda m: m.det(), 0), [(2, 2, 2)]),
    OpSpec(
        "logdet",  # the example: logdet(A + Aᵀ + n I), positive definite
        lambda a: L.logdet(a + ad.transpose(a) + 7 * I3),
        per_matrix(lambda m: sympy.log((m + m.T + 7 * sympy.eye(3)).det()), 0),
        [(3, 3)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "logdet batch",
        lambda a: L.logdet(SPD(a)),
        per_matrix(lambda m: sympy.log((m * m.T + sympy.eye(2)).det()), 0),
        [(2, 2, 2)],
    ),
    OpSpec(
        "slogdet",  # det < 0: sign -1 (zero gradient) times log |det|
        lambda a: L.slogdet(NEG @ (a + 3 * I3))[0] * L.slogdet(NEG @ (a + 3 * I3))[1],
        per_matrix(
            lambda m: -sympy.log(-(sympy.Matrix(NEG.astype(int)) * (m + 3 * sympy.eye(3))).det()),
            0,
        ),
        [(3, 3)],
        -1.0,
        1.0,
    ),
    # ------------------------------------------------------------- cholesky
    OpSpec(
        "cholesky",
        lambda a: L.cholesky(SPD(a)),
        per_matrix(lambda m: (m * m.T + sympy.eye(2)).cholesky(hermitian=False), 2),
        [(2, 2)],
    ),
    OpSpec(
        "cholesky of the symmetric part",  # a not symmetric: the factor of (a + aᵀ)/2
        lambda a: L.cholesky(a + 3 * I3) ** 2,
        lambda a: (
            per_matrix(lambda m: sym_sym(m + 3 * sympy.eye(3)).cholesky(hermitian=False), 2)(a) ** 2
        ),
        [(3, 3)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "cholesky upper batch",
        lambda a: L.cholesky(SPD(a), upper=True),
        per_matrix(lambda m: (m * m.T + sympy.eye(2)).cholesky(hermitian=False).T, 2),
        [(2, 2, 2)],
    ),
    # ----------------------------------------------------- solve_triangular
    OpSpec(
        "solve_triangular lower",
        lambda a, b: L.solve_triangular(a + 3 * I3, b, lower=True),
        per_matrix(lambda m, r: (m + 3 * sympy.eye(3)).lower_triangular().LUsolve(r), 2),
        [(3, 3), (3, 2)],
        -1.0,
        1.0,
    ),
    OpSpec(
        "solve_triangular upper unit vector",
        lambda a, b: L.solve_triangular(a, b, unit_diagonal=True) ** 2,
        lambda a, b: (
            per_matrix(
                lambda m, r: (m.upper_triangular(1) + sympy.eye(3)).LUsolve(r),
                2,
            )(a, b.reshape(3, 1)).reshape(3)
            ** 2
        ),
        [(3, 3), (3,)],
    ),
    OpSpec(
        "solve_triangular batch",
        lambda a, b: L.solve_triangular(a + 3 * I2, b),
        per_matrix(lambda m, r: (m + 3 * sympy.eye(2)).upper_triangular().LUsolve(r), 2),
        [(2, 2, 2), (2, 2, 1)],
        -1.0,
        1.0,
    ),
    # ------------------------------------------------------------------ eigh
    OpSpec(
        "eigvalsh",
        L.eigvalsh,
        per_matrix(lambda m: sym_eigenvalues(sym_sym(m)), 1),
        [(2, 2)],
    ),
    OpSpec(
        "eigh eigenvalues batch",
        lambda a: L.eigh(a)[0] ** 2,
        lambda a: per_matrix(lambda m: sym_eigenvalues(sym_sym(m)), 1)(a) ** 2,
        [(2, 2, 2)],
    ),
    OpSpec(
        "eigh eigenvectors",  # V diag(W2) Vᵀ: the vectors' rule, free of their signs
        lambda a: (lambda v: v @ (W2[:, None] * ad.transpose(v)))(L.eigh(a)[1]),
        per_matrix(lambda m: sym_projector_sum(sym_sym(m), [sympy.Rational(1, 2), -1.25]), 2),
        [(2, 2)],
    ),
    OpSpec(
        "eigh eigenvectors squared batch",  # V ∘ V: the diagonals of the projectors
        lambda a: L.eigh(a)[1] ** 2,
        per_matrix(
            lambda m: sympy.Matrix(
                2,
                2,
                lambda i, k: sym_projector_sum(sym_sym(m), [1 - k, k])[i, i],
            ),
            2,
        ),
        [(2, 2, 2)],
    ),
    # ------------------------------------------------------------------ norms
    OpSpec("norm", L.norm, lambda a: np.array(sym_norm(_flat(a), 2), dtype=object), [(2, 3)]),
    OpSpec(
        "norm vector p",
        lambda a: L.norm(a, 3, axis=0),
        _sym_axis(lambda xs: sym_norm(xs, 3), 0),
        [(2, 3)],
    ),
    OpSpec(
        "norm vector 1, inf, -inf, 0",
        lambda a: ad.stack(
            [L.norm(a, 1), L.norm(a, np.inf), L.norm(a, -np.inf), L.norm(a, 0) * a[0]]
        ),
        lambda a: np.array(
            [
                sum(sympy.Abs(v) for v in a),
                sympy.Max(*[sympy.Abs(v) for v in a]),
                sympy.Min(*[sympy.Abs(v) for v in a]),
                3 * a[0],
            ],
            dtype=object,
        ),
        [(3,)],
    ),
    OpSpec(
        "norm fro keepdims",
        lambda a: L.norm(a, "fro", axis=(0, 2), keepdims=True),
        lambda a: np.array(
            [sym_norm(_flat(a[:, k, :]), 2) for k in range(2)], dtype=object
        ).reshape(1, 2, 1),
        [(2, 2, 2)],
    ),
    OpSpec(
        "matrix_norm 1 and inf",
        lambda a: ad.stack([L.matrix_norm(a, ord=1), L.matrix_norm(a, ord=np.inf)]),
        lambda a: np.array(
            [
                sympy.Max(*[sum(sympy.Abs(v) for v in a[:, j]) for j in range(3)]),
                sympy.Max(*[sum(sympy.Abs(v) for v in a[i, :]) for i in range(2)]),
            ],
            dtype=object,
        ),
        [(2, 3)],
    ),
    OpSpec(
        "vector_norm axes",
        lambda a: L.vector_norm(a, axis=(0, 1)),
        lambda a: np.array([sym_norm(_flat(a[:, :, k]), 2) for k in range(2)], dtype=object),
        [(2, 2, 2)],
    ),
    # ------------------------------------------------------ diagonals, outer
    OpSpec("trace", lambda a: ad.trace(a) ** 2, lambda a: np.trace(a) ** 2, [(3, 3)]),
    OpSpec(
        "trace offset axes",
        lambda a: ad.trace(a, 1, 2, 0) ** 2,
        lambda a: np.trace(a, 1, 2, 0) ** 2,
        [(2, 2, 3)],
    ),
    OpSpec(
        "linalg.trace batch",
        lambda a: L.trace(a * a),
        lambda a: np.trace(a * a, axis1=-2, axis2=-1),
        [(2, 2, 2)],
    ),
    OpSpec(
        "diagonal",
        lambda a: a.diagonal(-1) ** 2,
        lambda a: np.diagonal(a, -1) ** 2,
        [(3, 2)],
    ),
    OpSpec(
        "linalg.diagonal batch",
        lambda a: L.diagonal(a, 1) ** 2,
        lambda a: np.diagonal(a, 1, -2, -1) ** 2,
        [(2, 2, 3)],
    ),
    OpSpec("diag", lambda v: ad.diag(v, -1) ** 2, lambda v: np.diag(v, -1) ** 2, [(3,)]),
    OpSpec(
        "diag of a matrix",
        lambda a: ad.diag(a, 1) * ad.diag(a, 1),
        lambda a: np.diag(a, 1) ** 2,
        [(3, 3)],
    ),
    OpSpec(
        "outer", lambda a, b: ad.outer(a, b) ** 2, lambda a, b: np.outer(a, b) ** 2, [(2, 2), (3,)]
    ),
    OpSpec(
        "linalg.outer",
        lambda a, b: L.outer(a, b) * a[0],
        lambda a, b: np.outer(a, b) * a[0],
        [(2,), (3,)],
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_derivatives(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_leaves_its_inputs_untouched(spec):
    check_inputs_untouched(spec)


def test_every_linalg_op_is_in_the_table():
    """Each op class of adjoint.ops.linalg, and each function of ad.linalg, has a row."""
    seen = set()
    rng = np.random.default_rng(1)
    for spec in SPECS:
        leaves = [ad.Tensor(rng.uniform(-0.5, 0.5, s)) for s in spec.shapes]
        out = spec.fn(*leaves)
        seen |= {type(n.op) for n in ad.find_topo_sort([out]) if n.op is not None}
    classes = {getattr(ad.ops, name) for name in ad.ops.linalg.__all__ if name[0].isupper()}
    assert classes <= seen, classes - seen
    names = " ".join(spec.name for spec in SPECS)
    for name in L.__all__:
        if name[0].islower() and name != "matmul":
            assert name in names, name


# ------------------------------------------------------------ the 3rd order
# The scalar-valued ops: exactly (symbolic.check, both paths) along a line of matrices
# a0 + t d (rational entries, so that sympy proves or compares fast), and by finite
# differences on whole matrices.

A0 = np.array([[2.5, -0.75], [1.25, 1.5]])
S0 = np.array([[3.0, 0.5], [0.5, 2.0]])
D0 = np.array([[0.5, 0.25], [-1.0, 0.75]])


def _line(m):
    return lambda t: ad.Tensor(m, requires_grad=False) + t * ad.Tensor(D0, requires_grad=False)


THIRD = {
    "det": lambda t: L.det(_line(A0)(t)),
    "logdet": lambda t: L.logdet(_line(S0)(t)),
    "slogdet": lambda t: L.slogdet(_line(A0)(t))[1],
    "norm": lambda t: L.norm(_line(A0)(t)),
    "trace": lambda t: ad.trace(_line(A0)(t) @ _line(A0)(t)),
    "logdet of a solve": lambda t: L.logdet(L.solve(_line(S0)(t), _line(A0)(t) + 2 * I2)),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "logdet of a solve" else n for n in THIRD],
)
def test_scalar_ops_third_order_against_sympy(name):
    report = ad.symbolic.check(THIRD[name], 0.3, order=3)
    assert report.ok, str(report)


THIRD_FD = {
    "det": (L.det, [A0]),
    "det 3x3": (L.det, [np.array([[2.0, 0.5, -1.0], [0.3, 1.5, 0.2], [-0.4, 0.1, 2.2]])]),
    "logdet": (L.logdet, [S0]),
    "slogdet": (lambda a: L.slogdet(a)[1], [-A0]),
    "norm": (lambda a: L.norm(a, 3, axis=1), [A0]),
    "fro": (lambda a: L.norm(a, "fro"), [A0]),
    "trace": (lambda a: ad.trace(a @ a @ a), [A0]),
    "eigvalsh sum": (lambda a: ad.sum(L.eigvalsh(a) ** 3), [S0]),
    "quadratic form": (lambda a, b: ad.sum(b * L.solve(a, b)), [S0, np.array([1.0, -2.0])]),
}


@pytest.mark.parametrize("name", THIRD_FD)
def test_scalar_ops_third_order_against_finite_differences(name):
    fn, inputs = THIRD_FD[name]
    assert ad.gradcheck(fn, *inputs, order=3, rtol=1e-4, atol=1e-7)


# ------------------------------------------------------------------ PyTorch


def _torch_cases(torch):
    tl = torch.linalg
    rng = np.random.default_rng(11)
    a3 = rng.uniform(-1, 1, (3, 3)) + 3 * I3
    b3 = rng.uniform(-1, 1, (3, 2))
    m = rng.uniform(-1, 1, (2, 3, 3))
    spd = m @ np.swapaxes(m, -1, -2) + I3
    sym = lambda t: (t + t.mT) / 2  # noqa: E731 - what adjoint factors
    signed = lambda v: (
        v
        * torch.sign(  # noqa: E731 - adjoint's eigenvector signs
            torch.gather(v, -2, v.abs().argmax(-2, keepdim=True))
        ).detach()
    )
    return {
        "solve": (L.solve, tl.solve, [a3, b3]),
        "solve vector": (L.solve, tl.solve, [a3, b3[:, 0]]),
        "inv": (L.inv, tl.inv, [m + 3 * I3]),
        "det": (L.det, tl.det, [m]),
        "slogdet": (lambda a: L.slogdet(a)[1], lambda t: tl.slogdet(t)[1], [m]),
        "logdet": (L.logdet, torch.logdet, [spd]),
        "cholesky": (L.cholesky, lambda t: tl.cholesky(sym(t)), [spd]),
        "cholesky upper": (
            lambda a: L.cholesky(a, upper=True),
            lambda t: tl.cholesky(sym(t), upper=True),
            [spd],
        ),
        "solve_triangular": (
            lambda a, b: L.solve_triangular(a, b, lower=True),
            lambda t, u: tl.solve_triangular(t, u, upper=False),
            [a3, b3],
        ),
        "solve_triangular unit": (
            lambda a, b: L.solve_triangular(a, b, unit_diagonal=True),
            lambda t, u: tl.solve_triangular(t, u, upper=True, unitriangular=True),
            [a3, b3],
        ),
        "eigvalsh": (L.eigvalsh, lambda t: tl.eigvalsh(sym(t)), [spd]),
        "eigh vectors": (lambda a: L.eigh(a)[1], lambda t: signed(tl.eigh(sym(t))[1]), [spd]),
        "norm": (L.norm, tl.norm, [m]),
        "norm p": (lambda a: L.norm(a, 3, axis=-1), lambda t: tl.norm(t, 3, dim=-1), [m]),
        "vector_norm inf": (
            lambda a: L.vector_norm(a, ord=np.inf),
            lambda t: tl.vector_norm(t, ord=float("inf")),
            [m],
        ),
        "matrix_norm": (L.matrix_norm, tl.matrix_norm, [m]),
        "matrix_norm 1": (
            lambda a: L.matrix_norm(a, ord=1),
            lambda t: tl.matrix_norm(t, ord=1),
            [m],
        ),
        "trace": (ad.trace, torch.trace, [a3]),
        "diagonal": (
            lambda a: L.diagonal(a, 1),
            lambda t: torch.diagonal(t, 1, -2, -1),
            [m],
        ),
        "diag": (lambda v: ad.diag(v, 1), lambda t: torch.diag(t, 1), [b3[:, 0]]),
        "outer": (ad.outer, torch.outer, [b3[:, 0], b3[:, 1]]),
    }


def _torch_terms(torch, fn, inputs, w, u):
    """Value, ⟨w, f⟩'s gradient and the gradient of ⟨gradient, u⟩, in PyTorch."""
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = fn(*ts)
    grads = torch.autograd.grad((out * torch.tensor(w)).sum(), ts, create_graph=True)
    projected = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, u))
    if projected.requires_grad:  # else f is linear: no second-order term
        second = torch.autograd.grad(projected, ts, allow_unused=True)
    else:
        second = [None] * len(ts)
    return (
        out.detach().numpy(),
        [_host(torch, g) for g in grads],
        [np.zeros(x.shape) if s is None else _host(torch, s) for s, x in zip(second, ts)],
    )


def _host(torch, t):
    """A PyTorch gradient as an array (a ZeroTensor, which a linear op's rule gives, too)."""
    t = t.detach()
    return np.zeros(tuple(t.shape)) if t._is_zerotensor() else t.numpy()


def _adjoint_terms(fn, inputs, w, u):
    xs = [ad.Tensor(x) for x in inputs]
    out = fn(*xs)
    grads = ad.grad(lambda *ys: ad.sum(fn(*ys) * w), argnums=tuple(range(len(xs))))(*xs)
    projected = sum(ad.sum(g * v) for g, v in zip(grads, u))
    second = ad.grad(
        lambda *ys: sum(
            ad.sum(g * v)
            for g, v in zip(
                ad.grad(lambda *zs: ad.sum(fn(*zs) * w), argnums=tuple(range(len(ys))))(*ys), u
            )
        ),
        argnums=tuple(range(len(xs))),
    )(*xs)
    assert float(projected) == pytest.approx(
        sum(float(np.sum(g.numpy() * v)) for g, v in zip(grads, u))
    )
    return out.numpy(), [g.numpy() for g in grads], [s.numpy() for s in second]


@pytest.mark.parametrize(
    "name",
    [
        "solve", "solve vector", "inv", "det", "slogdet", "logdet", "cholesky",
        "cholesky upper", "solve_triangular", "solve_triangular unit", "eigvalsh",
        "eigh vectors", "norm", "norm p", "vector_norm inf", "matrix_norm", "matrix_norm 1",
        "trace", "diagonal", "diag", "outer",
    ],
)  # fmt: skip
def test_agrees_with_pytorch_to_the_second_order(name):
    torch = pytest.importorskip("torch")
    ours, theirs, inputs = _torch_cases(torch)[name]
    rng = np.random.default_rng(5)
    out_shape = ours(*[ad.Tensor(x) for x in inputs]).shape
    w = rng.standard_normal(out_shape)
    u = [rng.standard_normal(np.shape(x)) for x in inputs]
    mine = _adjoint_terms(ours, inputs, w, u)
    reference = _torch_terms(torch, theirs, inputs, w, u)
    np.testing.assert_allclose(mine[0], reference[0], rtol=1e-10, atol=1e-12)
    for got, want in zip(mine[1] + mine[2], reference[1] + reference[2]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["det", "slogdet", "logdet", "norm", "matrix_norm", "trace"])
def test_scalar_ops_agree_with_pytorch_to_the_third_order(name):
    torch = pytest.importorskip("torch")
    ours, theirs, inputs = _torch_cases(torch)[name]
    if name == "trace":  # linear: its cube, so that the 3rd derivative is not 0
        ours, theirs = (lambda a: ad.trace(a @ a @ a)), (lambda t: torch.trace(t @ t @ t))
    rng = np.random.default_rng(6)
    x = inputs[0]
    directions = [rng.standard_normal(x.shape) for _ in range(3)]
    weights = rng.standard_normal(ours(ad.Tensor(x)).shape)

    def directional(f, derive, total, v):
        return lambda y: total(derive(f)(y) * v)

    mine = lambda y: ad.sum(ours(y) * weights)  # noqa: E731
    for v in directions:
        mine = directional(mine, ad.grad, ad.sum, v)
    t = torch.tensor(x, requires_grad=True)
    value = (theirs(t) * torch.tensor(weights)).sum()
    for v in directions:
        (g,) = torch.autograd.grad(value, t, create_graph=True)
        value = (g * torch.tensor(v)).sum()
    assert float(mine(ad.Tensor(x))) == pytest.approx(float(value.detach()), rel=1e-9, abs=1e-11)


# --------------------------------------------------------------- conventions


def test_symmetric_inputs_give_numpy_s_results_to_the_bit():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((3, 4, 4))
    spd = m @ np.swapaxes(m, -1, -2) + np.eye(4)
    np.testing.assert_array_equal(L.cholesky(spd).numpy(), np.linalg.cholesky(spd))
    np.testing.assert_array_equal(L.eigvalsh(spd).numpy(), np.linalg.eigvalsh(spd))
    w, v = np.linalg.eigh(spd)
    np.testing.assert_array_equal(L.eigh(spd)[0].numpy(), np.linalg.eigvalsh(spd))  # eigvalsh's
    np.testing.assert_array_equal(np.abs(L.eigh(spd)[1].numpy()), np.abs(v))
    a = rng.standard_normal((2, 3, 3))
    np.testing.assert_array_equal(L.inv(a).numpy(), np.linalg.inv(a))
    np.testing.assert_array_equal(L.det(a).numpy(), np.linalg.det(a))
    np.testing.assert_array_equal(L.solve(a, a[0]).numpy(), np.linalg.solve(a, a[0]))
    np.testing.assert_array_equal(L.slogdet(a)[1].numpy(), np.linalg.slogdet(a)[1])


def test_cholesky_and_eigh_factor_the_symmetric_part():
    a = np.array([[4.0, 3.0], [1.0, 5.0]])  # NumPy reads the lower triangle: 1, not 2
    half = (a + a.T) / 2
    np.testing.assert_allclose(L.cholesky(a).numpy(), np.linalg.cholesky(half), rtol=1e-15)
    np.testing.assert_allclose(L.eigvalsh(a).numpy(), np.linalg.eigvalsh(half), rtol=1e-15)
    x = ad.Tensor(a)
    ad.sum(L.cholesky(x)).backward()
    g = x.grad.numpy()
    np.testing.assert_allclose(g, g.T, rtol=1e-14)  # symmetric, and the true gradient:
    assert ad.gradcheck(lambda t: L.cholesky(t), a, order=2)


def test_eigenvectors_are_signed_by_their_largest_component():
    rng = np.random.default_rng(4)
    m = rng.standard_normal((5, 4, 4))
    v = L.eigh(m)[1].numpy()
    index = np.argmax(np.abs(v), axis=-2)
    picked = np.take_along_axis(v, index[..., None, :], axis=-2)
    assert (picked > 0).all()
    half = (m + np.swapaxes(m, -1, -2)) / 2
    np.testing.assert_allclose(np.abs(v), np.abs(np.linalg.eigh(half)[1]), rtol=1e-12)
    np.testing.assert_allclose(v @ np.swapaxes(v, -1, -2), np.broadcast_to(np.eye(4), m.shape),
                               atol=1e-12)  # fmt: skip


def test_repeated_eigenvalues():
    """At a tie the eigenvalues' rule gives the exact first derivative of a function symmetric
    in the tied values (their sum of squares is trace(a²): gradient 2a); derivatives beyond
    it run the eigenvectors' rule, which divides by the zero gap (the module doc)."""
    a = ad.Tensor(np.eye(3) * 2.0)
    ad.sum(L.eigvalsh(a) ** 2).backward()
    np.testing.assert_allclose(a.grad.numpy(), 4 * np.eye(3), atol=1e-14)
    with np.errstate(all="ignore"):
        h = ad.hessian(lambda t: ad.sum(L.eigvalsh(t)))(ad.Tensor(np.eye(2)))
        assert not np.isfinite(h.numpy()).all()  # the trace's Hessian is 0; the rule's is not
    b = ad.Tensor(np.eye(2))
    with np.errstate(all="ignore"):
        ad.sum(L.eigh(b)[1] * ad.Tensor([[1.0, 2.0], [3.0, 4.0]])).backward()
    assert not np.isfinite(b.grad.numpy()).all()


def test_norms_have_the_subgradient_zero_at_zero():
    for fn in (L.norm, lambda t: L.norm(t, 3), lambda t: L.matrix_norm(ad.reshape(t, (1, 3)))):
        x = ad.Tensor(np.zeros(3))
        y = fn(x)
        assert float(y) == 0.0
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
        ad.sum(x.grad).backward()  # the second derivative is finite too
        assert np.isfinite(x.grad.numpy()).all()
    x = ad.Tensor([[0.0, 0.0], [3.0, 4.0]])
    L.norm(x, axis=1).sum().backward()  # one zero row, one not
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


def test_norm_matches_numpy():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4))
    v = x[0]
    cases = [(), (None, 0), (1, 1), (np.inf,), ("fro",), (1,), (-1,), (-np.inf,), (None, (1, 0))]
    cases += [(2, -1, True), (0, 0), (-2, 1), (0.5, 1), (np.inf, (0, 1), True)]
    for args in cases:
        np.testing.assert_allclose(L.norm(x, *args).numpy(), np.linalg.norm(x, *args), rtol=1e-14)
    for p in (None, 1, 2, 3, 0, np.inf, -np.inf, -1, 0.5):
        np.testing.assert_allclose(L.norm(v, p).numpy(), np.linalg.norm(v, p), rtol=1e-14)
    np.testing.assert_allclose(
        L.vector_norm(x, axis=None, ord=3).numpy(), np.linalg.vector_norm(x, ord=3), rtol=1e-14
    )
    np.testing.assert_allclose(
        L.matrix_norm(x[None], keepdims=True, ord=-1).numpy(),
        np.linalg.matrix_norm(x[None], keepdims=True, ord=-1),
        rtol=1e-14,
    )
    i = np.array([[1, -2], [3, 4]], dtype=np.int8)  # ints: float64, as NumPy
    assert L.norm(i).dtype == np.float64 and float(L.norm(i)) == np.linalg.norm(i)


def test_diagonals_trace_diag_and_outer_match_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    for args in [(0, 0, 1), (1, 1, 2), (-1, 2, 0), (2, -1, -2), (5, 1, 2)]:
        np.testing.assert_array_equal(ad.diagonal(x, *args).numpy(), np.diagonal(x, *args))
        np.testing.assert_array_equal(ad.trace(x, *args).numpy(), np.trace(x, *args))
    np.testing.assert_array_equal(ad.Tensor(x).trace(1, 1, 2).numpy(), x.trace(1, 1, 2))
    np.testing.assert_array_equal(ad.Tensor(x).diagonal(0, 0, 2).numpy(), x.diagonal(0, 0, 2))
    np.testing.assert_array_equal(L.trace(x, offset=-1).numpy(), np.linalg.trace(x, offset=-1))
    np.testing.assert_array_equal(L.diagonal(x, offset=1).numpy(), np.linalg.diagonal(x, offset=1))
    for k in (-2, 0, 1):
        np.testing.assert_array_equal(ad.diag(x[0, 0], k).numpy(), np.diag(x[0, 0], k))
        np.testing.assert_array_equal(ad.diag(x[0], k).numpy(), np.diag(x[0], k))
    np.testing.assert_array_equal(ad.outer(x[0], x[1, 0]).numpy(), np.outer(x[0], x[1, 0]))
    np.testing.assert_array_equal(
        L.outer(x[0, 0], x[1, 0]).numpy(), np.linalg.outer(x[0, 0], x[1, 0])
    )
    ints = np.arange(4).reshape(2, 2)
    assert ad.trace(ints).dtype == np.trace(ints).dtype


def test_batches_are_each_matrix_on_its_own():
    rng = np.random.default_rng(9)
    m = rng.standard_normal((2, 3, 3, 3))
    spd = m @ np.swapaxes(m, -1, -2) + np.eye(3)
    b = rng.standard_normal((3, 2))
    for fn, data in [
        (L.inv, m), (L.det, m), (L.logdet, spd), (L.cholesky, spd), (L.eigvalsh, spd),
        (lambda a: L.eigh(a)[1], spd), (lambda a: L.solve(a, b), m),
        (lambda a: L.solve_triangular(a, b, lower=True), m), (lambda a: L.slogdet(a)[1], m),
        (L.trace, m), (L.diagonal, m), (L.matrix_norm, m),
    ]:  # fmt: skip
        x = ad.Tensor(data)
        out = fn(x)
        ad.sum(out * out).backward()
        for index in np.ndindex(2, 3):
            one = ad.Tensor(data[index])
            single = fn(one)
            ad.sum(single * single).backward()
            np.testing.assert_allclose(out.numpy()[index], single.numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(
                x.grad.numpy()[index], one.grad.numpy(), rtol=1e-10, atol=1e-12
            )


def test_solve_broadcasts_batches_and_takes_vectors():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((4, 1, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((5, 3, 2))
    x = L.solve(a, b)
    assert x.shape == (4, 5, 3, 2)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-12)
    v = rng.standard_normal(3)
    assert L.solve(a, v).shape == (4, 1, 3)
    np.testing.assert_allclose(L.solve(a, v).numpy(), np.linalg.solve(a, v), rtol=1e-12)
    assert L.solve_triangular(a, v).shape == (4, 1, 3)
    ta, tb = ad.Tensor(a), ad.Tensor(b)
    ad.sum(L.solve(ta, tb)).backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


def test_dtypes():
    f32 = np.array([[2.0, 1.0], [1.0, 3.0]], dtype=np.float32)
    for fn in (L.inv, L.det, L.logdet, L.cholesky, L.eigvalsh, lambda a: L.eigh(a)[1],
               lambda a: L.solve(a, a), lambda a: L.slogdet(a)[0], L.norm):  # fmt: skip
        assert fn(f32).dtype == np.float32
        with ad.lazy_mode():
            out = fn(ad.Tensor(f32))
            assert out.dtype == np.float32 and out.cached_data is None
        assert out.numpy().dtype == np.float32
    ints = np.array([[2, 1], [1, 3]], dtype=np.int8)
    bools = np.array([[True, True], [False, True]])
    for data in (ints, bools):
        for fn in (L.inv, L.det, L.cholesky, L.eigvalsh):
            with ad.lazy_mode():
                out = fn(ad.Tensor(data))
                assert out.dtype == np.float64
            assert out.numpy().dtype == np.float64
    np.testing.assert_allclose(L.cholesky(bools).numpy(), np.linalg.cholesky([[1, 0.5], [0.5, 1]]))


def test_lazy_mode_records_shapes_and_dtypes_and_computes_the_same():
    rng = np.random.default_rng(12)
    m = rng.standard_normal((2, 3, 3))
    spd = m @ np.swapaxes(m, -1, -2) + np.eye(3)
    fns = [L.inv, L.det, L.logdet, L.cholesky, L.eigvalsh, lambda a: L.eigh(a)[1],
           lambda a: L.solve(a, a[0]), lambda a: L.solve_triangular(a, a[0, 0]),
           lambda a: L.slogdet(a)[0] + L.slogdet(a)[1], L.norm, L.trace, ad.diag]  # fmt: skip
    for fn in fns:
        data = spd[0, 0] if fn is ad.diag else spd
        eager = ad.Tensor(data)
        y = fn(eager)
        ad.sum(y * y).backward()
        with ad.lazy_mode():
            x = ad.Tensor(data)
            z = fn(x)
            ad.sum(z * z).backward()
            nodes = ad.find_topo_sort([z, x.grad])
            recorded = {id(n): (n.shape, n.dtype) for n in nodes if n.cached_data is None}
        assert recorded
        for node in nodes:
            data_ = node.realize_cached_data()
            if id(node) in recorded:
                assert recorded[id(node)] == (data_.shape, data_.dtype), node.op
        np.testing.assert_array_equal(z.numpy(), y.numpy())
        np.testing.assert_array_equal(x.grad.numpy(), eager.grad.numpy())


def test_graph_run_on_a_batch_of_points():
    """The ops' computes take extra leading axes (compute_broadcasts): Graph.run on a batch
    gives what running each point does."""
    rng = np.random.default_rng(13)
    a = ad.Tensor(np.array([[3.0, 1.0], [1.0, 2.0]]), name="a")
    b = ad.Tensor(np.array([1.0, -1.0]), name="b")
    out = L.logdet(a) + ad.sum(L.solve(a, b) * b) + ad.sum(L.eigh(a)[1]) + ad.sum(L.cholesky(a))
    graph = ad.Graph(out, *ad.grad(lambda s, t: L.logdet(s) + ad.sum(L.solve(s, t)), (0, 1))(a, b))
    m = rng.standard_normal((4, 2, 2))
    batch = m @ np.swapaxes(m, -1, -2) + np.eye(2)
    rhs = rng.standard_normal((4, 2))
    results = graph.run({a: batch, b: rhs})
    for k in range(4):
        single = graph.run({a: batch[k], b: rhs[k]})
        for many, one in zip(results, single):
            np.testing.assert_allclose(many[k], one, rtol=1e-12, atol=1e-14)


def test_compiled_hessian_is_the_graph_to_the_bit():
    def nll(a, y):
        return 0.5 * L.logdet(a) + 0.5 * ad.sum(y * L.solve(a, y))

    a = np.array([[2.0, 0.3], [0.3, 1.5]])
    y = np.array([0.7, -1.1])
    h = ad.hessian(nll)(ad.Tensor(a), ad.Tensor(y))
    compiled = ad.compile(ad.hessian(nll))
    np.testing.assert_array_equal(compiled(a, y), h.numpy())
    assert "c1" in compiled.source or "linalg" in compiled.source


def test_compiled_graphs_on_jax_agree():
    pytest.importorskip("jax")
    spd = np.array([[3.0, 1.0, 0.2], [1.0, 2.0, 0.1], [0.2, 0.1, 1.0]])

    def f(a):
        v = L.eigh(a)[1]
        return (
            L.logdet(a) + ad.sum(L.cholesky(a)) + ad.sum(v * v * a) + ad.sum(L.inv(a))
            + L.slogdet(a)[1] + L.det(a) + ad.sum(L.solve_triangular(a, a, lower=True))
        )  # fmt: skip

    g = ad.grad(f)
    want = g(ad.Tensor(spd)).numpy()
    got = np.asarray(ad.compile(g, backend="jax")(spd))
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_hessian_of_a_gaussian_log_likelihood_is_symmetric_and_right():
    """The issue's motivating case in small: a kernel's parameters through logdet and solve."""
    xs = np.array([0.0, 0.4, 1.1])
    ys = np.array([0.3, -0.2, 0.5])
    d2 = (xs[:, None] - xs[None, :]) ** 2

    def nll(theta):
        ell, noise = theta[0], theta[1]
        k = ad.exp(-0.5 * ad.Tensor(d2, requires_grad=False) / (ell * ell)) + noise * I3
        return 0.5 * L.logdet(k) + 0.5 * ad.sum(ys * L.solve(k, ys))

    theta = np.array([0.8, 0.3])
    h = ad.hessian(nll)(ad.Tensor(theta)).numpy()
    np.testing.assert_allclose(h, h.T, rtol=1e-12)
    ad.gradcheck(nll, theta, order=3)


# ------------------------------------------------------------------ errors


def M(*shape):  # noqa: N802 - an operand of ``shape``: 2 I for square matrices, else ones
    square = len(shape) >= 2 and shape[-1] == shape[-2]
    return ad.Tensor(np.broadcast_to(2 * np.eye(shape[-1]), shape) if square else np.ones(shape))


def SINGULAR():  # noqa: N802
    return ad.Tensor(np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]]))


_T, _V, _LA = TypeError, ValueError, L.LinAlgError


def _matrix_rows(name):
    fn = getattr(L, name)
    return [
        (name, "non-square", lambda: fn(M(2, 3)), _V, name, r"square matrix .*\(2, 3\)"),
        (name, "1-D", lambda: fn(M(2)), _V, name, r"got shape \(2,\)"),
        (name, "float16", lambda: fn(np.eye(2, dtype=np.float16)), _T, name, r"float16"),
        (name, "None", lambda: fn(None), _T, name, r"operand of type NoneType"),
    ]


ERRORS = [
    *[
        row
        for name in ("inv", "det", "logdet", "slogdet", "cholesky", "eigh", "eigvalsh")
        for row in _matrix_rows(name)
    ],
    ("inv", "singular", lambda: L.inv(SINGULAR()), _LA, "inv", r"batch element \(1,\).* singular"),
    ("solve", "singular", lambda: L.solve(SINGULAR(), M(2, 1)), _LA, "solve", r"\(1,\) .*singular"),
    ("solve", "non-square", lambda: L.solve(M(2, 3), M(2)), _V, "solve", r"a must be a square"),
    ("solve", "0-d b", lambda: L.solve(M(2, 2), 1.0), _V, "solve", r"b must be a vector"),
    ("solve", "rows", lambda: L.solve(M(2, 2), M(3)), _V, "solve", r"b needs 2 rows .*got 3"),
    ("solve", "batch", lambda: L.solve(M(2, 2, 2), M(3, 2, 1)), _V, "solve", r"batch shapes"),
    ("solve", "float16 b", lambda: L.solve(M(2, 2), np.ones(2, np.float16)), _T, "solve", r"16"),
    ("cholesky", "not positive", lambda: L.cholesky(-M(2, 2)), _LA, "cholesky", r"not positive"),
    ("cholesky", "upper", lambda: L.cholesky(M(2, 2), upper=1), _T, "cholesky", r"upper must"),
    (
        "solve_triangular",
        "zero diagonal",
        lambda: L.solve_triangular(np.array([[1.0, 5.0], [0.0, 0.0]]), M(2)),
        _LA,
        "solve_triangular",
        r"zero on its diagonal",
    ),
    (
        "solve_triangular",
        "lower",
        lambda: L.solve_triangular(M(2, 2), M(2), lower="yes"),
        _T,
        "solve_triangular",
        r"lower must be True or False",
    ),  # fmt: skip
    ("Solve", "class, batch", lambda: ad.ops.Solve()(M(2, 2, 2), M(2, 1)), _V, "Solve", r"b of sh"),
    ("Solve", "class, arity", lambda: ad.ops.Solve()(M(2, 2)), _T, "Solve", r"two input"),
    ("Inverse", "class, shape", lambda: ad.ops.Inverse()(M(2, 3)), _V, "Inverse", r"square"),
    (
        "EighVectors",
        "class, arity",
        lambda: ad.ops.EighVectors()(M(2, 2), M(2, 2)),
        _T,
        "EighVectors",
        r"one input",
    ),  # fmt: skip
    ("norm", "nuc", lambda: L.norm(M(2, 2), "nuc"), _V, "norm", r"singular value"),
    ("norm", "2 of a matrix", lambda: L.norm(M(2, 2), 2), _V, "norm", r"singular values"),
    ("norm", "matrix ord", lambda: L.norm(M(2, 2), 3), _V, "norm", r"not a matrix norm"),
    ("norm", "fro of a vector", lambda: L.norm(M(2), "fro"), _V, "norm", r"is a matrix norm"),
    ("norm", "3-D", lambda: L.norm(M(2, 2, 2), 1), _V, "norm", r"must be 1-D or 2-D"),
    ("norm", "three axes", lambda: L.norm(M(2, 2, 2), axis=(0, 1, 2)), _V, "norm", r"two ints"),
    ("norm", "repeated", lambda: L.norm(M(2, 2), axis=(1, -1)), _V, "norm", r"repeated axis"),
    ("norm", "axis range", lambda: L.norm(M(2, 2), axis=2), _V, "norm", r"out of range"),
    ("norm", "bool ord", lambda: L.norm(M(2), True), _T, "norm", r"ord must be a number"),
    ("norm", "keepdims", lambda: L.norm(M(2), keepdims="no"), _T, "norm", r"keepdims must"),
    ("matrix_norm", "1-D", lambda: L.matrix_norm(M(2)), _V, "matrix_norm", r"at least 2 dim"),
    ("vector_norm", "axis", lambda: L.vector_norm(M(2), axis=1.5), _T, "vector_norm", r"axis"),
    ("diagonal", "1-D", lambda: ad.diagonal(M(2)), _V, "diagonal", r"at least 2 dimensions"),
    ("diagonal", "same axes", lambda: ad.diagonal(M(2, 2), 0, 1, -1), _V, "diagonal", r"same"),
    ("diagonal", "offset", lambda: ad.diagonal(M(2, 2), 0.5), _T, "diagonal", r"offset must"),
    ("diagonal", "axis range", lambda: ad.diagonal(M(2, 2), 0, 0, 2), _V, "diagonal", r"axis2"),
    ("trace", "1-D", lambda: ad.trace(M(2)), _V, "trace", r"at least 2 dimensions"),
    ("trace", "same axes", lambda: ad.trace(M(2, 2), 0, 0, 0), _V, "trace", r"same axis"),
    ("trace", "str", lambda: ad.trace("ab"), _T, "trace", r"operand of type str"),
    ("diag", "3-D", lambda: ad.diag(M(2, 2, 2)), _V, "diag", r"1-D .* or 2-D"),
    ("diag", "k", lambda: ad.diag(M(2), 1.0), _T, "diag", r"k must be an int"),
    ("outer", "linalg 2-D", lambda: L.outer(M(2, 2), M(2)), _V, "outer", r"two 1-D tensors"),
    ("outer", "None", lambda: ad.outer(None, M(2)), _T, "outer", r"operand of type NoneType"),
]


@_table(ERRORS)
def test_errors(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_linalg_errors_are_numpy_s_and_value_errors():
    with pytest.raises(np.linalg.LinAlgError) as caught:
        L.inv(np.zeros((2, 2)))
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "inv: the matrix of shape (2, 2) is singular; the operation needs an invertible matrix"
    )
    with ad.lazy_mode():  # recorded now, refused when computed
        y = L.cholesky(-np.eye(2))
        with pytest.raises(L.LinAlgError, match="cholesky: the matrix of shape"):
            y.numpy()
    x = ad.Tensor(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(L.LinAlgError, match="inv: .* singular"):
        L.det(x).backward()  # det's gradient needs the inverse (see the module doc)
