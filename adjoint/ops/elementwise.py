"""Elementwise ops: arithmetic, powers, exp/log, relu, tanh, abs, maximum, where, ...

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
from numpy import generic, ndarray

from adjoint.device import array_namespace, host_dtype
from adjoint.ops.common import (
    ElementwiseOp,
    ScalarOp,
    UnaryFloatOp,
    as_scalar,
    as_tensor,
    broadcast_shapes,
    is_scalar,
    literal,
    no_adjoint,
    operand,
    sympy_elementwise,
    sympy_number,
)
from adjoint.ops.linear import broadcast_pair, broadcast_to
from adjoint.tensor import Tensor

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
    "ReLUBackward",
    "Tanh",
    "TanhBackward",
    "Sigmoid",
    "Sqrt",
    "Sign",
    "Abs",
    "EqualMask",
    "Maximum",
    "Minimum",
    "Where",
    "Log1p",
    "Expm1",
    "LogAddExp",
    "Softplus",
    "Clip",
    "ClipBackward",
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
    "relu_backward",
    "tanh",
    "tanh_backward",
    "sigmoid",
    "sqrt",
    "sign",
    "abs",
    "equal_mask",
    "maximum",
    "minimum",
    "where",
    "log1p",
    "expm1",
    "logaddexp",
    "softplus",
    "square",
    "reciprocal",
    "clip",
]


# ----------------------------------------------------------------- binary ops


class EWiseAdd(ElementwiseOp):
    """a + b."""

    commutative = True
    polynomial = True
    formula = ("$0 + $1", "$0 + $1")
    partials = (("$g", "$g"), ("$g", "$g"))

    def compute(self, a, b):
        return a + b

    def source(self, args, const):
        a, b = map(operand, args)
        return f"{a} + {b}"

    def gradient(self, out_grad, node):
        return out_grad, out_grad


class AddScalar(ScalarOp):
    """a + scalar."""

    polynomial = True
    formula = ("$0 + $c", "$0 + $c")
    partials = (("$g", "$g"),)

    def compute(self, a):
        return a + self.scalar

    def source(self, args, const):
        a, c = operand(args[0]), self.scalar
        if type(c) is float and c == c and math.copysign(1.0, c) < 0:
            return f"{a} - {literal(-c, const)}"  # a + c, exactly (IEEE: a - x is a + -x)
        return f"{a} + {operand(literal(c, const))}"

    def gradient(self, out_grad, node):
        return (out_grad,)

    def sympy(self, a):
        return a + sympy_number(self.scalar)


class EWiseMul(ElementwiseOp):
    """a * b."""

    commutative = True
    polynomial = True
    formula = ("$0 · $1", "$0 \\cdot $1")
    partials = (("$g · $1", "$g \\cdot $1"), ("$g · $0", "$g \\cdot $0"))

    def compute(self, a, b):
        return a * b

    def source(self, args, const):
        a, b = map(operand, args)
        return f"{a} * {b}"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        # x * constant is common (masks, weights that are fixed): skip the unused product.
        # out_grad, a and b have one shape (the front end broadcasts explicitly), so the
        # products are made directly, without the front end's checks.
        return (
            _make(self, (out_grad, b)) if a.requires_grad else no_adjoint(a),
            _make(self, (out_grad, a)) if b.requires_grad else no_adjoint(b),
        )


class MulScalar(ScalarOp):
    """a * scalar."""

    polynomial = True
    formula = ("$c · $0", "$c \\cdot $0")
    partials = (("$g · $c", "$g \\cdot $c"),)

    def compute(self, a):
        return a * self.scalar

    def source(self, args, const):
        return f"{operand(args[0])} * {operand(literal(self.scalar, const))}"

    def gradient(self, out_grad, node):
        # The op itself, not ``out_grad * self.scalar``: the same node, without a
        # new op object per backward step (fewer objects for the cyclic GC).
        return (_make(self, (out_grad,)),)

    def sympy(self, a):
        return a * sympy_number(self.scalar)


class EWiseDiv(ElementwiseOp):
    """a / b."""

    formula = ("$0 / $1", "$0 / $1")
    partials = (("$g / $1", "$g / $1"), ("−$g · $0 / $1²", "-$g \\cdot $0 / $1^{2}"))

    def compute(self, a, b):
        return a / b

    def source(self, args, const):
        a, b = map(operand, args)
        return f"{a} / {b}"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return (
            out_grad / b if a.requires_grad else no_adjoint(a),
            -(out_grad * node) / b if b.requires_grad else no_adjoint(b),
        )


class DivScalar(ScalarOp):
    """a / scalar."""

    polynomial = True
    formula = ("$0 / $c", "$0 / $c")
    partials = (("$g / $c", "$g / $c"),)

    def compute(self, a):
        return a / self.scalar

    def source(self, args, const):
        return f"{operand(args[0])} / {operand(literal(self.scalar, const))}"

    def gradient(self, out_grad, node):
        return (_make(self, (out_grad,)),)  # as MulScalar's

    def sympy(self, a):
        return a / sympy_number(self.scalar)


class PowerScalar(ScalarOp):
    """a ** scalar (the exponent a number: ``x ** 2``, ``x ** 2.2``, ``x ** -1``)."""

    polynomial = True
    formula = ("$0^$c", "$0^{$c}")
    partials = (("$g · $c · $0^$d", "$g \\cdot $c \\, $0^{$d}"),)

    def compute(self, a):
        return a**self.scalar

    def source(self, args, const):
        return f"{operand(args[0])} ** {operand(literal(self.scalar, const))}"

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

    def sympy(self, a):
        return a ** sympy_number(self.scalar)


class EWisePow(ElementwiseOp):
    """a ** b for two tensors.

    The partials are the textbook ``b a**(b-1)`` and ``a**b log a``, evaluated
    as they stand (IEEE arithmetic): so ``x ** x`` at 0 has derivative
    0 * inf - inf = NaN (its one-sided limit is -inf; PyTorch gives 0), a zero
    base gives d/db = 0 * -inf = NaN where b > 0 (the true value is 0) and a
    negative base NaN, as in PyTorch. On purpose: exact zeros there need two
    selects in every gradient graph of ``a ** b``, and the graphs would no longer
    be the formulas that sympy proves equal to its own derivatives. A number
    base (``0.0 ** x``, :class:`ScalarPower`) is exact, at no cost.
    """

    formula = ("$0^$1", "$0^{$1}")
    partials = (
        ("$g · $1 · $0^($1 − 1)", "$g \\cdot $1 \\, $0^{$1 - 1}"),
        ("$g · $y · ln($0)", "$g \\cdot $y \\ln($0)"),
    )

    def compute(self, a, b):
        return a**b

    def source(self, args, const):
        a, b = map(operand, args)
        return f"{a} ** {b}"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        grad_a = out_grad * b * power(a, b - 1)
        # d/db a**b = a**b log a is NaN for a <= 0; build it only when b needs it.
        grad_b = out_grad * node * log(a) if b.requires_grad else out_grad * 0.0
        return grad_a, grad_b


class ScalarPower(ScalarOp):
    """scalar ** a (the base a number: ``2 ** x``, ``5.0 ** x``).

    The derivative is ``c**a log c``. For the base 0 it is 0 where a > 0
    (0**a = 0 there) and -inf where a <= 0 (0**0 = 1 and 0**a = inf for a < 0:
    every difference quotient tends to -inf), where PyTorch gives 0 at a = 0.
    A negative base has no real logarithm: its gradient is refused.
    """

    formula = ("$c^$0", "$c^{$0}")
    partials = (("$g · $y · ln($c)", "$g \\cdot $y \\ln $c"),)

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            # another namespace: the same dtype rule, spelled out
            xp = array_namespace(a)
            dtype = getattr(xp, np.result_type(host_dtype(a.dtype), self.scalar, np.float16).name)
            return xp.pow(xp.asarray(self.scalar, dtype=dtype), xp.astype(a, dtype))
        return np.power(self.scalar, a, dtype=np.result_type(a.dtype, self.scalar, np.float16))

    def source(self, args, const):
        # np.power(c, a, dtype=d) casts both to d, as c ** (a cast to d) does. A Python
        # number c never changes d (NumPy's weak scalars), so only other kinds are named.
        c, a = operand(literal(self.scalar, const)), operand(args[0])
        weak = type(self.scalar) in (int, float)
        dtype = f"xp.result_type({a}.dtype{'' if weak else ', ' + c}, xp.float16)"
        return f"{c} ** xp.asarray({a}, dtype={dtype})"

    def gradient(self, out_grad, node):
        if self.scalar < 0:
            raise ValueError(
                f"ScalarPower: the gradient of {self.scalar} ** x needs a base >= 0 "
                "(log of the base)"
            )
        if self.scalar == 0:  # 0 where x > 0; node * -inf = -inf where x <= 0 (NaN at NaN)
            return (out_grad * where(step(node.inputs[0]), 0.0, node * -math.inf),)
        return (out_grad * node * math.log(self.scalar),)

    def sympy(self, a):
        return sympy_number(self.scalar) ** a


# ----------------------------------------------------------------- unary ops


class Negate(ElementwiseOp):
    """-a."""

    polynomial = True
    formula = ("−$0", "-$0")
    partials = (("−$g", "-$g"),)

    def compute(self, a):
        return -a

    def source(self, args, const):
        return f"-{operand(args[0])}"

    def gradient(self, out_grad, node):
        return (-out_grad,)


class Log(UnaryFloatOp):
    """Natural logarithm."""

    formula = ("ln($0)", "\\ln($0)")
    partials = (("$g / $0", "$g / $0"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.log(a)

    def source(self, args, const):
        return f"xp.log({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad / node.inputs[0],)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.log, a)


class Exp(UnaryFloatOp):
    """e ** a."""

    formula = ("exp($0)", "\\exp($0)")
    partials = (("$g · exp($0)", "$g \\cdot \\exp($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.exp(a)

    def source(self, args, const):
        return f"xp.exp({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * node,)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.exp, a)


class Sin(UnaryFloatOp):
    """sin a."""

    formula = ("sin($0)", "\\sin($0)")
    partials = (("$g · cos($0)", "$g \\cdot \\cos($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.sin(a)

    def source(self, args, const):
        return f"xp.sin({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * cos(node.inputs[0]),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.sin, a)


class Cos(UnaryFloatOp):
    """cos a."""

    formula = ("cos($0)", "\\cos($0)")
    partials = (("−$g · sin($0)", "-$g \\cdot \\sin($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.cos(a)

    def source(self, args, const):
        return f"xp.cos({args[0]})"

    def gradient(self, out_grad, node):
        return (-(out_grad * sin(node.inputs[0])),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.cos, a)


class Step(ElementwiseOp):
    """Heaviside step: 1 where a > 0, else 0 (so step(0) = 0), in a's dtype.

    The derivative of relu. Its own derivative is zero everywhere it exists;
    the gradient rule returns zeros, so relu's second derivative is 0.
    """

    formula = ("step($0)", "\\operatorname{step}($0)")
    partials = (("0", "0"),)

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            return array_namespace(a).astype(a > 0, a.dtype)
        return (a > 0).astype(a.dtype)

    def source(self, args, const):
        a = operand(args[0])
        return f"({a} > 0).astype({a}.dtype)"

    def gradient(self, out_grad, node):
        return (out_grad * 0.0,)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: sympy.Heaviside(x, 0), a)


class ReLU(ElementwiseOp):
    """max(a, 0). The subgradient at 0 is 0 (as in PyTorch): relu'(x) = step(x).

    Its adjoint ``out_grad * step(a)`` is one :class:`ReLUBackward` node. At NaN
    the value is NaN and the gradient 0 (NaN > 0 is false), where PyTorch passes
    the adjoint through (its rule tests x <= 0): kept on purpose, as one
    comparison is all that the hottest rule of a network's backward pass costs,
    and the NaN still shows in the value and everything computed from it.
    """

    formula = ("relu($0)", "\\operatorname{relu}($0)")
    partials = (("$g · step($0)", "$g \\cdot \\operatorname{step}($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.maximum(a, 0)

    def source(self, args, const):
        return f"xp.maximum({args[0]}, 0)"

    def gradient(self, out_grad, node):
        return (_make(_RELU_BACKWARD, (out_grad, node.inputs[0])),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: x * sympy.Heaviside(x, 0), a)


class ReLUBackward(ElementwiseOp):
    """g * step(a): relu's adjoint rule, given the adjoint g and relu's input a.

    One node where ``g * step(a)`` makes two, and no float copy of the mask:
    NumPy multiplies by the boolean ``a > 0`` directly, with the same bits
    (the MLP of ``python -m adjoint bench``, W2: about 2% less time). PyTorch's
    op is ``threshold_backward``. Its own adjoints: ``ReLUBackward(out_grad,
    a)`` for g, and ``out_grad * 0`` for a (step's derivative, as :class:`Step`
    gives it).
    """

    formula = ("$0 · step($1)", "$0 \\cdot \\operatorname{step}($1)")
    partials = (("$g · step($1)", "$g \\cdot \\operatorname{step}($1)"), ("0", "0"))

    def compute(self, g, a):
        if type(g) is not ndarray and not isinstance(g, generic):
            return g * array_namespace(g).astype(a > 0, g.dtype)  # the standard: no bool * float
        return g * (a > 0)

    def source(self, args, const):
        g, a = map(operand, args)
        return f"{g} * ({a} > 0)"

    def gradient(self, out_grad, node):
        g, a = node.inputs
        return (
            _make(self, (out_grad, a)) if g.requires_grad else no_adjoint(g),
            out_grad * 0.0 if a.requires_grad else no_adjoint(a),
        )

    def sympy(self, g, a):
        import sympy

        return g * sympy_elementwise(lambda x: sympy.Heaviside(x, 0), a)


class Tanh(UnaryFloatOp):
    """tanh a. Its adjoint ``out_grad * (1 - y**2)`` uses the node y itself, as one
    :class:`TanhBackward` node."""

    formula = ("tanh($0)", "\\tanh($0)")
    partials = (("$g · (1 − $y²)", "$g \\cdot (1 - $y^{2})"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.tanh(a)

    def source(self, args, const):
        return f"xp.tanh({args[0]})"

    def gradient(self, out_grad, node):
        return (_make(_TANH_BACKWARD, (out_grad, node)),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.tanh, a)


class TanhBackward(ElementwiseOp):
    """g * (1 - y**2): tanh's adjoint rule, given the adjoint g and the output y = tanh(x).

    One node where the composition ``g * (1 - y * y)`` makes four (a product, a
    negation, a shift and a product), with the same bits: the rule runs at every
    tanh of every backward pass, and a node costs about 0.5 us of Python (W1 of
    ``python -m adjoint bench``: 1,000 ops with 250 tanh, 15% faster). PyTorch
    has the same op (``tanh_backward``). It is a polynomial in g and y, which
    :func:`adjoint.simplify` expands, so nested derivatives of tanh simplify to
    the same graphs as with the composition; its own adjoints are
    ``TanhBackward(out_grad, y)`` for g and ``-2 out_grad g y`` for y.
    """

    polynomial = True
    formula = ("$0 · (1 − $1²)", "$0 \\cdot (1 - $1^{2})")
    partials = (
        ("$g · (1 − $1²)", "$g \\cdot (1 - $1^{2})"),
        ("−2 · $g · $0 · $1", "-2 $g \\, $0 \\, $1"),
    )

    def compute(self, g, y):
        return g * (1 - y * y)

    def source(self, args, const):
        g, y = map(operand, args)
        return f"{g} * (1 - {y} * {y})"

    def gradient(self, out_grad, node):
        g, y = node.inputs
        return (
            _make(self, (out_grad, y)) if g.requires_grad else no_adjoint(g),
            out_grad * g * y * -2 if y.requires_grad else no_adjoint(y),
        )

    def sympy(self, g, y):
        return g * (1 - y**2)


def stable_sigmoid(xp: Any, a: Any) -> Any:
    """:class:`Sigmoid`'s compute over the array namespace ``xp`` (NumPy or jax.numpy): its
    ``source`` calls it, as ``exp(-|a|)`` is needed twice."""
    if a.dtype.kind == "b":
        a = a.astype(xp.float16)
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(UnaryFloatOp):
    """1 / (1 + e**-a): a dedicated op, because every composition measured worse.

    ``1 / (1 + exp(-a))`` overflows below a = -709 and its gradient there is
    0 * inf = NaN; ``0.5 + 0.5 * tanh(a / 2)`` never overflows but loses
    relative accuracy in the left tail (1e-4 at a = -30, 0 instead of 4e-18
    at a = -40). Here ``exp`` only ever sees -|a|, so the value is accurate
    to rounding everywhere, and the derivative is written as
    sigmoid(a) * sigmoid(-a) rather than s * (1 - s), which would lose the
    right tail. Both factors are Sigmoid nodes, so every higher derivative is
    built from this op again. Tested against the composition. Its ``source``
    calls :func:`stable_sigmoid`, this compute over any array namespace.
    """

    formula = ("σ($0)", "\\sigma($0)")
    partials = (("$g · $y · (1 − $y)", "$g \\cdot $y (1 - $y)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        if host_dtype(a.dtype).kind == "b":  # -a is undefined for bools; exp(bool) is float16
            a = xp.astype(a, xp.float16)
        e = xp.exp(-xp.abs(a))
        return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))

    def source(self, args, const):
        return f"{const(stable_sigmoid)}(xp, {args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * node * sigmoid(-node.inputs[0]),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: 1 / (1 + sympy.exp(-x)), a)


class Sqrt(UnaryFloatOp):
    """Square root (NaN below 0, as NumPy). d/da sqrt(a) = 1 / (2 sqrt(a)), infinite at 0."""

    formula = ("√$0", "\\sqrt{$0}")
    partials = (("$g / (2 · $y)", "$g / (2 $y)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.sqrt(a)

    def source(self, args, const):
        return f"xp.sqrt({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad / (node * 2),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.sqrt, a)


class Sign(ElementwiseOp):
    """-1, 0 or 1 by the sign of a (sign(0) = 0), in a's dtype.

    The derivative of abs. Like :class:`Step`, its gradient is zero: the true
    derivative is zero wherever it exists.
    """

    formula = ("sign($0)", "\\operatorname{sign}($0)")
    partials = (("0", "0"),)

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            xp = array_namespace(a)
            return xp.sign(a) if host_dtype(a.dtype).kind != "b" else xp.asarray(a, copy=True)
        return np.sign(a) if a.dtype.kind != "b" else a.copy()  # NumPy has no bool sign

    def source(self, args, const):
        a = operand(args[0])
        return f'xp.sign({a}) if {a}.dtype.kind != "b" else {a}.copy()'

    def gradient(self, out_grad, node):
        return (out_grad * 0.0,)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.sign, a)


class Abs(ElementwiseOp):
    """|a|. The subgradient at 0 is 0 (as in PyTorch): abs'(x) = sign(x), sign(0) = 0.

    At ±inf the gradient is ±1; at NaN it is NaN (NumPy's sign), where PyTorch
    gives 0: kept on purpose, so that a NaN input shows in its gradient.
    """

    formula = ("|$0|", "|$0|")
    partials = (("$g · sign($0)", "$g \\cdot \\operatorname{sign}($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.abs(a)

    def source(self, args, const):
        return f"xp.abs({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * sign(node.inputs[0]),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(sympy.Abs, a)


class EqualMask(ElementwiseOp):
    """1 where a == b, else 0, in the inputs' dtype: a zero-gradient mask. NaN equals NaN.

    Used by ``Max``/``Min`` and ``maximum``/``minimum`` to find the elements
    that attain the extreme, so that ties share the gradient; a NaN extreme is
    attained by the NaN elements, which therefore get its adjoint. Like
    :class:`Step`, its gradient is zero (the mask is piecewise constant).
    """

    formula = ("[$0 = $1]", "[$0 = $1]")
    partials = (("0", "0"), ("0", "0"))

    def compute(self, a, b):
        xp = np if type(a) is ndarray else array_namespace(a)
        equal = a == b
        if host_dtype(b.dtype).kind == "f":
            nan_b = xp.isnan(b)
            if xp.any(nan_b):
                equal = equal | (nan_b & xp.isnan(a))
        return xp.astype(equal, xp.result_type(a.dtype, b.dtype))

    def source(self, args, const):
        # One expression for both of compute's branches: where b has no NaN, the second
        # term is all false.
        a, b = map(operand, args)
        return (
            f"(({a} == {b}) | (xp.isnan({a}) & xp.isnan({b})))"
            f".astype(xp.result_type({a}.dtype, {b}.dtype))"
        )

    def gradient(self, out_grad, node):
        return out_grad * 0.0, out_grad * 0.0

    def sympy(self, a, b):
        import sympy

        return sympy_elementwise(lambda x, y: sympy.Piecewise((1, sympy.Eq(x, y)), (0, True)), a, b)


def _share_extreme(out_grad: Tensor, node: Tensor) -> tuple[Tensor, Tensor]:
    """The adjoints of ``node = maximum(a, b)`` (or minimum): out_grad goes to the operand
    that attains ``node``, split 1/2 and 1/2 at a tie (infinities and NaNs included)."""
    a, b = node.inputs
    in_a, in_b = _make(_EQUAL_MASK, (a, node)), _make(_EQUAL_MASK, (b, node))
    share = out_grad / (in_a + in_b)  # a, b or both attain node: never 0 / 0
    return _make(_MUL, (share, in_a)), _make(_MUL, (share, in_b))


class Maximum(ElementwiseOp):
    """The larger of a and b, elementwise (NaN if either is NaN, as NumPy).

    The adjoint goes to the operand equal to the result: split 0.5 / 0.5 at a
    tie (PyTorch's rule), infinite ties included; a NaN operand takes it all
    (both NaN: 0.5 / 0.5). PyTorch gives *both* operands the full adjoint when
    one is NaN (its rule tests a < b and a > b, both false), so the adjoints
    sum to twice out_grad; here they always sum to out_grad, as at ties.
    """

    commutative = True
    formula = ("max($0, $1)", "\\max($0, $1)")
    partials = (
        ("$g · [$0 = $y] / #attaining", "$g \\cdot [$0 = $y] / \\#\\text{attaining}"),
        ("$g · [$1 = $y] / #attaining", "$g \\cdot [$1 = $y] / \\#\\text{attaining}"),
    )

    def compute(self, a, b):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.maximum(a, b)

    def source(self, args, const):
        return f"xp.maximum({args[0]}, {args[1]})"

    def gradient(self, out_grad, node):
        return _share_extreme(out_grad, node)

    def sympy(self, a, b):
        import sympy

        return sympy_elementwise(sympy.Max, a, b)


class Minimum(ElementwiseOp):
    """The smaller of a and b, elementwise; the adjoint is shared as for :class:`Maximum`."""

    commutative = True
    formula = ("min($0, $1)", "\\min($0, $1)")
    partials = (
        ("$g · [$0 = $y] / #attaining", "$g \\cdot [$0 = $y] / \\#\\text{attaining}"),
        ("$g · [$1 = $y] / #attaining", "$g \\cdot [$1 = $y] / \\#\\text{attaining}"),
    )

    def compute(self, a, b):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.minimum(a, b)

    def source(self, args, const):
        return f"xp.minimum({args[0]}, {args[1]})"

    def gradient(self, out_grad, node):
        return _share_extreme(out_grad, node)

    def sympy(self, a, b):
        import sympy

        return sympy_elementwise(sympy.Min, a, b)


class Where(ElementwiseOp):
    """a where cond is true (nonzero), else b; ``cond`` is an input but gets a zero adjoint.

    The adjoint of a is out_grad where cond holds and 0 elsewhere, so a branch
    that is not selected gets exactly zero (but beware NaN: 0 times an
    infinite derivative of the unselected branch is still NaN).
    """

    formula = ("where($0, $1, $2)", "\\operatorname{where}($0, $1, $2)")
    partials = (
        ("0", "0"),
        ("where($0, $g, 0)", "\\operatorname{where}($0, $g, 0)"),
        ("where($0, 0, $g)", "\\operatorname{where}($0, 0, $g)"),
    )

    def compute(self, cond, a, b):
        if type(a) is not ndarray and not isinstance(a, generic):
            xp = array_namespace(a, cond, b)
            if host_dtype(cond.dtype).kind != "b":  # the standard's where takes bools only
                cond = cond != 0
            return xp.where(cond, a, b)
        return np.where(cond, a, b)

    def source(self, args, const):
        return f"xp.where({args[0]}, {args[1]}, {args[2]})"

    def gradient(self, out_grad, node):
        cond = node.inputs[0]
        zeros = out_grad * 0.0
        return zeros, where(cond, out_grad, zeros), where(cond, zeros, out_grad)

    def sympy(self, cond, a, b):
        import sympy

        def pick(c, x, y):
            if c.is_zero is None:
                return sympy.Piecewise((x, sympy.Ne(c, 0)), (y, True))
            return y if c.is_zero else x

        return sympy_elementwise(pick, cond, a, b)


# ------------------------------------------------------ more of NumPy's functions


class Log1p(UnaryFloatOp):
    """log(1 + a), accurate where a is tiny (NumPy's log1p). d/da = 1 / (1 + a)."""

    formula = ("ln(1 + $0)", "\\ln(1 + $0)")
    partials = (("$g / (1 + $0)", "$g / (1 + $0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.log1p(a)

    def source(self, args, const):
        return f"xp.log1p({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad / (node.inputs[0] + 1),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: sympy.log(1 + x), a)


class Expm1(UnaryFloatOp):
    """e ** a - 1, accurate where a is tiny (NumPy's expm1). d/da = e ** a."""

    formula = ("exp($0) − 1", "\\exp($0) - 1")
    partials = (("$g · exp($0)", "$g \\cdot \\exp($0)"),)

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.expm1(a)

    def source(self, args, const):
        return f"xp.expm1({args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * exp(node.inputs[0]),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: sympy.exp(x) - 1, a)


class LogAddExp(ElementwiseOp):
    """log(e ** a + e ** b) without overflow (NumPy's logaddexp).

    The partials are sigmoid(a - b) and sigmoid(b - a): the stable
    :class:`Sigmoid` op, so the adjoint is exact where one operand is infinite
    and the other finite (1 and 0), and every higher derivative is built of
    sigmoids again.
    """

    commutative = True
    formula = ("ln(exp($0) + exp($1))", "\\ln(e^{$0} + e^{$1})")
    partials = (
        ("$g · σ($0 − $1)", "$g \\, \\sigma($0 - $1)"),
        ("$g · σ($1 − $0)", "$g \\, \\sigma($1 - $0)"),
    )

    def compute(self, a, b):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.logaddexp(a, b)

    def source(self, args, const):
        return f"xp.logaddexp({args[0]}, {args[1]})"

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return (
            out_grad * sigmoid(a - b) if a.requires_grad else no_adjoint(a),
            out_grad * sigmoid(b - a) if b.requires_grad else no_adjoint(b),
        )

    def sympy(self, a, b):
        import sympy

        return sympy_elementwise(lambda x, y: sympy.log(sympy.exp(x) + sympy.exp(y)), a, b)


class Softplus(UnaryFloatOp):
    """log(1 + e ** a), computed as NumPy's ``logaddexp(0, a)`` (no overflow).

    Its derivative is the sigmoid, as one :class:`Sigmoid` node.
    """

    formula = ("softplus($0)", "\\operatorname{softplus}($0)")
    partials = (("$g · σ($0)", "$g \\, \\sigma($0)"),)

    def compute(self, a):
        if type(a) is not ndarray and not isinstance(a, generic):
            xp = array_namespace(a)
            return xp.logaddexp(xp.zeros_like(a), a)
        return np.logaddexp(0, a)

    def source(self, args, const):
        return f"xp.logaddexp(0, {args[0]})"

    def gradient(self, out_grad, node):
        return (out_grad * sigmoid(node.inputs[0]),)

    def sympy(self, a):
        import sympy

        return sympy_elementwise(lambda x: sympy.log(1 + sympy.exp(x)), a)


def _bound_source(value: Any, const: Any) -> str:
    return "None" if value is None else operand(literal(value, const))


def _clip_mask_source(a: str, low: Any, high: Any, const: Any) -> str:
    tests = []
    if low is not None:
        tests.append(f"({a} >= {_bound_source(low, const)})")
    if high is not None:
        tests.append(f"({a} <= {_bound_source(high, const)})")
    return " & ".join(tests) if tests else f"xp.ones_like({a}, dtype=xp.bool_)"


def _clip_mask(a: np.ndarray, low: Any, high: Any) -> np.ndarray:
    """``low <= a <= high`` (a missing bound: no test), as a boolean array."""
    if low is None and high is None:
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.ones_like(a, dtype=xp.bool)
    if low is None:
        return a <= high
    if high is None:
        return a >= low
    return (a >= low) & (a <= high)


class Clip(ElementwiseOp):
    """a limited to [low, high] (NumPy's clip; a bound may be None, for none).

    The gradient passes where ``low <= a <= high``, bounds included, and is 0
    outside (PyTorch's clamp); at NaN it is 0, as relu's. Its adjoint is one
    :class:`ClipBackward` node, ``out_grad * [low <= a <= high]``. If low > high
    the result is ``high`` everywhere (NumPy) and the gradient 0.
    """

    formula = ("clip($0)", "\\operatorname{clip}($0)")
    partials = (("$g · [lo ≤ $0 ≤ hi]", "$g \\cdot [l \\le $0 \\le h]"),)

    def __init__(self, low: Any = None, high: Any = None) -> None:
        self.low = None if low is None else as_scalar(low, "Clip")
        self.high = None if high is None else as_scalar(high, "Clip")

    def compute(self, a):
        xp = np if type(a) is ndarray else array_namespace(a)
        return xp.clip(a, self.low, self.high)

    def source(self, args, const):
        low, high = _bound_source(self.low, const), _bound_source(self.high, const)
        return f"xp.clip({args[0]}, {low}, {high})"

    def gradient(self, out_grad, node):
        return (_make(ClipBackward(self.low, self.high), (out_grad, node.inputs[0])),)

    def sympy(self, a):
        import sympy

        low, high = self.low, self.high

        def clip(x):
            if low is not None:
                x = sympy.Max(x, sympy_number(low))
            if high is not None:
                x = sympy.Min(x, sympy_number(high))
            return x

        return sympy_elementwise(clip, a)


class ClipBackward(ElementwiseOp):
    """g * [low <= a <= high]: clip's adjoint rule, given the adjoint g and clip's input a.

    As :class:`ReLUBackward`: its own adjoints are ``ClipBackward(out_grad, a)``
    for g and 0 for a (the mask is piecewise constant).
    """

    formula = ("$0 · [lo ≤ $1 ≤ hi]", "$0 \\cdot [l \\le $1 \\le h]")
    partials = (("$g · [lo ≤ $1 ≤ hi]", "$g \\cdot [l \\le $1 \\le h]"), ("0", "0"))

    def __init__(self, low: Any = None, high: Any = None) -> None:
        self.low = None if low is None else as_scalar(low, "ClipBackward")
        self.high = None if high is None else as_scalar(high, "ClipBackward")

    def compute(self, g, a):
        mask = _clip_mask(a, self.low, self.high)
        if type(g) is not ndarray and not isinstance(g, generic):
            return g * array_namespace(g).astype(mask, g.dtype)  # the standard: no bool * float
        return g * mask

    def source(self, args, const):
        g, a = map(operand, args)
        return f"{g} * ({_clip_mask_source(a, self.low, self.high, const)})"

    def gradient(self, out_grad, node):
        g, a = node.inputs
        return (
            _make(self, (out_grad, a)) if g.requires_grad else no_adjoint(g),
            out_grad * 0.0 if a.requires_grad else no_adjoint(a),
        )

    def sympy(self, g, a):
        import sympy

        low, high = self.low, self.high

        def inside(x):
            tests = []
            if low is not None:
                tests.append(x >= sympy_number(low))
            if high is not None:
                tests.append(x <= sympy_number(high))
            return sympy.Piecewise((1, sympy.And(*tests)), (0, True)) if tests else 1

        return g * sympy_elementwise(inside, a)


# ------------------------------------------------------------------ functions

# Ops without attributes are shared by all their nodes, and the hot front ends
# call make_from_op directly: per node one allocation and two calls less.
_ADD, _MUL, _DIV, _NEGATE = EWiseAdd(), EWiseMul(), EWiseDiv(), Negate()
_SIN, _COS, _EXP, _LOG, _TANH = Sin(), Cos(), Exp(), Log(), Tanh()
_TANH_BACKWARD, _RELU_BACKWARD = TanhBackward(), ReLUBackward()
_EQUAL_MASK = EqualMask()
_make = Tensor.make_from_op

# Scalar ops of the hot front ends are shared too, per (class, type, value) of
# the scalar: ``h * 1.0001`` in a loop, or tanh's adjoint ``1 - y * y``, made a
# new op object per node (about 0.3 us each, and one more object for the cyclic
# GC while the graph lives). Only Python ints and floats, not NaN (never equal
# to itself) and not zero (0.0 and -0.0 are equal but multiply differently);
# bounded, as a program may use any number of distinct scalars.
_scalar_ops: dict[tuple[type, type, float | int], ScalarOp] = {}


def _scalar_op(cls: type, scalar: Any) -> ScalarOp:
    kind = type(scalar)
    if (kind is not float and kind is not int) or scalar != scalar or scalar == 0:
        return cls(scalar)
    key = (cls, kind, scalar)
    op = _scalar_ops.get(key)
    if op is None:
        op = cls(scalar)
        if len(_scalar_ops) < 256:
            _scalar_ops[key] = op
    return op


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
    op = _scalar_op(PowerScalar, scalar)
    a = as_tensor(a, "power_scalar")
    if type(op.scalar) is int and op.scalar < 0:
        _refuse_negative_int_power(a, op.scalar, "power_scalar")
    return _make(op, (a,))


def scalar_power(scalar: Any, a: Tensor) -> Tensor:
    """scalar ** a, elementwise (``2 ** x``)."""
    return ScalarPower(scalar)(as_tensor(a, "scalar_power"))


def add(a: Any, b: Any) -> Tensor:
    """a + b with NumPy broadcasting; a Python number gives ``add_scalar``."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # the hot path first
        # The shapes, read as broadcast_pair reads them (lazy nodes: the inferred one).
        data_a, data_b = a.cached_data, b.cached_data
        shape_a = data_a.shape if data_a is not None else a._meta and a._meta[0]
        shape_b = data_b.shape if data_b is not None else b._meta and b._meta[0]
        if shape_a == shape_b and shape_a is not None:
            return _make(_ADD, (a, b))
        return _make(_ADD, broadcast_pair(a, b, "add"))
    if is_scalar(b):
        return _make(_scalar_op(AddScalar, b), (as_tensor(a, "add"),))
    if is_scalar(a):
        return _make(_scalar_op(AddScalar, a), (as_tensor(b, "add"),))
    a, b = broadcast_pair(as_tensor(a, "add"), as_tensor(b, "add"), "add")
    return EWiseAdd()(a, b)


def subtract(a: Any, b: Any) -> Tensor:
    """a - b, built as ``add(a, negate(b))`` (needle's two nodes) or ``add_scalar``.

    So ``b`` must have a negative: a bool tensor is refused, as by :func:`negate`.
    """
    if is_scalar(b):
        shift = _scalar_op(AddScalar, -as_scalar(b, "subtract"))
        return _make(shift, (as_tensor(a, "subtract"),))
    if is_scalar(a):
        return _make(_scalar_op(AddScalar, a), (_make(_NEGATE, (_signed(b, "subtract"),)),))
    a = as_tensor(a, "subtract")
    return _make(_ADD, broadcast_pair(a, _make(_NEGATE, (_signed(b, "subtract"),)), "subtract"))


def multiply(a: Any, b: Any) -> Tensor:
    """a * b with NumPy broadcasting; a Python number gives ``mul_scalar``."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # the hot path first
        # The shapes, read as broadcast_pair reads them (lazy nodes: the inferred one).
        data_a, data_b = a.cached_data, b.cached_data
        shape_a = data_a.shape if data_a is not None else a._meta and a._meta[0]
        shape_b = data_b.shape if data_b is not None else b._meta and b._meta[0]
        if shape_a == shape_b and shape_a is not None:
            return _make(_MUL, (a, b))
        return _make(_MUL, broadcast_pair(a, b, "multiply"))
    if is_scalar(b):
        return _make(_scalar_op(MulScalar, b), (as_tensor(a, "multiply"),))
    if is_scalar(a):
        return _make(_scalar_op(MulScalar, a), (as_tensor(b, "multiply"),))
    a, b = broadcast_pair(as_tensor(a, "multiply"), as_tensor(b, "multiply"), "multiply")
    return EWiseMul()(a, b)


def divide(a: Any, b: Any) -> Tensor:
    """a / b with NumPy broadcasting; ``x / 2`` is ``divide_scalar``, ``1 / x`` is ``x ** -1``.

    True division, as NumPy's: integer and bool operands give floats, so
    ``1 / x`` of an integer ``x`` is ``EWiseDiv`` by a constant (``x ** -1`` is
    refused for integers, as in NumPy).
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # the hot path first
        return _make(_DIV, broadcast_pair(a, b, "divide"))
    if is_scalar(b):
        return _make(_scalar_op(DivScalar, b), (as_tensor(a, "divide"),))
    if is_scalar(a):
        b = as_tensor(b, "divide")
        if b.dtype.kind != "f":
            as_scalar(a, "divide")  # a real number, not a bool or complex
            numerator = as_tensor(np.asarray(a), "divide", b)  # on b's device
            return _make(_DIV, broadcast_pair(numerator, b, "divide"))
        reciprocal = PowerScalar(-1)(b)
        return reciprocal if a == 1 else MulScalar(a)(reciprocal)
    a, b = broadcast_pair(as_tensor(a, "divide"), as_tensor(b, "divide"), "divide")
    return EWiseDiv()(a, b)


def power(a: Any, b: Any) -> Tensor:
    """a ** b with NumPy broadcasting; a number exponent gives ``power_scalar``,
    a number base gives ``scalar_power``. Integers to negative integer powers are
    refused, as in NumPy (give a float exponent or a float tensor)."""
    if is_scalar(b):
        op = PowerScalar(b)
        a = as_tensor(a, "power")
        if type(op.scalar) is int and op.scalar < 0:
            _refuse_negative_int_power(a, op.scalar, "power")
        return _make(op, (a,))
    if is_scalar(a):
        return _make(ScalarPower(a), (as_tensor(b, "power"),))
    a, b = broadcast_pair(as_tensor(a, "power"), as_tensor(b, "power"), "power")
    return EWisePow()(a, b)


def _refuse_negative_int_power(a: Tensor, p: int, op_name: str) -> None:
    if a.dtype.kind in "biu":
        raise ValueError(
            f"{op_name}: integers to negative integer powers are not allowed ({a.dtype} ** "
            f"{p}), as in NumPy; use a float exponent ({float(p)}) or a float tensor"
        )


def _signed(a: Any, op_name: str) -> Tensor:
    """``a`` as a Tensor that has a negative: bool tensors are refused, as by NumPy."""
    a = as_tensor(a, op_name)
    if a.dtype.kind == "b":
        raise TypeError(
            f"{op_name}: a bool tensor has no negative (NumPy refuses it too); for a logical "
            "not use ad.where(mask, 0.0, 1.0), or convert it: ad.Tensor(mask, dtype=np.float64)"
        )
    return a


def negate(a: Tensor) -> Tensor:
    """-a; a bool tensor is refused with a TypeError, as NumPy refuses ``-mask``."""
    return _make(_NEGATE, (_signed(a, "negate"),))


def log(a: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    return _make(_LOG, (as_tensor(a, "log"),))


def exp(a: Tensor) -> Tensor:
    """e ** a, elementwise."""
    return _make(_EXP, (as_tensor(a, "exp"),))


def sin(a: Tensor) -> Tensor:
    """Sine, elementwise."""
    return _make(_SIN, (as_tensor(a, "sin"),))


def cos(a: Tensor) -> Tensor:
    """Cosine, elementwise."""
    return _make(_COS, (as_tensor(a, "cos"),))


def step(a: Tensor) -> Tensor:
    """1 where a > 0, else 0 (the derivative of relu, with step(0) = 0)."""
    return Step()(as_tensor(a, "step"))


def relu(a: Tensor) -> Tensor:
    """max(a, 0), elementwise; its subgradient at 0 is 0."""
    return ReLU()(as_tensor(a, "relu"))


def relu_backward(out_grad: Any, a: Any) -> Tensor:
    """``out_grad * step(a)`` as one node: relu's adjoint, given relu's input ``a``.

    >>> import adjoint as ad
    >>> ad.relu_backward(ad.Tensor([5.0, 5.0, 5.0]), ad.Tensor([-1.0, 0.0, 2.0]))
    Tensor([0. 0. 5.], shape=(3,), dtype=float64, op=ReLUBackward, requires_grad=True)
    """
    return _make(_RELU_BACKWARD, _tensor_pair(out_grad, a, "relu_backward"))


def tanh(a: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return _make(_TANH, (as_tensor(a, "tanh"),))


def tanh_backward(out_grad: Any, y: Any) -> Tensor:
    """``out_grad * (1 - y**2)`` as one node: tanh's adjoint, given its output ``y``.

    >>> import adjoint as ad
    >>> y = ad.tanh(ad.Tensor([0.0, 0.5]))
    >>> ad.tanh_backward(ad.Tensor([1.0, 2.0]), y)
    Tensor([1.         1.57289547], shape=(2,), dtype=float64, op=TanhBackward,
           requires_grad=True)
    """
    return _make(_TANH_BACKWARD, _tensor_pair(out_grad, y, "tanh_backward"))


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e**-a), elementwise; see :class:`Sigmoid` for why it is an op of its own.

    >>> import adjoint as ad
    >>> float(ad.sigmoid(ad.Tensor(0.0)))
    0.5
    """
    return Sigmoid()(as_tensor(a, "sigmoid"))


def sqrt(a: Tensor) -> Tensor:
    """Square root, elementwise."""
    return Sqrt()(as_tensor(a, "sqrt"))


def sign(a: Tensor) -> Tensor:
    """-1, 0 or 1 by sign, elementwise (sign(0) = 0); its gradient is zero."""
    return Sign()(as_tensor(a, "sign"))


def abs(a: Tensor) -> Tensor:  # noqa: A001 - NumPy's and PyTorch's name
    """|a|, elementwise; its subgradient at 0 is 0 (sign(0) = 0, as PyTorch)."""
    return Abs()(as_tensor(a, "abs"))


def equal_mask(a: Any, b: Any) -> Tensor:
    """1 where a == b, else 0 (broadcasting); a mask with zero gradient."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    a, b = as_tensor(a, "equal_mask", like), as_tensor(b, "equal_mask", like)
    return EqualMask()(*broadcast_pair(a, b, "equal_mask"))


def _tensor_pair(a: Any, b: Any, op_name: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a number takes the other operand's float dtype."""
    like = None
    if is_scalar(b) and isinstance(a, Tensor):
        b, like = np.asarray(b, dtype=np.result_type(a.dtype, b)), a
    elif is_scalar(a) and isinstance(b, Tensor):
        a, like = np.asarray(a, dtype=np.result_type(b.dtype, a)), b
    return broadcast_pair(as_tensor(a, op_name, like), as_tensor(b, op_name, like), op_name)


def maximum(a: Any, b: Any) -> Tensor:
    """The larger of a and b, elementwise, with broadcasting; ties split the gradient 0.5/0.5.

    >>> import adjoint as ad
    >>> x = ad.Tensor([1.0, 2.0, 3.0])
    >>> y = ad.maximum(x, 2.0).sum()
    >>> y.backward()
    >>> x.grad.numpy()
    array([0. , 0.5, 1. ])
    """
    return Maximum()(*_tensor_pair(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    """The smaller of a and b, elementwise, with broadcasting; ties split the gradient 0.5/0.5."""
    return Minimum()(*_tensor_pair(a, b, "minimum"))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true (nonzero), else ``b``; the three broadcast together.

    ``cond`` may be a boolean Tensor (``x > 0``), an array, or a numeric
    Tensor such as ``step(x)``, which keeps lazy graphs lazy. No gradient
    flows into ``cond``.

    >>> import adjoint as ad
    >>> x = ad.Tensor([-1.0, 2.0])
    >>> ad.where(x > 0, x, 0.0)
    Tensor([0. 2.], shape=(2,), dtype=float64, op=Where, requires_grad=True)
    """
    a, b = _tensor_pair(a, b, "where")
    cond = as_tensor(cond, "where", a)
    shape = a.shape
    if cond.shape != shape:
        try:
            shape = broadcast_shapes(cond.shape, shape, "where")
        except ValueError:
            raise ValueError(
                f"where: condition of shape {cond.shape} does not broadcast with operands of "
                f"shape {a.shape}; trailing dimensions must be equal or 1"
            ) from None
        if cond.shape != shape:
            cond = broadcast_to(cond, shape)
        if a.shape != shape:
            a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    return Where()(cond, a, b)


def log1p(a: Tensor) -> Tensor:
    """log(1 + a), elementwise, accurate for tiny a.

    >>> import adjoint as ad
    >>> float(ad.log1p(ad.Tensor(1e-20)))
    1e-20
    """
    return Log1p()(as_tensor(a, "log1p"))


def expm1(a: Tensor) -> Tensor:
    """e ** a - 1, elementwise, accurate for tiny a."""
    return Expm1()(as_tensor(a, "expm1"))


def logaddexp(a: Any, b: Any) -> Tensor:
    """log(e ** a + e ** b), elementwise with broadcasting, without overflow.

    >>> import adjoint as ad
    >>> float(ad.logaddexp(ad.Tensor(1000.0), 1000.0))
    1000.6931471805599
    """
    return LogAddExp()(*_tensor_pair(a, b, "logaddexp"))


def softplus(a: Tensor) -> Tensor:
    """log(1 + e ** a), elementwise, without overflow; its derivative is the sigmoid.

    >>> import adjoint as ad
    >>> float(ad.grad(ad.softplus)(ad.Tensor(0.0)))
    0.5
    """
    return Softplus()(as_tensor(a, "softplus"))


def square(a: Tensor) -> Tensor:
    """a * a, elementwise (one ``EWiseMul`` node: a composite with no gradient code)."""
    a = as_tensor(a, "square")
    return _make(_MUL, (a, a))


def reciprocal(a: Tensor) -> Tensor:
    """1 / a, elementwise: ``a ** -1`` for floats; true division (floats) for integers,
    where NumPy's ``np.reciprocal`` would truncate (1 / 2 = 0)."""
    return divide(1, as_tensor(a, "reciprocal"))


def clip(a: Tensor, a_min: Any = None, a_max: Any = None) -> Tensor:
    """a limited to [a_min, a_max] (numbers, or None for no bound), as ``np.clip``.

    The gradient is 1 inside the closed interval and 0 outside (see :class:`Clip`).
    For bounds that are tensors use ``ad.minimum(ad.maximum(a, low), high)``.

    >>> import adjoint as ad
    >>> x = ad.Tensor([-2.0, 0.5, 3.0])
    >>> ad.clip(x, -1, 1).sum().backward()
    >>> x.grad.numpy()
    array([0., 1., 0.])
    """
    a = as_tensor(a, "clip")
    for bound, what in ((a_min, "a_min"), (a_max, "a_max")):
        if bound is not None and not is_scalar(bound):
            raise TypeError(
                f"clip: {what} must be a number or None, got {type(bound).__name__}; for "
                "bounds that are tensors use ad.minimum(ad.maximum(a, low), high)"
            )
    low = None if a_min is None else as_scalar(a_min, "clip")
    high = None if a_max is None else as_scalar(a_max, "clip")
    return Clip(low, high)(a)
