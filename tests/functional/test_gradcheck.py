"""ad.gradcheck: passes on right derivatives, fails on wrong ones, and says where.

The failing cases use ops with a deliberately wrong ``gradient`` (tests/helpers/oracle.py)
(a wrong first derivative, and a right first derivative whose own derivative
is wrong, which only ``order=2`` can see).
"""

import numpy as np
import pytest

import adjoint as ad
from tests.helpers.oracle import SinWrongSecond, WrongSin


def wrong_sin(x):
    return WrongSin()(x)


def sin_wrong_second(x):
    return SinWrongSecond()(x)


@pytest.mark.parametrize(
    "f, inputs",
    [
        (lambda x: ad.exp(x) * x, [np.array([0.3, -1.2])]),
        (lambda x, y: ad.sin(x @ y), [np.ones((2, 3)) * 0.3, np.arange(3.0) / 4]),
        (lambda x, y: x / (y * y + 1) + ad.log(y * y + 1), [np.array(0.7), np.array([1.0, -2.0])]),
        (lambda x: ad.summation(ad.tanh(x), axes=0), [np.linspace(-1, 1, 6).reshape(3, 2)]),
        (lambda x, unused: x * x, [np.array([1.0, 2.0]), np.array(3.0)]),
    ],
)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_passes_on_correct_derivatives(f, inputs, order):
    assert ad.gradcheck(f, *inputs, order=order) is True


def test_accepts_numbers_lists_and_tensors_and_leaves_them_alone():
    x = ad.Tensor([0.5, 1.5])
    before = x.numpy().copy()
    assert ad.gradcheck(lambda a, b, c: a * b * c, 2.0, [1.0, 3.0], x, order=2)
    np.testing.assert_array_equal(x.numpy(), before)


def test_fails_on_a_wrong_gradient_with_both_numbers_and_the_input():
    with pytest.raises(AssertionError) as info:
        ad.gradcheck(wrong_sin, np.array([0.3, -1.2]))
    message = str(info.value)
    assert "gradcheck failed at derivative order 1" in message
    assert "input 0 (shape (2,))" in message
    analytic, numeric = _numbers(message)
    assert not np.isclose(analytic, numeric)
    assert "at input 0 = [ 0.3 -1.2]" in message


def test_names_the_input_that_differs():
    with pytest.raises(AssertionError) as info:
        ad.gradcheck(lambda x, y: x * 2.0 + wrong_sin(y), 1.0, [0.5, 0.25])
    message = str(info.value)
    assert "input 1 (shape (2,))" in message and "input 0" not in message
    assert "at input 1 = [0.5  0.25]" in message


def test_wrong_second_derivative_passes_order_1_and_fails_order_2():
    x = np.array([0.4, -0.8])
    assert ad.gradcheck(sin_wrong_second, x, order=1)
    with pytest.raises(AssertionError, match="derivative order 2"):
        ad.gradcheck(sin_wrong_second, x, order=2)


def test_tolerances_and_seed_are_honoured():
    f = lambda x: ad.exp(x * 3.0)  # noqa: E731
    x = np.array([1.0, 2.0])
    assert ad.gradcheck(f, x, eps=1e-6, seed=3, trials=1)
    with pytest.raises(AssertionError):
        ad.gradcheck(f, x, eps=1e-1, rtol=1e-12, atol=0.0)


def test_errors():
    with pytest.raises(ValueError, match="order must be a positive int"):
        ad.gradcheck(ad.exp, 1.0, order=0)
    with pytest.raises(ValueError, match="at least one input"):
        ad.gradcheck(ad.exp)
    with pytest.raises(TypeError, match="must return a Tensor"):
        ad.gradcheck(lambda x: 1.0, 1.0)


def _numbers(message: str) -> tuple[float, float]:
    line = next(line for line in message.splitlines() if "analytic" in line)
    analytic = float(line.split("analytic ")[1].split(" vs")[0])
    numeric = float(line.split("numerical ")[1].split(" ")[0])
    return analytic, numeric
