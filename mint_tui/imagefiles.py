"""Image files on disk: which names are images, and the one walk of files and folders that the
audit, training and the TUI's image counter share.

Standard library only, so that the TUI can filter and count before OpenCV or torch is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

#: Suffixes taken from folders (a file named explicitly is taken whatever its suffix).
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".pgm", ".ppm", ".pnm", ".jp2",
     ".heic", ".heif", ".avif"}
)


def is_image_name(name: str | os.PathLike[str]) -> bool:
    """Whether a file name has an image suffix (case-insensitive)."""
    return os.path.splitext(os.fspath(name))[1].lower() in IMAGE_SUFFIXES


def walk_images(paths: Iterable[str | os.PathLike[str]],
                problem: Callable[[Path, str], None] | None = None) -> Iterator[Path]:
    """Expand files and folders (recursively, sorted by name) into image files, lazily.

    Files named explicitly are kept whatever their suffix (the decoder decides); inside folders
    every entry with an image suffix that is not a folder is taken, including broken links, link
    loops and special files, so that each gets its own error later. Symlinked folders are followed
    once (loops are cut). A folder that cannot be listed is reported to ``problem(folder, why)``.
    The walk is iterative: no depth of nesting can exhaust the stack.
    """
    seen_dirs: set[tuple[int, int]] = set()  # (device, inode) of every folder listed

    def listing(folder: Path, entry: os.DirEntry[str] | None = None) -> Iterator[os.DirEntry[str]] | None:
        try:
            st = entry.stat() if entry is not None else os.stat(folder)
            if (st.st_dev, st.st_ino) in seen_dirs:
                return None
            seen_dirs.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                return iter(sorted(it, key=lambda e: e.name))
        except OSError as exc:
            if problem is not None:
                problem(folder, f"cannot list folder: {exc.strerror or exc}")
            return None

    for raw in paths:
        top = Path(raw)
        if not top.is_dir():
            yield top  # missing or unreadable: the reader gives the reason in its row
            continue
        first = listing(top)
        stack = [first] if first is not None else []
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:  # e.g. a symbolic link loop: not a folder
                is_dir = False
            if is_dir:
                sub = listing(Path(entry.path), entry)
                if sub is not None:
                    stack.append(sub)
            elif is_image_name(entry.name):
                yield Path(entry.path)


def find_images(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """:func:`walk_images` collected: (image files, [(folder that cannot be listed, why)])."""
    problems: list[tuple[Path, str]] = []
    files = list(walk_images(paths, lambda folder, why: problems.append((folder, why))))
    return files, problems


def count_images(paths: Iterable[str | os.PathLike[str]], cancelled: Callable[[], bool] = lambda: False,
                 limit: int = 1_000_000) -> int:
    """How many image files :func:`walk_images` finds, stopping early at ``limit`` or when
    ``cancelled()`` (checked per file)."""
    n = 0
    for _ in walk_images(paths):
        n += 1
        if n >= limit or cancelled():
            break
    return n
