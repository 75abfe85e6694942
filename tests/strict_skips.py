# ruff: noqa: E501  (node ids are long)
"""Tests that cannot run on the array_api_strict test backend, each with the reason.

Read by tests/conftest.py only when ADJOINT_TEST_BACKEND=array_api_strict: each listed
test is skipped there with its reason (on NumPy they all run). Found by running the op,
functional and fuzz tests on that backend with this list empty (issue 21); what is left
is what the design refuses or the array API standard lacks, not NumPy calls in computes.
"""

_HOST_MASK = (
    "the row passes a NumPy array (MASK, BOOL) as where's condition: host data beside "
    "another device's tensors is refused, by design (nothing is copied silently)"
)

REASONS = {
    "tests/ops/test_ops_full.py": _HOST_MASK,
    "tests/ops/test_fuzz.py::test_each_kind_runs_the_same_in_both_backends": (
        "the array API standard has no einsum: on array_api_strict Einsum raises a TypeError "
        "naming the namespace (NumPy and CuPy have one)"
    ),
}

#: Node ids (parametrized ids included) skipped on array_api_strict.
SKIPPED = {
    "tests/ops/test_fuzz.py::test_each_kind_runs_the_same_in_both_backends[einsum]",
    "tests/ops/test_ops_full.py::test_every_new_op_is_in_the_table",
    "tests/ops/test_ops_full.py::test_lazy_inference_agrees_with_the_computed_data[where broadcast-float32]",
    "tests/ops/test_ops_full.py::test_lazy_inference_agrees_with_the_computed_data[where broadcast-float64]",
    "tests/ops/test_ops_full.py::test_lazy_inference_agrees_with_the_computed_data[where scalar branch-float32]",
    "tests/ops/test_ops_full.py::test_lazy_inference_agrees_with_the_computed_data[where scalar branch-float64]",
    "tests/ops/test_ops_full.py::test_op_derivatives[where broadcast]",
    "tests/ops/test_ops_full.py::test_op_derivatives[where scalar branch]",
    "tests/ops/test_ops_full.py::test_op_leaves_its_inputs_untouched[where broadcast]",
    "tests/ops/test_ops_full.py::test_op_leaves_its_inputs_untouched[where scalar branch]",
}


def reason(nodeid: str) -> str | None:
    """The reason ``nodeid`` is skipped on array_api_strict, or None if it runs there."""
    if nodeid not in SKIPPED:
        return None
    return REASONS[max((k for k in REASONS if nodeid.startswith(k)), key=len)]
