"""Reads a PyTorch checkpoint into numpy arrays without importing torch.

The classifier's weights ship as a `.pth` file, and installing torch (hundreds of MB, or several
GB for the default CUDA build) only to read 4.7 M floats would make the first `models build` on a
fresh machine slow. A checkpoint is a pickle whose tensors point at raw little-endian storages, so
a restricted unpickler that knows the two torch callables involved is enough. Only the names below
are resolved; anything else in the pickle is refused, so a malicious file cannot run code.

Both layouts torch writes are handled: the legacy one (a sequence of pickles followed by the raw
storages, torch < 1.6) and the zip one (`data.pkl` + `data/<key>` members, torch >= 1.6).
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _TensorRef:
    """A tensor whose storage bytes are read after the pickle (legacy layout)."""

    def __init__(self, storage_key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...]):
        self.storage_key, self.offset, self.size, self.stride = storage_key, offset, tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO):
        super().__init__(file)
        self.storages: dict[str, np.dtype] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a checkpoint")

    def persistent_load(self, pid: Any) -> str:
        # legacy: ('storage', type, key, location, numel, view_metadata); zip: ('storage', type, key, location, numel)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key = pid[1], str(pid[2])
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        self.storages[key] = storage_type.dtype
        return key


def _materialise(obj: Any, storages: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, _TensorRef):
        base = storages[obj.storage_key]
        itemsize = base.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[obj.offset:], shape=obj.size, strides=tuple(s * itemsize for s in obj.stride))
        return np.array(view, copy=True)
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _materialise(v, storages)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v, storages) for v in obj)
    return obj


def _load_legacy(f: BinaryIO) -> Any:
    magic = pickle.load(f)
    if magic != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch checkpoint (bad magic number)")
    pickle.load(f)  # protocol version
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian", True):
        raise ValueError("big-endian checkpoints are not supported")
    unpickler = _Unpickler(f)
    root = unpickler.load()
    keys = pickle.load(f)
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        dtype = unpickler.storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        storages[key] = np.frombuffer(f.read(numel * dtype.itemsize), dtype=dtype.newbyteorder("<"))
    return _materialise(root, storages)


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[: -len("data.pkl")]
        unpickler = _Unpickler(io.BytesIO(zf.read(pkl)))
        root = unpickler.load()
        storages = {key: np.frombuffer(zf.read(f"{prefix}data/{key}"), dtype=dtype.newbyteorder("<"))
                    for key, dtype in unpickler.storages.items()}
    return _materialise(root, storages)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as numpy arrays, keyed as in the torch state dict."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        obj = _load_zip(path)
    else:
        with open(path, "rb") as f:
            obj = _load_legacy(f)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    return obj
