"""The HTML audit report being written: where to, how far, and a way to stop it."""

from __future__ import annotations

import threading
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, ProgressBar, Static

from mint_tui.tui.session import display_path


class ReportScreen(ModalScreen[None]):
    """Shown while a worker writes the report; escape (or the button) sets ``cancel``. The app
    closes it when the worker is done."""

    BINDINGS = [Binding("escape,x", "cancel_report", "Cancel")]

    def __init__(self, path: Path, cancel: threading.Event, faces: int, crops: bool) -> None:
        super().__init__(classes="dialog-screen")
        self.path, self.cancel, self.faces, self.crops = path, cancel, faces, crops
        self.done = self.closed = False

    def finish(self) -> None:
        """The worker is done: close now, or as soon as a screen above this one (the palette) goes."""
        self.done = True
        self._close()

    def on_screen_resume(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.done and not self.closed and self.app.screen is self:
            self.closed = True
            self.dismiss(None)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="report-dialog"):
            yield Static("Writing the audit report", classes="dialog-title")
            yield Static(display_path(self.path), id="report-path")
            yield ProgressBar(total=None, show_eta=False, id="report-progress")
            yield Static(self._first_status(), id="report-status", classes="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel  esc", id="report-cancel", variant="error")

    def _first_status(self) -> str:
        how = ("with the crops the audit scored" if self.crops
               else "re-making each crop from its file (only where its sha256 still matches)")
        return f"{self.faces} face{'s' * (self.faces != 1)}, {how}…"

    def progress(self, done: int, total: int) -> None:
        if self.cancel.is_set() or not self.is_mounted:
            return
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#report-status", Static).update(f"re-reading image files for their crops: {done}/{total}")

    def action_cancel_report(self) -> None:
        if not self.cancel.is_set():
            self.cancel.set()
            try:
                self.query_one("#report-status", Static).update("cancelling: nothing will be written…")
                self.query_one("#report-cancel", Button).disabled = True
            except NoMatches:  # not composed yet
                pass

    @on(Button.Pressed, "#report-cancel")
    def _cancel(self) -> None:
        self.action_cancel_report()
