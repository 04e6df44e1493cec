"""The mint-tui terminal app: choose images, choose a pair, run the audit, browse and export verdicts.

State (the marked files, the pair in use, the results) lives on :class:`MintApp`; the screens and
widgets in ``screens/`` and ``widgets/`` show it and call the app's actions. Everything slow or
heavy (importing torch/MediaPipe/OpenCV, loading a pair, the audit itself, previews, counting
images, reading and writing files) runs in thread workers that post messages back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from mint_tui.imagefiles import count_images
from mint_tui.safe_text import for_terminal
from mint_tui.tui import core
from mint_tui.tui.commands import MintCommands
from mint_tui.tui.session import (PER_FOLDER, AuditSession, DevicesFound, IdentitiesComputed, PairsLoaded,
                                  RowsArrived, RunFinished, RunPhase, RunStarted, SelectionCounted, calibration_of,
                                  common_folder, display_path, group_label, selection_root)
from mint_tui.tui.settings import Settings, load_settings, settings_path
from mint_tui.tui.settings import save_settings as write_settings

STYLES = ["styles/app.tcss", "styles/images.tcss", "styles/pairs.tcss", "styles/run.tcss",
          "styles/results.tcss", "styles/dialogs.tcss"]


class MintApp(App[int]):
    """The terminal app. ``image_mode`` is "halfblock" (tests, tmux) or "graphics" (see run_app)."""

    TITLE = "mint-tui"
    SUB_TITLE = "was this face used to train this model?"
    CSS_PATH = STYLES
    COMMANDS = {MintCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True, tooltip="quit, from anywhere")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(self, start: str | os.PathLike[str] | None = None, *, image_mode: str = "halfblock",
                 settings: Settings | None = None, persist: bool = True) -> None:
        super().__init__()
        # first start: no settings saved yet and no folder asked for (the app then offers the sample photos)
        self.first_start = settings is None and start is None and not settings_path().exists()
        self.settings = settings if settings is not None else load_settings()
        self.persist = persist
        self.image_mode = image_mode
        self.start_problem: str | None = None
        self.start_folder = self._start_folder(start)
        self.selection: dict[Path, bool] = {}  # marked path -> is a folder
        self.groups: dict[Path, str] = {}  # marked path -> its person's name (or PER_FOLDER); a subset of selection
        self.selection_images: int | None = 0
        self._count_generation = 0
        self.pairs: list[Any] = []
        self.pairs_loaded = False
        self.pairs_error: str | None = None
        self._run_when_loaded = False  # r was pressed before the pair store was open
        self.pair_name: str | None = None
        self.devices: core.DeviceInfo | None = None
        self.session = AuditSession()
        self.request: core.RunRequest | None = None
        self.report_cancel: Any = None  # the threading.Event of the report being written
        self.running = False
        self.last_progress: Any = None
        self.pair_cache = core.PairCache()
        self.main_screen: Any = None

    # ================================================================ start-up
    def _start_folder(self, start: str | os.PathLike[str] | None) -> Path:
        candidates: list[tuple[str, Path]] = []
        if start:
            candidates.append(("start", Path(start).expanduser()))
        if self.settings.last_folder:
            candidates.append(("last", Path(self.settings.last_folder)))
        for kind, path in candidates:
            if path.is_file():
                path = path.parent
            if path.is_dir():
                return path.resolve()
            if kind == "start":
                self.start_problem = f"not a folder: {start}; starting in the last one used"
        return Path.cwd().resolve()

    def get_default_screen(self) -> Screen:
        from mint_tui.tui.screens.main import MainScreen

        self.main_screen = MainScreen(self.start_folder, self.image_mode)
        return self.main_screen

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """Notifications carry file names, pair titles and error messages: shown literally (no
        markup) with control characters escaped."""
        super().notify(for_terminal(message, keep_newlines=True), markup=markup, **kwargs)

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.start_problem:
            self.notify(self.start_problem, severity="warning")
        if self.first_start and not self.selection and core.samples_summary():
            self.notify("First time here? Try the sample photos: ctrl+p, then \"Try the sample photos\" "
                        f"({core.samples_summary()}), then r", title="Welcome", timeout=30)
        self.update_status()

    def on_ready(self) -> None:
        self.load_core()

    def _theme_changed(self, theme: Any) -> None:
        self.settings.theme = theme.name
        self.save_settings()

    def save_settings(self) -> None:
        if self.persist:
            write_settings(self.settings)

    @work(thread=True, exclusive=True, group="core")
    def load_core(self) -> None:
        """Import the core (torch, MediaPipe, OpenCV), list the pairs and find the devices."""
        try:
            core.warm_up()
            entries, default = core.list_pairs()
            self.post_message(PairsLoaded(entries, default))
        except Exception as exc:  # noqa: BLE001 - shown in the Pair tab
            self.post_message(PairsLoaded([], None, error=f"{type(exc).__name__}: {exc}"))
        self.post_message(DevicesFound(core.detect_devices()))

    @work(thread=True, exclusive=True, group="pairs")
    def reload_pairs(self) -> None:
        try:
            entries, default = core.list_pairs()
            self.post_message(PairsLoaded(entries, default))
        except Exception as exc:  # noqa: BLE001
            self.post_message(PairsLoaded([], None, error=f"{type(exc).__name__}: {exc}"))

    # ================================================================ panes
    def pane(self, name: str) -> Any:
        return self.main_screen.query_one(f"#{name}")

    def show_tab(self, name: str, focus: str | None = None) -> None:
        self.main_screen.show_tab(name, focus)

    def update_status(self) -> None:
        from rich.text import Text

        from mint_tui.tui.widgets.status_bar import progress_text

        text = Text()
        if self.running:
            text.append("▶ auditing ", style="bold #5fd75f")
            if self.request is not None and self.request.cancel.is_set():
                text.append("cancelling after this batch… ", style="bold #d7af00")
            if self.last_progress is not None:
                text.append(progress_text(self.last_progress, faces=False))
            text.append("  x cancels", style="dim")
        else:
            text.append("pair ", style="dim")
            if self.pair_name:
                text.append(self.pair_name, style="bold")
            else:
                text.append("loading…" if not self.pairs_loaded else "none", style="italic #d7af00")
            text.append("  ·  ", style="dim")
            text.append(self.selection_text() if self.selection else "nothing marked")
            if self.session.rows:
                text.append("  ·  ", style="dim")
                text.append(f"{len(self.session.rows)} results")
                if self.session.unsaved:
                    text.append(" (not exported)", style="#d7af00")
        try:
            bar = self.main_screen.query_one("#status-bar")
        except Exception:  # noqa: BLE001 - before the screen is composed
            return
        bar.show(text)
        if self.running and self.last_progress is not None:
            bar.progress(self.last_progress.fraction)
        elif not self.running:
            bar.progress(None)

    # ================================================================ pairs
    def on_pairs_loaded(self, message: PairsLoaded) -> None:
        self.pairs, self.pairs_error, self.pairs_loaded = list(message.entries), message.error, True
        usable = [e.name for e in self.pairs if e.error is None]
        for candidate in (self.pair_name, self.settings.pair, message.default, *usable):
            if candidate in usable:
                self.pair_name = candidate
                break
        else:
            self.pair_name = None
        self.pane("pairs-pane").refresh_list()
        self.pane("run-pane").refresh_what()
        self.update_status()
        if self._run_when_loaded:
            self._run_when_loaded = False
            self.action_run_audit()

    def on_devices_found(self, message: DevicesFound) -> None:
        self.devices = message.info
        self.pane("run-pane").show_devices(message.info.describe())

    def entry(self, name: str | None) -> Any:
        return next((e for e in self.pairs if e.name == name), None)

    def use_pair(self, name: str) -> None:
        entry = self.entry(name)
        if entry is None:
            return
        if entry.error:
            self.notify(f"{name} cannot be used: {entry.error}", severity="error")
            return
        self.pair_name = name
        self.settings.pair = name
        self.save_settings()
        self.pane("pairs-pane").refresh_list()
        self.pane("run-pane").refresh_what()
        self.update_status()
        self.notify(f"Using pair {name}")

    def highlighted_pair(self) -> str | None:
        return self.pane("pairs-pane").highlighted_name() or self.pair_name

    def action_install_pair(self) -> None:
        from mint_tui.tui.screens.pick_file import PickFileScreen

        def picked(path: Path | None) -> None:
            if path is not None:
                self.install_worker(path, False)

        self.push_screen(PickFileScreen("Install a pair (.mintpair file)", (core.PAIR_SUFFIX,), self.start_folder),
                         picked)

    @work(thread=True, group="pairs-change")
    def install_worker(self, path: Path, replace: bool) -> None:
        from mint_tui.pairs.verify import BundleError
        from mint_tui.pairs.store import PairExistsError, StoreError

        try:
            entry = core.install_pair(path, replace=replace)
        except PairExistsError as exc:
            self.call_from_thread(self._ask_replace, path, str(exc))
            return
        except (StoreError, BundleError, OSError) as exc:
            self.call_from_thread(self.notify, f"Not installed: {exc}", severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"Installed pair {entry.name}")
        self.post_message(PairsLoaded(*core.list_pairs()))

    def _ask_replace(self, path: Path, problem: str) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.install_worker(path, True)

        self.push_screen(ConfirmScreen(f"{problem[0].upper()}{problem[1:]}.\nReplace it with {path.name}?",
                                       "Replace", "Keep it", danger=True), answered)

    def action_verify_pair(self) -> None:
        name = self.highlighted_pair()
        if name is None:
            self.notify("No pair to verify", severity="warning")
            return
        self.notify(f"Verifying {name}…")
        self.verify_worker(name)

    @work(thread=True, group="pairs-change")
    def verify_worker(self, name: str) -> None:
        try:
            m = core.verify_pair(name)
        except Exception as exc:  # noqa: BLE001 - BundleError, StoreError, OSError: all shown
            self.call_from_thread(self.notify, f"{name} FAILED verification: {exc}", severity="error", timeout=15)
            return
        self.call_from_thread(self.notify, f"{name}: OK. Manifest valid, sha256 of both weights files matches, "
                                           f"weight shapes fit {m.audited.arch} + {m.mint.kind} MINT.", timeout=8)

    def action_remove_pair(self) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen

        name = self.highlighted_pair()
        entry = self.entry(name)
        if entry is None:
            self.notify("No pair to remove", severity="warning")
            return
        if entry.builtin:
            self.notify(f"{name} is bundled with mint-tui and cannot be removed", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.remove_worker(entry.name)

        self.push_screen(ConfirmScreen(f"Remove the pair {name} from this computer?\n{display_path(entry.path)}",
                                       "Remove", "Keep", danger=True), answered)

    @work(thread=True, group="pairs-change")
    def remove_worker(self, name: str) -> None:
        try:
            core.remove_pair(name)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.notify, f"Not removed: {exc}", severity="error")
            return
        self.call_from_thread(self.notify, f"Removed pair {name}")
        self.post_message(PairsLoaded(*core.list_pairs()))

    # ================================================================ images and marks
    def browse(self, folder: Path) -> None:
        self.pane("files-pane").browse(folder)
        self.settings.last_folder = str(folder)
        self.save_settings()

    def mark_state(self, path: Path) -> str:
        if path in self.selection:
            return "marked"
        if self.selection and any(parent in self.selection for parent in path.parents):
            return "included"
        return ""

    def toggle_mark(self, path: Path, is_dir: bool, quiet: bool = False) -> None:
        if path in self.selection:
            del self.selection[path]
            self.groups.pop(path, None)
        else:
            holder = next((p for p in path.parents if p in self.selection), None)
            if holder is not None:
                if not quiet:
                    self.notify(f"Already included: the folder {holder.name} is marked")
                return
            if is_dir:
                for marked in [p for p in self.selection if path in p.parents]:
                    del self.selection[marked]
                    self.groups.pop(marked, None)
            self.selection[path] = is_dir
        self.selection_changed()

    def action_try_samples(self) -> None:
        """Mark the sample photos the package ships (one person per folder) and show the Run tab."""
        folder = core.samples_dir()
        if not core.samples_summary():
            self.notify(f"No sample photos in {folder}: run `mint-tui doctor`", severity="error")
            return
        self.selection[folder] = True
        self.groups[folder] = PER_FOLDER
        self.selection_changed()
        self.show_tab("run")
        self.notify(f"Marked the sample photos ({core.samples_summary()}, one person per folder): r runs the audit")

    def clear_marks(self) -> None:
        self.selection.clear()
        self.groups.clear()
        self.selection_changed()

    # ================================================================ people (identity groups)
    def ungrouped_marks(self) -> list[Path]:
        return [p for p in self.selection if p not in self.groups]

    def people_names(self) -> list[str]:
        """The groups, in the order they were made: names, and "one person per folder"."""
        return [group_label(n) for n in dict.fromkeys(self.groups.values())]

    def action_group_marks(self) -> None:
        """p: the marks not yet in a group become one person (asks the name), or one per folder."""
        from mint_tui.tui.screens.group import GroupScreen

        marks = self.ungrouped_marks()
        if not marks:
            self.notify("Mark the images or folders of one person first (space), then p names them" if not self.groups
                        else "Every mark is already in a group: mark more (space), or space on a grouped mark "
                             "takes it out", severity="warning")
            return
        folders = sum(1 for p in marks if self.selection[p])
        files = len(marks) - folders
        what = " + ".join(part for part in (f"{files} marked image{'s' * (files != 1)}" if files else "",
                                            f"{folders} marked folder{'s' * (folders != 1)}" if folders else "")
                          if part)
        parents = {p if self.selection[p] else p.parent for p in marks}
        default = next(iter(parents)).name if len(parents) == 1 else ""
        people = tuple(n for n in dict.fromkeys(self.groups.values()) if n != PER_FOLDER)

        def named(name: str | None) -> None:
            if name is None:
                return
            for path in marks:
                self.groups[path] = name
            self.selection_changed()
            if name == PER_FOLDER:
                self.notify(f"{what.capitalize()}: one person per folder of images")
            else:
                added = " (added)" if name in people else ""
                self.notify(f"{what.capitalize()} grouped as {name}{added}: the identity test runs with the audit")

        self.push_screen(GroupScreen(what, default, people, folders), named)

    def selection_changed(self) -> None:
        self._count_generation += 1
        if any(self.selection.values()):
            self.selection_images = None
            self.count_worker(list(self.selection), self._count_generation)
        else:
            self.selection_images = len(self.selection)
        self.pane("files-pane").refresh_marks()
        self.pane("run-pane").refresh_what()
        self.update_status()

    @work(thread=True, exclusive=True, group="count")
    def count_worker(self, paths: list[Path], generation: int) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        n = count_images(paths, lambda: worker.is_cancelled or generation != self._count_generation)
        if not worker.is_cancelled:
            self.post_message(SelectionCounted(n, generation))

    def on_selection_counted(self, message: SelectionCounted) -> None:
        if message.generation == self._count_generation:
            self.selection_images = message.images
            self.pane("files-pane").update_summary()
            self.pane("run-pane").refresh_what()
            self.update_status()

    def selection_text(self) -> str:
        files = sum(1 for d in self.selection.values() if not d)
        folders = len(self.selection) - files
        parts = [f"{files} file{'s' * (files != 1)}"] if files else []
        if folders:
            parts.append(f"{folders} folder{'s' * (folders != 1)}")
        count = "counting…" if self.selection_images is None else (
            f"{self.selection_images} image{'s' * (self.selection_images != 1)}")
        return f"{' + '.join(parts)} ({count})"

    # ================================================================ run
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_audit":
            return self.running
        if action == "run_audit":
            return not self.running
        if action == "focus_people":
            try:
                return self.pane("people").has_people
            except Exception:  # noqa: BLE001 - before the screen is composed
                return False
        return True

    def action_run_audit(self) -> None:
        if self.running:
            self.notify("An audit is already running: x cancels it")
            return
        if not self.selection:
            self.notify("Mark images or folders first (space in the Images tab), or try the sample photos (ctrl+p)",
                        severity="warning")
            self.show_tab("images")
            return
        if not self.pairs_loaded:
            self._run_when_loaded = True
            self.notify("Loading the face and model libraries: the audit starts as soon as they are ready")
            return
        entry = self.entry(self.pair_name)
        if entry is None:
            self.notify("Choose a pair first (or install one with i)", severity="warning")
            self.show_tab("pair")
            return
        device, faces, batch = self.pane("run-pane").options()
        if batch is None:
            self.notify("Batch size must be a whole number from 1 to 4096", severity="error")
            self.show_tab("run")
            return
        alpha = self.pane("run-pane").alpha()
        if alpha is None and self.groups:
            self.notify("Alpha (identity test) must be a number between 0 and 1, e.g. 0.05", severity="error")
            self.show_tab("run", focus="#alpha")
            return
        if device == "cuda" and self.devices is not None and not self.devices.cuda:
            self.notify("CUDA was chosen but no CUDA device was found: choose auto or CPU", severity="error")
            self.show_tab("run")
            return
        request = core.RunRequest([str(p) for p in self.selection], entry.path, faces, batch, device,
                                  people=[(str(p), self.selection[p], name) for p, name in self.groups.items()],
                                  alpha=alpha or core.DEFAULT_ALPHA)
        if self.session.unsaved:
            from mint_tui.tui.screens.confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self._start_run(request)

            self.push_screen(ConfirmScreen(f"Discard the {len(self.session.rows)} results that were not exported "
                                           "and start a new audit?", "Discard and run", "Keep them", danger=True),
                             answered)
            return
        self._start_run(request)

    def _start_run(self, request: core.RunRequest) -> None:
        self.request = request
        self.running = True
        self.last_progress = None
        self.session = AuditSession(origin="run", saved=False, people=len(set(self.groups.values())))
        self.pane("results-pane").reset(selection_root(self.selection))
        run_pane = self.pane("run-pane")
        run_pane.set_running(True)
        run_pane.set_status("Starting…")
        self.show_tab("results")
        self.refresh_bindings()
        self.update_status()
        self.audit_worker(request)

    @work(thread=True, exclusive=True, group="audit")
    def audit_worker(self, request: core.RunRequest) -> None:
        try:
            self.post_message(RunPhase("loading the pair (first run: a few seconds)…"))
            device = core.resolve_device(request.device)
            options = core.audit_options(request)
            pair = self.pair_cache.load(request.pair_path, device)
            self.post_message(RunStarted(core.audit_header(pair, device, options), pair.manifest, device))
            pending: list[Any] = []
            every: list[Any] = []  # for the identity test at the end
            lock = threading.Lock()

            def progress(p: Any) -> None:  # after each image prepared (another thread) or scored
                with lock:
                    rows = pending[:]
                    pending.clear()
                self.post_message(RowsArrived(rows, p))

            for row in core.run_audit(request, pair, options, progress):
                with lock:
                    pending.append(row)
                every.append(row)
            self.post_message(RowsArrived(pending[:], None))
            if request.people:
                self.post_message(RunPhase("identity-level test of the grouped people…"))
                self.post_message(IdentitiesComputed(*core.identity_results(request, pair, every)))
            self.post_message(RunFinished(request.cancel.is_set()))
        except Exception as exc:  # noqa: BLE001 - the run ends with the reason on screen
            self.post_message(RunFinished(request.cancel.is_set(), error=str(exc) or type(exc).__name__))

    def on_run_phase(self, message: RunPhase) -> None:
        self.pane("run-pane").set_status(message.text)
        self.pane("status-bar").show(f"▶ {message.text}")

    def on_run_started(self, message: RunStarted) -> None:
        self.session.header = message.header
        self.session.manifest = message.manifest
        self.session.calibration = calibration_of(message.manifest)
        self.pane("run-pane").set_status(f"Auditing on {message.device}: finding faces…")
        self.pane("status-bar").show(f"▶ auditing on {message.device}: finding faces in the first images…")

    def on_rows_arrived(self, message: RowsArrived) -> None:
        if message.progress is not None:
            self.last_progress = message.progress
        if message.rows:
            start = len(self.session.rows)
            self.session.rows.extend(message.rows)
            self.pane("results-pane").append(start, message.rows)
        if self.running:
            self.update_status()
            if self.last_progress is not None:
                from mint_tui.tui.widgets.status_bar import progress_text

                self.pane("run-pane").set_status(f"Auditing: {progress_text(self.last_progress)}")

    def on_identities_computed(self, message: IdentitiesComputed) -> None:
        session = self.session
        session.identities, session.identity_note = message.identities, message.note
        if session.header is not None and message.identities is not None:
            session.header["identities"] = message.identities
        self.pane("results-pane").show_people()

    def on_run_finished(self, message: RunFinished) -> None:
        from mint_tui.tui.widgets.status_bar import clock

        self.running = False
        rows = self.session.rows
        if not rows:
            self.session.saved = True
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.verdict] = counts.get(row.verdict, 0) + 1
        summary = ", ".join(f"{n} {v}" for v, n in counts.items()) or "no results"
        if message.cancelled and self.session.header is not None:
            self.session.header["interrupted"] = True  # exports and the report say so
        if self.session.identities:
            from mint_tui.identity import people_summary

            summary += f"; {people_summary(self.session.identities)}"
        elapsed = f" in {clock(self.last_progress.elapsed)}" if self.last_progress is not None else ""
        if message.error:
            text = f"Audit failed: {message.error}"
            self.notify(text, severity="error", timeout=15)
            if not rows:
                self.pane("results-pane").show_failure(text)
        elif message.cancelled:
            text = f"Audit cancelled: {len(rows)} results kept ({summary})"
            self.notify(text, severity="warning")
        else:
            text = f"Audit finished{elapsed}: {summary}. e exports."
            self.notify(text)
        run_pane = self.pane("run-pane")
        run_pane.set_running(False)
        run_pane.set_status(text)
        self.pane("results-pane").show_people()
        self.refresh_bindings()
        self.update_status()

    def action_cancel_audit(self) -> None:
        if self.running and self.request is not None:
            self.request.cancel.set()
            self.pane("run-pane").set_status("Cancelling: finishing the current batch…")
            self.update_status()

    # ================================================================ results files
    def default_export_path(self, suffix: str = ".json") -> Path:
        folder = Path(self.settings.last_export_folder or Path.cwd())
        pair = ((self.session.header or {}).get("pair") or {}).get("name") or "audit"
        kind = "report" if suffix == ".html" else "audit"
        return folder / f"mint-{kind}-{pair}-{datetime.now():%Y%m%d-%H%M}{suffix}"

    def action_export(self, fmt: str = "json") -> None:
        from mint_tui.tui.screens.export import ExportScreen

        if self.running:
            self.notify("The audit is still running: wait for it or cancel it (x) first", severity="warning")
            return
        if not self.session.rows:
            self.notify("Nothing to export yet: run an audit first (r)", severity="warning")
            return

        def chosen(answer: tuple[Path, str] | None) -> None:
            if answer is None:
                self.notify("Export cancelled: nothing was written")
                return
            if answer[1] == "html":
                self.write_report(answer[0])
            else:
                self.export_worker(answer[0], answer[1], self.session)

        self.push_screen(ExportScreen(self.default_export_path(f".{fmt}"), len(self.session.rows)), chosen)

    def action_export_report(self) -> None:
        self.action_export("html")

    @work(thread=True, group="files")
    def export_worker(self, path: Path, fmt: str, session: AuditSession) -> None:
        try:
            written = core.export_results(path, fmt, session.header, session.rows)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.notify, f"Not saved: {exc}", severity="error", timeout=10)
            return
        self.call_from_thread(self._exported, written, fmt, session)

    def _exported(self, path: Path, fmt: str, session: AuditSession) -> None:
        session.saved = True
        self.settings.last_export_folder = str(path.parent.resolve())
        self.save_settings()
        self.notify(f"Saved {len(session.rows)} rows as {fmt.upper()}: {display_path(path.resolve(), Path('/'))}")
        self.update_status()

    # ---------------------------------------------------------------- the HTML audit report
    def write_report(self, path: Path) -> None:
        """Write the HTML audit report of the results on screen, with a progress dialog (escape cancels)."""
        import threading

        from mint_tui.tui.screens.report import ReportScreen

        session = self.session
        pair = ((session.header or {}).get("pair") or {}).get("name")
        entry = self.entry(pair)
        pair_path = entry.path if entry is not None and entry.error is None else None
        faces = [r for r in session.rows if r.face is not None]
        cancel = self.report_cancel = threading.Event()
        screen = ReportScreen(path, cancel, len(faces), bool(faces) and all(r.crop is not None for r in faces))
        self.push_screen(screen)
        self.report_worker(path, session, pair_path, cancel, screen)

    @work(thread=True, exclusive=True, group="report")
    def report_worker(self, path: Path, session: AuditSession, pair_path: Path | None, cancel: Any,
                      screen: Any) -> None:
        import time

        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] > 0.1:
                last[0] = now
                self.call_from_thread(screen.progress, done, total)

        try:
            written = core.write_report(path, session.header, session.rows, pair_path, progress, cancel)
        except Exception as exc:  # noqa: BLE001 - ReportCancelled, OSError, ValueError: all said
            cancelled = core.report_cancelled(exc)
            self.call_from_thread(self._report_done, screen, None, "Report cancelled: nothing was written" if cancelled
                                  else f"Report not written: {exc}")
            return
        self.call_from_thread(self._report_done, screen, written, "")

    def _report_done(self, screen: Any, path: Path | None, problem: str) -> None:
        screen.finish()
        if path is None:
            self.notify(problem, severity="warning" if problem.startswith("Report cancelled") else "error",
                        timeout=10)
            return
        self.settings.last_export_folder = str(path.parent.resolve())
        self.save_settings()
        self.notify(f"Audit report written: {display_path(path.resolve(), Path('/'))}", timeout=8)

    def action_open_results(self) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen
        from mint_tui.tui.screens.pick_file import PickFileScreen

        if self.running:
            self.notify("An audit is running: cancel it (x) before opening a result file", severity="warning")
            return

        def picked(path: Path | None) -> None:
            if path is not None:
                self.open_worker(path)

        def pick() -> None:
            start = Path(self.settings.last_export_folder or Path.cwd())
            if not start.is_dir():
                start = Path.cwd()
            self.push_screen(PickFileScreen("Open a result file (.json, .csv or .jsonl)", core.RESULT_SUFFIXES, start),
                             picked)

        if self.session.unsaved:
            self.push_screen(ConfirmScreen(f"Discard the {len(self.session.rows)} results that were not exported?",
                                           "Discard", "Keep them", danger=True),
                             lambda yes: pick() if yes else None)
            return
        pick()

    def open_results(self, path: str | os.PathLike[str]) -> None:
        """Open a result file for browsing (the palette, tests)."""
        self.open_worker(Path(path))

    @work(thread=True, exclusive=True, group="files")
    def open_worker(self, path: Path) -> None:
        try:
            header, rows = core.read_results(path)
        except Exception as exc:  # noqa: BLE001 - ValueError, OSError
            self.call_from_thread(self.notify, f"Cannot open {path.name}: {exc}", severity="error", timeout=10)
            return
        pair = header.get("pair") or {}
        manifest, note = None, ""
        entry = self.entry(pair.get("name"))
        if entry is not None and entry.manifest is not None:
            manifest = entry.manifest
            wanted = pair.get("bundle_sha256")
            try:
                if wanted and core.bundle_sha256(entry.path) != wanted:
                    note = "The installed pair of this name differs from the one that made these results."
            except OSError:
                pass
        elif pair.get("name"):
            note = f"Pair {pair['name']} is not installed here."
        self.call_from_thread(self._results_opened, path, header, rows, manifest, note)

    def _results_opened(self, path: Path, header: dict[str, Any], rows: list[Any], manifest: Any, note: str) -> None:
        identities = header.get("identities")
        self.session = AuditSession(rows=rows, header=header, origin=path.name, saved=True, manifest=manifest,
                                    manifest_note=note,
                                    calibration=calibration_of(None, header) or calibration_of(manifest),
                                    identities=identities if isinstance(identities, list) else None)
        pane = self.pane("results-pane")
        pane.reset(common_folder([r.path for r in rows]))
        pane.rebuild()
        self.show_tab("results")
        self.refresh_bindings()
        self.update_status()
        self.notify(f"Opened {path.name}: {len(rows)} rows")

    # ================================================================ results view
    def action_cycle_sort(self) -> None:
        self.pane("results-pane").cycle_sort()

    def action_cycle_verdict_filter(self) -> None:
        self.pane("results-pane").cycle_verdict_filter()

    def action_focus_filter(self) -> None:
        self.show_tab("results", focus="#filter")

    def action_focus_people(self) -> None:
        if not self.pane("people").has_people:
            self.notify("No identity test in these results: group marks as one person with p on the Images tab, "
                        "then run")
            return
        self.show_tab("results", focus="#people-table")

    # ================================================================ help, palette, quit
    def action_help(self) -> None:
        from mint_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_doctor(self) -> None:
        from mint_tui.tui.screens.doctor import DoctorScreen

        self.push_screen(DoctorScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Run audit", "Audit the marked images with the chosen pair (r)", self.action_run_audit)
        if self.running:
            yield SystemCommand("Cancel audit", "Stop the running audit after its current batch (x)",
                                self.action_cancel_audit)
        yield SystemCommand("Export results", "Save the results as JSON or CSV (e)", self.action_export)
        yield SystemCommand("Export audit report (HTML)", "One self-contained page: crops, scores, identity test, "
                            "pair, provenance (e)", self.action_export_report)
        yield SystemCommand("Group marks as one person", "Name the person in the marked images and folders, for "
                            "the identity-level test (p on the Images tab)", self.action_group_marks)
        yield SystemCommand("People: identity test", "The identity-level test of each grouped person (p on the "
                            "Results tab)", self.action_focus_people)
        yield SystemCommand("Open result file", "Browse an exported JSON or CSV result file (o)",
                            self.action_open_results)
        yield SystemCommand("Install pair", "Install a .mintpair file from disk", self.action_install_pair)
        yield SystemCommand("Verify pair", "Check the highlighted pair's bundle (hashes, shapes)",
                            self.action_verify_pair)
        yield SystemCommand("Remove pair", "Remove the highlighted installed pair", self.action_remove_pair)
        yield SystemCommand("Clear marks", "Unmark every image and folder", self.clear_marks)
        yield SystemCommand("Try the sample photos", "Mark the LFW sample photos that come with mint-tui (one "
                            "person per folder)", self.action_try_samples)
        yield SystemCommand("Doctor", "Check what an audit needs on this computer (as `mint-tui doctor`)",
                            self.action_doctor)
        for tab, title in (("images", "Images"), ("pair", "Pair"), ("run", "Run"), ("results", "Results")):
            yield SystemCommand(f"Go to {title}", f"Show the {title} tab", lambda tab=tab: self.show_tab(tab))
        yield SystemCommand("Help", "Every key (?)", self.action_help)
        yield from (c for c in super().get_system_commands(screen) if c.title != "Screenshot")
        yield SystemCommand("Screenshot", "Save an SVG picture of the screen in the user data folder",
                            lambda: self.set_timer(0.1, self.save_screen_picture))

    def save_screen_picture(self) -> Path | None:
        """The screen as SVG under the user data folder (there is no Downloads folder everywhere)."""
        from mint_tui.paths import user_data_dir

        folder = user_data_dir() / "screenshots"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = Path(self.save_screenshot(path=str(folder)))
        except OSError as exc:
            self.notify(f"Screenshot not saved: {exc}", severity="error")
            return None
        self.notify(f"Screenshot saved: {display_path(path, Path('/'))}", timeout=8)
        return path

    async def action_quit(self) -> None:
        from mint_tui.tui.screens.confirm import ConfirmScreen

        if any(isinstance(s, ConfirmScreen) for s in self.screen_stack):
            return
        if self.running or self.session.unsaved:
            what = ("An audit is running" if self.running
                    else f"{len(self.session.rows)} results were not exported")
            self.push_screen(ConfirmScreen(f"{what}. Quit anyway?", "Quit", "Stay", danger=True),
                             lambda yes: self.shutdown() if yes else None)
            return
        self.shutdown()

    def shutdown(self) -> None:
        if self.request is not None:
            self.request.cancel.set()
        if self.report_cancel is not None:
            self.report_cancel.set()
        try:
            self.settings.last_folder = str(self.pane("image-tree").path)
        except Exception:  # noqa: BLE001
            pass
        self.save_settings()
        self.exit(0)

    def on_unmount(self) -> None:
        if self.request is not None:
            self.request.cancel.set()
        if self.report_cancel is not None:
            self.report_cancel.set()


def run_app(start: str | None = None) -> int:
    """Open the app (blocking); the exit status for the command line."""
    from mint_tui.tui.images import choose_image_mode

    app = MintApp(start, image_mode=choose_image_mode())
    result = app.run()
    if app.request is not None:
        app.request.cancel.set()
    return result if isinstance(result, int) else 0


