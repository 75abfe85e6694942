"""Compiled graphs: any graph, gradient graphs included, as readable generated code.

:mod:`~adjoint.compiler.codegen` writes one Python function per graph, one
assignment per node over an array namespace ``xp``;
:mod:`~adjoint.compiler.compiled` binds it to a backend (NumPy, or JAX under
``jax.jit``) as a :class:`CompiledGraph`; :mod:`~adjoint.compiler.function`
is :func:`compile`, the front end for functions of Tensors. The package is
named ``compiler`` so that ``ad.compile``, the function, does not hide it
(``import adjoint.compiler.codegen as m`` works).

Layout: this package builds on the engine (:mod:`adjoint.walk`,
:mod:`adjoint.autograd`, :mod:`adjoint.tensor`) only, and :mod:`adjoint.graph`
builds on it (``Graph.compile``, and ``Graph.run``'s fast path), so it sits
below the graph tools rather than above them: tracing a function needs nothing
from :mod:`adjoint.functional` (it only calls the function on Tensors).
"""

from adjoint.compiler.codegen import Program, generate
from adjoint.compiler.compiled import BACKENDS, CompiledGraph
from adjoint.compiler.function import CompiledFunction, compile

__all__ = ["compile", "CompiledGraph", "CompiledFunction", "Program", "generate", "BACKENDS"]
