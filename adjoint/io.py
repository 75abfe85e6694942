"""Saving and loading state dicts, tensors and arrays as ``.npz`` files, never with pickle.

>>> import os, tempfile, adjoint as ad
>>> from adjoint import nn
>>> model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> ad.save(model.state_dict(), path)
>>> nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).load_state_dict(ad.load(path))
IncompatibleKeys(missing_keys=[], unexpected_keys=[])

The file is an ordinary ``.npz`` (``np.load(path)`` reads it): one ``.npy``
member per array, named by its key, and a member ``__adjoint__`` that records,
as a JSON string, what was saved (a dict, a Tensor or an array) and the keys.
Reading it runs no pickle at all: a member holding Python objects is refused,
and so is a member whose header promises more data than it holds (nothing is
allocated from an untrusted size). Any file that cannot be read completely is a
``ValueError`` naming the file: the zip's CRCs cover every array, and the
recorded keys catch a damaged directory that would hide members. A model is
changed only by ``load_state_dict``, after every key, shape and dtype has been
checked.

Writing goes to a temporary file in the same directory, renamed over ``path``
at the end, so an interrupted save never leaves a truncated file behind (nor
destroys an earlier one). ``path`` is used as given: no ``.npz`` is appended.
The same state always gives the same bytes (the members carry a fixed date).
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from adjoint.nn import Module
from adjoint.tensor import Tensor

__all__ = ["save", "load"]

META = "__adjoint__"
VERSION = 1
_KINDS = "biuf"  # the dtypes a Tensor holds: bool, integers, floating point


def _path(path: Any, owner: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{owner}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"{owner}: path must be a str or os.PathLike of str, got bytes {path!r}")
    if not path:
        raise ValueError(f"{owner}: path is empty; give a file name such as 'model.npz'")
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{owner}: {path}: Is a directory; give a file name such as 'model.npz'"
        )
    return path


def _array(value: Any, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value.numpy()
    elif isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        array = np.asarray(value)
    else:
        raise TypeError(
            f"save: {key!r} must be an array, a Tensor or a number, got {type(value).__name__}"
        )
    if array.dtype.kind not in _KINDS:
        raise TypeError(
            f"save: {key!r} has dtype {array.dtype}; only bool, integer and floating-point "
            "arrays are saved (no pickle)"
        )
    return array


def _flatten(state: Mapping, prefix: str, out: dict[str, np.ndarray]) -> None:
    """Nested dicts become dotted keys: ``{"a": {"b": x}}`` -> ``{"a.b": x}``."""
    for key, value in state.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty str, got {key!r}")
        if any(c in key for c in "/\\\0"):
            raise ValueError(f"save: key {key!r} contains '/', '\\' or NUL")
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(value, name, out)
            continue
        if name in out or name == META:
            raise ValueError(f"save: key {name!r} occurs twice (or is reserved)")
        out[name] = _array(value, name)


def save(obj: Mapping[str, Any] | Tensor | np.ndarray, path: str | os.PathLike) -> None:
    """Write a state dict (str -> array or Tensor, nested dicts allowed), a Tensor or an array.

    >>> import os, tempfile, numpy as np, adjoint as ad
    >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
    >>> ad.save({"w": np.eye(2), "opt": {"step": 3}}, path)
    >>> sorted(ad.load(path))
    ['opt.step', 'w']
    """
    path = _path(path, "save")
    meta: dict[str, Any] = {"format": "adjoint", "version": VERSION}
    if isinstance(obj, Tensor):
        meta.update(kind="tensor", requires_grad=bool(obj.requires_grad))
        arrays = {"data": _array(obj, "data")}
    elif isinstance(obj, (np.ndarray, np.generic)):
        meta["kind"] = "array"
        arrays = {"data": _array(obj, "data")}
    elif isinstance(obj, Mapping):
        meta["kind"] = "dict"
        arrays = {}
        _flatten(obj, "", arrays)
    else:
        hint = "; save model.state_dict()" if isinstance(obj, Module) else ""
        raise TypeError(
            "save: obj must be a state dict (str -> array or Tensor), a Tensor or a NumPy "
            f"array, got {type(obj).__name__}{hint}"
        )
    meta["keys"] = list(arrays)  # checked on load: a damaged directory can hide members
    members = {META: np.array(json.dumps(meta)), **arrays}
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory} of {path} does not exist")
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as file, zipfile.ZipFile(file, "w") as archive:
            for name, array in members.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with archive.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, checked against its own header before anything is allocated."""
    fmt = np.lib.format
    with archive.open(info) as member:
        version = fmt.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(member)
        else:
            raise ValueError(f"member {info.filename!r} has .npy version {version}")
        if dtype.hasobject:
            raise ValueError(
                f"member {info.filename!r} holds Python objects (pickled data), which are "
                "never loaded"
            )
        if dtype.kind not in _KINDS + "U":
            raise ValueError(f"member {info.filename!r} has unsupported dtype {dtype}")
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if info.file_size - member.tell() != size:
            raise ValueError(
                f"member {info.filename!r} claims shape {shape} of {dtype} ({size} bytes) but "
                f"holds {info.file_size - member.tell()} bytes"
            )
        data = member.read()  # to the end, so that zipfile checks the CRC
    if len(data) != size:
        raise ValueError(f"member {info.filename!r} is truncated")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")  # a writable copy


def _read(file: Any) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise ValueError("two members have the same name")
        arrays = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not a .npy array")
            arrays[info.filename[: -len(".npy")]] = _read_member(archive, info)
        return arrays


def load(path: str | os.PathLike) -> dict[str, np.ndarray] | Tensor | np.ndarray:
    """Read what :func:`save` wrote: a dict of arrays (dotted keys), a Tensor or an array.

    A ``.npz`` written by NumPy's ``savez`` loads as a dict of its arrays. A
    file that is not a complete ``.npz`` of numeric arrays (random bytes, a
    truncated or corrupted file, a member holding pickled objects) is a
    ``ValueError`` naming the file; a missing file is ``FileNotFoundError``.
    """
    path = _path(path, "load")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    with open(path, "rb") as file:
        head = file.read(4)
        file.seek(0)
        if head[:2] != b"PK":
            raise ValueError(
                f"load: {path} is not an .npz file (it starts with {head!r}, not a zip header)"
            )
        try:
            arrays = _read(file)
        except Exception as error:  # zipfile, zlib, numpy's header parser: all mean unreadable
            raise ValueError(f"load: {path} is not a readable .npz file: {error}") from error
    if META not in arrays:
        return arrays
    try:
        meta = json.loads(str(arrays.pop(META)))
        kind = meta["kind"]
        if meta.get("format") != "adjoint" or kind not in ("dict", "tensor", "array"):
            raise ValueError(f"unknown contents {meta!r}")
        if meta.get("version") != VERSION:
            raise ValueError(f"format version {meta.get('version')!r}; this adjoint reads 1")
        keys = meta["keys"]
        if sorted(keys) != sorted(arrays) or (kind != "dict" and keys != ["data"]):
            raise ValueError(f"it lists the arrays {keys} but holds {list(arrays)}")
        arrays = {key: arrays[key] for key in keys}
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"load: {path} has an invalid {META} record: {error}") from error
    if kind == "tensor":
        return Tensor(arrays["data"], requires_grad=bool(meta.get("requires_grad", False)))
    if kind == "array":
        return arrays["data"]
    return arrays
