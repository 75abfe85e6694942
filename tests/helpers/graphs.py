"""Graphs that several test areas build the same way."""

import adjoint as ad


def classic():
    """y = ln(x1) + x1 x2 - sin(x2) at (2, 5), the textbook example: (x1, x2, y)."""
    x1 = ad.Tensor(2.0, name="x1")
    x2 = ad.Tensor(5.0, name="x2")
    return x1, x2, ad.log(x1) + x1 * x2 - ad.sin(x2)
