# %% [markdown]
# # 4. Lazy evaluation
#
# So far every operation computed its result the moment it was written: **eager**
# evaluation. adjoint can also evaluate **lazily**: operations only *record* nodes, and
# nothing is computed until a value is actually asked for (printing, `numpy()`,
# `float()`, a comparison). Then exactly the nodes that value needs are computed, each
# once, inputs first.
#
# Lazy evaluation is how graph compilers (TensorFlow's graphs, JAX's `jit`, tinygrad)
# get a whole computation in hand before running it. Here it is a window on evaluation:
# we can list the steps, run them one at a time, and see what is never computed.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import adjoint as ad

# %% [markdown]
# ## The same computation, eager and lazy
#
# Two results from one input: y = Σ x·eˣ and z = 2·sin(x). Eagerly, every node holds its
# data as soon as it exists.

# %%
def compute(x):
    a = ad.exp(x)
    y = (a * x).sum()
    z = ad.sin(x) * 2.0
    return a, y, z


x = ad.Tensor(np.linspace(0.0, 1.0, 5), name="x")
a, y, z = compute(x)
print("eager: data of a, y, z computed?", [n.cached_data is not None for n in (a, y, z)])
assert all(n.cached_data is not None for n in (a, y, z))
y_eager, z_eager = y.numpy().copy(), z.numpy().copy()

# %% [markdown]
# Inside `with ad.lazy_mode():` the very same code only builds the graph. Each node's
# `cached_data` is `None`. Yet shapes and dtypes are known: every op can infer its output's
# shape from its inputs' (`infer_shape`), so no data is needed to know them.

# %%
with ad.lazy_mode():
    x = ad.Tensor(np.linspace(0.0, 1.0, 5), name="x")
    a, y, z = compute(x)

graph = ad.Graph(y, z)
print("lazy: data of a, y, z computed?", [n.cached_data is not None for n in (a, y, z)])
print("shapes known anyway:", y.shape, z.shape, "| dtype:", z.dtype)
print("nodes waiting to be computed:", [graph.label(n) for n in graph.unrealized])
assert y.cached_data is None and z.cached_data is None and a.cached_data is None
assert y.shape == () and z.shape == (5,) and len(graph.unrealized) == 5

# %% [markdown]
# The drawing shows the graph that is waiting: the leaf x holds data, the five op nodes
# hold nothing yet.

# %%
graph

# %% [markdown]
# ## Nothing is computed until asked, and only what is needed
#
# We ask for y alone, with `ad.trace_evaluation` watching. It records every node computed
# while it is active: its order, op, inputs, shape, time, and which requested output
# pulled it in.

# %%
with ad.trace_evaluation(y, z) as trace:
    print("y =", y.numpy())
trace

# %% [markdown]
# Three steps, all for y. z and its two nodes were **never computed**: y did not need
# them. (In eager mode they were computed the moment the code ran.)

# %%
assert [step.op.name for step in trace.steps] == ["Exp", "EWiseMul", "Summation"]
assert z.cached_data is None and z.inputs[0].cached_data is None
assert np.allclose(y.numpy(), y_eager)

# %% [markdown]
# ## Stepping through evaluation
#
# `ad.evaluation_steps(z)` is a generator that computes **one node per `next()`**, in
# the engine's order (inputs first). Between steps we can look at the graph: the node
# just computed now holds data, the next one does not yet.

# %%
steps = ad.evaluation_steps(z)
sin_node = z.inputs[0]

first = next(steps)
print(first, "| sin node has data:", sin_node.cached_data is not None,
      "| z has data:", z.cached_data is not None)
assert first.node is sin_node and z.cached_data is None

second = next(steps)
print(second, "| z has data:", z.cached_data is not None)
assert second.node is z and np.allclose(z.numpy(), z_eager)

assert list(steps) == []      # nothing left: every node computed once
print("unrealized nodes left:", len(graph.unrealized))
assert not graph.unrealized

# %% [markdown]
# ## Each node is computed once
#
# A value used many times is still computed once: it caches its data on first use. Below,
# `s = sin(x)` feeds three products; evaluating all three results computes `s` a single
# time, and asking again computes nothing.

# %%
with ad.lazy_mode():
    x = ad.Tensor(np.linspace(0.0, 1.0, 5), name="x")
    s = ad.sin(x)
    outputs = [s * 2.0, s * s, s + x]

with ad.trace_evaluation(*outputs) as trace:
    for out in outputs:
        out.numpy()
ops_run = [step.op.name for step in trace.steps]
print(ops_run)
assert ops_run.count("Sin") == 1 and len(ops_run) == 4

with ad.trace_evaluation(*outputs) as again:
    outputs[1].numpy()
assert again.steps == []

# %% [markdown]
# ## Gradients are lazy too
#
# `backward()` in lazy mode records the gradient graph without computing it: the adjoint
# of x is a recipe until someone reads it.

# %%
with ad.lazy_mode():
    x = ad.Tensor(np.linspace(0.0, 1.0, 5), name="x")
    a, y, z = compute(x)
    y.backward()
print("x.grad computed?", x.grad.cached_data is not None,
      "| gradient graph waiting:", len(ad.Graph(x.grad).unrealized), "nodes")
assert x.grad.cached_data is None
grad = x.grad.numpy()                     # now it runs, forward nodes it needs included
xv = np.linspace(0.0, 1.0, 5)
assert np.allclose(grad, np.exp(xv) * (1 + xv))
assert z.cached_data is None              # still never needed

# %% [markdown]
# needle's switch works too: `adjoint.autograd.LAZY_MODE = True` (a plain module flag)
# turns lazy mode on until it is set back; `ad.lazy_mode()` restores it for you, even
# when an error leaves the block.

# %%
from adjoint import autograd

autograd.LAZY_MODE = True
w = ad.Tensor([1.0, 2.0]) * 3
autograd.LAZY_MODE = False
assert w.cached_data is None and w.numpy().tolist() == [3.0, 6.0]

# %% [markdown]
# ## What lazy mode costs
#
# Lazy evaluation does the same arithmetic, plus bookkeeping: recording each node's
# inferred shape and dtype, and a second walk over the graph to compute it. We time a
# chain of 1,000 steps (2,500 elementwise operations), eager and lazy, on small arrays (where the
# bookkeeping shows) and on large ones (where the arithmetic dominates). The numbers
# depend on the machine; the point is their ratio.

# %%
def chain(x, n=1000):
    for i in range(n):
        x = ad.sin(x) * 0.5 + 0.1 if i % 2 else ad.exp(-x) * 0.9
    return x


def timed(lazy, size, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with ad.lazy_mode(lazy):
            out = chain(ad.Tensor(np.full(size, 0.3), requires_grad=False))
        out.numpy()
        best = min(best, time.perf_counter() - start)
    return best


results = {}
for size in (1, 10_000):
    eager_s, lazy_s = timed(False, size), timed(True, size)
    results[size] = (eager_s, lazy_s)
    print(f"arrays of {size:>7} elements: eager {eager_s * 1e3:7.1f} ms, "
          f"lazy {lazy_s * 1e3:7.1f} ms (ratio {lazy_s / eager_s:.2f})")

with ad.lazy_mode():
    lazy_out = chain(ad.Tensor(np.full(3, 0.3), requires_grad=False))
assert np.allclose(lazy_out.numpy(), chain(ad.Tensor(np.full(3, 0.3), requires_grad=False)).numpy())

# %%
fig, ax = plt.subplots(figsize=(5, 3))
labels = [f"{size:,} element{'s' if size > 1 else ''}" for size in results]
positions = np.arange(len(results))
ax.bar(positions - 0.2, [e * 1e3 for e, _ in results.values()], 0.4, label="eager")
ax.bar(positions + 0.2, [lz * 1e3 for _, lz in results.values()], 0.4, label="lazy")
ax.set_xticks(positions, labels)
ax.set_ylabel("ms for 2,500 ops (best of 3)")
ax.set_yscale("log")
ax.legend()
ax.set_title("build + evaluate, eager vs lazy")
plt.show()

# %% [markdown]
# One more cost is memory, and it explains part of the gap on large arrays: in eager mode
# a node whose inputs need no gradient is cut from the graph at once (it becomes a
# constant), so each intermediate array is freed as soon as the next one exists. A lazy
# graph keeps every node and its inputs until it is evaluated, and after evaluation every
# node keeps its cached data while the graph is alive.
#
# ## What to remember
#
# * Lazy mode records the graph and computes on demand: only the nodes an output needs,
#   each once, inputs first.
# * `ad.trace_evaluation` lists what was computed and why; `ad.evaluation_steps` computes
#   one node per step.
# * Shapes are known without data, thanks to each op's `infer_shape`.
# * Bookkeeping costs something per node: noticeable on tiny arrays, negligible on big
#   ones.
