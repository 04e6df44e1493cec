"""The audit report: one self-contained HTML file an auditor can hand on as evidence.

``mint-tui report RESULTS.json --html FILE [--pair NAME|FILE]`` (and :func:`write_report`, which
the TUI calls) turns an audit result file into a single HTML page that needs nothing else: the
aligned crop of every audited face, its score against the pair's threshold and inconclusive band,
the identity-level test, the pair's model card, recorded metrics and calibration-data ROC curve,
and a provenance block (file hashes, bundle hash, tool version, device, options, times).

What it guarantees
    - **No network, no scripts.** Crops are PNG ``data:`` URIs, plots are inline SVG drawn here,
      the CSS is inline; a Content-Security-Policy (``default-src 'none'``) forbids the browser
      from loading anything else even if something slipped through. Every string that comes from
      the result file or the bundle (paths, names, messages, the model card) is HTML-escaped, with
      control and bidirectional-formatting characters shown as escapes so a file name cannot
      masquerade as another.
    - **A crop is only shown for the very bytes that were audited.** The result file holds no
      crops: they are recomputed from the files, with the audit's own preparation code
      (:func:`mint_tui.faces.prepare_images` with the audit's face policy and detector, the pair's
      input size and template). The file is read once, hashed, and those same bytes decoded; if
      the hash differs from the one recorded in the audit the row says "file changed since the
      audit" and shows no crop. At most ``max_crops`` crops are embedded (default 2,000), said
      on the page, so the file and the memory stay bounded.
    - **The pair is the audited one, or the report says so.** The pair is looked up by the name
      recorded in the results (``--pair`` overrides: a name or a ``.mintpair`` file) and its bundle
      sha256 compared with the recorded one; a missing or different bundle gives a prominent
      warning and no model card / ROC (the verdicts, scores and threshold shown are always the
      ones recorded in the results).
    - **Bounded memory, atomic output.** Rows are rendered as they come into temporary files and
      the report is assembled into a temporary file beside the destination, fsynced and renamed:
      an existing report is only replaced by a finished one.
"""


from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mint_tui import __version__
from mint_tui.fileio import atomic_write, file_sha256
from mint_tui.report.evidence import (FileCheck, ReportCancelled, ReportSummary, check_item, crop_jobs, crop_uri,
                                      find_pair, prepare_settings, resolve_image_path)
from mint_tui.report.render import (crop_cell, esc, face_row, faces_intro, num, other_row, person_of, write_head,
                                    write_identities, write_pair, write_provenance)

if TYPE_CHECKING:
    from mint_tui.audit import ResultRow

__all__ = ["DEFAULT_MAX_CROPS", "ReportCancelled", "ReportSummary", "render_report", "report_from_source",
           "write_report"]

#: Crops embedded at most (each is ~20-35 kB of base64 PNG at 112x112).
#: Crops embedded at most (each is ~20-35 kB of base64 PNG at 112x112).
DEFAULT_MAX_CROPS = 2000


def render_report(header: dict[str, Any], rows: list[ResultRow], html_path: str | os.PathLike[str],
                  pair: str | None = None, *, results_path: str | os.PathLike[str] | None = None,
                  results_sha256: str | None = None, max_crops: int = DEFAULT_MAX_CROPS, workers: int = 2,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> ReportSummary:
    """Write the HTML report of (header, rows) to ``html_path``; see the module docstring.

    ``pair``: a pair name or ``.mintpair`` file overriding the recorded pair name. ``results_path``:
    the result file they came from (its sha256, ``results_sha256`` or computed here, goes in the
    provenance; relative image paths are also tried beside it). ``progress(done, total)`` is called as image files are re-read;
    ``cancel.set()`` stops with :class:`ReportCancelled` and writes nothing.
    """
    from mint_tui.faces import prepare_images
    from mint_tui.results import now_iso

    if max_crops < 0:
        raise ValueError("max_crops must be at least 0")
    html_path = Path(html_path)
    results_file = Path(results_path) if results_path is not None else None
    summary = ReportSummary()
    info = find_pair(header, pair)
    if info.warning:
        summary.warnings.append(info.warning)
    if header.get("interrupted"):
        summary.warnings.append("This audit was stopped before it finished (interrupted): the results cover only "
                                "the images audited until then.")
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    threshold = num(recorded.get("threshold"))
    band_raw = recorded.get("inconclusive")
    band = None
    if isinstance(band_raw, (list, tuple)) and len(band_raw) == 2 and all(num(v) is not None for v in band_raw):
        band = (float(band_raw[0]), float(band_raw[1]))
    settings, no_crops = prepare_settings(header, info)
    face_rows = sum(r.face is not None for r in rows)
    summary.faces = face_rows
    jobs, job_rows, own_crops = crop_jobs(rows, max_crops if settings is not None or
                                           all(r.crop is not None for r in rows if r.face is not None) else 0)
    job_of_row = {i: j for j, members in enumerate(job_rows) for i in members}
    checks: dict[tuple[str, str | None], FileCheck] = {}

    with tempfile.TemporaryFile("w+", encoding="utf-8") as faces_out, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as other_out:
        # ---- pass over the rows: faces (with crops re-made from the files) and the other rows
        prepared = None
        if jobs:
            results_dir = results_file.parent if results_file is not None else None
            prepared = prepare_images((resolve_image_path(p, results_dir) for p, _ in jobs), settings, workers,
                                      window=max(4, 4 * workers), cancel=cancel,
                                      expected_sha256=(sha or "" for _, sha in jobs))  # checked before decoding
        current_job, current_crops, current_status = -1, {}, FileCheck("not-checked")
        people = [d.to_dict() if hasattr(d, "to_dict") else d for d in header.get("identities") or []]
        people = [d for d in people if isinstance(d, dict)]
        names = [str(d.get("name")) for d in people]  # the face table gets a person column
        everyone = len(people) == 1 and people[0].get("faces") == face_rows
        try:
            n_face = n_other = 0
            for i, row in enumerate(rows):
                if cancel is not None and cancel.is_set():
                    raise ReportCancelled("report cancelled")
                if row.face is None:
                    n_other += 1
                    other_out.write(other_row(n_other, row))
                    continue
                n_face += 1
                crop_html = None
                j = job_of_row.get(i)
                if i in own_crops:
                    summary.crops += 1
                    crop_html = (f'<img src="{crop_uri(row.crop)}" width="112" height="112" '
                                 f'alt="aligned face {row.face} of {esc(Path(row.path).name)}">'
                                 '<div class="small muted">as scored by the audit</div>')
                elif j is not None:
                    while current_job < j:
                        item = next(prepared, None)
                        if item is None:  # cancelled inside the pool
                            raise ReportCancelled("report cancelled")
                        current_job += 1
                        current_crops, current_status = check_item(item, jobs[current_job],
                                                                    [rows[k] for k in job_rows[current_job]])
                        key = jobs[current_job]
                        if checks.get(key, FileCheck("not-checked")).status in ("not-checked", "ok"):
                            checks[key] = current_status
                        if progress is not None:
                            progress(current_job + 1, len(jobs))
                    crop_html = crop_cell(row, current_crops, current_status, summary)
                else:
                    why = no_crops or f"crop not embedded: the report embeds at most {max_crops:,} crops"
                    crop_html = f'<div class="nocrop">{esc(why)}</div>'
                faces_out.write(face_row(n_face, row, crop_html, threshold, band,
                                         person_of(row, names, everyone) if names else None))
        finally:
            if prepared is not None:
                prepared.close()
        summary.changed = sum(c.status == "changed" for c in checks.values())
        summary.unreadable = sum(c.status == "unreadable" for c in checks.values())
        if summary.changed:
            summary.warnings.append(f"{summary.changed} file(s) changed since the audit: their sha256 no longer "
                                    "matches the recorded one, so no crop is shown for them.")
        within = len(job_of_row) + len(own_crops)
        if face_rows > within and (settings is not None or own_crops):
            summary.warnings.append(f"Only the first {within:,} of {face_rows:,} faces have their crop "
                                    f"embedded (limit {max_crops:,}), to keep the report a manageable size; every "
                                    "face's score and verdict is listed.")
        if no_crops and face_rows > len(own_crops):
            summary.warnings.append(f"No crops are shown: {no_crops}.")

        # ---- assemble
        generated = now_iso()
        with atomic_write(html_path) as out:
            write_head(out, header, rows, summary, info, threshold, band, generated)
            write_identities(out, header)
            out.write(f'<section id="faces"><h2>Faces ({face_rows:,})</h2>')
            out.write(faces_intro(threshold, band, settings if job_rows else None, info, bool(own_crops)))
            if face_rows:
                out.write('<table class="faces"><thead><tr><th class="num">#</th><th>aligned crop</th>'
                          + ("<th>person</th>" if names else "") + '<th>file and face</th><th>score against the threshold</th><th>verdict</th></tr></thead>'
                          "<tbody>")
                faces_out.seek(0)
                shutil.copyfileobj(faces_out, out, 1 << 20)
                out.write("</tbody></table>")
            else:
                out.write("<p>No face was scored in this audit.</p>")
            out.write("</section>")
            n_other = len(rows) - face_rows
            out.write(f'<section id="other"><h2>Images without a scored face ({n_other:,})</h2>')
            if n_other:
                out.write('<table><thead><tr><th class="num">#</th><th>file</th><th>sha256</th><th>verdict</th>'
                          "<th>reason</th></tr></thead><tbody>")
                other_out.seek(0)
                shutil.copyfileobj(other_out, out, 1 << 20)
                out.write("</tbody></table>")
            else:
                out.write("<p>None: a face was found and scored in every image.</p>")
            out.write("</section>")
            write_pair(out, header, info, threshold)
            if results_file is not None and results_sha256 is None:
                results_sha256 = _sha256_or_none(results_file)
            write_provenance(out, header, rows, info, checks, results_file, results_sha256, generated)
            out.write(f"<footer>Generated by mint-tui {esc(__version__)} on {esc(generated)}. This file is "
                      "self-contained: it loads nothing from the network and runs no scripts.</footer>"
                      "</body></html>\n")
    summary.path = html_path
    return summary


def write_report(source: str | os.PathLike[str] | tuple[dict[str, Any], list[ResultRow]],
                 html_path: str | os.PathLike[str], pair: str | None = None, *,
                 max_crops: int = DEFAULT_MAX_CROPS, progress: Callable[[int, int], None] | None = None,
                 cancel: threading.Event | None = None) -> Path:
    """Write the HTML report of an audit and return its path.

    ``source``: a result file (JSON, JSON Lines or CSV, as :func:`mint_tui.results.read_results`
    reads) or a ``(header, rows)`` pair as it returns (the TUI's own results: the header of
    :func:`mint_tui.results.audit_header`, with ``"identities"`` if the identity test was run).
    ``pair`` overrides the recorded pair (a name or a ``.mintpair`` file). Raises ValueError for a
    malformed result file, :class:`ReportCancelled` if ``cancel`` is set.
    """
    return report_from_source(source, html_path, pair, max_crops=max_crops, progress=progress, cancel=cancel).path


def report_from_source(source: Any, html_path: Any, pair: str | None, **kwargs: Any) -> ReportSummary:
    from mint_tui.results import read_results

    if isinstance(source, tuple):
        header, rows = source
        return render_report(header, rows, html_path, pair, **kwargs)
    results_path = Path(source)
    sha = _sha256_or_none(results_path)  # of the file as read (a file changed in between is refused)
    header, rows = read_results(results_path)
    if sha is None or _sha256_or_none(results_path) != sha:
        raise ValueError(f"{results_path}: the results file changed while it was being read")
    return render_report(header, rows, html_path, pair, results_path=results_path, results_sha256=sha, **kwargs)


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None
