"""The TUI's marks: marking images and folders, grouping them into people, counting what is marked.
A part of :class:`mint_tui.tui.app.MintApp` (a mixin): the marks themselves are a plain model
(:class:`mint_tui.tui.marks.Marks`, owned by the main screen); this is how the app acts on them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from mint_tui.imagefiles import count_images
from mint_tui.session import PER_FOLDER
from mint_tui.tui import core
from mint_tui.tui.marks import Marks
from mint_tui.tui.session import SelectionCounted
from mint_tui.tui.state import FolderChosen, MarksCleared, MarkToggled

if TYPE_CHECKING:
    from mint_tui.tui.screens.main import MainScreen
    from mint_tui.tui.settings import Settings


class Marking:
    """Marks and people actions of the app (which provides the attributes declared here)."""

    main_screen: MainScreen | None
    settings: Settings

    @property
    def marks(self) -> Marks:
        """The marks and people (the main screen owns them)."""
        assert self.main_screen is not None
        return self.main_screen.marks

    @property
    def selection(self) -> dict[Path, bool]:
        return self.marks.selection

    @property
    def groups(self) -> dict[Path, str]:
        return self.marks.groups

    def browse(self, folder: Path) -> None:
        self.files_pane().browse(folder)
        self.settings.last_folder = str(folder)
        self.save_settings()

    def on_folder_chosen(self, message: FolderChosen) -> None:
        self.browse(message.folder)

    def toggle_mark(self, path: Path, is_dir: bool, quiet: bool = False) -> None:
        if not self.marks.toggle(path, is_dir):
            if not quiet:
                self.notify(f"Already included: the folder {self.marks.holder(path).name} is marked")
            return
        self.selection_changed()

    def on_mark_toggled(self, message: MarkToggled) -> None:
        self.toggle_mark(message.path, message.is_dir, message.quiet)

    def action_try_samples(self) -> None:
        """Mark the sample photos the package ships (one person per folder) and show the Run tab."""
        folder = core.samples_dir()
        if not core.samples_summary():
            self.notify(f"No sample photos in {folder}: run `mint-tui doctor`", severity="error")
            return
        self.marks.selection[folder] = True
        self.marks.group([folder], PER_FOLDER)
        self.selection_changed()
        self.show_tab("run")
        self.notify(f"Marked the sample photos ({core.samples_summary()}, one person per folder): r runs the audit")

    def clear_marks(self) -> None:
        self.marks.clear()
        self.selection_changed()

    def on_marks_cleared(self, message: MarksCleared) -> None:
        self.clear_marks()

    def action_group_marks(self) -> None:
        """p: the marks not yet in a group become one person (asks the name), or one per folder."""
        from mint_tui.tui.screens.group import GroupScreen

        marks = self.marks.ungrouped()
        if not marks:
            self.notify("Mark the images or folders of one person first (space), then p names them"
                        if not self.marks.groups
                        else "Every mark is already in a group: mark more (space), or space on a grouped mark "
                             "takes it out", severity="warning")
            return
        folders = sum(1 for p in marks if self.marks.selection[p])
        what = self.marks.describe(marks)
        parents = {p if self.marks.selection[p] else p.parent for p in marks}
        default = next(iter(parents)).name if len(parents) == 1 else ""
        people = self.marks.named_people()

        def named(name: str | None) -> None:
            if name is None:
                return
            self.marks.group(marks, name)
            self.selection_changed()
            if name == PER_FOLDER:
                self.notify(f"{what.capitalize()}: one person per folder of images")
            else:
                added = " (added)" if name in people else ""
                self.notify(f"{what.capitalize()} grouped as {name}{added}: the identity test runs with the audit")

        self.push_screen(GroupScreen(what, default, people, folders), named)

    def selection_changed(self) -> None:
        if self.marks.images is None:
            self.count_worker(list(self.marks.selection), self.marks.generation)
        self.files_pane().refresh_marks()
        self.run_pane().refresh_what()
        self.update_status()

    @work(thread=True, exclusive=True, group="count")
    def count_worker(self, paths: list[Path], generation: int) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        n = count_images(paths, lambda: worker.is_cancelled or generation != self.marks.generation)
        if not worker.is_cancelled:
            self.post_message(SelectionCounted(n, generation))

    def on_selection_counted(self, message: SelectionCounted) -> None:
        if self.marks.counted(message.images, message.generation):
            self.files_pane().update_summary()
            self.run_pane().refresh_what()
            self.update_status()
