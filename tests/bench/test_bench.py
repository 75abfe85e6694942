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
    w4 = record["results"]
    assert [r["case"][:6] for r in w4] == ["W4 d^1", "W4 d^2", "W4 d^3", "W4 d^4"]
    for r in w4:
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
