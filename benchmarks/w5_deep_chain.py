"""W5, depth: 100,000 sequential scalar ops (sin, *1.0001), forward and backward.

At Python's default recursion limit: every graph walk must be iterative. The
time per op is the engine's overhead on a graph far larger than the caches
(``--quick``: 10,000 ops).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from harness import FLOOR, Case, Peers

import adjoint as ad

DESCRIPTION = "deep chain: 100,000 sequential scalar ops (sin, *1.0001), forward and backward"

X0, FACTOR = 0.8, 1.0001


def case(peers: Peers, ops: int) -> Case:
    pairs = ops // 2

    def reference() -> list[np.ndarray]:
        h = np.float64(X0)
        hs = []
        for _ in range(pairs):
            hs.append(h)
            h = np.sin(h) * FACTOR
        g = np.float64(1.0)
        for h in reversed(hs):
            g = g * FACTOR * np.cos(h)
        return [np.asarray(g)]

    def adjoint_setup(create_graph: bool = True):
        def setup():
            def run():
                x = ad.Tensor(X0)
                h = x
                for _ in range(pairs):
                    h = ad.sin(h) * FACTOR
                h.backward(create_graph=create_graph)
                return [x.grad.numpy()]

            return run

        return setup

    runners: dict[str, Any] = {
        FLOOR: lambda: reference,
        "adjoint": adjoint_setup(),
        "adjoint create_graph=False": adjoint_setup(False),
    }
    if peers.torch is not None:
        torch = peers.torch

        def torch_setup():
            def run():
                x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
                h = x
                for _ in range(pairs):
                    h = torch.sin(h) * FACTOR
                h.backward()
                return [x.grad.numpy()]

            return run

        runners["torch"] = torch_setup
    for label, lib, xnp in peers.numpy_like():

        def numpy_like_setup(lib=lib, xnp=xnp):
            def f(x):
                h = x
                for _ in range(pairs):
                    h = xnp.sin(h) * FACTOR
                return h

            g = lib.grad(f)
            return lambda: [np.asarray(g(X0))]

        runners[label] = numpy_like_setup
    return Case(
        "W5",
        f"W5 deep chain: {2 * pairs:,} scalar ops (sin, *{FACTOR}), fwd+bwd",
        reference,
        runners,
        rtol=1e-8,
        ops=2 * pairs,
    )


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    return [case(peers, 10_000 if quick else 100_000)]
