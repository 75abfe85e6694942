"""``CompiledGraph``: a graph's generated source, bound to a backend and run on arrays.

The source from :func:`adjoint.compiler.codegen.generate` is executed once with
``xp`` bound to the backend's namespace, its constants and its fallback calls;
calling the compiled graph then calls that one Python function: no object per
node, no walk, one NumPy call per line.

Backends (the generator never sees them; a backend is the namespace plus how
the fallback calls run):

* ``"numpy"`` (default): ``xp = numpy``. An op without a source form calls its
  own ``compute`` (bound method, no wrapper).
* ``"jax"``: ``xp = jax.numpy``, the function wrapped in ``jax.jit`` with
  float64 enabled (``jax_enable_x64``, process-wide, as JAX requires) and
  traced when the graph is compiled, so errors come now and not at the first
  call. An op without a source form, or whose source form cannot run under
  JAX tracing (in-place updates, NumPy-only calls), runs on the host through
  ``jax.pure_callback`` calling its ``compute``: the JAX-specific path. Both
  are counted in :attr:`CompiledGraph.fallbacks`. JAX is an optional extra
  (``pip install "adjoint[jax]"``).

Shapes and dtypes are fixed when the graph is compiled (the recorded shapes and
dtypes of its inputs). A call with another shape raises a ValueError naming
the input and both shapes; data of another dtype converts as ``Graph.run``
converts feeds (NumPy's "safe" casting for arrays, exact representation for
Python numbers) or is refused with a TypeError naming both dtypes.
(:func:`adjoint.compile` on a function instead compiles once per shape and
dtype.) Arrays returned never share memory with the inputs or the constants.
"""

from __future__ import annotations

import itertools
import linecache
import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np

from adjoint.autograd import Value, _nodes
from adjoint.compiler.codegen import Program, generate
from adjoint.tensor import _in_dtype

__all__ = ["CompiledGraph", "BACKENDS"]

BACKENDS = ("numpy", "jax")

_counter = itertools.count(1)


def _jax() -> Any:
    """``jax`` with float64 enabled, or an ImportError saying how to install it."""
    try:
        import jax
    except ImportError:
        raise ImportError(
            'compile: backend="jax" needs JAX, an optional extra: pip install "adjoint[jax]" '
            '(or use backend="numpy", the default)'
        ) from None
    jax.config.update("jax_enable_x64", True)
    return jax


def _backend_arg(backend: Any) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"compile: backend must be one of {list(BACKENDS)}, got {backend!r}")
    return backend


class CompiledGraph:
    """Outputs of a graph as one generated function of its inputs; call it with arrays.

    >>> import adjoint as ad, numpy as np
    >>> x = ad.Tensor([1.0, 2.0], name="x", requires_grad=True)
    >>> y = ad.exp(x) * x
    >>> c = ad.Graph(y).compile(inputs=[x])
    >>> c(np.array([0.0, 1.0]))[0].tolist() == (np.exp([0.0, 1.0]) * [0.0, 1.0]).tolist()
    True

    ``.source`` is the generated Python, ``.inputs`` and ``.outputs`` the nodes,
    ``.backend`` the backend, ``.shapes`` and ``.dtypes`` what each input must be,
    ``.fallbacks`` how many lines run an op's ``compute`` instead of a source
    form, by op name, and ``.stats`` the node and line counts (CSE). Calling
    returns a list of arrays, one per output, as :meth:`adjoint.graph.Graph.run`.
    """

    def __init__(
        self,
        outputs: Value | Sequence[Value],
        inputs: Sequence[Value],
        *,
        backend: str = "numpy",
        name: str = "compiled",
    ) -> None:
        if isinstance(outputs, Value):
            outputs = [outputs]
        outputs = _nodes(outputs, "compile", "outputs")
        if not outputs:
            raise ValueError("compile: give at least one output Tensor")
        inputs = _nodes(inputs, "compile", "inputs")
        self.backend = _backend_arg(backend)
        self.outputs: tuple[Value, ...] = tuple(outputs)
        self.inputs: tuple[Value, ...] = tuple(inputs)
        self.shapes = tuple(x.shape for x in inputs)
        self.dtypes = tuple(x.dtype for x in inputs)
        self._out_dtypes = tuple(out.dtype for out in outputs)
        self._name = name
        forced: set[Value] = set()
        if backend == "jax":
            jax = _jax()
            # A source form that fails under JAX tracing: that node runs on the host, retry.
            for _ in range(len(self.inputs) + 10_000):
                program = generate(outputs, inputs, name=name, fallback=forced)
                function, filename = self._bind(program, jax.numpy)
                jitted = jax.jit(function)
                specs = [jax.ShapeDtypeStruct(s, d) for s, d in zip(self.shapes, self.dtypes)]
                try:
                    jitted.lower(*specs)
                    break
                except Exception as error:
                    node = _failing_node(error, filename, program)
                    if node is None or node in forced:
                        raise
                    forced.add(node)
            self._function = self._jitted = jitted
        else:
            program = generate(outputs, inputs, name=name)
            self._function, _ = self._bind(program, np)
        self._program = program
        self.source: str = program.source
        self.fallbacks: dict[str, int] = program.fallback_counts
        self.stats = {"op_nodes": program.op_nodes, "lines": program.op_lines}
        # Arrays the results must never be: the constants (inputs are added per call).
        self._protected = {id(v) for v in program.constants.values()}

    def _bind(self, program: Program, xp: Any) -> tuple[Any, str]:
        """Execute the source with ``xp``, the constants and the fallbacks bound."""
        namespace: dict[str, Any] = {"xp": xp, "__builtins__": __builtins__}
        namespace.update(program.constants)
        for call, node in program.fallbacks.items():
            namespace[call] = _numpy_call(node) if xp is np else _host_call(node)
        filename = f"<adjoint.compiler {self._name}-{next(_counter)}>"
        # Registered with linecache: tracebacks and debuggers show the generated lines.
        linecache.cache[filename] = (
            len(program.source),
            None,
            program.source.splitlines(keepends=True),
            filename,
        )
        exec(compile(program.source, filename, "exec"), namespace)  # noqa: S102
        return namespace[program.name], filename

    def __call__(self, *arrays: Any) -> list[np.ndarray]:
        n = len(self.inputs)
        if len(arrays) != n:
            raise TypeError(
                f"compiled graph: takes {n} input array(s) "
                f"({', '.join(self._program.params)}), got {len(arrays)}"
            )
        args = []
        for k, a in enumerate(arrays):
            if type(a) is not np.ndarray or a.dtype != self.dtypes[k] or a.shape != self.shapes[k]:
                a = self._convert(k, a)
            args.append(a)
        results = self._function(*args)
        if self.backend == "jax":
            return [np.array(r, dtype=d) for r, d in zip(results, self._out_dtypes)]
        protected = self._protected
        out = []
        for r in results:
            if not r.flags.owndata or id(r) in protected or any(r is a for a in args):
                r = r.copy()
            out.append(r)
        return out

    def _convert(self, k: int, data: Any) -> np.ndarray:
        """Input ``k`` as an array of its compiled dtype and shape, or an error naming it."""
        name = self._program.params[k]
        dtype, shape = self.dtypes[k], self.shapes[k]
        array, lost = _in_dtype(data, dtype, "safe", f"compiled graph: input {name!r}")
        if array is None:
            kind, detail = lost
            if kind == "dtype":
                raise TypeError(
                    f"compiled graph: input {name!r} was compiled for dtype {dtype}, got "
                    f"dtype {detail}, which does not convert to it without loss (NumPy's "
                    f"'safe' casting); convert it yourself: np.asarray(data, dtype=np.{dtype})"
                )
            raise ValueError(
                f"compiled graph: input {name!r} has dtype {dtype}, which cannot hold the "
                f"value {detail!r} exactly"
            )
        if array.shape != shape:
            raise ValueError(
                f"compiled graph: input {name!r} has shape {array.shape}, but the graph was "
                f"compiled for shape {shape} (dtype {dtype}); shapes are fixed when compiling. "
                "Compile again for this shape (ad.compile(f) does so by itself), or use "
                "Graph.run for batches of points"
            )
        return array

    def __repr__(self) -> str:
        ins = ", ".join(
            f"{p}: {d}{list(s)}" for p, s, d in zip(self._program.params, self.shapes, self.dtypes)
        )
        return (
            f"CompiledGraph({ins}) -> {len(self.outputs)} output(s), backend={self.backend!r}, "
            f"{self.stats['lines']} line(s) for {self.stats['op_nodes']} op node(s)"
        )


def _numpy_call(node: Value) -> Any:
    """The fallback on NumPy: the op's own ``compute`` (0-d results are wrapped by the line)."""
    return node.op.compute


def _host_call(node: Value) -> Any:
    """The fallback on JAX: the op's ``compute`` on the host, via ``jax.pure_callback``."""
    import jax

    op, dtype = node.op, node.dtype
    result = jax.ShapeDtypeStruct(node.shape, dtype)

    def host(*arrays: Any) -> np.ndarray:
        return np.asarray(op.compute(*[np.asarray(a) for a in arrays]), dtype=dtype)

    def call(*args: Any) -> Any:
        # Under jax.vmap (a Jacobian maps its product over a basis) the host runs point by point.
        return jax.pure_callback(host, result, *args, vmap_method="sequential")

    return call


def _failing_node(error: BaseException, filename: str, program: Program) -> Value | None:
    """The node of the generated line where ``error`` was raised, if it was raised there."""
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename and line in program.lines:
            found = program.lines[line]
    return found
