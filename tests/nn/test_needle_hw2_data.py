"""needle hw2's data API: MNISTDataset on idx files written here, the transforms on
needle's H x W x C images with needle's random draws, and slicing a dataset.
Expected values are computed here with plain NumPy and Python loops."""

import gzip
import struct

import numpy as np
import pytest

import adjoint as ndl
from adjoint import data

RNG = np.random.default_rng(22)
IMAGES = RNG.integers(0, 256, size=(7, 4, 3), dtype=np.uint8)  # 7 images, 4 rows, 3 cols
LABELS = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)


def _idx(array: np.ndarray) -> bytes:
    """An idx file as LeCun's format defines it: 0, 0, type 0x08, ndim, big-endian dims, data."""
    return (
        bytes([0, 0, 0x08, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + (array.astype(np.uint8).tobytes())
    )


@pytest.fixture
def mnist_files(tmp_path):
    images, labels = tmp_path / "images-idx3-ubyte.gz", tmp_path / "labels-idx1-ubyte.gz"
    images.write_bytes(gzip.compress(_idx(IMAGES)))
    labels.write_bytes(gzip.compress(_idx(LABELS)))
    return images, labels


def _expected_row(k: int) -> np.ndarray:
    return np.array([v / 255 for v in IMAGES[k].ravel().tolist()], dtype=np.float32)


def test_mnist_dataset_reads_the_gzipped_idx_files(mnist_files):
    ds = data.MNISTDataset(*mnist_files)
    assert len(ds) == 7 and ds.image_shape == (4, 3)
    for k in range(7):
        x, y = ds[k]
        assert x.dtype == np.float32 and x.shape == (12,)
        np.testing.assert_allclose(x, _expected_row(k), rtol=1e-7)
        assert y == LABELS[k] and y.dtype == np.uint8
    xs, ys = ds[2:5]
    assert xs.shape == (3, 12)
    np.testing.assert_array_equal(ys, [4, 1, 5])
    np.testing.assert_array_equal(xs[1], ds[3][0])
    xs, ys = ds[[6, 0]]
    np.testing.assert_array_equal(ys, [2, 3])
    assert ds[-1][1] == 2 and ds[5:5][0].shape == (0, 12)


def test_parse_mnist_and_plain_idx_files(tmp_path, mnist_files):
    (tmp_path / "i").write_bytes(_idx(IMAGES))  # not gzipped: read as well
    (tmp_path / "l").write_bytes(_idx(LABELS))
    x, y = data.parse_mnist(tmp_path / "i", str(tmp_path / "l"))
    assert x.dtype == np.float32 and x.shape == (7, 12) and y.dtype == np.uint8
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x[4], _expected_row(4), rtol=1e-7)
    x2, y2 = data.parse_mnist(*mnist_files)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_mnist_batches_through_the_dataloader(mnist_files):
    ds = data.MNISTDataset(*mnist_files)
    batches = list(data.DataLoader(ds, batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 12), (3, 12), (1, 12)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), LABELS)
    np.testing.assert_allclose(batches[1][0].numpy()[2], _expected_row(5), rtol=1e-7)
    # adjoint's conv layers take N x C x H x W: one reshape
    assert batches[0][0].reshape((-1, 1, 4, 3)).shape == (3, 1, 4, 3)


def test_mnist_transforms_see_h_w_1_images_with_needles_draws(mnist_files):
    ds = data.MNISTDataset(
        *mnist_files, transforms=[data.RandomCrop(1), data.RandomFlipHorizontal(0.5)]
    )
    np.random.seed(5)
    got = [ds[k][0] for k in range(7)]
    np.random.seed(5)
    for k in range(7):
        sx, sy = np.random.randint(-1, 2, size=2)  # needle's RandomCrop draw ...
        flip = np.random.rand() < 0.5  # ... then its RandomFlipHorizontal draw
        img = IMAGES[k].astype(np.float32) / np.float32(255)
        want = np.zeros_like(img)
        for i in range(4):
            for j in range(3):
                if 0 <= i + sx < 4 and 0 <= j + sy < 3:
                    want[i, j] = img[i + sx, j + sy]
        if flip:
            want = want[:, ::-1]
        np.testing.assert_array_equal(got[k], want.ravel())
    xs, _ = ds[0:3]
    assert xs.shape == (3, 12)


def test_flip_uses_needles_single_rand_draw_on_hwc_images():
    img = np.arange(2 * 3 * 2.0).reshape(2, 3, 2)  # H x W x C
    np.random.seed(0)
    flips = [np.random.rand() < 0.4 for _ in range(30)]
    np.random.seed(0)
    flip = data.RandomFlipHorizontal(0.4)
    for expected in flips:
        out = flip(img)
        want = np.stack([img[:, 2 - j, :] for j in range(3)], axis=1) if expected else img
        np.testing.assert_array_equal(out, want)
    assert 0 < sum(flips) < 30
    after = np.random.rand()  # the 31st draw: exactly one draw per call
    np.random.seed(0)
    assert after == np.random.rand(31)[30]


def test_crop_uses_needles_randint_draw_on_hwc_images():
    img = np.arange(1.0, 1 + 5 * 4 * 3).reshape(5, 4, 3)
    crop = data.RandomCrop(2)
    np.random.seed(11)
    outs = [crop(img) for _ in range(20)]
    np.random.seed(11)
    for out in outs:
        sx, sy = np.random.randint(low=-2, high=3, size=2)
        want = np.zeros_like(img)
        for i in range(5):
            for j in range(4):
                if 0 <= i + sx < 5 and 0 <= j + sy < 4:
                    want[i, j, :] = img[i + sx, j + sy, :]
        np.testing.assert_array_equal(out, want)


def test_the_two_layouts_transform_alike():
    hwc = np.random.default_rng(1).random((5, 6, 3))
    chw = hwc.transpose(2, 0, 1)
    for make in (
        lambda layout: data.RandomCrop(2, rng=9, layout=layout),
        lambda layout: data.RandomFlipHorizontal(0.5, rng=9, layout=layout),
    ):
        a, b = make("HWC"), make("CHW")
        for _ in range(10):
            np.testing.assert_array_equal(a(hwc).transpose(2, 0, 1), b(chw))


def test_ndarray_dataset_slices_as_needle_does():
    x = np.arange(40.0).reshape(10, 2, 2)
    ds = data.NDArrayDataset(x, np.arange(10))
    xs, ys = ds[3:6]
    np.testing.assert_array_equal(xs, x[3:6])
    np.testing.assert_array_equal(ys, [3, 4, 5])
    np.testing.assert_array_equal(ds[np.array([9, 0])][1], [9, 0])
    flipped = data.NDArrayDataset(x, transforms=[data.RandomFlipHorizontal(1.0)])
    np.testing.assert_array_equal(flipped[1:3][0], x[1:3, :, ::-1])
    assert ds[4:4][0].shape == (0, 2, 2)
    with pytest.raises(IndexError, match="NDArrayDataset: index 10 is out of range"):
        ds[[1, 10]]


def test_shuffling_follows_needles_global_permutation():
    ds = data.NDArrayDataset(np.arange(100))
    np.random.seed(0)
    got = [
        int(b[0].numpy().item()) for b, _ in zip(data.DataLoader(ds, 1, shuffle=True), range(10))
    ]
    np.random.seed(0)
    assert got == np.random.permutation(100)[:10].tolist()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00\x08", "is not an idx file"),
        (b"PK\x03\x04rest", "is not an idx file"),
        (_idx(IMAGES)[:-5], "holds 95 bytes, but its header .* needs 100: the file is truncated"),
        (b"\x1f\x8bnot gzip", "is not a readable gzip file"),
        (_idx(LABELS), r"is not an image file: expected unsigned bytes of shape \(N, H, W\)"),
    ],
    ids=["short-header", "zip", "truncated", "bad-gzip", "labels-as-images"],
)
def test_bad_image_files_are_named_errors(tmp_path, mnist_files, content, message):
    bad = tmp_path / "bad"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match=f"MNISTDataset: '.*bad' {message}"):
        data.MNISTDataset(bad, mnist_files[1])


def test_missing_and_mismatched_files_are_named_errors(tmp_path, mnist_files):
    with pytest.raises(FileNotFoundError, match="MNISTDataset: no such file: '.*absent.gz'"):
        data.MNISTDataset(tmp_path / "absent.gz", mnist_files[1])
    short = tmp_path / "short"
    short.write_bytes(_idx(LABELS[:5]))
    with pytest.raises(ValueError, match="MNISTDataset: 7 images but 5 labels"):
        data.MNISTDataset(mnist_files[0], short)
    with pytest.raises(ValueError, match="parse_mnist: .* is not a label file"):
        data.parse_mnist(mnist_files[0], mnist_files[0])
    with pytest.raises(TypeError, match="MNISTDataset: index must be an int, a slice"):
        data.MNISTDataset(*mnist_files)[1.0]


def test_needle_names_resolve():
    assert ndl.data.MNISTDataset is data.MNISTDataset
    assert callable(ndl.ops.logsoftmax) and issubclass(ndl.ops.LogSoftmax, ndl.TensorOp)
