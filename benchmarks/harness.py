"""The shared harness: frameworks, cases, measuring and reporting.

A workload module (``w1_overhead.py`` ...) builds :class:`Case` objects: a
reference result and one runner per framework. :func:`measure` checks every
runner against the reference, then times them interleaved; :func:`run`
measures a list of workloads and prints (and optionally writes as JSON) what
it found. Nothing here judges a number: the tables show ratios taken in one
run, and ``benchmarks/README.md`` says what they have been.

How the numbers are taken:

* Correctness first: a framework whose result disagrees with the reference is
  reported as ``WRONG`` and not timed, and the run exits with 1.
* One process, frameworks interleaved (A B C, A B C, ...), so that a slow
  spell of a shared machine hits all of them alike. Only ratios from one run
  mean anything; absolute times move from run to run.
* Warm-up excluded: each runner runs once untimed, which also sets how many
  calls make one sample (at least ``min_time`` seconds). ``gc.collect()`` runs
  between samples, outside the timed region, and everything alive before the
  timing (imports, setups) is frozen out of the cyclic GC.
* One-off cost apart: the setup and the warm-up call are timed once each
  (``setup_s``, ``first_call_s``). For a framework that compiles (a case's
  ``compiled``), their sum is its compile time, shown in a table of its own
  with ratios to the case's ``compile_baseline``.
* Median, min and max of the samples, and the median number of minor page
  faults per call where the OS counts them (memory the allocator gave back to
  the OS and takes again; it can cost a large-array workload a tenth of its
  time, so the column shows where a ratio moved for that reason).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import math
import os
import platform
import statistics
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

#: The name of the hand-written NumPy runner, every case's default baseline.
FLOOR = "numpy"

#: The optional peers; their failures are reported but never fail a run.
PEER_PREFIXES = ("torch", "autograd", "jax", "pytensor", "casadi")

#: The rows of adjoint's compiled graphs (``ad.compile``), one per backend.
COMPILED_NUMPY = "adjoint compiled (numpy)"
COMPILED_JAX = "adjoint compiled (jax)"

#: The rows of the compiling peers, written by hand.
JAX_JIT = "jax jit"
PYTENSOR = "pytensor (C)"
CASADI_SX = "casadi (SX)"
CASADI_MX = "casadi (MX)"

#: The recursion limit while a peer builds or compiles a deep graph (PyTensor's
#: gradient and rewrites recurse once per node); the timed calls run at the
#: process's own limit.
DEEP_RECURSION = 50_000

Arrays = list[np.ndarray]


# ------------------------------------------------------------------ frameworks


@dataclass
class Peers:
    """The optional peers that imported, and why the others did not."""

    torch: Any = None
    hips: Any = None  # (autograd, autograd.numpy)
    jax: Any = None  # (jax, jax.numpy)
    pytensor: Any = None  # (pytensor, pytensor.tensor, the FAST_RUN mode with the C linker)
    casadi: Any = None  # the casadi module
    missing: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def numpy_like(self) -> list[tuple[str, Any, Any]]:
        """(label, library, NumPy-like module) of the peers that differentiate NumPy code.

        HIPS autograd and JAX both offer ``grad``/``hessian`` over functions
        written with their NumPy module, so each workload is written once for both.
        """
        found = []
        if self.hips is not None:
            found.append(("autograd (HIPS)", *self.hips))
        if self.jax is not None:
            found.append(("jax (eager)", *self.jax))
        return found


def load_peers(threads: int) -> Peers:
    """Import the peers where installed (``threads`` > 0 pins torch's and XLA's threads).

    PyTorch, HIPS autograd, JAX (eager and ``jit``), PyTensor (C linker) and
    CasADi; each one missing is skipped with the reason in ``missing``.
    """
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
    if threads > 0 and "jax" not in sys.modules:
        # XLA's CPU thread pools are sized when JAX loads (one thread: as BLAS is pinned).
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (
                f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
            ).strip()
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        peers.jax = (jax, jnp)
        peers.versions["jax"] = jax.__version__
    except ImportError as error:
        peers.missing["jax"] = f"not installed ({error})"
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import Mode

        # FAST_RUN's rewrites with the C linker ("cvm"): PyTensor 3 made Numba
        # FAST_RUN's default linker; the C linker is the one measured here.
        peers.pytensor = (pytensor, pt, Mode(linker="cvm", optimizer="fast_run"))
        peers.versions["pytensor"] = pytensor.__version__
    except ImportError as error:
        peers.missing["pytensor"] = f"not installed ({error})"
    try:
        import casadi

        peers.casadi = casadi
        peers.versions["casadi"] = casadi.__version__
    except ImportError as error:
        peers.missing["casadi"] = f"not installed ({error})"
    if not hasattr(ad, "compile"):
        peers.missing["adjoint compiled"] = "this adjoint has no ad.compile yet"
    return peers


@contextlib.contextmanager
def deep_recursion(limit: int = DEEP_RECURSION) -> Iterator[None]:
    """Raise the recursion limit to ``limit`` for a while (a peer building a deep graph)."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def as_list(result: Any) -> Arrays:
    """A compiled function's result (one array, a tuple or a list) as a list of arrays."""
    if isinstance(result, (list, tuple)):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


def adjoint_compiled_runners(
    peers: Peers, f: Callable[..., Any], args: Arrays
) -> dict[str, Callable[[], Callable[[], Arrays]]]:
    """``ad.compile(f, backend=...)`` called with ``args``, one runner per backend.

    ``f`` is a function of Tensors (a derivative such as ``ad.grad(loss)``).
    The first call traces ``f`` and compiles it, so setup plus first call is
    the compile time. Empty where this adjoint has no ``ad.compile``; the JAX
    backend only where JAX is installed.
    """
    if not hasattr(ad, "compile"):
        return {}
    backends = [(COMPILED_NUMPY, "numpy")]
    if peers.jax is not None:
        backends.append((COMPILED_JAX, "jax"))
    runners: dict[str, Callable[[], Callable[[], Arrays]]] = {}
    for label, backend in backends:

        def setup(backend: str = backend) -> Callable[[], Arrays]:
            compiled = ad.compile(f, backend=backend)
            return lambda: as_list(compiled(*args))

        runners[label] = setup
    return runners


# ------------------------------------------------------------------- the cases


@dataclass
class Case:
    """One measured problem: a reference result and one runner per framework.

    ``runners`` maps a framework name to a setup function that returns the
    timed callable; the callable returns NumPy arrays (a list) that are
    compared with ``reference`` before timing. ``ops`` (if set) adds a
    time-per-op column; ``extra`` holds measured facts other than time (W4's
    graph sizes). ``compiled`` names the runners whose setup and first call
    compile (their sum is reported as compile time, with ratios to
    ``compile_baseline``: by default the first of ``compiled`` that ran).
    """

    workload: str
    name: str
    reference: Callable[[], Arrays]
    runners: dict[str, Callable[[], Callable[[], Arrays]]]
    rtol: float = 1e-9
    atol: float = 0.0
    ops: int | None = None
    baseline: str = FLOOR
    compiled: tuple[str, ...] = ()
    compile_baseline: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ measuring


@dataclass
class Timing:
    """The samples of one framework on one case (seconds per call)."""

    status: str = "ok"  # ok | WRONG | error
    message: str = ""
    number: int = 1
    samples: list[float] = field(default_factory=list)
    faults: list[float] = field(default_factory=list)  # minor page faults per call
    setup_s: float = math.nan  # the setup, once
    first_call_s: float = math.nan  # the warm-up call, once

    @property
    def once_s(self) -> float:
        """The one-off cost: setup and first call (a compiling framework's compile time)."""
        return self.setup_s + self.first_call_s

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def median_faults(self) -> float:
        return statistics.median(self.faults) if self.faults else math.nan


def minor_faults() -> int | None:
    """The minor page faults of this process so far (None where the OS does not count)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else None


def agrees(got: list[Any], want: Arrays, rtol: float, atol: float) -> str:
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


def measure(case: Case, reps: int, min_time: float, log: Callable[[str], None]) -> dict:
    """Check every framework against the reference, then time them interleaved."""
    want = case.reference()
    timings: dict[str, Timing] = {}
    runs: dict[str, Callable[[], Arrays]] = {}
    for name, setup in case.runners.items():
        timing = timings[name] = Timing()
        try:
            with _quiet_errors():
                start = time.perf_counter()
                run_once = setup()
                timing.setup_s = time.perf_counter() - start
                start = time.perf_counter()
                got = run_once()  # the warm-up call, also the correctness check
                elapsed = timing.first_call_s = time.perf_counter() - start
        except Exception as error:  # noqa: BLE001 - one framework failing must not stop the rest
            timing.status, timing.message = "error", f"{type(error).__name__}: {error}"[:300]
            continue
        problem = agrees(got, want, case.rtol, case.atol)
        if problem:
            timing.status, timing.message = "WRONG", problem
            continue
        timing.number = max(1, math.ceil(min_time / max(elapsed, 1e-9)))
        runs[name] = run_once
    # Everything alive now (imports of every peer, the setups) is frozen out of
    # the cyclic GC, so its collections cost what the run itself allocates,
    # as in a process that imported one framework.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(reps):
            for name, run_once in runs.items():
                timing = timings[name]
                gc.collect()
                faults = minor_faults()
                with _quiet_errors():
                    start = time.perf_counter()
                    for _ in range(timing.number):
                        run_once()
                    timing.samples.append((time.perf_counter() - start) / timing.number)
                if faults is not None:
                    timing.faults.append((minor_faults() - faults) / timing.number)
    finally:
        gc.unfreeze()
        gc.collect()
    log(format_case(case, timings))
    return case_record(case, timings)


# ------------------------------------------------------------------ reporting


def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def ratio(a: float, b: float) -> float:
    return a / b if b and math.isfinite(a) and math.isfinite(b) else math.nan


def _baseline_median(case: Case, timings: dict[str, Timing]) -> float:
    base = timings.get(case.baseline)
    return base.median if base is not None and base.status == "ok" else math.nan


def format_case(case: Case, timings: dict[str, Timing]) -> str:
    """The table of one case: one row per framework, times and the ratio to the baseline."""
    base_median = _baseline_median(case, timings)
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
            f"  {name:<28}{fmt_time(timing.median):>11}{fmt_time(min(timing.samples)):>11}"
            f"{fmt_time(max(timing.samples)):>11}{ratio(timing.median, base_median):>16.2f}x"
        )
        if case.ops:
            row += f"{timing.median / case.ops * 1e6:>9.2f}"
        faults = timing.median_faults
        row += f"{faults:>8.0f}" if math.isfinite(faults) else f"{'-':>8}"
        lines.append(row)
    compiled = _compile_times(case, timings)
    if compiled:
        base_name, base_once = _compile_base(case, compiled)
        lines.append(
            f"  {'compile (setup + 1st call)':<28}{'time':>11}{'x ' + base_name:>33}"
            f"{'in ' + case.baseline + ' calls':>22}"
        )
        for name, once in compiled.items():
            calls = ratio(once, base_median)
            lines.append(
                f"  {name:<28}{fmt_time(once):>11}{ratio(once, base_once):>32.3g}x"
                + (f"{calls:>22,.0f}" if math.isfinite(calls) else f"{'-':>22}")
            )
    for key, value in case.extra.items():
        lines.append(f"  {key}: {value}")
    for note in case.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"


def _compile_times(case: Case, timings: dict[str, Timing]) -> dict[str, float]:
    """Setup plus first call of the case's compiling frameworks that ran."""
    return {
        name: timings[name].once_s
        for name in case.compiled
        if name in timings and timings[name].status == "ok"
    }


def _compile_base(case: Case, compiled: dict[str, float]) -> tuple[str, float]:
    name = case.compile_baseline if case.compile_baseline in compiled else next(iter(compiled))
    return name, compiled[name]


def case_record(case: Case, timings: dict[str, Timing]) -> dict:
    """One case as JSON-ready data (the ``results`` entries of ``--json``)."""
    base_median = _baseline_median(case, timings)
    frameworks = {}
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
                ratio_to_baseline=_finite_or_none(ratio(timing.median, base_median)),
                minor_faults_per_call=_finite_or_none(timing.median_faults),
                setup_s=timing.setup_s,
                first_call_s=timing.first_call_s,
            )
            if name in case.compiled:
                record["compile_s"] = timing.once_s
            if case.ops:
                record["us_per_op"] = timing.median / case.ops * 1e6
        frameworks[name] = record
    compiled = _compile_times(case, timings)
    if compiled:
        base_name, base_once = _compile_base(case, compiled)
        for name, once in compiled.items():
            frameworks[name]["compile_ratio"] = ratio(once, base_once)
    else:
        base_name = None
    return {
        "workload": case.workload,
        "case": case.name,
        "baseline": case.baseline,
        "compile_baseline": base_name,
        "ops": case.ops,
        "frameworks": frameworks,
        "extra": case.extra,
        "notes": case.notes,
    }


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def format_summary(records: list[dict]) -> str:
    """adjoint's time as a multiple of every other framework's, case by case (no verdicts)."""
    lines = ["adjoint's time / the others' (this run)"]
    for record in records:
        results = record["frameworks"]
        ok = {n: r["median_s"] for n, r in results.items() if r["status"] == "ok"}
        mine = [n for n in ok if n.startswith("adjoint")]
        others = [n for n in ok if not n.startswith("adjoint")]
        if not mine or not others:
            continue
        lines.append(f"  {record['case']}")
        for name in mine:
            cells = ", ".join(f"{ratio(ok[name], ok[o]):.3g}x {o}" for o in others)
            lines.append(f"    {name:<28}{cells}")
    return "\n".join(lines) + "\n"


def machine(threads: int, peers: Peers) -> dict:
    """Where and with what the run happened."""
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


def run(
    make_cases: Callable[[Peers], list[Case]],
    *,
    quick: bool,
    reps: int,
    min_time: float,
    threads: int,
    json_path: str | None,
) -> int:
    """Measure the cases ``make_cases(peers)`` returns; 0 if adjoint agreed everywhere, else 1.

    A peer that gives a wrong result also makes the exit status 1; a peer that
    raises (a missing feature, say) is only reported.
    """

    def log(text: str) -> None:
        print(text, flush=True)

    peers = load_peers(threads)
    where = machine(threads, peers)
    log(
        f"adjoint benchmarks ({'quick' if quick else 'full'}): {where['date_utc']} UTC, "
        f"{where['processor']}, {where['cpu_count']} CPUs, BLAS threads "
        f"{where['blas_threads']}, {reps} samples per framework, interleaved"
    )
    log("versions: " + ", ".join(f"{k} {v}" for k, v in where["versions"].items()))
    for name, why in peers.missing.items():
        log(f"skipped peer {name}: {why}")
    log("")
    saved_lazy = autograd.LAZY_MODE
    records = []
    try:
        autograd.set_lazy_mode(False)
        for case in make_cases(peers):
            records.append(measure(case, reps, min_time, log))
    finally:
        autograd.set_lazy_mode(saved_lazy)
    log(format_summary(records))
    failures = [
        (record["case"], name)
        for record in records
        for name, result in record["frameworks"].items()
        if result["status"] in ("WRONG", "error") and not name.startswith(PEER_PREFIXES)
    ]
    wrong_peers = [
        (record["case"], name)
        for record in records
        for name, result in record["frameworks"].items()
        if result["status"] == "WRONG" and name.startswith(PEER_PREFIXES)
    ]
    if json_path:
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "machine": where,
                    "quick": quick,
                    "samples": reps,
                    "min_time_s": min_time,
                    "results": records,
                },
                out,
                indent=2,
                default=_json_default,
            )
        log(f"wrote {json_path}")
    for case_name, name in failures + wrong_peers:
        log(f"FAILED: {name} on {case_name}")
    return 1 if failures or wrong_peers else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)
