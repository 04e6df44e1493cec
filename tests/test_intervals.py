"""Metric intervals: the vectorised bootstrap against a brute-force one, and the n/a rule."""

import numpy as np
import pytest

from mint_tui.metrics import (TPR_AT_FPR, binary_metrics, bootstrap_draws, bootstrap_intervals,
                                    min_non_members, roc_auc, tpr_at_fpr)


def _brute_force(labels, scores, threshold, draws, seed):
    """Resample each class, recompute every metric from scratch per resample, take percentiles."""
    pos, neg = scores[labels], scores[~labels]
    i_pos, i_neg = bootstrap_draws(len(pos), len(neg), draws, seed)
    values = {}
    for a, b in zip(i_pos, i_neg):
        s = np.r_[pos[a], neg[b]]
        y = np.r_[np.ones(len(a), bool), np.zeros(len(b), bool)]
        pred = s >= threshold
        tpr, tnr = (pred & y).sum() / y.sum(), (~pred & ~y).sum() / (~y).sum()
        row = {"accuracy": (pred == y).mean(), "balanced_accuracy": (tpr + tnr) / 2, "roc_auc": roc_auc(y, s),
               "tpr": tpr, "tnr": tnr, **{n: tpr_at_fpr(y, s, f) for n, f in TPR_AT_FPR.items()}}
        for k, v in row.items():
            values.setdefault(k, []).append(v)
    return {k: list(np.percentile(v, [2.5, 97.5])) for k, v in values.items()}


@pytest.mark.parametrize("n_pos,n_neg,ties", [(7, 9, False), (12, 5, True), (30, 120, True)])
def test_bootstrap_matches_brute_force(n_pos, n_neg, ties):
    rng = np.random.default_rng(n_pos)
    scores = rng.random(n_pos + n_neg)
    if ties:
        scores = np.round(scores * 6) / 6  # many tied scores, across both classes
    labels = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
    scores[:n_pos] += 0.15  # members score higher on average
    fast = bootstrap_intervals(labels, scores, 0.6, draws=300, seed=3)
    slow = _brute_force(labels, scores, 0.6, 300, 3)
    assert set(fast) == set(slow)
    for name in slow:
        assert fast[name] == pytest.approx(slow[name], abs=1e-12), name


def test_interval_contains_point_and_narrows_with_data():
    rng = np.random.default_rng(0)

    def width(n):
        labels = np.r_[np.ones(n, bool), np.zeros(n, bool)]
        scores = np.r_[rng.normal(1, 1, n), rng.normal(0, 1, n)]
        m = binary_metrics(labels, scores, 0.5)
        lo, hi = m["ci95"]["roc_auc"]
        assert lo <= m["roc_auc"] <= hi
        return hi - lo

    assert width(2000) < width(100) / 2


def test_tpr_at_fpr_needs_enough_non_members():
    assert min_non_members(0.01) == 100
    assert min_non_members(0.001) == 1000
    rng = np.random.default_rng(1)
    for n_neg, resolved in ((353, {"tpr@1%fpr"}), (999, {"tpr@1%fpr"}), (1000, {"tpr@1%fpr", "tpr@0.1%fpr"}),
                            (99, set())):
        labels = np.r_[np.ones(50, bool), np.zeros(n_neg, bool)]
        m = binary_metrics(labels, rng.random(50 + n_neg), 0.5, draws=50)
        assert m["non_members"] == n_neg
        for name in TPR_AT_FPR:
            if name in resolved:
                assert isinstance(m[name], float) and name in m["ci95"]
            else:
                assert m[name] is None and name not in m["ci95"]
