"""The model card: a pair's manifest as text a person reads (CLI `pairs info`, the TUI)."""

from __future__ import annotations

import json
from pathlib import Path

from mint_tui.figures import member_data_lines, metric_figure
from mint_tui.pairs.manifest import Manifest
from mint_tui.safe_text import for_terminal as t


def model_card(manifest: Manifest, path: Path | None = None, builtin: bool = False) -> str:
    """A human-readable model card of a manifest (every text from the bundle with its control
    characters escaped: it is shown in terminals)."""
    m = manifest
    lines = [f"{t(m.pair.title)}  [{t(m.pair.name)}]" + ("  (bundled)" if builtin else "")]
    if m.pair.description:
        lines += ["", t(m.pair.description.strip(), keep_newlines=True)]
    a, k, c, p = m.audited, m.mint, m.calibration, m.provenance
    lines += [
        "",
        f"Audited model   {t(a.arch)} {t(json.dumps(a.config))}",
        f"  input         {a.preprocess.size[0]}x{a.preprocess.size[1]} {a.preprocess.color}, "
        f"mean {list(a.preprocess.mean)}, std {list(a.preprocess.std)}, template {a.preprocess.template}",
        f"MINT model      {t(k.kind)} over taps {t(', '.join(k.taps))}",
        f"Calibration     threshold {c.threshold:.4f}, inconclusive band [{c.inconclusive[0]:.4f}, {c.inconclusive[1]:.4f}]",
        f"                on {t(c.on)}",
        f"Training data   {t(p.training_data)}",
    ]
    disclosure = member_data_lines(m.member_data)
    lines.append(f"Member data     {t(disclosure[0])}")
    lines += [f"                {t(line)}" for line in disclosure[1:]]
    if m.metrics:
        lines.append("Metrics")
        for metric in m.metrics:
            n = f" (n={metric.n})" if metric.n is not None else ""
            lines.append(f"  {t(metric.name):<20} {metric_figure(metric)}  on {t(metric.data)}{n}")
    lines.append(f"Created         {t(p.created)} by mint-tui {t(p.tool_version)}")
    for key, value in (p.splits or {}).items():
        lines.append(f"  split {t(key)}: {t(value)}")
    if p.license:
        lines.append(f"Licence         {t(p.license)}")
    if p.notes:
        lines += ["", t(p.notes.strip(), keep_newlines=True)]
    if path is not None:
        lines += ["", f"Bundle          {t(path)}"]
    return "\n".join(lines)
