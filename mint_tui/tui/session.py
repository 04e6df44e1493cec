"""What the app holds between screens: the marked files, the current results and the messages
that worker threads post back to the UI thread."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.message import Message


@dataclass
class Calibration:
    threshold: float
    low: float
    high: float


@dataclass
class AuditSession:
    """The results on screen: from a run in progress or finished, or from a reopened file."""

    rows: list[Any] = field(default_factory=list)  # mint_tui.audit.ResultRow
    header: dict[str, Any] | None = None
    origin: str = ""  # "run" or the result file's name
    saved: bool = True  # False while a run's results have not been exported
    manifest: Any = None  # the pair's Manifest, for its reliability figures, when known
    manifest_note: str = ""
    calibration: Calibration | None = None

    @property
    def unsaved(self) -> bool:
        return bool(self.rows) and not self.saved


def calibration_of(manifest: Any = None, header: dict[str, Any] | None = None) -> Calibration | None:
    if manifest is not None:
        c = manifest.calibration
        return Calibration(float(c.threshold), float(c.inconclusive[0]), float(c.inconclusive[1]))
    pair = (header or {}).get("pair") or {}
    try:
        low, high = pair["inconclusive"]
        return Calibration(float(pair["threshold"]), float(low), float(high))
    except (KeyError, TypeError, ValueError):
        return None


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """A path as a person reads it: relative below the working folder, ``~`` below home."""
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    cwd = cwd or Path.cwd()
    if cwd != Path(cwd.anchor):
        try:
            rel = p.relative_to(cwd)
            return str(rel) if str(rel) != "." else "."
        except ValueError:
            pass
    try:
        return "~/" + str(p.relative_to(Path.home())) if p != Path.home() else "~"
    except (ValueError, RuntimeError):
        return str(p)


def common_folder(paths: list[str]) -> str:
    """The deepest folder that holds every path ('' when there is none)."""
    parents = {os.path.dirname(p) for p in paths}
    if not parents:
        return ""
    try:
        return os.path.commonpath(list(parents))
    except ValueError:  # mixed absolute and relative
        return ""


def selection_root(selection: dict[Path, bool]) -> str:
    """The folder that result paths are shown relative to: the marked folder itself when it is the
    only thing marked, else the deepest folder holding every marked folder and file."""
    folders = [str(p) if is_dir else str(p.parent) for p, is_dir in selection.items()]
    if not folders:
        return ""
    try:
        return os.path.commonpath(folders)
    except ValueError:
        return ""


# ---------------------------------------------------------------- worker -> UI messages
class PairsLoaded(Message):
    def __init__(self, entries: list[Any], default: str | None, error: str | None = None) -> None:
        super().__init__()
        self.entries, self.default, self.error = entries, default, error


class DevicesFound(Message):
    def __init__(self, info: Any) -> None:
        super().__init__()
        self.info = info


class RunPhase(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class RunStarted(Message):
    def __init__(self, header: dict[str, Any], manifest: Any, device: str) -> None:
        super().__init__()
        self.header, self.manifest, self.device = header, manifest, device


class RowsArrived(Message):
    def __init__(self, rows: list[Any], progress: Any) -> None:
        super().__init__()
        self.rows, self.progress = rows, progress


class RunFinished(Message):
    def __init__(self, cancelled: bool, error: str | None = None) -> None:
        super().__init__()
        self.cancelled, self.error = cancelled, error


class SelectionCounted(Message):
    def __init__(self, images: int, generation: int) -> None:
        super().__init__()
        self.images, self.generation = images, generation
