"""The command line, ``python -m adjoint``: the tour (no arguments), ``diff`` and ``bench``.

* :mod:`adjoint.cli.tour`: differentiate two examples on both paths (nested
  ``ad.grad`` and repeated ``backward()``) and compare with sympy;
* :mod:`adjoint.cli.diff`: the same for any typed formula, to any order;
* ``bench``: ``python benchmarks/run.py`` from a checkout (the harness is a
  developer tool and not part of the package).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
from pathlib import Path

import numpy as np
import sympy

from adjoint import __version__
from adjoint.cli import diff
from adjoint.cli.diff import UsageError
from adjoint.cli.tour import tour

__all__ = ["main", "build_parser", "tour", "version"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m adjoint``: the tour, plus one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="python -m adjoint",
        description="adjoint: reverse-mode autodiff whose gradients are graphs. "
        "With no arguments, runs a short tour that differentiates an example to second "
        "order and another to the 5th, by nested ad.grad and by repeated "
        "backward(), and checks each derivative against sympy.",
        epilog="Run 'python -m adjoint COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=version(),
        help="print adjoint's version (and Python's, NumPy's and sympy's) and exit",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    diff.add_parser(subparsers)
    subparsers.add_parser(
        "bench",
        help="benchmark adjoint against NumPy and its peers (from a checkout: "
        "runs benchmarks/run.py)",
        add_help=False,  # 'bench --help' is benchmarks/run.py's help
    )
    return parser


def version() -> str:
    """``adjoint X.Y.Z (Python ..., numpy ..., sympy ...)``: what ``--version`` prints."""
    return (
        f"adjoint {__version__} (Python {platform.python_version()}, numpy {np.__version__}, "
        f"sympy {sympy.__version__})"
    )


#: Where ``python -m adjoint bench`` finds the harness: the checkout this package is in.
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def bench(argv: list[str]) -> int:
    """``python -m adjoint bench ARGS``: ``python benchmarks/run.py ARGS`` in a checkout.

    The harness is a developer tool, not part of the package: an installed
    copy of adjoint has no ``benchmarks/`` beside it, and says so.
    """
    if not (BENCHMARKS.is_file() and (BENCHMARKS.parent.parent / "pyproject.toml").is_file()):
        print(
            "python -m adjoint bench: the benchmarks are not part of the installed package; "
            "run 'python benchmarks/run.py' from a checkout of the repository",
            file=sys.stderr,
        )
        return 2
    spec = importlib.util.spec_from_file_location("adjoint_benchmarks_run", BENCHMARKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv, prog="python -m adjoint bench")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m adjoint``: 0 on success, 1 on a mismatch, 2 on a usage error.

    A command's usage error (a malformed formula, an unknown function, a missing
    value) is printed as one line on stderr, never as a traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # all of its options are the harness's own
        return bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    command = getattr(args, "run", None)
    if command is None:
        return tour()
    try:
        return command(args)
    except UsageError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
