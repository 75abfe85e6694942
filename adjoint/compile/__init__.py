"""Compiled graphs: any graph, gradient graphs included, as readable generated code.

:mod:`~adjoint.compile.codegen` writes one Python function per graph, one
assignment per node over an array namespace ``xp``;
:mod:`~adjoint.compile.compiled` binds it to a backend (NumPy, or JAX under
``jax.jit``) as a :class:`CompiledGraph`; :mod:`~adjoint.compile.function`
is :func:`compile`, the front end for functions of Tensors.

Layout: this package builds on the engine (:mod:`adjoint.walk`,
:mod:`adjoint.autograd`, :mod:`adjoint.tensor`) only, and :mod:`adjoint.graph`
builds on it (``Graph.compile``, and ``Graph.run``'s fast path), so it sits
below the graph tools rather than above them: tracing a function needs nothing
from :mod:`adjoint.functional` (it only calls the function on Tensors).
"""

from adjoint.compile.codegen import Program, generate
from adjoint.compile.compiled import BACKENDS, CompiledGraph
from adjoint.compile.function import CompiledFunction, compile

__all__ = ["compile", "CompiledGraph", "CompiledFunction", "Program", "generate", "BACKENDS"]
