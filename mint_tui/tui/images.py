"""Pixels in the terminal.

Two ways: the half-block renderer here (each cell is ``▀`` with the top pixel as foreground and the
bottom pixel as background; works in every true-colour terminal, tmux and tests) and, where the
terminal speaks a graphics protocol (Kitty's or Sixel), real pixels through ``textual-image``.

The graphics protocol has to be detected by asking the terminal *before* Textual starts reading
stdin, so :func:`choose_image_mode` runs in :func:`mint_tui.tui.app.run_app`. Anything unusual
(tmux/screen, no tty, ``MINT_TUI_IMAGES=halfblock``) keeps the half-block renderer.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style

if TYPE_CHECKING:
    import numpy as np

HALF_BLOCK = "\u2580"  # ▀
IMAGE_MODES = ("auto", "halfblock", "graphics")

# Terminals known to implement the Kitty graphics protocol or Sixel, by their environment.
_GRAPHICS_TERM_PROGRAMS = {"wezterm", "ghostty", "iterm.app", "konsole", "mintty", "contour", "rio"}
_GRAPHICS_TERMS = ("kitty", "foot", "mlterm", "contour", "wezterm", "ghostty", "yaft")


def choose_image_mode(env: os._Environ[str] | dict[str, str] | None = None, isatty: bool | None = None) -> str:
    """"graphics" (textual-image probed the terminal and found Kitty/Sixel support) or "halfblock"."""
    env = os.environ if env is None else env
    wanted = env.get("MINT_TUI_IMAGES", "auto").strip().lower()
    if wanted == "halfblock" or wanted not in IMAGE_MODES:
        return "halfblock"
    if isatty is None:
        isatty = bool(sys.__stdout__ and sys.__stdout__.isatty() and sys.__stdin__ and sys.__stdin__.isatty())
    if not isatty or env.get("TMUX") or env.get("STY"):  # multiplexers swallow or mangle image escapes
        return "halfblock"
    term = env.get("TERM", "").lower()
    program = env.get("TERM_PROGRAM", "").lower()
    hinted = (wanted == "graphics" or bool(env.get("KITTY_WINDOW_ID")) or program in _GRAPHICS_TERM_PROGRAMS
              or any(t in term for t in _GRAPHICS_TERMS))
    if not hinted or term in ("dumb", "linux"):
        return "halfblock"
    try:  # importing textual_image queries the terminal (protocols, cell size; up to ~0.3 s)
        import textual_image.widget  # noqa: F401
        from textual_image.renderable import Image as AutoRenderable
        from textual_image.renderable.sixel import Image as SixelRenderable
        from textual_image.renderable.tgp import Image as TGPRenderable
    except Exception:  # noqa: BLE001 - no textual-image, or the terminal did not answer sanely
        return "halfblock"
    return "graphics" if AutoRenderable in (SixelRenderable, TGPRenderable) else "halfblock"


def fit_cells(width: int, height: int, max_cols: int, max_rows: int) -> tuple[int, int]:
    """Cells (columns, rows) that show a width x height image as large as fits, keeping its shape.

    A half-block cell holds one pixel across and two down, and terminal cells are about twice as
    tall as wide, so one half-block pixel is roughly square.
    """
    if width <= 0 or height <= 0 or max_cols <= 0 or max_rows <= 0:
        return 0, 0
    scale = min(max_cols / width, (2 * max_rows) / height)
    cols = max(1, min(max_cols, round(width * scale)))
    rows = max(1, min(max_rows, round(height * scale / 2)))
    return cols, rows


def resample(rgb: "np.ndarray", out_w: int, out_h: int) -> "np.ndarray":
    """Resize an (H, W, 3) uint8 image: box average when shrinking, nearest when growing."""
    import numpy as np

    h, w = rgb.shape[:2]
    a = rgb.astype(np.float32)
    if out_h <= h:
        ys = (np.arange(out_h) * h // out_h).astype(np.intp)
        sums = np.add.reduceat(a, ys, axis=0)
        counts = np.diff(np.append(ys, h)).astype(np.float32)
        a = sums / counts[:, None, None]
    else:
        a = a[((np.arange(out_h) + 0.5) * h / out_h).astype(np.intp)]
    if out_w <= w:
        xs = (np.arange(out_w) * w // out_w).astype(np.intp)
        sums = np.add.reduceat(a, xs, axis=1)
        counts = np.diff(np.append(xs, w)).astype(np.float32)
        a = sums / counts[None, :, None]
    else:
        a = a[:, ((np.arange(out_w) + 0.5) * w / out_w).astype(np.intp)]
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def halfblock_lines(rgb: "np.ndarray", cols: int, rows: int) -> list[list[Segment]]:
    """The image fitted to ``cols`` x ``rows`` cells as lines of half-block segments."""
    import numpy as np

    px = resample(rgb, cols, rows * 2)
    lines: list[list[Segment]] = []
    cache: dict[tuple[int, ...], Style] = {}
    for r in range(rows):
        top, bottom = px[2 * r], px[2 * r + 1]
        keys = np.concatenate([top, bottom], axis=1).tolist()
        segments: list[Segment] = []
        for key in keys:
            k = tuple(key)
            style = cache.get(k)
            if style is None:
                style = cache[k] = Style(color=Color.from_rgb(*k[:3]), bgcolor=Color.from_rgb(*k[3:]))
            segments.append(Segment(HALF_BLOCK, style))
        lines.append(list(Segment.simplify(segments)))
    return lines


def to_pil(rgb: "np.ndarray") -> Any:
    from PIL import Image

    return Image.fromarray(rgb, "RGB")
