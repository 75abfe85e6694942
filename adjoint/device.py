"""Devices, as in needle: ``ad.cpu()`` is the one device (NumPy on the CPU).

Kept for needle compatibility (``Tensor(..., device=ad.cpu())``); it sits below
:mod:`adjoint.tensor`, which checks ``device=`` arguments against it.
"""

from __future__ import annotations

__all__ = ["Device", "cpu", "default_device"]


class Device:
    """The only device: NumPy on the CPU (kept for needle compatibility)."""

    def __repr__(self) -> str:
        return "cpu()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash("cpu")


_CPU = Device()


def cpu() -> Device:
    """The CPU device."""
    return _CPU


def default_device() -> Device:
    """The default (and only) device."""
    return _CPU
