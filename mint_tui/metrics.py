"""Binary-classification metrics and calibration, in plain numpy (members = 1, external = 0)."""

from __future__ import annotations

import math

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


#: The FPR levels at which TPR is reported (metric name -> FPR).
TPR_AT_FPR = {"tpr@1%fpr": 0.01, "tpr@0.1%fpr": 0.001}
#: Confidence level and bootstrap draws of the intervals that every reported metric carries.
CI_LEVEL = 0.95
BOOTSTRAP_DRAWS = 1000


def min_non_members(max_fpr: float) -> int:
    """Fewest non-members that can resolve a false-positive rate of ``max_fpr``: one false positive
    must be at most ``max_fpr`` of them. With fewer, "TPR at that FPR" is the TPR at zero false
    positives, a different and much noisier figure, so it is reported as n/a."""
    return math.ceil(1 / max_fpr - 1e-9)


def _point_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    pred = scores >= threshold
    tpr = float((pred & labels).sum() / max(labels.sum(), 1))
    tnr = float((~pred & ~labels).sum() / max((~labels).sum(), 1))
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else float("nan"),
        "balanced_accuracy": (tpr + tnr) / 2,
        "roc_auc": roc_auc(labels, scores),
        **{name: tpr_at_fpr(labels, scores, fpr) for name, fpr in TPR_AT_FPR.items()},
        "tpr": tpr,
        "tnr": tnr,
    }


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float,
                   draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> dict:
    """Accuracy and balanced accuracy at ``threshold``, ROC AUC, TPR at 1 % and 0.1 % FPR, TPR and TNR,
    the class counts (``members``, ``non_members``) and ``ci95``: {metric: [low, high]}, 95 %
    stratified-bootstrap percentile intervals (see :func:`bootstrap_intervals`).

    A TPR at an FPR that the number of non-members cannot resolve (:func:`min_non_members`) is
    ``None`` (shown as "n/a"), with no interval.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    out: dict = _point_metrics(labels, scores, threshold)
    n_neg = int((~labels).sum())
    out["members"], out["non_members"] = int(labels.sum()), n_neg
    out["ci95"] = bootstrap_intervals(labels, scores, threshold, draws, seed) if draws > 0 else {}
    for name, fpr in TPR_AT_FPR.items():
        if n_neg < min_non_members(fpr):
            out[name] = None
            out["ci95"].pop(name, None)
    return out


def bootstrap_draws(n_pos: int, n_neg: int, draws: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (draws, n_pos) and (draws, n_neg): members and non-members resampled with
    replacement, each class on its own (the class sizes are fixed by the protocol, not random)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, max(n_pos, 1), (draws, n_pos)), rng.integers(0, max(n_neg, 1), (draws, n_neg))


def _percentiles(values: np.ndarray, level: float) -> list[float]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [float(lo), float(hi)]


def bootstrap_intervals(labels: np.ndarray, scores: np.ndarray, threshold: float,
                        draws: int = BOOTSTRAP_DRAWS, seed: int = 0,
                        level: float = CI_LEVEL) -> dict[str, list[float]]:
    """Percentile intervals of every metric of :func:`binary_metrics` over ``draws`` stratified
    bootstrap resamples (:func:`bootstrap_draws`), computed for all resamples at once: each resample
    is a vector of multiplicities over the original samples, so ROC AUC and TPR at an FPR come from
    cumulative sums over the sorted non-member scores instead of a sort per resample."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    pos, neg = scores[labels], scores[~labels]
    n_pos, n_neg = len(pos), len(neg)
    if n_pos == 0 or n_neg == 0:
        return {}
    i_pos, i_neg = bootstrap_draws(n_pos, n_neg, draws, seed)
    w_pos = np.stack([np.bincount(r, minlength=n_pos) for r in i_pos]).astype(np.float64)  # (B, n_pos)
    order = np.argsort(-neg, kind="mergesort")
    neg_desc = neg[order]
    w_neg = np.stack([np.bincount(r, minlength=n_neg) for r in i_neg])[:, order].astype(np.float64)
    cum = np.cumsum(w_neg, axis=1)  # (B, n_neg): resampled non-members scoring >= neg_desc[j]
    cum0 = np.concatenate([np.zeros((draws, 1)), cum], axis=1)
    # ROC AUC: for each member, the resampled non-members strictly above it and tied with it.
    above = np.searchsorted(-neg_desc, -pos, side="left")  # non-members (sorted) with score > member's
    upto = np.searchsorted(-neg_desc, -pos, side="right")  # ... with score >= member's
    n_above, n_upto = cum0[:, above], cum0[:, upto]
    below_or_half = n_neg - n_upto + 0.5 * (n_upto - n_above)
    auc = (w_pos * below_or_half).sum(axis=1) / (n_pos * n_neg)
    pos_pred = (pos >= threshold).astype(np.float64)
    neg_pred = (neg_desc >= threshold).astype(np.float64)
    tpr = w_pos @ pos_pred / n_pos
    tnr = 1 - w_neg @ neg_pred / n_neg
    out = {"accuracy": (tpr * n_pos + tnr * n_neg) / (n_pos + n_neg), "balanced_accuracy": (tpr + tnr) / 2,
           "roc_auc": auc, "tpr": tpr, "tnr": tnr}
    for name, fpr in TPR_AT_FPR.items():
        # The highest TPR with at most k false positives: members strictly above the (k+1)-th highest
        # resampled non-member score (all members when k covers every non-member).
        k = math.floor(fpr * n_neg + 1e-9)
        if k >= n_neg:
            out[name] = np.ones(draws)
            continue
        cut = neg_desc[(cum >= k + 1).argmax(axis=1)]  # (B,)
        out[name] = (w_pos * (pos[None, :] > cut[:, None])).sum(axis=1) / n_pos
    return {name: _percentiles(values, level) for name, values in out.items()}


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
