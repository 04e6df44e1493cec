"""What a result file's header says about the pairs of its audit, read without loading the
pipeline (the TUI reads it on its UI thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mint_tui.pairs.manifest import Calibration


def header_pairs(header: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The pairs a result header records (``"pairs"``; a file from before several pairs: its one
    ``"pair"``), each a dict with at least a ``"name"``."""
    header = header or {}
    pairs = header.get("pairs")
    if isinstance(pairs, list):
        return [p for p in pairs if isinstance(p, dict)]
    one = header.get("pair")
    return [one] if isinstance(one, dict) else []


def recorded_calibration(header: dict[str, Any] | None, pair: str | None = None) -> Calibration | None:
    """The threshold and inconclusive band a result header recorded for ``pair`` (None: its first
    pair), or None."""
    from mint_tui.pairs.manifest import Calibration

    entries = header_pairs(header)
    entry = next((e for e in entries if pair is None or e.get("name") == pair), None) or {}
    try:
        low, high = entry["inconclusive"]
        return Calibration(float(entry["threshold"]), (float(low), float(high)), on="recorded in the results")
    except (KeyError, TypeError, ValueError):
        return None
