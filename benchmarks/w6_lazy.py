"""W6, lazy mode against eager: W1 and W2 (float64), adjoint only.

Lazy mode records each node, then walks the graph once more to compute it;
the ratio is what that second walk costs. The baseline is eager mode.
"""

from __future__ import annotations

import numpy as np
import w1_overhead
import w2_mlp
from harness import Case, Peers

DESCRIPTION = "lazy mode against eager on W1 and W2 (float64)"


def cases(peers: Peers, quick: bool = False) -> list[Case]:
    w1 = Case(
        "W6",
        f"W1 lazy: {4 * w1_overhead.STEPS:,} ops (mul, tanh, mul, add) on float64[8]",
        w1_overhead.reference,
        {
            "adjoint eager": w1_overhead.adjoint_runner(),
            "adjoint lazy": w1_overhead.adjoint_runner(lazy=True),
        },
        ops=4 * w1_overhead.STEPS,
        baseline="adjoint eager",
    )
    rtol, atol = w2_mlp.tolerances(np.float64)
    w2 = Case(
        "W6",
        "W2 lazy: MLP 784-256-10, batch 128, float64",
        w2_mlp.reference_for(np.float64),
        {
            "adjoint eager": w2_mlp.adjoint_runner(np.float64),
            "adjoint lazy": w2_mlp.adjoint_runner(np.float64, lazy=True),
        },
        rtol=rtol,
        atol=atol,
        baseline="adjoint eager",
    )
    return [w1, w2]
