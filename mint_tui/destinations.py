"""Output destinations, checked before any work starts: no output may destroy an input.

Every command that writes files (audit results, reports, bundles, metrics, plots) passes all its
destinations and all its inputs to :func:`check_destinations` first, so that a bad destination is
found before an hour of work, not after it. The rules:

- ``'-'`` is standard output (where the option allows it); an empty name is refused;
- a destination that is a symbolic link is written *through*: the file written is the link's
  target, and the link stays a link; a link to something that is not a regular file (a device, a
  pipe) is refused, as is a destination that is itself a folder, a device, a FIFO or a socket,
  or anything in /proc, /sys or /dev (``/proc/self/fd/1`` is whatever standard output is);
- the destination's folder must exist or be creatable, and a file must be creatable in it (tried
  for real, so read-only file systems and ``/proc`` are caught);
- a destination may not be one of the inputs (the same file, after resolving links, hard links
  included), nor an image inside an input folder, nor the destination of another option.

Imports nothing heavy: the CLI calls it before torch is loaded.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from mint_tui.imagefiles import is_image_name


class DestinationError(ValueError):
    """An output destination that cannot or must not be written; the message names the option."""


_KINDS = ((stat.S_ISDIR, "a folder; give a file name"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISFIFO, "a FIFO (pipe)"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def _writable_folder(folder: Path, option: str) -> None:
    """The nearest existing folder on the way to ``folder`` accepts a new file (tried for real
    where ``folder`` exists)."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise DestinationError(f"{option}: cannot write in {folder}: {probe} is not a folder")
    if probe != folder:  # created later with its parents: the existing ancestor must let us
        if not os.access(probe, os.W_OK | os.X_OK):
            raise DestinationError(f"{option}: cannot create the folder {folder}: {probe} is not writable")
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=".mint-tui-probe.", dir=folder)
    except OSError as exc:
        raise DestinationError(f"{option}: cannot write a file in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)


def resolve_destination(option: str, dest: str | os.PathLike[str]) -> Path:
    """The real path a destination is written to (links resolved), or DestinationError."""
    text = os.fspath(dest)
    if text == "":
        raise DestinationError(f"{option}: the file name is empty")
    path = Path(text).expanduser()
    try:
        st = os.stat(path)  # follows links: what a write would reach
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise DestinationError(f"{option}: cannot use {text}: a part of the path is not a folder") from None
    except OSError as exc:
        raise DestinationError(f"{option}: cannot use {text}: {exc.strerror or exc}") from None
    if st is not None and (kind := _kind(st.st_mode)) is not None:
        via = " (through a symbolic link)" if path.is_symlink() else ""
        hint = "" if kind.startswith("a folder") else "; write to a regular file, or use '-' for standard output"
        raise DestinationError(f"{option}: {text} is {kind}{via}{hint}")
    _no_special_file_system(option, text, path)
    real = Path(os.path.realpath(path))
    _writable_folder(real.parent, option)
    return real


_SPECIAL = ("/proc", "/sys", "/dev")


def _no_special_file_system(option: str, text: str, path: Path) -> None:
    """Refuse a destination in (or a link into) /proc, /sys or /dev: ``/proc/self/fd/1`` names
    whatever standard output is, and writing a file "there" would replace the shell's own."""
    hop = Path(os.path.abspath(path))
    for _ in range(40):
        if any(hop == Path(top) or Path(top) in hop.parents for top in _SPECIAL):
            raise DestinationError(f"{option}: {text} is in /{hop.parts[1]}, not a regular "
                                   "file; write to a regular file, or use '-' for standard output")
        if not hop.is_symlink():
            return
        hop = Path(os.path.abspath(hop.parent / os.readlink(hop)))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def check_destinations(outputs: Mapping[str, str | os.PathLike[str] | None],
                       inputs: Iterable[str | os.PathLike[str]] = (), *,
                       stdout_ok: Iterable[str] = ()) -> dict[str, Path | None]:
    """Check every output destination (``{option: destination or None}``) against the inputs and
    each other before work starts. Returns ``{option: real path}`` for each given destination
    (``None`` for ``'-'``, standard output, allowed for the options in ``stdout_ok``). Raises
    :class:`DestinationError` (a ValueError) naming the option and the problem."""
    stdout_ok = set(stdout_ok)
    resolved: dict[str, Path | None] = {}
    for option, dest in outputs.items():
        if dest is None:
            continue
        if os.fspath(dest) == "-":
            if option not in stdout_ok:
                raise DestinationError(f"{option}: cannot write to standard output ('-'); give a file name")
            resolved[option] = None
            continue
        resolved[option] = resolve_destination(option, dest)
    to_stdout = [option for option, real in resolved.items() if real is None]
    if len(to_stdout) > 1:
        raise DestinationError(f"only one of {', '.join(to_stdout)} can write to standard output")
    files = [(option, real) for option, real in resolved.items() if real is not None]
    for k, (option, real) in enumerate(files):
        for other, other_real in files[:k]:
            if real == other_real or _same_file(real, other_real):
                raise DestinationError(f"{other} and {option} name the same file ({real}); give different files")
    sources = []
    for raw in inputs:
        if raw is None or os.fspath(raw) in ("", "-"):
            continue
        sources.append((os.fspath(raw), Path(os.path.realpath(Path(os.fspath(raw)).expanduser()))))
    for option, real in files:
        for text, source in sources:
            if real == source or _same_file(real, source):
                raise DestinationError(f"{option}: {real} is one of the inputs ({text}); writing it would destroy "
                                       "it. Give another file name")
            if source.is_dir() and _inside(real, source) and real.exists() and is_image_name(real):
                raise DestinationError(f"{option}: {real} is an image inside the input folder {text}; writing it "
                                       "would destroy it. Give another file name")
    return resolved
