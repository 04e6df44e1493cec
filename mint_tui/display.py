"""Paths as a person reads them (cheap to import: the session names people with it, the TUI shows
paths with it)."""

from __future__ import annotations

import os
from pathlib import Path


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
