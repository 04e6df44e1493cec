"""``.mintpair`` bundles: one zip holding ``pair.toml`` and two safetensors files (the audited model may
instead be an ``.onnx`` file); reading and writing.

Security model: a bundle is untrusted data.  Nothing in it is ever executed or
unpickled.  :func:`inspect_bundle` checks the archive structure, the manifest,
the SHA-256 of each weights file, the safetensors header (parsed before torch
sees a byte, :mod:`mint_tui.pairs.verify`) and the tensor names/shapes against
the declared architectures -- all without loading any weights.
:func:`mint_tui.pairs.loaded.load_pair` runs the same checks on the very bytes
it then hands to ``safetensors.torch.load``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mint_tui.fileio import atomic_write, file_sha256
from mint_tui.pairs.manifest import ONNX_ARCH, Manifest, ManifestError, manifest_to_toml, parse_manifest
from mint_tui.pairs.verify import (ALLOWED_COMPRESSION, ID_DTYPES, MAX_BUNDLE_BYTES, MAX_COMPRESSION_RATIO,
                                   MAX_MANIFEST_BYTES, MAX_TOTAL_UNCOMPRESSED, RATIO_MIN_SIZE, SCORE_DTYPES, WEIGHT_DTYPES,
                                   BundleError, HeaderCollector, architecture_shapes, check_dtypes, check_entry_name,
                                   check_finite, compare_state, fmt_keys, is_symlink, parse_safetensors_header,
                                   read_capped, verify_onnx_entry)

if TYPE_CHECKING:
    import torch

__all__ = [
    "BUNDLE_SUFFIX",
    "MANIFEST_NAME",
    "VerifiedBundle",
    "verify_bundle",
    "write_bundle",
    "inspect_bundle",
    "read_manifest",
]

BUNDLE_SUFFIX = ".mintpair"
MANIFEST_NAME = "pair.toml"
CALIBRATION_SCORES_NAME = "calibration.safetensors"
#: 1-D tensors of the calibration scores file: scores and identity-group ids of each class.
CALIBRATION_SCORE_KEYS = ("member", "member_identity", "external", "external_identity")
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so equal inputs give equal bundles



@dataclass
class VerifiedBundle:
    manifest: Manifest
    bundle_sha256: str
    tap_shapes: dict[str, tuple]
    weights: dict[str, bytes] = field(default_factory=dict)


def verify_bundle(path: str | os.PathLike[str], *, full: bool, keep_weights: bool = False) -> VerifiedBundle:
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # opening a FIFO would block forever
            raise BundleError(f"{path}: not a regular file")
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
            bundle_sha = file_sha256(fh)
            fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh, "r")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise BundleError(f"{path}: not a .mintpair bundle (not a zip archive)") from None
        with zf:
            return _verify_zip(path, zf, bundle_sha, full=full, keep_weights=keep_weights)


def _verify_zip(path: Path, zf: zipfile.ZipFile, bundle_sha: str, *, full: bool, keep_weights: bool) -> VerifiedBundle:
    infos = zf.infolist()
    names: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        why = check_entry_name(name)
        if why:
            raise BundleError(f"{path}: unsafe bundle: {why}")
        if info.orig_filename != name and "\\" in info.orig_filename:
            raise BundleError(f"{path}: unsafe bundle: entry {info.orig_filename!r} contains a backslash")
        if is_symlink(info):
            raise BundleError(f"{path}: unsafe bundle: entry {name!r} is a symbolic link")
        if name.endswith("/") or info.is_dir():
            raise BundleError(f"{path}: unexpected directory entry {name!r} in bundle")
        if name in names:
            raise BundleError(f"{path}: unsafe bundle: duplicate entry {name!r}")
        if info.flag_bits & 0x1:
            raise BundleError(f"{path}: entry {name!r} is encrypted")
        if info.compress_type not in ALLOWED_COMPRESSION:
            raise BundleError(f"{path}: entry {name!r} uses an unsupported compression method")
        names[name] = info
        total += info.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise BundleError(
                f"{path}: bundle declares more than {MAX_TOTAL_UNCOMPRESSED} bytes of content (refused)"
            )
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise BundleError(
                f"{path}: entry {name!r} has a suspicious compression ratio (possible zip bomb)"
            )

    if MANIFEST_NAME not in names:
        raise BundleError(f"{path}: missing {MANIFEST_NAME} in bundle")
    if names[MANIFEST_NAME].file_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path}: {MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES} bytes (refused)")
    raw = read_capped(path, zf, names[MANIFEST_NAME], MAX_MANIFEST_BYTES)
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
        raise BundleError(f"{path}: unexpected entries in bundle: {fmt_keys(unexpected)}")
    for label, fname in (("audited", manifest.audited.weights), ("mint", manifest.mint.weights)):
        if fname not in names:
            raise BundleError(f"{path}: missing {label} weights file {fname!r} in bundle")

    if not full:
        return VerifiedBundle(manifest=manifest, bundle_sha256=bundle_sha, tap_shapes={})

    found: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {}
    weights: dict[str, bytes] = {}
    onnx = manifest.audited.arch == ONNX_ARCH
    if onnx:
        data = verify_onnx_entry(path, zf, names[manifest.audited.weights], manifest)
        if keep_weights:
            weights["audited"] = data
    for label, spec in (("audited", manifest.audited), ("mint", manifest.mint)):
        if label == "audited" and onnx:
            continue
        info = names[spec.weights]
        col = HeaderCollector()
        col.keep_all = True  # (read for the finiteness check; kept only with keep_weights)
        read_capped(path, zf, info, MAX_TOTAL_UNCOMPRESSED, sink=col)
        digest = col.sha.hexdigest()
        if digest != spec.sha256:
            raise BundleError(
                f"{path}: SHA-256 mismatch for {spec.weights!r} ({label} weights): manifest says "
                f"{spec.sha256}, file is {digest} -- the bundle is corrupt or was tampered with"
            )
        where = f"{path}: {spec.weights!r} ({label} weights)"
        found[label] = parse_safetensors_header(where, bytes(col.head), col.header_len, col.too_big, col.size)
        check_dtypes(where, found[label], WEIGHT_DTYPES)
        data = b"".join(col.all)
        col.all.clear()
        check_finite(where, data)
        if keep_weights:
            weights[label] = data

    if scores_name is not None:
        col = HeaderCollector()
        col.keep_all = True
        read_capped(path, zf, names[scores_name], MAX_TOTAL_UNCOMPRESSED, sink=col)
        if col.sha.hexdigest() != manifest.calibration.scores_sha256:
            raise BundleError(f"{path}: SHA-256 mismatch for {scores_name!r} (calibration scores) -- the bundle "
                              "is corrupt or was tampered with")
        header = parse_safetensors_header(f"{path}: {scores_name!r} (calibration scores)", bytes(col.head),
                                           col.header_len, col.too_big, col.size)
        where = f"{path}: {scores_name!r} (calibration scores)"
        for key in CALIBRATION_SCORE_KEYS:
            if key not in header or len(header[key][1]) != 1:
                raise BundleError(f"{path}: calibration scores lack a 1-D tensor {key!r}")
            check_dtypes(where, {key: header[key]}, ID_DTYPES if key.endswith("_identity") else SCORE_DTYPES)
        data = b"".join(col.all)
        col.all.clear()
        check_finite(where, data)
        if keep_weights:
            weights["calibration"] = data

    audited_shapes, shapes, mint_shapes = architecture_shapes(manifest)
    if not onnx:
        compare_state(f"{path}: audited ({manifest.audited.arch})", audited_shapes, found["audited"])
    compare_state(f"{path}: MINT ({manifest.mint.kind})", mint_shapes, found["mint"])
    return VerifiedBundle(manifest=manifest, bundle_sha256=bundle_sha, tap_shapes=shapes, weights=weights)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Cheap check: archive structure + manifest only (weights are not read).

    Use :func:`inspect_bundle` for the full verification.
    """
    return verify_bundle(path, full=False).manifest


def inspect_bundle(path: str | os.PathLike[str]) -> Manifest:
    """Fully verify a bundle without loading any weights; return its manifest.

    Raises :class:`BundleError` on any defect.
    """
    return verify_bundle(path, full=True).manifest


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



def write_bundle(
    path: str | os.PathLike[str],
    manifest: Manifest,
    audited_state: dict[str, torch.Tensor] | bytes,
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
    audited_bytes = audited_state if isinstance(audited_state, bytes) else _to_safetensors_bytes(audited_state)
    mint_bytes = _to_safetensors_bytes(mint_state)
    manifest = dataclasses.replace(
        manifest,
        audited=dataclasses.replace(manifest.audited, sha256=hashlib.sha256(audited_bytes).hexdigest()),
        mint=dataclasses.replace(manifest.mint, sha256=hashlib.sha256(mint_bytes).hexdigest()),
    )
    scores_bytes = None
    if calibration_scores is not None:
        import numpy as np
        import torch

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

    with atomic_write(path, binary=True, check=inspect_bundle if verify else None) as fh:
        with zipfile.ZipFile(fh, "w") as zf:
            _zip_entry(zf, MANIFEST_NAME, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            _zip_entry(zf, manifest.audited.weights, audited_bytes, zipfile.ZIP_STORED)
            _zip_entry(zf, manifest.mint.weights, mint_bytes, zipfile.ZIP_STORED)
            if scores_bytes is not None:
                _zip_entry(zf, CALIBRATION_SCORES_NAME, scores_bytes, zipfile.ZIP_STORED)
    return path

