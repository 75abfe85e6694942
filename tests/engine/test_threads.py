"""The switches under threads: no_grad and detect_anomaly per thread, lazy mode process-wide.

Each test forces the interleaving it checks with barriers and events, so the
outcome does not depend on the scheduler.
"""

import threading
import warnings

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd
from adjoint.anomaly import _DETECTOR as DETECTOR


def run_threads(*targets):
    """Run the targets in threads; re-raise the first exception one of them raised."""
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    inside = threading.Barrier(2)
    done = threading.Event()
    results = {}

    def quiet():
        with ad.no_grad():
            inside.wait()
            results["quiet"] = ad.Tensor([1.0]) * 2
            done.wait()
            results["quiet_enabled"] = ad.is_grad_enabled()

    def recording():
        inside.wait()  # the other thread is inside its no_grad block now
        y = ad.Tensor([1.0]) * 2
        results["recording"] = y
        results["recording_enabled"] = ad.is_grad_enabled()
        done.set()

    run_threads(quiet, recording)
    assert results["recording"].requires_grad and results["recording"].op is not None
    assert results["recording_enabled"] is True
    assert not results["quiet"].requires_grad and results["quiet_enabled"] is False
    assert ad.is_grad_enabled()


def test_a_new_thread_starts_with_grad_enabled_even_inside_no_grad():
    seen = []
    with ad.no_grad():
        run_threads(lambda: seen.append((ad.is_grad_enabled(), (ad.Tensor([1.0]) + 1).op)))
    assert seen[0][0] is True and seen[0][1] is not None


def test_detect_anomaly_checks_only_the_thread_that_turned_it_on():
    inside = threading.Barrier(2)
    done = threading.Event()
    results = {}

    def checked():
        with ad.detect_anomaly():
            inside.wait()
            done.wait()
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    ad.log(ad.Tensor([0.0]))
            except ad.AnomalyError as error:
                results["checked"] = error

    def unchecked():
        inside.wait()  # the other thread is in anomaly mode now
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            y = ad.log(ad.Tensor([0.0]))
        results["unchecked"] = (y.numpy()[0], ad.is_anomaly_enabled(), y._site)
        done.set()

    run_threads(checked, unchecked)
    assert isinstance(results["checked"], ad.AnomalyError)
    assert results["unchecked"] == (-np.inf, False, None)
    assert DETECTOR not in autograd._observers  # unregistered once the last thread left


def test_detect_anomaly_in_many_threads_registers_one_observer_and_cleans_up():
    barrier = threading.Barrier(4)

    def worker():
        with ad.detect_anomaly():
            barrier.wait()
            assert autograd._observers.count(DETECTOR) == 1
            x = ad.Tensor([0.5, 1.5])
            (ad.exp(x) * x).sum().backward()
            barrier.wait()

    run_threads(*[worker] * 4)
    assert DETECTOR not in autograd._observers


def test_lazy_blocks_closing_out_of_order_restore_the_flag_from_before():
    """Thread A opens lazy_mode(True), B opens lazy_mode(False), A closes first."""
    a_open, b_open, a_closed = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with ad.lazy_mode(True):
            seen["a inside"] = autograd.LAZY_MODE
            a_open.set()
            b_open.wait()
        seen["after a closed"] = autograd.LAZY_MODE  # B's block is still open
        a_closed.set()

    def b():
        a_open.wait()
        with ad.lazy_mode(False):
            seen["b inside"] = autograd.LAZY_MODE
            b_open.set()
            a_closed.wait()
            seen["b after a closed"] = autograd.LAZY_MODE

    assert autograd.LAZY_MODE is False
    run_threads(a, b)
    assert seen == {
        "a inside": True,
        "b inside": False,
        "after a closed": False,  # the most recently opened block still decides
        "b after a closed": False,
    }
    assert autograd.LAZY_MODE is False  # not left on by the block that closed first


def test_lazy_blocks_in_many_threads_give_the_same_values_and_leave_the_flag_off():
    rng = np.random.default_rng(0)
    x0 = rng.random((3, 4))
    expected_value = np.sum(np.exp(x0) * x0)
    expected_grad = np.exp(x0) * (x0 + 1)
    start = threading.Barrier(4)

    def worker(seed):
        local = np.random.default_rng(seed)
        start.wait()
        for _ in range(40):
            with ad.lazy_mode(bool(local.integers(2))):
                x = ad.Tensor(x0)
                y = (ad.exp(x) * x).sum()
                y.backward()
                value, grad = y.numpy(), x.grad.numpy()
            assert np.isclose(value, expected_value, rtol=1e-14)
            np.testing.assert_allclose(grad, expected_grad, rtol=1e-14)

    run_threads(*[lambda s=s: worker(s) for s in range(4)])
    assert autograd.LAZY_MODE is False and autograd._lazy_blocks == []


def test_lazy_mode_set_in_one_thread_is_seen_by_another():
    """LAZY_MODE is process-wide (needle's module flag), unlike no_grad."""
    was_set = threading.Event()
    seen = []

    def setter():
        ad.set_lazy_mode(True)
        was_set.set()

    def builder():
        was_set.wait()
        y = ad.Tensor([1.0]) + 1
        seen.append(y.cached_data is None)
        np.testing.assert_array_equal(y.numpy(), [2.0])

    try:
        run_threads(setter, builder)
    finally:
        autograd.LAZY_MODE = False
    assert seen == [True]
    assert (ad.Tensor([1.0]) + 1).cached_data is not None


@pytest.mark.parametrize("switch", ["no_grad", "detect_anomaly", "lazy_mode"])
def test_switches_restore_their_state_on_errors_in_threads(switch):
    def worker():
        with pytest.raises(RuntimeError), getattr(ad, switch)():
            raise RuntimeError("boom")
        assert ad.is_grad_enabled() and not ad.is_anomaly_enabled()

    run_threads(worker, worker)
    assert autograd.LAZY_MODE is False and DETECTOR not in autograd._observers


def test_backward_in_one_thread_does_not_tag_another_threads_nodes():
    """The census tag (derivative order) of a running backward pass is per thread."""
    inside_rule = threading.Barrier(2)
    made = threading.Barrier(2)
    orders = {}

    class Rendezvous(ad.ops.ElementwiseOp):
        def compute(self, a):
            return a * 1.0

        def gradient(self, out_grad, node):
            inside_rule.wait()  # the other thread builds forward nodes now
            made.wait()
            return (out_grad * 1.0,)

    def differentiating():
        x = ad.Tensor([1.0, 2.0])
        Rendezvous()(x).sum().backward()
        orders["grad"] = autograd.derivative_order(x.grad)

    def building():
        inside_rule.wait()
        orders["forward"] = autograd.derivative_order(ad.Tensor([1.0]) * ad.Tensor([2.0]))
        made.wait()

    run_threads(differentiating, building)
    assert orders == {"grad": 1, "forward": 0}
    assert autograd.derivative_order(ad.Tensor([1.0]) * ad.Tensor([2.0])) == 0


def test_concurrent_backward_passes_share_one_gc_pause():
    """The collector stays paused until the last of two overlapping walks ends, then is on."""
    import gc

    both_inside = threading.Barrier(2)
    first_done = threading.Event()
    seen = {}

    class Rendezvous(ad.ops.ElementwiseOp):
        def __init__(self, name):
            self.label = name

        def compute(self, a):
            return a * 1.0

        def gradient(self, out_grad, node):
            both_inside.wait()
            if self.label == "second":
                first_done.wait(timeout=30)
            seen[self.label] = gc.isenabled()
            return (out_grad * 1.0,)

    def walk(name):
        def run():
            Rendezvous(name)(ad.Tensor([1.0, 2.0])).sum().backward()
            if name == "first":
                first_done.set()

        return run

    run_threads(walk("first"), walk("second"))
    assert seen == {"first": False, "second": False}
    assert gc.isenabled() and autograd._gc_pauses == 0
