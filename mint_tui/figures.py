"""Measured figures and member-data declarations as people read them, one wording everywhere:
`eval`, `pairs info`/`pairs install`, the TUI's model card and the HTML report.

Plain text only and no heavy imports (the TUI uses it before torch is loaded); the objects passed
in are a manifest's ``Metric`` and ``MemberData`` (or anything with the same attributes).
"""

from __future__ import annotations

from typing import Any


def figure(value: float | None, low: float | None = None, high: float | None = None,
           needs: int | None = None) -> str:
    """``0.853 (95 % CI 0.840-0.866)``; a figure the data could not resolve is
    ``n/a (needs >= 1000 non-members)``, never a number."""
    if value is None:
        return f"n/a (needs >= {needs} non-members)" if needs else "n/a"
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f} (95 % CI {low:.3f}-{high:.3f})"


def metric_figure(metric: Any) -> str:
    """:func:`figure` of a manifest metric."""
    return figure(metric.value, metric.low, metric.high, metric.needs)


def measured_figure(values: dict, name: str) -> str:
    """:func:`figure` of one entry of ``binary_metrics`` (an `eval` result)."""
    from_fpr = {"tpr@1%fpr": 100, "tpr@0.1%fpr": 1000}
    low, high = (values.get("ci95") or {}).get(name, (None, None))
    return figure(values.get(name), low, high, from_fpr.get(name))


def evaluation_lines(pair: str, counts: dict, metrics: dict) -> list[str]:
    """`eval`'s report: the counts, then every figure of each scorer (MINT, baselines) with its interval."""
    lines = [f"{pair}: {counts['members_scored']} members, {counts['external_scored']} external scored "
             f"({counts['no_face']} without a face, {counts['errors']} unreadable)"]
    for name, m in metrics.items():
        lines.append(f"{name}:")
        for key, label in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"),
                           ("roc_auc", "ROC AUC"), ("tpr@1%fpr", "TPR at 1 % FPR"),
                           ("tpr@0.1%fpr", "TPR at 0.1 % FPR")):
            lines.append(f"  {label:<18} {measured_figure(m, key)}")
    return lines + ["(95 % intervals: stratified bootstrap, 1000 resamples)"]


def member_bank_notice(count: int) -> str:
    """What `train --member-bank N` prints before it trains."""
    return (f"member bank: the pair will store {count} embeddings of member faces (the audited model's training "
            "data) verbatim. They are biometric data: anyone with the .mintpair file can extract them and match "
            "faces against them. The pair declares them wherever it is shown.")


def member_data_lines(member_data: Any) -> list[str]:
    """The disclosure of what of the members a pair stores, as sentences (first line: the summary)."""
    if member_data is None or not member_data.stored:
        return ["none: this pair stores no member faces, embeddings or file names."]
    taps = ", ".join(member_data.taps)
    lines = [f"this file holds {member_data.count} face embeddings of members (photos in the audited model's "
             f"training data; tap {taps}), stored verbatim as the MINT model's member bank.",
             "Anyone with the file can extract them and match faces against them: they are biometric data "
             "of the people in the training set. Share this pair only as you would share those faces."]
    by_data: dict[str, list[Any]] = {}
    for metric in member_data.without:
        by_data.setdefault(metric.data, []).append(metric)
    for data, metrics in by_data.items():
        shown = ", ".join(f"{m.name} {metric_figure(m)}" for m in metrics if m.name in ("accuracy", "roc_auc"))
        lines.append(f"Without the bank: {shown} on {data}.")
    return lines
