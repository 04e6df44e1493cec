"""Resuming an audit (``mint-tui audit ... --jsonl FILE --resume``).

An audit that was stopped (Ctrl-C, SIGTERM: ``FILE`` ends with ``"interrupted": true``) or killed
(power, ``kill -9``: ``FILE.partial`` is left) is continued where it stopped. The file is read back
(:func:`read_resumable`, line by line): its header line and every row of each image it finished.
Without an end record the process died while writing, so a torn last line is dropped and so are the
rows of the last image (it may have more faces than were written); they are computed again.
``FILE.partial`` is then rewritten atomically as the bytes of that header line and those rows, and
the resumed audit (:class:`ResumedJsonlStream`) appends to it: every image whose rows are on record for its path and
whose file still hashes to the recorded sha256 is not scored again (:class:`mint_tui.audit.RecordedRows`),
every other one is. When the inputs, the pair and the options are those of the first run, the
finished file is byte for byte the one an uninterrupted run writes (the header keeps the first
run's creation time, which ``SOURCE_DATE_EPOCH`` fixes for both); :func:`resume_problem` refuses a
different pair, device, tool version or option. Rows on record for files that have changed since
stay in the file, with their old sha256; the changed file is scored again and appended.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mint_tui.audit import ResultRow, starts_image
from mint_tui.fileio import atomic_write
from mint_tui.results import FORMAT, FORMAT_VERSION, JsonlStream, partial_path, row_from_dict


@dataclass
class ResumeSource:
    """What an interrupted audit's JSON Lines file holds that a resumed audit keeps: the file read
    back, its header line (None when not even that was written), the header, the rows of the images
    it finished, and how many bytes of the file hold them (header line included)."""

    path: Path
    header_line: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    rows: list[ResultRow] = field(default_factory=list)
    size: int = 0


def read_resumable(dest: str | os.PathLike[str]) -> ResumeSource | None:
    """The JSON Lines file an audit to ``dest`` left: ``FILE.partial`` if there is one (killed), else
    ``FILE`` (stopped, or finished); None when neither exists. Raises ValueError for a file that is
    not a JSON Lines audit result. Read line by line; a line without its newline was torn by a crash."""
    path = next((p for p in (partial_path(dest), Path(dest)) if p.exists()), None)
    if path is None:
        return None
    source = ResumeSource(path)
    with open(path, "rb") as fh:
        first = fh.readline()
        if not first.endswith(b"\n"):
            return source  # not even the header line was finished: nothing to keep
        try:
            header = json.loads(first.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            header = None
        if not (isinstance(header, dict) and header.get("format") == FORMAT and header.get("layout") == "jsonl"):
            raise ValueError(f"{path} is not a JSON Lines audit result file: --resume cannot continue it")
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: result format version {header.get('version')!r} cannot be continued")
        rows: list[ResultRow] = []
        size = image_size = image_rows = len(first)  # bytes so far; where the last image starts (bytes, rows)
        ended = False
        for n, raw in enumerate(fh, start=2):
            if not raw.endswith(b"\n"):
                break  # torn
            try:
                rec = json.loads(raw.decode("utf-8"))
                if isinstance(rec, dict) and rec.get("end"):
                    ended = True
                    break
                row = row_from_dict(rec)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
                raise ValueError(f"{path}: line {n} is not a result row ({exc}): --resume cannot continue it") from None
            if starts_image(row, rows[-1] if rows else None):
                image_size, image_rows = size, len(rows)
            rows.append(row)
            size += len(raw)
    if not ended and rows:  # killed: the last image may be missing faces
        size, rows = image_size, rows[:image_rows]
    source.header_line = first.decode("utf-8")
    source.header = {k: v for k, v in header.items() if k != "layout"}
    source.rows, source.size = rows, size
    return source


def resume_problem(recorded: dict[str, Any], header: dict[str, Any]) -> str:
    """Why an audit with ``header`` cannot continue the one that wrote ``recorded`` ('' when it can):
    another pair (bundle sha256), device, tool version or option would score differently."""
    problems = []
    was, now = recorded.get("pair") or {}, header.get("pair") or {}
    if was.get("bundle_sha256") != now.get("bundle_sha256"):
        problems.append(f"the pair {was.get('name')!r} (bundle sha256 {str(was.get('bundle_sha256'))[:12]}…), "
                        f"not {now.get('name')!r} ({str(now.get('bundle_sha256'))[:12]}…)")
    for key in ("device", "tool_version"):
        if recorded.get(key) != header.get(key):
            problems.append(f"{key.replace('_', ' ')} {recorded.get(key)}, not {header.get(key)}")
    was_options, now_options = recorded.get("options") or {}, header.get("options") or {}
    for key in sorted(set(was_options) | set(now_options)):
        if was_options.get(key) != now_options.get(key):
            problems.append(f"--{key.replace('_', '-')} {was_options.get(key)}, not {now_options.get(key)}")
    return "; ".join(problems)


class ResumedJsonlStream(JsonlStream):
    """The JSON Lines output of a resumed audit: ``FILE.partial`` is rewritten atomically as the
    header line and the finished rows of ``source`` (a fresh header when it had none), then the
    audit's other rows are appended and flushed one by one, and the end record counts them all."""

    def __init__(self, dest: str, header: dict[str, Any], source: ResumeSource) -> None:
        self.source = source
        super().__init__(dest, source.header if source.header_line else header)
        self.rows = len(source.rows)
        self.counts.update(row.verdict for row in source.rows)

    def _create(self) -> IO[str]:
        assert self.partial is not None
        with atomic_write(self.partial, binary=True) as out:
            if self.source.header_line is None:
                out.write((json.dumps({**self.header, "layout": "jsonl"}, ensure_ascii=False) + "\n").encode())
            else:  # the kept lines, byte for byte
                with open(self.source.path, "rb") as src:
                    left = self.source.size
                    while left:
                        chunk = src.read(min(left, 1 << 20))
                        if not chunk:
                            raise OSError(f"{self.source.path} changed while it was being resumed")
                        out.write(chunk)
                        left -= len(chunk)
        return open(self.partial, "a", encoding="utf-8", newline="")

    def _begin(self) -> None:
        pass  # the header line is in the file already
