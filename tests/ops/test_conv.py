"""Convolution and pooling: values against loop-based NumPy references, derivatives to order 2.

The im2col/col2im pair is checked as what it claims to be, each the other's
adjoint (<im2col x, y> == <x, col2im y>), and conv2d's second derivatives go
through that pair and matmul only.
"""

import numpy as np
import pytest

import adjoint as ad
from tests.helpers.references import conv_reference, pool_reference

GEOMETRIES = [  # (N, C, H, W, C_out, k, stride, padding)
    (2, 3, 5, 6, 4, 3, 1, 1),
    (2, 2, 7, 7, 3, 3, 2, 1),
    (1, 2, 6, 5, 3, 2, 2, 0),
    (2, 1, 8, 8, 2, 3, 3, 2),
    (1, 2, 4, 4, 2, 1, 1, 0),
]


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv2d_matches_reference(geometry):
    n, c, h, w, c_out, k, s, p = geometry
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((k, k, c, c_out))
    out = ad.conv2d(ad.Tensor(x), ad.Tensor(weight), stride=s, padding=p)
    np.testing.assert_allclose(out.numpy(), conv_reference(x, weight, s, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_and_col2im_are_adjoint(geometry):
    n, c, h, w, _, k, s, p = geometry
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w))
    cols = ad.im2col(ad.Tensor(x), k, s, p)
    y = rng.standard_normal(cols.shape)
    back = ad.col2im(ad.Tensor(y), x.shape, k, s, p)
    assert back.shape == x.shape
    assert np.isclose(np.sum(cols.numpy() * y), np.sum(x * back.numpy()), rtol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES[:4])
def test_conv2d_second_derivatives(geometry):
    n, c, h, w, c_out, k, s, p = geometry
    rng = np.random.default_rng(2)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((k, k, c, c_out))
    assert ad.gradcheck(lambda a, b: ad.conv2d(a, b, s, p), x, weight, order=2)


def test_conv2d_squared_has_a_nonzero_hessian():
    # conv is bilinear, so a Hessian through it is nonzero only across (x, w): check it exactly.
    rng = np.random.default_rng(3)
    x, weight = rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((2, 2, 1, 1))
    assert ad.gradcheck(lambda a, b: ad.conv2d(a, b) ** 2, x, weight, order=2)


def test_col2im_gradient_is_im2col():
    rng = np.random.default_rng(4)
    y = ad.Tensor(rng.standard_normal((1, 2, 2, 3, 3, 2)))
    assert ad.gradcheck(lambda t: ad.col2im(t, (1, 2, 4, 4), 3, 1, 0) ** 2, y.numpy(), order=2)


@pytest.mark.parametrize("k, stride", [(2, 2), (3, 1), (2, 1)])
def test_avg_pool2d(k, stride):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6))
    out = ad.avg_pool2d(ad.Tensor(x), k, stride)
    np.testing.assert_allclose(out.numpy(), pool_reference(x, k, stride, np.mean), rtol=1e-12)
    assert ad.gradcheck(lambda t: ad.avg_pool2d(t, k, stride) ** 2, x, order=2)


@pytest.mark.parametrize("k, stride", [(2, 2), (3, 1)])
def test_max_pool2d(k, stride):
    rng = np.random.default_rng(6)
    x = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 10.0  # no ties
    out = ad.max_pool2d(ad.Tensor(x), k, stride)
    np.testing.assert_allclose(out.numpy(), pool_reference(x, k, stride, np.max))
    assert ad.gradcheck(lambda t: ad.max_pool2d(t, k, stride) ** 2, x, order=2)


def test_global_avg_pool2d():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5))
    out = ad.global_avg_pool2d(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), x.mean(axis=(2, 3)), rtol=1e-12)
    assert ad.gradcheck(lambda t: ad.global_avg_pool2d(t) ** 2, x, order=2)


def test_lazy_mode_infers_shapes():
    with ad.lazy_mode():
        x = ad.Tensor(np.ones((2, 3, 7, 7)))
        out = ad.conv2d(x, ad.Tensor(np.ones((3, 3, 3, 4))), stride=2, padding=1)
        assert out.cached_data is None
        assert out.shape == (2, 4, 4, 4)
        np.testing.assert_allclose(out.numpy()[0, 0, 1, 1], 27.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ad.conv2d(np.ones((1, 2, 5, 5)), np.ones((3, 3, 3, 4))), "3 input channels"),
        (lambda: ad.conv2d(np.ones((2, 5, 5)), np.ones((3, 3, 2, 4))), "NCHW"),
        (lambda: ad.conv2d(np.ones((1, 1, 2, 2)), np.ones((3, 3, 1, 1))), "larger than"),
        (lambda: ad.conv2d(np.ones((1, 1, 5, 5)), np.ones((3, 3, 1))), "(KH, KW, C_in, C_out)"),
        (lambda: ad.conv2d(np.ones((1, 1, 5, 5)), np.ones((3, 3, 1, 1)), stride=0), "stride"),
        (lambda: ad.im2col(np.ones((1, 1, 5, 5)), 0), "kernel_size"),
        (lambda: ad.col2im(np.ones((1, 2, 2, 3, 3, 1)), (1, 1, 5, 5), 3), "expected rows"),
    ],
)
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_needles_channels_last_conv_is_conv2d_between_permutes():
    rng = np.random.default_rng(8)
    x, weight = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((3, 3, 3, 4))
    out = ad.conv(ad.Tensor(x), ad.Tensor(weight), stride=2, padding=1)
    reference = conv_reference(x.transpose(0, 3, 1, 2), weight, 2, 1).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-12, atol=1e-12)
    assert ad.gradcheck(lambda a, b: ad.conv(a, b, 1, 1), x[:1], weight, order=1)
