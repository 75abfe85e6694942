"""The variables of the functional calls whose function is running: kept by every
:func:`~adjoint.rewrite.simplify`.

:mod:`adjoint.functional` pushes them while it calls the user's function, and
the pass reads them; the registry lives here, below both, so that functional
imports rewrite and not the other way round.
"""

from __future__ import annotations

import threading

from adjoint.autograd import Value


class _Active(threading.local):
    variables: list[Value]

    def __init__(self) -> None:
        self.variables = []


_active = _Active()


def active_variables() -> list[Value]:
    """The variables of the functional calls whose function is running now (this thread).

    An enclosing ``grad`` will differentiate with respect to them, so
    :func:`adjoint.rewrite.simplify` keeps them as they are: rewriting ``x + 0``
    to ``x`` inside a function being differentiated would cut the outer
    derivative.
    """
    return list(_active.variables)
