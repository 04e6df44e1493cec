"""Checks on untrusted ``.mintpair`` bytes, made before torch sees any of them.

Zip hardening (entry names, links, sizes, compression ratios, capped reads), safetensors headers
parsed here (dtypes, shapes, offsets that tile the data exactly) and the tensor names/shapes
compared with the declared architectures built on the ``meta`` device. :mod:`mint_tui.pairs.bundle`
walks a bundle with these; nothing here is ever executed or unpickled.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from mint_tui.pairs.manifest import ONNX_ARCH, Manifest

if TYPE_CHECKING:
    import torch

MAX_BUNDLE_BYTES = 2 * 1024**3  # on-disk size of a whole bundle
MAX_TOTAL_UNCOMPRESSED = 2 * 1024**3  # sum of declared entry sizes
MAX_MANIFEST_BYTES = 1024**2
MAX_SAFETENSORS_HEADER = 16 * 1024**2
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, for entries > 1 MiB
RATIO_MIN_SIZE = 1024**2
ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 1024**2

# safetensors dtype name -> bytes per element
_ST_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


# What loading accepts: weights are copied into float32 models (integer BatchNorm counters);
# calibration scores become numpy arrays (numpy has no bfloat16 or float8).
WEIGHT_DTYPES = frozenset({"F16", "BF16", "F32", "F64", "I32", "I64"})
SCORE_DTYPES = frozenset({"F16", "F32", "F64"})
ID_DTYPES = frozenset({"I8", "I16", "I32", "I64", "U8", "U16", "U32"})
# Float dtype -> (numpy dtype to view the bytes as, exponent mask: all ones is inf or NaN; None: np.isfinite)
_FLOAT_BITS = {"F16": ("<u2", 0x7C00), "BF16": ("<u2", 0x7F80), "F32": ("<f4", None), "F64": ("<f8", None)}


def check_dtypes(label: str, tensors: dict[str, tuple[str, tuple[int, ...]]], allowed: frozenset[str]) -> None:
    """Refuse tensors stored in a dtype loading cannot take (it would crash every audit later)."""
    for name, (dtype, _shape) in tensors.items():
        if dtype not in allowed:
            raise BundleError(f"{label}: tensor {name!r} is stored as {dtype}, which this tool cannot load (use "
                              f"{', '.join(sorted(allowed))})")


def check_finite(label: str, data: bytes) -> None:
    """Refuse NaN or infinite values in a (header-checked) safetensors file, read as raw numbers
    (nothing is deserialised): a pair with them scores NaN for every face."""
    import numpy as np

    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    for name, meta in header.items():
        bits = _FLOAT_BITS.get(meta.get("dtype")) if isinstance(meta, dict) else None
        if bits is None:
            continue
        begin, end = meta["data_offsets"]
        raw = np.frombuffer(data, dtype=bits[0], count=(end - begin) // np.dtype(bits[0]).itemsize,
                            offset=8 + n + begin)
        bad = not np.isfinite(raw).all() if bits[1] is None else bool(((raw & bits[1]) == bits[1]).any())
        if bad:
            raise BundleError(f"{label}: tensor {name!r} holds NaN or infinite values; the bundle is broken "
                              "(a pair with them scores NaN for every face)")


class BundleError(ValueError):
    """A bundle is malformed, tampered with, unsafe or does not fit its manifest."""



def fmt_keys(keys: Iterable[str], limit: int = 5) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    if len(keys) > limit:
        shown += f", ... ({len(keys) - limit} more)"
    return shown


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def check_entry_name(name: str) -> str | None:
    """Return why an entry name is unsafe, or None."""
    if not name:
        return "empty entry name"
    if "\\" in name:
        return f"entry {name!r} contains a backslash"
    if "\x00" in name:
        return f"entry {name!r} contains a NUL byte"
    if name.startswith("/"):
        return f"entry {name!r} is an absolute path"
    if _DRIVE_RE.match(name):
        return f"entry {name!r} has a drive letter"
    parts = name.split("/")
    if ".." in parts:
        return f"entry {name!r} escapes the bundle ('..')"
    if any(p in ("", ".") for p in parts[:-1]):
        return f"entry {name!r} has an empty or '.' path component"
    return None


def is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = (info.external_attr >> 16) & 0xFFFF
    return stat.S_ISLNK(mode)


def read_capped(
    where: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, sink=None
) -> bytes | None:
    """Read an entry, refusing more than ``cap`` bytes or a size != declared.

    With ``sink`` the chunks are passed to it instead of being collected.
    """
    total = 0
    chunks: list[bytes] = []
    try:
        with zf.open(info, "r") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > cap or total > info.file_size:
                    raise BundleError(
                        f"{where}: entry {info.filename!r} decompresses to more than its declared "
                        f"{info.file_size} bytes (possible zip bomb)"
                    )
                if sink is None:
                    chunks.append(chunk)
                else:
                    sink(chunk)
    except BundleError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as exc:  # fmt: skip
        raise BundleError(f"{where}: entry {info.filename!r} is corrupt: {exc}") from None
    except Exception as exc:  # zlib.error and friends
        raise BundleError(f"{where}: entry {info.filename!r} is corrupt: {exc}") from None
    if total != info.file_size:
        raise BundleError(
            f"{where}: entry {info.filename!r} is {total} bytes but declares {info.file_size} (truncated or corrupt)"
        )
    return None if sink is not None else b"".join(chunks)


class HeaderCollector:
    """Streams a safetensors file: hashes everything, keeps the header bytes."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.header_len: int | None = None
        self.too_big = False
        self.done = False
        self.keep_all = False
        self.all: list[bytes] = []

    def __call__(self, chunk: bytes) -> None:
        self.sha.update(chunk)
        self.size += len(chunk)
        if self.keep_all:
            self.all.append(chunk)
        if self.done:
            return
        self.head += chunk
        if self.header_len is None and len(self.head) >= 8:
            (n,) = struct.unpack("<Q", bytes(self.head[:8]))
            self.header_len = n
            if n > MAX_SAFETENSORS_HEADER:
                self.too_big = True
                self.done = True
                del self.head[8:]
                return
        if self.header_len is not None and len(self.head) >= 8 + self.header_len:
            del self.head[8 + self.header_len :]
            self.done = True


def parse_safetensors_header(
    label: str, head: bytes, header_len: int | None, too_big: bool, size: int
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Validate a safetensors header; return name -> (dtype, shape)."""
    not_st = f"{label} is not a safetensors file"
    if header_len is None or size < 8:
        raise BundleError(f"{not_st} (too short)")
    if too_big:
        raise BundleError(f"{not_st} (header length {header_len} is implausible)")
    if 8 + header_len > size:
        raise BundleError(f"{not_st} (header length {header_len} exceeds the file size)")
    raw = bytes(head[8 : 8 + header_len])
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BundleError(f"{not_st} (header is not JSON)") from None
    if not isinstance(header, dict):
        raise BundleError(f"{not_st} (header is not a JSON object)")
    data_len = size - 8 - header_len
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    spans: list[tuple[int, int, str]] = []
    for name, meta in header.items():
        if name == "__metadata__":
            if not isinstance(meta, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
            ):
                raise BundleError(f"{not_st} (bad __metadata__)")
            continue
        if not isinstance(meta, dict) or set(meta) != {"dtype", "shape", "data_offsets"}:
            raise BundleError(f"{not_st} (bad entry for tensor {name!r})")
        dtype, shape, offs = meta["dtype"], meta["shape"], meta["data_offsets"]
        if dtype not in _ST_DTYPES:
            raise BundleError(f"{label}: tensor {name!r} has unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise BundleError(f"{not_st} (bad shape for tensor {name!r})")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
        ):
            raise BundleError(f"{not_st} (bad data_offsets for tensor {name!r})")
        begin, end = offs
        numel = 1
        for d in shape:
            numel *= d
        if not 0 <= begin <= end <= data_len or end - begin != numel * _ST_DTYPES[dtype]:
            raise BundleError(f"{not_st} (inconsistent data_offsets for tensor {name!r})")
        tensors[name] = (dtype, tuple(shape))
        spans.append((begin, end, name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise BundleError(f"{not_st} (tensor data overlaps or leaves gaps at {name!r})")
        pos = end
    if pos != data_len:
        raise BundleError(f"{not_st} (trailing bytes after tensor data)")
    return tensors


def compare_state(
    label: str, expected: dict[str, tuple[int, ...]], found: dict[str, tuple[str, tuple[int, ...]]]
) -> None:
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    wrong = [
        f"{k!r} (expected {list(expected[k])}, found {list(found[k][1])})"
        for k in expected
        if k in found and tuple(found[k][1]) != tuple(expected[k])
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {fmt_keys(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {fmt_keys(unexpected)}")
    if wrong:
        shown = "; ".join(wrong[:5]) + (f"; ... ({len(wrong) - 5} more)" if len(wrong) > 5 else "")
        problems.append(f"shape mismatch for {shown}")
    if problems:
        raise BundleError(f"{label} weights do not match the declared architecture: " + "; ".join(problems))


def _state_shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def architecture_shapes(
    manifest: Manifest,
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple], dict[str, tuple[int, ...]]]:
    """Expected state-dict shapes of both models, plus the tap shapes.

    Models are built on the ``meta`` device (no memory, no weights); if the
    tap-shape probe does not work on meta we fall back to a CPU build.
    """
    import torch

    from mint_tui.models.audited import build_audited
    from mint_tui.models.mint import build_mint
    from mint_tui.models.taps import tap_shapes

    a, m = manifest.audited, manifest.mint
    input_size = tuple(a.preprocess.size)
    if a.arch == ONNX_ARCH:  # declared in the manifest; load_pair checks them against the graph's
        shapes = {k: tuple(a.config["shapes"][k]) for k in m.taps}
        try:
            with torch.device("meta"):
                mint_shapes = _state_shapes(build_mint(m.kind, dict(shapes), dict(m.config), recorded=True))
        except Exception as exc:
            raise BundleError(f"cannot build MINT model {m.kind!r} with mint.config {m.config!r}: {exc}") from None
        return {}, shapes, mint_shapes
    try:
        try:
            with torch.device("meta"):
                audited = build_audited(a.arch, dict(a.config))
                audited_shapes = _state_shapes(audited)
                shapes = tap_shapes(audited, list(m.taps), input_size)
        except BundleError:
            raise
        except Exception:
            # Fall back to a real (randomly initialised) CPU model.
            with torch.no_grad():
                audited = build_audited(a.arch, dict(a.config))
                audited_shapes = _state_shapes(audited)
                shapes = tap_shapes(audited, list(m.taps), input_size)
        del audited
    except Exception as exc:
        raise BundleError(
            f"cannot build audited architecture {a.arch!r} with audited.config {a.config!r}: {exc}"
        ) from None
    shapes = {k: tuple(v) for k, v in shapes.items()}
    try:
        with torch.device("meta"):
            mint = build_mint(m.kind, dict(shapes), dict(m.config), recorded=True)
            mint_shapes = _state_shapes(mint)
    except Exception as exc:
        raise BundleError(f"cannot build MINT model {m.kind!r} with mint.config {m.config!r}: {exc}") from None
    return audited_shapes, shapes, mint_shapes



def verify_onnx_entry(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, manifest: Manifest) -> bytes:
    """An ONNX audited model: size cap, SHA-256, then the graph checks of ``check_onnx_entry`` (opset
    range, standard operators, no external data, the tensors the manifest names). Returns its bytes."""
    from mint_tui.models.audited.onnx_model import MAX_ONNX_BYTES, OnnxError, check_onnx_entry

    spec = manifest.audited
    if info.file_size > MAX_ONNX_BYTES:
        raise BundleError(f"{path}: {spec.weights!r} is larger than the {MAX_ONNX_BYTES}-byte limit for ONNX models")
    data = read_capped(path, zf, info, MAX_ONNX_BYTES)
    assert data is not None
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise BundleError(f"{path}: SHA-256 mismatch for {spec.weights!r} (audited weights): manifest says "
                          f"{spec.sha256}, file is {digest} -- the bundle is corrupt or was tampered with")
    try:
        check_onnx_entry(data, spec.config, f"{path}: {spec.weights!r}")
    except OnnxError as exc:
        raise BundleError(str(exc)) from None
    return data
