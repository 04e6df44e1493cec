"""What the app holds between screens: the marked files, the current results and the messages
that worker threads post back to the UI thread."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.message import Message
from mint_tui.safe_text import for_terminal


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
    #: Identity-level test results as dicts (IdentityResult.to_dict), when people were grouped;
    #: also in ``header["identities"]`` so that exports carry them.
    identities: list[dict[str, Any]] | None = None
    identity_note: str = ""  # why there are none (e.g. the pair has no calibration scores)
    people: int = 0  # groups asked for in this run (the panel says they come at the end)

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
    """A path as a person reads it: relative below the working folder, ``~`` below home; control
    characters escaped (it is shown on the terminal)."""
    return for_terminal(_display_path(path, cwd))


def _display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
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


# ---------------------------------------------------------------- people (identity groups)
#: The group name of marks grouped "one person per folder": each folder that directly holds
#: images is one person, named after that folder (as ``mint-tui audit --group-by folder``).
PER_FOLDER = ""


def group_label(name: str, short: bool = False) -> str:
    if name == PER_FOLDER:
        return "per folder" if short else "one person per folder"
    return name


def clean_person_name(text: str) -> str | None:
    """A person's name as typed, trimmed; None when it is empty or holds control characters."""
    import unicodedata

    name = " ".join(text.split())
    if not name or len(name) > 120 or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return None
    return name


def identity_groups(marks: list[tuple[str, bool, str]], rows: list[Any]) -> dict[str, list[Any]]:
    """The rows of each person: ``marks`` are (path, is_dir, group name) of the grouped marks (paths
    as given to the audit), ``rows`` the audit's rows. A named group gets every row of its files and
    folders (in the order of ``marks``); marks grouped ``PER_FOLDER`` give one group per folder that
    directly holds the row's file, named after that folder (its whole path where two folders share
    a name)."""
    owner: dict[str, str] = {}  # marked path -> group name
    named: dict[str, list[Any]] = {}
    for path, _is_dir, name in marks:
        owner[os.path.normpath(path)] = name
        if name != PER_FOLDER:
            named.setdefault(name, [])
    folders: dict[str, list[Any]] = {}  # folder -> its rows
    for row in rows:
        p = os.path.normpath(row.path)
        while True:
            name = owner.get(p)
            if name is not None:
                break
            parent = os.path.dirname(p)
            if parent == p:
                break
            p = parent
        if name is None:
            continue
        if name != PER_FOLDER:
            named[name].append(row)
        else:
            folder = os.path.dirname(os.path.normpath(row.path))
            folders.setdefault(folder, []).append(row)
    out = dict(named)
    base_count: dict[str, int] = {}
    for folder in folders:
        base = os.path.basename(folder) or folder
        base_count[base] = base_count.get(base, 0) + 1
    for folder in sorted(folders):
        folder_rows = folders[folder]
        base = os.path.basename(folder) or folder
        name = base
        if base_count[base] > 1 or name in out:  # two folders share a name: say which is which
            name = display_path(folder)
            unique, n = name, 2
            while unique in out:
                unique, n = f"{name} ({n})", n + 1
            name = unique
        out[name] = folder_rows
    return out


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


class IdentitiesComputed(Message):
    def __init__(self, identities: list[dict[str, Any]] | None, note: str = "") -> None:
        super().__init__()
        self.identities, self.note = identities, note


class RunFinished(Message):
    def __init__(self, cancelled: bool, error: str | None = None) -> None:
        super().__init__()
        self.cancelled, self.error = cancelled, error


class SelectionCounted(Message):
    def __init__(self, images: int, generation: int) -> None:
        super().__init__()
        self.images, self.generation = images, generation
