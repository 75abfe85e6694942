# %% [markdown]
# # 7. Gradients as formulas
#
# Automatic differentiation is usually contrasted with symbolic differentiation: AD
# computes numbers, a computer algebra system manipulates formulas. In adjoint the line
# is thin. A gradient is a graph of elementary operations, and a graph of elementary
# operations *is* a formula. `adjoint.symbolic.to_sympy` reads it as one.
#
# That gives two things no numerical check can: we can **see** the formula behind any
# gradient, and we can **prove** a derivative right, by asking sympy whether adjoint's
# formula and its own differ by exactly zero. And in the other direction,
# `from_sympy` turns a typed formula into a function adjoint can differentiate.

# %%
import numpy as np
import sympy

import adjoint as ad
from adjoint.symbolic import check, from_sympy, to_sympy

# %% [markdown]
# ## The formula behind a gradient
#
# `to_sympy` runs the graph's own ops on sympy symbols instead of numbers. Leaves that
# require grad become symbols (named by their `name`), constants become numbers.

# %%
x = ad.Tensor(0.5, name="x")
y = ad.exp(x) * x
y.backward()
first = x.grad
print("y      =", to_sympy(y))
print("dy/dx  =", to_sympy(first))
first.backward()
second = x.grad
print("d2y/dx2 =", to_sympy(second))
sx = sympy.Symbol("x", real=True)
assert sympy.simplify(to_sympy(first) - sympy.diff(sx * sympy.exp(sx), sx)) == 0
assert sympy.simplify(to_sympy(second) - sympy.diff(sx * sympy.exp(sx), sx, 2)) == 0

# %% [markdown]
# The formula is the graph read literally: `x·exp(x) + exp(x)` is the sum of the two
# partial adjoints that reverse mode sent to x (through the product, and through exp),
# exactly as the sweep of notebook 3 computed them.
#
# Rendered as mathematics:

# %%
to_sympy(second)

# %% [markdown]
# ## Arrays: one formula per element
#
# An array leaf gives one symbol per element (`W_0_1` is W₀₁). Here is a linear model with
# a squared error, L = ½‖Wx − t‖², for a 2×2 weight matrix W and fixed x and t. The
# gradient with respect to W is the textbook (Wx − t)·xᵀ; adjoint's gradient graph, read
# as formulas, is exactly that, element by element.

# %%
W = ad.Tensor([[1.0, 2.0], [3.0, 4.0]], name="W")
xv, tv = np.array([0.5, -1.0]), np.array([1.0, 0.0])
residual = W @ ad.Tensor(xv, requires_grad=False) - ad.Tensor(tv, requires_grad=False)
L = (residual * residual).sum() / 2
L.backward()

grad_formulas = sympy.Matrix(to_sympy(W.grad))
Ws = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"W_{i}_{j}", real=True))
x_exact = sympy.Matrix([sympy.Rational(1, 2), -1])
t_exact = sympy.Matrix([1, 0])
textbook = (Ws * x_exact - t_exact) * x_exact.T
assert (grad_formulas - textbook).expand() == sympy.zeros(2, 2)
grad_formulas

# %% [markdown]
# ## Proving derivatives right: `check`
#
# `check(f, *inputs, order=n)` does this systematically. It builds f's formula, lets
# sympy differentiate it n times (every mixed partial, each order of differentiation
# separately), and builds adjoint's n-th derivatives two ways: by nesting `ad.grad`
# (the path users call, simplifier included) and by repeated backward passes. It
# converts both with `to_sympy`, asks whether each difference simplifies to 0, and
# compares the numbers at the inputs; `report.paths` says whether each path agrees.
#
# Third order, two variables: 8 partial derivatives.

# %%
report = check(lambda x, y: ad.sin(x * y) + x**3 / y, 0.5, 2.0, order=3, names=["x", "y"])
assert report.ok and report.identical and len(report.derivatives) == 8
assert report.max_abs_diff < 1e-12
assert report.paths == {"grad": True, "backward": True}
report

# %% [markdown]
# ## Catching a wrong gradient
#
# The one rule of adjoint (notebook 3) is that `gradient` uses only Tensor operations.
# Here is an op that breaks it: `SneakySin.gradient` computes cos(x) with NumPy and
# wraps the number as a constant. Its first derivative has the right *value* (the number
# is cos(x)), so a numerical gradient check passes. But the constant has cut the
# gradient off from x: differentiate again and the second derivative is 0, not −sin(x).
#
# `check` sees the problem already at first order, with the values equal: adjoint's
# formula is the number 0.7648…, not the function cos(x). At second order it shows the
# wrong value too.

# %%
class SneakySin(ad.ops.Sin):
    def gradient(self, out_grad, node):
        cos_value = np.cos(node.inputs[0].numpy())           # NumPy: breaks the rule
        return (out_grad * ad.Tensor(cos_value, requires_grad=False),)


def sneaky_sin(x):
    return SneakySin()(x)


assert ad.gradcheck(sneaky_sin, [0.7])      # finite differences: first order passes

first_order = check(sneaky_sin, 0.7, order=1, names=["x"])
second_order = check(sneaky_sin, 0.7, order=2, names=["x"])
print(first_order)
print()
print(second_order)
assert not first_order.ok and first_order.max_abs_diff < 1e-15    # same number, wrong formula
assert not second_order.ok and second_order.max_abs_diff > 0.6    # -sin(0.7) vs 0

# %% [markdown]
# The library's own `Sin` passes at every order we try:

# %%
for n in (1, 2, 3, 4):
    assert check(ad.sin, 0.7, order=n, names=["x"]).identical
print("sin: orders 1 to 4 identical to sympy")

# %% [markdown]
# ## From a formula to a function: `from_sympy`
#
# The other direction. A formula typed by a user (a physics potential, a loss someone
# wrote on a whiteboard) becomes a Python function of Tensors, built from adjoint's ops.
# Then adjoint differentiates it like any other function, and sympy can confirm.
#
# Take the Lennard-Jones potential V(r) = 4ε((σ/r)¹² − (σ/r)⁶), typed as text:

# %%
V_text = "4*eps*((sigma/r)**12 - (sigma/r)**6)"
r_, eps_, sigma_ = sympy.symbols("r eps sigma", positive=True)
V = sympy.sympify(V_text, locals={"r": r_, "eps": eps_, "sigma": sigma_})
potential = from_sympy(V, [r_, eps_, sigma_])

r = ad.Tensor(1.2, name="r")
energy = potential(r, 1.0, 1.0)
force = -ad.grad(lambda r: potential(r, 1.0, 1.0))(r)
stiffness = ad.grad(ad.grad(lambda r: potential(r, 1.0, 1.0)))(r)

exact = {s: 1.0 for s in (eps_, sigma_)} | {r_: 1.2}
for name, value, formula in [
    ("V(1.2)", energy, V),
    ("force -V'(1.2)", force, -sympy.diff(V, r_)),
    ("V''(1.2)", stiffness, sympy.diff(V, r_, 2)),
]:
    print(f"{name:15} adjoint {float(value):+.12f}   sympy {float(formula.subs(exact)):+.12f}")
    assert np.isclose(float(value), float(formula.subs(exact)), rtol=1e-13)

# %% [markdown]
# The potential has its minimum where the force vanishes, at r = 2^{1/6}σ. Newton's method
# on the force, with adjoint's second derivative (notebook 5), finds it:

# %%
dV = ad.grad(lambda r: potential(r, 1.0, 1.0))
d2V = ad.grad(dV)
r_n = 1.2
for _ in range(8):
    r_n -= float(dV(r_n)) / float(d2V(r_n))
print(f"minimum at r = {r_n:.12f};  2^(1/6) = {2 ** (1 / 6):.12f}")
assert np.isclose(r_n, 2 ** (1 / 6), rtol=1e-12)

# %% [markdown]
# Because `potential` is a function of Tensors, `check` applies to it like to any other,
# so the derivatives of a typed formula are proved right to any order:

# %%
report = check(lambda r: potential(r, 1.0, 1.0), 1.2, order=3, names=["r"])
assert report.identical
print(report)

# %% [markdown]
# The command line does all of this for one formula at a time (parse, build, differentiate
# to any order, compare with sympy):
#
# ```
# python -m adjoint diff "4*((1/r)**12 - (1/r)**6)" --at r=1.2 --order 3
# ```

# %%
from adjoint.cli import main

assert main(["diff", "4*((1/r)**12 - (1/r)**6)", "--at", "r=1.2", "--order", "3"]) == 0

# %% [markdown]
# ## What to remember
#
# * A gradient graph is a formula; `to_sympy` shows it, for scalars and arrays.
# * `check` compares adjoint's n-th derivatives with sympy's *as formulas*: agreement is
#   a proof, not a tolerance, and a wrong rule is shown with both formulas.
# * `from_sympy` goes the other way: typed mathematics becomes a differentiable function.
