"""Progress bars for long loops: tqdm's when it is installed, a plain one when it is not.

tqdm is optional (the ``dev`` and ``examples`` extras bring it); adjoint itself
needs only numpy and sympy. By default a bar is drawn only when its stream is a
terminal, so logs, pipes and tests see nothing.

>>> [k for k in progress(range(3), desc="steps")]  # not a terminal here: no bar
[0, 1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str = "",
    enabled: bool | None = None,
    file: TextIO | None = None,
) -> Iterable[T]:
    """``iterable``, drawing a progress bar on ``file`` (stderr by default) as it is consumed.

    The bar is tqdm's (``tqdm.auto``: a widget in notebooks) when tqdm is
    installed, else a plain text one. ``enabled=None`` draws it only when
    ``file`` is a terminal; True or False decides. ``total`` defaults to
    ``len(iterable)`` where there is one. The items are passed through unchanged.
    """
    stream = sys.stderr if file is None else file
    if enabled is None:
        enabled = _is_terminal(stream)
    if not enabled:
        return iterable
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain(iterable, total, desc, stream)
    return tqdm(iterable, total=total, desc=desc or None, file=stream, leave=False)


def _plain(iterable: Iterable[T], total: int | None, desc: str, stream: TextIO) -> Iterator[T]:
    """A text bar rewritten in place (``\\r``) after each item, erased at the end."""
    label = f"{desc} " if desc else ""
    width = 0
    for i, item in enumerate(iterable, 1):
        yield item
        if total:
            bar = "#" * (20 * min(i, total) // total)
            line = f"\r{label}[{bar:<20}] {i}/{total}"
        else:
            line = f"\r{label}{i}"
        width = max(width, len(line))
        stream.write(line)
        stream.flush()
    if width:
        stream.write("\r" + " " * width + "\r")
        stream.flush()
