"""GPU check (issue 21): the op tables on ``ad.cuda()`` against the CPU, then MLP steps timed.

    python benchmarks/gpu_check.py            # on a machine with CuPy and a GPU
    python benchmarks/gpu_check.py --quick    # fewer timing samples

Part 1 runs every row of the op tables (``tests/ops/test_ops_needle.py`` and
``tests/ops/test_ops_full.py``) on the GPU and on the CPU from the same seeded
inputs: the value, the gradient of ``sum(out * seed)`` and the second-order
term (the gradient of the squared gradient norm, a graph built on the device),
each compared to the CPU's within 1e-9 relative (float64).

Part 2 times one training step (forward, ``backward(create_graph=False)``, SGD
update) of two MLPs, 784-256-10 at batch 128 and 4096-4096-1000 at batch 4096,
in float32 and float64, for adjoint on ``ad.cuda()``, hand-written CuPy (the
forward and backward written out) and PyTorch CUDA eager where installed, all
in one run, median of synchronized steps, and prints the ratios.

Without CuPy or a GPU it prints why and exits with status 2 (``main`` returns 2),
so it is safe to run anywhere; ``tests/bench`` checks exactly that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import adjoint as ad
except ImportError:  # not installed: the checkout this file belongs to
    sys.path.insert(0, str(ROOT))
    import adjoint as ad

#: (in, hidden, out, batch) of the two MLPs.
MLPS = [(784, 256, 10, 128), (4096, 4096, 1000, 4096)]
DTYPES = ["float32", "float64"]
RTOL = 1e-9


def gpu_unavailable() -> str | None:
    """Why ``ad.cuda()`` cannot be used here, or None when it can."""
    try:
        ad.cuda()
    except (ImportError, RuntimeError, ValueError) as error:
        return str(error)
    return None


# ------------------------------------------------------------------- op tables


def _specs() -> list[Any]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.ops import test_ops_full, test_ops_needle

    return list(test_ops_needle.SPECS) + list(test_ops_full.SPECS)


def _run_spec(spec: Any, device: Any) -> list[np.ndarray]:
    """Value, gradients and second-order terms of one table row on ``device``, on the host."""
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(spec.low, spec.high, size=shape) for shape in spec.shapes]
    leaves = [ad.Tensor(a, device=device) for a in arrays]
    out = spec.fn(*leaves)
    results = [out.numpy()]
    if not out.requires_grad:
        return results
    seed = ad.Tensor(rng.standard_normal(out.shape), device=device, requires_grad=False)
    grads = ad.autograd.gradients((out * seed).sum(), leaves)
    results += [g.numpy() for g in grads]
    if 2 in spec.orders:
        total = sum((g * g).sum() for g in grads if g.requires_grad)
        if isinstance(total, ad.Tensor):
            results += [h.numpy() for h in ad.autograd.gradients(total, leaves)]
    return results


def check_ops(device: Any, verbose: bool = False) -> list[str]:
    """Every op-table row on ``device`` against the CPU; the failures, described."""
    failures = []
    for spec in _specs():
        try:
            got = _run_spec(spec, device)
            want = _run_spec(spec, ad.cpu())
        except Exception as error:  # a compute that the device's namespace cannot do
            failures.append(f"{spec.name}: {type(error).__name__}: {error}")
            continue
        for k, (g, w) in enumerate(zip(got, want)):
            if g.shape != w.shape or not np.allclose(g, w, rtol=RTOL, atol=1e-12, equal_nan=True):
                err = np.max(np.abs(g - w)) if g.shape == w.shape else "shape"
                failures.append(f"{spec.name}: result {k} differs from the CPU's ({err})")
                break
        if verbose:
            print(f"  {spec.name}: ok")
    return failures


# --------------------------------------------------------------------- timing


def _median_ms(step: Any, sync: Any, samples: int) -> float:
    step()  # warm up (kernels compiled, memory pools filled)
    step()
    sync()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _data(n_in: int, n_out: int, batch: int, dtype: str) -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    y = rng.integers(0, n_out, batch)
    return x, y


def _weights(n_in: int, hidden: int, n_out: int, dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [
        (rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(dtype),
        np.zeros((1, hidden), dtype),
        (rng.standard_normal((hidden, n_out)) / np.sqrt(hidden)).astype(dtype),
        np.zeros((1, n_out), dtype),
    ]


def adjoint_step(shape: tuple, dtype: str, lr: float = 0.01) -> Any:
    """One SGD step of the MLP in adjoint on ``ad.cuda()``: relu hidden layer, softmax loss."""
    n_in, hidden, n_out, batch = shape
    device = ad.cuda()
    x, y = _data(n_in, n_out, batch, dtype)
    params = [ad.Tensor(w, device=device) for w in _weights(n_in, hidden, n_out, dtype)]
    xt = ad.Tensor(x, device=device, requires_grad=False)
    onehot = ad.init.one_hot(n_out, y, device=device, dtype=dtype)
    opt = ad.optim.SGD(params, lr=lr)

    def step() -> None:
        w1, b1, w2, b2 = params
        h = ad.relu(xt @ w1 + b1)
        logits = h @ w2 + b2
        loss = (ad.logsumexp(logits, axes=1) - (logits * onehot).sum(1)).sum() / batch
        loss.backward(create_graph=False)
        opt.step()

    return step


def cupy_step(shape: tuple, dtype: str, lr: float = 0.01) -> Any:
    """The same step written by hand in CuPy (the floor adjoint is measured against)."""
    import cupy as cp

    n_in, hidden, n_out, batch = shape
    x, y = _data(n_in, n_out, batch, dtype)
    x = cp.asarray(x)
    onehot = cp.eye(n_out, dtype=dtype)[cp.asarray(y)]
    w1, b1, w2, b2 = (cp.asarray(w) for w in _weights(n_in, hidden, n_out, dtype))
    params = [w1, b1, w2, b2]

    def step() -> None:
        w1, b1, w2, b2 = params
        z = x @ w1 + b1
        h = cp.maximum(z, 0)
        logits = h @ w2 + b2
        m = logits.max(axis=1, keepdims=True)
        e = cp.exp(logits - m)
        p = e / e.sum(axis=1, keepdims=True)
        g = (p - onehot) / batch
        gw2, gb2 = h.T @ g, g.sum(axis=0, keepdims=True)
        gh = (g @ w2.T) * (z > 0)
        gw1, gb1 = x.T @ gh, gh.sum(axis=0, keepdims=True)
        for w, gw in zip(params, (gw1, gb1, gw2, gb2)):
            w -= lr * gw

    return step


def torch_step(shape: tuple, dtype: str, lr: float = 0.01) -> Any | None:
    """The same step in PyTorch CUDA eager, or None without PyTorch or its CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    n_in, hidden, n_out, batch = shape
    x, y = _data(n_in, n_out, batch, dtype)
    x = torch.from_numpy(x).cuda()
    y = torch.from_numpy(y).cuda()
    params = [
        torch.from_numpy(w).cuda().requires_grad_() for w in _weights(n_in, hidden, n_out, dtype)
    ]

    def step() -> None:
        w1, b1, w2, b2 = params
        logits = torch.relu(x @ w1 + b1) @ w2 + b2
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        with torch.no_grad():
            for w in params:
                w -= lr * w.grad
                w.grad = None

    return step


def time_mlps(samples: int) -> list[dict]:
    """Median step times (ms) of every framework on every MLP and dtype."""
    import cupy as cp

    sync = cp.cuda.Device().synchronize
    rows = []
    for shape in MLPS:
        for dtype in DTYPES:
            row = {"mlp": "-".join(map(str, shape[:3])), "batch": shape[3], "dtype": dtype}
            row["adjoint"] = _median_ms(adjoint_step(shape, dtype), sync, samples)
            row["cupy"] = _median_ms(cupy_step(shape, dtype), sync, samples)
            step = torch_step(shape, dtype)
            row["torch"] = _median_ms(step, sync, samples) if step is not None else None
            rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    print("MLP step (fwd + bwd + SGD), median ms, and adjoint's ratio to each")
    header = f"  {'mlp':<16}{'batch':>6}  {'dtype':<8}{'adjoint':>9}{'cupy':>9}{'torch':>9}"
    print(header + f"{'x cupy':>9}{'x torch':>9}")
    for r in rows:
        torch_ms = f"{r['torch']:9.3f}" if r["torch"] is not None else f"{'-':>9}"
        x_torch = f"{r['adjoint'] / r['torch']:8.2f}x" if r["torch"] else f"{'-':>9}"
        print(
            f"  {r['mlp']:<16}{r['batch']:>6}  {r['dtype']:<8}{r['adjoint']:9.3f}"
            f"{r['cupy']:9.3f}{torch_ms}{r['adjoint'] / r['cupy']:8.2f}x{x_torch}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing samples")
    parser.add_argument("--verbose", action="store_true", help="print every op row")
    parser.add_argument("--skip-ops", action="store_true", help="only time the MLPs")
    args = parser.parse_args(argv)
    reason = gpu_unavailable()
    if reason is not None:
        print(f"gpu_check: no GPU to check here: {reason}")
        return 2
    status = 0
    if not args.skip_ops:
        failures = check_ops(ad.cuda(), args.verbose)
        print(f"op tables on {ad.cuda()} against the CPU: {len(failures)} failure(s)")
        for failure in failures:
            print("  " + failure)
        status = 1 if failures else 0
    print_table(time_mlps(5 if args.quick else 20))
    return status


if __name__ == "__main__":
    sys.exit(main())
