"""Image loading: bytes on disk -> an upright 8-bit BGR array, or a clear ImageError.

OpenCV decodes everything (JPEG, PNG, WebP, TIFF, GIF, BMP, ...). `IMREAD_COLOR` applies the
EXIF orientation and converts greyscale, RGBA/palette and 16-bit images to 8-bit BGR. A pixel
limit (checked by OpenCV from the header, before the pixel data is decoded) refuses
decompression bombs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: Largest image (in pixels) that is decoded at all; 100 MP covers every camera sold today.
MAX_PIXELS = 100_000_000
#: Largest file read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024

# OpenCV reads this once, at its first decode: it must be set before that.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".pgm", ".ppm", ".pnm", ".jp2", ".heic", ".heif", ".avif"}
)


class ImageError(Exception):
    """The file could not be turned into an image; the message says why."""


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def decode_image(data: bytes) -> np.ndarray:
    """Decode encoded image bytes to an upright uint8 BGR array of shape (H, W, 3)."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV raises for the pixel limit and some corrupt headers
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else "decoder error"
        if "pixel" in str(exc).lower() or "CV_IO_MAX_IMAGE" in str(exc):
            raise ImageError(f"image too large: over the {MAX_PIXELS:,}-pixel limit") from None
        raise ImageError(f"cannot decode image: {text}") from None
    if image is None or image.size == 0:
        raise ImageError("not a decodable image (unknown format or corrupt data)")
    return image


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read one image file's bytes; raises ImageError with a reason a person can act on."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(f"file too large ({size:,} bytes; limit {MAX_FILE_BYTES:,})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError("file not found (moved or deleted?)") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except IsADirectoryError:
        raise ImageError("is a directory") from None
    except OSError as exc:
        raise ImageError(f"cannot read file: {exc.strerror or exc}") from None
    return data


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read and decode one image file; raises ImageError with a reason a person can act on."""
    return decode_image(read_image_bytes(path))
