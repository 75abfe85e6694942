"""Every public derivative path against sympy: random programs, scalars to the 8th order.

Random programs (``tests/helpers/exprgen.py``) are built at once as adjoint functions
and as sympy expressions, so the two agree by construction: DAGs of sin, cos,
tanh, sigmoid, exp, log(1 + u^2), 1/(1 + u^2), sqrt(1 + u^2), integer and real
powers, c ** u, u ** v, +, -, *, / (by values bounded away from zero), scalar
ops with constants (u + 0 and u * 1 included), each op in several adjoint
spellings; tensor programs add broadcasting, sum and mean over axes (keepdims,
negative axes), indexing and slicing, matmul (with constants and between
values), reshape, transpose, permute, ``.T``, broadcast_to, stack and
concatenate. Interval arithmetic keeps every value in its domain and moderate
for every input in [-1.5, 1.5], so any point of that range is valid.

The oracle is sympy: the exact derivatives of the program's sympy expression
(``sympy.diff``, once per order and variable), evaluated at 30 significant
digits with mpmath (:func:`evaluate`, an exact evaluator of sympy's tree).

Programs of one scalar x: small ones (2 to 5 steps) to the 8th order, larger
ones (5 to 8 steps) to the 5th (sympy's 8th derivatives of those take
minutes). ``d_k`` is ``grad`` nested k times (default ``simplify``):

* nested ``ad.grad`` with ``simplify=None`` (default), ``True`` and ``False``,
  every order;
* repeated ``backward()`` (every ``.grad`` reset before each pass), and the
  same with ``ad.simplify`` applied to ``x.grad`` before each pass, every order;
* ``value_and_grad(d_k)``, ``jacobian(d_k)``, ``jvp(d_k, x, t)`` (output and
  tangent), ``vjp(d_k, x)`` for k = 0..4, ``hessian(d_k)``, ``hvp(d_k, x, v)``
  for k = 0..3: up to the 5th order (:data:`Profile.functional_order`; above
  it their graphs are d_k's, which the nested grads check to the 8th);
* nestings: ``grad(hessian f)``, ``grad(grad(hessian f))``,
  ``hessian(hessian f)``, ``jacobian(jacobian(grad f))``, ``jvp(hessian f)``,
  ``grad(hvp(f, ., v))``, ``jvp(jvp(f, ., t), ., t)``, ``hessian(d_3)``,
  ``grad(grad(hessian(d_1)))``;
* again in lazy mode (values realized with ``.numpy()``): nested grad (default
  simplify), repeated backward, ``hessian(d_k)``, ``jvp(d_k)``.

Programs of two scalars x, y, to the 4th order (mixed partials): nested
``grad`` with ``argnums`` along several orders of differentiation (x, y, xy,
yx and random ones such as yxyy; 3 simplify modes); repeated backward taking
``x.grad`` or ``y.grad`` in turn; ``grad(f, argnums=(0, 1))`` nested three
deep; ``value_and_grad``; ``hessian(f, 0)``, ``hessian(f, 1)``,
``jacobian(grad(f, 0), 1)``, ``jacobian(grad(f, 1), (0, 1))``,
``hessian(grad(f, 1), 0)``, ``hessian(grad(grad(f, 0), 1), 1)``; ``hvp`` and
``jvp`` with tuples of primals, of f and of partial gradients; ``vjp`` of f
and of ``grad(f, 0)``; lazy mode again for grad, backward, hessian and jvp.

Tensor programs (at most 6 input elements), to the 3rd order, compared with
the exact gradient G, Hessian H and third-derivative tensor T of the sympy
sum (one symbol per input element), contracted with dyadic directions v, w:

* 1st: ``grad`` (3 simplify modes), ``backward``, ``value_and_grad``,
  ``jacobian(f)``, ``vjp``, ``jvp``;
* 2nd: ``hessian``, ``jacobian(grad f)``, ``hvp``, ``grad(<grad f, v>)``
  (3 modes), ``backward`` twice, ``jvp(grad f)``, ``vjp(grad f)``;
* 3rd: ``jacobian(hessian f)`` (the whole tensor T), ``hessian(<grad f, v>)``,
  ``grad(<hvp(f, x, v), w>)``, ``grad(<grad(<grad f, v>), w>)`` (3 modes),
  ``backward`` three times, ``jvp(hessian f)``, ``hvp(<grad f, v>, x, w)``,
  ``grad(<hessian f, M>)`` (the Jacobian node's own gradient rule);
* the backward chains again with ``ad.simplify`` between passes, and every
  path again in lazy mode.

Every derivative graph ``g`` so made is checked:

* its value at the point x1 where it was built;
* ``ad.Graph(g).run`` at a second point x2, and on the batch [x2, x3] (a new
  leading axis), against sympy there;
* ``ad.simplify(g).output``: its value, ``Graph(...).run`` at x2 and at x3,
  and agreement with ``Graph(g).run`` at x3. Not re-checked: graphs that grad
  returned simplified, and repeated backward's (the raw graphs that
  ``grad(..., simplify=False)`` makes too, checked there); in lazy mode only
  the value and the runs are checked.

An exception (a ``RewriteError``, a shape error) counts as a wrong result, and
a test lists every wrong result of its program: path, order, which check, got
and expected, with the program printed step by step and its points.
Simplification runs unverified, as users run it, except for every 4th program
of order 5 or less, which runs with ``ad.simplify``'s verify mode (the rest of
the suite runs with it on; at the 8th order it costs six times the pass).

Tolerance. A float64 result is accepted when ``|got - exact| <= 1e-9 |exact|
+ 1e-12 scale + 1e-13``, where ``scale`` bounds the magnitude of the terms
the exact derivative is a sum of (:func:`evaluate`: sums add the scales of
their terms, products multiply them, a function adds its derivative times its
argument's scale): rounding errors grow with the terms, not with the result,
and a high derivative can be a small difference of large terms (scales up to
1e20 times the value were seen). Measured over 9,600 comparisons, simplified
paths included, the error stayed below 3.2e-16 scale (1.5 units of rounding of
the terms) and 4e-13 relative, so the bound leaves a margin of 3,000 while a
wrong derivative is wrong by a term, on the order of the scale. The
self-tests check that an error of 1e-7 relative in one gradient rule or in one
rewrite of the simplifier is caught. On the code before the fix of issue 16
(a826609~1) the harness flags 10 of the first 12 larger scalar programs and 3
of the first 10 programs of two scalars.

Skip-free: every generated program is checked. A program whose exact values
are not finite real numbers at its points is drawn again (with the next
attempt's stream) and counted, as a ``RegeneratedProgram`` warning; the
generator's interval arithmetic makes that impossible, and none was seen.

Profiles (``ADJOINT_FUZZ_PROFILE``): ``default`` is small and derandomized
(fixed seeds: the same programs every run); ``ci`` is larger and runs in CI
after the main suite (``.ci/run``). The counts and measured times are at the
end of this file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy

import adjoint as ad
from adjoint.rewrite import verify_rewrites
from adjoint.rewrite.rebuild import _Builder
from tests.helpers.exprgen import Program, scalar_program, tensor_program

# ------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class Profile:
    """How many programs of each kind, and to which order."""

    small_scalar: range  # seeds of scalar programs of 2 to 5 steps, to scalar_order
    large_scalar: range  # seeds of scalar programs of 5 to 8 steps, to large_order
    tensor: range  # seeds of tensor programs, to the 3rd order
    bivariate: range  # seeds of programs of two scalars (mixed partials), to bivariate_order
    scalar_order: int = 8
    large_order: int = 5
    bivariate_order: int = 4
    functional_order: int = 5  # value_and_grad, jacobian, jvp, vjp, hessian, hvp of grad^k
    lazy_every: int = 1  # run the lazy paths for every n-th program
    verify_every: int = 4  # every n-th program runs with ad.simplify's verify mode on


PROFILES = {
    "default": Profile(
        small_scalar=range(0, 6),
        large_scalar=range(0, 6),
        tensor=range(0, 12),
        bivariate=range(0, 8),
        lazy_every=2,
    ),
    "ci": Profile(
        small_scalar=range(0, 32),
        large_scalar=range(0, 64),
        tensor=range(0, 160),
        bivariate=range(0, 96),
    ),
}
PROFILE_NAME = os.environ.get("ADJOINT_FUZZ_PROFILE", "default")
if PROFILE_NAME not in PROFILES:
    raise ValueError(f"ADJOINT_FUZZ_PROFILE={PROFILE_NAME!r}; known: {sorted(PROFILES)}")
#: ADJOINT_FUZZ_OFFSET=n shifts every seed range by n: other programs, same sizes.
OFFSET = int(os.environ.get("ADJOINT_FUZZ_OFFSET", "0"))
PROFILE = dataclasses.replace(
    PROFILES[PROFILE_NAME],
    **{
        name: range(r.start + OFFSET, r.stop + OFFSET)
        for name, r in vars(PROFILES[PROFILE_NAME]).items()
        if isinstance(r, range)
    },
)

#: Dyadic directions for hvp, jvp, vjp (exact products).
V, T, W = 0.75, -1.25, 1.5

#: The tolerance (see the module docstring).
RTOL = 1e-9
SCALE_TOL = 1e-12
ATOL = 1e-13

#: At most this many attempts per program (a program is drawn again only if its
#: exact values are not finite; the generator makes that impossible).
MAX_ATTEMPTS = 3


def _verified(seed: int) -> bool:
    """Whether the program of ``seed`` runs with ``ad.simplify``'s verify mode on (each
    rewrite checked where it is made; the rest of the suite runs with it on)."""
    return seed % PROFILE.verify_every == PROFILE.verify_every - 1


class RegeneratedProgram(UserWarning):
    """A program was drawn again because its exact values were not finite (counted)."""


def _count_attempts(case: Any, seed: int) -> None:
    """Every regeneration shows as a warning in pytest's summary, one per program."""
    if case.program.attempts > 1:
        warnings.warn(
            f"seed {seed}: program drawn {case.program.attempts} times (non-finite exact values)",
            RegeneratedProgram,
            stacklevel=2,
        )


# ------------------------------------------------------------------- the oracle


class NotFinite(ArithmeticError):
    """An exact value that is not a finite real number: the program is drawn again."""


_FUNCTIONS: dict[type, tuple[Callable, Callable]] = {
    sympy.sin: (mpmath.sin, mpmath.cos),
    sympy.cos: (mpmath.cos, lambda u: -mpmath.sin(u)),
    sympy.tanh: (mpmath.tanh, lambda u: 1 - mpmath.tanh(u) ** 2),
    sympy.exp: (mpmath.exp, mpmath.exp),
    sympy.log: (mpmath.log, lambda u: 1 / u),
}


def evaluate(expr: sympy.Expr, point: dict[sympy.Symbol, Any], memo: dict) -> tuple[Any, float]:
    """The exact value of ``expr`` at ``point`` (an mpf, at mpmath's working precision)
    and the scale of its terms (a float): see the module docstring.

    Only the node types that derivatives of :mod:`exprgen` programs contain are
    known; any other raises, so that nothing is evaluated wrongly by accident.
    """
    found = memo.get(expr)
    if found is not None:
        return found
    if expr.is_Symbol:
        value = mpmath.mpf(point[expr])
        scale = abs(float(value))
    elif expr.is_Rational:
        value = mpmath.mpf(int(expr.p)) / int(expr.q)
        scale = abs(float(value))
    elif expr is sympy.E:  # exp(1), as sympy writes it
        value = mpmath.e
        scale = abs(float(value))
    elif expr.is_Add:
        value, scale = mpmath.mpf(0), 0.0
        for arg in expr.args:
            v, s = evaluate(arg, point, memo)
            value += v
            scale += s
    elif expr.is_Mul:
        value, scale = mpmath.mpf(1), 1.0
        for arg in expr.args:
            v, s = evaluate(arg, point, memo)
            value *= v
            scale *= s
    elif expr.is_Pow:
        base, exponent = expr.args
        b, bs = evaluate(base, point, memo)
        if exponent.is_Integer:
            n = int(exponent)
            if b == 0 and n < 0:
                raise NotFinite(f"{expr} at {point}")
            value = b**n
            scale = bs**n if n > 0 else abs(float(value)) + abs(float(n * b ** (n - 1))) * bs
        else:
            e, es = evaluate(exponent, point, memo)
            if b <= 0:
                raise NotFinite(f"{expr} at {point}: base {b}")
            value = mpmath.power(b, e)
            scale = abs(float(value)) * (
                1 + abs(float(mpmath.log(b))) * es + abs(float(e / b)) * bs
            )
    elif type(expr) in _FUNCTIONS:
        (arg,) = expr.args
        u, us = evaluate(arg, point, memo)
        f, df = _FUNCTIONS[type(expr)]
        if type(expr) is sympy.log and u <= 0:
            raise NotFinite(f"{expr} at {point}: log of {u}")
        value = f(u)
        scale = abs(float(value)) + abs(float(df(u))) * us
    else:
        raise TypeError(f"evaluate: no rule for {type(expr).__name__} in {expr}")
    if isinstance(value, mpmath.mpc) or not mpmath.isfinite(value) or not math.isfinite(scale):
        raise NotFinite(f"{expr} at {point}: {value}")
    memo[expr] = (value, scale)
    return value, scale


@dataclass
class Exact:
    """Exact values (mpf) and term scales (float) of derivatives at the named points."""

    values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    scales: dict[str, dict[Any, float]] = field(default_factory=dict)

    def get(self, point: str, key: Any) -> tuple[Any, float]:
        return self.values[point][key], self.scales[point][key]


def _evaluate_all(exprs: dict[Any, sympy.Expr], points: dict[str, dict]) -> Exact:
    exact = Exact()
    with mpmath.workdps(30):
        for name, point in points.items():
            memo: dict = {}
            exact.values[name] = {}
            exact.scales[name] = {}
            for key, expr in exprs.items():
                v, s = evaluate(expr, point, memo)
                exact.values[name][key] = v
                exact.scales[name][key] = s
    return exact


# ------------------------------------------------------------------ comparing


@dataclass
class Mismatch:
    path: str
    order: int
    where: str
    got: Any
    expected: Any

    def __str__(self) -> str:
        where = f"{self.path} (order {self.order}) {self.where}"
        return f"{where}: got {self.got}, expected {self.expected}"


class Checker:
    """Counts comparisons and collects mismatches (a test fails on the first mismatch list)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.checks = 0
        self.graphs = 0
        self.mismatches: list[Mismatch] = []

    def compare(
        self, path: str, order: int, where: str, got: Any, expected: Any, scale: Any
    ) -> None:
        """``got`` (float64 array) against exact values (mpf array) with their scales."""
        self.checks += 1
        got = np.asarray(got, dtype=np.float64)
        expected = np.asarray(expected, dtype=object)
        if got.shape != expected.shape:
            self.mismatches.append(
                Mismatch(path, order, where, f"shape {got.shape}", f"shape {expected.shape}")
            )
            return
        want = np.array([float(e) for e in expected.ravel()]).reshape(expected.shape)
        scale = np.asarray(scale, dtype=np.float64)
        tol = RTOL * np.abs(want) + SCALE_TOL * scale + ATOL
        bad = ~(np.abs(got - want) <= tol)  # NaN is bad
        if bad.any():
            self.mismatches.append(Mismatch(path, order, where, got.tolist(), want.tolist()))

    def raised(self, path: str, order: int, error: Exception) -> None:
        self.checks += 1
        text = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        self.mismatches.append(Mismatch(path, order, "raised", text, "a derivative"))

    def compare_runs(self, path: str, order: int, where: str, a: Any, b: Any, scale: Any) -> None:
        """Two float64 results of the same derivative (simplified and not) against each other."""
        self.checks += 1
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        tol = RTOL * np.abs(b) + SCALE_TOL * np.asarray(scale, dtype=np.float64) + ATOL
        if a.shape != b.shape or (~(np.abs(a - b) <= 2 * tol)).any():
            self.mismatches.append(Mismatch(path, order, where, a.tolist(), b.tolist()))

    def report(self, program: Program, extra: str = "") -> str:
        lines = [
            f"{self.title}: {len(self.mismatches)} of {self.checks} comparisons wrong",
            str(program),
            extra,
        ]
        lines += [f"  {m}" for m in self.mismatches[:60]]
        if len(self.mismatches) > 60:
            lines.append(f"  ... and {len(self.mismatches) - 60} more")
        return "\n".join(lines)


def _numpy(t: Any) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, ad.Tensor) else t, dtype=np.float64)


def _run(g: ad.Tensor, leaves: list[ad.Tensor], values: tuple) -> np.ndarray:
    """``Graph(g).run`` with the leaves fed ``values`` (a leaf the graph does not contain,
    a derivative that does not depend on it, is not fed)."""
    graph = ad.Graph(g)
    feed = {leaf: value for leaf, value in zip(leaves, values) if leaf in graph}
    (result,) = graph.run(feed)
    return np.asarray(result, dtype=np.float64)


@dataclass
class Case:
    """A program, its points (x1, x2, x3: one array per input) and its exact derivatives."""

    program: Program
    points: dict[str, tuple[np.ndarray, ...]]
    exact: Exact
    order: int

    def expected(self, point: str, key: Any, factor: Any = 1) -> tuple[Any, Any]:
        value, scale = self.exact.get(point, key)
        return value * factor, scale * abs(factor)

    def leaves(self) -> list[ad.Tensor]:
        names = ("x", "y", "z")
        return [ad.Tensor(p, name=n) for p, n in zip(self.points["x1"], names)]

    def describe_points(self) -> str:
        return ", ".join(
            f"{k} = {tuple(np.asarray(v).tolist() for v in p)}" for k, p in self.points.items()
        )


def check_graph(
    checker: Checker,
    case: Case,
    leaves: list[ad.Tensor],
    path: str,
    order: int,
    g: ad.Tensor,
    expected: Callable[[str], tuple[Any, Any]],
    *,
    simplify: bool = True,
) -> None:
    """The checks every derivative graph gets: value at x1, Graph.run at x2 and on the
    batch [x2, x3], and the simplified graph's value, its runs at x2 and x3 and agreement
    with Graph(g) at x3."""
    checker.graphs += 1
    want, scale = expected("x1")
    checker.compare(path, order, "value at x1", _numpy(g), want, scale)
    if not isinstance(g, ad.Tensor):  # a derivative that is a plain number
        return
    x2, x3 = case.points["x2"], case.points["x3"]
    want2, scale2 = expected("x2")
    want3, scale3 = expected("x3")
    checker.compare(path, order, "Graph.run at x2", _run(g, leaves, x2), want2, scale2)
    # x2 and x3 at once, as a batch along a new leading axis
    batch = tuple(np.stack([a, b]) for a, b in zip(x2, x3))
    got = _run(g, leaves, batch)
    if not any(leaf in ad.Graph(g) for leaf in leaves):  # a constant: no batch axis
        got = np.broadcast_to(got, (2,) + got.shape)
    checker.compare(
        path,
        order,
        "Graph.run on the batch [x2, x3]",
        got,
        np.stack([np.asarray(want2, dtype=object), np.asarray(want3, dtype=object)]),
        np.stack([np.asarray(scale2, dtype=np.float64), np.asarray(scale3, dtype=np.float64)]),
    )
    if not simplify:
        return
    s = ad.simplify(g).output
    checker.compare(path, order, "simplify(g) value", _numpy(s), want, scale)
    checker.compare(path, order, "Graph(simplify(g)).run at x2", _run(s, leaves, x2), want2, scale2)
    raw3 = _run(g, leaves, x3)
    simple3 = _run(s, leaves, x3)
    checker.compare(path, order, "Graph.run at x3", raw3, want3, scale3)
    checker.compare_runs(
        path, order, "Graph(simplify(g)).run == Graph(g).run at x3", simple3, raw3, scale3
    )


# ------------------------------------------------------------------- scalars

X = sympy.Symbol("x")


def scalar_case(seed: int, large: bool) -> Case:
    """The program of ``seed`` (drawn again while its exact values are not finite)."""
    order = PROFILE.large_order if large else PROFILE.scalar_order
    for attempt in range(MAX_ATTEMPTS):
        program = (
            scalar_program(seed, attempt, min_steps=5, max_steps=8)
            if large
            else scalar_program(seed, attempt, min_steps=2, max_steps=5)
        )
        rng = np.random.default_rng([seed, attempt, 7 if large else 3])
        points = {f"x{k}": np.array(rng.uniform(-1.45, 1.45)) for k in (1, 2, 3)}
        exprs = {0: program.sym(X)}
        for k in range(1, order + 1):
            exprs[k] = sympy.diff(exprs[k - 1], X)
        try:
            exact = _evaluate_all(exprs, {n: {X: float(p)} for n, p in points.items()})
        except NotFinite:
            continue
        return Case(program, {n: (p,) for n, p in points.items()}, exact, order)
    raise AssertionError(f"seed {seed}: no program with finite exact values in {MAX_ATTEMPTS}")


def nested_grad(f: Callable, k: int, simplify: bool | None = None) -> Callable:
    for _ in range(k):
        f = ad.grad(f, simplify=simplify)
    return f


def _inner_orders(order: int, added: int) -> range:
    """The inner orders k of a functional path that adds ``added`` orders to grad^k f:
    every k whose derivative is within ``order`` and :data:`Profile.functional_order`
    (above it, their graphs are grad^k's, which the nested grad paths check up to the
    8th order, and the functional wrappers' own rules are the same at every k)."""
    return range(0, min(order, PROFILE.functional_order) - added + 1)


class BackwardChain:
    """Repeated ``backward()``: ``y.backward()``, then ``x.grad.backward()``, ... with
    every leaf's ``.grad`` reset before each pass (``backward`` overwrites it, and a
    derivative that does not depend on x would leave the previous one there). With
    ``simplified``, each ``x.grad`` goes through ``ad.simplify`` before it is
    differentiated again; with ``directions``, ``<x.grad, direction>`` is (tensors);
    with several leaves, ``picks[k]`` says whose ``.grad`` the (k+1)-th pass takes.
    ``get(k)`` is the k-th derivative graph (built on demand; an error at one step is
    raised again for every later one)."""

    def __init__(
        self,
        y: ad.Tensor,
        leaves: ad.Tensor | list[ad.Tensor],
        simplified: bool = False,
        directions: tuple = (),
        picks: tuple[int, ...] = (),
    ) -> None:
        self.leaves = leaves if isinstance(leaves, list) else [leaves]
        self.simplified = simplified
        self.directions = directions
        self.picks = picks
        self.graphs: list[Any] = [y]
        self.error: Exception | None = None

    def get(self, k: int) -> Any:
        while len(self.graphs) <= k:
            if self.error is not None:
                raise self.error
            previous = self.graphs[-1]
            try:
                self.graphs.append(self._next(previous))
            except Exception as error:
                self.error = error
                raise
        return self.graphs[k]

    def _next(self, g: Any) -> Any:
        k = len(self.graphs)  # the order being made
        x = self.leaves[self.picks[k - 1] if self.picks else 0]
        if not isinstance(g, ad.Tensor) or not g.requires_grad:
            return np.zeros(x.shape)  # the previous derivative did not depend on x
        if self.simplified and k > 1:
            g = ad.simplify(g).output
        if k > 1 and self.directions:
            g = _inner(g, self.directions[k - 2])
        for leaf in self.leaves:
            leaf.grad = None
        g.backward()
        result = x.grad
        for leaf in self.leaves:
            leaf.grad = None
        return result if result is not None else np.zeros(x.shape)


Path = tuple[str, int, Callable[[], Any], Any]


def scalar_paths(case: Case, x: ad.Tensor) -> Iterator[Path]:
    """(path, order, build, factor): every derivative path for a scalar program.

    ``build()`` makes the derivative graph (at x), which is ``factor`` times the
    ``order``-th derivative of f.
    """
    f = case.program.fn
    n = case.order

    for simplify in (None, True, False):
        d = f
        for k in range(1, n + 1):
            d = ad.grad(d, simplify=simplify)
            yield f"grad^{k}[simplify={simplify}]", k, lambda d=d: d(x), 1

    for simplified in (False, True):
        name = "backward+simplify" if simplified else "backward"
        chain = BackwardChain(f(x), x, simplified)
        for k in range(1, n + 1):
            yield f"{name}^{k}", k, lambda k=k, chain=chain: chain.get(k), 1

    d = [nested_grad(f, k) for k in range(n + 1)]
    for k in _inner_orders(n, 1):
        dk = d[k]
        yield f"value_and_grad(grad^{k})[0]", k, lambda dk=dk: ad.value_and_grad(dk)(x)[0], 1
        yield f"value_and_grad(grad^{k})[1]", k + 1, lambda dk=dk: ad.value_and_grad(dk)(x)[1], 1
        yield f"jacobian(grad^{k})", k + 1, lambda dk=dk: ad.jacobian(dk)(x), 1
        yield f"jvp(grad^{k})[0]", k, lambda dk=dk: ad.jvp(dk, x, T)[0], 1
        yield f"jvp(grad^{k}, t)[1]", k + 1, lambda dk=dk: ad.jvp(dk, x, T)[1], T
        yield f"vjp(grad^{k}, w)", k + 1, lambda dk=dk: ad.vjp(dk, x)[1](W)[0], W
    for k in _inner_orders(n, 2):
        dk = d[k]
        yield f"hessian(grad^{k})", k + 2, lambda dk=dk: ad.hessian(dk)(x), 1
        yield f"hvp(grad^{k}, v)", k + 2, lambda dk=dk: ad.hvp(dk, x, V), V

    hessian = ad.hessian(f)
    nested = [
        ("grad(hessian)", 3, lambda: ad.grad(hessian)(x), 1),
        ("grad(grad(hessian))", 4, lambda: ad.grad(ad.grad(hessian))(x), 1),
        ("hessian(hessian)", 4, lambda: ad.hessian(hessian)(x), 1),
        ("jacobian(jacobian(grad))", 3, lambda: ad.jacobian(ad.jacobian(d[1]))(x), 1),
        ("jvp(hessian, t)", 3, lambda: ad.jvp(hessian, x, T)[1], T),
        ("grad(hvp(., v))", 3, lambda: ad.grad(lambda y: ad.hvp(f, y, V))(x), V),
        ("jvp(jvp(., t), t)", 2, lambda: ad.jvp(lambda y: ad.jvp(f, y, T)[1], x, T)[1], T * T),
        ("hessian(grad^3)", 5, lambda: ad.hessian(d[3])(x), 1),
        ("grad^2(hessian(grad))", 5, lambda: nested_grad(ad.hessian(d[1]), 2)(x), 1),
    ]
    for path in nested:
        if path[1] <= n:
            yield path


def _lazy_scalar_path(path: str) -> bool:
    """The paths run again in lazy mode: nested grad (default simplify), repeated
    backward, hessian and jvp of grad^k."""
    return ("grad^" in path and "[simplify=None]" in path) or path.startswith(
        ("backward^", "hessian(grad^", "jvp(grad^")
    )


def _resimplify(path: str, order: int) -> bool:
    """Whether ``simplify(g)`` of the path's graph is checked: not for graphs that nested
    grad returned simplified, nor for repeated backward's, the raw graphs that
    grad(..., simplify=False) makes too (node for node, and they are checked there)."""
    return not (
        "[simplify=True]" in path
        or ("[simplify=None]" in path and order >= 3)
        or path.startswith(("backward^", "backward_"))
    )


def run_paths(
    checker: Checker,
    case: Case,
    paths: Callable[..., Iterator[Path]],
    expected: Callable[[str, int, Any], tuple[Any, Any]],
    *,
    lazy: bool,
    lazy_paths: Callable[[str], bool] = lambda path: True,
    resimplify: Callable[[str, int], bool] = lambda path, order: True,
) -> Checker:
    """Build and check every path, in eager mode and (``lazy``) again in lazy mode.

    An exception while building or checking a path is a mismatch too (``RewriteError``
    from a verified simplification, a shape error, ...), and the other paths go on."""
    value, scale = expected("x1", 0, None)
    for mode in (False, True) if lazy else (False,):
        leaves = case.leaves()
        with ad.lazy_mode(mode):
            suffix = " [lazy]" if mode else ""
            checker.compare(
                "f" + suffix, 0, "value at x1", _numpy(case.program.fn(*leaves)), value, scale
            )
            for path, order, build, extra in paths(case, *leaves):
                if mode and not lazy_paths(path):
                    continue
                try:
                    g = build()
                    check_graph(
                        checker,
                        case,
                        leaves,
                        path + suffix,
                        order,
                        g,
                        lambda point, order=order, extra=extra: expected(point, order, extra),
                        simplify=not mode and resimplify(path, order),
                    )
                except Exception as error:  # noqa: BLE001 - reported as a mismatch
                    checker.raised(path + suffix, order, error)
        for leaf in leaves:
            leaf.grad = None
    return checker


def check_scalar_case(case: Case, lazy: bool = True) -> Checker:
    return run_paths(
        Checker(f"scalar program to order {case.order}"),
        case,
        scalar_paths,
        lambda point, order, factor: case.expected(point, order, 1 if factor is None else factor),
        lazy=lazy,
        lazy_paths=_lazy_scalar_path,
        resimplify=_resimplify,
    )


def _scalar_test(seed: int, large: bool) -> None:
    case = scalar_case(seed, large)
    _count_attempts(case, seed)
    # verify mode costs about six times the simplification at the 8th order: only
    # programs of lower order run with it
    with verify_rewrites(large and _verified(seed)):
        checker = check_scalar_case(case, lazy=seed % PROFILE.lazy_every == 0)
    assert not checker.mismatches, checker.report(case.program, case.describe_points())
    assert checker.checks > 20 * case.order


@pytest.mark.slow  # 8th-order sympy derivatives: about 20 s for the default profile
@pytest.mark.parametrize("seed", PROFILE.small_scalar)
def test_small_scalar_programs_to_the_8th_order(seed):
    _scalar_test(seed, large=False)


@pytest.mark.slow  # about 12 s for the default profile
@pytest.mark.parametrize("seed", PROFILE.large_scalar)
def test_larger_scalar_programs(seed):
    _scalar_test(seed, large=True)


def test_the_issue_16_example():
    """log(1 + x^2) x at -0.939: the 4th derivative by nested grad was 0.0 (issue 16)."""
    x_ = sympy.Symbol("x")
    exact = float(sympy.diff(sympy.log(1 + x_**2) * x_, x_, 4).subs(x_, sympy.Rational(-0.939)))
    assert abs(exact - 1.619306749360434) < 1e-12
    for simplify in (None, True, False):
        d = nested_grad(lambda x: ad.log(1 + x**2) * x, 4, simplify)
        got = float(d(ad.Tensor(-0.939)))
        assert abs(got - exact) <= 1e-9 * abs(exact), (simplify, got, exact)


# ---------------------------------------------------------- two scalar inputs

Y = sympy.Symbol("y")


def bivariate_case(seed: int) -> Case:
    """A program of two scalars x, y; exact partial derivatives keyed by (i, j), the
    numbers of differentiations by x and by y, up to the profile's bivariate order."""
    order = PROFILE.bivariate_order
    for attempt in range(MAX_ATTEMPTS):
        program = scalar_program(seed, attempt, min_steps=3, max_steps=6, inputs=2)
        rng = np.random.default_rng([seed, attempt, 11])
        points = {
            f"x{k}": (np.array(u), np.array(v))
            for k, (u, v) in zip((1, 2, 3), rng.uniform(-1.45, 1.45, size=(3, 2)))
        }
        exprs = {(0, 0): program.sym(X, Y)}
        for total in range(1, order + 1):
            for i in range(total + 1):
                j = total - i
                exprs[i, j] = (
                    sympy.diff(exprs[i - 1, j], X) if i else sympy.diff(exprs[i, j - 1], Y)
                )
        try:
            exact = _evaluate_all(
                exprs, {n: {X: float(p[0]), Y: float(p[1])} for n, p in points.items()}
            )
        except NotFinite:
            continue
        return Case(program, points, exact, order)
    raise AssertionError(f"seed {seed}: no program with finite exact values in {MAX_ATTEMPTS}")


def _partial(sequence: tuple[int, ...]) -> tuple[int, int]:
    return (sequence.count(0), sequence.count(1))


def _sequences(seed: int, order: int) -> list[tuple[int, ...]]:
    """Orders of differentiation (0: by x, 1: by y): x, y, xy, yx, and random ones."""
    rng = np.random.default_rng([seed, 13])
    found = [(0,), (1,), (0, 1), (1, 0)]
    for k in range(2, order + 1):
        for _ in range(2):
            sequence = tuple(int(a) for a in rng.integers(0, 2, size=k))
            if sequence not in found:
                found.append(sequence)
    return found


def bivariate_paths(case: Case, x: ad.Tensor, y: ad.Tensor) -> Iterator[Path]:
    """(path, order, build, terms): the derivative is sum(c * d[i, j] for c, (i, j) in terms),
    d[i, j] the partial derivative i times by x and j times by y."""
    f = case.program.fn
    n = case.order
    vx, vy, tx, ty = V, -0.5, T, 0.25

    sequences = _sequences(case.program.seed, n)
    for simplify in (None, True, False):
        for sequence in sequences:
            d = f
            for a in sequence:
                d = ad.grad(d, argnums=a, simplify=simplify)
            name = "".join("xy"[a] for a in sequence)
            yield (
                f"grad_{name}[simplify={simplify}]",
                len(sequence),
                lambda d=d: d(x, y),
                [(1, _partial(sequence))],
            )
    for simplified in (False, True):
        for sequence in sequences:
            if len(sequence) < n and len(sequence) != 2:
                continue
            chain = BackwardChain(f(x, y), [x, y], simplified, picks=sequence)
            name = "backward+simplify" if simplified else "backward"
            for k in range(1, len(sequence) + 1):
                label = "".join("xy"[a] for a in sequence[:k])
                yield (
                    f"{name}_{label}",
                    k,
                    lambda chain=chain, k=k: chain.get(k),
                    [(1, _partial(sequence[:k]))],
                )

    both = ad.grad(f, argnums=(0, 1))
    second = ad.grad(lambda a, b: both(a, b)[1], argnums=(0, 1))
    third = ad.grad(lambda a, b: second(a, b)[0], argnums=(0, 1))
    grad_x, grad_y = ad.grad(f, 0), ad.grad(f, 1)
    paths = [
        ("grad(f, (0, 1))[0]", 1, lambda: both(x, y)[0], [(1, (1, 0))]),
        ("grad(f, (0, 1))[1]", 1, lambda: both(x, y)[1], [(1, (0, 1))]),
        ("grad(grad(f, (0, 1))[1], (0, 1))[0]", 2, lambda: second(x, y)[0], [(1, (1, 1))]),
        ("grad(grad(f, (0, 1))[1], (0, 1))[1]", 2, lambda: second(x, y)[1], [(1, (0, 2))]),
        ("grad^3 by tuples [0]", 3, lambda: third(x, y)[0], [(1, (2, 1))]),
        ("grad^3 by tuples [1]", 3, lambda: third(x, y)[1], [(1, (1, 2))]),
        (
            "value_and_grad(f, (0, 1))[1][1]",
            1,
            lambda: ad.value_and_grad(f, (0, 1))(x, y)[1][1],
            [(1, (0, 1))],
        ),
        ("hessian(f, 0)", 2, lambda: ad.hessian(f, 0)(x, y), [(1, (2, 0))]),
        ("hessian(f, 1)", 2, lambda: ad.hessian(f, 1)(x, y), [(1, (0, 2))]),
        ("jacobian(grad(f, 0), 1)", 2, lambda: ad.jacobian(grad_x, 1)(x, y), [(1, (1, 1))]),
        (
            "jacobian(grad(f, 1), (0, 1))[0]",
            2,
            lambda: ad.jacobian(grad_y, (0, 1))(x, y)[0],
            [(1, (1, 1))],
        ),
        (
            "jacobian(grad(f, 1), (0, 1))[1]",
            2,
            lambda: ad.jacobian(grad_y, (0, 1))(x, y)[1],
            [(1, (0, 2))],
        ),
        ("hessian(grad(f, 1), 0)", 3, lambda: ad.hessian(grad_y, 0)(x, y), [(1, (2, 1))]),
        (
            "hessian(grad(grad(f, 0), 1), 1)",
            4,
            lambda: ad.hessian(ad.grad(grad_x, 1), 1)(x, y),
            [(1, (1, 3))],
        ),
        (
            "hvp(f, (x, y), v)[0]",
            2,
            lambda: ad.hvp(f, (x, y), (vx, vy))[0],
            [(vx, (2, 0)), (vy, (1, 1))],
        ),
        (
            "hvp(f, (x, y), v)[1]",
            2,
            lambda: ad.hvp(f, (x, y), (vx, vy))[1],
            [(vx, (1, 1)), (vy, (0, 2))],
        ),
        (
            "hvp(grad(f, 0), (x, y), v)[1]",
            3,
            lambda: ad.hvp(grad_x, (x, y), (vx, vy))[1],
            [(vx, (2, 1)), (vy, (1, 2))],
        ),
        (
            "jvp(f, (x, y), t)",
            1,
            lambda: ad.jvp(f, (x, y), (tx, ty))[1],
            [(tx, (1, 0)), (ty, (0, 1))],
        ),
        (
            "jvp(grad(f, 1), (x, y), t)",
            2,
            lambda: ad.jvp(grad_y, (x, y), (tx, ty))[1],
            [(tx, (1, 1)), (ty, (0, 2))],
        ),
        (
            "jvp(hessian(f, 0), (x, y), t)",
            3,
            lambda: ad.jvp(ad.hessian(f, 0), (x, y), (tx, ty))[1],
            [(tx, (3, 0)), (ty, (2, 1))],
        ),
        ("vjp(f, x, y)(w)[0]", 1, lambda: ad.vjp(f, x, y)[1](W)[0], [(W, (1, 0))]),
        ("vjp(f, x, y)(w)[1]", 1, lambda: ad.vjp(f, x, y)[1](W)[1], [(W, (0, 1))]),
        ("vjp(grad(f, 0), x, y)(w)[1]", 2, lambda: ad.vjp(grad_x, x, y)[1](W)[1], [(W, (1, 1))]),
    ]
    for path in paths:
        if path[1] <= n:
            yield path


def _bivariate_expected(case: Case, point: str, terms: Any) -> tuple[Any, float]:
    total, scale = mpmath.mpf(0), 0.0
    for c, key in terms or [(1, (0, 0))]:
        value, s = case.exact.get(point, key)
        total += value * c
        scale += s * abs(c)
    return total, scale


def check_bivariate_case(case: Case, lazy: bool = True) -> Checker:
    return run_paths(
        Checker(f"program of x and y to order {case.order}"),
        case,
        bivariate_paths,
        lambda point, order, terms: _bivariate_expected(case, point, terms),
        lazy=lazy,
        lazy_paths=lambda path: path.startswith(("grad_", "backward_", "hessian(", "jvp(")),
        resimplify=_resimplify,
    )


@pytest.mark.parametrize("seed", PROFILE.bivariate)
def test_programs_of_two_scalars_mixed_partials(seed):
    case = bivariate_case(seed)
    _count_attempts(case, seed)
    with verify_rewrites(_verified(seed)):
        checker = check_bivariate_case(case, lazy=seed % PROFILE.lazy_every == 0)
    assert not checker.mismatches, checker.report(case.program, case.describe_points())
    assert checker.checks > 20 * case.order


# ------------------------------------------------------------------- tensors


def _symbols(shape: tuple[int, ...]) -> np.ndarray:
    flat = [sympy.Symbol(f"x_{k}") for k in range(int(np.prod(shape, dtype=int)))]
    array = np.empty(len(flat), dtype=object)
    array[:] = flat
    return array.reshape(shape)


def _directions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([0.5, -0.75, 1.25, 1.5, -1.0, 0.25]), size=shape)


@dataclass
class TensorCase(Case):
    symbols: np.ndarray = None
    v: np.ndarray = None
    w: np.ndarray = None
    m: np.ndarray = None


def tensor_case(seed: int) -> TensorCase:
    for attempt in range(MAX_ATTEMPTS):
        program = tensor_program(seed, attempt)
        shape = program.input_shape
        rng = np.random.default_rng([seed, attempt, 5])
        points = {f"x{k}": rng.uniform(-1.45, 1.45, size=shape) for k in (1, 2, 3)}
        syms = _symbols(shape)
        flat = list(syms.ravel())
        exprs: dict[Any, sympy.Expr] = {(): program.sym(syms)}
        n = len(flat)
        for order in (1, 2, 3):  # partial derivatives by sorted multi-index
            for index in np.ndindex(*(n,) * order):
                key = tuple(sorted(index))
                if key not in exprs:
                    exprs[key] = sympy.diff(exprs[key[:-1]], flat[key[-1]])
        try:
            exact = _evaluate_all(
                exprs,
                {name: dict(zip(flat, map(float, p.ravel()))) for name, p in points.items()},
            )
        except NotFinite:
            continue
        case = TensorCase(program, {n: (p,) for n, p in points.items()}, exact, 3, syms)
        case.v = _directions(rng, shape)
        case.w = _directions(rng, shape)
        case.m = _directions(rng, shape + shape)
        return case
    raise AssertionError(f"seed {seed}: no program with finite exact values in {MAX_ATTEMPTS}")


def _tensor_expected(case: TensorCase, point: str, order: int, contract: tuple) -> tuple:
    """The ``order``-th derivative tensor at ``point``, with its leading axes contracted
    with the arrays in ``contract`` (flattened), as exact values and scales."""
    shape = case.program.input_shape
    n = int(np.prod(shape, dtype=int))
    values, scales = case.exact.values[point], case.exact.scales[point]
    free = order - len(contract)
    out_v = np.empty((n,) * free, dtype=object)
    out_s = np.empty((n,) * free, dtype=np.float64)
    vectors = [np.asarray(c, dtype=np.float64).ravel() for c in contract]
    for free_index in np.ndindex(*(n,) * free):
        total, scale = mpmath.mpf(0), 0.0
        for bound in np.ndindex(*(n,) * len(contract)):
            weight = 1.0
            for vec, i in zip(vectors, bound):
                weight *= vec[i]
            if weight == 0:
                continue
            key = tuple(sorted(bound + free_index))
            total += values[key] * weight
            scale += scales[key] * abs(weight)
        out_v[free_index] = total
        out_s[free_index] = scale
    return out_v.reshape(shape * free), out_s.reshape(shape * free)


def _inner(a: ad.Tensor, b: np.ndarray) -> ad.Tensor:
    return ad.sum(a * ad.Tensor(b, requires_grad=False))


def _backward(y: ad.Tensor, x: ad.Tensor) -> ad.Tensor:
    """``y.backward()`` and take ``x.grad``, reset before and after; zeros when y does
    not depend on x (a derivative of a polynomial past its degree)."""
    x.grad = None
    if y.requires_grad:
        y.backward()
    g = x.grad
    x.grad = None
    return g if g is not None else ad.Tensor(np.zeros(x.shape), requires_grad=False)


def tensor_paths(case: TensorCase, x: ad.Tensor) -> Iterator[Path]:
    """(path, order, build, contraction): ``build()`` makes the derivative graph, which is
    the order-th derivative tensor contracted with the contraction's arrays over its
    leading axes."""
    f = case.program.fn
    v, w, m = case.v, case.w, case.m

    for simplify in (None, True, False):
        g1 = ad.grad(f, simplify=simplify)
        g2 = ad.grad(lambda y, g1=g1: _inner(g1(y), v), simplify=simplify)
        g3 = ad.grad(lambda y, g2=g2: _inner(g2(y), w), simplify=simplify)
        yield f"grad[simplify={simplify}]", 1, lambda g1=g1: g1(x), ()
        yield f"grad(<grad, v>)[simplify={simplify}]", 2, lambda g2=g2: g2(x), (v,)
        yield f"grad(<grad(<grad, v>), w>)[simplify={simplify}]", 3, lambda g3=g3: g3(x), (v, w)

    for simplified in (False, True):
        name = "backward+simplify" if simplified else "backward"
        chain = BackwardChain(f(x), x, simplified, directions=(v, w))
        yield f"{name}", 1, lambda chain=chain: chain.get(1), ()
        yield f"{name}^2 <., v>", 2, lambda chain=chain: chain.get(2), (v,)
        yield f"{name}^3 <., v>, <., w>", 3, lambda chain=chain: chain.get(3), (v, w)

    yield "value_and_grad[0]", 0, lambda: ad.value_and_grad(f)(x)[0], ()
    yield "value_and_grad[1]", 1, lambda: ad.value_and_grad(f)(x)[1], ()
    yield "jacobian(f)", 1, lambda: ad.jacobian(f)(x), ()
    yield "vjp(f)(w0)", 1, lambda: ad.vjp(f, x)[1](W)[0], (np.array(W),)
    yield "jvp(f, v)", 1, lambda: ad.jvp(f, x, v)[1], (v,)

    grad_f = ad.grad(f)
    hessian = ad.hessian(f)
    yield "hessian", 2, lambda: hessian(x), ()
    yield "jacobian(grad)", 2, lambda: ad.jacobian(grad_f)(x), ()
    yield "hvp(v)", 2, lambda: ad.hvp(f, x, v), (v,)
    yield "jvp(grad, v)", 2, lambda: ad.jvp(grad_f, x, v)[1], (v,)
    yield "vjp(grad)(w)", 2, lambda: ad.vjp(grad_f, x)[1](w)[0], (w,)

    directional = lambda y: _inner(grad_f(y), v)  # noqa: E731
    yield "jacobian(hessian)", 3, lambda: ad.jacobian(hessian)(x), ()
    yield "hessian(<grad, v>)", 3, lambda: ad.hessian(directional)(x), (v,)
    yield "grad(<hvp(v), w>)", 3, lambda: ad.grad(lambda y: _inner(ad.hvp(f, y, v), w))(x), (v, w)
    yield "jvp(hessian, v)", 3, lambda: ad.jvp(hessian, x, v)[1], (v,)
    yield "hvp(<grad, v>, w)", 3, lambda: ad.hvp(directional, x, w), (v, w)
    yield "grad(<hessian, M>)", 3, lambda: ad.grad(lambda y: _inner(hessian(y), m))(x), (m,)


def _tensor_expected_for(case: TensorCase, point: str, order: int, contract: tuple) -> tuple:
    shape = case.program.input_shape
    if len(contract) == 1 and contract[0].shape == shape + shape:  # <T, M> over two axes
        n = int(np.prod(shape, dtype=int))
        mflat = contract[0].reshape(n, n)
        values, scales = case.exact.values[point], case.exact.scales[point]
        out_v = np.empty(n, dtype=object)
        out_s = np.empty(n)
        for k in range(n):
            total, scale = mpmath.mpf(0), 0.0
            for i in range(n):
                for j in range(n):
                    if mflat[i, j]:
                        key = tuple(sorted((i, j, k)))
                        total += values[key] * mflat[i, j]
                        scale += scales[key] * abs(mflat[i, j])
            out_v[k] = total
            out_s[k] = scale
        return out_v.reshape(shape), out_s.reshape(shape)
    if len(contract) == 1 and contract[0].shape == ():  # a scalar factor (vjp of f)
        value, scale = _tensor_expected(case, point, order, ())
        factor = float(contract[0])
        return value * factor, scale * abs(factor)
    return _tensor_expected(case, point, order, contract)


def check_tensor_case(case: TensorCase, lazy: bool = True) -> Checker:
    return run_paths(
        Checker(f"tensor program over shape {case.program.input_shape}"),
        case,
        tensor_paths,
        lambda point, order, contract: _tensor_expected_for(case, point, order, contract or ()),
        lazy=lazy,
    )


@pytest.mark.parametrize("seed", PROFILE.tensor)
def test_tensor_programs_to_the_3rd_order(seed):
    case = tensor_case(seed)
    _count_attempts(case, seed)
    with verify_rewrites(_verified(seed)):
        checker = check_tensor_case(case, lazy=seed % PROFILE.lazy_every == 0)
    assert not checker.mismatches, checker.report(case.program)
    assert checker.checks > 60


# ------------------------------------------------------------------ self-tests


def test_the_generator_makes_dags_and_covers_every_op():
    """The profile's programs reuse values (DAGs) and draw every op, spelling and
    tensor op at least once."""
    from tests.helpers.exprgen import ELEMENTWISE, TENSOR_OPS

    seen_ops, seen_spellings, reused = set(), set(), 0
    programs = [scalar_program(s, min_steps=2, max_steps=5) for s in range(60)]
    programs += [tensor_program(s) for s in range(60)]
    for program in programs:
        uses: dict[int, int] = {}
        for step in program.steps:
            seen_ops.add(step.op)
            if step.op in ELEMENTWISE:
                n = len(ELEMENTWISE[step.op].spellings)
                seen_spellings.add((step.op, step.spelling % n))
            for a in step.args:
                uses[a] = uses.get(a, 0) + 1
        reused += any(count > 1 for count in uses.values())
    assert seen_ops == set(ELEMENTWISE) | set(TENSOR_OPS)
    assert seen_spellings == {
        (n, k) for n, op in ELEMENTWISE.items() for k in range(len(op.spellings))
    }
    assert reused > len(programs) // 3


def _sin_program() -> Case:
    """A fixed program with sin in it, to order 4."""
    for seed in range(100):
        program = scalar_program(seed, min_steps=2, max_steps=4)
        if any(step.op == "sin" for step in program.steps):
            break
    points = {"x1": np.array(0.4), "x2": np.array(-0.7), "x3": np.array(1.1)}
    exprs = {0: program.sym(X)}
    for k in range(1, 5):
        exprs[k] = sympy.diff(exprs[k - 1], X)
    exact = _evaluate_all(exprs, {n: {X: float(p)} for n, p in points.items()})
    return Case(program, {n: (p,) for n, p in points.items()}, exact, 4)


def test_self_test_a_slightly_wrong_gradient_rule_is_caught(monkeypatch):
    """Cos's gradient off by 1e-7 relative: every path from the 2nd order on fails."""
    case = _sin_program()
    assert not check_scalar_case(case, lazy=False).mismatches

    def wrong(self, out_grad, node):
        return (-(out_grad * ad.sin(node.inputs[0])) * (1 + 1e-7),)

    monkeypatch.setattr(ad.ops.Cos, "gradient", wrong)
    checker = check_scalar_case(case, lazy=False)
    wrong_paths = {m.path for m in checker.mismatches}
    assert wrong_paths, "a wrong gradient rule went unnoticed"
    assert {
        f"grad^{k}[simplify={s}]" for k in (2, 3, 4) for s in (None, True, False)
    } <= wrong_paths
    assert {"backward^2", "hessian(grad^0)", "hvp(grad^0, v)"} <= wrong_paths
    assert not any(m.order < 2 for m in checker.mismatches)


def test_self_test_a_wrong_simplifier_is_caught(monkeypatch):
    """A simplifier that scales by 1 + 1e-7 where it folds scalar factors: the simplified
    paths fail, the raw ones pass."""
    case = _sin_program()
    original = _Builder.scaled

    def scaled(self, base, factor, like):
        return original(self, base, factor * (1 + 1e-7), like)

    monkeypatch.setattr(_Builder, "scaled", scaled)
    with verify_rewrites(False):  # (verify mode would raise at the rewrite itself)
        checker = check_scalar_case(case, lazy=False)
    wrong = checker.mismatches
    assert any(m.where.startswith(("simplify(g)", "Graph(simplify(g))")) for m in wrong)
    assert any("[simplify=True]" in m.path and m.where == "value at x1" for m in wrong)
    raw = [
        m
        for m in wrong
        if ("[simplify=False]" in m.path or m.path.startswith("backward^"))
        and "simplify" not in m.where
    ]
    assert not raw, raw


def test_self_test_the_oracle_is_exact():
    """The evaluator agrees with sympy's own evalf, and the scale bounds the terms."""
    x_ = sympy.Symbol("x")
    expr = sympy.diff(sympy.tanh(sympy.exp(x_) / (1 + x_**2)) ** sympy.Rational(3, 2), x_, 3)
    with mpmath.workdps(30):
        value, scale = evaluate(expr, {x_: 0.3}, {})
        assert abs(value - expr.evalf(40, subs={x_: sympy.Rational(0.3)})) < mpmath.mpf(10) ** -25
    assert scale >= abs(float(value))
    with pytest.raises(NotFinite):
        evaluate(sympy.log(x_ - 1), {x_: 0.5}, {})
    with pytest.raises(TypeError):
        evaluate(sympy.Abs(x_), {x_: 0.5}, {})


def test_self_test_the_tolerance_rejects_a_wrong_tensor_derivative(monkeypatch):
    """MatMul's gradient off by 1e-7 relative in the tensor paths is caught."""
    seed = next(s for s in range(200) if any(st.op == "matmul" for st in tensor_program(s).steps))
    case = tensor_case(seed)
    assert not check_tensor_case(case, lazy=False).mismatches
    from adjoint.ops.matmul import MatMul

    original = MatMul.gradient

    def wrong(self, out_grad, node):
        return tuple(g * (1 + 1e-7) for g in original(self, out_grad, node))

    monkeypatch.setattr(MatMul, "gradient", wrong)
    checker = check_tensor_case(case, lazy=False)
    assert {m.order for m in checker.mismatches} >= {1, 2, 3}


# ----------------------------------------------------------- counts and times
#
# Programs, derivative graphs checked (eager + lazy) and comparisons per profile;
# every graph gets 3 (lazy) to 7 comparisons (value, Graph.run at x2 and batched,
# simplify(g): value, runs at x2 and x3, agreement), a tensor comparison covering
# every element. Counted by enumerating the paths.
#
# default (fixed seeds; 32 programs, 2,467 graphs, 13,493 comparisons):
#   6 scalar programs of 2-5 steps to the 8th order: 615 graphs,
#     by order 0-8: 15, 78, 99, 117, 105, 93, 36, 36, 36
#   6 scalar programs of 5-8 steps to the 5th order: 507 graphs,
#     by order 0-5: 15, 78, 99, 117, 105, 93
#   8 programs of two scalars, mixed partials to the 4th order: 787 graphs,
#     by order 1-4: 217, 289, 157, 124
#   12 tensor programs to the 3rd order: 558 graphs, by order 0-3: 18, 162, 180, 198
#   + 6 self-tests. Measured: 25 s wall with -n 2 (42 s while other sessions kept
#   the load average at 2-3; the slowest test, an 8th-order program, 22 s), 34 s
#   without xdist.
#
# ci (ADJOINT_FUZZ_PROFILE=ci; 352 programs, 31,742 graphs, 158,510 comparisons):
#   32 scalar programs to the 8th order: 3,776 graphs,
#     by order 0-8: 96, 480, 608, 704, 640, 576, 224, 224, 224
#   64 scalar programs to the 5th order: 6,208 graphs,
#     by order 0-5: 192, 960, 1216, 1408, 1280, 1152
#   96 programs of two scalars to the 4th order: 11,838 graphs,
#     by order 1-4: 3228, 4446, 2307, 1857
#   160 tensor programs to the 3rd order: 9,920 graphs,
#     by order 0-3: 320, 2880, 3200, 3520
#   Measured: 7 min 49 s and 8 min 51 s wall with -n 2 on the 2-core machine while
#   other sessions kept its load average at 2-3 (1,050 s of test time: 8th-order
#   programs 458 s, the slowest 133 s; 5th-order 416 s; tensors 147 s; two scalars
#   26 s). The same sizes with ADJOINT_FUZZ_OFFSET=1000 (352 other programs): pass.
#
# Paths per program (eager; the lazy repeats are listed in the module docstring):
# an 8th-order scalar program has 87 (24 nested grad, 16 backward, 47 functional),
# a 5th-order one 72, a two-scalar one 60 to 85 (by its orders of differentiation),
# a tensor one 31.
