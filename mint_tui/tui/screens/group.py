"""Name a person: the marked images and folders become one group for the identity-level test."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from mint_tui.session import PER_FOLDER
from mint_tui.tui.session import clean_person_name


class PerFolderBox(Checkbox, inherit_bindings=False):
    """A checkbox that space ticks, so that enter still means "Group" anywhere in the dialog."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False),
                Binding("enter", "screen.group", "Group", show=False)]


class GroupScreen(ModalScreen[str | None]):
    """Answers the person's name, ``PER_FOLDER`` ("one person per folder"), or None (cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, default: str = "", people: tuple[str, ...] = (), folders: int = 0) -> None:
        super().__init__(classes="dialog-screen")
        self.what, self.default, self.people, self.folders = what, default, people, folders

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="group-dialog"):
            yield Static(f"One person: {self.what}", classes="dialog-title")
            yield Input(self.default, placeholder="the person's name", id="person-name")
            yield PerFolderBox("one person per folder, named after it", id="per-folder")
            yield Static("", id="group-note", classes="dialog-note")
            yield Static("", id="group-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Group  enter", id="group", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        name = self.query_one("#person-name", Input)
        name.focus()
        name.cursor_position = len(name.value)
        self._update_note()

    def _update_note(self) -> None:
        per_folder = self.query_one("#per-folder", Checkbox).value
        name = clean_person_name(self.query_one("#person-name", Input).value)
        if per_folder:
            note = "Every folder that holds images (these folders and the folders inside them) is tested as one "\
                   "person, under the folder's name."
        elif name is not None and name in self.people:
            note = f"{name} is already a person: these marks are added to their images."
        elif name is None and self.folders > 1:
            note = "All of them one person? Type the name. One person in each folder? Tick the box (tab, space)."
        else:
            note = "After the audit, the Results tab says whether this person's photos, taken together, were in "\
                   "the training data (identity-level test)."
        self.query_one("#group-note", Static).update(note)

    @on(Input.Changed, "#person-name")
    def _name_changed(self) -> None:
        self.query_one("#group-error", Static).update("")
        self._update_note()

    @on(Checkbox.Changed, "#per-folder")
    def _per_folder_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#person-name", Input).disabled = event.value
        self.query_one("#group-error", Static).update("")
        self._update_note()

    @on(Input.Submitted, "#person-name")
    @on(Button.Pressed, "#group")
    def action_group(self) -> None:
        if self.query_one("#per-folder", Checkbox).value:
            self.dismiss(PER_FOLDER)
            return
        name = clean_person_name(self.query_one("#person-name", Input).value)
        if name is None:
            self.query_one("#group-error", Static).update(
                "Type the person's name (or tick one person per folder).")
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
