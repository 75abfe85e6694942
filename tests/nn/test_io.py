"""adjoint.io: save and load on .npz without pickle; a trained ResNet survives the round trip.

A damaged file (random bytes, truncated, a flipped byte, pickled objects inside)
is a ValueError naming the file, and the model it was meant for is left exactly
as it was; so is a file with a missing key or a wrong shape.
"""

import importlib.util
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import adjoint as ad
from adjoint import nn, optim

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_resnet_digits.py"


def digits_resnet(seed):
    """The digits example's ResNet at width 4 (conv, batch norm, residual blocks, a head)."""
    spec = importlib.util.spec_from_file_location("train_resnet_digits", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    np.random.seed(seed)
    return example.ResNet(width=4)


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 1, 8, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def trained_resnet():
    """A few Adam steps: weights and every BatchNorm's running statistics move off their init."""
    model = digits_resnet(0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    labels = np.random.default_rng(1).integers(0, 10, 16)
    for step in range(3):
        loss = nn.SoftmaxLoss()(model(ad.Tensor(images(16, step))), labels)
        opt.reset_grad()
        loss.backward(create_graph=False)
        opt.step()
    return model.eval()


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert list(after) == list(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_digits_resnet_round_trip_gives_identical_eval_outputs(trained_resnet, tmp_path):
    path = tmp_path / "resnet.npz"
    ad.save(trained_resnet.state_dict(), path)
    fresh = digits_resnet(123).eval()
    x = ad.Tensor(images(32, 9), requires_grad=False)
    expected = trained_resnet(x).numpy()
    assert not np.array_equal(fresh(x).numpy(), expected)
    state = ad.load(path)
    running = [k for k in state if k.endswith(("running_mean", "running_var"))]
    assert len(running) == 2 * 6  # every BatchNorm2d's statistics are in the file
    assert fresh.load_state_dict(state) == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(fresh(x).numpy(), expected)  # bit for bit
    assert fresh(x).dtype == expected.dtype == np.float32


def test_the_file_is_a_plain_npz_and_the_same_state_gives_the_same_bytes(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, rng=np.random.default_rng(0)), nn.BatchNorm1d(3))
    ad.save(model.state_dict(), tmp_path / "a.npz")
    ad.save(model.state_dict(), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["0.weight"], model[0].weight.numpy())
    assert set(os.listdir(tmp_path)) == {"a.npz", "b.npz"}  # no temporary file left behind


def test_tensors_arrays_nested_dicts_and_numpy_npz(tmp_path):
    t = ad.Tensor(np.float32([[1, 2], [3, 4]]), requires_grad=False)
    ad.save(t, tmp_path / "t.bin")  # the path is used as given: no .npz appended
    loaded = ad.load(tmp_path / "t.bin")
    assert isinstance(loaded, ad.Tensor) and loaded.dtype == np.float32 and not loaded.requires_grad
    np.testing.assert_array_equal(loaded.numpy(), t.numpy())
    ad.save(np.arange(5, dtype=np.int8), str(tmp_path / "a.npz"))
    array = ad.load(str(tmp_path / "a.npz"))
    assert array.dtype == np.int8 and array.tolist() == [0, 1, 2, 3, 4] and array.flags.writeable
    ad.save({"model": {"w": t, "b": np.zeros(2)}, "step": 7, "done": True}, tmp_path / "c.npz")
    state = ad.load(tmp_path / "c.npz")
    assert list(state) == ["model.w", "model.b", "step", "done"]
    assert state["step"] == 7 and state["done"].dtype == bool
    np.savez(tmp_path / "numpy.npz", x=np.eye(2), y=np.arange(3))
    assert sorted(ad.load(tmp_path / "numpy.npz")) == ["x", "y"]


def corrupt(path, data):
    good = path.read_bytes()
    rng = np.random.default_rng(0)
    flipped = bytearray(good)
    flipped[good.index(data.tobytes()) + 3] ^= 0xFF  # inside an array's data: caught by the CRC
    return {
        "random": rng.bytes(len(good)),
        "random-zip-header": b"PK\x03\x04" + rng.bytes(200),
        "truncated": good[: len(good) // 2],
        "truncated-end": good[:-10],
        "flipped": bytes(flipped),
        "empty": b"",
    }


def test_corrupted_and_truncated_files_are_value_errors_naming_the_file(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, rng=np.random.default_rng(0)), nn.BatchNorm1d(3))
    path = tmp_path / "good.npz"
    ad.save(model.state_dict(), path)
    before = snapshot(model)
    for name, content in corrupt(path, model[0].weight.numpy()).items():
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=f"load: {bad}"):
            model.load_state_dict(ad.load(bad))
        assert_unchanged(model, before)


def test_any_flipped_byte_gives_the_saved_arrays_or_a_value_error(tmp_path):
    """Flips in the zip's own bookkeeping (dates, local headers) may pass unnoticed; the
    arrays are covered by CRCs and their headers checked, so data never loads altered."""
    state = {"w": np.arange(6.0).reshape(2, 3), "b": np.float32([1, 2])}
    path = tmp_path / "good.npz"
    ad.save(state, path)
    good = path.read_bytes()
    bad = tmp_path / "bad.npz"
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 0xFF
        bad.write_bytes(flipped)
        try:
            loaded = ad.load(bad)
        except ValueError as error:
            assert str(bad) in str(error)
            continue
        assert list(loaded) == ["w", "b"], i
        for key, value in state.items():
            assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value), i


def test_a_missing_key_or_a_wrong_shape_in_a_file_leaves_the_model_unchanged(
    trained_resnet, tmp_path
):
    before = snapshot(trained_resnet)
    state = digits_resnet(5).state_dict()
    last = list(state)[-1]
    ad.save({k: v for k, v in state.items() if k != last}, tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=f"missing key\\(s\\) '{last}'"):
        trained_resnet.load_state_dict(ad.load(tmp_path / "missing.npz"))
    assert_unchanged(trained_resnet, before)
    ad.save({**state, last: np.zeros(3, np.float32)}, tmp_path / "shape.npz")
    with pytest.raises(ValueError, match=f"'{last}' has shape \\(3,\\)"):
        trained_resnet.load_state_dict(ad.load(tmp_path / "shape.npz"))
    assert_unchanged(trained_resnet, before)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_objects_inside_the_npz_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, w=np.array([Exploit()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=f"load: {path} .*'w.npy' holds Python objects"):
        ad.load(path)
    # A pickle in disguise: a pickled dict renamed .npz is not a zip file at all.
    disguised = tmp_path / "state.npz"
    disguised.write_bytes(pickle.dumps({"w": np.zeros(2)}))
    with pytest.raises(ValueError, match=f"load: {disguised} is not an .npz file"):
        ad.load(disguised)


def test_a_header_that_promises_more_data_than_the_member_holds_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    with zipfile.ZipFile(path, "w") as archive, archive.open("w.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(np.zeros(4).tobytes())
    with pytest.raises(ValueError, match="claims shape \\(1000000000000,\\) of float64"):
        ad.load(path)


@pytest.mark.parametrize(
    "call, exception, fragment",
    [
        (lambda p: ad.save([np.zeros(2)], p), TypeError, "save: obj must be a state dict"),
        (lambda p: ad.save(nn.Linear(2, 2), p), TypeError, "got Linear; save model.state_dict()"),
        (lambda p: ad.save({"w": np.zeros(2)}, 123), TypeError, "save: path must be a str"),
        (lambda p: ad.save({1: np.zeros(2)}, p), TypeError, "save: keys must be non-empty str"),
        (lambda p: ad.save({"": np.zeros(2)}, p), TypeError, "save: keys must be non-empty str"),
        (lambda p: ad.save({"a/b": np.zeros(2)}, p), ValueError, "save: key 'a/b' contains '/'"),
        (lambda p: ad.save({"w": np.array(["a"])}, p), TypeError, "'w' has dtype <U1"),
        (lambda p: ad.save({"w": np.array([None])}, p), TypeError, "'w' has dtype object"),
        (lambda p: ad.save({"w": np.array([1j])}, p), TypeError, "'w' has dtype complex128"),
        (lambda p: ad.save({"w": "text"}, p), TypeError, "save: 'w' must be an array, a Tensor"),
        (lambda p: ad.save({"w": [1, 2]}, p), TypeError, "save: 'w' must be an array, a Tensor"),
        (lambda p: ad.save({"w": 2**70}, p), TypeError, "'w' has dtype object"),
        (
            lambda p: ad.save({"a.b": np.zeros(1), "a": {"b": np.ones(1)}}, p),
            ValueError,
            "save: key 'a.b' occurs twice",
        ),
        (lambda p: ad.save({"__adjoint__": np.zeros(1)}, p), ValueError, "is reserved"),
        (
            lambda p: ad.save({"w": np.zeros(1)}, p.parent / "no" / "such.npz"),
            FileNotFoundError,
            "does not exist",
        ),
        (lambda p: ad.load(p.parent / "absent.npz"), FileNotFoundError, "absent.npz"),
        (lambda p: ad.load(None), TypeError, "load: path must be a str or os.PathLike"),
        (lambda p: ad.load(p.parent), IsADirectoryError, "Is a directory"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_arguments(tmp_path, call, exception, fragment):
    with pytest.raises(exception, match=re.escape(fragment)):
        call(tmp_path / "out.npz")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_save_interrupted_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    ad.save({"w": np.ones(2)}, path)
    write_array = np.lib.format.write_array
    calls = []

    def fail_on_the_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the record, "w", then "b"
            raise KeyboardInterrupt
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_the_second_array)
    with pytest.raises(KeyboardInterrupt):
        ad.save({"w": np.zeros(2), "b": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(ad.load(path)["w"], np.ones(2))
    assert os.listdir(tmp_path) == ["model.npz"]
