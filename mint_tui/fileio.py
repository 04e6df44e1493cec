"""Files on disk: the one atomic writer and the one file hasher.

Every file mint-tui writes for keeps (results, reports, bundles, the pair store, settings) goes
through :func:`atomic_write`: a temporary file beside the destination, flushed and fsynced, renamed
onto the destination, then the folder itself fsynced so that the rename survives a power cut. A
failure at any point leaves the old file (or none) and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

_CHUNK = 1024 * 1024


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (after a rename into it) where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def default_file_mode() -> int:
    """0666 less the process umask: the mode ``open()`` would give a new file (mkstemp makes 0600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, binary: bool = False,
                 check: Callable[[Path], object] | None = None, destination: Callable[[Path], Path] | None = None,
                 prefix: str | None = None) -> Iterator[IO[Any]]:
    """Write ``path`` all or nothing: yields a file object on a temp file beside it.

    On a clean exit the temp file is fsynced, ``check(temp_path)`` runs when given (it may raise
    to refuse the file), ``destination(temp_path)`` when given names the file to rename onto
    instead of ``path``, in the same folder (the pair store names a bundle after the manifest it
    has just verified; it may raise too), the temp file is renamed and the folder fsynced. On any exception the temp file is removed and the destination is left
    as it was. ``prefix`` names the temp file (default ``.NAME.``; it always ends in ``.tmp``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, default_file_mode())  # an ordinary file, as open() would make it
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if check is not None:
            check(Path(tmp))
        if destination is not None:
            path = destination(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text (UTF-8, newlines as given) to ``path`` with :func:`atomic_write`."""
    with atomic_write(path) as fh:
        fh.write(text)
    return Path(path)


def file_sha256(source: str | os.PathLike[str] | IO[bytes]) -> str:
    """The SHA-256 (hex) of a file's bytes, read in chunks: a path, or a binary file object read
    from where it stands to its end (the caller seeks back when it reads on)."""
    h = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        fh = source if hasattr(source, "read") else stack.enter_context(open(source, "rb"))
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
