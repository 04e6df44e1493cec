"""The model card: a pair's manifest as text a person reads (CLI `pairs info`, the TUI)."""

from __future__ import annotations

import json
from pathlib import Path

from mint_tui.figures import member_data_lines, metric_figure
from mint_tui.pairs.manifest import Manifest
from mint_tui.safe_text import for_terminal as t

#: Metric names as the manifest records them -> the words a person reads.
METRIC_WORDS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "roc_auc": "ROC AUC",
                "tpr@1%fpr": "TPR at 1% FPR", "tpr@0.1%fpr": "TPR at 0.1% FPR"}


def metric_label(name: str) -> str:
    """"balanced_accuracy" -> "balanced accuracy"; a name not known here is shown with spaces."""
    return METRIC_WORDS.get(name, name.replace("_", " "))


def mint_kind_words(kind: str) -> str:
    """"an MLP" / "a CNN": the MINT model's kind with its article."""
    return {"mlp": "an MLP", "cnn": "a CNN"}.get(kind, f"a {kind}")


IDENTITY_CLAIM = "this photo, or photos of this person, were likely in the training data"
IDENTITY_CAVEAT = ("The pair's non-members were other people, so it tells who was in the training data better than "
                   "which photos: unseen photos of a training person also score high.")


def member_claim(manifest: Manifest | None) -> tuple[str, str]:
    """What a ``member`` verdict of this pair supports, and the caveat that goes beside verdicts.

    Read from what the manifest states about the data the pair was calibrated on: when its
    non-members were other people ("external split by identity", as ``mint-tui train`` and the demo
    pairs record), MINT learns identities as much as photos, so a member verdict speaks for the
    photo *or the person*. Only a pair calibrated otherwise is read as speaking for the photo
    alone. With no manifest (the pair is not installed here), the broader reading is the safe one."""
    if manifest is None or "split by identity" in manifest.calibration.on:
        return IDENTITY_CLAIM, IDENTITY_CAVEAT
    return "this photo was likely in the training data", ""


def metric_groups(metrics) -> dict[tuple[str, int | None], list]:
    """Metrics grouped by the data (and sample size) they were measured on, in order."""
    groups: dict[tuple[str, int | None], list] = {}
    for metric in metrics:
        groups.setdefault((metric.data, metric.n), []).append(metric)
    return groups


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
        f"MINT model      {t(mint_kind_words(k.kind))} over taps {t(', '.join(k.taps))}"
        + ("; a face's score is the mean over its crop and the crop's mirror image" if k.mirror else ""),
        f"Calibration     threshold {c.threshold:.4f}, inconclusive band [{c.inconclusive[0]:.4f}, {c.inconclusive[1]:.4f}]",
        f"                on {t(c.on)}",
        f"Training data   {t(p.training_data)}",
    ]
    disclosure = member_data_lines(m.member_data)
    lines.append(f"Member data     {t(disclosure[0])}")
    lines += [f"                {t(line)}" for line in disclosure[1:]]
    if m.metrics:
        lines.append("Metrics")
        for (data, n), metrics in metric_groups(m.metrics).items():
            lines.append(f"  on {t(data)}" + (f" (n={n})" if n is not None else ""))
            for metric in metrics:
                lines.append(f"    {t(metric_label(metric.name)):<20} {metric_figure(metric)}")
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
