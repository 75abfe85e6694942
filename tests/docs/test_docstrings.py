"""Every runnable example in the package's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import adjoint

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(adjoint.__path__, prefix="adjoint.")
    if name not in {"adjoint.__main__"}
) + ["tests.helpers.random_graphs"]  # the test helper that was adjoint.testing


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.errstate(all="ignore"):
        # A neutral __name__: classes an example defines must not pose as the
        # package's own (tests enumerate the package's TensorOp subclasses).
        for test in finder.find(module, name, globs={**vars(module), "__name__": "__doctest__"}):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
