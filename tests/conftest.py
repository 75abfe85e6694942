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
