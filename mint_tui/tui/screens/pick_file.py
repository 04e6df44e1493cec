"""Pick a file to open: a folder tree showing only the wanted kind of file, or a typed path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Static

from mint_tui.tui.session import display_path


class SuffixTree(DirectoryTree):
    """Folders and files with one of the given suffixes."""

    BINDINGS = [Binding("backspace", "up", "Up a folder")]

    def __init__(self, path: Path, suffixes: tuple[str, ...], *, id: str | None = None) -> None:
        self.suffixes = suffixes
        super().__init__(path, id=id)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")
                and (self._safe_is_dir(p) or p.suffix.lower() in self.suffixes)]

    def action_up(self) -> None:
        current = Path(self.path).resolve()
        if current.parent != current:
            self.path = current.parent


class PickFileScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, suffixes: tuple[str, ...], start: Path) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.suffixes, self.start = title, suffixes, start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick-dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Input(placeholder=f"path to a {' or '.join(self.suffixes)} file", id="pick-path",
                        select_on_focus=False)
            yield SuffixTree(self.start, self.suffixes, id="pick-tree")
            yield Static("", id="pick-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open", id="open", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        tree = self.query_one(SuffixTree)
        tree.root.set_label(display_path(self.start))
        field = self.query_one("#pick-path", Input)
        field.focus()  # a typed path goes here; tab moves to the tree

    def on_key(self, event) -> None:
        """Typing in the tree goes to the path field (the tree itself has no use for letters)."""
        field = self.query_one("#pick-path", Input)
        if self.query_one(SuffixTree).has_focus and event.is_printable and event.character not in (None, " "):
            event.stop()
            event.prevent_default()
            field.focus()
            field.insert_text_at_cursor(event.character)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _accept(self, text: str) -> None:
        if not text.strip():
            self.query_one("#pick-error", Static).update("Choose a file in the tree or type its path.")
            return
        path = Path(text.strip()).expanduser()
        if not path.is_file():
            self.query_one("#pick-error", Static).update(f"No such file: {text.strip()}")
            return
        self.dismiss(path.resolve())

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    @on(Input.Submitted, "#pick-path")
    def _submitted(self, event: Input.Submitted) -> None:
        self._accept(event.value)

    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        self._accept(self.query_one("#pick-path", Input).value)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
