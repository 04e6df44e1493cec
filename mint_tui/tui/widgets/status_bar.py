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
    """"37/124 images · 52 faces · 4.1 img/s · ETA 0:21" from an AuditProgress."""
    rate = f"{progress.rate:.1f} img/s" if progress.rate else "– img/s"
    eta = clock(progress.eta) if progress.done < progress.total else "0:00"
    face_part = f" · {progress.faces} faces" if faces else ""
    return f"{progress.done}/{progress.total} images{face_part} · {rate} · ETA {eta}"


class StatusBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static("", id="status-text")
        yield ProgressBar(total=None, show_eta=False, show_percentage=True, id="status-progress")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def show(self, text: Text | str) -> None:
        self.query_one("#status-text", Static).update(text)

    def progress(self, done: int | None, total: int | None) -> None:
        bar = self.query_one(ProgressBar)
        if total is None:
            bar.display = False
            return
        bar.display = True
        bar.update(total=max(total, 1), progress=done or 0)
