"""Filesystem locations used by mint-tui.

Nothing is created at import time; callers create directories when they
actually need to write.  Setting ``MINT_TUI_HOME`` redirects every per-user
directory below that folder (``data``, ``config``, ``cache``), which tests use
for isolation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "mint-tui"
HOME_ENV = "MINT_TUI_HOME"


def assets_dir() -> Path:
    """The project's read-only ``assets/`` folder (PyInstaller-aware)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def _home_override() -> Path | None:
    value = os.environ.get(HOME_ENV)
    if value:
        return Path(value).expanduser()
    return None


def user_data_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "data"
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "config"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    home = _home_override()
    if home is not None:
        return home / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def pairs_dir() -> Path:
    """Where user-installed ``.mintpair`` bundles live."""
    return user_data_dir() / "pairs"
