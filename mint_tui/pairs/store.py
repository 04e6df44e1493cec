"""The local store of installed MINT pairs.

User pairs live in ``<root>/<name>.mintpair`` (``root`` defaults to
:func:`mint_tui.paths.pairs_dir`); read-only built-in pairs ship with the app
in ``mint_tui/assets/pairs``.  Installs and removals hold an exclusive lock and go
through a temporary file plus ``os.replace``, so a failure or crash never
leaves a half-written bundle under a pair name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from mint_tui import paths
from mint_tui.fileio import atomic_write, fsync_dir
from mint_tui.pairs.bundle import BUNDLE_SUFFIX, inspect_bundle, read_manifest
from mint_tui.pairs.verify import MAX_BUNDLE_BYTES, BundleError
from mint_tui.pairs.manifest import SLUG_RE, Manifest

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "PairEntry",
    "PairStore",
    "StoreError",
    "PairNotFoundError",
    "PairExistsError",
    "BuiltinPairError",
]

LOCK_NAME = ".lock"
#: The bundled pair used when none is chosen: the bank-free CNN demo pair (it holds no member data).
DEFAULT_PAIR = "demo-lfw-cnn"
_TMP_PREFIX = ".install-"
_TMP_SUFFIX = ".tmp"


class StoreError(Exception):
    """A pair store operation failed."""


class PairNotFoundError(StoreError, KeyError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = list(known)
        listing = ", ".join(self.known) if self.known else "none installed"
        super().__init__(f"no pair named {name!r} (known pairs: {listing})")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class PairExistsError(StoreError):
    pass


class BuiltinPairError(StoreError):
    pass


@dataclass(frozen=True)
class PairEntry:
    name: str
    title: str
    path: Path
    builtin: bool
    manifest: Manifest | None
    error: str | None = None


def _entry_for(path: Path, builtin: bool) -> PairEntry:
    stem = path.name[: -len(BUNDLE_SUFFIX)]
    try:
        manifest = read_manifest(path)
    except BundleError as exc:
        return PairEntry(name=stem, title=stem, path=path, builtin=builtin, manifest=None, error=str(exc))
    except OSError as exc:
        return PairEntry(name=stem, title=stem, path=path, builtin=builtin, manifest=None, error=f"{path}: {exc}")
    if manifest.pair.name != stem:
        return PairEntry(
            name=stem,
            title=manifest.pair.title,
            path=path,
            builtin=builtin,
            manifest=manifest,
            error=f"{path}: file name does not match the pair name {manifest.pair.name!r}",
        )
    return PairEntry(name=stem, title=manifest.pair.title, path=path, builtin=builtin, manifest=manifest)


def _bundles_in(directory: Path) -> list[Path]:
    try:
        children = list(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = [
        p
        for p in children
        if p.name.endswith(BUNDLE_SUFFIX) and not p.name.startswith(".") and p.is_file()
    ]
    return sorted(out, key=lambda p: p.name)


class PairStore:
    def __init__(self, root: Path | None = None, builtin_dir: Path | None = None):
        self.root = Path(root) if root is not None else paths.pairs_dir()
        self.builtin_dir = Path(builtin_dir) if builtin_dir is not None else paths.builtin_pairs_dir()

    # ------------------------------------------------------------ listing
    def _builtins(self) -> list[PairEntry]:
        return [_entry_for(p, builtin=True) for p in _bundles_in(self.builtin_dir)]

    def _user(self) -> list[PairEntry]:
        return [_entry_for(p, builtin=False) for p in _bundles_in(self.root)]

    def list(self) -> list[PairEntry]:
        """Built-in pairs first, then user pairs, each sorted by name.

        Files that cannot be read appear with ``error`` set.
        """
        builtins = self._builtins()
        builtin_names = {e.name for e in builtins}
        user = []
        for e in self._user():
            if e.name in builtin_names and e.error is None:
                e = PairEntry(
                    name=e.name,
                    title=e.title,
                    path=e.path,
                    builtin=False,
                    manifest=e.manifest,
                    error=f"{e.path}: shadowed by the built-in pair of the same name; remove it",
                )
            user.append(e)
        return builtins + user

    def names(self) -> list[str]:
        return [e.name for e in self.list()]

    def get(self, name: str) -> PairEntry:
        """The entry called ``name`` (a built-in wins over a user pair)."""
        entries = self.list()
        for e in entries:
            if e.name == name:
                return e
        raise PairNotFoundError(name, [e.name for e in entries])

    def default_pair_name(self) -> str | None:
        """The bank-free demo pair when it is usable (never a pair holding member data by accident of
        sort order), else the first usable bundled demo pair, else the first pair."""
        entries = self.list()
        usable = [e for e in entries if e.builtin and e.error is None]
        for e in usable:
            if e.name == DEFAULT_PAIR:
                return e.name
        for e in usable:
            if e.name.startswith("demo"):
                return e.name
        return entries[0].name if entries else None

    def verify(self, name: str) -> Manifest:
        """Full inspection of an installed pair (raises :class:`BundleError`)."""
        return inspect_bundle(self.get(name).path)

    # ------------------------------------------------------------ changes
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _remove_stale_temps(self) -> None:
        """Delete temporary copies left by installs that were killed (kill -9, power loss).

        Only an install holding the lock writes such a file, and we hold it now: any that exists is
        a leftover. (They never show as pairs: listings skip names starting with '.'.)
        """
        for leftover in self.root.glob(f"{_TMP_PREFIX}*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _builtin_names(self) -> set[str]:
        return {p.name[: -len(BUNDLE_SUFFIX)] for p in _bundles_in(self.builtin_dir)}

    def install(self, bundle_path: str | os.PathLike[str], replace: bool = False) -> PairEntry:
        """Verify and install a bundle as ``<root>/<name>.mintpair``.

        The bytes are copied to a temporary file in the store first and that
        copy is what gets inspected and then atomically renamed into place.
        """
        src = Path(bundle_path)
        try:
            st = src.stat()
        except FileNotFoundError:
            raise BundleError(f"{src}: no such file") from None
        size = st.st_size
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the reading forever, a device never end
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else \
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
            raise BundleError(f"{src}: not a regular file ({kind}); give a .mintpair file")
        if size > MAX_BUNDLE_BYTES:
            raise BundleError(f"{src}: {size} bytes is larger than the {MAX_BUNDLE_BYTES}-byte limit")
        # Cheap structural + manifest check so obvious junk is never copied
        # into the store; the full inspection runs on the copy below.
        read_manifest(src)
        checked: list[Manifest] = []

        def verified_destination(tmp: Path) -> Path:
            try:
                manifest = inspect_bundle(tmp)  # what we install is what we checked
            except BundleError as exc:  # name the user's file, not our temporary copy
                raise BundleError(str(exc).replace(str(tmp), str(src))) from None
            name = manifest.pair.name
            if name in self._builtin_names():
                raise BuiltinPairError(f"{name!r} is a built-in pair and cannot be replaced")
            dest = self.root / f"{name}{BUNDLE_SUFFIX}"
            if dest.exists() and not replace:
                raise PairExistsError(f"a pair named {name!r} is already installed (use replace to overwrite it)")
            checked.append(manifest)
            return dest

        with self._locked():
            self._remove_stale_temps()
            with atomic_write(self.root / "pending", binary=True, destination=verified_destination,
                              prefix=_TMP_PREFIX) as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out, 1024 * 1024)
        manifest = checked[0]
        name, dest = manifest.pair.name, self.root / f"{manifest.pair.name}{BUNDLE_SUFFIX}"
        return PairEntry(name=name, title=manifest.pair.title, path=dest, builtin=False, manifest=manifest)

    def remove(self, name: str) -> None:
        if not SLUG_RE.fullmatch(name or ""):
            raise PairNotFoundError(name, self.names())
        if name in self._builtin_names():
            raise BuiltinPairError(f"{name!r} is a built-in pair and cannot be removed")
        with self._locked():
            dest = self.root / f"{name}{BUNDLE_SUFFIX}"
            try:
                dest.unlink()
            except FileNotFoundError:
                raise PairNotFoundError(name, self.names()) from None
            fsync_dir(self.root)

    def export(self, name: str, dest: str | os.PathLike[str]) -> Path:
        """Copy an installed pair to ``dest`` (a file, or a directory to put
        ``<name>.mintpair`` in) atomically; the copy is verified first. An
        existing file is never replaced."""
        entry = self.get(name)
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"{entry.name}{BUNDLE_SUFFIX}"
        if dest.exists():
            raise FileExistsError(errno.EEXIST, "already exists (a pair is never exported over a file)", str(dest))
        with atomic_write(dest, binary=True, check=inspect_bundle) as out, open(entry.path, "rb") as inp:
            shutil.copyfileobj(inp, out, 1024 * 1024)
        return dest
