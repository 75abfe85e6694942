# %% [markdown]
# # 1. Computational graphs
#
# Automatic differentiation rests on one observation: however complicated a program
# is, it computes its result by a sequence of **elementary operations** (add, multiply,
# log, sin, ...), each with a derivative we know. Write that sequence down as a graph,
# with a node per intermediate value and an edge from each input to the operation that
# uses it, and the chain rule can be applied mechanically, node by node.
#
# This notebook takes the classic example of Griewank & Walther and of Baydin et al.'s
# survey, *Automatic differentiation in machine learning*,
#
# $$y = f(x_1, x_2) = \ln(x_1) + x_1 x_2 - \sin(x_2) \quad\text{at}\quad (x_1, x_2) = (2, 5),$$
#
# and shows its graph, its evaluation trace, and the two ways to push derivatives
# through it: **forward mode** (tangents, input to output) and **reverse mode**
# (adjoints, output to input).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import adjoint as ad

# %% [markdown]
# ## The graph
#
# We compute y with adjoint. Each operation records a node that remembers its op and
# its inputs; `ad.Graph(y)` collects every node y depends on, inputs first.

# %%
x1 = ad.Tensor(2.0, name="x1")
x2 = ad.Tensor(5.0, name="x2")
y = ad.log(x1) + x1 * x2 - ad.sin(x2)

graph = ad.Graph(y)
print(f"y = {float(y):.6f}")
assert round(float(y), 3) == 11.652
graph

# %% [markdown]
# The nodes are numbered the way textbooks do it: inputs v1, v2 first, then each
# intermediate value in an order where every node comes after its inputs (a
# **topological order**). The edges are the (input → node) pairs:

# %%
by_label = sorted(graph.nodes, key=lambda node: int(graph.label(node)[1:]))
for node in by_label:
    what = node.name if node.op is None else node.op.name
    inputs = ", ".join(graph.label(x) for x in node.inputs)
    print(f"{graph.label(node)}: {what:9} inputs: {inputs or '-'}")
edges = [(graph.label(x), graph.label(node)) for node in by_label for x in node.inputs]
print("edges:", edges)
assert len(graph) == 8 and len(edges) == 9 and len(graph.leaves) == 2

# %% [markdown]
# Notice that `a − b` became two nodes, a negation and an addition (v6 = sin(v2),
# v7 = −v6, v8 = v5 + v7): that is how needle, whose design adjoint follows, spells
# subtraction.
#
# ## The forward evaluation trace
#
# Evaluating the graph in topological order gives the **evaluation trace** (a Wengert
# list): one line per node, each computed from values already known.

# %%
graph.forward_trace()

# %% [markdown]
# ## Forward mode: tangents
#
# To get ∂y/∂x1 we can carry, beside every value vᵢ, its derivative with respect to x1,
# the **tangent** v̇ᵢ = ∂vᵢ/∂x1. Inputs are seeded with ẋ1 = 1, ẋ2 = 0 and every
# operation applies its own derivative rule: for v = ln(u), v̇ = u̇ / u; for v = u·w,
# v̇ = u̇·w + u·ẇ; and so on. The tangents flow in the same direction as the values.
#
# Here is forward mode written out for the ops of our graph, walking adjoint's graph
# in topological order.

# %%
TANGENT_RULES = {
    "Log": lambda u, du: du / u,
    "Exp": lambda u, du: du * np.exp(u),
    "Sin": lambda u, du: du * np.cos(u),
    "Cos": lambda u, du: -du * np.sin(u),
    "Negate": lambda u, du: -du,
    "EWiseAdd": lambda u, w, du, dw: du + dw,
    "EWiseMul": lambda u, w, du, dw: du * w + u * dw,
    "Summation": lambda u, du: np.sum(du),
}


def forward_mode(graph, seeds):
    """Value and tangent of every node; seeds maps each input leaf to its tangent."""
    value, tangent = {}, {}
    for node in graph.nodes:
        if node.op is None:
            value[node] = node.numpy()
            tangent[node] = seeds.get(node, np.zeros_like(value[node]))
            continue
        ins = node.inputs
        value[node] = node.op.compute(*[value[x] for x in ins])
        rule = TANGENT_RULES[node.op.name]
        tangent[node] = rule(*[value[x] for x in ins], *[tangent[x] for x in ins])
    return value, tangent


value, tangent = forward_mode(graph, {x1: 1.0, x2: 0.0})
for node in by_label:
    print(f"{graph.label(node)} = {float(value[node]):8.4f}    "
          f"d{graph.label(node)}/dx1 = {float(tangent[node]) + 0.0:8.4f}")
dy_dx1 = float(tangent[y])

# %% [markdown]
# One forward sweep gave ∂y/∂x1 = 1/x1 + x2 = 5.5. For ∂y/∂x2 we need **another sweep**,
# seeded with ẋ1 = 0, ẋ2 = 1: forward mode gives one input's derivative per sweep
# (more precisely, one directional derivative J·u per sweep).

# %%
_, tangent2 = forward_mode(graph, {x1: 0.0, x2: 1.0})
dy_dx2 = float(tangent2[y])
print(f"dy/dx1 = {dy_dx1:.4f}  (two forward sweeps)  dy/dx2 = {dy_dx2:.4f}")
assert dy_dx1 == 5.5
assert np.isclose(dy_dx2, 2 - np.cos(5)) and round(dy_dx2, 3) == 1.716

# %% [markdown]
# The library has forward mode built in as `ad.jvp(f, primals, tangents)`, which returns
# f's value and the directional derivative J·t. (It gets there without any tangent rules,
# from reverse-mode rules only; notebook 5 says how.)

# %%
def f(a, b):
    return ad.log(a) + a * b - ad.sin(b)


value_jvp, along_x1 = ad.jvp(f, (2.0, 5.0), (1.0, 0.0))
_, along_x2 = ad.jvp(f, (2.0, 5.0), (0.0, 1.0))
print(f"jvp: y = {float(value_jvp):.4f}, dy/dx1 = {float(along_x1):.4f}, dy/dx2 = {float(along_x2):.4f}")
assert np.isclose(float(along_x1), dy_dx1) and np.isclose(float(along_x2), dy_dx2)

# %% [markdown]
# ## Reverse mode: adjoints
#
# Reverse mode runs the chain rule the other way. Each node gets an **adjoint**
# v̄ᵢ = ∂y/∂vᵢ, how much the output changes with that node. The output's adjoint is
# ȳ = 1; then, visiting nodes in *reverse* topological order, each node sends its
# inputs their share: for v = u·w it adds v̄·w to ū and v̄·u to w̄. A node used twice
# (x1 feeds both ln and the product) **sums** what it receives.
#
# adjoint prints the sweep of our graph as the textbook's adjoint equations, with their
# values:

# %%
graph.reverse_trace()

# %% [markdown]
# A single reverse sweep produced **both** partial derivatives: v̄1 = ∂y/∂x1 = 5.5 and
# v̄2 = ∂y/∂x2 = 1.716. That sweep is what `y.backward()` runs; it stores each input's
# adjoint in `.grad`.

# %%
y.backward()
print(f"x1.grad = {float(x1.grad):.4f}   x2.grad = {float(x2.grad):.4f}")
assert float(x1.grad) == 5.5 and float(x2.grad) == dy_dx2

# %% [markdown]
# Side by side:
#
# | | forward mode | reverse mode |
# |---|---|---|
# | carries | tangents v̇ᵢ = ∂vᵢ/∂x (one input direction) | adjoints v̄ᵢ = ∂y/∂vᵢ (one output) |
# | direction | inputs → output, along with the values | output → inputs, after the values |
# | one sweep gives | a column J·u of the Jacobian | a row uᵀ·J of the Jacobian |
# | for y = f(x1, x2) | 2 sweeps: ∂y/∂x1, then ∂y/∂x2 | 1 sweep: both |
# | memory | nothing stored | the forward values, until the sweep is done |
#
# ## Why reverse mode wins for many inputs and one output
#
# Training a network is exactly that shape: millions of weights, one scalar loss.
# Forward mode needs one sweep **per input**; reverse mode needs one sweep in all, at a
# cost of a small constant times one evaluation. We measure it on
# f(x) = Σᵢ ln(xᵢ)·xᵢ − sin(xᵢ) with n inputs: forward mode from n sweeps of our tangent
# code, reverse mode from one `backward()`.

# %%
def f_vector(x):
    return (ad.log(x) * x - ad.sin(x)).sum()


rows = []
for n in (1, 4, 16, 64, 256):
    xv = np.linspace(1.0, 3.0, n)
    x = ad.Tensor(xv, name="x")
    out = f_vector(x)
    g = ad.Graph(out)

    start = time.perf_counter()
    forward_grad = np.array([forward_mode(g, {x: np.eye(n)[i]})[1][out] for i in range(n)])
    t_forward = time.perf_counter() - start

    start = time.perf_counter()
    out.backward(create_graph=False)
    reverse_grad = x.grad.numpy()
    t_reverse = time.perf_counter() - start

    assert np.allclose(forward_grad, reverse_grad)
    assert np.allclose(reverse_grad, np.log(xv) + 1 - np.cos(xv))
    rows.append((n, t_forward, t_reverse))
    print(f"n = {n:4}: forward mode {n:4} sweeps {t_forward * 1e3:8.2f} ms   "
          f"reverse mode 1 sweep {t_reverse * 1e3:6.2f} ms")

# %%
ns, t_fwd, t_rev = map(np.array, zip(*rows))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.loglog(ns, t_fwd * 1e3, "o-", label="forward mode (n sweeps)")
ax.loglog(ns, t_rev * 1e3, "s-", label="reverse mode (1 sweep)")
ax.set_xlabel("number of inputs n")
ax.set_ylabel("time for the full gradient (ms)")
ax.legend()
ax.set_title("gradient of a scalar function of n inputs")
plt.show()

# %% [markdown]
# Forward mode's time grows with n; reverse mode's stays nearly flat (each sweep works
# on arrays of n elements, which NumPy handles in one go). The roles swap for functions
# with **one input and many outputs**: then forward mode needs one sweep and reverse
# mode one per output. In general, for a Jacobian of m outputs by n inputs, forward
# mode costs n sweeps and reverse mode m.
#
# ## What to remember
#
# * A computation is a graph of elementary operations; a topological order evaluates it.
# * Forward mode carries tangents along with the values: one sweep per input direction.
# * Reverse mode carries adjoints back from the output: one sweep per output, summing
#   where a value fans out. For a scalar loss of many parameters it is the only sensible
#   choice, and it is what `backward()` does.
#
# Next: graphs that are built as the code runs, or built once and run many times.
