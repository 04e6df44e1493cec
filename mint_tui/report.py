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

import argparse
import base64
import contextlib
import hashlib
import html
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mint_tui import __version__

if TYPE_CHECKING:  # numpy, OpenCV and the pipeline load when a report is written, not with the CLI
    import numpy as np

    from mint_tui.audit import ResultRow

__all__ = ["DEFAULT_MAX_CROPS", "ReportCancelled", "ReportSummary", "add_report_parser", "cmd_report",
           "render_report", "write_report"]

#: Crops embedded at most (each is ~20-35 kB of base64 PNG at 112x112).
DEFAULT_MAX_CROPS = 2000

_VERDICT_COLOURS = {"member": "#b42318", "non-member": "#067647", "inconclusive": "#b54708",
                    "no-face": "#475467", "error": "#475467", "not-shown": "#344054", "no-faces": "#475467"}


class ReportCancelled(Exception):
    """``cancel`` was set while the report was being written; no file was written."""


@dataclass
class ReportSummary:
    """What :func:`render_report` found, for a caller to show (the CLI prints it)."""

    path: Path | None = None
    faces: int = 0
    crops: int = 0
    changed: int = 0  # files whose sha256 differs from the audit's: no crop shown
    unreadable: int = 0  # files that could not be read again
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- text
def _clean(value: Any, keep_newlines: bool = False) -> str:
    """A string from an untrusted source, made safe to show: valid UTF-8 (lone surrogates become
    ``\\udXXX``), and control / bidi-formatting characters (which can hide or reorder a file
    name) shown as ``\\xNN`` / ``\\uXXXX`` escapes."""
    text = str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    out = []
    for ch in text:
        if keep_newlines and ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _e(value: Any, keep_newlines: bool = False) -> str:
    """HTML-escaped (quotes too) safe text."""
    return html.escape(_clean(value, keep_newlines), quote=True)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fmt(value: Any, digits: int = 4) -> str:
    v = _num(value)
    return "–" if v is None else f"{v:.{digits}f}"


def _sha256_file(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- the pair
@dataclass
class _PairInfo:
    """The pair the report describes, if it could be found and is the audited one."""

    spec: str | None = None  # what was looked up
    path: Path | None = None
    builtin: bool = False
    manifest: Any = None
    calibration_scores: dict | None = None
    bundle_sha256: str | None = None
    matches: bool = False
    warning: str | None = None


def _find_pair(header: dict[str, Any], spec: str | None) -> _PairInfo:
    """Look the pair up (``spec`` or the recorded name), load it, compare its bundle hash."""
    from mint_tui.pairs.bundle import BundleError, load_pair
    from mint_tui.pairs.store import PairStore, StoreError

    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    recorded_name = recorded.get("name") if isinstance(recorded.get("name"), str) else None
    recorded_sha = recorded.get("bundle_sha256") if isinstance(recorded.get("bundle_sha256"), str) else None
    info = _PairInfo(spec=spec or recorded_name)
    if info.spec is None:
        info.warning = ("The results file does not record which pair was used (CSV results carry no header); "
                        "the model card and ROC curve are left out. Give --pair to include them.")
        return info
    if spec and (spec.endswith(".mintpair") or os.sep in spec or "/" in spec):
        info.path = Path(spec)
        if not info.path.is_file():
            info.warning = f"The pair file {spec} does not exist; the model card and ROC curve are left out."
            return info
    else:
        try:
            entry = PairStore().get(info.spec)
        except StoreError as exc:
            info.warning = (f"The pair {info.spec!r} used for this audit is not installed here ({exc}); the model "
                            "card and ROC curve are left out. Install the pair, or give --pair FILE.")
            return info
        if entry.error:
            info.warning = (f"The pair {info.spec!r} is unusable ({entry.error}); the model card and ROC curve are "
                            "left out.")
            return info
        info.path, info.builtin = entry.path, entry.builtin
    try:
        pair = load_pair(info.path, device="cpu")
    except (BundleError, OSError, ValueError) as exc:
        info.warning = f"The pair bundle {info.path} was refused ({exc}); the model card and ROC curve are left out."
        return info
    info.bundle_sha256 = pair.bundle_sha256
    if recorded_sha is None:
        info.warning = ("The results file does not record the bundle sha256 of the audited pair, so the pair "
                        f"found here ({info.path}, sha256 {pair.bundle_sha256}) cannot be confirmed to be the "
                        "audited one; the model card and ROC curve are left out.")
        return info
    if pair.bundle_sha256 != recorded_sha.lower():
        info.warning = (f"The pair bundle found here ({info.path}) is NOT the one used for this audit: its sha256 is "
                        f"{pair.bundle_sha256}, the audit recorded {recorded_sha}. The model card and ROC curve "
                        "are left out; the scores and verdicts shown are the ones recorded by the audit.")
        return info
    info.matches = True
    info.manifest = pair.manifest
    info.calibration_scores = pair.calibration_scores
    del pair
    return info


# ---------------------------------------------------------------- SVG
def _score_bar(score: float | None, threshold: float | None, band: tuple[float, float] | None,
               colour: str) -> str:
    """Score on [0, 1] against the inconclusive band (shaded) and the threshold (line)."""
    w, h, pad = 236, 26, 14
    inner = w - 2 * pad
    x = lambda v: pad + inner * min(max(v, 0.0), 1.0)  # noqa: E731
    parts = [f'<svg class="bar" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="score {_fmt(score)} against threshold {_fmt(threshold)}">',
             f'<rect x="{pad}" y="8" width="{inner}" height="10" fill="#e4f4ea" stroke="#98a2b3" stroke-width="0.5"/>']
    parts.append(f'<text x="{pad - 3}" y="17" text-anchor="end" font-size="9" fill="#475467">0</text>'
                 f'<text x="{w - pad + 3}" y="17" font-size="9" fill="#475467">1</text>')
    if band is not None:
        lo, hi = band
        parts.append(f'<rect x="{x(hi):.1f}" y="8" width="{x(1) - x(hi):.1f}" height="10" fill="#fbe2df"/>')
        parts.append(f'<rect x="{x(lo):.1f}" y="8" width="{max(x(hi) - x(lo), 0):.1f}" height="10" fill="#fdf0d5"/>')
    if threshold is not None:
        parts.append(f'<line x1="{x(threshold):.1f}" y1="4" x2="{x(threshold):.1f}" y2="22" stroke="#101828" '
                     'stroke-width="1.5" stroke-dasharray="2 1.5"/>')
    if score is not None:
        sx = x(score)
        parts.append(f'<path d="M{sx:.1f} 13 l-5 -9 h10 z" fill="{colour}" stroke="#fff" stroke-width="0.8"/>'
                     f'<rect x="{sx - 1:.1f}" y="8" width="2" height="14" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _roc_svg(labels: np.ndarray, scores: np.ndarray, threshold: float | None, auc: float) -> str:
    """ROC curve as inline SVG: FPR on x, TPR on y, chance diagonal, operating point at the threshold."""
    import numpy as np

    from mint_tui.train.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    size, m = 300, 44  # plot square and margin
    X = lambda v: m + size * float(v)  # noqa: E731
    Y = lambda v: m + size * (1 - float(v))  # noqa: E731
    pts: list[tuple[float, float]] = []
    for a, b in zip(fpr, tpr):
        p = (round(X(a), 1), round(Y(b), 1))
        if not pts or p != pts[-1]:
            pts.append(p)
    if len(pts) > 3000:  # a monotone curve: an even subsample keeps its shape
        keep = np.unique(np.linspace(0, len(pts) - 1, 3000).round().astype(int))
        pts = [pts[i] for i in keep]
    total = size + 2 * m
    out = [f'<svg class="roc" width="{total}" height="{total + 8}" viewBox="0 0 {total} {total + 8}" role="img" '
           f'aria-label="ROC curve on the calibration data, AUC {auc:.4f}">',
           f'<rect x="{m}" y="{m}" width="{size}" height="{size}" fill="#fff" stroke="#98a2b3"/>']
    for i in range(1, 5):
        v = i / 5
        out.append(f'<line x1="{X(v):.1f}" y1="{m}" x2="{X(v):.1f}" y2="{m + size}" stroke="#eaecf0"/>'
                   f'<line x1="{m}" y1="{Y(v):.1f}" x2="{m + size}" y2="{Y(v):.1f}" stroke="#eaecf0"/>')
    for i in range(6):
        v = i / 5
        out.append(f'<text x="{X(v):.1f}" y="{m + size + 14}" text-anchor="middle" class="tick">{v:.1f}</text>'
                   f'<text x="{m - 6}" y="{Y(v) + 4:.1f}" text-anchor="end" class="tick">{v:.1f}</text>')
    out.append(f'<line x1="{X(0)}" y1="{Y(0)}" x2="{X(1)}" y2="{Y(1)}" stroke="#98a2b3" stroke-dasharray="4 3"/>')
    out.append('<polyline fill="none" stroke="#1d4ed8" stroke-width="2" points="'
               + " ".join(f"{a},{b}" for a, b in pts) + '"/>')
    if threshold is not None:
        lab = np.asarray(labels).astype(bool)
        s = np.asarray(scores, dtype=np.float64)
        op_fpr = float((s[~lab] >= threshold).mean()) if (~lab).any() else 0.0
        op_tpr = float((s[lab] >= threshold).mean()) if lab.any() else 0.0
        out.append(f'<circle cx="{X(op_fpr):.1f}" cy="{Y(op_tpr):.1f}" r="4.5" fill="#b42318" stroke="#fff"/>'
                   f'<text x="{X(op_fpr) + 8:.1f}" y="{Y(op_tpr) + 14:.1f}" class="note">threshold {threshold:.3f}: '
                   f'TPR {op_tpr:.3f}, FPR {op_fpr:.3f}</text>')
    out.append(f'<text x="{m + size / 2}" y="{m + size + 32}" text-anchor="middle" class="axis">'
               'false-positive rate (external faces called member)</text>'
               f'<text transform="translate({m - 32} {m + size / 2}) rotate(-90)" text-anchor="middle" class="axis">'
               'true-positive rate (members called member)</text>'
               f'<text x="{m + size - 8}" y="{m + size - 10}" text-anchor="end" class="note">AUC {auc:.4f}</text>'
               "</svg>")
    return "".join(out)


# ---------------------------------------------------------------- crops
@dataclass
class _FileCheck:
    status: str  # "ok" | "changed" | "unreadable" | "not-checked"
    detail: str = ""


def _crop_uri(crop: np.ndarray) -> str:
    from mint_tui.faces.image import cv2

    ok, buf = cv2.imencode(".png", crop)
    if not ok:  # pragma: no cover - a uint8 BGR array always encodes
        raise ValueError("PNG encoding failed")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _resolve(path: str, results_dir: Path | None) -> Path:
    """The recorded path; a relative one that is not found from here is tried beside the results
    file (the sha256 check makes either choice safe)."""
    p = Path(path)
    try:
        if not p.is_absolute() and not p.exists() and results_dir is not None and (results_dir / p).exists():
            return results_dir / p
    except (OSError, ValueError):  # e.g. a NUL byte: the preparation gives the reason in its row
        pass
    return p


def _crop_jobs(rows: list[ResultRow], max_crops: int
               ) -> tuple[list[tuple[str, str | None]], list[list[int]], set[int]]:
    """What to prepare again for the first ``max_crops`` faces: one job per run of consecutive face
    rows of one image, ([(path, recorded sha256)], [the row indices of each job]), and the rows
    within the limit that carry their own crop (rows straight from an audit run with
    ``keep_crops``: the very crop that was scored, nothing to re-read)."""
    jobs: list[tuple[str, str | None]] = []
    members: list[list[int]] = []
    own: set[int] = set()
    last_face = None
    faces = 0
    for i, row in enumerate(rows):
        if row.face is None:
            continue
        if faces >= max_crops:
            break
        faces += 1
        if row.crop is not None:
            own.add(i)
            continue
        if not jobs or jobs[-1] != (row.path, row.sha256) or last_face is None or row.face <= last_face:
            jobs.append((row.path, row.sha256))
            members.append([])
        last_face = row.face
        members[-1].append(i)
    return jobs, members, own


def _settings(header: dict[str, Any], pair: _PairInfo) -> tuple[Any, str | None]:
    """The audit's preparation settings, or (None, why crops cannot be recomputed)."""
    from mint_tui.faces import DETECTOR_MODELS, FACE_POLICIES, PrepareSettings

    options = header.get("options")
    if not isinstance(options, dict):
        return None, "the results file does not record the audit's options (face policy, detector)"
    policy, detector = options.get("faces"), options.get("detector")
    if policy not in FACE_POLICIES or detector not in DETECTOR_MODELS:
        return None, f"the recorded options (faces={policy!r}, detector={detector!r}) are not known to this version"
    if pair.matches:
        pre = pair.manifest.audited.preprocess
        return PrepareSettings(policy, detector, tuple(pre.size), pre.template), None
    return PrepareSettings(policy, detector), None


# ---------------------------------------------------------------- output
@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[str]]:
    """A text file written as it goes into a temp file beside ``path``, fsynced and renamed onto
    it at the end (as :func:`mint_tui.results.atomic_write_text`, but streamed)."""
    from mint_tui.paths import fsync_dir
    from mint_tui.results import _file_mode

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


_CSS = """
:root { --fg:#101828; --muted:#475467; --line:#d0d5dd; --bg:#f9fafb; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1120px; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--fg); } h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; } .muted { color: var(--muted); } .small { font-size: 12px; }
code, .mono, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.mono { overflow-wrap: anywhere; word-break: break-all; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 10px 12px; white-space: pre-wrap;
      overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; font-size: 12px; color: var(--muted); }
thead { display: table-header-group; } tr { break-inside: avoid; page-break-inside: avoid; }
td.group { background: var(--bg); font-size: 12px; padding-top: 8px; } td.metric { padding-left: 22px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.warning { border: 2px solid #b42318; background: #fef3f2; color: #7a271a; padding: 10px 14px; margin: 12px 0;
           border-radius: 4px; font-weight: 600; overflow-wrap: anywhere; }
.notice { border: 1px solid #fdb022; background: #fffaeb; padding: 8px 12px; margin: 10px 0; border-radius: 4px; }
.verdict { font-weight: 700; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600;
         font-size: 12px; white-space: nowrap; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.summary div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.summary b { display: block; font-size: 22px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 6px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.face img { width: 112px; height: 112px; image-rendering: auto; border: 1px solid var(--line); display: block; }
.nocrop { width: 112px; height: 112px; border: 1px dashed #98a2b3; display: flex; align-items: center;
          justify-content: center; text-align: center; font-size: 11px; color: var(--muted); padding: 4px; }
.nocrop.bad { border: 2px solid #b42318; color: #b42318; font-weight: 700; background: #fef3f2; }
.bar { display: block; margin-top: 2px; }
.score { font-size: 16px; font-weight: 700; font-variant-numeric: tabular-nums; }
.legend span { display: inline-block; margin-right: 14px; } .sw { display: inline-block; width: 12px; height: 10px;
          border: 1px solid #98a2b3; vertical-align: -1px; margin-right: 4px; }
.roc .tick { font-size: 10px; fill: #475467; } .roc .axis { font-size: 11px; fill: #101828; }
.roc .note { font-size: 11px; fill: #101828; font-weight: 600; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; } .cols > * { flex: 1 1 380px; }
nav ol { margin: 4px 0; padding-left: 22px; columns: 2; }
footer { margin-top: 36px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; max-width: none; font-size: 11px; } nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; } a { color: inherit; text-decoration: none; }
  dl.kv, svg, pre.card, .warning { break-inside: avoid; page-break-inside: avoid; } }
"""


def _badge(verdict: str) -> str:
    colour = _VERDICT_COLOURS.get(verdict, "#475467")
    return f'<span class="badge" style="background:{colour}">{_e(verdict)}</span>'


def _kv(items: list[tuple[str, str]]) -> str:
    """A definition list; values are already-escaped HTML."""
    return '<dl class="kv">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


# ---------------------------------------------------------------- the report
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
    info = _find_pair(header, pair)
    if info.warning:
        summary.warnings.append(info.warning)
    if header.get("interrupted"):
        summary.warnings.append("This audit was stopped before it finished (interrupted): the results cover only "
                                "the images audited until then.")
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    threshold = _num(recorded.get("threshold"))
    band_raw = recorded.get("inconclusive")
    band = None
    if isinstance(band_raw, (list, tuple)) and len(band_raw) == 2 and all(_num(v) is not None for v in band_raw):
        band = (float(band_raw[0]), float(band_raw[1]))
    settings, no_crops = _settings(header, info)
    face_rows = sum(r.face is not None for r in rows)
    summary.faces = face_rows
    jobs, job_rows, own_crops = _crop_jobs(rows, max_crops if settings is not None or
                                           all(r.crop is not None for r in rows if r.face is not None) else 0)
    job_of_row = {i: j for j, members in enumerate(job_rows) for i in members}
    checks: dict[tuple[str, str | None], _FileCheck] = {}

    with tempfile.TemporaryFile("w+", encoding="utf-8") as faces_out, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as other_out:
        # ---- pass over the rows: faces (with crops re-made from the files) and the other rows
        prepared = None
        if jobs:
            results_dir = results_file.parent if results_file is not None else None
            prepared = prepare_images((_resolve(p, results_dir) for p, _ in jobs), settings, workers,
                                      window=max(4, 4 * workers), cancel=cancel)
        current_job, current_crops, current_status = -1, {}, _FileCheck("not-checked")
        try:
            n_face = n_other = 0
            for i, row in enumerate(rows):
                if cancel is not None and cancel.is_set():
                    raise ReportCancelled("report cancelled")
                if row.face is None:
                    n_other += 1
                    other_out.write(_other_row(n_other, row))
                    continue
                n_face += 1
                crop_html = None
                j = job_of_row.get(i)
                if i in own_crops:
                    summary.crops += 1
                    crop_html = (f'<img src="{_crop_uri(row.crop)}" width="112" height="112" '
                                 f'alt="aligned face {row.face} of {_e(Path(row.path).name)}">'
                                 '<div class="small muted">as scored by the audit</div>')
                elif j is not None:
                    while current_job < j:
                        item = next(prepared, None)
                        if item is None:  # cancelled inside the pool
                            raise ReportCancelled("report cancelled")
                        current_job += 1
                        current_crops, current_status = _check_item(item, jobs[current_job],
                                                                    [rows[k] for k in job_rows[current_job]])
                        key = jobs[current_job]
                        if checks.get(key, _FileCheck("not-checked")).status in ("not-checked", "ok"):
                            checks[key] = current_status
                        if progress is not None:
                            progress(current_job + 1, len(jobs))
                    crop_html = _crop_cell(row, current_crops, current_status, summary)
                else:
                    why = no_crops or f"crop not embedded: the report embeds at most {max_crops:,} crops"
                    crop_html = f'<div class="nocrop">{_e(why)}</div>'
                faces_out.write(_face_row(n_face, row, crop_html, threshold, band))
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
        with _atomic_output(html_path) as out:
            _write_head(out, header, rows, summary, info, threshold, band, generated)
            _write_identities(out, header)
            out.write(f'<section id="faces"><h2>Faces ({face_rows:,})</h2>')
            out.write(_faces_intro(threshold, band, settings if job_rows else None, info, bool(own_crops)))
            if face_rows:
                out.write('<table class="faces"><thead><tr><th class="num">#</th><th>aligned crop</th>'
                          '<th>file and face</th><th>score against the threshold</th><th>verdict</th></tr></thead>'
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
            _write_pair(out, header, info, threshold)
            if results_file is not None and results_sha256 is None:
                results_sha256 = _sha256_file(results_file)
            _write_provenance(out, header, rows, info, checks, results_file, results_sha256, generated)
            out.write(f"<footer>Generated by mint-tui {_e(__version__)} on {_e(generated)}. This file is "
                      "self-contained: it loads nothing from the network and runs no scripts.</footer>"
                      "</body></html>\n")
    summary.path = html_path
    return summary


def _check_item(item: Any, job: tuple[str, str | None], job_rows: list[ResultRow]
                ) -> tuple[dict[int, str], _FileCheck]:
    """Crops (as data URIs) of the faces the job's rows ask for, if the file is the audited one."""
    path, sha = job
    if item.error is not None:
        return {}, _FileCheck("unreadable", item.error)
    if sha is None:
        return {}, _FileCheck("unverified", "the results record no sha256 for it")
    if item.sha256 != sha.lower():
        return {}, _FileCheck("changed", f"sha256 now {item.sha256}")
    wanted = {r.face for r in job_rows}
    faces = {f.index: f for f in item.faces if f.index in wanted}
    crops = {i: _crop_uri(f.crop) for i, f in faces.items()}
    diff = 0.0
    for r in job_rows:
        face = faces.get(r.face)
        if r.box and face is not None and face.box:
            diff = max(diff, max(abs(a - b) for a, b in zip(r.box, face.box)))
    detail = f"re-detected face box differs from the audit's by up to {diff:.0f} px" if diff > 2 else ""
    return crops, _FileCheck("ok", detail)


def _crop_cell(row: ResultRow, crops: dict[int, str], status: _FileCheck, summary: ReportSummary) -> str:
    if status.status == "changed":
        return ('<div class="nocrop bad" title="the sha256 of the file differs from the one recorded by the audit">'
                "file changed since the audit</div>")
    if status.status == "unreadable":
        return f'<div class="nocrop bad">file cannot be read now: {_e(status.detail)}</div>'
    if status.status == "unverified":
        return '<div class="nocrop bad">no sha256 recorded: cannot show that this is the audited file</div>'
    uri = crops.get(row.face)
    if uri is None:
        return '<div class="nocrop bad">face not found when the file was prepared again</div>'
    summary.crops += 1
    note = f'<div class="small muted">{_e(status.detail)}</div>' if status.detail else ""
    return (f'<img src="{uri}" width="112" height="112" alt="aligned face {row.face} of {_e(Path(row.path).name)}">'
            + note)


def _face_row(n: int, row: ResultRow, crop_html: str, threshold: float | None,
              band: tuple[float, float] | None) -> str:
    colour = _VERDICT_COLOURS.get(row.verdict, "#475467")
    meta = [f"face {row.face}"]
    if row.box:
        meta.append("box " + ", ".join(f"{v:.0f}" for v in row.box))
    if row.detection_score is not None:
        meta.append(f"detection {row.detection_score:.2f}")
    msg = f'<div class="small">{_e(row.message)}</div>' if row.message else ""
    return (f'<tr class="face" id="face-{n}"><td class="num">{n}</td><td>{crop_html}</td>'
            f'<td><div class="mono">{_e(row.path)}</div><div class="small muted">{_e(" · ".join(meta))}</div>'
            f'<div class="small mono muted">sha256 {_e(row.sha256 or "–")}</div>{msg}</td>'
            f'<td><span class="score" style="color:{colour}">{_fmt(row.score)}</span>'
            f"{_score_bar(_num(row.score), threshold, band, colour)}</td>"
            f'<td><span class="verdict" style="color:{colour}">{_e(row.verdict)}</span></td></tr>\n')


def _other_row(n: int, row: ResultRow) -> str:
    return (f'<tr class="other"><td class="num">{n}</td><td class="mono">{_e(row.path)}</td>'
            f'<td class="mono small">{_e(row.sha256 or "–")}</td><td>{_badge(row.verdict)}</td>'
            f"<td>{_e(row.message)}</td></tr>\n")


def _faces_intro(threshold: float | None, band: tuple[float, float] | None, settings: Any,
                 info: _PairInfo, own: bool = False) -> str:
    parts = ["<p>Each face's score is the MINT model's probability that the face (image) was in the audited "
             "model's training data. The bar runs from 0 to 1: "]
    if band is not None:
        parts.append(f"scores from {band[1]:.4f} up are <b style=\"color:{_VERDICT_COLOURS['member']}\">member</b>, "
                     f"below {band[0]:.4f} <b style=\"color:{_VERDICT_COLOURS['non-member']}\">non-member</b>, "
                     f"in between <b style=\"color:{_VERDICT_COLOURS['inconclusive']}\">inconclusive</b> "
                     "(the pair's calibrated uncertainty band)")
    if threshold is not None:
        parts.append(f"; the dashed line is the threshold {threshold:.4f}")
    parts.append(".</p>")
    parts.append('<p class="legend small"><span><i class="sw" style="background:#e4f4ea"></i>non-member</span>'
                 '<span><i class="sw" style="background:#fdf0d5"></i>inconclusive band</span>'
                 '<span><i class="sw" style="background:#fbe2df"></i>member</span>'
                 '<span>┆ threshold</span><span>▼ score</span></p>')
    if own:
        parts.append('<p class="small muted">Crops labelled "as scored by the audit" are the very crops the audit '
                     "scored, handed over by the program that ran it: nothing was read again for them.</p>")
    if settings is not None:
        how = (f"with the audit's settings (faces {settings.policy}, detector {settings.detector}, "
               f"{settings.size[0]}x{settings.size[1]} {settings.template})")
        if not info.matches:
            how += "; the audited pair is not available here, so its input size is assumed to be the default"
        parts.append(f'<p class="small muted">The crops are not stored in the results: they were made again from '
                     f"the files {_e(how)}, and only for files whose sha256 still equals the one recorded by the "
                     "audit.</p>")
    return "".join(parts)


def _write_head(out: IO[str], header: dict[str, Any], rows: list[ResultRow], summary: ReportSummary,
                info: _PairInfo, threshold: float | None, band: tuple[float, float] | None, generated: str) -> None:
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    title = recorded.get("title") or recorded.get("name") or "unknown pair"
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta name="referrer" content="no-referrer">'
              f"<title>MINT audit report – {_e(title)}</title><style>{_CSS}</style></head><body>\n")
    out.write('<header><h1>MINT audit report</h1>'
              f'<p class="muted">Membership Inference Test with the pair <b>{_e(title)}</b>'
              f"{' [' + _e(recorded.get('name')) + ']' if recorded.get('name') else ''}; "
              f"audit of {_e(header.get('created', 'an unknown time'))}; report generated {_e(generated)} "
              f"by mint-tui {_e(__version__)}.</p></header>\n")
    out.write('<nav><ol><li><a href="#summary">Summary</a></li><li><a href="#identities">Identity-level test</a></li>'
              '<li><a href="#faces">Faces</a></li><li><a href="#other">Images without a scored face</a></li>'
              '<li><a href="#pair">The pair: model card and ROC curve</a></li>'
              '<li><a href="#provenance">Provenance</a></li></ol></nav>\n')
    for warning in summary.warnings:
        out.write(f'<div class="warning" role="alert">⚠ {_e(warning)}</div>\n')
    from mint_tui.audit import VERDICTS

    counts = {v: 0 for v in VERDICTS}
    for r in rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    out.write('<section id="summary"><h2>Summary</h2><div class="summary">')
    out.write(f"<div><b>{len(rows):,}</b>rows</div>")
    for v in VERDICTS:
        out.write(f'<div><b style="color:{_VERDICT_COLOURS[v]}">{counts[v]:,}</b>{_e(v)}</div>')
    out.write("</div>")
    items = [("pair (audited)", f"{_e(title)} <span class=\"mono\">[{_e(recorded.get('name', '–'))}]</span>"),
             ("threshold", _fmt(threshold)),
             ("inconclusive band", f"[{_fmt(band[0])}, {_fmt(band[1])})" if band else "–"),
             ("crops shown", f"{summary.crops:,} of {summary.faces:,} faces"
              + (f"; {summary.changed} file(s) changed since the audit" if summary.changed else "")
              + (f"; {summary.unreadable} file(s) unreadable now" if summary.unreadable else "")),
             ("pair check", "the bundle found here has the audited bundle's sha256" if info.matches
              else "<b style=\"color:#b42318\">not confirmed (see the warning above)</b>")]
    out.write(_kv(items))
    out.write("<p class=\"small muted\">Verdicts: <b>member</b>: the score is at or above the band, evidence that "
              "this image was in the training data; <b>non-member</b>: below the band; <b>inconclusive</b>: in the "
              "band, where the calibration data does not support either answer at 95 %. A single image's verdict "
              "has the error rates shown with the pair; the identity-level test combines one person's images."
              "</p></section>\n")


def _write_identities(out: IO[str], header: dict[str, Any]) -> None:
    from mint_tui.identity import IdentityResult

    out.write('<section id="identities"><h2>Identity-level test</h2>')
    idents = header.get("identities")
    if not isinstance(idents, list) or not idents:
        out.write("<p>No identity-level test was run in this audit (it is run with <code>mint-tui audit "
                  "--identity NAME</code> or <code>--group-by folder</code>).</p></section>\n")
        return
    out.write("<p>One person's faces combined: the statistic is their combined score, the probability whose log-odds are "
              "the mean log-odds of their MINT scores; its p-value is a rank test "
              "against identity-level null values from the pair's calibration non-member identities, "
              "p = (1 + #{null identities scoring at least as high}) / (1 + number of null identities). "
              "<b>member</b> means the null hypothesis \"this person's photos were not in the training data\" is "
              "rejected: p is at most the cut-off, the rank level below alpha that keeps the false-positive rate at "
              "or under alpha for this pair's own calibration sample with 95 % confidence; <b>not-shown</b> means "
              "it is not. The guarantee assumes a non-member "
              "person is exchangeable with the calibration identities (same population and kind of photo).</p>")
    out.write('<table class="identities"><thead><tr><th>name</th><th class="num">faces</th>'
              '<th class="num">combined score</th><th class="num">p-value</th><th class="num">alpha</th>'
              '<th class="num">p cut-off</th><th class="num">null identities</th><th>verdict</th><th>explanation</th></tr></thead><tbody>')
    for d in idents:
        if hasattr(d, "to_dict"):  # an IdentityResult, from a caller's own header
            d = d.to_dict()
        if not isinstance(d, dict):
            continue
        try:
            explanation = IdentityResult(**d).explanation
        except (TypeError, ValueError):
            explanation = ""
        verdict = str(d.get("verdict", "–"))
        out.write(f'<tr class="identity"><td>{_e(d.get("name", "–"))}</td>'
                  f'<td class="num">{_e(d.get("faces", "–"))}</td>'
                  f'<td class="num">{_fmt(d.get("statistic"))}</td><td class="num">{_fmt(d.get("p_value"))}</td>'
                  f'<td class="num">{_fmt(d.get("alpha"), 3)}</td><td class="num">{_fmt(d.get("level"))}</td>'
                  f'<td class="num">{_e(d.get("null_identities", "–"))}</td><td>{_badge(verdict)}</td>'
                  f"<td>{_e(explanation)}</td></tr>")
    out.write("</tbody></table></section>\n")


def _write_pair(out: IO[str], header: dict[str, Any], info: _PairInfo, threshold: float | None) -> None:
    import numpy as np

    from mint_tui.figures import member_data_lines, metric_figure
    from mint_tui.pairs.card import model_card
    from mint_tui.train.metrics import roc_auc

    out.write('<section id="pair"><h2>The pair: model card and ROC curve</h2>')
    if not info.matches:
        out.write(f'<div class="warning">⚠ {_e(info.warning or "the pair is not available")}</div></section>\n')
        return
    m = info.manifest
    disclosure = member_data_lines(m.member_data)
    if m.member_data.stored:
        out.write(f'<div class="warning" role="alert">⚠ Member data: {_e(" ".join(disclosure))}</div>')
    else:
        out.write(f'<p class="notice">Member data: {_e(disclosure[0])}</p>')
    out.write('<div class="cols"><div>')
    cal = info.calibration_scores
    if cal is not None and len(cal.get("member", ())) and len(cal.get("external", ())):
        member = np.asarray(cal["member"], dtype=np.float64).reshape(-1)
        external = np.asarray(cal["external"], dtype=np.float64).reshape(-1)
        labels = np.r_[np.ones(len(member), bool), np.zeros(len(external), bool)]
        scores = np.r_[member, external]
        auc = roc_auc(labels, scores)
        out.write("<h3>ROC curve on the calibration data</h3>")
        out.write(_roc_svg(labels, scores, m.calibration.threshold, auc))
        out.write(f'<p class="small">Computed here from the calibration scores stored in the bundle: '
                  f"{len(member):,} member and {len(external):,} external faces "
                  f"({_e(m.calibration.on)}). These faces fixed the threshold and band, so this curve is "
                  "somewhat optimistic; the recorded metrics on held-out test data are the fairer figures.</p>")
    else:
        out.write('<p class="notice">This pair carries no calibration scores, so no ROC curve can be drawn '
                  "(bundles built with <code>mint-tui train</code> store them).</p>")
    out.write("</div><div><h3>Recorded metrics</h3>")
    if m.metrics:
        groups: dict[tuple[str, int | None], list[Any]] = {}
        for metric in m.metrics:
            groups.setdefault((metric.data, metric.n), []).append(metric)
        out.write('<table class="metrics"><thead><tr><th>metric</th><th class="num">value</th></tr></thead><tbody>')
        for (data, n), metrics in groups.items():
            size = "" if n is None else f" (n = {n:,})"
            out.write(f'<tr><td colspan="2" class="group">measured on <span class="mono">{_e(data)}</span>'
                      f"{size}</td></tr>")
            for metric in metrics:
                out.write(f'<tr><td class="metric">{_e(metric.name)}</td>'
                          f'<td class="num">{_e(metric_figure(metric))}</td></tr>')
        out.write("</tbody></table><p class=\"small muted\">As recorded in the pair's manifest when it was "
                  "built.</p>")
    else:
        out.write("<p>The pair's manifest records no metrics.</p>")
    out.write("</div></div><h3>Model card</h3>")
    out.write(f'<pre class="card">{_e(model_card(m, info.path, info.builtin), keep_newlines=True)}</pre>')
    out.write("</section>\n")


def _write_provenance(out: IO[str], header: dict[str, Any], rows: list[ResultRow], info: _PairInfo,
                      checks: dict[tuple[str, str | None], _FileCheck], results_file: Path | None,
                      results_sha256: str | None, generated: str) -> None:
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    options = header.get("options")
    out.write('<section id="provenance"><h2>Provenance</h2><h3>The audit (as recorded in the results)</h3>')
    items = [("tool", f"mint-tui {_e(header.get('tool_version', '–'))}"),
             ("created", _e(header.get("created", "–"))),
             ("device", _e(header.get("device", "–"))),
             ("options", f'<span class="mono">{_e(json.dumps(options, ensure_ascii=False)) if options else "–"}'
                         "</span>"),
             ("pair", f"{_e(recorded.get('title', '–'))} <span class=\"mono\">[{_e(recorded.get('name', '–'))}]"
                      "</span>"),
             ("pair bundle sha256", f'<span class="mono">{_e(recorded.get("bundle_sha256", "–"))}</span>'),
             ("threshold, band", f"{_e(json.dumps(recorded.get('threshold')))}, "
                                 f"{_e(json.dumps(recorded.get('inconclusive')))}"),
             ("finished", "no: interrupted" if header.get("interrupted") else "yes")]
    out.write(_kv(items))
    out.write("<h3>This report</h3>")
    items = [("generated", _e(generated)), ("by", f"mint-tui {_e(__version__)}")]
    if results_file is not None:
        items.append(("results file", f'<span class="mono">{_e(results_file.absolute())}</span>'))
        items.append(("results file sha256", f'<span class="mono">{_e(results_sha256 or "–")}</span>'))
    if info.path is not None:
        items.append(("pair bundle used", f'<span class="mono">{_e(info.path)}</span>'))
    if info.bundle_sha256:
        items.append(("its sha256", f'<span class="mono">{_e(info.bundle_sha256)}</span> '
                                    + ("(equals the audited bundle's)" if info.matches
                                       else '<b style="color:#b42318">(differs from the audited bundle\'s)</b>')))
    out.write(_kv(items))
    files: dict[tuple[str, str | None], int] = {}
    for r in rows:
        files[(r.path, r.sha256)] = files.get((r.path, r.sha256), 0) + 1
    out.write(f"<h3>Files ({len(files):,})</h3><p class=\"small muted\">Each audited file with the sha256 of its "
              "contents at the time of the audit, and what was found when the report re-read it for the crops.</p>")
    out.write('<table class="files"><thead><tr><th>file</th><th>sha256 at the audit</th><th class="num">rows</th>'
              "<th>re-read for this report</th></tr></thead><tbody>")
    labels = {"ok": "same sha256", "changed": "CHANGED since the audit", "unreadable": "cannot be read",
              "not-checked": "not re-read", "unverified": "not shown"}
    for key, count in files.items():
        check = checks.get(key, _FileCheck("not-checked"))
        bad = check.status in ("changed", "unreadable", "unverified")
        style = ' style="color:#b42318;font-weight:700"' if bad else ""
        detail = f": {_e(check.detail)}" if check.detail else ""
        out.write(f'<tr><td class="mono">{_e(key[0])}</td><td class="mono small">{_e(key[1] or "–")}</td>'
                  f'<td class="num">{count}</td><td{style}>{_e(labels[check.status])}{detail}</td></tr>\n')
    out.write("</tbody></table></section>\n")


# ---------------------------------------------------------------- entry points
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
    return _write(source, html_path, pair, max_crops=max_crops, progress=progress, cancel=cancel).path


def _write(source: Any, html_path: Any, pair: str | None, **kwargs: Any) -> ReportSummary:
    from mint_tui.results import read_results

    if isinstance(source, tuple):
        header, rows = source
        return render_report(header, rows, html_path, pair, **kwargs)
    results_path = Path(source)
    sha = _sha256_file(results_path)  # of the file as read (a file changed in between is refused)
    header, rows = read_results(results_path)
    if sha is None or _sha256_file(results_path) != sha:
        raise ValueError(f"{results_path}: the results file changed while it was being read")
    return render_report(header, rows, html_path, pair, results_path=results_path, results_sha256=sha, **kwargs)


def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report RESULTS --html FILE [--pair NAME|FILE] [--max-crops N]`` to a CLI's subparsers."""
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report of an audit (crops, scores, pair, provenance)",
        description="Write one self-contained HTML file (no network: crops and plots are embedded) with the "
                    "aligned crop of every audited face, its score against the threshold, the identity-level "
                    "test, the pair's model card and calibration-data ROC curve, and the provenance (file "
                    "hashes, bundle hash, tool version, device, time). Crops are made again from the files, "
                    "only where a file's sha256 still equals the one recorded by the audit.")
    p.add_argument("results", metavar="RESULTS", help="an audit result file (.json from --json, .jsonl or .csv)")
    p.add_argument("--html", required=True, metavar="FILE", help="where to write the report")
    p.add_argument("--pair", metavar="NAME|FILE",
                   help="the pair (installed name or .mintpair file) if not the one named in the results; its "
                        "bundle sha256 must equal the recorded one for the model card and ROC to be included")
    p.add_argument("--max-crops", type=int, default=DEFAULT_MAX_CROPS, metavar="N",
                   help=f"embed at most N face crops (default: {DEFAULT_MAX_CROPS})")
    return p


def cmd_report(args: argparse.Namespace) -> int:
    """``mint-tui report``: 0 written, 1 the results could not be read or the report not written,
    2 usage errors."""
    if args.max_crops < 0:
        print("mint-tui: error: --max-crops must be at least 0", file=sys.stderr)
        return 2
    html_path = Path(args.html)
    if html_path.is_dir():
        print(f"mint-tui: error: --html {html_path} is a folder; give a file name", file=sys.stderr)
        return 2
    try:
        summary = _write(args.results, html_path, args.pair, max_crops=args.max_crops)
    except (OSError, ValueError) as exc:
        print(f"mint-tui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"report written to {summary.path} ({summary.faces} faces, {summary.crops} crops shown)", file=sys.stderr)
    return 0
