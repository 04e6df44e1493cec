"""Filesystem locations used by mint-tui.

Nothing is created at import time; callers create directories when they
actually need to write.  Setting ``MINT_TUI_HOME`` redirects every per-user
directory below that folder (``data``, ``config``, ``cache``), which tests use
for isolation.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "mint-tui"
HOME_ENV = "MINT_TUI_HOME"


def assets_dir() -> Path:
    """mint-tui's read-only package data, ``mint_tui/assets``: detector models, bundled pairs, samples.

    The one place that says where they are: in an installed package (editable or not, from a wheel,
    pipx, ...) through ``importlib.resources``; in the PyInstaller executable at
    ``<sys._MEIPASS>/mint_tui/assets``.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "mint_tui" / "assets"
    folder = importlib.resources.files("mint_tui") / "assets"
    if not isinstance(folder, Path):  # e.g. imported from a zip: the detector needs real files
        raise RuntimeError(f"mint_tui's data files are not in a folder on disk ({folder}); "
                           "install mint-tui as a package (pip install), not as a zip")
    return folder


def detector_dir() -> Path:
    """The face-detection models (with their SHA256SUMS and licence)."""
    return assets_dir() / "detector"


def builtin_pairs_dir() -> Path:
    """The bundled, read-only ``.mintpair`` pairs (always available)."""
    return assets_dir() / "pairs"


def samples_dir() -> Path:
    """The sample LFW photos, one folder per person (what ``make run`` and the TUI's first start offer)."""
    return assets_dir() / "samples"


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
