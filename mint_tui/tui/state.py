"""What the screens and widgets may read of the app, and the messages they post to change it.

Widgets never import the app (that would run the imports in a circle): they read the app's state
through :func:`state_of` (typed by :class:`MintState`) and ask for changes by posting the messages
below, which bubble up to the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.binding import Binding
from textual.message import Message

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from mint_tui.tui.marks import Marks
    from mint_tui.tui.session import AuditSession
    from mint_tui.tui.settings import Settings

#: The app's own keys (the main screen and the widgets have theirs).
APP_BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True, tooltip="quit, from anywhere")]


class MintState(Protocol):
    """The app's state as the widgets see it (read it; change it with the messages below)."""

    settings: Settings
    session: AuditSession
    pairs: list[Any]  # mint_tui.pairs.store.PairEntry
    pairs_error: str | None
    pair_name: str | None
    running: bool
    start_folder: Path  # where file pickers open

    @property
    def marks(self) -> Marks: ...

    def save_settings(self) -> None: ...


def state_of(node: DOMNode) -> MintState:
    """The app a widget runs in, as :class:`MintState`."""
    return cast("MintState", node.app)


# ---------------------------------------------------------------- widget -> app
class MarkToggled(Message):
    """Mark ``path`` (or unmark it); ``quiet``: say nothing when a marked folder already holds it."""

    def __init__(self, path: Path, is_dir: bool, quiet: bool = False) -> None:
        super().__init__()
        self.path, self.is_dir, self.quiet = path, is_dir, quiet


class MarksCleared(Message):
    """Unmark everything (and forget the people)."""


class FolderChosen(Message):
    """Browse ``folder`` in the Images tab."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder


class PairChosen(Message):
    """Use the pair ``name`` for the next audit."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

