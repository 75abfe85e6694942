"""Room for sympy's recursion through deeply nested formulas.

adjoint's own walks are iterative, but sympy's constructors, ``diff``,
printing and substitution recurse once or more per level of nesting. So the
symbolic tools run such work through :func:`_deep`: first as it is, and after
a ``RecursionError`` again in a thread with a large stack and a raised limit.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

#: The recursion limit, and the thread stack, that sympy's work on a deeply
#: nested formula runs under. The graph walks here are iterative, but sympy's
#: constructors (their assumption queries), ``diff``, printing and substitution
#: recurse once or more per level of nesting. Measured on the chain
#: ``h = sin(h) * 1.0001``, per step: about 4 Python frames to build its formula,
#: 9 to print it and 13 to differentiate it, so the default limit of 1,000 was
#: spent at 165 steps. Such work runs first as it is; on a ``RecursionError`` it
#: runs again in a thread of its own with this limit and a 256 MiB stack. The
#: stack is what makes a raised limit safe: sympy's frames take up to about
#: 850 bytes of C stack each (CPython 3.11), and a raised limit on the caller's
#: own stack (8 MB on Linux, 1 MB on Windows, 512 KB in macOS threads) could
#: crash the process instead of raising. 50,000 frames in 256 MiB leave 5 KB a
#: frame; only the pages used are committed, and only while the thread runs.
#: The limit is about 12,000 steps of that chain to build, 5,500 to print and
#: 3,800 to differentiate; sympy's time runs out long before (see to_sympy).
DEEP_RECURSION_LIMIT = 50_000
_DEEP_STACK_BYTES = 256 * 2**20

_deep_lock = threading.Lock()
_deep_threads = 0
_deep_saved_limit = 0
_deep_local = threading.local()


class FormulaTooDeepError(RecursionError):
    """sympy's work on a formula needed more than :data:`DEEP_RECURSION_LIMIT` frames."""


def _deep(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, with room for sympy to recurse through a deeply nested formula.

    Runs ``fn`` in the calling thread; if that raises ``RecursionError``, runs
    it again (it must be safe to repeat: translations and sympy calls are) in a
    thread with a large stack and the recursion limit raised to
    :data:`DEEP_RECURSION_LIMIT` (the limit is process-wide, so it is raised
    only while such a thread runs, and restored after the last one). Beyond
    that it raises :class:`FormulaTooDeepError`, a ``RecursionError`` that
    says so, rather than crashing.
    """
    if getattr(_deep_local, "inside", False):
        return fn(*args)  # already in a deep thread: its limit is the bound
    try:
        return fn(*args)
    except RecursionError:
        pass
    return _in_deep_thread(fn, args)


def _in_deep_thread(fn: Callable[..., Any], args: tuple) -> Any:
    from sympy.core.parameters import global_parameters

    # sympy's global parameters (``with sympy.evaluate(False)``) are per thread.
    parameters = dict(vars(global_parameters))
    outcome: list = []

    def work() -> None:
        _deep_local.inside = True
        for key, value in parameters.items():
            setattr(global_parameters, key, value)
        try:
            outcome.append(fn(*args))
        except BaseException as error:  # handed to the caller, raised there
            outcome.append(error)

    _raise_limit()
    try:
        with _deep_lock:
            old_size = threading.stack_size(_DEEP_STACK_BYTES)
            try:
                thread = threading.Thread(target=work, name="adjoint-sympy", daemon=True)
                thread.start()
            finally:
                threading.stack_size(old_size)
        thread.join()
    except (RuntimeError, ValueError, MemoryError) as error:
        if outcome:  # not from starting the thread
            raise
        outcome.append(RecursionError(f"no thread with a deeper stack could be started: {error}"))
    finally:
        _restore_limit()
    if not isinstance(outcome[0], BaseException):
        return outcome[0]
    error = outcome[0]
    if isinstance(error, RecursionError) and not isinstance(error, FormulaTooDeepError):
        raise FormulaTooDeepError(
            "the formula is nested too deeply for sympy: its work needs more than "
            f"{DEEP_RECURSION_LIMIT:,} levels of recursion "
            "(adjoint.symbolic.DEEP_RECURSION_LIMIT)"
        ) from None  # the chained error would keep 50,000 frames alive
    raise error


def _raise_limit() -> None:
    global _deep_threads, _deep_saved_limit
    with _deep_lock:
        if _deep_threads == 0:
            _deep_saved_limit = sys.getrecursionlimit()
        _deep_threads += 1
        sys.setrecursionlimit(max(_deep_saved_limit, DEEP_RECURSION_LIMIT))


def _restore_limit() -> None:
    global _deep_threads
    with _deep_lock:
        _deep_threads -= 1
        raised = max(_deep_saved_limit, DEEP_RECURSION_LIMIT)
        if _deep_threads == 0 and sys.getrecursionlimit() == raised:
            sys.setrecursionlimit(_deep_saved_limit)
