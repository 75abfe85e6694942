"""to_sympy's results render as LaTeX in notebooks (``_repr_latex_``) and stay NumPy arrays."""

import numpy as np
import sympy

import adjoint as ad
from adjoint import symbolic


def test_a_scalar_formula_is_sympys_own_expression_with_its_latex():
    x = ad.Tensor(0.5, name="x")
    expr = symbolic.to_sympy(ad.sin(x) * x)
    assert isinstance(expr, sympy.Expr)
    assert expr._repr_latex_() == r"$\displaystyle x \sin{\left(x \right)}$"


def test_an_array_formula_renders_as_a_latex_matrix_and_is_still_an_ndarray():
    w = ad.Tensor(np.ones((2, 2)), name="W")
    f = symbolic.to_sympy(ad.exp(w) * w)
    assert isinstance(f, np.ndarray) and isinstance(f, symbolic.FormulaArray)
    assert f.shape == (2, 2) and f.dtype == object
    w00 = sympy.Symbol("W_0_0", real=True)
    assert f[0, 0] == w00 * sympy.exp(w00)
    assert sympy.diff(f[0, 0], w00) == w00 * sympy.exp(w00) + sympy.exp(w00)
    latex = f._repr_latex_()
    assert latex.startswith(r"$\displaystyle \left[\begin{matrix}") and latex.endswith("$")
    assert r"W_{0 0} e^{W_{0 0}} & W_{0 1} e^{W_{0 1}}\\W_{1 0}" in latex
    assert f.to_array() == sympy.Array([[e for e in row] for row in np.asarray(f)])
    # NumPy reductions to one element give the expression, as on a plain object array
    total = np.sum(f)
    assert isinstance(total, sympy.Expr) and not isinstance(total, np.ndarray)
    assert isinstance(f.sum(axis=0), symbolic.FormulaArray)


def test_gradient_graphs_render_too_and_huge_arrays_fall_back_to_text():
    x = ad.Tensor([0.5, 1.0, 2.0], name="x")
    ad.sum(x**3).backward()
    g = symbolic.to_sympy(x.grad)
    x0 = sympy.Symbol("x_0", real=True)
    assert g[0] == 3 * x0**2
    assert "3 x_{0}^{2}" in g._repr_latex_()
    big = symbolic.to_sympy(ad.Tensor(np.ones(symbolic.FormulaArray.LATEX_MAX_SIZE + 1)) * 2)
    assert big._repr_latex_() is None  # the notebook shows the text form
    leaves = symbolic.leaf_symbols(x.grad)
    assert isinstance(leaves[x], symbolic.FormulaArray)
