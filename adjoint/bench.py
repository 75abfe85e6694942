"""``python -m adjoint bench``: adjoint side by side with hand-written NumPy and its peers.

Six workloads (W1 to W6, see :data:`WORKLOADS`) are each run by every
available framework: hand-written NumPy (the floor: forward and backward
written out by hand), adjoint, and, when installed, PyTorch (eager), HIPS
autograd and JAX (eager, no ``jit``). Peers are optional (the ``bench``
extra lists them) and skipped with a note when absent.

How the numbers are taken, and why:

* Correctness first: every framework's result is compared with a NumPy (or
  sympy) reference before it is timed; a framework that disagrees is
  reported as ``WRONG`` and not timed, and the command exits with 1.
* One process, frameworks interleaved: repetition r times A, B, C, then
  repetition r + 1 times A, B, C again, so that a slow spell of a shared
  machine hits all of them alike. Only **ratios** measured in one run are
  meant to be compared; absolute times move from run to run.
* Warm-up excluded: each framework runs once untimed, which also sets how
  many calls make one sample (at least ``--min-time`` seconds a sample).
  ``gc.collect()`` runs between samples, outside the timed region.
* Median, min and max of ``--reps`` samples (at least 7 by default), and the
  median count of minor page faults per call (where the OS reports them):
  memory the allocator had given back to the OS and must take again. Large
  arrays make them; how many a framework takes depends on what ran before it
  (glibc's malloc trims and regrows its heap), and a few hundred can cost a
  large-array workload such as W2 a tenth of its time or more, so this column
  shows where a ratio moved for that reason.
* BLAS pinned to one thread (``--threads 1``, the default): the thread
  variables only act when set before NumPy is imported, and importing
  ``adjoint`` imports NumPy, so unless they are already set the command
  re-runs itself as ``python -m adjoint.bench`` in a child process with them
  set. PyTorch gets ``torch.set_num_threads``. ``--threads 0`` leaves
  everything as it is.

>>> from adjoint.bench import main
>>> main(["--quick", "--only", "W1", "--reps", "1", "--threads", "0"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    import resource
except ImportError:  # Windows: no page-fault counts
    resource = None  # type: ignore[assignment]

import adjoint as ad
from adjoint import autograd

__all__ = ["main", "add_parser", "WORKLOADS"]

#: The environment variables that size the BLAS / OpenMP thread pools.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

#: What each workload measures (the issue's definitions).
WORKLOADS = {
    "W1": "overhead: a chain of 1,000 elementwise ops (mul, tanh, mul, add) on float64[8], "
    "forward and backward; us per op",
    "W2": "MLP: batch 128, 784 -> 256 -> 10, relu, mean squared error, forward and backward "
    "to all weights, float64 and float32",
    "W3": "full Hessian of the extended Rosenbrock function, n = 32 and 128",
    "W4": "d^n/dx^n tanh(x) at 0.5 by nesting grad, n = 1..8; time and graph nodes",
    "W5": "deep chain: 100,000 sequential scalar ops (sin, *1.0001), forward and backward",
    "W6": "lazy mode against eager on W1 and W2 (float64)",
}

FLOOR = "numpy"


# ------------------------------------------------------------------ frameworks


@dataclass
class Peers:
    """The optional peers that imported, and why the others did not."""

    torch: Any = None
    hips: Any = None  # (autograd, autograd.numpy)
    jax: Any = None  # (jax, jax.numpy)
    missing: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


def _load_peers(threads: int) -> Peers:
    peers = Peers()
    try:
        import torch

        if threads > 0:
            torch.set_num_threads(threads)
        peers.torch = torch
        peers.versions["torch"] = torch.__version__
    except ImportError as error:
        peers.missing["torch"] = f"not installed ({error})"
    try:
        import autograd as hips
        import autograd.numpy as hnp

        peers.hips = (hips, hnp)
        try:
            from importlib.metadata import version

            peers.versions["autograd (HIPS)"] = version("autograd")
        except Exception:  # noqa: BLE001 - a version string is only informative
            peers.versions["autograd (HIPS)"] = "?"
    except ImportError as error:
        peers.missing["autograd (HIPS)"] = f"not installed ({error})"
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        peers.jax = (jax, jnp)
        peers.versions["jax"] = jax.__version__
    except ImportError as error:
        peers.missing["jax"] = f"not installed ({error})"
    return peers


# ------------------------------------------------------------------- the cases


@dataclass
class Case:
    """One measured problem: a reference result and one runner per framework.

    ``runners`` maps a framework name to a setup function that returns the
    timed callable; the callable returns NumPy arrays (a list) that are
    compared with ``reference`` before timing.
    """

    workload: str
    name: str
    reference: Callable[[], list[np.ndarray]]
    runners: dict[str, Callable[[], Callable[[], list[np.ndarray]]]]
    rtol: float = 1e-9
    atol: float = 0.0
    ops: int | None = None
    baseline: str = FLOOR
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _numpy_like(peers: Peers) -> list[tuple[str, Any, Any]]:
    """The peers that differentiate NumPy-style code: (label, library, NumPy-like module).

    HIPS autograd and JAX both offer ``grad``/``hessian`` over functions written
    with their NumPy module, so each workload is written once for both.
    """
    found = []
    if peers.hips is not None:
        found.append(("autograd (HIPS)", *peers.hips))
    if peers.jax is not None:
        found.append(("jax (eager)", *peers.jax))
    return found


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _tanh_name() -> str:
    return "tanh" if hasattr(ad, "tanh") else "sin"


# W1 ---------------------------------------------------------------------------


def _w1_case(peers: Peers, *, lazy_pair: bool = False, steps: int = 250) -> Case:
    rng = _rng(1)
    x0 = rng.uniform(-1, 1, 8)
    c1 = rng.uniform(0.5, 1.0, 8)
    c2 = rng.uniform(0.5, 1.0, 8)
    fname = _tanh_name()

    def reference() -> list[np.ndarray]:
        f = getattr(np, fname)
        df = (lambda v, u: 1 - v * v) if fname == "tanh" else (lambda v, u: np.cos(u))
        us, vs = [], []
        h = x0
        for _ in range(steps):
            u = h * c1
            v = f(u)
            h = v * c2 + x0
            us.append(u)
            vs.append(v)
        g = np.ones_like(x0)
        gx = np.zeros_like(x0)
        for u, v in zip(reversed(us), reversed(vs)):
            gx += g
            g = g * c2 * df(v, u) * c1
        return [gx + g]

    def adjoint_runner(create_graph: bool = True, lazy: bool = False):
        def setup():
            f = getattr(ad, fname)
            a = ad.Tensor(c1, requires_grad=False)
            b = ad.Tensor(c2, requires_grad=False)

            def run():
                with ad.lazy_mode(lazy):
                    x = ad.Tensor(x0)
                    h = x
                    for _ in range(steps):
                        h = f(h * a) * b + x
                    ad.sum(h).backward(create_graph=create_graph)
                    return [x.grad.numpy()]

            return run

        return setup

    if lazy_pair:
        return Case(
            "W6",
            f"W1 lazy: {4 * steps:,} ops (mul, {fname}, mul, add) on float64[8]",
            reference,
            {"adjoint eager": adjoint_runner(), "adjoint lazy": adjoint_runner(lazy=True)},
            ops=4 * steps,
            baseline="adjoint eager",
        )

    runners: dict[str, Any] = {
        FLOOR: lambda: reference,
        "adjoint": adjoint_runner(),
        "adjoint create_graph=False": adjoint_runner(create_graph=False),
    }
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            f = getattr(torch, fname)
            a, b = torch.tensor(c1), torch.tensor(c2)

            def run():
                x = torch.tensor(x0, requires_grad=True)
                h = x
                for _ in range(steps):
                    h = f(h * a) * b + x
                h.sum().backward()
                return [x.grad.numpy()]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in _numpy_like(peers):

        def numpy_like_setup(lib=lib, xnp=xnp):
            f = getattr(xnp, fname)

            def loss(x):
                h = x
                for _ in range(steps):
                    h = f(h * c1) * c2 + x
                return xnp.sum(h)

            g = lib.grad(loss)
            return lambda: [np.asarray(g(x0))]

        runners[label] = numpy_like_setup
    return Case(
        "W1",
        f"W1 overhead: {4 * steps:,} ops (mul, {fname}, mul, add) on float64[8], fwd+bwd",
        reference,
        runners,
        ops=4 * steps,
    )


# W2 ---------------------------------------------------------------------------


def _mlp_data(dtype: Any) -> tuple[np.ndarray, ...]:
    rng = _rng(2)
    x = rng.standard_normal((128, 784))
    y = rng.standard_normal((128, 10))
    w1 = rng.standard_normal((784, 256)) / math.sqrt(784)
    b1 = rng.standard_normal(256) * 0.1
    w2 = rng.standard_normal((256, 10)) / math.sqrt(256)
    b2 = rng.standard_normal(10) * 0.1
    return tuple(a.astype(dtype) for a in (x, y, w1, b1, w2, b2))


def _w2_case(peers: Peers, dtype: Any, *, lazy_pair: bool = False) -> Case:
    x, y, w1, b1, w2, b2 = _mlp_data(dtype)
    n = y.size
    name = np.dtype(dtype).name
    rtol, atol = (1e-9, 1e-12) if name == "float64" else (2e-3, 1e-5)

    def reference() -> list[np.ndarray]:
        z1 = x @ w1 + b1
        h = np.maximum(z1, 0)
        d = h @ w2 + b2 - y
        g_out = d * (2 / n)
        g_w2 = h.T @ g_out
        g_b2 = g_out.sum(axis=0)
        g_z1 = (g_out @ w2.T) * (z1 > 0)
        return [x.T @ g_z1, g_z1.sum(axis=0), g_w2, g_b2]

    def adjoint_runner(create_graph: bool = True, lazy: bool = False):
        def setup():
            params = [ad.Tensor(p) for p in (w1, b1, w2, b2)]
            xt = ad.Tensor(x, requires_grad=False)
            yt = ad.Tensor(y, requires_grad=False)

            def run():
                with ad.lazy_mode(lazy):
                    p_w1, p_b1, p_w2, p_b2 = params
                    for p in params:  # as the PyTorch runner does (and optimizers)
                        p.grad = None
                    d = ad.relu(xt @ p_w1 + p_b1) @ p_w2 + p_b2 - yt
                    loss = ad.sum(d * d) / n
                    loss.backward(create_graph=create_graph)
                    return [p.grad.numpy() for p in params]

            return run

        return setup

    if lazy_pair:
        return Case(
            "W6",
            f"W2 lazy: MLP 784-256-10, batch 128, {name}",
            reference,
            {"adjoint eager": adjoint_runner(), "adjoint lazy": adjoint_runner(lazy=True)},
            rtol=rtol,
            atol=atol,
            baseline="adjoint eager",
        )

    runners: dict[str, Any] = {
        FLOOR: lambda: reference,
        "adjoint": adjoint_runner(),
        "adjoint create_graph=False": adjoint_runner(create_graph=False),
    }
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            params = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
            xt, yt = torch.tensor(x), torch.tensor(y)

            def run():
                p_w1, p_b1, p_w2, p_b2 = params
                for p in params:
                    p.grad = None
                d = torch.relu(xt @ p_w1 + p_b1) @ p_w2 + p_b2 - yt
                loss = (d * d).sum() / n
                loss.backward()
                return [p.grad.numpy() for p in params]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in _numpy_like(peers):

        def numpy_like_setup(lib=lib, xnp=xnp):
            def loss(params):
                p_w1, p_b1, p_w2, p_b2 = params
                d = xnp.dot(xnp.maximum(xnp.dot(x, p_w1) + p_b1, 0), p_w2) + p_b2 - y
                return xnp.sum(d * d) / n

            g = lib.grad(loss)
            params = [xnp.asarray(p) for p in (w1, b1, w2, b2)]
            return lambda: [np.asarray(a) for a in g(params)]

        runners[label] = numpy_like_setup
    return Case(
        "W2",
        f"W2 MLP 784-256-10, batch 128, {name}, fwd+bwd",
        reference,
        runners,
        rtol=rtol,
        atol=atol,
    )


# W3 ---------------------------------------------------------------------------


def _w3_case(peers: Peers, n: int) -> Case:
    x0 = _rng(3).uniform(-1.5, 1.5, n)

    def reference() -> list[np.ndarray]:
        a, b = x0[::2], x0[1::2]
        hess = np.zeros((n, n))
        k = np.arange(0, n, 2)
        hess[k, k] = 1200 * a * a - 400 * b + 2
        hess[k, k + 1] = hess[k + 1, k] = -400 * a
        hess[k + 1, k + 1] = 200
        return [hess]

    def rosenbrock(x, square):
        a, b = x[::2], x[1::2]
        return (100 * square(b - square(a)) + square(1 - a)).sum()

    case = Case("W3", f"W3 Hessian of extended Rosenbrock, n = {n}", reference, {})
    case.runners[FLOOR] = lambda: reference
    hessian = getattr(ad, "hessian", None)
    if hessian is None:
        case.notes.append("adjoint: ad.hessian is not available yet; skipped")
    else:

        def adjoint_setup():
            h = hessian(lambda x: rosenbrock(x, lambda v: v * v))

            def run():
                return [h(ad.Tensor(x0)).numpy()]

            return run

        case.runners["adjoint"] = adjoint_setup
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def f(x):
                return rosenbrock(x, lambda v: v * v)

            def run():
                return [torch.autograd.functional.hessian(f, torch.tensor(x0)).numpy()]

            return run

        case.runners["torch"] = torch_setup
    for label, lib, xnp in _numpy_like(peers):

        def numpy_like_setup(lib=lib, xnp=xnp):
            h = lib.hessian(lambda x: rosenbrock(x, lambda v: v * v))
            return lambda: [np.asarray(h(xnp.asarray(x0)))]

        case.runners[label] = numpy_like_setup
    return case


# W4 ---------------------------------------------------------------------------


def _tanh_derivative(n: int, at: float) -> float:
    import sympy

    s = sympy.Symbol("x")
    return float(sympy.diff(sympy.tanh(s), s, n).subs(s, sympy.Rational(str(at))).evalf(30))


def _nested_grad(grad: Callable, f: Callable, n: int) -> Callable:
    for _ in range(n):
        f = grad(f)
    return f


def _w4_nodes(grad: Callable, n: int, at: float) -> dict[str, Any]:
    """Graph sizes of the n-th derivative: as nested ``backward`` builds it (raw), as
    nested ``ad.grad`` returns it, and after ``adjoint.simplify.simplify`` of the raw one."""
    x = ad.Tensor(at)
    y = ad.tanh(x)
    for _ in range(n):
        y.backward()
        y = x.grad
    counts: dict[str, Any] = {
        "nodes raw": len(ad.find_topo_sort([y])),
        "nodes ad.grad": len(ad.find_topo_sort([_nested_grad(grad, ad.tanh, n)(ad.Tensor(at))])),
    }
    try:
        from adjoint.simplify import simplify

        counts["nodes simplified"] = len(ad.find_topo_sort(list(simplify(y).outputs)))
    except Exception as error:  # noqa: BLE001 - reported, never fatal
        counts["nodes simplified"] = f"unavailable ({type(error).__name__}: {error})"
    return counts


def _w4_case(peers: Peers, n: int) -> Case:
    at = 0.5
    exact = _tanh_derivative(n, at)
    case = Case(
        "W4", f"W4 d^{n}/dx^{n} tanh(x) at 0.5, nested grad", lambda: [np.float64(exact)], {}
    )
    case.rtol, case.atol = 1e-9, 1e-9 * max(1.0, abs(exact))
    case.baseline = "adjoint"
    grad = getattr(ad, "grad", None)
    if grad is None or not hasattr(ad, "tanh"):
        case.notes.append("adjoint: ad.grad or ad.tanh is not available yet; skipped")
    else:

        def adjoint_setup():
            g = _nested_grad(grad, ad.tanh, n)
            return lambda: [g(ad.Tensor(at)).numpy()]

        case.runners["adjoint"] = adjoint_setup

        def backward_setup():
            def run():
                x = ad.Tensor(at)
                y = ad.tanh(x)
                for _ in range(n):
                    y.backward()
                    y = x.grad
                return [y.numpy()]

            return run

        case.runners["adjoint nested backward"] = backward_setup
        case.extra.update(_w4_nodes(grad, n, at))
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def run():
                x = torch.tensor(at, dtype=torch.float64, requires_grad=True)
                y = torch.tanh(x)
                for _ in range(n):
                    (y,) = torch.autograd.grad(y, x, create_graph=True)
                return [y.detach().numpy()]

            return run

        case.runners["torch"] = torch_setup
    for label, lib, xnp in _numpy_like(peers):

        def numpy_like_setup(lib=lib, xnp=xnp):
            g = _nested_grad(lib.grad, xnp.tanh, n)
            return lambda: [np.asarray(g(at))]

        case.runners[label] = numpy_like_setup
    return case


# W5 ---------------------------------------------------------------------------


def _w5_case(peers: Peers, ops: int) -> Case:
    x0 = 0.8
    factor = 1.0001
    pairs = ops // 2

    def reference() -> list[np.ndarray]:
        h = np.float64(x0)
        hs = []
        for _ in range(pairs):
            hs.append(h)
            h = np.sin(h) * factor
        g = np.float64(1.0)
        for h in reversed(hs):
            g = g * factor * np.cos(h)
        return [np.asarray(g)]

    runners: dict[str, Any] = {FLOOR: lambda: reference}

    def adjoint_setup(create_graph: bool = True):
        def setup():
            def run():
                x = ad.Tensor(x0)
                h = x
                for _ in range(pairs):
                    h = ad.sin(h) * factor
                h.backward(create_graph=create_graph)
                return [x.grad.numpy()]

            return run

        return setup

    runners["adjoint"] = adjoint_setup()
    runners["adjoint create_graph=False"] = adjoint_setup(False)
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def run():
                x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
                h = x
                for _ in range(pairs):
                    h = torch.sin(h) * factor
                h.backward()
                return [x.grad.numpy()]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in _numpy_like(peers):

        def numpy_like_setup(lib=lib, xnp=xnp):
            def f(x):
                h = x
                for _ in range(pairs):
                    h = xnp.sin(h) * factor
                return h

            g = lib.grad(f)
            return lambda: [np.asarray(g(x0))]

        runners[label] = numpy_like_setup
    return Case(
        "W5",
        f"W5 deep chain: {2 * pairs:,} scalar ops (sin, *{factor}), fwd+bwd",
        reference,
        runners,
        rtol=1e-8,
        ops=2 * pairs,
    )


def _cases(peers: Peers, only: set[str], quick: bool) -> list[Case]:
    cases: list[Case] = []
    if "W1" in only:
        cases.append(_w1_case(peers))
    if "W2" in only:
        cases.append(_w2_case(peers, np.float64))
        cases.append(_w2_case(peers, np.float32))
    if "W3" in only:
        for n in (32,) if quick else (32, 128):
            cases.append(_w3_case(peers, n))
    if "W4" in only:
        for n in range(1, 5 if quick else 9):
            cases.append(_w4_case(peers, n))
    if "W5" in only:
        cases.append(_w5_case(peers, 10_000 if quick else 100_000))
    if "W6" in only:
        cases.append(_w1_case(peers, lazy_pair=True))
        cases.append(_w2_case(peers, np.float64, lazy_pair=True))
    return cases


# ------------------------------------------------------------------ measuring


@dataclass
class Timing:
    """The samples of one framework on one case (seconds per call)."""

    status: str = "ok"  # ok | WRONG | error | skipped
    message: str = ""
    number: int = 1
    samples: list[float] = field(default_factory=list)
    faults: list[float] = field(default_factory=list)  # minor page faults per call

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def median_faults(self) -> float:
        return statistics.median(self.faults) if self.faults else math.nan


def _minor_faults() -> int | None:
    """The minor page faults of this process so far (None where the OS does not count)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else None


def _agrees(got: list[Any], want: list[np.ndarray], rtol: float, atol: float) -> str:
    """'' if ``got`` matches ``want`` element by element, else what differs."""
    if len(got) != len(want):
        return f"{len(got)} results, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        if g.shape != w.shape:
            return f"result {k}: shape {g.shape}, expected {w.shape}"
        scale = atol * max(1.0, float(np.max(np.abs(w)))) if w.size else atol
        if not np.allclose(g, w, rtol=rtol, atol=scale):
            err = float(np.max(np.abs(g - w)))
            return f"result {k}: max abs error {err:.3g} (rtol {rtol:g})"
    return ""


@contextlib.contextmanager
def _quiet_errors() -> Iterator[None]:
    with np.errstate(all="ignore"):
        yield


def _measure(case: Case, reps: int, min_time: float, log: Callable[[str], None]) -> dict:
    """Check every framework against the reference, then time them interleaved."""
    want = case.reference()
    timings: dict[str, Timing] = {}
    runs: dict[str, Callable[[], list[np.ndarray]]] = {}
    for name, setup in case.runners.items():
        timing = timings[name] = Timing()
        try:
            with _quiet_errors():
                run = setup()
                start = time.perf_counter()
                got = run()  # the warm-up call, also the correctness check
                elapsed = time.perf_counter() - start
        except Exception as error:  # noqa: BLE001 - one framework failing must not stop the rest
            timing.status, timing.message = "error", f"{type(error).__name__}: {error}"[:300]
            continue
        problem = _agrees(got, want, case.rtol, case.atol)
        if problem:
            timing.status, timing.message = "WRONG", problem
            continue
        timing.number = max(1, math.ceil(min_time / max(elapsed, 1e-9)))
        runs[name] = run
    # Everything alive now (imports of every peer, the setups) is frozen out of
    # the cyclic GC, so its collections cost what the run itself allocates,
    # as in a process that imported one framework.
    gc.collect()
    gc.freeze()
    for _ in range(reps):
        for name, run in runs.items():
            timing = timings[name]
            gc.collect()
            faults = _minor_faults()
            with _quiet_errors():
                start = time.perf_counter()
                for _ in range(timing.number):
                    run()
                timing.samples.append((time.perf_counter() - start) / timing.number)
            if faults is not None:
                timing.faults.append((_minor_faults() - faults) / timing.number)
    gc.unfreeze()
    gc.collect()
    log(_format_case(case, timings))
    return _case_record(case, timings)


# ------------------------------------------------------------------ reporting


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _ratio(a: float, b: float) -> float:
    return a / b if b and math.isfinite(a) and math.isfinite(b) else math.nan


def _format_case(case: Case, timings: dict[str, Timing]) -> str:
    base = timings.get(case.baseline)
    base_median = base.median if base is not None and base.status == "ok" else math.nan
    lines = [case.name]
    header = f"  {'framework':<28}{'median':>11}{'min':>11}{'max':>11}{'x ' + case.baseline:>17}"
    if case.ops:
        header += f"{'us/op':>9}"
    header += f"{'faults':>8}"
    lines.append(header)
    for name, timing in timings.items():
        if timing.status != "ok":
            lines.append(f"  {name:<28}{timing.status}: {timing.message}")
            continue
        row = (
            f"  {name:<28}{_fmt_time(timing.median):>11}{_fmt_time(min(timing.samples)):>11}"
            f"{_fmt_time(max(timing.samples)):>11}{_ratio(timing.median, base_median):>16.2f}x"
        )
        if case.ops:
            row += f"{timing.median / case.ops * 1e6:>9.2f}"
        faults = timing.median_faults
        row += f"{faults:>8.0f}" if math.isfinite(faults) else f"{'-':>8}"
        lines.append(row)
    for key, value in case.extra.items():
        lines.append(f"  {key}: {value}")
    for note in case.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"


def _case_record(case: Case, timings: dict[str, Timing]) -> dict:
    frameworks = {}
    base = timings.get(case.baseline)
    base_median = base.median if base is not None and base.status == "ok" else math.nan
    for name, timing in timings.items():
        record: dict[str, Any] = {"status": timing.status}
        if timing.message:
            record["message"] = timing.message
        if timing.status == "ok":
            record.update(
                median_s=timing.median,
                min_s=min(timing.samples) if timing.samples else None,
                max_s=max(timing.samples) if timing.samples else None,
                samples=len(timing.samples),
                calls_per_sample=timing.number,
                ratio_to_baseline=_nan_to_none(_ratio(timing.median, base_median)),
                minor_faults_per_call=_nan_to_none(timing.median_faults),
            )
            if case.ops:
                record["us_per_op"] = timing.median / case.ops * 1e6
        frameworks[name] = record
    return {
        "workload": case.workload,
        "case": case.name,
        "baseline": case.baseline,
        "ops": case.ops,
        "frameworks": frameworks,
        "extra": case.extra,
        "notes": case.notes,
    }


def _nan_to_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _median(records: list[dict], prefix: str, framework: str) -> float:
    for record in records:
        if record["case"].startswith(prefix):
            result = record["frameworks"].get(framework, {})
            if result.get("status") == "ok" and result.get("samples"):
                return result["median_s"]
    return math.nan


#: The issue's targets: (label, case name prefix, framework, compared with, at most).
TARGETS = [
    ("W1 us/op <= torch's", "W1 overhead", "adjoint", "torch", 1.0),
    ("W1 us/op <= torch's", "W1 overhead", "adjoint create_graph=False", "torch", 1.0),
    ("W2 float64 <= 1.10x numpy", "W2 MLP 784-256-10, batch 128, float64", "adjoint", FLOOR, 1.10),
    (
        "W3 n=128 <= 1/3 torch's",
        "W3 Hessian of extended Rosenbrock, n = 128",
        "adjoint",
        "torch",
        1 / 3,
    ),
    ("W4 n=6 time <= torch's", "W4 d^6/", "adjoint", "torch", 1.0),
    ("W4 n=6 time <= torch's", "W4 d^6/", "adjoint nested backward", "torch", 1.0),
    ("W5 time <= torch's", "W5 deep", "adjoint", "torch", 1.0),
    ("W5 time <= torch's", "W5 deep", "adjoint create_graph=False", "torch", 1.0),
    ("W6 W1 lazy <= 1.10x eager", "W1 lazy", "adjoint lazy", "adjoint eager", 1.10),
    ("W6 W2 lazy <= 1.10x eager", "W2 lazy", "adjoint lazy", "adjoint eager", 1.10),
]


def _targets(records: list[dict]) -> list[dict]:
    """The issue's targets, judged on this run's ratios (and W4's graph sizes)."""
    rows = []

    def add(target: str, value: float, limit: float, what: str) -> None:
        met = None if not math.isfinite(value) else bool(value <= limit)
        rows.append(
            {
                "target": target,
                "value": _nan_to_none(value),
                "limit": limit,
                "met": met,
                "measure": what,
            }
        )

    for label, prefix, framework, other, limit in TARGETS:
        ratio = _ratio(_median(records, prefix, framework), _median(records, prefix, other))
        add(label, ratio, limit, f"{framework} / {other}")
    for n, limit in ((6, 60), (8, 150)):
        for key in ("nodes simplified", "nodes ad.grad"):
            nodes = math.nan
            for record in records:
                if record["case"].startswith(f"W4 d^{n}/"):
                    found = record["extra"].get(key)
                    nodes = found if isinstance(found, int) else math.nan
            add(f"W4 n={n} graph <= {limit} nodes", nodes, limit, key)
    return rows


def _format_targets(rows: list[dict]) -> str:
    lines = ["targets (ratios from this run)"]
    for row in rows:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[row["met"]]
        value = "-" if row["value"] is None else f"{row['value']:.3g}"
        lines.append(f"  {row['target']:<28}{row['measure']:>42} = {value:<7} {verdict}")
    return "\n".join(lines) + "\n"


def _machine(threads: int, peers: Peers) -> dict:
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "adjoint": ad.__version__,
    }
    versions.update(peers.versions)
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "blas_threads": threads if threads > 0 else "not pinned",
        "recursion_limit": sys.getrecursionlimit(),
        "versions": versions,
        "peers_missing": peers.missing,
    }


# ----------------------------------------------------------------------- CLI


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="smaller problems (W3 n=32, W4 n<=4, W5 10,000 ops)"
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="W1,W3",
        help="comma-separated workloads to run (default: all of W1..W6)",
    )
    parser.add_argument("--json", metavar="OUT.json", help="also write the results as JSON")
    parser.add_argument(
        "--reps", type=int, default=None, help="timed samples per framework (default 7 quick, 9)"
    )
    parser.add_argument(
        "--min-time",
        type=float,
        default=None,
        help="seconds of calls per sample (default 0.02 quick, 0.05)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS/OpenMP/torch threads (default 1; 0 leaves them as they are)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench`` on the ``python -m adjoint`` parser."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark adjoint against hand-written NumPy, PyTorch, HIPS autograd, JAX",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    _add_arguments(parser)
    parser.set_defaults(run=lambda args: main(_argv_of(args)))
    return parser


def _argv_of(args: argparse.Namespace) -> list[str]:
    argv = ["--only", args.only, "--threads", str(args.threads)]
    if args.quick:
        argv.append("--quick")
    if args.json:
        argv += ["--json", args.json]
    if args.reps is not None:
        argv += ["--reps", str(args.reps)]
    if args.min_time is not None:
        argv += ["--min-time", str(args.min_time)]
    return argv


def _threads_pinned(threads: int) -> bool:
    return all(os.environ.get(var) == str(threads) for var in THREAD_VARIABLES)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 if every framework agreed with the reference, else 1.

    ``argv`` as on the command line (``["--quick", "--only", "W1,W3"]``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m adjoint bench", description=__doc__.split("\n\n")[0].replace("``", "")
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()} or set(WORKLOADS)
    unknown = only - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; valid: {', '.join(WORKLOADS)}")
    if args.threads > 0 and not _threads_pinned(args.threads):
        # The BLAS pools are sized when NumPy loads: re-run in a child that sets them first.
        env = dict(os.environ)
        env.update({var: str(args.threads) for var in THREAD_VARIABLES})
        child = [sys.executable, "-m", "adjoint.bench", *(argv if argv is not None else [])]
        if argv is None:
            child += sys.argv[1:]
        return subprocess.run(child, env=env, check=False).returncode
    reps = args.reps if args.reps is not None else (7 if args.quick else 9)
    min_time = args.min_time if args.min_time is not None else (0.02 if args.quick else 0.05)
    return _run(only, args.quick, max(1, reps), min_time, args.threads, args.json)


def _run(
    only: set[str], quick: bool, reps: int, min_time: float, threads: int, json_path: str | None
) -> int:
    def log(text: str) -> None:
        print(text, flush=True)

    peers = _load_peers(threads)
    machine = _machine(threads, peers)
    log(
        f"adjoint bench ({'quick' if quick else 'full'}): {machine['date_utc']} UTC, "
        f"{machine['processor']}, {machine['cpu_count']} CPUs, BLAS threads "
        f"{machine['blas_threads']}, {reps} samples per framework, interleaved"
    )
    log("versions: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()))
    for name, why in peers.missing.items():
        log(f"skipped peer {name}: {why}")
    log("")
    saved_lazy = autograd.LAZY_MODE
    records = []
    try:
        autograd.set_lazy_mode(False)
        for case in _cases(peers, only, quick):
            records.append(_measure(case, reps, min_time, log))
    finally:
        autograd.set_lazy_mode(saved_lazy)
    targets = _targets(records)
    log(_format_targets(targets))
    failures = [
        (record["case"], name)
        for record in records
        for name, result in record["frameworks"].items()
        if result["status"] in ("WRONG", "error")
        and not name.startswith(("torch", "autograd", "jax"))
    ]
    wrong_peers = [
        (record["case"], name)
        for record in records
        for name, result in record["frameworks"].items()
        if result["status"] == "WRONG"
    ]
    if json_path:
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "machine": machine,
                    "quick": quick,
                    "samples": reps,
                    "min_time_s": min_time,
                    "results": records,
                    "targets": targets,
                },
                out,
                indent=2,
                default=_json_default,
            )
        log(f"wrote {json_path}")
    for case_name, name in failures:
        log(f"FAILED: {name} on {case_name}")
    return 1 if failures or wrong_peers else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
