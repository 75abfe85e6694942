"""Clear errors beyond the core's cases (tests/test_errors_core.py) and the new ops'
(tests/test_errors_ops.py): matmul, broadcasting, shape ops, axes, data conversion, the
backward entry points, the functional API and gradient rules. Each error names the op,
the shapes or values involved and what would be valid, and reads the same in eager and
lazy mode.
"""

import numpy as np
import pytest

import adjoint as ad
from adjoint import autograd


def ones(*shape):
    return ad.Tensor(np.ones(shape))


# ------------------------------------------------------------------------ matmul


def test_matmul_batches_vectors_scalars_and_arrays(mode):
    with pytest.raises(
        ValueError,
        match=r"matmul: batch shapes \(2,\) and \(5,\) of operands \(2, 3, 4\) and "
        r"\(5, 4, 2\) do not broadcast",
    ):
        ones(2, 3, 4) @ ones(5, 4, 2)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4, 2\) do not align"):
        ones(3) @ ones(4, 2)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align"):
        np.ones((2, 3)) @ ones(4, 5)  # NumPy defers to the reflected operator
    with pytest.raises(
        ValueError, match=r"matmul: operands must have at least 1 dimension, got shapes \(\) and"
    ):
        ad.Tensor(2.0) @ ones(3)


# ------------------------------------------------------------- broadcasting binary ops


@pytest.mark.parametrize(
    "name, fn",
    [
        ("subtract", lambda a, b: a - b),  # add(a, negate(b)), named as the user wrote it
        ("divide", lambda a, b: a / b),
        ("power", lambda a, b: a**b),
        ("add", lambda a, b: b.numpy() + a),  # an array on the left
    ],
)
def test_binary_ops_name_themselves_and_both_shapes(mode, name, fn):
    with pytest.raises(
        ValueError,
        match=rf"{name}: shapes \(2, 3\) and \(2,\) do not broadcast; trailing dimensions "
        "must be equal or 1",
    ):
        fn(ones(2, 3), ones(2))


# ------------------------------------------------------------------- shape ops


def test_reshape_invalid_shapes(mode):
    with pytest.raises(ValueError, match=r"reshape: invalid shape \(-1, -1\); .*at most one -1"):
        ones(6).reshape(-1, -1)
    with pytest.raises(ValueError, match=r"reshape: invalid shape \(-2, 3\); use non-negative"):
        ones(6).reshape(-2, 3)


def test_broadcast_to_fewer_dimensions(mode):
    with pytest.raises(
        ValueError,
        match=r"broadcast_to: cannot broadcast shape \(3, 4\) to \(4,\); each dimension of "
        "the input must equal the target's trailing dimension or be 1",
    ):
        ones(3, 4).broadcast_to((4,))


# ------------------------------------------------------------------------- axes


@pytest.mark.parametrize(
    "name, fn, axis",
    [
        ("summation", lambda t: t.sum(5), 5),
        ("summation", lambda t: ad.summation(t, axes=(0, -3)), -3),
        ("flatten", lambda t: ad.flatten(t, 5), 5),
    ],
)
def test_axes_out_of_range_through_methods_tuples_and_flatten(mode, name, fn, axis):
    with pytest.raises(
        ValueError,
        match=rf"{name}: axis {axis} is out of range for a tensor with 2 dimension\(s\); "
        r"valid axes: \[-2, 1\]",
    ):
        fn(ones(2, 3))


def test_axes_repeated_of_the_wrong_type_or_of_a_0d_tensor(mode):
    with pytest.raises(ValueError, match=r"summation: repeated axis in \(0, 0\)"):
        ones(2, 3).sum((0, 0))
    with pytest.raises(TypeError, match=r"summation: axes must be None, an int or a tuple of ints"):
        ones(2, 3).sum(1.5)
    with pytest.raises(ValueError, match=r"summation: axis 0 .* valid axes: none \(.*0-d\)"):
        ad.Tensor(1.0).sum(0)
    with pytest.raises(ValueError, match=r"transpose: needs at least 2 dimensions, got shape"):
        ad.transpose(ones(3))
    with pytest.raises(ValueError, match=r"transpose: axes must be two axes to swap, got"):
        ones(2, 3, 4).transpose(0, 1, 2)


# ----------------------------------------------------------------------- indexing


def test_indexing_a_0d_tensor(mode):
    with pytest.raises(IndexError, match=r"getitem: too many indices for shape \(\)"):
        ad.Tensor(2.0)[0]


# ---------------------------------------------------------------- data conversion


@pytest.mark.parametrize(
    "data, message",
    [
        (None, r"Tensor: cannot convert NoneType data .*\(it holds None of type NoneType\)"),
        ([1.0, None], r"Tensor: cannot convert list data .*\(it holds None of type NoneType\)"),
        ("1.5", r"Tensor: cannot convert str data .*\(strings are not numbers\)"),
        ([["1", "2"]], r"Tensor: cannot convert list data .*\(strings are not numbers\)"),
        ({"a": 1}, r"Tensor: cannot convert dict data .*of type dict\)"),
        (3 + 0j, r"Tensor: cannot convert complex data .*complex numbers are not supported"),
        (np.array(["a"]), r"Tensor: data of dtype <U1 is not supported; valid dtypes are"),
    ],
)
def test_non_numeric_data_is_refused_never_silently_converted(mode, data, message):
    """np.array(None, dtype=float) is NaN and np.array('1.5', dtype=float) is 1.5."""
    with pytest.raises(TypeError, match=message + ".*"):
        ad.Tensor(data)


def test_ragged_data_anywhere(mode):
    with pytest.raises(ValueError, match=r"Tensor: data is ragged .*give a rectangular"):
        ad.Tensor([[[1.0], [2.0, 3.0]]])
    with pytest.raises(ValueError, match=r"add: data is ragged"):
        ones(2) + [[1.0, 2.0], [3.0]]  # a ragged operand, named by the op
    with pytest.raises(TypeError, match=r"Tensor: data of dtype complex128 is not supported"):
        ad.Tensor([1.0], dtype=np.complex128)
    with pytest.raises(TypeError, match=r"add: cannot use an operand of type NoneType"):
        ones(2) + None


def test_lossy_dtype_conversions_are_refused_and_gradcheck_converts_like_tensor():
    with pytest.raises(TypeError, match=r"Tensor: data of dtype complex128 is not supported"):
        ad.Tensor(np.array([1 + 2j]), dtype=np.float64)  # would drop the imaginary part
    with pytest.raises(TypeError, match=r"gradcheck: cannot convert str data .*strings are not"):
        ad.gradcheck(lambda t: t, "abc")
    with pytest.raises(TypeError, match=r"gradcheck: data of dtype complex128 is not supported"):
        ad.gradcheck(lambda t: t, np.array([1j]))


def test_big_python_ints_still_convert():
    assert float(ad.Tensor(2**70)) == 2.0**70


# ------------------------------------------------------------ backward entry points


def test_out_grad_shape_checked_by_every_entry_point(mode):
    y = ones(2, 3) * 2
    expected = r"backward: out_grad has shape \(3,\) but the output has shape \(2, 3\); give"
    with pytest.raises(ValueError, match=expected):
        y.backward(np.ones(3))  # an array out_grad
    with pytest.raises(ValueError, match=expected):
        autograd.compute_gradient_of_variables(y, ones(3))  # needle's entry point
    with pytest.raises(ValueError, match=expected):
        autograd.compute_gradient_of_variables(y, ones(3), create_graph=False)
    with pytest.raises(ValueError, match=r"backward: out_grad has shape \(\) but the output"):
        (ones(3) * 2).backward(1.0)
    with pytest.raises(TypeError, match=r"Tensor: cannot convert str data"):
        (ones(3) * 2).backward("a")


def test_grad_of_a_non_scalar_function_says_what_to_use_instead(mode):
    x = ones(3)
    for name in ("grad", "value_and_grad", "hessian"):
        with pytest.raises(
            ValueError,
            match=rf"{name} needs a function with a scalar output, got shape \(3,\); use "
            "jacobian or vjp",
        ):
            getattr(ad, name)(lambda t: t * 2)(x)
    with pytest.raises(TypeError, match=r"grad needs a function that returns a Tensor, got float"):
        ad.grad(lambda t: 3.0)(x)


# ------------------------------------------------------------------ gradient rules


class _Doubling(ad.ops.ElementwiseOp):
    def compute(self, a):
        return a * 2


def test_gradient_rule_errors_name_the_op_in_both_modes(mode):
    class TooFew(ad.TensorOp):
        def compute(self, a, b):
            return a + b

        def infer_shape(self, a, b):
            return a

        def gradient(self, out_grad, node):
            return (out_grad,)

    class NotATensor(_Doubling):
        def gradient(self, out_grad, node):
            return (None,)

    class WrongShape(_Doubling):
        def gradient(self, out_grad, node):
            return (ad.reshape(out_grad, (3, 2)),)

    x, z = ones(2, 3), ones(2, 3)
    with pytest.raises(ValueError, match=r"TooFew.gradient returned 1 adjoint\(s\) for 2 input"):
        TooFew()(x, z).sum().backward()
    with pytest.raises(
        TypeError, match=r"NotATensor.gradient returned NoneType for input 0; gradient rules"
    ):
        NotATensor()(x).sum().backward()
    with pytest.raises(
        ValueError,
        match=r"WrongShape.gradient returned an adjoint of shape \(3, 2\) for input 0 of "
        r"shape \(2, 3\); each adjoint must have its input's shape",
    ):
        WrongShape()(x).sum().backward()


def test_only_this_package_s_own_rules_skip_the_guard():
    """The backward walk trusts the tested rules of adjoint's ops, never a subclass of them."""
    assert ad.ops.Sin.trusted_gradient and ad.ops.EWiseMul.trusted_gradient
    assert not _Doubling.trusted_gradient  # a user's op

    class ShapelessSin(ad.ops.Sin):
        def gradient(self, out_grad, node):
            return (out_grad.sum(),)

    assert not ShapelessSin.trusted_gradient
    with pytest.raises(ValueError, match=r"ShapelessSin.gradient returned an adjoint of shape"):
        ShapelessSin()(ones(2, 3)).sum().backward()


def test_gradient_rule_errors_in_second_order_graphs():
    class WrongSecond(_Doubling):
        """First derivative right, but its own gradient graph is built with a wrong rule."""

        def gradient(self, out_grad, node):
            return (_BadInner()(out_grad * node.inputs[0]),)

    class _BadInner(_Doubling):
        def gradient(self, out_grad, node):
            return (out_grad.sum(),)

    x = ad.Tensor([1.0, 2.0])
    WrongSecond()(x).sum().backward()
    with pytest.raises(ValueError, match=r"_BadInner.gradient returned an adjoint of shape \(\)"):
        x.grad.sum().backward()


def test_errors_from_compute_in_lazy_mode_come_when_realized_and_read_the_same():
    class Picky(_Doubling):
        def compute(self, a):
            if a.min() < 0:
                raise ValueError(f"Picky: needs non-negative input, got min {a.min()}")
            return a * 2

    x = ad.Tensor([-1.0, 2.0])
    with pytest.raises(ValueError, match=r"Picky: needs non-negative input, got min -1.0") as e:
        Picky()(x)
    with ad.lazy_mode():
        y = Picky()(x) + 1.0  # recorded: nothing computed, no error yet
    with pytest.raises(ValueError) as lazy_error:
        y.numpy()
    assert str(lazy_error.value) == str(e.value)


def test_elementwise_op_classes_called_directly_need_equal_shapes(mode):
    """The functions broadcast; the op classes, whose rules assume one shape, say so."""
    a_data, b_data = np.array([1.0, 2.0, 3.0]), np.ones((2, 3))
    a, b = ad.Tensor(a_data), ad.Tensor(b_data)
    for op in (ad.ops.EWiseAdd(), ad.ops.EWiseMul(), ad.ops.Maximum(), ad.ops.TanhBackward()):
        with pytest.raises(
            ValueError,
            match=rf"{op.name}: inputs of shapes \(3,\), \(2, 3\) "
            r"differ; the op needs equal shapes \(call the function",
        ):
            op(a, b)
    np.testing.assert_array_equal(a.numpy(), a_data)
    assert (ad.ops.EWiseMul()(b, b).numpy() == 1.0).all() and (a * b).shape == (2, 3)


def test_matmul_op_class_called_directly_needs_matrices(mode):
    """ad.matmul handles 1-D operands; the op class, whose rule transposes, says so."""
    v, m = ad.Tensor([1.0, 2.0]), ad.Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"MatMul: operands of shapes \(2,\) and \(2, 3\); the op needs at least 2 "
        r"dimensions each \(call ad.matmul",
    ):
        ad.ops.MatMul()(v, m)
    assert (v @ m).shape == (3,) and ad.ops.MatMul()(ad.reshape(v, (1, 2)), m).shape == (1, 3)
