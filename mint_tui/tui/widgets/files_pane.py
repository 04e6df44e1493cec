"""Choose images: a file browser that shows only images and folders, marks (and the person each
grouped mark shows), and a preview."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Input, Static
from textual.widgets._directory_tree import DirEntry
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from mint_tui.imagefiles import is_image_name
from mint_tui.tui.keys import MOVE_KEYS
from mint_tui.tui.marks import group_label
from mint_tui.tui.session import display_path
from mint_tui.tui.state import FolderChosen, MarksCleared, MarkToggled, MintState, state_of
from mint_tui.tui.widgets.image_view import ImageView


MARKED = "\u25cf "  # ●
INCLUDED = "\u25e6 "  # ◦
UNMARKED = "  "


class ImageTree(DirectoryTree):
    """A DirectoryTree that lists folders and image files only, and shows the marks."""

    BINDINGS = [
        Binding("space", "mark", "Mark", tooltip="mark or unmark the highlighted image or whole folder, and move "
                                                 "down to the next"),
        Binding("backspace", "up", "Parent", tooltip="browse the parent folder"),
        Binding("full_stop", "into", "Into folder", show=False, tooltip="browse into the highlighted folder"),
        Binding("g", "go", "Go to folder…", show=False, tooltip="type a folder to browse"),
        Binding("p", "app.group_marks", "Person…",
                tooltip="name the person in the marked images and folders (or one person per folder), for the "
                        "identity-level test"),
        Binding("c", "clear_marks", "Clear", tooltip="unmark everything (and forget the people)"),
        Binding("a", "mark_all", "Mark all here", show=False, tooltip="mark every image in the highlighted folder"),
        Binding("h", "toggle_hidden", "Hidden", show=False, tooltip="show or hide hidden files and folders"),
        *MOVE_KEYS,
    ]

    show_hidden = False

    @property
    def mint(self) -> MintState:
        return state_of(self)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for path in paths:
            if path.name.startswith(".") and not self.show_hidden:
                continue
            if self._safe_is_dir(path) or is_image_name(path.name):
                out.append(path)
        return out

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is None:
            return label
        state = self.mint.marks.state(node.data.path)
        if state == "marked":
            prefix = Text(MARKED, style="bold #ffaf00")
        elif state == "included":
            prefix = Text(INCLUDED, style="#af8700")
        else:
            prefix = Text(UNMARKED)
        person = self.mint.marks.groups.get(node.data.path) if state == "marked" else None
        if person is None:
            return Text.assemble(prefix, label)
        return Text.assemble(prefix, label, Text(f" ‹{group_label(person, short=True)}›", style="italic #5fafd7"))

    async def watch_path(self) -> None:
        # as DirectoryTree.watch_path, with the root labelled as a person reads the path
        has_cursor = self.cursor_node is not None
        self.reset_node(self.root, display_path(self.PATH(self.path)), DirEntry(self.PATH(self.path)))
        await self.reload()
        if has_cursor:
            self.cursor_line = 0
        self.scroll_to(0, 0, animate=False)

    def highlighted_path(self) -> Path | None:
        node = self.cursor_node
        return node.data.path if node is not None and node.data is not None else None

    def action_mark(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        path = node.data.path
        self.post_message(MarkToggled(path, self._safe_is_dir(path)))
        if not node.is_root:
            self.action_cursor_down()

    def action_mark_all(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        parent = node if node.allow_expand and node.is_expanded else (node.parent or node)
        for child in parent.children:
            if child.data is not None and not child.allow_expand and self.mint.marks.state(child.data.path) == "":
                self.post_message(MarkToggled(child.data.path, False, quiet=True))

    def action_clear_marks(self) -> None:
        self.post_message(MarksCleared())

    def action_up(self) -> None:
        current = Path(self.path).resolve()
        if current.parent != current:
            self.post_message(FolderChosen(current.parent))

    def action_into(self) -> None:
        path = self.highlighted_path()
        if path is not None and self._safe_is_dir(path):
            self.post_message(FolderChosen(path))

    def action_go(self) -> None:
        pane = self.screen.query_one(FilesPane)
        pane.show_go()

    def action_toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden
        self.reload()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.post_message(MarkToggled(event.path, False))


class FilesPane(Vertical):
    """The "Images" tab."""

    def __init__(self, start: Path, image_mode: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.start = start
        self.image_mode = image_mode
        self._preview_for: Path | None = None

    @property
    def mint(self) -> MintState:
        return state_of(self)

    def compose(self) -> ComposeResult:
        with Horizontal(id="files-body"):
            with Vertical(id="browser-col"):
                yield Input(placeholder="folder to open, Enter to go, Esc to cancel", id="go-input", classes="-hidden")
                yield ImageTree(self.start, id="image-tree")
            with Vertical(id="preview-col"):
                yield ImageView(self.image_mode, id="preview")
                yield Static("", id="preview-info")
        yield Static("", id="selection-summary")

    def on_mount(self) -> None:
        tree = self.query_one(ImageTree)
        tree.border_title = "Images and folders"
        self.query_one("#preview", ImageView).show_message("Move to an image to see it here.")
        self.update_summary()

    # -------------------------------------------------------------- navigation
    def browse(self, folder: Path) -> None:
        self.query_one(ImageTree).path = folder

    def show_go(self) -> None:
        go = self.query_one("#go-input", Input)
        go.remove_class("-hidden")
        go.value = display_path(Path(self.query_one(ImageTree).path))
        go.focus()

    @on(Input.Submitted, "#go-input")
    def _go_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        target = Path(event.value.strip() or ".").expanduser().resolve()
        go = self.query_one("#go-input", Input)
        if not target.is_dir():
            self.app.notify(f"not a folder: {event.value}", severity="error")
            return
        go.add_class("-hidden")
        self.post_message(FolderChosen(target))
        self.query_one(ImageTree).focus()

    def on_key(self, event) -> None:
        go = self.query_one("#go-input", Input)
        if event.key == "escape" and go.has_focus:
            event.stop()
            go.add_class("-hidden")
            self.query_one(ImageTree).focus()

    # -------------------------------------------------------------- preview
    @on(DirectoryTree.NodeHighlighted)
    def _highlighted(self, event: DirectoryTree.NodeHighlighted) -> None:
        node = event.node
        if node.data is None:
            return
        path = node.data.path
        view = self.query_one("#preview", ImageView)
        info = self.query_one("#preview-info", Static)
        if node.allow_expand:
            self._preview_for = None
            view.show_message(f"\U0001F4C1 {path.name or path}\n\nSpace marks the whole folder;\n"
                              "Enter opens it, . browses into it.")
            info.update("")
            return
        self._preview_for = path
        view.show_message("loading…", path.name)
        info.update("")
        self.load_preview(path)

    @work(thread=True, exclusive=True, group="preview")
    def load_preview(self, path: Path) -> None:
        from mint_tui.tui import core

        worker = get_current_worker()
        try:
            size = path.stat().st_size
            rgb = core.load_preview(path)
            # the shape of the file itself, for the info line (load_preview shrinks it)
            error = None
        except Exception as exc:  # noqa: BLE001 - ImageError or OSError, shown as is
            rgb, size, error = None, None, str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_preview, path, rgb, size, error)

    def _show_preview(self, path: Path, rgb, size: int | None, error: str | None) -> None:
        if path != self._preview_for:
            return
        view = self.query_one("#preview", ImageView)
        info = self.query_one("#preview-info", Static)
        if rgb is None:
            view.show_message(f"cannot show this file:\n{error}", path.name)
            info.update(Text("the audit will report it as an error", style="italic"))
            return
        view.show_image(rgb, path.name)
        info.update(f"{human_size(size or 0)}  ·  {display_path(path.parent)}")

    # -------------------------------------------------------------- marks
    def refresh_marks(self) -> None:
        tree = self.query_one(ImageTree)
        tree._invalidate()  # labels carry the marks
        tree.refresh()
        self.update_summary()

    def update_summary(self) -> None:
        marks = self.mint.marks
        files = sum(1 for is_dir in marks.selection.values() if not is_dir)
        folders = len(marks.selection) - files
        summary = self.query_one("#selection-summary", Static)
        if not marks.selection:
            summary.update(Text.from_markup("Nothing marked yet: [b]space[/] marks an image or a whole folder."))
            return
        parts = []
        if files:
            parts.append(f"{files} file{'s' if files != 1 else ''}")
        if folders:
            parts.append(f"{folders} folder{'s' if folders != 1 else ''}")
        count = "counting images…" if marks.images is None else (
            f"{marks.images} image{'s' if marks.images != 1 else ''} to audit")
        text = Text.from_markup(f"Marked: [b]{' + '.join(parts)}[/] · {count} · ")
        people = marks.people_names()
        if people:
            text.append(f"{len(people)} {'group' if len(people) == 1 else 'groups'}", style="#5fafd7")
            text.append(" · ")
        text.append_text(Text.from_markup("[b]r[/] runs, [b]p[/] person, [b]c[/] clears" if marks.ungrouped()
                                          else "[b]r[/] runs, [b]c[/] clears"))
        summary.update(text)


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
