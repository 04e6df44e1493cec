"""Image loading: bytes on disk -> an upright 8-bit BGR array, or a clear ImageError.

OpenCV decodes everything (JPEG, PNG, WebP, TIFF, GIF, BMP, AVIF, JPEG 2000, ...). `IMREAD_COLOR`
applies the EXIF orientation and converts greyscale, CMYK, RGBA/palette and 16-bit images to 8-bit
BGR (an animated GIF gives its first frame).

Decompression bombs are refused before any pixel is decoded, twice over: :func:`sniff_image`
reads the width and height from the file's own header (every format this OpenCV build decodes)
and refuses more than :data:`MAX_PIXELS`; OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``,
set here before cv2 is first imported) backs it up. Our check does not depend on import order:
OpenCV reads its limit once, when cv2 is loaded, and ``import mediapipe`` loads cv2.

Files that are not images get a reason a person can act on (empty, HTML, text, HEIC, truncated).
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import struct
from dataclasses import dataclass

import numpy as np

#: Largest image (in pixels) that is decoded at all; 100 MP covers every camera sold today.
MAX_PIXELS = 100_000_000
#: Longest side (in pixels) of an image that is decoded: MediaPipe's detector remaps the image with
#: OpenCV, which asserts (and aborts the whole process) on a side of SHRT_MAX = 32,767 px or more.
MAX_SIDE = 32_766
#: Largest file read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024

# OpenCV reads this once, when cv2 is loaded: it must be set before that (sniff_image enforces
# MAX_PIXELS whatever happened first).
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402

# OpenCV's own warnings (e.g. "OpenCV TIFF: ... can not handle images with 32-bit samples") would reach
# the terminal; every failure is reported in the image's row instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


class ImageError(Exception):
    """The file could not be turned into an image; the message says why."""


# ---------------------------------------------------------------- header sniffing
@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg", "png", ...
    width: int | None  # None: the header does not say (left to OpenCV's own limit)
    height: int | None


_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2")
_AVIF_BRANDS = (b"avif", b"avis")
_NAMES = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "webp": "WebP", "tiff": "TIFF", "pnm": "PNM",
          "pfm": "PFM", "hdr": "Radiance HDR", "sunras": "Sun raster", "jp2": "JPEG 2000", "avif": "AVIF"}


def _be(data: bytes, fmt: str, offset: int) -> tuple:
    return struct.unpack_from(">" + fmt, data, offset)


def _jpeg_size(data: bytes) -> tuple[int | None, int | None, int | None]:
    """(width, height, offset of the first SOS) from the markers of a JPEG."""
    i, n = 2, len(data)
    width = height = None
    while i + 4 <= n:
        if data[i] != 0xFF:  # tolerate junk between segments, as libjpeg does (skipped at C speed)
            i = data.find(b"\xff", i)
            if i < 0:
                break
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker == 0xD9:  # end of image before any scan
            break
        if marker == 0xDA:
            return width, height, i
        (length,) = _be(data, "H", i + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= n and width is None:
            height, width = _be(data, "HH", i + 5)
        i += 2 + length
    return width, height, None


def _tiff_size(data: bytes) -> tuple[int | None, int | None]:
    order = "<" if data[:2] == b"II" else ">"
    if len(data) < 8:
        return None, None
    (magic,) = struct.unpack_from(order + "H", data, 2)
    if magic == 43:  # BigTIFF
        if len(data) < 16:
            return None, None
        (ifd,) = struct.unpack_from(order + "Q", data, 8)
        entry, count_fmt, head = 20, "Q", 8
    else:
        (ifd,) = struct.unpack_from(order + "I", data, 4)
        entry, count_fmt, head = 12, "H", 2
    if ifd + head > len(data):
        return None, None
    (count,) = struct.unpack_from(order + count_fmt, data, ifd)
    width = height = None
    for k in range(min(count, 4096)):
        e = ifd + head + entry * k
        if e + entry > len(data):
            break
        tag, typ = struct.unpack_from(order + "HH", data, e)
        if tag not in (256, 257):
            continue
        value_at = e + (12 if magic == 43 else 8)  # after tag, type and count
        if typ == 3:
            (value,) = struct.unpack_from(order + "H", data, value_at)
        elif typ == 4:
            (value,) = struct.unpack_from(order + "I", data, value_at)
        elif typ == 16 and magic == 43:
            (value,) = struct.unpack_from(order + "Q", data, value_at)
        else:
            continue
        if tag == 256:
            width = value
        else:
            height = value
    return width, height


def _pnm_size(data: bytes) -> tuple[int | None, int | None]:
    head = data[:4096]
    if head[:2] == b"P7":  # PAM: WIDTH / HEIGHT lines
        fields = dict(line.split(None, 1) for line in head.split(b"\n")[1:] if len(line.split(None, 1)) == 2)
        try:
            return int(fields.get(b"WIDTH", b"")), int(fields.get(b"HEIGHT", b""))
        except ValueError:
            return None, None
    tokens: list[bytes] = []
    for line in head[2:].split(b"\n"):
        tokens += line.split(b"#", 1)[0].split()
        if len(tokens) >= 2:
            break
    try:
        return int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        return None, None


def _hdr_size(data: bytes) -> tuple[int | None, int | None]:
    lines = data[:8192].split(b"\n")
    for k, line in enumerate(lines):
        if line.strip() == b"" and k + 1 < len(lines):
            parts = lines[k + 1].split()
            if len(parts) == 4:
                try:
                    return int(parts[3]), int(parts[1])  # "-Y H +X W"
                except ValueError:
                    return None, None
    return None, None


def _box_search(data: bytes, name: bytes, fmt: str, offset: int) -> tuple | None:
    at = data.find(name, 0, 1 << 16)
    if at < 0 or at + offset + struct.calcsize(">" + fmt) > len(data):
        return None
    return _be(data, fmt, at + offset)


def sniff_image(data: bytes) -> ImageInfo:
    """The format and (where its header says) the size of encoded image bytes, or ImageError for
    bytes that are not an image this tool can decode. Reads headers only."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    head = data[:64]
    try:
        if head.startswith(b"\xff\xd8\xff"):
            w, h, _ = _jpeg_size(data)
            return ImageInfo("jpeg", w, h)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            if len(data) < 24 or data[12:16] != b"IHDR":
                raise ImageError("truncated or corrupt PNG file (no image header)")
            w, h = _be(data, "II", 16)
            return ImageInfo("png", w, h)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack_from("<HH", data, 6) if len(data) >= 10 else (None, None)
            return ImageInfo("gif", w, h)
        if head.startswith(b"BM") and len(data) >= 26:
            (dib,) = struct.unpack_from("<I", data, 14)
            if dib == 12:
                w, h = struct.unpack_from("<HH", data, 18)
            else:
                w, h = struct.unpack_from("<ii", data, 18)
            return ImageInfo("bmp", abs(w), abs(h))
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            chunk = head[12:16]
            if chunk == b"VP8X" and len(data) >= 30:
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
            elif chunk == b"VP8L" and len(data) >= 25:
                bits = int.from_bytes(data[21:25], "little")
                w, h = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            elif chunk == b"VP8 " and len(data) >= 30:
                w, h = (v & 0x3FFF for v in struct.unpack_from("<HH", data, 26))
            else:
                w = h = None
            return ImageInfo("webp", w, h)
        if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            return ImageInfo("tiff", *_tiff_size(data))
        if head[:2] in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6", b"P7") and head[2:3] in (b"\n", b" ", b"\r", b"\t"):
            return ImageInfo("pnm", *_pnm_size(data))
        if head[:2] in (b"PF", b"Pf") and head[2:3] in (b"\n", b" ", b"\r"):
            return ImageInfo("pfm", *_pnm_size(data))
        if head.startswith((b"#?RADIANCE", b"#?RGBE")):
            return ImageInfo("hdr", *_hdr_size(data))
        if head.startswith(b"\x59\xa6\x6a\x95") and len(data) >= 12:
            return ImageInfo("sunras", *_be(data, "II", 4))
        if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
            hw = _box_search(data, b"ihdr", "II", 4)
            return ImageInfo("jp2", *(reversed(hw) if hw else (None, None)))
        if head.startswith(b"\xff\x4f\xff\x51") and len(data) >= 16:  # raw JPEG 2000 codestream (SIZ)
            xs, ys, xo, yo = _be(data, "IIII", 8)
            return ImageInfo("jp2", xs - xo, ys - yo)
        if head[4:8] == b"ftyp":
            brands = {head[8:12]} | {head[k:k + 4] for k in range(16, min(len(head), 8 + _be(data, "I", 0)[0]), 4)}
            if brands & set(_AVIF_BRANDS):
                wh = _box_search(data, b"ispe", "II", 8)
                return ImageInfo("avif", *(wh if wh else (None, None)))
            if brands & set(_HEIF_BRANDS):
                raise ImageError("HEIC/HEIF image: this build cannot decode HEIC; convert it to JPEG or PNG")
    except struct.error:
        raise ImageError("truncated or corrupt image file (header cut short)") from None
    raise ImageError(_not_an_image(data))


def _not_an_image(data: bytes) -> str:
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:256]:
        return "not a decodable image: an HTML page (saved from a browser?)"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "not a decodable image: an SVG drawing (vector graphics); export it as PNG"
    if text.startswith(b"%pdf"):
        return "not a decodable image: a PDF document"
    if text.startswith(b"pk\x03\x04"):
        return "not a decodable image: a zip archive"
    try:
        data[:1024].decode("utf-8")
        return "not a decodable image: a text file"
    except UnicodeDecodeError:
        return "not a decodable image (unknown file format)"


def check_image(data: bytes) -> ImageInfo:
    """:func:`sniff_image` plus the pixel limit and truncation checks; raises ImageError."""
    info = sniff_image(data)
    name = _NAMES.get(info.format, info.format)
    if info.width is not None and info.height is not None:
        if info.width <= 0 or info.height <= 0:
            raise ImageError(f"corrupt {name} file: its header says {info.width}x{info.height} pixels")
        if info.width * info.height > MAX_PIXELS:
            raise ImageError(f"image too large: {info.width}x{info.height} pixels is over the {MAX_PIXELS:,}-pixel "
                             "limit (refused before decoding)")
        _check_sides(info.width, info.height)
    if info.format == "jpeg":
        _, _, sos = _jpeg_size(data)
        if sos is None or data.rfind(b"\xff\xd9") < sos:
            raise ImageError("truncated JPEG file: the image data ends before the end-of-image marker")
    elif info.format == "png" and data.rfind(b"IEND", len(data) - 4096 if len(data) > 4096 else 0) < 0:
        raise ImageError("truncated PNG file: no end-of-image (IEND) chunk")
    return info


def _check_sides(width: int, height: int) -> None:
    if max(width, height) > MAX_SIDE:
        raise ImageError(f"image too long: {width}x{height} pixels; a side over {MAX_SIDE:,} px is not supported "
                         "(the face detector cannot take it); crop or downscale the image")


# ---------------------------------------------------------------- decoding
def decode_image(data: bytes) -> np.ndarray:
    """Decode encoded image bytes to an upright uint8 BGR array of shape (H, W, 3)."""
    info = check_image(data)
    name = _NAMES.get(info.format, info.format)
    # Float formats (PFM, float TIFF, HDR) keep their depth (IMREAD_COLOR alone truncates 0..1 floats
    # to black, or refuses float TIFF) and are scaled to 8 bits below.
    flags = cv2.IMREAD_COLOR | (cv2.IMREAD_ANYDEPTH if info.format in _FLOAT_FORMATS else 0)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error as exc:  # OpenCV raises for its pixel limit and some corrupt headers
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else "decoder error"
        if "pixel" in str(exc).lower() or "CV_IO_MAX_IMAGE" in str(exc):
            raise ImageError(f"image too large: over the {MAX_PIXELS:,}-pixel limit") from None
        raise ImageError(f"cannot decode {name} image: {text}") from None
    if image is None or image.size == 0:
        if not _opencv_reads(info.format):
            raise ImageError(f"{name} images are not supported by this build's image decoder (OpenCV "
                             f"{cv2.__version__}); convert it to JPEG or PNG")
        raise ImageError(f"corrupt or truncated {name} file (the decoder could not read it)")
    _check_sides(image.shape[1], image.shape[0])  # for formats whose header did not say
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype == np.uint16:
        image = cv2.convertScaleAbs(image, alpha=255.0 / 65535.0)
    elif image.dtype.kind == "f":  # 0..1 (PFM, float TIFF) or radiance (HDR): clipped to 8 bits
        image = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        scale = 255.0 if image.size and float(image.max()) <= 1.0 else 1.0
        image = np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


_FLOAT_FORMATS = frozenset({"pfm", "tiff", "hdr"})
_BUILD_LABELS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF", "jp2": "JPEG 2000",
                 "avif": "AVIF", "hdr": "HDR", "sunras": "SUNRASTER", "pnm": "PXM", "pfm": "PFM"}


@functools.cache
def _opencv_reads(fmt: str) -> bool:
    """Whether this OpenCV build has a decoder for the format (its build information says so)."""
    label = _BUILD_LABELS.get(fmt)
    if label is None:
        return True
    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key.strip() == label:
            return value.strip().upper() not in ("NO", "")
    return True


_ERRNO_REASONS = {
    errno.ENOENT: "does not exist (no such file or folder)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symbolic link loop",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EIO: "input/output error (damaged disk or network share?)",
}


def _os_reason(exc: OSError) -> str:
    return _ERRNO_REASONS.get(exc.errno, f"cannot read file: {exc.strerror or exc}")


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read one image file's bytes; raises ImageError with a reason a person can act on.

    Only regular files are read (a FIFO, socket or device named like a photo would block or never
    end); the size limit holds even for a file that grows while it is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise ImageError("broken symbolic link (its target is missing)") from None
        raise ImageError(_ERRNO_REASONS[errno.ENOENT]) from None
    except OSError as exc:
        raise ImageError(_os_reason(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ImageError("is a directory")
        if not stat.S_ISREG(st.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
            raise ImageError(f"not a regular file ({kind})")
        if st.st_size > MAX_FILE_BYTES:
            raise ImageError(f"file too large ({st.st_size:,} bytes; limit {MAX_FILE_BYTES:,})")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(max(st.st_size - total, 0) + 1, MAX_FILE_BYTES + 1 - total) or 1)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise ImageError(f"file too large (over the {MAX_FILE_BYTES:,}-byte limit)")
    except OSError as exc:
        raise ImageError(_os_reason(exc)) from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read and decode one image file; raises ImageError with a reason a person can act on."""
    return decode_image(read_image_bytes(path))
