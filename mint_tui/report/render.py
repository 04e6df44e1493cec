"""HTML of an audit report: escaping of untrusted text, inline SVG (score bars, the ROC curve),
the CSS and each section of the page. Nothing here reads a file or loads a model."""

from __future__ import annotations

import html
import json
import math
import unicodedata
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mint_tui import __version__
from mint_tui.options import VERDICTS
from mint_tui.pairs.card import member_claim
from mint_tui.report.evidence import FileCheck, PairInfo, ReportSummary

if TYPE_CHECKING:
    import numpy as np

    from mint_tui.audit import ResultRow


VERDICT_COLOURS = {"member": "#b42318", "non-member": "#067647", "inconclusive": "#b54708",
                    "no-face": "#475467", "error": "#475467", "not-shown": "#344054", "no-faces": "#475467"}


def clean(value: Any, keep_newlines: bool = False) -> str:
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


def esc(value: Any, keep_newlines: bool = False) -> str:
    """HTML-escaped (quotes too) safe text."""
    return html.escape(clean(value, keep_newlines), quote=True)


def num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def fmt(value: Any, digits: int = 4) -> str:
    v = num(value)
    return "–" if v is None else f"{v:.{digits}f}"


def score_bar(score: float | None, threshold: float | None, band: tuple[float, float] | None,
               colour: str) -> str:
    """Score on [0, 1] against the inconclusive band (shaded) and the threshold (line)."""
    w, h, pad = 236, 26, 14
    inner = w - 2 * pad
    x = lambda v: pad + inner * min(max(v, 0.0), 1.0)  # noqa: E731
    parts = [f'<svg class="bar" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="score {fmt(score)} against threshold {fmt(threshold)}">',
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


def roc_svg(labels: np.ndarray, scores: np.ndarray, threshold: float | None, auc: float) -> str:
    """ROC curve as inline SVG: FPR on x, TPR on y, chance diagonal, operating point at the threshold."""
    import numpy as np

    from mint_tui.metrics import roc_curve

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


CSS = """
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
.caveat { border-left: 4px solid #b54708; background: #fffaeb; padding: 6px 12px; margin: 10px 0; }
ul.conclusions { padding-left: 18px; } ul.conclusions li { margin: 4px 0; }
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


def badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#475467")
    return f'<span class="badge" style="background:{colour}">{esc(verdict)}</span>'


def kv(items: list[tuple[str, str]]) -> str:
    """A definition list; values are already-escaped HTML."""
    return '<dl class="kv">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def crop_cell(row: ResultRow, crops: dict[int, str], status: FileCheck, summary: ReportSummary) -> str:
    if status.status == "changed":
        return ('<div class="nocrop bad" title="the sha256 of the file differs from the one recorded by the audit">'
                "file changed since the audit</div>")
    if status.status == "unreadable":
        return f'<div class="nocrop bad">file cannot be read now: {esc(status.detail)}</div>'
    if status.status == "unverified":
        return '<div class="nocrop bad">no sha256 recorded: cannot show that this is the audited file</div>'
    uri = crops.get(row.face)
    if uri is None:
        return '<div class="nocrop bad">face not found when the file was prepared again</div>'
    summary.crops += 1
    note = f'<div class="small muted">{esc(status.detail)}</div>' if status.detail else ""
    return (f'<img src="{uri}" width="112" height="112" alt="aligned face {row.face} of {esc(Path(row.path).name)}">'
            + note)


def face_row(n: int, row: ResultRow, crop_html: str, threshold: float | None,
              band: tuple[float, float] | None, person: str | None = None) -> str:
    colour = VERDICT_COLOURS.get(row.verdict, "#475467")
    meta = [f"face {row.face}"]
    if row.box:
        meta.append("box " + ", ".join(f"{v:.0f}" for v in row.box))
    if row.detection_score is not None:
        meta.append(f"detection {row.detection_score:.2f}")
    msg = f'<div class="small">{esc(row.message)}</div>' if row.message else ""
    who = "" if person is None else f'<td class="person">{esc(person)}</td>'
    return (f'<tr class="face" id="face-{n}"><td class="num">{n}</td><td>{crop_html}</td>{who}'
            f'<td><div class="mono">{esc(row.path)}</div><div class="small muted">{esc(" · ".join(meta))}</div>'
            f'<div class="small mono muted">sha256 {esc(row.sha256 or "–")}</div>{msg}</td>'
            f'<td><span class="score" style="color:{colour}">{fmt(row.score)}</span>'
            f"{score_bar(num(row.score), threshold, band, colour)}</td>"
            f'<td><span class="verdict" style="color:{colour}">{esc(row.verdict)}</span></td></tr>\n')


def other_row(n: int, row: ResultRow) -> str:
    return (f'<tr class="other"><td class="num">{n}</td><td class="mono">{esc(row.path)}</td>'
            f'<td class="mono small">{esc(row.sha256 or "–")}</td><td>{badge(row.verdict)}</td>'
            f"<td>{esc(row.message)}</td></tr>\n")


def faces_intro(threshold: float | None, band: tuple[float, float] | None, settings: Any,
                 info: PairInfo, own: bool = False) -> str:
    claim, caveat = member_claim(info.manifest if info.matches else None)
    parts = ["<p>Each face's score is the MINT model's probability that the face (image) was in the audited "
             f"model's training data; a member verdict means {esc(claim)}. The bar runs from 0 to 1: "]
    if band is not None:
        parts.append(f"scores from {band[1]:.4f} up are <b style=\"color:{VERDICT_COLOURS['member']}\">member</b>, "
                     f"below {band[0]:.4f} <b style=\"color:{VERDICT_COLOURS['non-member']}\">non-member</b>, "
                     f"in between <b style=\"color:{VERDICT_COLOURS['inconclusive']}\">inconclusive</b> "
                     "(the pair's calibrated uncertainty band)")
    if threshold is not None:
        parts.append(f"; the dashed line is the threshold {threshold:.4f}")
    parts.append(".</p>")
    parts.append(caveat_html(caveat))
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
                     f"the files {esc(how)}, and only for files whose sha256 still equals the one recorded by the "
                     "audit.</p>")
    return "".join(parts)


def write_head(out: IO[str], header: dict[str, Any], rows: list[ResultRow], summary: ReportSummary,
                info: PairInfo, threshold: float | None, band: tuple[float, float] | None, generated: str) -> None:
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    title = recorded.get("title") or recorded.get("name") or "unknown pair"
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta name="referrer" content="no-referrer">'
              f"<title>MINT audit report – {esc(title)}</title><style>{CSS}</style></head><body>\n")
    out.write('<header><h1>MINT audit report</h1>'
              f'<p class="muted">Membership Inference Test with the pair <b>{esc(title)}</b>'
              f"{' [' + esc(recorded.get('name')) + ']' if recorded.get('name') else ''}; "
              f"audit of {esc(header.get('created', 'an unknown time'))}; report generated {esc(generated)} "
              f"by mint-tui {esc(__version__)}.</p></header>\n")
    out.write('<nav><ol><li><a href="#summary">Summary</a></li><li><a href="#identities">Identity-level test</a></li>'
              '<li><a href="#faces">Faces</a></li><li><a href="#other">Images without a scored face</a></li>'
              '<li><a href="#pair">The pair: model card and ROC curve</a></li>'
              '<li><a href="#provenance">Provenance</a></li></ol></nav>\n')
    for warning in summary.warnings:
        out.write(f'<div class="warning" role="alert">⚠ {esc(warning)}</div>\n')
    counts = {v: 0 for v in VERDICTS}
    for r in rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    out.write('<section id="summary"><h2>Summary</h2><div class="summary">')
    out.write(f"<div><b>{len(rows):,}</b>rows</div>")
    for v in VERDICTS:
        out.write(f'<div><b style="color:{VERDICT_COLOURS[v]}">{counts[v]:,}</b>{esc(v)}</div>')
    out.write("</div>")
    items = [("pair (audited)", f"{esc(title)} <span class=\"mono\">[{esc(recorded.get('name', '–'))}]</span>"),
             ("threshold", fmt(threshold)),
             ("inconclusive band", f"[{fmt(band[0])}, {fmt(band[1])})" if band else "–"),
             ("crops shown", f"{summary.crops:,} of {summary.faces:,} faces"
              + (f"; {summary.changed} file(s) changed since the audit" if summary.changed else "")
              + (f"; {summary.unreadable} file(s) unreadable now" if summary.unreadable else "")),
             ("pair check", "the bundle found here has the audited bundle's sha256" if info.matches
              else "<b style=\"color:#b42318\">not confirmed (see the warning above)</b>")]
    out.write(kv(items))
    claim, caveat = member_claim(info.manifest if info.matches else None)
    conclusions(out, header)
    out.write(f"<p class=\"small muted\">Verdicts: <b>member</b>: the score is at or above the band: {esc(claim)}; "
              "<b>non-member</b>: below the band; <b>inconclusive</b>: in the "
              "band, where the calibration data does not support either answer at 95 %. A single image's verdict "
              "has the error rates shown with the pair; the identity-level test combines one person's images."
              f"</p>{caveat_html(caveat)}</section>\n")


def caveat_html(caveat: str) -> str:
    return f'<p class="caveat"><b>Caveat:</b> {esc(caveat)}</p>' if caveat else ""


def conclusions(out: IO[str], header: dict[str, Any]) -> None:
    """The identity-level conclusions, first: one line per person."""
    from mint_tui.identity import IdentityResult, people_summary

    idents = [d.to_dict() if hasattr(d, "to_dict") else d for d in header.get("identities") or []]
    idents = [d for d in idents if isinstance(d, dict)]
    if not idents:
        return
    out.write(f'<h3>Conclusions: {esc(people_summary(idents))}</h3><ul class="conclusions">')
    for d in idents:
        try:
            said = IdentityResult(**d).explanation
        except (TypeError, ValueError):
            said = str(d.get("name", "–"))
        out.write(f"<li>{badge(str(d.get('verdict', '–')))} {esc(said)}</li>")
    out.write('</ul><p class="small muted">The identity-level test is the answer to "was this person in the '
              'training data?"; the faces below are its evidence, one photo at a time.</p>')


def person_of(row: ResultRow, names: list[str], everyone: bool) -> str:
    """The person (identity-level group) a face row belongs to: the one named after its folder (one
    person per folder), or the only person when every scored face was tested as theirs; else "–"."""
    folder = Path(row.path).parent.name
    if folder in names:
        return folder
    return names[0] if everyone and len(names) == 1 else "–"


def write_identities(out: IO[str], header: dict[str, Any]) -> None:
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
        out.write(f'<tr class="identity"><td>{esc(d.get("name", "–"))}</td>'
                  f'<td class="num">{esc(d.get("faces", "–"))}</td>'
                  f'<td class="num">{fmt(d.get("statistic"))}</td><td class="num">{fmt(d.get("p_value"))}</td>'
                  f'<td class="num">{fmt(d.get("alpha"), 3)}</td><td class="num">{fmt(d.get("level"))}</td>'
                  f'<td class="num">{esc(d.get("null_identities", "–"))}</td><td>{badge(verdict)}</td>'
                  f"<td>{esc(explanation)}</td></tr>")
    out.write("</tbody></table></section>\n")


def write_pair(out: IO[str], header: dict[str, Any], info: PairInfo, threshold: float | None) -> None:
    import numpy as np

    from mint_tui.figures import member_data_lines, metric_figure
    from mint_tui.metrics import roc_auc
    from mint_tui.pairs.card import metric_label, model_card

    out.write('<section id="pair"><h2>The pair: model card and ROC curve</h2>')
    if not info.matches:
        out.write(f'<div class="warning">⚠ {esc(info.warning or "the pair is not available")}</div></section>\n')
        return
    m = info.manifest
    disclosure = member_data_lines(m.member_data)
    if m.member_data.stored:
        out.write(f'<div class="warning" role="alert">⚠ Member data: {esc(" ".join(disclosure))}</div>')
    else:
        out.write(f'<p class="notice">Member data: {esc(disclosure[0])}</p>')
    out.write('<div class="cols"><div>')
    cal = info.calibration_scores
    if cal is not None and len(cal.get("member", ())) and len(cal.get("external", ())):
        member = np.asarray(cal["member"], dtype=np.float64).reshape(-1)
        external = np.asarray(cal["external"], dtype=np.float64).reshape(-1)
        labels = np.r_[np.ones(len(member), bool), np.zeros(len(external), bool)]
        scores = np.r_[member, external]
        auc = roc_auc(labels, scores)
        out.write("<h3>ROC curve on the calibration data</h3>")
        out.write(roc_svg(labels, scores, m.calibration.threshold, auc))
        out.write(f'<p class="small">Computed here from the calibration scores stored in the bundle: '
                  f"{len(member):,} member and {len(external):,} external faces "
                  f"({esc(m.calibration.on)}). These faces fixed the threshold and band, so this curve is "
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
            out.write(f'<tr><td colspan="2" class="group">measured on <span class="mono">{esc(data)}</span>'
                      f"{size}</td></tr>")
            for metric in metrics:
                out.write(f'<tr><td class="metric">{esc(metric_label(metric.name))}</td>'
                          f'<td class="num">{esc(metric_figure(metric))}</td></tr>')
        out.write("</tbody></table><p class=\"small muted\">As recorded in the pair's manifest when it was "
                  "built.</p>")
    else:
        out.write("<p>The pair's manifest records no metrics.</p>")
    out.write("</div></div><h3>Model card</h3>")
    out.write(f'<pre class="card">{esc(model_card(m, info.path, info.builtin), keep_newlines=True)}</pre>')
    out.write("</section>\n")


def write_provenance(out: IO[str], header: dict[str, Any], rows: list[ResultRow], info: PairInfo,
                      checks: dict[tuple[str, str | None], FileCheck], results_file: Path | None,
                      results_sha256: str | None, generated: str) -> None:
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    options = header.get("options")
    out.write('<section id="provenance"><h2>Provenance</h2><h3>The audit (as recorded in the results)</h3>')
    items = [("tool", f"mint-tui {esc(header.get('tool_version', '–'))}"),
             ("created", esc(header.get("created", "–"))),
             ("device", esc(header.get("device", "–"))),
             ("options", f'<span class="mono">{esc(json.dumps(options, ensure_ascii=False)) if options else "–"}'
                         "</span>"),
             ("pair", f"{esc(recorded.get('title', '–'))} <span class=\"mono\">[{esc(recorded.get('name', '–'))}]"
                      "</span>"),
             ("pair bundle sha256", f'<span class="mono">{esc(recorded.get("bundle_sha256", "–"))}</span>'),
             ("threshold, band", f"{esc(json.dumps(recorded.get('threshold')))}, "
                                 f"{esc(json.dumps(recorded.get('inconclusive')))}"),
             ("finished", "no: interrupted" if header.get("interrupted") else "yes")]
    out.write(kv(items))
    out.write("<h3>This report</h3>")
    items = [("generated", esc(generated)), ("by", f"mint-tui {esc(__version__)}")]
    if results_file is not None:
        items.append(("results file", f'<span class="mono">{esc(results_file.absolute())}</span>'))
        items.append(("results file sha256", f'<span class="mono">{esc(results_sha256 or "–")}</span>'))
    if info.path is not None:
        items.append(("pair bundle used", f'<span class="mono">{esc(info.path)}</span>'))
    if info.bundle_sha256:
        items.append(("its sha256", f'<span class="mono">{esc(info.bundle_sha256)}</span> '
                                    + ("(equals the audited bundle's)" if info.matches
                                       else '<b style="color:#b42318">(differs from the audited bundle\'s)</b>')))
    out.write(kv(items))
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
        check = checks.get(key, FileCheck("not-checked"))
        bad = check.status in ("changed", "unreadable", "unverified")
        style = ' style="color:#b42318;font-weight:700"' if bad else ""
        detail = f": {esc(check.detail)}" if check.detail else ""
        out.write(f'<tr><td class="mono">{esc(key[0])}</td><td class="mono small">{esc(key[1] or "–")}</td>'
                  f'<td class="num">{count}</td><td{style}>{esc(labels[check.status])}{detail}</td></tr>\n')
    out.write("</tbody></table></section>\n")
