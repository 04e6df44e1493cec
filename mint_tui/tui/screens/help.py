"""Every key, by where it works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mint_tui.tui.keys import MOVE_KEYS

ABOUT = ("mint-tui answers one question: was this face image used to train this face-recognition model? "
         "A pair (the audited model and its MINT classifier) scores each face; scores at or above the top "
         "of the inconclusive band read 'member', below it 'non-member', inside it 'inconclusive'. "
         "Was this person in the training data? Mark their images, press p to name them as one person, run: "
         "the identity-level test combines their faces into one p-value (Results tab).")


def key_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what)]) for every binding of the app's screens and widgets."""
    from mint_tui.tui.screens.main import MainScreen
    from mint_tui.tui.state import APP_BINDINGS
    from mint_tui.tui.widgets.files_pane import ImageTree
    from mint_tui.tui.widgets.pairs_pane import PairList
    from mint_tui.tui.widgets.results_pane import ResultsTable

    def rows(bindings) -> list[tuple[str, str]]:
        out = []
        for b in bindings:
            if isinstance(b, Binding) and b not in MOVE_KEYS:
                out.append((keys_label(b.key), b.tooltip or b.description or b.action))
        return out

    move = ("j / k", "down / up, as the arrow keys")

    return [
        ("Everywhere", rows(MainScreen.BINDINGS) + rows(APP_BINDINGS) + [
            ("ctrl+p", "command palette: every action by name, and themes"),
            ("tab / shift+tab", "next / previous field"),
        ]),
        ("Images (file browser)", rows(ImageTree.BINDINGS) + [
            ("up / down", "move; the highlighted image is previewed"), move,
            ("enter", "open or close a folder; mark or unmark an image"),
        ]),
        ("Pair", [("enter", "use the highlighted pair"), move] + rows(PairList.BINDINGS)),
        ("Results", rows(ResultsTable.BINDINGS) + [
            ("↑ ↓ pgup pgdn", "move; the highlighted row is explained on the right"), move,
            ("click a title", "sort by that column (again: reverse)"),
            ("escape", "from the search box back to the table"),
            ("p / escape", "in the People table: back to the table of images"),
        ]),
        ("Fields", [("escape", "leave a text field (then 1-4 switch tabs again)")]),
        ("Dialogs", [("y / n", "answer a question"), ("escape", "close without doing anything; stop the report"),
                     ("enter", "open / save")]),
    ]


def keys_label(key: str) -> str:
    names = {"question_mark": "?", "full_stop": ".", "slash": "/", "space": "space", "delete": "del"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    DEFAULT_CLASSES = "dialog-screen"
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close"),
                Binding("j,space", "scroll('down')", "Down", show=False),
                Binding("k", "scroll('up')", "Up", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(Text(ABOUT, style="italic"), id="help-about")
                sections = key_sections()
                width = max(len(keys) for _, rows in sections for keys, _ in rows)
                for section, rows in sections:
                    table = Table(title=section, title_justify="left", title_style="bold", show_header=False,
                                  box=None, padding=(0, 1), expand=True)
                    table.add_column(style="bold #ffaf00", no_wrap=True, width=width)
                    table.add_column()
                    for keys, what in rows:
                        table.add_row(keys, what)
                    yield Static(table, classes="help-section")
            yield Static("escape closes", classes="dialog-note")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=3 if where == "down" else -3)

    def action_close(self) -> None:
        self.dismiss(None)
