"""Bad input to the core gets a clear error that names the op, the shapes and what is valid."""

import numpy as np
import pytest

import adjoint as ad


def test_matmul_misaligned(mode):
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align \(3 != 4\)"
    ):
        ad.Tensor(np.ones((2, 3))) @ ad.Tensor(np.ones((4, 5)))


def test_binary_shapes_that_do_not_broadcast(mode):
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        ad.Tensor(np.ones((2, 3))) + ad.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"multiply: shapes \(3,\) and \(2,\)"):
        ad.Tensor(np.ones(3)) * np.ones(2)


def test_reshape_to_another_size(mode):
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape shape \(2, 3\) \(6 elements\) into \(4,\)"
    ):
        ad.Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape shape \(2, 3\) \(6 elements\) into \(-1, 4\)"
    ):
        ad.Tensor(np.ones((2, 3))).reshape(-1, 4)


def test_impossible_broadcast_to(mode):
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(3,\) to \(4,\)"):
        ad.broadcast_to(ad.Tensor(np.ones(3)), (4,))


def test_axes_out_of_range(mode):
    with pytest.raises(
        ValueError,
        match=r"summation: axis 2 is out of range .* 2 dimension\(s\); valid axes: \[-2, 1\]",
    ):
        ad.summation(ad.Tensor(np.ones((2, 3))), axes=2)
    with pytest.raises(ValueError, match=r"transpose: axis -4 is out of range"):
        ad.transpose(ad.Tensor(np.ones((2, 3))), (0, -4))
    with pytest.raises(ValueError, match=r"permute: axes \(0, 0\) are not a permutation"):
        ad.permute(ad.Tensor(np.ones((2, 3))), (0, 0))


def test_non_numeric_and_ragged_data():
    with pytest.raises(TypeError, match=r"Tensor: .*str.*give numbers"):
        ad.Tensor("abc")
    with pytest.raises(ValueError, match=r"Tensor: data is ragged"):
        ad.Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match=r"dtype object is not supported"):
        ad.Tensor(np.array([object()]))
    with pytest.raises(TypeError, match=r"dtype complex128 is not supported"):
        ad.Tensor(np.array([1j]))
    with pytest.raises(TypeError, match=r"add: cannot use an operand of type str"):
        ad.Tensor([1.0]) + "x"


def test_out_grad_of_the_wrong_shape(mode):
    y = ad.Tensor(np.ones((2, 3))) * 2
    with pytest.raises(
        ValueError, match=r"backward: out_grad has shape \(3,\) but the output has shape \(2, 3\)"
    ):
        y.backward(ad.Tensor(np.ones(3)))


def test_gradient_rule_with_wrong_count_or_shape_names_the_op():
    class TwoForOne(ad.ops.ElementwiseOp):
        def compute(self, a):
            return a * 2

        def gradient(self, out_grad, node):
            return out_grad, out_grad

    class WrongShape(ad.ops.ElementwiseOp):
        def compute(self, a):
            return a * 2

        def gradient(self, out_grad, node):
            return (out_grad.sum(),)

    x = ad.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"TwoForOne.gradient returned 2 adjoint\(s\) for 1 input"):
        TwoForOne()(x).sum().backward()
    with pytest.raises(
        ValueError,
        match=r"WrongShape.gradient returned an adjoint of shape \(\) for input 0 of shape \(2,\)",
    ):
        WrongShape()(x).sum().backward()


def test_dtype_rules_and_no_lossy_cast():
    assert ad.Tensor(2.0).dtype == np.float64 and ad.Tensor([1, 2, 3]).dtype == np.float64
    assert ad.Tensor(np.float32([1, 2])).dtype == np.float32
    assert ad.Tensor(np.arange(3)).dtype == np.int64
    assert ad.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    x = ad.Tensor(np.float32([1, 2]))
    assert (x * 2).dtype == np.float32 and (x + x).dtype == np.float32
    assert (x * ad.Tensor([1.0, 1.0])).dtype == np.float64  # promoted, never narrowed
    assert ad.exp(x).dtype == np.float32
    with ad.lazy_mode():
        assert (ad.exp(x) * 2).dtype == np.float32


def test_user_data_is_never_modified():
    user = np.array([1.0, 2.0, 3.0])
    before = user.copy()
    x = ad.Tensor(user)
    y = (x * x).sum()
    y.backward()
    x.realize_cached_data()[:] = 0
    np.testing.assert_array_equal(user, before)


def test_name_and_repr():
    x = ad.Tensor([1.0, 2.0], name="x")
    assert repr(x) == "Tensor([1. 2.], name='x')"
    assert repr(x * 2) == "Tensor([2. 4.], op=MulScalar)"
    assert repr(ad.Tensor(np.float32([1]))) == "Tensor([1.], dtype=float32)"
    with pytest.raises(TypeError, match="name must be a str"):
        ad.Tensor(1.0, name=3)
    assert np.asarray(x).tolist() == [1.0, 2.0]
    assert x.ndim == 1 and x.shape == (2,) and x.size == 2


@pytest.mark.parametrize(
    "labels, error, fragment",
    [
        ([0.9, 1.9], ValueError, "whole numbers"),
        ([np.nan], ValueError, "whole numbers"),
        ([np.inf], ValueError, "whole numbers"),
        ([True, False], TypeError, "integer class indices"),
        (["a"], TypeError, "integer class indices"),
        ([0, 5], ValueError, r"\[0, 2\]"),
        ([-1], ValueError, r"\[0, 2\]"),
    ],
)
def test_one_hot_refuses_labels_that_are_not_class_indices(labels, error, fragment):
    with pytest.raises(error, match=fragment):
        ad.init.one_hot(3, np.array(labels))


def test_one_hot_accepts_whole_float_labels():
    np.testing.assert_array_equal(ad.init.one_hot(3, [2.0, 0.0]).numpy(), np.eye(3)[[2, 0]])


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda y: ad.find_topo_sort([3]), TypeError, r"find_topo_sort: node_list\[0\] is a int"),
        (lambda y: ad.find_topo_sort(3), TypeError, "node_list must be a list of Tensors"),
        (lambda y: ad.find_topo_sort(y), TypeError, "got one Tensor; use \\[tensor\\]"),
        (
            lambda y: ad.compute_gradient_of_variables(y, np.ones(2)),
            TypeError,
            "compute_gradient_of_variables: out_grad is a ndarray; give a Tensor of shape",
        ),
        (
            lambda y: ad.compute_gradient_of_variables(y, None),
            TypeError,
            "out_grad is a NoneType",
        ),
        (
            lambda y: ad.compute_gradient_of_variables(y, ad.Tensor([1.0])),
            ValueError,
            r"backward: out_grad has shape \(1,\) but the output has shape \(2,\)",
        ),
        (lambda y: ad.compute_gradient_of_variables(3, y), TypeError, "the output is a int"),
        (lambda y: ad.autograd.gradients(y, [2.0]), TypeError, r"gradients: wrt\[0\] is a float"),
        (lambda y: ad.autograd.gradients(None, [y]), TypeError, "the output is a NoneType"),
    ],
)
@pytest.mark.parametrize("lazy", [False, True])
def test_engine_entry_points_name_bad_arguments(call, error, fragment, lazy):
    with ad.lazy_mode(lazy):
        y = ad.Tensor([1.0, 2.0]) * 2
        with pytest.raises(error, match=fragment):
            call(y)
