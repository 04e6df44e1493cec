"""Binary-classification metrics and calibration, in plain numpy (members = 1, external = 0)."""

from __future__ import annotations

import numpy as np


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), thresholds decreasing; a sample is positive when score >= threshold."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    p, n = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    return np.r_[0.0, fps / n], np.r_[0.0, tps / p], np.r_[np.inf, s[distinct]]


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    labels = np.asarray(labels).astype(bool)
    pos, neg = np.asarray(scores)[labels], np.asarray(scores)[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    # average ranks of ties
    sorted_v = allv[order]
    _, start, counts = np.unique(sorted_v, return_index=True, return_counts=True)
    for st, c in zip(start, counts):
        if c > 1:
            ranks[order[st:st + c]] = st + (c + 1) / 2
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> float:
    """Highest TPR among thresholds whose FPR is at most ``max_fpr``."""
    fpr, tpr, _ = roc_curve(labels, scores)
    ok = fpr <= max_fpr + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    labels = np.asarray(labels).astype(bool)
    pred = np.asarray(scores) >= threshold
    tpr = float((pred & labels).sum() / max(labels.sum(), 1))
    tnr = float((~pred & ~labels).sum() / max((~labels).sum(), 1))
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else float("nan"),
        "balanced_accuracy": (tpr + tnr) / 2,
        "roc_auc": roc_auc(labels, scores),
        "tpr@1%fpr": tpr_at_fpr(labels, scores, 0.01),
        "tpr@0.1%fpr": tpr_at_fpr(labels, scores, 0.001),
        "tpr": tpr,
        "tnr": tnr,
    }


def best_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """Threshold maximising balanced accuracy (Youden's J); midpoint between adjacent scores."""
    fpr, tpr, thr = roc_curve(labels, scores)
    i = int(np.argmax(tpr - fpr))
    if i == 0:
        return float(min(1.0, np.max(scores) + 1e-6))
    s = np.sort(np.unique(scores))
    t = thr[i]
    below = s[s < t]
    return float((t + below[-1]) / 2) if len(below) else float(t)


def inconclusive_band(labels: np.ndarray, scores: np.ndarray, threshold: float,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Scores in [low, high) are 'inconclusive'.

    high: the lowest score at or above the threshold from which, on the calibration data and
    with equal priors, at least ``confidence`` of the samples scoring at least that much are
    members. low: the highest score at or below the threshold under which at least
    ``confidence`` are non-members. Where no such score exists the band reaches 1 (or 0).
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    npos, nneg = max(labels.sum(), 1), max((~labels).sum(), 1)
    cands = np.unique(scores)
    high = 1.0
    for s in cands[cands >= threshold]:
        tp, fp = (scores[labels] >= s).sum() / npos, (scores[~labels] >= s).sum() / nneg
        if tp + fp > 0 and tp / (tp + fp) >= confidence:
            high = float(s)
            break
    low = 0.0
    for s in cands[cands <= threshold][::-1]:
        tn, fn = (scores[~labels] < s).sum() / nneg, (scores[labels] < s).sum() / npos
        if tn + fn > 0 and tn / (tn + fn) >= confidence:
            low = float(s)
            break
    return min(low, threshold), max(high, threshold)
