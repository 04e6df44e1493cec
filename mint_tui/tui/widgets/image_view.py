"""An image panel: real pixels (graphics protocol) or half blocks, with a caption or a message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from mint_tui.safe_text import for_terminal
from mint_tui.tui.images import fit_cells, halfblock_lines, to_pil

if TYPE_CHECKING:
    import numpy as np


class HalfBlockImage(Widget):
    """Draws an RGB array centred in the widget, two pixels per cell (``▀``, fg top / bg bottom)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rgb: np.ndarray | None = None
        self._lines: list[list[Segment]] = []
        self._key: tuple[int, int, int] | None = None
        self._origin = (0, 0)
        self._cols = 0

    @property
    def rgb(self) -> "np.ndarray | None":
        return self._rgb

    def set_rgb(self, rgb: "np.ndarray | None") -> None:
        self._rgb = rgb
        self._key = None
        self.refresh()

    def _layout(self) -> None:
        width, height = self.size
        key = (id(self._rgb), width, height)
        if key == self._key:
            return
        self._key = key
        self._lines = []
        self._origin = (0, 0)
        self._cols = 0
        if self._rgb is None or width <= 0 or height <= 0:
            return
        img_h, img_w = self._rgb.shape[:2]
        cols, rows = fit_cells(img_w, img_h, width, height)
        if cols and rows:
            self._lines = halfblock_lines(self._rgb, cols, rows)
            self._cols = cols
            self._origin = ((width - cols) // 2, (height - rows) // 2)

    def render_line(self, y: int) -> Strip:
        self._layout()
        width = self.size.width
        style = self.rich_style
        x0, y0 = self._origin
        row = y - y0
        if not self._lines or row < 0 or row >= len(self._lines):
            return Strip.blank(width, style)
        segments = [Segment(" " * x0, style), *self._lines[row], Segment(" " * max(0, width - x0 - self._cols), style)]
        return Strip(segments, width)


class ImageView(Vertical):
    """An image with a one-line caption underneath, or a message where there is no image."""

    def __init__(self, mode: str = "halfblock", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self._graphics: Any = None

    def compose(self) -> ComposeResult:
        if self.mode == "graphics":
            from textual_image.widget import Image as GraphicsImage  # imported by run_app's probe already

            self._graphics = GraphicsImage(classes="image-pixels")
            yield self._graphics
        else:
            yield HalfBlockImage(classes="image-pixels")
        yield Static("", classes="image-message")
        yield Static("", classes="image-caption")

    @property
    def pixels(self) -> Widget:
        return self.query_one(".image-pixels", Widget)

    def show_image(self, rgb: "np.ndarray", caption: str = "") -> None:
        self.remove_class("-message")
        pixels = self.pixels
        if isinstance(pixels, HalfBlockImage):
            pixels.set_rgb(rgb)
        else:
            pixels.image = to_pil(rgb)
        self.query_one(".image-caption", Static).update(Text(for_terminal(caption)))

    def show_message(self, text: str, caption: str = "") -> None:
        self.add_class("-message")
        pixels = self.pixels
        if isinstance(pixels, HalfBlockImage):
            pixels.set_rgb(None)
        else:
            pixels.image = None
        self.query_one(".image-message", Static).update(Text(for_terminal(text, keep_newlines=True)))
        self.query_one(".image-caption", Static).update(Text(for_terminal(caption)))
