"""TUI settings kept between sessions: ``<user config dir>/tui.json``.

A missing, unreadable or partly invalid file never stops the app: bad values fall back to the
defaults one by one. Writes are atomic (:func:`mint_tui.fileio.atomic_write`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from mint_tui import paths
from mint_tui.fileio import atomic_write_text
from mint_tui.options import (DEFAULT_ALPHA, DEFAULT_BATCH_SIZE, DEFAULT_FACE_POLICY, DEVICES, FACE_POLICIES,
                              MAX_BATCH_SIZE)

SETTINGS_NAME = "tui.json"


@dataclass
class Settings:
    last_folder: str | None = None
    device: str = "auto"
    faces: str = DEFAULT_FACE_POLICY
    batch_size: int = DEFAULT_BATCH_SIZE
    theme: str = "textual-dark"
    pair: str | None = None
    last_export_folder: str | None = None
    alpha: float = DEFAULT_ALPHA  # significance level of the identity-level test

    def validated(self) -> "Settings":
        default = Settings()
        if self.device not in DEVICES:
            self.device = default.device
        if self.faces not in FACE_POLICIES:
            self.faces = default.faces
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            self.batch_size = default.batch_size
        if (not isinstance(self.alpha, (int, float)) or isinstance(self.alpha, bool)
                or not 0 < self.alpha < 1):
            self.alpha = default.alpha
        self.alpha = float(self.alpha)
        for name in ("theme",):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                setattr(self, name, getattr(default, name))
        for name in ("last_folder", "pair", "last_export_folder"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                setattr(self, name, None)
        return self


def settings_path() -> Path:
    return paths.user_config_dir() / SETTINGS_NAME


def load_settings(path: Path | None = None) -> Settings:
    path = path or settings_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(doc, dict):
        return Settings()
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in doc.items() if k in known}).validated()


def save_settings(settings: Settings, path: Path | None = None) -> bool:
    """Write the settings; False (and nothing raised) when the folder is not writable."""
    path = path or settings_path()
    try:
        atomic_write_text(path, json.dumps(asdict(settings), indent=2) + "\n")
    except OSError:
        return False
    return True
