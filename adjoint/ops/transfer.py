"""Copying between devices: ``ToDevice``, the one op that moves data (``tensor.to(device)``).

It is linear, and its adjoint is the copy back: the gradient of a computation
on a GPU reaches a CPU leaf as a CPU tensor, and every node of the gradient
graph lives where its forward node did. No other op ever copies between
devices; they refuse inputs on two devices (:class:`adjoint.device.DeviceMismatchError`).
"""

from __future__ import annotations

import numpy as np

from adjoint.device import Device, to_numpy
from adjoint.tensor import Tensor, TensorOp, _device_arg

__all__ = ["ToDevice", "to_device"]


class ToDevice(TensorOp):
    """A copy of the input on ``device`` (through the host between two accelerators)."""

    formula = ("$0", "$0")
    partials = (("$g", "$g"),)

    def __init__(self, device: Device) -> None:
        self.target_device = device  # the engine reads it for a lazy node's device

    def compute(self, a):
        data = self.target_device.from_numpy(to_numpy(a))
        return np.array(data, copy=True) if data is a else data  # a copy, even onto a's device

    def source(self, args, const):
        # A compiled graph computes in one namespace, where the copy to a device is a copy.
        return f"xp.array({args[0]}, copy=True)"

    def gradient(self, out_grad, node):
        return (to_device(out_grad, node.inputs[0].device),)

    def infer_shape(self, shape):
        return shape

    def sympy(self, a):
        return a


def to_device(a: Tensor, device: Device) -> Tensor:
    """``a`` on ``device``: ``a`` itself if it is there already, else a copy.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 2.0])
    >>> ad.to_device(x, ad.cpu()) is x
    True
    """
    if device is None:
        raise TypeError("to_device: give a device (ad.cpu(), ad.cuda(i), ...), got None")
    device = _device_arg(device, "to_device")
    if not isinstance(a, Tensor):
        raise TypeError(f"to_device: expected a Tensor, got {type(a).__name__}")
    if a.device == device:
        return a
    return ToDevice(device)(a)
