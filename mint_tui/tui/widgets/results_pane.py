"""Browse verdicts: a sortable, filterable table; the highlighted row's crop, score and reliability;
below them, when people were grouped, the identity-level test of each person."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import get_current_worker

from mint_tui.options import VERDICTS
from mint_tui.safe_text import for_terminal
from mint_tui.tui.keys import MOVE_KEYS
from mint_tui.tui.session import display_path
from mint_tui.tui.state import MintState, state_of
from mint_tui.tui.widgets.identity_panel import IdentityPanel
from mint_tui.tui.widgets.image_view import ImageView
from mint_tui.tui.widgets.verdict_view import VERDICT_STYLES, ScoreGauge, explain, reliability, verdict_text


# verdict and score first: they stay in view on an 80-column screen whatever the file names
COLUMNS = (("verdict", "verdict"), ("score", "score"), ("face", "face"), ("file", "file"), ("folder", "folder"),
           ("note", "note"))
SORTS = ("order", "score", "file", "verdict")  # what "s" cycles through
SORT_NAMES = {"order": "input order", "score": "score", "file": "file", "verdict": "verdict", "face": "face",
              "note": "note", "folder": "folder"}
VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}


class IndexedText(Text):
    """A cell that knows which result row it belongs to."""

    row_index: int = -1


def tail(text: str, width: int) -> str:
    """``text`` cut to ``width`` from the left ("…ikova_0004.jpg"): the end of a file name tells
    photos of one person apart, its start does not."""
    return text if width <= 0 or len(text) <= width else "…" + text[len(text) - width + 1:]


def sort_key(name: str, row: Any) -> tuple:
    if name == "score":
        return (row.score is None, row.score if row.score is not None else 0.0)
    if name == "file":
        return (os.path.basename(row.path), row.path, row.face if row.face is not None else -1)
    if name == "folder":
        return (row.path, row.face if row.face is not None else -1)
    if name == "verdict":
        return (VERDICT_RANK.get(row.verdict, 99), -(row.score or 0.0))
    if name == "face":
        return (row.face is None, row.face or 0)
    if name == "note":
        return (row.message,)
    return ()


class ResultsTable(DataTable):
    BINDINGS = [
        Binding("s", "app.cycle_sort", "Sort",
                tooltip="sort: input order, score high to low, low to high, file, verdict"),
        Binding("f", "app.cycle_verdict_filter", "Filter", tooltip="show one verdict at a time, then all"),
        Binding("slash", "app.focus_filter", "Search", tooltip="search file names and notes"),
        Binding("p", "app.focus_people", "People",
                tooltip="to the identity-level test of each grouped person (p or escape: back)"),
        *MOVE_KEYS,
    ]


class ResultsPane(Vertical):
    """The "Results" tab."""

    def __init__(self, image_mode: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image_mode = image_mode
        self.sort = "order"
        self.reverse = False
        self.text_filter = ""
        self.verdict_filter = "all"
        self.root = ""
        self._visible: list[int] = []
        self._shown_for: int | None = None
        self._rebuild_due = False
        self._last_rebuild = 0.0
        self._filter_timer: Any = None
        self.file_width = 0  # the file column's width: longer names keep their distinguishing tail

    @property
    def mint(self) -> MintState:
        return state_of(self)

    @property
    def rows(self) -> list[Any]:
        return self.mint.session.rows

    def compose(self) -> ComposeResult:
        with Horizontal(id="results-filters"):
            yield Input(placeholder="/ search file or note", id="filter", compact=True)
            yield Select([(v, v) for v in VERDICTS], prompt="all verdicts", id="verdict-filter", compact=True,
                         type_to_search=False)
        with Horizontal(id="results-body"):
            table = ResultsTable(id="results-table", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="detail"):  # the words first: on a short screen they stay in view
                yield ScoreGauge(id="gauge", classes="-hidden")
                yield Static("", id="verdict-explain")
                yield ImageView(self.image_mode, id="crop")
                yield Static("", id="row-facts")
                yield Static("", id="reliability")
        yield IdentityPanel(id="people")
        yield Static("", id="summary")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        self.query_one("#detail").border_title = "Verdict"
        self.query_one("#crop", ImageView).show_message("Run an audit (r) or open a result file (o).")
        self.update_summary()

    # -------------------------------------------------------------- rows
    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_file_column)

    def _fit_file_column(self) -> None:
        table = self.query_one(DataTable)
        # the table's width less verdict, score and face (at most 12, 5 and 4 wide, padded) and a scrollbar
        width = max(12, table.size.width - 28)
        if width != self.file_width:
            self.file_width = width
            if self.rows:
                self.rebuild()

    def _cells(self, index: int, row: Any) -> tuple:
        folder, name = os.path.split(row.path)
        if self.root and (folder == self.root or folder.startswith(self.root + os.sep)):
            folder = folder[len(self.root) + 1:]
        face = Text("–" if row.face is None else str(row.face), justify="right")
        score = IndexedText("–" if row.score is None else f"{row.score:.3f}", justify="right")
        score.row_index = index  # lets DataTable.sort reorder rows by our own order
        return (verdict_text(row.verdict), score, face, Text(tail(for_terminal(name), self.file_width)),
                Text(for_terminal(folder), style="dim"), Text(for_terminal(row.message), style="italic"))

    def _passes(self, row: Any) -> bool:
        if self.verdict_filter != "all" and row.verdict != self.verdict_filter:
            return False
        if self.text_filter:
            needle = self.text_filter.lower()
            return needle in row.path.lower() or needle in (row.message or "").lower()
        return True

    def reset(self, root: str = "") -> None:
        self.root = root
        self._visible = []
        self._shown_for = None
        self.query_one(DataTable).clear()
        self.query_one("#crop", ImageView).show_message("Waiting for the first results…")
        gauge = self.query_one("#gauge", ScoreGauge)
        gauge.show(None, None)
        gauge.add_class("-hidden")
        for name in ("#verdict-explain", "#row-facts", "#reliability"):
            self.query_one(name, Static).update("")
        self.show_people()
        self.update_summary()

    def show_people(self) -> None:
        self.query_one(IdentityPanel).show(self.mint.session, self.mint.running)

    def append(self, start: int, rows: list[Any]) -> None:
        """Rows ``start..`` were added to the session."""
        table = self.query_one(DataTable)
        new = [(i, r) for i, r in enumerate(rows, start) if self._passes(r)]
        if new:
            for i, r in new:
                table.add_row(*self._cells(i, r), key=str(i))
            self._visible.extend(i for i, _ in new)
            if self.sort != "order" or self.reverse:
                self.schedule_resort()
            elif self._shown_for is None:
                self.show_detail(self._visible[0])
        self.update_summary()

    def schedule_resort(self) -> None:
        """While rows stream in under a sort, re-sort at most twice a second."""
        if self._rebuild_due:
            return
        self._rebuild_due = True
        delay = 0.5 - (time.monotonic() - self._last_rebuild)
        if delay > 0:
            self.set_timer(delay, self._timed_resort)
        else:  # a timer of 0 s fails inside Textual, and the sort would never be applied
            self.call_later(self._timed_resort)

    def _timed_resort(self) -> None:
        self._rebuild_due = False
        self._last_rebuild = time.monotonic()
        self.resort()

    def ordered(self, indices: list[int]) -> list[int]:
        """Row indices in the current sort order."""
        rows = self.rows
        if self.sort == "order":
            return sorted(indices, reverse=self.reverse)
        out = sorted(indices, key=lambda i: sort_key(self.sort, rows[i]), reverse=self.reverse)
        if self.reverse:  # rows without a score (or face) stay at the end either way
            blank = [i for i in out if sort_key(self.sort, rows[i])[:1] == (True,)]
            out = [i for i in out if sort_key(self.sort, rows[i])[:1] != (True,)] + blank[::-1]
        return out

    def rebuild(self) -> None:
        """Refill the table: the rows that pass the filters, in the sort order."""
        self._rebuild_due = False
        self._last_rebuild = time.monotonic()
        table = self.query_one(DataTable)
        keep = self.current_index()
        rows = self.rows
        visible = self.ordered([i for i, r in enumerate(rows) if self._passes(r)])
        self._visible = visible
        table.clear()
        for i in visible:
            table.add_row(*self._cells(i, rows[i]), key=str(i))
        self._after_reorder(keep)

    def resort(self) -> None:
        """Reorder the rows already in the table (much cheaper than refilling it)."""
        table = self.query_one(DataTable)
        if table.row_count != len(self._visible):
            self.rebuild()
            return
        keep = self.current_index()
        self._visible = self.ordered(self._visible)
        position = {i: p for p, i in enumerate(self._visible)}
        table.sort("score", key=lambda cell: position[cell.row_index])
        self._after_reorder(keep)

    def _after_reorder(self, keep: int | None) -> None:
        table = self.query_one(DataTable)
        visible = self._visible
        if keep is not None and keep in visible:
            table.move_cursor(row=visible.index(keep), animate=False)
        self._shown_for = None
        if visible:
            self.show_detail(visible[table.cursor_row] if 0 <= table.cursor_row < len(visible) else visible[0])
        self.update_summary()

    def current_index(self) -> int | None:
        table = self.query_one(DataTable)
        if not self._visible or not 0 <= table.cursor_row < len(self._visible):
            return None
        return self._visible[table.cursor_row]

    def show_failure(self, text: str) -> None:
        self.query_one("#crop", ImageView).show_message(text)

    # -------------------------------------------------------------- sorting and filtering
    def set_sort(self, name: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = (not self.reverse) if name == self.sort else name == "score"
        self.sort, self.reverse = name, reverse
        self.resort()

    def cycle_sort(self) -> None:
        order = [("order", False), ("score", True), ("score", False), ("file", False), ("verdict", False)]
        try:
            i = order.index((self.sort, self.reverse))
        except ValueError:
            i = -1
        self.set_sort(*order[(i + 1) % len(order)])

    def cycle_verdict_filter(self) -> None:
        choices = ["all", *VERDICTS]
        nxt = choices[(choices.index(self.verdict_filter) + 1) % len(choices)]
        select = self.query_one("#verdict-filter", Select)
        if nxt == "all":
            select.clear()
        else:
            select.value = nxt

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.set_sort(str(event.column_key.value))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        # refilter once typing pauses (a refill of thousands of rows per key would lag)
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if len(self.rows) > 500:
            self._filter_timer = self.set_timer(0.25, self.rebuild)
        else:
            self.rebuild()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(Select.Changed, "#verdict-filter")
    def _verdict_changed(self, event: Select.Changed) -> None:
        self.verdict_filter = "all" if event.select.is_blank() else str(event.value)
        self.rebuild()

    def on_key(self, event) -> None:
        if event.key == "escape" and self.query_one("#filter", Input).has_focus:
            event.stop()
            self.query_one(DataTable).focus()

    # -------------------------------------------------------------- detail
    @on(DataTable.RowHighlighted, "#results-table")  # not the People table's rows: they are people
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_detail(int(event.row_key.value))

    def show_detail(self, index: int) -> None:
        if index == self._shown_for or not 0 <= index < len(self.rows):
            return
        self._shown_for = index
        row = self.rows[index]
        session = self.mint.session
        crop = self.query_one("#crop", ImageView)
        if row.crop is not None:
            crop.show_image(row.crop[..., ::-1], f"what the model saw (face {row.face})")
        elif row.verdict in ("no-face", "error"):
            crop.show_message(f"{row.verdict}\n\n{row.message}", Path(row.path).name)  # (shown escaped)
            if row.verdict == "no-face":
                self.load_source(index, row.path, None, "no face found in this image")
        else:
            crop.show_message("crop not kept in result files;\nlooking for the source image…", "")
            self.load_source(index, row.path, row.box, "source image, face boxed")
        gauge = self.query_one("#gauge", ScoreGauge)
        gauge.show(row.score, session.calibration)
        gauge.set_class(row.score is None, "-hidden")
        self.query_one("#verdict-explain", Static).update(explain(row, session.calibration, session.manifest))
        facts = Text()
        facts.append("file ", style="bold")
        facts.append(display_path(row.path) + "\n")
        if row.face is not None:
            facts.append("face ", style="bold")
            facts.append(f"{row.face}")
            if row.detection_score is not None:
                facts.append(f"  detection {row.detection_score:.2f}")
            if row.box:
                x, y, w, h = row.box
                facts.append(f"  box {w:.0f}×{h:.0f} at ({x:.0f}, {y:.0f})")
            facts.append("\n")
        if row.sha256:
            facts.append("sha256 ", style="bold")
            facts.append(row.sha256[:16] + "…", style="dim")
        self.query_one("#row-facts", Static).update(facts)
        self.query_one("#reliability", Static).update(reliability(session.manifest, session.manifest_note))

    @work(thread=True, exclusive=True, group="source-preview")
    def load_source(self, index: int, path: str, box: Any, caption: str) -> None:
        from mint_tui.tui import core

        worker = get_current_worker()
        try:
            rgb = core.load_preview(path, 256, box)
        except Exception:  # noqa: BLE001 - no preview is fine; the message stays
            rgb = None
        if not worker.is_cancelled:
            self.app.call_from_thread(self._source_loaded, index, rgb, caption)

    def _source_loaded(self, index: int, rgb: Any, caption: str) -> None:
        if index != self._shown_for:
            return
        crop = self.query_one("#crop", ImageView)
        row = self.rows[index]
        if rgb is not None:
            crop.show_image(rgb, caption)
        elif row.verdict not in ("no-face", "error"):
            crop.show_message("crop not kept in result files;\nsource image not found", "")

    # -------------------------------------------------------------- summary
    def update_summary(self) -> None:
        counts = {v: 0 for v in VERDICTS}
        for row in self.rows:
            counts[row.verdict] = counts.get(row.verdict, 0) + 1
        text = Text()
        for v in VERDICTS:
            text.append(f"{counts[v]} ", style="bold")
            text.append(v, style=VERDICT_STYLES[v] if counts[v] else "dim")
            text.append("  ")
        total = len(self.rows)
        shown = len(self._visible)
        text.append("│ ", style="dim")
        text.append(f"{shown}/{total} shown" if shown != total else f"{total} rows")
        sort = SORT_NAMES.get(self.sort, self.sort)
        if self.sort != "order" or self.reverse:
            text.append(f" · by {sort} {'↓' if self.reverse else '↑'}")
        self.query_one("#summary", Static).update(text)
