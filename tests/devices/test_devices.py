"""Devices (issue 21): ad.cpu(), ad.cuda(), Tensor(..., device=), .device, .to(), .numpy().

The CUDA path needs CuPy and a GPU (benchmarks/gpu_check.py checks it there);
here it is the array-API device of ``array_api_strict`` that stands for a
second device: its arrays refuse NumPy's functions and NumPy's arrays.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import adjoint as ad
from adjoint.device import DeviceMismatchError, namespace_device

strict = pytest.importorskip("array_api_strict")
STRICT = namespace_device(strict)
HAS_CUPY = importlib.util.find_spec("cupy") is not None
#: A mismatch error names both devices (in the order of the op's inputs).
BOTH = r"different devices, (?=.*cpu\(\))(?=.*namespace_device\(array_api_strict\))"


def test_cpu_is_the_default_and_numpy_shares_the_data():
    x = ad.Tensor([1.0, 2.0])
    assert ad.default_device() == ad.cpu() and x.device == ad.cpu()
    assert repr(ad.cpu()) == "cpu()" and ad.cpu().enabled()
    assert x.to(ad.cpu()) is x
    assert x.numpy() is x.realize_cached_data()


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed: the error is for its absence")
def test_cuda_without_cupy_says_what_to_install():
    with pytest.raises(ImportError, match=r'pip install "adjoint\[cuda\]"'):
        ad.cuda()
    with pytest.raises(TypeError, match="index must be a non-negative int"):
        ad.cuda(-1)


def test_a_tensor_on_another_device_keeps_its_data_there():
    x = ad.Tensor([1.0, 2.0], device=STRICT)
    assert x.device == STRICT and repr(STRICT) == "namespace_device(array_api_strict)"
    assert type(x.realize_cached_data()).__module__.startswith("array_api_strict")
    assert x.dtype == np.float64 and x.shape == (2,)
    host = x.numpy()
    assert type(host) is np.ndarray and host.tolist() == [1.0, 2.0]
    host[0] = 5.0  # a copy: the device data is untouched
    assert x.numpy().tolist() == [1.0, 2.0]
    assert ad.Tensor([1, 2], device=STRICT, dtype="float32").dtype == np.float32


def test_mixing_devices_in_one_op_is_an_error_naming_both():
    a = ad.Tensor([1.0, 2.0])
    b = ad.Tensor([3.0, 4.0], device=STRICT)
    for f in (lambda: a + b, lambda: b * a, lambda: ad.maximum(a, b)):
        with pytest.raises(DeviceMismatchError, match=BOTH):
            f()
    with pytest.raises(DeviceMismatchError, match="different devices"):
        _ = b < a
    with ad.lazy_mode():
        c = a + b
        with pytest.raises(DeviceMismatchError, match="different devices"):
            c.numpy()


def test_to_copies_and_its_adjoint_copies_back():
    x = ad.Tensor([1.0, 2.0], name="x")
    y = x.to(STRICT)
    assert y.device == STRICT and y.op.name == "ToDevice"
    z = (y * y).sum()
    z.backward()
    assert x.grad.device == ad.cpu()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert y.to(STRICT) is y and y.to(ad.cpu()).device == ad.cpu()
    with ad.lazy_mode():
        assert x.to(STRICT).device == STRICT


def test_init_and_default_device():
    for t in (
        ad.init.ones(2, 3, device=STRICT),
        ad.init.zeros(2, device=STRICT),
        ad.init.rand(3, device=STRICT, rng=np.random.default_rng(0)),
        ad.init.randn(3, device=STRICT, rng=np.random.default_rng(0)),
        ad.init.one_hot(3, [0, 2], device=STRICT),
        ad.init.zeros_like(ad.Tensor([1.0], device=STRICT)),
    ):
        assert t.device == STRICT
    r1 = ad.init.rand(3, rng=np.random.default_rng(0)).numpy()
    r2 = ad.init.rand(3, device=STRICT, rng=np.random.default_rng(0)).numpy()
    np.testing.assert_array_equal(r1, r2)  # drawn on the host: the same on every device
    ad.set_default_device(STRICT)
    try:
        assert ad.Tensor([1.0]).device == STRICT and ad.init.ones(2).device == STRICT
    finally:
        ad.set_default_device(ad.cpu())
    assert ad.Tensor([1.0]).device == ad.cpu()
    with pytest.raises(TypeError, match="give a device"):
        ad.set_default_device("cuda")
