"""The model card: a pair's manifest as text a person reads (CLI `pairs info`, the TUI)."""

from __future__ import annotations

import json
from pathlib import Path

from mint_tui.figures import member_data_lines, metric_figure
from mint_tui.pairs.manifest import Manifest


def model_card(manifest: Manifest, path: Path | None = None, builtin: bool = False) -> str:
    """A human-readable model card of a manifest."""
    m = manifest
    lines = [f"{m.pair.title}  [{m.pair.name}]" + ("  (bundled)" if builtin else "")]
    if m.pair.description:
        lines += ["", m.pair.description.strip()]
    a, k, c, p = m.audited, m.mint, m.calibration, m.provenance
    lines += [
        "",
        f"Audited model   {a.arch} {json.dumps(a.config)}",
        f"  input         {a.preprocess.size[0]}x{a.preprocess.size[1]} {a.preprocess.color}, "
        f"mean {list(a.preprocess.mean)}, std {list(a.preprocess.std)}, template {a.preprocess.template}",
        f"MINT model      {k.kind} over taps {', '.join(k.taps)}",
        f"Calibration     threshold {c.threshold:.4f}, inconclusive band [{c.inconclusive[0]:.4f}, {c.inconclusive[1]:.4f}]",
        f"                on {c.on}",
        f"Training data   {p.training_data}",
    ]
    disclosure = member_data_lines(m.member_data)
    lines.append(f"Member data     {disclosure[0]}")
    lines += [f"                {line}" for line in disclosure[1:]]
    if m.metrics:
        lines.append("Metrics")
        for metric in m.metrics:
            n = f" (n={metric.n})" if metric.n is not None else ""
            lines.append(f"  {metric.name:<20} {metric_figure(metric)}  on {metric.data}{n}")
    lines.append(f"Created         {p.created} by mint-tui {p.tool_version}")
    for key, value in (p.splits or {}).items():
        lines.append(f"  split {key}: {value}")
    if p.license:
        lines.append(f"Licence         {p.license}")
    if p.notes:
        lines += ["", p.notes.strip()]
    if path is not None:
        lines += ["", f"Bundle          {path}"]
    return "\n".join(lines)
