"""Datasets, a batching loader with seeded shuffling, and image augmentations (needle's API).

>>> import numpy as np
>>> ds = NDArrayDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [y.numpy().tolist() for _, y in DataLoader(ds, batch_size=2)]
[[0, 1], [2, 3], [4]]

Images are ``(C, H, W)`` arrays (adjoint is NCHW throughout; needle's MNIST
pipeline used ``(H, W, C)``); the transforms act on the last two axes, so a
plain ``(H, W)`` image works too.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from adjoint.nn import _bool_arg, _integer_arg, _real_arg
from adjoint.tensor import Tensor

__all__ = [
    "Transform",
    "RandomFlipHorizontal",
    "RandomCrop",
    "Dataset",
    "NDArrayDataset",
    "DataLoader",
]


def _generator(rng: np.random.Generator | int | None, owner: str) -> Any:
    """NumPy's global generator for None, ``rng`` itself, or a new one seeded with ``rng``."""
    if rng is None:
        return np.random
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, (numbers.Integral, np.integer)):
        raise TypeError(
            f"{owner}: rng must be a numpy.random.Generator, an int seed or None, "
            f"got {type(rng).__name__}"
        )
    return np.random.default_rng(_integer_arg(rng, "rng (a seed)", owner, minimum=0))


def _image(img: Any, owner: str, min_ndim: int) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim < min_ndim:
        axes = "(W,) or (H, W)" if min_ndim == 1 else "(H, W) or (C, H, W)"
        raise ValueError(f"{owner}: expected an image of shape {axes}, got shape {img.shape}")
    return img


def _integers(rng: Any, low: int, high: int) -> tuple[int, int]:
    """Two ints in [low, high): needle's single ``randint(..., size=2)`` draw."""
    draw = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    return tuple(int(v) for v in draw(low, high, size=2))


class Transform:
    """A function of one sample's array (called by the dataset on each item)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define __call__()")


class RandomFlipHorizontal(Transform):
    """Mirror the image left to right (its last axis) with probability ``p``.

    ``rng`` is a ``numpy.random.Generator``, a seed, or None for NumPy's global generator.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        self.p = _real_arg(p, "p", "RandomFlipHorizontal", 0.0, 1.0, high_open=False)
        self.rng = _generator(rng, "RandomFlipHorizontal")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _image(img, "RandomFlipHorizontal", 1)
        return np.flip(img, axis=-1).copy() if self.rng.random() < self.p else img


class RandomCrop(Transform):
    """Zero-pad by ``padding`` on every side, then crop back to size at a random offset.

    The image moves by ``(dy, dx)``, each uniform in ``[-padding, padding]`` (needle's rule).
    """

    def __init__(self, padding: int = 3, rng: np.random.Generator | int | None = None) -> None:
        self.padding = _integer_arg(padding, "padding", "RandomCrop", minimum=0)
        self.rng = _generator(rng, "RandomCrop")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img = _image(img, "RandomCrop", 2)
        p = self.padding
        dy, dx = _integers(self.rng, -p, p + 1)
        h, w = img.shape[-2:]
        width = [(0, 0)] * (img.ndim - 2) + [(p, p), (p, p)]
        padded = np.pad(img, width)
        return padded[..., p + dy : p + dy + h, p + dx : p + dx + w]


class Dataset:
    """Base class: ``__getitem__`` gives one sample (a tuple of arrays), ``__len__`` the count.

    Subclasses call :meth:`apply_transforms` on the inputs they return.
    """

    def __init__(self, transforms: Sequence[Transform] | None = None) -> None:
        owner = type(self).__name__
        if transforms is None:
            transforms = []
        elif callable(transforms) or not isinstance(transforms, (list, tuple)):
            raise TypeError(
                f"{owner}: transforms must be a list of transforms or None, "
                f"got {type(transforms).__name__}"
            )
        for i, transform in enumerate(transforms):
            if not callable(transform):
                raise TypeError(
                    f"{owner}: transforms[{i}] must be callable (a Transform), "
                    f"got {type(transform).__name__}"
                )
        self.transforms = list(transforms)

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__()")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def apply_transforms(self, x: np.ndarray) -> np.ndarray:
        """``x`` passed through every transform, in order."""
        for transform in self.transforms:
            x = transform(x)
        return x

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """The samples at ``indices`` stacked into batch arrays, one per field."""
        samples = [self[int(i)] for i in indices]
        if not isinstance(samples[0], tuple):
            return (np.stack(samples),)
        return tuple(np.stack(field) for field in zip(*samples))


class NDArrayDataset(Dataset):
    """Samples are rows of the given arrays (all of the same length); transforms act on the first.

    >>> x, y = NDArrayDataset(np.zeros((4, 2)), np.arange(4))[1]
    >>> x.shape, int(y)
    ((2,), 1)
    """

    def __init__(self, *arrays: Any, transforms: Sequence[Transform] | None = None) -> None:
        super().__init__(transforms)
        if not arrays:
            raise ValueError("NDArrayDataset: give at least one array")
        self.arrays = []
        for i, a in enumerate(arrays):
            a = a.numpy() if isinstance(a, Tensor) else a
            try:
                a = np.asarray(a)
            except ValueError:
                raise ValueError(f"NDArrayDataset: array {i} is ragged") from None
            if a.dtype.kind not in "biuf":
                raise TypeError(
                    f"NDArrayDataset: array {i} has dtype {a.dtype}; batches become Tensors, "
                    "so give bool, integer or floating-point data (labels as class indices)"
                )
            if a.ndim == 0:
                raise ValueError(f"NDArrayDataset: array {i} is 0-d; samples lie along axis 0")
            self.arrays.append(a)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(
                f"NDArrayDataset: arrays have different lengths {[len(a) for a in self.arrays]}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, (numbers.Integral, np.integer)):
            raise TypeError(f"NDArrayDataset: index must be an int, got {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"NDArrayDataset: index {index} is out of range for {n} samples")
        first = self.apply_transforms(self.arrays[0][index])
        return (first, *(a[index] for a in self.arrays[1:]))

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.transforms:
            return super().get_batch(indices)
        return tuple(a[indices] for a in self.arrays)


class DataLoader:
    """Batches of a dataset as tuples of constant Tensors, shuffled anew every epoch.

    With ``shuffle=True`` each pass (each ``iter()``) draws a fresh permutation
    from ``rng``: a seed or ``numpy.random.Generator`` makes the whole sequence
    of epochs reproducible; None uses NumPy's global generator (needle). The
    last batch may be smaller unless ``drop_last``.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        rng: np.random.Generator | int | None = None,
        drop_last: bool = False,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise TypeError(
                "DataLoader: dataset must be an adjoint.data.Dataset, such as "
                f"NDArrayDataset(x, y), got {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.batch_size = _integer_arg(batch_size, "batch_size", "DataLoader")
        self.shuffle = _bool_arg(shuffle, "shuffle", "DataLoader")
        self.drop_last = _bool_arg(drop_last, "drop_last", "DataLoader")
        self.rng = _generator(rng, "DataLoader")

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            yield tuple(Tensor.from_numpy(a) for a in self.dataset.get_batch(indices))
