"""Smoke tests of the benchmark harness (``benchmarks/run.py``, ``python -m adjoint bench``).

Nothing here asserts a time: the machine is shared and timings are noise.
Each run is the quick variant of one workload with one sample; what is
checked is that every framework's result is verified before it is timed and
that the numbers are reported, printed and in the JSON record.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adjoint
import adjoint.cli as cli

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--quick", "--reps", "1", "--min-time", "0", "--threads", "0"]


def _load_run():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load_run()
harness = run.harness


def _run(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "bench.json"
    code = run.main([*args, *FAST, "--json", str(out)])
    return code, json.loads(out.read_text())


def test_quick_run_checks_every_framework_and_writes_json(tmp_path, capsys):
    code, record = _run(tmp_path, "--only", "W1")
    assert code == 0
    (w1,) = record["results"]
    assert w1["case"].startswith("W1 overhead") and w1["ops"] == 1000
    for name in ("numpy", "adjoint", "adjoint create_graph=False"):
        result = w1["frameworks"][name]
        assert result["status"] == "ok"
        assert result["samples"] == 1 and result["median_s"] > 0
        assert result["us_per_op"] == pytest.approx(result["median_s"] / 1000 * 1e6)
        assert result["ratio_to_baseline"] > 0
    assert w1["frameworks"]["numpy"]["ratio_to_baseline"] == pytest.approx(1.0)
    assert "targets" not in record  # ratios are reported, not judged
    assert record["machine"]["blas_threads"] == "not pinned"
    shown = capsys.readouterr().out
    assert "W1 overhead" in shown and "us/op" in shown
    assert "adjoint's time / the others' (this run)" in shown and "x numpy" in shown


@pytest.mark.slow
def test_w4_records_graph_sizes(tmp_path):
    code, record = _run(tmp_path, "--only", "W4")
    assert code == 0
    nested = [r for r in record["results"] if r["case"].endswith("nested grad")]
    at_points = [r for r in record["results"] if r["case"].endswith("at 1,000 points")]
    assert [r["case"][:6] for r in nested] == ["W4 d^1", "W4 d^2", "W4 d^3", "W4 d^4"]
    assert [r["case"][:6] for r in at_points] == ["W4 d^4"]  # the compiled-graph variant
    assert at_points[0]["frameworks"]["adjoint"]["status"] == "ok"
    for r in nested:
        assert r["frameworks"]["adjoint"]["status"] == "ok"
        assert r["frameworks"]["adjoint nested backward"]["status"] == "ok"
        # Nested backward builds a bigger graph than its simplification.
        assert r["extra"]["nodes raw"] >= r["extra"]["nodes simplified"]


def test_a_wrong_result_is_reported_not_timed(tmp_path, monkeypatch):
    real = run.w1_overhead.cases

    def broken(peers, quick=False):
        cases = real(peers, quick)
        for case in cases:
            good = case.runners["adjoint"]
            case.runners["adjoint"] = lambda good=good: (lambda f: lambda: [f()[0] * 1.001])(good())
        return cases

    monkeypatch.setattr(run.w1_overhead, "cases", broken)
    code, record = _run(tmp_path, "--only", "W1")
    assert code == 1
    result = record["results"][0]["frameworks"]["adjoint"]
    assert result["status"] == "WRONG" and "max abs error" in result["message"]
    assert "median_s" not in result


def test_agreement_check_compares_shapes_and_values():
    want = [np.array([1.0, 2.0])]
    assert harness.agrees([np.array([1.0, 2.0])], want, 1e-9, 0.0) == ""
    assert "max abs error" in harness.agrees([np.array([1.0, 2.1])], want, 1e-9, 0.0)
    assert "shape" in harness.agrees([np.array([1.0, 2.0, 3.0])], want, 1e-9, 0.0)
    assert "results" in harness.agrees([], want, 1e-9, 0.0)


def test_unknown_workload_is_a_usage_error():
    with pytest.raises(SystemExit):
        run.main(["--only", "W9"])


def test_cli_subcommand_forwards_to_the_harness(tmp_path):
    out = tmp_path / "cli.json"
    code = cli.main(["bench", "--only", "W5", *FAST, "--json", str(out)])
    assert code == 0
    (case,) = json.loads(out.read_text())["results"]
    assert case["ops"] == 10_000 and case["frameworks"]["adjoint"]["status"] == "ok"


def test_cli_subcommand_outside_a_checkout_says_where_to_run(monkeypatch, capsys):
    monkeypatch.setattr(cli, "BENCHMARKS", ROOT / "no such folder" / "run.py")
    assert cli.main(["bench", "--quick"]) == 2
    error = capsys.readouterr().err
    assert "python benchmarks/run.py" in error and "checkout" in error


def test_the_package_does_not_ship_or_import_the_harness():
    package = Path(adjoint.__file__).resolve().parent
    assert not (package / "bench.py").exists()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            assert not any(n.split(".")[-1] in ("bench", "benchmarks") for n in names), path


@pytest.mark.slow
def test_blas_threads_are_pinned_in_a_child_process(tmp_path):
    out = tmp_path / "child.json"
    env = {k: v for k, v in os.environ.items() if k not in run.THREAD_VARIABLES}
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--only", "W2", "--quick"]
    command += ["--reps", "1", "--min-time", "0", "--json", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert record["machine"]["blas_threads"] == 1
    statuses = {r["case"]: r["frameworks"]["adjoint"]["status"] for r in record["results"]}
    assert list(statuses.values()) == ["ok", "ok"]


@pytest.mark.skipif(harness.resource is None, reason="this OS reports no page-fault counts")
def test_minor_page_faults_per_call_are_counted_for_each_framework():
    """A runner that maps fresh memory each call shows faults; one that does not, none."""
    size = 64 * 2**20 // 8  # 64 MiB: above glibc's largest mmap threshold, fresh pages each call

    def fresh():
        a = np.empty(size)
        a[::512] = 1.0  # touch every 4 KiB page
        return [np.zeros(1)]

    case = harness.Case(
        "W0",
        "fault counting",
        lambda: [np.zeros(1)],
        {"fresh": lambda: fresh, "reuse": lambda: lambda: [np.zeros(1)]},
        baseline="reuse",
    )
    record = harness.measure(case, reps=3, min_time=0, log=lambda text: None)
    fresh_faults = record["frameworks"]["fresh"]["minor_faults_per_call"]
    reuse_faults = record["frameworks"]["reuse"]["minor_faults_per_call"]
    assert fresh_faults >= 32  # 64 MiB in pages of at most 2 MiB
    assert reuse_faults < fresh_faults / 4


# ---------------------------------------------- the compiling peers and ad.compile

PEERS = harness.load_peers(0)
COMPILING = (
    harness.COMPILED_NUMPY,
    harness.COMPILED_JAX,
    harness.JAX_JIT,
    harness.PYTENSOR,
    harness.CASADI_SX,
)


def _present(name: str) -> bool:
    """Whether the runner ``name`` can run here (its peer installed, ad.compile there)."""
    if name.startswith("adjoint compiled"):
        return hasattr(adjoint, "compile") and (
            name == harness.COMPILED_NUMPY or PEERS.jax is not None
        )
    peer = {"jax": PEERS.jax, "pytensor": PEERS.pytensor, "casadi": PEERS.casadi}
    return peer[name.split()[0]] is not None


def _measure_once(case) -> dict:
    return harness.measure(case, reps=1, min_time=0, log=lambda text: None)


def test_a_missing_peer_is_skipped_with_the_reason(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pytensor_or_casadi(name, *args, **kwargs):
        if name.split(".")[0] in ("pytensor", "casadi"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pytensor_or_casadi)
    peers = harness.load_peers(0)
    assert peers.pytensor is None and peers.casadi is None
    assert "not installed" in peers.missing["pytensor"]
    assert "not installed" in peers.missing["casadi"]
    (case,) = run.w3_hessian.cases(peers, quick=True)
    assert harness.PYTENSOR not in case.runners and harness.CASADI_SX not in case.runners
    assert set(case.compiled) <= set(case.runners)


def test_without_ad_compile_the_compiled_rows_are_left_out(monkeypatch):
    monkeypatch.delattr(harness.ad, "compile", raising=False)
    assert harness.adjoint_compiled_runners(PEERS, lambda x: x, [np.zeros(1)]) == {}
    assert "ad.compile" in harness.load_peers(0).missing["adjoint compiled"]


def test_the_tanh_polynomials_are_the_derivatives():
    import sympy

    s = sympy.Symbol("x")
    t = sympy.tanh(s)
    for n in range(6):
        p = run.w4_nested_grad.tanh_polynomial(n)
        poly = sum(c * t**k for k, c in enumerate(p))
        assert sympy.simplify(poly - sympy.diff(t, s, n)) == 0


@pytest.mark.parametrize("name", COMPILING)
def test_a_compiling_runner_is_checked_and_its_compile_time_recorded(name):
    """W4 at 1,000 points, n = 4, and W3 at n = 32: small graphs, cheap to compile."""
    if not _present(name):
        pytest.skip(f"{name}: not installed here (or no ad.compile)")
    w4 = run.w4_nested_grad.points_case(PEERS, 4)
    (w3,) = run.w3_hessian.cases(PEERS, quick=True)
    for case in (w4, w3):
        assert name in case.compiled
        case.runners = {k: v for k, v in case.runners.items() if k in (name, "numpy")}
        record = _measure_once(case)
        result = record["frameworks"][name]
        assert result["status"] == "ok", result
        assert result["compile_s"] == pytest.approx(result["setup_s"] + result["first_call_s"])
        assert result["compile_ratio"] == pytest.approx(1.0)  # the only one that compiles
        assert record["compile_baseline"] == name


def test_the_compile_table_is_printed_with_ratios():
    timings = {
        "numpy": harness.Timing(samples=[1e-3], setup_s=0.0, first_call_s=1e-3),
        "a": harness.Timing(samples=[2e-3], setup_s=0.5, first_call_s=0.5),
        "b": harness.Timing(samples=[1e-3], setup_s=1.0, first_call_s=1.0),
    }
    case = harness.Case("W0", "compile table", list, {}, compiled=("a", "b"), compile_baseline="a")
    shown = harness.format_case(case, timings)
    assert "compile (setup + 1st call)" in shown and "x a" in shown
    b_row = [line for line in shown.splitlines() if line.strip().startswith("b ")][-1]
    assert "2 s" in b_row and "2x" in b_row and "2,000" in b_row  # 2 s, 2x a's, 2,000 calls
    record = harness.case_record(case, timings)
    assert record["frameworks"]["b"]["compile_ratio"] == pytest.approx(2.0)
    assert "compile_s" not in record["frameworks"]["numpy"]


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["W1", "W2"])
def test_w1_w2_compiling_rows_agree_with_the_reference(workload):
    """Every compiling row of W1 and W2 (PyTensor compiles W1's chain for minutes, cold)."""
    module = {"W1": run.w1_overhead, "W2": run.w2_mlp}[workload]
    names = [n for n in COMPILING + (harness.CASADI_MX,) if n in module.COMPILING]
    for case in module.cases(PEERS, quick=True):
        case.runners = {k: v for k, v in case.runners.items() if k in names or k == "numpy"}
        record = _measure_once(case)
        for name in case.compiled:
            assert record["frameworks"][name]["status"] == "ok", (name, record["frameworks"][name])
