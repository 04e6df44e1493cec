"""The main screen: four tabs (Images, Pair, Run, Results), a status line and the key footer."""

from __future__ import annotations

from pathlib import Path
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane

from mint_tui.tui.marks import Marks
from mint_tui.tui.state import MintState, state_of
from mint_tui.tui.widgets.files_pane import FilesPane, ImageTree
from mint_tui.tui.widgets.pairs_pane import PairsPane
from mint_tui.tui.widgets.results_pane import ResultsPane
from mint_tui.tui.widgets.run_pane import RunPane
from mint_tui.tui.widgets.status_bar import StatusBar


TABS = ("images", "pair", "run", "results")


class MainScreen(Screen):
    BINDINGS = [
        Binding("1", "tab('images')", "Images", show=False, tooltip="the Images tab: choose what to audit"),
        Binding("2", "tab('pair')", "Pair", show=False, tooltip="the Pair tab: choose, install, verify pairs"),
        Binding("3", "tab('run')", "Run options", show=False, tooltip="the Run tab: device, faces, batch size, alpha"),
        Binding("4", "tab('results')", "Results", show=False, tooltip="the Results tab: browse the verdicts"),
        Binding("question_mark,f1", "app.help", "Help", tooltip="this list of keys"),  # first: in any footer
        Binding("r", "app.run_audit", "Run", tooltip="run the audit of the marked images with the chosen pair"),
        Binding("x", "app.cancel_audit", "Cancel run", tooltip="cancel the running audit (rows so far are kept)"),
        Binding("e", "app.export", "Export", tooltip="export the results as JSON or CSV, or the HTML audit report"),
        Binding("o", "app.open_results", "Open", tooltip="open an exported result file for browsing"),
        Binding("q", "app.quit", "Quit", show=False, tooltip="quit (asks first if results were not exported)"),
    ]

    def __init__(self, start: Path, image_mode: str) -> None:
        super().__init__()
        self.start, self.image_mode = start, image_mode
        self.marks = Marks()  # the marked images and folders, and the people they show
        self._wanted: tuple[str, str | None] | None = None  # the tab (and widget) show_tab asked for

    @property
    def mint(self) -> MintState:
        return state_of(self)

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs", initial="images"):
            with TabPane("1 Images", id="images"):
                yield FilesPane(self.start, self.image_mode, id="files-pane")
            with TabPane("2 Pair", id="pair"):
                yield PairsPane(id="pairs-pane")
            with TabPane("3 Run", id="run"):
                yield RunPane(id="run-pane")
            with TabPane("4 Results", id="results"):
                yield ResultsPane(self.image_mode, id="results-pane")
        yield StatusBar(id="status-bar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ImageTree).focus()

    def on_resize(self, event) -> None:
        # below 110 columns the footer drops its padding, so that every key (? Help too) fits in 80
        self.query_one(Footer).compact = event.size.width < 110

    def action_tab(self, name: str) -> None:
        self.show_tab(name)

    def show_tab(self, name: str, focus: str | None = None) -> None:
        """Show a tab and focus its main widget (or the ``focus`` selector)."""
        self._wanted = (name, focus)
        tabs = self.query_one(TabbedContent)
        if tabs.active == name:
            self.focus_tab(name)
        else:
            tabs.active = name  # TabActivated focuses the tab's main widget

    def focus_tab(self, name: str) -> None:
        # Only while that tab is still the active one: focusing a widget in another pane makes
        # TabbedContent switch to it, and two late focus calls would switch back and forth forever.
        if self.active_tab != name:
            return
        focus = None
        if self._wanted is not None:
            if self._wanted[0] == name:
                focus = self._wanted[1]
            else:  # another tab was chosen since (a click on its title): the wish is stale
                self._wanted = None
        target = focus or {"images": "#image-tree", "pair": "#pair-list", "run": "#device",
                           "results": "#results-table"}[name]
        self.query_one(target).focus()

    def on_key(self, event) -> None:
        """Escape leaves a text field (the Run tab's batch size and alpha): to the tab's main widget,
        so that 1-4 and the other keys work again instead of typing."""
        if event.key == "escape" and isinstance(self.focused, Input):
            event.stop()
            self._wanted = None
            self.focus_tab(self.active_tab)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id in TABS:
            self.call_after_refresh(self.focus_tab, event.pane.id)

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active
