"""What the app holds between screens: the marked files, the current results and the messages
that worker threads post back to the UI thread."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from mint_tui import session
from mint_tui.safe_text import for_terminal

if TYPE_CHECKING:
    from mint_tui.pairs.manifest import Calibration


@dataclass
class AuditSession:
    """The results on screen: from a run in progress or finished, or from a reopened file."""

    rows: list[Any] = field(default_factory=list)  # mint_tui.audit.ResultRow
    header: dict[str, Any] | None = None
    origin: str = ""  # "run" or the result file's name
    saved: bool = True  # False while a run's results have not been exported
    manifest: Any = None  # the pair's Manifest, for its reliability figures, when known
    manifest_note: str = ""
    calibration: Calibration | None = None  # threshold and band of the pair, or as the results recorded
    #: Identity-level test results as dicts (IdentityResult.to_dict), when people were grouped;
    #: also in ``header["identities"]`` so that exports carry them.
    identities: list[dict[str, Any]] | None = None
    identity_note: str = ""  # why there are none (e.g. the pair has no calibration scores)
    people: int = 0  # groups asked for in this run (the panel says they come at the end)

    @property
    def unsaved(self) -> bool:
        return bool(self.rows) and not self.saved


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """:func:`mint_tui.session.display_path` with control characters escaped (it is shown on the
    terminal)."""
    return for_terminal(session.display_path(path, cwd))


def common_folder(paths: list[str]) -> str:
    """The deepest folder that holds every path ('' when there is none)."""
    parents = {os.path.dirname(p) for p in paths}
    if not parents:
        return ""
    try:
        return os.path.commonpath(list(parents))
    except ValueError:  # mixed absolute and relative
        return ""


# ---------------------------------------------------------------- people (identity groups)
def clean_person_name(text: str) -> str | None:
    """A person's name as typed, trimmed; None when it is empty or holds control characters."""
    import unicodedata

    name = " ".join(text.split())
    if not name or len(name) > 120 or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return None
    return name


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
