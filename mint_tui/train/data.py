"""Image lists for training and evaluation: a folder, or a list file of paths."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mint_tui import cache as disk_cache
from mint_tui.faces import CropCache, PrepareSettings, prepare_images
from mint_tui.fileio import file_sha256
from mint_tui.imagefiles import find_images, is_image_name


class TrainingDataError(ValueError):
    """The images given cannot train, calibrate or evaluate a pair (too few, one class, members that
    are external photos, no face found, a list that is not a list); the message says what to give."""


class ImageListError(TrainingDataError):
    """An image list cannot be read as one (an image, not text, a folder that cannot be listed in full)."""


def read_image_list(spec: str | Path, root: str | Path | None = None) -> list[Path]:
    """A folder (recursive, sorted) or a text file with one path per line ('#' comments; a line
    may name a folder, whose images are taken).

    Relative paths in a list file are resolved against ``root`` (default: the list file's folder).
    Paths that do not exist are kept (they count as unreadable) with one warning saying where they
    were looked for; a list of which none exists raises FileNotFoundError, and an image given as the
    list, a file that is not text or a folder (``spec`` or one below it) that cannot be listed in
    full raise :class:`ImageListError`, each saying what to do.
    """
    spec = Path(spec)
    if spec.is_dir():
        return _folder_images(spec)
    if not spec.is_file():
        raise FileNotFoundError(f"no such folder or list file: {spec}")
    if is_image_name(spec):
        raise ImageListError(f"{spec} is an image, not a list: give a folder of images or a text file with one image "
                         "path per line")
    base = Path(root) if root is not None else spec.parent
    try:
        text = spec.read_text(encoding="utf-8-sig")  # (a byte-order mark is not part of the first path)
    except UnicodeDecodeError:
        raise ImageListError(f"{spec} is not a text list (not UTF-8): give a folder of images or a text file with one "
                         "image path per line") from None
    paths: list[Path] = []
    missing = 0
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            p = Path(line)
            p = p if p.is_absolute() else base / p
            if p.is_dir():
                paths += _folder_images(p)
                continue
            missing += not p.exists()
            paths.append(p)
    if paths and missing == len(paths):
        raise FileNotFoundError(f"none of the {missing} paths listed in {spec} exists (relative paths were looked for "
                                f"under {base}; give --root FOLDER if they are relative to another folder)")
    if missing:
        logging.getLogger("mint_tui").warning(
            "warning: %d of the %d paths listed in %s do not exist (relative paths were looked for under %s); "
            "they are counted as unreadable", missing, len(paths), spec, base)
    return paths


def _folder_images(folder: Path) -> list[Path]:
    """A folder's images (recursive, sorted); a folder below it that cannot be listed is refused,
    as leaving it out would silently change the data set."""
    files, problems = find_images([folder])
    if problems:
        raise ImageListError("; ".join(f"{where}: {why}" for where, why in problems))
    return files


def split_provenance(specs: dict[str, str | Path], root: str | Path | None = None) -> dict[str, str]:
    """How a pair names its training and evaluation lists: relative to the data set's root (the
    deepest folder holding all of them and ``root``), each list file with its sha256, so that the
    manifest records which data was used and nothing about the machine that built it."""
    paths = {key: Path(spec).resolve() for key, spec in specs.items()}
    anchors = [p if p.is_dir() else p.parent for p in paths.values()]
    if root is not None:
        anchors.append(Path(root).resolve())
    base = Path(os.path.commonpath(anchors)) if anchors else Path("/")
    if base == Path(base.anchor):  # nothing in common but the file system's root: plain names
        base = None
    out: dict[str, str] = {}
    for key, path in paths.items():
        out[key] = (path.relative_to(base) if base else Path(path.name)).as_posix()
        if path.is_file():
            out[f"{key}_sha256"] = file_sha256(path)
    return out


def identity_of(path: Path) -> str:
    """LFW-style identity: the name of the folder holding the photo."""
    return Path(path).parent.name


@dataclass
class FaceSet:
    """Aligned crops of a list of images (largest face each); images with no face are counted."""

    paths: list[Path]  # images that gave a face, in list order
    shas: list[str]
    crops: np.ndarray  # (N, H, W, 3) uint8 BGR, memory-mapped from an anonymous file in the cache folder
    no_face: list[Path]
    errors: list[tuple[Path, str]]

    def __len__(self) -> int:
        return len(self.paths)


def load_faces(paths: list[Path], settings: PrepareSettings, workers: int = 2, progress=None,
               cache_root: Path | None = None) -> FaceSet:
    """Detect + align (cached on disk by content hash and settings) through the audit's own code path.

    The crops are written to a file that is deleted when the array is (nothing of that size stays
    in memory: 37 KB per 112x112 face)."""
    root = Path(cache_root or disk_cache.cache_root())
    cache = CropCache(root / "crops", settings)
    scratch: Path | None = root / "tmp"
    try:
        scratch.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable cache (the crop cache then warns once and is skipped)
        scratch = None
    kept, shas, no_face, errors = [], [], [], []
    h, w = settings.size
    with tempfile.TemporaryFile(dir=scratch) as fh:
        for i, item in enumerate(prepare_images(paths, settings, workers=workers, cache=cache)):
            if item.error:
                errors.append((item.path, item.error))
            elif not item.faces:
                no_face.append(item.path)
            else:
                kept.append(item.path)
                shas.append(item.sha256)
                fh.write(np.ascontiguousarray(item.faces[0].crop, dtype=np.uint8).tobytes())
            if progress is not None:
                progress(i + 1, len(paths))
        fh.flush()
        array = (np.memmap(fh, dtype=np.uint8, mode="r", shape=(len(kept), h, w, 3)) if kept
                 else np.zeros((0, h, w, 3), np.uint8))
    disk_cache.enforce_limit(root=root)
    return FaceSet(kept, shas, array, no_face, errors)


class Rows:
    """Several arrays read as one along their first axis, without copying them (slices and index arrays)."""

    def __init__(self, *arrays: np.ndarray) -> None:
        self.arrays = arrays
        self.starts = np.cumsum([0, *(len(a) for a in arrays)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, key) -> np.ndarray:
        idx = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        which = np.searchsorted(self.starts, idx, side="right") - 1
        out = [self.arrays[k][idx[which == k] - self.starts[k]] for k in range(len(self.arrays))]
        parts = np.concatenate(out)
        order = np.argsort(np.argsort(which, kind="stable"), kind="stable")
        return parts[order]
