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

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from adjoint.autograd import Tensor

__all__ = [
    "Transform",
    "RandomFlipHorizontal",
    "RandomCrop",
    "Dataset",
    "NDArrayDataset",
    "DataLoader",
]


def _generator(rng: np.random.Generator | int | None) -> Any:
    if rng is None:
        return np.random
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _integers(rng: Any, low: int, high: int) -> tuple[int, int]:
    """Two ints in [low, high): needle's single ``randint(..., size=2)`` draw."""
    draw = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    return tuple(int(v) for v in draw(low, high, size=2))


class Transform:
    """A function of one sample's array (called by the dataset on each item)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError()


class RandomFlipHorizontal(Transform):
    """Mirror the image left to right (its last axis) with probability ``p``.

    ``rng`` is a ``numpy.random.Generator``, a seed, or None for NumPy's global generator.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        self.p = p
        self.rng = _generator(rng)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        return np.flip(img, axis=-1).copy() if self.rng.random() < self.p else img


class RandomCrop(Transform):
    """Zero-pad by ``padding`` on every side, then crop back to size at a random offset.

    The image moves by ``(dy, dx)``, each uniform in ``[-padding, padding]`` (needle's rule).
    """

    def __init__(self, padding: int = 3, rng: np.random.Generator | int | None = None) -> None:
        self.padding = padding
        self.rng = _generator(rng)

    def __call__(self, img: np.ndarray) -> np.ndarray:
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
        self.transforms = list(transforms) if transforms else []

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError()

    def __len__(self) -> int:
        raise NotImplementedError()

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
        self.arrays = [np.asarray(a) for a in arrays]
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(
                f"NDArrayDataset: arrays have different lengths {[len(a) for a in self.arrays]}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
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
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = _generator(rng)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            yield tuple(Tensor.from_numpy(a) for a in self.dataset.get_batch(indices))
