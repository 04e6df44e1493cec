"""HTML of a report on an audit with several pairs: the summary matrix at the top (person x pair)
and the introduction of each pair's section (its model card summary as the results recorded it,
with its member-data disclosure). Nothing here reads a file or loads a model."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from mint_tui import __version__
from mint_tui.options import VERDICTS
from mint_tui.report.evidence import PairInfo, ReportSummary
from mint_tui.report.render import VERDICT_COLOURS, badge, document_start, esc, fmt, kv

if TYPE_CHECKING:
    from mint_tui.audit import ResultRow


def _identities(header: dict[str, Any]) -> list[dict[str, Any]]:
    idents = [d.to_dict() if hasattr(d, "to_dict") else d for d in header.get("identities") or []]
    return [d for d in idents if isinstance(d, dict)]


def write_matrix_head(out: IO[str], header: dict[str, Any], rows: list[ResultRow], summary: ReportSummary,
                      infos: list[PairInfo], generated: str) -> None:
    """The page's start for several pairs: title, contents, warnings and the summary matrix."""
    from mint_tui.result_header import header_pairs

    pairs = header_pairs(header)
    names = [str(p.get("name", "–")) for p in pairs]
    out.write(document_start(f"MINT audit report – {len(pairs)} pairs"))
    out.write('<header><h1>MINT audit report</h1>'
              f'<p class="muted">Membership Inference Test with {len(pairs)} pairs: '
              f"{esc(', '.join(names))}; audit of {esc(header.get('created', 'an unknown time'))}; report generated "
              f"{esc(generated)} by mint-tui {esc(__version__)}.</p></header>\n")
    out.write('<nav><ol><li><a href="#summary">Summary: which pairs know whom</a></li>'
              + "".join(f'<li><a href="#pair-part-{k}">Pair {esc(name)}</a></li>' for k, name in enumerate(names, 1))
              + '<li><a href="#provenance">Provenance</a></li></ol></nav>\n')
    for warning in summary.warnings:
        out.write(f'<div class="warning" role="alert">⚠ {esc(warning)}</div>\n')
    for failed in header.get("pairs_failed") or []:
        if isinstance(failed, dict):
            out.write(f'<div class="warning" role="alert">⚠ Pair {esc(failed.get("pair", "–"))} was left out of this '
                      f'audit: {esc(failed.get("error", ""))}</div>\n')
    out.write('<section id="summary"><h2>Summary: which pairs know whom</h2>')
    idents = _identities(header)
    if idents:
        people = list(dict.fromkeys(str(d.get("name")) for d in idents))
        cell = {(str(d.get("name")), str(d.get("pair"))): d for d in idents}
        alpha = next((d.get("alpha") for d in idents if d.get("alpha") is not None), None)
        out.write("<p>Each cell: the person's p-value for that pair <b>adjusted across the pairs</b> tested for them "
                  f"(Holm), and the verdict: <b>member</b> when it is at most alpha = {fmt(alpha, 3)}. The chance "
                  "that a person who is in none of the training sets is named for any pair stays at or under "
                  "alpha (assumptions: see each pair's identity-level test).</p>")
        out.write('<table class="matrix"><thead><tr><th>person</th>'
                  + "".join(f'<th><a href="#pair-part-{k}">{esc(n)}</a></th>' for k, n in enumerate(names, 1))
                  + "</tr></thead><tbody>")
        for person in people:
            out.write(f"<tr><td>{esc(person)}</td>")
            for name in names:
                d = cell.get((person, name))
                if d is None:
                    out.write('<td class="muted">not tested</td>')
                elif d.get("verdict") == "no-faces":
                    out.write(f"<td>{badge('no-faces')}</td>")
                else:
                    out.write(f"<td>{badge(str(d.get('verdict', '–')))} "
                              f'<span class="mono">p<sub>adj</sub> {fmt(d.get("p_adjusted"))}</span></td>')
            out.write("</tr>")
        out.write("</tbody></table>")
    else:
        out.write("<p>No identity-level test was run (it is run with <code>--identity NAME</code> or "
                  "<code>--group-by folder</code>); the verdicts of the single photos per pair:</p>")
    out.write('<table class="matrix"><thead><tr><th>pair</th>'
              + "".join(f'<th style="color:{VERDICT_COLOURS[v]}">{esc(v)}</th>' for v in VERDICTS)
              + "</tr></thead><tbody>")
    first = names[0] if names else None
    for name in names:
        counts = {v: 0 for v in VERDICTS}
        for r in rows:
            if (r.pair or first) == name:
                counts[r.verdict] = counts.get(r.verdict, 0) + 1
        out.write(f"<tr><td>{esc(name)}</td>" + "".join(f'<td class="num">{counts[v]:,}</td>' for v in VERDICTS)
                  + "</tr>")
    out.write("</tbody></table>")
    out.write('<p class="small muted">Each pair answers for its own audited model; a pair says nothing about '
              "the others' models. Single-photo verdicts are not adjusted across pairs.</p></section>\n")


def write_pair_intro(out: IO[str], header: dict[str, Any], k: int) -> None:
    """The start of pair ``k``'s section (closed by the caller with ``</div>``): its name, the
    model card summary the results recorded, and what member data the pair carries."""
    recorded = header.get("pair") if isinstance(header.get("pair"), dict) else {}
    card = recorded.get("card") if isinstance(recorded.get("card"), dict) else {}
    out.write(f'<div class="pair-part" id="pair-part-{k}"><h2 class="pair-title">Pair {k}: '
              f"{esc(recorded.get('title') or recorded.get('name') or '–')} "
              f'<span class="mono">[{esc(recorded.get("name", "–"))}]</span></h2>')
    items = [("bundle sha256", f'<span class="mono">{esc(recorded.get("bundle_sha256", "–"))}</span>'),
             ("threshold, band", f"{fmt(recorded.get('threshold'))}, "
                                 f"[{', '.join(fmt(v) for v in recorded.get('inconclusive') or [])}]")]
    words = {"audited": "audited model", "mint": "MINT model", "training_data": "training data",
             "calibrated_on": "calibrated on", "member_claim": "a member verdict means"}
    items += [(label, esc(card[key])) for key, label in words.items() if card.get(key)]
    member_data = card.get("member_data")
    if isinstance(member_data, list) and member_data:
        text = esc(" ".join(str(x) for x in member_data))
        items.append(("member data", f'<b style="color:#b42318">⚠ {text}</b>' if card.get("member_data_stored")
                      else text))
    else:
        items.append(("member data", "not recorded in these results (audited with a version that did not record "
                                     "it); see the model card below"))
    out.write(kv(items))
