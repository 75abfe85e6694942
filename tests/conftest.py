"""The whole suite runs with every rewrite of ``ad.simplify`` verified.

Set before ``adjoint`` is imported, so the module default is on in this process,
and inherited by the subprocesses the suite starts (the CLI, the notebooks): a
rewrite that changes a value or cuts a dependence anywhere a test reaches the
simplifier raises ``ad.RewriteError`` naming the rule and the node.
"""

import os
import sys

os.environ["ADJOINT_VERIFY_SIMPLIFY"] = "1"

import pytest  # noqa: E402  (after the variable: adjoint reads it when imported)

import adjoint as ad  # noqa: E402


@pytest.fixture(params=[False, True], ids=["eager", "lazy"])
def mode(request):
    """Each test that takes ``mode`` runs in eager and in lazy mode."""
    saved = ad.autograd.LAZY_MODE
    with ad.lazy_mode(request.param):
        yield request.param
    ad.autograd.LAZY_MODE = saved  # a test that sets the flag by mistake changes nothing


_RECURSION_LIMIT = sys.getrecursionlimit()


@pytest.fixture(autouse=True)
def _same_recursion_limit():
    """Every test starts at the process's own recursion limit.

    A library a test uses may raise it for good (running a notebook through
    nbclient leaves it at 3000), and the deep-formula tests of adjoint.symbolic
    check what happens at the default one.
    """
    sys.setrecursionlimit(_RECURSION_LIMIT)
    yield


#: ``ADJOINT_TEST_BACKEND=array_api_strict`` runs the tests on the array-API device of
#: array_api_strict (a strict reference namespace, no NumPy functions, no NumPy arrays
#: mixed in): every tensor a test makes lands there, so a ``compute`` that calls NumPy
#: directly fails (issue 21). Unset: NumPy on the CPU.
BACKEND = os.environ.get("ADJOINT_TEST_BACKEND", "numpy")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "numpy_only(reason): cannot run on the array_api_strict test backend"
    )
    if BACKEND not in ("numpy", "array_api_strict"):
        raise pytest.UsageError(
            f"ADJOINT_TEST_BACKEND={BACKEND!r}: valid backends are numpy and array_api_strict"
        )
    if BACKEND == "array_api_strict":
        import array_api_strict

        ad.set_default_device(ad.device.namespace_device(array_api_strict))


def pytest_collection_modifyitems(config, items):
    if BACKEND == "numpy":
        return
    from tests.strict_skips import reason as strict_reason

    for item in items:
        listed = strict_reason(item.nodeid)
        if listed is not None:
            item.add_marker(pytest.mark.skip(reason=f"NumPy only: {listed}"))
            continue
        marker = item.get_closest_marker("numpy_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"NumPy only: {reason}"))
