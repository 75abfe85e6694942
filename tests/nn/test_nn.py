"""adjoint.nn: every layer's forward against NumPy, its gradients by finite differences.

Linear, Conv2d and the norms are checked to second order: their gradient
graphs are differentiated again. Parameters are passed into the checked
function as inputs, so derivatives with respect to weights are checked too.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import adjoint as ad
from adjoint import nn, optim


def rng(seed=0):
    return np.random.default_rng(seed)


def with_params(layer, **names):
    """Set the layer's attributes to the given Tensors (gradcheck's inputs)."""
    for name, value in names.items():
        setattr(layer, name, value)
    return layer


# ------------------------------------------------------------------ the Module API


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(2, 3)
        self.blocks = [nn.Linear(3, 3), {"inner": nn.BatchNorm1d(3)}]
        self.shared = self.first  # the same module twice: its parameters count once
        self.scale = nn.Parameter(np.ones(3))
        self.constant = ad.Tensor(np.ones(3), requires_grad=False)

    def forward(self, x):
        return self.blocks[1]["inner"](self.blocks[0](self.first(x))) * self.scale


def test_parameters_are_found_recursively_once_each():
    model = Pair()
    params = model.parameters()
    expected = [
        model.first.weight,
        model.first.bias,
        model.blocks[0].weight,
        model.blocks[0].bias,
        model.blocks[1]["inner"].weight,
        model.blocks[1]["inner"].bias,
        model.scale,
    ]
    assert [id(p) for p in params] == [id(p) for p in expected]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Residual(nn.Sequential(nn.Dropout(0.5))))
    model.eval()
    inner = model[1].fn[0]
    assert not model.training and not inner.training
    model.train()
    assert model.training and inner.training


def test_call_is_forward_and_parameter_copies_its_data():
    source = np.zeros(3)
    p = nn.Parameter(source)
    source[0] = 1.0
    assert p.numpy()[0] == 0.0
    assert nn.Identity()(p) is p


def test_seeded_initialization_is_reproducible():
    a = nn.Conv2d(2, 3, 3, rng=np.random.default_rng(5))
    b = nn.Conv2d(2, 3, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.random.seed(1)
    c = nn.Linear(4, 5)
    np.random.seed(1)
    d = nn.Linear(4, 5)
    np.testing.assert_array_equal(c.weight.numpy(), d.weight.numpy())
    assert c.weight.shape == (4, 5) and c.bias.shape == (1, 5)
    bound = np.sqrt(2) * np.sqrt(3 / 4)  # Kaiming uniform, fan_in 4
    assert np.abs(c.weight.numpy()).max() <= bound


def test_dtype_is_float32_by_default_as_in_needle_and_configurable():
    layer = nn.BatchNorm1d(3)
    assert nn.Linear(2, 3).weight.dtype == np.float32 and layer.running_mean.dtype == np.float32
    layer.weight.data = ad.Tensor(np.float32([1, 2, 3]))  # needle's tests assign float32 data
    out = layer(ad.Tensor(np.ones((2, 3), np.float32)))
    assert out.dtype == np.float32 and layer.running_var.dtype == np.float32
    assert layer(ad.Tensor(np.ones((2, 3)))).dtype == np.float64  # float64 inputs promote
    assert layer.running_var.dtype == np.float32
    double = nn.Conv2d(1, 2, 3, dtype="float64")
    assert double.weight.dtype == np.float64 and double.bias.dtype == np.float64


# ------------------------------------------------------------------------ layers


def test_linear_forward_and_second_derivatives():
    x, w, b = rng().standard_normal((4, 3)), rng(1).standard_normal((3, 2)), rng(2).random((1, 2))
    layer = nn.Linear(3, 2)
    out = with_params(layer, weight=ad.Tensor(w), bias=ad.Tensor(b))(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), x @ w + b, rtol=1e-12)
    f = lambda x, w, b: with_params(layer, weight=w, bias=b)(x) ** 2
    assert ad.gradcheck(f, x, w, b, order=2)
    assert nn.Linear(3, 2, bias=False).parameters()[0].shape == (3, 2)
    assert len(nn.Linear(3, 2, bias=False).parameters()) == 1


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match="Linear: input of shape \\(2, 4\\) has 4 features"):
        nn.Linear(3, 2)(ad.Tensor(np.ones((2, 4))))


@pytest.mark.parametrize(
    "layer, reference",
    [
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Tanh(), np.tanh),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Identity(), lambda x: x),
        (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    ],
    ids=["relu", "tanh", "sigmoid", "identity", "flatten"],
)
def test_elementwise_layers(layer, reference):
    x = rng().standard_normal((2, 3, 2))
    np.testing.assert_allclose(layer(ad.Tensor(x)).numpy(), reference(x), rtol=1e-12)
    assert ad.gradcheck(lambda t: layer(t) ** 2, x, order=2)


def test_sequential_and_residual():
    np.random.seed(0)
    inner = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    x = rng().standard_normal((2, 3))
    w, b = inner[0].weight.numpy(), inner[0].bias.numpy()
    out = nn.Residual(inner)(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), np.tanh(x @ w + b) + x, rtol=1e-12)
    assert len(inner) == 2 and list(inner)[1] is inner[1]


def test_dropout_masks_and_scales_in_training_only():
    x = np.ones((200, 50))
    layer = nn.Dropout(0.3, rng=np.random.default_rng(0))
    t = ad.Tensor(x)
    out = layer(t)
    values = np.unique(out.numpy())
    np.testing.assert_allclose(values, [0.0, 1 / 0.7])
    assert abs((out.numpy() == 0).mean() - 0.3) < 0.02
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), out.numpy())  # the gradient is the mask
    assert layer.eval()(t) is t
    with pytest.raises(ValueError, match="Dropout: p must lie in"):
        nn.Dropout(1.0)


def batchnorm_reference(x, axes, w, b, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def test_batchnorm1d_forward_running_stats_and_eval():
    x = rng().standard_normal((6, 3)) * 2 + 1
    w, b = rng(1).random(3) + 0.5, rng(2).standard_normal(3)
    layer = nn.BatchNorm1d(3, momentum=0.25, dtype="float64")
    out = with_params(layer, weight=ad.Tensor(w), bias=ad.Tensor(b))(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), batchnorm_reference(x, 0, w, b, 1e-5), rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.25 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.75 + 0.25 * x.var(0), rtol=1e-12)
    layer.eval()
    mean, var = layer.running_mean.numpy(), layer.running_var.numpy()
    out = layer(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-10)
    assert len(nn.BatchNorm1d(3).parameters()) == 2  # running statistics are not parameters


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm1d_second_derivatives(train):
    x = rng().standard_normal((5, 3))
    w, b = rng(1).random(3) + 0.5, rng(2).standard_normal(3)
    layer = nn.BatchNorm1d(3).train(train)
    f = lambda x, w, b: with_params(layer, weight=w, bias=b)(x) ** 2
    assert ad.gradcheck(f, x, w, b, order=2)


def test_batchnorm2d_forward_and_second_derivatives():
    x = rng().standard_normal((3, 2, 3, 3)) * 3 - 1
    w, b = rng(1).random(2) + 0.5, rng(2).standard_normal(2)
    layer = nn.BatchNorm2d(2, dtype="float64")
    out = with_params(layer, weight=ad.Tensor(w), bias=ad.Tensor(b))(ad.Tensor(x))
    reference = batchnorm_reference(
        x, (0, 2, 3), w.reshape(1, 2, 1, 1), b.reshape(1, 2, 1, 1), 1e-5
    )
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * x.mean((0, 2, 3)), rtol=1e-12)
    f = lambda x, w, b: with_params(layer, weight=w, bias=b)(x) ** 2
    assert ad.gradcheck(f, x, w, b, order=2)
    with pytest.raises(ValueError, match="BatchNorm2d: input of shape \\(3, 3, 3, 3\\)"):
        layer(ad.Tensor(np.ones((3, 3, 3, 3))))


def test_layernorm1d_forward_and_second_derivatives():
    x = rng().standard_normal((4, 5)) * 2 + 3
    w, b = rng(1).random(5) + 0.5, rng(2).standard_normal(5)
    layer = nn.LayerNorm1d(5)
    out = with_params(layer, weight=ad.Tensor(w), bias=ad.Tensor(b))(ad.Tensor(x))
    np.testing.assert_allclose(out.numpy(), batchnorm_reference(x, 1, w, b, 1e-5), rtol=1e-10)
    f = lambda x, w, b: with_params(layer, weight=w, bias=b)(x) ** 2
    assert ad.gradcheck(f, x, w, b, order=2)


def test_softmax_loss_forward_and_second_derivatives():
    logits, labels = rng().standard_normal((5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    loss = nn.SoftmaxLoss()(ad.Tensor(logits), ad.Tensor(labels, requires_grad=False))
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert np.isclose(float(loss), -log_p[np.arange(5), labels].mean(), rtol=1e-12)
    assert ad.gradcheck(lambda t: nn.SoftmaxLoss()(t, labels), logits, order=2)
    with pytest.raises(ValueError, match="3 labels for 5 rows"):
        nn.SoftmaxLoss()(ad.Tensor(logits), [0, 1, 2])


def test_conv2d_layer_forward_and_second_derivatives():
    from tests.helpers.references import conv_reference

    x = rng().standard_normal((2, 2, 5, 5))
    w, b = rng(1).standard_normal((3, 3, 2, 3)), rng(2).standard_normal(3)
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    assert layer.weight.shape == (3, 3, 2, 3) and layer.bias.shape == (3,)
    out = with_params(layer, weight=ad.Tensor(w), bias=ad.Tensor(b))(ad.Tensor(x))
    reference = conv_reference(x, w, 2, 1) + b.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-10, atol=1e-12)
    f = lambda x, w, b: with_params(layer, weight=w, bias=b)(x) ** 2
    assert ad.gradcheck(f, x, w, b, order=2)
    assert len(nn.Conv2d(2, 3, 3, bias=False).parameters()) == 1


def test_needles_conv_layer_pads_to_the_same_size():
    layer = nn.Conv(2, 3, 5, stride=1)
    assert layer.padding == 2
    assert layer(ad.Tensor(np.ones((1, 2, 6, 6)))).shape == (1, 3, 6, 6)
    assert nn.Conv(2, 3, 3, stride=2)(ad.Tensor(np.ones((1, 2, 6, 6)))).shape == (1, 3, 3, 3)


def test_pooling_layers():
    x = rng().permutation(2 * 2 * 4 * 4).reshape(2, 2, 4, 4).astype(float)
    blocks = x.reshape(2, 2, 2, 2, 2, 2)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(ad.Tensor(x)).numpy(), blocks.max((3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(ad.Tensor(x)).numpy(), blocks.mean((3, 5)))
    np.testing.assert_allclose(nn.GlobalAvgPool2d()(ad.Tensor(x)).numpy(), x.mean((2, 3)))


def test_a_small_resnet_has_second_derivatives():
    # A Hessian-vector product through conv, batch norm, a residual and pooling.
    np.random.seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.Residual(nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.Tanh())),
        nn.GlobalAvgPool2d(),
        nn.Linear(2, 3),
    )
    labels = np.array([0, 2])
    x = rng().standard_normal((2, 1, 4, 4))
    assert ad.gradcheck(lambda t: nn.SoftmaxLoss()(model(t), labels), x, order=2)


def test_layers_record_lazily_and_agree_with_eager_mode():
    np.random.seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.GlobalAvgPool2d(), nn.Linear(2, 3)
    )
    x = rng().standard_normal((2, 1, 5, 5))
    eager = model(ad.Tensor(x)).numpy()
    with ad.lazy_mode():
        out = model(ad.Tensor(x))
        assert out.cached_data is None and out.shape == (2, 3)
        np.testing.assert_allclose(out.numpy(), eager, rtol=1e-12)


# ---------------------------------------------------------------------- training


def bars(n, size=6, seed=0):
    """Synthetic images: a vertical bar (class 0), a horizontal bar (1) or a diagonal (2)."""
    g = np.random.default_rng(seed)
    labels = g.integers(0, 3, n)
    images = 0.3 * g.standard_normal((n, 1, size, size))
    for i, (label, k) in enumerate(zip(labels, g.integers(0, size, n))):
        if label == 0:
            images[i, 0, :, k] += 1
        elif label == 1:
            images[i, 0, k, :] += 1
        else:
            images[i, 0] += np.eye(size)[:, ::-1] if k % 2 else np.eye(size)
    return images, labels


def test_a_short_training_run_learns():
    # Seeded and deterministic: the loss must drop at least tenfold in 60 Adam steps.
    from adjoint import data

    np.random.seed(0)
    images, labels = bars(96)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())),
        nn.GlobalAvgPool2d(),
        nn.Linear(4, 3),
    )
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.SoftmaxLoss()
    loader = data.DataLoader(data.NDArrayDataset(images, labels), 32, shuffle=True, rng=0)
    losses = []
    for _ in range(20):
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.reset_grad()
            loss.backward(create_graph=False)
            opt.step()
            losses.append(float(loss))
    assert np.mean(losses[-6:]) < np.mean(losses[:3]) / 10, (losses[:3], losses[-6:])
    model.eval()
    accuracy = (model(ad.Tensor(images)).numpy().argmax(1) == labels).mean()
    assert accuracy > 0.95


def test_the_digits_example_trains_both_models_for_an_epoch(tmp_path):
    pytest.importorskip("sklearn")
    path = Path(__file__).resolve().parents[2] / "examples" / "train_resnet_digits.py"
    spec = importlib.util.spec_from_file_location("train_resnet_digits", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    plot = tmp_path / "curves.png"
    histories = example.main(["--model", "both", "--epochs", "1", "--plot", str(plot), "--quiet"])
    assert histories["resnet"]["test_acc"][0] > 0.5
    assert histories["mlp"]["test_acc"][0] > 0.5
    assert plot.exists() or importlib.util.find_spec("matplotlib") is None


# ---------------------------------------------------------------- labels (issue 17)


def test_softmax_loss_refuses_fractional_nan_and_bool_labels_instead_of_truncating():
    logits = ad.Tensor(rng().standard_normal((2, 3)))
    with pytest.raises(ValueError, match="label 0 is 0.9"):
        nn.SoftmaxLoss()(logits, [0.9, 1.9])  # was the loss of [0, 1]
    with pytest.raises(ValueError, match="label 1 is nan"):
        nn.SoftmaxLoss()(logits, ad.Tensor([0.0, np.nan], requires_grad=False))
    with pytest.raises(TypeError, match="got dtype bool"):
        nn.SoftmaxLoss()(logits, np.array([True, False]))
    with pytest.raises(TypeError, match="got dtype <U1"):
        nn.SoftmaxLoss()(logits, ["0", "1"])


def test_softmax_loss_accepts_whole_float_labels_and_a_column_of_labels():
    # ad.Tensor([0, 2]) is float64 and needle's pipelines give float labels: whole numbers pass.
    logits = ad.Tensor(rng().standard_normal((3, 4)))
    expected = float(nn.SoftmaxLoss()(logits, np.array([0, 2, 3])))
    for labels in (
        ad.Tensor([0, 2, 3], requires_grad=False),
        np.float32([0, 2, 3]),
        np.uint8([0, 2, 3]),
        [[0], [2], [3]],
    ):
        assert float(nn.SoftmaxLoss()(logits, labels)) == expected


# ------------------------------------------------------------------ state dicts


class Net(nn.Module):
    """Parameters in a Sequential, in a list and in a dict, a shared layer, and buffers."""

    def __init__(self, seed=0):
        super().__init__()
        g = np.random.default_rng(seed)
        self.features = nn.Sequential(nn.Linear(2, 4, rng=g), nn.BatchNorm1d(4), nn.ReLU())
        self.heads = [nn.Linear(4, 3, rng=g), {"extra": nn.LayerNorm1d(3)}]
        self.shared = self.heads[0]  # the same layer twice: its tensors are saved once
        self.scale = nn.Parameter(g.standard_normal(3))
        self.constant = ad.Tensor(np.ones(3), requires_grad=False)  # not state

    def forward(self, x):
        return self.heads[1]["extra"](self.shared(self.features(x))) * self.scale


STATE_KEYS = [
    "features.0.weight",
    "features.0.bias",
    "features.1.weight",
    "features.1.bias",
    "features.1.running_mean",
    "features.1.running_var",
    "heads.0.weight",
    "heads.0.bias",
    "heads.1.extra.weight",
    "heads.1.extra.bias",
    "scale",
]


def trained(seed=0):
    model = Net(seed)
    model(ad.Tensor(rng(seed + 1).standard_normal((8, 2))))  # moves the running statistics
    return model


def test_state_dict_names_parameters_and_buffers_by_attribute_path():
    model = trained()
    state = model.state_dict()
    assert list(state) == STATE_KEYS
    params = [k for k in STATE_KEYS if "running" not in k]
    assert [state[k].tolist() for k in params] == [p.numpy().tolist() for p in model.parameters()]
    bn = model.features[1]
    assert isinstance(bn.running_mean, nn.Buffer) and not bn.running_mean.requires_grad
    assert model.buffers() == [bn.running_mean, bn.running_var]
    assert not np.array_equal(state["features.1.running_mean"], np.zeros(4))
    assert state["features.1.running_var"].dtype == np.float32
    # Copies: training on does not change a state dict already taken.
    before = state["features.1.running_mean"].copy()
    model(ad.Tensor(rng(5).standard_normal((8, 2))))
    np.testing.assert_array_equal(state["features.1.running_mean"], before)
    assert list(nn.Sequential(nn.Linear(1, 1)).state_dict()) == ["0.weight", "0.bias"]


def outputs(model, x):
    return model.eval()(ad.Tensor(x, requires_grad=False)).numpy()


def test_load_state_dict_round_trip_copies_in_place():
    source, target = trained(0), Net(7)
    x = rng(3).standard_normal((5, 2))
    weight = target.features[0].weight
    opt = optim.SGD(target.parameters(), lr=0.1)
    state = source.state_dict()
    assert target.load_state_dict(state) == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(outputs(target, x), outputs(source, x))
    assert target.features[0].weight is weight and opt.params[0] is weight  # updated in place
    state["scale"][:] = 100.0  # the caller's arrays are copied, never shared
    assert np.abs(target.scale.numpy()).max() < 100


def test_load_state_dict_is_all_or_nothing():
    model = trained(0)
    before = model.state_dict()
    good = Net(7).state_dict()

    def unchanged():
        after = model.state_dict()
        assert list(after) == list(before)
        for key in before:
            np.testing.assert_array_equal(after[key], before[key])

    missing = {k: v for k, v in good.items() if k != "scale"}
    with pytest.raises(ValueError, match="missing key\\(s\\) 'scale'"):
        model.load_state_dict(missing)
    unchanged()
    with pytest.raises(ValueError, match="unexpected key\\(s\\) 'extra.weight'"):
        model.load_state_dict({**good, "extra.weight": np.zeros(2)})
    unchanged()
    wrong_shape = {**good, "scale": np.zeros(4)}  # the last key: all others would load first
    with pytest.raises(ValueError, match="'scale' has shape \\(4,\\), the model's has shape"):
        model.load_state_dict(wrong_shape)
    unchanged()
    lossy = {**good, "heads.1.extra.bias": good["heads.1.extra.bias"].astype(np.float64)}
    with pytest.raises(TypeError, match="has dtype float64, which does not convert"):
        model.load_state_dict(lossy)
    unchanged()
    with pytest.raises(TypeError, match="'scale' must be a NumPy array or a Tensor, got list"):
        model.load_state_dict({**good, "scale": [1.0, 2.0, 3.0]})
    unchanged()


def test_load_state_dict_not_strict_reports_the_keys_it_left():
    model, good = Net(0), Net(7).state_dict()
    result = model.load_state_dict({"scale": good["scale"], "other": np.zeros(1)}, strict=False)
    assert result.missing_keys == [k for k in STATE_KEYS if k != "scale"]
    assert result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(model.scale.numpy(), good["scale"])
    # Tensors are accepted as values, and lossless conversions (float16 -> float32) are made.
    model.load_state_dict({"scale": ad.Tensor(np.float16([1, 2, 3]))}, strict=False)
    assert model.scale.dtype == np.float64 and model.scale.numpy().tolist() == [1, 2, 3]


def test_parameter_and_buffer_take_tensors_keyword_arguments():
    p = nn.Parameter(ad.init.ones(2), device=ad.cpu(), dtype="float32")
    assert p.dtype == np.float32 and p.requires_grad and p.is_leaf()
    b = nn.Buffer(np.zeros(2), device=ad.cpu())
    assert not b.requires_grad and b.dtype == np.float64
