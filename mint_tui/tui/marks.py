"""The marked images and folders and the people they are grouped into: a plain model, no Textual
in it (the main screen owns one; the app and the widgets read it and change it through it)."""

from __future__ import annotations

import os
from pathlib import Path

from mint_tui.session import PER_FOLDER


def group_label(name: str, short: bool = False) -> str:
    if name == PER_FOLDER:
        return "per folder" if short else "one person per folder"
    return name


class Marks:
    """Marked paths (each a file or a folder) and, for some of them, the person they show.

    A marked folder includes everything below it: marking a path below a marked folder is refused,
    and marking a folder drops the marks below it. ``images`` is how many image files the marks
    hold (None while they are being counted).
    """

    def __init__(self) -> None:
        self.selection: dict[Path, bool] = {}  # marked path -> is a folder
        self.groups: dict[Path, str] = {}  # marked path -> its person's name (or PER_FOLDER); a subset
        self.images: int | None = 0
        self.generation = 0  # changes with every change of the marks (a count of older marks is stale)

    def __bool__(self) -> bool:
        return bool(self.selection)

    def state(self, path: Path) -> str:
        """"marked", "included" (below a marked folder) or ""."""
        if path in self.selection:
            return "marked"
        if self.selection and any(parent in self.selection for parent in path.parents):
            return "included"
        return ""

    def holder(self, path: Path) -> Path | None:
        """The marked folder that already includes ``path``, if any."""
        return next((p for p in path.parents if p in self.selection), None)

    def toggle(self, path: Path, is_dir: bool) -> bool:
        """Mark ``path``, or unmark it when marked; False (nothing changed) when a marked folder
        already includes it."""
        if path in self.selection:
            del self.selection[path]
            self.groups.pop(path, None)
        else:
            if self.holder(path) is not None:
                return False
            if is_dir:
                for marked in [p for p in self.selection if path in p.parents]:
                    del self.selection[marked]
                    self.groups.pop(marked, None)
            self.selection[path] = is_dir
        self.changed()
        return True

    def clear(self) -> None:
        self.selection.clear()
        self.groups.clear()
        self.changed()

    def changed(self) -> None:
        """Call after a change: the image count is stale (None while folders are counted)."""
        self.generation += 1
        self.images = None if any(self.selection.values()) else len(self.selection)

    def counted(self, images: int, generation: int) -> bool:
        """A count of the marks of ``generation``; False when the marks changed since."""
        if generation != self.generation:
            return False
        self.images = images
        return True

    # ---------------------------------------------------------------- people
    def ungrouped(self) -> list[Path]:
        return [p for p in self.selection if p not in self.groups]

    def group(self, paths: list[Path], name: str) -> None:
        """``paths`` (marked) show the person ``name`` (PER_FOLDER: one person per folder)."""
        for path in paths:
            self.groups[path] = name
        self.changed()

    def people_names(self) -> list[str]:
        """The groups, in the order they were made: names, and "one person per folder"."""
        return [group_label(n) for n in dict.fromkeys(self.groups.values())]

    def named_people(self) -> tuple[str, ...]:
        return tuple(n for n in dict.fromkeys(self.groups.values()) if n != PER_FOLDER)

    def people(self) -> list[tuple[str, str]]:
        """(marked path, person's name or PER_FOLDER) of the grouped marks, for an audit request."""
        return [(str(p), name) for p, name in self.groups.items()]

    # ---------------------------------------------------------------- words
    def describe(self, paths: list[Path]) -> str:
        """"2 marked images + 1 marked folder"."""
        folders = sum(1 for p in paths if self.selection.get(p))
        files = len(paths) - folders
        return " + ".join(part for part in (f"{files} marked image{'s' * (files != 1)}" if files else "",
                                            f"{folders} marked folder{'s' * (folders != 1)}" if folders else "")
                          if part)

    def text(self) -> str:
        """"3 files + 1 folder (12 images)"."""
        files = sum(1 for d in self.selection.values() if not d)
        folders = len(self.selection) - files
        parts = [f"{files} file{'s' * (files != 1)}"] if files else []
        if folders:
            parts.append(f"{folders} folder{'s' * (folders != 1)}")
        count = "counting…" if self.images is None else f"{self.images} image{'s' * (self.images != 1)}"
        return f"{' + '.join(parts)} ({count})"

    def root(self) -> str:
        """The folder that result paths are shown relative to: the marked folder itself when it is
        the only thing marked, else the deepest folder holding every marked folder and file."""
        folders = [str(p) if is_dir else str(p.parent) for p, is_dir in self.selection.items()]
        if not folders:
            return ""
        try:
            return os.path.commonpath(folders)
        except ValueError:
            return ""
