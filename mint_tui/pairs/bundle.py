"""``.mintpair`` bundles: one zip holding ``pair.toml`` and two safetensors files.

Security model: a bundle is untrusted data.  Nothing in it is ever executed or
unpickled.  :func:`inspect_bundle` checks the archive structure, the manifest,
the SHA-256 of each weights file, the safetensors header (parsed here, before
torch sees a byte) and the tensor names/shapes against the declared
architectures -- all without loading any weights.  :func:`load_pair` runs the
same checks on the very bytes it then hands to ``safetensors.torch.load``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterable

import numpy as np
import torch

from mint_tui.pairs.manifest import (
    AuditedSpec,
    Calibration,
    Manifest,
    ManifestError,
    MintSpec,
    PairInfo,
    Preprocess,
    Provenance,
    member_data_of,
    parse_manifest,
    manifest_to_toml,
)

__all__ = [
    "BUNDLE_SUFFIX",
    "MANIFEST_NAME",
    "MAX_BUNDLE_BYTES",
    "BundleError",
    "LoadedPair",
    "write_bundle",
    "inspect_bundle",
    "read_manifest",
    "load_pair",
    "file_sha256",
    "make_random_pair",
]

BUNDLE_SUFFIX = ".mintpair"
MANIFEST_NAME = "pair.toml"
CALIBRATION_SCORES_NAME = "calibration.safetensors"
#: 1-D tensors of the calibration scores file: scores and identity-group ids of each class.
CALIBRATION_SCORE_KEYS = ("member", "member_identity", "external", "external_identity")

MAX_BUNDLE_BYTES = 2 * 1024**3  # on-disk size of a whole bundle
MAX_TOTAL_UNCOMPRESSED = 2 * 1024**3  # sum of declared entry sizes
MAX_MANIFEST_BYTES = 1024**2
MAX_SAFETENSORS_HEADER = 16 * 1024**2
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, for entries > 1 MiB
_RATIO_MIN_SIZE = 1024**2
_CHUNK = 1024**2
_ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so equal inputs give equal bundles

# safetensors dtype name -> bytes per element
_ST_DTYPES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


class BundleError(ValueError):
    """A bundle is malformed, tampered with, unsafe or does not fit its manifest."""


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _fmt_keys(keys: Iterable[str], limit: int = 5) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    if len(keys) > limit:
        shown += f", ... ({len(keys) - limit} more)"
    return shown


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def _check_entry_name(name: str) -> str | None:
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


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = (info.external_attr >> 16) & 0xFFFF
    return stat.S_ISLNK(mode)


def _read_capped(
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


class _HeaderCollector:
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


def _parse_safetensors_header(
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


def _compare_state(
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
        problems.append(f"missing tensors {_fmt_keys(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {_fmt_keys(unexpected)}")
    if wrong:
        shown = "; ".join(wrong[:5]) + (f"; ... ({len(wrong) - 5} more)" if len(wrong) > 5 else "")
        problems.append(f"shape mismatch for {shown}")
    if problems:
        raise BundleError(f"{label} weights do not match the declared architecture: " + "; ".join(problems))


def _state_shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _architecture_shapes(
    manifest: Manifest,
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple], dict[str, tuple[int, ...]]]:
    """Expected state-dict shapes of both models, plus the tap shapes.

    Models are built on the ``meta`` device (no memory, no weights); if the
    tap-shape probe does not work on meta we fall back to a CPU build.
    """
    from mint_tui.models.audited import build_audited
    from mint_tui.models.mint import build_mint
    from mint_tui.models.taps import tap_shapes

    a, m = manifest.audited, manifest.mint
    input_size = tuple(a.preprocess.size)
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


@dataclass
class _Verified:
    manifest: Manifest
    bundle_sha256: str
    tap_shapes: dict[str, tuple]
    weights: dict[str, bytes] = field(default_factory=dict)


def _verify(path: str | os.PathLike[str], *, full: bool, keep_weights: bool = False) -> _Verified:
    path = Path(path)
    try:
        fh: BinaryIO = open(path, "rb")
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BundleError(f"{path}: is a directory, not a bundle") from None
    except OSError as exc:
        raise BundleError(f"{path}: cannot open: {exc.strerror or exc}") from None
    with fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise BundleError(f"{path}: not a regular file")
        if st.st_size > MAX_BUNDLE_BYTES:
            raise BundleError(f"{path}: {st.st_size} bytes is larger than the {MAX_BUNDLE_BYTES}-byte limit")
        bundle_sha = ""
        if full:
            h = hashlib.sha256()
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
            bundle_sha = h.hexdigest()
            fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh, "r")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise BundleError(f"{path}: not a .mintpair bundle (not a zip archive)") from None
        with zf:
            return _verify_zip(path, zf, bundle_sha, full=full, keep_weights=keep_weights)


def _verify_zip(path: Path, zf: zipfile.ZipFile, bundle_sha: str, *, full: bool, keep_weights: bool) -> _Verified:
    infos = zf.infolist()
    names: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        why = _check_entry_name(name)
        if why:
            raise BundleError(f"{path}: unsafe bundle: {why}")
        if info.orig_filename != name and "\\" in info.orig_filename:
            raise BundleError(f"{path}: unsafe bundle: entry {info.orig_filename!r} contains a backslash")
        if _is_symlink(info):
            raise BundleError(f"{path}: unsafe bundle: entry {name!r} is a symbolic link")
        if name.endswith("/") or info.is_dir():
            raise BundleError(f"{path}: unexpected directory entry {name!r} in bundle")
        if name in names:
            raise BundleError(f"{path}: unsafe bundle: duplicate entry {name!r}")
        if info.flag_bits & 0x1:
            raise BundleError(f"{path}: entry {name!r} is encrypted")
        if info.compress_type not in _ALLOWED_COMPRESSION:
            raise BundleError(f"{path}: entry {name!r} uses an unsupported compression method")
        names[name] = info
        total += info.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise BundleError(
                f"{path}: bundle declares more than {MAX_TOTAL_UNCOMPRESSED} bytes of content (refused)"
            )
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise BundleError(
                f"{path}: entry {name!r} has a suspicious compression ratio (possible zip bomb)"
            )

    if MANIFEST_NAME not in names:
        raise BundleError(f"{path}: missing {MANIFEST_NAME} in bundle")
    if names[MANIFEST_NAME].file_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path}: {MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES} bytes (refused)")
    raw = _read_capped(path, zf, names[MANIFEST_NAME], MAX_MANIFEST_BYTES)
    assert raw is not None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{path}: {MANIFEST_NAME} is not UTF-8 text") from None
    try:
        manifest = parse_manifest(text)
    except ManifestError as exc:
        raise BundleError(f"{path}: {exc}") from None

    wanted = {MANIFEST_NAME, manifest.audited.weights, manifest.mint.weights}
    if manifest.audited.weights == manifest.mint.weights:
        raise BundleError(f"{path}: audited.weights and mint.weights name the same file")
    scores_name = manifest.calibration.scores
    if scores_name is not None:
        if scores_name in wanted:
            raise BundleError(f"{path}: calibration.scores must name its own file")
        if scores_name not in names:
            raise BundleError(f"{path}: missing calibration scores file {scores_name!r} in bundle")
        wanted.add(scores_name)
    unexpected = sorted(set(names) - wanted)
    if unexpected:
        raise BundleError(f"{path}: unexpected entries in bundle: {_fmt_keys(unexpected)}")
    for label, fname in (("audited", manifest.audited.weights), ("mint", manifest.mint.weights)):
        if fname not in names:
            raise BundleError(f"{path}: missing {label} weights file {fname!r} in bundle")

    if not full:
        return _Verified(manifest=manifest, bundle_sha256=bundle_sha, tap_shapes={})

    found: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {}
    weights: dict[str, bytes] = {}
    for label, spec in (("audited", manifest.audited), ("mint", manifest.mint)):
        info = names[spec.weights]
        col = _HeaderCollector()
        col.keep_all = keep_weights
        _read_capped(path, zf, info, MAX_TOTAL_UNCOMPRESSED, sink=col)
        digest = col.sha.hexdigest()
        if digest != spec.sha256:
            raise BundleError(
                f"{path}: SHA-256 mismatch for {spec.weights!r} ({label} weights): manifest says "
                f"{spec.sha256}, file is {digest} -- the bundle is corrupt or was tampered with"
            )
        found[label] = _parse_safetensors_header(
            f"{path}: {spec.weights!r} ({label} weights)", bytes(col.head), col.header_len, col.too_big, col.size
        )
        if keep_weights:
            weights[label] = b"".join(col.all)
            col.all.clear()

    if scores_name is not None:
        col = _HeaderCollector()
        col.keep_all = keep_weights
        _read_capped(path, zf, names[scores_name], MAX_TOTAL_UNCOMPRESSED, sink=col)
        if col.sha.hexdigest() != manifest.calibration.scores_sha256:
            raise BundleError(f"{path}: SHA-256 mismatch for {scores_name!r} (calibration scores) -- the bundle "
                              "is corrupt or was tampered with")
        header = _parse_safetensors_header(f"{path}: {scores_name!r} (calibration scores)", bytes(col.head),
                                           col.header_len, col.too_big, col.size)
        for key in CALIBRATION_SCORE_KEYS:
            if key not in header or len(header[key][1]) != 1:
                raise BundleError(f"{path}: calibration scores lack a 1-D tensor {key!r}")
        if keep_weights:
            weights["calibration"] = b"".join(col.all)
            col.all.clear()

    audited_shapes, shapes, mint_shapes = _architecture_shapes(manifest)
    _compare_state(f"{path}: audited ({manifest.audited.arch})", audited_shapes, found["audited"])
    _compare_state(f"{path}: MINT ({manifest.mint.kind})", mint_shapes, found["mint"])
    return _Verified(manifest=manifest, bundle_sha256=bundle_sha, tap_shapes=shapes, weights=weights)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Cheap check: archive structure + manifest only (weights are not read).

    Use :func:`inspect_bundle` for the full verification.
    """
    return _verify(path, full=False).manifest


def inspect_bundle(path: str | os.PathLike[str]) -> Manifest:
    """Fully verify a bundle without loading any weights; return its manifest.

    Raises :class:`BundleError` on any defect.
    """
    return _verify(path, full=True).manifest


def _to_safetensors_bytes(state: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    try:
        return save(tensors)
    except RuntimeError:
        # e.g. tensors sharing storage: store independent copies.
        return save({k: v.clone() for k, v in tensors.items()})


def _zip_entry(zf: zipfile.ZipFile, name: str, data: bytes, compress: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compress
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3
    zf.writestr(info, data)


def _atomic_write(dest: Path, write) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh, Path(tmp))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_bundle(
    path: str | os.PathLike[str],
    manifest: Manifest,
    audited_state: dict[str, torch.Tensor],
    mint_state: dict[str, torch.Tensor],
    *,
    calibration_scores: dict[str, Any] | None = None,
    verify: bool = True,
) -> Path:
    """Write a ``.mintpair`` bundle atomically and return its path.

    The SHA-256 fields of ``manifest`` are (re)computed from the serialised
    weights.  The manifest is validated first (:class:`ManifestError`), and
    with ``verify`` (default) the finished file is fully inspected before it
    replaces ``path`` (:class:`BundleError`), so an invalid bundle is never
    left behind.
    """
    path = Path(path)
    audited_bytes = _to_safetensors_bytes(audited_state)
    mint_bytes = _to_safetensors_bytes(mint_state)
    manifest = dataclasses.replace(
        manifest,
        audited=dataclasses.replace(manifest.audited, sha256=hashlib.sha256(audited_bytes).hexdigest()),
        mint=dataclasses.replace(manifest.mint, sha256=hashlib.sha256(mint_bytes).hexdigest()),
    )
    scores_bytes = None
    if calibration_scores is not None:
        missing = [k for k in CALIBRATION_SCORE_KEYS if k not in calibration_scores]
        if missing:
            raise ValueError(f"calibration scores lack {missing}")
        scores_bytes = _to_safetensors_bytes({k: torch.as_tensor(np.asarray(calibration_scores[k])).reshape(-1)
                                              for k in CALIBRATION_SCORE_KEYS})
        manifest = dataclasses.replace(manifest, calibration=dataclasses.replace(
            manifest.calibration, scores=CALIBRATION_SCORES_NAME,
            scores_sha256=hashlib.sha256(scores_bytes).hexdigest()))
    else:
        manifest = dataclasses.replace(manifest, calibration=dataclasses.replace(
            manifest.calibration, scores=None, scores_sha256=None))
    text = manifest_to_toml(manifest)
    manifest = parse_manifest(text)  # validates; raises ManifestError
    if manifest.audited.weights == manifest.mint.weights:
        raise ManifestError(["mint.weights: must differ from audited.weights"])

    def _write(fh: BinaryIO, tmp: Path) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            _zip_entry(zf, MANIFEST_NAME, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            _zip_entry(zf, manifest.audited.weights, audited_bytes, zipfile.ZIP_STORED)
            _zip_entry(zf, manifest.mint.weights, mint_bytes, zipfile.ZIP_STORED)
            if scores_bytes is not None:
                _zip_entry(zf, CALIBRATION_SCORES_NAME, scores_bytes, zipfile.ZIP_STORED)
        if verify:
            fh.flush()
            inspect_bundle(tmp)

    _atomic_write(path, _write)
    return path


@dataclass(eq=False)
class LoadedPair:
    """An audited model and its MINT classifier, ready to score face crops."""

    manifest: Manifest
    audited: torch.nn.Module
    mint: torch.nn.Module
    taps: tuple[str, ...]
    device: torch.device
    bundle_sha256: str
    #: The calibration scores stored in the bundle (see CALIBRATION_SCORE_KEYS), if any.
    calibration_scores: dict[str, np.ndarray] | None = None
    _extractor: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from mint_tui.models.taps import TapExtractor

        wanted = self.taps if "embedding" in self.taps else (*self.taps, "embedding")
        self._extractor = TapExtractor(self.audited, list(wanted))

    @property
    def name(self) -> str:
        return self.manifest.pair.name

    def _check_batch(self, batch: torch.Tensor) -> torch.Tensor:
        if not isinstance(batch, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor batch, got {type(batch).__name__}")
        size = tuple(self.manifest.audited.preprocess.size)
        if batch.dim() != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != size:
            raise ValueError(f"expected a batch of shape [N, 3, {size[0]}, {size[1]}], got {list(batch.shape)}")
        return batch.to(self.device, dtype=torch.float32)

    def score_with_embeddings(self, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Membership probabilities [N] and audited-model embeddings [N, D]."""
        x = self._check_batch(batch)
        with torch.inference_mode():
            feats = self._extractor(x)
            logits = self.mint({t: feats[t] for t in self.taps})
            probs = torch.sigmoid(logits.float()).reshape(-1)
            emb = feats["embedding"].float().reshape(x.shape[0], -1)
        return probs.cpu().numpy(), emb.cpu().numpy()

    def score(self, batch: torch.Tensor) -> np.ndarray:
        """Membership probabilities [N] for a normalised batch [N, 3, H, W]."""
        return self.score_with_embeddings(batch)[0]


def load_pair(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedPair:
    """Verify a bundle and load both models (eval mode, on ``device``)."""
    from safetensors.torch import load as st_load

    from mint_tui.models.audited import CheckpointMismatchError, build_audited, load_state_dict_strict
    from mint_tui.models.mint import build_mint

    v = _verify(path, full=True, keep_weights=True)
    m = v.manifest
    try:
        audited = build_audited(m.audited.arch, dict(m.audited.config))
        load_state_dict_strict(audited, st_load(v.weights.pop("audited")))
        mint = build_mint(m.mint.kind, dict(v.tap_shapes), dict(m.mint.config), recorded=True)
        load_state_dict_strict(mint, st_load(v.weights.pop("mint")))
    except CheckpointMismatchError as exc:
        raise BundleError(f"{path}: weights do not fit the declared models: {exc}") from None
    scores = None
    if "calibration" in v.weights:
        scores = {k: t.numpy() for k, t in st_load(v.weights.pop("calibration")).items()}
    dev = torch.device(device)
    audited.eval().to(dev)
    mint.eval().to(dev)
    for p in (*audited.parameters(), *mint.parameters()):
        p.requires_grad_(False)
    return LoadedPair(
        manifest=m,
        audited=audited,
        mint=mint,
        taps=tuple(m.mint.taps),
        device=dev,
        bundle_sha256=v.bundle_sha256,
        calibration_scores=scores,
    )


# --------------------------------------------------------------------------
# Test / benchmark scaffolding -- never ship or present as a result
# --------------------------------------------------------------------------

RANDOM_PAIR_NOTE = "random weights, for tests only"


def make_random_pair(
    path: str | os.PathLike[str],
    name: str = "tiny-test",
    arch: str = "mobilefacenet",
    kind: str = "mlp",
    taps: tuple[str, ...] = ("layer1", "embedding"),
    seed: int = 0,
    *,
    audited_config: dict[str, Any] | None = None,
    mint_config: dict[str, Any] | None = None,
) -> Path:
    """Write a bundle with RANDOM weights (test/benchmark scaffolding only).

    Its title and description say "random weights, for tests only"; it must
    never be shipped or presented as an audit result.
    """
    from mint_tui.models.audited import ARCHITECTURES, build_audited
    from mint_tui.models.mint import build_mint, mint_config_defaults
    from mint_tui.models.taps import tap_shapes

    spec = ARCHITECTURES[arch]
    a_cfg = dict(spec.default_config)
    a_cfg.update(audited_config or {})
    m_cfg = {**mint_config_defaults(kind), **(mint_config or {})}  # recorded in full, as `train` does
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        audited = build_audited(arch, a_cfg).eval()
        with torch.no_grad():
            shapes = tap_shapes(audited, list(taps), tuple(spec.input_size))
        mint = build_mint(kind, shapes, m_cfg).eval()
    mint_spec = MintSpec(kind=kind, taps=tuple(taps), config=m_cfg, weights="mint.safetensors", sha256="0" * 64)
    manifest = Manifest(
        pair=PairInfo(
            name=name,
            title=f"{name} ({RANDOM_PAIR_NOTE})",
            description=f"{arch} + {kind} MINT with {RANDOM_PAIR_NOTE}; meaningless scores.",
        ),
        audited=AuditedSpec(
            arch=arch,
            config=a_cfg,
            weights="audited.safetensors",
            sha256="0" * 64,
            preprocess=Preprocess(size=tuple(spec.input_size)),
        ),
        mint=mint_spec,
        member_data=member_data_of(mint_spec),
        calibration=Calibration(threshold=0.5, inconclusive=(0.4, 0.6), on=f"nothing ({RANDOM_PAIR_NOTE})"),
        provenance=Provenance(
            training_data=f"none ({RANDOM_PAIR_NOTE})",
            created=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            tool_version=_tool_version(),
            notes=RANDOM_PAIR_NOTE,
        ),
    )
    return write_bundle(path, manifest, audited.state_dict(), mint.state_dict())


def _tool_version() -> str:
    try:
        from mint_tui import __version__

        return str(__version__)
    except Exception:  # pragma: no cover
        return "unknown"
