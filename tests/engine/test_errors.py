"""Bad input to the engine: Tensor construction and data conversion, every Tensor
method that takes an argument, the backward entry points, gradient rules that return
the wrong thing, the lazy-mode switches and ``detect_anomaly``. Each error names the
function, the shapes or values involved and what is valid, and reads the same in eager
and lazy mode.

The tables give rows of the exception type, the name the message must start with and a
fragment that says what is wrong or valid; a coverage test checks that they name every
public Tensor method that takes an argument, and every public name of
:mod:`adjoint.anomaly`.
"""

import inspect

import numpy as np
import pytest

import adjoint as ad
from adjoint import anomaly, autograd
from tests.helpers.errors import _I, _T, _V, INTS, S, V, X
from tests.helpers.errors import check as _check
from tests.helpers.errors import enter as _enter
from tests.helpers.errors import table as _table


def ones(*shape):
    return ad.Tensor(np.ones(shape))


# ---------------------------------------------------------------- data conversion


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
    assert repr(x) == "Tensor([1. 2.], name='x', shape=(2,), dtype=float64, requires_grad=True)"
    assert repr(x * 2) == (
        "Tensor([2. 4.], shape=(2,), dtype=float64, op=MulScalar, requires_grad=True)"
    )
    assert repr(ad.Tensor(np.float32([1]), requires_grad=False)) == (
        "Tensor([1.], shape=(1,), dtype=float32, requires_grad=False)"
    )
    with ad.no_grad():
        assert repr(ad.Tensor(np.eye(2)) @ x) == (
            "Tensor([1. 2.], shape=(2,), dtype=float64, requires_grad=False)"  # cut: no op
        )
    with ad.lazy_mode():
        lazy = ad.exp(ad.Tensor(0.0, dtype="float32")) + 1
        assert repr(lazy) == "Tensor(2., shape=(), dtype=float32, op=AddScalar, requires_grad=True)"
    multi = repr(ad.Tensor(np.arange(4).reshape(2, 2), dtype="int64") * 3)
    assert multi == (
        "Tensor([[0 3]\n        [6 9]], shape=(2, 2), dtype=int64, op=MulScalar, "
        "requires_grad=True)"
    )
    with pytest.raises(TypeError, match="name must be a str"):
        ad.Tensor(1.0, name=3)
    assert np.asarray(x).tolist() == [1.0, 2.0]
    assert x.ndim == 1 and x.shape == (2,) and x.size == 2


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
    with pytest.raises(
        ValueError,
        match=r"backward: out_grad has shape \(3,\) but the output "
        r"has shape \(2, 3\)",
    ):
        y.backward(ad.Tensor(np.ones(3)))  # a Tensor out_grad


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

    class TwoForOne(_Doubling):
        def gradient(self, out_grad, node):
            return out_grad, out_grad

    class WrongShapeSum(_Doubling):
        def gradient(self, out_grad, node):
            return (out_grad.sum(),)

    v = ad.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"TwoForOne.gradient returned 2 adjoint\(s\) for 1 input"):
        TwoForOne()(v).sum().backward()
    with pytest.raises(
        ValueError,
        match=r"WrongShapeSum.gradient returned an adjoint of shape \(\) for input 0 of shape "
        r"\(2,\)",
    ):
        WrongShapeSum()(v).sum().backward()


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


# ======================================================= Tensor: every method's arguments


def double(x):
    return x * 2


def _int_output(x):
    return INTS() * 2  # an integer output (x plays no part)


def _backward(out_grad, y=double, **kwargs):
    y(X()).backward(out_grad, **kwargs)


def _int_y(x):
    return INTS() * 2  # an integer output that requires grad


def _set_data(t, value):
    t.data = value


TENSOR = [
    # ---- Tensor(data): numbers, nested lists of numbers, bool/int/float arrays
    ("Tensor", "str", lambda: ad.Tensor("abc"), _T, "Tensor", r"str data .*strings are not"),
    ("Tensor", "bytes", lambda: ad.Tensor(b"ab"), _T, "Tensor", "strings are not numbers"),
    ("Tensor", "object", lambda: ad.Tensor(object()), _T, "Tensor", "of type object"),
    ("Tensor", "object array", lambda: ad.Tensor(np.array([1, None])), _T, "Tensor", "object is"),
    ("Tensor", "str array", lambda: ad.Tensor(np.array(["1"])), _T, "Tensor", "dtype <U1 is not"),
    ("Tensor", "ragged", lambda: ad.Tensor([[1.0], [1.0, 2.0]]), _V, "Tensor", "data is ragged"),
    ("Tensor", "ragged deep", lambda: ad.Tensor([[[1.0], [2.0, 3.0]]]), _V, "Tensor", "ragged"),
    ("Tensor", "complex", lambda: ad.Tensor(1 + 2j), _T, "Tensor", "complex numbers are not"),
    ("Tensor", "complex array", lambda: ad.Tensor(np.array([1j])), _T, "Tensor", "complex128"),
    ("Tensor", "complex in list", lambda: ad.Tensor([1.0, 1j]), _T, "Tensor", "complex numbers"),
    ("Tensor", "None", lambda: ad.Tensor(None), _T, "Tensor", "it holds None"),
    ("Tensor", "None in list", lambda: ad.Tensor([1.0, None]), _T, "Tensor", "it holds None"),
    ("Tensor", "dict", lambda: ad.Tensor({"a": 1}), _T, "Tensor", "of type dict"),
    ("Tensor", "set", lambda: ad.Tensor({1.0}), _T, "Tensor", "of type set"),
    ("Tensor", "datetime array", lambda: ad.Tensor(np.array(["2020"], "M8[D]")), _T, "Tensor",
     "datetime64"),
    # dtype=: a NumPy dtype of bool, integer or float; Python ints must fit it
    ("Tensor", "dtype unknown", lambda: ad.Tensor([1.0], dtype="float33"), _T, "Tensor",
     "dtype 'float33' is not a NumPy dtype"),
    ("Tensor", "dtype int", lambda: ad.Tensor([1.0], dtype=5), _T, "Tensor", "dtype 5 is not a"),
    ("Tensor", "dtype complex", lambda: ad.Tensor([1.0], dtype=complex), _T, "Tensor", "complex"),
    ("Tensor", "dtype object", lambda: ad.Tensor([1.0], dtype=object), _T, "Tensor", "object"),
    ("Tensor", "dtype str", lambda: ad.Tensor([1.0], dtype=str), _T, "Tensor", "<U32"),
    ("Tensor", "int8 overflow", lambda: ad.Tensor([1, 300], dtype="int8"), _V, "Tensor",
     r"dtype int8 cannot hold the value 300 \(its range is -128\.\.127\)"),
    ("Tensor", "uint8 negative", lambda: ad.Tensor(-1, dtype=np.uint8), _V, "Tensor", "hold the"),
    ("Tensor", "int64 overflow", lambda: ad.Tensor([2**70], dtype="int64"), _V, "Tensor",
     "cannot hold the value 1180591620717411303424"),
    # requires_grad=, device=, name=
    ("Tensor", "requires_grad str", lambda: ad.Tensor(1.0, requires_grad="no"), _T, "Tensor",
     "requires_grad must be True or False, got 'no'"),
    ("Tensor", "requires_grad None", lambda: ad.Tensor(1.0, requires_grad=None), _T, "Tensor",
     "requires_grad must be True or False"),
    ("Tensor", "requires_grad int", lambda: ad.Tensor(1.0, requires_grad=1), _T, "Tensor",
     "requires_grad must be True or False, got 1"),
    ("Tensor", "device str", lambda: ad.Tensor(1.0, device="cuda"), _T, "Tensor",
     "device must be ad.cpu"),
    ("Tensor", "device int", lambda: ad.Tensor(1.0, device=0), _T, "Tensor", "got 0"),
    # ---- Tensor.to: a device
    ("to", "str", lambda: ad.Tensor(1.0).to("cuda"), _T, "to_device", "device must be ad.cpu"),
    ("to", "None", lambda: ad.Tensor(1.0).to(None), _T, "to_device", "give a device"),
    ("Tensor", "name int", lambda: ad.Tensor(1.0, name=3), _T, "Tensor", "name must be a str"),
    # ---- Tensor.from_numpy: a bool, integer or float NumPy array, held as it is
    ("from_numpy", "list", lambda: ad.Tensor.from_numpy([1.0]), _T, "Tensor.from_numpy",
     "give a NumPy array, got list"),
    ("from_numpy", "str array", lambda: ad.Tensor.from_numpy(np.array(["a"])), _T,
     "Tensor.from_numpy", "dtype <U1 is not supported"),
    ("from_numpy", "complex array", lambda: ad.Tensor.from_numpy(np.ones(2) * 1j), _T,
     "Tensor.from_numpy", "complex128"),
    ("from_numpy", "requires_grad", lambda: ad.Tensor.from_numpy(np.ones(2), requires_grad="x"),
     _T, "Tensor.from_numpy", "requires_grad must be True or False"),
    # ---- backward(out_grad, create_graph=): the output's shape; no lossy conversion
    ("backward", "wrong shape", lambda: _backward(np.ones(3)), _V, "backward",
     r"out_grad has shape \(3,\) but the output has shape \(2, 3\)"),
    ("backward", "empty", lambda: _backward(np.ones(0)), _V, "backward", r"shape \(0,\) but"),
    ("backward", "Tensor shape", lambda: _backward(V()), _V, "backward", r"shape \(3,\) but"),
    ("backward", "scalar for vector", lambda: _backward(1.0), _V, "backward", r"shape \(\) but"),
    ("backward", "float into int", lambda: _backward([0.5, 1.0], _int_y), _V, "backward",
     "out_grad holds the value 0.5, which the output's dtype int64 cannot represent"),
    ("backward", "float array into int", lambda: _backward(np.ones(2), _int_y), _T, "backward",
     "out_grad of dtype float64 cannot be converted to the output's dtype int64"),
    ("backward", "create_graph str", lambda: _backward(None, create_graph="no"), _T,
     "backward", "create_graph must be True or False"),
    ("backward", "create_graph None", lambda: _backward(None, create_graph=None), _T,
     "backward", "create_graph must be True or False, got None"),
    # data that is no number at all is refused as Tensor(out_grad) refuses it
    ("backward", "str", lambda: _backward("a"), _T, "Tensor", "strings are not numbers"),
    ("backward", "None in list", lambda: _backward([[None] * 3] * 2), _T, "Tensor", "holds None"),
    ("backward", "complex", lambda: _backward(np.ones((2, 3)) * 1j), _T, "Tensor", "complex128"),
    ("backward", "object", lambda: _backward(np.ones((2, 3), object)), _T, "Tensor", "object"),
    ("backward", "ragged", lambda: _backward([[1.0], [1.0, 2.0]]), _V, "Tensor", "ragged"),
    # ---- data =, item(), float(), int(), bool()
    ("data", "ndarray", lambda: _set_data(X(), np.ones((2, 3))), _T, "Tensor.data", "assign a"),
    ("data", "float32 ndarray", lambda: _set_data(X(), np.ones(3, "f4")), _T, "Tensor.data", "nd"),
    ("data", "Tensor dtype", lambda: _set_data(X(), ad.Tensor(np.ones(2, "f4"))), _T,
     "Tensor.data", "dtype float32 differs from float64"),
    ("item", "several", lambda: X().item(), _V, "item", r"shape \(2, 3\) has 6 elements"),
    ("item", "empty", lambda: ad.Tensor(np.ones(0)).item(), _V, "item", "0 elements"),
    ("float", "several", lambda: float(X()), _T, "float", "only a tensor of one element"),
    ("int", "several", lambda: int(V()), _T, "int", r"shape \(3,\) has 3 elements"),
    ("bool", "several", lambda: bool(V()), _V, "bool", "has 3 elements"),
    ("bool", "empty", lambda: bool(ad.Tensor(np.ones(0))), _V, "bool", "has 0 elements"),
    ("len", "0-d", lambda: len(S()), _T, "len()", "of a 0-d Tensor"),
    ("iter", "0-d", lambda: iter(S()), _T, "iteration", "over a 0-d Tensor"),
    # ---- comparisons: a number, an array or a Tensor that broadcasts
    ("less", "str", lambda: X() < "a", _T, "less", "strings are not numbers"),
    ("less", "wrong shape", lambda: X() < np.ones(4), _V, "less", r"\(2, 3\) and \(4,\) do not"),
    ("less_equal", "object", lambda: X() <= object(), _T, "less_equal", "of type object"),
    ("greater", "None", lambda: X() > None, _T, "greater", "it holds None"),
    ("greater", "Tensor shape", lambda: X() > ad.Tensor(np.ones(2)), _V, "greater",
     r"\(2, 3\) and \(2,\) do not broadcast"),
    ("greater_equal", "complex", lambda: X() >= 1j, _T, "greater_equal", "complex numbers"),
    ("greater_equal", "ragged", lambda: X() >= [[1], [1, 2]], _V, "greater_equal", "ragged"),
    # ---- methods mirroring the ops: their errors name the op
    ("reshape", "method non-integer", lambda: X().reshape(2.5, 2), _T, "reshape", "got 2.5"),
    ("reshape", "method None", lambda: X().reshape(None), _T, "reshape", "got None"),
    ("reshape", "method empty", lambda: X().reshape(), _V, "reshape", r"into \(\)"),
    ("reshape", "method wrong size", lambda: X().reshape([4]), _V, "reshape", "sizes must match"),
    ("reshape", "method bool", lambda: X().reshape(True, 6), _T, "reshape", "of type bool"),
    ("transpose", "method three", lambda: X().transpose(0, 1, 2), _V, "transpose", "two axes"),
    ("transpose", "method one", lambda: X().transpose(0), _V, "transpose", r"got \(0,\)"),
    ("transpose", "method float", lambda: X().transpose(0.0, 1), _T, "transpose", "axes must be"),
    ("transpose", "method 1-D", lambda: V().transpose(), _V, "transpose", "at least 2"),
    ("permute", "method float", lambda: X().permute(0.5, 1), _T, "permute", "each axis must"),
    ("permute", "method empty", lambda: X().permute(), _V, "permute", "not a permutation"),
    ("permute", "method repeated", lambda: X().permute((0, 0)), _V, "permute", "not a permut"),
    ("sum", "method str", lambda: X().sum("0"), _T, "summation", "axes must be"),
    ("sum", "method keepdims", lambda: X().sum(0, "yes"), _T, "summation", "keepdims must"),
    ("sum", "method out of range", lambda: X().sum(axes=(0, 2)), _V, "summation", "axis 2 is"),
    ("broadcast_to", "method negative", lambda: X().broadcast_to((-1, 3)), _V, "broadcast_to",
     "non-negative"),
    ("broadcast_to", "method None", lambda: X().broadcast_to(None), _T, "broadcast_to", "None"),
    ("mean", "method float", lambda: X().mean(1.5), _T, "mean", "axes must be"),
    ("mean", "method keepdims", lambda: X().mean(0, None), _T, "mean", "keepdims must be"),
    ("max", "method bool", lambda: X().max(True), _T, "max", "axes must be"),
    ("max", "method empty", lambda: ad.Tensor(np.ones((0, 2))).max(0), _V, "max", "size 0"),
    ("min", "method str", lambda: X().min("0"), _T, "min", "axes must be"),
    ("cumsum", "method axis", lambda: X().cumsum(5), _V, "cumsum", "axis 5 is out of range"),
    ("cumsum", "method float", lambda: X().cumsum(0.5), _T, "cumsum", "axis must be an int"),
    ("cumprod", "method axis", lambda: X().cumprod(-3), _V, "cumprod", "axis -3 is out of"),
    ("sort", "method axis", lambda: X().sort(2), _V, "sort", "axis 2 is out of range"),
    ("sort", "method float", lambda: X().sort(1.5), _T, "sort", "axis must be an int"),
    ("argsort", "method axis", lambda: X().argsort(3), _V, "argsort", "axis 3 is out of"),
    ("clip", "method str", lambda: X().clip("a", 1), _T, "clip", "a_min must be a number"),
    ("repeat", "method negative", lambda: X().repeat(-1, 0), _V, "repeat", "non-negative"),
    ("repeat", "method counts", lambda: X().repeat([1, 2], 1), _V, "repeat", "2 counts for"),
    ("var", "method axis", lambda: X().var(3), _V, "var", "axis 3 is out of range"),
    ("std", "method ddof str", lambda: X().std(ddof="a"), _T, "std", "must be a real number"),
    ("trace", "method same axes", lambda: X().trace(0, 1, 1), _V, "trace", "the same axis"),
    ("trace", "method 1-D", lambda: X()[0].trace(), _V, "trace", "at least 2 dimensions"),
    ("diagonal", "method offset", lambda: X().diagonal(0.5), _T, "diagonal", "offset must be"),
    ("diagonal", "method axis", lambda: X().diagonal(0, 0, 2), _V, "diagonal", "axis2 2 is out"),
    ("logsumexp", "method out of range", lambda: X().logsumexp(2), _V, "logsumexp", "axis 2"),
    ("softmax", "method str", lambda: X().softmax("x"), _T, "softmax", "axes must be"),
    ("log_softmax", "method float", lambda: X().log_softmax(1.5), _T, "log_softmax", "axes"),
    ("flatten", "method float", lambda: X().flatten(0.5), _T, "flatten", "start_axis must be"),
    ("flatten", "method end", lambda: X().flatten(0, "1"), _T, "flatten", "end_axis must be"),
    ("squeeze", "method not 1", lambda: X().squeeze(0), _V, "squeeze", "cannot squeeze axis 0"),
    ("expand_dims", "method float", lambda: X().expand_dims(1.5), _T, "expand_dims", "axis"),
    ("getitem", "method str", lambda: X()["a"], _I, "getitem", "'a' of type str is not valid"),
]  # fmt: skip


@_table(TENSOR)
def test_tensor_arguments(mode, subject, kind, call, exc, prefix, fragment):
    _check(call, exc, prefix, fragment)


def test_valid_tensor_arguments_still_work(mode):
    assert ad.Tensor([1, 2], dtype="int8").dtype == np.int8
    assert ad.Tensor(1.0, requires_grad=np.bool_(False)).requires_grad is False
    assert ad.Tensor(1.0, device=ad.cpu()).device == ad.cpu()
    assert ad.Tensor([1.5], dtype="int64").numpy().tolist() == [1]  # dtype= converts, as NumPy
    assert float(ad.Tensor([2.5])) == 2.5 and int(ad.Tensor([[3]])) == 3 and bool(V()[0])
    assert (X() < ad.Tensor(np.ones(3))).shape == (2, 3) and (X() >= [1, 2, 3]).dtype == bool
    y = _int_y(None)
    y.backward([1, 2])  # integers into an integer output: exact
    x = ad.Tensor(np.float32([1.0, 2.0]))
    (x * 2).backward(np.ones(2))  # float64 into float32: within the kind
    assert x.grad.dtype == np.float32


# ======================================================= anomaly


ANOMALY = [
    # refused when called, as well as when entered
    ("detect_anomaly", "int", lambda p: anomaly.detect_anomaly(1), _T, "detect_anomaly", "got 1"),
    ("detect_anomaly", "zero", lambda p: anomaly.detect_anomaly(0), _T, "detect_anomaly", "got 0"),
    (
        "detect_anomaly",
        "None",
        lambda p: anomaly.detect_anomaly(None),
        _T,
        "detect_anomaly",
        "None",
    ),
    (
        "detect_anomaly",
        "str",
        lambda p: _enter(anomaly.detect_anomaly("yes")),
        _T,
        "detect_anomaly",
        "enabled must be True or False, got 'yes'",
    ),
    (
        "detect_anomaly",
        "array",
        lambda p: anomaly.detect_anomaly(np.ones(2)),
        _T,
        "detect_anomaly",
        "True",
    ),
]


@_table(ANOMALY)
def test_detect_anomaly_bad_arguments(mode, tmp_path, subject, kind, call, exc, prefix, fragment):
    _check(lambda: call(tmp_path), exc, prefix, fragment, trap_float_errors=False)
    assert sorted(q.name for q in tmp_path.iterdir()) == []  # nothing written, no temp file


def test_detect_anomaly_refuses_a_bad_flag_before_it_turns_anything_on():
    with pytest.raises(TypeError):
        anomaly.detect_anomaly(1)
    assert not anomaly.is_anomaly_enabled()
    with anomaly.detect_anomaly(np.bool_(True)):
        assert anomaly.is_anomaly_enabled()
        with anomaly.detect_anomaly(False):
            assert not anomaly.is_anomaly_enabled()
    assert not anomaly.is_anomaly_enabled()


# ======================================================= coverage


def _takes_arguments(function):
    parameters = inspect.signature(function).parameters
    return any(name not in ("self", "cls") for name in parameters)


#: Public names covered elsewhere or taking no argument to check, with the reason.
NOT_TABLED = {
    "Tensor.make_const": "the engine's constructor, called by every gradient rule: unchecked",
    "Tensor.make_from_op": "the engine's node maker, called by every op: unchecked",
    "anomaly.AnomalyError": "an exception class, raised by detect_anomaly's checks",
    "anomaly.is_anomaly_enabled": "takes no arguments",
}


def test_the_tables_cover_every_public_tensor_method_with_arguments_and_anomaly():
    tabled = {row[0] for row in TENSOR}
    missing = set()
    for name, member in inspect.getmembers(ad.Tensor):
        if name.startswith("_") or not callable(member) or not _takes_arguments(member):
            continue
        if name not in tabled and f"Tensor.{name}" not in NOT_TABLED:
            missing.add(name)
    assert missing == set()
    # the constructor, the data setter, the conversions and the comparisons
    assert {"Tensor", "data", "item", "float", "int", "bool", "len", "iter"} <= tabled
    assert {"less", "less_equal", "greater", "greater_equal"} <= tabled
    public = {f"anomaly.{name}" for name in anomaly.__all__}
    anomaly_tabled = {f"anomaly.{row[0]}" for row in ANOMALY}
    assert public - anomaly_tabled == {k for k in NOT_TABLED if k.startswith("anomaly.")}
    assert {k for k in NOT_TABLED if k.startswith("anomaly.")} <= public  # no stale reasons
