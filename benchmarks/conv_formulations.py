"""Three ways to differentiate a convolution, checked against each other and timed.

1. ``composed``: :func:`adjoint.conv2d`, im2col then one matmul; the gradient
   comes from the linear pair im2col/col2im and from matmul (what adjoint uses).
2. ``fused``: one op whose ``compute`` does the same NumPy work and whose
   ``gradient`` is written with the same im2col/col2im/matmul ops.
3. ``needle``: one op whose gradient is two more convolutions (needle's
   homework 4): the input's adjoint is a convolution of ``out_grad`` with the
   flipped, transposed kernel, the kernel's adjoint a convolution of the input
   with ``out_grad`` (batch and channel axes swapped). Stride 1 only here.

All three give derivatives of every order (each gradient is built from ops
that have gradients); the script checks values and first and second
derivatives agree, then times forward + backward (``create_graph=False``) on
the layers of the digits ResNet. Run: ``python benchmarks/conv_formulations.py``.
"""

from __future__ import annotations

import time

import numpy as np

import adjoint as ad
from adjoint.ops.conv import Im2Col
from adjoint.tensor import TensorOp


def _forward(x: np.ndarray, w: np.ndarray, padding: int) -> np.ndarray:
    kh, kw, c_in, c_out = w.shape
    cols = Im2Col((kh, kw), 1, padding).compute(x)
    n, oh, ow = cols.shape[:3]
    out = cols.reshape(-1, kh * kw * c_in) @ w.reshape(-1, c_out)
    return np.ascontiguousarray(out.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2))


class FusedConv(TensorOp):
    def __init__(self, padding: int) -> None:
        self.padding = padding

    def compute(self, x, w):
        return _forward(x, w, self.padding)

    def gradient(self, out_grad, node):
        x, w = node.inputs
        kh, kw, c_in, c_out = w.shape
        cols = ad.im2col(x, (kh, kw), 1, self.padding)
        n, oh, ow = cols.shape[:3]
        g = ad.reshape(ad.permute(out_grad, (0, 2, 3, 1)), (n * oh * ow, c_out))
        w_t = ad.transpose(ad.reshape(w, (kh * kw * c_in, c_out)))
        grad_x = ad.col2im(ad.reshape(g @ w_t, cols.shape), x.shape, (kh, kw), 1, self.padding)
        grad_w = ad.transpose(ad.reshape(cols, (n * oh * ow, kh * kw * c_in))) @ g
        return grad_x, ad.reshape(grad_w, w.shape)


class Flip(TensorOp):
    """Reverse the kernel's two spatial axes; linear, its own adjoint."""

    def compute(self, w):
        return np.ascontiguousarray(w[::-1, ::-1])

    def gradient(self, out_grad, node):
        return (Flip()(out_grad),)


class NeedleConv(TensorOp):
    def __init__(self, padding: int) -> None:
        self.padding = padding

    def compute(self, x, w):
        return _forward(x, w, self.padding)

    def gradient(self, out_grad, node):
        x, w = node.inputs
        k, p = w.shape[0], self.padding
        w_t = ad.permute(Flip()(w), (0, 1, 3, 2))
        grad_x = NeedleConv(k - 1 - p)(out_grad, w_t)
        kernel = ad.permute(out_grad, (2, 3, 0, 1))  # (OH, OW, N, C_out)
        grad_w = NeedleConv(p)(ad.permute(x, (1, 0, 2, 3)), kernel)  # (C_in, C_out, K, K)
        return grad_x, ad.permute(grad_w, (2, 3, 0, 1))


VARIANTS = {
    "composed": lambda x, w, p: ad.conv2d(x, w, 1, p),
    "fused": lambda x, w, p: FusedConv(p)(x, w),
    "needle": lambda x, w, p: NeedleConv(p)(x, w),
}


def check_agreement(rng: np.random.Generator) -> None:
    """Values and first and second derivatives of all three agree."""
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 3, 3, 2))
    results = {}
    for name, conv in VARIANTS.items():
        xt, wt = ad.Tensor(x), ad.Tensor(w)
        out = conv(xt, wt, 1)
        (out * out).sum().backward()
        gx, gw = xt.grad, wt.grad
        (gx * gx).sum().backward()  # differentiate the gradient again
        results[name] = [out.numpy(), gx.numpy(), gw.numpy(), xt.grad.numpy(), wt.grad.numpy()]
        assert ad.gradcheck(lambda a, b, c=conv: c(a, b, 1) ** 2, x[:1], w, order=2)
    for name, arrays in results.items():
        for got, want in zip(arrays, results["composed"]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)
    print("values, first and second derivatives agree; gradcheck to order 2 passes")


def main() -> None:
    rng = np.random.default_rng(0)
    check_agreement(rng)
    layers = [(64, 1, 8, 8, 16), (64, 16, 8, 8, 16), (64, 32, 4, 4, 32)]
    print(f"{'layer (N, C_in, H, W, C_out), 3x3':36s}" + "".join(f"{n:>10s}" for n in VARIANTS))
    for dtype in (np.float64, np.float32):
        for n, c, h, w_, o in layers:
            x = ad.Tensor(rng.standard_normal((n, c, h, w_)).astype(dtype))
            w = ad.Tensor(rng.standard_normal((3, 3, c, o)).astype(dtype))
            row = f"{str((n, c, h, w_, o)) + ' ' + np.dtype(dtype).name:36s}"
            for conv in VARIANTS.values():
                best = np.inf
                for _ in range(5):
                    start = time.perf_counter()
                    for _ in range(10):
                        out = conv(x, w, 1)
                        (out * out).sum().backward(create_graph=False)
                    best = min(best, (time.perf_counter() - start) / 10)
                row += f"{best * 1e3:8.2f}ms"
            print(row)


if __name__ == "__main__":
    main()
