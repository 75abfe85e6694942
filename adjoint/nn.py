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
import numbers
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from adjoint import init, ops
from adjoint.device import array_namespace
from adjoint.ops.common import as_tensor
from adjoint.tensor import Tensor

__all__ = [
    "Parameter",
    "Buffer",
    "Module",
    "IncompatibleKeys",
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


# ------------------------------------------------------------- argument checks
# Shared by adjoint.optim and adjoint.data: every constructor checks its
# arguments at once, so a bad one fails where it is written, with a message
# that names the class, the argument and what would be valid.


def _integer_arg(value: Any, name: str, owner: str, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {what}, got {value}")
    return int(value)


def _real_arg(
    value: Any,
    name: str,
    owner: str,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """``value`` as a float in the interval from ``low`` to ``high`` (NaN is never in it)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: {name} must be a real number, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):  # also NaN
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: {name} must lie in {interval}, got {value}")
    return value


def _bool_arg(value: Any, name: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def _generator_arg(value: Any, owner: str) -> np.random.Generator | None:
    if value is not None and not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{owner}: rng must be a numpy.random.Generator or None, got {type(value).__name__}"
        )
    return value


def _dtype(dtype: Any, owner: str = "Module") -> np.dtype:
    """The parameters' dtype: float32 by default; only floating-point dtypes can be trained."""
    if dtype is None:
        return np.dtype(np.float32)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner}: dtype {dtype!r} is not a NumPy dtype") from None
    if dtype.kind != "f":
        raise TypeError(
            f"{owner}: dtype must be a floating-point dtype (float16, float32 or float64), "
            f"got {dtype}"
        )
    return dtype


def _input(owner: str, x: Any, ndim: int | None = None, kinds: str = "iuf") -> Tensor:
    """A layer's input as a Tensor, with a message naming the layer when it cannot be one.

    Layers take floating-point data; integers are accepted and promote by
    NumPy's rules. Bool data is refused (a mask passed for data, most often).
    """
    if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: input of dtype {x.dtype} is not numeric")
    x = as_tensor(x, owner)
    if x.dtype.kind not in kinds:
        valid = "floating-point" if kinds == "f" else "floating-point (or integer)"
        raise TypeError(f"{owner}: input must be {valid} data, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{owner}: input must have {ndim} dimension(s), got shape {x.shape}")
    return x


# ------------------------------------------------------------------ the Module API


class Parameter(Tensor):
    """A Tensor that a :class:`Module` trains: found by ``parameters()``, requires grad.

    ``Parameter(init.zeros(3))`` copies the data of the tensor (or array) it is given.
    The data must be floating point: an optimizer's step on integers would be rounded away.
    """

    __slots__ = ()

    def __init__(
        self,
        array: Any,
        *,
        device: Any = None,
        dtype: Any = None,
        requires_grad: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(array, device=device, dtype=dtype, requires_grad=requires_grad, name=name)
        if self.dtype.kind != "f":
            raise TypeError(
                f"Parameter: data must be floating point, got dtype {self.dtype}; "
                "convert it (dtype='float32') or keep it as a Buffer"
            )


class Buffer(Tensor):
    """A Tensor that a :class:`Module` keeps but does not train, such as running statistics.

    Saved by :meth:`Module.state_dict` with the parameters, never returned by
    ``parameters()``, and it requires no grad. Like ``Parameter(x)``,
    ``Buffer(x)`` copies ``x``; a module that replaces a buffer assigns a new
    ``Buffer`` to the attribute.
    """

    __slots__ = ()

    def __init__(
        self, array: Any, *, device: Any = None, dtype: Any = None, name: str | None = None
    ) -> None:
        super().__init__(array, device=device, dtype=dtype, requires_grad=False, name=name)


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


def _named_children(items: list[tuple[str, Any]]) -> list[tuple[str, Module]]:
    """The modules among ``(name, value)`` pairs, also inside lists, tuples and dicts
    (named ``attr.key``), but not inside other modules: a module's direct children."""
    found: list[tuple[str, Module]] = []
    for name, value in items:
        if isinstance(value, Module):
            found.append((name, value))
        elif isinstance(value, dict):
            found += _named_children([(f"{name}.{k}", v) for k, v in value.items()])
        elif isinstance(value, (list, tuple)):
            found += _named_children([(f"{name}.{i}", v) for i, v in enumerate(value)])
    return found


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` left out: keys the model has and the state had not,
    and keys the state had and the model has not (both empty after a strict load)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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

    def buffers(self) -> list[Buffer]:
        """Every Buffer of this module and its sub-modules, each once, in attribute order."""
        return [t for _, t in self._named_state() if isinstance(t, Buffer)]

    def _children(self) -> list[Module]:
        return _child_modules(self.__dict__)

    def _state_items(self) -> list[tuple[str, Any]]:
        """The (name, value) pairs whose tensors the state dict holds, in attribute order."""
        return list(vars(self).items())

    def _named_state(self) -> list[tuple[str, Tensor]]:
        """Each Parameter and Buffer once, under the dotted path of its first occurrence."""
        named: list[tuple[str, Tensor]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:  # depth first, in attribute order, like parameters()
            prefix, value = stack.pop()
            if isinstance(value, (Parameter, Buffer)):
                if id(value) not in seen:
                    seen.add(id(value))
                    named.append((prefix, value))
                continue
            if isinstance(value, Module):
                if id(value) in seen:
                    continue
                seen.add(id(value))
                items = value._state_items()
            elif isinstance(value, dict):
                items = [(str(k), v) for k, v in value.items()]
            elif isinstance(value, (list, tuple)):
                items = [(str(i), v) for i, v in enumerate(value)]
            else:
                continue
            stack.extend((f"{prefix}.{k}" if prefix else k, v) for k, v in reversed(items))
        return named

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every Parameter's and Buffer's data, keyed by dotted attribute path.

        Keys follow PyTorch's: ``"fc.weight"``, ``"blocks.0.running_mean"``; the
        layers of a :class:`Sequential` are named by their index (``"0.weight"``).
        A tensor reachable twice (a shared layer) appears once, under its first
        name. The arrays are copies: later training does not change them.

        >>> import adjoint as ad
        >>> model = Sequential(Linear(2, 3), BatchNorm1d(3))
        >>> list(model.state_dict())
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var']
        """
        return {name: t.numpy().copy() for name, t in self._named_state()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Set every Parameter and Buffer from ``state`` (arrays or Tensors, as ``state_dict()``).

        All or nothing: every key, shape and dtype is checked before anything is
        assigned, so an error leaves the model as it was. A missing or
        unexpected key is a ``ValueError`` unless ``strict=False`` (then they are
        returned); a shape that differs is a ``ValueError``, a dtype that cannot
        be converted without loss (float64 into float32, bool, ...) a
        ``TypeError``. The data is copied into the existing tensors (an
        optimizer holding them sees the new values); the caller's arrays are
        never shared.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        strict = _bool_arg(strict, "strict", owner)
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{owner}: state must be a dict of arrays (as state_dict() or ad.load give), "
                f"got {type(state).__name__}"
            )
        for key in state:
            if not isinstance(key, str):
                raise TypeError(f"{owner}: keys must be str, got {key!r}")
        targets = dict(self._named_state())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s) {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"unexpected key(s) {', '.join(map(repr, unexpected))}")
            raise ValueError(
                f"{owner}: {'; '.join(parts)} (the model's keys: {', '.join(targets) or 'none'})"
            )
        updates = []
        for key, target in targets.items():
            if key in state:
                updates.append((target, _state_value(state[key], key, target, owner)))
        for target, data in updates:  # nothing below can fail: all checked and converted
            target.cached_data = data
        return IncompatibleKeys(missing, unexpected)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (batch statistics, dropout on) here and in every sub-module."""
        mode = _bool_arg(mode, "mode", f"{type(self).__name__}.train")
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

    def extra_repr(self) -> str:
        """What this module's repr shows inside its parentheses (its settings; '' for none)."""
        return ""

    def __repr__(self) -> str:
        """A tree: each sub-module on its own line, named as in :meth:`state_dict` (by
        index in a :class:`Sequential`), and the parameter count of every module that
        has parameters (a shared parameter counted once).

        >>> print(Sequential(Linear(2, 3), ReLU(), Residual(Linear(3, 3, bias=False))))
        Sequential(  # 18 parameters
          (0): Linear(2, 3, bias=True)  # 9 parameters
          (1): ReLU()
          (2): Residual(  # 9 parameters
            (fn): Linear(3, 3, bias=False)  # 9 parameters
          )
        )
        """
        count = sum(p.size for p in self.parameters())
        note = f"  # {count:,} parameter{'' if count == 1 else 's'}" if count else ""
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = _named_children(self._state_items())
        if not children:
            return f"{head}){note}"
        lines = [head + note]
        lines += [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in children]
        return "\n".join([*lines, ")"])


def _state_value(value: Any, key: str, target: Tensor, owner: str) -> np.ndarray:
    """A private copy of ``value`` in ``target``'s dtype, or an error naming the key."""
    if isinstance(value, Tensor):
        array = value.numpy()
    elif isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
    else:
        raise TypeError(
            f"{owner}: {key!r} must be a NumPy array or a Tensor, got {type(value).__name__}"
        )
    if array.shape != target.shape:
        raise ValueError(
            f"{owner}: {key!r} has shape {array.shape}, the model's has shape {target.shape}"
        )
    if array.dtype.kind not in "iuf" or not np.can_cast(array.dtype, target.dtype, "safe"):
        raise TypeError(
            f"{owner}: {key!r} has dtype {array.dtype}, which does not convert to the "
            f"model's {target.dtype} without loss; convert it first if that is meant"
        )
    return np.array(array, dtype=target.dtype, copy=True)


# ----------------------------------------------------------------- basic layers


class Identity(Module):
    """Returns its input, whatever it is (as PyTorch's)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Linear(Module):
    """``x @ weight + bias`` with weight ``(in_features, out_features)`` and bias ``(1, out)``.

    Both are Kaiming-uniform initialized as in needle (the bias with fan-in
    ``out_features``, needle's choice). The input is ``(..., in_features)``.
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
        self.in_features = _integer_arg(in_features, "in_features", "Linear")
        self.out_features = _integer_arg(out_features, "out_features", "Linear")
        bias = _bool_arg(bias, "bias", "Linear")
        dtype = _dtype(dtype, "Linear")
        rng = _generator_arg(rng, "Linear")
        self.weight = Parameter(
            init.kaiming_uniform(in_features, out_features, device=device, dtype=dtype, rng=rng)
        )
        self.bias = None
        if bias:
            b = init.kaiming_uniform(out_features, 1, device=device, dtype=dtype, rng=rng)
            self.bias = Parameter(ops.reshape(b, (1, out_features)))

    def forward(self, x: Tensor) -> Tensor:
        x = _input("Linear", x)
        if x.ndim == 0:
            raise ValueError(
                f"Linear: input must have at least 1 dimension, shape (..., {self.in_features}), "
                "got a 0-d tensor"
            )
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input of shape {x.shape} has {x.shape[-1]} features, "
                f"expected {self.in_features}"
            )
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``."""

    def forward(self, x: Tensor) -> Tensor:
        x = _input("Flatten", x)
        if x.ndim == 0:
            raise ValueError("Flatten: input must have a batch axis, got a 0-d input")
        return ops.reshape(x, (x.shape[0], -1))


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(_input("ReLU", x))


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(_input("Tanh", x))


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(_input("Sigmoid", x))


class Sequential(Module):
    """Apply ``modules`` in order; in a state dict its layers are named by index ("0.weight")."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module, got {type(module).__name__}"
                )
        self.modules = list(modules)

    def forward(self, x: Tensor) -> Tensor:
        for module in self.modules:
            x = module(x)
        return x

    def _state_items(self) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = []
        for name, value in vars(self).items():
            if name == "modules":
                items.extend((str(i), m) for i, m in enumerate(value))
            else:
                items.append((name, value))
        return items

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]


class Residual(Module):
    """``fn(x) + x``: the skip connection of a ResNet. ``fn`` must keep the shape."""

    def __init__(self, fn: Module) -> None:
        super().__init__()
        if not isinstance(fn, Module):
            raise TypeError(f"Residual: fn must be a Module, got {type(fn).__name__}")
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        x = _input("Residual", x)
        out = self.fn(x)
        if out.shape != x.shape:  # the sum would broadcast, silently
            raise ValueError(
                f"Residual: fn maps shape {x.shape} to {out.shape}; a skip connection "
                "needs the same shape"
            )
        return out + x


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1-p).

    The identity in eval mode. The mask is a constant, so the gradient is the
    same mask (inverted dropout, as in needle and PyTorch).
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = _real_arg(p, "p", "Dropout", 0.0, 1.0)
        self.rng = _generator_arg(rng, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        x = _input("Dropout", x)
        if not self.training or self.p == 0:
            return x
        sample = self.rng.random(x.shape) if self.rng is not None else np.random.rand(*x.shape)
        mask = (sample < 1 - self.p).astype(x.dtype) / (1 - self.p)  # needle's randb draw
        return x * Tensor(mask, device=x.device, requires_grad=False)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ----------------------------------------------------------------- normalization


class _Norm(Module):
    """Shared parts of the norms: affine ``weight``/``bias`` of shape ``(dim,)``."""

    def __init__(self, dim: int, eps: float, dtype: Any, device: Any = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.dim = _integer_arg(dim, "dim", owner)
        self.eps = _real_arg(eps, "eps", owner, 0.0)
        dtype = _dtype(dtype, owner)
        self.weight = Parameter(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, device=device, dtype=dtype))

    def _affine(self, xhat: Tensor, shape: tuple[int, ...]) -> Tensor:
        return xhat * ops.reshape(self.weight, shape) + ops.reshape(self.bias, shape)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}"


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
        super().__init__(dim, eps, dtype, device)
        self.momentum = _real_arg(momentum, "momentum", type(self).__name__, 0.0, 1.0,
                                  high_open=False)  # fmt: skip
        self.running_mean = Buffer(init.zeros(dim, device=device, dtype=self.weight.dtype))
        self.running_var = Buffer(init.ones(dim, device=device, dtype=self.weight.dtype))

    def _param_shape(self, x: Tensor) -> tuple[int, ...]:
        return tuple(self.dim if k == 1 else 1 for k in range(x.ndim))

    def forward(self, x: Tensor) -> Tensor:
        x = _input(type(self).__name__, x)
        if x.ndim != len(self.axes) + 1 or x.shape[1] != self.dim:
            raise ValueError(
                f"{type(self).__name__}: input of shape {x.shape} does not match "
                f"{self.dim} features/channels on axis 1 ({len(self.axes) + 1} dimensions)"
            )
        shape = self._param_shape(x)
        if self.training:
            if x.size == 0:  # the batch statistics would be NaN, and so the running ones
                raise ValueError(
                    f"{type(self).__name__}: training needs at least one value per "
                    f"feature/channel, got an empty input of shape {x.shape}"
                )
            xhat, mean, var = _normalize(x, self.axes, self.eps)
            m = self.momentum
            # On the data's device, with its namespace: no copy to the host.
            self.running_mean = Buffer.make_const(_running(self.running_mean, mean, m, self.dim))
            self.running_var = Buffer.make_const(_running(self.running_var, var, m, self.dim))
        else:
            mean = ops.reshape(self.running_mean, shape)  # constants: buffers need no grad
            scale = ops.reshape((self.running_var + self.eps) ** -0.5, shape)
            xhat = (x - mean) * scale
        return self._affine(xhat, shape)


def _running(running: Tensor, batch: Tensor, m: float, dim: int) -> Any:
    """``(1 - m) * running + m * batch`` as data of ``running``'s device and dtype."""
    old, new = running.realize_cached_data(), batch.realize_cached_data()
    xp = np if type(old) is np.ndarray else array_namespace(old)
    value = (1 - m) * old + m * xp.reshape(new, (dim,))
    return value if value.dtype == old.dtype else xp.astype(value, old.dtype)


class BatchNorm1d(_BatchNorm):
    """Normalize each feature of ``(N, dim)`` over the batch, then scale and shift.

    Training uses the batch mean and (biased) variance and updates
    ``running_mean``/``running_var`` as ``(1 - momentum) * running + momentum *
    batch`` (needle's rule, also for the variance); eval mode uses the running
    statistics. The running statistics are :class:`Buffer` s: saved by
    ``state_dict()``, not parameters.
    """

    axes = (0,)


class BatchNorm2d(_BatchNorm):
    """Batch norm of NCHW images: each channel over the batch and all pixels (N, H, W)."""

    axes = (0, 2, 3)


class LayerNorm1d(_Norm):
    """Normalize each row of ``(N, dim)`` over its features, then scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5, device: Any = None, dtype=None) -> None:
        super().__init__(dim, eps, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        x = _input("LayerNorm1d", x)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"LayerNorm1d: input of shape {x.shape} has not {self.dim} features on its "
                f"last axis, expected shape (..., {self.dim})"
            )
        xhat, _, _ = _normalize(x, (x.ndim - 1,), self.eps)
        return self._affine(xhat, (1,) * (x.ndim - 1) + (self.dim,))


# ------------------------------------------------------------------------ loss


def _class_labels(y: Any, n: int, k: int, owner: str = "SoftmaxLoss") -> np.ndarray:
    """The labels ``y`` as int64 class indices in ``[0, k)``, one per row of ``n``.

    Integer labels are taken as they are. Float labels are accepted when every
    one is a whole number (``ad.Tensor([0, 2])`` is float64, and needle's data
    pipelines give float labels) and refused otherwise: truncating 1.9 to 1
    would train on the wrong class. Bool, string and other labels are refused.
    """
    if isinstance(y, Tensor):
        labels = y.numpy()
    elif isinstance(y, (np.ndarray, np.generic, list, tuple, numbers.Number)):
        try:
            labels = np.asarray(y)
        except ValueError:
            raise ValueError(f"{owner}: labels are ragged; give one class index per row") from None
    else:
        raise TypeError(
            f"{owner}: labels must be a Tensor, an array or a list of class indices, "
            f"got {type(y).__name__}"
        )
    if labels.dtype.kind not in "iuf":
        raise TypeError(
            f"{owner}: labels must be integer class indices in [0, {k - 1}], got dtype "
            f"{labels.dtype}"
        )
    if labels.size != n:
        raise ValueError(f"{owner}: {labels.size} labels for {n} rows of logits")
    if labels.shape not in ((n,), (n, 1)) and labels.ndim != 0:
        raise ValueError(f"{owner}: labels must have shape ({n},), got shape {labels.shape}")
    labels = labels.reshape(n)
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            i = int(np.argmin(whole))
            raise ValueError(
                f"{owner}: labels must be integer class indices; label {i} is {labels[i]} "
                "(float labels are accepted only when they are whole numbers)"
            )
    outside = (labels < 0) | (labels >= k)
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(
            f"{owner}: labels must lie in [0, {k - 1}] for logits of {k} classes; "
            f"label {i} is {labels[i]}"
        )
    return labels.astype(np.int64)


class SoftmaxLoss(Module):
    """Mean cross-entropy of ``logits (N, k)`` against class indices ``y (N,)``.

    ``mean(logsumexp(logits, axis 1) - logits[i, y_i])``; the label term is a
    product with a constant one-hot matrix (needle's formulation). ``y`` is a
    Tensor, array or list of integers in ``[0, k)``; float labels must be whole
    numbers (0.0, 2.0: what ``ad.Tensor([0, 2])`` holds), anything else is an error.
    """

    def forward(self, logits: Tensor, y: Any) -> Tensor:
        logits = _input("SoftmaxLoss", logits, kinds="f")
        if logits.ndim != 2:
            raise ValueError(f"SoftmaxLoss: logits must be (N, k), got shape {logits.shape}")
        n, k = logits.shape
        if n == 0 or k == 0:
            raise ValueError(
                f"SoftmaxLoss: logits of shape {logits.shape} are empty; the mean loss needs "
                "at least one row and one class"
            )
        labels = _class_labels(y, n, k)
        onehot = init.one_hot(k, labels, device=logits.device, dtype=logits.dtype)
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
        owner = type(self).__name__
        self.in_channels = _integer_arg(in_channels, "in_channels", owner)
        self.out_channels = _integer_arg(out_channels, "out_channels", owner)
        self.kernel_size = k = _integer_arg(kernel_size, "kernel_size", owner)
        self.stride = _integer_arg(stride, "stride", owner)
        self.padding = _integer_arg(padding, "padding", owner, minimum=0)
        bias = _bool_arg(bias, "bias", owner)
        dtype = _dtype(dtype, owner)
        rng = _generator_arg(rng, owner)
        fan_in = in_channels * k * k
        self.weight = Parameter(
            init.kaiming_uniform(
                fan_in, out_channels * k * k, shape=(k, k, in_channels, out_channels),
                device=device, dtype=dtype, rng=rng,
            )
        )  # fmt: skip
        self.bias = None
        if bias:
            bound = 1 / math.sqrt(fan_in)
            self.bias = Parameter(
                init.rand(
                    out_channels, low=-bound, high=bound, device=device, dtype=dtype, rng=rng
                )  # fmt: skip
            )

    def forward(self, x: Tensor) -> Tensor:
        owner = type(self).__name__
        x = _input(owner, x, ndim=4)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{owner}: input of shape {x.shape} has {x.shape[1]} channels on axis 1, "
                f"expected {self.in_channels} (NCHW)"
            )
        out = ops.conv2d(x, self.weight, self.stride, self.padding)
        if self.bias is not None:
            out = out + ops.reshape(self.bias, (1, self.out_channels, 1, 1))
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}"
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
        k = _integer_arg(kernel_size, "kernel_size", "Conv")
        super().__init__(
            in_channels, out_channels, k, stride, k // 2, bias, device=device, dtype=dtype, rng=rng
        )


def _kernel_arg(value: Any, owner: str) -> int | tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{owner}: kernel_size must be an int or a pair, got {value!r}")
        return tuple(_integer_arg(v, "kernel_size", owner) for v in value)
    return _integer_arg(value, "kernel_size", owner)


class MaxPool2d(Module):
    """Maximum over ``kernel_size`` windows (stride defaults to the kernel size)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = _kernel_arg(kernel_size, owner)
        self.stride = None if stride is None else _integer_arg(stride, "stride", owner)
        self.padding = _integer_arg(padding, "padding", owner, minimum=0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x: Tensor) -> Tensor:
        x = _input("MaxPool2d", x, ndim=4)
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(MaxPool2d):
    """Mean over ``kernel_size`` windows (stride defaults to the kernel size)."""

    def forward(self, x: Tensor) -> Tensor:
        x = _input("AvgPool2d", x, ndim=4)
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(Module):
    """Mean over all pixels: ``(N, C, H, W) -> (N, C)``, a ResNet's last pooling."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.global_avg_pool2d(_input("GlobalAvgPool2d", x, ndim=4))
