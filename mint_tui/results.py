"""Audit results on disk: one JSON document (header + rows) or CSV; both written atomically.

JSON schema (``format = "mint-tui/audit"``, ``version = 1``)::

    {"format": "mint-tui/audit", "version": 1, "tool_version": ..., "created": ...,
     "pair": {"name", "title", "bundle_sha256", "threshold", "inconclusive"},
     "device": ..., "options": {...}, "summary": {verdict: count}, "results": [row, ...]}

CSV has one header line with the row fields (``box`` as x;y;w;h) and the same rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mint_tui import __version__
from mint_tui.audit import VERDICTS, AuditOptions, ResultRow

FORMAT = "mint-tui/audit"
FORMAT_VERSION = 1
CSV_FIELDS = ("path", "sha256", "face", "box", "detection_score", "score", "verdict", "message")


def now_iso() -> str:
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


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text to path via a temp file in the same folder + rename: never a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def results_json(header: dict[str, Any], rows: list[ResultRow]) -> str:
    doc = dict(header)
    doc["summary"] = summarize(rows)
    doc["results"] = [r.to_dict() for r in rows]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def results_csv(rows: list[ResultRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        d = row.to_dict()
        d["box"] = ";".join(str(v) for v in d["box"]) if d["box"] else ""
        writer.writerow({k: "" if d[k] is None else d[k] for k in CSV_FIELDS})
    return buf.getvalue()


def write_output(dest: str, text: str) -> None:
    """'-' is standard output; anything else a file written atomically."""
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(dest, text)


def read_results(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[ResultRow]]:
    """Reopen an exported JSON or CSV result file: (header, rows). Raises ValueError if malformed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = []
        for rec in csv.DictReader(io.StringIO(text)):
            if set(CSV_FIELDS) - set(rec):
                raise ValueError(f"{path}: not a mint-tui CSV (missing {sorted(set(CSV_FIELDS) - set(rec))})")
            rows.append(_row_from_dict({k: (rec[k] if rec[k] != "" else None) for k in CSV_FIELDS}))
        return {"format": FORMAT, "version": FORMAT_VERSION}, rows
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a mint-tui audit result file")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported result format version {doc.get('version')!r}")
    rows = [_row_from_dict(r) for r in doc.get("results", [])]
    header = {k: v for k, v in doc.items() if k not in ("results", "summary")}
    return header, rows


def _row_from_dict(d: dict[str, Any]) -> ResultRow:
    box = d.get("box")
    if isinstance(box, str):
        box = tuple(float(v) for v in box.split(";"))
    num = lambda v, cast=float: None if v is None else cast(v)  # noqa: E731
    verdict = d.get("verdict") or "error"
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r} in result file")
    return ResultRow(str(d["path"]), d.get("sha256"), num(d.get("face"), int), tuple(box) if box else None,
                     num(d.get("detection_score")), num(d.get("score")), verdict, d.get("message") or "")
