# %% [markdown]
# # 5. Higher-order derivatives
#
# In adjoint a gradient is not a number: it is a **graph**, built from Tensor operations
# by the ops' `gradient` rules (notebook 3). A graph can be differentiated. So the second
# derivative is the gradient of the gradient graph, the third the gradient of that, and
# so on, with no new machinery.
#
# This notebook takes derivatives to the 8th order, checks them exactly against sympy,
# watches the graphs grow (and shrink again under simplification), and puts second
# derivatives to work: Newton's method, Hessians, Hessian-vector and Jacobian-vector
# products.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy

import adjoint as ad
from adjoint.symbolic import to_sympy

# %% [markdown]
# ## Backward, then backward again
#
# Take f(x) = x⁴ − 2x² at x = 2. By hand: f′(x) = 4x³ − 4x = 24 and f″(x) = 12x² − 4 = 44.
#
# `y.backward()` stores dy/dx in `x.grad`. That `x.grad` is a Tensor **and a graph node**.
# Calling `backward()` on it differentiates the gradient graph: `x.grad` is overwritten
# with the second derivative.

# %%
def f(x):
    return x**4 - 2 * x**2


x = ad.Tensor(2.0, name="x")
y = f(x)
y.backward()
first = x.grad
print("f'(2)  =", first, "| a graph node made by op", first.op.name)
first.backward()
second = x.grad
print("f''(2) =", second)
assert float(first) == 24.0 and float(second) == 44.0

# %% [markdown]
# The same with the functional API: `ad.grad(f)` is a new Python function computing f′,
# so `ad.grad(ad.grad(f))` computes f″, and so on. It never writes `.grad`.

# %%
d1, d2, d3 = ad.grad(f), ad.grad(ad.grad(f)), ad.grad(ad.grad(ad.grad(f)))
print([float(d(2.0)) for d in (d1, d2, d3)])
assert [float(d(2.0)) for d in (d1, d2, d3)] == [24.0, 44.0, 48.0]    # f''' = 24x

# %% [markdown]
# ## What a gradient graph looks like
#
# The drawing below holds y = tanh(x), its first derivative and its second, built by two
# `backward()` calls. Nodes are coloured by **derivative order**: the forward graph,
# the nodes made by the first backward pass, those made by the second. Each backward pass
# reads the graph it differentiates (the adjoint of tanh is `out_grad · (1 − y²)`, one
# `TanhBackward` node that uses the forward node y itself) and adds new nodes.

# %%
x = ad.Tensor(0.3, name="x")
y = ad.tanh(x)
y.backward()
g1 = x.grad
g1.backward()
g2 = x.grad
tanh_graph = ad.Graph(y, g1, g2)
print(tanh_graph)
tanh_graph

# %% [markdown]
# `ad.census` counts the nodes of a graph by the order that made them and by the forward
# op whose gradient rule made them:

# %%
census = ad.census(g1, g2)
print(census)
assert census.by_order[1] > 0 and census.by_order[2] > 0

# %% [markdown]
# ## n-th derivatives of tanh, checked exactly
#
# DeZero's book draws the graph of tanh's 8th derivative. We nest `ad.grad` eight times,
# then compare each derivative with sympy **as a formula**, not only as a number:
# `to_sympy` turns adjoint's derivative graph into a sympy expression, and the difference
# from `sympy.diff(tanh(x), x, n)` must expand to exactly 0.

# %%
sx = sympy.Symbol("x")
x0 = 0.3
derivative = ad.tanh
derivatives = []
for n in range(1, 9):
    derivative = ad.grad(derivative)
    derivatives.append(derivative)
    d = derivative(ad.Tensor(x0, name="x"))
    formula = to_sympy(d)
    exact = sympy.diff(sympy.tanh(sx), sx, n)
    (symbol,) = formula.free_symbols
    assert sympy.expand(formula - exact.subs(sx, symbol)) == 0
    assert np.isclose(float(d), float(exact.subs(sx, x0)), rtol=1e-12)
    print(f"order {n}: adjoint {float(d):+.12f}   sympy {float(exact.subs(sx, x0)):+.12f}   "
          "formulas identical")

# %% [markdown]
# The formulas are sympy's too. The 3rd derivative, as adjoint built it:

# %%
d3_graph = derivatives[2](ad.Tensor(x0, name="x"))
sympy.factor(to_sympy(d3_graph))

# %% [markdown]
# A derivative graph is built once, at one point, but can be evaluated anywhere with
# `Graph.run` (notebook 2): here tanh and its first four derivatives over a grid, each
# graph re-run on 400 points.

# %%
grid = np.linspace(-3, 3, 400)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(grid, np.tanh(grid), label="tanh", linewidth=2)
for n in range(1, 5):
    leaf = ad.Tensor(0.0, name="x")
    values = ad.Graph(derivatives[n - 1](leaf)).run({leaf: grid})[0]
    exact = sympy.lambdify(sx, sympy.diff(sympy.tanh(sx), sx, n))(grid)
    assert np.allclose(values, exact, atol=1e-10)
    ax.plot(grid, values, label=f"order {n}")
ax.legend(ncol=2)
ax.set_title("tanh and its derivatives, from re-run gradient graphs")
plt.show()

# %% [markdown]
# ## Graphs grow geometrically; simplification keeps them small
#
# Each backward pass copies the structure of the graph it differentiates and adds the
# adjoint of every node, so raw gradient graphs grow geometrically with the order.
# `ad.grad(f, simplify=False)` shows that raw growth. By default, nested `grad`
# simplifies each level from the third derivative on (`ad.simplify`: identical nodes
# merged, `x·1` and `x+0` removed, constants folded, and sums of products collected into
# a polynomial normal form); first and second derivatives, whose graphs are still small,
# stay as reverse mode builds them. The n-th derivative of tanh is a polynomial in
# tanh(x), which the pass finds.

# %%
raw_counts, simplified_counts = [], []
raw_derivative, simple_derivative = ad.tanh, ad.tanh
for n in range(1, 9):
    raw_derivative = ad.grad(raw_derivative, simplify=False)
    simple_derivative = ad.grad(simple_derivative)
    leaf = ad.Tensor(x0, name="x")
    raw, simple = raw_derivative(leaf), simple_derivative(leaf)
    assert np.isclose(float(raw), float(simple), rtol=1e-12)
    raw_counts.append(len(ad.Graph(raw)))
    simplified_counts.append(len(ad.Graph(simple)))
print("order:     ", list(range(1, 9)))
print("raw:       ", raw_counts)
print("simplified:", simplified_counts)
assert raw_counts[-1] > 1000 and simplified_counts[-1] <= 150

orders = np.arange(1, 9)
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(orders, raw_counts, "o-", label="raw (reverse mode applied n times)")
ax.semilogy(orders, simplified_counts, "s-", label="ad.grad's default (simplified from n = 3)")
ax.axhline(2571, linestyle=":", color="grey")
ax.annotate("DeZero's 8th derivative: 2,571 nodes", (1, 2571), va="bottom", fontsize=8)
ax.set_xlabel("derivative order n")
ax.set_ylabel("nodes in the graph")
ax.legend(loc="center right", fontsize=8)
ax.set_title("n-th derivative of tanh")
plt.show()

# %% [markdown]
# ## Your derivative as code
#
# A gradient graph is a program drawn as a graph. `ad.compile` writes that program out as
# Python: one assignment per node, in the order the engine evaluates them, named as in the
# drawings and tables (`v1, v2, ...`, or the tensor's name), each line commented with its
# op and the derivative order that made it. Calling the compiled function runs those
# lines on NumPy arrays: no Python object per node, no walk over the graph.
#
# Take g(x) = x·sin(x), so g′(x) = sin x + x cos x and g″(x) = 2 cos x − x sin x.
# `ad.Graph(d).compile(inputs=[x])` compiles the graph of a derivative `d` as a function
# of the leaf `x`. Below, for the first derivative and then the second: the drawing, the
# Wengert table (the forward trace of notebook 1) and the generated code, side by side.

# %%
from html import escape

from IPython.display import HTML


def g(x):
    return x * ad.sin(x)


x = ad.Tensor(0.5, name="x")
dg = ad.grad(g)(x)
d2g = ad.grad(ad.grad(g))(x)
dg_code = ad.Graph(dg).compile(inputs=[x])
d2g_code = ad.Graph(d2g).compile(inputs=[x])


def side_by_side(derivative, compiled):
    """The drawing, the Wengert table and the generated code of a derivative, in columns."""
    graph = ad.Graph(derivative)
    columns = [graph.to_svg(), str(graph.forward_trace()), compiled.source]
    cells = [columns[0]] + [f"<pre>{escape(text)}</pre>" for text in columns[1:]]
    boxes = "".join(f'<div style="margin-right:1.5em">{cell}</div>' for cell in cells)
    return HTML(f'<div style="display:flex;flex-wrap:wrap;align-items:flex-start">{boxes}</div>')


side_by_side(dg, dg_code)

# %% [markdown]
# Read the code against the table: row `v4 = sin(v3)` is the line `v4 = xp.sin(v3)`, and
# `xp` is NumPy here (`backend="jax"` runs the same text on `jax.numpy`). Two things
# come from how `ad.grad` works rather than from g: `x + 0` is the node the derivative is
# taken with respect to (a fresh node per call of `ad.grad`), and the constant `1.0` is
# the seed of the backward pass, dy/dy = 1. Constants are *hoisted*: bound outside the
# function, listed in comments at its top.
#
# The second derivative: `order 2` marks the nodes the second backward pass made, and the
# rule that made each (`Sin, order 2 (Cos rule)`: differentiating cos gives −sin).

# %%
side_by_side(d2g, d2g_code)

# %% [markdown]
# The table has one row per node; the code has one line per op node (the leaves are the
# parameter and the constants), with one exception: both backward passes compute cos(x)
# (rows v12 and v16), and the compiler writes it once (*common-subexpression
# elimination*). The checks: the compiled functions give the eager derivatives to the last
# bit, and the source has one line per op node, after that merge.

# %%
for derivative, compiled in ((dg, dg_code), (d2g, d2g_code)):
    (value,) = compiled(0.5)
    np.testing.assert_array_equal(value, derivative.numpy())  # bit for bit
    body = compiled.source.splitlines()[1:]  # after the def line
    lines = [line for line in body if not line.lstrip().startswith(("#", "return"))]
    op_nodes = [node for node in ad.Graph(derivative).nodes if node.op is not None]
    print(f"{len(op_nodes)} op nodes -> {len(lines)} lines of code")
    assert len(lines) == compiled.stats["lines"] and compiled.stats["op_nodes"] == len(op_nodes)
assert dg_code.stats["lines"] == dg_code.stats["op_nodes"]  # the first derivative: no repeats
assert d2g_code.stats["lines"] == d2g_code.stats["op_nodes"] - 1  # cos(x) written once

# %% [markdown]
# `ad.compile(f)` compiles a function of Tensors, a derivative included, for the shapes
# it is called with: the first call traces and compiles, later calls with the same shape
# run the generated code (`.source` shows it). Methods that evaluate one derivative
# over and over, like Newton's method next, are what compiling is for.

# %%
d2_compiled = ad.compile(ad.grad(ad.grad(g)))
for point in np.linspace(-3.0, 3.0, 7):
    eager = ad.grad(ad.grad(g))(point).numpy()
    np.testing.assert_array_equal(d2_compiled(point), eager)
    np.testing.assert_allclose(eager, 2 * np.cos(point) - point * np.sin(point), rtol=1e-14)
assert len(d2_compiled.compiled) == 1  # one shape, compiled once
print(d2_compiled)

# %% [markdown]
# ## Newton's method
#
# Gradient descent steps against the gradient with a fixed learning rate. Newton's method
# uses the second derivative too: it jumps to the minimum of the local quadratic model,
# x ← x − f′(x)/f″(x), and near a minimum converges quadratically (the number of correct
# digits doubles each step). With f(x) = x⁴ − 2x² from x = 2, both head for the minimum
# at x = 1.

# %%
df, d2f = ad.grad(f), ad.grad(ad.grad(f))

x, newton_path = 2.0, [2.0]
while abs(x - 1.0) > 1e-10:
    x = x - float(df(x)) / float(d2f(x))
    newton_path.append(x)

x, gd_path = 2.0, [2.0]
while abs(x - 1.0) > 1e-10 and len(gd_path) < 10_000:
    x = x - 0.01 * float(df(x))
    gd_path.append(x)

print(f"Newton: {len(newton_path) - 1} steps; gradient descent (lr 0.01): {len(gd_path) - 1} steps")
print("Newton's iterates:", [round(v, 10) for v in newton_path])
assert len(newton_path) - 1 <= 8 and len(gd_path) - 1 > 100

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(np.abs(np.array(gd_path) - 1) + 1e-16, label="gradient descent")
ax.semilogy(np.abs(np.array(newton_path) - 1) + 1e-16, "o-", label="Newton")
ax.set_xlabel("step")
ax.set_ylabel("|x − 1|")
ax.set_xlim(0, 150)
ax.legend()
plt.show()

# %% [markdown]
# ## Hessians: Rosenbrock's banana
#
# With several variables the second derivative is a matrix, the **Hessian**
# H_ij = ∂²f/∂x_i∂x_j. `ad.hessian(f)` builds the gradient graph once and evaluates all
# its rows in one batched run. Take Rosenbrock's function
# f(x, y) = (1 − x)² + 100·(y − x²)², whose minimum (1, 1) lies at the bottom of a long
# curved valley, at the classic starting point (−1.2, 1), and check the Hessian against
# sympy's.

# %%
def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


p0 = np.array([-1.2, 1.0])
H = ad.hessian(rosenbrock)(p0).numpy()
g = ad.grad(rosenbrock)(p0).numpy()

sx_, sy_ = sympy.symbols("x y")
f_sym = (1 - sx_) ** 2 + 100 * (sy_ - sx_**2) ** 2
H_exact = np.array(sympy.hessian(f_sym, (sx_, sy_)).subs({sx_: -1.2, sy_: 1.0}), dtype=float)
print("gradient:", g, "\nHessian:\n", H)
assert np.allclose(H, H_exact, rtol=1e-13) and np.allclose(H, [[1330, 480], [480, 200]])

# %% [markdown]
# A Newton step solves H·Δ = −∇f. From (−1.2, 1), pure Newton reaches the minimum in a
# handful of steps, where gradient descent would crawl along the valley for thousands.

# %%
p, path = p0.copy(), [p0.copy()]
for _ in range(8):
    step = np.linalg.solve(ad.hessian(rosenbrock)(p).numpy(), -ad.grad(rosenbrock)(p).numpy())
    p = p + step
    path.append(p.copy())
path = np.array(path)
print("Newton iterates:\n", path.round(6))
assert np.allclose(path[-1], [1.0, 1.0])

gx, gy = np.meshgrid(np.linspace(-1.5, 1.5, 300), np.linspace(-3.5, 2.0, 300))
fig, ax = plt.subplots(figsize=(5, 4))
ax.contour(gx, gy, (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2, levels=np.logspace(-1, 3.5, 15),
           cmap="viridis")
ax.plot(path[:, 0], path[:, 1], "o-", color="C3", label="Newton")
ax.plot([1], [1], "*", markersize=14, color="k")
ax.set_title("Newton's method on Rosenbrock's function")
ax.legend()
plt.show()

# %% [markdown]
# ## Without forming the Hessian: `hvp` and `jvp`
#
# For n variables the Hessian has n² entries; many methods (conjugate gradients,
# trust regions, influence functions) only need its product with a vector. `ad.hvp`
# computes H·v as the gradient of ⟨∇f, v⟩: two reverse passes, a small constant times the
# cost of one gradient, whatever n.
#
# `ad.jvp` gives forward mode (J·t, notebook 1's tangents) from reverse-mode rules only:
# the pullback u ↦ Jᵀu is linear in u, so the gradient of ⟨Jᵀu, t⟩ with respect to u is
# J·t.

# %%
v = np.array([0.3, -0.7])
Hv = ad.hvp(rosenbrock, p0, v).numpy()
print("hvp:", Hv, "  H @ v:", H @ v)
assert np.allclose(Hv, H @ v, rtol=1e-13)


def curve(t):
    return ad.stack([ad.sin(t) * t, t**2, ad.exp(-t)])


t0 = np.array(0.5)
out, tangent = ad.jvp(curve, t0, 1.0)
J = ad.jacobian(curve)(t0).numpy()
print("jvp:", tangent.numpy(), "  Jacobian column:", J)
assert np.allclose(tangent.numpy(), [np.sin(0.5) + 0.5 * np.cos(0.5), 1.0, -np.exp(-0.5)])
assert np.allclose(tangent.numpy(), J)

# %% [markdown]
# Every one of these results is itself a graph node, so they compose: the gradient of a
# function that calls `hvp`, the Jacobian of a gradient, a third derivative through a
# Hessian. For example, d/dx of the Hessian of x⁴ (a 1×1 matrix) is 24x:

# %%
third = ad.grad(lambda x: ad.hessian(lambda z: (z**4).sum())(x).sum())(np.array([2.0]))
print(third)
assert np.allclose(third.numpy(), [48.0])

# %% [markdown]
# ## Through linear algebra: fitting a Gaussian process by Newton's method
#
# A Gaussian process with a squared-exponential kernel fits data (xᵢ, yᵢ) by choosing its
# length-scale ℓ and its noise variance s to minimise the negative log-likelihood
#
# NLL(ℓ, s) = ½ yᵀK⁻¹y + ½ log det K + (n/2) log 2π,  K_ij = exp(−(xᵢ − xⱼ)²/2ℓ²) + s·δ_ij.
#
# `ad.linalg.solve` and `ad.linalg.logdet` are ops whose gradients are written with ops
# (the adjoint of a solve is another solve; that of log det K is K⁻ᵀ), so `ad.grad` and
# `ad.hessian` go through them to any order, with no formula for the derivatives of the
# likelihood written by hand.

# %%
def gp_nll(x, y):
    """The GP's negative log-likelihood as a function of params = (ℓ, s)."""
    sq_dist = ad.Tensor(-0.5 * (x[:, None] - x[None, :]) ** 2)
    eye, targets, n = ad.Tensor(np.eye(x.size)), ad.Tensor(y), x.size

    def nll(params):
        ell, noise = params[0], params[1]
        K = ad.exp(sq_dist / (ell * ell)) + noise * eye
        alpha = ad.linalg.solve(K, targets)
        return (0.5 * ad.summation(targets * alpha) + 0.5 * ad.linalg.logdet(K)
                + 0.5 * n * np.log(2 * np.pi))

    return nll


# %% [markdown]
# First the check. On three points, sympy differentiates the same likelihood exactly (its
# `LUsolve` and `det` work on symbols; the kernel's entries are powers of
# q = exp(−1/2ℓ²), which keeps the algebra small), and the gradient and the Hessian
# with respect to (ℓ, s) agree with adjoint's to rounding.

# %%
x3, y3 = np.array([-1.0, 0.0, 1.0]), np.array([0.8, -0.1, -0.6])
at = np.array([0.8, 0.1])
g_ad = ad.grad(gp_nll(x3, y3))(at).numpy()
H_ad = ad.hessian(gp_nll(x3, y3))(at).numpy()

ell_, s_, q_ = sympy.symbols("ell s q", positive=True)
K_sym = sympy.Matrix(3, 3, lambda i, j: q_ ** int((x3[i] - x3[j]) ** 2) + (s_ if i == j else 0))
y_sym = sympy.Matrix([sympy.nsimplify(v) for v in y3])
nll_sym = ((y_sym.T * K_sym.LUsolve(y_sym))[0] / 2 + sympy.log(K_sym.det()) / 2
           + 3 * sympy.log(2 * sympy.pi) / 2).subs(q_, sympy.exp(-1 / (2 * ell_**2)))
point = {ell_: sympy.Rational(4, 5), s_: sympy.Rational(1, 10)}
g_sym = [sympy.diff(nll_sym, v) for v in (ell_, s_)]
H_sym = np.array([[float(sympy.diff(d, v).subs(point).evalf(30)) for v in (ell_, s_)]
                  for d in g_sym])
g_sym = np.array([float(d.subs(point).evalf(30)) for d in g_sym])
print("gradient  adjoint:", g_ad, "  sympy:", g_sym)
print("Hessian   adjoint:\n", H_ad, "\n          sympy:\n", H_sym)
assert np.allclose(g_ad, g_sym, rtol=1e-12) and np.allclose(H_ad, H_sym, rtol=1e-12)

# %% [markdown]
# Now the fit, on fifteen noisy samples of sin 2x. Both parameters must stay positive, so
# Newton works on their logarithms, t = (log ℓ, log s): `gp_nll(x, y)(ad.exp(t))` is
# just another function of Tensors, and its Hessian is the chain rule applied by the
# engine. A coarse grid gives the starting point; each Newton step solves H·Δ = −∇ (halved
# while the likelihood would get worse), and the gradient's norm falls quadratically, to
# rounding in five steps.

# %%
rng = np.random.default_rng(0)
xs = np.sort(rng.uniform(-3, 3, 15))
ys = np.sin(2 * xs) + 0.1 * rng.normal(size=15)
nll_fit = gp_nll(xs, ys)


def nll_log(t):
    return nll_fit(ad.exp(t))


grid = [(a, b) for a in np.linspace(-3, 1, 21) for b in np.linspace(-8, 0, 21)]
t = np.array(min(grid, key=lambda ab: float(nll_log(ad.Tensor(ab)).numpy())))
norms = []
for _ in range(6):
    g, H = ad.grad(nll_log)(t).numpy(), ad.hessian(nll_log)(t).numpy()
    norms.append(np.linalg.norm(g))
    step, f0 = -np.linalg.solve(H, g), float(nll_log(ad.Tensor(t)).numpy())
    while float(nll_log(ad.Tensor(t + step)).numpy()) > f0:
        step = step / 2
    t = t + step
ell_fit, s_fit = np.exp(t)
print("|gradient| per step:", np.array(norms).round(14))
print(f"length-scale {ell_fit:.6f}, noise variance {s_fit:.3e}")
assert norms[-1] < 1e-10 and norms[4] < norms[3] ** 1.5  # quadratic: each error about the square of the one before
assert np.all(np.linalg.eigvalsh(ad.hessian(nll_log)(t).numpy()) > 0)  # a minimum

# The fitted process: its mean and two standard deviations, from the same kernel.
grid_x = np.linspace(-3.2, 3.2, 200)
K_fit = np.exp(-((xs[:, None] - xs[None, :]) ** 2) / (2 * ell_fit**2)) + s_fit * np.eye(15)
K_star = np.exp(-((grid_x[:, None] - xs[None, :]) ** 2) / (2 * ell_fit**2))
mean = K_star @ np.linalg.solve(K_fit, ys)
sd = np.sqrt(np.maximum(1 + s_fit - np.sum(K_star * np.linalg.solve(K_fit, K_star.T).T, 1), 0))
fig, ax = plt.subplots(figsize=(6, 3))
ax.fill_between(grid_x, mean - 2 * sd, mean + 2 * sd, color="C0", alpha=0.2, label="± 2 sd")
ax.plot(grid_x, mean, color="C0", label="GP mean")
ax.plot(grid_x, np.sin(2 * grid_x), "--", color="gray", label="sin 2x")
ax.plot(xs, ys, "o", color="C3", label="data")
ax.set_title(f"Fitted by Newton: ℓ = {ell_fit:.3f}, s = {s_fit:.2e}")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## What to remember
#
# * Gradients are graphs; differentiating them gives any order: `x.grad.backward()` or
#   nested `ad.grad`.
# * `to_sympy` shows each derivative as a formula, and sympy confirms it exactly.
# * Raw graphs grow geometrically with the order; `ad.simplify` (automatic in nested
#   `grad` from the third order on) keeps them small.
# * `ad.compile` writes any derivative out as code, one line per node, and runs it with
#   the same values, to the last bit.
# * Second derivatives buy fast convergence (Newton); `hessian`, `hvp` and `jvp` give
#   them in the shape a method needs, through linear algebra (`ad.linalg`) too.
