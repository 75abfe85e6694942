"""Datasets, a batching loader with seeded shuffling, image augmentations and MNIST (needle's API).

>>> import numpy as np
>>> ds = NDArrayDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [y.numpy().tolist() for _, y in DataLoader(ds, batch_size=2)]
[[0, 1], [2, 3], [4]]

Two image layouts, each where it belongs:

* **H x W x C, one image** (needle's hw2): what the transforms take by
  default, and what :class:`MNISTDataset` hands them (each 28 x 28 digit as
  ``(28, 28, 1)``). Its samples come out flattened, ``(784,)``, ready for an
  MLP (needle's ``MLPResNet(784, ...)``).
* **N x C x H x W, a batch** (adjoint's ``nn.Conv``, ``ops.conv2d``, the
  pooling layers, and the ResNet of notebook 08): reshape MNIST batches with
  ``x.reshape((-1, 1, 28, 28))``, and give transforms that see ``(C, H, W)``
  samples ``layout="CHW"``.

A plain ``(H, W)`` image is the same in both. The transforms draw their
randomness exactly as needle's do (``np.random.rand()`` for a flip,
``np.random.randint(-p, p + 1, size=2)`` for a crop, on NumPy's global
generator unless given ``rng``), so a seeded needle pipeline gives the same
images here.
"""

from __future__ import annotations

import gzip
import numbers
import os
import struct
import zlib
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
    "MNISTDataset",
    "parse_mnist",
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


_LAYOUTS = ("HWC", "CHW")


def _layout(layout: Any, owner: str) -> str:
    if layout not in _LAYOUTS:
        raise ValueError(
            f"{owner}: layout must be 'HWC' (needle's images, the default) or 'CHW' "
            f"(adjoint's conv layers, per sample), got {layout!r}"
        )
    return layout


def _image(img: Any, owner: str, layout: str) -> tuple[np.ndarray, int, int]:
    """``img`` as an array, and the positions of its H and W axes in ``layout``."""
    img = np.asarray(img)
    if img.ndim < 2:
        shapes = "(H, W) or (H, W, C)" if layout == "HWC" else "(H, W) or (C, H, W)"
        raise ValueError(
            f"{owner}: expected an image of shape {shapes} (layout={layout!r}), "
            f"got shape {img.shape}"
        )
    return (img, 0, 1) if layout == "HWC" else (img, img.ndim - 2, img.ndim - 1)


def _integers(rng: Any, low: int, high: int) -> tuple[int, int]:
    """Two ints in [low, high): needle's single ``randint(..., size=2)`` draw."""
    draw = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    return tuple(int(v) for v in draw(low, high, size=2))


class Transform:
    """A function of one sample's array (called by the dataset on each item)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define __call__()")


class RandomFlipHorizontal(Transform):
    """Mirror the image left to right (its W axis) with probability ``p`` (needle's).

    ``layout`` is ``"HWC"`` (needle's ``(H, W, C)`` image, the default) or
    ``"CHW"`` (a ``(C, H, W)`` sample for adjoint's conv layers). One draw per
    call, ``rng.random() < p``: with ``rng=None`` that is needle's
    ``np.random.rand() < p`` on NumPy's global generator; ``rng`` may also be a
    ``numpy.random.Generator`` or a seed.

    >>> RandomFlipHorizontal(p=1.0)(np.arange(6).reshape(2, 3, 1))[..., 0].tolist()
    [[2, 1, 0], [5, 4, 3]]
    """

    def __init__(
        self, p: float = 0.5, rng: np.random.Generator | int | None = None, layout: str = "HWC"
    ) -> None:
        self.p = _real_arg(p, "p", "RandomFlipHorizontal", 0.0, 1.0, high_open=False)
        self.rng = _generator(rng, "RandomFlipHorizontal")
        self.layout = _layout(layout, "RandomFlipHorizontal")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img, _, w = _image(img, "RandomFlipHorizontal", self.layout)
        return np.flip(img, axis=w).copy() if self.rng.random() < self.p else img


class RandomCrop(Transform):
    """Zero-pad by ``padding`` on every side, then crop back to size at a random offset (needle's).

    The image moves by ``(shift_x, shift_y)`` along (H, W), drawn as needle
    draws them, ``rng.randint(-padding, padding + 1, size=2)``: with
    ``rng=None`` on NumPy's global generator. ``layout`` as for
    :class:`RandomFlipHorizontal`.

    >>> img = np.arange(1, 10).reshape(3, 3, 1)
    >>> out = RandomCrop(padding=1, rng=np.random.default_rng(0))(img)
    >>> out.shape, set(out.ravel()) <= set(range(10))
    ((3, 3, 1), True)
    """

    def __init__(
        self,
        padding: int = 3,
        rng: np.random.Generator | int | None = None,
        layout: str = "HWC",
    ) -> None:
        self.padding = _integer_arg(padding, "padding", "RandomCrop", minimum=0)
        self.rng = _generator(rng, "RandomCrop")
        self.layout = _layout(layout, "RandomCrop")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        img, h_axis, w_axis = _image(img, "RandomCrop", self.layout)
        p = self.padding
        shift_x, shift_y = _integers(self.rng, -p, p + 1)
        h, w = img.shape[h_axis], img.shape[w_axis]
        width = [(0, 0)] * img.ndim
        width[h_axis] = width[w_axis] = (p, p)
        window = [slice(None)] * img.ndim
        window[h_axis] = slice(p + shift_x, p + shift_x + h)
        window[w_axis] = slice(p + shift_y, p + shift_y + w)
        return np.pad(img, width)[tuple(window)]


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

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        """One sample for an int; for a slice or an array of ints, the batch, stacked."""
        index = _sample_index(index, len(self), "NDArrayDataset")
        if not isinstance(index, int):
            if not len(index):
                return tuple(a[index] for a in self.arrays)
            return self.get_batch(index)
        first = self.apply_transforms(self.arrays[0][index])
        return (first, *(a[index] for a in self.arrays[1:]))

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.transforms:
            return super().get_batch(indices)
        return tuple(a[indices] for a in self.arrays)


def _sample_index(index: Any, n: int, owner: str) -> int | np.ndarray:
    """An int index checked against ``n`` samples, or the sample numbers a slice or array picks."""
    if isinstance(index, slice):
        return np.arange(n)[index]
    integral = isinstance(index, (numbers.Integral, np.integer))
    if integral and not isinstance(index, (bool, np.bool_)):
        if not -n <= index < n:
            raise IndexError(f"{owner}: index {index} is out of range for {n} samples")
        return int(index)
    if isinstance(index, (list, tuple, np.ndarray)):
        picked = np.asarray(index)
        if picked.ndim == 1 and (picked.dtype.kind in "iu" or picked.size == 0):
            picked = picked.astype(np.intp)
            bad = picked[(picked < -n) | (picked >= n)]
            if bad.size:
                raise IndexError(f"{owner}: index {bad[0]} is out of range for {n} samples")
            return picked
    raise TypeError(
        f"{owner}: index must be an int, a slice or a 1-D array of ints, got {type(index).__name__}"
    )


# ------------------------------------------------------------------------ MNIST

#: The element types of the idx format (the third byte of its magic number).
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_idx(path: Any, owner: str) -> np.ndarray:
    """The array stored in an idx file (LeCun's MNIST format), gzipped or not."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{owner}: no such file: {path!r}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{owner}: {path!r} is not a readable gzip file ({error})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{owner}: {path!r} is not an idx file: it must start with the magic number "
            "0x00 0x00, a type byte (0x08 for unsigned bytes) and the number of dimensions"
        )
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{owner}: {path!r} ends inside its header ({len(raw)} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:start])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = start + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{owner}: {path!r} holds {len(raw)} bytes, but its header (shape {dims}, "
            f"{dtype.name}) needs {expected}: the file is truncated or not one idx array"
        )
    return np.frombuffer(raw, dtype, offset=start).reshape(dims)


def _read_mnist(image_filename: Any, label_filename: Any, owner: str) -> tuple[Any, ...]:
    images = _read_idx(image_filename, owner)
    labels = _read_idx(label_filename, owner)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{owner}: {os.fspath(image_filename)!r} is not an image file: expected unsigned "
            f"bytes of shape (N, H, W) (magic number 2051), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{owner}: {os.fspath(label_filename)!r} is not a label file: expected unsigned "
            f"bytes of shape (N,) (magic number 2049), got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{owner}: {len(images)} images but {len(labels)} labels; give the two files "
            "of one set (train or t10k)"
        )
    return images, labels


def parse_mnist(image_filename: Any, label_filename: Any) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of MNIST's idx files (gzipped or not), as needle's hw0 returns them.

    ``X`` is float32 of shape ``(N, H * W)`` (784 for MNIST) with the bytes
    scaled to [0, 1] (``/ 255``); ``y`` is uint8 of shape ``(N,)``.
    """
    images, labels = _read_mnist(image_filename, label_filename, "parse_mnist")
    return _scaled_rows(images), labels.copy()


def _scaled_rows(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)


class MNISTDataset(Dataset):
    """MNIST from its idx files (``train-images-idx3-ubyte.gz``, ...): needle hw2's dataset.

    ``ds[i]`` is ``(image, label)``: the image float32 in [0, 1] as a row of
    ``H * W`` (784) values, the label a uint8. Transforms see each image as
    needle's ``(H, W, 1)``; their output is flattened back. A slice or an
    array of indices gives ``(images, labels)`` stacked, each image
    transformed on its own. For adjoint's conv layers reshape a batch with
    ``x.reshape((-1, 1, 28, 28))``.
    """

    def __init__(
        self,
        image_filename: str | os.PathLike,
        label_filename: str | os.PathLike,
        transforms: Sequence[Transform] | None = None,
    ) -> None:
        super().__init__(transforms)
        images, labels = _read_mnist(image_filename, label_filename, "MNISTDataset")
        self.image_shape = images.shape[1:]
        self.images, self.labels = _scaled_rows(images), labels.copy()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, Any]:
        index = _sample_index(index, len(self), "MNISTDataset")
        if isinstance(index, int):
            return self._image(index), self.labels[index]
        if not self.transforms or not len(index):
            return self.images[index], self.labels[index]
        return np.stack([self._image(i) for i in index]), self.labels[index]

    def _image(self, i: int) -> np.ndarray:
        image = self.images[i]
        if not self.transforms:
            return image
        return self.apply_transforms(image.reshape(*self.image_shape, 1)).reshape(-1)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        return self[indices]


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
