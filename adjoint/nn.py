"""Neural-network layers with needle's module API.

A :class:`Module` holds :class:`Parameter` tensors (found recursively by
:meth:`Module.parameters`) and sub-modules, and computes in ``forward``; calling
the module calls ``forward``. Every layer is a composition of adjoint ops, so a
layer needs no gradient code of its own and its derivatives of any order come
from the ops' (a Hessian-vector product through a ResNet works).

>>> import numpy as np, adjoint as ad
>>> from adjoint import nn
>>> np.random.seed(0)
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> loss = nn.SoftmaxLoss()(model(ad.Tensor(np.ones((2, 4)))), np.array([0, 2]))
>>> loss.backward(create_graph=False)
>>> [p.grad.shape for p in model.parameters()]
[(4, 8), (1, 8), (8, 3), (1, 3)]

Conventions: images are NCHW and convolution kernels ``(KH, KW, C_in, C_out)``
(needle's layout). Parameters are float32 unless ``dtype=`` says otherwise, as in
needle (whose tests assign float32 data to them) and PyTorch; inputs of another
dtype promote by NumPy's rules (float64 images give float64 activations and
gradients, which the optimizers cast back on update). Random initializations draw
from NumPy's global generator (``np.random.seed`` makes them reproducible, as in
needle) or from the generator given as ``rng=``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from adjoint import init, ops
from adjoint.autograd import Tensor

__all__ = [
    "Parameter",
    "Module",
    "Identity",
    "Linear",
    "Flatten",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Sequential",
    "Residual",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm1d",
    "SoftmaxLoss",
    "Conv2d",
    "Conv",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
]


class Parameter(Tensor):
    """A Tensor that a :class:`Module` trains: found by ``parameters()``, requires grad.

    ``Parameter(init.zeros(3))`` copies the data of the tensor (or array) it is given.
    """

    __slots__ = ()


def _unpack_params(value: Any) -> list[Parameter]:
    if isinstance(value, Parameter):
        return [value]
    if isinstance(value, Module):
        return value.parameters()
    if isinstance(value, dict):
        return [p for v in value.values() for p in _unpack_params(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _unpack_params(v)]
    return []


def _child_modules(value: Any) -> list[Module]:
    if isinstance(value, Module):
        return [value, *_child_modules(value.__dict__)]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _child_modules(v)]
    if isinstance(value, (list, tuple)):
        return [m for v in value for m in _child_modules(v)]
    return []


class Module:
    """Base of all layers: parameters, sub-modules, train/eval mode, ``__call__`` → ``forward``.

    Sub-modules and parameters are found in the instance's attributes, also
    inside lists, tuples and dicts, so subclasses just assign them.
    """

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    def parameters(self) -> list[Parameter]:
        """Every Parameter of this module and its sub-modules, each once, in attribute order."""
        seen: set[int] = set()
        unique = []
        for p in _unpack_params(self.__dict__):
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        return unique

    def _children(self) -> list[Module]:
        return _child_modules(self.__dict__)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (batch statistics, dropout on) here and in every sub-module."""
        self.training = mode
        for m in self._children():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (running statistics, dropout off) everywhere."""
        return self.train(False)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def __repr__(self) -> str:
        children = [f"{k}={v!r}" for k, v in vars(self).items() if isinstance(v, Module)]
        return f"{type(self).__name__}({', '.join(children)})"


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


# ----------------------------------------------------------------- basic layers


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Linear(Module):
    """``x @ weight + bias`` with weight ``(in_features, out_features)`` and bias ``(1, out)``.

    Both are Kaiming-uniform initialized as in needle (the bias with fan-in
    ``out_features``, needle's choice).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = _dtype(dtype)
        self.weight = Parameter(
            init.kaiming_uniform(in_features, out_features, dtype=dtype, rng=rng)
        )
        self.bias = None
        if bias:
            b = init.kaiming_uniform(out_features, 1, dtype=dtype, rng=rng)
            self.bias = Parameter(b.numpy().reshape(1, out_features))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input of shape {x.shape} has {x.shape[-1]} features, "
                f"expected {self.in_features}"
            )
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class Flatten(Module):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.reshape(x, (x.shape[0], -1))


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class Sequential(Module):
    """Apply ``modules`` in order."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self.modules = list(modules)

    def forward(self, x: Tensor) -> Tensor:
        for module in self.modules:
            x = module(x)
        return x

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __repr__(self) -> str:
        inner = ",\n".join("  " + repr(m).replace("\n", "\n  ") for m in self.modules)
        return f"Sequential(\n{inner}\n)"


class Residual(Module):
    """``fn(x) + x``: the skip connection of a ResNet."""

    def __init__(self, fn: Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x) + x

    def __repr__(self) -> str:
        return f"Residual({self.fn!r})"


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1-p).

    The identity in eval mode. The mask is a constant, so the gradient is the
    same mask (inverted dropout, as in needle and PyTorch).
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p = p
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        sample = self.rng.random(x.shape) if self.rng is not None else np.random.rand(*x.shape)
        mask = (sample < 1 - self.p).astype(x.dtype) / (1 - self.p)  # needle's randb draw
        return x * Tensor.from_numpy(mask)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# ----------------------------------------------------------------- normalization


class _Norm(Module):
    """Shared parts of the norms: affine ``weight``/``bias`` of shape ``(dim,)``."""

    def __init__(self, dim: int, eps: float, dtype: Any) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps
        dtype = _dtype(dtype)
        self.weight = Parameter(init.ones(dim, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, dtype=dtype))

    def _affine(self, xhat: Tensor, shape: tuple[int, ...]) -> Tensor:
        return xhat * ops.reshape(self.weight, shape) + ops.reshape(self.bias, shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dim}, eps={self.eps})"


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over ``axes`` with the biased variance; also mean, var."""
    mean = ops.mean(x, axes, keepdims=True)
    centered = x - mean
    var = ops.mean(centered * centered, axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


class _BatchNorm(_Norm):
    axes: tuple[int, ...] = (0,)

    def __init__(
        self, dim: int, eps: float = 1e-5, momentum: float = 0.1, device: Any = None, dtype=None
    ) -> None:
        super().__init__(dim, eps, dtype)
        self.momentum = momentum
        self.running_mean = init.zeros(dim, dtype=self.weight.dtype)
        self.running_var = init.ones(dim, dtype=self.weight.dtype)

    def _param_shape(self, x: Tensor) -> tuple[int, ...]:
        return tuple(self.dim if k == 1 else 1 for k in range(x.ndim))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != len(self.axes) + 1 or x.shape[1] != self.dim:
            raise ValueError(
                f"{type(self).__name__}: input of shape {x.shape} does not match "
                f"{self.dim} features/channels on axis 1 ({len(self.axes) + 1} dimensions)"
            )
        shape = self._param_shape(x)
        if self.training:
            xhat, mean, var = _normalize(x, self.axes, self.eps)
            m = self.momentum
            dtype = self.running_mean.dtype
            self.running_mean = Tensor.from_numpy(
                ((1 - m) * self.running_mean.numpy() + m * mean.numpy().reshape(self.dim)).astype(
                    dtype
                )
            )
            self.running_var = Tensor.from_numpy(
                ((1 - m) * self.running_var.numpy() + m * var.numpy().reshape(self.dim)).astype(
                    dtype
                )
            )
        else:
            mean = Tensor.from_numpy(self.running_mean.numpy().reshape(shape))
            scale = Tensor.from_numpy((self.running_var.numpy() + self.eps).reshape(shape) ** -0.5)
            xhat = (x - mean) * scale
        return self._affine(xhat, shape)


class BatchNorm1d(_BatchNorm):
    """Normalize each feature of ``(N, dim)`` over the batch, then scale and shift.

    Training uses the batch mean and (biased) variance and updates
    ``running_mean``/``running_var`` as ``(1 - momentum) * running + momentum *
    batch`` (needle's rule, also for the variance); eval mode uses the running
    statistics. The running statistics are constants, not parameters.
    """

    axes = (0,)


class BatchNorm2d(_BatchNorm):
    """Batch norm of NCHW images: each channel over the batch and all pixels (N, H, W)."""

    axes = (0, 2, 3)


class LayerNorm1d(_Norm):
    """Normalize each row of ``(N, dim)`` over its features, then scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5, device: Any = None, dtype=None) -> None:
        super().__init__(dim, eps, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm1d: input of shape {x.shape} has not {self.dim} features")
        xhat, _, _ = _normalize(x, (x.ndim - 1,), self.eps)
        return self._affine(xhat, (1,) * (x.ndim - 1) + (self.dim,))


# ------------------------------------------------------------------------ loss


class SoftmaxLoss(Module):
    """Mean cross-entropy of ``logits (N, k)`` against integer labels ``y (N,)``.

    ``mean(logsumexp(logits, axis 1) - logits[i, y_i])``; the label term is a
    product with a constant one-hot matrix (needle's formulation).
    """

    def forward(self, logits: Tensor, y: Any) -> Tensor:
        if logits.ndim != 2:
            raise ValueError(f"SoftmaxLoss: logits must be (N, k), got shape {logits.shape}")
        n, k = logits.shape
        labels = np.asarray(y.numpy() if isinstance(y, Tensor) else y).reshape(-1)
        if labels.shape[0] != n:
            raise ValueError(f"SoftmaxLoss: {labels.shape[0]} labels for {n} rows of logits")
        onehot = init.one_hot(k, labels, dtype=logits.dtype)
        picked = (logits * onehot).sum(1)
        return (ops.logsumexp(logits, axes=1) - picked).sum() / n


# ------------------------------------------------------------------ convolution


class Conv2d(Module):
    """2-D convolution of NCHW images; weight ``(k, k, in, out)``, bias ``(out,)``.

    Kaiming-uniform weights with fan-in ``in * k * k`` and a bias uniform in
    ``±1/sqrt(in * k * k)``, as in needle and PyTorch. See
    :func:`adjoint.ops.conv2d` for how it is computed and differentiated.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        dtype = _dtype(dtype)
        k = kernel_size
        fan_in = in_channels * k * k
        self.weight = Parameter(
            init.kaiming_uniform(
                fan_in, out_channels * k * k, shape=(k, k, in_channels, out_channels),
                dtype=dtype, rng=rng,
            )
        )  # fmt: skip
        self.bias = None
        if bias:
            bound = 1 / math.sqrt(fan_in)
            self.bias = Parameter(
                init.rand(out_channels, low=-bound, high=bound, dtype=dtype, rng=rng)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = ops.conv2d(x, self.weight, self.stride, self.padding)
        if self.bias is not None:
            out = out + ops.reshape(self.bias, (1, self.out_channels, 1, 1))
        return out

    def __repr__(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})"
        )


class Conv(Conv2d):
    """needle's ``nn.Conv`` (homework 4): a :class:`Conv2d` with "same" padding ``k // 2``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            kernel_size // 2,
            bias,
            dtype=dtype,
            rng=rng,
        )


class MaxPool2d(Module):
    """Maximum over ``kernel_size`` windows (stride defaults to the kernel size)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(MaxPool2d):
    """Mean over ``kernel_size`` windows (stride defaults to the kernel size)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(Module):
    """Mean over all pixels: ``(N, C, H, W) -> (N, C)``, a ResNet's last pooling."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.global_avg_pool2d(x)
