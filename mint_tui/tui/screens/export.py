"""Export results: where to, and JSON or CSV (the same files as `mint-tui audit --json/--csv`), or
the HTML audit report (as `mint-tui report`)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from mint_tui.tui.screens.confirm import ConfirmScreen


SUFFIXES = {".json": "json", ".csv": "csv", ".html": "html", ".htm": "html"}
NOTES = {
    "json": "Same schema as `mint-tui audit --json` (with the identity test, if run); reopen it later with o.",
    "csv": "One line per row, as `mint-tui audit --csv` (no header, no identity test); reopen it later with o.",
    "html": "One self-contained page to hand on: each face's crop and score, the identity test, the pair's "
            "model card and ROC, provenance. It cannot be reopened here: export JSON for that.",
}


def format_for(path: Path, fallback: str = "json") -> str:
    return SUFFIXES.get(path.suffix.lower(), fallback)


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
                yield RadioButton("HTML audit report (crops, identity test, provenance)", value=fmt == "html",
                                  id="fmt-html")
            yield Static(NOTES[fmt], id="export-note", classes="dialog-note")
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
        for fmt in ("csv", "html"):
            if self.query_one(f"#fmt-{fmt}", RadioButton).value:
                return fmt
        return "json"

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        fmt = self.chosen_format()
        self.query_one("#export-note", Static).update(NOTES[fmt])
        field = self.query_one("#export-path", Input)
        path = Path(field.value.strip() or self.default.name)
        if format_for(path, "") != fmt:
            wanted = "." + fmt
            field.value = str(path.with_suffix(wanted)) if path.suffix.lower() in SUFFIXES else str(path) + wanted

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
