"""Elementwise ops: arithmetic, powers, exp/log and relu.

Each op is a small class with ``compute`` (NumPy) directly above ``gradient``
(Tensor ops only), then a lowercase function. The functions are the front end:
they send Python numbers to the ``*Scalar`` ops and broadcast two tensors with
explicit ``BroadcastTo`` nodes (see :mod:`adjoint.ops.common`), so the
``EWise*`` ops always see equal shapes and their gradients never reduce.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adjoint.autograd import Tensor
from adjoint.ops.common import (
    ElementwiseOp,
    ScalarOp,
    UnaryFloatOp,
    as_scalar,
    as_tensor,
    broadcast_pair,
    is_scalar,
)

__all__ = [
    "EWiseAdd",
    "AddScalar",
    "EWiseMul",
    "MulScalar",
    "EWiseDiv",
    "DivScalar",
    "PowerScalar",
    "EWisePow",
    "ScalarPower",
    "Negate",
    "Log",
    "Exp",
    "Sin",
    "Cos",
    "Step",
    "ReLU",
    "add",
    "add_scalar",
    "subtract",
    "multiply",
    "mul_scalar",
    "divide",
    "divide_scalar",
    "power",
    "power_scalar",
    "scalar_power",
    "negate",
    "log",
    "exp",
    "sin",
    "cos",
    "step",
    "relu",
]


# ----------------------------------------------------------------- binary ops


class EWiseAdd(ElementwiseOp):
    """a + b."""

    def compute(self, a, b):
        return a + b

    def gradient(self, out_grad, node):
        return out_grad, out_grad


class AddScalar(ScalarOp):
    """a + scalar."""

    def compute(self, a):
        return a + self.scalar

    def gradient(self, out_grad, node):
        return (out_grad,)


class EWiseMul(ElementwiseOp):
    """a * b."""

    def compute(self, a, b):
        return a * b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return out_grad * b, out_grad * a


class MulScalar(ScalarOp):
    """a * scalar."""

    def compute(self, a):
        return a * self.scalar

    def gradient(self, out_grad, node):
        return (out_grad * self.scalar,)


class EWiseDiv(ElementwiseOp):
    """a / b."""

    def compute(self, a, b):
        return a / b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return out_grad / b, -(out_grad * node) / b


class DivScalar(ScalarOp):
    """a / scalar."""

    def compute(self, a):
        return a / self.scalar

    def gradient(self, out_grad, node):
        return (out_grad / self.scalar,)


class PowerScalar(ScalarOp):
    """a ** scalar (the exponent a number: ``x ** 2``, ``x ** 2.2``, ``x ** -1``)."""

    def compute(self, a):
        return a**self.scalar

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        p = self.scalar
        # p = 1 and p = 0 are spelled out so that repeated differentiation of
        # x ** n ends in exact ones and zeros instead of 0 * x ** -1 (NaN at 0).
        if p == 0:
            return (out_grad * 0.0,)
        if p == 1:
            return (out_grad,)
        return (out_grad * power_scalar(a, p - 1) * p,)


class EWisePow(ElementwiseOp):
    """a ** b for two tensors."""

    def compute(self, a, b):
        return a**b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        grad_a = out_grad * b * power(a, b - 1)
        # d/db a**b = a**b log a is NaN for a <= 0; build it only when b needs it.
        grad_b = out_grad * node * log(a) if b.requires_grad else out_grad * 0.0
        return grad_a, grad_b


class ScalarPower(ScalarOp):
    """scalar ** a (the base a positive number: ``2 ** x``, ``5.0 ** x``)."""

    def compute(self, a):
        return np.power(self.scalar, a, dtype=np.result_type(a.dtype, self.scalar, np.float16))

    def infer_dtype(self, dtype):
        return np.result_type(dtype, self.scalar, np.float16)

    def gradient(self, out_grad, node):
        if self.scalar <= 0:
            raise ValueError(
                f"ScalarPower: the gradient of {self.scalar} ** x needs a positive base "
                "(log of the base)"
            )
        return (out_grad * node * math.log(self.scalar),)


# ----------------------------------------------------------------- unary ops


class Negate(ElementwiseOp):
    """-a."""

    def compute(self, a):
        return -a

    def gradient(self, out_grad, node):
        return (-out_grad,)


class Log(UnaryFloatOp):
    """Natural logarithm."""

    def compute(self, a):
        return np.log(a)

    def gradient(self, out_grad, node):
        return (out_grad / node.inputs[0],)


class Exp(UnaryFloatOp):
    """e ** a."""

    def compute(self, a):
        return np.exp(a)

    def gradient(self, out_grad, node):
        return (out_grad * node,)


class Sin(UnaryFloatOp):
    """sin a."""

    def compute(self, a):
        return np.sin(a)

    def gradient(self, out_grad, node):
        return (out_grad * cos(node.inputs[0]),)


class Cos(UnaryFloatOp):
    """cos a."""

    def compute(self, a):
        return np.cos(a)

    def gradient(self, out_grad, node):
        return (-(out_grad * sin(node.inputs[0])),)


class Step(ElementwiseOp):
    """Heaviside step: 1 where a > 0, else 0 (so step(0) = 0), in a's dtype.

    The derivative of relu. Its own derivative is zero everywhere it exists;
    the gradient rule returns zeros, so relu's second derivative is 0.
    """

    def compute(self, a):
        return (a > 0).astype(a.dtype)

    def gradient(self, out_grad, node):
        return (out_grad * 0.0,)


class ReLU(ElementwiseOp):
    """max(a, 0). The subgradient at 0 is 0 (as in PyTorch): relu'(x) = step(x)."""

    def compute(self, a):
        return np.maximum(a, 0)

    def gradient(self, out_grad, node):
        return (out_grad * step(node.inputs[0]),)


# ------------------------------------------------------------------ functions


def add_scalar(a: Tensor, scalar: Any) -> Tensor:
    """a + scalar."""
    return AddScalar(scalar)(as_tensor(a, "add_scalar"))


def mul_scalar(a: Tensor, scalar: Any) -> Tensor:
    """a * scalar."""
    return MulScalar(scalar)(as_tensor(a, "mul_scalar"))


def divide_scalar(a: Tensor, scalar: Any) -> Tensor:
    """a / scalar (a number, a NumPy scalar or a one-element array)."""
    return DivScalar(scalar)(as_tensor(a, "divide_scalar"))


def power_scalar(a: Tensor, scalar: Any) -> Tensor:
    """a ** scalar."""
    return PowerScalar(scalar)(as_tensor(a, "power_scalar"))


def scalar_power(scalar: Any, a: Tensor) -> Tensor:
    """scalar ** a, elementwise (``2 ** x``)."""
    return ScalarPower(scalar)(as_tensor(a, "scalar_power"))


def add(a: Any, b: Any) -> Tensor:
    """a + b with NumPy broadcasting; a Python number gives ``add_scalar``."""
    if is_scalar(b):
        return AddScalar(b)(as_tensor(a, "add"))
    if is_scalar(a):
        return AddScalar(a)(as_tensor(b, "add"))
    a, b = broadcast_pair(as_tensor(a, "add"), as_tensor(b, "add"), "add")
    return EWiseAdd()(a, b)


def subtract(a: Any, b: Any) -> Tensor:
    """a - b, built as ``add(a, negate(b))`` (needle's two nodes) or ``add_scalar``."""
    if is_scalar(b):
        return AddScalar(-as_scalar(b, "subtract"))(as_tensor(a, "subtract"))
    if is_scalar(a):
        return AddScalar(a)(Negate()(as_tensor(b, "subtract")))
    return add(a, Negate()(as_tensor(b, "subtract")))


def multiply(a: Any, b: Any) -> Tensor:
    """a * b with NumPy broadcasting; a Python number gives ``mul_scalar``."""
    if is_scalar(b):
        return MulScalar(b)(as_tensor(a, "multiply"))
    if is_scalar(a):
        return MulScalar(a)(as_tensor(b, "multiply"))
    a, b = broadcast_pair(as_tensor(a, "multiply"), as_tensor(b, "multiply"), "multiply")
    return EWiseMul()(a, b)


def divide(a: Any, b: Any) -> Tensor:
    """a / b with NumPy broadcasting; ``x / 2`` is ``divide_scalar``, ``1 / x`` is ``x ** -1``."""
    if is_scalar(b):
        return DivScalar(b)(as_tensor(a, "divide"))
    if is_scalar(a):
        reciprocal = PowerScalar(-1)(as_tensor(b, "divide"))
        return reciprocal if a == 1 else MulScalar(a)(reciprocal)
    a, b = broadcast_pair(as_tensor(a, "divide"), as_tensor(b, "divide"), "divide")
    return EWiseDiv()(a, b)


def power(a: Any, b: Any) -> Tensor:
    """a ** b with NumPy broadcasting; a number exponent gives ``power_scalar``,
    a number base gives ``scalar_power``."""
    if is_scalar(b):
        return PowerScalar(b)(as_tensor(a, "power"))
    if is_scalar(a):
        return ScalarPower(a)(as_tensor(b, "power"))
    a, b = broadcast_pair(as_tensor(a, "power"), as_tensor(b, "power"), "power")
    return EWisePow()(a, b)


def negate(a: Tensor) -> Tensor:
    """-a."""
    return Negate()(as_tensor(a, "negate"))


def log(a: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    return Log()(as_tensor(a, "log"))


def exp(a: Tensor) -> Tensor:
    """e ** a, elementwise."""
    return Exp()(as_tensor(a, "exp"))


def sin(a: Tensor) -> Tensor:
    """Sine, elementwise."""
    return Sin()(as_tensor(a, "sin"))


def cos(a: Tensor) -> Tensor:
    """Cosine, elementwise."""
    return Cos()(as_tensor(a, "cos"))


def step(a: Tensor) -> Tensor:
    """1 where a > 0, else 0 (the derivative of relu, with step(0) = 0)."""
    return Step()(as_tensor(a, "step"))


def relu(a: Tensor) -> Tensor:
    """max(a, 0), elementwise; its subgradient at 0 is 0."""
    return ReLU()(as_tensor(a, "relu"))
