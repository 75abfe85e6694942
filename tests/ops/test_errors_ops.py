"""Bad indices, bad axes, mismatched shapes: errors name the op, the shapes and what is valid.

Every check runs in eager and in lazy mode: validation happens in the front
end, when the node is made, not when it is computed.
"""

import numpy as np
import pytest

import adjoint as ad


@pytest.fixture
def x():
    return ad.Tensor(np.ones((3, 4)))


# ------------------------------------------------------------------ indexing


def test_integer_index_out_of_range(mode, x):
    with pytest.raises(
        IndexError,
        match=r"getitem: index 3 is out of range for axis 0 of size 3 \(shape \(3, 4\)\); "
        r"valid indices: \[-3, 2\]",
    ):
        x[3]
    with pytest.raises(
        IndexError, match=r"index -5 is out of range for axis 1 of size 4 .*\[-4, 3\]"
    ):
        x[0, -5]
    with pytest.raises(IndexError, match=r"index 9 is out of range for axis 1 of size 4"):
        x[..., [0, 9, 1]]
    with pytest.raises(IndexError, match=r"index 0 is out of range for axis 0 of size 0 .*empty"):
        ad.Tensor(np.ones((0, 2)))[0]


def test_boolean_mask_of_the_wrong_shape(mode, x):
    with pytest.raises(
        IndexError,
        match=r"getitem: boolean mask of shape \(2,\) does not match axes 0\.\.0 of shape \(3, 4\)",
    ):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match=r"boolean mask of shape \(3, 3\) does not match"):
        x[np.ones((3, 3), dtype=bool)]


def test_too_many_indices_and_two_ellipses(mode, x):
    with pytest.raises(
        IndexError, match=r"getitem: too many indices for shape \(3, 4\): .* uses 3 axes"
    ):
        x[0, 1, 2]
    with pytest.raises(IndexError, match=r"single Ellipsis"):
        x[..., 0, ...]


def test_invalid_index_types(mode, x):
    with pytest.raises(IndexError, match=r"getitem: 1.5 of type float is not valid; valid indices"):
        x[1.5]
    with pytest.raises(IndexError, match=r"getitem: index array of dtype float64 is not valid"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(IndexError, match=r"slice .* has step 0"):
        x[::0]
    with pytest.raises(IndexError, match=r"non-integer bound 0.5"):
        x[0.5:]
    with pytest.raises(IndexError, match=r"getitem: 'a' of type str is not valid"):
        x["a"]


def test_index_arrays_that_do_not_broadcast(mode, x):
    with pytest.raises(
        IndexError, match=r"getitem: index .* is not valid for shape \(3, 4\): shape mismatch"
    ):
        x[[0, 1], [0, 1, 2]]


def test_scatter_add_values_of_the_wrong_shape(mode):
    with pytest.raises(
        ValueError,
        match=r"scatter_add: values of shape \(3,\) do not fit .* into shape \(4,\); "
        r"the values must have shape \(2,\)",
    ):
        ad.scatter_add(ad.Tensor(np.ones(3)), [0, 0], (4,))


# ---------------------------------------------------------------------- axes


@pytest.mark.parametrize("name", ["max", "min", "mean", "logsumexp", "softmax", "log_softmax"])
def test_reduction_axes_out_of_range(mode, x, name):
    fn = getattr(ad, name)
    with pytest.raises(
        ValueError,
        match=rf"{name}: axis 2 is out of range for a tensor with 2 dimension\(s\); "
        r"valid axes: \[-2, 1\]",
    ):
        fn(x, 2)
    with pytest.raises(ValueError, match=rf"{name}: repeated axis"):
        fn(x, (1, -1))


@pytest.mark.parametrize("name", ["max", "min", "logsumexp", "softmax", "log_softmax"])
def test_reductions_over_an_empty_axis(mode, name):
    with pytest.raises(
        ValueError, match=rf"{name}: cannot reduce over axis 0 of size 0 \(shape \(0, 2\)\)"
    ):
        getattr(ad, name)(ad.Tensor(np.ones((0, 2))), 0)


def test_shape_op_axes(mode, x):
    with pytest.raises(ValueError, match=r"stack: axis 3 is out of range .* valid axes: \[-3, 2\]"):
        ad.stack([x, x], axis=3)
    with pytest.raises(ValueError, match=r"concatenate: axis -3 is out of range"):
        ad.concatenate([x, x], axis=-3)
    with pytest.raises(ValueError, match=r"split: axis 2 is out of range"):
        ad.split(x, 2, axis=2)
    with pytest.raises(ValueError, match=r"expand_dims: axis 3 is out of range .* \[-3, 2\]"):
        ad.expand_dims(x, 3)
    with pytest.raises(ValueError, match=r"flatten: start_axis 1 comes after end_axis 0"):
        x.flatten(1, 0)
    with pytest.raises(
        ValueError, match=r"squeeze: cannot squeeze axis 1 of shape \(3, 4\): its size is 4, not 1"
    ):
        x.squeeze(1)


# -------------------------------------------------------------------- shapes


def test_stack_and_concatenate_shape_mismatch(mode, x):
    y = ad.Tensor(np.ones((3, 5)))
    with pytest.raises(
        ValueError,
        match=r"stack: all tensors must have the same shape, got \(3, 4\) at position 0 and "
        r"\(3, 5\) at position 1",
    ):
        ad.stack([x, y])
    with pytest.raises(
        ValueError,
        match=r"concatenate: shapes \(3, 4\) at position 0 and \(3, 5\) at position 1 must agree "
        r"on every axis except axis 0",
    ):
        ad.concatenate([x, y])
    ad.concatenate([x, y], axis=1)  # fine along the axis that differs
    with pytest.raises(ValueError, match=r"concatenate: 0-d tensors cannot be concatenated"):
        ad.concatenate([ad.Tensor(1.0), ad.Tensor(2.0)])
    with pytest.raises(ValueError, match=r"stack: needs at least one tensor"):
        ad.stack([])
    with pytest.raises(TypeError, match=r"concatenate: give a list or tuple of tensors"):
        ad.concatenate(x)


def test_split_into_unequal_sections(mode, x):
    with pytest.raises(
        ValueError,
        match=r"split: axis 1 of size 4 \(shape \(3, 4\)\) does not divide into 3 equal sections",
    ):
        ad.split(x, 3, axis=1)
    with pytest.raises(ValueError, match=r"split: a 0-d tensor has no axis to split"):
        ad.split(ad.Tensor(1.0), 1)


def test_elementwise_shapes_that_do_not_broadcast(mode, x):
    with pytest.raises(ValueError, match=r"maximum: shapes \(3, 4\) and \(3,\) do not broadcast"):
        ad.maximum(x, ad.Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"minimum: shapes \(3, 4\) and \(2, 4\) do not broadcast"):
        ad.minimum(x, np.ones((2, 4)))
    with pytest.raises(
        ValueError,
        match=r"where: condition of shape \(2,\) does not broadcast with operands of shape "
        r"\(3, 4\)",
    ):
        ad.where(np.array([True, False]), x, 0.0)
    with pytest.raises(ValueError, match=r"where: shapes \(3, 4\) and \(5,\) do not broadcast"):
        ad.where(True, x, np.ones(5))


# -------------------------------------------------------------- sum_to_shape

BAD_TARGETS = [  # (target, error, message) for an input of shape (2, 3)
    ((3, 2), ValueError, r"cannot sum shape \(2, 3\) to \(3, 2\): the target must broadcast"),
    ((2,), ValueError, r"cannot sum shape \(2, 3\) to \(2,\): the target must broadcast"),
    ((4, 3), ValueError, r"to \(4, 3\): the target must broadcast to \(2, 3\)"),
    ((0, 3), ValueError, r"to \(0, 3\): the target must broadcast"),
    ((2, 3, 1), ValueError, r"to \(2, 3, 1\): .* at most 2 dimension\(s\)"),
    ((1, 2, 3), ValueError, r"to \(1, 2, 3\): .* at most 2 dimension\(s\)"),
    (6, ValueError, r"cannot sum shape \(2, 3\) to \(6,\)"),
    ((-1, 3), ValueError, r"to \(-1, 3\): sizes must be non-negative"),
    ((2, -3), ValueError, r"to \(2, -3\): sizes must be non-negative"),
    (None, TypeError, r"target shape must be a tuple of ints, got None"),
    ("23", TypeError, r"target shape must be a tuple of ints, got '23'"),
    (2.0, TypeError, r"target shape must be a tuple of ints, got 2.0"),
    ((2.0, 3), TypeError, r"got \(2.0, 3\) \(summing a tensor of shape \(2, 3\)\)"),
    ((True, 3), TypeError, r"got \(True, 3\)"),
    ({2: 3}, TypeError, r"got \{2: 3\}"),
]


@pytest.mark.parametrize(
    ("target", "error", "message"), BAD_TARGETS, ids=[repr(t) for t, _, _ in BAD_TARGETS]
)
def test_sum_to_shape_refuses_targets_that_do_not_broadcast(mode, target, error, message):
    a = ad.Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(error, match=rf"^sum_to_shape: (.* )?{message}"):
        ad.sum_to_shape(a, target)


GOOD_TARGETS = [  # target, the sum NumPy gives for an input of shape (2, 3)
    ((2, 3), lambda a: a),
    ((1, 3), lambda a: a.sum(0, keepdims=True)),
    ((3,), lambda a: a.sum(0)),
    ((2, 1), lambda a: a.sum(1, keepdims=True)),
    ((1, 1), lambda a: a.sum(keepdims=True)),
    ((1,), lambda a: a.sum(keepdims=True)[0]),
    ((), lambda a: a.sum()),
    ([1, 3], lambda a: a.sum(0, keepdims=True)),
    (3, lambda a: a.sum(0)),
    ((np.int64(2), np.int64(1)), lambda a: a.sum(1, keepdims=True)),
]


@pytest.mark.parametrize(
    ("target", "expected"), GOOD_TARGETS, ids=[repr(t) for t, _ in GOOD_TARGETS]
)
def test_sum_to_shape_sums_over_broadcast_axes(mode, target, expected):
    data = np.arange(6.0).reshape(2, 3)
    a = ad.Tensor(data)
    out = ad.sum_to_shape(a, target)
    want = expected(data)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    if out.shape == a.shape:
        assert out is a
    # sum_to_shape is the adjoint of broadcast_to: <sum_to_shape(a), v> = <a, broadcast(v)>
    v = np.arange(1.0, 1.0 + want.size).reshape(want.shape)
    assert np.vdot(out.numpy(), v) == np.vdot(data, np.broadcast_to(v, data.shape))


def test_sum_to_shape_in_gradients_still_works(mode):
    # BroadcastTo's rule (unchecked) and MatMul's broadcast batch axes (checked).
    w = ad.Tensor(np.array([[0.5], [-1.0]]))
    b = ad.Tensor(np.array([0.1, 0.2, 0.3]))
    x = ad.Tensor(np.arange(24.0).reshape(4, 2, 3) / 10)
    m = ad.Tensor(np.arange(6.0).reshape(3, 2) / 10)
    loss = ad.sum(ad.tanh((x + b) * w) @ m)
    loss.backward()
    assert w.grad.shape == w.shape and b.grad.shape == b.shape and m.grad.shape == m.shape
    assert ad.gradcheck(lambda w, b, m: ad.sum(ad.tanh((x + b) * w) @ m), w, b, m, order=2)
