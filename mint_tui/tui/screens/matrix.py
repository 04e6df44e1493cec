"""Which pairs know whom: an audit's results as a matrix, people (or photos) by pairs, each cell the
verdict in the usual colours with its adjusted p-value (people) or score (photos). Enter on a
person's cell shows that person's photos; enter on a photo's cell closes the matrix on that
result row (its crop, score and the pair's reliability in the Results tab)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from mint_tui.safe_text import for_terminal
from mint_tui.tui.keys import MOVE_KEYS
from mint_tui.tui.pair_matrix import MatrixRow, people_rows, photo_rows, stores_member_data
from mint_tui.tui.widgets.identity_panel import IDENTITY_STYLES
from mint_tui.tui.widgets.verdict_view import VERDICT_STYLES


def person_cell(d: dict[str, Any] | None) -> Text:
    if d is None:
        return Text("not tested", style="dim")
    verdict = str(d.get("verdict", "–"))
    text = Text(verdict, style=IDENTITY_STYLES.get(verdict, "bold"))
    if verdict != "no-faces" and isinstance(d.get("p_adjusted"), (int, float)):
        text.append(f" p {d['p_adjusted']:.4f}", style="dim" if verdict != "member" else "")
    return text


def photo_cell(row: Any) -> Text:
    if row is None:
        return Text("–", style="dim")
    text = Text(row.verdict, style=VERDICT_STYLES.get(row.verdict, ""))
    if row.score is not None:
        text.append(f" {row.score:.3f}")
    return text


class MatrixScreen(ModalScreen[int | None]):
    """People or photos by pairs; dismissed with the index of the result row to show, or None."""

    DEFAULT_CLASSES = "dialog-screen"
    BINDINGS = [Binding("escape,q", "back", "Back", tooltip="back (from a person's photos: to the people)"),
                Binding("t", "toggle", "People/photos", tooltip="people or photos as the rows"),
                *MOVE_KEYS]

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.pairs = list(session.pair_names)
        self.mode = "people" if session.identities else "photos"
        self.person: str | None = None
        self.lines: list[MatrixRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="matrix-dialog"):
            yield Static("", classes="dialog-title", id="matrix-title")
            yield DataTable(id="matrix", cursor_type="cell", zebra_stripes=True)
            yield Static("", classes="dialog-note", id="matrix-note")

    def on_mount(self) -> None:
        self.fill()

    def fill(self, column: int | None = None) -> None:
        table = self.query_one("#matrix", DataTable)
        table.clear(columns=True)
        people = self.mode == "people"
        table.add_column("person" if people else "photo", key="label")
        banked = [name for name in self.pairs if stores_member_data(self.session, name)]
        for name in self.pairs:
            table.add_column(for_terminal(name) + (" ⚠" if name in banked else ""), key=name)
        self.lines = people_rows(self.session) if people else photo_rows(self.session, self.person)
        rows = self.session.rows
        for n, line in enumerate(self.lines):
            if people:
                cells = [person_cell(line.cells.get(name)) for name in self.pairs]
            else:
                cells = [photo_cell(rows[line.cells[name]] if name in line.cells else None) for name in self.pairs]
            table.add_row(Text(for_terminal(line.label)), *cells, key=str(n))
        if column is not None and self.lines:
            table.move_cursor(row=0, column=column, animate=False)
        elif self.lines and len(self.pairs):
            table.move_cursor(row=0, column=1, animate=False)
        what = (f"{len(self.lines)} people" if people else
                f"{len(self.lines)} photos" + (f" of {self.person}" if self.person else ""))
        self.query_one("#matrix-title", Static).update(f"Which pairs know whom: {what} × {len(self.pairs)} pairs")
        note = ("enter: this person's photos · t: photos · esc: back. A person's cell: the verdict and the p-value "
                "adjusted across the pairs (member when it is at most alpha)" if people else
                "enter: this photo's result for this pair · " + ("esc: back to the people" if self.person else
                                                                  "t: people · esc: back"))
        if banked:
            note += (f"\n⚠ {', '.join(for_terminal(n) for n in banked)}: the pair file holds member data (face "
                     "embeddings of people in the training set); see its model card")
        self.query_one("#matrix-note", Static).update(note)
        table.focus()

    @on(DataTable.CellSelected, "#matrix")
    def _selected(self, event: DataTable.CellSelected) -> None:
        row, column = event.coordinate.row, event.coordinate.column
        if not 0 <= row < len(self.lines):
            return
        line = self.lines[row]
        if self.mode == "people":
            self.mode, self.person = "photos", line.person
            self.fill(column)
            return
        pair = self.pairs[column - 1] if column >= 1 else next(iter(line.cells), None)
        if pair in line.cells:
            self.dismiss(line.cells[pair])

    def action_toggle(self) -> None:
        if self.mode == "people" or self.session.identities:
            self.mode, self.person = ("photos" if self.mode == "people" else "people"), None
            self.fill()

    def action_back(self) -> None:
        if self.person is not None:
            self.mode, self.person = "people", None
            self.fill()
            return
        self.dismiss(None)
