"""The mint-tui terminal app: choose images, choose a pair, run the audit, browse and export verdicts.

State (the marked files, the pair in use, the results) lives on :class:`MintApp`; the screens and
widgets in ``screens/`` and ``widgets/`` show it and post messages to the app. Two of its jobs live
in their own modules as parts (mixins) of the app: marking images and people (``marking.py``) and
result files: export, report, open (``result_files.py``). Everything slow or
heavy (importing torch/MediaPipe/OpenCV, loading a pair, the audit itself, previews, counting
images, reading and writing files) runs in thread workers that post messages back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from mint_tui.safe_text import for_terminal
from mint_tui.tui import core
from mint_tui.options import DEFAULT_ALPHA, AuditOptions
from mint_tui.session import AuditRequest
from mint_tui.tui.session import (AuditSession, DevicesFound, IdentitiesComputed, PairsLoaded, RowsArrived, RunFinished,
                                  RunPhase, RunStarted, display_path)
from mint_tui.tui.marking import Marking
from mint_tui.tui.result_files import ResultFiles
from mint_tui.tui.commands import MintCommands
from mint_tui.tui.settings import Settings, load_settings, settings_path
from mint_tui.tui.state import APP_BINDINGS, PairChosen
from mint_tui.tui.screens.main import MainScreen
from mint_tui.tui.settings import save_settings as write_settings
from mint_tui.tui.widgets.files_pane import FilesPane, ImageTree
from mint_tui.tui.widgets.identity_panel import IdentityPanel
from mint_tui.tui.widgets.pairs_pane import PairsPane
from mint_tui.tui.widgets.results_pane import ResultsPane
from mint_tui.tui.widgets.run_pane import RunPane
from mint_tui.tui.widgets.status_bar import StatusBar


STYLES = ["styles/app.tcss", "styles/images.tcss", "styles/pairs.tcss", "styles/run.tcss",
          "styles/results.tcss", "styles/dialogs.tcss"]


class MintApp(Marking, ResultFiles, App[int]):
    """The terminal app. ``image_mode`` is "halfblock" (tests, tmux) or "graphics" (see run_app)."""

    TITLE = "mint-tui"
    SUB_TITLE = "was this face used to train this model?"
    CSS_PATH = STYLES
    COMMANDS = {MintCommands}
    BINDINGS = APP_BINDINGS
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
        self.pairs: list[Any] = []
        self.pairs_loaded = False
        self.pairs_error: str | None = None
        self._run_when_loaded = False  # r was pressed before the pair store was open
        self.pair_name: str | None = None
        self.devices: core.DeviceInfo | None = None
        self.session = AuditSession()
        self.request: AuditRequest | None = None
        self.report_cancel: Any = None  # the threading.Event of the report being written
        self.running = False
        self.last_progress: Any = None
        self.pair_cache = core.PairCache()
        self.main_screen: MainScreen | None = None

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
        if self.first_start and not self.marks and core.samples_summary():
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

    # ================================================================ panes
    # typed accessors of the main screen's parts (before it is composed they raise NoMatches)
    def files_pane(self) -> FilesPane:
        return self.main_screen.query_one("#files-pane", FilesPane)

    def image_tree(self) -> ImageTree:
        return self.main_screen.query_one("#image-tree", ImageTree)

    def pairs_pane(self) -> PairsPane:
        return self.main_screen.query_one("#pairs-pane", PairsPane)

    def people_panel(self) -> IdentityPanel:
        return self.main_screen.query_one("#people", IdentityPanel)

    def results_pane(self) -> ResultsPane:
        return self.main_screen.query_one("#results-pane", ResultsPane)

    def run_pane(self) -> RunPane:
        return self.main_screen.query_one("#run-pane", RunPane)

    def status_bar(self) -> StatusBar:
        return self.main_screen.query_one("#status-bar", StatusBar)

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
            text.append(self.marks.text() if self.marks else "nothing marked")
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
        self.pairs_pane().refresh_list()
        self.run_pane().refresh_what()
        self.update_status()
        if self._run_when_loaded:
            self._run_when_loaded = False
            self.action_run_audit()

    def on_devices_found(self, message: DevicesFound) -> None:
        self.devices = message.info
        self.run_pane().show_devices(message.info.describe())

    def entry(self, name: str | None) -> Any:
        return next((e for e in self.pairs if e.name == name), None)

    def on_pair_chosen(self, message: PairChosen) -> None:
        self.use_pair(message.name)

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
        self.pairs_pane().refresh_list()
        self.run_pane().refresh_what()
        self.update_status()
        self.notify(f"Using pair {name}")

    # pairs are installed, verified and removed in the Pair tab; the palette asks it
    def action_install_pair(self) -> None:
        self.pairs_pane().install()

    def action_verify_pair(self) -> None:
        self.pairs_pane().verify()

    def action_remove_pair(self) -> None:
        self.pairs_pane().remove()

    # ================================================================ run
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_audit":
            return self.running
        if action == "run_audit":
            return not self.running
        if action == "focus_people":
            try:
                return self.people_panel().has_people
            except Exception:  # noqa: BLE001 - before the screen is composed
                return False
        return True

    def action_run_audit(self) -> None:
        if self.running:
            self.notify("An audit is already running: x cancels it")
            return
        if not self.marks:
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
        device, faces, batch = self.run_pane().options()
        if batch is None:
            self.notify("Batch size must be a whole number from 1 to 4096", severity="error")
            self.show_tab("run")
            return
        alpha = self.run_pane().alpha()
        if alpha is None and self.marks.groups:
            self.notify("Alpha (identity test) must be a number between 0 and 1, e.g. 0.05", severity="error")
            self.show_tab("run", focus="#alpha")
            return
        if device == "cuda" and self.devices is not None and not self.devices.cuda:
            self.notify("CUDA was chosen but no CUDA device was found: choose auto or CPU", severity="error")
            self.show_tab("run")
            return
        options = AuditOptions(faces=faces, batch_size=batch, device=device, keep_crops=True)
        people = self.marks.people()
        request = AuditRequest([str(p) for p in self.marks.selection], str(entry.path), options, people,
                               alpha or DEFAULT_ALPHA)
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

    def _start_run(self, request: AuditRequest) -> None:
        self.request = request
        self.running = True
        self.last_progress = None
        self.session = AuditSession(origin="run", saved=False, people=len(set(self.marks.groups.values())))
        self.results_pane().reset(self.marks.root())
        run_pane = self.run_pane()
        run_pane.set_running(True)
        run_pane.set_status("Starting…")
        self.show_tab("results")
        self.refresh_bindings()
        self.update_status()
        self.audit_worker(request)

    @work(thread=True, exclusive=True, group="audit")
    def audit_worker(self, request: AuditRequest) -> None:
        from mint_tui.session import open_audit, run

        try:
            self.post_message(RunPhase("loading the pair (first run: a few seconds)…"))
            audit = open_audit(request, load=self.pair_cache.load)
            self.post_message(RunStarted(audit.header, audit.pair.manifest, audit.device))
            pending: list[Any] = []
            lock = threading.Lock()

            def progress(p: Any) -> None:  # after each image prepared (another thread) or scored
                with lock:
                    rows = pending[:]
                    pending.clear()
                self.post_message(RowsArrived(rows, p))

            def keep(row: Any) -> None:  # rows come on this thread, progress also from the preparation threads
                with lock:
                    pending.append(row)

            outcome = run(audit, on_row=keep, progress=progress)
            self.post_message(RowsArrived(pending[:], None))
            if request.people:
                identities = None if outcome.identities is None else [i.to_dict() for i in outcome.identities]
                self.post_message(IdentitiesComputed(identities, core.identity_note(audit)))
            self.post_message(RunFinished(outcome.interrupted))
        except Exception as exc:  # noqa: BLE001 - the run ends with the reason on screen
            self.post_message(RunFinished(request.cancel.is_set(), error=str(exc) or type(exc).__name__))

    def on_run_phase(self, message: RunPhase) -> None:
        self.run_pane().set_status(message.text)
        self.status_bar().show(f"▶ {message.text}")

    def on_run_started(self, message: RunStarted) -> None:
        self.session.header = message.header
        self.session.manifest = message.manifest
        self.session.calibration = message.manifest.calibration
        self.run_pane().set_status(f"Auditing on {message.device}: finding faces…")
        self.status_bar().show(f"▶ auditing on {message.device}: finding faces in the first images…")

    def on_rows_arrived(self, message: RowsArrived) -> None:
        if message.progress is not None:
            self.last_progress = message.progress
        if message.rows:
            start = len(self.session.rows)
            self.session.rows.extend(message.rows)
            self.results_pane().append(start, message.rows)
        if self.running:
            self.update_status()
            if self.last_progress is not None:
                from mint_tui.tui.widgets.status_bar import progress_text

                self.run_pane().set_status(f"Auditing: {progress_text(self.last_progress)}")

    def on_identities_computed(self, message: IdentitiesComputed) -> None:
        session = self.session
        session.identities, session.identity_note = message.identities, message.note
        if session.header is not None and message.identities is not None:
            session.header["identities"] = message.identities
        self.results_pane().show_people()

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
                self.results_pane().show_failure(text)
        elif message.cancelled:
            text = f"Audit cancelled: {len(rows)} results kept ({summary})"
            self.notify(text, severity="warning")
        else:
            text = f"Audit finished{elapsed}: {summary}. e exports."
            self.notify(text)
        run_pane = self.run_pane()
        run_pane.set_running(False)
        run_pane.set_status(text)
        self.results_pane().show_people()
        self.refresh_bindings()
        self.update_status()

    def action_cancel_audit(self) -> None:
        if self.running and self.request is not None:
            self.request.cancel.set()
            self.run_pane().set_status("Cancelling: finishing the current batch…")
            self.update_status()

    # ================================================================ results view
    def action_cycle_sort(self) -> None:
        self.results_pane().cycle_sort()

    def action_cycle_verdict_filter(self) -> None:
        self.results_pane().cycle_verdict_filter()

    def action_focus_filter(self) -> None:
        self.show_tab("results", focus="#filter")

    def action_focus_people(self) -> None:
        if not self.people_panel().has_people:
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
            self.settings.last_folder = str(self.image_tree().path)
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


