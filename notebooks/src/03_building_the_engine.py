# %% [markdown]
# # 3. Building the engine
#
# The first two notebooks used adjoint from the outside. This one opens it up. At its
# heart the engine is four classes and two functions, all importable from `adjoint.autograd`
# as in needle (`Tensor` and `TensorOp` are written in `adjoint/tensor.py`, the rest in
# `adjoint/autograd.py`):
#
# | name | what it is |
# |---|---|
# | `Value` | a node of the computational graph: `op`, `inputs`, `cached_data`, `requires_grad` |
# | `Op` | an operator: `compute` on NumPy arrays, `gradient` on Tensors |
# | `TensorOp` | an `Op` whose output is a `Tensor`; calling it builds a node |
# | `Tensor` | the `Value` users hold, with operators `+ - * / ** @` |
# | `find_topo_sort` | every node an output depends on, inputs before the nodes that use them |
# | `compute_gradient_of_variables` | the reverse sweep: adjoints from the output back to the leaves |
#
# We walk through each on a small graph, rebuild the reverse sweep by hand, and then
# add a new operator of our own, exactly as the library's own ops are written.

# %%
import inspect

import numpy as np
import sympy

import adjoint as ad
from adjoint import autograd

# %% [markdown]
# ## `Value`: a node
#
# A `Tensor` made from data is a **leaf**: it has no `op` and no `inputs`, only data.
# Leaves require gradients by default (as in needle), because they are usually the
# variables we differentiate with respect to.

# %%
x = ad.Tensor(0.5, name="x")
print("op:", x.op, "| inputs:", x.inputs, "| data:", x.cached_data, "| requires_grad:", x.requires_grad)
assert x.is_leaf() and x.requires_grad

# %% [markdown]
# Applying an operation makes a new node that remembers **which op** made it and
# **from which inputs**. Those two fields are the edges of the graph. In eager mode
# (the default) the data is computed at once and cached in `cached_data`.

# %%
u = x * x
v = ad.exp(u)
print("u.op =", u.op, "| u.inputs are x, x:", u.inputs[0] is x and u.inputs[1] is x, "| u =", u.numpy())
print("v.op =", v.op, "| v.inputs[0] is u:", v.inputs[0] is u, "| v =", v.numpy())
assert v.inputs == (u,) and u.inputs == (x, x)
assert np.isclose(v.numpy(), np.exp(0.25))

# %% [markdown]
# `u = x * x` has the *same* node twice among its inputs. The graph is a DAG, not a
# tree: one node can feed several others (fan-out), and adjoints arriving from each
# use must be **summed**. We come back to this in the reverse sweep.

# %% [markdown]
# ## `Op` and `TensorOp`: compute above gradient
#
# Every operator is a small class. `compute` works on NumPy arrays and gives the
# output's data. `gradient` receives the adjoint of the output, `out_grad` (that is
# ∂L/∂output for whatever scalar L we are differentiating), and returns one adjoint
# per input: ∂L/∂input = out_grad · ∂output/∂input. Here is `Exp`:

# %%
print(inspect.getsource(ad.ops.Exp))

# %% [markdown]
# Read the gradient closely: `out_grad * node`. It multiplies two **Tensors**, so the
# adjoint it returns is itself a node of a graph, built from `out_grad` and from the
# forward node. That is the single rule on which everything in adjoint rests:
#
# > **`gradient` is written with Tensor operations only, never NumPy on raw arrays.**
#
# Because of it, a gradient is a graph like any other, and differentiating that
# graph again gives second derivatives, then third, with no extra machinery.
#
# `TensorOp.__call__` is one line: it hands the op and its inputs to
# `Tensor.make_from_op`, which builds the node and, in eager mode, computes it.

# %%
print(inspect.getsource(ad.TensorOp))
w = ad.ops.Exp()(u)          # exactly what ad.exp(u) does (after checking its operand)
assert w.op.name == "Exp" and np.isclose(w.numpy(), v.numpy())

# %% [markdown]
# ## Topological sort
#
# To sweep backwards we need the nodes in an order where every node comes **after**
# its inputs. `find_topo_sort` gives the post-order of a depth-first search over
# `inputs` (what needle's recursive version gives), but with an explicit stack, so a
# chain a million nodes deep does not hit Python's recursion limit.
#
# Take a small graph with fan-out: f(a, b) = (a + b) · exp(a) at a = 1, b = 2.

# %%
a = ad.Tensor(1.0, name="a")
b = ad.Tensor(2.0, name="b")
s = a + b
e = ad.exp(a)
f = s * e

names = {id(a): "a", id(b): "b", id(s): "s", id(e): "e", id(f): "f"}
topo = ad.find_topo_sort([f])
for i, node in enumerate(topo):
    ins = ", ".join(names[id(x)] for x in node.inputs)
    rule = f"{node.op.name}({ins})" if node.op else "leaf"
    print(f"{i}: {names[id(node)]} = {rule:14} = {float(node.numpy()):.6f}")
assert [names[id(n)] for n in topo] == ["a", "b", "s", "e", "f"]

# %% [markdown]
# `ad.Graph(f)` holds the same nodes and draws them (notebook 1 has more on it). In the
# drawing, node labels follow the textbook numbering (inputs first).

# %%
ad.Graph(f)

# %% [markdown]
# ## The reverse sweep, by hand
#
# `compute_gradient_of_variables(output, out_grad)` is a short loop. We write the same
# algorithm here in its simplest form:
#
# 1. the output's adjoint is `out_grad` (ones: ∂f/∂f = 1);
# 2. visit nodes in **reverse** topological order, so that when we reach a node, every
#    node that used it has already sent it a partial adjoint;
# 3. a node's adjoint is the **sum** of the partials it received (fan-out);
# 4. its op's `gradient` turns that adjoint into one partial per input.

# %%
def reverse_sweep(output):
    partials = {output: [ad.init.ones(*output.shape)]}
    adjoints = {}
    for node in reversed(ad.find_topo_sort([output])):
        total = partials[node][0]
        for p in partials[node][1:]:
            total = total + p          # a Tensor addition: the sum is a node too
        adjoints[node] = total
        if node.op is None:
            continue
        for inp, partial in zip(node.inputs, node.op.gradient_as_tuple(total, node)):
            partials.setdefault(inp, []).append(partial)
    return adjoints


adjoints = reverse_sweep(f)
for node in ad.find_topo_sort([f]):
    print(f"adjoint of {names[id(node)]} = {float(adjoints[node].numpy()):.6f}")

# %% [markdown]
# Check against calculus: ∂f/∂a = exp(a) + (a + b)·exp(a) = 4e and ∂f/∂b = exp(a) = e.
# `a` received two partials (through `s` and through `e`) and the sweep summed them.
# The library's `backward()` gives the same numbers.

# %%
assert np.isclose(adjoints[a].numpy(), 4 * np.e)
assert np.isclose(adjoints[b].numpy(), np.e)

f.backward()
assert np.isclose(a.grad.numpy(), adjoints[a].numpy())
assert np.isclose(b.grad.numpy(), adjoints[b].numpy())
print("a.grad =", a.grad, " b.grad =", b.grad)

# %% [markdown]
# The library's version differs in three details worth knowing:
#
# * it only walks nodes that **require grad** (constants receive no adjoints);
# * it stores the adjoint in `.grad` only on **leaves** (and on nodes where you called
#   `retain_grad()`): an intermediate node holding its own adjoint, which refers back
#   to the node, would form a reference cycle;
# * every node made while a `gradient` rule runs is **tagged** with its derivative
#   order, so gradient graphs can be counted and coloured by order (notebook 5).

# %%
print("order of a.grad's node:", autograd.derivative_order(a.grad))
assert autograd.derivative_order(a.grad) == 1 and autograd.derivative_order(f) == 0

# %% [markdown]
# ## Your own op
#
# Let us add an operator the library does not have, `Square`, written the way every
# op in `adjoint/ops/` is: a `TensorOp` subclass with `compute` directly above
# `gradient`, then a lowercase function. d(a²)/da = 2a, so the adjoint of the input is
# `out_grad * 2 * a`, built from Tensor operations.
#
# `infer_shape` is optional: it tells lazy mode (notebook 4) the output's shape
# without computing it.

# %%
class Square(ad.TensorOp):
    """a ** 2, elementwise."""

    def compute(self, a):
        return a * a

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return (out_grad * a * 2.0,)

    def infer_shape(self, shape):
        return shape


def square(a):
    return Square()(a)


# %% [markdown]
# Now compose it: y = (e^{x²})² = e^{2x²}. At x = 0.5, y = e^{0.5} = 1.6487…, and the
# chain rule gives dy/dx = 2·e^{x²} · e^{x²} · 2x = 4x·e^{2x²} = 2e^{0.5}.

# %%
x = ad.Tensor(0.5, name="x")
y = square(ad.exp(square(x)))
y.backward()
print(f"y = {float(y):.10f}   dy/dx = {float(x.grad):.10f}   2e^0.5 = {2 * np.exp(0.5):.10f}")
assert np.isclose(float(y), np.exp(0.5), rtol=1e-15)
assert np.isclose(float(x.grad), 2 * np.exp(0.5), rtol=1e-15)

# %% [markdown]
# Two independent checks. `ad.gradcheck` compares with central finite differences
# along random directions, to the order we ask. Order 2 works because `Square.gradient`
# used only Tensor operations: its adjoint can be differentiated again.

# %%
assert ad.gradcheck(lambda t: square(ad.exp(square(t))), [0.5, -0.3, 1.1], order=2)

# %% [markdown]
# And sympy gives the exact derivatives, which we compare with adjoint's first and
# second derivatives (the second by calling `backward` on the gradient itself).

# %%
sx = sympy.Symbol("x")
exact = sympy.exp(sx**2) ** 2
d1, d2 = sympy.diff(exact, sx), sympy.diff(exact, sx, 2)
print("dy/dx   =", sympy.simplify(d1), "\nd2y/dx2 =", sympy.simplify(d2))

x = ad.Tensor(0.5, name="x")
y = square(ad.exp(square(x)))
y.backward()
first = x.grad
first.backward()                # differentiate the gradient graph
second = x.grad
assert np.isclose(float(first), float(d1.subs(sx, 0.5)), rtol=1e-14)
assert np.isclose(float(second), float(d2.subs(sx, 0.5)), rtol=1e-14)
print(f"adjoint: {float(first):.12f} {float(second):.12f}")
print(f"sympy:   {float(d1.subs(sx, 0.5)):.12f} {float(d2.subs(sx, 0.5)):.12f}")

# %% [markdown]
# ## What the tools know about an op
#
# Besides `compute` and `gradient`, an op may declare what the tools need, next to
# them (`ad.Op` documents each): `formula` and `partials` for the textbook tables,
# `sympy` for `ad.symbolic.to_sympy` (needed where `compute` calls a NumPy function
# that sympy objects lack, as `np.arctan`), `commutative`, and `compute_batched` for
# `Graph.run` on a batch. An op that declares nothing still works: the tools fall
# back to what it has, and say what it lacks.

# %%
class Arctan(ad.TensorOp):
    formula = ("atan($0)", "\\arctan($0)")
    partials = (("$g / (1 + $0²)", "$g / (1 + $0^{2})"),)

    def compute(self, a):
        return np.arctan(a)

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return (out_grad / (a * a + 1.0),)

    def sympy(self, a):
        return np.frompyfunc(sympy.atan, 1, 1)(a)


x = ad.Tensor(0.5, name="x")
y = Arctan()(x) * x
print(ad.symbolic.to_sympy(y))
print(ad.Graph(y).forward_trace())
sx = sympy.Symbol("x", real=True)
assert ad.symbolic.to_sympy(y) == sympy.atan(sx) * sx

# %% [markdown]
# ## The classic course task
#
# The first exercise of CMU's Deep Learning Systems course, run unchanged:
# t = Σ x·(eˣ + x), so dt/dx = eˣ + x·eˣ + 2x.

# %%
from adjoint import Tensor, exp

rng = np.random.default_rng(0)
x = Tensor(rng.random(1), requires_grad=True)
y = exp(x) + x
z = x * y
t = ad.sum(z)
t.backward()

xv = x.numpy()
exact = np.exp(xv) + xv * np.exp(xv) + 2 * xv
print("x =", xv, " x.grad =", x.grad.numpy(), " exact =", exact)
assert np.allclose(x.grad.numpy(), exact, rtol=1e-14)

# %% [markdown]
# ## What to remember
#
# * A node is an op plus its inputs; the graph is built as you compute.
# * Each op knows two things: how to compute its output, and how to send an adjoint
#   back to its inputs, **as Tensor operations**.
# * The reverse sweep visits nodes in reverse topological order and sums partial
#   adjoints. Because those sums and products are graph nodes, the result is a
#   graph: notebook 5 differentiates it again and again.
