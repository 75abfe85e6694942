"""Symbolic truth: graphs to sympy and back, and exact checks of derivatives of any order.

:func:`to_sympy` runs a graph's own ops on NumPy object arrays of sympy
expressions, so the very graph that computes numbers yields formulas:

>>> import adjoint as ad
>>> x = ad.Tensor(0.5, name="x")
>>> y = ad.exp(x) * x
>>> y.backward()
>>> ad.symbolic.to_sympy(x.grad)
x*exp(x) + exp(x)

:func:`check` compares adjoint's n-th derivatives with ``sympy.diff``,
exactly, on both paths that build them; :func:`from_sympy` turns a formula
into a function of Tensors. One module a job, layered (each imports only those
before it): ``deep`` (room for sympy's recursion), ``parse`` (formula strings),
``translate`` (to_sympy; above ops and functional), ``compare`` (check; uses
``ad.grad``), ``build`` (from_sympy). The modules are not named ``check`` and
``from_sympy``: those names here are the functions.
"""

import sys
import types

from adjoint.symbolic import deep
from adjoint.symbolic.build import from_sympy
from adjoint.symbolic.compare import PATHS, CheckReport, Derivative, PathResult, check
from adjoint.symbolic.deep import DEEP_RECURSION_LIMIT, FormulaTooDeepError
from adjoint.symbolic.translate import (
    FormulaArray,
    has_translation,
    leaf_symbols,
    register_translation,
    to_sympy,
)

__all__ = [
    "to_sympy",
    "FormulaArray",
    "leaf_symbols",
    "from_sympy",
    "check",
    "CheckReport",
    "Derivative",
    "PathResult",
    "PATHS",
    "register_translation",
    "has_translation",
    "FormulaTooDeepError",
    "DEEP_RECURSION_LIMIT",
]


class _Package(types.ModuleType):
    """Setting ``adjoint.symbolic.DEEP_RECURSION_LIMIT`` sets the limit ``deep`` uses."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "DEEP_RECURSION_LIMIT":
            deep.DEEP_RECURSION_LIMIT = value
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
