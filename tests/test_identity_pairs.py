"""The identity test across several pairs: Holm's adjustment, the conditional p-value it adjusts,
and the family-wise false-positive rate it keeps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mint_tui.identity import (IdentityTest, adjust_across_pairs, conditional_p_value, holm, rank_p_value,
                               rejection_level)


def _closed_testing(p: list[float]) -> list[float]:
    """Holm by brute force: closed testing with Bonferroni's test of every intersection; the
    adjusted p-value of H_i is the largest p-value of the intersections that contain it."""
    m = len(p)
    out = []
    for i in range(m):
        worst = 0.0
        for size in range(1, m + 1):
            for subset in itertools.combinations(range(m), size):
                if i in subset:
                    worst = max(worst, min(1.0, size * min(p[j] for j in subset)))
        out.append(worst)
    return out


def test_holm_matches_closed_testing_by_brute_force():
    rng = np.random.default_rng(0)
    cases = [list(rng.uniform(0, 0.2, m)) for m in range(1, 7) for _ in range(40)]
    cases += [[0.01, 0.01, 0.04], [0.5, 0.5], [0.001, 0.3, 0.001, 0.02], [1.0, 0.0, 0.2]]  # ties, edges
    for p in cases:
        assert holm(p) == pytest.approx(_closed_testing(p), abs=1e-12), p


def test_conditional_p_value_gives_the_one_pair_verdict_exactly():
    """p_conditional <= alpha exactly when p <= the training-conditional level, for every rank."""
    for g in (10, 60, 226):
        for alpha in (0.01, 0.05):
            level = rejection_level(g, alpha)
            for rank in range(1, g + 2):
                p = rank / (g + 1)
                assert (conditional_p_value(p, g) <= alpha) == (level > 0 and p <= level + 1e-12), (g, alpha, rank)


def test_one_pair_keeps_its_verdict_and_p_adjusted_is_p_conditional():
    rng = np.random.default_rng(1)
    test = IdentityTest({"external": rng.beta(1, 8, 700), "external_identity": np.repeat(np.arange(230), 3)[:700]})
    for person in range(200):
        scores = rng.beta(1 + person % 7, 4, 4)
        single = test(f"p{person}", scores)
        (adjusted,) = adjust_across_pairs([single])
        assert adjusted.verdict == single.verdict
        assert adjusted.p_adjusted == single.p_conditional


def _population(rng, g: int, pairs: int, rho: float):
    """Logit scores of ``g`` non-member people under ``pairs`` pairs: a person effect correlated
    across the pairs (rho), a photo effect, 1..9 photos each; skewed like real MINT scores."""
    n = rng.integers(1, 10, g)
    shared = rng.normal(size=g)
    person = rho * shared[:, None] + np.sqrt(1 - rho ** 2) * rng.normal(size=(g, pairs))
    ident = np.repeat(np.arange(g), n)
    logits = -4 + 1.5 * person[ident] + rng.normal(size=(len(ident), pairs))
    return 1 / (1 + np.exp(-logits)), ident


def test_family_wise_false_positive_rate_stays_at_or_under_alpha():
    """Non-member people audited with four pairs whose scores depend on each other: over 8,000
    simulated people (each with 4 photos), the share named member by ANY pair stays <= alpha
    with the adjustment; without it (each pair's own verdict) it does not. Members (their scores
    shifted up under one pair) are still named by that pair: the adjustment is not a test that
    never rejects."""
    alpha, pairs, k = 0.05, 4, 4
    rng = np.random.default_rng(2026)
    named_adjusted = named_alone = people = members_named = 0
    for _ in range(8):  # calibration samples, 1,000 non-member identities each
        scores, ident = _population(rng, 1000, pairs, rho=0.5)
        tests = [IdentityTest({"external": scores[:, j], "external_identity": ident}, alpha) for j in range(pairs)]
        fresh, fresh_ident = _population(rng, 6000, pairs, rho=0.5)
        counts = np.bincount(fresh_ident)
        for n, person in enumerate(np.nonzero(counts >= k)[0][:1000]):
            photos = fresh[fresh_ident == person][:k]
            results = [tests[j](str(person), photos[:, j]) for j in range(pairs)]
            named_alone += any(r.verdict == "member" for r in results)
            named_adjusted += any(r.verdict == "member" for r in adjust_across_pairs(results))
            people += 1
            if n < 100:  # the same person as a member of pair n % 4: scores pushed up there
                j = n % pairs
                shifted = photos.copy()
                shifted[:, j] = 1 / (1 + np.exp(-(np.log(photos[:, j] / (1 - photos[:, j])) + 8)))
                adjusted = adjust_across_pairs([tests[i](str(person), shifted[:, i]) for i in range(pairs)])
                members_named += adjusted[j].verdict == "member"
    assert people == 8000
    assert named_adjusted / people <= alpha
    assert named_alone / people > alpha  # what the adjustment is for
    assert members_named / 800 > 0.5


def test_rank_p_value_counts_ties_against_the_person():
    null = np.sort(np.array([0.1, 0.2, 0.2, 0.9]))
    assert rank_p_value(null, 0.2) == 4 / 5
