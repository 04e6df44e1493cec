"""Audit results on disk: one JSON document (header + rows), JSON Lines or CSV.

JSON schema (``format = "mint-tui/audit"``, ``version = 1``)::

    {"format": "mint-tui/audit", "version": 1, "tool_version": ..., "created": ...,
     "pair": {"name", "title", "bundle_sha256", "threshold", "inconclusive"},
     "device": ..., "options": {...}, "summary": {verdict: count}, "results": [row, ...]}

written atomically (temp file + rename) at the end of an audit; ``"interrupted": true`` marks an
audit that was stopped early.

JSON Lines (``.jsonl``): the same header object on the first line (``"layout": "jsonl"``), then one
row object per line, then an end record ``{"end": true, "interrupted": bool, "summary": {...}}``.
CSV has one header line with the row fields (``box`` as x;y;w;h) and the same rows; a text cell
that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, tab or CR) is
written with a leading ``'`` (OWASP's advice), as is one starting with ``'``; reading strips it.

JSON Lines and CSV are *streamed*: each row is written and flushed as soon as it is computed,
into ``FILE.partial``, which is renamed to ``FILE`` when the audit ends (completed or stopped by
Ctrl-C / SIGTERM). A crash or ``kill -9`` leaves ``FILE.partial``: a valid file holding every row
finished before it (a JSON Lines file without its end record). An existing ``FILE`` is only
replaced when the new one is finished. The JSON document is streamed the same way, as JSON Lines
into ``FILE.partial``, until the audit ends; then the document is written atomically to ``FILE``
and the ``.partial`` removed (so even a process killed inside native code keeps its rows).

:func:`check_audit_outputs` checks every destination before an audit starts.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from mint_tui import __version__
from mint_tui.audit import ResultRow
from mint_tui.destinations import DestinationError, check_destinations
from mint_tui.fileio import atomic_write_text, fsync_dir
from mint_tui.options import VERDICTS, AuditOptions

FORMAT = "mint-tui/audit"
FORMAT_VERSION = 1
CSV_FIELDS = ("path", "sha256", "face", "box", "detection_score", "score", "verdict", "message")


def now_iso() -> str:
    """The time now (UTC, seconds), or ``SOURCE_DATE_EPOCH`` where that is set (the reproducible-builds
    convention: two runs of one audit then write the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat()
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def audit_header(pair: Any, device: str, options: AuditOptions) -> dict[str, Any]:
    """What is needed to reproduce an audit: the pair (and its bundle hash), device, options."""
    m = pair.manifest
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tool_version": __version__,
        "created": now_iso(),
        "pair": {
            "name": m.pair.name,
            "title": m.pair.title,
            "bundle_sha256": pair.bundle_sha256,
            "threshold": m.calibration.threshold,
            "inconclusive": list(m.calibration.inconclusive),
        },
        "device": device,
        "options": {k: v for k, v in asdict(options).items() if k != "keep_crops"},
    }


def summarize(rows: Iterable[ResultRow]) -> dict[str, int]:
    counts = Counter(r.verdict for r in rows)
    return {v: counts.get(v, 0) for v in VERDICTS}


def results_json(header: dict[str, Any], rows: list[ResultRow], interrupted: bool = False,
                 identities: list | None = None) -> str:
    """One JSON document: the header, the summary, the identity-level results (IdentityResults or
    their dicts) when the test was run, and the rows."""
    doc = dict(header)
    if interrupted:
        doc["interrupted"] = True
    doc["summary"] = summarize(rows)
    if identities is not None:
        doc["identities"] = [i.to_dict() if hasattr(i, "to_dict") else dict(i) for i in identities]
    doc["results"] = [r.to_dict() for r in rows]
    return json.dumps(json_safe(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def json_safe(value: Any) -> Any:
    """``value`` with every float that is not finite (NaN, infinity) replaced by None: JSON has no
    NaN, and a file holding one is not valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def results_csv(rows: list[ResultRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(_csv_record(row))
    return buf.getvalue()


def write_output(dest: str, text: str) -> None:
    """'-' is standard output; anything else a file written atomically."""
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(dest, text)


def read_results(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[ResultRow]]:
    """Reopen an exported JSON, JSON Lines or CSV result file (or its ``.partial``): (header, rows).
    Raises ValueError if malformed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = Path(path.name.removesuffix(PARTIAL_SUFFIX)).suffix.lower()
    if suffix == ".jsonl" or (suffix != ".csv" and _first_line_is_jsonl_header(text)):
        return _read_jsonl(path, text)
    if suffix == ".csv":
        if text and not text.endswith("\n"):  # a last line cut by a crash mid-write: not a finished row
            text = text[: text.rfind("\n") + 1]
        rows = []
        for rec in csv.DictReader(io.StringIO(text)):
            if set(CSV_FIELDS) - set(rec):
                raise ValueError(f"{path}: not a mint-tui CSV (missing {sorted(set(CSV_FIELDS) - set(rec))})")
            try:
                rows.append(row_from_dict({k: (_csv_uncell(rec[k]) if isinstance(rec[k], str) and rec[k] else None)
                                            for k in CSV_FIELDS}))
            except ValueError as exc:
                raise ValueError(f"{path}: line {len(rows) + 2}: {exc}") from None
        return {"format": FORMAT, "version": FORMAT_VERSION}, rows
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a mint-tui audit result file (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a mint-tui audit result file")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported result format version {doc.get('version')!r:.40}")
    results = doc.get("results", [])
    if not isinstance(results, list):
        raise ValueError(f"{path}: 'results' must be a list of rows, not {type(results).__name__}")
    rows = []
    for n, r in enumerate(results, start=1):
        try:
            rows.append(row_from_dict(r))
        except ValueError as exc:
            raise ValueError(f"{path}: row {n}: {exc}") from None
    header = {k: v for k, v in doc.items() if k not in ("results", "summary")}
    return header, rows


def row_from_dict(d: Any) -> ResultRow:
    """One row of a result file, with every field checked (a hand-edited file gets a ValueError
    naming the field, never a crash further on)."""
    if not isinstance(d, dict):
        raise ValueError(f"a row is a {type(d).__name__}, not an object")
    path = d.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"a row has no path (got {path!r:.60})")

    def number(key: str, cast=float) -> Any:
        value = d.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{path}: {key} must be a number, not {type(value).__name__}")
        try:
            out = cast(value) if cast is float else cast(float(value)) if float(value).is_integer() else None
        except (TypeError, ValueError, OverflowError):
            out = None
        if out is None or not math.isfinite(out):
            raise ValueError(f"{path}: {key} is not a valid number ({value!r:.40})")
        return out

    box = d.get("box")
    if isinstance(box, str):
        box = box.split(";")
    if box is not None and box != "":
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValueError(f"{path}: box must be four numbers x, y, w, h")
        try:
            box = tuple(float(v) for v in box)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: box must be four numbers x, y, w, h") from None
    sha = d.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha)):
        raise ValueError(f"{path}: sha256 must be 64 hexadecimal digits")
    verdict = d.get("verdict") or "error"
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r:.40} in result file")
    message = d.get("message") or ""
    if not isinstance(message, str):
        raise ValueError(f"{path}: message must be text")
    return ResultRow(path, sha, number("face", int), box or None, number("detection_score"), number("score"), verdict,
                     message)


# ---------------------------------------------------------------- streamed outputs
PARTIAL_SUFFIX = ".partial"


def partial_path(dest: str | os.PathLike[str]) -> Path:
    """Where a streamed output is written until the audit ends: ``FILE.partial``."""
    dest = Path(dest)
    return dest.with_name(dest.name + PARTIAL_SUFFIX)


# A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A text cell made inert for spreadsheets, as OWASP recommends: a cell starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``, and so does one that already
    starts with ``'`` (so that reading the file back strips exactly one)."""
    if isinstance(value, str) and value.startswith((*_FORMULA_START, "'")):
        return "'" + value
    return value


def _csv_uncell(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def _csv_record(row: ResultRow) -> dict[str, Any]:
    d = row.to_dict()
    d["box"] = ";".join(str(v) for v in d["box"]) if d["box"] else ""
    return {k: "" if d[k] is None else _csv_cell(d[k]) for k in CSV_FIELDS}


class RowStream:
    """Rows written one by one, each flushed as it comes, into ``FILE.partial`` (renamed to ``FILE``
    by :meth:`finish`) or standard output (``'-'``). Use :func:`open_stream`."""

    def __init__(self, dest: str, header: dict[str, Any]) -> None:
        self.dest = dest
        self.header = header
        self.counts: Counter[str] = Counter()
        self.rows = 0
        self.finished = False
        if dest == "-":
            self.path: Path | None = None
            self.partial: Path | None = None
            self._fh: IO[str] = sys.stdout
        else:
            self.path = Path(dest)
            self.partial = partial_path(dest)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self._create()
        self._begin()
        self._fh.flush()

    def _create(self) -> IO[str]:
        """Open ``FILE.partial``, which must not exist yet."""
        try:
            fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise FileExistsError(
                f"{self.partial} exists: it may hold the results of an interrupted audit; move or delete it "
                "first (or continue it: audit ... --jsonl FILE --resume)") from None
        return os.fdopen(fd, "w", encoding="utf-8", newline="")

    def _begin(self) -> None:
        raise NotImplementedError

    def _row(self, row: ResultRow) -> None:
        raise NotImplementedError

    def _end(self, interrupted: bool) -> None:
        pass

    def write(self, row: ResultRow) -> None:
        self._row(row)
        self._fh.flush()
        self.rows += 1
        self.counts[row.verdict] += 1

    def finish(self, interrupted: bool = False) -> Path | None:
        """Close the stream; a file is fsynced and renamed from ``FILE.partial`` to ``FILE``."""
        if self.finished:
            return self.path
        self.finished = True
        self._end(interrupted)
        self._fh.flush()
        if self.path is None:
            return None
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.partial, self.path)
        fsync_dir(self.path.parent)
        return self.path

    def abandon(self) -> None:
        """Close without renaming: the ``.partial`` stays (what a crash would leave)."""
        if not self.finished and self.path is not None:
            self.finished = True
            self._fh.close()

    def summary(self) -> dict[str, int]:
        return {v: self.counts.get(v, 0) for v in VERDICTS}


class CsvStream(RowStream):
    def _begin(self) -> None:
        self._writer = csv.DictWriter(self._fh, fieldnames=CSV_FIELDS, lineterminator="\n")
        self._writer.writeheader()

    def _row(self, row: ResultRow) -> None:
        self._writer.writerow(_csv_record(row))


class JsonlStream(RowStream):
    def _begin(self) -> None:
        self._fh.write(json.dumps({**self.header, "layout": "jsonl"}, ensure_ascii=False) + "\n")

    def _row(self, row: ResultRow) -> None:
        self._fh.write(json.dumps(row.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")

    def _end(self, interrupted: bool) -> None:
        self._fh.write(json.dumps({"end": True, "interrupted": interrupted, "rows": self.rows,
                                   "summary": self.summary()}) + "\n")


class JsonDocumentStream(JsonlStream):
    """The ``--json`` document: rows streamed as JSON Lines into ``FILE.partial`` while the audit
    runs (what a crash leaves), then one JSON document written atomically to ``FILE`` by
    :meth:`finish`, which removes the ``.partial``. To standard output: the document at the end."""

    def __init__(self, dest: str, header: dict[str, Any]) -> None:
        self.kept: list[ResultRow] = []
        self.identities: list | None = None  # set before finish() to add the identity-level test
        super().__init__(dest, header)

    def _begin(self) -> None:
        if self.path is not None:
            super()._begin()

    def _row(self, row: ResultRow) -> None:
        self.kept.append(row)
        if self.path is not None:
            super()._row(row)

    def finish(self, interrupted: bool = False) -> Path | None:
        if self.finished:
            return self.path
        self.finished = True
        text = results_json(self.header, self.kept, interrupted, self.identities)
        if self.path is None:
            self._fh.write(text)
            self._fh.flush()
            return None
        self._fh.close()
        atomic_write_text(self.path, text)
        self.partial.unlink(missing_ok=True)
        return self.path


def open_stream(kind: str, dest: str, header: dict[str, Any]) -> RowStream:
    """A streamed output: ``kind`` is ``"csv"``, ``"jsonl"`` or ``"json"`` (one document at the end)."""
    return {"csv": CsvStream, "jsonl": JsonlStream, "json": JsonDocumentStream}[kind](dest, header)


def check_audit_outputs(outputs: dict[str, str | None], inputs: Iterable[str | os.PathLike[str]],
                        resume: bool = False) -> dict[str, str]:
    """Check an audit's destinations (``{"json": dest, "jsonl": dest, "csv": dest}``, None where not
    given) before it starts: at most one goes to standard output (``'-'``), none is an input or
    another's file, each can be written, and no ``FILE.partial`` of an interrupted audit is in the
    way (``resume``: the JSON Lines output's is what the audit continues). Returns ``{kind: destination}`` for the given ones, files as their real paths (a symbolic
    link is written through). Raises :class:`DestinationError` (a ValueError)."""
    options = {f"--{kind}": dest for kind, dest in outputs.items()}
    resolved = check_destinations(options, inputs, stdout_ok=options)
    for option, real in resolved.items():
        if real is not None and partial_path(real).exists() and not (resume and option == "--jsonl"):
            raise DestinationError(f"{partial_path(real)} exists: it may hold the results of an interrupted audit; "
                                   "move or delete it first (or continue it: audit ... --jsonl FILE --resume)")
    return {option[2:]: "-" if real is None else str(real) for option, real in resolved.items()}


def _first_line_is_jsonl_header(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        first = json.loads(text.split("\n", 1)[0])
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(first, dict) and first.get("layout") == "jsonl"


def _read_jsonl(path: Path, text: str) -> tuple[dict[str, Any], list[ResultRow]]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # a last line without its newline was cut by a crash mid-write: not a finished row
    if not lines:
        raise ValueError(f"{path}: empty JSON Lines result file")
    try:
        header = json.loads(lines[0])
    except RecursionError:
        raise ValueError(f"{path}: line 1 is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line 1 is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a mint-tui audit result file")
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported result format version {header.get('version')!r}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {n} is not valid JSON ({exc})") from None
        except RecursionError:
            raise ValueError(f"{path}: line {n} is nested too deeply") from None
        if not isinstance(rec, dict):
            raise ValueError(f"{path}: line {n} is not a JSON object")
        if rec.get("end"):
            header["interrupted"] = bool(rec.get("interrupted"))
            continue
        try:
            rows.append(row_from_dict(rec))
        except ValueError as exc:
            raise ValueError(f"{path}: line {n}: {exc}") from None
    return {k: v for k, v in header.items() if k != "layout"}, rows
