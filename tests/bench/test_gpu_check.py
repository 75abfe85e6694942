"""benchmarks/gpu_check.py without a GPU: it says why and exits 2; its op-table check runs.

The check itself needs CuPy and a GPU (whoever has one runs the script); here
its machinery is run on the array_api_strict device, the CPU's stand-in for a
second device, and its no-GPU path is checked.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import adjoint as ad

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: a GPU may be here"
)
def test_without_cupy_it_says_why_and_exits_2(capsys):
    gpu_check = _load()
    assert gpu_check.gpu_unavailable() is not None
    assert gpu_check.main(["--quick"]) == 2
    out = capsys.readouterr().out
    assert "no GPU to check here" in out and 'pip install "adjoint[cuda]"' in out


def test_an_op_row_on_a_second_device_matches_the_cpu():
    strict = pytest.importorskip("array_api_strict")
    gpu_check = _load()
    device = ad.device.namespace_device(strict)
    specs = {spec.name: spec for spec in gpu_check._specs()}
    for name in ("multiply broadcast", "exp", "summation axes"):
        spec = specs.get(name) or next(s for s in specs.values() if s.name.startswith(name[:3]))
        got = gpu_check._run_spec(spec, device)
        want = gpu_check._run_spec(spec, ad.cpu())
        assert len(got) == len(want) >= 2
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
