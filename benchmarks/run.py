"""Run the benchmarks: adjoint beside hand-written NumPy and its peers.

    python benchmarks/run.py                      # W1..W6, several minutes
    python benchmarks/run.py --quick --only W1,W2,W5 --json out.json

Six workloads (``w1_overhead.py`` .. ``w6_lazy.py``) are each run by every
available framework: hand-written NumPy (the floor), adjoint, and, when
installed, PyTorch (eager), HIPS autograd and JAX (eager); W1 to W4 also
time the frameworks that compile (``ad.compile`` on NumPy and JAX, JAX
``jit``, PyTensor's C linker, CasADi), per call and compile time. The
``bench`` extra installs the peers. Every result is checked against a
reference before it is timed (see ``harness.py`` for how the numbers are
taken). The exit status is 0 when every framework agreed with the reference.

BLAS is pinned to one thread by default (``--threads 1``): the thread
variables only act when set before NumPy is imported, so unless they are
already set the script re-runs itself in a child process with them set.
``--threads 0`` leaves everything as it is.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import adjoint
except ImportError:  # not installed: the checkout this file belongs to
    sys.path.insert(0, str(HERE.parent))
    import adjoint

import harness  # noqa: E402 - found through the line above
import w1_overhead  # noqa: E402
import w2_mlp  # noqa: E402
import w3_hessian  # noqa: E402
import w4_nested_grad  # noqa: E402
import w5_deep_chain  # noqa: E402
import w6_lazy  # noqa: E402

#: The workloads, in the order they run.
WORKLOADS = {
    "W1": w1_overhead,
    "W2": w2_mlp,
    "W3": w3_hessian,
    "W4": w4_nested_grad,
    "W5": w5_deep_chain,
    "W6": w6_lazy,
}

#: The environment variables that size the BLAS / OpenMP thread pools.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

DESCRIPTION = (
    "Benchmark adjoint against hand-written NumPy, PyTorch, HIPS autograd, JAX, PyTensor "
    "and CasADi."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def build_parser(prog: str = "python benchmarks/run.py") -> argparse.ArgumentParser:
    workloads = "\n".join(f"  {key}  {module.DESCRIPTION}" for key, module in WORKLOADS.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=f"workloads:\n{workloads}\n\nResults and past measurements: benchmarks/README.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def _threads_pinned(threads: int) -> bool:
    return all(os.environ.get(var) == str(threads) for var in THREAD_VARIABLES)


def make_cases(only: set[str], quick: bool):
    """The function of peers that builds the chosen workloads' cases, in W1..W6 order."""

    def cases(peers: harness.Peers) -> list[harness.Case]:
        found: list[harness.Case] = []
        for key, module in WORKLOADS.items():
            if key in only:
                found += module.cases(peers, quick)
        return found

    return cases


def main(argv: list[str] | None = None, prog: str = "python benchmarks/run.py") -> int:
    """Run the benchmarks; 0 if every framework agreed with the reference, else 1.

    ``argv`` as on the command line (``["--quick", "--only", "W1,W3"]``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()} or set(WORKLOADS)
    unknown = only - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {sorted(unknown)}; valid: {', '.join(WORKLOADS)}")
    if args.threads > 0 and not _threads_pinned(args.threads):
        # The BLAS pools are sized when NumPy loads: re-run in a child that sets them first.
        env = dict(os.environ)
        env.update({var: str(args.threads) for var in THREAD_VARIABLES})
        # The child measures the adjoint this process imported, wherever it came from.
        found = str(Path(adjoint.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (found, env.get("PYTHONPATH")) if p)
        child = [sys.executable, str(Path(__file__).resolve()), *argv]
        return subprocess.run(child, env=env, check=False).returncode
    reps = args.reps if args.reps is not None else (7 if args.quick else 9)
    min_time = args.min_time if args.min_time is not None else (0.02 if args.quick else 0.05)
    return harness.run(
        make_cases(only, args.quick),
        quick=args.quick,
        reps=max(1, reps),
        min_time=min_time,
        threads=args.threads,
        json_path=args.json,
    )


if __name__ == "__main__":
    sys.exit(main())
