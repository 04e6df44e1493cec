"""The main screen: four tabs (Images, Pair, Run, Results), a status line and the key footer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from mint_tui.tui.widgets.files_pane import FilesPane, ImageTree
from mint_tui.tui.widgets.pairs_pane import PairsPane
from mint_tui.tui.widgets.results_pane import ResultsPane
from mint_tui.tui.widgets.run_pane import RunPane
from mint_tui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from mint_tui.tui.app import MintApp

TABS = ("images", "pair", "run", "results")


class MainScreen(Screen):
    BINDINGS = [
        Binding("1", "tab('images')", "Images", show=False, tooltip="the Images tab: choose what to audit"),
        Binding("2", "tab('pair')", "Pair", show=False, tooltip="the Pair tab: choose, install, verify pairs"),
        Binding("3", "tab('run')", "Run options", show=False, tooltip="the Run tab: device, faces, batch size"),
        Binding("4", "tab('results')", "Results", show=False, tooltip="the Results tab: browse the verdicts"),
        Binding("r", "app.run_audit", "Run", tooltip="run the audit of the marked images with the chosen pair"),
        Binding("x", "app.cancel_audit", "Cancel run", tooltip="cancel the running audit (rows so far are kept)"),
        Binding("e", "app.export", "Export", tooltip="export the results as JSON or CSV"),
        Binding("o", "app.open_results", "Open", tooltip="open an exported result file for browsing"),
        Binding("question_mark,f1", "app.help", "Help", tooltip="this list of keys"),
        Binding("q", "app.quit", "Quit", show=False, tooltip="quit (asks first if results were not exported)"),
    ]

    def __init__(self, start: Path, image_mode: str) -> None:
        super().__init__()
        self.start, self.image_mode = start, image_mode

    @property
    def mint(self) -> "MintApp":
        return self.app  # type: ignore[return-value]

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

    def action_tab(self, name: str) -> None:
        self.show_tab(name)

    def show_tab(self, name: str) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = name
        self.focus_tab(name)

    def focus_tab(self, name: str) -> None:
        target = {"images": "#image-tree", "pair": "#pair-list", "run": "#device", "results": DataTable}[name]
        self.query_one(target).focus()  # type: ignore[arg-type]

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id in TABS:
            self.call_after_refresh(self.focus_tab, event.pane.id)
        self.mint.refresh_bindings()

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active
