"""Count the parameters of a saved Keras model from the shapes of its weights, without loading it.

A hand-in model file is hostile data. Loading it with Keras would deserialize its config (and start
TensorFlow, ~10 s); an honest custom layer would not even load without its class. This module never
imports TensorFlow or Keras and never executes or deserializes anything: it opens the weights file
with h5py and sums the sizes of the weight tensors' shapes. It reads no tensor data at all.

* ``.keras`` (Keras 3): a zip archive of ``config.json``, ``metadata.json`` and ``model.weights.h5``.
  The archive's directory is checked (members, sizes, compression ratio) before ``model.weights.h5``
  is read into memory, never past its declared size nor ``max_bytes``. Every dataset counts except the
  optimizer's state: the ``optimizer`` group of the model, and of a compiled model nested inside it.
  Layers save exactly ``trainable + non-trainable`` variables, the ones ``model.count_params()``
  counts; metrics and the seed generators of Dropout / random augmentation layers are not saved.
* legacy HDF5 (``model.save("m.h5")``): the datasets under ``model_weights`` (not
  ``optimizer_weights``); a weights-only ``.weights.h5``: every dataset but the optimizer's.

Refused with ModelFileError (a message the student can act on): a symlink, FIFO or other non-regular
file, a file over ``max_bytes``, something neither a zip nor HDF5, an archive without
``model.weights.h5`` or with a suspicious directory (zip bomb), HDF5 soft / external / user-defined
links, virtual datasets, hard-link cycles, more than MAX_OBJECTS objects, and shapes summing to more
than MAX_PARAMETERS values.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import h5py

from grader import safe_files

WEIGHTS_MEMBER = "model.weights.h5"
MAX_PARAMETERS = 10**12  # more values than this is no real model (4 TB of float32)
MAX_MEMBERS = 1_000  # a .keras archive holds 3 files, plus the assets of a few layers
MAX_DIRECTORY_BYTES = 1 << 20  # the zip's central directory
MAX_RATIO = 100  # uncompressed / compressed size of model.weights.h5 (Keras stores it uncompressed)
RATIO_FREE_BYTES = 16 << 20  # below this size any compression ratio is allowed
MAX_OBJECTS = 100_000  # HDF5 links walked
MAX_DEPTH = 64  # HDF5 group nesting
_CHUNK = 1 << 20
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SAVE_HINT = "save the model itself with model.save(MODEL_PATH)"


class ModelFileError(ValueError):
    """The model file cannot be read safely; the message says why, for the student."""


def count_parameters(path: Path | str, *, max_bytes: int = 1 << 30) -> int:
    """The number of values in the weights of the model saved at ``path`` (``model.count_params()``).

    Raises ModelFileError when the file cannot be read safely.
    """
    path = Path(path)
    name = path.name
    try:
        fd = safe_files.open_regular(path)
    except safe_files.UnsafeFile as exc:
        raise ModelFileError(f"{exc}: {_SAVE_HINT}") from None
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ModelFileError(f"{name} is {size:,} bytes, over the limit of {max_bytes:,} bytes")
        head = f.read(8)
        f.seek(0)
        if head.startswith(b"PK"):
            weights = _weights_member(f, size, name, max_bytes)
            return _count_hdf5(weights, f"{WEIGHTS_MEMBER} inside {name}")
        if head == _HDF5_MAGIC:
            return _count_hdf5(f, name)
    raise ModelFileError(f"{name} is neither a Keras archive (.keras) nor an HDF5 file (.h5): {_SAVE_HINT}")


# --- the zip archive -------------------------------------------------------------------------------

def _check_end_record(f: io.BufferedReader, size: int, name: str) -> None:
    """Check the zip's end-of-directory record before zipfile parses the directory it points to."""
    damaged = f"{name} is not a complete zip archive (truncated or damaged): {_SAVE_HINT}"
    tail_len = min(size, 22 + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    f.seek(0)
    pos = tail.rfind(b"PK\x05\x06")  # where zipfile looks for it too
    if pos < 0 or len(tail) - pos < 22:
        raise ModelFileError(damaged)
    _, _, _, n_here, n_total, directory_size, _, _ = struct.unpack("<4s4H2LH", tail[pos:pos + 22])
    if pos >= 20 and tail[pos - 20:pos - 16] == b"PK\x06\x07":
        raise ModelFileError(f"{name} is a ZIP64 archive, which a model under the size limit never is: "
                             f"{_SAVE_HINT}")
    if max(n_here, n_total) > MAX_MEMBERS or directory_size > MAX_DIRECTORY_BYTES:
        raise ModelFileError(f"{name} lists {max(n_here, n_total):,} files ({directory_size:,} bytes of "
                             f"directory), more than a Keras archive holds: {_SAVE_HINT}")


def _weights_member(f: io.BufferedReader, size: int, name: str, max_bytes: int) -> io.BytesIO:
    """model.weights.h5 of the archive, read into memory with every limit checked first."""
    _check_end_record(f, size, name)
    try:
        archive = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise ModelFileError(f"{name} is not a readable zip archive ({exc}): {_SAVE_HINT}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"{name} holds {len(infos):,} files, more than a Keras archive holds")
        declared = sum(info.file_size for info in infos)
        if declared > max_bytes:
            raise ModelFileError(f"{name} would expand to {declared:,} bytes, over the limit of "
                                 f"{max_bytes:,} bytes")
        matches = [info for info in infos if info.filename == WEIGHTS_MEMBER]
        if not matches:
            raise ModelFileError(f"{name} holds no {WEIGHTS_MEMBER}: it is not a Keras 3 model archive; "
                                 f"{_SAVE_HINT}")
        if len(matches) > 1:
            raise ModelFileError(f"{name} holds {WEIGHTS_MEMBER} {len(matches)} times: {_SAVE_HINT}")
        info = matches[0]
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{WEIGHTS_MEMBER} inside {name} is encrypted: {_SAVE_HINT}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{WEIGHTS_MEMBER} inside {name} uses an unusual compression "
                                 f"(method {info.compress_type}): {_SAVE_HINT}")
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ModelFileError(
                f"{WEIGHTS_MEMBER} inside {name} would expand {info.file_size / max(info.compress_size, 1):,.0f}"
                f" times ({info.compress_size:,} -> {info.file_size:,} bytes), which model weights never do: "
                f"refusing a possible zip bomb; {_SAVE_HINT}")
        cap = min(info.file_size, max_bytes)  # never read past what the directory declares
        buffer, total = io.BytesIO(), 0
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > cap:
                        raise ModelFileError(f"{WEIGHTS_MEMBER} inside {name} holds more than the "
                                             f"{cap:,} bytes its archive declares: {_SAVE_HINT}")
                    buffer.write(chunk)
        except ModelFileError:
            raise
        except Exception as exc:  # BadZipFile (bad CRC, truncated), zlib.error, EOFError, ...
            raise ModelFileError(f"{WEIGHTS_MEMBER} inside {name} is damaged ({type(exc).__name__}: "
                                 f"{str(exc)[:200]}): {_SAVE_HINT}") from None
    buffer.seek(0)
    return buffer


# --- the HDF5 weights file --------------------------------------------------------------------------

def _count_hdf5(fileobj, name: str) -> int:
    try:
        h5 = h5py.File(fileobj, "r")
    except Exception as exc:
        raise ModelFileError(f"{name} is not a readable HDF5 file ({str(exc)[:200]}): {_SAVE_HINT}") from None
    try:
        with h5:
            top = _children(h5, name, "")
            if "model_weights" in top:  # legacy full-model .h5: optimizer_weights sits beside it
                group = top["model_weights"]
                if not isinstance(group, h5py.Group):
                    raise ModelFileError(f"{name}: model_weights is not a group: {_SAVE_HINT}")
                return _sum_shapes(group, name, "model_weights", skip_optimizers=False)
            return _sum_shapes(h5, name, "", skip_optimizers=True)
    except ModelFileError:
        raise
    except Exception as exc:  # whatever a crafted file makes libhdf5 / h5py raise
        raise ModelFileError(f"{name} is a damaged HDF5 file ({type(exc).__name__}: {str(exc)[:200]}): "
                             f"{_SAVE_HINT}") from None


def _children(group: h5py.Group, name: str, where: str) -> dict[str, h5py.Group | h5py.Dataset]:
    """The hard-linked children of group; any other kind of link is refused, never followed."""
    if len(group) > MAX_OBJECTS:
        raise ModelFileError(f"{name} holds more than {MAX_OBJECTS:,} objects, more than a model has")
    children = {}
    for key in group:
        link = group.get(key, getlink=True)
        path = f"{where}/{key}".lstrip("/")
        if isinstance(link, h5py.ExternalLink):
            raise ModelFileError(f"{name}: {path} links to another file ({link.filename!r}), which Keras "
                                 f"never writes: {_SAVE_HINT}")
        if not isinstance(link, h5py.HardLink):
            raise ModelFileError(f"{name}: {path} is a soft or user-defined link, which Keras never "
                                 f"writes: {_SAVE_HINT}")
        obj = group.get(key)
        if isinstance(obj, h5py.Dataset) and obj.id.get_create_plist().get_layout() == h5py.h5d.VIRTUAL:
            raise ModelFileError(f"{name}: {path} is a virtual dataset (its values live in other files), "
                                 f"which Keras never writes: {_SAVE_HINT}")
        children[key] = obj
    return children


def _is_optimizer(group: h5py.Group) -> bool:
    """A nested compiled model's ``optimizer`` group, recognized by its first variable: the optimizer's
    iteration counter, an integer scalar (a layer's first variable practically never is)."""
    link = group.get("vars", getlink=True)
    if not isinstance(link, h5py.HardLink) or not isinstance(group.get("vars"), h5py.Group):
        return False
    variables = group["vars"]
    link = variables.get("0", getlink=True)
    if not isinstance(link, h5py.HardLink) or not isinstance(variables.get("0"), h5py.Dataset):
        return False
    first = variables["0"]
    return first.shape == () and first.dtype.kind in "iu"


def _sum_shapes(root: h5py.Group, name: str, where: str, *, skip_optimizers: bool) -> int:
    total = objects = 0
    seen = {root.id}
    stack = [(root, where, 0)]
    while stack:
        group, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelFileError(f"{name}: groups nested more than {MAX_DEPTH} deep at {path}")
        children = _children(group, name, path)
        objects += len(children)
        if objects > MAX_OBJECTS:
            raise ModelFileError(f"{name} holds more than {MAX_OBJECTS:,} objects, more than a model has")
        for key, obj in sorted(children.items()):
            child = f"{path}/{key}".lstrip("/")
            if obj.id in seen:  # Keras links every object once; a second link could be a cycle
                raise ModelFileError(f"{name}: {child} links an object a second time, which Keras never "
                                     f"writes: {_SAVE_HINT}")
            seen.add(obj.id)
            if isinstance(obj, h5py.Group):
                if skip_optimizers and (
                        (group == root and key in ("optimizer", "optimizer_weights"))
                        or (key == "optimizer" and _is_optimizer(obj))):
                    continue
                stack.append((obj, child, depth + 1))
            elif isinstance(obj, h5py.Dataset):
                total += _size(obj, name, child)
                if total > MAX_PARAMETERS:
                    raise ModelFileError(f"{name} declares more than {MAX_PARAMETERS:,} weight values in "
                                         f"all (at {child}), which no real model has: {_SAVE_HINT}")
            # a committed datatype holds no weights
    return total


def _size(dataset: h5py.Dataset, name: str, path: str) -> int:
    shape = dataset.shape  # metadata only; the tensor's data is never read
    if shape is None:  # an empty (null) dataspace
        return 0
    n = 1
    for dim in shape:
        n *= int(dim)
        if n > MAX_PARAMETERS:
            raise ModelFileError(f"{name}: {path} has shape {tuple(shape)}, more than {MAX_PARAMETERS:,} "
                                 f"values, which no real model has: {_SAVE_HINT}")
    return n
