"""Export results: where to, and JSON or CSV (the same files as `mint-tui audit --json/--csv`)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from mint_tui.tui.screens.confirm import ConfirmScreen


def format_for(path: Path, fallback: str = "json") -> str:
    suffix = path.suffix.lower()
    return {".csv": "csv", ".json": "json"}.get(suffix, fallback)


class ExportScreen(ModalScreen[tuple[Path, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path, rows: int) -> None:
        super().__init__(classes="dialog-screen")
        self.default = default
        self.rows = rows

    def compose(self) -> ComposeResult:
        fmt = format_for(self.default)
        with Vertical(classes="dialog", id="export-dialog"):
            yield Static(f"Export {self.rows} result row{'s' if self.rows != 1 else ''}", classes="dialog-title")
            yield Input(str(self.default), id="export-path")
            with RadioSet(id="export-format"):
                yield RadioButton("JSON (header + rows)", value=fmt == "json", id="fmt-json")
                yield RadioButton("CSV (rows)", value=fmt == "csv", id="fmt-csv")
            yield Static("Same schema as `mint-tui audit --json/--csv`; reopen it later with o.", classes="dialog-note")
            yield Static("", id="export-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        path = self.query_one("#export-path", Input)
        path.focus()
        path.cursor_position = len(path.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def chosen_format(self) -> str:
        return "csv" if self.query_one("#fmt-csv", RadioButton).value else "json"

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        field = self.query_one("#export-path", Input)
        path = Path(field.value.strip() or self.default.name)
        wanted = "." + self.chosen_format()
        if path.suffix.lower() != wanted:
            field.value = str(path.with_suffix(wanted)) if path.suffix.lower() in (".json", ".csv") else str(path) + wanted

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.query_one("#export-error", Static).update("Type where to save the results.")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self.query_one("#export-error", Static).update("That is a folder: add a file name.")
            return
        fmt = format_for(path, self.chosen_format())
        if path.exists():
            def answered(yes: bool | None) -> None:
                if yes:
                    self.dismiss((path, fmt))
            self.app.push_screen(ConfirmScreen(f"{path.name} exists. Replace it?", "Replace", "Keep it",
                                               danger=True), answered)
            return
        self.dismiss((path, fmt))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
