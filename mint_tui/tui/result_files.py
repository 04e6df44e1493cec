"""The TUI's result files: exporting the results on screen (JSON, CSV), the HTML audit report, and
opening a result file to browse it. A part of :class:`mint_tui.tui.app.MintApp` (a mixin), kept apart
because it is one job: the work is the session's and the report's, in thread workers."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from mint_tui.session import recorded_calibration
from mint_tui.tui import core
from mint_tui.tui.session import AuditSession, common_folder, display_path

if TYPE_CHECKING:
    import threading

    from mint_tui.tui.settings import Settings


class ResultFiles:
    """Export, report and open actions of the app (which provides the attributes declared here)."""

    session: AuditSession
    settings: Settings
    running: bool
    report_cancel: threading.Event | None

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
            from mint_tui.session import export_results

            written = export_results(path, fmt, session.header, session.rows)
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
                                    calibration=recorded_calibration(header)
                                    or (manifest.calibration if manifest is not None else None),
                                    identities=identities if isinstance(identities, list) else None)
        pane = self.results_pane()
        pane.reset(common_folder([r.path for r in rows]))
        pane.rebuild()
        self.show_tab("results")
        self.refresh_bindings()
        self.update_status()
        self.notify(f"Opened {path.name}: {len(rows)} rows")
