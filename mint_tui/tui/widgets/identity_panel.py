"""The people of an audit: the identity-level test of each group (name, faces, combined score, p-value,
p cut-off, verdict) and the highlighted person's explanation, below the Results table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from mint_tui.safe_text import for_terminal
from mint_tui.tui.keys import MOVE_KEYS

if TYPE_CHECKING:
    from mint_tui.tui.session import AuditSession

IDENTITY_STYLES = {"member": "bold #ff5f5f", "not-shown": "bold #87afd7", "no-faces": "#8a8a8a"}
COLUMNS = (("person", "name"), ("faces", "faces"), ("combined score", "statistic"), ("p-value", "p_value"),
           ("p cut-off", "level"), ("verdict", "verdict"))


def _num(value: Any, digits: int) -> Text:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return Text(f"{value:.{digits}f}" if ok else "–", justify="right")


def explanation(d: dict[str, Any]) -> Text:
    """The verdict, coloured, and IdentityResult.explanation (what the file holds, if it is not
    a complete IdentityResult)."""
    from mint_tui.identity import IdentityResult

    verdict = str(d.get("verdict", "?"))
    try:
        said = IdentityResult(**d).explanation
    except (TypeError, ValueError):
        said = f"{d.get('name', '?')}: p = {d.get('p_value', '?')}, {d.get('faces', '?')} faces"
    text = Text()
    text.append(for_terminal(verdict), style=IDENTITY_STYLES.get(verdict, "bold"))
    text.append(f"  {for_terminal(said)}")
    return text


class PeopleTable(DataTable):
    BINDINGS = [Binding("p,escape", "back", "Back to images", tooltip="back to the table of images"), *MOVE_KEYS]

    def action_back(self) -> None:
        self.screen.query_one("#results-table").focus()


class IdentityPanel(Vertical):
    """Hidden when no person was grouped for the results on screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.identities: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="people-title")
        yield PeopleTable(id="people-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="people-explain")

    def on_mount(self) -> None:
        table = self.query_one(PeopleTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        self.display = False

    def show(self, session: "AuditSession", running: bool = False) -> None:
        table = self.query_one(PeopleTable)
        title = self.query_one("#people-title", Static)
        explain = self.query_one("#people-explain", Static)
        from mint_tui.identity import people_summary

        table.clear()
        idents = [d for d in (session.identities or []) if isinstance(d, dict)]
        self.identities = idents
        heading = Text()
        heading.append("People", style="bold")
        if idents:
            alphas = {d.get("alpha") for d in idents}
            alpha = next(iter(alphas))
            alpha = f"alpha {alpha:g}" if len(alphas) == 1 and isinstance(alpha, (int, float)) else "alpha per row"
            heading.append(f"  identity test, {alpha}: {people_summary(idents)}")
            several = len({d.get("pair") for d in idents}) > 1  # one line per (person, pair)
            for i, d in enumerate(idents):
                verdict = str(d.get("verdict", "?"))
                faces = d.get("faces")
                name = Text(for_terminal(d.get("name", "?")))
                if several:
                    name.append(f" · {for_terminal(d.get('pair') or '?')}", style="dim")
                table.add_row(name, Text(str(faces if faces is not None else "–"),
                                                                   justify="right"),
                              _num(d.get("statistic"), 3), _num(d.get("p_value"), 4), _num(d.get("level"), 4),
                              Text(verdict, style=IDENTITY_STYLES.get(verdict, "")), key=str(i))
            table.display = True
            explain.update(explanation(idents[0]))
        elif session.identity_note:
            heading.append("  no identity-level test")
            table.display = False
            explain.update(Text(session.identity_note, style="italic #d7af00"))
        elif running and session.people:
            heading.append("  the identity-level test of the grouped people comes when the audit ends",
                           style="dim")
            table.display = False
            explain.update("")
        else:
            self.display = False
            return
        title.update(heading)
        self.display = True

    @property
    def has_people(self) -> bool:
        return bool(self.display and self.identities)

    @on(DataTable.RowHighlighted, "#people-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            i = int(event.row_key.value)
            if 0 <= i < len(self.identities):
                self.query_one("#people-explain", Static).update(explanation(self.identities[i]))
