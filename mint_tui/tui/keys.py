"""Keys shared by the app's lists and tables."""

from __future__ import annotations

from textual.binding import Binding

#: j / k move like down / up in every list and table (as in less, vim, lazygit).
MOVE_KEYS = [
    Binding("j", "cursor_down", "Down", show=False, tooltip="down, as the down arrow"),
    Binding("k", "cursor_up", "Up", show=False, tooltip="up, as the up arrow"),
]
