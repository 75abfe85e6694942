# %% [markdown]
# # 2. Static and dynamic graphs
#
# There are two ways to get a computational graph.
#
# * **Define-by-run** (dynamic; PyTorch, needle, adjoint's default): you just compute.
#   Every operation records a node as it runs, so the graph *is* the trace of the Python
#   code that actually ran, control flow included. A new input means running the code
#   again, which builds a new graph.
# * **Define-then-run** (static; TensorFlow 1, JAX's `jit`, Theano): you build the graph
#   once, then evaluate it many times on new inputs without rebuilding it.
#
# adjoint is define-by-run, but any graph it built can be **re-run** as a static graph
# with `ad.Graph(...).run({leaf: new_value})`. This notebook does both on one small
# chain of operations, and its derivative.

# %%
import matplotlib.pyplot as plt
import numpy as np

import adjoint as ad

# %% [markdown]
# ## The chain
#
# b = 5 − 3a, c = 2b + 3, d = 5b + 6, e = 7c + d², f = 2e, g = 3f − o.
#
# Each line below runs at once (eager mode) and records a node.

# %%
a = ad.Tensor(2.0, name="a")
o = ad.Tensor(1.0, name="o")
b = 5 - 3 * a
c = 2 * b + 3
d = 5 * b + 6
e = 7 * c + d**2
f = 2 * e
g = 3 * f - o
print(f"b = {float(b)}, c = {float(c)}, d = {float(d)}, e = {float(e)}, f = {float(f)}, g = {float(g)}")
assert float(g) == 47.0

# %% [markdown]
# The graph the code recorded, drawn. Leaves (a, o) are the inputs; the numbers 5, 3, 2
# ... are stored inside the `*Scalar` ops. Note that `5 − 3a` is two nodes, a negation and
# an addition: that is how needle spells subtraction, and adjoint keeps its exact graphs.

# %%
graph = ad.Graph(g)
print(graph)
graph

# %% [markdown]
# ## Its derivatives, by hand and by reverse mode
#
# By the chain rule, with db/da = −3, dc/db = 2, dd/db = 5, de/dc = 7, de/dd = 2d,
# df/de = 2, dg/df = 3:
#
# dg/da = 3 · 2 · (7 · 2 + 2d · 5) · (−3) = −252 − 180·d,
#
# which at a = 2 (d = 1) is **−432**, and dg/do = **−1**. One backward sweep gives both.

# %%
g.backward()
print("dg/da =", float(a.grad), "  dg/do =", float(o.grad))
assert float(a.grad) == -252 - 180 * float(d) == -432.0
assert float(o.grad) == -1.0

# %% [markdown]
# ## Define-by-run: a new input means a new graph
#
# To evaluate at a = 3 the define-by-run way, we run the code again. It is convenient to
# put the code in a function. Each call builds a fresh graph with fresh nodes.

# %%
def chain(a, o):
    b = 5 - 3 * a
    c = 2 * b + 3
    d = 5 * b + 6
    e = 7 * c + d**2
    f = 2 * e
    return 3 * f - o


a3 = ad.Tensor(3.0, name="a")
g3 = chain(a3, ad.Tensor(1.0, name="o"))
print("g(3) =", float(g3), "| same graph object as before?", g3 is g)
assert float(g3) == chain(3.0, 1.0) == 965.0

# %% [markdown]
# Because the graph is whatever ran, Python's own `if` and `for` decide its shape. Here a
# loop runs a data-dependent number of times; each input gets a graph of its own length.

# %%
def halve_until_small(x):
    steps = 0
    while float(x) > 1.0:          # the condition reads the value: only possible eagerly
        x = x * 0.5
        steps += 1
    return x, steps


for start in (3.0, 40.0):
    leaf = ad.Tensor(start)
    out, steps = halve_until_small(leaf)
    out.backward()
    print(f"x = {start:5}: {steps} halvings, graph of {len(ad.Graph(out))} nodes, "
          f"d out/dx = {float(leaf.grad)}")
    assert float(leaf.grad) == 0.5**steps

# %% [markdown]
# ## Define-then-run: the same graph on new values
#
# `Graph.run` evaluates the recorded graph again with new leaf values. No node is built:
# each op's `compute` runs over the stored topological order. A leaf that held one
# number may be fed a whole array, which runs the graph once per element, so one call
# evaluates g on a grid.

# %%
print("g at a = 3:", graph.run({a: 3.0})[0], "  (rebuilt graph gave", float(g3), ")")
assert graph.run({a: 3.0})[0] == float(g3)
assert graph.run({a: 2.0, o: 5.0})[0] == 43.0      # leaves can be given by Tensor ...
assert graph.run({"o": 5.0})[0] == 43.0            # ... or by name

a_grid = np.linspace(-1.0, 4.0, 201)
g_grid = graph.run({a: a_grid})[0]
assert np.allclose(g_grid, [chain(x, 1.0) for x in a_grid])

# %% [markdown]
# The gradient is a graph too (notebook 3 shows why), so it can be re-run the same way.
# `a.grad` was built once, at a = 2; on the grid it gives dg/da everywhere, and it must
# equal −252 − 180·d(a) with d(a) = 5(5 − 3a) + 6.

# %%
gradient_graph = ad.Graph(a.grad)
print(gradient_graph)
dg_grid = gradient_graph.run({a: a_grid})[0]
d_grid = 5 * (5 - 3 * a_grid) + 6
assert np.allclose(dg_grid, -252 - 180 * d_grid)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
ax1.plot(a_grid, g_grid)
ax1.plot([2], [47], "o", color="C3")
ax1.set_xlabel("a")
ax1.set_title("g(a), o = 1")
ax2.plot(a_grid, dg_grid, color="C1")
ax2.plot([2], [-432], "o", color="C3")
ax2.axhline(0, color="grey", linewidth=0.5)
ax2.set_xlabel("a")
ax2.set_title("dg/da: the gradient graph re-run")
plt.tight_layout()
plt.show()

# %% [markdown]
# g is a quadratic in a (through d²), so dg/da is a straight line, zero where g is
# smallest: at d = −252/180 = −1.4, that is a = (5 − (d − 6)/5)/3 = 2.16.

# %%
a_min = (5 - (-1.4 - 6) / 5) / 3
assert abs(gradient_graph.run({a: a_min})[0]) < 1e-9
print(f"dg/da = 0 at a = {a_min:.4f}, where g = {graph.run({a: a_min})[0]:.4f}")

# %% [markdown]
# ## The catch with static graphs
#
# A static graph records one path through the code. Re-running it on inputs for which
# the code would have taken another path gives the *recorded* computation, not what the
# code means. Here the graph recorded at x = 3 has two halvings; run at x = 40 it still
# halves twice (giving 10), while the code halves six times (giving 0.625).

# %%
x = ad.Tensor(3.0)
out, _ = halve_until_small(x)
recorded = ad.Graph(out).run({x: 40.0})[0]
rebuilt = float(halve_until_small(ad.Tensor(40.0))[0])
print("static re-run at 40:", recorded, "   define-by-run at 40:", rebuilt)
assert recorded == 10.0 and rebuilt == 40.0 / 64

# %% [markdown]
# That is the trade-off:
#
# | | define-by-run | define-then-run |
# |---|---|---|
# | control flow | plain Python, follows the data | frozen when recorded (or needs graph-level `cond`/`while`) |
# | debugging | every value exists as you go | values appear when the graph runs |
# | cost of a new input | rebuild the graph (Python overhead per op) | one pass over stored ops |
# | whole-graph optimisation | hard: the graph is never complete in advance | easy: simplify, fuse, compile |
#
# adjoint gives you both: build by running, then re-run the graph, or a derivative graph,
# as a static one where the computation does not branch.
