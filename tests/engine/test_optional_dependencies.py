"""numpy and sympy are adjoint's only required dependencies; everything else is optional,
and a feature that needs a missing one says which, and how to install it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest

#: Run in a fresh interpreter in which the optional packages cannot be imported.
SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class Blocker:
        BLOCKED = {"tqdm", "matplotlib", "jax", "jaxlib", "cupy", "torch", "scipy",
                   "sklearn", "IPython", "graphviz", "pandas", "numba"}
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    import io
    import numpy as np
    import adjoint as ad

    for module in pkgutil.walk_packages(ad.__path__, "adjoint."):
        if module.name != "adjoint.__main__":
            importlib.import_module(module.name)

    # the core works: derivatives, symbolic checks, graphs, drawings, compiled graphs, data
    f = lambda t: ad.tanh(t) * ad.exp(-t * t)
    assert ad.symbolic.check(f, 0.3, order=3).ok
    x = ad.Tensor(0.5, name="x")
    d2 = ad.grad(ad.grad(f))(x)
    assert "<svg" in ad.Graph(d2).to_svg()
    assert ad.compile(ad.grad(f))(np.float64(0.5)) is not None
    print(repr(ad.nn.Sequential(ad.nn.Linear(2, 2))).splitlines()[0])

    # tqdm missing: the plain bar
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    from adjoint.progress import progress
    assert list(progress(range(3), desc="steps", file=stream)) == [0, 1, 2]
    assert "] 3/3" in stream.getvalue()

    # the optional features name what they need
    def message(call):
        try:
            call()
        except (ImportError, RuntimeError) as error:
            return str(error)
        raise AssertionError("no error")

    print("JAX:", message(lambda: ad.compile(f, backend="jax")(np.float64(0.5))))
    print("CENSUS:", message(lambda: ad.census(d2).plot()))
    print("CUDA:", message(lambda: ad.cuda()))
    print("OK")
    """
)


def test_the_installed_metadata_requires_only_numpy_and_sympy():
    required = [
        r.split(";")[0].strip()
        for r in importlib.metadata.requires("adjoint") or []
        if "extra ==" not in r
    ]
    names = sorted(r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in required)
    assert names == ["numpy", "sympy"]


def test_adjoint_works_without_any_optional_package_and_names_what_a_feature_needs():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.rstrip().endswith("OK")
    assert "Sequential(  # 6 parameters" in out
    jax = next(line for line in out.splitlines() if line.startswith("JAX:"))
    assert 'pip install "adjoint[jax]"' in jax
    census = next(line for line in out.splitlines() if line.startswith("CENSUS:"))
    assert "Census.plot needs matplotlib" in census and "pip install matplotlib" in census
    cuda = next(line for line in out.splitlines() if line.startswith("CUDA:"))
    assert "cupy" in cuda.lower()


@pytest.mark.parametrize("module", ["adjoint", "adjoint.cli", "adjoint.progress", "adjoint.data"])
def test_importing_adjoint_imports_no_optional_package(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('tqdm', 'matplotlib', 'jax', 'cupy', 'torch', 'IPython') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
