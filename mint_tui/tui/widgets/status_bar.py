"""The line above the footer: the pair in use, what is marked, and the audit's progress."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_text(progress, faces: bool = True) -> str:
    """"37/124 prepared · 32 scored · 52 faces · 4.1 img/s · ETA 0:21" from an AuditProgress."""
    if progress.prepared == 0 and progress.total:
        return f"0/{progress.total} · starting the face detector on the first image…"
    rate = f"{progress.rate:.1f} img/s" if progress.rate else "– img/s"
    face_part = f" · {progress.faces} faces" if faces else ""
    eta = "scoring the last faces…" if progress.eta is None and progress.prepared >= progress.total \
        else f"ETA {clock(progress.eta)}"
    return f"{progress.prepared}/{progress.total} prepared · {progress.done} scored{face_part} · {rate} · {eta}"


class StatusBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static("", id="status-text")
        yield ProgressBar(total=None, show_eta=False, show_percentage=True, id="status-progress")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def show(self, text: Text | str) -> None:
        self.query_one("#status-text", Static).update(text)

    def progress(self, fraction: float | None) -> None:
        """The share of the audit done (each image prepared, then scored); None hides the bar."""
        bar = self.query_one(ProgressBar)
        if fraction is None:
            bar.display = False
            return
        bar.display = True
        bar.update(total=1000, progress=round(1000 * fraction))
