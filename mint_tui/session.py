"""One audit session, the same for the command line and the TUI.

    request -> rows -> people -> result header -> exports

An :class:`AuditRequest` says what to audit (paths), with which pairs (names or ``.mintpair``
files, or every pair: :data:`ALL_PAIRS`), how (:class:`mint_tui.options.AuditOptions`) and which
people to test (marked paths, each with a person's name or :data:`PER_FOLDER`). :func:`open_audit`
resolves the pairs and the device, loads the pairs (one that cannot be loaded is set aside with the
reason, the others go on) and makes the result header; :func:`run` streams the rows into :class:`Exports`
(JSON Lines and CSV written row by row into ``FILE.partial``, one JSON document at the end) and
hands each row to the caller, then groups the people (:func:`group_people`, the one grouping
function) and runs the identity-level test on them with every pair, adjusted across the pairs
(:func:`mint_tui.identity.adjust_across_pairs`). Ctrl-C (KeyboardInterrupt) or a set
``request.cancel`` ends it early with every row so far kept and the exports marked interrupted;
a crash leaves the ``.partial`` files where they cannot be mistaken for a finished audit.

Cheap to import: torch, OpenCV and MediaPipe load inside the functions that need them, so that
the TUI can build its request before they are loaded.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mint_tui.display import display_path
from mint_tui.options import DEFAULT_ALPHA, VERDICTS, AuditOptions

if TYPE_CHECKING:
    from mint_tui.audit import AuditProgress, RecordedRows, ResultRow
    from mint_tui.identity import IdentityResult, IdentityTest
    from mint_tui.pairs.loaded import LoadedPair
    from mint_tui.pairs.store import PairStore
    from mint_tui.results import RowStream

#: The person's name of marks grouped "one person per folder": each folder that directly holds
#: images is one person, named after that folder.
PER_FOLDER = ""

#: The pair spec that names every installed and bundled pair.
ALL_PAIRS = "all"

#: Output kinds, in the order the command line names them.
OUTPUT_KINDS = ("json", "jsonl", "csv")


class RequestError(Exception):
    """The request cannot be run as asked (found before anything is loaded or audited); the
    message says why."""


class PairUnavailable(RequestError):
    """The pair asked for cannot be found or used."""


class OutputError(RequestError):
    """The output destinations asked for cannot be used."""


# ---------------------------------------------------------------- the request
@dataclass
class AuditRequest:
    """What to audit, with which pairs, how, and which people to test.

    ``pair`` is one installed pair's name or a ``.mintpair`` file (None: the default pair), a list
    of them, several names joined by commas (``"A,B"``), or :data:`ALL_PAIRS` (every installed and
    bundled pair). Each image is prepared once per distinct preprocessing and scored by every pair.
    """

    paths: list[str]
    pair: str | Sequence[str] | None = None
    options: AuditOptions = field(default_factory=AuditOptions)
    #: (marked path, person's name or PER_FOLDER): the people of the identity-level test
    people: list[tuple[str, str]] = field(default_factory=list)
    alpha: float = DEFAULT_ALPHA
    cancel: threading.Event = field(default_factory=threading.Event)
    #: run the rows on Ray (:mod:`mint_tui.ray_audit`): a cluster's address, or ``"local"`` for a
    #: Ray started here; None: in this process
    ray: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")


def everyone_is(name: str, paths: Iterable[str]) -> list[tuple[str, str]]:
    """People of a request: every given path shows the one person ``name``."""
    return [(str(p), name) for p in paths]


def one_person_per_folder(paths: Iterable[str]) -> list[tuple[str, str]]:
    """People of a request: each folder that directly holds images is one person."""
    return [(str(p), PER_FOLDER) for p in paths]


# ---------------------------------------------------------------- the pair
def resolve_pair(spec: str | os.PathLike[str] | None, store: PairStore | None = None) -> Path:
    """A pair name from the store, or a path to a ``.mintpair`` file, as the bundle's path.

    A spec ending in ``.mintpair`` or holding a path separator is a file; anything else a name in
    the store (None: the store's default pair). Raises :class:`PairUnavailable` saying why not.
    """
    from mint_tui.pairs.store import PairNotFoundError, PairStore

    text = None if spec is None else os.fspath(spec)
    if text and names_a_file(text):
        path = Path(text)
        if not path.is_file():
            raise PairUnavailable(f"no pair file {text}")
        return path
    store = store if store is not None else PairStore()
    name = text or store.default_pair_name()
    if name is None:
        raise PairUnavailable("no pair is installed; install one with `mint-tui pairs install FILE`")
    try:
        entry = store.get(name)
    except PairNotFoundError as exc:
        raise PairUnavailable(str(exc)) from None
    if entry.error:
        raise PairUnavailable(f"pair {name!r} is unusable: {entry.error}")
    return entry.path


def pair_specs(spec: str | Sequence[str] | None) -> list[str | None]:
    """The pairs a request names: a list as it is, ``"A,B"`` split (unless a file), None as ``[None]``."""
    if spec is None:
        return [None]
    if not isinstance(spec, str):
        return list(spec) or [None]
    if "," in spec and not Path(spec).is_file():
        return [part.strip() for part in spec.split(",") if part.strip()] or [None]
    return [spec]


def resolve_pairs(spec: str | Sequence[str] | None, store: PairStore | None = None
                  ) -> tuple[list[Path], list[tuple[str, str]]]:
    """The bundles a request names (:func:`pair_specs`; :data:`ALL_PAIRS`: the store's), each once,
    and (spec, why) for each that cannot be used; :class:`PairUnavailable` when none is named."""
    from mint_tui.pairs.store import PairStore

    store = store if store is not None else PairStore()
    found: list[Path] = []
    failed: list[tuple[str, str]] = []
    if spec == ALL_PAIRS:
        entries = store.list()
        if not entries:
            raise PairUnavailable("no pair is installed; install one with `mint-tui pairs install FILE`")
        for entry in entries:
            if entry.error:
                failed.append((entry.name, f"pair {entry.name!r} is unusable: {entry.error}"))
            else:
                found.append(entry.path)
        return found, failed
    for one in pair_specs(spec):
        try:
            path = resolve_pair(one, store)
        except PairUnavailable as exc:
            failed.append((one or "default", str(exc)))
            continue
        if all(path.resolve() != p.resolve() for p in found):
            found.append(path)
    return found, failed


def names_a_file(spec: str) -> bool:
    """Whether a pair spec is a ``.mintpair`` file (it ends so, or holds a path separator) rather
    than a name in the store."""
    from mint_tui.pairs.bundle import BUNDLE_SUFFIX

    return spec.endswith(BUNDLE_SUFFIX) or os.sep in spec or "/" in spec


# ---------------------------------------------------------------- one audit
class Audit:
    """The audit of a request with one pair or several: the loaded pairs, those set aside
    (``failed``: (spec, why)), the device, the options as run (workers resolved) and the result
    header; :meth:`rows` runs it, :meth:`people` tests the people with every pair."""

    def __init__(self, request: AuditRequest, pairs: LoadedPair | Sequence[LoadedPair], device: str,
                 options: AuditOptions, failed: Sequence[tuple[str, str]] = (),
                 pair_paths: Sequence[Path] = ()) -> None:
        from mint_tui.results import audit_header

        self.request, self.device, self.options = request, device, options
        self.pairs: list[LoadedPair] = list(pairs) if isinstance(pairs, (list, tuple)) else [pairs]
        self.failed, self.pair_paths = list(failed), list(pair_paths)  # (a Ray audit ships the bundle's bytes)
        self.header = audit_header(self.pairs, device, options)
        if request.ray is not None:
            self.header["ray"] = request.ray
        if self.failed:
            self.header["pairs_failed"] = [{"pair": spec, "error": why} for spec, why in self.failed]
        self.tests: dict[str, IdentityTest] = {}  # the identity test of each pair that can run it, by name
        self.identity_problems: dict[str, str] = {}  # why a pair cannot test the people, by pair name
        if request.people:
            from mint_tui import identity

            for pair in self.pairs:
                try:
                    self.tests[pair.name] = identity.IdentityTest(pair.calibration_scores, request.alpha)
                except ValueError as exc:
                    self.identity_problems[pair.name] = str(exc)

    @property
    def pair(self) -> LoadedPair:  # the first pair (the only one of a one-pair audit)
        return self.pairs[0]

    @property
    def identity_problem(self) -> str:
        """Why no pair can test the people of the request ("" when one can, or there are none)."""
        problems = {} if self.tests else self.identity_problems
        joined = "; ".join(f"{name}: {why}" for name, why in problems.items())
        return next(iter(problems.values())) if len(problems) == 1 else joined

    def rows(self, progress: Callable[[AuditProgress], None] | None = None,
             recorded: RecordedRows | None = None) -> Iterator[ResultRow]:
        """The audit's rows as they are computed (a generator: close it to stop; see
        :func:`mint_tui.audit.run_audit` for their order); ``recorded``: the rows of the audit this
        one resumes (one pair only), replayed (marked ``resumed``)."""
        if self.request.ray is not None:
            from mint_tui.ray_audit import ray_rows

            if recorded is not None:
                raise RequestError("a Ray audit cannot resume another audit")
            return ray_rows(self.request.paths, self.pair_paths[0], self.pair.bundle_sha256, self.options, self.device,
                            self.request.ray, progress=progress, cancel=self.request.cancel)
        from mint_tui.audit import run_audit

        return run_audit(self.request.paths, self.pairs, self.options, progress=progress, cancel=self.request.cancel,
                         recorded=recorded)

    def people(self, rows: Iterable[Any]) -> list[IdentityResult] | None:
        """The identity-level test of each person with each pair that can run it, adjusted across
        those pairs (Holm), person by person, pairs in the audit's order. ``rows``: anything with
        ``path``, ``sha256``, ``face``, ``score``, ``pair`` (None: the first); a byte-identical repeat
        of a person's photo counts once. None when there are no people or no pair can test them."""
        if not self.tests:
            return None
        from mint_tui.identity import DuplicateFaces, adjust_across_pairs

        first = self.pairs[0].name
        by_pair: dict[str, list[Any]] = {name: [] for name in self.tests}
        for row in rows:
            name = getattr(row, "pair", None) or first
            if name in by_pair:
                by_pair[name].append(row)
        per_person: dict[str, list[IdentityResult]] = {}
        for name, pair_rows in by_pair.items():
            test, repeats = self.tests[name], DuplicateFaces()
            for person, members in group_people(self.request.people, pair_rows).items():
                kept = [r.score for r in members if repeats.first_of(person, r) is None]
                result = test(person, kept, repeats.counts.get(person, 0))
                per_person.setdefault(person, []).append(dataclasses.replace(result, pair=name))
        return [r for results in per_person.values() for r in adjust_across_pairs(results)]


def open_audit(request: AuditRequest, exports: Exports | None = None,
               load: Callable[[Path, str], LoadedPair] | None = None, store: PairStore | None = None) -> Audit:
    """Resolve the device and the pairs, check the exports' destinations against the inputs (paths
    and pairs), load the pairs (``load(path, device)``, default ``load_pair``), make the header.

    A pair that cannot be found or loaded (a refused bundle) is set aside in ``Audit.failed`` with
    the reason; the others go on. Raises :class:`RequestError` (device), :class:`OutputError`
    (destination); with no pair left, what loading the one pair raised (``BundleError``), else
    :class:`PairUnavailable` with every reason."""
    from mint_tui.audit import default_workers, resolve_device
    from mint_tui.pairs.verify import BundleError

    try:
        device = resolve_device(request.options.device)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    options = dataclasses.replace(request.options, workers=request.options.workers or default_workers(device))
    paths, failed = resolve_pairs(request.pair, store)
    if len(pair_specs(request.pair)) == 1 and failed and request.pair != ALL_PAIRS:
        raise PairUnavailable(failed[0][1])
    if exports is not None:
        exports.check([*request.paths, *paths])
    if request.ray is not None:  # connect before any output is opened (raises RayError)
        from mint_tui.ray_audit import connect

        if len(paths) > 1:
            raise RequestError("a Ray audit takes one pair")
        connect(request.ray)
        options = dataclasses.replace(options, workers=1, threads=options.threads or 1)  # as each Ray worker runs
    if load is None:
        from mint_tui.pairs.loaded import load_pair

        def load(p: Path, d: str) -> LoadedPair:
            return load_pair(p, device=d)

    loaded: dict[Path, LoadedPair] = {}
    for path in paths:
        try:
            loaded[path] = load(path, str(device))
        except (BundleError, OSError) as exc:
            if len(paths) == 1 and not failed:
                raise
            failed.append((str(path), str(exc)))
    if not loaded:
        raise PairUnavailable("no pair could be used: " + "; ".join(why for _, why in failed))
    return Audit(request, list(loaded.values()), str(device), options, failed, list(loaded))


# ---------------------------------------------------------------- people
def group_people(marks: Iterable[tuple[str, str]], rows: Iterable[Any]) -> dict[str, list[Any]]:
    """The rows of each person: ``marks`` are (marked path, person's name or :data:`PER_FOLDER`)
    as given to the audit, ``rows`` the audit's rows (anything with a ``path``).

    A named person gets every row of their files and folders (in the order of ``marks``); marks
    grouped :data:`PER_FOLDER` give one person per folder that directly holds the row's file,
    named after that folder, or after its whole path where two folders share a name (so that
    ``a/john`` and ``b/john`` are two people). A row under no mark belongs to nobody.
    """
    person = person_of(marks)
    named: dict[str, list[Any]] = {name: [] for _, name in marks if name != PER_FOLDER}
    folders: dict[str, list[Any]] = {}  # folder -> its rows
    for row in rows:
        key = person(row.path)
        if key is None:
            continue
        name, folder = key
        if folder is None:
            named[name].append(row)
        else:
            folders.setdefault(folder, []).append(row)
    out = dict(named)

    def base_of(folder: str) -> str:
        return os.path.basename(folder) or folder or "."

    base_count = Counter(base_of(folder) for folder in folders)
    for folder in sorted(folders):
        name = base_of(folder)
        if base_count[name] > 1 or name in out:  # two folders share a name: say which is which
            name = display_path(folder)
            unique, n = name, 2
            while unique in out:
                unique, n = f"{name} ({n})", n + 1
            name = unique
        out[name] = folders[folder]
    return out


def person_of(marks: Iterable[tuple[str, str]]) -> Callable[[str], tuple[str, str | None] | None]:
    """Who a path shows, by the marks: (the person's name, None) under a named mark, (PER_FOLDER,
    the folder) under a mark grouped one person per folder, None under no mark. Each person has
    one answer, known from the path alone (what :func:`group_people` names people by)."""
    owner = {os.path.normpath(path): name for path, name in marks}  # marked path -> person's name

    def person(path: str) -> tuple[str, str | None] | None:
        p = os.path.normpath(path)
        while (name := owner.get(p)) is None:
            parent = os.path.dirname(p)
            if parent == p:
                return None
            p = parent
        return (name, None) if name != PER_FOLDER else (PER_FOLDER, os.path.dirname(os.path.normpath(path)))

    return person


class _Repeats:
    """Marks the rows that repeat a byte-identical photo of the same person (same sha256 and face,
    :class:`mint_tui.identity.DuplicateFaces`) as they stream: the identity test counts such a
    face once (:meth:`Audit.people`), and the row says so."""

    def __init__(self, marks: Iterable[tuple[str, str]]) -> None:
        from mint_tui.identity import DuplicateFaces

        self.person, self.seen = person_of(marks), DuplicateFaces()

    def __call__(self, row: ResultRow) -> ResultRow:
        from mint_tui.identity import duplicate_note

        key = self.person(row.path)
        first = None if key is None else self.seen.first_of("\0".join(k or "" for k in (*key, row.pair)), row)
        return row if first is None else dataclasses.replace(row, message=duplicate_note(first))


# ---------------------------------------------------------------- exports
class Exports:
    """Where an audit's rows go: ``{"json": dest, "jsonl": dest, "csv": dest}`` (each a file or
    ``'-'`` for standard output; None or absent: not written).

    Every output is streamed: JSON Lines and CSV row by row into ``FILE.partial``, renamed to
    ``FILE`` by :meth:`finish` (``resume``: the JSON Lines output continues the file an interrupted
    audit left, :mod:`mint_tui.resume`); the JSON document as JSON Lines into ``FILE.partial`` too, then
    written atomically at the end (:class:`mint_tui.results.JsonDocumentStream`). :meth:`check`
    checks the destinations against the inputs before anything is loaded or audited
    (:func:`mint_tui.results.check_audit_outputs`; :class:`OutputError` says what is wrong).
    """

    def __init__(self, outputs: dict[str, str | None] | None = None, resume: bool = False) -> None:
        self.outputs = {kind: dest for kind, dest in (outputs or {}).items() if dest is not None}
        unknown = set(self.outputs) - set(OUTPUT_KINDS)
        if unknown:
            raise OutputError(f"unknown output kind(s) {', '.join(sorted(unknown))}")
        self.resume = resume
        if resume and (set(self.outputs) != {"jsonl"} or self.outputs["jsonl"] == "-"):
            raise OutputError("--resume continues a JSON Lines file: give --jsonl FILE, and no other output")
        #: a resumed audit: the rows of the file it continues (see mint_tui.resume)
        self.recorded: RecordedRows | None = None
        self.resumed_from: str | None = None
        self.checked: dict[str, str] | None = None
        self.streams: list[RowStream] = []
        #: standard output's reader went away while an output was written to it
        self.broken_pipe = False

    def __bool__(self) -> bool:
        return bool(self.outputs)

    def check(self, inputs: Iterable[str | os.PathLike[str]]) -> None:
        """Refuse destinations that would destroy an input (or each other), cannot be written, or
        have an interrupted audit's ``.partial`` in the way; files become their real paths."""
        from mint_tui.results import check_audit_outputs

        try:
            self.checked = check_audit_outputs(dict(self.outputs), list(inputs), resume=self.resume)
        except ValueError as exc:
            raise OutputError(str(exc)) from None

    def open(self, header: dict[str, Any]) -> None:
        """Start every output (their ``.partial`` files and header lines)."""
        from mint_tui.results import open_stream

        if self.checked is None:
            self.check([])
        assert self.checked is not None
        if self.resume:
            self.streams.append(self._resumed(self.checked["jsonl"], header))
            return
        try:
            for kind in OUTPUT_KINDS:
                if kind in self.checked:
                    self.streams.append(open_stream(kind, self.checked[kind], header))
        except BaseException:
            for stream in self.streams:
                stream.abandon()
                if stream.partial is not None:
                    stream.partial.unlink(missing_ok=True)  # nothing was audited yet
            raise

    def _resumed(self, dest: str, header: dict[str, Any]) -> RowStream:
        """The JSON Lines output continuing the file an interrupted audit to ``dest`` left (a new
        one if there is none), its rows kept in :attr:`recorded`."""
        from mint_tui.audit import RecordedRows
        from mint_tui.resume import ResumedJsonlStream, ResumeSource, read_resumable, resume_problem
        from mint_tui.results import partial_path

        try:
            source = read_resumable(dest)
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        if source is None:
            source = ResumeSource(partial_path(dest))
        elif source.header_line is not None:
            problem = resume_problem(source.header, header)
            if problem:
                raise OutputError(f"cannot resume {source.path}: it was written with {problem}. Run with the same "
                                  "pair and options, or write to another file")
            self.resumed_from = str(source.path)
        self.recorded = RecordedRows(source.rows)
        return ResumedJsonlStream(dest, header, source)

    def write(self, row: ResultRow) -> None:
        for stream in self.streams:
            stream.write(row)

    def finish(self, interrupted: bool, identities: list[dict[str, Any]] | None = None) -> list[str]:
        """Close every output (the JSON document with the identity-level results); returns the
        files written. An output on standard output whose reader has gone is left unfinished
        (``broken_pipe``); the files are finished all the same."""
        from mint_tui.results import JsonDocumentStream

        for stream in self.streams:
            if isinstance(stream, JsonDocumentStream):
                stream.identities = identities
        saved = []
        for stream in self.streams:
            try:
                path = stream.finish(interrupted)
            except BrokenPipeError:  # standard output's reader has gone: the files are still finished
                self.broken_pipe = True
                continue
            if path is not None:
                saved.append(str(path))
        return saved

    def crashed(self) -> None:
        """A crash: every ``.partial`` stays as it is, holding each row computed so far, where it
        cannot be mistaken for a finished audit."""
        for stream in self.streams:
            stream.abandon()


def export_results(path: str | os.PathLike[str], fmt: str, header: dict[str, Any] | None,
                   rows: list[ResultRow]) -> Path:
    """Write results already on hand (the TUI's) as one file, atomically: ``json`` (the header,
    with its ``identities`` and ``interrupted`` when present, and the rows) or ``csv`` (the rows)."""
    from mint_tui.fileio import atomic_write_text
    from mint_tui.results import FORMAT, FORMAT_VERSION, results_csv, results_json

    doc = dict(header or {"format": FORMAT, "version": FORMAT_VERSION})
    identities = doc.pop("identities", None)
    interrupted = bool(doc.pop("interrupted", False))
    if fmt == "csv":
        text = results_csv(rows)
    elif fmt == "json":
        text = results_json(doc, rows, interrupted, identities if isinstance(identities, list) else None)
    else:
        raise ValueError(f"unknown result format {fmt!r}")
    return atomic_write_text(path, text)


# ---------------------------------------------------------------- running it
@dataclass
class Outcome:
    """How an audit ended."""

    counts: Counter[str]
    interrupted: bool
    identities: list[IdentityResult] | None
    saved: list[str]
    #: the reader of standard output went away (``mint-tui audit ... | head``): the audit stopped
    #: there as if interrupted, the files were finished
    broken_pipe: bool = False
    #: rows read back from the file a resumed audit continues (not computed again), and that file
    resumed: int = 0
    resumed_from: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{self.counts[v]} {v}" for v in VERDICTS if self.counts[v]) or "nothing audited"


@dataclass
class _Scored:
    """What the identity test needs of a row (kept instead of the row, whose crop may be large)."""

    path: str
    sha256: str
    face: int | None
    score: float | None
    pair: str | None


def run(audit: Audit, exports: Exports | None = None, on_row: Callable[[ResultRow], None] | None = None,
        progress: Callable[[AuditProgress], None] | None = None) -> Outcome:
    """Run an audit to its end: each row goes to the exports and to ``on_row``; then the people
    are tested and the exports finished.

    KeyboardInterrupt (Ctrl-C; the CLI turns SIGTERM into it) stops the audit after the current
    batch, like ``audit.request.cancel.set()``: both end it with ``interrupted`` and every row so
    far kept. So does a BrokenPipeError (standard output's reader has gone), which the outcome
    records as ``broken_pipe``. Any other exception abandons the streamed exports as they are (``.partial``) and is
    raised.
    """
    exports = exports if exports is not None else Exports()
    exports.open(audit.header)
    scored: list[_Scored] = []
    counts: Counter[str] = Counter()
    interrupted = False
    resumed = 0
    repeats = _Repeats(audit.request.people) if audit.tests else None
    results = audit.rows(progress, exports.recorded)
    try:
        try:
            for row in results:
                counts[row.verdict] += 1
                if repeats is not None:
                    row = repeats(row)
                    scored.append(_Scored(row.path, row.sha256, row.face, row.score, row.pair))
                if row.resumed:
                    resumed += 1  # already in the file the audit continues
                else:
                    exports.write(row)
                if on_row is not None:
                    on_row(row)
        except (KeyboardInterrupt, BrokenPipeError) as exc:
            interrupted = True
            exports.broken_pipe = exports.broken_pipe or isinstance(exc, BrokenPipeError)
            audit.request.cancel.set()
        finally:
            results.close()
    except BaseException:
        exports.crashed()
        raise
    interrupted = interrupted or audit.request.cancel.is_set()
    identities = audit.people(scored)
    saved = exports.finish(interrupted, None if identities is None else [i.to_dict() for i in identities])
    return Outcome(counts, interrupted, identities, saved, exports.broken_pipe, resumed, exports.resumed_from)
