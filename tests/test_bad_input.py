"""The bad-input catalogue: every kind of file a real folder of photos holds gets one result row with a
clear reason or a correct verdict, and the audit completes, in flat memory.

Everything is generated in temporary folders (LFW photos are read from ../shared/data/lfw and never
copied into the project); the pair has random weights, so "correct verdict" here means: the face was
found, scored, and its aligned crop is the crop of the original photo (upright, same colours).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from mint_tui.audit import AuditOptions, collect_images, run_audit
from mint_tui.faces.image import MAX_PIXELS, ImageError, check_image, cv2, decode_image, read_image_bytes
from mint_tui.faces.prepare import StageTimes
from mint_tui.pairs.loaded import load_pair
from random_pair import make_random_pair

PHOTO = "AJ_Lamas/AJ_Lamas_0001.jpg"
TINY = {"width": 0.25, "embedding_size": 32}  # as conftest's tiny_pair_bundle
SCORED = ("member", "non-member", "inconclusive")
NON_UTF8 = b"caf\xe9-\xff.jpg"  # Latin-1 bytes: not UTF-8
LONG_NAME = "l" * 251 + ".jpg"  # 255 bytes: the longest name Linux allows


# ---------------------------------------------------------------- generators
def _pil(fmt: str, image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid greyscale PNG of width x height black pixels: ~1.7 MB on disk, 1.2 GB as BGR."""
    comp, row, parts = zlib.compressobj(1), bytes(width + 1) * 500, []
    for _ in range(height // 500):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def heic_stub() -> bytes:
    """The start of a HEIC file (ISO-BMFF ftyp box, brand heic): a format OpenCV cannot read."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0\0\0\x08mdat" + bytes(200)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ga = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    gb = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    return float(np.corrcoef(ga, gb)[0, 1])


def _make_deep_folder(top: Path, depth: int = 18, part: str = "d" * 240) -> None:
    """Folders nested beyond PATH_MAX (4096 bytes), built with directory file descriptors."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(part, dir_fd=fd)
            new = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        out = os.open("hidden.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"unreachable")
        os.close(out)
    finally:
        os.close(fd)


# (file name, expected verdict, text the message must contain, or None for a scored face whose crop
# must match the reference photo's)
CATALOGUE = [
    ("00-reference.jpg", "face", None),
    ("01-zero-bytes.jpg", "error", "empty file (0 bytes)"),
    ("02-truncated.jpg", "error", "truncated JPEG"),
    ("03-truncated.png", "error", "truncated PNG"),
    ("04-text.jpg", "error", "a text file"),
    ("05-html.png", "error", "an HTML page"),
    ("06-16bit.png", "face", None),
    ("07-rgba.png", "face", None),
    ("08-palette.png", "face", None),
    ("09-greyscale.jpg", "face", None),
    ("10-cmyk.jpg", "face", None),
    ("11-exif-rotated.jpg", "face", None),
    ("12-animated.gif", "face", None),
    ("13-photo.webp", "face", None),
    ("14-photo.tiff", "face", None),
    ("15-photo.heic", "error", "HEIC/HEIF image: this build cannot decode HEIC"),
    ("16-one-pixel.png", "no-face", "no face found"),
    ("17-bomb-20000x20000.png", "error", "image too large: 20000x20000 pixels"),
    ("18-deleted.jpg", "error", "does not exist (no such file or folder)"),
    ("19-link-loop.jpg", "error", "symbolic link loop"),
    ("20-dangling-link.jpg", "error", "broken symbolic link"),
    ("21-fifo.jpg", "error", "not a regular file (a FIFO)"),
    ("22-tall-1080x33000.png", "error", "image too long: 1080x33000 pixels"),  # aborted MediaPipe's remap
    (os.fsdecode(NON_UTF8), "face", None),
    (LONG_NAME, "face", None),
]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_bomb())
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return load_pair(make_random_pair(tmp_path_factory.mktemp("pair") / "tiny-test.mintpair", audited_config=TINY))


@pytest.fixture(scope="module")
def catalogue(lfw, bomb, tmp_path_factory) -> Path:
    from PIL import Image

    d = tmp_path_factory.mktemp("catalogue")
    raw = (lfw / "images" / PHOTO).read_bytes()
    photo = Image.open(io.BytesIO(raw)).convert("RGB")
    bgr = decode_image(raw)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: "rotate 90 degrees clockwise to display"
    frames = [photo.convert("P")] * 3
    png = _pil("PNG", photo)
    content = {
        "00-reference.jpg": raw,
        "01-zero-bytes.jpg": b"",
        "02-truncated.jpg": raw[: len(raw) // 2],
        "03-truncated.png": png[: len(png) // 2],
        "04-text.jpg": b"Shopping list\n- milk\n- bread\n",
        "05-html.png": b"<!DOCTYPE html>\n<html><head><title>photo.png</title></head><body></body></html>\n",
        "06-16bit.png": cv2.imencode(".png", bgr.astype(np.uint16) * 257)[1].tobytes(),
        "07-rgba.png": _pil("PNG", photo.convert("RGBA")),
        "08-palette.png": _pil("PNG", photo.convert("P")),
        "09-greyscale.jpg": _pil("JPEG", photo.convert("L"), quality=95),
        "10-cmyk.jpg": _pil("JPEG", photo.convert("CMYK"), quality=95),
        "11-exif-rotated.jpg": _pil("JPEG", photo.transpose(Image.Transpose.ROTATE_90), exif=exif, quality=95),
        "12-animated.gif": _pil("GIF", frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0),
        "13-photo.webp": _pil("WEBP", photo, quality=95),
        "14-photo.tiff": _pil("TIFF", photo),
        "15-photo.heic": heic_stub(),
        "16-one-pixel.png": _pil("PNG", Image.new("RGB", (1, 1), (128, 128, 128))),
        "17-bomb-20000x20000.png": bomb.read_bytes(),
        "18-deleted.jpg": raw,
        "22-tall-1080x33000.png": cv2.imencode(".png", np.zeros((33000, 1080, 3), np.uint8))[1].tobytes(),
        LONG_NAME: raw,
    }
    for name, data in content.items():
        (d / name).write_bytes(data)
    with open(os.path.join(os.fsencode(d), NON_UTF8), "wb") as fh:
        fh.write(raw)
    (d / "19-link-loop.jpg").symlink_to("19-link-loop.jpg")
    (d / "20-dangling-link.jpg").symlink_to("nowhere.jpg")
    os.mkfifo(d / "21-fifo.jpg")
    (d / "sub").mkdir()
    (d / "sub" / "loop").symlink_to(d, target_is_directory=True)  # a folder loop: cut, no rows
    _make_deep_folder(d / "sub")
    return d


@pytest.fixture(scope="module")
def audited(catalogue, pair):
    """Rows of one audit of the catalogue; one file is deleted between listing and reading."""
    files, errors = collect_images([catalogue])
    (catalogue / "18-deleted.jpg").unlink()
    rows = list(run_audit(files, pair, AuditOptions(batch_size=4, keep_crops=True)))
    return files, errors, rows


def test_listing_takes_every_entry_and_cuts_loops(audited, catalogue):
    files, errors, _ = audited
    names = sorted(p.name for p in files)
    assert names == sorted(name for name, _, _ in CATALOGUE)
    # The folder nested beyond PATH_MAX is one error row with the reason, not a crash.
    assert len(errors) == 1 and "cannot list folder" in errors[0].message
    assert "too long" in errors[0].message.lower()


@pytest.mark.parametrize(("name", "verdict", "reason"), CATALOGUE, ids=[c[0][:24] for c in CATALOGUE])
def test_catalogue_row(audited, name, verdict, reason):
    _, _, rows = audited
    mine = [r for r in rows if Path(r.path).name == name]
    assert len(mine) == 1, f"{name}: expected one row, got {len(mine)}"
    row = mine[0]
    if verdict == "face":
        assert row.verdict in SCORED and 0.0 <= row.score <= 1.0, row
        assert row.face == 0 and row.box is not None and len(row.sha256) == 64
        reference = next(r for r in rows if r.path.endswith("00-reference.jpg"))
        # The same face, upright, in the same colours (greyscale and 256-colour palette lose some).
        assert _corr(row.crop, reference.crop) > 0.85, name
    else:
        assert row.verdict == verdict and row.score is None
        assert reason in row.message, (name, row.message)


def test_exif_rotated_crop_is_upright_and_box_in_display_frame(audited):
    _, _, rows = audited
    by = {Path(r.path).name: r for r in rows}
    rotated, reference = by["11-exif-rotated.jpg"], by["00-reference.jpg"]
    assert _corr(rotated.crop, reference.crop) > 0.97
    # The box is where the face is in the displayed (upright) image, i.e. where it is in the original.
    assert np.allclose(rotated.box, reference.box, atol=6)


def test_audit_completes_in_input_order(audited):
    files, errors, rows = audited
    # The audit was given the listed files: the one listing error (the folder too deep to list) is
    # not among its rows (auditing the folder itself gives it as a row: tests/test_audit.py).
    assert len(errors) == 1 and errors[0].path not in {r.path for r in rows}
    assert [r.path for r in rows] == [str(p) for p in files]


def test_cli_outputs_stay_valid_with_non_utf8_and_long_names(catalogue, pair, tmp_path, capsys):
    from mint_tui.cli import main
    from mint_tui.results import read_results

    bundle = make_random_pair(tmp_path / "tiny-test.mintpair", audited_config=TINY)
    out = {k: tmp_path / f"out.{k}" for k in ("json", "jsonl", "csv")}
    rc = main(["audit", str(catalogue), "--pair", str(bundle), "--batch-size", "4",
               *(a for k, p in out.items() for a in (f"--{k}", str(p)))])
    assert rc == 0
    for path in out.values():
        path.read_bytes().decode("utf-8")  # strictly valid UTF-8
        assert not Path(str(path) + ".partial").exists()
    doc = json.loads(out["json"].read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in out["jsonl"].read_text(encoding="utf-8").splitlines()]
    records = list(csv.DictReader(out["csv"].open(encoding="utf-8", newline="")))
    expected = len(CATALOGUE) - 1 + 1  # the deleted file is gone; the folder nested too deep is a row
    assert len(doc["results"]) == len(lines) - 2 == len(records) == expected
    assert lines[0]["layout"] == "jsonl" and lines[-1]["end"] is True and lines[-1]["interrupted"] is False
    printable = os.fsdecode(NON_UTF8).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    assert printable == "caf\\xe9-\\xff.jpg"
    for paths in ([r["path"] for r in doc["results"]], [r["path"] for r in lines[1:-1]],
                  [r["path"] for r in records]):
        assert any(p.endswith("/" + printable) for p in paths)
        assert any(p.endswith("/" + LONG_NAME) for p in paths)
    for path in out.values():
        assert len(read_results(path)[1]) == expected
    # The table on a terminal too.
    capsys.readouterr()
    assert main(["audit", os.path.join(str(catalogue), os.fsdecode(NON_UTF8)), "--pair", str(bundle)]) == 0
    assert printable in capsys.readouterr().out


# ---------------------------------------------------------------- decompression bombs
BOMB_CHECK = textwrap.dedent("""
    import os, resource, sys
    {pre}
    from mint_tui.faces.image import ImageError, load_image
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load_image(sys.argv[1])
        print("DECODED")
    except ImageError as exc:
        print("REFUSED", exc)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
""")


@pytest.mark.parametrize("pre", ["", "import cv2  # loaded before mint-tui: OpenCV's own limit is its default"])
def test_20000x20000_png_is_refused_by_the_pixel_limit_in_flat_memory(bomb, pre):
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    out = subprocess.run([sys.executable, "-c", BOMB_CHECK.format(pre=pre), str(bomb)], capture_output=True,
                         text=True, env=env, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("REFUSED image too large: 20000x20000 pixels"), out.stdout + out.stderr
    assert "before decoding" in lines[0]
    growth_mib = int(lines[-1])  # growth of the peak RSS while loading: decoded, the image is 1,144 MiB
    assert growth_mib < 32, f"peak RSS grew by {growth_mib} MiB: the image was decoded"


@pytest.mark.parametrize("fmt", ["jpeg", "gif", "bmp", "webp-lossless", "tiff", "pnm"])
def test_bombs_in_every_format_are_refused_from_the_header(fmt):
    """A small file whose header declares a huge image is refused before OpenCV sees it."""
    from PIL import Image

    small = Image.new("RGB", (16, 16), (9, 9, 9))
    if fmt == "jpeg":
        data = bytearray(_pil("JPEG", small))
        at = data.find(b"\xff\xc0")
        struct.pack_into(">HH", data, at + 5, 20000, 20000)
    elif fmt == "gif":
        data = bytearray(_pil("GIF", small.convert("P")))
        struct.pack_into("<HH", data, 6, 20000, 20000)
    elif fmt == "bmp":
        data = bytearray(_pil("BMP", small))
        struct.pack_into("<ii", data, 18, 20000, -20000)
    elif fmt == "webp-lossless":
        data = bytearray(_pil("WEBP", small, lossless=True))
        at = data.find(b"VP8L") + 9
        bits = int.from_bytes(data[at:at + 4], "little") & ~((1 << 28) - 1)
        data[at:at + 4] = (bits | 16383 - 1 | (16383 - 1) << 14).to_bytes(4, "little")
    elif fmt == "tiff":
        data = bytearray(_pil("TIFF", small))
        ifd = struct.unpack_from("<I", data, 4)[0]
        for k in range(struct.unpack_from("<H", data, ifd)[0]):
            entry = ifd + 2 + 12 * k
            tag, kind = struct.unpack_from("<HH", data, entry)
            if tag in (256, 257):
                struct.pack_into("<H" if kind == 3 else "<I", data, entry + 8, 20000)
    else:
        data = bytearray(b"P5\n20000 20000\n255\n" + bytes(64))
    with pytest.raises(ImageError, match=r"image too large: \d+x\d+ pixels .*refused before decoding"):
        check_image(bytes(data))
    assert 16383 * 16383 > MAX_PIXELS  # (the WebP maximum is over the limit too)


# ---------------------------------------------------------------- files that change under our feet
def test_file_made_unreadable_between_listing_and_reading(tmp_path, lfw):
    """chmod 000 after the listing: a 'permission denied' row. Root reads anything, so as root the
    reading runs in a child process that drops to user nobody."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="mint-unreadable-"))
    try:
        os.chmod(d, 0o755)
        photo = d / "locked.jpg"
        photo.write_bytes((lfw / "images" / PHOTO).read_bytes())
        files, _ = collect_images([d])
        assert files == [photo]
        photo.chmod(0)
        code = ("import os, sys\nfrom mint_tui.faces.prepare import ImagePreparer, PrepareSettings\n"
                "if os.geteuid() == 0:\n    os.setegid(65534)\n    os.seteuid(65534)\n"
                "item = ImagePreparer(PrepareSettings())(sys.argv[1])\nprint(item.error)\n")
        out = subprocess.run([sys.executable, "-c", code, str(photo)], capture_output=True, text=True, timeout=120)
        assert out.stdout.strip() == "permission denied", out.stdout + out.stderr
    finally:
        photo.unlink(missing_ok=True)
        d.rmdir()


def test_read_refuses_special_files_and_directories(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    with pytest.raises(ImageError, match=r"not a regular file \(a FIFO\)"):
        read_image_bytes(tmp_path / "pipe.jpg")  # opened non-blocking: never hangs
    (tmp_path / "dir.jpg").mkdir()
    with pytest.raises(ImageError, match="is a directory"):
        read_image_bytes(tmp_path / "dir.jpg")
    with pytest.raises(ImageError, match="not a regular file"):
        read_image_bytes("/dev/null")


def test_deeply_nested_folders_do_not_exhaust_the_stack(tmp_path):
    depth = 1100  # deeper than Python's recursion limit, within PATH_MAX
    fds = [os.open(tmp_path, os.O_RDONLY)]
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fds[-1])
            fds.append(os.open("a", os.O_RDONLY, dir_fd=fds[-1]))
        os.close(os.open("x.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fds[-1]))
        files, errors = collect_images([tmp_path])
        assert len(files) == 1 and files[0].name == "x.jpg" and not errors
    finally:  # remove the chain bottom-up here: recursive rmtree (pytest's cleanup) would overflow too
        with contextlib.suppress(FileNotFoundError):
            os.unlink("x.jpg", dir_fd=fds[-1])
        for parent, child in zip(reversed(fds[:-1]), reversed(fds[1:])):
            os.close(child)
            os.rmdir("a", dir_fd=parent)
        os.close(fds[0])


# ---------------------------------------------------------------- many files, flat memory
def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_folder_of_many_small_images_streams_in_flat_memory(pair, tmp_path):
    """1,000 small images (bench/throughput.py --flat 10000 runs the 10,000-image version): one row
    each, streamed to JSON Lines as the CLI does, with the RSS measured as the audit goes."""
    from mint_tui.results import audit_header, open_stream, read_results

    count = 1000
    rng = np.random.default_rng(0)
    folder = tmp_path / "many"
    for k in range(4):
        sub = folder / f"part{k}"
        sub.mkdir(parents=True)
        for i in range(count // 4):  # every file different (its own sha256), each a tiny face-less image
            tile = np.empty((16, 16, 3), np.uint8)
            tile[:] = rng.integers(0, 256, 3, dtype=np.uint8)
            tile[0, 0] = (k, i % 256, i // 256)
            (sub / f"{i:04d}.png").write_bytes(cv2.imencode(".png", tile)[1].tobytes())
    options = AuditOptions(batch_size=32)
    stream = open_stream("jsonl", str(tmp_path / "rows.jsonl"), audit_header(pair, "cpu", options))
    rss, n = {}, 0
    stats = StageTimes()
    for row in run_audit([folder], pair, options, stats=stats):
        stream.write(row)
        n += 1
        if n % (count // 10) == 0:
            rss[n] = _rss_mib()
    stream.finish()
    assert n == count
    _, rows = read_results(tmp_path / "rows.jsonl")
    assert len(rows) == count and len({r.path for r in rows}) == count  # one row each
    assert {r.verdict for r in rows} <= {"no-face", *SCORED}  # (BlazeFace sees a "face" in the odd tile)
    assert len({r.sha256 for r in rows}) == count
    stages = stats.snapshot()  # per-stage timing (what bench/throughput.py prints) saw every image
    assert all(stages[k][1] == count for k in ("read", "decode", "detect", "align"))
    scored = sum(r.score is not None for r in rows)
    assert stages.get("forward", (0, 0))[1] == stages.get("mint", (0, 0))[1] == scored
    growth = rss[count] - rss[count // 5]
    assert growth < 16, f"RSS grew by {growth:.0f} MiB over {count * 4 // 5} images: {rss}"
