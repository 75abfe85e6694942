"""Smoke tests of ``python -m adjoint bench``: correctness checks and the JSON record.

Nothing here asserts a time: the machine is shared and timings are noise.
Each run is the quick variant of one or two workloads with one sample.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from adjoint import bench
from adjoint.__main__ import main as adjoint_main

FAST = ["--quick", "--reps", "1", "--min-time", "0", "--threads", "0"]


def _run(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "bench.json"
    code = bench.main([*args, *FAST, "--json", str(out)])
    return code, json.loads(out.read_text())


def test_quick_run_checks_every_framework_and_writes_json(tmp_path, capsys):
    code, record = _run(tmp_path, "--only", "W1,W4")
    assert code == 0
    cases = {r["case"]: r for r in record["results"]}
    w1 = next(r for name, r in cases.items() if name.startswith("W1 overhead"))
    assert w1["ops"] == 1000
    for name in ("numpy", "adjoint", "adjoint create_graph=False"):
        result = w1["frameworks"][name]
        assert result["status"] == "ok"
        assert result["samples"] == 1 and result["median_s"] > 0
        assert result["us_per_op"] == pytest.approx(result["median_s"] / 1000 * 1e6)
    assert w1["frameworks"]["numpy"]["ratio_to_baseline"] == pytest.approx(1.0)
    w4 = [r for name, r in cases.items() if name.startswith("W4")]
    assert [r["case"][:6] for r in w4] == ["W4 d^1", "W4 d^2", "W4 d^3", "W4 d^4"]
    # Nested backward builds a bigger graph than its simplification.
    assert all(r["extra"]["nodes raw"] >= r["extra"]["nodes simplified"] for r in w4)
    assert {t["target"] for t in record["targets"]} >= {"W1 us/op <= torch's"}
    assert record["machine"]["blas_threads"] == "not pinned"
    shown = capsys.readouterr().out
    assert "W1 overhead" in shown and "targets (ratios from this run)" in shown


def test_a_wrong_result_is_reported_not_timed(tmp_path, monkeypatch):
    real = bench._w1_case

    def broken(peers, **kwargs):
        case = real(peers, **kwargs)
        if "adjoint" in case.runners:
            good = case.runners["adjoint"]
            case.runners["adjoint"] = lambda: (lambda run: lambda: [run()[0] * 1.001])(good())
        return case

    monkeypatch.setattr(bench, "_w1_case", broken)
    code, record = _run(tmp_path, "--only", "W1")
    assert code == 1
    result = record["results"][0]["frameworks"]["adjoint"]
    assert result["status"] == "WRONG" and "max abs error" in result["message"]
    assert "median_s" not in result


def test_agreement_check_compares_shapes_and_values():
    want = [np.array([1.0, 2.0])]
    assert bench._agrees([np.array([1.0, 2.0])], want, 1e-9, 0.0) == ""
    assert "max abs error" in bench._agrees([np.array([1.0, 2.1])], want, 1e-9, 0.0)
    assert "shape" in bench._agrees([np.array([1.0, 2.0, 3.0])], want, 1e-9, 0.0)
    assert "results" in bench._agrees([], want, 1e-9, 0.0)


def test_unknown_workload_is_a_usage_error():
    with pytest.raises(SystemExit):
        bench.main(["--only", "W9"])


def test_cli_subcommand_forwards_to_the_bench(tmp_path):
    out = tmp_path / "cli.json"
    code = adjoint_main(["bench", "--only", "W5", *FAST, "--json", str(out)])
    assert code == 0
    (case,) = json.loads(out.read_text())["results"]
    assert case["ops"] == 10_000 and case["frameworks"]["adjoint"]["status"] == "ok"


def test_blas_threads_are_pinned_in_a_child_process(tmp_path):
    out = tmp_path / "child.json"
    env = {k: v for k, v in os.environ.items() if k not in bench.THREAD_VARIABLES}
    command = [sys.executable, "-m", "adjoint", "bench", "--only", "W2", "--quick"]
    command += ["--reps", "1", "--min-time", "0", "--json", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(out.read_text())
    assert record["machine"]["blas_threads"] == 1
    statuses = {r["case"]: r["frameworks"]["adjoint"]["status"] for r in record["results"]}
    assert list(statuses.values()) == ["ok", "ok"]


@pytest.mark.skipif(bench.resource is None, reason="this OS reports no page-fault counts")
def test_minor_page_faults_per_call_are_counted_for_each_framework():
    """A runner that maps fresh memory each call shows faults; one that does not, none."""
    size = 64 * 2**20 // 8  # 64 MiB: above glibc's largest mmap threshold, fresh pages each call

    def fresh():
        a = np.empty(size)
        a[::512] = 1.0  # touch every 4 KiB page
        return [np.zeros(1)]

    case = bench.Case(
        "W0",
        "fault counting",
        lambda: [np.zeros(1)],
        {"fresh": lambda: fresh, "reuse": lambda: lambda: [np.zeros(1)]},
        baseline="reuse",
    )
    record = bench._measure(case, reps=3, min_time=0, log=lambda text: None)
    fresh_faults = record["frameworks"]["fresh"]["minor_faults_per_call"]
    reuse_faults = record["frameworks"]["reuse"]["minor_faults_per_call"]
    assert fresh_faults >= 32  # 64 MiB in pages of at most 2 MiB
    assert reuse_faults < fresh_faults / 4
