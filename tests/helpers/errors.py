"""What the error tables of every area share: the row format, the check, small operands.

A row is ``(subject, kind, call, exception, prefix, fragment)``: ``call()`` must
raise ``exception`` with a message that starts with ``prefix`` (the function,
method or class) and holds ``fragment`` (what is wrong or valid).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import adjoint as ad

_T = TypeError
_V = ValueError
_I = IndexError


def X():  # noqa: N802 - a valid operand of shape (2, 3)
    return ad.Tensor(np.ones((2, 3)))


def S():  # noqa: N802 - a 0-d tensor
    return ad.Tensor(2.0)


def V():  # noqa: N802 - a 1-D tensor
    return ad.Tensor([1.0, 2.0, 3.0])


def INTS():  # noqa: N802 - an integer leaf that requires grad
    return ad.Tensor(np.array([1, 2]))


def realized(result):
    """Realize every Tensor in ``result``, so lazy mode raises what eager mode raises."""
    for r in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(r, ad.Tensor):
            r.realize_cached_data()
    return result


def check(call, exc, prefix, fragment, *, trap_float_errors=True):
    """``call()`` raises ``exc`` whose message starts with ``prefix`` and holds ``fragment``.

    With ``trap_float_errors`` (the API tables), NumPy's floating-point warnings are
    errors and every Tensor of a tuple result is realized; without it (the tables of
    symbolic, tracing, anomaly, drawing and io), only a Tensor result is realized.
    """
    pattern = rf"(?s)^{re.escape(prefix)}[: ].*{fragment}"
    if trap_float_errors:
        with pytest.raises(exc, match=pattern), np.errstate(all="raise"):
            realized(call())
        return
    with pytest.raises(exc, match=pattern):
        result = call()
        if isinstance(result, ad.Tensor):
            result.realize_cached_data()


def table(rows):
    """pytest parameters of rows ``(subject, kind, call, exception, prefix, fragment)``."""
    ids = [f"{row[0]}-{row[1]}" for row in rows]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    return pytest.mark.parametrize("subject, kind, call, exc, prefix, fragment", rows, ids=ids)


def enter(context_manager):
    with context_manager:
        pass


__all__ = ["X", "S", "V", "INTS", "_T", "_V", "_I", "check", "enter", "realized", "table"]
