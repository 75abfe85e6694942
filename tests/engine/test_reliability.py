"""Reliability: anomaly mode finds the op that made a NaN/Inf; user data is never touched."""

import os
import warnings

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd
from adjoint.anomaly import _DETECTOR as DETECTOR

HERE = os.path.abspath(__file__)


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        yield


@pytest.fixture(params=[False, True], ids=["eager", "lazy"])
def lazy(request):
    with ad.lazy_mode(request.param):
        yield request.param


# ------------------------------------------------------------------ anomaly mode


def _log_twice(x):
    return ad.log(x) * 2  # <- the line anomaly mode must point at


def test_forward_anomaly_names_the_op_its_order_and_the_users_line(lazy):
    x = ad.Tensor([1.0, 0.0, 2.0])
    with pytest.raises(ad.AnomalyError) as info, ad.detect_anomaly():
        y = ad.exp(_log_twice(x))  # the first bad op is Log, not MulScalar or Exp
        y.numpy()  # lazy: computed (and checked) here
    message = str(info.value)
    assert message.startswith("detect_anomaly: Log (derivative order 0) produced -inf")
    assert "1 of 3 element(s), from finite inputs" in message
    assert f'File "{HERE}"' in message and "in _log_twice" in message
    assert "return ad.log(x) * 2  # <- the line anomaly mode must point at" in message
    assert "adjoint/" not in message.replace(HERE, "")  # library frames are skipped
    assert isinstance(info.value, FloatingPointError)
    assert isinstance(info.value.node.op, ad.ops.Log)
    assert not ad.is_anomaly_enabled()


def test_backward_anomaly_names_the_gradient_node_and_the_forward_line(lazy):
    x = ad.Tensor([4.0, 0.0])
    with ad.detect_anomaly():
        y = (x**0.5).sum()  # forward: finite; its gradient 0.5 x**-0.5 is inf at 0
        y.numpy()
        with pytest.raises(ad.AnomalyError) as info:
            y.backward()
            x.grad.numpy()
    message = str(info.value)
    assert message.startswith(
        "detect_anomaly: PowerScalar (derivative order 1, in the gradient of PowerScalar) "
        "produced inf in 1 of 2 element(s)"
    )
    assert "y.backward()" in message
    assert "The forward PowerScalar node it differentiates was created at:" in message
    assert "y = (x**0.5).sum()  # forward: finite" in message
    assert autograd.derivative_order(info.value.node) == 1


def test_lazy_anomaly_is_raised_when_the_node_is_computed_not_when_recorded():
    x = ad.Tensor([0.0, 1.0])
    with ad.lazy_mode(), ad.detect_anomaly():
        y = ad.log(x) + 1.0  # recorded only: nothing computed, nothing raised
        assert y.cached_data is None
        with pytest.raises(ad.AnomalyError) as info:
            y.numpy()
    message = str(info.value)
    assert message.startswith("detect_anomaly: Log (derivative order 0) produced -inf")
    assert "y = ad.log(x) + 1.0  # recorded only" in message  # where it was recorded
    assert "y.numpy()" not in message


def test_second_order_anomaly_reports_order_two():
    x = ad.Tensor([0.0, 1.0])
    y = (x**1.5).sum()
    y.backward()  # 1.5 x**0.5: finite everywhere
    g = x.grad
    assert np.all(np.isfinite(g.numpy()))
    order_two = r"\(derivative order 2, in the gradient of"
    with pytest.raises(ad.AnomalyError, match=order_two) as info, ad.detect_anomaly():
        g.sum().backward()  # 0.75 x**-0.5: inf at 0
    assert autograd.derivative_order(info.value.node) == 2
    assert "g.sum().backward()" in str(info.value)


def test_inf_and_nan_both_count_and_bad_input_data_is_named():
    x = ad.Tensor([1.0, 0.0])
    division = r"EWiseDiv \(derivative order 0\) produced inf"
    with pytest.raises(ad.AnomalyError, match=division), ad.detect_anomaly():
        ad.Tensor([1.0, 1.0]) / x
    nan_leaf = ad.Tensor([np.nan, 1.0])
    with pytest.raises(ad.AnomalyError) as info, ad.detect_anomaly():
        nan_leaf * 2.0
    assert "MulScalar (derivative order 0) produced nan in 1 of 2 element(s)" in str(info.value)
    assert "input 0 already held nan in 1 of 2 element(s)" in str(info.value)


def test_graph_run_values_are_checked_too():
    x = ad.Tensor([1.0, 2.0], name="x")
    with ad.detect_anomaly():
        graph = ad.Graph(ad.log(x) * 3.0)  # built on finite values
    np.testing.assert_allclose(graph.run({x: [1.0, 4.0]})[0], 3 * np.log([1.0, 4.0]))
    with np.errstate(divide="ignore"):
        assert np.isneginf(graph.run({x: [0.0, 1.0]})[0][0])  # no anomaly mode: NumPy's -inf
        log_of_zero = r"Log \(derivative order 0\) produced -inf"
        with pytest.raises(ad.AnomalyError, match=log_of_zero), ad.detect_anomaly():
            graph.run({x: [0.0, 1.0]})
        with pytest.raises(ad.AnomalyError, match="input 0 already held nan"), ad.detect_anomaly():
            graph.run({x: [np.nan, 1.0]})


def test_off_by_default_nested_off_and_free_when_unused():
    x = ad.Tensor([0.0])
    assert np.isneginf(ad.log(x).numpy()).all()  # no anomaly mode: NumPy's result
    with ad.detect_anomaly():
        assert ad.is_anomaly_enabled()
        with ad.detect_anomaly(False):
            assert not ad.is_anomaly_enabled()
            ad.log(x)  # not checked
        with pytest.raises(ad.AnomalyError):
            ad.log(x)
        assert (x * 2)._site is not None
    assert not ad.is_anomaly_enabled()
    assert DETECTOR not in autograd._observers  # zero cost once off: nothing is registered
    assert (x * 2)._site is None


def test_anomaly_mode_values_are_unchanged_and_integers_are_not_inspected():
    x0 = np.array([0.3, 1.7])
    with ad.detect_anomaly():
        x = ad.Tensor(x0)
        y = (ad.exp(x) * ad.sin(x)).sum()
        y.backward()
        ad.sum(x.grad).backward()
        counts = ad.Tensor(np.array([1, 2]))
        assert (counts * 3).dtype.kind == "i"
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x0) * np.cos(x0), rtol=1e-13)


# ---------------------------------------------------------- user data is never touched


def test_leaf_data_is_a_private_copy_both_ways():
    user = np.array([1.0, 2.0, 3.0])
    x = ad.Tensor(user)
    user[0] = 100.0  # the caller changes its array: the leaf keeps its own
    assert x.numpy()[0] == 1.0
    x.realize_cached_data()[1] = -5.0  # the leaf's data is writable (needle) and private
    assert user[1] == 2.0
    listed = [[1.0, 2.0]]
    ad.Tensor(listed).realize_cached_data()[0, 0] = 9.0
    assert listed == [[1.0, 2.0]]


def test_array_operands_out_grad_and_gradcheck_leave_arrays_alone(lazy):
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    b = np.array([0.25, 4.0])
    seed = np.array([[1.0, 2.0], [3.0, 4.0]])
    copies = [arr.copy() for arr in (a, b, seed)]
    x = ad.Tensor(a)
    y = (x * b + b) @ a - a / (b + 1.0)
    y = ad.relu(y) + ad.exp(b - x) + np.float64(2.0) ** x
    y.backward(seed)
    x.grad.numpy()
    ad.gradcheck(lambda t: (t * b) @ a, a, order=2)
    for arr, copy in zip((a, b, seed), copies):
        np.testing.assert_array_equal(arr, copy)
