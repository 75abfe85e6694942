"""Derivatives as functions: grad, value_and_grad, jacobian, hessian, vjp, jvp, hvp.

Each takes a Python function of Tensors and returns Tensors that are graph
nodes, so every combination nests: ``grad(grad(f))``, ``jacobian(grad(f))``,
``grad`` of a function that calls ``hessian``.

>>> import adjoint as ad
>>> d3 = ad.grad(ad.grad(ad.grad(lambda x: x ** 4)))
>>> float(d3(2.0))        # 24 x
48.0

How inputs become variables. Numbers and arrays become fresh float64 leaves.
A Tensor is *not* detached: the function runs on ``x + 0`` (an ``AddScalar(0)``
node, whose adjoint rule passes ``out_grad`` through unchanged), and the
reverse walk (:func:`adjoint.autograd.gradients`) stops at that node. So

* an outer derivative flows through the inner one into ``x`` (nesting works),
* the inner derivative treats its argument as an independent variable, also
  when the function closes over ``x`` itself: ``grad(lambda y: y * x)(x)`` is
  ``x``, not ``2 x`` (no "perturbation confusion" in nested derivatives),
* nothing is written to any ``.grad``: the functional API never touches the
  user's leaves.

A Tensor that requires no grad (a constant) gets a fresh leaf over its data.

An input the output does not depend on gets zeros of its shape, at every
order (the second derivative of a linear function is zero, not an error).

Under ``no_grad`` the functions still differentiate (they switch recording on
inside) and return constants, cut from any graph.

Fast Jacobians and Hessians. ``jacobian`` returns one :class:`Jacobian` node
rather than a graph of m backward passes. Its construction traces the function
once together with its vector-Jacobian product ``u -> J^T u`` for a
placeholder cotangent ``u``; evaluating it runs that one traced graph on a
batch of all m basis cotangents at once, along a leading axis
(:meth:`adjoint.graph.Graph.run`), so the cost is one batched NumPy evaluation
of the VJP graph instead of m Python-level backward passes. ``hessian(f)`` is
``jacobian(grad(f))``: the gradient graph is built once, its Hessian-vector
product graph once, and all n Hessian rows come from one batched run. The
node is still differentiable: its gradient rule builds the Jacobian as an
explicit graph (m backward passes) and differentiates that, so third
derivatives through a Hessian are exact; that cost is paid only when asked
for. Basis cotangents go in chunks of :data:`BATCH_ELEMENTS` so memory stays
bounded for large Jacobians.

Measured (one core, best of 5, extended Rosenbrock written with slices):
the full Hessian takes 0.6 ms for n = 32 and 1.3 to 1.8 ms for n = 128,
against 8 to 12 ms and 43 to 49 ms for ``torch.autograd.functional.hessian``
(eager, torch 2.13 CPU, one thread) in the same runs: under 1/13 and 1/24 of
its time (torch's ``vectorize=True``, which uses vmap, takes 0.5 ms). ``hvp``
at n = 128 costs 2.0 times one ``grad`` (0.24 ms against 0.12 ms), its graph
33 nodes against 25, independent of n. The traced graph is not simplified:
that would save a third of its nodes, but the pass costs more than it saves
below n = 500 (measured: 0.5 ms against 1.3 ms at n = 32; 47 ms against
44 ms at n = 512).
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adjoint import autograd
from adjoint.autograd import Value, _on_device_of, enable_grad, gradients
from adjoint.device import array_namespace, host_dtype
from adjoint.graph import Graph
from adjoint.ops import AddScalar, reshape, stack, summation
from adjoint.rewrite import simplify as _simplify_graph
from adjoint.rewrite.active import _active, active_variables  # noqa: F401 (re-exported)
from adjoint.tensor import Tensor, TensorOp, _adjoint_array

#: The context of a call made while grad is already enabled (nothing to switch on).
_RECORDING = contextlib.nullcontext()

#: Jacobian nodes evaluate their basis cotangents in batches of about this many
#: elements per traced node (32 MiB of float64), so memory stays bounded.
BATCH_ELEMENTS = 1 << 22

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "hvp",
    "jacobian",
    "hessian",
    "Jacobian",
]


# --------------------------------------------------------------- validation


def _function(f: Any, name: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{name}: f must be a function of Tensors (a callable), got {f!r} of type "
            f"{type(f).__name__}"
        )


def _is_int(k: Any) -> bool:
    return isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, bool)


def _argnums_type(argnums: Any, name: str) -> None:
    """Refuse an ``argnums`` that is not an int or a tuple (or list) of ints, where it is given.

    A set or a dict would be iterated in an order the caller did not write.
    """
    if type(argnums) is int or _is_int(argnums):
        return
    if not isinstance(argnums, (tuple, list)) or not all(_is_int(k) for k in argnums):
        raise TypeError(
            f"{name}: argnums must be an int or a tuple of ints, got {argnums!r} (bools, "
            "floats, strings, sets and dicts are not argument positions)"
        )


def _flag(value: Any, name: str, what: str, *, none: bool = False) -> Any:
    if value is True or value is False or (none and value is None):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    valid = "True, False or None" if none else "True or False"
    raise TypeError(f"{name}: {what} must be {valid}, got {value!r}")


def _argnums(argnums: Any, n_args: int, name: str) -> tuple[tuple[int, ...], bool]:
    """``argnums`` as non-negative positions, and whether it was a single int."""
    if type(argnums) is int and 0 <= argnums < n_args:  # the common case: grad(f)(x)
        return (argnums,), True
    _argnums_type(argnums, name)
    single = _is_int(argnums)
    items = (argnums,) if single else tuple(argnums)
    if not items:
        raise ValueError(f"{name}: argnums is empty; give at least one argument position")
    result = []
    for k in items:
        if not -n_args <= k < n_args:
            valid = f"0..{n_args - 1} (or -{n_args}..-1)" if n_args else "none"
            raise IndexError(
                f"{name}: argnums {int(k)} is out of range for a function called with "
                f"{n_args} argument(s); valid argnums: {valid}"
            )
        result.append(int(k) % n_args)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: argnums {argnums!r} names an argument twice")
    return tuple(result), single


def _variable(x: Any, name: str, position: int) -> Tensor:
    """The node a derivative is taken with respect to (see the module docstring)."""
    if isinstance(x, Tensor):
        if x.requires_grad:
            return Tensor.make_from_op(AddScalar(0), (x,))
        return Tensor.make_const(x.realize_cached_data(), requires_grad=True)
    if isinstance(x, Value):
        raise TypeError(f"{name}: argument {position} is a {type(x).__name__}; give a Tensor")
    try:
        return Tensor(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name}: cannot differentiate with respect to argument {position} of type "
            f"{type(x).__name__} ({error}); give a Tensor, a NumPy array or a number"
        ) from None


def _output(out: Any, name: str, *, scalar: bool, hint: str = "") -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{name} needs a function that returns a Tensor, got {type(out).__name__}; "
            "build the output with adjoint ops (wrap constants with ad.Tensor)"
        )
    if scalar and out.size != 1:
        raise ValueError(
            f"{name} needs a function with a scalar output, got shape {out.shape}; {hint}"
        )
    return out


def _trace(f: Callable, args: Sequence[Any], positions: tuple[int, ...], name: str):
    """Call ``f`` with the arguments at ``positions`` made variables; (output, variables)."""
    args = list(args)
    variables = []
    for k in positions:
        args[k] = _variable(args[k], name, k)
        variables.append(args[k])
    stack = _active.variables
    depth = len(stack)
    stack.extend(variables)
    try:
        return f(*args), variables
    finally:
        del stack[depth:]


def _finish(results: Any, recording: bool) -> Any:
    """Results as they are, or cut from the graph when the caller is under ``no_grad``."""
    if recording:
        return results
    if isinstance(results, tuple):
        return tuple(_finish(r, False) for r in results)
    return results.detach() if isinstance(results, Tensor) else results


def _cotangent(value: Any, like: Tensor, name: str, what: str) -> Tensor:
    if isinstance(value, Tensor):
        t = value
    else:
        t = Tensor.make_const(
            _on_device_of(like, _adjoint_array(value, like.dtype, f"{name}: {what}"))
        )
    if t.shape != like.shape:
        raise ValueError(f"{name}: {what} has shape {t.shape} but must have shape {like.shape}")
    return t


def _inner(gs: Sequence[Tensor], vs: Sequence[Tensor]) -> Tensor:
    """sum_k <g_k, v_k> as one scalar graph node."""
    total = None
    for g, v in zip(gs, vs):
        term = summation(g * v)
        total = term if total is None else total + term
    return total


# ---------------------------------------------------------------- gradients


def value_and_grad(
    f: Callable[..., Tensor], argnums: int | tuple[int, ...] = 0
) -> Callable[..., tuple[Tensor, Any]]:
    """``f`` and its gradient together: ``value_and_grad(f)(x) -> (f(x), grad f(x))``.

    Same rules as :func:`grad`; the value is the output node itself.

    >>> import adjoint as ad
    >>> v, g = ad.value_and_grad(lambda x: (x * x).sum())([1.0, 2.0])
    >>> float(v), g.numpy().tolist()
    (5.0, [2.0, 4.0])
    """

    _function(f, "value_and_grad")
    _argnums_type(argnums, "value_and_grad")

    def value_and_grad_f(*args: Any) -> tuple[Tensor, Any]:
        return _value_and_grad(f, args, argnums, "value_and_grad")

    return value_and_grad_f


def _value_and_grad(f, args, argnums, name, simplify=None):
    positions, single = _argnums(argnums, len(args), name)
    recording = autograd.is_grad_enabled()
    with _RECORDING if recording else enable_grad():
        out, variables = _trace(f, args, positions, name)
        out = _output(out, name, scalar=True, hint="use jacobian or vjp")
        grads = tuple(gradients(out, variables))
        if simplify is None:
            simplify = any(autograd.derivative_order(g) >= 3 for g in grads)
        if simplify:
            grads = _simplify_graph(*grads, keep=variables).outputs
    return _finish((out, grads[0] if single else grads), recording)


def grad(
    f: Callable[..., Tensor], argnums: int | tuple[int, ...] = 0, *, simplify: bool | None = None
) -> Callable[..., Any]:
    """The gradient of a scalar function: ``grad(f)(x)`` has ``x``'s shape.

    ``argnums`` picks the argument(s) to differentiate (an int gives one
    Tensor, a tuple gives a tuple). The result is a graph node, so gradients
    nest to any order, and an argument ``f`` does not depend on gets zeros.

    ``simplify``: run :func:`adjoint.rewrite.simplify` on the gradient graph
    (keeping the variables). The default (None) does so exactly when the
    gradient is of third or higher order (``f`` returns second-order gradient
    nodes): first and second derivatives stay the graphs reverse mode builds,
    whose size is linear in ``f``'s (simplifying a second derivative costs 1.9
    to 2.3 times the derivative itself for 1.3 to 2.8 times fewer nodes), while
    higher ones stop growing geometrically (the 8th derivative of tanh: 16
    nodes instead of 1,421, built 2.8x faster; see ``benchmarks/README.md``).
    ``simplify=True`` simplifies at any order, ``simplify=False`` shows the raw
    growth. Inside :func:`adjoint.rewrite.verify_rewrites` (or with
    ``ADJOINT_VERIFY_SIMPLIFY=1``) every rewrite of that pass is checked, and
    one that would change a value or a dependence raises ``ad.RewriteError``.

    >>> import adjoint as ad
    >>> f = lambda x: ad.sin(x) * x
    >>> round(float(ad.grad(f)(0.5)), 6)            # sin x + x cos x
    0.918217
    >>> round(float(ad.grad(ad.grad(f))(0.5)), 6)   # 2 cos x - x sin x
    1.515452
    """

    _function(f, "grad")
    _argnums_type(argnums, "grad")
    simplify = _flag(simplify, "grad", "simplify", none=True)

    def grad_f(*args: Any) -> Any:
        return _value_and_grad(f, args, argnums, "grad", simplify)[1]

    return grad_f


def vjp(f: Callable[..., Tensor], *primals: Any) -> tuple[Tensor, Callable[[Any], tuple]]:
    """The output of ``f`` and its vector-Jacobian product (pullback).

    ``vjp(f, x, y) -> (out, vjp_fn)``; ``vjp_fn(u)`` returns ``(J_x^T u,
    J_y^T u)``, a tuple with one Tensor per primal, for a cotangent ``u`` of
    ``out``'s shape. ``vjp_fn`` may be called many times; each call is one
    reverse walk over the same forward graph. A Tensor cotangent that requires
    grad is differentiated through (``vjp_fn`` is linear in it).

    >>> import adjoint as ad
    >>> out, pullback = ad.vjp(lambda x: x * x, [1.0, 3.0])
    >>> pullback([1.0, 1.0])[0].numpy().tolist()
    [2.0, 6.0]
    """
    _function(f, "vjp")
    if not primals:
        raise ValueError("vjp: give at least one primal argument: vjp(f, x)")
    recording = autograd.is_grad_enabled()
    with enable_grad():
        out, variables = _trace(f, primals, tuple(range(len(primals))), "vjp")
        out = _output(out, "vjp", scalar=False)

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        with enable_grad():
            u = _cotangent(cotangent, out, "vjp", "the cotangent")
            return _finish(tuple(gradients(out, variables, u)), recording)

    return _finish(out, recording), vjp_fn


def _as_args(primals: Any, name: str, what: str) -> tuple[tuple, bool]:
    """``primals`` as a tuple of arguments, and whether a single argument was given."""
    if isinstance(primals, tuple):
        return primals, False
    if isinstance(primals, list) and any(isinstance(p, (Tensor, np.ndarray)) for p in primals):
        return tuple(primals), False
    return (primals,), True


def _per_primal(values: Any, single: bool, n_args: int, name: str, what: str) -> tuple:
    """``values`` as one entry per primal (tangents for jvp, vectors for hvp)."""
    if single:
        values = (values,)
    else:
        values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    if len(values) != n_args:
        raise ValueError(
            f"{name}: got {n_args} primal(s) but {len(values)} {what}(s); give one {what} "
            "per primal, of the primal's shape"
        )
    return values


def jvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Tensor, Tensor]:
    """The output of ``f`` and its Jacobian-vector product ``J t``, with no forward rules.

    ``jvp(f, (x, y), (tx, ty)) -> (out, J_x tx + J_y ty)``; a single primal
    may be given without the tuple: ``jvp(f, x, t)``. A tuple is always a
    tuple of primals; a list is one too if it holds Tensors or arrays, else
    (a list of numbers) it is one array primal.

    adjoint has only reverse-mode rules. The "double-VJP" trick gets forward
    mode from them: the pullback ``u -> J^T u`` is linear in the cotangent
    ``u``, so ``<J^T u, t>`` is a linear function of ``u`` whose gradient with
    respect to ``u`` is ``J t``. We build the pullback graph once on a
    placeholder ``u`` (zeros; its value never matters, since the result does
    not depend on it), take ``<J^T u, t>``, and run one more reverse walk with
    respect to ``u``. Cost: two reverse passes, all in graph nodes, so the
    result can be differentiated again.

    >>> import adjoint as ad
    >>> out, tangent = ad.jvp(lambda x: x ** 3, 2.0, 1.0)
    >>> float(out), float(tangent)
    (8.0, 12.0)
    """
    _function(f, "jvp")
    args, single = _as_args(primals, "jvp", "primals")
    if not args:
        raise ValueError("jvp: give at least one primal argument: jvp(f, (x,), (t,))")
    tans = _per_primal(tangents, single, len(args), "jvp", "tangent")
    recording = autograd.is_grad_enabled()
    with enable_grad():
        out, variables = _trace(f, args, tuple(range(len(args))), "jvp")
        out = _output(out, "jvp", scalar=False)
        ts = [
            _cotangent(t, x, "jvp", f"tangent {k}") for k, (t, x) in enumerate(zip(tans, variables))
        ]
        u = Tensor.make_const(out.device.zeros(out.shape, out.dtype), requires_grad=True)
        pulled = gradients(out, variables, u)
        (tangent_out,) = gradients(_inner(pulled, ts), [u])
    return _finish((out, tangent_out), recording)


def hvp(f: Callable[..., Tensor], primals: Any, v: Any) -> Any:
    """The Hessian of a scalar ``f`` times ``v``, without forming the Hessian.

    ``hvp(f, x, v) -> H v`` (one Tensor of ``x``'s shape); with several
    primals, ``hvp(f, (x, y), (vx, vy))`` returns a tuple, the blocks of the
    full Hessian times the stacked ``v``. It is the gradient of ``<grad f, v>``:
    one reverse pass for the gradient and one over that gradient graph, a small
    constant times the cost of one gradient, whatever the size of ``x``.

    >>> import adjoint as ad
    >>> ad.hvp(lambda x: (x ** 3).sum(), [1.0, 2.0], [1.0, 1.0]).numpy().tolist()
    [6.0, 12.0]
    """
    _function(f, "hvp")
    args, single = _as_args(primals, "hvp", "primals")
    if not args:
        raise ValueError("hvp: give at least one primal argument: hvp(f, (x,), (v,))")
    vs = _per_primal(v, single, len(args), "hvp", "vector")
    recording = autograd.is_grad_enabled()
    with enable_grad():
        out, variables = _trace(f, args, tuple(range(len(args))), "hvp")
        out = _output(out, "hvp", scalar=True, hint="hvp is for scalar functions; use jvp")
        vs = [_cotangent(t, x, "hvp", f"v {k}") for k, (t, x) in enumerate(zip(vs, variables))]
        result = tuple(gradients(_inner(gradients(out, variables), vs), variables))
    return _finish(result[0] if single else result, recording)


# ---------------------------------------------------------------- jacobians


class Jacobian(TensorOp):
    """The Jacobian of a traced function as one node: fast to evaluate, exact to differentiate.

    Made by :func:`jacobian`. Its inputs are the Tensor arguments of the call;
    its output has shape ``output shape + shape of argument argnum``.
    ``compute`` evaluates a traced vector-Jacobian product graph on all basis
    cotangents at once (a batch along a leading axis), and it runs again on new
    input values (``Graph.run`` re-evaluates it like any op). ``gradient``
    builds the Jacobian as an explicit graph, one reverse pass per output
    element, and returns its vector-Jacobian product: exact derivatives of any
    order, built only when asked for.
    """

    def __init__(self, f: Callable, args: tuple, slots: tuple[int, ...], argnum: int) -> None:
        _function(f, "Jacobian")
        if not isinstance(args, tuple) or not isinstance(slots, tuple):
            raise TypeError(
                "Jacobian: args and slots must be tuples (the call's arguments, and the "
                "positions of its Tensors); ad.jacobian(f)(*args) makes the node for you"
            )
        if not all(
            _is_int(k) and 0 <= k < len(args) and isinstance(args[k], Tensor) for k in slots
        ):
            raise ValueError(
                f"Jacobian: slots {slots!r} must be positions of Tensors among the "
                f"{len(args)} argument(s)"
            )
        if not _is_int(argnum) or argnum not in slots:
            raise ValueError(
                f"Jacobian: argnum {argnum!r} must be one of the Tensor positions {slots!r}"
            )
        self.argnum = argnum
        self._f = f
        self._args = args
        self._slots = slots
        self._build_trace()

    def _build_trace(self) -> None:
        with enable_grad(), autograd.lazy_mode(False):
            args = list(self._args)
            self._leaves = []
            for k in self._slots:
                leaf = Tensor.make_const(args[k].realize_cached_data(), requires_grad=True)
                args[k] = leaf
                self._leaves.append(leaf)
            x = self._leaves[self._slots.index(self.argnum)]
            out = _output(self._f(*args), "jacobian", scalar=False)
            seed = out.device.zeros(out.shape, out.dtype)  # on the output's device
            self._u = Tensor.make_const(seed, requires_grad=True)
            (self._pulled,) = gradients(out, [x], self._u)
            traced = autograd.find_topo_sort([self._pulled])
            self._in_graph = {id(node) for node in traced}
            self._graph = Graph(self._pulled)  # walked once, replayed at every compute
            largest = max(int(np.prod(node.shape, dtype=np.int64)) for node in traced)
            self._chunk = max(1, BATCH_ELEMENTS // max(1, largest))
            self._out_shape = out.shape
            self._in_shape = x.shape
            self._dtype = np.result_type(out.dtype, x.dtype)

    def compute(self, *arrays: np.ndarray) -> np.ndarray:
        m = int(np.prod(self._out_shape, dtype=np.int64))
        feed = {leaf: a for leaf, a in zip(self._leaves, arrays) if id(leaf) in self._in_graph}
        if type(arrays[0]) is not np.ndarray and not isinstance(arrays[0], np.generic):
            return self._compute_on_device(array_namespace(*arrays), m, feed)
        result = np.empty((m,) + self._in_shape, dtype=self._dtype)
        for start, stop, rows in self._row_chunks(m, feed):
            result[start:stop] = np.broadcast_to(rows, (stop - start,) + self._in_shape)
        return result.reshape(self._out_shape + self._in_shape)

    def _row_chunks(self, m: int, feed: dict) -> Any:
        """The replay on each chunk of basis cotangents: ``(start, stop, rows)``."""
        for start in range(0, m, self._chunk):
            stop = min(m, start + self._chunk)
            if id(self._u) in self._in_graph:
                basis = np.zeros((stop - start, m), dtype=self._u.dtype)
                basis[np.arange(stop - start), np.arange(start, stop)] = 1
                feed[self._u] = basis.reshape((stop - start,) + self._out_shape)
            (rows,) = self._graph.run(feed)
            yield start, stop, rows

    def _compute_on_device(self, xp: Any, m: int, feed: dict) -> Any:
        """``compute`` on another device: the same replay (the basis fed from the host,
        Graph.run copies it to the seed's device), the rows joined there."""
        parts = [
            xp.broadcast_to(rows, (stop - start,) + self._in_shape)
            for start, stop, rows in self._row_chunks(m, feed)
        ]
        dtype = getattr(xp, np.dtype(self._dtype).name)  # the namespace's own dtype object
        if not parts:
            return xp.zeros(self._out_shape + self._in_shape, dtype=dtype)
        result = xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        if host_dtype(result.dtype) != self._dtype:
            result = xp.astype(result, dtype)
        return xp.reshape(result, self._out_shape + self._in_shape)

    def source(self, args: tuple[str, ...], const: Callable[[Any], str]) -> str:
        """One call of a :class:`_JacobianKernel` (the Jacobian on the backend's namespace)."""
        return f"{const(_JacobianKernel(self))}(xp, {', '.join(args)})"

    def gradient(self, out_grad: Tensor, node: Tensor) -> tuple[Tensor, ...]:
        args = list(self._args)
        for k, x in zip(self._slots, node.inputs):
            args[k] = x
        explicit = _jacobian_graph(self._f, args, self.argnum)
        return tuple(gradients(_inner([explicit], [out_grad]), list(node.inputs)))

    def infer_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return self._out_shape + self._in_shape

    def infer_dtype(self, *dtypes: np.dtype) -> np.dtype:
        return self._dtype


class _JacobianKernel:
    """A :class:`Jacobian` in compiled code: ``kernel(xp, *arrays)`` on the namespace ``xp``.

    On NumPy it is the op's ``compute`` (the batched replay of the traced
    vector-Jacobian product), so compiled equals eager to the bit. On JAX the
    traced product is compiled like any graph and mapped over the basis
    cotangents with ``jax.lax.map`` (``jax.vmap`` in chunks of the op's batch
    size), so XLA compiles the whole Jacobian instead of calling back to the host.
    """

    def __init__(self, op: Jacobian) -> None:
        self.op = op
        self._jax: Callable | None = None

    def __call__(self, xp: Any, *arrays: Any) -> Any:
        if xp is np:
            return self.op.compute(*arrays)
        if self._jax is None:
            self._jax = self._on_jax()
        return self._jax(*arrays)

    def _on_jax(self) -> Callable:
        from adjoint.compiler.compiled import CompiledGraph, _jax

        op = self.op
        jax = _jax()
        used = [k for k, leaf in enumerate(op._leaves) if id(leaf) in op._in_graph]
        seeded = id(op._u) in op._in_graph
        inputs = [op._leaves[k] for k in used] + ([op._u] if seeded else [])
        vjp = CompiledGraph([op._pulled], inputs, backend="jax")._jitted
        m = int(np.prod(op._out_shape, dtype=np.int64))
        rows_shape = (m,) + op._in_shape

        def jacobian(*arrays: Any) -> Any:
            given = [arrays[k] for k in used]
            if seeded:
                basis = jax.numpy.eye(m, dtype=op._u.dtype).reshape((m,) + op._out_shape)
                if op._chunk >= m:
                    rows = jax.vmap(lambda u: vjp(*given, u)[0])(basis)
                else:
                    rows = jax.lax.map(lambda u: vjp(*given, u)[0], basis, batch_size=op._chunk)
            else:  # the product does not depend on the cotangent
                rows = vjp(*given)[0]
            rows = jax.numpy.broadcast_to(rows, rows_shape).astype(op._dtype)
            return rows.reshape(op._out_shape + op._in_shape)

        return jacobian

    def __repr__(self) -> str:
        name = getattr(self.op._f, "__name__", "f")
        return f"Jacobian of {name} (argument {self.op.argnum})"


def _jacobian_graph(f: Callable, args: list, argnum: int) -> Tensor:
    """The Jacobian as an explicit graph: one reverse pass per output element, stacked."""
    out, (x,) = _trace(f, args, (argnum,), "jacobian")
    out = _output(out, "jacobian", scalar=False)
    m = out.size
    rows = []
    for i in range(m):
        e = np.zeros(m, dtype=out.dtype)
        e[i] = 1.0
        seed = Tensor.make_const(out.device.from_numpy(e.reshape(out.shape)))
        (row,) = gradients(out, [x], seed)
        rows.append(row)
    return reshape(stack(rows), out.shape + x.shape)


def jacobian(f: Callable[..., Tensor], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Jacobian: ``jacobian(f)(x)`` has shape ``f(x).shape + x.shape``.

    ``argnums`` as in :func:`grad` (a tuple gives a tuple of Jacobians). The
    result is one :class:`Jacobian` node: all rows come from one batched
    evaluation of a single traced vector-Jacobian product graph (see the
    module docstring), and it differentiates exactly, to any order.

    >>> import adjoint as ad
    >>> J = ad.jacobian(lambda x: x * x)([1.0, 2.0])
    >>> J.numpy().tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    _function(f, "jacobian")
    _argnums_type(argnums, "jacobian")

    def jacobian_f(*args: Any) -> Any:
        return _jacobian(f, args, argnums, "jacobian")

    return jacobian_f


def _jacobian(f, args, argnums, name):
    positions, single = _argnums(argnums, len(args), name)
    recording = autograd.is_grad_enabled()
    with enable_grad():
        args = list(args)
        for k in positions:
            if not isinstance(args[k], Tensor):
                args[k] = _variable(args[k], name, k)
        slots = tuple(k for k, a in enumerate(args) if isinstance(a, Tensor))
        inputs = [args[k] for k in slots]
        results = tuple(Jacobian(f, tuple(args), slots, k)(*inputs) for k in positions)
    return _finish(results[0] if single else results, recording)


def hessian(f: Callable[..., Tensor], argnums: int = 0) -> Callable[..., Tensor]:
    """The Hessian of a scalar function: ``hessian(f)(x)`` has shape ``x.shape + x.shape``.

    ``jacobian(grad(f))``: the gradient graph and its Hessian-vector product
    graph are built once, and all rows come from one batched evaluation (see
    the module docstring). The result is a node that differentiates exactly.

    >>> import adjoint as ad
    >>> H = ad.hessian(lambda x: (x ** 3).sum() * x.sum())([1.0, 3.0])
    >>> H.numpy().tolist()
    [[30.0, 30.0], [30.0, 126.0]]
    """
    _function(f, "hessian")
    if not _is_int(argnums):
        raise TypeError(
            f"hessian: argnums must be one int, got {argnums!r}; for blocks of several "
            "arguments use jacobian(grad(f, argnums), argnums)"
        )

    def scalar_grad(*args: Any) -> Tensor:
        return _value_and_grad(f, args, argnums, "hessian")[1]

    def hessian_f(*args: Any) -> Tensor:
        return _jacobian(scalar_grad, args, argnums, "hessian")

    return hessian_f
