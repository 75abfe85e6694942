"""The one graph walk, ``ad.toposort(roots, children)``, against needle's recursive one."""

import random
import sys

import numpy as np
import pytest

import adjoint as ad


def _recursive_post_order(roots, children):
    """needle's ``topo_sort_dfs``: the oracle (recursive, for small graphs only)."""
    visited, order = set(), []

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for child in children(node):
            visit(child)
        order.append(node)

    for root in roots:
        visit(root)
    return order


@pytest.mark.parametrize("seed", range(20))
def test_toposort_is_the_recursive_post_order_on_random_dags(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    edges = {k: [rng.randrange(k) for _ in range(rng.randint(0, 3))] if k else [] for k in range(n)}
    roots = rng.sample(range(n), rng.randint(1, min(n, 4)))
    got = ad.toposort(roots, lambda k: edges[k])
    assert got == _recursive_post_order(roots, lambda k: edges[k])
    assert len(got) == len(set(got))
    position = {k: i for i, k in enumerate(got)}
    assert all(position[c] < position[k] for k in got for c in edges[k])


def test_find_topo_sort_is_toposort_over_inputs_and_matches_needle_on_a_graph():
    x = ad.Tensor(np.array([0.5, 1.5]), name="x")
    y = ad.Tensor(np.array([2.0, 3.0]), name="y")
    z = ad.exp(x * y) + x * ad.sin(y)
    w = z * z + y
    want = _recursive_post_order([w, z], lambda n: n.inputs)
    assert ad.find_topo_sort([w, z]) == want == ad.toposort([w, z], lambda n: n.inputs)


def test_toposort_walks_a_chain_far_deeper_than_the_recursion_limit():
    depth = 20 * sys.getrecursionlimit()
    order = ad.toposort([depth], lambda k: [k - 1] if k else [])
    assert order == list(range(depth + 1))


def test_the_backward_walk_stops_at_nodes_that_need_no_gradient():
    # c is a lazy node that needs no gradient, built from a constant: the walk
    # must not enter it (its inputs are not differentiated, and never computed).
    with ad.lazy_mode():
        x = ad.Tensor(2.0, name="x")
        k = ad.Tensor(3.0, requires_grad=False)
        c = ad.exp(k) * 2.0
        y = x * c
    y.backward()
    assert c.cached_data is not None  # the forward value of y needs c
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.exp(3.0))
    assert c.grad is None and k.grad is None
