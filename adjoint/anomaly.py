"""Anomaly mode: find the op, and the line of your code, that first made a NaN or an Inf.

>>> import adjoint as ad
>>> x = ad.Tensor([1.0, 0.0])
>>> with ad.detect_anomaly():
...     y = ad.log(x)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
adjoint.anomaly.AnomalyError: detect_anomaly: Log (derivative order 0) produced -inf in 1 of 2 ...

Inside ``with ad.detect_anomaly():`` every value computed in the calling thread,
forward and backward, is checked for NaN and Inf, and the first op whose
output has one raises :class:`AnomalyError`. The message names the op, its
derivative order (0 forward, 1 for nodes built by the first ``backward()``,
...), where the node was created in your code (frames inside adjoint are
skipped) and, for a gradient node, the forward op whose gradient rule made it
and where that forward node was created.

How it works: an observer (:func:`adjoint.autograd.add_observer`) is
registered while at least one thread is in anomaly mode. Its ``created`` hook
records a short stack summary on each node (``node._site``: file, line and
function names, never frames, so no locals are kept alive); its ``computed``
hook checks the data. While no thread is in anomaly mode nothing is
registered, so node creation and evaluation cost exactly what they cost
without this module.

Rules worth knowing:

* **Per thread**, like ``no_grad``: the block turns checking on for the
  calling thread only. Other threads are neither checked nor slowed beyond one
  thread-local lookup per node while some thread has the mode on.
* **Checked when computed**: in lazy mode a node is checked when it is
  realized, so realize inside the block (``y.numpy()``, ``y.backward()``
  followed by ``x.grad.numpy()``); values realized after the block are not
  checked. Creation sites are recorded for nodes made inside the block.
* Only floating-point data can hold NaN or Inf; integer and boolean results
  are not inspected.
* An Inf is an anomaly too (``log(0)``, ``1 / 0``): in a training loop it is
  usually the NaN of the next step.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
import threading
from collections.abc import Iterator

import numpy as np

from adjoint import autograd
from adjoint.autograd import Value, derivative_order

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled"]

#: Frames whose file lies in this directory are the library's own; the
#: recorded site starts at the first frame outside it (the user's line).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

#: How many user frames a site keeps (the innermost first).
_SITE_FRAMES = 4


class AnomalyError(FloatingPointError):
    """An op computed a NaN or an Inf while :func:`detect_anomaly` was on.

    A ``FloatingPointError`` (hence an ``ArithmeticError``), as NumPy raises
    for floating-point faults under ``np.errstate(all="raise")``. ``node`` is
    the offending graph node, for inspection in a debugger.
    """

    def __init__(self, message: str, node: Value) -> None:
        super().__init__(message)
        self.node = node


class _ThreadState(threading.local):
    enabled = False


_state = _ThreadState()
_lock = threading.Lock()
_threads_on = 0


def _user_site() -> tuple[tuple[str, int, str], ...]:
    """(file, line, function) of the innermost frames outside the adjoint package."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    site = []
    while frame is not None and len(site) < _SITE_FRAMES:
        site.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(site)


def _forward_node(op: autograd.Op) -> Value | None:
    """The forward node whose gradient rule (or adjoint sum) is running now, if any.

    Gradient rules are called as ``gradient(out_grad, node)`` and the backward
    walk names its current node ``node`` too: the innermost frame with a local
    ``node`` whose op is the one in the census tag is the forward node.
    """
    frame = sys._getframe(2)
    while frame is not None:
        node = frame.f_locals.get("node") if "node" in frame.f_code.co_varnames else None
        if isinstance(node, Value) and node.op is op:
            return node
        frame = frame.f_back
    return None


class _Detector:
    """The observer: records creation sites and checks computed data (see module docs)."""

    def created(self, node: Value) -> None:
        if not _state.enabled:
            return
        site = _user_site()
        forward_site = None
        tag = node._tag
        if tag is not None:
            forward = _forward_node(tag[1])
            if forward is not None and forward._site is not None:
                forward_site = forward._site[0]
        node._site = (site, forward_site)

    def computed(self, node: Value, data: np.ndarray, seconds: float) -> None:
        if _state.enabled:
            check_value(node, data, [x.cached_data for x in node.inputs])


def check_value(node: Value, data: np.ndarray, inputs: list[np.ndarray | None]) -> None:
    """Raise :class:`AnomalyError` if ``data`` (``node.op`` on ``inputs``) holds NaN or Inf.

    The engine's observer calls it for every node it computes; ``Graph.run``
    calls it for every value it re-computes, with the re-run input arrays.
    """
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        raise AnomalyError(_message(node, data, inputs), node)


_DETECTOR = _Detector()


def _describe_bad(data: np.ndarray) -> str:
    nan = int(np.isnan(data).sum())
    inf = int(np.isinf(data).sum())
    kinds = []
    if nan:
        kinds.append("nan")
    if inf:
        signs = sorted({"-inf" if v < 0 else "inf" for v in data[np.isinf(data)].flat})
        kinds.extend(signs)
    return f"{' and '.join(kinds)} in {nan + inf} of {data.size} element(s)"


def _format_frames(frames: tuple[tuple[str, int, str], ...], indent: str) -> list[str]:
    lines = []
    for filename, lineno, function in frames:
        lines.append(f'{indent}File "{filename}", line {lineno}, in {function}')
        code = linecache.getline(filename, lineno).strip()
        if code:
            lines.append(f"{indent}    {code}")
    return lines


def _message(node: Value, data: np.ndarray, inputs: list[np.ndarray | None]) -> str:
    op = node.op
    order = derivative_order(node)
    where = f"derivative order {order}"
    if node._tag is not None:
        where += f", in the gradient of {node._tag[1].name}"
    bad_inputs = [
        i
        for i, x in enumerate(inputs)
        if x is not None and x.dtype.kind == "f" and not np.isfinite(x).all()
    ]
    if bad_inputs:
        cause = (
            f"; input {bad_inputs[0]} already held "
            f"{_describe_bad(inputs[bad_inputs[0]])} "
            "(data made outside anomaly mode, or a leaf)"
        )
    else:
        cause = ", from finite inputs"
    lines = [f"detect_anomaly: {op.name} ({where}) produced {_describe_bad(data)}{cause}."]
    site, forward_site = node._site if node._site is not None else (None, None)
    if site:
        lines.append("  The node was created at (innermost first):")
        lines.extend(_format_frames(site, "    "))
    else:
        lines.append("  The node was created outside anomaly mode (no creation site recorded).")
    if forward_site:
        lines.append(f"  The forward {node._tag[1].name} node it differentiates was created at:")
        lines.extend(_format_frames(forward_site, "    "))
    return "\n".join(lines)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in the calling thread."""
    return _state.enabled


def detect_anomaly(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Check every value computed in this thread inside the block for NaN and Inf.

    The first op whose output holds a NaN or an Inf raises :class:`AnomalyError`
    naming the op, its derivative order and the line of your code that created
    the node (for a gradient node also the forward node it differentiates).
    Per thread, like ``no_grad``; nests, and ``detect_anomaly(False)`` turns it
    off inside an outer block. Costs a stack walk per node and a scan of each
    result while on, nothing once every block has exited.

    >>> import adjoint as ad
    >>> x = ad.Tensor([4.0, 0.0])
    >>> y = (x**0.5).sum()  # fine forward; its gradient 0.5 / sqrt(x) is inf at 0
    >>> with ad.detect_anomaly():
    ...     y.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adjoint.anomaly.AnomalyError: detect_anomaly: ... (derivative order 1, in the gradient of ...
    """
    return _detect_anomaly(autograd._flag_arg(enabled, "detect_anomaly", "enabled"))


@contextlib.contextmanager
def _detect_anomaly(enabled: bool) -> Iterator[None]:
    global _threads_on
    saved = _state.enabled
    if enabled != saved:
        with _lock:
            if enabled:
                _threads_on += 1
                if _threads_on == 1:
                    autograd.add_observer(_DETECTOR)
            _state.enabled = enabled
    try:
        yield
    finally:
        if enabled != saved:
            with _lock:
                _state.enabled = saved
                if enabled:
                    _threads_on -= 1
                    if _threads_on == 0:
                        autograd.remove_observer(_DETECTOR)
