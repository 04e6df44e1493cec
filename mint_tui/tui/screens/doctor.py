"""`mint-tui doctor` in the app (command palette: "Doctor"): the same checks, shown as they finish."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class DoctorScreen(ModalScreen[None]):
    """Runs :func:`mint_tui.doctor.run_checks` in a thread and lists each check as it is known."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.checks: list = []
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="doctor-dialog"):
            yield Static("Doctor: what an audit needs on this computer", classes="dialog-title")
            with VerticalScroll(id="doctor-body"):
                yield Static("checking…", id="doctor-checks")
            yield Static("", id="doctor-summary", classes="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close  esc", id="doctor-close", variant="primary")

    def on_mount(self) -> None:
        self.run_checks()

    @work(thread=True, exclusive=True, group="doctor")
    def run_checks(self) -> None:
        from mint_tui.doctor import run_checks

        for check in run_checks():
            self.app.call_from_thread(self.add_check, check)
        self.app.call_from_thread(self.finish)

    def add_check(self, check) -> None:
        self.checks.append(check)
        text = Text()
        for c in self.checks:
            text.append("ok   " if c.ok else "FAIL ", style="green" if c.ok else "bold red")
            text.append(f"{c.name}: ", style="bold")
            text.append(c.detail + "\n")
            if not c.ok:
                text.append(f"     fix: {c.fix}\n", style="yellow")
        if self.is_mounted:
            self.query_one("#doctor-checks", Static).update(text)

    def finish(self) -> None:
        from mint_tui.doctor import summary

        self.done = True
        if self.is_mounted:
            self.query_one("#doctor-summary", Static).update(summary(self.checks))

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#doctor-close")
    def _close(self) -> None:
        self.dismiss(None)
