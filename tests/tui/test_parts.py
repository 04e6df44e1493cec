"""The TUI's parts without a running app: settings, the image renderer, the core bridge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.segment import Segment

from mint_tui.options import DEFAULT_ALPHA
from mint_tui.tui import core
from mint_tui.tui.images import HALF_BLOCK, choose_image_mode, fit_cells, halfblock_lines, resample
from mint_tui.tui.session import common_folder
from mint_tui.tui.settings import Settings, load_settings, save_settings, settings_path


def test_tui_modules_do_not_import_heavy_libraries():
    code = ("import sys; import mint_tui.tui.app, mint_tui.tui.screens.help, mint_tui.tui.screens.export, "
            "mint_tui.tui.screens.pick_file; "
            "heavy = [m for m in ('torch', 'mediapipe', 'cv2', 'numpy', 'mint_tui.audit', 'mint_tui.pairs.loaded', "
            "'mint_tui.results', 'mint_tui.pairs') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ settings
def test_settings_round_trip_and_bad_values(home):
    assert load_settings() == Settings()  # no file yet
    s = Settings(last_folder="/x", device="cpu", faces="all", batch_size=7, theme="nord", pair="p")
    assert save_settings(s)
    assert load_settings() == s
    assert settings_path() == Path("home") / "config" / "tui.json"
    settings_path().write_text('{"device": "tpu", "faces": 3, "batch_size": true, "theme": "", "extra": 1,'
                               ' "last_folder": 5, "pair": "ok"}')
    assert load_settings() == Settings(pair="ok")
    settings_path().write_text("not json")
    assert load_settings() == Settings()
    for bad in ("0", "1", "-0.1", "true", '"0.05"', "NaN"):
        settings_path().write_text(f'{{"alpha": {bad}}}')
        assert load_settings().alpha == DEFAULT_ALPHA, bad
    settings_path().write_text('{"alpha": 0.01}')
    assert load_settings().alpha == 0.01


def test_settings_in_an_unwritable_place_do_not_raise(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert save_settings(Settings(), blocker / "sub" / "tui.json") is False


# ------------------------------------------------------------------ half blocks
def test_fit_cells_keeps_the_shape():
    assert fit_cells(100, 100, 40, 20) == (40, 20)  # square: 40 columns x 40 half-block pixels
    assert fit_cells(200, 100, 40, 20) == (40, 10)
    assert fit_cells(100, 200, 40, 20) == (20, 20)
    assert fit_cells(0, 10, 40, 20) == (0, 0)
    assert fit_cells(10, 10, 0, 5) == (0, 0)


def test_resample_averages_when_shrinking_and_repeats_when_growing():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2, :2] = 200
    small = resample(img, 2, 2)
    assert small.shape == (2, 2, 3)
    assert small[0, 0].tolist() == [200, 200, 200] and small[1, 1].tolist() == [0, 0, 0]
    big = resample(img[:1, :1], 3, 2)
    assert big.shape == (2, 3, 3) and (big == 200).all()
    assert resample(img, 3, 3).shape == (3, 3, 3)


def test_halfblock_cells_have_the_top_pixel_as_foreground_and_the_bottom_as_background():
    img = np.zeros((2, 2, 3), np.uint8)
    img[0, :] = (255, 0, 0)  # top row red
    img[1, :] = (0, 0, 255)  # bottom row blue
    img[:, 1] = (0, 255, 0)  # right column green
    lines = halfblock_lines(img, 2, 1)
    assert len(lines) == 1
    cells = [(seg.text, seg.style) for seg in lines[0]]
    assert "".join(t for t, _ in cells) == HALF_BLOCK * 2
    (_, left), (_, right) = cells
    assert left.color.triplet == (255, 0, 0) and left.bgcolor.triplet == (0, 0, 255)
    assert right.color.triplet == (0, 255, 0) and right.bgcolor.triplet == (0, 255, 0)
    flat = np.full((8, 8, 3), 9, np.uint8)
    merged = halfblock_lines(flat, 4, 2)
    assert all(len(line) == 1 and line[0] == Segment(HALF_BLOCK * 4, line[0].style) for line in merged)


def test_image_mode_is_halfblock_in_tmux_tests_and_plain_terminals():
    assert choose_image_mode({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux"}, isatty=True) == "halfblock"
    assert choose_image_mode({"TERM": "xterm-kitty"}, isatty=False) == "halfblock"
    assert choose_image_mode({"TERM": "xterm-256color"}, isatty=True) == "halfblock"
    assert choose_image_mode({"TERM": "xterm-kitty", "MINT_TUI_IMAGES": "halfblock"}, isatty=True) == "halfblock"
    assert choose_image_mode({"TERM": "dumb", "MINT_TUI_IMAGES": "graphics"}, isatty=True) == "halfblock"


def test_graphics_widget_renders_where_a_terminal_would_show_it():
    """textual-image's widget (used in Kitty/Sixel terminals) takes our pictures (smoke test)."""
    pytest.importorskip("textual_image")
    from mint_tui.tui.images import to_pil

    img = to_pil(np.zeros((4, 6, 3), np.uint8))
    assert img.size == (6, 4) and img.mode == "RGB"


# ------------------------------------------------------------------ paths, counting
def test_common_folder():
    assert common_folder(["/a/b/x.png", "/a/b/c/y.png"]) == "/a/b"
    assert common_folder(["/a/b"]) == "/a"
    assert common_folder([]) == ""
    assert common_folder(["rel/x", "/abs/y"]) == ""


def test_count_images_like_the_audit_collects_them(tmp_path):
    from mint_tui.imagefiles import count_images

    (tmp_path / "d" / "e").mkdir(parents=True)
    for name in ("d/a.jpg", "d/b.PNG", "d/c.txt", "d/e/f.webp", "lone.dat"):
        (tmp_path / name).write_bytes(b"x")
    paths = [tmp_path / "d", tmp_path / "lone.dat"]
    assert count_images(paths) == 4
    assert count_images(paths, limit=2) == 2
    assert count_images(paths, cancelled=lambda: True) == 1  # checked after each file
    from mint_tui.audit import collect_images

    files, errors = collect_images(paths)
    assert sorted(files) == sorted([tmp_path / "d/a.jpg", tmp_path / "d/b.PNG", tmp_path / "d/e/f.webp",
                                    tmp_path / "lone.dat"]) and not errors


def test_pair_cache_loads_once(tiny_pair_bundle):
    cache = core.PairCache()
    first = cache.load(tiny_pair_bundle, "cpu")
    assert cache.load(tiny_pair_bundle, "cpu") is first
