"""The on-disk caches of pair building: what they hold, how big they are, and their size budget.

Two caches live in the user cache folder (``paths.user_cache_dir()``):

* ``crops/<settings>/<sha[:2]>/<sha>.npz``: the aligned faces of one image (per detection and
  alignment settings), one file per image;
* ``activations/<key>-<tap>.npy``: the audited model's activations of one ordered set of faces, one
  file per tap, with ``<key>.json`` saying which model, taps, form (``maps``: float16 feature maps;
  ``pooled``: per-channel means, what MLP MINT reads) and how many faces.

Every use of an entry renews its modification time, so the budget (``cache.limit`` in
``settings.toml`` in the user config folder; default :data:`DEFAULT_LIMIT`) evicts the least
recently used entries first. Entries used by a run that is still going (since this process started,
or by another process in the last :data:`IN_USE_SECONDS`) are never evicted: a run larger than the
budget keeps its own data and the cache is over budget until the next eviction.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mint_tui import paths

DEFAULT_LIMIT = 20 * 1000**3  # 20 GB
SETTINGS_NAME = "settings.toml"
KINDS = ("crops", "activations")
IN_USE_SECONDS = 600.0  # an entry used this recently by another process may still be open
_STARTED = time.time()
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int | None:
    """'20GB', '500 MiB', '1.5g', '0' -> bytes; 'none' or 'unlimited' -> None (no limit)."""
    s = str(text).strip().lower()
    if s in ("none", "unlimited", "off"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", s)
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"not a size: {text!r} (examples: 20GB, 500MiB, none)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def format_size(n: float | None) -> str:
    if n is None:
        return "unlimited"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


# ------------------------------------------------------------------ settings
def settings_path() -> Path:
    return paths.user_config_dir() / SETTINGS_NAME


def _read_settings() -> dict:
    try:
        with open(settings_path(), "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def cache_limit() -> int | None:
    """The cache budget in bytes (None: unlimited). A missing or unreadable setting is the default."""
    section = _read_settings().get("cache")
    value = section.get("limit", DEFAULT_LIMIT) if isinstance(section, dict) else DEFAULT_LIMIT
    if isinstance(value, bool):
        return DEFAULT_LIMIT
    if isinstance(value, int) and value >= 0:
        return value
    try:
        return parse_size(value) if isinstance(value, str) else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT


def set_cache_limit(limit: int | None) -> Path:
    """Write ``cache.limit`` (bytes, or "none") into settings.toml, keeping its other settings."""
    import tomli_w

    from mint_tui.fileio import atomic_write_text

    doc = _read_settings()
    section = doc.get("cache") if isinstance(doc.get("cache"), dict) else {}
    doc["cache"] = {**section, "limit": "none" if limit is None else int(limit)}
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, tomli_w.dumps(doc))
    return path


# ------------------------------------------------------------------ entries
def cache_root() -> Path:
    return paths.user_cache_dir()


@dataclass
class Entry:
    """One unit of eviction: a crop file, or the files of one activation set."""

    kind: str
    group: str  # crops: the settings; activations: the model
    files: list[Path]
    size: int
    last_used: float
    faces: int = 0
    detail: dict = field(default_factory=dict)


def touch(path: Path) -> None:
    """Mark a cache file as used now (the LRU clock); never fails."""
    try:
        os.utime(path)
    except OSError:
        pass


def _stat(path: Path) -> tuple[int, float]:
    try:
        st = path.stat()
    except OSError:
        return 0, 0.0
    return st.st_size, st.st_mtime


def _crop_entries(root: Path) -> Iterable[Entry]:
    base = root / "crops"
    if not base.is_dir():
        return
    for settings_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for dirpath, _dirs, files in os.walk(settings_dir):
            for name in files:
                path = Path(dirpath) / name
                size, mtime = _stat(path)
                yield Entry("crops", settings_dir.name, [path], size, mtime, faces=int(name.endswith(".npz")))


def read_activation_meta(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _activation_entries(root: Path) -> Iterable[Entry]:
    base = root / "activations"
    if not base.is_dir():
        return
    by_key: dict[str, list[Path]] = defaultdict(list)
    for path in base.iterdir():
        if path.is_file():
            by_key[path.name.split("-", 1)[0].split(".", 1)[0]].append(path)
    for key in sorted(by_key):
        files = sorted(by_key[key])
        meta = read_activation_meta(base / f"{key}.json")
        stats = [_stat(p) for p in files]
        model = meta.get("model") if isinstance(meta.get("model"), str) else ""
        digest = meta.get("model_digest") if isinstance(meta.get("model_digest"), str) else ""
        group = f"{model or 'unknown model'} (weights {digest[:12]})" if digest else "unknown model (no record)"
        faces = meta.get("faces") if isinstance(meta.get("faces"), int) else 0
        yield Entry("activations", group, files, sum(s for s, _ in stats), max(m for _, m in stats), faces, meta)


def scan(root: Path | None = None) -> list[Entry]:
    root = Path(root or cache_root())
    return [*_crop_entries(root), *_activation_entries(root)]


def _remove(entry: Entry) -> int:
    freed = 0
    for path in entry.files:
        try:
            size = path.stat().st_size
            path.unlink()
            freed += size
        except OSError:
            pass
    return freed


def clear(kind: str | None = None, root: Path | None = None) -> tuple[int, int]:
    """Delete every entry (of ``kind``); returns (entries removed, bytes freed)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown cache {kind!r}; known: {', '.join(KINDS)}")
    root = Path(root or cache_root())
    entries = [e for e in scan(root) if kind is None or e.kind == kind]
    freed = sum(_remove(e) for e in entries)
    for k in KINDS if kind is None else (kind,):
        if (root / k).is_dir():  # empty sub-folders left by the crops
            for dirpath, dirs, files in sorted(os.walk(root / k), key=lambda t: -len(t[0])):
                if not dirs and not files and Path(dirpath) != root / k:
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass
    tmp = root / "tmp"
    if kind is None and tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    return len(entries), freed


@dataclass
class Eviction:
    removed: int
    freed: int
    total: int  # bytes in the cache afterwards
    limit: int | None


def enforce_limit(limit: int | None = -1, root: Path | None = None, now: float | None = None) -> Eviction:
    """Evict least-recently-used entries until the cache fits ``limit`` (default: the setting).

    Entries used since this process started, or in the last ``IN_USE_SECONDS``, are kept."""
    if limit == -1:
        limit = cache_limit()
    entries = scan(root)
    total = sum(e.size for e in entries)
    if limit is None or total <= limit:
        return Eviction(0, 0, total, limit)
    protect_after = min(_STARTED, (now or time.time()) - IN_USE_SECONDS)
    removed = freed = 0
    for entry in sorted(entries, key=lambda e: e.last_used):
        if total <= limit:
            break
        if entry.last_used >= protect_after:
            continue
        got = _remove(entry)
        removed, freed, total = removed + 1, freed + got, total - got
    return Eviction(removed, freed, total, limit)


def summary(root: Path | None = None) -> dict:
    """What ``mint-tui cache info`` shows: per cache and per model/settings group, sizes and faces."""
    root = Path(root or cache_root())
    groups: dict[tuple[str, str, str], dict] = {}
    for e in scan(root):
        form = e.detail.get("form") if isinstance(e.detail.get("form"), str) else ""
        g = groups.setdefault((e.kind, e.group, form), {"kind": e.kind, "group": e.group, "bytes": 0, "entries": 0,
                                                  "faces": 0, "last_used": 0.0, "forms": set(), "taps": set()})
        g["bytes"] += e.size
        g["entries"] += 1
        g["faces"] += e.faces
        g["last_used"] = max(g["last_used"], e.last_used)
        if isinstance(e.detail.get("form"), str):
            g["forms"].add(e.detail["form"])
        if isinstance(e.detail.get("taps"), list):
            g["taps"].update(str(t) for t in e.detail["taps"])
    rows = [{**g, "forms": sorted(g["forms"]), "taps": sorted(g["taps"])} for g in groups.values()]
    return {"folder": str(root), "limit": cache_limit(), "settings": str(settings_path()),
            "total": sum(r["bytes"] for r in rows), "groups": rows}
