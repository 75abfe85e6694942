"""``ad.compile``: a function of Tensors (a derivative too) as compiled code, per input shape.

>>> import adjoint as ad, numpy as np
>>> d2 = ad.compile(ad.grad(ad.grad(lambda x: ad.sin(x) * x)))
>>> float(d2(np.array(0.5))) == float(ad.grad(ad.grad(lambda x: ad.sin(x) * x))(0.5))
True
>>> print(d2.source.splitlines()[0])
def compiled(x):

Calling the compiled function with arrays traces ``f`` once on leaf Tensors
holding those arrays (eagerly: the trace is one ordinary evaluation), compiles
the graph of its outputs with the leaves as inputs, caches the result under
the inputs' shapes and dtypes, and runs it. A later call with the same shapes
and dtypes runs the cached code; other shapes or dtypes compile again (the
friendliest choice for a function; :meth:`adjoint.graph.Graph.compile` fixes
them instead and raises). ``f`` must be a function of its array arguments
only: what it computes from anything else is frozen into the trace as
constants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adjoint.autograd import Value, enable_grad, lazy_mode
from adjoint.compiler.compiled import CompiledGraph, _backend_arg
from adjoint.tensor import Tensor, _to_array

__all__ = ["compile", "CompiledFunction"]


class CompiledFunction:
    """``f`` compiled per input shape and dtype (see :func:`compile`).

    Returns what ``f`` returns, with arrays for Tensors: one array, or a tuple.
    ``.source`` is the code of the most recent compilation, ``.compiled`` the
    :class:`CompiledGraph` of each signature so far.
    """

    def __init__(self, f: Callable[..., Any], backend: str) -> None:
        self.f = f
        self.backend = backend
        self.compiled: dict[tuple, CompiledGraph] = {}
        self._last: CompiledGraph | None = None
        self._single = True

    def __call__(self, *args: Any) -> Any:
        arrays = [_argument(a, k) for k, a in enumerate(args)]
        key = tuple((a.shape, a.dtype.str) for a in arrays)
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.compiled[key] = self._compile(arrays)
        self._last = compiled
        results = compiled(*arrays)
        return results[0] if self._single else tuple(results)

    def _compile(self, arrays: list[np.ndarray]) -> CompiledGraph:
        with enable_grad(), lazy_mode(False):
            # Copies: the trace's constants must not see later writes into the caller's arrays.
            leaves = [Tensor.make_const(a.copy(), requires_grad=True) for a in arrays]
            for leaf, name in zip(leaves, _names(self.f, len(leaves))):
                leaf.name = name
            out = self.f(*leaves)
        self._single = not isinstance(out, (tuple, list))
        outputs = [out] if self._single else list(out)
        for i, o in enumerate(outputs):
            if not isinstance(o, Value):
                raise TypeError(
                    f"compile: f must return a Tensor or a tuple of Tensors; output {i} is a "
                    f"{type(o).__name__}"
                )
        return CompiledGraph(outputs, leaves, backend=self.backend)

    @property
    def source(self) -> str:
        """The generated source of the most recent compilation (call the function first)."""
        if self._last is None:
            raise ValueError(
                "compile: nothing is compiled yet: call the compiled function with arrays "
                "first (it compiles for their shapes and dtypes)"
            )
        return self._last.source

    def __repr__(self) -> str:
        name = getattr(self.f, "__name__", type(self.f).__name__)
        return f"CompiledFunction({name}, backend={self.backend!r}, {len(self.compiled)} shape(s))"


def _argument(a: Any, k: int) -> np.ndarray:
    """A call's argument as an array: as a Tensor's data would be (numbers become float64)."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
        return a
    return _to_array(a, None, f"compile: argument {k}")


def _names(f: Callable, n: int) -> list[str]:
    """The parameter names of ``f`` where it has them (for the source), else x0, x1, ..."""
    code = getattr(f, "__code__", None)
    if code is not None and code.co_argcount >= n and not code.co_flags & 0x04:
        return list(code.co_varnames[:n])
    return ["x"] if n == 1 else [f"x{k}" for k in range(n)]


def compile(
    f: Callable[..., Any] | Value | Sequence[Value],
    inputs: Sequence[Value] | None = None,
    *,
    backend: str = "numpy",
) -> CompiledFunction | CompiledGraph:
    """Compile ``f`` into generated code; ``backend`` is ``"numpy"`` (default) or ``"jax"``.

    ``compile(f)``, ``f`` a function of Tensors (``ad.hessian(g)`` too): a
    :class:`CompiledFunction`, compiled for each shape and dtype it is called
    with. ``compile(outputs, inputs)``, with Tensors: the
    :class:`CompiledGraph` of those outputs as functions of those nodes (as
    ``ad.Graph(outputs).compile(inputs=inputs)``).
    """
    backend = _backend_arg(backend)
    if isinstance(f, Value) or (
        isinstance(f, (list, tuple)) and f and all(isinstance(o, Value) for o in f)
    ):
        if inputs is None:
            raise TypeError(
                "compile: to compile Tensors, give the inputs too: compile(outputs, inputs=[x])"
            )
        return CompiledGraph(f, inputs, backend=backend)
    if not callable(f):
        raise TypeError(
            f"compile: f must be a function of Tensors or output Tensors, got {type(f).__name__}"
        )
    if inputs is not None:
        raise TypeError("compile: inputs= is for compiling Tensors; a function takes arrays")
    if backend == "jax":
        from adjoint.compiler.compiled import _jax

        _jax()  # the ImportError now, not at the first call
    return CompiledFunction(f, backend)
