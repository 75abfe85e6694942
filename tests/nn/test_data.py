"""adjoint.data: datasets, batching, seeded shuffling and the image transforms."""

import numpy as np
import pytest

import adjoint as ad
from adjoint import data


def dataset(n=10):
    return data.NDArrayDataset(np.arange(n * 2.0).reshape(n, 2), np.arange(n))


def test_ndarray_dataset_items_and_length():
    ds = dataset()
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(x, [6.0, 7.0])
    assert y == 3
    with pytest.raises(ValueError, match="different lengths"):
        data.NDArrayDataset(np.zeros(3), np.zeros(4))


def test_batches_in_order_without_shuffle():
    loader = data.DataLoader(dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = batches[0]
    assert isinstance(x, ad.Tensor) and not x.requires_grad and x.shape == (4, 2)
    dropped = data.DataLoader(dataset(), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [4, 4]


def test_shuffling_is_seeded_covers_everything_and_changes_every_epoch():
    def epochs(seed):
        loader = data.DataLoader(dataset(), batch_size=3, shuffle=True, rng=seed)
        return [np.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]

    first, second = epochs(7)
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert not np.array_equal(first, second)
    again = epochs(7)
    np.testing.assert_array_equal(first, again[0])
    np.testing.assert_array_equal(second, again[1])
    assert not np.array_equal(first, epochs(8)[0])
    expected = np.random.default_rng(7).permutation(10)
    np.testing.assert_array_equal(first, expected)


def test_shuffling_with_the_global_generator_follows_np_random_seed():
    loader = data.DataLoader(dataset(), batch_size=10, shuffle=True)
    np.random.seed(3)
    a = next(iter(loader))[1].numpy()
    np.random.seed(3)
    b = next(iter(loader))[1].numpy()
    np.testing.assert_array_equal(a, b)


def test_transforms_apply_per_sample_to_the_first_array():
    images = np.arange(2 * 1 * 2 * 3.0).reshape(2, 1, 2, 3)  # N x C x H x W
    flip = data.RandomFlipHorizontal(p=1, layout="CHW")
    ds = data.NDArrayDataset(images, np.array([5, 6]), transforms=[flip])
    x, y = next(iter(data.DataLoader(ds, batch_size=2)))
    np.testing.assert_array_equal(x.numpy(), images[..., ::-1])
    np.testing.assert_array_equal(y.numpy(), [5, 6])


def test_random_flip_horizontal():
    img = np.arange(6.0).reshape(2, 3, 1)  # H x W x C, needle's layout (the default)
    np.testing.assert_array_equal(data.RandomFlipHorizontal(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(data.RandomFlipHorizontal(p=0.0)(img), img)
    chw = img.transpose(2, 0, 1)
    flipped = data.RandomFlipHorizontal(p=1.0, layout="CHW")(chw)
    np.testing.assert_array_equal(flipped, chw[..., ::-1])
    flip = data.RandomFlipHorizontal(p=0.5, rng=0)
    flipped = [not np.array_equal(flip(img), img) for _ in range(200)]
    assert 60 < sum(flipped) < 140


def test_random_crop_shifts_within_the_padding():
    img = np.arange(1.0, 26.0).reshape(1, 5, 5)  # C x H x W
    np.testing.assert_array_equal(data.RandomCrop(padding=0, layout="CHW")(img), img)
    crop = data.RandomCrop(padding=2, rng=0, layout="CHW")
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    shifts = set()
    for _ in range(100):
        out = crop(img)
        assert out.shape == img.shape
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(out, padded[:, 2 + dy : 7 + dy, 2 + dx : 7 + dx])
        ]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 15  # most of the 25 shifts occur
    a = [data.RandomCrop(1, rng=4, layout="CHW")(img) for _ in range(5)]
    b = [data.RandomCrop(1, rng=4, layout="CHW")(img) for _ in range(5)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_a_custom_dataset_is_batched_by_stacking():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=float)

    (x,) = next(iter(data.DataLoader(Squares(), batch_size=5)))
    np.testing.assert_array_equal(x.numpy()[:, 1], [0, 1, 4, 9, 16])


def test_bad_batch_sizes_and_string_labels_are_named_errors():
    with pytest.raises(TypeError, match="DataLoader: batch_size must be an int, got 2.5"):
        data.DataLoader(dataset(), batch_size=2.5)  # was a raw slicing error when iterated
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        data.DataLoader(dataset(), batch_size=0)
    with pytest.raises(TypeError, match="NDArrayDataset: array 1 has dtype <U3"):
        data.NDArrayDataset(np.zeros((2, 2)), np.array(["cat", "dog"]))
    with pytest.raises(IndexError, match="index 10 is out of range for 10 samples"):
        dataset()[10]
    assert dataset()[-1][1] == 9
