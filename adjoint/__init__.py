"""adjoint: symbolic reverse-mode automatic differentiation on NumPy.

Every adjoint is a new graph node, so differentiating a gradient is just more
reverse mode: second and higher derivatives come for free and can be checked
exactly against sympy.

>>> import adjoint as ad
>>> x = ad.Tensor(0.5, name="x")
>>> y = ad.exp(x) * x
>>> y.backward()
>>> g = x.grad            # dy/dx, itself a graph node
>>> g.backward()
>>> round(float(x.grad), 6)   # d2y/dx2 = e^x (x + 2)
4.121803

The design is CMU needle's (``Value``/``Op``/``TensorOp``/``Tensor``); code
written against needle's homework API runs with ``import adjoint as ndl``.

The layout, bottom up (each module imports only modules below it):
:mod:`adjoint.walk` (the one graph walk), :mod:`adjoint.autograd` (the engine),
:mod:`adjoint.tensor`, :mod:`adjoint.ops` (every op by kind, each class
carrying all that is known about it), :mod:`adjoint.init`,
:mod:`adjoint.compiler` (graphs as generated code, ``ad.compile``),
:mod:`adjoint.graph` (inspect, re-run, draw, trace, census), :mod:`adjoint.rewrite`
(``simplify``),
:mod:`adjoint.functional` (``grad`` and friends), :mod:`adjoint.symbolic`
(sympy formulas and exact checks), :mod:`adjoint.nn`,
:mod:`adjoint.optim`, :mod:`adjoint.data`, :mod:`adjoint.io`, and
:mod:`adjoint.cli` (``python -m adjoint``).
"""

from adjoint import autograd, data, init, linalg, nn, ops, optim, symbolic
from adjoint.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from adjoint.autograd import (
    Op,
    Value,
    compute_gradient_of_variables,
    enable_grad,
    find_topo_sort,
    is_grad_enabled,
    lazy_mode,
    no_grad,
    set_lazy_mode,
    toposort,
)
from adjoint.compiler import CompiledGraph, compile
from adjoint.device import DeviceMismatchError, cpu, cuda, default_device, set_default_device
from adjoint.functional import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from adjoint.graph import Graph, GraphTooLargeError, evaluation_steps, trace_evaluation
from adjoint.graph.census import census
from adjoint.io import load, save
from adjoint.numerical import gradcheck
from adjoint.ops import *
from adjoint.rewrite import RewriteError, simplify, verify_rewrites
from adjoint.tensor import Tensor, TensorOp

__version__ = "0.1.0"
